"""Small cells are never shown: a group or category with fewer than k respondents (the
program's small-cell threshold, 5 by default) is never broken out of a wave's results, on the
analysis page, in the results JSON, the charts, the results paragraph, the workbook or the PDF
report; its count shows as "< 5" and its answers are not given, and one more category is
hidden where needed, so that subtracting the shown categories from the total cannot give it
back. A wave with fewer than k analysed responses shows totals only.

The wave below is anonymous and online: groups Monday (12 respondents), Tuesday (12),
Wednesday (6) and Thursday (2); one psychologist (in Monday) and one nonbinary respondent (in
Tuesday), whose answers differ from everybody else's so that they would be recognisable in any
figure.
"""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser

import pypdf
import pytest
from django.urls import reverse
from openpyxl import load_workbook

from analysis import stats
from analysis.exports import services as exports
from analysis.exports import survey as es
from analysis.models import AnalysisRun, ExportJob
from analysis.runs import disclosure
from analysis.runs import services as runs
from ccdg.models import AuditEvent
from sessions_app.models import SMALL_CELL_K_DEFAULT, Program
from surveys.models import Response, Wave
from tests.factories import GroupFactory, ResponseFactory, WaveFactory
from tests.pages import wave_page

K = 5
REASON = "Pilot year with three small groups; agreed by the program committee"

# The small categories and the ones hidden with them (complementary suppression):
# clinician type: psychologist 1 -> the next smallest, nurse (5), is hidden too;
# gender: nonbinary 1 -> female (12, the smaller of female and male) hidden too; groups:
# Thursday 2 -> Wednesday (6) hidden too.
SMALL = {"clinician_type": "psychologist", "gender": "nonbinary", "group": "Thursday"}
COMPLEMENT = {"clinician_type": "nurse", "gender": "female", "group": "Wednesday"}


def person(group: str, *, kind="physician", gender="female", empathy="4", rating="4") -> dict:
    return {
        "group": group,
        "clinician_type": kind,
        "gender": gender,
        "skill_empathy": empathy,
        "skill_self_reflection": "5",
        "relevance_communicate": rating,
        "challenge_isolation": "2",
        "addressed_isolation": "1",
    }


def small_cell_answers() -> list[dict]:
    """32 respondents: the psychologist rates 1, the nonbinary respondent 2, everyone else
    4 or 5; Thursday's two strongly disagree, everyone else but those two agrees."""
    answers = [person("Monday", kind="psychologist", rating="1", empathy="2")]
    answers += [person("Monday", rating=str(4 + i % 2)) for i in range(11)]
    answers += [person("Tuesday", gender="nonbinary", rating="2", empathy="3")]
    answers += [person("Tuesday", kind="nurse", gender="male", rating="5") for _ in range(5)]
    answers += [person("Tuesday", gender="male", rating="4") for _ in range(6)]
    answers += [person("Wednesday", gender="male") for _ in range(6)]
    answers += [person("Thursday", gender="male", empathy="1", rating="5") for _ in range(2)]
    # Physicians 26, nurses 5, one psychologist; women 12 (Monday), men 19, one nonbinary.
    return answers


def make_wave(program: Program, answers: list[dict], *, mode=Wave.Mode.ANONYMOUS) -> Wave:
    for name in ("Monday", "Tuesday", "Wednesday", "Thursday"):
        GroupFactory(program=program, name=name)
    wave = WaveFactory(
        program=program, slug="spring", name="Spring", source=Wave.Source.ONLINE, mode=mode
    )
    for a in answers:
        ResponseFactory(wave=wave, source=Response.Source.ONLINE, answers=a)
    return wave


@pytest.fixture
def wave(program) -> Wave:
    return make_wave(program, small_cell_answers())


def done(wave: Wave) -> AnalysisRun:
    run = runs.run_execute(runs.run_create(wave=wave, actor=None).pk)
    assert run.status == AnalysisRun.Status.DONE, run.error
    return run


url = wave_page("analysis")


