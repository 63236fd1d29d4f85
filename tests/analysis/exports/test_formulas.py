"""No export cell is a spreadsheet formula (docs/exports.md, "Spreadsheet formulas").

Every registered export kind, in every format, is made from a program whose every text field
that an export shows (names, emails, group and facilitator names, the program's own details,
free-text survey answers, exclusion reasons, group labels of paper forms) holds a value a
spreadsheet would run: each CSV cell and each XLSX cell is read back and none may start with a
formula character. A kind registered later is checked as soon as it is registered; a new file
format makes the test fail until it says how to read its cells.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from analysis.exports import services as exports
from analysis.runs import services as runs
from ccdg import phi
from sessions_app.models import Attendance, FacilitatorAssignment, ProgramRole
from surveys import series as survey_series
from surveys.responses import paper_response_add
from surveys.services import builtin_instrument
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
    ProgramRoleFactory,
    ResponseFactory,
    SessionFactory,
    WaveFactory,
)

HOSTILE = [
    "=cmd|'/Ccalc'!A0",
    "+1",
    "-1+1",
    "@SUM(1)",
    "\t=1",
    "\r=1",
    "\uff1dSUM(1)",  # a full-width equals sign
]
# What a spreadsheet may take as the start of a formula (OWASP, ASVS 1.2.10) and the
# full-width forms some spreadsheets read as the same characters.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Not spreadsheets: no cells to check.
DOCUMENTS = {"pdf"}


def hostile(i: int) -> str:
    return HOSTILE[i % len(HOSTILE)]


@pytest.fixture
def hostile_program(db):
    """A program with a held and an upcoming session per group, attendance, presenters,
    facilitators (the lead absent once) and a paper survey wave with an analysis run, where
    every text an export shows starts with a formula character."""
    program = ProgramFactory(
        slug="hostile",
        name=hostile(0),
        department=hostile(1),
        institution=hostile(3),
        academic_year=hostile(2),
    )
    now = timezone.now()
    people = []
    for i, value in enumerate(HOSTILE):
        group = GroupFactory(program=program, name=value)
        email = "=cmd|'/Ccalc'!A0@x.org" if i == 0 else f"{value}.{i}@x.org"
        clinician = ClinicianFactory(
            program=program, email=email, first_name=value, last_name=hostile(i + 1)
        )
        people.append(clinician)
        GroupMembershipFactory(group=group, clinician=clinician)
        lead = FacilitatorFactory(program=program, name=hostile(i + 2))
        backup = FacilitatorFactory(program=program, name=hostile(i + 3) + f" {i}")
        for facilitator, role in ((lead, "lead"), (backup, "backup")):
            FacilitatorAssignmentFactory(
                group=group,
                facilitator=facilitator,
                role=getattr(FacilitatorAssignment.Role, role.upper()),
                starts_on=date(2000, 1, 1),
            )
        held = SessionFactory(group=group, starts_at=now - timedelta(days=7 + i))
        SessionFactory(group=group, starts_at=now + timedelta(days=7 + i))
        AttendanceFactory(session=held, clinician=clinician, status=Attendance.Status.PRESENT)
        FacilitatorAbsenceFactory(session=held, facilitator=lead)
        PresentationFactory(session=held, clinician=clinician)
    # A guest from another group: the attendance and credit exports list them too.
    AttendanceFactory(session=held, clinician=people[0], status=Attendance.Status.GUEST)

    wave = WaveFactory(program=program, slug="spring", name=hostile(4), distributed_count=30)
    free = [v for v in HOSTILE if not phi.scan(v)]
    assert free == HOSTILE  # each passes the identifier guard, so the export keeps it
    for n in range(12):
        ResponseFactory(
            wave=wave,
            answers={
                "gender": "female",
                "clinician_type": "physician",
                "group": hostile(n % 2),  # a paper form's group label, as written
                "skill_empathy": str(1 + n % 5),
                "relevance_communicate": str(1 + n % 5),
                "challenge_isolation": str(1 + n % 4),
                "addressed_isolation": str(n % 2),
                "open_unique": hostile(n),
                "open_improve": hostile(n + 1),
            },
        )
    ResponseFactory(wave=wave, answers={"skill_empathy": "4"}, excluded_reason=hostile(5))
    done = runs.run_execute(runs.run_create(wave=wave, actor=None).pk)
    assert done.status == "done", done.error
    # A wave series (its name and wave labels typed by a coordinator) with six respondents
    # linked by their personal codes: the series exports show the labels.
    series = survey_series.series_create(
        program=program, actor=None, name=hostile(5), design="pre_post",
        instrument_slug=builtin_instrument().slug,
    )  # fmt: skip
    for position in range(2):
        later = WaveFactory(program=program, name=hostile(position + 6))
        survey_series.series_add_wave(
            series=series, wave=later, actor=None, label=hostile(position + 2)
        )
        for n in range(6):
            paper_response_add(
                wave=later, actor=None, answers={"skill_empathy": str(1 + (n + position) % 5)},
                link_code=f"A{n + 1:02d}B",
            )  # fmt: skip
    coordinator = ProgramRoleFactory(program=program, role=ProgramRole.Role.COORDINATOR).user
    return {
        "program": program, "wave": wave, "series": series, "coordinator": coordinator,
        "people": people,
    }  # fmt: skip


def csv_cells(content: bytes) -> list[str]:
    text = content.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def xlsx_cells(content: bytes) -> list[tuple[str, object]]:
    """(data type, value) of every cell of every sheet."""
    workbook = load_workbook(io.BytesIO(content))
    return [
        (cell.data_type, cell.value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    ]


def spreadsheet_cells(filename: str, content: bytes) -> dict[str, list]:
    """{file (or file in a ZIP): its cells}; documents that are not spreadsheets are left out."""
    ext = filename.rsplit(".", 1)[-1]
    if ext == "csv":
        return {filename: [("s", cell) for cell in csv_cells(content)]}
    if ext == "xlsx":
        return {filename: xlsx_cells(content)}
    if ext == "zip":
        out = {}
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for name in archive.namelist():
                if name.endswith((".csv", ".xlsx")):
                    out.update(spreadsheet_cells(f"{filename}/{name}", archive.read(name)))
        return out
    assert ext in DOCUMENTS, f"say how to read the cells of a .{ext} export"
    return {}


def formulas(cells: list) -> list:
    return [
        (kind, value)
        for kind, value in cells
        if kind == "f" or (isinstance(value, str) and value.startswith(TRIGGERS))
    ]


def planted(cells: list) -> set[str]:
    """The hostile values found in the cells (neutralised or not)."""
    found = set()
    for _kind, value in cells:
        text = str(value)
        for value in HOSTILE:
            if text.lstrip("'").startswith(value.strip()):
                found.add(value)
    return found


def every_export_file(world) -> list[tuple[str, str, bytes]]:
    """(kind and format, file name, content) of every registered kind in every format."""
    program = world["program"]
    files = []
    exports.kind_get("roster_csv")  # loads every registered builder
    for kind in exports.REGISTRY.values():
        for fmt in kind.formats:
            if fmt in DOCUMENTS:
                continue
            params = {"format": fmt, "wave": world["wave"].slug, "series": world["series"].slug}
            params = kind.clean_params(program, params) if kind.clean_params else {}
            result = kind.build(program=program, params=params, progress=None)
            files.append((f"{kind.key} {fmt}", result.filename, result.content))
    return files


def test_no_cell_of_any_registered_export_is_a_formula(hostile_program):
    files = every_export_file(hostile_program)

    found = {}
    reached = {}
    for label, filename, content in files:
        for name, cells in spreadsheet_cells(filename, content).items():
            found[f"{label}: {name}"] = formulas(cells)
            key = label.split()[0]
            reached[key] = reached.get(key, set()) | planted(cells)

    assert {name: cells for name, cells in found.items() if cells} == {}
    # Every kind carried hostile values (a table of figures only, such as the attendance's
    # program figures, need not), so the check above checked something.
    assert sorted(label for label, values in reached.items() if not values) == []
    assert len(files) >= 15


def test_the_roster_and_credit_downloads_of_their_pages_hold_no_formula(client, hostile_program):
    program = hostile_program["program"]
    client.force_login(hostile_program["coordinator"])
    pages = {
        "roster": reverse("sessions_app:roster_export", kwargs={"slug": program.slug}),
        "credit": reverse("sessions_app:credit_export", kwargs={"slug": program.slug}),
    }

    cells = {name: csv_cells(client.get(url).content) for name, url in pages.items()}

    unsafe = {name: [c for c in found if c.startswith(TRIGGERS)] for name, found in cells.items()}
    assert unsafe == {"roster": [], "credit": []}
    assert "'=cmd|'/Ccalc'!A0@x.org" in cells["roster"]
    assert "'=cmd|'/Ccalc'!A0@x.org" in cells["credit"]


def test_a_neutralised_cell_keeps_its_text_after_the_apostrophe(hostile_program):
    program = hostile_program["program"]
    content = exports.kind_get("roster_csv").build(
        program=program, params={"format": "csv"}, progress=None
    )

    rows = list(csv.DictReader(io.StringIO(content.content.decode("utf-8-sig"))))

    assert sorted(r["first_name"] for r in rows) == sorted("'" + v for v in HOSTILE)
