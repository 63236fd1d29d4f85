"""Survey exports: a wave's responses as a de-identified research package, and the analysis
results as a workbook.

``survey_responses`` (ZIP) holds ``responses.csv`` (one row per returned response, value
codes, no link to people and no dates), ``codebook.csv``, ``load_responses.R`` (base R: reads
the CSV and applies the labels), ``load_responses.sps`` (SPSS syntax doing the same) and a
``README.txt``. Free text the identifier guard (:func:`ccdg.phi.scan`) flags is withheld. An
option blanks demographic answers until no combination of them describes fewer than
``min_cell`` respondents (:func:`suppress_small_cells`); ``min_cell`` defaults to the
program's small-cell threshold ``k``.

``analysis_workbook`` (XLSX) lays out the results of the wave's latest finished analysis run
(schema: ``docs/analysis-json.md``) as journal tables, read through
:func:`analysis.runs.services.run_results` (the small-cell rule of
:mod:`analysis.runs.disclosure`). See ``docs/survey-export.md``.
"""

from __future__ import annotations

import io
import re
import textwrap
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.crypto import salted_hmac

from analysis.exports.services import (
    CONTENT_TYPES,
    ExportFile,
    ExportKind,
    Progress,
    register,
    safe_filename,
)
from analysis.runs import disclosure
from analysis.runs.compute import demographic_questions
from analysis.runs.models import AnalysisRun
from analysis.runs.selectors import run_results
from analysis.runs.summary import group_name, percent, summary_paragraph
from analysis.runs.summary import p_cell as _summary_p_cell
from ccdg import phi
from ccdg.spreadsheets import csv_writer, xlsx_cell
from surveys import waves as survey_waves
from surveys.models import Question, Response, Wave
from surveys.responses import group_labels_for
from surveys.services import codebook as instrument_codebook

WITHHELD = "[withheld: may identify a patient]"
MIN_CELL_RANGE = (2, 50)
GROUP_CODE = "group"
ORDERED_TYPES = {Question.Type.AGREEMENT5, Question.Type.CHALLENGE4, Question.Type.RATING5}
EXTRA_COLUMNS = ("excluded_reason", "pilot")
CODEBOOK_COLUMNS = ("code", "section", "text", "type", "value", "label", "positive")


# -- shared helpers -------------------------------------------------------------------------


def guarded(text: str) -> str:
    """``text``, or the withheld marker when the identifier guard flags it."""
    return WITHHELD if text and phi.scan(text) else text


def _wave_get(program: Any, slug: Any) -> Wave:
    if not isinstance(slug, str) or not slug.strip():
        raise ValidationError("Choose the survey wave to export.")
    try:
        return Wave.objects.select_related("program", "instrument").get(
            program=program, slug=slug.strip()
        )
    except Wave.DoesNotExist:
        raise ValidationError(
            f"This program has no survey wave “{slug.strip()[:60]}”: choose one of its waves."
        ) from None


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValidationError(f"“{name}” must be yes or no, not “{str(value)[:20]}”.")


# -- survey responses: parameters -------------------------------------------------------------


def clean_responses_params(program: Any, params: dict) -> dict:
    wave = _wave_get(program, params.get("wave"))
    suppress = _bool(params.get("suppress_small_cells"), "suppress_small_cells")
    raw = params.get("min_cell")
    if raw in (None, ""):
        # The program's small-cell threshold, the one its analysis pages use.
        min_cell = int(program.small_cell_k)
    else:
        try:
            min_cell = int(str(raw).strip())
        except ValueError:
            raise ValidationError(
                f"The smallest cell size must be a whole number, not “{str(raw)[:20]}”."
            ) from None
        low, high = MIN_CELL_RANGE
        if not low <= min_cell <= high:
            raise ValidationError(
                f"The smallest cell size must be between {low} and {high} (got {min_cell})."
            )
    return {"wave": wave.slug, "suppress_small_cells": suppress, "min_cell": min_cell}


# -- survey responses: the data ---------------------------------------------------------------


def demographic_codes(questions: list[dict]) -> list[str]:
    """The demographic questions' codes, by the analysis's own rule
    (:func:`analysis.runs.compute.demographic_questions`)."""
    return [q["code"] for q in demographic_questions(questions)]


def _one_line(text: str) -> str:
    """Line breaks inside an answer become spaces: one response is one line of the CSV, as
    SPSS's GET DATA needs."""
    return re.sub(r"\s*[\r\n]+\s*", " ", text).strip()


def _order_key(wave: Wave, pk: int) -> str:
    """A keyed, stable order that does not follow the order of submission."""
    return salted_hmac("ccdg.exports_survey.row-order", f"{wave.pk}:{pk}").hexdigest()


def _answer(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value).strip() if not isinstance(value, str) else value.strip()


