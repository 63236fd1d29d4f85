"""A participant answers the survey on a phone through their link, in a real Chromium: saves
halfway, comes back through the same link in another browser, finishes and submits; the link
then can't be used again. Only the e-mailed address holds the token: the browser is sent on
to the wave's own address at once, and no later request or ``Referer`` carries it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from sessions_app.models import Clinician, Group, GroupMembership, Program, ProgramRole
from surveys import waves
from surveys.models import Response, Wave, WaveRecipient

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
WITH_IDENTIFIER = "Mrs. Alvarez, seen on March 14th, taught me patience."
REWRITTEN = "A patient taught me patience, and the group helped me see it."


@pytest.fixture
def link(transactional_db):
    program = Program.objects.create(
        name="Internal Medicine CCDG",
        slug="im-ccdg",
        academic_year="2026-2027",
        timezone="America/New_York",
    )
    group = Group.objects.create(program=program, name="Tuesday group")
    clinician = Clinician.objects.create(
        program=program,
        first_name="Ana",
        last_name="Ruiz",
        email="ana@example.org",
        discipline="nurse",
        status=Clinician.Status.ACTIVE,
    )
    GroupMembership.objects.create(group=group, clinician=clinician, joined_on=timezone.localdate())
    coordinator = get_user_model().objects.create_user(username="coord", password="x" * 20)
    ProgramRole.objects.create(program=program, user=coordinator, role=ProgramRole.Role.COORDINATOR)
    wave = waves.wave_open(
        program=program,
        actor=coordinator,
        name="Spring 2027",
        closes_at=timezone.now() + timedelta(days=14),
        audience=Wave.Audience.ALL_ACTIVE,
    )
    recipient = wave.recipients.get()
    return recipient, waves.link_path(recipient)


def watch_requests(page) -> list[tuple[str, str]]:
    """Every request the page sends from now on: (URL, Referer)."""
    seen: list[tuple[str, str]] = []
    page.on("request", lambda r: seen.append((r.url, r.headers.get("referer", ""))))
    return seen


def token_free(requests: list[tuple[str, str]], path: str) -> list[tuple[str, str]]:
    """The requests that hold the link's token, but for the first one (opening the link)."""
    token = path.strip("/").rsplit("/", 1)[-1]
    return [(url, ref) for n, (url, ref) in enumerate(requests) if token in url + ref and n]


WAVE_PAGE = re.compile(r"/survey/im-ccdg/spring-2027/(\?.*)?$")


def question(page, text: str):
    return page.get_by_role("group", name=text)


def choose(page, text: str, answer: str) -> None:
    """Tap an answer, as a finger would: on its label (the radio itself is hidden)."""
    question(page, text).get_by_text(answer, exact=True).click()


def expect_section(page, number: int, title: str) -> None:
    expect(page.locator("#progress-label")).to_have_text(f"Section {number} of 5: {title}")
    expect(page.get_by_role("progressbar")).to_have_attribute(
        "aria-valuenow", str(round(100 * number / 5))
    )


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def csp_problems(page) -> list[str]:
    return [
        m
        for m in page.console_messages
        if "Content Security Policy" in m or m.startswith("pageerror")
    ]


