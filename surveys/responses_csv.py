"""Responses CSV: one row per returned form, one column per question code.

The format is documented in docs/survey-responses-csv.md.

Checking never writes. It returns a report with the whole-file problem (if any), every row
problem with its line number and column, and a preview of the first clean rows. Importing
checks the same bytes again inside one transaction and writes every row, or nothing.

Validation reads the instrument and the wave's existing form numbers once, then checks each
row in memory with :class:`surveys.responses.AnswerRules` (the rules of
:func:`surveys.responses.answers_clean`, worked out once per file): no query per row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from ccdg.audit import acting_user, audit_record
from ccdg.csvread import CsvFileError, CsvRecord, CsvTable, csv_decode, csv_open

from . import linking
from .digest import responses_changed
from .models import Response, ResponseImport, Wave
from .responses import AnswerRules, QuestionSpec, choices_for, group_labels_for, question_specs

FORM_ID = "form_id"
EXCLUDED_REASON = "excluded_reason"
LINK_CODE = "link_code"  # the personal code of a wave of a series (surveys.linking)
OPTIONAL_COLUMNS = (FORM_ID, EXCLUDED_REASON, LINK_CODE)
FORM_ID_MAX = 40  # Response.form_id
EXCLUDED_REASON_MAX = 200  # Response.excluded_reason


def _max_bytes() -> int:
    """``CCDG_SURVEY_IMPORT_MAX_BYTES``, read when a file arrives."""
    return settings.SURVEY_IMPORT_MAX_BYTES


def _max_rows() -> int:
    return settings.SURVEY_IMPORT_MAX_ROWS


PREVIEW_ROWS = 20
# How many row problems a stored summary keeps (the report itself keeps them all).
SUMMARY_ERRORS = 500
BATCH_SIZE = 1000

_DECIMAL_CODE = re.compile(r"(\d+)[.,]0+")


@dataclass(frozen=True)
class RowError:
    """A problem in one row: ``row`` is the line number in the file (the header is line 1);
    ``column`` is the column's name, or "" for a problem with the whole row."""

    row: int
    column: str
    message: str


