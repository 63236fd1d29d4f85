"""The roster CSV format: parsing (which never writes) and export."""

from __future__ import annotations

import csv
import io

import pytest

from sessions_app.models import Clinician, Discipline, Gender
from sessions_app.roster.csv_format import roster_csv_export, roster_csv_parse
from tests.factories import ClinicianFactory, ProgramFactory, csv_bytes
from tests.sessions_app.helpers import ROSTER_HEADER

EXPORT_HEADER = [
    "email",
    "first_name",
    "last_name",
    "discipline",
    "gender",
    "years_at_institution",
    "patient_care_halfdays",
    "status",
]

pytestmark = pytest.mark.django_db


def parse(content: bytes, program=None):
    return roster_csv_parse(program=program or ProgramFactory(), content=content)


def all_messages(report) -> str:
    return " ".join(report.file_errors + [e for r in report.rows for e in r.errors])


def test_valid_file_plans_to_create_every_row():
    report = parse(
        csv_bytes(
            ROSTER_HEADER,
            "ana.lima@example.org,Ana,Lima,physician",
            "ben.okafor@example.org,Ben,Okafor,nurse_practitioner",
        )
    )

    assert report.ok is True
    assert [r.action for r in report.rows] == ["create", "create"]
    assert report.rows[1].values == {
        "email": "ben.okafor@example.org",
        "first_name": "Ben",
        "last_name": "Okafor",
        "discipline": Discipline.NURSE_PRACTITIONER,
    }


def test_parsing_writes_nothing():
    program = ProgramFactory()

    parse(csv_bytes(ROSTER_HEADER, "ana.lima@example.org,Ana,Lima,physician"), program)

    assert Clinician.objects.count() == 0


def test_all_columns_are_read_and_optional_ones_converted():
    report = parse(
        csv_bytes(
            "email,first_name,last_name,discipline,gender,years_at_institution,"
            "patient_care_halfdays,status",
            "Ana.Lima@Example.org , Ana , Lima ,Physician,F,12,7,active",
        )
    )

    assert report.ok is True
    assert report.rows[0].values == {
        "email": "ana.lima@example.org",
        "first_name": "Ana",
        "last_name": "Lima",
        "discipline": Discipline.PHYSICIAN,
        "gender": Gender.FEMALE,
        "years_at_institution": 12,
        "patient_care_halfdays": 7,
        "status": Clinician.Status.ACTIVE,
    }


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("Nurse practitioner", Discipline.NURSE_PRACTITIONER),
        ("NP", Discipline.NURSE_PRACTITIONER),
        ("nurse_practitioner", Discipline.NURSE_PRACTITIONER),
        ("Social worker", Discipline.SOCIAL_WORKER),
        ("Clinical pharmacist", Discipline.PHARMACIST),
        ("MD", Discipline.PHYSICIAN),
    ],
)
def test_discipline_labels_and_abbreviations_are_accepted(label, code):
    report = parse(csv_bytes(ROSTER_HEADER, f"ana@example.org,Ana,Lima,{label}"))

    assert report.ok is True
    assert report.rows[0].values["discipline"] == code


def test_unknown_discipline_names_the_line_and_the_value():
    report = parse(
        csv_bytes(
            ROSTER_HEADER,
            "ana@example.org,Ana,Lima,physician",
            "ben@example.org,Ben,Okafor,astronaut",
        )
    )

    assert report.ok is False
    assert [(r.line, len(r.errors)) for r in report.error_rows] == [(3, 1)]
    assert "astronaut" in report.error_rows[0].errors[0]


def test_bad_email_names_the_line_and_the_address():
    report = parse(
        csv_bytes(
            ROSTER_HEADER,
            "ana@example.org,Ana,Lima,physician",
            "ben@example.org,Ben,Okafor,physician",
            "not-an-email,Cleo,Diaz,physician",
        )
    )

    assert report.ok is False
    assert [r.line for r in report.error_rows] == [4]
    assert "not-an-email" in report.error_rows[0].errors[0]
    assert "valid email" in report.error_rows[0].errors[0]


def test_missing_email_and_names_are_reported_for_the_row():
    report = parse(csv_bytes(ROSTER_HEADER, ",,,physician"))

    assert report.error_rows[0].line == 2
    assert len(report.error_rows[0].errors) == 3