def suppress_small_cells(rows: list[dict], codes: list[str], min_cell: int) -> tuple[int, int]:
    """Blank demographic answers in ``rows`` (in place) until every combination of the
    demographic answers ``codes`` that is not entirely blank is shared by ``min_cell`` rows
    or more. Returns (cells blanked, rows touched).

    The rule, applied in rounds until nothing changes: count the combinations (a blank
    answer is part of the combination); for each row whose combination is non-blank and
    rarer than ``min_cell``, blank one of its non-blank demographic answers — the one whose
    value is rarest in its column across the whole file, and on a tie the one latest in
    codebook order. Each round blanks at least one answer, so the rounds end; the result
    depends only on the rows, so it is the same every time.
    """
    if not codes or not rows:
        return 0, 0
    blanked = 0
    touched: set[int] = set()
    while True:
        combos = Counter(tuple(r[c] for c in codes) for r in rows)
        small = [
            i
            for i, r in enumerate(rows)
            if any(r[c] for c in codes) and combos[tuple(r[c] for c in codes)] < min_cell
        ]
        if not small:
            return blanked, len(touched)
        column_counts = {c: Counter(r[c] for r in rows) for c in codes}
        changes = []
        for i in small:
            row = rows[i]
            candidates = [
                (column_counts[c][row[c]], -pos, c) for pos, c in enumerate(codes) if row[c]
            ]
            changes.append((i, min(candidates)[2]))
        for i, code in changes:
            rows[i][code] = ""
            blanked += 1
            touched.add(i)


def _codebook_rows(questions: list[dict], data: list[dict], wave: Wave) -> list[dict]:
    """One row per question and value (free text: one row, value empty). The group question
    lists the program's groups (online wave) or the labels found on the forms (paper wave);
    a choice answer outside the codebook is listed after the others, labelled by itself."""
    program_groups = group_labels_for(wave)
    out = []
    for q in questions:
        values = [(v["value"], v["label"]) for v in q["values"]]
        if q["type"] != Question.Type.FREE_TEXT:
            known = {v for v, _ in values}
            if q["code"] == GROUP_CODE and not values and program_groups is not None:
                values = [(g, g) for g in program_groups]
                known = set(program_groups)
            found = sorted({r[q["code"]] for r in data if r[q["code"]]} - known)
            values += [(v, v) for v in found]
        base = {"code": q["code"], "section": q["section"], "text": q["text"], "type": q["type"]}
        if not values:
            out.append(base | {"value": "", "label": "", "positive": ""})
        for value, label in values:
            positive = "1" if value in q["positive"] else "0"
            out.append(base | {"value": value, "label": label, "positive": positive})
    return out


def _levels(codebook_rows: list[dict], code: str) -> list[tuple[str, str]]:
    return [(r["value"], r["label"]) for r in codebook_rows if r["code"] == code and r["value"]]


def _package_data(wave: Wave, params: dict) -> dict:
    questions = instrument_codebook(wave.instrument)
    codes = [q["code"] for q in questions]
    free = {q["code"] for q in questions if q["type"] == Question.Type.FREE_TEXT}
    responses = list(
        Response.objects.filter(wave=wave).only("pk", "answers", "excluded_reason", "wave_id")
    )
    responses.sort(key=lambda r: _order_key(wave, r.pk))
    rows, withheld = [], 0
    for r in responses:
        answers = r.answers if isinstance(r.answers, dict) else {}
        row = {}
        for code in codes:
            value = _answer(answers.get(code))
            if code in free and value:
                safe = guarded(_one_line(value))
                withheld += safe == WITHHELD
                value = safe
            row[code] = value
        reason = guarded(_one_line(r.excluded_reason))
        withheld += reason == WITHHELD
        row["excluded_reason"] = reason
        row["pilot"] = "1" if wave.is_pilot else "0"
        rows.append(row)
    demographics = demographic_codes(questions)
    suppressed = (0, 0)
    if params.get("suppress_small_cells"):
        suppressed = suppress_small_cells(rows, demographics, params["min_cell"])
    return {
        "questions": questions,
        "codes": codes,
        "rows": rows,
        "withheld": withheld,
        "demographics": demographics,
        "suppressed": suppressed,
        "codebook": _codebook_rows(questions, rows, wave),
    }


# -- survey responses: the files --------------------------------------------------------------


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    # Every cell guarded against spreadsheet formulas (the header too: codes are plain words).
    writer = csv_writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def responses_csv(data: dict) -> bytes:
    header = ["response", *data["codes"], *EXTRA_COLUMNS]
    rows = [
        [str(n), *(row[c] for c in data["codes"]), *(row[c] for c in EXTRA_COLUMNS)]
        for n, row in enumerate(data["rows"], start=1)
    ]
    return _csv(header, rows)


def codebook_csv(codebook_rows: list[dict]) -> bytes:
    return _csv(list(CODEBOOK_COLUMNS), [[r[c] for c in CODEBOOK_COLUMNS] for r in codebook_rows])


