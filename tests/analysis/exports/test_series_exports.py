"""The exports of a wave series: the paired data set (one row per linked respondent and wave,
nothing that identifies, refused below k, the R script run for real), and the report (PDF) and
workbook (XLSX) read back against the series results page."""

from __future__ import annotations

import csv
import html as html_lib
import io
import os
import re
import shutil
import subprocess
import zipfile
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from analysis.exports import services as exports
from analysis.models import ExportJob
from ccdg.models import AuditEvent
from surveys import series as survey_series
from surveys.models import Response, WaveSeries
from surveys.responses import paper_response_add
from surveys.services import builtin_instrument
from tests.factories import ClinicianFactory, UserFactory, WaveFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture(scope="session")
def rscript() -> str:
    path = shutil.which("Rscript")
    if path is None:
        if os.environ.get("CCDG_REQUIRE_SERVICES") == "1":
            pytest.fail("Rscript is missing; CCDG_REQUIRE_SERVICES=1 makes this a failure.")
        pytest.skip("Rscript is not installed")
    return path


FILES = {"README.txt", "series.csv", "codebook.csv", "load_series.R", "load_series.sps"}
PHI_TEXT = "Mrs. Jane Morrison asked again, call jane.morrison@example.com"
CLEAN_TEXT = "Quiet lanterns of the seventh floor"
LETTERS = "ABCDEFGHIJKLMN"
SCALE = ["skill_self_reflection", "skill_empathy", "addressed_isolation"]


def code(i: int) -> str:
    """A personal code of the default recipe: a letter, a birth month, a letter."""
    return f"{LETTERS[i]}{1 + i % 12:02d}{LETTERS[-1 - i]}"


def scale(i: int, later: bool) -> dict[str, str]:
    """Answers that tell the respondents (and the waves) apart."""
    return {
        "skill_self_reflection": str(1 + i % 5),
        "skill_empathy": str(min(5, 2 + i % 3 + (1 if later else 0))),
        "addressed_isolation": "1" if (i + later) % 2 else "0",
    }


def add(wave, coordinator, answers, link_code=""):
    extra = {"gender": "female", "open_unique": PHI_TEXT, "open_improve": CLEAN_TEXT}
    return paper_response_add(
        wave=wave, actor=coordinator, answers=answers | extra, link_code=link_code
    )


@pytest.fixture
def made(program, coordinator):
    """Baseline: codes 0-9, code 10 given twice, 2 forms without a code. Follow-up: codes 0-6
    again (7 linked), code 10 once (duplicated at baseline: linked nowhere), code 11 (new),
    one form without a code."""
    found = survey_series.series_create(
        program=program, actor=coordinator, name="Pre/post 2027", design=WaveSeries.Design.PRE_POST,
        instrument_slug=builtin_instrument().slug,
    )  # fmt: skip
    before = WaveFactory(program=program, name="Autumn forms")
    after = WaveFactory(program=program, name="Spring forms")
    survey_series.series_add_wave(series=found, wave=before, actor=coordinator)
    survey_series.series_add_wave(series=found, wave=after, actor=coordinator, label="One year on")
    for i in range(10):
        add(before, coordinator, scale(i, False), code(i))
    add(before, coordinator, scale(10, False), code(10))
    add(before, coordinator, scale(11, False), code(10))
    add(before, coordinator, scale(12, False))
    add(before, coordinator, scale(13, False))
    for i in range(7):
        add(after, coordinator, scale(i, True), code(i))
    add(after, coordinator, scale(10, True), code(10))
    add(after, coordinator, scale(11, True), code(11))
    add(after, coordinator, scale(12, True))
    return found


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def read_csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def export(program, actor, key, found) -> exports.ExportFile:
    job = exports.export_request(program=program, key=key, params={"series": found.slug},
                                 actor=actor)  # fmt: skip
    job = exports.export_run(job.pk)
    assert job.status == ExportJob.Status.DONE, job.error
    return exports.export_download(job=job, actor=actor)


def package(program, actor, found) -> dict[str, bytes]:
    result = export(program, actor, "series_data", found)
    assert result.filename.endswith("series-data.zip")
    return unzip(result.content)


# -- the paired data set ------------------------------------------------------------------------