def test_a_participant_answers_on_a_phone_saves_resumes_and_submits(new_page, screenshot, link):
    recipient, path = link
    page = new_page(**PHONE)
    requests = watch_requests(page)
    page.goto(path)
    expect(page).to_have_url(WAVE_PAGE)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Spring 2027")
    expect(page.locator("#survey-program")).to_have_text("Internal Medicine CCDG")
    expect(page.locator("#survey-mode")).to_contain_text("stored without your name")
    expect(page.locator("#survey-mode")).to_contain_text("Every question may be skipped.")
    expect_section(page, 1, "Demographics")
    assert fits_the_screen(page)
    screenshot(page, "section-1")

    choose(page, "Gender", "Female")
    choose(page, "Clinician type", "Nurse")
    choose(page, "Which group do you attend?", "Tuesday group")
    expect(question(page, "Gender").get_by_role("radio", name="Female", exact=True)).to_be_checked()
    screenshot(page, "section-1-answered")
    page.get_by_role("button", name="Next").click()

    expect_section(page, 2, "Skills the group fostered")
    choose(page, "empathy", "Agree")
    screenshot(page, "section-2-one-answer")
    page.get_by_role("button", name="Save and finish later").click()
    expect(page.locator("#survey-saved")).to_contain_text("Your answers so far are saved.")
    expect(page).to_have_url(WAVE_PAGE)
    screenshot(page, "saved")
    assert len(requests) > 5 and token_free(requests, path) == []

    # Later, from the e-mail again: another browser, the same link.
    first_page, page = page, new_page(**PHONE)
    requests = watch_requests(page)
    page.goto(path)
    expect(page).to_have_url(WAVE_PAGE)
    expect_section(page, 2, "Skills the group fostered")
    expect(question(page, "empathy").get_by_role("radio", name="Agree", exact=True)).to_be_checked()
    screenshot(page, "resumed-at-section-2")

    choose(page, "self-reflection", "Strongly agree")
    page.get_by_role("button", name="Next").click()

    expect_section(page, 3, "Relevance to daily practice")
    choose(page, "ability to communicate", "4")
    # A choice made by mistake can be cleared: every question may be skipped.
    choose(page, "ability to manage conflict", "2")
    question(page, "ability to manage conflict").get_by_role(
        "button", name="Clear this answer"
    ).click()
    expect(
        question(page, "ability to manage conflict").get_by_role("radio", checked=True)
    ).to_have_count(0)
    page.get_by_role("button", name="Next").click()

    expect_section(page, 4, "Stressors")
    page.get_by_role("button", name="Back").click()
    expect_section(page, 3, "Relevance to daily practice")
    expect(
        question(page, "ability to communicate").get_by_role("radio", name="4", exact=True)
    ).to_be_checked()
    page.get_by_role("button", name="Next").click()

    expect_section(page, 4, "Stressors")
    choose(page, "challenge is isolation", "Moderate challenge")
    choose(page, "address isolation", "Yes")
    page.get_by_role("button", name="Next").click()

    expect_section(page, 5, "Open-ended")
    page.get_by_label("What makes the group unique?").fill(WITH_IDENTIFIER)
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#survey-guard")).to_contain_text("Your answer may identify a patient.")
    expect(page.get_by_test_id("guard-open_unique").locator("mark")).to_have_text(
        ["Mrs. Alvarez", "March 14th"]
    )
    expect(page.get_by_label("What makes the group unique?")).to_have_value(WITH_IDENTIFIER)
    expect(page.get_by_label("Keep my answer as written")).not_to_be_checked()
    assert not Response.objects.exists()
    screenshot(page, "identifier-warning")

    page.get_by_label("What makes the group unique?").fill(REWRITTEN)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page).to_have_url(re.compile(r"/s/thanks/$"))
    screenshot(page, "thanks")
    assert token_free(requests, path) == []

    response = Response.objects.get()
    assert response.answers == {
        "gender": "female",
        "clinician_type": "nurse",
        "group": "Tuesday group",
        "skill_empathy": "4",
        "skill_self_reflection": "5",
        "relevance_communicate": "4",
        "challenge_isolation": "3",
        "addressed_isolation": "1",
        "open_unique": REWRITTEN,
    }
    assert response.recipient is None
    # Used up at once (the "has answered" mark of an anonymous wave comes later, in batches).
    assert not waves.link_usable(WaveRecipient.objects.get(pk=recipient.pk))

    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("This survey link can't be used")
    assert fits_the_screen(page)
    screenshot(page, "link-used")
    assert Response.objects.count() == 1
    assert csp_problems(first_page) == [] and csp_problems(page) == []