def _r_str(text: str) -> str:
    """An R string literal, ASCII only (non-ASCII characters as \\u{...} escapes)."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(" ")
        elif ord(ch) > 126:
            out.append(f"\\u{{{ord(ch):04x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _r_vector(items: list[str]) -> str:
    return "c(" + ", ".join(_r_str(i) for i in items) + ")"


def _variable_labels(data: dict) -> list[tuple[str, str]]:
    return [
        ("response", "Response number (in this file only)"),
        *((q["code"], q["text"]) for q in data["questions"]),
        ("excluded_reason", "Reason the response is left out of the analysis (blank: analysed)"),
        ("pilot", "Pilot wave (1 yes, 0 no)"),
    ]


@dataclass(frozen=True)
class LoaderColumn:
    """One column of an exported CSV file, as the R and SPSS loaders read it.

    ``kind``: "integer" (R integer), "factor" or "ordered" (R factor of ``levels``), "text"
    (R character; ``note`` becomes a comment in the R script). ``levels``: (value, label)
    pairs, the SPSS value labels too. ``spss_format``: the SPSS format when fixed; otherwise
    F8.0 for a factor whose values are whole numbers, a string wide enough for ``values``
    and the levels. ``measure``: the SPSS level ("ordinal", "nominal", "scale" or none).
    """

    code: str
    label: str
    kind: str = "text"
    levels: tuple[tuple[str, str], ...] = ()
    note: str = ""
    spss_format: str = ""
    measure: str = ""
    values: tuple[str, ...] = ()


def r_loader(header: list[str], csv_name: str, unit: str, columns: list[LoaderColumn]) -> bytes:
    """A base-R script (ASCII) that reads ``csv_name`` as text and builds ``df``: integers,
    factors with their labels, each column's label in ``attr(df[[code]], "label")`` and in
    ``var_labels``; it prints "<n> <unit>, <m> variables", ``str(df)`` and each factor's
    table. ``header``: the comment lines on top."""
    lines = [
        *header,
        "",
        f'df <- read.csv({_r_str(csv_name)}, colClasses = "character", na.strings = "",',
        '               check.names = FALSE, encoding = "UTF-8")',
    ]
    for c in columns:
        if c.kind == "integer":
            code = _r_str(c.code)
            lines.append(f"df[[{code}]] <- as.integer(df[[{code}]])")
    lines.append("")
    for c in columns:
        code = _r_str(c.code)
        if c.kind in ("factor", "ordered") and c.levels:
            ordered = ", ordered = TRUE" if c.kind == "ordered" else ""
            lines += [
                f"df[[{code}]] <- factor(df[[{code}]],",
                f"  levels = {_r_vector([v for v, _ in c.levels])},",
                f"  labels = {_r_vector([label for _, label in c.levels])}{ordered})",
            ]
        elif c.note:
            lines.append(f"# {c.code}: {c.note}")
    lines += ["", "var_labels <- c("]
    for i, c in enumerate(columns):
        comma = "," if i < len(columns) - 1 else ""
        lines.append(f"  {_r_str(c.code)} = {_r_str(c.label)}{comma}")
    lines += [
        ")",
        'for (v in names(var_labels)) attr(df[[v]], "label") <- var_labels[[v]]',
        "",
        f'cat(sprintf("%d {unit}, %d variables\\n", nrow(df), ncol(df)))',
        "str(df, give.attr = FALSE, vec.len = 2)",
        "for (v in names(df)) {",
        "  if (is.factor(df[[v]])) {",
        '    cat("\\n", v, ": ", var_labels[[v]], "\\n", sep = "")',
        '    print(table(df[[v]], useNA = "ifany"))',
        "  }",
        "}",
        "",
    ]
    return "\n".join(lines).encode("ascii")


FREE_TEXT_NOTE = "free text, kept as character"


def _response_columns(data: dict) -> list[LoaderColumn]:
    """The columns of ``responses.csv`` for the loaders."""
    labels = dict(_variable_labels(data))
    columns = [
        LoaderColumn("response", labels["response"], "integer", spss_format="F8.0",
                     measure="scale"),
    ]  # fmt: skip
    for q in data["questions"]:
        code = q["code"]
        levels = tuple(_levels(data["codebook"], code))
        ordered = q["type"] in ORDERED_TYPES
        values = tuple(row[code] for row in data["rows"])
        if q["type"] == Question.Type.FREE_TEXT or not levels:
            kind, note = "text", FREE_TEXT_NOTE
        else:
            kind, note = ("ordered" if ordered else "factor"), ""
        measure = "ordinal" if ordered else ("nominal" if levels else "")
        columns.append(
            LoaderColumn(code, labels[code], kind, levels, note, measure=measure, values=values)
        )
    columns += [
        LoaderColumn("excluded_reason", labels["excluded_reason"], "text",
                     values=tuple(row["excluded_reason"] for row in data["rows"])),
        LoaderColumn("pilot", labels["pilot"], "integer", (("0", "No"), ("1", "Yes")),
                     spss_format="F1.0", measure="nominal"),
    ]  # fmt: skip
    return columns


def load_responses_r(data: dict, wave: Wave) -> bytes:
    header = [
        f"# Survey responses of the wave {_r_str(wave.name)} ({wave.slug}), with labels.",
        "# Base R only (no packages). In the folder with responses.csv and codebook.csv run",
        "#   Rscript load_responses.R",
        '# or, in R: setwd("the/unzipped/folder"); source("load_responses.R")',
        '# The data frame is `df`; each column\'s question text is attr(df[[code]], "label")',
        "# and all of them are in the named vector `var_labels`.",
    ]
    return r_loader(header, "responses.csv", "responses", _response_columns(data))


_SPSS_RESERVED = {"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"}


def spss_names(codes: list[str]) -> dict[str, str]:
    """{column: SPSS variable name}: letters, digits and _, starting with a letter, at most 64
    characters, not a reserved word, unique."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for code in codes:
        name = re.sub(r"[^A-Za-z0-9_]", "_", code)
        if not name[:1].isalpha() or name.upper() in _SPSS_RESERVED:
            name = "v_" + name
        name = name[:60]
        candidate, n = name, 2
        while candidate.upper() in used:
            candidate, n = f"{name}_{n}", n + 1
        used.add(candidate.upper())
        out[code] = candidate
    return out


