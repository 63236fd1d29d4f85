"""Exports of a wave series: the paired data set, the report and the workbook.

``series_data`` (ZIP) holds ``series.csv`` (one row per linked respondent and wave: a
series-local respondent number, the wave's position and label, the scale answers as value
codes), ``codebook.csv``, ``load_series.R``, ``load_series.sps`` and a ``README.txt``. Only
respondents linked in two waves or more are rows; a series with fewer than the program's
small-cell threshold *k* of them is refused. No personal code or its hash, no recipient,
clinician or response id, no name, no date and no free text leaves with it.

``series_report`` (PDF) and ``series_workbook`` (XLSX) print what the series results page
shows (:func:`analysis.series.compute.series_results`, its texts from
:mod:`analysis.series.views`): the linking summary, each item's comparisons of each later wave
with the baseline (paired and unpaired), the trend of a yearly series and the results
paragraph, with the same hidden cells (fewer than *k* answers or pairs). See
``docs/survey-export.md``.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.crypto import salted_hmac

from analysis.exports.pdf import guarded, render_pdf
from analysis.exports.services import (
    CONTENT_TYPES,
    ExportFile,
    ExportKind,
    Progress,
    register,
    safe_filename,
)
from analysis.exports.survey import (
    CODEBOOK_COLUMNS,
    ORDERED_TYPES,
    LoaderColumn,
    _answer,
    _csv,
    _r_str,
    _Sheet,
    r_loader,
    spss_loader,
    workbook_file,
)
from analysis.series.compute import SCALE_TYPES, SeriesResults, series_results
from analysis.series.views import (
    attendance_text,
    distribution_text,
    paired_text,
    trend_text,
    unpaired_text,
)
from surveys import series as series_service
from surveys.models import Response, SeriesWave, WaveSeries
from surveys.services import codebook as instrument_codebook

GROUP = "Series"
ID_COLUMNS = ("respondent", "wave", "wave_label")
DATA_FILE = "series.csv"
PRINT_TEXTS = {
    "respondent": "Respondent number in this file (1, 2, ...): respondents linked in two waves "
    "or more only; not a code, not an id",
    "wave": "Position of the wave in the series (1 = the first wave, the baseline)",
    "wave_label": "The wave's label in the series",
}


# -- parameters ---------------------------------------------------------------------------------


def _series_get(program: Any, slug: Any) -> WaveSeries:
    if not isinstance(slug, str) or not slug.strip():
        raise ValidationError("Choose the wave series to export.")
    found = WaveSeries.objects.filter(program=program, slug=slug.strip()).first()
    if found is None:
        raise ValidationError(
            f"This program has no wave series “{slug.strip()[:60]}”: choose one of its series."
        )
    return found


def clean_series_params(program: Any, params: dict) -> dict:
    return {"series": _series_get(program, params.get("series")).slug}


def clean_data_params(program: Any, params: dict) -> dict:
    """The series, refused when it has fewer linked respondents than the program's *k*."""
    found = _series_get(program, params.get("series"))
    linked_respondents(found)  # raises below the threshold
    return {"series": found.slug}


# -- the paired data set ------------------------------------------------------------------------


def _order_key(series: WaveSeries, key: tuple[str, Any]) -> str:
    """A keyed, stable order of the respondents that follows neither their code, nor their
    roster entry, nor the order in which they answered. The key never leaves the server."""
    kind, value = key
    return salted_hmac(
        "ccdg.exports_series.respondent-order", f"{series.pk}:{kind}:{value}"
    ).hexdigest()


