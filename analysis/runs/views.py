"""The analysis pages of a survey wave: the runs, starting one, its progress and results,
its charts (SVG) and its results as JSON. Results are read through
:func:`analysis.runs.services.run_results`, which applies the program's small-cell threshold.

Every page needs the "analysis.run" permission in the program (coordinators, report viewers,
staff): no role in the program is a 404, another role a 403. A run is always looked up
within the wave of the URL, and the wave within the program, so a run of another wave or
program is a 404.
"""

from __future__ import annotations

import json
import os
from typing import Any

from csp.constants import NONE
from csp.decorators import csp
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from analysis.runs import charts, disclosure, selectors, summary
from analysis.runs import services as runs
from analysis.runs.models import AnalysisRun
from ccdg.messages import messages_from
from sessions_app import roles
from sessions_app.models import Program
from surveys.access import wave_for_request
from surveys.models import Wave

T = "analysis/"
PERM = "analysis.run"


def _run(wave: Wave, pk: int, *, with_results: bool = True) -> AnalysisRun:
    """The run of the wave; ``with_results``: its results with the charts' names, not their
    SVG (:func:`analysis.runs.selectors.with_chart_names`)."""
    qs = AnalysisRun.objects.select_related("requested_by")
    qs = selectors.with_chart_names(qs) if with_results else qs.defer("results")
    run = get_object_or_404(qs, wave=wave, pk=pk)
    if with_results:
        run.results = run.results_light
    run.wave = wave
    return run


# --- formatting ----------------------------------------------------------------------------------


def fmt_p(p: float | None) -> str:
    """As journals print it, the same as the workbook and the PDF: ".045", "<.001"."""
    return summary.p_cell(p)


def fmt_pct(pct: float | None) -> str:
    return "—" if pct is None else f"{pct:.0f}%"


def fmt_mean_sd(mean: float | None, sd: float | None) -> str:
    if mean is None:
        return "—"
    return f"{mean:.2f} ({sd:.2f})" if sd is not None else f"{mean:.2f} (—)"


def distinct_parts(texts: list[str]) -> list[str]:
    """The texts without the words they all share at the start and at the end."""
    if len(texts) < 2:
        return texts
    stem = charts.common_stem(texts)
    cut = [t[len(stem) :] for t in texts]
    tail = os.path.commonprefix([t[::-1] for t in cut])[::-1]
    if tail and all(len(t) > len(tail) for t in cut):
        space = tail.find(" ")
        tail = tail[space:] if space >= 0 else ""
        cut = [t[: len(t) - len(tail)] if tail else t for t in cut]
    return [c.strip()[:1].upper() + c.strip()[1:] for c in cut]


TEST_NAMES = {"rank_sum": "Wilcoxon rank-sum", "kruskal": "Kruskal-Wallis"}


# --- results presentation ---------------------------------------------------------------------


def _table1(results: dict) -> list[dict]:
    k = disclosure.threshold(results)
    items = {i["question"]: i for i in results.get("table1_items", [])}
    blocks: dict[str, dict] = {}
    for row in results.get("table1", []):
        block = blocks.setdefault(
            row["question"],
            {"text": row["text"], "n": items.get(row["question"], {}).get("n"),
             "missing": items.get(row["question"], {}).get("missing"), "rows": []},
        )  # fmt: skip
        block["rows"].append(
            {"label": row["label"], "n": row["n"], "percent": fmt_pct(row["percent"]),
             "hidden": disclosure.count_text(row, k)}
        )  # fmt: skip
    return list(blocks.values())


def _table2(results: dict) -> dict:
    k = disclosure.threshold(results)
    rows = results.get("table2", [])
    groups = list(results.get("meta", {}).get("groups", []))
    stem = charts.common_stem([r["text"] for r in rows])
    out = []
    for r in rows:
        cells = []
        for g in groups:
            f = r["by_group"].get(g) or {"n": 0, "agree": 0, "percent": None}
            cells.append(
                {"agree": f["agree"], "n": f["n"], "percent": fmt_pct(f["percent"]),
                 "hidden": disclosure.count_text(f, k), "group": g}
            )  # fmt: skip
        test = r.get("test") or {}
        out.append(
            {
                "item": r["item"],
                "label": charts.short_label(r["text"], stem),
                "overall": {
                    "agree": r["overall"]["agree"],
                    "n": r["overall"]["n"],
                    "percent": fmt_pct(r["overall"]["percent"]),
                },
                "groups": cells,
                "p": fmt_p(r["p_value"]),
                "significant": r["significant"],
                "monte_carlo": test.get("method") == "monte_carlo",
                "stderr": test.get("stderr"),
                "note": test.get("note") or "",
            }
        )
    return {
        "stem": stem.strip().rstrip(":"),
        "groups": groups,
        "rows": out,
        "any_monte_carlo": any(r["monte_carlo"] for r in out),
    }