@dataclass
class ResponsesReport:
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: str = ""
    preview: list[dict[str, str]] = field(default_factory=list)
    excluded: int = 0
    created: int = 0
    # Row problems beyond those kept in a stored summary (see ``as_dict``).
    more_errors: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.file_error and not self.more_errors

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, for ``ResponseImport.summary``; keeps the first 500 row problems."""
        listed = self.errors[:SUMMARY_ERRORS]
        return {
            "rows": self.rows,
            "columns": list(self.columns),
            "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in listed],
            "more_errors": self.more_errors + len(self.errors) - len(listed),
            "file_error": self.file_error,
            "preview": [dict(p) for p in self.preview],
            "excluded": self.excluded,
            "created": self.created,
        }


def report_from_summary(summary: dict) -> ResponsesReport:
    """The report stored by :func:`responses_upload` or :func:`responses_confirm`."""
    summary = summary or {}
    return ResponsesReport(
        rows=int(summary.get("rows", 0)),
        columns=list(summary.get("columns", [])),
        errors=[
            RowError(row=int(e.get("row", 0)), column=e.get("column", ""), message=e["message"])
            for e in summary.get("errors", [])
        ],
        file_error=summary.get("file_error", ""),
        preview=[dict(p) for p in summary.get("preview", [])],
        excluded=int(summary.get("excluded", 0)),
        created=int(summary.get("created", 0)),
        more_errors=int(summary.get("more_errors", 0)),
    )


class ResponsesImportError(Exception):
    """The file cannot be imported; ``report`` says why. Nothing was saved."""

    def __init__(self, report: ResponsesReport):
        self.report = report
        if report.file_error:
            text = report.file_error
        else:
            total = len(report.errors) + report.more_errors
            text = f"{total} problem(s) in the file; nothing was imported."
        super().__init__(text)


# -- reading the file ------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    answers: dict[str, str]
    form_id: str
    excluded_reason: str
    link_hash: str = ""


def _size_problem(content: bytes) -> str:
    max_bytes = _max_bytes()
    if len(content) > max_bytes:
        return (
            f"The file is {len(content) / 1_048_576:.1f} MB; the limit is "
            f"{max_bytes / 1_048_576:.0f} MB. Split it into several files."
        )
    return ""


def _header_problems(names: list[str], specs: list[QuestionSpec], instrument) -> list[str]:
    codes = {s.code.lower() for s in specs}
    problems = []
    blank = [str(i) for i, n in enumerate(names, start=1) if n == ""]
    if blank:
        problems.append(
            f"Column(s) {', '.join(blank)} on line 1 have no name: remove the empty column(s) "
            "or name them with question codes."
        )
    unknown = [n for n in names if n and n not in codes and n not in OPTIONAL_COLUMNS]
    if unknown:
        problems.append(
            "Unknown column(s) on line 1: "
            + ", ".join(f"“{n}”" for n in dict.fromkeys(unknown))
            + f". The columns must be question codes of “{instrument.name}” (version "
            f"{instrument.version}): {', '.join(s.code for s in specs)}; or "
            f"{', '.join(OPTIONAL_COLUMNS[:-1])} and {OPTIONAL_COLUMNS[-1]}. The codebook "
            "lists them: "
            f"python manage.py survey_codebook {instrument.slug}."
        )
    repeated = [n for n in dict.fromkeys(names) if n and names.count(n) > 1]
    if repeated:
        problems.append(f"Column(s) named twice on line 1: {', '.join(repeated)}.")
    if not problems and not any(n in codes for n in names):
        problems.append(
            "Line 1 names no question code: the first line must name the columns, "
            f"for example {', '.join(s.code for s in specs[:3])}."
        )
    return problems


def _hint(value: str, choices: tuple[tuple[str, str], ...]) -> str:
    """A pointer to the code the person probably meant, for a refused value."""
    match = _DECIMAL_CODE.fullmatch(value)
    codes = [v for v, _ in choices]
    if match and match.group(1) in codes:
        return (
            f" Write the code as “{match.group(1)}”, not “{value}” (format the column as whole "
            "numbers or text in the spreadsheet)."
        )
    for code, _label in choices:
        if value.lower() == code.lower():
            return f" Codes are case-sensitive: write “{code}”."
    for code, label in choices:
        if value.lower() == label.lower():
            return f" Write the value code “{code}”, not its label."
    return ""


@dataclass
class _Columns:
    """A file's header resolved against the wave, with what checking its rows reads from the
    database (once) and remembers from row to row."""

    names: list[str]  # the header as reported: question codes as the instrument spells them
    questions: list[tuple[int, str]]  # (cell index, question code)
    form: int | None  # cell index of form_id, if the file has that column
    reason: int | None  # cell index of excluded_reason, if the file has that column
    code: int | None  # cell index of link_code, if the file has that column
    code_recipe: tuple | None  # the program's recipe, if the wave links by personal code
    program_id: int
    specs: list[QuestionSpec]
    by_code: dict[str, QuestionSpec]
    labels: list[str] | None
    rules: AnswerRules
    existing_forms: set[str]  # form numbers already entered in the wave
    seen_forms: dict[str, int] = field(default_factory=dict)  # form number -> line
    seen_rows: dict[tuple[str, ...], int] = field(default_factory=dict)  # cells -> line


def _parse(wave: Wave, content: bytes) -> tuple[ResponsesReport, list[_Row]]:
    """Check the whole file against the wave. Reads the database a fixed number of times."""
    report = ResponsesReport()
    report.file_error = _size_problem(content)
    if report.file_error:
        return report, []
    try:
        table = csv_open(content)
    except CsvFileError as exc:
        report.file_error = exc.message
        return report, []
    columns = _read_header(wave, table.header.cells, report)
    if columns is None:
        return report, []
    clean_rows: list[_Row] = []
    try:
        for record in table.rows:
            row = _check_row(table, record, columns, report)
            if row is not None:
                clean_rows.append(row)
    except CsvFileError as exc:
        # A file refused halfway reports only why: its rows so far are no use to anybody.
        report.file_error = exc.message
        report.errors.clear()
        report.rows, report.preview, report.excluded = 0, [], 0
        return report, []
    if report.rows == 0:
        report.file_error = "The file has a header but no responses."
    return report, clean_rows


def _read_header(wave: Wave, header: list[str], report: ResponsesReport) -> _Columns | None:
    """Check line 1 against the wave's instrument and record the columns in ``report``; None
    (with ``report.file_error`` saying why) when the columns are not the instrument's."""
    instrument = wave.instrument
    specs = question_specs(instrument)
    by_lower = {s.code.lower(): s for s in specs}
    labels = group_labels_for(wave)
    names = [h.strip().lower() for h in header]
    problems = _header_problems(names, specs, instrument)
    report.columns = [by_lower[n].code if n in by_lower else n for n in names]
    if problems:
        report.file_error = " ".join(problems)
        return None
    columns = report.columns
    form = columns.index(FORM_ID) if FORM_ID in columns else None
    existing_forms: set[str] = set()
    if form is not None and wave.pk is not None:
        existing_forms = set(
            Response.objects.filter(wave=wave).exclude(form_id="").values_list("form_id", flat=True)
        )
    return _Columns(
        names=columns,
        questions=[(i, c) for i, c in enumerate(columns) if c not in OPTIONAL_COLUMNS],
        form=form,
        reason=columns.index(EXCLUDED_REASON) if EXCLUDED_REASON in columns else None,
        code=columns.index(LINK_CODE) if LINK_CODE in columns else None,
        code_recipe=(
            linking.recipe_for(wave.program_id)
            if LINK_CODE in columns and linking.asks_code(wave)
            else None
        ),
        program_id=wave.program_id,
        specs=specs,
        by_code={s.code: s for s in specs},
        labels=labels,
        rules=AnswerRules(specs, labels),
        existing_forms=existing_forms,
    )