def test_one_row_per_linked_respondent_and_wave_with_their_answers(program, coordinator, made):
    files = package(program, coordinator, made)
    assert set(files) == FILES
    rows = read_csv(files["series.csv"])

    assert list(rows[0])[:3] == ["respondent", "wave", "wave_label"]
    assert set(SCALE) <= set(rows[0])
    assert len(rows) == 14  # 7 linked respondents, 2 waves each
    by_respondent: dict[str, dict[str, dict]] = {}
    for row in rows:
        by_respondent.setdefault(row["respondent"], {})[row["wave"]] = row
    assert sorted(by_respondent, key=int) == [str(n) for n in range(1, 8)]
    labels = {(r["wave"], r["wave_label"]) for r in rows}
    assert labels == {("1", "Baseline"), ("2", "One year on")}
    # Each respondent's two rows carry one linked person's baseline and later answers.
    found = sorted(
        (tuple(w["1"][c] for c in SCALE), tuple(w["2"][c] for c in SCALE))
        for w in by_respondent.values()
    )
    expected = sorted(
        (tuple(scale(i, False)[c] for c in SCALE), tuple(scale(i, True)[c] for c in SCALE))
        for i in range(7)
    )
    assert found == expected


def test_the_numbering_is_stable_from_one_export_to_the_next(program, coordinator, made):
    first = package(program, coordinator, made)["series.csv"]
    second = package(program, coordinator, made)["series.csv"]
    assert first == second


def test_nothing_identifying_leaves_with_the_data_set(program, coordinator, made):
    text = "\n".join(
        content.decode("utf-8") for content in package(program, coordinator, made).values()
    )
    hashes = [h for h in Response.objects.values_list("link_hash", flat=True) if h]
    assert len(hashes) == 21
    for hashed in hashes:
        assert hashed not in text and hashed[:12] not in text
    for i in range(12):
        assert code(i) not in text
    assert "Morrison" not in text and "jane.morrison" not in text
    assert CLEAN_TEXT not in text  # no free text at all, flagged or not
    assert "open_unique" not in text and "gender" not in text and "female" not in text
    assert coordinator.username not in text
    header = read_csv(package(program, coordinator, made)["series.csv"])[0]
    assert not {"response", "link_hash", "recipient", "clinician", "submitted_at"} & set(header)


def test_the_codebook_and_readme_say_what_is_in_and_what_is_left_out(program, coordinator, made):
    files = package(program, coordinator, made)
    codebook = read_csv(files["codebook.csv"])
    empathy = [r for r in codebook if r["code"] == "skill_empathy"]
    assert [(r["value"], r["label"], r["positive"]) for r in empathy][-2:] == [
        ("4", "Agree", "1"), ("5", "Strongly agree", "1")
    ]  # fmt: skip
    assert [(r["value"], r["label"]) for r in codebook if r["code"] == "wave"] == [
        ("1", "Baseline"), ("2", "One year on")
    ]  # fmt: skip
    respondent = next(r for r in codebook if r["code"] == "respondent")
    assert "linked in two waves or more only" in respondent["text"]
    readme = files["README.txt"].decode("utf-8")
    assert "Respondents in this file: 7" in readme and "rows: 14" in readme
    assert "answered one wave only or gave no code" in readme
    assert "codes given by two responses of" in readme
    assert "2 without a code, 2 in duplicated codes" in readme  # the baseline
    assert "7 of 10 linked to the baseline" in readme


def test_fewer_linked_respondents_than_k_are_refused(program, coordinator, made):
    after = survey_series.members_of(made)[1].wave
    for response in after.responses.exclude(link_hash="").order_by("pk")[:3]:
        response.excluded_reason = "illegible"
        response.save()  # 4 of the 7 stay linked

    with pytest.raises(
        ValidationError, match="4 respondent.s. linked in two waves or more, fewer than 5"
    ):
        exports.export_request(
            program=program, key="series_data", params={"series": made.slug}, actor=coordinator
        )
    assert not ExportJob.objects.filter(kind="series_data").exists()

    program.small_cell_k = 3
    program.small_cell_k_reason = "A small pilot program, approved by the board."
    program.save()
    rows = read_csv(package(program, coordinator, made)["series.csv"])
    assert len({r["respondent"] for r in rows}) == 4


