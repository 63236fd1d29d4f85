"""The charts of a series: each compared question across the waves, one diverging bar per
wave (all analysed answers; a wave with fewer than *k* answers to the question is named, not
drawn), one chart per answer scale, drawn with the wave analysis's own chart code."""

from __future__ import annotations

import hashlib
from typing import Any

import matplotlib
from django.core.cache import cache
from django.db.models import Count, Max
from matplotlib.figure import Figure

from analysis.runs import charts as run_charts
from analysis.runs.selectors import code_version
from analysis.series.compute import SeriesResults
from surveys.digest import kept_digests
from surveys.models import Response

CACHE_SECONDS = 600


def _hidden(label: str, n: int, k: int) -> str:
    return f"{label} (n < {k})" if n else f"{label} (no answers)"


def chart_groups(results: SeriesResults) -> list[tuple[str, list]]:
    """The questions in charts of one answer scale each (one legend per chart): (name, items),
    in the order the questions come; none for a series of fewer than two waves."""
    if len(results.members) < 2:
        return []
    groups: dict[tuple, list] = {}
    for item in results.items:
        scale = tuple((v["value"], v["label"]) for v in item.values)
        groups.setdefault(scale, []).append(item)
    return [(f"scale-{i + 1}", items) for i, items in enumerate(groups.values())]


def series_chart_svg(results: SeriesResults, name: str) -> str | None:
    """The chart ``name`` of :func:`chart_groups`: one panel per question, one bar per wave;
    None if there is no such chart."""
    items = dict(chart_groups(results)).get(name)
    if not items:
        return None
    members, k = results.members, results.k
    with matplotlib.rc_context(run_charts.RC):
        per_panel = 0.32 * (len(members) + 1) + 0.5
        fig = Figure(figsize=(8, 0.8 + per_panel * len(items)))
        axes = fig.subplots(len(items), 1, sharex=True, squeeze=False)[:, 0]
        for ax, item in zip(axes, items, strict=True):
            dists = [item.comparisons[0].before, *[c.after for c in item.comparisons]]
            rows: list[tuple[str, str, dict[str, int] | None]] = []
            for j, (member, dist) in enumerate(zip(members, dists, strict=True)):
                gid = f"{item.code}-w{j}"
                if dist.shown:
                    rows.append((gid, member.label, dist.counts))
                else:
                    rows.append((gid, _hidden(member.label, dist.n, k), None))
            run_charts._diverging(ax, rows, item.values)
            ax.set_title(item.text, loc="left")
        fig.subplots_adjust(hspace=0.6, bottom=0.6 / fig.get_figheight() + 0.04)
        run_charts._legend(fig, items[0].values)
        return run_charts._svg(fig)


def chart_key(results: SeriesResults, name: str) -> str:
    """What the chart is drawn from: the waves in order with their responses' running digests
    (read, never made here: a page that only shows must not write), k and the code's version.
    A new response, exclusion or wave draws it again."""
    ids = [m.wave_id for m in results.members]
    kept = kept_digests(ids)
    # Waves whose responses predate the running digest: their count and last id instead.
    untracked = {
        row["wave_id"]: (row["n"], row["last"])
        for row in Response.objects.filter(wave_id__in=set(ids) - set(kept))
        .values("wave_id")
        .annotate(n=Count("pk"), last=Max("pk"))
    }
    parts: list[Any] = [results.series.pk, name, results.k, code_version()]
    parts += [
        (m.wave_id, m.position, m.label, kept.get(m.wave_id), untracked.get(m.wave_id))
        for m in results.members
    ]
    return "ccdg:series-chart:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def cached_chart_svg(results: SeriesResults, name: str) -> str | None:
    """:func:`series_chart_svg`, kept in the cache until the data it is drawn from changes."""
    key = chart_key(results, name)
    svg = cache.get(key)
    if svg is None:
        svg = series_chart_svg(results, name) or ""
        cache.set(key, svg, CACHE_SECONDS)
    return svg or None