def _check_row(
    table: CsvTable, record: CsvRecord, columns: _Columns, report: ResponsesReport
) -> _Row | None:
    """Check one row: its width, its answers, its form number (or, without one, that it does
    not repeat an earlier row) and its exclusion reason. Its problems go to ``report``; a clean
    row is counted, previewed and returned. Raises :class:`CsvFileError` past the row limit."""
    line = record.line
    cells = [c.strip() for c in record.cells]
    report.rows += 1
    if report.rows > _max_rows():
        raise CsvFileError(
            f"The file has more than {_max_rows():,} responses (line {line} and beyond). "
            "Split it into several files."
        )
    width_problem = table.width_problem(record)
    if width_problem:
        report.errors.append(RowError(line, "", width_problem))
        return None
    answers = {code: cells[i] for i, code in columns.questions}
    clean, row_errors = _answer_errors(line, answers, columns)
    form_id = cells[columns.form] if columns.form is not None else ""
    reason = cells[columns.reason] if columns.reason is not None else ""
    if form_id:
        row_errors += _form_id_errors(line, form_id, columns)
    else:
        row_errors += _repeated_row_errors(line, tuple(cells), columns)
    hashed = ""
    if columns.code is not None and cells[columns.code]:
        hashed, code_errors = _code_hash(line, cells[columns.code], columns)
        row_errors += code_errors
    if len(reason) > EXCLUDED_REASON_MAX:
        row_errors.append(
            RowError(
                line, EXCLUDED_REASON, f"Keep the reason under {EXCLUDED_REASON_MAX} characters."
            )
        )
    if row_errors:
        report.errors.extend(row_errors)
        return None
    if reason:
        report.excluded += 1
    if len(report.preview) < PREVIEW_ROWS:
        report.preview.append(_preview(clean, form_id, reason, hashed, columns))
    return _Row(line, clean, form_id, reason, hashed)


def _code_hash(line: int, text: str, columns: _Columns) -> tuple[str, list[RowError]]:
    """The keyed hash of a row's personal code, or why it cannot be taken."""
    if columns.code_recipe is None:
        return "", [
            RowError(
                line, LINK_CODE, "This wave does not link answers by personal code (it is not "
                "an anonymous wave of a series): leave the link_code column empty.",
            )
        ]  # fmt: skip
    try:
        code = linking.code_from_text(columns.code_recipe, text)
    except ValidationError as exc:
        return "", [RowError(line, LINK_CODE, exc.messages[0])]
    return linking.link_hash(columns.program_id, code), []


