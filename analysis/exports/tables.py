"""The program's tabular exports: roster, attendance, presentations, CE hours, facilitator cover.

Each is registered with :mod:`analysis.exports` at import time; docs/exports.md lists the
columns. The figures come from the services the program's own pages use
(:func:`sessions_app.presenters.selectors.attendance_figures` and ``credit_summary``,
:func:`sessions_app.schedule.selectors.cover_of`), so an export and the page it comes from agree.

Conventions shared by every table here:

* "held" means started and not cancelled, as on the attendance page;
* dates are in the program's time zone;
* a CSV is one table: a header row, then the rows; a table with no rows gets one row whose
  first cell says why it is empty;
* an XLSX workbook opens on an "About" sheet (program, what, when exported, notes), then one
  sheet per table with a bold, frozen header row;
* every cell of both is written through :mod:`ccdg.spreadsheets`: text is stored as text, and
  text a spreadsheet would run as a formula gets an apostrophe in front;
* no free text is exported (no working titles, absence or cancellation reasons, case notes):
  only names, groups, dates and counts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.utils import timezone

from analysis.exports.services import CONTENT_TYPES, ExportFile, ExportKind, register, safe_filename
from ccdg.spreadsheets import csv_writer, xlsx_cell
from sessions_app.models import (
    Clinician,
    Facilitator,
    FacilitatorAbsence,
    FacilitatorAssignment,
    GroupMembership,
    Presentation,
    Program,
    Session,
)
from sessions_app.presenters import selectors as presenters_selectors
from sessions_app.roster.csv_format import COLUMNS as ROSTER_COLUMNS
from sessions_app.schedule.selectors import cover_of

# How the reports page names the formats (the first part says the file type).
FORMAT_LABELS = {
    "csv": "CSV",
    "xlsx": "Excel (XLSX)",
    "pdf": "PDF",
    "zip": "ZIP",
    "csv-sessions": "CSV, per session",
    "csv-people": "CSV, per person",
    "csv-groups": "CSV, per group",
    "csv-program": "CSV, program figures",
    "csv-facilitators": "CSV, per facilitator",
}


# --- Tables and their two file formats -------------------------------------------------------


@dataclass
class Table:
    """One table: a sheet of a workbook, or a CSV file. ``empty`` says why it has no rows."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    empty: str = "Nothing to show yet."


def _noop(fraction: float, step: str) -> None:
    return None


