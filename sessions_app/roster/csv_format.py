"""Roster CSV: the one format for import and export (documented in docs/roster-csv.md).

Parsing never writes. It returns a report with every problem of the file and of each row,
and what committing would do to each clinician (create, update, unchanged). Committing
re-parses the same bytes and writes everything in one transaction, or nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ccdg.csvread import CsvFileError, csv_open
from ccdg.spreadsheets import csv_writer
from sessions_app.programs.models import Program
from sessions_app.roster.models import Clinician, Discipline, Gender

COLUMNS: tuple[str, ...] = (
    "email",
    "first_name",
    "last_name",
    "discipline",
    "gender",
    "years_at_institution",
    "patient_care_halfdays",
    "status",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("email", "first_name", "last_name", "discipline")
EMAIL_MAX = Clinician._meta.get_field("email").max_length  # the email rules allow up to 320
# The fields a row may set on a clinician, in the order of the columns.
FIELDS: tuple[str, ...] = COLUMNS


def _choices_lookup(choices, extra: dict[str, str]) -> dict[str, str]:
    """Accept a value's code or its label, in any case, plus a few common abbreviations."""
    lookup = {}
    for code, label in choices:
        lookup[code.lower()] = code
        lookup[label.lower()] = code
        lookup[code.replace("_", " ").lower()] = code
    lookup.update(extra)
    return lookup


DISCIPLINES = _choices_lookup(
    Discipline.choices,
    {
        "np": Discipline.NURSE_PRACTITIONER,
        "pa": Discipline.PHYSICIAN_ASSISTANT,
        "sw": Discipline.SOCIAL_WORKER,
        "lcsw": Discipline.SOCIAL_WORKER,
        "pharmd": Discipline.PHARMACIST,
        "clinical_pharmacist": Discipline.PHARMACIST,
        "rn": Discipline.NURSE,
        "md": Discipline.PHYSICIAN,
        "do": Discipline.PHYSICIAN,
    },
)
GENDERS = _choices_lookup(
    Gender.choices,
    {"f": Gender.FEMALE, "m": Gender.MALE, "non-binary": Gender.NONBINARY, "": Gender.UNDISCLOSED},
)
STATUSES = _choices_lookup(Clinician.Status.choices, {})


def field_label(name: str) -> str:
    """A clinician field as people call it (its verbose name): "years at institution", not
    ``years_at_institution``."""
    return str(Clinician._meta.get_field(name).verbose_name)


def shown_value(name: str, value: Any) -> str:
    """A clinician field's value as the pages show it: a choice by its label, blank as "—"."""
    if value is None or value == "":
        return "—"
    choices = dict(Clinician._meta.get_field(name).flatchoices)
    return str(choices.get(value, value))


@dataclass(frozen=True)
class Change:
    """One value an import row changes on a clinician, in words."""

    name: str  # the field
    label: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.label}: {self.old} → {self.new}"


@dataclass
class RowReport:
    line: int
    raw: dict[str, str]
    errors: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    action: str = ""  # create, update or unchanged; empty when the row has errors
    changes: list[str] = field(default_factory=list)
    current: Clinician | None = None  # the clinician this row updates, if any

    @property
    def cells(self) -> dict[str, str]:
        """Every column's text as written, "" for a column the row lacks (for display)."""
        return {name: self.raw.get(name, "") for name in COLUMNS}

    @property
    def discipline_label(self) -> str:
        """The discipline as the program names it, or as written when it is not understood."""
        code = self.values.get("discipline")
        return Discipline(code).label if code else self.raw.get("discipline", "")

    @property
    def changes_shown(self) -> list[Change]:
        """What the row changes on its clinician, for the preview: each field by its label,
        with the value now and the value after importing."""
        if self.current is None:
            return []
        return [
            Change(
                name=name,
                label=field_label(name),
                old=shown_value(name, getattr(self.current, name)),
                new=shown_value(name, self.values[name]),
            )
            for name in self.changes
        ]