class _Tables(HTMLParser):
    """The rows of every <table id=...> of a page, as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.table: str | None = None
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.table = dict(attrs).get("id") or ""
            self.tables[self.table] = []
        elif tag == "tr" and self.table is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[self.table].append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def row_of(rows: list[list[str]], label: str) -> list[str]:
    (found,) = [r for r in rows if r and r[0] == label]
    return found


def figures_of(results: dict):
    """Every (breakdown name, its overall n, {category: figures}) of the results JSON."""
    for row in results["table2"]:
        yield f"{row['item']} by group", row["overall"]["n"], row["by_group"]
    for row in results["relevance"]:
        for code, by in row["by"].items():
            yield f"{row['item']} by {code}", row["overall"]["n"], by["levels"]
    for row in results["stressors"]:
        for code, by in row["by"].items():
            yield f"{row['item']} by {code}", row["n"], by["levels"]
    for item in results["table1_items"]:
        levels = {r["value"]: r for r in results["table1"] if r["question"] == item["question"]}
        yield f"Table 1 {item['question']}", item["n"], levels


# -- the rule -------------------------------------------------------------------------------


def test_a_small_category_is_hidden_with_the_next_smallest_so_it_cannot_be_subtracted():
    hidden = disclosure.hidden_categories({"A": 12, "B": 12, "C": 2}, k=5)

    assert hidden == {"B": disclosure.COMPLEMENTARY, "C": disclosure.SMALL}


def test_categories_nobody_chose_print_below_k_and_need_no_complement():
    hidden = disclosure.hidden_categories({"A": 12, "B": 9, "C": 0, "D": 0}, k=5)

    assert hidden == {"C": disclosure.SMALL, "D": disclosure.SMALL}


def test_small_categories_that_together_reach_k_are_enough_unless_their_counts_are_pinned():
    # 3 + 2 = 5 hidden: each could be 1 to 4, nothing more needed.
    assert set(disclosure.hidden_categories({"A": 12, "B": 3, "C": 2}, k=5)) == {"B", "C"}
    # 4 + 4 = 8 with both printed "< 5": each must be 4, so one more is hidden.
    assert set(disclosure.hidden_categories({"A": 12, "B": 9, "C": 4, "D": 4}, k=5)) == {
        "B",
        "C",
        "D",
    }


def test_a_breakdown_smaller_than_k_is_hidden_entirely():
    hidden = disclosure.hidden_categories({"A": 3, "B": 1}, k=5)

    assert hidden == {"A": disclosure.SMALL, "B": disclosure.SMALL}


def test_the_standard_threshold_is_the_programs_default():
    assert disclosure.STANDARD_K == SMALL_CELL_K_DEFAULT == Program().small_cell_k


# -- the results JSON ---------------------------------------------------------------------------


def test_results_json_gives_no_figure_of_a_small_category_and_none_can_be_subtracted(
    coordinator_client, wave
):
    run = done(wave)

    response = coordinator_client.get(url("run_json", wave, pk=run.pk))

    results = json.loads(response.content)
    assert results["meta"]["small_cells"]["k"] == K
    empathy = next(r for r in results["table2"] if r["item"] == "skill_empathy")
    assert empathy["by_group"]["Thursday"] == {
        "n": None, "agree": None, "percent": None, "suppressed": "small",
    }  # fmt: skip
    assert empathy["by_group"]["Wednesday"]["suppressed"] == "complementary"
    assert empathy["by_group"]["Monday"] == {"n": 12, "agree": 11, "percent": 100 * 11 / 12}
    (psychologist,) = [r for r in results["table1"] if r["value"] == "psychologist"]
    assert (psychologist["n"], psychologist["suppressed"]) == (None, "small")
    checked = 0
    for name, total, levels in figures_of(results):
        hidden = {c: f for c, f in levels.items() if f.get("suppressed")}
        shown = {c: f for c, f in levels.items() if not f.get("suppressed")}
        for f in hidden.values():  # no number of a hidden category, only its label
            assert {v for key, v in f.items() if key not in ("label", "question", "text",
                    "value", "suppressed")} == {None}, name  # fmt: skip
        remainder = total - sum(f["n"] for f in shown.values())
        # What subtraction gives is the hidden categories together: none or at least k.
        assert remainder == 0 or remainder >= K, name
        code = name.rsplit(" ", 1)[-1]
        if code in SMALL and total == len(small_cell_answers()):
            assert hidden[SMALL[code]]["suppressed"] == "small", name
            assert hidden[COMPLEMENT[code]]["suppressed"] == "complementary", name
            checked += 1
    assert checked >= 7
    assert "Thursday" not in " ".join(results["notes"])


def test_tests_count_the_hidden_categories_together_never_alone(wave):
    run = done(wave)

    rel = next(r for r in run.results["relevance"] if r["item"] == "relevance_communicate")
    by_type = rel["by"]["clinician_type"]
    answers = small_cell_answers()

    def ratings(kinds):
        return sorted(
            float(a["relevance_communicate"]) for a in answers if a["clinician_type"] in kinds
        )

    expected = stats.rank_sum(ratings({"physician"}), ratings({"psychologist", "nurse"}))
    assert by_type["test"] == "rank_sum"
    assert by_type["p_value"] == expected.pvalue
    empathy = next(r for r in run.results["table2"] if r["item"] == "skill_empathy")
    # Monday and Tuesday 11 of 12 agree; Thursday and Wednesday together 6 of 8.
    assert empathy["p_value"] == stats.fisher_exact([[11, 1], [11, 1], [6, 2]]).pvalue


# -- the page, the charts, the paragraph ----------------------------------------------------------


def test_analysis_page_shows_small_categories_as_below_k_without_their_answers(
    coordinator_client, wave
):
    run = done(wave)

    page = coordinator_client.get(url("run_detail", wave, pk=run.pk))

    html = page.content.decode()
    found = tables(html)
    table1 = found["table1"]
    assert row_of(table1, "Psychologist")[1] == "< 5"
    assert row_of(table1, "Nonbinary")[1] == "< 5"
    assert row_of(table1, "Thursday")[1] == "< 5"
    assert row_of(table1, "Nurse")[1] == "hidden"
    assert row_of(table1, "Wednesday")[1] == "hidden"
    assert row_of(table1, "Monday")[1] == "12 (38%)"
    table2 = found["table2"]
    assert table2[0] == ["Item", "All", "Monday", "Thursday", "Tuesday", "Wednesday", "p"]
    empathy = row_of(table2, "Empathy")
    assert empathy[1:6] == ["28/32 (88%)", "11/12 (92%)", "< 5", "11/12 (92%)", "hidden"]
    relevance = found["relevance"]
    for label in ("Psychologist", "Nonbinary", "Thursday"):
        assert set(row_of(relevance, label)[1:]) <= {"n < 5", ""}, label
    for label in ("Nurse", "Female", "Wednesday"):
        # "< 5" in the items nobody answered (no category has anyone there)
        cells = set(row_of(relevance, label)[1:])
        assert "n hidden" in cells and cells <= {"n hidden", "n < 5", ""}, label
    # The psychologist's rating of 1 and the nonbinary respondent's 2 are nowhere.
    assert "1.00 (—)" not in html and "2.00 (—)" not in html
    assert "fewer than 5 respondents, not shown" in html


def test_charts_draw_no_small_group(wave):
    run = done(wave)
    svgs = run.results["charts"]

    by_group = svgs["agreement-groups"]
    assert "Thursday (n &lt; 5)" in by_group and "Wednesday (hidden)" in by_group
    groups = run.results["charts_data"]["groups"]
    for name in ("Thursday", "Wednesday"):
        assert not re.search(rf'id="bar-[^"]*-g{groups.index(name)}-', by_group), name
    assert re.search(rf'id="bar-[^"]*-g{groups.index("Monday")}-', by_group)
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svgs["relevance"])
    texts += re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svgs["relevance"])
    names = ("All", "Monday", "Tuesday", "Wednesday", "Thursday")
    legend = [t.strip() for t in texts if t.strip() in names]
    assert sorted(legend) == ["All", "Monday", "Tuesday"]
    assert "Thursday" in svgs["relevance"]  # named in the footnote, not drawn


def test_results_paragraph_names_a_small_group_only_with_below_k(wave):
    run = done(wave)

    text = run.results["summary"]

    assert (
        "Respondents by group: Monday, n = 12; Thursday, n < 5; Tuesday, n = 12; "
        "Wednesday, n not shown." in text
    )
    assert "Thursday:" not in text and "Wednesday:" not in text
    assert "psychologist" not in text.lower() and "nonbinary" not in text.lower()


# -- the exports ---------------------------------------------------------------------------------


def export(program, actor, key: str, **params) -> ExportJob:
    job = exports.export_request(
        program=program, key=key, params={"wave": "spring", **params}, actor=actor
    )
    job = exports.export_run(job.pk)
    assert job.status == ExportJob.Status.DONE, job.error
    return job


def test_workbook_prints_below_k_and_leaves_the_numbers_of_small_cells_blank(program, viewer, wave):
    done(wave)

    wb = load_workbook(io.BytesIO(bytes(export(program, viewer, "analysis_workbook").content)))

    t1 = [list(r) for r in wb["Table 1"].iter_rows(values_only=True)]
    assert row_of(t1, "Psychologist")[1:4] == ["< 5", None, None]
    assert row_of(t1, "Nurse")[1:4] == ["hidden", None, None]
    assert row_of(t1, "Physician")[1:4] == ["26 (81%)", 26, pytest.approx(100 * 26 / 32)]
    t2 = [list(r) for r in wb["Table 2"].iter_rows(values_only=True)]
    header = t2[1]
    empathy = next(r for r in t2 if r[0] and r[0].endswith("empathy"))
    assert empathy[header.index("Thursday n (%)")] == "< 5"
    assert empathy[header.index("Wednesday n (%)")] == "hidden"
    for name in ("Thursday", "Wednesday"):
        for what in ("n", "agree", "%"):
            assert empathy[header.index(f"{name}: {what}")] is None
    relevance = [list(r) for r in wb["Relevance"].iter_rows(values_only=True)]
    for label in ("Psychologist", "Nonbinary", "Thursday"):
        rows = [r for r in relevance if r[0] == label]
        assert rows and all(r[1] == "< 5" and set(r[2:]) == {None} for r in rows), label
    text = " ".join(str(c) for ws in wb.worksheets for r in ws.iter_rows(values_only=True)
                    for c in r if c is not None)  # fmt: skip
    assert "fewer than 5 respondents, not shown" in text


def test_pdf_report_prints_below_k_and_no_figure_of_a_small_group(program, viewer, wave):
    done(wave)

    content = bytes(export(program, viewer, "analysis_report").content)

    text = " ".join(
        " ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(content)).pages
    )
    assert "Psychologist < 5" in text and "Nonbinary < 5" in text and "Thursday < 5" in text
    assert "Nurse hidden" in text and "Female hidden" in text
    assert re.search(r"Empathy 28/32 \(88%\) 11/12 \(92%\) < 5 11/12 \(92%\) hidden", text)
    assert "/2 (" not in text  # Thursday's two answers


def test_annual_report_gives_the_paragraph_under_the_rule(program, viewer, wave):
    done(wave)

    content = bytes(
        exports.export_run(
            exports.export_request(program=program, key="annual_report", params={}, actor=viewer).pk
        ).content
    )

    text = " ".join(
        " ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(content)).pages
    )
    assert "Thursday, n < 5" in text
    assert "Thursday, n = 2" not in text


# -- totals only -----------------------------------------------------------------------------------


def test_wave_with_fewer_than_k_analysed_responses_shows_totals_only(program, coordinator_client):
    answers = [person("Monday"), person("Monday", gender="male"), person("Thursday")]
    answers += [person("Tuesday", kind="psychologist", rating="1")]
    wave = make_wave(program, answers)
    run = done(wave)

    html = coordinator_client.get(url("run_detail", wave, pk=run.pk)).content.decode()
    results = json.loads(coordinator_client.get(url("run_json", wave, pk=run.pk)).content)

    assert results["meta"]["small_cells"] == {"k": K, "totals_only": True, "reason": ""}
    assert results["table1"] == [] and results["meta"]["groups"] == []
    assert all(r["by_group"] == {} for r in results["table2"])
    assert all(r["by"] == {} for r in results["relevance"] + results["stressors"])
    empathy = next(r for r in results["table2"] if r["item"] == "skill_empathy")
    assert empathy["overall"] == {"n": 4, "agree": 4, "percent": 100.0}
    assert set(run.results["charts"]) == {"agreement", "relevance"}  # no chart by group
    assert 'id="table1"' not in html
    assert row_of(tables(html)["table2"], "Item") == ["Item", "All", "p"]
    assert "Fewer than 5 responses were analysed" in html
    for name in ("Monday", "Tuesday", "Wednesday", "Thursday", "Psychologist"):
        assert name not in html, name


# -- the threshold, its reason, its audit ---------------------------------------------------


def settings_form(program: Program, **changes) -> dict:
    data = {
        "name": program.name,
        "department": program.department,
        "institution": program.institution,
        "academic_year": program.academic_year,
        "timezone": program.timezone,
        "eligible_clinicians": program.eligible_clinicians,
        "sessions_per_year_min": program.sessions_per_year_min,
        "sessions_per_year_max": program.sessions_per_year_max,
        "format": program.format,
        "small_cell_k": program.small_cell_k,
        "small_cell_k_reason": program.small_cell_k_reason,
    }
    return data | changes


def test_lowering_k_without_a_reason_is_refused_and_keeps_what_was_typed(
    coordinator_client, program
):
    edit = reverse("sessions_app:program_edit", kwargs={"slug": program.slug})
    name = program.name

    page = coordinator_client.post(edit, settings_form(program, small_cell_k=3, name="Renamed"))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Give the reason for lowering the small-cell threshold below 5 (to 3)" in html
    assert re.search(r'name="small_cell_k"[^>]*value="3"', html)
    assert 'value="Renamed"' in html
    program.refresh_from_db()
    assert (program.small_cell_k, program.name) == (5, name)
    assert not AuditEvent.objects.filter(action="program.small_cell_k").exists()


def test_lowering_k_with_a_reason_is_audited_and_shown_with_the_figures(
    coordinator_client, coordinator, program, wave
):
    edit = reverse("sessions_app:program_edit", kwargs={"slug": program.slug})

    response = coordinator_client.post(
        edit, settings_form(program, small_cell_k=3, small_cell_k_reason=REASON)
    )

    assert response.status_code == 302
    program.refresh_from_db()
    assert (program.small_cell_k, program.small_cell_k_reason) == (3, REASON)
    event = AuditEvent.objects.get(action="program.small_cell_k")
    assert event.actor == coordinator and event.program_id == program.pk
    assert event.data == {"old": 5, "new": 3, "old_reason": "", "reason": REASON}
    run = done(wave)
    notice = f"Small-cell threshold lowered to k=3: {REASON}"
    page = coordinator_client.get(url("run_detail", wave, pk=run.pk)).content.decode()
    assert notice in page
    assert notice in coordinator_client.get(url("run_list", wave)).content.decode()
    # Under k = 3 the Thursday group of 2 is still hidden.
    assert row_of(tables(page)["table1"], "Thursday")[1] == "< 3"


def test_raising_k_back_clears_the_reason_and_is_audited(coordinator_client, program):
    program.small_cell_k, program.small_cell_k_reason = 3, REASON
    program.save()
    edit = reverse("sessions_app:program_edit", kwargs={"slug": program.slug})

    coordinator_client.post(edit, settings_form(program, small_cell_k=5))

    program.refresh_from_db()
    assert (program.small_cell_k, program.small_cell_k_reason) == (5, "")
    event = AuditEvent.objects.get(action="program.small_cell_k")
    assert event.data == {"old": 3, "new": 5, "old_reason": REASON, "reason": ""}


def test_run_made_with_a_lower_k_than_todays_shows_totals_only(coordinator_client, program, wave):
    program.small_cell_k, program.small_cell_k_reason = 2, REASON
    program.save()
    run = done(wave)
    assert run.results["table2"][0]["by_group"]["Thursday"]["n"] == 2
    program.small_cell_k, program.small_cell_k_reason = 5, ""
    program.save()

    html = coordinator_client.get(url("run_detail", wave, pk=run.pk)).content.decode()
    results = json.loads(coordinator_client.get(url("run_json", wave, pk=run.pk)).content)
    chart = coordinator_client.get(url("run_chart", wave, pk=run.pk, name="agreement-groups"))

    assert "Run the analysis again to see the breakdowns under the current rule." in html
    assert 'id="table1"' not in html and "Thursday" not in html
    assert results["table1"] == [] and all(r["by_group"] == {} for r in results["table2"])
    assert "Thursday" not in json.dumps(results)
    assert chart.status_code == 404


def test_run_made_before_small_cells_were_protected_shows_totals_only(coordinator_client, wave):
    run = done(wave)
    old = dict(run.results)
    old["meta"] = {k: v for k, v in old["meta"].items() if k != "small_cells"}
    AnalysisRun.objects.filter(pk=run.pk).update(results=old)

    html = coordinator_client.get(url("run_detail", wave, pk=run.pk)).content.decode()

    assert "made before small cells were protected" in html
    assert 'id="table1"' not in html and "Thursday" not in html


def test_confidential_waves_follow_the_same_rule(program, coordinator_client):
    wave = make_wave(program, small_cell_answers(), mode=Wave.Mode.CONFIDENTIAL)
    run = done(wave)

    empathy = next(r for r in run.results["table2"] if r["item"] == "skill_empathy")

    assert empathy["by_group"]["Thursday"]["suppressed"] == "small"
    assert empathy["by_group"]["Wednesday"]["suppressed"] == "complementary"


def test_research_export_takes_the_programs_threshold_as_its_default(program, wave):
    program.small_cell_k, program.small_cell_k_reason = 3, REASON
    program.save()

    params = es.clean_responses_params(program, {"wave": "spring", "suppress_small_cells": "1"})

    assert params["min_cell"] == 3
    chosen = es.clean_responses_params(program, {"wave": "spring", "min_cell": "8"})
    assert chosen["min_cell"] == 8
