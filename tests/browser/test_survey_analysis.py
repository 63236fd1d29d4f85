"""A coordinator records a paper survey wave and analyses it, in a real Chromium: creates the
wave, types in one paper form, imports the others from a CSV (upload, preview, confirm),
excludes one response, runs the analysis (a Celery task, eager here, after the request's
commit) and reads the results: the response line, the results paragraph, Tables 1 and 2 and
the charts.

The expected figures are counted here from the answers the test enters, not read from the app.
"""

from __future__ import annotations

import csv
import math
import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from analysis.models import AnalysisRun
from ccdg.celery_app import app as celery_app
from sessions_app.models import Group, Program, ProgramRole
from surveys.models import Response, Wave
from tests.browser.conftest import program_page

PASSWORD = "correct horse battery staple"
PROGRAM_NAME = "Internal Medicine CCDG"
WAVE_NAME = "Spring 2027, paper"
HANDED_OUT = 18
EXCLUDED_FORM = "P-07"
EXCLUDED_REASON = "answered twice"

# The paper form typed in through the page: (question code, label clicked, value code stored).
PAPER_FORM_ID = "P-01"
PAPER_CHOICES = [
    ("gender", "Female", "female"),
    ("clinician_type", "Physician", "physician"),
    ("years_at_institution", "5 to 10", "5to10"),
    ("patient_care_halfdays", "7 or more (full time)", "ge7"),
    ("skill_self_reflection", "Strongly agree", "5"),
    ("skill_empathy", "Agree", "4"),
    ("relevance_communicate", "4", "4"),
    ("challenge_isolation", "Moderate challenge", "3"),
    ("addressed_isolation", "Yes", "1"),
]
PAPER_GROUP = "1"
PAPER_TEXT = "The one hour in the month where we talk about what the work does to us."
PAPER_ANSWERS = {
    **{code: value for code, _label, value in PAPER_CHOICES},
    "group": PAPER_GROUP,
    "open_unique": PAPER_TEXT,
}

# The other forms, imported from a CSV file (value codes, as the codebook gives them).
CSV_COLUMNS = [
    "form_id",
    "gender",
    "clinician_type",
    "group",
    "skill_self_reflection",
    "skill_empathy",
    "relevance_communicate",
    "challenge_isolation",
    "addressed_isolation",
    "open_unique",
]
CSV_ROWS = [
    ["P-02", "female", "nurse", "1", "4", "5", "5", "4", "1", "Time to breathe, together."],
    ["P-03", "male", "physician", "2", "3", "2", "3", "2", "0", ""],
    ["P-04", "female", "social_worker", "2", "5", "4", "4", "3", "1", "Honest talk, no ranks."],
    ["P-05", "nonbinary", "psychologist", "3", "4", "4", "2", "1", "1", ""],
    ["P-06", "male", "physician", "3", "2", "3", "3", "4", "0", "Colleagues say it out loud."],
    ["P-07", "female", "nurse_practitioner", "1", "5", "5", "5", "3", "1", ""],
    ["P-08", "female", "physician", "2", "4", "", "4", "2", "1", ""],
    ["P-09", "male", "nurse", "3", "5", "4", "3", "3", "1", "It is protected time."],
    ["P-10", "undisclosed", "pharmacist", "1", "3", "1", "2", "2", "0", ""],
    ["P-11", "female", "physician", "2", "4", "4", "5", "4", "1", ""],
    # Enough forms for every group to reach the small-cell threshold (5 analysed each), so
    # that Table 2 breaks the groups out.
    ["P-12", "male", "physician", "1", "4", "4", "4", "2", "1", ""],
    ["P-13", "female", "physician", "1", "5", "5", "4", "3", "1", ""],
    ["P-14", "male", "physician", "2", "3", "2", "3", "3", "0", ""],
    ["P-15", "male", "physician", "3", "4", "5", "5", "2", "1", ""],
    ["P-16", "female", "physician", "3", "2", "3", "3", "4", "0", ""],
    ["P-17", "male", "physician", "2", "5", "4", "4", "1", "1", ""],
]


def whole_percent(k: int, n: int) -> int:
    """k of n as a whole percentage, halves rounded up."""
    return math.floor(100 * k / n + 0.5)


def all_forms() -> list[dict[str, str]]:
    """Every returned form as {code: value}, with its form number, blanks left out."""
    forms = [{"form_id": PAPER_FORM_ID, **PAPER_ANSWERS}]
    for row in CSV_ROWS:
        forms.append({code: value for code, value in zip(CSV_COLUMNS, row, strict=True) if value})
    return forms


