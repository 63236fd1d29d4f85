"""Keyboard-only walk-throughs, in a real Chromium: a facilitator runs the live view with Tab,
Shift+Tab and Enter; a presenter writes a case note with Tab and typing. After every Tab the
focused element must be a control (not <body>), inside the viewport and showing a visible focus
indicator.

Two defects of the live view that the walk-through found (static/js/live.js) are fixed and
tested below: the focus fell to the page when the pressed Start, Pause or Resume button went
away, and Space on a focused button worked the page-wide start/pause shortcut instead of
pressing the button."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from sessions_app.models import (
    CaseNote,
    Clinician,
    Group,
    GroupMembership,
    Presentation,
    Program,
    Session,
    SessionSegment,
)
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

# True once the focused element is a control showing a focus indicator: an outline, or a
# box-shadow ring (Bootstrap's, which fades in over 0.15 s) that is opaque enough and wide enough.
HAS_VISIBLE_FOCUS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return false;
  if (!e.matches(":focus-visible")) return false;
  const s = getComputedStyle(e);
  if (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) return true;
  const ring = s.boxShadow.match(/\\(([^)]*)\\) [-\\d.]+px [-\\d.]+px [\\d.]+px ([\\d.]+)px/);
  if (!ring) return false;
  const alpha = ring[1].split(",")[3];
  return parseFloat(alpha ?? "1") >= 0.25 && parseFloat(ring[2]) >= 2;
}"""
# Chromium scrolls a focused element only until part of it shows (a tall textarea may stay
# half below the fold): "in the viewport" means at least 16 px of it (all of a smaller one).
FOCUSED = """() => {
  const e = document.activeElement;
  const r = e.getBoundingClientRect();
  const shown = (low, high, size) => Math.min(high, size) - Math.max(low, 0);
  return {
    tag: e.tagName,
    id: e.id,
    text: (e.innerText || e.value || "").trim().replace(/\\s+/g, " "),
    inViewport: shown(r.top, r.bottom, innerHeight) >= Math.min(16, r.height)
      && shown(r.left, r.right, innerWidth) >= Math.min(16, r.width) && r.width * r.height > 0,
  };
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def press_tab(page, shift: bool = False) -> dict:
    """Tab (or Shift+Tab), then check the new focus is a visibly focused control inside the
    viewport (Bootstrap scrolls smoothly: the browser gets a moment to bring it in)."""
    page.keyboard.press("Shift+Tab" if shift else "Tab")
    try:
        page.wait_for_function(
            f"() => ({HAS_VISIBLE_FOCUS})() && ({FOCUSED})().inViewport", timeout=2_000
        )
    except PlaywrightTimeoutError:
        raise AssertionError(
            f"after {'Shift+' if shift else ''}Tab the focus is not a visibly focused control "
            f"inside the viewport: {focused(page)}"
        ) from None
    return focused(page)


def tab_to(page, pattern: str, *, limit: int = 40, shift: bool = False) -> dict:
    """Tab until the focused element's text or id matches ``pattern``, checking every stop."""
    for _ in range(limit):
        where = press_tab(page, shift=shift)
        if re.search(pattern, where["text"]) or re.fullmatch(pattern, where["id"]):
            return where
    raise AssertionError(f"{pattern!r} not reached in {limit} presses of Tab")


def assert_clean_console(page) -> None:
    problems = [
        m
        for m in page.console_messages
        if "Content Security Policy" in m or m.startswith("pageerror")
    ]
    assert problems == []


def sign_in(page, username: str, next_path: str) -> None:
    page.goto(f"/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")


# --- The live view -------------------------------------------------------------------------


@pytest.fixture
def live_session(transactional_db) -> Session:
    program = ProgramFactory(name="Medicine CCDG", slug="medicine")
    group = GroupFactory(program=program, name="Group Blue")
    session = SessionFactory(group=group, starts_at=timezone.now().replace(second=0))
    SessionSegment.objects.bulk_create(
        SessionSegment(session=session, start_minute=start, title=title) for start, title in AGENDA
    )
    GroupMembershipFactory(group=group)
    user = UserFactory(username="fran", first_name="Fran", password=PASSWORD)
    FacilitatorAssignmentFactory(group=group, facilitator__user=user)
    return session