def linked_respondents(
    series: WaveSeries,
) -> tuple[list[SeriesWave], list[dict[int, int]]]:
    """(the series' waves in order, one {wave position: response id} per linked respondent in
    the order of the file). A respondent is linked when their key (recipient, or personal
    code) belongs to one analysable response in two waves or more; a key given by two responses
    of a wave is no one's there (:func:`surveys.linking.wave_links`). Raises
    ``ValidationError`` below the program's small-cell threshold."""
    members = series_service.members_of(series)
    links = series_service.links_of(series)
    by_key: dict[tuple[str, Any], dict[int, int]] = {}
    for member in members:
        for key, pk in links[member.wave_id].by_key.items():
            by_key.setdefault(key, {})[member.position] = pk
    linked = sorted((k for k, waves in by_key.items() if len(waves) >= 2),
                    key=lambda k: _order_key(series, k))  # fmt: skip
    k = series.program.small_cell_k
    if len(linked) < k:
        raise ValidationError(
            f"The series “{series.name}” has {len(linked)} respondent(s) linked in two waves or "
            f"more, fewer than {k} (the program's small-cell threshold): a paired data set of so "
            "few people could identify them, so it is not exported. The series report and "
            "workbook show the results with small cells hidden."
        )
    return members, [by_key[key] for key in linked]


def series_data(series: WaveSeries) -> dict:
    members, respondents = linked_respondents(series)
    questions = [
        q for q in instrument_codebook(members[0].wave.instrument) if q["type"] in SCALE_TYPES
    ]
    codes = [q["code"] for q in questions]
    wanted = [pk for waves in respondents for pk in waves.values()]
    answers = dict(Response.objects.filter(pk__in=wanted).values_list("pk", "answers"))
    by_position = {m.position: m for m in members}
    number = {m.position: i for i, m in enumerate(members, start=1)}
    rows = []
    for n, waves in enumerate(respondents, start=1):
        for position in sorted(waves):
            given = answers.get(waves[position])
            given = given if isinstance(given, dict) else {}
            row = {"respondent": str(n), "wave": str(number[position]),
                   "wave_label": by_position[position].label}  # fmt: skip
            row.update({code: _answer(given.get(code)) for code in codes})
            rows.append(row)
    return {
        "series": series,
        "members": members,
        "questions": questions,
        "codes": codes,
        "rows": rows,
        "respondents": len(respondents),
        "codebook": _codebook_rows(members, questions),
    }


def _codebook_rows(members: list[SeriesWave], questions: list[dict]) -> list[dict]:
    blank = {"section": "", "value": "", "label": "", "positive": ""}
    out = [
        blank | {"code": "respondent", "text": PRINT_TEXTS["respondent"], "type": "integer"},
        *(
            blank | {"code": "wave", "text": PRINT_TEXTS["wave"], "type": "integer",
                     "value": str(i), "label": m.label}
            for i, m in enumerate(members, start=1)
        ),
        blank | {"code": "wave_label", "text": PRINT_TEXTS["wave_label"], "type": "text"},
    ]  # fmt: skip
    for q in questions:
        base = {"code": q["code"], "section": q["section"], "text": q["text"], "type": q["type"]}
        for v in q["values"]:
            positive = "1" if v["value"] in q["positive"] else "0"
            out.append(base | {"value": v["value"], "label": v["label"], "positive": positive})
    return out


def data_csv(data: dict) -> bytes:
    header = [*ID_COLUMNS, *data["codes"]]
    return _csv(header, [[row[c] for c in header] for row in data["rows"]])


def codebook_csv(data: dict) -> bytes:
    return _csv(
        list(CODEBOOK_COLUMNS), [[r[c] for c in CODEBOOK_COLUMNS] for r in data["codebook"]]
    )