def _rate(part: float, whole: float) -> float | None:
    """A share between 0 and 1, rounded to 4 places; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv_writer(out)  # every cell guarded against spreadsheet formulas
    writer.writerow(table.columns)
    if table.rows:
        for row in table.rows:
            writer.writerow([_csv_value(v) for v in row])
    else:
        writer.writerow([table.empty] + [""] * (len(table.columns) - 1))
    # A byte-order mark: Excel then reads the file as UTF-8 (names with accents stay intact).
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return float(value)
    return value


def _put(ws, row: int, column: int, value: Any):
    return xlsx_cell(ws, row, column, _xlsx_value(value))


def to_xlsx(*, program: Program, what: str, tables: list[Table], notes: list[str]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    wb = Workbook()
    about = wb.active
    about.title = "About"
    exported = program.local(timezone.now())
    lines = [
        ("Program", program.name),
        ("Academic year", program.academic_year),
        ("Department", program.department),
        ("Institution", program.institution),
        ("Export", what),
        ("Exported at", f"{exported:%Y-%m-%d %H:%M} ({program.timezone})"),
        ("Sheets", ", ".join(t.title for t in tables)),
    ]
    lines += [("Note", note) for note in notes]
    for i, (label, value) in enumerate(lines, start=1):
        _put(about, i, 1, label).font = bold
        _put(about, i, 2, value)
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 100

    for table in tables:
        ws = wb.create_sheet(table.title[:31])
        for c, name in enumerate(table.columns, start=1):
            _put(ws, 1, c, name).font = bold
        rows = table.rows or [[table.empty]]
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                cell = _put(ws, r, c, value)
                if isinstance(value, date) and not isinstance(value, datetime):
                    cell.number_format = "yyyy-mm-dd"
                elif isinstance(value, float) and table.columns[c - 1].endswith("rate"):
                    cell.number_format = "0.0%"
        ws.freeze_panes = "A2"
        for c, name in enumerate(table.columns, start=1):
            longest = max(
                [len(name)] + [len(str(row[c - 1])) for row in table.rows if len(row) >= c]
            )
            ws.column_dimensions[get_column_letter(c)].width = min(max(longest + 2, 8), 50)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _file(program: Program, name: str, fmt: str, tables: list[Table], what: str, notes=()):
    """The export file in ``fmt``: the workbook of all tables, or the CSV of one table."""
    stem = (program.slug, name, program.academic_year)
    if fmt == "xlsx":
        content = to_xlsx(program=program, what=what, tables=tables, notes=list(notes))
        return ExportFile(safe_filename(*stem, ext="xlsx"), CONTENT_TYPES["xlsx"], content)
    wanted = fmt.partition("-")[2]
    table = next((t for t in tables if t.key == wanted), tables[0]) if wanted else tables[0]
    parts = (*stem[:2], wanted, stem[2]) if wanted else stem
    return ExportFile(safe_filename(*parts, ext="csv"), CONTENT_TYPES["csv"], to_csv(table))


def format_params(formats: tuple[str, ...]):
    """``clean_params`` for the kinds here: one option, ``format`` (the first by default)."""

    def clean(program: Program, params: dict) -> dict:
        fmt = str(params.get("format") or formats[0])
        if fmt not in formats:
            raise ValidationError(
                f"Unknown format “{fmt[:20]}”: choose one of "
                + ", ".join(FORMAT_LABELS.get(f, f) for f in formats)
                + "."
            )
        return {"format": fmt}

    return clean


# --- Roster ----------------------------------------------------------------------------------

ROSTER_EXPORT_COLUMNS = [*ROSTER_COLUMNS, "group"]


def roster_table(program: Program) -> Table:
    """The roster in the import format (docs/roster-csv.md), plus each person's current group."""
    current = GroupMembership.objects.current().select_related("group")
    clinicians = (
        Clinician.objects.filter(program=program)
        .prefetch_related(Prefetch("memberships", queryset=current, to_attr="current"))
        .order_by("last_name", "first_name", "id")
    )
    rows = [
        [
            c.email,
            c.first_name,
            c.last_name,
            c.discipline,
            c.gender,
            c.years_at_institution,
            c.patient_care_halfdays,
            c.status,
            c.current[0].group.name if c.current else "",
        ]
        for c in clinicians
    ]
    return Table(
        key="roster",
        title="Roster",
        columns=ROSTER_EXPORT_COLUMNS,
        rows=rows,
        empty="The roster is empty: no clinicians have been added or imported yet.",
    )


def build_roster(*, program: Program, params: dict, progress=None) -> ExportFile:
    progress = progress or _noop
    progress(0.1, "Reading the roster")
    table = roster_table(program)
    progress(0.6, "Writing the file")
    fmt = params.get("format", "csv")
    return _file(
        program,
        "roster",
        fmt,
        [table],
        "Roster",
        notes=["The columns of the roster import format, plus each clinician's current group."],
    )


# --- Attendance ------------------------------------------------------------------------------

SESSION_COLUMNS = [
    "date",
    "group",
    "present",
    "absent",
    "excused",
    "not_recorded",
    "guests",
    "members",
    "attendance_rate",
]
PEOPLE_COLUMNS = [
    "last_name",
    "first_name",
    "group",
    "sessions_attended",
    "of_these_as_guest",
    "own_group_sessions_recorded",
    "attendance_rate",
    "regular",
]
GROUP_COLUMNS = [
    "group",
    "members",
    "sessions_held",
    "sessions_recorded",
    "attendances",
    "members_on_the_day",
    "mean_attendance",
    "attendance_rate",
    "guests",
    "regular_attenders",
]
PROGRAM_COLUMNS = ["figure", "value", "of", "rate"]