def _level_labels(results: dict) -> dict[tuple[str, str], str]:
    return {(r["question"], r["value"]): r["label"] for r in results.get("table1", [])}


def _demographics(results: dict) -> list[dict]:
    return [{"code": i["question"], "text": i["text"]} for i in results.get("table1_items", [])]


def _matrix(results: dict, key: str, rows: list[dict], cell, overall) -> dict:
    """Items as columns; all respondents, then each demographic's categories as rows, with the
    p-value of each item across the demographic's categories."""
    labels = _level_labels(results)
    k = disclosure.threshold(results)
    blocks = []
    for demo in _demographics(results):
        ps, levels = [], {}
        for col, row in enumerate(rows):
            by = row.get("by", {}).get(demo["code"])
            if by is None:
                ps.append({"p": "—", "test": "", "significant": False})
                continue
            if key == "relevance":
                p, test = by.get("p_value"), TEST_NAMES.get(by.get("test") or "", "")
            else:
                p = by.get("p_value")
                method = (by.get("test") or {}).get("method")
                test = {"exact": "Fisher", "monte_carlo": "Fisher (Monte Carlo)"}.get(method, "")
            ps.append({"p": fmt_p(p), "test": test, "significant": p is not None and p < 0.05})
            for value, figures in by.get("levels", {}).items():
                label = figures.get("label") or labels.get((demo["code"], value), value)
                levels.setdefault(value, {"label": label, "cells": [""] * len(rows)})
                hidden = disclosure.count_text(figures, k)
                levels[value]["cells"][col] = {"hidden": hidden} if hidden else cell(figures)
        if levels:
            blocks.append({"text": demo["text"], "ps": ps, "levels": list(levels.values())})
    return {"all": [overall(r) for r in rows], "blocks": blocks}


def _relevance(results: dict) -> dict:
    rows = results.get("relevance", [])

    def cell(f: dict) -> dict:
        return {"value": fmt_mean_sd(f.get("mean"), f.get("sd")), "n": f.get("n", 0)}

    return {
        "columns": distinct_parts([r["text"] for r in rows]),
        "stem": charts.common_stem([r["text"] for r in rows]).strip().rstrip(":"),
        **_matrix(results, "relevance", rows, cell, lambda r: cell(r["overall"])),
    }


STRESSOR_KINDS = {
    "challenge": "Named a moderate or serious challenge",
    "addressed": "Said the group addressed it",
}


def _stressors(results: dict) -> list[dict]:
    def cell(f: dict) -> dict:
        positive = f.get("positive", 0)
        return {"value": f"{positive} ({fmt_pct(f.get('percent'))})", "n": f.get("n", 0)}

    out = []
    for kind, title in STRESSOR_KINDS.items():
        rows = [r for r in results.get("stressors", []) if r.get("kind") == kind]
        if not rows:
            continue
        out.append(
            {
                "kind": kind,
                "title": title,
                "columns": distinct_parts([r["text"] for r in rows]),
                **_matrix(results, "stressors", rows, cell, cell),
            }
        )
    return out


def _any_hidden(results: dict) -> bool:
    """Whether a table of ``results`` hides a category (for the footnote)."""
    if any(disclosure.is_hidden(r) for r in results.get("table1", [])):
        return True
    for row in results.get("table2", []):
        if any(disclosure.is_hidden(f) for f in row.get("by_group", {}).values()):
            return True
    for key in ("relevance", "stressors"):
        for row in results.get(key, []):
            for by in row.get("by", {}).values():
                if any(disclosure.is_hidden(f) for f in by.get("levels", {}).values()):
                    return True
    return False


def present(run: AnalysisRun, program: Program | None = None) -> dict[str, Any]:
    """The results of a finished run, ready for the template (small cells applied)."""
    results = selectors.run_results(run, program=program)
    line = results.get("response", {})
    k = disclosure.threshold(results)
    return {
        "notice": disclosure.notice(results.get("meta", {})),
        "small_cells": disclosure.footnote(k) if k and _any_hidden(results) else "",
        "line": line,
        "rate": fmt_pct(line["rate"] * 100) if line.get("rate") is not None else None,
        "summary": results.get("summary", ""),
        "table1": _table1(results),
        "table2": _table2(results),
        "relevance": _relevance(results),
        "stressors": _stressors(results),
        "notes": results.get("notes", []),
        "charts": [
            {"name": name, "title": charts.CHART_TITLES.get(name, name)}
            for name in charts.RENDERERS
            if name in results.get("charts", {})
        ],
        "timings": [(k, v) for k, v in (run.timings or {}).items() if k != "updated"],
    }