def _spss_str(text: str) -> str:
    """An SPSS string literal; long texts are split into pieces joined with +."""
    text = re.sub(r"[\r\n\t]+", " ", text)
    pieces = [text[i : i + 100] for i in range(0, len(text), 100)] or [""]
    return " +\n    ".join("'" + p.replace("'", "''") + "'" for p in pieces)


def _is_numeric(levels: list[tuple[str, str]]) -> bool:
    return bool(levels) and all(re.fullmatch(r"-?\d{1,9}", v) for v, _ in levels)


def spss_loader(
    header: list[str], csv_name: str, dataset: str, columns: list[LoaderColumn], notes: list[str]
) -> bytes:
    """SPSS syntax (UTF-8, CRLF) that reads ``csv_name`` (GET DATA) with each column's
    format, then VARIABLE LABELS, VALUE LABELS and VARIABLE LEVEL. ``header`` and ``notes``:
    the comment lines before and after."""
    names = spss_names([c.code for c in columns])
    formats = {}
    for c in columns:
        if c.spss_format:
            formats[c.code] = c.spss_format
        elif c.kind != "text" and _is_numeric(list(c.levels)):
            formats[c.code] = "F8.0"
        else:
            values = [*c.values, *(v for v, _ in c.levels)]
            width = max([1, *(len(v.encode("utf-8")) + 1 for v in values)])
            formats[c.code] = f"A{min(width, 32767)}"
    lines = [
        *header,
        "GET DATA",
        "  /TYPE=TXT",
        f"  /FILE={_spss_str(csv_name)}",
        "  /ENCODING='UTF8'",
        "  /ARRANGEMENT=DELIMITED",
        "  /DELCASE=LINE",
        "  /FIRSTCASE=2",
        "  /DELIMITERS=','",
        "  /QUALIFIER='\"'",
        "  /VARIABLES=",
    ]
    for i, c in enumerate(columns):
        end = "." if i == len(columns) - 1 else ""
        lines.append(f"    {names[c.code]} {formats[c.code]}{end}")
    lines.append(f"DATASET NAME {dataset} WINDOW=FRONT.")
    lines.append("VARIABLE LABELS")
    for i, c in enumerate(columns):
        lead = "  " if i == 0 else "  /"
        end = "." if i == len(columns) - 1 else ""
        lines.append(f"{lead}{names[c.code]} {_spss_str(c.label)}{end}")
    value_labels = [
        (names[c.code], c.levels, formats[c.code][0] == "F") for c in columns if c.levels
    ]
    if value_labels:
        lines.append("VALUE LABELS")
        for i, (name, levels, numeric) in enumerate(value_labels):
            lead = "  " if i == 0 else "  /"
            lines.append(f"{lead}{name}")
            for j, (value, label) in enumerate(levels):
                shown = value if numeric else _spss_str(value)
                end = "." if i == len(value_labels) - 1 and j == len(levels) - 1 else ""
                lines.append(f"    {shown} {_spss_str(label)}{end}")
    levels_cmd = [
        (measure.upper(), [names[c.code] for c in columns if c.measure == measure])
        for measure in ("ordinal", "nominal", "scale")
    ]
    levels_cmd = [(level, vars_) for level, vars_ in levels_cmd if vars_]
    if levels_cmd:
        lines.append("VARIABLE LEVEL")
    for i, (level, vars_) in enumerate(levels_cmd):
        lead = "  " if i == 0 else "  /"
        end = "." if i == len(levels_cmd) - 1 else ""
        lines.append(f"{lead}{' '.join(vars_)} ({level}){end}")
    lines += [*notes, "EXECUTE.", ""]
    return "\r\n".join(lines).encode("utf-8")


def load_responses_sps(data: dict, wave: Wave) -> bytes:
    header = [
        "* Encoding: UTF-8.",
        f"* Survey responses of the wave {wave.slug}, with labels.",
        "* Open this file in SPSS from the unzipped folder and run it all.",
        "* If SPSS does not find responses.csv, first run: CD 'the/unzipped/folder'.",
    ]
    notes = [
        "* Free-text variables are strings (nominal).",
        "* Blank cells are system-missing (numbers) or empty (text): no MISSING VALUES needed.",
    ]
    return spss_loader(header, "responses.csv", "responses", _response_columns(data), notes)


def _date(value: datetime | None) -> str:
    return timezone.localtime(value).date().isoformat() if value else "not set"