def test_a_series_that_lost_its_links_meanwhile_fails_clearly(program, coordinator, made):
    job = exports.export_request(
        program=program, key="series_data", params={"series": made.slug}, actor=coordinator
    )
    Response.objects.filter(wave=survey_series.members_of(made)[1].wave).update(
        excluded_reason="withdrawn"
    )
    job = exports.export_run(job.pk)
    assert job.status == ExportJob.Status.FAILED
    assert "0 respondent(s) linked" in job.error


def test_an_unknown_series_is_refused(program, coordinator):
    with pytest.raises(ValidationError, match="no wave series “nope”"):
        exports.export_request(
            program=program, key="series_report", params={"series": "nope"}, actor=coordinator
        )


def test_formulas_in_labels_are_guarded(program, coordinator, made):
    made.name = '=HYPERLINK("http://x")'
    made.save()
    survey_series.members_of(made)[1].__class__.objects.filter(series=made, position=1).update(
        label="@SUM(1)"
    )
    files = package(program, coordinator, made)
    cells = [
        cell
        for name in ("series.csv", "codebook.csv")
        for row in csv.reader(io.StringIO(files[name].decode("utf-8")))
        for cell in row
    ]
    assert "'@SUM(1)" in cells
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]
    book = load_workbook(io.BytesIO(export(program, coordinator, "series_workbook", made).content))
    values = [
        cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
        if cell.value is not None
    ]  # fmt: skip
    assert not [c.value for c in values if c.data_type == "f"]
    assert not [
        c.value for c in values if isinstance(c.value, str) and c.value.startswith(("=", "@"))
    ]
    assert "'@SUM(1)" in [c.value for c in values]