def open_live(new_page, session):
    page = new_page(viewport={"width": 1280, "height": 800})
    path = reverse(
        "sessions_app:session_live", kwargs={"slug": session.group.program.slug, "pk": session.pk}
    )
    sign_in(page, "fran", path)
    expect(page).to_have_title(re.compile(r"^Live: Group Blue, "))
    expect(page.locator("#live-status")).to_have_text("Not started")
    return page


def test_facilitator_runs_the_live_view_with_tab_and_enter(new_page, screenshot, live_session):
    page = open_live(new_page, live_session)
    title = page.locator("#live-segment-title")
    status = page.locator("#live-status")

    # The header's links and buttons come first, in reading order, then Start.
    stops = [press_tab(page)["text"] for _ in range(5)]
    assert stops == ["← Agenda", "Take-home points", "Reset", "Full screen", "Start Space"]
    screenshot(page, "start-focused")
    page.keyboard.press("Enter")
    expect(status).to_have_text("Running")
    expect(title).to_have_text("Check-in and ground rules")
    expect(page.locator("#live-segments li.current")).to_contain_text("Check-in and ground rules")

    # Start is gone: the focus is on Pause, which took its place; Tab goes on to Next segment.
    assert focused(page)["text"] == "Pause Space"
    assert press_tab(page)["text"] == "Next segment N"
    page.keyboard.press("Enter")
    expect(title).to_have_text("Case presentation")
    expect(page.locator("#live-next-title")).to_have_text(
        "Interpretation of the clinician-patient relationship"
    )
    assert focused(page)["text"] == "Next segment N"
    screenshot(page, "next-segment")

    assert press_tab(page, shift=True)["text"] == "Pause Space"
    page.keyboard.press("Enter")
    expect(status).to_have_text("Paused")
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    assert focused(page)["text"] == "Resume Space"  # in place of Pause
    screenshot(page, "paused")
    page.keyboard.press("Enter")
    expect(status).to_have_text("Running")
    expect(title).to_have_text("Case presentation")

    # Every control after the buttons is reachable, and Shift+Tab walks back to the header.
    assert focused(page)["text"] == "Pause Space"  # in place of Resume
    assert press_tab(page)["text"] == "Next segment N"
    assert press_tab(page)["text"] == "+5 minutes E"
    assert tab_to(page, "Full screen", shift=True)["tag"] == "BUTTON"

    live_session.refresh_from_db()
    assert live_session.live_started_at is not None
    assert live_session.live_paused_at is None
    assert live_session.live_segment == 1
    assert_clean_console(page)


def test_focus_stays_on_a_control_after_start_pause_and_resume(new_page, live_session):
    page = open_live(new_page, live_session)
    tab_to(page, "Start Space")
    for name, after in (("Start", "Running"), ("Pause", "Paused"), ("Resume", "Running")):
        page.get_by_role("button", name=name).focus()
        page.keyboard.press("Enter")
        expect(page.locator("#live-status")).to_have_text(after)
        # the pressed control is gone: focus should move to its successor (Pause, Resume, …)
        assert focused(page)["tag"] != "BODY", f"focus fell to <body> after Enter on {name}"
        page.wait_for_function(HAS_VISIBLE_FOCUS, timeout=2_000)


def test_space_presses_the_focused_button(new_page, live_session):
    page = open_live(new_page, live_session)
    tab_to(page, "Start Space")
    page.keyboard.press("Space")  # Start is focused: pressing it or the shortcut both start
    expect(page.locator("#live-status")).to_have_text("Running")

    page.get_by_role("button", name="Next segment").focus()
    page.keyboard.press("Space")
    expect(page.locator("#live-segment-title")).to_have_text("Case presentation", timeout=3_000)
    expect(page.locator("#live-status")).to_have_text("Running")


