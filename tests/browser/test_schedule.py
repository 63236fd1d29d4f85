"""A coordinator generates the year's schedule through the real pages, reschedules one session,
and the person's calendar feed shows the new time with a higher SEQUENCE."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from sessions_app.models import (
    Facilitator,
    FacilitatorAssignment,
    Group,
    Program,
    ProgramRole,
    Room,
    Session,
)
from tests.browser.conftest import program_page

PASSWORD = "correct horse battery staple"
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture
def program(transactional_db):
    # Other browser tests flush the database, built-in agendas included; the app puts them
    # back when it needs them (scheduling.agenda_for_program).
    return Program.objects.create(
        name="Internal Medicine CCDG",
        slug="im-ccdg",
        academic_year="2026-2027",
        timezone="America/New_York",
    )


@pytest.fixture
def coordinator(program):
    user = get_user_model().objects.create_user(
        username="coord", password=PASSWORD, first_name="Cora", last_name="Coordinator"
    )
    ProgramRole.objects.create(program=program, user=user, role=ProgramRole.Role.COORDINATOR)
    return user


@pytest.fixture
def group(program, coordinator):
    room = Room.objects.create(program=program, name="Osler Room", capacity=12)
    group = Group.objects.create(program=program, name="Tuesday group", default_room=room)
    # The coordinator also leads the group, so the sessions are in their own feed.
    facilitator = Facilitator.objects.create(
        program=program, user=coordinator, name="Cora Coordinator", email="cora@example.org"
    )
    FacilitatorAssignment.objects.create(
        group=group, facilitator=facilitator, role="lead", starts_on=date(2026, 9, 1)
    )
    return group


def sign_in(page):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("coord")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Cora")).to_be_visible()


def test_coordinator_generates_reschedules_and_the_feed_follows(
    page, screenshot, program, coordinator, group
):
    year = timezone.localdate().year + 1
    sign_in(page)
    page.get_by_role("main").get_by_role("link", name=program.name).click()
    program_page(page, "Plan", "Sessions")
    expect(page).to_have_title(f"Sessions · {program.name} · CCDG")
    expect(page.get_by_role("main")).to_contain_text("No sessions coming up.")

    page.get_by_role("link", name="Generate schedule").click()
    expect(page.get_by_role("heading", name="Generate the schedule")).to_be_visible()
    page.get_by_label("First date (on or after)").fill(f"{year}-01-01")
    page.get_by_label("Number of sessions per group").fill("3")
    expect(page.get_by_label("Room for Tuesday group")).to_have_value(str(group.default_room_id))
    screenshot(page, "generator-form")
    page.get_by_role("button", name="Preview dates").click()

    preview = page.locator("#schedule-preview")
    expect(preview.get_by_role("listitem")).to_have_count(3)
    january = date(year, 1, 1)
    second_tuesday = january + timedelta(days=(1 - january.weekday()) % 7 + 7)
    expect(preview.get_by_role("listitem").first).to_have_text(
        f"Tue Jan {second_tuesday.day}, {year}"
    )
    screenshot(page, "preview")
    assert not Session.objects.exists(), "the preview must not save sessions"

    page.get_by_role("button", name="Create 3 sessions").click()
    expect(page.get_by_role("status").filter(has_text="sessions scheduled")).to_contain_text(
        "3 sessions scheduled for 1 group."
    )
    rows = page.locator("#session-table tbody tr")
    expect(rows).to_have_count(3)
    for n in range(3):
        expect(rows.nth(n)).to_contain_text("07:30–08:30")
        expect(rows.nth(n)).to_contain_text("Osler Room")
    screenshot(page, "sessions")

    first = Session.objects.order_by("starts_at").first()
    first_day = timezone.localtime(first.starts_at, NEW_YORK).date()
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tuesday group")
    expect(page.locator("#acting-lead")).to_have_text("Cora Coordinator")
    page.get_by_role("link", name="Reschedule").click()
    page.get_by_label("Start time").fill("08:15")
    screenshot(page, "reschedule")
    page.get_by_role("button", name="Move session").click()
    expect(page.get_by_role("status").filter(has_text="Session moved")).to_be_visible()
    expect(page.locator("#session-time")).to_contain_text("08:15–09:15")
    screenshot(page, "rescheduled")

    page.goto("/calendar/")
    page.get_by_role("button", name="Create my feed address").click()
    address = page.get_by_label("Feed address").input_value()
    assert re.search(r"/calendar/[\w-]{40,}\.ics$", address), address
    screenshot(page, "feed-address")

    response = page.request.get(address)
    assert response.status == 200
    events = {str(e["UID"]): e for e in Calendar.from_ical(response.body()).walk("VEVENT")}
    moved = events[f"{first.uid}@ccdg"]
    assert moved["SEQUENCE"] == 1
    start = moved.decoded("DTSTART").astimezone(NEW_YORK)
    assert (start.date(), start.time()) == (first_day, time(8, 15))
    assert len(events) == 3
    assert {e["SEQUENCE"] for uid, e in events.items() if uid != f"{first.uid}@ccdg"} == {0}

    violations = [m for m in page.console_messages if "Content Security Policy" in m]
    assert not violations, violations