def attendance_tables(program: Program, *, progress=None, now=None) -> list[Table]:
    progress = progress or _noop
    now = now or timezone.now()
    progress(0.05, "Reading attendance")
    figures = presenters_selectors.attendance_figures(program=program, now=now)
    progress(0.4, "Counting per session")
    groups = {g.group.pk: g.group for g in figures.groups}
    nothing_held = (
        "No sessions have been held yet: attendance appears once a session has taken place."
    )
    sessions = Table("sessions", "Per session", SESSION_COLUMNS, empty=nothing_held)
    for s in figures.sessions:
        sessions.rows.append(
            [
                program.local_day(s.starts_at),
                groups[s.group_id].name,
                s.present,
                s.absent,
                s.excused,
                s.not_recorded,
                s.guests,
                s.members,
                _rate(s.present, s.members) if s.recorded else None,
            ]
        )
    progress(0.6, "Counting per person")
    people = Table(
        "people",
        "Per person",
        PEOPLE_COLUMNS,
        empty="Nobody is a member of a group yet: assign the roster to groups first.",
    )
    for p in figures.people:
        people.rows.append(
            [
                p.clinician.last_name,
                p.clinician.first_name,
                p.group.name if p.group else "",
                p.sessions_credited,
                p.guest_visits,
                p.held,
                _rate(p.attended, p.held),
                p.regular,
            ]
        )
    progress(0.8, "Counting per group")
    group_table = Table(
        "groups", "Per group", GROUP_COLUMNS, empty="The program has no groups yet."
    )
    for g in figures.groups:
        group_table.rows.append(
            [
                g.group.name,
                g.members,
                g.held,
                g.recorded,
                g.attendances,
                g.member_sessions,
                g.mean_present,
                _rate(g.attendances, g.member_sessions),
                g.guests,
                g.regular,
            ]
        )
    participants = sum(1 for p in figures.people if p.group is not None)
    eligible_note = (
        "the program's count of eligible clinicians"
        if program.eligible_clinicians
        else "everyone on the roster (the program has no count of eligible clinicians)"
    )
    program_table = Table(
        "program",
        "Program",
        PROGRAM_COLUMNS,
        rows=[
            ["eligible clinicians", figures.eligible, "", None],
            ["eligible counted as", eligible_note, "", None],
            ["group members", participants, figures.eligible,
             _rate(participants, figures.eligible)],
            [
                "regular attenders",
                figures.regular,
                figures.eligible,
                _rate(figures.regular, figures.eligible),
            ],
            ["sessions held", figures.held, "", None],
            ["members present at recorded sessions", figures.attendances,
             figures.member_sessions, _rate(figures.attendances, figures.member_sessions)],
        ],
    )  # fmt: skip
    return [sessions, people, group_table, program_table]


ATTENDANCE_NOTES = [
    "Held: a session that has started and was not cancelled; recorded: held, with attendance "
    "recorded. Members are counted on each session's day: joining, leaving or changing group "
    "never rewrites the past. Per session: present, absent, excused and not recorded are the "
    "members of that day; guests: people from other groups who came (not in the rate).",
    "Per session, attendance rate = present / members that day. Per person, sessions attended "
    "counts presences in the group one was in and visits to other groups as a guest (each earns "
    "continuing-education credit); attendance rate = presences in one's own group / recorded "
    "sessions of that group while a member. Regular: present (or a guest elsewhere) at half or "
    "more of those sessions. Group now: the person's current group, if any.",
    "Per group, members: current members; attendances = members present over the recorded "
    "sessions; members on the day: the members of each recorded session's day, summed; mean "
    "attendance = attendances / sessions recorded; attendance rate = attendances / members on "
    "the day.",
    "Program: rates are against the eligible clinicians (the program's count, or the roster "
    "size when that is not set).",
]


def build_attendance(*, program: Program, params: dict, progress=None) -> ExportFile:
    progress = progress or _noop
    tables = attendance_tables(program, progress=progress)
    progress(0.9, "Writing the file")
    return _file(
        program,
        "attendance",
        params.get("format", "xlsx"),
        tables,
        "Attendance per session, person, group and program",
        notes=ATTENDANCE_NOTES,
    )


# --- Presentations -----------------------------------------------------------------------------

PRESENTATION_COLUMNS = [
    "academic_year",
    "last_name",
    "first_name",
    "group",
    "presentations",
    "upcoming",
    "first_presented",
    "last_presented",
]