def _answer_errors(
    line: int, answers: dict[str, str], columns: _Columns
) -> tuple[dict[str, Any], list[RowError]]:
    """The row's answers cleaned against the instrument, or the problem of each refused one
    (with a hint at the code probably meant)."""
    try:
        return columns.rules.clean(answers), []
    except ValidationError as exc:
        row_errors = []
        for code, messages in exc.message_dict.items():
            for message in messages:
                message = message.removeprefix(f"{code}: ")
                spec = columns.by_code.get(code)
                value = answers.get(code, "")
                if spec is not None and value:
                    message += _hint(value, choices_for(spec, columns.labels))
                row_errors.append(RowError(line, code, message[:1].upper() + message[1:]))
        return {}, row_errors


def _form_id_errors(line: int, form_id: str, columns: _Columns) -> list[RowError]:
    """A form number must be short, appear once in the file and not be entered in the wave
    already; a new one is remembered."""
    if len(form_id) > FORM_ID_MAX:
        return [RowError(line, FORM_ID, f"Keep form numbers under {FORM_ID_MAX} characters.")]
    if form_id in columns.seen_forms:
        return [
            RowError(
                line,
                FORM_ID,
                f"Duplicates row {columns.seen_forms[form_id]}: form “{form_id}” is on both.",
            )
        ]
    if form_id in columns.existing_forms:
        return [RowError(line, FORM_ID, f"Form “{form_id}” is already entered in this wave.")]
    columns.seen_forms[form_id] = line
    return []


def _repeated_row_errors(line: int, key: tuple[str, ...], columns: _Columns) -> list[RowError]:
    """A row without a form number must not repeat an earlier row cell for cell (most likely
    the same form entered twice); a new one is remembered."""
    if key in columns.seen_rows:
        return [
            RowError(
                line,
                "",
                f"Duplicates row {columns.seen_rows[key]}: the two rows are identical in "
                "every cell. If they really are two forms with the same answers, "
                "add a form_id column with the number of each form to tell them "
                "apart.",
            )
        ]
    columns.seen_rows[key] = line
    return []


def _preview(
    clean: dict[str, Any], form_id: str, reason: str, hashed: str, columns: _Columns
) -> dict[str, str]:
    """A clean row as the preview shows it: every column of the file, answers as cleaned (a
    personal code as "given": the preview is kept until the import is confirmed, the code
    only ever as its hash)."""
    shown = {code: clean.get(code, "") for _, code in columns.questions}
    if columns.code is not None:
        shown[LINK_CODE] = "given" if hashed else ""
    if columns.form is not None:
        shown[FORM_ID] = form_id
    if columns.reason is not None:
        shown[EXCLUDED_REASON] = reason
    return {c: shown[c] for c in columns.names}


# -- services --------------------------------------------------------------------------------


def _insert(
    rows: list[_Row], *, wave_id: int, user_id: int | None, batch_id: int | None, now: datetime
) -> None:
    """Write the checked rows as responses: ``COPY`` on PostgreSQL, batched ``INSERT``s on
    SQLite, with the values prepared by the model's own fields.

    ``bulk_create`` builds a model instance and prepares every field of every row in Python,
    which took three quarters of the import time of a 50,000-row file. The rows are clean
    already (:func:`_parse`); the one constraint left to the database is the unique form
    number, whose violation raises ``IntegrityError`` as with any other write.
    """
    connection = connections[router.db_for_write(Response)]
    meta = Response._meta
    names = (
        "wave", "source", "form_id", "answers", "submitted_at", "excluded_reason",
        "entered_by", "import_batch", "link_hash",
    )  # fmt: skip
    fields = {name: meta.get_field(name) for name in names}
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(fields[name].column) for name in names)
    answers = fields["answers"]
    submitted_at = fields["submitted_at"].get_db_prep_save(now, connection)
    source = Response.Source.IMPORT.value

    def values(row: _Row) -> tuple:
        return (
            wave_id,
            source,
            row.form_id,
            answers.get_db_prep_save(row.answers, connection),
            submitted_at,
            row.excluded_reason,
            user_id,
            batch_id,
            row.link_hash,
        )

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(values(row))
            return
        placeholders = ", ".join(["%s"] * len(names))
        # Table and columns are the model's own names, quoted; the values are parameters.
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.executemany(sql, [values(row) for row in rows[start : start + BATCH_SIZE]])


