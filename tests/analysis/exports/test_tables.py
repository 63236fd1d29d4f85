"""The program's tabular exports: what each file holds, read back and compared with the rows
the test created (rates worked out here, independently of the code)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from openpyxl import load_workbook

from analysis.exports import services as exports
from analysis.exports.tables import ATTENDANCE_FORMATS, COVERAGE_FORMATS
from sessions_app.models import Attendance, FacilitatorAssignment, Presentation, Session
from tests.factories import (
    AttendanceFactory,
    ClinicianFactory,
    FacilitatorAbsenceFactory,
    FacilitatorAssignmentFactory,
    FacilitatorFactory,
    GroupFactory,
    GroupMembershipFactory,
    PresentationFactory,
    ProgramFactory,
    SessionFactory,
)

P, A, E, G = (
    Attendance.Status.PRESENT,
    Attendance.Status.ABSENT,
    Attendance.Status.EXCUSED,
    Attendance.Status.GUEST,
)


def build(program, key, **params):
    kind = exports.kind_get(key)
    cleaned = kind.clean_params(program, params) if kind.clean_params else {}
    return kind.build(program=program, params=cleaned, progress=None)


def read_csv(result) -> list[dict]:
    assert result.content_type.startswith("text/csv")
    return list(csv.DictReader(io.StringIO(result.content.decode("utf-8-sig"))))


def read_xlsx(result):
    assert result.filename.endswith(".xlsx")
    return load_workbook(io.BytesIO(result.content))


def sheet_rows(ws) -> list[dict]:
    values = list(ws.iter_rows(values_only=True))
    header = values[0]
    return [dict(zip(header, row, strict=True)) for row in values[1:]]


def days_ago(n: int):
    return (timezone.now() - timedelta(days=n)).replace(hour=17, minute=0, second=0, microsecond=0)


@pytest.fixture
def year(db):
    """Two groups, five members, three held sessions, one upcoming, one cancelled."""
    program = ProgramFactory(name="Medicine CCDG", slug="med", eligible_clinicians=10)
    red, blue = (
        GroupFactory(program=program, name="Red"),
        GroupFactory(program=program, name="Blue"),
    )
    people = {}
    for name, group in (("Ana", red), ("Ben", red), ("Cy", red), ("Dee", blue), ("Eve", blue)):
        c = ClinicianFactory(program=program, first_name=name, last_name=f"{name}son")
        GroupMembershipFactory(group=group, clinician=c)
        people[name] = c
    s1 = SessionFactory(group=red, starts_at=days_ago(30))
    s2 = SessionFactory(group=red, starts_at=days_ago(10))
    s3 = SessionFactory(group=blue, starts_at=days_ago(20))
    upcoming = SessionFactory(group=red, starts_at=timezone.now() + timedelta(days=5))
    cancelled = SessionFactory(group=blue, starts_at=days_ago(5), status=Session.Status.CANCELLED)
    marks = [
        (s1, "Ana", P), (s1, "Ben", P), (s1, "Cy", A),
        (s2, "Ana", P), (s2, "Ben", E), (s2, "Dee", G),
        (s3, "Dee", P),
    ]  # fmt: skip
    if connection.vendor != "postgresql":
        # PostgreSQL refuses attendance at a cancelled session; SQLite may hold such a row from
        # before: the figures must ignore it.
        marks.append((cancelled, "Eve", P))
    for session, name, status in marks:
        AttendanceFactory(session=session, clinician=people[name], status=status)
    return {
        "program": program,
        "people": people,
        "sessions": (s1, s2, s3),
        "upcoming": upcoming,
        "groups": (red, blue),
    }


# --- Attendance --------------------------------------------------------------------------------


def test_attendance_workbook_matches_the_database(year):
    program, people = year["program"], year["people"]
    s1, s2, s3 = year["sessions"]
    wb = read_xlsx(build(program, "attendance", format="xlsx"))
    assert wb.sheetnames == ["About", "Per session", "Per person", "Per group", "Program"]
    about = {row[0]: row[1] for row in wb["About"].iter_rows(values_only=True)}
    assert about["Program"] == "Medicine CCDG"
    assert about["Export"].startswith("Attendance")
    assert about["Exported at"]

    sessions = sheet_rows(wb["Per session"])
    assert wb["Per session"]["A1"].font.b
    assert wb["Per session"].freeze_panes == "A2"
    # Held sessions only, in date order; the upcoming and the cancelled one are not there.
    assert [
        (r["group"], r["present"], r["absent"], r["excused"], r["guests"]) for r in sessions
    ] == [
        ("Red", 2, 1, 0, 0),
        ("Blue", 1, 0, 0, 0),
        ("Red", 1, 0, 1, 1),
    ]
    assert [r["members"] for r in sessions] == [3, 2, 3]
    assert [r["not_recorded"] for r in sessions] == [0, 1, 1]
    assert sessions[0]["attendance_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert sessions[1]["attendance_rate"] == pytest.approx(1 / 2)
    assert sessions[2]["attendance_rate"] == pytest.approx(1 / 3, abs=1e-4)
    local_day = timezone.localtime(s1.starts_at, __import__("zoneinfo").ZoneInfo(program.timezone))
    assert sessions[0]["date"].date() == local_day.date()

    person = {r["first_name"]: r for r in sheet_rows(wb["Per person"])}
    assert set(person) == set(people)
    # Ana: present at both held Red sessions. Ben: 1 of 2. Cy: 0 of 2.
    # Dee: present at Blue's one session and a guest at Red's: 2 attended, 1 as a guest.
    # Eve: only the cancelled session, which does not count.
    expected = {
        "Ana": (2, 0, 2),
        "Ben": (1, 0, 2),
        "Cy": (0, 0, 2),
        "Dee": (2, 1, 1),
        "Eve": (0, 0, 1),
    }
    for name, (attended, as_guest, held) in expected.items():
        row = person[name]
        assert (
            row["sessions_attended"],
            row["of_these_as_guest"],
            row["own_group_sessions_recorded"],
        ) == (
            attended,
            as_guest,
            held,
        )
        # The rate is of one's own group's sessions: a guest visit is not one of them (Dee's
        # rate was 2 / 1 = 200%).
        assert row["attendance_rate"] == pytest.approx((attended - as_guest) / held, abs=1e-4)
        assert row["attendance_rate"] <= 1
    assert person["Ana"]["regular"] == "yes" and person["Cy"]["regular"] == "no"

    groups = {r["group"]: r for r in sheet_rows(wb["Per group"])}
    # Red: attendances = members present over its recorded sessions = 2 + 1 = 3 (Dee, a guest,
    # is not a member: she used to be counted, which could put a group above 100%).
    assert groups["Red"]["sessions_held"] == 2 and groups["Red"]["attendances"] == 3
    assert groups["Red"]["members_on_the_day"] == 6 and groups["Red"]["guests"] == 1
    assert groups["Red"]["mean_attendance"] == pytest.approx(1.5)
    assert groups["Red"]["attendance_rate"] == pytest.approx(3 / 6, abs=1e-4)
    assert groups["Blue"]["attendance_rate"] == pytest.approx(1 / 2)

    figures = {r["figure"]: r for r in sheet_rows(wb["Program"])}
    assert figures["eligible clinicians"]["value"] == 10
    assert figures["group members"]["rate"] == pytest.approx(5 / 10)
    # Regular: at least half of the group's held sessions: Ana, Ben, Dee.
    assert figures["regular attenders"]["value"] == 3
    assert figures["regular attenders"]["rate"] == pytest.approx(3 / 10)
    assert figures["sessions held"]["value"] == 3
    # Members present: 2 + 1 + 1 = 4 of (3 members x 2 sessions + 2 x 1) = 8.
    assert figures["members present at recorded sessions"]["value"] == 4
    assert figures["members present at recorded sessions"]["rate"] == pytest.approx(0.5)


@pytest.mark.parametrize("fmt", [f for f in ATTENDANCE_FORMATS if f != "xlsx"])
def test_attendance_csv_tables(year, fmt):
    result = build(year["program"], "attendance", format=fmt)
    assert result.filename == f"med-attendance-{fmt[4:]}-2026-2027.csv"
    rows = read_csv(result)
    count = {"csv-sessions": 3, "csv-people": 5, "csv-groups": 2, "csv-program": 6}[fmt]
    assert len(rows) == count


def test_attendance_csv_per_person_values(year):
    rows = {
        r["first_name"]: r
        for r in read_csv(build(year["program"], "attendance", format="csv-people"))
    }
    assert rows["Ben"]["sessions_attended"] == "1"
    assert rows["Ben"]["own_group_sessions_recorded"] == "2"
    assert float(rows["Ben"]["attendance_rate"]) == pytest.approx(0.5)
    assert rows["Cy"]["regular"] == "no"


def test_unknown_format_is_refused_with_the_choices(year):
    kind = exports.kind_get("attendance")
    with pytest.raises(exports.ValidationError) as exc:
        kind.clean_params(year["program"], {"format": "docx"})
    assert "Unknown format “docx”" in exc.value.messages[0]
    assert "Excel (XLSX)" in exc.value.messages[0]


# --- Roster ------------------------------------------------------------------------------------


def test_roster_csv_is_the_import_format_plus_group(year):
    program = year["program"]
    ClinicianFactory(program=program, first_name="Zed", last_name="Nogroup", years_at_institution=4)
    rows = read_csv(build(program, "roster_csv"))
    assert list(rows[0]) == [
        "email", "first_name", "last_name", "discipline", "gender",
        "years_at_institution", "patient_care_halfdays", "status", "group",
    ]  # fmt: skip
    by_name = {r["first_name"]: r for r in rows}
    assert len(rows) == 6
    assert by_name["Ana"]["group"] == "Red" and by_name["Dee"]["group"] == "Blue"
    assert by_name["Zed"]["group"] == "" and by_name["Zed"]["years_at_institution"] == "4"
    assert by_name["Ana"]["email"] == year["people"]["Ana"].email


def test_roster_xlsx_reads_back(year):
    wb = read_xlsx(build(year["program"], "roster_xlsx"))
    rows = sheet_rows(wb["Roster"])
    assert sorted(r["first_name"] for r in rows) == ["Ana", "Ben", "Cy", "Dee", "Eve"]
    assert {r["first_name"]: r["group"] for r in rows}["Eve"] == "Blue"
    assert wb["Roster"]["A1"].value == "email" and wb["Roster"]["A1"].font.b


def test_formulas_are_neutralised_in_csv_and_xlsx(db):
    program = ProgramFactory(slug="inj")
    group = GroupFactory(program=program, name="+Group")
    c = ClinicianFactory(program=program, first_name='=HYPERLINK("http://x")', last_name="@SUM(A1)")
    GroupMembershipFactory(group=group, clinician=c)
    row = read_csv(build(program, "roster_csv"))[0]
    assert row["first_name"] == '\'=HYPERLINK("http://x")'
    assert row["last_name"] == "'@SUM(A1)"
    assert row["group"] == "'+Group"
    ws = read_xlsx(build(program, "roster_xlsx"))["Roster"]
    cell = ws["B2"]
    # The same text as the CSV cell, stored as text: a spreadsheet shows it, never runs it.
    assert cell.value == '\'=HYPERLINK("http://x")'
    assert cell.data_type == "s"


# --- Presentations -----------------------------------------------------------------------------


def test_presentations_per_person(year):
    program, people = year["program"], year["people"]
    s1, s2, s3 = year["sessions"]
    PresentationFactory(session=s1, clinician=people["Ana"], working_title="A hard goodbye")
    PresentationFactory(session=s2, clinician=people["Ana"])
    PresentationFactory(session=s3, clinician=people["Dee"])
    PresentationFactory(session=year["upcoming"], clinician=people["Ben"])
    PresentationFactory(
        session=s2, clinician=people["Cy"], status=Presentation.Status.WITHDRAWN, slot=None
    )
    rows = {r["first_name"]: r for r in read_csv(build(program, "presentations"))}
    assert set(rows) == set(people)
    assert rows["Ana"]["presentations"] == "2"
    assert rows["Ana"]["academic_year"] == "2026-2027"
    assert rows["Ana"]["last_presented"] > rows["Ana"]["first_presented"]
    assert (rows["Ben"]["presentations"], rows["Ben"]["upcoming"]) == ("0", "1")
    assert rows["Cy"]["presentations"] == "0"  # withdrawn does not count
    assert rows["Dee"]["presentations"] == "1"
    # Working titles are not exported.
    assert b"goodbye" not in build(program, "presentations", format="xlsx").content
    assert "goodbye" not in build(program, "presentations").content.decode()


# --- CE hours ----------------------------------------------------------------------------------


def test_ce_hours_are_the_credit_summary(year):
    program = year["program"]
    program.credit_hours_per_session = "1.50"
    program.save()
    program.refresh_from_db()
    result = build(program, "ce_hours")
    assert result.filename == "med-ce-hours-2026-2027.csv"
    rows = {r["first_name"]: r for r in read_csv(result)}
    assert rows["Ana"]["credit_hours"] == "3.00"
    assert rows["Dee"]["credit_hours"] == "3.00"  # present once, a guest once
    assert rows["Cy"]["credit_hours"] == "0.00"
    assert rows["Ana"]["email"] == year["people"]["Ana"].email


# --- Facilitator coverage -----------------------------------------------------------------------


def test_facilitator_coverage(year):
    program = year["program"]
    red, blue = year["groups"]
    s1, s2, s3 = year["sessions"]
    lead = FacilitatorFactory(program=program, name="Lena Lead")
    backup = FacilitatorFactory(program=program, name="Bo Backup")
    blue_lead = FacilitatorFactory(program=program, name="Bea Blue")
    start = date(2020, 1, 1)
    FacilitatorAssignmentFactory(group=red, facilitator=lead, starts_on=start)
    FacilitatorAssignmentFactory(
        group=red, facilitator=backup, role=FacilitatorAssignment.Role.BACKUP, starts_on=start
    )
    FacilitatorAssignmentFactory(group=blue, facilitator=blue_lead, starts_on=start)
    FacilitatorAbsenceFactory(session=s2, facilitator=lead)  # the backup covers s2
    FacilitatorAbsenceFactory(session=s3, facilitator=blue_lead)  # Blue has no backup: a gap
    wb = read_xlsx(build(program, "facilitator_coverage"))
    assert wb.sheetnames == ["About", "Per facilitator", "Per session", "Gaps"]
    people = {r["facilitator"]: r for r in sheet_rows(wb["Per facilitator"])}
    assert (people["Lena Lead"]["led_as_lead"], people["Lena Lead"]["absent"]) == (1, 1)
    assert people["Lena Lead"]["upcoming_as_acting_lead"] == 1
    assert (people["Bo Backup"]["led_as_lead"], people["Bo Backup"]["covered_as_backup"]) == (0, 1)
    assert (people["Bea Blue"]["led_as_lead"], people["Bea Blue"]["absent"]) == (0, 1)
    gaps = sheet_rows(wb["Gaps"])
    assert [(g["group"], g["lead"], g["acting_lead"]) for g in gaps] == [("Blue", "Bea Blue", None)]
    sessions = sheet_rows(wb["Per session"])
    assert len(sessions) == 4  # three held and one upcoming; the cancelled one is left out
    covered = [s for s in sessions if s["covered_by_backup"] == "yes"]
    assert [(s["acting_lead"], s["absent"]) for s in covered] == [("Bo Backup", "Lena Lead")]
    csv_rows = read_csv(build(program, "facilitator_coverage", format="csv-facilitators"))
    assert {r["facilitator"] for r in csv_rows} == {"Lena Lead", "Bo Backup", "Bea Blue"}


def test_assignments_count_only_while_they_run(year):
    program = year["program"]
    red = year["groups"][0]
    s1, s2, _ = year["sessions"]
    old = FacilitatorFactory(program=program, name="Old Lead")
    new = FacilitatorFactory(program=program, name="New Lead")
    switch = timezone.localdate(s2.starts_at) - timedelta(days=1)
    FacilitatorAssignmentFactory(
        group=red, facilitator=old, starts_on=date(2020, 1, 1), ends_on=switch
    )
    FacilitatorAssignmentFactory(group=red, facilitator=new, starts_on=switch + timedelta(days=1))
    rows = {
        r["facilitator"]: r
        for r in read_csv(build(program, "facilitator_coverage", format="csv-facilitators"))
    }
    assert rows["Old Lead"]["led_as_lead"] == "1"
    assert rows["New Lead"]["led_as_lead"] == "1"


# --- Empty program -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "fmt", "says"),
    [
        ("roster_csv", "csv", "roster is empty"),
        ("roster_xlsx", "xlsx", "roster is empty"),
        ("attendance", "xlsx", "No sessions have been held yet"),
        ("attendance", "csv-sessions", "No sessions have been held yet"),
        ("attendance", "csv-people", "Nobody is a member of a group yet"),
        ("attendance", "csv-groups", "no groups yet"),
        ("presentations", "csv", "Nobody has presented yet"),
        ("presentations", "xlsx", "Nobody has presented yet"),
        ("ce_hours", "csv", "Nobody has attended"),
        ("facilitator_coverage", "xlsx", "no facilitators yet"),
        ("facilitator_coverage", "csv-sessions", "No sessions are scheduled yet"),
    ],
)
def test_empty_program_gets_a_document_that_says_so(db, key, fmt, says):
    program = ProgramFactory(slug="empty")
    result = build(program, key, format=fmt)
    assert result.content
    if fmt == "xlsx":
        wb = read_xlsx(result)
        assert wb.sheetnames[0] == "About"
        texts = [
            c for ws in wb.worksheets[1:] for row in ws.iter_rows(values_only=True) for c in row
        ]
        assert any(isinstance(t, str) and says in t for t in texts)
    else:
        rows = list(csv.reader(io.StringIO(result.content.decode("utf-8-sig"))))
        assert len(rows) == 2  # the header, then one line that explains
        assert says in rows[1][0]


def test_attendance_program_figures_of_an_empty_program(db):
    program = ProgramFactory(slug="empty")
    rows = {r["figure"]: r for r in read_csv(build(program, "attendance", format="csv-program"))}
    assert rows["eligible clinicians"]["value"] == "0"
    assert rows["group members"]["rate"] == ""  # no division by zero
    assert "roster" in rows["eligible counted as"]["value"]


def test_registered_kinds_and_formats():
    kinds = {k: exports.kind_get(k) for k in (
        "roster_csv", "roster_xlsx", "attendance", "presentations", "ce_hours",
        "facilitator_coverage",
    )}  # fmt: skip
    assert kinds["roster_csv"].perm == kinds["roster_xlsx"].perm == "roster.export"
    assert {k for k, v in kinds.items() if v.background} == {"roster_xlsx", "attendance"}
    assert kinds["facilitator_coverage"].formats == COVERAGE_FORMATS
    assert all(v.perm in ("reports.view", "roster.export") for v in kinds.values())