def test_duplicate_email_in_the_file_points_to_the_first_line():
    report = parse(
        csv_bytes(
            ROSTER_HEADER,
            "ana@example.org,Ana,Lima,physician",
            "ben@example.org,Ben,Okafor,physician",
            "ANA@example.org,Ana,Lima,physician",
        )
    )

    assert report.ok is False
    assert [r.line for r in report.error_rows] == [4]
    assert "line 2" in report.error_rows[0].errors[0]


def test_unknown_column_is_a_file_error_naming_line_1_and_the_column():
    report = parse(
        csv_bytes(
            "email,first_name,last_name,discipline,shoe_size",
            "ana@example.org,Ana,Lima,physician,38",
        )
    )

    assert report.ok is False
    assert len(report.file_errors) == 1
    assert "line 1" in report.file_errors[0]
    assert "shoe_size" in report.file_errors[0]
    assert report.rows == []


def test_missing_required_column_is_named():
    report = parse(csv_bytes("email,first_name,last_name", "ana@example.org,Ana,Lima"))

    assert report.ok is False
    assert len(report.file_errors) == 1
    assert "line 1" in report.file_errors[0]
    assert "discipline" in report.file_errors[0]


def test_column_named_twice_is_refused():
    report = parse(
        csv_bytes(ROSTER_HEADER + ",email", "ana@example.org,Ana,Lima,physician,x@y.org")
    )

    assert report.ok is False
    assert "line 1" in report.file_errors[0]


def test_header_names_with_spaces_and_capitals_are_understood():
    report = parse(csv_bytes("Email,First Name,Last-Name,Discipline", "a@example.org,A,B,NP"))

    assert report.ok is True


def test_wrong_field_count_names_the_line():
    report = parse(
        csv_bytes(
            ROSTER_HEADER,
            "ana@example.org,Ana,Lima,physician",
            "ben@example.org,Ben,Okafor,physician,extra",
            "cleo@example.org,Cleo,physician",
        )
    )

    assert report.ok is False
    assert [r.line for r in report.error_rows] == [3, 4]
    assert "5 fields" in report.error_rows[0].errors[0]
    assert "3 fields" in report.error_rows[1].errors[0]


def test_non_utf8_file_names_the_line_and_suggests_utf8():
    content = "\n".join(
        [
            ROSTER_HEADER,
            "ana@example.org,Ana,Lima,physician",
            "jose@example.org,José,Núñez,physician",
        ]
    ).encode("latin-1")

    report = parse(content)

    assert report.ok is False
    assert len(report.file_errors) == 1
    assert "line 3" in report.file_errors[0]
    assert "UTF-8" in report.file_errors[0]


def test_utf8_byte_order_mark_is_ignored():
    content = "\ufeff".encode() + csv_bytes(ROSTER_HEADER, "jose@example.org,José,Núñez,physician")

    report = parse(content)

    assert report.ok is True
    assert report.rows[0].values["email"] == "jose@example.org"
    assert report.rows[0].values["first_name"] == "José"


def test_semicolon_delimited_file_is_read():
    report = parse(
        csv_bytes(
            "email;first_name;last_name;discipline",
            "ana@example.org;Ana;Lima;physician",
            "ben@example.org;Ben;Okafor;Nurse practitioner",
        )
    )

    assert report.ok is True
    assert [r.values["last_name"] for r in report.rows] == ["Lima", "Okafor"]


def test_windows_line_endings_and_quoted_commas_are_read():
    content = (
        b'email,first_name,last_name,discipline\r\nana@example.org,Ana,"Lima, Jr.",physician\r\n'
    )

    report = parse(content)

    assert report.ok is True
    assert report.rows[0].values["last_name"] == "Lima, Jr."


def test_quote_inside_a_quoted_cell_is_written_doubled_as_in_standard_csv():
    content = (
        b'email,first_name,last_name,discipline\nana@example.org,"Ana ""Annie""",Lima,physician\n'
    )

    report = parse(content)

    assert report.ok is True
    assert report.rows[0].values["first_name"] == 'Ana "Annie"'


def test_quote_inside_a_quoted_cell_of_a_semicolon_file_is_read():
    content = 'email;first_name;last_name;discipline\nana@example.org;"A ""B"";C";Lima;md\n'

    report = parse(content.encode())

    assert report.rows[0].values["first_name"] == 'A "B";C'


def test_empty_file_is_refused():
    report = parse(b"")

    assert report.ok is False
    assert len(report.file_errors) == 1
    assert "empty" in report.file_errors[0]