def presentations_table(program: Program, *, now=None) -> Table:
    """Per person: confirmed presentations at held sessions (and confirmed upcoming ones).

    Everyone who presented, plus current members who have not (with 0). Working titles are
    left out: they are short free text about a case, and the counts are what is reported.
    """
    now = now or timezone.now()
    rows = (
        Presentation.objects.filter(
            session__group__program=program,
            session__status=Session.Status.SCHEDULED,
            status=Presentation.Status.CONFIRMED,
        )
        .values_list("clinician_id", "session__starts_at")
        .order_by("session__starts_at")
    )
    past: dict[int, list[datetime]] = {}
    upcoming: dict[int, int] = {}
    for clinician_id, starts_at in rows:
        if starts_at <= now:
            past.setdefault(clinician_id, []).append(starts_at)
        else:
            upcoming[clinician_id] = upcoming.get(clinician_id, 0) + 1
    group_of = dict(
        GroupMembership.objects.current()
        .filter(group__program=program)
        .values_list("clinician_id", "group__name")
    )
    people = Clinician.objects.filter(Q(pk__in=set(past) | set(upcoming) | set(group_of))).order_by(
        "last_name", "first_name", "id"
    )
    table = Table(
        "presentations",
        "Presentations",
        PRESENTATION_COLUMNS,
        empty="Nobody has presented yet and nobody is a member of a group.",
    )
    for c in people.only("pk", "first_name", "last_name"):
        dates = past.get(c.pk, [])
        table.rows.append(
            [
                program.academic_year,
                c.last_name,
                c.first_name,
                group_of.get(c.pk, ""),
                len(dates),
                upcoming.get(c.pk, 0),
                program.local_day(dates[0]) if dates else None,
                program.local_day(dates[-1]) if dates else None,
            ]
        )
    return table


def build_presentations(*, program: Program, params: dict, progress=None) -> ExportFile:
    progress = progress or _noop
    progress(0.1, "Counting presentations")
    table = presentations_table(program)
    progress(0.7, "Writing the file")
    return _file(
        program,
        "presentations",
        params.get("format", "csv"),
        [table],
        "Presentations per person",
        notes=[
            "Presentations: confirmed presenters of held sessions (started, not cancelled); "
            "upcoming: confirmed for a session still to come. Working titles are not exported.",
        ],
    )


# --- Continuing-education hours ---------------------------------------------------------------

CE_COLUMNS = presenters_selectors.CREDIT_COLUMNS


def ce_table(program: Program) -> Table:
    """The credit summary of the attendance pages (members, former members and guests)."""
    people = presenters_selectors.credit_summary(program=program)
    return Table(
        "ce_hours",
        "CE hours",
        CE_COLUMNS,
        rows=[p.credit_row() for p in people],
        empty="Nobody has attended a held session yet, and no one is a member of a group.",
    )


def build_ce_hours(*, program: Program, params: dict, progress=None) -> ExportFile:
    progress = progress or _noop
    progress(0.1, "Adding up hours")
    return _file(program, "ce-hours", "csv", [ce_table(program)], "Continuing-education hours")


# --- Facilitator coverage ----------------------------------------------------------------------

FACILITATOR_COLUMNS = [
    "facilitator",
    "background",
    "active",
    "led_as_lead",
    "covered_as_backup",
    "absent",
    "upcoming_as_acting_lead",
]
COVER_COLUMNS = [
    "date",
    "group",
    "held",
    "lead",
    "acting_lead",
    "covered_by_backup",
    "absent",
    "gap",
]