def _pct(run: AnalysisRun) -> int:
    return max(0, min(100, round((run.progress or 0.0) * 100)))


# --- pages -----------------------------------------------------------------------------------


@require_GET
def run_list(request, slug, wave):
    program = roles.program_for_request(request, slug, PERM)
    wave = wave_for_request(request, program, wave)
    rows = list(selectors.run_list(wave))
    current = selectors.current_fingerprints(wave) if rows else {}
    items = [
        {
            "run": r,
            "state": selectors.run_state(r),
            "current": bool(r.inputs_fingerprint)
            and r.inputs_fingerprint == current.get(r.include_pilot),
        }
        for r in rows
    ]
    notice = disclosure.notice({"k": program.small_cell_k, "reason": program.small_cell_k_reason})
    return render(
        request,
        T + "run_list.html",
        {"program": program, "wave": wave, "items": items, "notice": notice},
    )


@require_POST
def run_start(request, slug, wave):
    program = roles.program_for_request(request, slug, PERM)
    wave = wave_for_request(request, program, wave)
    include_pilot = request.POST.get("include_pilot") in ("1", "on", "true")
    try:
        run = runs.run_request(wave=wave, actor=request.user, include_pilot=include_pilot)
    except ValidationError as exc:
        messages_from(request, exc)
        return redirect("analysis:run_list", slug=slug, wave=wave.slug)
    messages.success(request, f"Analysis run {run.pk} started.")
    return redirect("analysis:run_detail", slug=slug, wave=wave.slug, pk=run.pk)


@require_GET
def run_detail(request, slug, wave, pk):
    program = roles.program_for_request(request, slug, PERM)
    wave = wave_for_request(request, program, wave)
    run = _run(wave, pk)
    state = selectors.run_state(run)
    context = {"program": program, "wave": wave, "run": run, "state": state, "pct": _pct(run)}
    if run.status == AnalysisRun.Status.DONE:
        context["r"] = present(run, program)
    return render(request, T + "run_detail.html", context)


@require_GET
def run_progress(request, slug, wave, pk):
    """The progress fragment the run page polls; once the run is finished, htmx reloads the
    page to show the results (or the error)."""
    program = roles.program_for_request(request, slug, PERM)
    wave = wave_for_request(request, program, wave)
    run = _run(wave, pk, with_results=False)
    state = selectors.run_state(run)
    response = render(
        request,
        T + "_run_progress.html",
        {"program": program, "wave": wave, "run": run, "state": state, "pct": _pct(run)},
    )
    if request.htmx and state not in (AnalysisRun.Status.QUEUED, AnalysisRun.Status.RUNNING):
        response["HX-Refresh"] = "true"
    return response


# The SVG is a document of its own, loaded by <img>: matplotlib styles it with a <style>
# element and style attributes, which the site's policy (no inline style) would block. Its
# own policy allows exactly that and nothing else: no scripts, no fetches, no framing.
SVG_POLICY = {
    "default-src": [NONE],
    "style-src": ["'unsafe-inline'"],
    "img-src": ["data:"],
    "frame-ancestors": [NONE],
    "base-uri": [NONE],
    "form-action": [NONE],
}


@require_GET
@csp(SVG_POLICY)
def run_chart(request, slug, wave, pk, name):
    program = roles.program_for_request(request, slug, PERM)
    wave = wave_for_request(request, program, wave)
    run = _run(wave, pk)
    if run.status != AnalysisRun.Status.DONE:
        raise Http404("No such chart.")
    svg = selectors.chart_svg(run, name, program=program) if name in charts.RENDERERS else None
    if svg is None:
        raise Http404("No such chart.")
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
def run_retry(request, slug, wave, pk):
    program = roles.program_for_request(request, slug, PERM)
    wave = wave_for_request(request, program, wave)
    run = _run(wave, pk, with_results=False)
    try:
        runs.run_retry(run=run, actor=request.user)
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        messages.success(request, f"Analysis run {run.pk} is queued again.")
    return redirect("analysis:run_detail", slug=slug, wave=wave.slug, pk=run.pk)


@require_GET
def run_json(request, slug, wave, pk):
    program = roles.program_for_request(request, slug, PERM)
    wave = wave_for_request(request, program, wave)
    run = _run(wave, pk)
    if run.status != AnalysisRun.Status.DONE:
        raise Http404("The run has no results.")
    body = json.dumps(selectors.run_export(run), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"analysis-{program.slug}-{wave.slug}-run{run.pk}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