def _loader_columns(data: dict) -> list[LoaderColumn]:
    labels = list(dict.fromkeys(m.label for m in data["members"]))  # in order, once each
    columns = [
        LoaderColumn("respondent", PRINT_TEXTS["respondent"], "integer", spss_format="F8.0",
                     measure="scale"),
        LoaderColumn("wave", PRINT_TEXTS["wave"], "integer",
                     tuple((str(i), m.label) for i, m in enumerate(data["members"], start=1)),
                     spss_format="F8.0", measure="ordinal"),
        LoaderColumn("wave_label", PRINT_TEXTS["wave_label"], "ordered",
                     tuple((label, label) for label in labels), measure="ordinal",
                     values=tuple(labels)),
    ]  # fmt: skip
    for q in data["questions"]:
        levels = tuple((v["value"], v["label"]) for v in q["values"])
        ordered = q["type"] in ORDERED_TYPES
        columns.append(
            LoaderColumn(
                q["code"],
                q["text"],
                "ordered" if ordered else "factor",
                levels,
                measure="ordinal" if ordered else "nominal",
                values=tuple(row[q["code"]] for row in data["rows"]),
            )  # fmt: skip
        )
    return columns


def load_series_r(data: dict) -> bytes:
    series = data["series"]
    header = [
        f"# The paired data set of the wave series {_r_str(series.name)} ({series.slug}).",
        "# One row per linked respondent and wave. Base R only (no packages). In the folder",
        "# with series.csv and codebook.csv run",
        "#   Rscript load_series.R",
        '# or, in R: setwd("the/unzipped/folder"); source("load_series.R")',
        '# The data frame is `df`; each column\'s label is attr(df[[code]], "label") and all of',
        "# them are in the named vector `var_labels`. Wide form (one row per respondent):",
        '#   reshape(df[, names(df) != "wave_label"], idvar = "respondent", timevar = "wave",',
        '#           direction = "wide")',
    ]
    return r_loader(header, DATA_FILE, "rows", _loader_columns(data))


def load_series_sps(data: dict) -> bytes:
    header = [
        "* Encoding: UTF-8.",
        f"* The paired data set of the wave series {data['series'].slug}, with labels.",
        "* One case per linked respondent and wave (long form).",
        "* Open this file in SPSS from the unzipped folder and run it all.",
        "* If SPSS does not find series.csv, first run: CD 'the/unzipped/folder'.",
    ]
    notes = [
        "* Blank cells are system-missing (numbers) or empty (text): no MISSING VALUES needed.",
        "* Wide form: SORT CASES BY respondent wave, then CASESTOVARS /ID=respondent /INDEX=wave.",
    ]
    return spss_loader(header, DATA_FILE, "series", _loader_columns(data), notes)