def analysed_forms() -> list[dict[str, str]]:
    return [f for f in all_forms() if f["form_id"] != EXCLUDED_FORM]


def agreement(forms: list[dict[str, str]], code: str) -> str:
    """A Table 2 cell: agreeing (4 or 5) / answering (percent)."""
    answered = [f[code] for f in forms if code in f]
    agree = sum(value in ("4", "5") for value in answered)
    return f"{agree}/{len(answered)} ({whole_percent(agree, len(answered))}%)"


@pytest.fixture
def eager():
    """Run the analysis task in the web request (after its commit), as CCDG_CELERY_EAGER does."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.update(task_always_eager=True)
    yield
    celery_app.conf.update(task_always_eager=before)


@pytest.fixture
def program(transactional_db):
    program = Program.objects.create(
        name=PROGRAM_NAME,
        slug="im-ccdg",
        academic_year="2026-2027",
        timezone="America/New_York",
    )
    for name in ("Monday group", "Tuesday group", "Thursday group"):
        Group.objects.create(program=program, name=name)
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


def question(page, code: str):
    """The fieldset of a question on the paper entry page (its legend ends with the code)."""
    return page.get_by_role("group", name=re.compile(rf"\b{code}$"))


def status(page, text: str):
    return page.get_by_role("status").filter(has_text=text)


def write_csv(tmp_path):
    path = tmp_path / "spring-paper-forms.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(CSV_ROWS)
    return path


def test_coordinator_collects_paper_forms_and_analyses_them(
    page, screenshot, program, eager, settings, tmp_path
):
    returned = 1 + len(CSV_ROWS)
    analysed = len(analysed_forms())
    rate = whole_percent(returned, HANDED_OUT)
    visited = []

    def arrived():
        visited.append(page.url)

    # -- the surveys of the program ---------------------------------------------------------
    sign_in(page)
    page.get_by_role("main").get_by_role("link", name=PROGRAM_NAME).click()
    program_page(page, "Evaluate", "Surveys")
    expect(page).to_have_title(re.compile(r"^Surveys · "))
    expect(page.locator("#wave-list")).to_contain_text("No survey waves yet.")
    arrived()
    screenshot(page, "no-waves")

    # -- a paper wave -------------------------------------------------------------------------
    page.get_by_role("link", name="Record a paper wave").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a paper survey wave")
    arrived()
    page.get_by_role("textbox", name=re.compile(r"^Name\b")).fill(WAVE_NAME)
    page.get_by_label("Forms handed out").fill(str(HANDED_OUT))
    screenshot(page, "paper-wave-form")
    page.get_by_role("button", name="Create the paper wave").click()

    expect(status(page, "Paper wave")).to_contain_text(f"Paper wave “{WAVE_NAME}” created")
    expect(page.get_by_role("heading", level=1)).to_contain_text(WAVE_NAME)
    expect(page.locator("#wave-facts")).to_contain_text(f"Paper forms, {HANDED_OUT} handed out")
    expect(page.locator("#response-line")).to_have_text(
        re.compile(rf"^\s*{HANDED_OUT} distributed · 0 returned \(0%\) · 0 analysed\s*$")
    )
    arrived()
    wave_url = page.url
    screenshot(page, "wave-created")

    # -- one paper form typed in ----------------------------------------------------------------
    page.get_by_role("link", name="Enter a paper form").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter a paper form")
    arrived()
    page.get_by_label("Form number").fill(PAPER_FORM_ID)
    for code, label, _value in PAPER_CHOICES:
        question(page, code).get_by_label(label, exact=True).check()
    # A paper wave's group question is the label written on the form, typed as is.
    page.get_by_label("Which group do you attend?").fill(PAPER_GROUP)
    page.get_by_label("What makes the group unique?").fill(PAPER_TEXT)
    expect(question(page, "skill_empathy").get_by_label("Agree", exact=True)).to_be_checked()
    screenshot(page, "paper-form-filled")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(status(page, "saved")).to_contain_text(f"Response 1 (form {PAPER_FORM_ID}) saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Response 1")
    expect(page.locator("#response-facts")).to_contain_text("Paper, typed in")
    expect(page.get_by_role("main")).to_contain_text(PAPER_TEXT)
    arrived()
    screenshot(page, "paper-form-saved")

    # -- the other forms from a CSV: upload, preview, confirm -------------------------------------
    page.get_by_role("link", name=WAVE_NAME).click()
    page.get_by_role("link", name="Import a CSV").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import responses from a CSV file")
    arrived()
    csv_file = write_csv(tmp_path)
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    screenshot(page, "import-form")
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Preview of {csv_file.name}")
    arrived()
    expect(page.locator("#import-summary")).to_have_text(
        re.compile(rf"^\s*{len(CSV_ROWS)} responses ready to import\.\s*$")
    )
    expect(page.get_by_role("main")).to_contain_text(f"{len(CSV_ROWS)} rows")
    expect(page.locator("#import-errors")).to_have_count(0)
    expect(page.locator("#row-errors")).to_have_count(0)
    expect(page.locator("#import-preview tbody tr")).to_have_count(len(CSV_ROWS))
    expect(page.locator("#import-preview tbody tr").first).to_contain_text("P-02")
    screenshot(page, "import-preview")
    assert Response.objects.count() == 1, "the preview must not write responses"

    page.get_by_role("button", name=f"Import {len(CSV_ROWS)} responses").click()
    expect(status(page, "imported")).to_contain_text(f"{len(CSV_ROWS)} responses imported.")
    expect(page).to_have_url(wave_url)
    expect(page.locator("#response-line")).to_have_text(
        re.compile(
            rf"^\s*{HANDED_OUT} distributed · {returned} returned \({rate}%\)"
            rf" · {returned} analysed\s*$"
        )
    )
    arrived()
    screenshot(page, "wave-after-import")

    # -- one response excluded ------------------------------------------------------------------
    page.get_by_role("link", name="See the responses").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Responses to {WAVE_NAME}")
    expect(page.locator("#response-list tbody tr")).to_have_count(returned)
    arrived()
    page.locator("#response-list tbody tr").filter(has_text=EXCLUDED_FORM).get_by_role(
        "link"
    ).click()
    expect(page.locator("#response-facts")).to_contain_text(EXCLUDED_FORM)
    arrived()
    page.get_by_label("Reason").fill(EXCLUDED_REASON)
    page.get_by_role("button", name="Exclude from the analysis").click()
    expect(status(page, "excluded")).to_contain_text("The response is excluded from the analysis")
    expect(page.get_by_role("heading", level=1)).to_contain_text("excluded")
    expect(page.locator("#excluded-reason")).to_have_text(EXCLUDED_REASON)
    arrived()
    screenshot(page, "response-excluded")

    page.get_by_role("link", name=WAVE_NAME).click()
    expect(page.locator("#response-line")).to_have_text(
        re.compile(
            rf"^\s*{HANDED_OUT} distributed · {returned} returned \({rate}%\)"
            rf" · {analysed} analysed · {returned - analysed} excluded\s*$"
        )
    )
    expect(page.locator("#excluded-reasons")).to_have_text(f"{EXCLUDED_REASON}: 1")
    arrived()
    screenshot(page, "wave-after-exclusion")

    # -- the analysis ---------------------------------------------------------------------------
    page.locator("#analysis-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Analysis of {WAVE_NAME}")
    expect(page.locator("#no-runs")).to_be_visible()
    arrived()
    screenshot(page, "analysis-no-runs")
    # The results page loads its three charts at once, and every request saves the session
    # (SESSION_SAVE_EVERY_REQUEST). The test database is SQLite in memory with a shared
    # cache, where a write that meets another one fails at once ("database table is
    # locked") instead of waiting as it does on the SQLite file or PostgreSQL of a real
    # server: one chart would then intermittently answer 400. Saving only modified sessions
    # from here on keeps the chart requests from writing at the same time.
    settings.SESSION_SAVE_EVERY_REQUEST = False
    page.get_by_role("button", name="Run the analysis").click()

    expect(page).to_have_title(re.compile(r"^Analysis run \d+ · "))
    # The progress bar polls until the run is done, then the page reloads with the results
    # (with the eager task the run is already done when the page first shows).
    expect(page.get_by_role("progressbar", name="Progress of the analysis")).to_have_count(
        0, timeout=60_000
    )
    expect(page.locator("#table1-heading")).to_have_text("Table 1. Respondents")
    expect(page.locator("#table2-heading")).to_contain_text("Table 2. Agreement")
    expect(page.get_by_role("heading", level=1).locator(".badge")).to_have_text("Done")
    arrived()

    expect(page.locator("#response-line")).to_have_text(
        f"{HANDED_OUT} distributed · {returned} returned ({rate}%) · {analysed} analysed"
        f" · {returned - analysed} excluded"
    )
    # The results paragraph names the program after "surveyed"; the brief expected
    # "Of 12 clinicians surveyed, 11 returned the survey (92%)" (see the report).
    expect(page.locator("#summary")).to_contain_text(
        f"Of {HANDED_OUT} clinicians surveyed in {PROGRAM_NAME}, {returned} returned the survey"
        f" ({rate}%); {analysed} were analysed (one was excluded: {EXCLUDED_REASON})."
    )

    # Table 1: gender among the analysed responses.
    forms = analysed_forms()
    women = sum(f.get("gender") == "female" for f in forms)
    answered_gender = sum("gender" in f for f in forms)
    female_row = page.locator("#table1 tbody tr").filter(
        has=page.get_by_role("rowheader", name="Female", exact=True)
    )
    expect(female_row).to_have_count(1)
    expect(female_row.locator("td")).to_have_text(
        f"{women} ({whole_percent(women, answered_gender)}%)"
    )

    # Table 2: the groups written on the forms as columns, and empathy overall and by group.
    groups = sorted({f["group"] for f in forms})
    expect(page.locator("#table2 thead th")).to_have_text(["Item", "All", *groups, "p"])
    empathy = page.locator("#table2 tbody tr").filter(
        has=page.get_by_role("rowheader", name="Empathy", exact=True)
    )
    expect(empathy.locator("td")).to_have_text(
        [
            agreement(forms, "skill_empathy"),
            *[agreement([f for f in forms if f["group"] == g], "skill_empathy") for g in groups],
            re.compile(r"^(<\.001|>\.99|\.\d+)\*?†?$"),
        ]
    )
    screenshot(page, "analysis-results")

    # The charts: each <img> loaded its SVG (own CSP) and has a size.
    charts = page.locator("img.analysis-chart")
    expect(charts).to_have_count(3)
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.analysis-chart')].every(i => i.complete)"
    )
    loaded = charts.evaluate_all(
        "images => images.map(i => ({alt: i.alt, width: i.naturalWidth, height: i.naturalHeight}))"
    )
    assert all(c["width"] > 0 and c["height"] > 0 for c in loaded), loaded
    page.locator("#charts-heading").scroll_into_view_if_needed()
    screenshot(page, "analysis-charts")

    # The progress fragment of a finished run tells htmx to reload the page.
    progress = page.request.get(page.url + "progress/", headers={"HX-Request": "true"})
    assert progress.status == 200
    assert progress.headers.get("hx-refresh") == "true"

    # The run is listed as current: nothing changed since.
    page.get_by_role("link", name="All analysis runs").click()
    run_row = page.locator("#run-list tbody tr")
    expect(run_row).to_have_count(1)
    expect(run_row).to_contain_text("Done")
    expect(run_row).to_contain_text("current")
    arrived()
    page.wait_for_load_state("networkidle")

    violations = [m for m in page.console_messages if "Content Security Policy" in m]
    assert not violations, f"CSP violations on {visited}: {violations}"
    errors = [m for m in page.console_messages if m.startswith("pageerror")]
    assert not errors, errors

    # -- the database ---------------------------------------------------------------------------
    wave = Wave.objects.get(program=program, name=WAVE_NAME)
    assert wave.is_paper and wave.distributed_count == HANDED_OUT
    responses = Response.objects.filter(wave=wave)
    assert responses.count() == returned == 17
    assert list(
        responses.exclude(excluded_reason="").values_list("form_id", "excluded_reason")
    ) == [(EXCLUDED_FORM, EXCLUDED_REASON)]
    paper = responses.get(source=Response.Source.PAPER)
    assert paper.form_id == PAPER_FORM_ID and paper.answers == PAPER_ANSWERS
    assert responses.filter(source=Response.Source.IMPORT).count() == len(CSV_ROWS)
    imported = {r.form_id: r.answers for r in responses.filter(source=Response.Source.IMPORT)}
    expected = {f["form_id"]: f for f in all_forms()[1:]}
    assert imported == {
        k: {c: v for c, v in f.items() if c != "form_id"} for k, f in expected.items()
    }
    run = AnalysisRun.objects.get(wave=wave)
    assert run.status == AnalysisRun.Status.DONE and run.progress == 1.0
    assert run.results["response"]["analyzed"] == analysed
    assert set(run.results["charts"]) == {"agreement", "agreement-groups", "relevance"}
