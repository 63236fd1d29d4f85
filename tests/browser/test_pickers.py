"""Long people pickers are searchable (Tom Select, static/js/ccdg.js), in a real Chromium: a
coordinator asks a member of a 30-person group to present with the keyboard only, typing part
of the surname; the <select> keeps its name so the form posts as before."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from sessions_app.models import (
    Clinician,
    Group,
    GroupMembership,
    Presentation,
    Program,
    ProgramRole,
    Session,
)

PASSWORD = "correct horse battery staple"
FIRST = ["Ana", "Ben", "Chloe", "Dev", "Eva", "Femi", "Gus", "Hana", "Ivo", "Jia"]
LAST = ["Ruiz", "Okoro", "Martin"]
LABEL = "Ask a member to present"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]  # as test_pages_audit.py
SERIOUS = {"serious", "critical"}


@pytest.fixture
def world(transactional_db):
    program = Program.objects.create(
        name="Internal Medicine CCDG",
        slug="im-ccdg",
        academic_year="2026-2027",
        timezone="America/New_York",
    )
    group = Group.objects.create(program=program, name="Group 1")
    # 30 members: Ana..Jia Ruiz, Okoro and Martin, and two whose surnames start alike.
    people = [(first, last) for last in LAST for first in FIRST[:9]]
    people += [("Kofi", "Nakamura"), ("Lena", "Nakashima"), ("Mia", "Novak")]
    for i, (first, last) in enumerate(people):
        clinician = Clinician.objects.create(
            program=program,
            first_name=first,
            last_name=last,
            email=f"person{i}@example.org",
            discipline="physician",
            status=Clinician.Status.ACTIVE,
        )
        GroupMembership.objects.create(
            group=group, clinician=clinician, joined_on=timezone.localdate()
        )
    coordinator = get_user_model().objects.create_user(
        username="coord", password=PASSWORD, first_name="Cora", last_name="Coordinator"
    )
    ProgramRole.objects.create(program=program, user=coordinator, role=ProgramRole.Role.COORDINATOR)
    starts = (timezone.now() + timedelta(days=14)).replace(minute=30, second=0, microsecond=0)
    session = Session.objects.create(group=group, starts_at=starts, uid=uuid.uuid4())
    return program, session


def accessible_name(page, selector: str) -> str:
    """The name Chromium's own accessibility tree gives the element (not Playwright's guess)."""
    cdp = page.context.new_cdp_session(page)
    document = cdp.send("DOM.getDocument")
    node = cdp.send(
        "DOM.querySelector", {"nodeId": document["root"]["nodeId"], "selector": selector}
    )
    tree = cdp.send(
        "Accessibility.getPartialAXTree", {"nodeId": node["nodeId"], "fetchRelatives": False}
    )
    [ax_node] = [n for n in tree["nodes"] if not n.get("ignored")]
    assert ax_node["role"]["value"] == "combobox"
    return ax_node["name"]["value"]


def test_coordinator_picks_a_presenter_by_typing_part_of_the_surname(page, screenshot, world):
    program, session = world
    path = reverse(
        "sessions_app:session_presenters", kwargs={"slug": program.slug, "pk": session.pk}
    )
    page.goto(f"/accounts/login/?next={path}")
    page.get_by_label("Username").fill("coord")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Whom to ask")).to_be_visible()

    # The <select> is still in the form with its name and id; the label names the combobox.
    select = page.locator("select#id_clinician")
    expect(select).to_have_attribute("name", "clinician")
    expect(select).to_have_class(re.compile(r"\btomselected\b"))
    expect(select.locator("option")).to_have_count(31)  # the 30 members and "---------"
    picker = page.get_by_role("combobox", name=LABEL)
    expect(picker).to_have_count(1)
    # the hidden <select> is no second, unnamed combobox for screen readers
    expect(page.get_by_role("combobox")).to_have_count(1)
    # crispy-forms marks a required field's label with an asterisk
    assert accessible_name(page, "#id_clinician-ts-control") == f"{LABEL}*"
    assert page.locator("label", has_text=LABEL).get_attribute("for") == "id_clinician-ts-control"

    # Keyboard only: focus the picker, type part of the surname, move down, choose.
    picker.focus()
    expect(picker).to_be_focused()
    page.keyboard.type("naka")
    listbox = page.get_by_role("listbox")
    expect(listbox.get_by_role("option")).to_have_text(["Kofi Nakamura", "Lena Nakashima"])
    active = listbox.locator(".option.active")
    expect(active).to_have_text("Kofi Nakamura")
    screenshot(page, "filtered")
    axe = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    serious = [v["id"] for v in axe.response["violations"] if v["impact"] in SERIOUS]
    assert serious == []
    page.keyboard.press("ArrowDown")
    expect(active).to_have_text("Lena Nakashima")
    expect(picker).to_have_attribute("aria-activedescendant", re.compile(r"\S"))
    page.keyboard.press("Enter")
    expect(listbox).to_be_hidden()
    expect(page.locator(".ts-control .item")).to_have_text("Lena Nakashima")
    chosen = Clinician.objects.get(last_name="Nakashima")
    expect(select).to_have_value(str(chosen.pk))
    screenshot(page, "chosen")

    page.keyboard.press("Tab")
    button = page.get_by_role("button", name="Ask to present")
    expect(button).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status").filter(has_text="asked to present")).to_contain_text(
        "Lena Nakashima has been asked to present."
    )
    presentation = Presentation.objects.get(session=session)
    assert (presentation.clinician, presentation.status) == (chosen, Presentation.Status.INVITED)
    # The page after the redirect has its picker again, without the one now invited.
    expect(page.locator("select#id_clinician option")).to_have_count(30)
    expect(page.get_by_role("combobox", name=LABEL)).to_have_count(1)
    screenshot(page, "asked")

    problems = [
        m
        for m in page.console_messages
        if "Content Security Policy" in m or m.startswith("pageerror")
    ]
    assert problems == []
