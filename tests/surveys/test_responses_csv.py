"""Importing survey responses from CSV: the preview, row-level errors, all-or-nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ccdg.models import AuditEvent
from surveys import responses_csv as rc
from surveys import waves
from surveys.models import Response, ResponseImport, Wave
from surveys.responses import answers_clean, group_labels_for, question_specs
from tests.factories import GroupFactory, ResponseFactory, WaveFactory

HEADER = (
    "gender,clinician_type,group,skill_empathy,relevance_conflict,addressed_isolation,open_unique"
)
GOOD = (
    HEADER
    + "\n"
    + "female,physician,1,5,4,1,Time to think\n"
    + "male,nurse_practitioner,2,4,,0,\n"
    + 'undisclosed,,3,3,5,,"Honest, and kind"\n'
)


def csv_bytes(text: str) -> bytes:
    return text.encode("utf-8")


@pytest.fixture
def wave(program):
    return WaveFactory(program=program, distributed_count=35)


def count(wave) -> int:
    return Response.objects.filter(wave=wave).count()


def refused(wave, coordinator, text: str | bytes) -> rc.ResponsesReport:
    """Import a bad file: it must raise, save nothing, and return the report."""
    content = text if isinstance(text, bytes) else csv_bytes(text)
    before = Response.objects.count()
    with pytest.raises(rc.ResponsesImportError) as info:
        rc.responses_import(wave=wave, actor=coordinator, content=content)
    assert Response.objects.count() == before
    assert not AuditEvent.objects.filter(action="survey.responses_import").exists()
    return info.value.report


# -- a good file ---------------------------------------------------------------------------


def test_a_good_file_imports_every_row_with_its_answers(wave, coordinator):
    report = rc.responses_import(wave=wave, actor=coordinator, content=csv_bytes(GOOD))

    assert report.ok and report.rows == 3 and report.created == 3
    rows = list(Response.objects.filter(wave=wave).order_by("id"))
    assert [r.answers for r in rows] == [
        {
            "gender": "female",
            "clinician_type": "physician",
            "group": "1",
            "skill_empathy": "5",
            "relevance_conflict": "4",
            "addressed_isolation": "1",
            "open_unique": "Time to think",
        },
        {
            "gender": "male",
            "clinician_type": "nurse_practitioner",
            "group": "2",
            "skill_empathy": "4",
            "addressed_isolation": "0",
        },
        {
            "gender": "undisclosed",
            "group": "3",
            "skill_empathy": "3",
            "relevance_conflict": "5",
            "open_unique": "Honest, and kind",
        },
    ]
    assert {r.source for r in rows} == {Response.Source.IMPORT}
    assert {r.entered_by_id for r in rows} == {coordinator.pk}
    event = AuditEvent.objects.get(action="survey.responses_import")
    assert event.data["rows"] == 3 and event.data["wave"] == wave.pk
    f = waves.figures(wave)
    assert (f.distributed, f.returned, f.analysed) == (35, 3, 3)


def test_check_previews_clean_rows_and_writes_nothing(wave):
    report = rc.responses_check(wave=wave, content=csv_bytes(GOOD))

    assert report.ok and report.rows == 3 and report.created == 0
    assert report.columns == HEADER.split(",")
    assert report.preview[1] == {
        "gender": "male",
        "clinician_type": "nurse_practitioner",
        "group": "2",
        "skill_empathy": "4",
        "relevance_conflict": "",
        "addressed_isolation": "0",
        "open_unique": "",
    }
    assert count(wave) == 0


def test_header_is_case_insensitive_and_trimmed_and_values_trimmed(wave, coordinator):
    text = " Gender , SKILL_EMPATHY,Form_ID\n  female ,  4 , A-1 \n"

    rc.responses_import(wave=wave, actor=coordinator, content=csv_bytes(text))

    response = Response.objects.get(wave=wave)
    assert response.answers == {"gender": "female", "skill_empathy": "4"}
    assert response.form_id == "A-1"


def test_a_byte_order_mark_and_windows_line_ends_are_fine(wave, coordinator):
    content = "\ufeffgender,skill_empathy\r\nfemale,4\r\nmale,5\r\n".encode()

    report = rc.responses_import(wave=wave, actor=coordinator, content=content)

    assert report.created == 2
    assert set(Response.objects.values_list("answers__gender", flat=True)) == {"female", "male"}


def test_semicolon_separated_files_are_recognised(wave, coordinator):
    report = rc.responses_import(
        wave=wave, actor=coordinator, content=csv_bytes("gender;skill_empathy\nfemale;4\n")
    )

    assert report.created == 1
    assert Response.objects.get().answers == {"gender": "female", "skill_empathy": "4"}


def test_blank_lines_are_skipped_and_line_numbers_stay_true(wave, coordinator):
    report = refused(wave, coordinator, "gender,skill_empathy\nfemale,4\n\n,,\nmale,9\n")

    assert report.rows == 2
    assert report.errors == [rc.RowError(5, "skill_empathy", report.errors[0].message)]


def test_excluded_reason_rows_count_as_returned_not_analysed(wave, coordinator):
    text = "form_id,skill_empathy,excluded_reason\n1,4,\n2,5,Damaged paper form\n3,,\n"

    report = rc.responses_import(wave=wave, actor=coordinator, content=csv_bytes(text))

    assert report.excluded == 1
    assert Response.objects.get(form_id="2").excluded_reason == "Damaged paper form"
    f = waves.figures(wave)
    assert (f.returned, f.excluded, f.analysed) == (3, 1, 2)


# -- row-level errors ----------------------------------------------------------------------


def test_unknown_value_code_names_row_column_and_allowed_codes(wave, coordinator):
    report = refused(wave, coordinator, "gender,skill_empathy\nfemale,4\nwoman,4\n")

    assert len(report.errors) == 1
    error = report.errors[0]
    assert (error.row, error.column) == (3, "gender")
    assert "“woman”" in error.message
    assert "female, male, nonbinary, undisclosed" in error.message


def test_out_of_range_value_is_refused(wave, coordinator):
    report = refused(wave, coordinator, "skill_empathy,challenge_isolation\n4,5\n")

    assert [(e.row, e.column) for e in report.errors] == [(2, "challenge_isolation")]
    assert "1, 2, 3, 4" in report.errors[0].message


def test_decimal_codes_are_refused_with_a_hint(wave, coordinator):
    report = refused(wave, coordinator, "skill_empathy\n4.0\n")

    assert report.errors[0].column == "skill_empathy"
    assert "“4”, not “4.0”" in report.errors[0].message


def test_labels_instead_of_codes_get_a_hint(wave, coordinator):
    report = refused(wave, coordinator, "gender,skill_empathy\nFemale,Agree\n")

    messages = {e.column: e.message for e in report.errors}
    assert "case-sensitive: write “female”" in messages["gender"]
    assert "value code “4”" in messages["skill_empathy"]


def test_every_problem_is_listed_not_just_the_first(wave, coordinator):
    report = refused(wave, coordinator, "gender,skill_empathy\nx,4\nfemale,0\ny,9\n")

    assert [(e.row, e.column) for e in report.errors] == [
        (2, "gender"),
        (3, "skill_empathy"),
        (4, "gender"),
        (4, "skill_empathy"),
    ]


def test_a_row_with_the_wrong_number_of_cells(wave, coordinator):
    report = refused(wave, coordinator, "gender,skill_empathy\nfemale,4,5\nmale\n")

    assert [(e.row, e.column) for e in report.errors] == [(2, ""), (3, "")]
    assert "3 cells; the header has 2" in report.errors[0].message


def test_identical_rows_without_form_id_are_duplicates(wave, coordinator):
    report = refused(wave, coordinator, "gender,skill_empathy\nfemale,4\nmale,4\nfemale , 4\n")

    assert [(e.row, e.column) for e in report.errors] == [(4, "")]
    assert "Duplicates row 2" in report.errors[0].message
    assert "form_id" in report.errors[0].message


def test_identical_answers_with_different_form_ids_are_two_forms(wave, coordinator):
    text = "form_id,gender,skill_empathy\n1,female,4\n2,female,4\n"

    assert rc.responses_import(wave=wave, actor=coordinator, content=csv_bytes(text)).created == 2


def test_a_form_id_twice_in_the_file(wave, coordinator):
    report = refused(wave, coordinator, "form_id,skill_empathy\n7,4\n8,5\n7,3\n")

    assert [(e.row, e.column) for e in report.errors] == [(4, "form_id")]
    assert "Duplicates row 2" in report.errors[0].message


def test_a_form_id_already_in_the_wave(wave, coordinator):
    ResponseFactory(wave=wave, form_id="12")
    other = WaveFactory(program=wave.program)
    ResponseFactory(wave=other, form_id="13")  # another wave's forms do not count

    report = refused(wave, coordinator, "form_id,skill_empathy\n12,4\n13,5\n")

    assert [(e.row, e.column) for e in report.errors] == [(2, "form_id")]
    assert "already entered in this wave" in report.errors[0].message


def test_group_must_be_a_group_name_in_an_online_wave(program, coordinator):
    GroupFactory(program=program, name="Tuesday")
    GroupFactory(program=program, name="Thursday")
    online = WaveFactory(program=program, source=Wave.Source.ONLINE, distributed_count=None)

    report = refused(online, coordinator, "group,skill_empathy\nTuesday,4\n1,5\n")

    assert [(e.row, e.column) for e in report.errors] == [(3, "group")]
    assert "Thursday, Tuesday" in report.errors[0].message


# -- whole-file problems -------------------------------------------------------------------


def test_unknown_columns_are_listed_with_the_known_codes(wave, coordinator):
    report = refused(wave, coordinator, "gender,age,skill_empathy,colour\nfemale,40,4,red\n")

    assert "“age”, “colour”" in report.file_error
    assert "skill_self_reflection" in report.file_error  # the known codes
    assert "form_id" in report.file_error and "excluded_reason" in report.file_error
    assert report.errors == []


def test_a_column_named_twice(wave, coordinator):
    report = refused(wave, coordinator, "gender,Gender\nfemale,male\n")

    assert "named twice" in report.file_error and "gender" in report.file_error


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"  \n\n", "The file is empty"),
        (b"gender,skill_empathy\n", "a header but no responses"),
        (b"gender,skill_empathy\n,\n\n", "a header but no responses"),
        (b"form_id\n1\n", "names no question code"),
        ("gender\nf\u00e9minin\n".encode("cp1252"), "not UTF-8 text: byte 0xE9 on line 2"),
        (b"PK\x03\x04\x00\x00binary", "not a text file"),
        (b'gender,open_unique\nfemale,"never closed\n', "cannot be read as CSV"),
    ],
)
def test_whole_file_problems(wave, coordinator, content, message):
    report = refused(wave, coordinator, content)

    assert message in report.file_error


def test_too_many_rows(wave, coordinator, settings):
    settings.SURVEY_IMPORT_MAX_ROWS = 3

    report = refused(wave, coordinator, "skill_empathy\n1\n2\n3\n4\n")

    assert "more than 3 responses" in report.file_error


def test_too_large_a_file(wave, coordinator, settings):
    settings.SURVEY_IMPORT_MAX_BYTES = 100

    report = refused(wave, coordinator, "open_unique\n" + "x" * 200 + "\n")

    assert "the limit is" in report.file_error


# -- upload and confirm --------------------------------------------------------------------


def test_upload_keeps_a_draft_with_its_preview_and_confirm_imports_it(wave, coordinator):
    draft = rc.responses_upload(
        wave=wave, actor=coordinator, filename="C:\\forms\\spring.csv", content=csv_bytes(GOOD)
    )

    assert draft.filename == "spring.csv" and draft.committed_at is None
    preview = rc.report_from_summary(draft.summary)
    assert preview.ok and preview.rows == 3 and len(preview.preview) == 3
    assert count(wave) == 0

    report = rc.responses_confirm(draft=draft, actor=coordinator)

    draft.refresh_from_db()
    assert report.created == 3 and count(wave) == 3
    assert draft.committed_at is not None and draft.content is None
    assert rc.report_from_summary(draft.summary).created == 3
    assert set(Response.objects.values_list("import_batch", flat=True)) == {draft.pk}
    with pytest.raises(ValidationError, match="already imported"):
        rc.responses_confirm(draft=draft, actor=coordinator)
    assert count(wave) == 3


def test_upload_keeps_row_errors_in_the_summary_and_confirm_refuses(wave, coordinator):
    draft = rc.responses_upload(
        wave=wave, actor=coordinator, filename="x.csv", content=b"skill_empathy\n4\n9\n"
    )

    preview = rc.report_from_summary(draft.summary)
    assert not preview.ok
    assert [(e.row, e.column) for e in preview.errors] == [(3, "skill_empathy")]
    with pytest.raises(rc.ResponsesImportError):
        rc.responses_confirm(draft=draft, actor=coordinator)
    draft.refresh_from_db()
    assert count(wave) == 0 and draft.committed_at is None and draft.content is not None


def test_confirm_refuses_forms_entered_since_the_preview(wave, coordinator):
    draft = rc.responses_upload(
        wave=wave, actor=coordinator, filename="x.csv", content=b"form_id,skill_empathy\n5,4\n"
    )
    ResponseFactory(wave=wave, form_id="5")  # typed in meanwhile

    with pytest.raises(rc.ResponsesImportError):
        rc.responses_confirm(draft=draft, actor=coordinator)

    draft.refresh_from_db()
    assert count(wave) == 1
    assert rc.report_from_summary(draft.summary).errors[0].column == "form_id"


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"gender\n\xff\xfe", "not UTF-8"), (b"\x00\x01\x02", "not a text file")],
)
def test_upload_refuses_files_that_are_not_text(wave, coordinator, content, message):
    with pytest.raises(ValidationError, match=message):
        rc.responses_upload(wave=wave, actor=coordinator, filename="x.xlsx", content=content)

    assert not ResponseImport.objects.exists()


def test_upload_refuses_files_over_the_size_limit(wave, coordinator, settings):
    settings.SURVEY_IMPORT_MAX_BYTES = 10

    with pytest.raises(ValidationError, match="the limit is"):
        rc.responses_upload(wave=wave, actor=coordinator, filename="x.csv", content=b"x" * 11)

    assert not ResponseImport.objects.exists()


def test_summary_round_trips(wave):
    report = rc.responses_check(wave=wave, content=b"skill_empathy,form_id\n4,1\n9,2\n")

    again = rc.report_from_summary(report.as_dict())

    assert again == report


# -- size ----------------------------------------------------------------------------------


def big_file(n: int) -> bytes:
    lines = ["form_id," + HEADER]
    genders = ["female", "male", "nonbinary", "undisclosed"]
    for i in range(n):
        lines.append(f"{i},{genders[i % 4]},physician,{i % 3 + 1},{i % 5 + 1},{i % 4 + 1},1,")
    return ("\n".join(lines) + "\n").encode()


def test_5000_rows_import_in_a_bounded_number_of_queries(
    wave, coordinator, django_assert_max_num_queries
):
    content = big_file(5000)
    wave = Wave.objects.select_related("instrument").get(pk=wave.pk)

    # A handful of reads, then one insert per batch of 1,000 rows (one COPY on PostgreSQL):
    # nowhere near one query per row.
    with django_assert_max_num_queries(60):
        report = rc.responses_import(wave=wave, actor=coordinator, content=content)

    assert report.created == 5000 and count(wave) == 5000
    specs = question_specs(wave.instrument)
    labels = group_labels_for(wave)
    sample = Response.objects.filter(wave=wave).order_by("?")[:50]
    for response in sample:
        assert answers_clean(specs, response.answers, group_labels=labels) == response.answers


def test_importing_a_thousand_rows_costs_the_queries_of_ten(wave, coordinator):
    wave = Wave.objects.select_related("instrument").get(pk=wave.pk)
    other = WaveFactory(program=wave.program)
    other = Wave.objects.select_related("instrument").get(pk=other.pk)

    with CaptureQueriesContext(connection) as ten:
        rc.responses_import(wave=wave, actor=coordinator, content=big_file(10))
    with CaptureQueriesContext(connection) as thousand:
        rc.responses_import(wave=other, actor=coordinator, content=big_file(1000))

    assert (count(wave), count(other)) == (10, 1000)
    assert len(thousand.captured_queries) == len(ten.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_a_form_number_taken_between_check_and_insert_saves_nothing(wave, coordinator):
    """The database's unique form number is the last guard (a form typed in by someone else
    after the import's check): the insert fails as a whole, on SQLite and with COPY."""
    ResponseFactory(wave=wave, form_id="7")
    rows = [
        rc._Row(line=2, answers={"skill_empathy": "4"}, form_id="6", excluded_reason=""),
        rc._Row(line=3, answers={"skill_empathy": "5"}, form_id="7", excluded_reason=""),
    ]

    with pytest.raises(IntegrityError), transaction.atomic():
        rc._insert(rows, wave_id=wave.pk, user_id=None, batch_id=None, now=timezone.now())

    assert list(Response.objects.filter(wave=wave).values_list("form_id", flat=True)) == ["7"]