def test_blank_lines_only_count_as_empty():
    report = parse(b"\n \n")

    assert report.ok is False
    assert "empty" in report.file_errors[0]


def test_header_only_file_is_refused():
    report = parse(csv_bytes(ROSTER_HEADER))

    assert report.ok is False
    assert len(report.file_errors) == 1
    assert "no clinicians" in report.file_errors[0]


def test_file_over_the_size_limit_is_refused_before_reading(settings):
    settings.ROSTER_IMPORT_MAX_BYTES = 100
    content = csv_bytes(ROSTER_HEADER, *[f"c{i}@example.org,C,D,physician" for i in range(10)])
    assert len(content) > 100

    report = parse(content)

    assert report.ok is False
    assert report.rows == []
    assert len(report.file_errors) == 1
    assert "limit" in report.file_errors[0]


def test_file_with_more_rows_than_the_limit_names_the_first_line_over(settings):
    settings.ROSTER_IMPORT_MAX_ROWS = 3
    content = csv_bytes(ROSTER_HEADER, *[f"c{i}@example.org,C,D,physician" for i in range(4)])

    report = parse(content)

    assert report.ok is False
    assert report.rows == []
    assert len(report.file_errors) == 1
    assert "line 5" in report.file_errors[0]


def test_file_at_the_row_limit_is_accepted(settings):
    settings.ROSTER_IMPORT_MAX_ROWS = 3
    content = csv_bytes(ROSTER_HEADER, *[f"c{i}@example.org,C,D,physician" for i in range(3)])

    assert parse(content).ok is True


def test_number_out_of_range_is_reported():
    report = parse(
        csv_bytes(
            "email,first_name,last_name,discipline,patient_care_halfdays",
            "ana@example.org,Ana,Lima,physician,15",
        )
    )

    assert report.ok is False
    assert report.error_rows[0].line == 2
    assert "15" in report.error_rows[0].errors[0]


def test_existing_clinician_is_planned_as_unchanged_or_update():
    program = ProgramFactory()
    ClinicianFactory(
        program=program,
        email="ana@example.org",
        first_name="Ana",
        last_name="Lima",
        discipline=Discipline.PHYSICIAN,
    )
    ClinicianFactory(
        program=program,
        email="ben@example.org",
        first_name="Ben",
        last_name="Okafor",
        discipline=Discipline.PHYSICIAN,
    )

    report = parse(
        csv_bytes(
            ROSTER_HEADER,
            "ANA@example.org,Ana,Lima,physician",
            "ben@example.org,Ben,Okafor-Smith,NP",
        ),
        program,
    )

    assert [(r.action, r.changes) for r in report.rows] == [
        ("unchanged", []),
        ("update", ["last_name", "discipline"]),
    ]


def test_same_email_in_another_program_is_a_new_clinician_here():
    ClinicianFactory(email="ana@example.org")

    report = parse(csv_bytes(ROSTER_HEADER, "ana@example.org,Ana,Lima,physician"))

    assert [r.action for r in report.rows] == ["create"]


# --- Export --------------------------------------------------------------------------------


def exported_rows(clinicians) -> list[list[str]]:
    return list(csv.reader(io.StringIO(roster_csv_export(clinicians=clinicians))))


def test_export_starts_with_the_header_line():
    text = roster_csv_export(clinicians=[])

    assert text.splitlines()[0] == ",".join(EXPORT_HEADER)


def test_export_writes_one_row_per_clinician_with_codes():
    clinician = ClinicianFactory(
        email="ana@example.org",
        first_name="Ana",
        last_name="Lima",
        discipline=Discipline.SOCIAL_WORKER,
        gender=Gender.FEMALE,
        years_at_institution=3,
        patient_care_halfdays=None,
    )

    assert exported_rows([clinician]) == [
        EXPORT_HEADER,
        ["ana@example.org", "Ana", "Lima", "social_worker", "female", "3", "", "eligible"],
    ]


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)"])
def test_export_neutralises_cells_a_spreadsheet_would_run_as_formulas(dangerous):
    clinician = ClinicianFactory(first_name=dangerous, last_name=dangerous)

    row = exported_rows([clinician])[1]

    assert row[1][0] not in "=+-@"
    assert row[2][0] not in "=+-@"
    assert row[1] == "'" + dangerous
