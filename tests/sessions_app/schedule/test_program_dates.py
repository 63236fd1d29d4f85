"""The schedule pages write a session's date the program's way: "Tue Dec 8, 2026" and
"7:30 AM" in a United States program, "Tue 8 Dec 2026" and "07:30" in a United Kingdom one,
on the program's clock."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime

import pytest

from sessions_app.models import Program
from tests.factories import GroupFactory, ProgramFactory, ProgramRoleFactory, SessionFactory
from tests.sessions_app.helpers import url

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def program_with_session(locale: str, tz: str):
    """A program in ``locale`` and ``tz`` with one session on Dec 8, 2026 at 7:30 there."""
    program = ProgramFactory(locale=locale, timezone=tz)
    session = SessionFactory(
        group=GroupFactory(program=program, name="Group Blue"),
        starts_at=datetime(2026, 12, 8, 7, 30, tzinfo=zoneinfo.ZoneInfo(tz)),
    )
    return program, session


def coordinator_of(client, program):
    client.force_login(ProgramRoleFactory(program=program).user)
    return client


def test_schedule_writes_dates_the_us_way_in_a_us_program_and_the_uk_way_in_a_uk_one(client):
    us, us_session = program_with_session(Program.Locale.US, "America/Chicago")
    uk, uk_session = program_with_session(Program.Locale.GB, "Europe/London")

    us_list = text(coordinator_of(client, us).get(url("session_list", us) + "?past=1"))
    us_detail = text(client.get(url("session_detail", us, pk=us_session.pk)))
    uk_list = text(coordinator_of(client, uk).get(url("session_list", uk) + "?past=1"))
    uk_detail = text(client.get(url("session_detail", uk, pk=uk_session.pk)))

    assert "Tue Dec 8, 2026" in us_list
    assert "Group Blue, Dec 8, 2026 ·" in us_detail  # the page's title
    assert "Tuesday, December 8, 2026" in us_detail
    assert "Tue 8 Dec 2026" in uk_list
    assert "Group Blue, 8 Dec 2026 ·" in uk_detail
    assert "Tuesday 8 December 2026" in uk_detail
    assert "Dec 8" not in uk_list + uk_detail and "December 8" not in uk_detail


def test_a_us_program_gives_times_on_a_12_hour_clock_and_a_uk_one_on_24_hours(client):
    us, us_session = program_with_session(Program.Locale.US, "America/Los_Angeles")
    uk, uk_session = program_with_session(Program.Locale.GB, "Europe/London")

    us_page = text(coordinator_of(client, us).get(url("session_reschedule", us, pk=us_session.pk)))
    uk_page = text(coordinator_of(client, uk).get(url("session_reschedule", uk, pk=uk_session.pk)))

    assert "Reschedule Group Blue, Tue Dec 8, 2026, 7:30 AM" in us_page
    assert "Reschedule Group Blue, Tue 8 Dec 2026 07:30" in uk_page