@dataclass
class RosterReport:
    file_errors: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[RowReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.file_errors and bool(self.rows) and not any(r.errors for r in self.rows)

    @property
    def error_rows(self) -> list[RowReport]:
        return [r for r in self.rows if r.errors]

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    def summary(self) -> dict[str, int]:
        return {
            "rows": len(self.rows),
            "create": self.count("create"),
            "update": self.count("update"),
            "unchanged": self.count("unchanged"),
            "errors": len(self.error_rows) + len(self.file_errors),
        }


def _int_in_range(value: str, low: int, high: int, label: str, errors: list[str]) -> int | None:
    if value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        errors.append(f"{label} must be a whole number, not “{value}”.")
        return None
    if not low <= number <= high:
        errors.append(f"{label} must be between {low} and {high}, not {number}.")
        return None
    return number


def _choice(value: str, lookup: dict[str, str], label: str, allowed, errors: list[str]):
    code = lookup.get(value.strip().lower())
    if code is None:
        errors.append(f"Unknown {label} “{value}”. Use one of: {', '.join(c for c, _ in allowed)}.")
    return code


def _validate_row(row: RowReport, seen: dict[str, int]) -> None:
    """Check one row, column by column in the file's order: its errors in ``row.errors``, the
    cleaned values in ``row.values``. ``seen`` maps each valid email to its first line."""
    _check_email(row, seen)
    _check_names(row)
    _check_discipline(row)
    _check_optional_columns(row)


def _check_email(row: RowReport, seen: dict[str, int]) -> None:
    """The email, lowercased: present, not too long, valid, and on no earlier line. Kept in
    ``values`` unless it is missing or too long."""
    email = row.raw.get("email", "").strip().lower()
    if not email:
        row.errors.append("Email is missing.")
        return
    if len(email) > EMAIL_MAX:
        row.errors.append(f"The email is longer than {EMAIL_MAX} characters.")
        return
    try:
        validate_email(email)
    except ValidationError:
        row.errors.append(f"“{row.raw['email'].strip()}” is not a valid email address.")
    else:
        if email in seen:
            row.errors.append(f"Duplicate: {email} is already on line {seen[email]}.")
        else:
            seen[email] = row.line
    row.values["email"] = email


def _check_names(row: RowReport) -> None:
    """The first and last name: present and at most 100 characters."""
    for name, label in (("first_name", "First name"), ("last_name", "Last name")):
        text = row.raw.get(name, "").strip()
        if not text:
            row.errors.append(f"{label} is missing.")
        elif len(text) > 100:
            row.errors.append(f"{label} is longer than 100 characters.")
        row.values[name] = text


def _check_discipline(row: RowReport) -> None:
    """The discipline: present, and a known one (code, label or abbreviation)."""
    if not row.raw.get("discipline", "").strip():
        row.errors.append("Discipline is missing.")
    else:
        row.values["discipline"] = _choice(
            row.raw["discipline"], DISCIPLINES, "discipline", Discipline.choices, row.errors
        )


# The optional number columns: (column, lowest, highest, label).
_NUMBER_COLUMNS = (
    ("years_at_institution", 0, 70, "Years at the institution"),
    ("patient_care_halfdays", 0, 14, "Half-days of patient care"),
)


def _check_optional_columns(row: RowReport) -> None:
    """The optional columns, when the file has them: gender, the numbers in their ranges, and
    the status (when not blank)."""
    raw, errors, values = row.raw, row.errors, row.values
    if "gender" in raw:
        values["gender"] = _choice(raw["gender"], GENDERS, "gender", Gender.choices, errors)
    for name, low, high, label in _NUMBER_COLUMNS:
        if name in raw:
            values[name] = _int_in_range(raw[name].strip(), low, high, label, errors)
    if raw.get("status", "").strip():
        values["status"] = _choice(
            raw["status"], STATUSES, "status", Clinician.Status.choices, errors
        )


def roster_csv_parse(*, program: Program, content: bytes) -> RosterReport:
    """Check a roster file completely and say what committing it would do. Writes nothing."""
    report = RosterReport()
    limit = settings.ROSTER_IMPORT_MAX_BYTES
    if len(content) > limit:
        report.file_errors.append(
            f"The file is {len(content) / 1_048_576:.1f} MB; the limit is "
            f"{limit / 1_048_576:.1f} MB. A roster needs one row per clinician: "
            "remove other data or split the file."
        )
        return report
    try:
        table = csv_open(content, cell_word="field")
    except CsvFileError as exc:
        report.file_errors.append(exc.message)
        return report
    columns = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in table.header.cells]
    report.columns = columns
    unknown = [h for h in columns if h not in COLUMNS]
    if unknown:
        report.file_errors.append(
            "Unknown column(s) on line 1: "
            + ", ".join(f"“{h}”" for h in unknown)
            + f". Allowed columns: {', '.join(COLUMNS)}."
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        report.file_errors.append(f"Missing required column(s) on line 1: {', '.join(missing)}.")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        report.file_errors.append(f"Column(s) named twice on line 1: {', '.join(repeated)}.")
    if report.file_errors:
        return report

    seen: dict[str, int] = {}
    max_rows = settings.ROSTER_IMPORT_MAX_ROWS
    try:
        for record in table.rows:
            if len(report.rows) >= max_rows:
                report.file_errors.append(
                    f"The file has more than {max_rows:,} clinicians (line {record.line} and "
                    "beyond). A roster this large is almost certainly the wrong file."
                )
                report.rows = []
                return report
            # What the row holds, even when it does not fit the header, so the preview shows
            # which row is meant.
            row = RowReport(line=record.line, raw=dict(zip(columns, record.cells, strict=False)))
            # No roster value holds a line break: a row over several lines is a quote left open.
            problem = table.width_problem(record) or table.line_break_problem(record)
            if problem:
                row.errors.append(problem)
            else:
                _validate_row(row, seen)
            report.rows.append(row)
    except CsvFileError as exc:
        report.file_errors.append(exc.message)
        report.rows = []
        return report
    if not report.rows:
        report.file_errors.append("The file has a header but no clinicians.")
        return report
    _plan(program, report)
    return report


def _plan(program: Program, report: RosterReport) -> None:
    """Say for each valid row whether it creates, updates or leaves a clinician unchanged."""
    existing = {c.email.lower(): c for c in Clinician.objects.filter(program=program)}
    for row in report.rows:
        if row.errors:
            continue
        current = row.current = existing.get(row.values["email"])
        if current is None:
            row.action = "create"
            continue
        row.changes = [
            name
            for name, value in row.values.items()
            if name != "email" and getattr(current, name) != value
        ]
        row.action = "update" if row.changes else "unchanged"


def roster_csv_export(*, clinicians) -> str:
    """The roster as CSV text, in the import format (so an export can be edited and re-imported)."""
    out = io.StringIO()
    writer = csv_writer(out)  # every cell guarded against spreadsheet formulas
    writer.writerow(COLUMNS)
    for c in clinicians:
        writer.writerow(
            [
                c.email,
                c.first_name,
                c.last_name,
                c.discipline,
                c.gender,
                "" if c.years_at_institution is None else c.years_at_institution,
                "" if c.patient_care_halfdays is None else c.patient_care_halfdays,
                c.status,
            ]
        )
    return out.getvalue()
