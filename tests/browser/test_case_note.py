"""A presenter writes a case note through the real pages, in a real Chromium: the identifier
guard refuses it and marks each identifier, keeping what was typed; the rewritten note is
accepted and stored encrypted."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from ccdg import phi
from sessions_app.models import (
    CaseNote,
    Clinician,
    Group,
    GroupMembership,
    Presentation,
    Program,
    Session,
)

PASSWORD = "correct horse battery staple"
REFUSED = "Mrs. Alvarez, seen on March 14th, asks for more every time."
REWRITTEN = "Ana, seen two weeks ago, asks for more every time."


@pytest.fixture
def world(transactional_db):
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
    presentation = Presentation.objects.create(
        session=session, clinician=clinician, status=Presentation.Status.CONFIRMED, slot=1
    )
    return program, session, presentation


def test_a_refused_note_is_marked_then_rewritten_and_accepted(page, screenshot, world):
    program, session, presentation = world
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/programs/{program.slug}/my-sessions/")
    page.locator(f"#session-{session.pk}").get_by_role(
        "link", name="Case note on this case"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write a case note")

    page.get_by_label("Age in years").fill("72")
    page.get_by_label("First name or initials").fill("Ana")
    page.get_by_label("Why this case is difficult for me").fill(REFUSED)
    page.get_by_label("Me and the group's facilitators").check()
    page.get_by_role("button", name="Save the note").click()

    expect(page.get_by_role("alert")).to_contain_text("The note was not saved")
    expect(page.get_by_label("Why this case is difficult for me")).to_have_value(REFUSED)
    guard = page.get_by_test_id("guard-difficulty")
    marked = guard.locator("mark")
    expect(marked).to_have_text(["Mrs. Alvarez", "March 14th"])
    expect(marked.first).to_have_attribute("title", phi.REASONS["name"])
    expect(guard.get_by_role("listitem")).to_have_count(2)
    expect(guard).to_contain_text(phi.REASONS["date"])
    assert page.get_by_label("Age in years").input_value() == "72"
    assert CaseNote.objects.count() == 0
    screenshot(page, "refused-and-marked")

    page.get_by_label("Why this case is difficult for me").fill(REWRITTEN)
    page.get_by_role("button", name="Save the note").click()

    expect(page.get_by_role("status").filter(has_text="saved")).to_contain_text(
        "Your case note is saved"
    )
    expect(page.locator("#note-difficulty")).to_contain_text(REWRITTEN)
    expect(page).to_have_url(re.compile(r"/case-notes/\d+/$"))
    screenshot(page, "accepted")

    note = CaseNote.objects.get(presentation=presentation)
    assert note.difficulty.reveal() == REWRITTEN
    with connection.cursor() as cursor:
        cursor.execute("SELECT difficulty FROM sessions_app_casenote WHERE id = %s", [note.pk])
        assert "two weeks ago" not in cursor.fetchone()[0]
    problems = [
        m
        for m in page.console_messages
        if "Content Security Policy" in m or m.startswith("pageerror")
    ]
    assert problems == []


def test_the_note_is_checked_as_the_presenter_types(page, screenshot, world):
    program, session, presentation = world
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/programs/{program.slug}/presentations/{presentation.pk}/case-note/")
    field = page.get_by_label("Why this case is difficult for me")

    field.press_sequentially(REFUSED, delay=5)
    live = page.locator("#live-difficulty")
    expect(live.locator("mark")).to_have_text(["Mrs. Alvarez", "March 14th"])
    expect(live).to_contain_text("give the year only")
    screenshot(page, "checked-as-typed")

    field.fill("")
    field.press_sequentially(REWRITTEN, delay=5)
    expect(live).to_have_text("No identifiers found so far.")
    # nothing was saved by the checks
    assert not CaseNote.objects.filter(presentation=presentation).exists()
