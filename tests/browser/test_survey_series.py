"""A coordinator follows the same people over two anonymous waves, in a real Chromium: creates a
wave series, opens a baseline wave and adds it to the series, the respondents answer through
their links (the first page asks for their personal code), the baseline is closed, a follow-up
is opened and added, the respondents answer again; the series page then tells how many of the
baseline's respondents answered again, and the results over time show the paired result of
those whose codes match, and of nobody else.

The expected figures are counted here from the answers the respondents give, not read from
the app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from sessions_app.models import Clinician, Group, GroupMembership, Program, ProgramRole
from surveys import waves
from surveys.models import Response, Wave
from tests.browser.conftest import program_page

PASSWORD = "correct horse battery staple"
PROGRAM_NAME = "Internal Medicine CCDG"
SERIES_NAME = "Pre/post 2027"
BASELINE, FOLLOWUP = "Spring 2027 baseline", "Spring 2028 follow-up"
AGREEMENT = {
    "1": "Strongly disagree",
    "2": "Disagree",
    "3": "Neither agree nor disagree",
    "4": "Agree",
    "5": "Strongly agree",
}


@dataclass(frozen=True)
class Respondent:
    first_name: str
    mother: str  # the first letter of their mother's first name
    month_before: str  # the birth month they give at the baseline
    month_after: str  # ... and at the follow-up (another month: the codes do not match)
    empathy_before: str
    empathy_after: str

    @property
    def matches(self) -> bool:
        return self.month_before == self.month_after


# Six whose codes match (more than the program's k = 5), two whose codes do not (a month
# misremembered a year on). Those two agreed strongly at the baseline and one of them disagreed
# strongly later: were they paired, the pair count and the paired shares would show it.
RESPONDENTS = [
    Respondent("Emma", "M", "7", "7", "3", "4"),
    Respondent("Omar", "L", "11", "11", "2", "4"),
    Respondent("Ines", "R", "3", "3", "4", "4"),
    Respondent("Pavel", "A", "1", "1", "3", "5"),
    Respondent("Grace", "J", "9", "9", "2", "3"),
    Respondent("Noor", "S", "5", "5", "4", "5"),
    Respondent("Tariq", "H", "6", "8", "5", "1"),
    Respondent("Lena", "B", "12", "2", "5", "4"),
]
MATCHED = [r for r in RESPONDENTS if r.matches]


def positive_percent(values: list[str]) -> int:
    """The share of agree answers (4 or 5), in whole per cent (no halves in these counts:
    thirds and quarters)."""
    return round(100 * sum(v in ("4", "5") for v in values) / len(values))


@pytest.fixture
def program(transactional_db):
    program = Program.objects.create(
        name=PROGRAM_NAME,
        slug="im-ccdg",
        academic_year="2026-2027",
        timezone="America/New_York",
    )
    group = Group.objects.create(program=program, name="Tuesday group")
    for n, r in enumerate(RESPONDENTS):
        clinician = Clinician.objects.create(
            program=program,
            first_name=r.first_name,
            last_name=f"Respondent{n}",
            email=f"{r.first_name.lower()}@example.org",
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
    return program


def sign_in(page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("coord")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Cora")).to_be_visible()


def status(page, text: str):
    return page.get_by_role("status").filter(has_text=text)


def open_wave_and_add_it(page, series_url: str, name: str, label: str) -> None:
    """Open an anonymous online wave for every active participant, then add it to the series."""
    page.goto(series_url)
    page.get_by_role("link", name="Surveys", exact=True).first.click()
    page.get_by_role("link", name="Open an online wave").click()
    page.get_by_role("textbox", name=re.compile(r"^Name\b")).fill(name)
    expect(page.get_by_role("radio", name="Anonymous", exact=True)).to_be_checked()
    page.get_by_role("radio", name="All active participants").check()
    page.get_by_role("button", name="See the invitation before sending").click()
    page.get_by_role(
        "button", name=f"Open the wave and send {len(RESPONDENTS)} invitations"
    ).click()
    expect(status(page, "is open")).to_contain_text(f"“{name}” is open")

    page.goto(series_url)
    page.get_by_role("combobox", name=re.compile(r"^Wave\b")).select_option(label=name)
    page.get_by_label("Label").fill(label)
    page.get_by_role("button", name="Add to the series").click()
    expect(status(page, "added")).to_contain_text(f"“{name}” added.")


def answer(new_page, wave: Wave, respondent: Respondent, *, later: bool) -> None:
    """The respondent opens their link, builds their code on the first page, answers the
    empathy item and submits."""
    recipient = wave.recipients.get(clinician__first_name=respondent.first_name)
    page = new_page()
    page.goto(waves.link_path(recipient))
    expect(page.locator("#progress-label")).to_have_text("Section 1 of 6: Your personal code")
    expect(page.locator("#survey-code-note")).to_contain_text("build a personal code")
    page.get_by_label("The second letter of your first name").fill(respondent.first_name[1])
    page.get_by_label("The month you were born (1 to 12)").fill(
        respondent.month_after if later else respondent.month_before
    )
    page.get_by_label("The first letter of your mother's first name").fill(respondent.mother)
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#progress-label")).to_contain_text("Section 2 of 6")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#progress-label")).to_contain_text("Section 3 of 6")
    value = respondent.empathy_after if later else respondent.empathy_before
    page.get_by_role("group", name="empathy").get_by_text(AGREEMENT[value], exact=True).click()
    for section in (4, 5, 6):
        page.get_by_role("button", name="Next").click()
        expect(page.locator("#progress-label")).to_contain_text(f"Section {section} of 6")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    page.context.close()


def test_coordinator_links_two_waves_by_personal_code_and_reads_the_paired_result(
    page, new_page, screenshot, program
):
    # -- a new series -------------------------------------------------------------------------
    sign_in(page)
    page.get_by_role("main").get_by_role("link", name=PROGRAM_NAME).click()
    program_page(page, "Evaluate", "Surveys")
    page.get_by_role("link", name="Wave series").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wave series")
    expect(page.locator("#series-list")).to_contain_text("No series yet.")
    page.get_by_role("textbox", name=re.compile(r"^Name\b")).fill(SERIES_NAME)
    page.get_by_label("Before and after: a baseline and follow-ups").check()
    expect(
        page.get_by_label("Ask respondents of anonymous waves for their personal code")
    ).to_be_checked()
    screenshot(page, "new-series")
    page.get_by_role("button", name="Create the series").click()
    expect(status(page, "created")).to_contain_text(f"Series “{SERIES_NAME}” created")
    expect(page.get_by_role("heading", level=1)).to_have_text(SERIES_NAME)
    expect(page.locator("#series-waves")).to_contain_text("No waves yet")
    series_url = page.url

    # -- the baseline: opened, added, answered, closed -----------------------------------------
    open_wave_and_add_it(page, series_url, BASELINE, "Baseline")
    row = page.locator("#series-waves tbody tr")
    expect(row).to_have_count(1)
    expect(row.first).to_contain_text("Baseline")
    expect(row.first.locator("[data-linked]")).to_have_text("baseline")
    screenshot(page, "series-with-baseline")

    baseline = Wave.objects.get(program=program, name=BASELINE)
    for respondent in RESPONDENTS:
        answer(new_page, baseline, respondent, later=False)
    page.goto(series_url)
    page.get_by_role("link", name=BASELINE).click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Close now").click()
    expect(page.locator("#wave-closing")).to_contain_text("closed by hand")

    # -- the follow-up: opened, added, answered -------------------------------------------------
    open_wave_and_add_it(page, series_url, FOLLOWUP, "One year on")
    followup = Wave.objects.get(program=program, name=FOLLOWUP)
    for respondent in RESPONDENTS:
        answer(new_page, followup, respondent, later=True)

    # -- the series page: who answered again ----------------------------------------------------
    page.goto(series_url)
    rows = page.locator("#series-waves tbody tr")
    expect(rows).to_have_count(2)
    first, second = rows.nth(0), rows.nth(1)
    expect(first.get_by_role("rowheader")).to_contain_text(f"Baseline: {BASELINE}")
    expect(second.get_by_role("rowheader")).to_contain_text(f"One year on: {FOLLOWUP}")
    for row in (first, second):
        expect(row.locator("[data-responses]")).to_have_text(str(len(RESPONDENTS)))
        expect(row.locator("[data-without-code]")).to_have_text("0")
        expect(row.locator("[data-duplicates]")).to_have_text("0")
    # Every baseline respondent gave a code; those of the two who changed it match nobody.
    expect(second.locator("[data-linked]")).to_have_text(f"{len(MATCHED)} of {len(RESPONDENTS)}")
    # Each row's button names its wave for a screen reader.
    expect(second.get_by_role("button", name=f"Take out “{FOLLOWUP}”")).to_be_visible()
    screenshot(page, "series-linked")

    # -- the results over time --------------------------------------------------------------------
    page.get_by_role("link", name="Results over time").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Results over time: {SERIES_NAME}")
    expect(page.locator("#series-paragraph")).to_contain_text(
        f"Of the {len(RESPONDENTS)} baseline respondents who could be linked, {len(MATCHED)} "
        f"({round(100 * len(MATCHED) / len(RESPONDENTS))}%) answered “One year on” as well."
    )
    empathy = page.locator("section[data-item='skill_empathy'] tbody tr")
    expect(empathy).to_have_count(1)
    before = positive_percent([r.empathy_before for r in MATCHED])
    after = positive_percent([r.empathy_after for r in MATCHED])
    paired = empathy.locator("[data-paired]")
    expect(paired).to_have_text(re.compile(rf"^{len(MATCHED)} pairs: shift \+"))
    expect(paired).to_contain_text(f"positive {before}% → {after}%")
    # Everyone's answers, linked or not, in the unpaired comparison.
    everyone_before = positive_percent([r.empathy_before for r in RESPONDENTS])
    everyone_after = positive_percent([r.empathy_after for r in RESPONDENTS])
    expect(empathy.locator("[data-unpaired]")).to_contain_text(
        f"positive {everyone_before}% → {everyone_after}%"
    )
    expect(empathy.locator("td").first).to_contain_text(f"n = {len(RESPONDENTS)}.")
    # An item nobody answered has no pairs.
    expect(page.locator("section[data-item='skill_self_reflection'] [data-paired]")).to_have_text(
        "No linked pairs"
    )
    screenshot(page, "results-over-time")
    errors = [m for m in page.console_messages if m.startswith("pageerror")]
    assert not errors, errors
    assert not [m for m in page.console_messages if "Content Security Policy" in m]

    # -- the database: codes stored only as hashes, two of them without a partner ---------------
    hashes = {
        wave.pk: set(Response.objects.filter(wave=wave).values_list("link_hash", flat=True))
        for wave in (baseline, followup)
    }
    assert all(len(h) == 64 for h in hashes[baseline.pk] | hashes[followup.pk])
    assert len(hashes[baseline.pk]) == len(hashes[followup.pk]) == len(RESPONDENTS)
    assert len(hashes[baseline.pk] & hashes[followup.pk]) == len(MATCHED)
    for r in Response.objects.filter(wave__in=[baseline, followup]):
        assert not any(key.startswith("link:") for key in r.answers)
        assert r.recipient_id is None
