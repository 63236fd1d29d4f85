"""A roster file that cannot be imported is refused with a message, never a server error.

Pages render with undefined template variables raising, so a page that only works by accident
(a missing value rendered as "") fails here. The NUL-byte cases matter most on PostgreSQL,
which refuses NUL in text columns (CI runs this file on both databases).
"""

from __future__ import annotations

import copy
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sessions_app.models import Clinician, RosterImport
from tests.factories import ClinicianFactory, ProgramFactory, csv_bytes
from tests.sessions_app.helpers import ROSTER_HEADER, messages_of, upload, url

pytestmark = pytest.mark.django_db


class _UndefinedVariable(str):
    """``string_if_invalid`` that fails the test instead of rendering an empty string."""

    def __contains__(self, item):
        return item == "%s"

    def __mod__(self, name):
        raise AssertionError(f"the template uses an undefined variable: {name}")


@pytest.fixture(autouse=True)
def strict_templates(settings):
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["OPTIONS"]["string_if_invalid"] = _UndefinedVariable("%s")
    settings.TEMPLATES = templates


def page_text(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


# --- Preview -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("ben@example.org,Ben,Okafor,physician,extra", "5 fields; the header has 4"),
        ("ben@example.org,Ben,Okafor", "3 fields; the header has 4"),
    ],
    ids=["too-many-fields", "too-few-fields"],
)
def test_preview_lists_a_row_with_the_wrong_number_of_fields_on_its_line(
    coordinator_client, program, row, expected
):
    content = csv_bytes(ROSTER_HEADER, "ana@example.org,Ana,Lima,physician", row)
    uploaded = upload(coordinator_client, program, content)

    preview = coordinator_client.get(uploaded["Location"])

    assert preview.status_code == 200
    (bad,) = preview.context["report"].error_rows
    assert bad.line == 3
    assert expected in bad.errors[0]
    assert expected in page_text(preview)
    # The user recognises the row by what it holds.
    assert "ben@example.org" in page_text(preview)


def test_preview_then_confirm_of_a_row_with_the_wrong_number_of_fields_saves_nothing(
    coordinator_client, program
):
    content = csv_bytes(ROSTER_HEADER, "ana@example.org,Ana,Lima,physician", "ben@example.org,Ben")
    preview_url = upload(coordinator_client, program, content)["Location"]

    confirmed = coordinator_client.post(preview_url)

    assert confirmed.status_code == 200
    assert any("Nothing was imported" in m for m in messages_of(confirmed))
    assert "2 fields; the header has 4" in page_text(confirmed)
    assert Clinician.objects.count() == 0


def test_unterminated_quote_is_refused_with_the_line_where_it_opens(coordinator_client, program):
    content = csv_bytes(
        ROSTER_HEADER,
        "ana@example.org,Ana,Lima,physician",
        'ben@example.org,"Ben,Okafor,physician',
        "cleo@example.org,Cleo,Diaz,physician",
    )

    response = upload(coordinator_client, program, content)

    assert response.status_code == 200
    (error,) = response.context["report"].file_errors
    assert error.startswith("Line 3 cannot be read as CSV: a quote opens a cell there and is never")
    assert error in page_text(response)
    assert RosterImport.objects.count() == 0


@pytest.mark.parametrize(
    "last_line",
    ['cleo@example.org,Cleo,Diaz",physician', 'cleo@example.org,Cleo",Diaz,physician'],
    ids=["wrong-number-of-fields", "right-number-of-fields"],
)
def test_a_quote_closed_lines_later_names_the_lines_the_row_runs_over(
    coordinator_client, program, last_line
):
    content = csv_bytes(
        ROSTER_HEADER,
        'ana@example.org,"Ana,Lima,physician',
        "ben@example.org,Ben,Okafor,physician",
        last_line,
    )
    preview = coordinator_client.get(upload(coordinator_client, program, content)["Location"])

    (bad,) = preview.context["report"].error_rows
    assert bad.line == 2
    assert "runs from line 2 to line 4" in bad.errors[0]
    assert "runs from line 2 to line 4" in page_text(preview)


def test_text_after_a_closing_quote_is_refused_with_its_line(coordinator_client, program):
    content = csv_bytes(
        ROSTER_HEADER, "ana@example.org,Ana,Lima,physician", 'b@x.org,"Ben" Jr,O,md'
    )

    response = upload(coordinator_client, program, content)

    (error,) = response.context["report"].file_errors
    assert error.startswith("Line 3 cannot be read as CSV: text follows the closing quote")


def test_nul_byte_is_refused_at_upload_with_its_line(coordinator_client, program):
    content = csv_bytes(
        ROSTER_HEADER, "ana@example.org,Ana,Lima,physician", "ben@example.org,B\0n,O,md"
    )

    response = upload(coordinator_client, program, content)

    assert response.status_code == 200
    (error,) = response.context["report"].file_errors
    assert "NUL byte (line 3)" in error
    assert "CSV UTF-8" in error
    assert error in page_text(response)
    assert RosterImport.objects.count() == 0
    assert Clinician.objects.count() == 0