def coverage_tables(program: Program, *, now=None) -> list[Table]:
    """Who led each scheduled session (held or upcoming) and, per facilitator, the counts.

    The assignments that count for a session are those running on its date; the lead leads
    unless absent, then the first backup who is not absent acts as lead; with nobody left the
    session is a gap.
    """
    now = now or timezone.now()
    sessions = list(
        Session.objects.filter(group__program=program, status=Session.Status.SCHEDULED)
        .select_related("group")
        .order_by("starts_at", "group__name")
    )
    assignments: dict[int, list[FacilitatorAssignment]] = {}
    for a in FacilitatorAssignment.objects.filter(group__program=program).select_related(
        "facilitator"
    ):
        assignments.setdefault(a.group_id, []).append(a)
    absences: dict[int, list[FacilitatorAbsence]] = {}
    for a in FacilitatorAbsence.objects.filter(session__group__program=program).select_related(
        "facilitator"
    ):
        absences.setdefault(a.session_id, []).append(a)
    facilitators = {f.pk: f for f in Facilitator.objects.filter(program=program)}
    counts = {pk: {"lead": 0, "backup": 0, "absent": 0, "upcoming": 0} for pk in facilitators}
    cover_rows = []
    for s in sessions:
        day = program.local_day(s.starts_at)
        running = [
            a
            for a in assignments.get(s.group_id, [])
            if a.starts_on <= day and (a.ends_on is None or a.ends_on >= day)
        ]
        cover = cover_of(facilitations=running, absences=absences.get(s.pk, []))
        held = s.starts_at <= now
        acting = cover.acting_lead
        by_backup = acting is not None and acting != cover.lead
        if acting is not None and acting.pk in counts:
            if not held:
                counts[acting.pk]["upcoming"] += 1
            elif by_backup:
                counts[acting.pk]["backup"] += 1
            else:
                counts[acting.pk]["lead"] += 1
        if held:
            for f in cover.absent:
                if f.pk in counts:
                    counts[f.pk]["absent"] += 1
        cover_rows.append(
            [
                day,
                s.group.name,
                held,
                cover.lead.name if cover.lead else "",
                acting.name if acting else "",
                by_backup,
                ", ".join(f.name for f in cover.absent),
                cover.gap,
            ]
        )
    people = Table(
        "facilitators",
        "Per facilitator",
        FACILITATOR_COLUMNS,
        rows=[
            [
                f.name,
                f.get_background_display(),
                f.active,
                counts[f.pk]["lead"],
                counts[f.pk]["backup"],
                counts[f.pk]["absent"],
                counts[f.pk]["upcoming"],
            ]
            for f in sorted(facilitators.values(), key=lambda f: (f.name.lower(), f.pk))
        ],
        empty="The program has no facilitators yet.",
    )
    per_session = Table(
        "sessions",
        "Per session",
        COVER_COLUMNS,
        rows=cover_rows,
        empty="No sessions are scheduled yet.",
    )
    gaps = Table(
        "gaps",
        "Gaps",
        COVER_COLUMNS,
        rows=[r for r in cover_rows if r[-1]],
        empty="No gaps: every scheduled session has a facilitator available.",
    )
    return [people, per_session, gaps]


def build_facilitator_coverage(*, program: Program, params: dict, progress=None) -> ExportFile:
    progress = progress or _noop
    progress(0.1, "Reading the schedule and absences")
    tables = coverage_tables(program)
    progress(0.7, "Writing the file")
    return _file(
        program,
        "facilitator-coverage",
        params.get("format", "xlsx"),
        tables,
        "Facilitator coverage",
        notes=[
            "Scheduled sessions, held and upcoming (cancelled ones are left out). Led as "
            "lead: held sessions the facilitator led as the group's lead. Covered as backup: "
            "held sessions a backup led because the lead was absent (or the group had no "
            "lead). Gap: a session with no facilitator available.",
        ],
    )


# --- Registration ------------------------------------------------------------------------------


def _kind(key, label, description, build, formats, **options) -> ExportKind:
    return register(
        ExportKind(
            key=key,
            label=label,
            description=description,
            build=build,
            formats=formats,
            clean_params=format_params(formats),
            **options,
        )
    )


ATTENDANCE_FORMATS = ("xlsx", "csv-sessions", "csv-people", "csv-groups", "csv-program")
COVERAGE_FORMATS = ("xlsx", "csv-facilitators", "csv-sessions")

ROSTER_CSV = _kind(
    "roster_csv",
    "Roster (CSV)",
    "Every clinician on the roster in the import format, with their current group.",
    build_roster,
    ("csv",),
    perm="roster.export",
    group="People",
)
ROSTER_XLSX = _kind(
    "roster_xlsx",
    "Roster (Excel)",
    "The roster as an Excel workbook, with their current group.",
    build_roster,
    ("xlsx",),
    perm="roster.export",
    group="People",
    background=True,
)
ATTENDANCE = _kind(
    "attendance",
    "Attendance",
    "Attendance per session, person and group, and the program's rates against the eligible "
    "clinicians.",
    build_attendance,
    ATTENDANCE_FORMATS,
    group="Program",
    background=True,
)
PRESENTATIONS = _kind(
    "presentations",
    "Presentations",
    "Who presented a case this academic year, and how often.",
    build_presentations,
    ("csv", "xlsx"),
    group="Program",
)
CE_HOURS = _kind(
    "ce_hours",
    "Continuing-education hours",
    "Sessions attended and credit hours per person, for the continuing-education office.",
    build_ce_hours,
    ("csv",),
    group="People",
)
FACILITATOR_COVERAGE = _kind(
    "facilitator_coverage",
    "Facilitator coverage",
    "Sessions each facilitator led, sessions covered by backups, and sessions with no "
    "facilitator available.",
    build_facilitator_coverage,
    COVERAGE_FORMATS,
    group="Program",
)
