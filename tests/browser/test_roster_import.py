"""A coordinator imports a roster CSV through the real pages, in a real Chromium."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from sessions_app.models import Clinician, Program, ProgramRole, RosterImport
from tests.browser.conftest import program_page

PASSWORD = "correct horse battery staple"
HEADER = "email,first_name,last_name,discipline,gender,years_at_institution,patient_care_halfdays"
GOOD_ROWS = [
    "ana.ruiz@example.org,Ana,Ruiz,physician,female,6,8",
    "ben.okoro@example.org,Ben,Okoro,NP,male,2,9",
    "chloe.martin@example.org,Chloe,Martin,social_worker,nonbinary,11,4",
]
BAD_ROWS = [
    "ana.ruiz@example.org,Ana,Ruiz,physician,female,6,8",
    "not-an-email,Ben,Okoro,NP,male,2,9",
    "chloe.martin@example.org,Chloe,Martin,astronaut,nonbinary,11,4",
]


@pytest.fixture
def program(transactional_db):
    return Program.objects.create(
        name="Internal Medicine CCDG",
        slug="im-ccdg",
        department="Internal Medicine",
        institution="General Hospital",
        academic_year="2026-2027",
    )


@pytest.fixture
def coordinator(program):
    user = get_user_model().objects.create_user(
        username="coord", password=PASSWORD, first_name="Cora", last_name="Coordinator"
    )
    ProgramRole.objects.create(program=program, user=user, role=ProgramRole.Role.COORDINATOR)
    return user


def write_csv(tmp_path, name: str, rows: list[str]):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def sign_in(page, screenshot=None):
    page.goto("/")
    # Signed out, the home page sends us to the sign-in page.
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill("coord")
    page.get_by_label("Password").fill(PASSWORD)
    if screenshot:
        screenshot(page, "login")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Cora")).to_be_visible()


def open_roster(page, program):
    page.get_by_role("main").get_by_role("link", name=program.name).click()
    expect(page).to_have_title(f"{program.name} · CCDG")
    program_page(page, "Plan", "Roster")
    expect(page).to_have_title(re.compile(r"^Roster · "))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Roster")


def upload(page, path, screenshot=None):
    page.get_by_role("link", name="Import CSV").click()
    expect(page.get_by_role("heading", name="Import a roster CSV")).to_be_visible()
    page.get_by_label("Roster CSV file").set_input_files(str(path))
    if screenshot:
        screenshot(page, "upload-form")
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", name=f"Preview of {path.name}")).to_be_visible()


def test_coordinator_imports_a_roster_csv(page, screenshot, program, coordinator, tmp_path):
    csv_file = write_csv(tmp_path, "medicine-roster.csv", GOOD_ROWS)

    sign_in(page, screenshot)
    screenshot(page, "home")
    open_roster(page, program)
    expect(page.locator("#roster-table")).to_contain_text("No clinician matches.")
    screenshot(page, "empty-roster")

    upload(page, csv_file, screenshot)
    summary = page.locator("#import-summary")
    expect(summary).to_have_text("3 rows: 3 to add, 0 to update, 0 unchanged.")
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(3)
    for row in range(3):
        expect(rows.nth(row)).to_contain_text("add")
    screenshot(page, "preview")
    assert not Clinician.objects.exists(), "the preview must not write clinicians"

    page.get_by_role("button", name="Import 3 rows").click()
    expect(page.get_by_role("status").filter(has_text="Roster imported")).to_contain_text(
        "Roster imported: 3 added, 0 updated, 0 unchanged."
    )
    table = page.locator("#roster-table")
    for name in ("Martin, Chloe", "Okoro, Ben", "Ruiz, Ana"):
        expect(table.get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("3 clinicians")
    screenshot(page, "imported-roster")

    saved = {
        (c.email, c.first_name, c.last_name, c.discipline, c.gender, c.status)
        for c in Clinician.objects.filter(program=program)
    }
    assert saved == {
        ("ana.ruiz@example.org", "Ana", "Ruiz", "physician", "female", "eligible"),
        ("ben.okoro@example.org", "Ben", "Okoro", "nurse_practitioner", "male", "eligible"),
        ("chloe.martin@example.org", "Chloe", "Martin", "social_worker", "nonbinary", "eligible"),
    }
    draft = RosterImport.objects.get(program=program)
    assert draft.committed_at is not None


def test_bad_rows_are_listed_and_nothing_is_imported(
    page, screenshot, program, coordinator, tmp_path
):
    csv_file = write_csv(tmp_path, "roster-with-typos.csv", BAD_ROWS)

    sign_in(page)
    open_roster(page, program)
    upload(page, csv_file)

    errors = page.locator("#import-errors")
    expect(errors).to_contain_text("Nothing can be imported until these problems are fixed")
    expect(errors).to_contain_text("2 of 3 rows have problems")
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("“not-an-email” is not a valid email address.")
    expect(rows.nth(2)).to_contain_text("Unknown discipline “astronaut”.")
    expect(rows.nth(0)).to_contain_text("add")
    expect(page.locator("#import-summary")).to_have_count(0)
    expect(page.get_by_role("button", name="Import", exact=False)).to_have_count(0)
    expect(page.get_by_role("link", name="Upload a corrected file")).to_be_visible()
    screenshot(page, "preview-with-errors")

    assert not Clinician.objects.exists()
    assert not RosterImport.objects.filter(committed_at__isnull=False).exists()

    # Posting the preview anyway (a stale tab, a crafted request) still imports nothing.
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    response = page.request.post(page.url, form={"csrfmiddlewaretoken": token})
    assert response.status == 200
    assert "Nothing was imported: the file has problems listed below." in response.text()
    assert not Clinician.objects.exists()


def test_pages_load_styled_and_without_csp_violations(page, screenshot, program, coordinator):
    sign_in(page)
    visited = [page.url]
    open_roster(page, program)
    visited.append(page.url)
    page.get_by_role("link", name="Import CSV").click()
    expect(page.get_by_role("heading", name="Import a roster CSV")).to_be_visible()
    visited.append(page.url)
    program_page(page, "Administer", "Settings")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    visited.append(page.url)
    page.wait_for_load_state("networkidle")
    screenshot(page, "settings")

    violations = [m for m in page.console_messages if "Content Security Policy" in m]
    assert not violations, f"CSP violations on {visited}: {violations}"
    errors = [m for m in page.console_messages if m.startswith("pageerror")]
    assert not errors, errors

    # Bootstrap's CSS is served and applied: the navbar is painted in the primary colour.
    background = page.locator("nav.navbar").evaluate(
        "element => getComputedStyle(element).backgroundColor"
    )
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), background
    assert background == "rgb(13, 110, 253)", background
    # Our own stylesheet too (status badges) and the scripts (Bootstrap's JS drives the menu).
    assert page.evaluate("typeof window.bootstrap") == "object"
    assert page.evaluate("typeof window.htmx") == "object"


def test_roster_fits_a_phone_screen(new_page, screenshot, program, coordinator):
    Clinician.objects.create(
        program=program,
        first_name="Ana",
        last_name="Ruiz",
        email="ana.ruiz@example.org",
        discipline="physician",
    )
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    sign_in(page)
    # On a phone the program links sit behind the menu button.
    expect(page.get_by_role("button", name="Toggle navigation")).to_be_visible()
    open_roster(page, program)
    expect(page.locator("#roster-table").get_by_role("link", name="Ruiz, Ana")).to_be_visible()
    expect(page.get_by_role("link", name="Import CSV")).to_be_visible()
    screenshot(page, "roster-mobile")
    page.get_by_role("button", name="Toggle navigation").click()
    # Bootstrap's script opens the menu: "show" is set once its animation has finished.
    expect(page.locator("#nav-main")).to_have_class(re.compile(r"\bshow\b"))
    expect(page.locator("#nav-main").get_by_role("link", name=program.name)).to_be_visible()
    screenshot(page, "roster-mobile-menu")

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the roster page scrolls sideways by {overflow}px on a 390px screen"
    badge = page.locator("#roster-table .badge").first
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(108, 117, 125)"