def test_the_r_script_loads_the_pairs_with_labels(
    program,
    coordinator,
    made,
    rscript,
    tmp_path,
):
    files = package(program, coordinator, made)
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    check = (
        'source("load_series.R", echo = FALSE)\n'
        'cat("EMPATHY", as.character(df[["skill_empathy"]]), sep = "|")\n'
        'cat("\\nWAVES", as.character(df[["wave_label"]]), sep = "|")\n'
        'cat("\\nORDERED", is.ordered(df[["skill_empathy"]]), "\\n")\n'
        'wide <- reshape(df[, names(df) != "wave_label"], idvar = "respondent",\n'
        '                timevar = "wave", direction = "wide")\n'
        'cat("WIDE", nrow(wide), "\\n")\n'
    )
    (tmp_path / "check.R").write_text(check)
    done = subprocess.run(
        [rscript, "check.R"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    columns = len(read_csv(files["series.csv"])[0])
    assert columns == 3 + 15  # respondent, wave, wave_label and the 15 scale questions
    assert f"14 rows, {columns} variables" in done.stdout
    labels = {"1": "Strongly disagree", "2": "Disagree", "3": "Neither agree nor disagree",
              "4": "Agree", "5": "Strongly agree"}  # fmt: skip
    rows = read_csv(files["series.csv"])
    line = next(x for x in done.stdout.splitlines() if x.startswith("EMPATHY"))
    assert line.removeprefix("EMPATHY|").split("|") == [labels[r["skill_empathy"]] for r in rows]
    line = next(x for x in done.stdout.splitlines() if x.startswith("WAVES"))
    assert line.removeprefix("WAVES|").split("|") == [r["wave_label"] for r in rows]
    assert "ORDERED TRUE" in done.stdout
    assert "WIDE 7" in done.stdout


def test_the_spss_syntax_reads_every_column_with_labels(program, coordinator, made):
    syntax = package(program, coordinator, made)["load_series.sps"].decode("utf-8")
    assert "/FILE='series.csv'" in syntax
    assert "respondent F8.0" in syntax and "wave F8.0" in syntax
    assert "skill_empathy F8.0" in syntax
    assert re.search(
        r"VALUE LABELS\r\n  wave\r\n    1 'Baseline'\r\n    2 'One year on'\r\n  /wave_label",
        syntax,
    )
    assert "DATASET NAME series WINDOW=FRONT." in syntax


# -- the report and the workbook ------------------------------------------------------------------


def page_cells(client, program, found) -> dict:
    """What the series results page shows: its paragraph and each item's rows (texts)."""
    html = client.get(
        reverse("series:results", kwargs={"slug": program.slug, "series": found.slug})
    ).content.decode()
    cells = [html_lib.unescape(c) for c in re.findall(r"<td[^>]*>([^<]*)</td>", html)]
    trend = [
        html_lib.unescape(t) for t in re.findall(r"<p class=\"small\" data-trend>([^<]*)</p>", html)
    ]
    paragraph = html_lib.unescape(re.search(r'<p id="series-paragraph">([^<]*)</p>', html)[1])
    return {"cells": cells, "trend": trend, "paragraph": paragraph}


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def test_the_report_prints_what_the_page_shows(coordinator_client, program, coordinator, made):
    page = page_cells(coordinator_client, program, made)
    result = export(program, coordinator, "series_report", made)
    assert result.filename.endswith("series-report.pdf")
    text = squeeze(pdf_text(result.content))

    assert any("7 pairs: shift" in c for c in page["cells"])
    for cell in page["cells"]:
        assert squeeze(cell) in text, cell
    assert squeeze(page["paragraph"]) in text
    # The linking summary: 14 baseline responses, 2 without a code, 1 duplicated code
    # (2 responses); later: 7 of the 10 linkable baseline respondents.
    assert squeeze("1 Baseline Autumn forms Anonymous 14 2 1 (2 responses) baseline") in text
    assert squeeze("7 of 10") in text
    assert "Morrison" not in text


def test_the_workbook_holds_the_page_s_texts_and_their_numbers(
    coordinator_client, program, coordinator, made
):
    page = page_cells(coordinator_client, program, made)
    result = export(program, coordinator, "series_workbook", made)
    book = load_workbook(io.BytesIO(result.content))
    assert book.sheetnames == ["Summary", "Comparisons", "Distributions"]

    rows = [list(r) for r in book["Comparisons"].iter_rows(values_only=True)]
    texts = [c for r in rows for c in r[1:5] if isinstance(c, str)]
    for cell in page["cells"]:
        assert cell in texts, cell
    header = rows[1]
    empathy = rows[next(i for i, r in enumerate(rows) if r[0] and "(skill_empathy)" in r[0]) + 1]
    number = dict(zip(header[6:], empathy[6:], strict=True))
    assert number["Pairs"] == 7 and number["Baseline n"] == 14 and number["Later n"] == 10
    assert number["Shift"] > 0 and 0 <= number["Signed-rank p"] <= 1
    assert number["Paired positive before %"] is not None
    summary = [c for r in book["Summary"].iter_rows(values_only=True) for c in r if c is not None]
    assert page["paragraph"] in summary
    assert "7 of 10" in summary and "1 (2)" in summary


def test_hidden_cells_stay_hidden_in_the_report_and_workbook(
    coordinator_client, program, coordinator, made
):
    after = survey_series.members_of(made)[1].wave
    for response in after.responses.exclude(link_hash="").order_by("pk")[:4]:
        response.excluded_reason = "illegible"
        response.save()  # 3 pairs left, fewer than k = 5

    page = page_cells(coordinator_client, program, made)
    assert "Fewer than 5 linked pairs (3)" in page["cells"]
    text = squeeze(pdf_text(export(program, coordinator, "series_report", made).content))
    assert squeeze("Fewer than 5 linked pairs (3)") in text
    assert "signed-rankp" not in text
    book = load_workbook(io.BytesIO(export(program, coordinator, "series_workbook", made).content))
    rows = [list(r) for r in book["Comparisons"].iter_rows(values_only=True)]
    header = rows[1]
    for row in rows[2:]:
        if row[3] == "Fewer than 5 linked pairs (3)":
            number = dict(zip(header[6:], row[6:], strict=True))
            assert number["Pairs"] is None and number["Shift"] is None
            assert number["McNemar exact p"] is None
            assert number["Baseline n"] == 14  # everyone's answers are still shown


@pytest.fixture
def yearly(program, coordinator):
    """Three program years, 6 forms each, agreement with empathy rising."""
    found = survey_series.series_create(
        program=program, actor=coordinator, name="Yearly", design=WaveSeries.Design.YEARLY,
        instrument_slug=builtin_instrument().slug, ask_code=False,
    )  # fmt: skip
    for year in range(3):
        wave = WaveFactory(program=program)
        survey_series.series_add_wave(series=found, wave=wave, actor=coordinator)
        for i in range(6):
            value = "4" if i < 2 * year + 1 else "2"
            paper_response_add(wave=wave, actor=coordinator, answers={"skill_empathy": value})
    return found


def test_a_yearly_series_prints_its_trend(coordinator_client, program, coordinator, yearly):
    page = page_cells(coordinator_client, program, yearly)
    assert page["trend"]
    text = squeeze(pdf_text(export(program, coordinator, "series_report", yearly).content))
    for line in page["trend"]:
        assert squeeze(line) in text
    book = load_workbook(
        io.BytesIO(export(program, coordinator, "series_workbook", yearly).content)
    )
    cells = [c for r in book["Comparisons"].iter_rows(values_only=True) for c in r]
    assert set(page["trend"]) <= set(cells)
    assert "Trend p" in cells
    distributions = [list(r) for r in book["Distributions"].iter_rows(values_only=True)]
    assert [
        "Year 1",
        None,
        6,
        "n = 6. 1: 0% · 2: 83% · 3: 0% · 4: 17% · 5: 0%",
        0,
        83,
        0,
        17,
        0,
    ] in [r[:9] for r in distributions]
    # The data set: nobody is linked in an anonymous series without codes.
    with pytest.raises(ValidationError, match="0 respondent"):
        exports.export_request(
            program=program, key="series_data", params={"series": yearly.slug}, actor=coordinator
        )


# -- who may, where from, and the audit trail -----------------------------------------------------


def test_the_series_page_offers_the_three_exports_to_exporters(
    client, coordinator, viewer, program, made
):
    address = reverse("series:results", kwargs={"slug": program.slug, "series": made.slug})
    for user in (coordinator, viewer):
        client.force_login(user)
        html = client.get(address).content.decode()
        for key in ("series_data", "series_report", "series_workbook"):
            action = reverse("reports:request", kwargs={"slug": program.slug, "key": key})
            assert f'action="{action}"' in html
        assert f'name="series" value="{made.slug}"' in html
        assert 'id="series-data-refused"' not in html


def test_the_page_says_why_the_data_set_is_refused(coordinator_client, program, yearly):
    html = coordinator_client.get(
        reverse("series:results", kwargs={"slug": program.slug, "series": yearly.slug})
    ).content.decode()
    assert 'id="export-series-data" disabled' in html
    assert "needs at least 5 respondents linked in two waves or more; this series has 0" in html


def test_exporting_from_the_page_runs_the_job_and_is_audited(
    viewer_client, viewer, program, made, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = viewer_client.post(
            reverse("reports:request", kwargs={"slug": program.slug, "key": "series_data"}),
            {"series": made.slug},
        )
    job = ExportJob.objects.get(kind="series_data")
    assert response["Location"] == reverse(
        "reports:job", kwargs={"slug": program.slug, "pk": job.pk}
    )
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE, job.error
    download = viewer_client.get(
        reverse("reports:job_download", kwargs={"slug": program.slug, "pk": job.pk})
    )
    assert set(unzip(download.content)) == FILES
    events = AuditEvent.objects.filter(actor=viewer, action__startswith="export.")
    assert {(e.action, e.data["kind"], e.data["params"]["series"]) for e in events} == {
        ("export.request", "series_data", made.slug), ("export.download", "series_data", made.slug)
    }  # fmt: skip


def test_a_participant_may_not_export_a_series(program, made):
    user = UserFactory()
    ClinicianFactory(program=program, user=user)
    for key in ("series_data", "series_report", "series_workbook"):
        with pytest.raises(PermissionDenied):
            exports.export_request(
                program=program, key=key, params={"series": made.slug}, actor=user
            )


def test_the_reports_page_offers_a_series_select(coordinator_client, program, made):
    html = coordinator_client.get(
        reverse("reports:index", kwargs={"slug": program.slug})
    ).content.decode()
    for key in ("series_data", "series_report", "series_workbook"):
        assert f'name="series" id="series-{key}"' in html
    assert f'<option value="{made.slug}">Pre/post 2027</option>' in html


def test_the_series_kinds_and_their_permissions(program, coordinator, viewer):
    kinds = {k: exports.kind_get(k) for k in ("series_data", "series_report", "series_workbook")}
    assert {k: (v.perm, v.background, v.group) for k, v in kinds.items()} == {
        "series_data": ("surveys.view", True, "Series"),
        "series_report": ("analysis.run", True, "Series"),
        "series_workbook": ("analysis.run", True, "Series"),
    }
    for user in (coordinator, viewer):
        assert set(kinds) <= {k.key for k in exports.kinds_for(user, program)}
    assert Counter(k.group for k in exports.REGISTRY.values())["Series"] == 3
