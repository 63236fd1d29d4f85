"""The results page of a wave series (namespace ``series``)."""

from __future__ import annotations

from collections import Counter

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render

from analysis.runs.summary import p_cell
from analysis.series.charts import cached_chart_svg, chart_groups
from analysis.series.compute import series_results
from sessions_app import roles
from surveys.models import WaveSeries


def _series(request, slug, series):
    program = roles.program_for_request(request, slug, "surveys.view")
    found = get_object_or_404(WaveSeries.objects.select_related("program"), program=program,
                              slug=series)  # fmt: skip
    return program, found


def series_chart(request, slug, series, name):
    """One chart of the series (SVG), drawn once until its data change."""
    _program, found = _series(request, slug, series)
    svg = cached_chart_svg(series_results(found), name)
    if svg is None:
        raise Http404("No such chart.")
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


def series_results_page(request, slug, series):
    program, found = _series(request, slug, series)
    results = series_results(found)
    k = results.k
    items = [
        {
            "item": item,
            "rows": [
                {
                    "label": c.later.label,
                    "before": distribution_text(c.before, item.values, k),
                    "after": distribution_text(c.after, item.values, k),
                    "paired": paired_text(c, k),
                    "unpaired": unpaired_text(c),
                    "attendance": attendance_text(c),
                }
                for c in item.comparisons
            ],
            "trend": trend_text(item),
        }
        for item in results.items
    ]
    context = {
        "program": program, "results": results, "series": found, "items": items,
        "charts": [name for name, _items in chart_groups(results)],
        "linked_respondents": linked_respondents(results),
    }  # fmt: skip
    return render(request, "analysis/series_results.html", context)


def linked_respondents(results) -> int:
    """How many respondents are linked in two waves or more (the rows of the paired data set
    are theirs; it is refused below the small-cell threshold)."""
    waves = Counter(key for row in results.summary.rows for key in row.links.by_key)
    return sum(1 for n in waves.values() if n >= 2)


# --- what the page prints --------------------------------------------------------------------


def _unsigned_zero(value: float, digits: int) -> float:
    """``value`` rounded, without the sign of a negative zero ("-0.00" reads as a change)."""
    return round(value, digits) + 0.0


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{_unsigned_zero(value, digits):+.{digits}f}"


def _points(value: float | None) -> str:
    return "—" if value is None else f"{_unsigned_zero(100 * value, 0):+.0f}"


def _interval(ci, scale: float = 1.0, digits: int = 2) -> str:
    if not ci:
        return "no interval"
    low, high = (_unsigned_zero(scale * v, digits) for v in ci)
    return f"95% CI {low:.{digits}f} to {high:.{digits}f}"


def distribution_text(dist, values: list[dict], k: int) -> str:
    if not dist.shown:
        return f"Hidden: fewer than {k} answers" if dist.n else "No answers"
    shares = " · ".join(f"{v['value']}: {dist.percent(v['value'])}%" for v in values)
    return f"n = {dist.n}. {shares}"


def paired_text(c, k: int) -> str:
    if not c.paired_shown:
        return f"Fewer than {k} linked pairs ({c.pairs})" if c.pairs else "No linked pairs"
    sr = c.signed_rank
    text = (
        f"{c.pairs} pairs: shift {_num(sr.estimate)} ({_interval(sr.conf_int)}), "
        f"signed-rank p = {p_cell(sr.pvalue)}"
    )
    d = c.paired_difference
    if d is not None and d.estimate is not None:
        text += (
            f"; positive {100 * d.p_before:.0f}% → {100 * d.p_after:.0f}%, "
            f"{_points(d.estimate)} points ({_interval(d.conf_int, 100, 0)}), "
            f"McNemar exact p = {p_cell(c.mcnemar.pvalue)}"
        )
    return text


def trend_text(item) -> str:
    """The trend line of a yearly series' item ("" when there is none to show)."""
    if item.trend is None or item.trend.pvalue is None:
        return ""
    text = (
        f"Trend in the positive share across the waves: chi-squared "
        f"{item.trend.statistic:.2f}, p = {p_cell(item.trend.pvalue)}"
    )
    d = item.trend_difference
    if d is not None:
        shares = " → ".join(f"{share}%" for share in item.trend_shares)
        text += (
            f"; positive {shares}, last minus first {_points(d.estimate)} points "
            f"({_interval(d.conf_int, 100, 0)})"
        )
    return text


def unpaired_text(c) -> str:
    if c.rank_sum is None:
        return "Not compared: a wave has too few answers"
    rs = c.rank_sum
    text = f"rank-sum p = {p_cell(rs.pvalue)}"
    if rs.estimate is not None:
        text += f", location shift {_num(rs.estimate)} ({_interval(rs.conf_int)})"
    if c.difference is not None:
        text += (
            f"; positive {c.positive_before}% → {c.positive_after}%, "
            f"{_points(c.difference.estimate)} points ({_interval(c.difference.conf_int, 100, 0)})"
        )
    return text


def attendance_text(c) -> str:
    """Change against sessions attended (confidential series), or "" when not computed."""
    sp = c.attendance
    if sp is None or sp.estimate is None:
        return ""
    return (
        f"Change against sessions attended in between ({c.attendance_pairs} linked "
        f"respondents): Spearman's rho {sp.estimate:+.2f}, p = {p_cell(sp.pvalue)}"
    )
