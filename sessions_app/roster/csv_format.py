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
    raw, errors, values = row.raw, row.errors, row.values
    email = raw.get("email", "").strip().lower()
    if not email:
        errors.append("Email is missing.")
    elif len(email) > EMAIL_MAX:
        errors.append(f"The email is longer than {EMAIL_MAX} characters.")
    else:
        try:
            validate_email(email)
        except ValidationError:
            errors.append(f"“{raw['email'].strip()}” is not a valid email address.")
        else:
            if email in seen:
                errors.append(f"Duplicate: {email} is already on line {seen[email]}.")
            else:
                seen[email] = row.line
        values["email"] = email
    for name, label in (("first_name", "First name"), ("last_name", "Last name")):
        text = raw.get(name, "").strip()
        if not text:
            errors.append(f"{label} is missing.")
        elif len(text) > 100:
            errors.append(f"{label} is longer than 100 characters.")
        values[name] = text
    if not raw.get("discipline", "").strip():
        errors.append("Discipline is missing.")
    else:
        values["discipline"] = _choice(
            raw["discipline"], DISCIPLINES, "discipline", Discipline.choices, errors
        )
    if "gender" in raw:
        values["gender"] = _choice(raw["gender"], GENDERS, "gender", Gender.choices, errors)
    if "years_at_institution" in raw:
        values["years_at_institution"] = _int_in_range(
            raw["years_at_institution"].strip(), 0, 70, "Years at the institution", errors
        )
    if "patient_care_halfdays" in raw:
        values["patient_care_halfdays"] = _int_in_range(
            raw["patient_care_halfdays"].strip(), 0, 14, "Half-days of patient care", errors
        )
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
