"""What the responses import says about a damaged file: where the problem is, and nothing saved."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from surveys import responses_csv as rc
from surveys.models import Response, ResponseImport
from tests.factories import WaveFactory

pytestmark = pytest.mark.django_db

HEADER = "form_id,gender,skill_empathy,open_unique"


@pytest.fixture
def wave(program):
    return WaveFactory(program=program, slug="paper", distributed_count=35)


def refused(wave, coordinator, content: bytes) -> rc.ResponsesReport:
    with pytest.raises(rc.ResponsesImportError) as info:
        rc.responses_import(wave=wave, actor=coordinator, content=content)
    assert Response.objects.count() == 0
    return info.value.report


def lines(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def test_a_control_character_is_refused_with_its_line(wave, coordinator):
    # Such a character would be stored, then break the XLSX export of the answers.
    content = lines(HEADER, "1,female,4,Fine", "2,male,5,Time\x07to think")

    report = refused(wave, coordinator, content)

    assert report.file_error.startswith("Line 3 contains the control character 0x07")


def test_a_nul_byte_is_refused_at_upload_with_its_line(wave, coordinator):
    content = lines(HEADER, "1,female,4,Fine", "2,male,5,Ti\0me")

    with pytest.raises(ValidationError, match=r"contains a NUL byte \(line 3\)"):
        rc.responses_upload(wave=wave, actor=coordinator, filename="f.csv", content=content)

    assert not ResponseImport.objects.exists()


def test_utf16_text_is_named_as_such(wave, coordinator):
    report = refused(wave, coordinator, "gender\nfemale\n".encode("utf-16"))

    assert "UTF-16" in report.file_error


def test_an_unclosed_quote_is_reported_on_the_line_where_it_opens(wave, coordinator):
    content = lines(HEADER, '1,female,4,"Fine', "2,male,5,Good", "3,male,5,Good")

    report = refused(wave, coordinator, content)

    assert report.file_error.startswith(
        "Line 2 cannot be read as CSV: a quote opens a cell there and is never closed"
    )
    assert report.errors == []


def test_a_quote_closed_lines_later_names_the_lines_the_row_runs_over(wave, coordinator):
    content = lines(HEADER, '1,female,4,"Fine', '2,male,5",Good', "3,male,5,Good")

    report = refused(wave, coordinator, content)

    assert [(e.row, e.column) for e in report.errors] == [(2, "")]
    assert "runs from line 2 to line 3" in report.errors[0].message


def test_a_byte_order_mark_left_inside_the_text_is_ignored(wave, coordinator):
    # Two files pasted together: the second one's mark is invisible in a text editor.
    content = b"\xef\xbb\xbf\xef\xbb\xbf" + lines(HEADER, "1,female,4,\ufeffFine")

    report = rc.responses_import(wave=wave, actor=coordinator, content=content)

    assert report.created == 1
    assert Response.objects.get().answers["open_unique"] == "Fine"


def test_import_responses_names_the_nul_byte_and_saves_nothing(wave, tmp_path):
    path = tmp_path / "forms.csv"
    path.write_bytes(lines(HEADER, "1,female,4,Fine", "2,male,5,Ti\0me"))
    err = StringIO()

    with pytest.raises(CommandError, match=r"NUL byte \(line 3\).* Nothing was imported"):
        call_command(
            "import_responses", wave.program.slug, "new-wave", str(path),
            stdout=StringIO(), stderr=err,
        )  # fmt: skip

    assert "Traceback" not in err.getvalue()
    assert not wave.program.survey_waves.filter(slug="new-wave").exists()
    assert Response.objects.count() == 0