def test_imported_rows_keep_their_answers_batch_and_author(wave, coordinator):
    draft = rc.responses_upload(
        wave=wave, actor=coordinator, filename="x.csv", content=csv_bytes(GOOD)
    )

    rc.responses_confirm(draft=draft, actor=coordinator)

    rows = Response.objects.filter(wave=wave).order_by("id")
    assert [(r.source, r.import_batch_id, r.entered_by_id, r.recipient_id) for r in rows] == [
        (Response.Source.IMPORT, draft.pk, coordinator.pk, None)
    ] * 3
    assert rows[2].answers["open_unique"] == "Honest, and kind"
    assert len({r.submitted_at for r in rows}) == 1 and rows[0].submitted_at is not None


def test_the_documented_example_imports(wave, coordinator, settings):
    doc = (settings.BASE_DIR / "docs" / "survey-responses-csv.md").read_text(encoding="utf-8")
    example = doc.split("```csv\n", 1)[1].split("```", 1)[0]

    report = rc.responses_import(wave=wave, actor=coordinator, content=csv_bytes(example))

    assert (report.created, report.excluded) == (4, 1)
    assert len(report.columns) == 25  # all 23 question codes, form_id and excluded_reason
    third = Response.objects.get(wave=wave, form_id="3").answers
    assert "clinician_type" not in third and third["years_at_institution"] == "gt10"