def test_confirming_a_stored_draft_with_a_nul_byte_saves_nothing(
    coordinator_client, coordinator, program
):
    # A draft kept before NUL bytes were refused at upload.
    draft = RosterImport.objects.create(
        program=program,
        uploaded_by=coordinator,
        filename="roster.csv",
        content=csv_bytes(ROSTER_HEADER, "ana@example.org,Ana,Lima,physician", "b@x.org,B\0n,O,md"),
        summary={},
    )
    preview_url = url("roster_import_preview", program, pk=draft.pk)

    preview = coordinator_client.get(preview_url)
    confirmed = coordinator_client.post(preview_url)

    assert preview.status_code == 200
    assert "NUL byte (line 3)" in page_text(preview)
    assert confirmed.status_code == 200
    assert any("Nothing was imported" in m for m in messages_of(confirmed))
    assert "NUL byte (line 3)" in page_text(confirmed)
    assert Clinician.objects.count() == 0
    draft.refresh_from_db()
    assert draft.committed_at is None


def test_an_email_longer_than_the_database_keeps_is_a_row_problem(coordinator_client, program):
    # Valid by the email rules (up to 320 characters), longer than the column (254).
    long_email = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".org"
    assert 254 < len(long_email) <= 320
    content = csv_bytes(ROSTER_HEADER, f"{long_email},Ana,Lima,physician")
    preview_url = upload(coordinator_client, program, content)["Location"]

    confirmed = coordinator_client.post(preview_url)

    assert confirmed.status_code == 200
    assert "longer than 254 characters" in page_text(confirmed)
    assert Clinician.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("\ufeffemail,first_name".encode("utf-16"), "UTF-16"),
        (b"PK\x03\x04\x14\x00\x06\x00", "spreadsheet workbook"),
        (b"\n" + csv_bytes(ROSTER_HEADER, "ana@example.org,Ana,Lima,md"), "Line 1 is blank"),
    ],
    ids=["utf-16", "xlsx", "blank-header"],
)
def test_file_level_problems_say_what_to_do(coordinator_client, program, content, expected):
    response = upload(coordinator_client, program, content)

    assert response.status_code == 200
    (error,) = response.context["report"].file_errors
    assert expected in error
    assert RosterImport.objects.count() == 0


# --- import_roster -----------------------------------------------------------------------------


def import_roster(path, *args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("import_roster", "gim", str(path), *args, stdout=out, stderr=err)
    finally:
        assert "Traceback" not in err.getvalue()
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
def test_import_roster_refuses_a_nul_byte_without_a_traceback(tmp_path, dry_run):
    ProgramFactory(slug="gim")
    path = tmp_path / "roster.csv"
    path.write_bytes(
        csv_bytes(ROSTER_HEADER, "ana@example.org,Ana,Lima,physician", "b@x.org,B\0n,O,md")
    )
    args = ["--dry-run"] if dry_run else []

    with pytest.raises(CommandError, match="Nothing was imported"):
        import_roster(path, *args)

    assert Clinician.objects.count() == 0


def test_import_roster_names_the_nul_byte_and_its_line(tmp_path):
    ProgramFactory(slug="gim")
    path = tmp_path / "roster.csv"
    path.write_bytes(
        csv_bytes(ROSTER_HEADER, "ana@example.org,Ana,Lima,physician", "b@x.org,B\0n,O,md")
    )
    err = StringIO()

    with pytest.raises(CommandError):
        call_command("import_roster", "gim", str(path), stdout=StringIO(), stderr=err)

    assert f"{path}: The file contains a NUL byte (line 3)" in err.getvalue()


def test_import_roster_with_a_nul_byte_leaves_existing_clinicians_unchanged(tmp_path):
    program = ProgramFactory(slug="gim")
    ClinicianFactory(program=program, email="ana@example.org", first_name="Ana", last_name="Lima")
    path = tmp_path / "roster.csv"
    path.write_bytes(
        csv_bytes(ROSTER_HEADER, "ana@example.org,Anna,Lima,physician", "b@x.org,B\0,O,md")
    )

    with pytest.raises(CommandError):
        import_roster(path)

    assert list(Clinician.objects.values_list("email", "first_name")) == [
        ("ana@example.org", "Ana")
    ]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (["ana@example.org,Ana,Lima,physician,extra"], "line 2: The row has 5 fields"),
        (["ana@example.org,Ana"], "line 2: The row has 2 fields"),
        (['ana@example.org,"Ana,Lima,physician'], "Line 2 cannot be read as CSV: a quote opens"),
    ],
    ids=["too-many-fields", "too-few-fields", "unterminated-quote"],
)
def test_import_roster_reports_broken_rows_by_line(tmp_path, rows, expected):
    ProgramFactory(slug="gim")
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes(ROSTER_HEADER, *rows))
    err = StringIO()

    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_roster", "gim", str(path), stdout=StringIO(), stderr=err)

    assert expected in err.getvalue()
    assert Clinician.objects.count() == 0
