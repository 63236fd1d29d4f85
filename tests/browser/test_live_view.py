"""A facilitator runs a session in the live view, in a real Chromium.

The clock is controlled without mocking: the server computes the state from the timestamps on
the session row, so the test writes a start time in the past ("started 52 minutes ago") and
the page must show what the agenda says for that moment.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from sessions_app.models import Session, SessionSegment
from tests.factories import (
    FacilitatorAssignmentFactory,
    GroupFactory,
    GroupMembershipFactory,
    ProgramFactory,
    SessionFactory,
    UserFactory,
)

PASSWORD = "correct horse battery staple"
AGENDA = [
    (0, "Check-in and ground rules"),
    (5, "Case presentation"),
    (15, "Interpretation of the clinician-patient relationship"),
    (30, "Open discussion"),
    (55, "Wrap-up and close"),
]


@pytest.fixture
def session(transactional_db) -> Session:
    program = ProgramFactory(name="Medicine CCDG", slug="medicine")
    group = GroupFactory(program=program, name="Group Blue")
    session = SessionFactory(group=group, starts_at=timezone.now().replace(second=0))
    # The agenda copy is written here: built-in templates do not survive other browser tests'
    # database flushes.
    SessionSegment.objects.bulk_create(
        SessionSegment(session=session, start_minute=start, title=title) for start, title in AGENDA
    )
    GroupMembershipFactory(group=group)
    return session


@pytest.fixture
def facilitator(session):
    user = UserFactory(username="fran", first_name="Fran", password=PASSWORD)
    FacilitatorAssignmentFactory(group=session.group, facilitator__user=user)
    return user


def live_url(session) -> str:
    return reverse(
        "sessions_app:session_live", kwargs={"slug": session.group.program.slug, "pk": session.pk}
    )


def open_live(page, session):
    page.goto(f"/accounts/login/?next={live_url(session)}")
    page.get_by_label("Username").fill("fran")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_title(re.compile(r"^Live: Group Blue, "))


# The page asks the server for the session's state every 5 s (static/js/live.js, POLL_MS):
# what a change in the database shows can take a whole poll, plus the request, to appear.
AFTER_A_POLL = {"timeout": 12_000}


def started_minutes_ago(session, minutes: float) -> None:
    Session.objects.filter(pk=session.pk).update(
        live_started_at=timezone.now() - timedelta(minutes=minutes)
    )


def assert_clean_console(page):
    violations = [m for m in page.console_messages if "Content Security Policy" in m]
    assert not violations, violations
    errors = [m for m in page.console_messages if m.startswith("pageerror")]
    assert not errors, errors


def test_live_view_steps_through_segments_under_a_controlled_clock(
    new_page, screenshot, session, facilitator
):
    started_minutes_ago(session, 52)
    page = new_page(viewport={"width": 1280, "height": 800})
    open_live(page, session)

    title = page.locator("#live-segment-title")
    alert = page.get_by_role("alert").filter(has_text="alert the group to the approaching end")
    expect(title).to_have_text("Open discussion")
    expect(page.locator("#live-next-title")).to_have_text("Wrap-up and close")
    expect(page.locator("#live-segment-left")).to_have_text(re.compile(r"^(3:00|2:[45]\d)$"))
    expect(page.locator("#live-overall-left")).to_have_text(re.compile(r"^(8:00|7:[45]\d)$"))
    expect(page.locator("#live-status")).to_have_text("Running")
    expect(alert).to_be_hidden()
    screenshot(page, "open-discussion")

    # N moves on early: the wrap-up begins, the end of the session stays where it was.
    page.keyboard.press("n")
    expect(title).to_have_text("Wrap-up and close")
    expect(page.locator("#live-next-title")).to_have_text("end of the session")
    expect(page.locator("#live-overall-left")).to_have_text(re.compile(r"^(8:00|7:[45]\d)$"))
    expect(alert).to_be_hidden()
    session.refresh_from_db()
    assert session.live_segment == 4

    # A reload, and a second device, show the same state: it lives on the server.
    page.reload()
    expect(title).to_have_text("Wrap-up and close")
    second = new_page(viewport={"width": 1024, "height": 768})
    open_live(second, session)
    expect(second.locator("#live-segment-title")).to_have_text("Wrap-up and close")

    # Four minutes before the end (the start moved further back): both show the alert.
    started_minutes_ago(session, 56)
    expect(alert).to_be_visible(**AFTER_A_POLL)
    expect(alert).to_contain_text("5 minutes left")
    expect(page.locator("#live-overall-left")).to_have_text(re.compile(r"^(4:00|3:[45]\d)$"))
    expect(second.locator("#live-alert")).to_be_visible()
    screenshot(page, "five-minute-alert")

    # E gives five more minutes: the alert goes away again, on the other device too.
    page.keyboard.press("e")
    expect(page.locator("#live-overall-left")).to_have_text(re.compile(r"^(9:00|8:[45]\d)$"))
    expect(alert).to_be_hidden()
    expect(page.locator("#live-status")).to_have_text("Running · extended by 5 min")
    expect(second.locator("#live-alert")).to_be_hidden()
    session.refresh_from_db()
    assert session.live_extra_minutes == 5

    # Space pauses and resumes.
    page.keyboard.press(" ")
    expect(page.locator("#live-status")).to_have_text("Paused · extended by 5 min")
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    session.refresh_from_db()
    assert session.live_paused_at is not None
    screenshot(page, "paused")
    page.keyboard.press(" ")
    expect(page.locator("#live-status")).to_have_text("Running · extended by 5 min")
    session.refresh_from_db()
    assert session.live_paused_at is None

    assert_clean_console(page)
    assert_clean_console(second)


def test_facilitator_starts_the_session_with_the_button(new_page, screenshot, session, facilitator):
    page = new_page(viewport={"width": 820, "height": 1180}, has_touch=True)
    open_live(page, session)
    expect(page.locator("#live-status")).to_have_text("Not started")
    expect(page.locator("#live-overall-left")).to_have_text("60:00")
    expect(page.get_by_role("button", name="Next segment")).to_be_disabled()

    page.get_by_role("button", name="Start").click()

    expect(page.locator("#live-status")).to_have_text("Running")
    expect(page.locator("#live-segment-title")).to_have_text("Check-in and ground rules")
    expect(page.locator("#live-next-title")).to_have_text("Case presentation")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    expect(page.get_by_role("button", name="Next segment")).to_be_enabled()
    session.refresh_from_db()
    assert session.live_started_at is not None
    screenshot(page, "started")

    # Moving the start back 5 minutes lets the agenda move on by itself at the next poll.
    started_minutes_ago(session, 5)
    expect(page.locator("#live-segment-title")).to_have_text("Case presentation", **AFTER_A_POLL)
    assert_clean_console(page)


def test_agenda_page_prints_without_navigation_and_buttons(page, screenshot, session, facilitator):
    path = reverse(
        "sessions_app:session_agenda",
        kwargs={"slug": session.group.program.slug, "pk": session.pk},
    )
    page.goto(f"/accounts/login/?next={path}")
    page.get_by_label("Username").fill("fran")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Agenda: Group Blue")
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    screenshot(page, "agenda")

    page.emulate_media(media="print")

    expect(page.locator("nav.navbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(page.get_by_role("link", name="Open the live view")).to_be_hidden()
    expect(page.locator("#agenda-table")).to_be_visible()
    expect(page.locator("#agenda-table")).to_contain_text("Wrap-up and close")
    screenshot(page, "agenda-printed")
    assert_clean_console(page)