# --- The case-note form --------------------------------------------------------------------

NOTE = "She calls the ward every morning and I dread it."
WISH = "How do I set limits kindly?"


@pytest.fixture
def presentation(transactional_db) -> Presentation:
    program = Program.objects.create(
        name="Internal Medicine CCDG",
        slug="im-ccdg",
        academic_year="2026-2027",
        timezone="America/New_York",
    )
    group = Group.objects.create(program=program, name="Group 1")
    user = get_user_model().objects.create_user(
        username="ana", password=PASSWORD, first_name="Ana", last_name="Ruiz"
    )
    clinician = Clinician.objects.create(
        program=program,
        user=user,
        first_name="Ana",
        last_name="Ruiz",
        email="ana@example.org",
        discipline="physician",
        status=Clinician.Status.ACTIVE,
    )
    GroupMembership.objects.create(group=group, clinician=clinician, joined_on=timezone.localdate())
    starts = (timezone.now() + timedelta(days=14)).replace(minute=30, second=0, microsecond=0)
    session = Session.objects.create(group=group, starts_at=starts, uid=uuid.uuid4())
    return Presentation.objects.create(
        session=session, clinician=clinician, status=Presentation.Status.CONFIRMED, slot=1
    )


def test_presenter_writes_a_case_note_with_tab_and_typing(page, screenshot, presentation):
    program = presentation.session.group.program
    path = reverse(
        "sessions_app:case_note_edit", kwargs={"slug": program.slug, "pk": presentation.pk}
    )
    sign_in(page, "ana", path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Write a case note")

    # The skip link is the first stop; it leads past the navigation to the form.
    assert press_tab(page)["text"] == "Skip to main content"
    page.keyboard.press("Enter")
    tab_to(page, "id_patient_age")
    page.keyboard.type("72")
    assert press_tab(page)["id"] == "id_patient_gender"
    page.keyboard.type("F")  # a closed <select> picks the option starting with what is typed
    expect(page.get_by_label("Gender")).to_have_value("female")
    assert press_tab(page)["id"] == "id_patient_name"
    page.keyboard.type("A. B.")

    assert press_tab(page)["id"] == "id_difficulty"
    page.keyboard.type(NOTE)
    # The identifier check answers as the presenter types (an htmx swap next to the field):
    # focus stays in the field.
    expect(page.locator("#live-difficulty")).to_have_text("No identifiers found so far.")
    assert focused(page)["id"] == "id_difficulty"
    assert press_tab(page)["id"] == "id_relationship"  # left empty
    assert press_tab(page)["id"] == "id_wish"
    page.keyboard.type(WISH)
    expect(page.locator("#live-wish")).to_have_text("No identifiers found so far.")
    assert focused(page)["id"] == "id_wish"

    # The radio group is one stop, on the checked choice; the arrow key moves the choice.
    where = press_tab(page)
    assert where["id"] == page.get_by_label("Me and the group's facilitators").get_attribute("id")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("The whole group, during the session")).to_be_checked()
    assert press_tab(page)["text"] == "Save the note"
    screenshot(page, "filled")
    page.keyboard.press("Enter")

    expect(page.get_by_role("status").filter(has_text="saved")).to_contain_text(
        "Your case note is saved"
    )
    # (the skip link's #main stays on the address, as browsers keep it across the redirect)
    expect(page).to_have_url(re.compile(r"/case-notes/\d+/(#main)?$"))
    screenshot(page, "saved")
    note = CaseNote.objects.get(presentation=presentation)
    assert note.difficulty.reveal() == NOTE
    assert note.wish.reveal() == WISH
    assert not note.relationship
    assert (note.patient_age, note.patient_gender) == (72, "female")
    assert note.visibility == CaseNote.Visibility.GROUP
    assert_clean_console(page)