def readme_text(data: dict, wave: Wave, params: dict, built: datetime) -> bytes:
    fig = survey_waves.figures(wave)
    n = len(data["rows"])
    rate = f"{round(100 * fig.rate)}%" if fig.rate is not None else "not computable"
    lines = [
        f"Survey responses: {wave.program.name}, wave “{wave.name}” ({wave.slug})",
        "=" * 60,
        "",
        f"Instrument: {wave.instrument.name}, version {wave.instrument.version}",
        f"Wave: {wave.get_source_display()}; {wave.get_mode_display()}; "
        f"opened {_date(wave.opens_at)}, closing {_date(wave.closed_at or wave.closes_at)}"
        + ("; PILOT wave" if wave.is_pilot else ""),
        f"Exported: {built.isoformat(timespec='minutes')}",
        "",
        "Response line",
        f"  distributed {fig.distributed}, returned {fig.returned} (response rate {rate}), "
        f"excluded {fig.excluded}, analysed {fig.analysed}",
        "",
    ]
    if not n:
        lines += [
            "No responses were returned in this wave: responses.csv has its header row only.",
            "The codebook and the scripts are included so the format is known in advance.",
            "",
        ]
    lines += [
        "Files",
        f"  responses.csv      one row per returned response ({n} rows), one column per",
        "                     question code in codebook order, then excluded_reason and pilot.",
        "                     Cells hold value codes (see codebook.csv); blank = not answered",
        "                     (or suppressed, below). UTF-8, comma-separated.",
        "  codebook.csv       code, section, text, type, value, label, positive (1 = counted",
        "                     as the positive answer in the analysis); one row per value.",
        "  load_responses.R   base R: Rscript load_responses.R (in this folder) loads the data",
        "                     as `df` with labelled factors and question texts.",
        "  load_responses.sps SPSS syntax: GET DATA, VARIABLE LABELS, VALUE LABELS, levels.",
        "  README.txt         this file.",
        "",
        "De-identification",
        "  The data are de-identified: no names, e-mail addresses, recipient links or form",
        "  numbers, and no submission dates or times (in any wave, anonymous or confidential).",
        "  The column `response` numbers the rows of this file only; rows are in a scrambled",
        "  order that does not follow the order of submission.",
        "  Free-text answers (and exclusion reasons) the identifier guard flags are",
        f"  replaced by “{WITHHELD}”:",
        f"  {data['withheld']} answer(s) withheld in this file.",
        "",
        "Small-cell protection",
    ]
    if params.get("suppress_small_cells"):
        cells, rows = data["suppressed"]
        k = params["min_cell"]
        lines += [
            f"  Applied, minimum cell size {k}. Demographic questions:",
            *textwrap.wrap(
                ", ".join(data["demographics"]) + "." if data["demographics"] else "none.",
                width=76,
                initial_indent="    ",
                subsequent_indent="    ",
            ),
            "  Until every combination of their answers (blank counted as a value) that is not",
            f"  entirely blank is shared by at least {k} rows, each row in a smaller combination",
            "  has one demographic answer blanked: the value rarest in its column in the file,",
            "  the later question on a tie; repeated until no smaller combination is left.",
            f"  Cells suppressed: {cells} (in {rows} row(s)). A blank demographic cell may be",
            "  unanswered or suppressed.",
        ]
    else:
        k = wave.program.small_cell_k
        lines += [
            "  Not applied: demographic answers are exported as given. Combinations of",
            f"  demographic answers may describe fewer than {k} respondents (the program's",
            "  small-cell threshold); share with care.",
        ]
    lines.append("")
    return "\r\n".join(lines).encode("utf-8")


def build_survey_responses(*, program: Any, params: dict, progress=None) -> ExportFile:
    params = clean_responses_params(program, params)
    wave = _wave_get(program, params["wave"])
    step = progress or (lambda fraction, name: None)
    step(0.05, "Reading the responses")
    data = _package_data(wave, params)
    step(0.6, "Writing the files")
    built = timezone.localtime()
    files = {
        "README.txt": readme_text(data, wave, params, built),
        "responses.csv": responses_csv(data),
        "codebook.csv": codebook_csv(data["codebook"]),
        "load_responses.R": load_responses_r(data, wave),
        "load_responses.sps": load_responses_sps(data, wave),
    }
    step(0.9, "Packing the ZIP file")
    out = io.BytesIO()
    stamp = built.timetuple()[:6]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    step(1.0, "Done")
    return ExportFile(
        safe_filename(program.slug, wave.slug, "responses", ext="zip"),
        CONTENT_TYPES["zip"],
        out.getvalue(),
    )


# -- analysis workbook --------------------------------------------------------------------------


def clean_workbook_params(program: Any, params: dict) -> dict:
    wave = _wave_get(program, params.get("wave"))
    raw = params.get("run")
    if raw in (None, ""):
        return {"wave": wave.slug}
    try:
        run_id = int(str(raw).strip())
    except ValueError:
        raise ValidationError(
            f"The analysis run must be a number, not “{str(raw)[:20]}”."
        ) from None
    run = AnalysisRun.objects.filter(pk=run_id, wave=wave).only("status").first()
    if run is None:
        raise ValidationError(f"The wave “{wave.name}” has no analysis run {run_id}.")
    if run.status != AnalysisRun.Status.DONE:
        raise ValidationError(
            f"Analysis run {run_id} is {run.get_status_display().lower()}, not finished: "
            "choose a finished run."
        )
    return {"wave": wave.slug, "run": run_id}


def _pct_text(n: int, pct: float | None) -> str:
    return f"{n} ({percent(pct)})" if pct is not None else f"{n} (–)"


def p_cell(p: float | None) -> str:
    """A p-value as a journal table prints it (:func:`analysis.runs.summary.p_cell`)."""
    return _summary_p_cell(p)


