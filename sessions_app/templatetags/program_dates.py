"""Dates as the program writes them: on its clock (``Program.local``) and in its locale.

``{{ session.starts_at|program_date:program }}`` gives "Dec 8, 2026" in the United States and
"8 Dec 2026" in the United Kingdom; ``program_datetime`` adds the time ("Dec 8, 2026, 7:30 AM",
"8 Dec 2026 07:30"); ``program_day`` and ``program_day_time`` put the weekday in front ("Tue Dec 8,
2026", "Tue 8 Dec 2026 07:30"); ``program_long_date`` and ``program_long_day`` write the names in
full ("December 8, 2026", "Tuesday 8 December 2026"). The formats come from
:mod:`sessions_app.programs.models`.

An aware datetime is shown on the program's clock whatever time zone the request has active
(the filters are not ``expects_localtime``: the template engine does not convert the value
first); a ``date`` or a naive datetime is written as it is. ``None`` and ``""`` give "".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import template
from django.utils import dateformat
from django.utils import timezone as django_timezone

from sessions_app.programs.models import Program, date_format_for, datetime_format_for

register = template.Library()


def _locale(program: Program) -> str:
    # A template without its program (a mistake) still renders, in the default locale.
    return getattr(program, "locale", None) or Program.Locale.US


def _on_program_clock(value: date | datetime, program: Program) -> date | datetime:
    if isinstance(value, datetime) and django_timezone.is_aware(value):
        if isinstance(program, Program):
            return program.local(value)
        return django_timezone.localtime(value)
    return value


def _format(value: Any, program: Program, fmt: str) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, date):
        return str(value)
    return dateformat.format(_on_program_clock(value, program), fmt)


@register.filter
def program_date(value: Any, program: Program) -> str:
    """The day of ``value`` as ``program`` writes it: "Dec 8, 2026" or "8 Dec 2026"."""
    return _format(value, program, date_format_for(_locale(program)))


@register.filter
def program_day(value: Any, program: Program) -> str:
    """The day of ``value`` with its weekday: "Tue Dec 8, 2026" or "Tue 8 Dec 2026"."""
    return _format(value, program, date_format_for(_locale(program), weekday=True))


@register.filter
def program_long_date(value: Any, program: Program) -> str:
    """The day of ``value``, the month in full: "December 8, 2026" or "8 December 2026"."""
    return _format(value, program, date_format_for(_locale(program), long=True))


@register.filter
def program_long_day(value: Any, program: Program) -> str:
    """The day of ``value`` with its weekday, in full: "Tuesday, December 8, 2026" or
    "Tuesday 8 December 2026"."""
    return _format(value, program, date_format_for(_locale(program), weekday=True, long=True))


@register.filter
def program_datetime(value: Any, program: Program) -> str:
    """The day and time of ``value``: "Dec 8, 2026, 7:30 AM" or "8 Dec 2026 07:30" (a ``date``,
    which has no time, as :func:`program_date` writes it)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return program_date(value, program)
    return _format(value, program, datetime_format_for(_locale(program)))


@register.filter
def program_day_time(value: Any, program: Program) -> str:
    """The day, with its weekday, and time of ``value``: "Tue Dec 8, 2026, 7:30 AM" or
    "Tue 8 Dec 2026 07:30" (a ``date`` as :func:`program_day` writes it)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return program_day(value, program)
    return _format(value, program, datetime_format_for(_locale(program), weekday=True))
