"""Two participants volunteer for one presenter slot through the real pages, in a real Chromium:
the first gets it, the second waits, the first withdraws, the second is promoted."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from ccdg.models import AuditEvent
from sessions_app.models import (
    Clinician,
    Group,
    GroupMembership,
    Presentation,
    Program,
    Session,
)

PASSWORD = "correct horse battery staple"


@pytest.fixture
def world(transactional_db):
    program = Program.objects.create(
        name="Internal Medicine CCDG",
        slug="im-ccdg",
        academic_year="2026-2027",
        timezone="America/New_York",
    )
    group = Group.objects.create(program=program, name="Group 1")
    people = {}
    for username, first, last in (("ana", "Ana", "Ruiz"), ("ben", "Ben", "Okoro")):
        user = get_user_model().objects.create_user(
            username=username, password=PASSWORD, first_name=first, last_name=last
        )
        clinician = Clinician.objects.create(
            program=program,
            user=user,
            first_name=first,
            last_name=last,
            email=f"{username}@example.org",
            discipline="physician",
            status=Clinician.Status.ACTIVE,
        )
        GroupMembership.objects.create(
            group=group, clinician=clinician, joined_on=timezone.localdate()
        )
        people[username] = clinician
    starts = (timezone.now() + timedelta(days=14)).replace(minute=30, second=0, microsecond=0)
    session = Session.objects.create(group=group, starts_at=starts, uid=uuid.uuid4())
    return program, session, people


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def my_sessions(page, program) -> None:
    page.goto(f"/programs/{program.slug}/my-sessions/")
    expect(page).to_have_title(re.compile(rf"^My sessions · {re.escape(program.name)}"))


def test_volunteer_waitlist_withdraw_and_promotion(new_page, screenshot, world):
    program, session, people = world
    card = f"#session-{session.pk}"

    ana = new_page()
    ana.on("dialog", lambda dialog: dialog.accept())  # the "Withdraw?" confirmation
    sign_in(ana, "ana")
    my_sessions(ana, program)
    ana.locator(card).get_by_label("Working title").fill("The patient who calls every day")
    ana.locator(card).get_by_role("button", name="Volunteer to present").click()
    expect(ana.get_by_role("status").filter(has_text="Thank you")).to_contain_text(
        "you are presenting at this session"
    )
    expect(ana.locator(card).get_by_test_id("presenter-status")).to_contain_text(
        "You are presenting"
    )
    screenshot(ana, "ana-presenting")

    ben = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    sign_in(ben, "ben")
    my_sessions(ben, program)
    expect(ben.locator(card)).to_contain_text("Ana Ruiz: The patient who calls every day")
    ben.locator(card).get_by_role("button", name="Join the waitlist").click()
    expect(ben.locator(card).get_by_test_id("presenter-status")).to_contain_text(
        "On the waitlist, position 1"
    )
    screenshot(ben, "ben-waitlisted")

    ana.reload()
    ana.locator(card).get_by_role("button", name="Withdraw").click()
    expect(ana.get_by_role("status").filter(has_text="withdrawn")).to_contain_text(
        "You have withdrawn from presenting."
    )
    expect(ana.locator(card).get_by_role("button", name="Join the waitlist")).to_be_visible()
    screenshot(ana, "ana-withdrawn")

    ben.reload()
    expect(ben.locator(card).get_by_test_id("presenter-status")).to_contain_text(
        "You are presenting"
    )
    screenshot(ben, "ben-promoted")

    promoted = Presentation.objects.get(clinician=people["ben"], session=session)
    assert (promoted.status, promoted.slot) == ("confirmed", 1)
    assert list(
        AuditEvent.objects.filter(action="notify.presenter.promoted").values_list("data", flat=True)
    ) == [{"presentation_id": promoted.pk}]
    for page in (ana, ben):
        problems = [
            m
            for m in page.console_messages
            if "Content Security Policy" in m or m.startswith("pageerror")
        ]
        assert problems == []
    overflow = ben.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"My sessions scrolls sideways by {overflow}px on a phone"