def readme_text(data: dict, built: datetime) -> bytes:
    series = data["series"]
    summary = series_service.linking_summary(series, k=series.program.small_cell_k)
    lines = [
        f"Paired data set of the wave series “{series.name}” ({series.slug}), "
        f"{series.program.name}",
        "=" * 60,
        "",
        f"Design: {series.get_design_display()}",
        f"Exported: {built.isoformat(timespec='minutes')}",
        "",
        "Waves (position, label, wave; analysable responses, without a code, in duplicated",
        "codes, linked to the baseline)",
    ]
    for i, row in enumerate(summary.rows, start=1):
        linked = "baseline" if row.paired_with_baseline is None else (
            f"{row.paired_with_baseline} of {row.baseline_linkable} linked to the baseline"
        )  # fmt: skip
        lines.append(
            f"  {i}. {row.member.label}: {row.member.wave.name}; {row.links.responses} "
            f"responses, {row.links.without_key} without a code, "
            f"{row.links.duplicated_responses} in duplicated codes; {linked}"
        )
    lines += [
        "",
        f"Respondents in this file: {data['respondents']} (linked in two waves or more); "
        f"rows: {len(data['rows'])}.",
        "",
        "Files",
        "  series.csv       one row per linked respondent and wave in which they answered:",
        "                   respondent, wave (position, 1 = baseline), wave_label, then one",
        "                   column per scale question (value codes, see codebook.csv);",
        "                   blank = not answered. UTF-8, comma-separated.",
        "  codebook.csv     code, section, text, type, value, label, positive (1 = counted as",
        "                   the positive answer in the results); one row per value.",
        "  load_series.R    base R: Rscript load_series.R (in this folder) loads the data as",
        "                   `df` with labelled factors.",
        "  load_series.sps  SPSS syntax: GET DATA, VARIABLE LABELS, VALUE LABELS, levels.",
        "  README.txt       this file.",
        "",
        "Who is in it, and who is left out",
        "  A respondent is linked when the same recipient (confidential waves) or the same",
        "  personal code (anonymous waves) gave one analysed response in two waves or more.",
        "  Left out: respondents who answered one wave only or gave no code (not linked:",
        "  see the wave exports for everyone's answers); codes given by two responses of",
        "  one wave (two people with the same code, or one person twice: neither is linked",
        "  in that wave); excluded responses and pilot waves.",
        "",
        "De-identification",
        "  `respondent` numbers the linked respondents of this file only, in an order drawn",
        "  from a keyed hash on the server: it is not the personal code, not its hash and",
        "  not a recipient, clinician or response id, and the next export of the series",
        "  numbers the same people the same way. No names, e-mail addresses, dates, free",
        "  text or demographic answers are included.",
        "",
        "Small cells",
        f"  Made only for a series with at least {series.program.small_cell_k} linked respondents "
        "(the program's",
        "  small-cell threshold): fewer could be recognised from their answers.",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")


def build_series_data(*, program: Any, params: dict, progress: Progress | None = None):
    params = clean_series_params(program, params)
    found = _series_get(program, params["series"])
    step = progress or (lambda fraction, name: None)
    step(0.05, "Linking the waves")
    data = series_data(found)
    step(0.6, "Writing the files")
    built = timezone.localtime()
    files = {
        "README.txt": readme_text(data, built),
        DATA_FILE: data_csv(data),
        "codebook.csv": codebook_csv(data),
        "load_series.R": load_series_r(data),
        "load_series.sps": load_series_sps(data),
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
        safe_filename(program.slug, found.slug, "series-data", ext="zip"),
        CONTENT_TYPES["zip"],
        out.getvalue(),
    )


# -- what the report and the workbook print -----------------------------------------------------


def _share(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _ci(ci, scale: float = 1.0) -> tuple[float | None, float | None]:
    return (scale * ci[0], scale * ci[1]) if ci else (None, None)


def linking_rows(results: SeriesResults) -> list[dict]:
    """The series' waves as the series page counts them."""
    out = []
    for i, row in enumerate(results.summary.rows, start=1):
        wave = row.member.wave
        out.append(
            {
                "position": i,
                "label": row.member.label,
                "wave": wave.name,
                "mode": "Anonymous" if wave.is_anonymous else "Confidential",
                "responses": row.links.responses,
                "without_key": row.links.without_key,
                "duplicated_keys": row.links.duplicated_keys,
                "duplicated_responses": row.links.duplicated_responses,
                "linked": row.paired_with_baseline,
                "linkable": row.baseline_linkable,
                "linked_text": "baseline" if row.paired_with_baseline is None
                else f"{row.paired_with_baseline} of {row.baseline_linkable}",
            }
        )  # fmt: skip
    return out


def _numbers(c, positive: bool) -> dict:
    """A comparison's figures as numbers, None where the page hides or has none."""
    sr, d, u = c.signed_rank, c.paired_difference, c.difference
    shift_low, shift_high = _ci(sr.conf_int) if sr is not None else (None, None)
    pd_low, pd_high = _ci(d.conf_int, 100) if d is not None else (None, None)
    u_low, u_high = _ci(u.conf_int, 100) if u is not None else (None, None)
    return {
        "before_n": c.before.n if c.before.shown else None,
        "after_n": c.after.n if c.after.shown else None,
        "pairs": c.pairs if c.paired_shown else None,
        "shift": sr.estimate if sr is not None else None,
        "shift_low": shift_low,
        "shift_high": shift_high,
        "signed_rank_p": sr.pvalue if sr is not None else None,
        "paired_before": _share(d.p_before) if d is not None else None,
        "paired_after": _share(d.p_after) if d is not None else None,
        "paired_points": _share(d.estimate) if d is not None else None,
        "paired_low": pd_low,
        "paired_high": pd_high,
        "mcnemar_p": c.mcnemar.pvalue if c.mcnemar is not None else None,
        "rank_sum_p": c.rank_sum.pvalue if c.rank_sum is not None else None,
        "before_positive": c.positive_before if positive else None,
        "after_positive": c.positive_after if positive else None,
        "points": _share(u.estimate) if u is not None else None,
        "low": u_low,
        "high": u_high,
    }


def items_of(results: SeriesResults) -> list[dict]:
    """Each item with the rows the page shows (texts) and their numbers."""
    k = results.k
    out = []
    for item in results.items:
        rows = [
            {
                "label": c.later.label,
                "before": distribution_text(c.before, item.values, k),
                "after": distribution_text(c.after, item.values, k),
                # A confidential series adds the change against sessions attended, as the page.
                "paired": ". ".join(t for t in (paired_text(c, k), attendance_text(c)) if t),
                "unpaired": unpaired_text(c),
                "numbers": _numbers(c, bool(item.positive)),
            }
            for c in item.comparisons
        ]
        out.append({"item": item, "rows": rows, "trend": trend_text(item)})
    return out


def distributions_of(results: SeriesResults) -> list[dict]:
    """Per item, each wave's answers: n and the share of each value (None when hidden)."""
    out = []
    for item in results.items:
        if not item.comparisons:
            continue
        dists = [(results.members[0].label, item.comparisons[0].before)]
        dists += [(c.later.label, c.after) for c in item.comparisons]
        out.append(
            {
                "item": item,
                "waves": [
                    {"label": label, "n": d.n, "shown": d.shown,
                     "text": distribution_text(d, item.values, results.k),
                     "percents": [d.percent(v["value"]) if d.shown else None
                                  for v in item.values]}
                    for label, d in dists
                ],
            }
        )  # fmt: skip
    return out


def _trend_numbers(item) -> tuple[float | None, float | None]:
    if item.trend is None or item.trend.pvalue is None:
        return None, None
    return item.trend.statistic, item.trend.pvalue


# -- the report (PDF) ---------------------------------------------------------------------------


def build_series_report(*, program: Any, params: dict, progress: Progress | None = None):
    params = clean_series_params(program, params)
    found = _series_get(program, params["series"])
    step = progress or (lambda fraction, name: None)
    step(0.1, "Comparing the waves")
    results = series_results(found)
    now = timezone.now()
    where = ", ".join(p for p in (program.department, program.institution) if p)
    context = {
        "program": program,
        "where": where,
        "issued": program.local(now),
        "title": f"Results over time, {found.name}, {program.name}",
        "series": found,
        "results": results,
        "waves": linking_rows(results),
        "items": items_of(results),
        "paragraph": guarded(results.paragraph),
        "k": results.k,
    }
    step(0.4, "Printing")
    content = render_pdf("analysis/pdf/series_report.html", context)
    step(1.0, "Done")
    return ExportFile(
        safe_filename(program.slug, found.slug, "series-report", ext="pdf"),
        CONTENT_TYPES["pdf"],
        content,
    )


# -- the workbook (XLSX) ------------------------------------------------------------------------

PCT1 = "0.0"
DEC = "0.00"
P = "0.0000"
METHOD_NOTE = (
    "Each later wave against the baseline. Paired: respondents linked in both waves; the shift "
    "is the Hodges-Lehmann estimate of the change (later minus baseline, in scale points) with "
    "its 95% interval and the Wilcoxon signed-rank test; for the item's positive answers, their "
    "share before and after among the pairs, the change in points with Newcombe's 95% interval "
    "and McNemar's exact test. Everyone: all analysed answers of each wave, linked or not "
    "(Wilcoxon rank-sum test; the positive share of each wave and the difference in points "
    "with prop.test's 95% interval). Nothing is shown behind fewer than {k} answers or pairs."
)


def _summary_sheet(wb, results: SeriesResults, program: Any) -> None:
    found = results.series
    s = _Sheet(wb, "Summary", [28, 22, 30, 14, 12, 14, 16, 18], first=True)
    s.write(f"Results over time: {found.name}, {program.name}", bold=True)
    s.write("Design", found.get_design_display())
    s.write("Small-cell threshold (k)", results.k)
    s.skip()
    s.write("Waves and linking", bold=True)
    s.write(
        "#", "Label", "Wave", "Mode", "Responses", "Without a code",
        "Duplicate codes (responses)", "Linked to the baseline", bold=True, wrap=True,
    )  # fmt: skip
    for w in linking_rows(results):
        s.write(
            w["position"], w["label"], w["wave"], w["mode"], w["responses"], w["without_key"],
            f"{w['duplicated_keys']} ({w['duplicated_responses']})", w["linked_text"],
        )  # fmt: skip
    if not results.members:
        s.write("The series has no waves yet.", italic=True)
    s.write(
        "Analysed responses only (excluded and pilot responses left out). Linked to the "
        "baseline: of the baseline's respondents who can be linked, how many answered this "
        "wave too. A code given by two responses of a wave links neither.",
        italic=True,
    )
    s.skip()
    s.write("Results", bold=True)
    if results.paragraph:
        s.paragraph(guarded(results.paragraph), 8, 150)
    s.skip()
    s.paragraph(METHOD_NOTE.format(k=results.k), 8, 75)
    s.skip()
    s.write(
        "Sheets: Comparisons (each item, each later wave against the baseline, as the series "
        "page shows them, then the figures as numbers), Distributions (each wave's answers).",
        italic=True,
    )


COMPARISON_HEAD = [
    "Later wave", "Baseline answers", "Later answers", "Paired (linked respondents)", "Everyone",
    None,
    "Baseline n", "Later n", "Pairs", "Shift", "Shift CI low", "Shift CI high", "Signed-rank p",
    "Paired positive before %", "Paired positive after %", "Paired change (points)",
    "Paired CI low", "Paired CI high", "McNemar exact p", "Rank-sum p",
    "Positive before %", "Positive after %", "Change (points)", "CI low", "CI high",
]  # fmt: skip
NUMBER_KEYS = [
    ("before_n", None), ("after_n", None), ("pairs", None), ("shift", DEC), ("shift_low", DEC),
    ("shift_high", DEC), ("signed_rank_p", P), ("paired_before", PCT1), ("paired_after", PCT1),
    ("paired_points", PCT1), ("paired_low", PCT1), ("paired_high", PCT1), ("mcnemar_p", P),
    ("rank_sum_p", P), ("before_positive", None), ("after_positive", None), ("points", PCT1),
    ("low", PCT1), ("high", PCT1),
]  # fmt: skip


def _comparisons_sheet(wb, results: SeriesResults) -> None:
    s = _Sheet(wb, "Comparisons", [18, 34, 34, 60, 44, 3, *([11] * len(NUMBER_KEYS))])
    s.write("Each later wave against the baseline, item by item", bold=True)
    s.write(*COMPARISON_HEAD, bold=True, wrap=True)
    s.ws.freeze_panes = "B3"
    s.ws.print_title_rows = "2:2"
    first_number = 7
    formats = {first_number + i: fmt for i, (_, fmt) in enumerate(NUMBER_KEYS) if fmt}
    for entry in items_of(results):
        item = entry["item"]
        s.write(f"{item.text} ({item.code})", bold=True)
        for row in entry["rows"]:
            numbers = [row["numbers"][key] for key, _ in NUMBER_KEYS]
            s.write(row["label"], row["before"], row["after"], row["paired"], row["unpaired"],
                    None, *numbers, wrap=True, indent=1, formats=formats)  # fmt: skip
        if not entry["rows"]:
            s.write("Add a later wave to compare.", italic=True, indent=1)
        if entry["trend"]:
            statistic, pvalue = _trend_numbers(item)
            s.write(entry["trend"], None, None, None, None, None, "Trend chi-squared",
                    statistic, "Trend p", pvalue, italic=True, formats={8: DEC, 10: P})  # fmt: skip
    if not results.items:
        s.write("No scale items to compare.", italic=True)
    s.skip()
    s.write(METHOD_NOTE.format(k=results.k), italic=True)
    s.write(
        f"Hidden: fewer than {results.k} answers (a wave) or linked pairs; their number cells "
        "are empty. p-values as journals print them (<.001, .045, >.99; – not tested); the "
        "number columns hold them as numbers.",
        italic=True,
    )


def _distributions_sheet(wb, results: SeriesResults) -> None:
    s = _Sheet(wb, "Distributions", [40, 18, 8, 60, *([10] * 5)])
    s.write("Each wave's answers: n and the share of each value (%)", bold=True)
    s.ws.freeze_panes = "A2"
    for entry in distributions_of(results):
        item = entry["item"]
        s.write(f"{item.text} ({item.code})", bold=True)
        s.write("Wave", None, "n", "Answers", *(f"{v['value']}: {v['label']}" for v in item.values),
                bold=True, wrap=True, indent=1)  # fmt: skip
        for w in entry["waves"]:
            s.write(w["label"], None, w["n"] if w["shown"] else None, w["text"], *w["percents"],
                    indent=1)  # fmt: skip
    if not results.items:
        s.write("No scale items to show.", italic=True)
    s.skip()
    s.write(
        f"A wave with fewer than {results.k} answers to an item is hidden: its n and shares "
        "are empty.",
        italic=True,
    )


def build_series_workbook(*, program: Any, params: dict, progress: Progress | None = None):
    from openpyxl import Workbook

    params = clean_series_params(program, params)
    found = _series_get(program, params["series"])
    step = progress or (lambda fraction, name: None)
    step(0.1, "Comparing the waves")
    results = series_results(found)
    step(0.5, "Writing the tables")
    wb = Workbook()
    _summary_sheet(wb, results, program)
    _comparisons_sheet(wb, results)
    _distributions_sheet(wb, results)
    return workbook_file(wb, step, program.slug, found.slug, "series-results")


# -- registration -------------------------------------------------------------------------------

register(
    ExportKind(
        key="series_data",
        label="Wave series: paired data set (de-identified, with codebook, R and SPSS)",
        description=(
            "One row per linked respondent and wave of a series: a respondent number of the "
            "file, the wave and the scale answers, with the codebook, an R script and SPSS "
            "syntax; no codes, names, ids, dates or free text. Refused below the program's "
            "small-cell threshold of linked respondents."
        ),
        build=build_series_data,
        perm="surveys.view",
        background=True,
        group=GROUP,
        clean_params=clean_data_params,
        formats=("zip",),
    )
)
register(
    ExportKind(
        key="series_report",
        label="Wave series: results over time report (PDF)",
        description=(
            "The series results page in print: the waves and how they link, each item's "
            "paired and unpaired comparisons with the baseline, the trend, the results "
            "paragraph."
        ),
        build=build_series_report,
        perm="analysis.run",
        background=True,
        group=GROUP,
        clean_params=clean_series_params,
        formats=("pdf",),
    )
)
register(
    ExportKind(
        key="series_workbook",
        label="Wave series: results over time workbook",
        description=(
            "The series results as a workbook: summary and linking, each comparison as text "
            "and as numbers, each wave's distributions."
        ),
        build=build_series_workbook,
        perm="analysis.run",
        background=True,
        group=GROUP,
        clean_params=clean_series_params,
        formats=("xlsx",),
    )
)
