"""Survey exports: the de-identified responses package (CSV, codebook, R script run for real,
SPSS syntax, small-cell protection, withheld free text) and the analysis workbook read back
with openpyxl against the run's results."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from openpyxl import load_workbook

from analysis.exports import services as exports
from analysis.exports import survey as es
from analysis.models import AnalysisRun, ExportJob
from analysis.runs import services as runs
from ccdg.models import AuditEvent
from surveys import waves
from surveys.models import Response, Wave
from surveys.services import codebook as instrument_codebook
from tests.factories import (
    CaseNoteFactory,
    GroupFactory,
    GroupMembershipFactory,
    ResponseFactory,
    UserFactory,
    WaveFactory,
)

FILES = {"README.txt", "responses.csv", "codebook.csv", "load_responses.R", "load_responses.sps"}
DEMOGRAPHICS = [
    "gender",
    "clinician_type",
    "years_at_institution",
    "patient_care_halfdays",
    "group",
]
PHI_TEXT = "Mrs. Jane Morrison asked again, call jane.morrison@example.com"
CLEAN_TEXT = "A protected hour to think, together."
CASE_NOTE = "The quiet orchard patient keeps bringing violet paper cranes."


def answers(
    gender="female", kind="physician", years="lt5", halfdays="ge7", group="1", skill="4", **more
) -> dict:
    out = {
        "gender": gender,
        "clinician_type": kind,
        "years_at_institution": years,
        "patient_care_halfdays": halfdays,
        "group": group,
        "skill_self_reflection": skill,
        "skill_empathy": "5",
        "skill_tolerate_uncertainty": "3",
        "relevance_communicate": "4",
        "challenge_isolation": "3",
        "addressed_isolation": "1",
    }
    out.update(more)
    return {k: v for k, v in out.items() if v is not None}


@pytest.fixture
def wave(program):
    """A paper wave: 20 forms, 8 returned (one excluded), one with an identifier in free text."""
    wave = WaveFactory(program=program, distributed_count=20, name="Spring 2027", slug="spring")
    rows = [
        answers(open_unique=CLEAN_TEXT),
        answers(gender="male", skill="2", open_unique=PHI_TEXT),
        answers(group="2", skill="5", open_improve="=1+2 more time to talk"),
        answers(group="2", skill="1", gender="male", years="gt10"),
        answers(group="2", skill="4", kind="nurse", halfdays="le6"),
        answers(group="1", skill="5", years="5to10"),
        answers(group="1", skill="3", gender="undisclosed", kind=None),
    ]
    for i, a in enumerate(rows, start=1):
        ResponseFactory(wave=wave, answers=a, form_id=f"F-{i:03d}")
    ResponseFactory(wave=wave, answers=answers(), excluded_reason="damaged form", form_id="F-099")
    return wave


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def read_csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def package(program, actor, **params) -> dict[str, bytes]:
    params.setdefault("wave", "spring")
    result = exports.export_now(program=program, key="survey_responses", params=params, actor=actor)
    assert result.filename.endswith(".zip")
    assert result.content_type == "application/zip"
    return unzip(result.content)


def combos(rows: list[dict]) -> Counter:
    return Counter(tuple(r[c] for c in DEMOGRAPHICS) for r in rows)


# -- registration and parameters -----------------------------------------------------------------


def test_kinds_are_registered_with_their_groups_and_permissions(program, coordinator, viewer):
    responses = exports.kind_get("survey_responses")
    workbook = exports.kind_get("analysis_workbook")
    assert (responses.group, responses.perm, responses.background) == (
        "Survey",
        "surveys.view",
        True,
    )
    assert (workbook.group, workbook.perm, workbook.background) == (
        "Analysis",
        "analysis.run",
        True,
    )
    for user in (coordinator, viewer):
        keys = {k.key for k in exports.kinds_for(user, program)}
        assert {"survey_responses", "analysis_workbook"} <= keys


def test_a_participant_may_not_export_responses(program, wave):
    participant = UserFactory()
    with pytest.raises(PermissionDenied):
        exports.export_now(
            program=program, key="survey_responses", params={"wave": "spring"}, actor=participant
        )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Choose the survey wave"),
        ({"wave": "autumn"}, "no survey wave “autumn”"),
        ({"wave": "spring", "min_cell": "five"}, "whole number"),
        ({"wave": "spring", "min_cell": 1}, "between 2 and 50"),
        ({"wave": "spring", "suppress_small_cells": "maybe"}, "yes or no"),
    ],
)
def test_bad_parameters_are_refused_clearly(program, coordinator, wave, params, message):
    with pytest.raises(ValidationError) as caught:
        exports.export_now(
            program=program, key="survey_responses", params=params, actor=coordinator
        )
    assert message in " ".join(caught.value.messages)


def test_a_wave_of_another_program_is_unknown(program, coordinator):
    WaveFactory(slug="elsewhere")
    with pytest.raises(ValidationError, match="no survey wave"):
        es.clean_responses_params(program, {"wave": "elsewhere"})


# -- the responses package -------------------------------------------------------------------------


def test_package_holds_every_returned_response_as_value_codes(program, coordinator, wave):
    files = package(program, coordinator)
    assert set(files) == FILES
    rows = read_csv(files["responses.csv"])
    codes = [q["code"] for q in instrument_codebook(wave.instrument)]
    header = next(csv.reader(io.StringIO(files["responses.csv"].decode())))
    assert header == ["response", *codes, "excluded_reason", "pilot"]
    assert len(rows) == 8
    assert [r["response"] for r in rows] == [str(n) for n in range(1, 9)]
    assert {r["pilot"] for r in rows} == {"0"}
    assert sorted(r["excluded_reason"] for r in rows) == [""] * 7 + ["damaged form"]
    # The same answers as stored, response for response (the order is scrambled).
    stored = Counter(
        (a.get("gender", ""), a.get("skill_self_reflection", ""), a.get("group", ""))
        for a in Response.objects.filter(wave=wave).values_list("answers", flat=True)
    )
    assert Counter((r["gender"], r["skill_self_reflection"], r["group"]) for r in rows) == stored
    # Every choice answer is a value of the codebook.
    book = read_csv(files["codebook.csv"])
    values = {(b["code"], b["value"]) for b in book}
    free = {b["code"] for b in book if b["type"] == "free_text"}
    for row in rows:
        for code in codes:
            if row[code] and code not in free:
                assert (code, row[code]) in values


def test_codebook_lists_every_value_with_label_and_positive(program, coordinator, wave):
    book = read_csv(package(program, coordinator)["codebook.csv"])
    assert list(book[0]) == ["code", "section", "text", "type", "value", "label", "positive"]
    by = {(b["code"], b["value"]): b for b in book}
    assert by[("skill_empathy", "5")]["label"] == "Strongly agree"
    assert by[("skill_empathy", "5")]["positive"] == "1"
    assert by[("skill_empathy", "3")]["positive"] == "0"
    assert by[("addressed_isolation", "1")]["label"] == "Yes"
    assert by[("gender", "undisclosed")]["label"] == "Prefer not to say"
    # Free text: one row, no value; the paper wave's group labels as found on the forms.
    assert by[("open_unique", "")]["type"] == "free_text"
    assert [b["value"] for b in book if b["code"] == "group"] == ["1", "2"]
    assert {b["code"] for b in book} == {q["code"] for q in instrument_codebook(wave.instrument)}


def test_nothing_identifying_leaves_with_the_package(program, coordinator, wave):
    CaseNoteFactory(difficulty=CASE_NOTE, wish=CASE_NOTE)
    wave.mode = Wave.Mode.CONFIDENTIAL
    wave.save(update_fields=["mode"])
    files = package(program, coordinator)
    text = "\n".join(content.decode("utf-8") for content in files.values())
    assert CASE_NOTE not in text
    assert "Morrison" not in text and "@example.com" not in text
    assert "F-001" not in text  # form numbers
    submitted = Response.objects.filter(wave=wave).first().submitted_at
    assert submitted.date().isoformat() not in files["responses.csv"].decode()
    db_ids = {str(pk) for pk in Response.objects.filter(wave=wave).values_list("pk", flat=True)}
    rows = read_csv(files["responses.csv"])
    assert [r["response"] for r in rows] == [str(n) for n in range(1, 9)]
    opens = {r["open_unique"] for r in rows}
    assert opens == {"", CLEAN_TEXT, es.WITHHELD}
    assert "1 answer(s) withheld" in files["README.txt"].decode()
    assert db_ids  # the numbering is the file's own, whatever the database ids are


def test_formulas_in_free_text_are_neutralised(program, coordinator, wave):
    rows = read_csv(package(program, coordinator)["responses.csv"])
    improve = [r["open_improve"] for r in rows if r["open_improve"]]
    assert improve == ["'=1+2 more time to talk"]


def test_readme_states_the_wave_and_response_line(program, coordinator, wave):
    readme = package(program, coordinator)["README.txt"].decode()
    assert "Spring 2027" in readme
    assert "distributed 20, returned 8 (response rate 40%), excluded 1, analysed 7" in readme
    assert "de-identified" in readme
    assert "Small-cell protection\r\n  Not applied" in readme


def test_an_online_confidential_wave_exports_no_link_to_people(program, coordinator):
    group = GroupFactory(program=program, name="Tuesday group")
    members = [GroupMembershipFactory(group=group) for _ in range(2)]
    wave = waves.wave_open(
        program=program, actor=coordinator, name="Online", slug="online",
        closes_at=timezone.now() + timedelta(days=14), audience=Wave.Audience.ALL_ACTIVE,
        mode=Wave.Mode.CONFIDENTIAL,
    )  # fmt: skip
    recipient = wave.recipients.order_by("pk").first()
    waves.response_submit(
        recipient=recipient, answers={"group": "Tuesday group", "skill_empathy": "4"}
    )
    files = package(program, coordinator, wave="online")
    text = "\n".join(content.decode("utf-8") for content in files.values())
    for m in members:
        assert m.clinician.email not in text
        assert m.clinician.last_name not in text
    rows = read_csv(files["responses.csv"])
    assert len(rows) == 1 and rows[0]["group"] == "Tuesday group"
    assert "distributed 2, returned 1" in files["README.txt"].decode()
    book = read_csv(files["codebook.csv"])
    assert [b["value"] for b in book if b["code"] == "group"] == ["Tuesday group"]


def test_a_wave_without_responses_still_documents_the_format(program, coordinator):
    WaveFactory(program=program, slug="spring", distributed_count=12)
    files = package(program, coordinator)
    assert set(files) == FILES
    lines = files["responses.csv"].decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("response,gender,")
    assert "no responses were returned" in files["README.txt"].decode().lower()
    assert len(read_csv(files["codebook.csv"])) > 23


def test_a_pilot_wave_is_marked_in_every_row(program, coordinator, wave):
    wave.is_pilot = True
    wave.save(update_fields=["is_pilot"])
    rows = read_csv(package(program, coordinator)["responses.csv"])
    assert {r["pilot"] for r in rows} == {"1"}


# -- small cells -----------------------------------------------------------------------------------


@pytest.fixture
def mixed_wave(program):
    """30 responses: two large demographic combinations and a few rare ones."""
    wave = WaveFactory(program=program, slug="spring", distributed_count=40)
    specs = (
        [answers()] * 12
        + [answers(gender="male", group="2")] * 9
        + [answers(gender="male", group="1")] * 3
        + [answers(kind="psychologist", years="gt10")] * 2
        + [answers(gender="nonbinary", kind="pharmacist", group="3", halfdays="le6")]
        + [answers(years="5to10"), answers(group="2"), answers(gender=None, kind=None)]
    )
    for a in specs:
        ResponseFactory(wave=wave, answers=a)
    return wave


def test_small_cell_protection_leaves_no_combination_under_the_threshold(
    program, coordinator, mixed_wave
):
    plain = read_csv(package(program, coordinator)["responses.csv"])
    files = package(program, coordinator, suppress_small_cells=True)
    rows = read_csv(files["responses.csv"])
    assert any(n < 5 for combo, n in combos(plain).items() if any(combo))
    assert all(n >= 5 for combo, n in combos(rows).items() if any(combo))
    # Same rows in the same order; demographic cells only ever blanked; other columns intact.
    blanked = 0
    for before, after in zip(plain, rows, strict=True):
        for code in before:
            if code in DEMOGRAPHICS and before[code] != after[code]:
                assert after[code] == ""
                blanked += 1
            elif code not in DEMOGRAPHICS:
                assert before[code] == after[code]
    assert blanked > 0
    readme = files["README.txt"].decode()
    assert "Applied, minimum cell size 5" in readme
    assert f"Cells suppressed: {blanked} " in readme
    # The large combinations survive untouched.
    assert combos(rows)[("female", "physician", "lt5", "ge7", "1")] >= 12


def test_small_cell_protection_is_deterministic_and_takes_a_threshold(
    program, coordinator, mixed_wave
):
    first = package(program, coordinator, suppress_small_cells="1", min_cell=3)
    again = package(program, coordinator, suppress_small_cells="1", min_cell=3)
    assert first["responses.csv"] == again["responses.csv"]
    rows = read_csv(first["responses.csv"])
    assert all(n >= 3 for combo, n in combos(rows).items() if any(combo))
    assert "minimum cell size 3" in first["README.txt"].decode()


def test_suppression_blanks_the_rarest_value_first():
    rows = [{"a": "x", "b": ""} for _ in range(5)] + [{"a": "x", "b": "r"}]
    assert es.suppress_small_cells(rows, ["a", "b"], 5) == (1, 1)
    assert rows[-1] == {"a": "x", "b": ""}  # "r" (1 row) is rarer than "x" (6 rows)


def test_suppression_breaks_ties_on_the_later_question_and_may_blank_a_row_entirely():
    rows = [{"a": "x", "b": ""} for _ in range(5)] + [{"a": "y", "b": "q"} for _ in range(5)]
    rows.append({"a": "x", "b": "q"})  # x and q are as common: b, the later, goes first
    rows.append({"a": "z", "b": ""})  # alone, whatever is blanked
    assert es.suppress_small_cells(rows, ["a", "b"], 5) == (2, 2)
    assert rows[-2] == {"a": "x", "b": ""}
    assert rows[-1] == {"a": "", "b": ""}
    counts = Counter((r["a"], r["b"]) for r in rows)
    assert all(n >= 5 for combo, n in counts.items() if any(combo))


# -- the R script and SPSS syntax ----------------------------------------------------------------


@pytest.fixture(scope="session")
def rscript() -> str:
    path = shutil.which("Rscript")
    if path is None:
        if os.environ.get("CCDG_REQUIRE_SERVICES") == "1":
            pytest.fail("Rscript is missing; CCDG_REQUIRE_SERVICES=1 makes this a failure.")
        pytest.skip("Rscript is not installed")
    return path


def run_r(rscript: str, files: dict[str, bytes], folder) -> str:
    for name, content in files.items():
        (folder / name).write_bytes(content)
    done = subprocess.run(
        [rscript, "load_responses.R"], cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_r_script_loads_the_responses_with_labels(
    program, coordinator, wave, rscript, tmp_path
):
    out = run_r(rscript, package(program, coordinator), tmp_path)
    assert "8 responses, 26 variables" in out
    assert "Strongly agree" in out and "Prefer not to say" in out
    assert "Ord.factor" in out  # agreement items are ordered factors
    # skill_self_reflection as tabulated by R: one "Disagree", two "Agree", ...
    assert re.search(r"skill_self_reflection: Participating in the group fostered", out)


def test_the_r_script_reads_values_and_labels_faithfully(
    program, coordinator, wave, rscript, tmp_path
):
    files = package(program, coordinator)
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    check = (
        'source("load_responses.R", echo = FALSE)\n'
        'cat("CHECK", as.character(df[["skill_self_reflection"]]), sep = "|")\n'
        'cat("\\nLABEL", attr(df[["skill_empathy"]], "label"), "\\n")\n'
        'cat("ORDERED", is.ordered(df[["challenge_isolation"]]), "\\n")\n'
        'cat("TEXT", class(df[["open_unique"]]), "\\n")\n'
    )
    (tmp_path / "check.R").write_text(check)
    done = subprocess.run(
        [rscript, "check.R"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    labels = {"1": "Strongly disagree", "2": "Disagree", "3": "Neither agree nor disagree",
              "4": "Agree", "5": "Strongly agree"}  # fmt: skip
    expected = [labels[r["skill_self_reflection"]] for r in read_csv(files["responses.csv"])]
    line = next(x for x in done.stdout.splitlines() if x.startswith("CHECK"))
    assert line.removeprefix("CHECK|").split("|") == expected
    assert "LABEL Participating in the group fostered: empathy" in done.stdout
    assert "ORDERED TRUE" in done.stdout
    assert "TEXT character" in done.stdout


def test_the_r_script_runs_on_an_empty_wave(program, coordinator, rscript, tmp_path):
    WaveFactory(program=program, slug="spring")
    out = run_r(rscript, package(program, coordinator), tmp_path)
    assert "0 responses, 26 variables" in out


def spss_commands(syntax: str) -> list[str]:
    """Commands: a line starting in column 1 begins one; indented lines continue it."""
    commands: list[list[str]] = []
    for line in syntax.splitlines():
        if not line.strip():
            continue
        if line[0] != " ":
            commands.append([line])
        else:
            commands[-1].append(line)
    return ["\n".join(c) for c in commands]


def test_the_spss_syntax_names_every_variable_and_value_label(program, coordinator, wave):
    files = package(program, coordinator)
    syntax = files["load_responses.sps"].decode("utf-8")
    commands = spss_commands(syntax)
    for command in commands:
        assert command.rstrip().endswith("."), command
        # No line inside a command ends it early.
        for line in command.splitlines()[:-1]:
            assert not line.rstrip().endswith("."), line
    get_data = next(c for c in commands if c.startswith("GET DATA"))
    values = next(c for c in commands if c.startswith("VALUE LABELS"))
    level = next(c for c in commands if c.startswith("VARIABLE LEVEL"))
    labels = next(c for c in commands if c.startswith("VARIABLE LABELS"))
    header = next(csv.reader(io.StringIO(files["responses.csv"].decode())))
    for code in header:
        assert re.search(rf"^    {code} (F\d+\.0|A\d+)\.?$", get_data, re.M), code
        assert re.search(rf"^  /?{code} '", labels, re.M), code
    for row in read_csv(files["codebook.csv"]):
        if row["value"]:
            label = row["label"].replace("'", "''")
            assert f"'{label}'" in values, row
    assert "/skill_empathy\n    1 'Strongly disagree'" in values
    assert "  gender\n    'female' 'Female'" in values
    assert re.search(r"skill_empathy.* \(ORDINAL\)", level)
    assert re.search(r"addressed_isolation.* \(NOMINAL\)", level)
    assert "/FIRSTCASE=2" in get_data and "/ENCODING='UTF8'" in get_data


def test_spss_names_are_valid_and_unique():
    names = es.spss_names(["skill-empathy", "2nd", "with", "skill_empathy"])
    assert names == {
        "skill-empathy": "skill_empathy",
        "2nd": "v_2nd",
        "with": "v_with",
        "skill_empathy": "skill_empathy_2",
    }


# -- through the background job ------------------------------------------------------------------


def test_background_export_of_responses(program, viewer, wave):
    job = exports.export_request(
        program=program, key="survey_responses",
        params={"wave": "spring", "suppress_small_cells": True}, actor=viewer,
    )  # fmt: skip
    assert job.params == {"wave": "spring", "suppress_small_cells": True, "min_cell": 5}
    job = exports.export_run(job.pk)
    assert job.status == ExportJob.Status.DONE, job.error
    download = exports.export_download(job=job, actor=viewer)
    assert set(unzip(download.content)) == FILES
    actions = list(AuditEvent.objects.filter(actor=viewer).values_list("action", flat=True))
    assert "export.request" in actions and "export.download" in actions


def test_background_export_of_a_wave_removed_meanwhile_fails_clearly(program, coordinator):
    wave = WaveFactory(program=program, slug="spring")
    job = exports.export_request(
        program=program, key="survey_responses", params={"wave": "spring"}, actor=coordinator
    )
    wave.delete()
    job = exports.export_run(job.pk)
    assert job.status == ExportJob.Status.FAILED
    assert "no survey wave" in job.error


# -- the analysis workbook -------------------------------------------------------------------------


def analyse(wave) -> AnalysisRun:
    run = runs.run_create(wave=wave, actor=None)
    run = runs.run_execute(run.pk)
    assert run.status == AnalysisRun.Status.DONE, run.error
    return run


def workbook(program, actor, **params):
    params.setdefault("wave", "spring")
    job = exports.export_request(
        program=program, key="analysis_workbook", params=params, actor=actor
    )
    job = exports.export_run(job.pk)
    assert job.status == ExportJob.Status.DONE, job.error
    assert job.filename.endswith(".xlsx")
    return load_workbook(io.BytesIO(bytes(job.content)))


def sheet_rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_workbook_tables_equal_the_run_results(program, coordinator, wave):
    # Six more forms, so that both groups and the women reach the small-cell threshold (5)
    # and their figures are printed.
    for group, gender in [("1", "female")] * 3 + [("2", "male")] * 3:
        ResponseFactory(wave=wave, answers=answers(group=group, gender=gender))
    run = analyse(wave)
    results = run.results
    wb = workbook(program, coordinator)
    assert wb.sheetnames == ["Summary", "Table 1", "Table 2", "Relevance", "Stressors", "Notes"]

    t1 = sheet_rows(wb["Table 1"])
    assert t1[1][:4] == ["Characteristic", "n (%)", "n", "%"]
    female = next(
        r for r in results["table1"] if r["question"] == "gender" and r["value"] == "female"
    )
    row = next(r for r in t1 if r[0] == "Female")
    assert row[2] == female["n"] and row[3] == pytest.approx(female["percent"])
    assert row[1] == f"{female['n']} ({round(female['percent'])}%)"
    assert any(r[0] and r[0].startswith("Gender") for r in t1)

    t2 = sheet_rows(wb["Table 2"])
    groups = results["meta"]["groups"]
    assert t2[1][: 3 + len(groups)] == [
        "Item", "Overall agree n (%)", *(f"Group {g} n (%)" for g in groups), "p",
    ]  # fmt: skip
    item = next(r for r in results["table2"] if r["item"] == "skill_self_reflection")
    row = next(r for r in t2 if r[0] == item["text"])
    overall = item["overall"]
    assert row[1] == f"{overall['agree']} ({round(overall['percent'])}%)"
    p_col = 2 + len(groups)
    assert row[p_col] == es.p_cell(item["p_value"]) + ("*" if item["significant"] else "")
    numbers = row[p_col + 2 :]
    assert numbers[:3] == [overall["n"], overall["agree"], pytest.approx(overall["percent"])]
    assert numbers[-1] == pytest.approx(item["p_value"])
    assert any(r[0] and "Fisher's exact test" in r[0] for r in t2)

    summary = sheet_rows(wb["Summary"])
    flat = [c for r in summary for c in r if c is not None]
    assert run.inputs_fingerprint in flat and run.code_version in flat
    assert results["summary"] in flat
    assert ["Returned", 14] in [r[:2] for r in summary]
    assert ["Analysed", 13] in [r[:2] for r in summary]

    relevance = sheet_rows(wb["Relevance"])
    rel = results["relevance"][0]
    overall_row = next(
        r
        for i, r in enumerate(relevance)
        if r[0] == "Overall" and relevance[i - 1][0] == rel["text"]
    )
    assert overall_row[1] == rel["overall"]["n"]
    assert overall_row[3] == pytest.approx(rel["overall"]["mean"])

    stressors = sheet_rows(wb["Stressors"])
    st = results["stressors"][0]
    row = next(r for r in stressors if r[0] == st["text"])
    assert row[3:5] == [st["n"], st["positive"]]


def test_workbook_p_values_are_printed_as_journals_do():
    assert es.p_cell(0.0004) == "<.001"
    assert es.p_cell(0.04512516469038188) == ".045"
    assert es.p_cell(0.5) == ".50"
    assert es.p_cell(0.999) == ">.99"
    assert es.p_cell(None) == "–"


def test_workbook_uses_the_chosen_run(program, coordinator, wave):
    first = analyse(wave)
    ResponseFactory(wave=wave, answers=answers())
    analyse(wave)
    wb = workbook(program, coordinator, run=str(first.pk))
    summary = sheet_rows(wb["Summary"])
    assert ["Run", first.pk] in [r[:2] for r in summary]
    assert ["Returned", 8] in [r[:2] for r in summary]
    latest = sheet_rows(workbook(program, coordinator)["Summary"])
    assert ["Returned", 9] in [r[:2] for r in latest]


def test_workbook_refuses_a_run_that_is_not_finished_or_not_of_the_wave(program, wave):
    queued = runs.run_create(wave=wave, actor=None)
    other = analyse(WaveFactory(program=program, slug="other"))
    with pytest.raises(ValidationError, match="not finished"):
        es.clean_workbook_params(program, {"wave": "spring", "run": queued.pk})
    with pytest.raises(ValidationError, match="has no analysis run"):
        es.clean_workbook_params(program, {"wave": "spring", "run": other.pk})
    with pytest.raises(ValidationError, match="must be a number"):
        es.clean_workbook_params(program, {"wave": "spring", "run": "latest"})


def test_workbook_without_a_run_says_so_and_how_to_run_one(program, coordinator, wave):
    wb = workbook(program, coordinator)
    assert wb.sheetnames == ["Summary"]
    text = " ".join(str(c) for r in sheet_rows(wb["Summary"]) for c in r if c is not None)
    assert "No analysis has been run for this wave yet." in text
    assert "run_analysis" in text and "Run the analysis" in text


def test_workbook_of_a_wave_without_responses_explains(program, coordinator):
    wave = WaveFactory(program=program, slug="spring", distributed_count=5)
    analyse(wave)
    wb = workbook(program, coordinator)
    t2 = sheet_rows(wb["Table 2"])
    assert any(r[0] == "No agreement items were analysed." for r in t2)
    notes = [r[0] for r in sheet_rows(wb["Notes"])]
    assert "No analysable responses: nothing to analyse." in notes


def test_workbook_withholds_an_identifying_exclusion_reason(program, coordinator, wave):
    Response.objects.filter(wave=wave).exclude(excluded_reason="").update(
        excluded_reason="Patient Jane Morrison's chart was attached"
    )
    analyse(wave)
    wb = workbook(program, coordinator)
    text = " ".join(
        str(c) for ws in wb.worksheets for r in sheet_rows(ws) for c in r if c is not None
    )
    assert "Morrison" not in text
    assert es.WITHHELD in text