def responses_check(*, wave: Wave, content: bytes) -> ResponsesReport:
    """Check a responses file against the wave and preview it. Writes nothing."""
    report, _ = _parse(wave, content)
    return report


def responses_import(
    *, wave: Wave, actor: Any, content: bytes, batch: ResponseImport | None = None
) -> ResponsesReport:
    """Import every row of the file into the wave, or nothing.

    Raises ``ResponsesImportError`` (with the report) when the file or any row has a problem,
    including a form number entered in the wave since the file was checked.
    """
    try:
        with transaction.atomic():
            # One import at a time per wave, so form numbers are checked against the latest.
            Wave.objects.select_for_update().filter(pk=wave.pk).first()
            report, rows = _parse(wave, content)
            if not report.ok:
                raise ResponsesImportError(report)
            now = timezone.now()
            user = acting_user(actor)
            user_id = user.pk if user is not None else None
            batch_id = batch.pk if batch is not None else None
            _insert(rows, wave_id=wave.pk, user_id=user_id, batch_id=batch_id, now=now)
            responses_changed(
                wave_id=wave.pk, added=[(row.answers, row.excluded_reason) for row in rows]
            )
            report.created = len(rows)
            audit_record(
                actor=actor,
                action="survey.responses_import",
                obj=wave,
                program_id=wave.program_id,
                data={
                    "wave": wave.pk,
                    "rows": report.created,
                    "excluded": report.excluded,
                    "batch": batch.pk if batch is not None else None,
                },
            )
    except IntegrityError as exc:
        # A form number entered meanwhile, between the check and the insert.
        report = responses_check(wave=wave, content=content)
        if report.ok:
            report.file_error = "Responses were entered in this wave meanwhile; try again."
        raise ResponsesImportError(report) from exc
    return report


def responses_upload(*, wave: Wave, actor: Any, filename: str, content: bytes) -> ResponseImport:
    """Keep an uploaded file as a draft, with its checked preview in ``summary``.

    Refuses (``ValidationError``) a file over the size limit or that is not UTF-8 text; a file
    with problems in its columns or rows is kept, and its summary lists them.
    """
    problem = _size_problem(content)
    if problem:
        raise ValidationError(problem)
    try:
        csv_decode(content)
    except CsvFileError as exc:
        raise ValidationError(exc.message) from None
    report = responses_check(wave=wave, content=content)
    name = (filename or "responses.csv").replace("\\", "/").rsplit("/", 1)[-1]
    return ResponseImport.objects.create(
        wave=wave,
        uploaded_by=acting_user(actor),
        filename=name[:255],
        content=content,
        summary=report.as_dict(),
    )


def responses_confirm(*, draft: ResponseImport, actor: Any) -> ResponsesReport:
    """Import a previewed draft into its wave and drop the file's content.

    Raises ``ValidationError`` if the draft was already imported, ``ResponsesImportError``
    if the file no longer imports cleanly (the draft's summary then shows the new problems).
    """
    try:
        with transaction.atomic():
            locked = (
                ResponseImport.objects.select_for_update()
                .select_related("wave__instrument")
                .get(pk=draft.pk)
            )
            if locked.committed_at is not None or locked.content is None:
                raise ValidationError("This file was already imported.")
            report = responses_import(
                wave=locked.wave, actor=actor, content=bytes(locked.content), batch=locked
            )
            locked.committed_at = timezone.now()
            locked.content = None
            locked.summary = report.as_dict()
            locked.save(update_fields=["committed_at", "content", "summary"])
    except ResponsesImportError as exc:
        ResponseImport.objects.filter(pk=draft.pk).update(summary=exc.report.as_dict())
        draft.summary = exc.report.as_dict()
        raise
    draft.committed_at, draft.content, draft.summary = (
        locked.committed_at,
        None,
        locked.summary,
    )
    return report


__all__ = [
    "ResponsesImportError",
    "ResponsesReport",
    "RowError",
    "report_from_summary",
    "responses_check",
    "responses_confirm",
    "responses_import",
    "responses_upload",
]