class _Sheet:
    """A worksheet written row by row, with bold headers and sensible column widths."""

    def __init__(self, wb, title: str, widths: list[int], first: bool = False):
        from openpyxl.worksheet.page import PageMargins

        self.ws = wb.active if first else wb.create_sheet()
        self.ws.title = title
        self.row = 1
        for i, width in enumerate(widths, start=1):
            self.ws.column_dimensions[_col(i)].width = width
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.6)

    def write(self, *values, bold=False, wrap=False, italic=False, indent=0, formats=None):
        from openpyxl.styles import Alignment, Font

        for i, value in enumerate(values, start=1):
            if value is None:
                continue
            cell = xlsx_cell(self.ws, self.row, i, value)
            if bold or italic:
                cell.font = Font(bold=bold, italic=italic)
            if wrap or (indent and i == 1):
                cell.alignment = Alignment(
                    wrap_text=wrap, vertical="top", indent=indent if i == 1 else 0
                )
            if formats and i in formats:
                cell.number_format = formats[i]
        self.row += 1
        return self.row - 1

    def paragraph(self, text: str, span: int, height: int | None = None):
        from openpyxl.styles import Alignment

        row = self.write(text, wrap=True)
        self.ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=span)
        self.ws.cell(row=row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
        if height:
            self.ws.row_dimensions[row].height = height

    def skip(self, n: int = 1):
        self.row += n


def _col(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


PCT = "0"
DEC = "0.00"
HOW_TO_RUN = (
    "To run one: open the wave's page, choose Analysis and then “Run the analysis”, or on the "
    "server run: python manage.py run_analysis {program} {wave}. Then make this export again."
)


def _latest_run(wave: Wave, run_id: int | None) -> AnalysisRun | None:
    runs = AnalysisRun.objects.filter(wave=wave, status=AnalysisRun.Status.DONE)
    if run_id is not None:
        runs = runs.filter(pk=run_id)
    return runs.order_by("-created_at", "-pk").first()


def _summary_text(results: dict, program_name: str) -> str:
    reasons = (results.get("response") or {}).get("excluded_reasons") or {}
    if any(guarded(r) == WITHHELD for r in reasons):
        response = dict(results["response"])
        response["excluded_reasons"] = {guarded(r): n for r, n in sorted(reasons.items())}
        return summary_paragraph(results | {"response": response}, program_name=program_name)
    return results.get("summary") or summary_paragraph(results, program_name=program_name)


def _summary_sheet(wb, wave: Wave, run: AnalysisRun | None) -> None:
    s = _Sheet(wb, "Summary", [28, 22, 60], first=True)
    s.write(f"Analysis results: {wave.program.name}, {wave.name}", bold=True)
    s.write(f"Instrument: {wave.instrument.name}, version {wave.instrument.version}")
    s.skip()
    if run is None:
        s.write("No analysis has been run for this wave yet.", bold=True)
        s.paragraph(HOW_TO_RUN.format(program=wave.program.slug, wave=wave.slug), 3, 45)
        fig = survey_waves.figures(wave)
        s.skip()
        s.write("Response line (now)", bold=True)
        for label, value in (
            ("Distributed", fig.distributed),
            ("Returned", fig.returned),
            ("Excluded", fig.excluded),
            ("Analysed", fig.analysed),
        ):
            s.write(label, value)
        return
    results = runs_results(run, wave)
    line = results.get("response") or {}
    notice = disclosure.notice(results.get("meta") or {})
    if notice:
        s.write(notice, bold=True)
        s.skip()
    s.write("Response line", bold=True)
    for label, key in (
        ("Distributed", "distributed"),
        ("Returned", "returned"),
        ("Analysed", "analyzed"),
        ("Excluded", "excluded"),
    ):
        s.write(label, line.get(key))
    s.write("Response rate", line.get("rate"), formats={2: "0%"})
    for reason, n in sorted((line.get("excluded_reasons") or {}).items()):
        s.write(f"Excluded: {guarded(reason)}", n, indent=1)
    s.skip()
    s.write("Results", bold=True)
    s.paragraph(_summary_text(results, wave.program.name), 3, 300)
    s.skip()
    s.write("Analysis run", bold=True)
    s.write("Run", run.pk)
    s.write("Created", timezone.localtime(run.created_at).strftime("%Y-%m-%d %H:%M"))
    if run.finished_at:
        s.write("Finished", timezone.localtime(run.finished_at).strftime("%Y-%m-%d %H:%M"))
    s.write("Pilot responses included", "yes" if run.include_pilot else "no")
    s.write("Inputs fingerprint (SHA-256)", run.inputs_fingerprint)
    s.write("Code version", run.code_version)
    s.skip()
    s.paragraph(
        "Sheets: Table 1 (respondents), Table 2 (agreement items by group), Relevance, "
        "Stressors, Notes. Text cells such as “12 (57%)” are for printing; the n and % "
        "columns beside them hold the numbers.",
        3,
        45,
    )


def runs_results(run: AnalysisRun, wave: Wave) -> dict:
    """The run's results as every output shows them (small cells applied)."""
    return run_results(run, program=wave.program)


def _small_cells_footnote(s: _Sheet, results: dict, hidden: bool) -> None:
    k = disclosure.threshold(results)
    if hidden and k:
        s.write(disclosure.footnote(k), italic=True)


def _table1_sheet(wb, results: dict) -> None:
    s = _Sheet(wb, "Table 1", [44, 16, 10, 10])
    analysed = (results.get("response") or {}).get("analyzed", 0)
    s.write(f"Table 1. Characteristics of the respondents (N = {analysed})", bold=True)
    s.write("Characteristic", "n (%)", "n", "%", bold=True)
    s.ws.freeze_panes = "A3"
    s.ws.print_title_rows = "2:2"
    items = {i["question"]: i for i in results.get("table1_items") or []}
    k = disclosure.threshold(results)
    current = None
    any_hidden = False
    for row in results.get("table1") or []:
        if row["question"] != current:
            current = row["question"]
            item = items.get(current, {})
            missing = item.get("missing", 0)
            title = row["text"] + (f" (n = {item['n']}; {missing} missing)" if missing else "")
            s.write(title, bold=True)
        label = row["label"]
        if row["question"] == GROUP_CODE:
            label = group_name(label)
            label = label[:1].upper() + label[1:]
        hidden = disclosure.count_text(row, k)
        if hidden:
            any_hidden = True
            s.write(label, hidden, None, None, indent=1)
            continue
        s.write(
            label, _pct_text(row["n"], row["percent"]), row["n"], row["percent"],
            indent=1, formats={4: PCT},
        )  # fmt: skip
    if results.get("meta", {}).get("small_cells", {}).get("totals_only"):
        s.write(disclosure.TOTALS_ONLY_NOTE.format(k=k), italic=True)
    s.skip()
    s.write(
        "n (%) of the respondents who answered the question; missing answers are left out.",
        italic=True,
    )
    _small_cells_footnote(s, results, any_hidden)


def _table2_sheet(wb, results: dict) -> None:
    groups = (results.get("meta") or {}).get("groups") or []
    journal = 2 + len(groups) + 1  # item, overall, groups, p
    widths = [52, 16, *([14] * len(groups)), 9, 3, 9, 9, 9, *([9] * (3 * len(groups))), 10]
    s = _Sheet(wb, "Table 2", widths)
    s.write("Table 2. Agreement with each item, overall and by group", bold=True)
    head = [
        "Item",
        "Overall agree n (%)",
        *(f"{group_name(g).capitalize()} n (%)" for g in groups),
        "p",
    ]
    numbers = ["Overall n", "Overall agree", "Overall %"]
    for g in groups:
        numbers += [f"{g}: n", f"{g}: agree", f"{g}: %"]
    numbers.append("p (number)")
    s.write(*head, None, *numbers, bold=True, wrap=True)
    s.ws.freeze_panes = "B3"
    s.ws.print_title_rows = "2:2"
    s.ws.print_area = f"A1:{_col(journal)}{max(3, len(results.get('table2') or []) + 9)}"
    k = disclosure.threshold(results)
    any_hidden = False
    for row in results.get("table2") or []:
        overall = row["overall"]
        by_group = row.get("by_group") or {}
        p = row.get("p_value")
        p_shown = p_cell(p)
        if row.get("significant"):
            p_shown += "*"
        if (row.get("test") or {}).get("method") == "monte_carlo":
            p_shown += "†"
        texts = [
            disclosure.count_text(by_group[g], k)
            or _pct_text(by_group[g]["agree"], by_group[g]["percent"])
            for g in groups
        ]
        any_hidden = any_hidden or any(disclosure.is_hidden(by_group[g]) for g in groups)
        nums: list = [overall["n"], overall["agree"], overall["percent"]]
        formats = {journal + 4: PCT}
        for i, g in enumerate(groups):
            nums += [by_group[g]["n"], by_group[g]["agree"], by_group[g]["percent"]]
            formats[journal + 7 + 3 * i] = PCT
        nums.append(p)
        formats[journal + 2 + len(nums) - 1] = "0.0000"
        s.write(
            row["text"], _pct_text(overall["agree"], overall["percent"]), *texts, p_shown,
            None, *nums, wrap=True, formats=formats,
        )  # fmt: skip
    if not results.get("table2"):
        s.write("No agreement items were analysed.", italic=True)
    s.skip()
    s.write(
        "Agree: agree or strongly agree; n (%) of those who answered the item in each column.",
        italic=True,
    )
    s.write(
        "p: Fisher's exact test (two-sided) of agree vs. not across the groups with answers"
        + (", the hidden groups counted together as one" if any_hidden else "")
        + "; * p < .05; † Monte Carlo p-value (the exact test exceeded its time budget);"
        + " – not tested.",
        italic=True,
    )
    _small_cells_footnote(s, results, any_hidden)


def _decimal(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _mean_sd(stats: dict) -> str:
    if stats.get("mean") is None:
        return "–"
    return f"{_decimal(stats['mean'])} ({_decimal(stats.get('sd'))})"


def _relevance_sheet(wb, results: dict) -> None:
    s = _Sheet(wb, "Relevance", [48, 8, 14, 9, 9, 9, 22, 9, 10])
    s.write(
        "Relevance to daily practice (1 low to 5 high): mean (SD) overall and by group", bold=True
    )
    s.write(
        "Item / characteristic",
        "n",
        "Mean (SD)",
        "Mean",
        "SD",
        "Median",
        "Test",
        "p",
        "p (number)",
        bold=True,
    )
    s.ws.freeze_panes = "A3"
    s.ws.print_title_rows = "2:2"
    tests = {"rank_sum": "Wilcoxon rank-sum", "kruskal": "Kruskal-Wallis"}
    names = {i["question"]: i["text"] for i in results.get("table1_items") or []}
    k = disclosure.threshold(results)
    any_hidden = False
    for row in results.get("relevance") or []:
        o = row["overall"]
        s.write(row["text"], bold=True, wrap=True)
        s.write(
            "Overall", o["n"], _mean_sd(o), o["mean"], o["sd"],
            o["median"], indent=1, formats={4: DEC, 5: DEC, 6: DEC},
        )  # fmt: skip
        for code, by in (row.get("by") or {}).items():
            name = "Group" if code == GROUP_CODE else names.get(code, code)
            p = by.get("p_value")
            s.write(name, None, None, None, None, None, tests.get(by.get("test"), "not tested"),
                    p_cell(p), p, indent=1, italic=True, formats={9: "0.0000"})  # fmt: skip
            for value, level in (by.get("levels") or {}).items():
                hidden = disclosure.count_text(level, k)
                if hidden:
                    any_hidden = True
                    s.write(level.get("label") or value, hidden, indent=2)
                    continue
                s.write(
                    level.get("label") or value, level["n"],
                    _mean_sd(level), level["mean"],
                    level["sd"], level["median"], indent=2, formats={4: DEC, 5: DEC, 6: DEC},
                )  # fmt: skip
    if not results.get("relevance"):
        s.write("No rating items were analysed.", italic=True)
    s.skip()
    s.write(
        "Tests across the categories with answers: Wilcoxon rank-sum (two) or Kruskal-Wallis "
        "(three or more)"
        + (", the hidden categories counted together as one" if any_hidden else "")
        + "; – not tested.",
        italic=True,
    )
    _small_cells_footnote(s, results, any_hidden)


def _stressors_sheet(wb, results: dict) -> None:
    demographics = [i["question"] for i in results.get("table1_items") or []]
    names = {i["question"]: i["text"] for i in results.get("table1_items") or []}
    rows = results.get("stressors") or []
    for row in rows:
        for code in row.get("by") or {}:
            if code not in demographics:
                demographics.append(code)
    s = _Sheet(wb, "Stressors", [48, 14, 16, 8, 10, 8, *([14] * len(demographics))])
    s.write("Stressors: a moderate or serious challenge, and addressed by the group", bold=True)
    s.write(
        "Item", "Kind", "Positive n (%)", "n", "Positive", "%",
        *(f"p by {'group' if c == GROUP_CODE else names.get(c, c).lower()}" for c in demographics),
        bold=True, wrap=True,
    )  # fmt: skip
    s.ws.freeze_panes = "B3"
    s.ws.print_title_rows = "2:2"
    kinds = {"challenge": "Challenge", "addressed": "Addressed"}
    for row in rows:
        by = row.get("by") or {}
        s.write(
            row["text"], kinds.get(row["kind"], row["kind"]),
            _pct_text(row["positive"], row["percent"]), row["n"], row["positive"], row["percent"],
            *(p_cell((by.get(c) or {}).get("p_value")) for c in demographics),
            wrap=True, formats={6: PCT},
        )  # fmt: skip
    if not rows:
        s.write("No challenge or yes/no items were analysed.", italic=True)
    s.skip()
    s.write(
        "Positive: a moderate or serious challenge (challenge items), yes (addressed items). "
        "p: Fisher's exact test across the categories with answers; – not tested.",
        italic=True,
    )


def _notes_sheet(wb, results: dict) -> None:
    s = _Sheet(wb, "Notes", [110])
    s.write("Notes of the analysis", bold=True)
    notes = results.get("notes") or []
    for note in notes:
        s.write(guarded(note), wrap=True)
    if not notes:
        s.write("The analysis noted nothing degenerate.")


def build_analysis_workbook(*, program: Any, params: dict, progress=None) -> ExportFile:
    from openpyxl import Workbook

    params = clean_workbook_params(program, params)
    wave = _wave_get(program, params["wave"])
    step = progress or (lambda fraction, name: None)
    step(0.1, "Reading the analysis run")
    run = _latest_run(wave, params.get("run"))
    wb = Workbook()
    _summary_sheet(wb, wave, run)
    if run is not None:
        results = runs_results(run, wave)
        step(0.4, "Writing the tables")
        _table1_sheet(wb, results)
        _table2_sheet(wb, results)
        _relevance_sheet(wb, results)
        _stressors_sheet(wb, results)
        _notes_sheet(wb, results)
    return workbook_file(wb, step, program.slug, wave.slug, "analysis")


def workbook_file(wb, step: Progress, *name: str) -> ExportFile:
    """A finished workbook as the export file named from ``name``'s parts."""
    step(0.9, "Saving the workbook")
    out = io.BytesIO()
    wb.save(out)
    step(1.0, "Done")
    return ExportFile(safe_filename(*name, ext="xlsx"), CONTENT_TYPES["xlsx"], out.getvalue())


register(
    ExportKind(
        key="survey_responses",
        label="Survey responses (de-identified, with codebook, R and SPSS)",
        description=(
            "One wave's returned responses as value codes, with the codebook, an R script "
            "and SPSS syntax that load them with labels; no names, links or dates; optional "
            "small-cell protection for demographic combinations."
        ),
        build=build_survey_responses,
        perm="surveys.view",
        background=True,
        group="Survey",
        clean_params=clean_responses_params,
        formats=("zip",),
    )
)

register(
    ExportKind(
        key="analysis_workbook",
        label="Analysis results workbook",
        description=(
            "The latest finished analysis of a wave: summary, Table 1 and Table 2 as journal "
            "tables, relevance ratings, stressors and notes."
        ),
        build=build_analysis_workbook,
        perm="analysis.run",
        background=True,
        group="Analysis",
        clean_params=clean_workbook_params,
        formats=("xlsx",),
    )
)
