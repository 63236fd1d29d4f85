"""Who was where on a given day: group membership and facilitation history.

Memberships and facilitator assignments are never deleted; a row is *in force* on a day when it
started on or before that day and has not ended by it. The end date is the first day the person
is no longer there: leaving the program or moving to another group on day D closes the old row
with ``left_on = D`` and (for a move) opens the new one with ``joined_on = D``, so on any day a
clinician is a member of at most one group.

A change made now takes effect on :func:`change_day`: today *in the program's time zone*, or
tomorrow when a group concerned has already met today, so that a session already held keeps the
members it had (someone who leaves in the afternoon was still in the morning's group).

A session's *day* is the date of its start in the program's time zone. Every figure that says
"a member of the group" (the attendance sheet, attendance rates, held sessions per person,
credit, the exports and the annual report) asks these functions, never ``left_on IS NULL``,
which only describes today.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from sessions_app.groups.models import GroupMembership, current_membership_q
from sessions_app.programs.models import Program
from sessions_app.roster.models import Clinician
from sessions_app.schedule.models import Session


def session_day(session: Session, program: Program | None = None) -> date:
    return (program or session.group.program).local_day(session.starts_at)


def in_force(start: date, end: date | None, day: date) -> bool:
    """``start <= day < end``; no end means still running."""
    return start <= day and (end is None or end > day)


def membership_in_force_q(day: date, prefix: str = "") -> Q:
    """A filter on GroupMembership (or, with ``prefix="memberships__"``, on a model related to
    it) for the rows in force on ``day``."""
    return Q(**{f"{prefix}joined_on__lte": day}) & (
        current_membership_q(prefix) | Q(**{f"{prefix}left_on__gt": day})
    )


def members_on(*, group_id: int, day: date) -> QuerySet[Clinician]:
    """The clinicians who were members of the group on ``day``, by name."""
    ids = GroupMembership.objects.filter(membership_in_force_q(day), group_id=group_id).values(
        "clinician_id"
    )
    return Clinician.objects.filter(pk__in=ids).order_by("last_name", "first_name", "id")


def memberships_on(memberships: Iterable[GroupMembership], day: date) -> list[GroupMembership]:
    """The rows of ``memberships`` (already loaded) in force on ``day``."""
    return [m for m in memberships if in_force(m.joined_on, m.left_on, day)]


def facilitations_on(assignments: Iterable[Any], day: date) -> list[Any]:
    """The facilitator assignments (already loaded) in force on ``day``."""
    return [a for a in assignments if in_force(a.starts_on, a.ends_on, day)]


def groups_met_today(*, program: Program, now: datetime | None = None) -> set[int]:
    """The groups of the program with a session held earlier today (program's time zone)."""
    now = now or timezone.now()
    midnight = program.at(program.local_day(now), time.min)
    return set(
        Session.objects.filter(
            group__program=program,
            status=Session.Status.SCHEDULED,
            starts_at__gte=midnight,
            starts_at__lte=now,
        ).values_list("group_id", flat=True)
    )


def change_day(
    *,
    program: Program,
    group_ids: Iterable[int | None],
    met: set[int],
    current_since: date | None = None,
    now: datetime | None = None,
) -> date:
    """The day a membership change made now takes effect (the old membership's ``left_on`` and
    the new one's ``joined_on``): today in the program's time zone, or tomorrow when one of the
    groups concerned (``met``: from :func:`groups_met_today`) has already met today; never
    before ``current_since``, the start of the membership being ended (a change decided today
    may only start tomorrow: ending it again today leaves it empty, it never took effect)."""
    today = program.local_day(now or timezone.now())
    day = today + timedelta(days=1) if met.intersection(group_ids) else today
    return max(day, current_since) if current_since else day
