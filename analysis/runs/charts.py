"""Charts of an analysis run, drawn on the server as SVG with matplotlib.

* ``agreement``: diverging stacked bars, one bar per agreement item (all respondents);
* ``agreement-groups``: the same, one panel per item and one bar per group;
* ``relevance``: mean with SD error bars per relevance item, overall and per group.

The charts are drawn from a run's stored ``charts_data`` (see :func:`charts_data`), never
from live responses, so an old run keeps its own charts. A group hidden by the small-cell rule
(:mod:`analysis.runs.disclosure`) in an item's table has no bar or point there: its row says
"n < k" or "hidden", as the table does. Only matplotlib's object API is used
(``Figure`` with the Agg canvas, no pyplot state): safe in threads and in a Celery worker.
The SVG is deterministic for the same input: no date in the metadata and a fixed hash salt.
Text stays text (``svg.fonttype = none``) so the labels are searchable and accessible.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from typing import Any

# Matplotlib writes a font cache on first use; a worker without a writable home must not fail.
os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402
from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from analysis.runs import disclosure  # noqa: E402

GROUP_CODE = "group"
AGREEMENT_TYPES = frozenset({"agreement5"})

# Matplotlib's red-blue diverging map stays readable for the common colour-vision deficiencies.
NEUTRAL_COLOUR = "#d9d9d9"
OVERALL_COLOUR = "#333333"
GROUP_COLOURS = [
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e",
    "#e6ab02", "#a6761d", "#1f78b4", "#b15928", "#6a3d9a",
]  # fmt: skip

RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "ccdg-analysis",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}

CHART_TITLES = {
    "agreement": "Agreement with each item, all respondents",
    "agreement-groups": "Agreement with each item, by group",
    "relevance": "Relevance to daily practice: mean and SD, overall and by group",
}


# -- data -------------------------------------------------------------------------------------


def common_stem(texts: list[str]) -> str:
    """The words the texts share at their start (``"Participating in the group fostered: "``).

    Nothing when there is a single text or nothing in common: a label is never emptied.
    """
    if len(texts) < 2:
        return ""
    prefix = os.path.commonprefix(texts)
    if not prefix or any(len(t) == len(prefix) for t in texts):
        return ""
    # Cut back to a word boundary so no label starts in the middle of a word.
    cut = max(prefix.rfind(" "), prefix.rfind(":"))
    return prefix[: cut + 1] if cut >= 0 else ""


def short_label(text: str, stem: str) -> str:
    label = text[len(stem) :].strip() if stem and text.startswith(stem) else text.strip()
    return label[:1].upper() + label[1:]


def charts_data(
    *,
    questions: list[dict],
    responses: Iterable[dict[str, str]],
    results: dict[str, Any],
) -> dict[str, Any]:
    """What the charts need, kept with the run (``results["charts_data"]``).

    ``questions`` is the codebook (:func:`surveys.services.codebook`), ``responses`` the
    analysed answers and ``results`` what :func:`analysis.runs.compute.analyse` made of them. The
    results hold the agreement items as agree/not counts only, so the count of every answer
    value (overall and per group) is counted here; the relevance means and SDs are taken from
    the results, so chart and table cannot disagree. Missing answers are left out item by
    item. Groups are those of the results (``meta.groups``), in that order. A group the
    results hide in an item's table (small cells) is left out of that item's ``by_group``
    and named in its ``hidden`` ({group: why}) instead.
    """
    agreement = [q for q in questions if q["type"] in AGREEMENT_TYPES]
    groups = list(results.get("meta", {}).get("groups", []))
    counts: dict[str, dict[str, dict[str, int]]] = {q["code"]: {} for q in agreement}
    allowed = {q["code"]: {v["value"] for v in q["values"]} for q in agreement}
    overall = "\x00all"  # never a group label: labels are short printable text
    if agreement:
        for answers in responses:
            group = str(answers.get(GROUP_CODE) or "").strip()
            for code, by in counts.items():
                value = answers.get(code)
                if value in allowed[code]:
                    row = by.setdefault(overall, {})
                    row[value] = row.get(value, 0) + 1
                    if group:
                        row = by.setdefault(group, {})
                        row[value] = row.get(value, 0) + 1
    a_stem = common_stem([q["text"] for q in agreement])
    values = agreement[0]["values"] if agreement else []
    # Which groups each item's table hides: a hidden group's answers are never drawn.
    hidden_in = {row["item"]: _suppressed(row.get("by_group")) for row in results.get("table2", [])}

    relevance_rows = results.get("relevance", [])
    r_stem = common_stem([r["text"] for r in relevance_rows])

    def figures(f: dict) -> dict:
        return {"n": f["n"], "mean": f["mean"], "sd": f["sd"]}

    def group_levels(r: dict) -> dict:
        return r.get("by", {}).get(GROUP_CODE, {}).get("levels", {})

    return {
        "groups": groups,
        "k": disclosure.threshold(results),
        "agreement": {
            "stem": a_stem.strip().rstrip(":"),
            "values": [{"value": v["value"], "label": v["label"]} for v in values],
            "items": [
                {
                    "item": q["code"],
                    "label": short_label(q["text"], a_stem),
                    "overall": counts[q["code"]].get(overall, {}),
                    "by_group": {
                        g: counts[q["code"]][g]
                        for g in groups
                        if g in counts[q["code"]] and g not in hidden_in.get(q["code"], {})
                    },
                    "hidden": hidden_in.get(q["code"], {}),
                }
                for q in agreement
            ],
        },
        "relevance": {
            "stem": r_stem.strip().rstrip(":"),
            "items": [
                {
                    "item": r["item"],
                    "label": short_label(r["text"], r_stem),
                    "overall": figures(r["overall"]),
                    "by_group": {
                        g: figures(f)
                        for g, f in group_levels(r).items()
                        if f["n"] and not f.get("suppressed")
                    },
                    "hidden": _suppressed(group_levels(r)),
                }
                for r in relevance_rows
            ],
        },
    }


def _suppressed(figures: dict | None) -> dict[str, str]:
    """{group: why} of the hidden groups among ``figures`` ({group: figures})."""
    return {g: f["suppressed"] for g, f in (figures or {}).items() if f.get("suppressed")}


def _hidden_label(group: str, why: str, k: int | None) -> str:
    """A hidden group's row label: "Tuesday (n < 5)" or "Tuesday (hidden)"."""
    if why == disclosure.SMALL and k is not None:
        return f"{group} (n {disclosure.below(k)})"
    return f"{group} ({disclosure.HIDDEN_TEXT})"


def _hidden_footnote(fig: Figure, names: list[str], k: int | None) -> None:
    """Under a chart by group: which groups are not drawn, and why."""
    if not names:
        return
    small = f"fewer than {k} respondents" if k is not None else "too few respondents"
    fig.text(
        0.01, 0.005,
        f"Not drawn where they have {small}, or where they are hidden so that such a group "
        f"cannot be worked out from the total: {', '.join(names)}.",
        fontsize=7, wrap=True, gid="small-cells",
    )  # fmt: skip


# -- drawing ----------------------------------------------------------------------------------


def _svg(fig: Figure) -> str:
    FigureCanvasSVG(fig)
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return out.getvalue()


def _segments(
    counts: dict[str, int], values: list[str]
) -> tuple[int, list[tuple[str, float, float]]]:
    """(n, [(value, left, width)]) in percent, centred so the neutral answer straddles zero."""
    n = sum(counts.get(v, 0) for v in values)
    if n == 0:
        return 0, []
    pct = [100.0 * counts.get(v, 0) / n for v in values]
    k = len(values)
    half = k // 2
    neutral = pct[half] if k % 2 else 0.0
    left = -(sum(pct[:half]) + neutral / 2)
    out = []
    for value, width in zip(values, pct, strict=True):
        out.append((value, left, width))
        left += width
    return n, out


def _colours(k: int) -> list[str]:
    """Red for disagreement, grey for the neutral middle, blue for agreement."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps["RdBu"]
    if k == 1:
        return [NEUTRAL_COLOUR]
    out = [to_hex(cmap(0.08 + 0.84 * j / (k - 1))) for j in range(k)]
    if k % 2:
        out[k // 2] = NEUTRAL_COLOUR
    return out


def _diverging(ax, rows: list[tuple[str, str, dict[str, int] | None]], values: list[dict]) -> None:
    """Draw one diverging bar per row: (gid, label, counts); a row whose counts are None is
    hidden (small cells): its label only, no bar."""
    codes = [v["value"] for v in values]
    colours = _colours(len(codes))
    labels = []
    for y, (gid, label, counts) in enumerate(rows):
        if counts is None:
            labels.append(label)
            continue
        n, segments = _segments(counts, codes)
        labels.append(f"{label} (n = {n})")
        if not segments:
            continue
        # One call per row, not per segment: each call carries a fixed cost in matplotlib.
        bars = ax.barh(
            [y] * len(segments), [width for _v, _l, width in segments],
            left=[left for _v, left, _w in segments], color=colours, height=0.7,
        )  # fmt: skip
        for patch, (value, _left, _width) in zip(bars.patches, segments, strict=True):
            patch.set_gid(f"bar-{gid}-{value}")
    ax.set_yticks(range(len(rows)), labels)
    ax.invert_yaxis()
    ax.axvline(0, color="#555555", linewidth=0.8)
    ax.set_xlim(-100, 100)
    ax.set_xticks([-100, -50, 0, 50, 100], ["100%", "50%", "0", "50%", "100%"])


def _legend(fig: Figure, values: list[dict]) -> None:
    from matplotlib.patches import Patch

    colours = _colours(len(values))
    handles = [Patch(facecolor=c, label=v["label"]) for v, c in zip(values, colours, strict=True)]
    fig.legend(
        handles=handles, loc="lower center", ncol=min(len(values), 5), frameon=False,
        bbox_to_anchor=(0.5, 0.0),
    )  # fmt: skip


def agreement_chart(data: dict[str, Any]) -> str | None:
    """Diverging bars, one per agreement item, all respondents. None without any answer."""
    block = data["agreement"]
    items = [i for i in block["items"] if sum(i["overall"].values())]
    if not items or not block["values"]:
        return None
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(8, 1.2 + 0.45 * len(items)))
        ax = fig.add_subplot()
        _diverging(ax, [(i["item"], i["label"], i["overall"]) for i in items], block["values"])
        if block["stem"]:
            ax.set_title(block["stem"], loc="left")
        fig.subplots_adjust(bottom=0.25)
        _legend(fig, block["values"])
        return _svg(fig)


def agreement_groups_chart(data: dict[str, Any]) -> str | None:
    """One panel per agreement item, one bar per group (and "All"). None with fewer than two
    groups: the overall chart says everything there is."""
    block = data["agreement"]
    items = [i for i in block["items"] if sum(i["overall"].values())]
    drawn = [g for g in data["groups"] if any(g in i["by_group"] for i in items)]
    if len(drawn) < 2 or not items or not block["values"]:
        return None
    k = data.get("k")
    # Every group of the results gets its row, drawn or hidden: leaving out a group nobody
    # named while printing "n < k" for a small one would tell the two apart.
    groups = [
        g for g in data["groups"] if g in drawn or any(g in i.get("hidden", {}) for i in items)
    ]
    with matplotlib.rc_context(RC):
        per_panel = 0.32 * (len(groups) + 1) + 0.5
        fig = Figure(figsize=(8, 0.8 + per_panel * len(items)))
        axes = fig.subplots(len(items), 1, sharex=True, squeeze=False)[:, 0]
        for ax, item in zip(axes, items, strict=True):
            rows = [(f"{item['item']}-all", "All", item["overall"])]
            for j, g in enumerate(groups):
                why = item.get("hidden", {}).get(g)
                if why:
                    rows.append((f"{item['item']}-g{j}", _hidden_label(g, why, k), None))
                else:
                    rows.append((f"{item['item']}-g{j}", g, item["by_group"].get(g, {})))
            _diverging(ax, rows, block["values"])
            ax.set_title(item["label"], loc="left")
        fig.subplots_adjust(hspace=0.6, bottom=0.6 / fig.get_figheight() + 0.04)
        _legend(fig, block["values"])
        return _svg(fig)


def relevance_chart(data: dict[str, Any]) -> str | None:
    """Mean with SD error bars per relevance item: overall, then each group."""
    block = data["relevance"]
    items = [i for i in block["items"] if i["overall"]["n"]]
    if not items:
        return None
    groups = [g for g in data["groups"] if any(i["by_group"].get(g) for i in items)]
    hidden = [g for g in data["groups"] if any(g in i.get("hidden", {}) for i in items)]
    series = [("All", OVERALL_COLOUR, lambda i: i["overall"])] + [
        (g, GROUP_COLOURS[k % len(GROUP_COLOURS)], lambda i, g=g: i["by_group"].get(g))
        for k, g in enumerate(groups)
    ]
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(8, 1.4 + 0.3 * len(items) * len(series)))
        ax = fig.add_subplot()
        step = 0.8 / len(series)
        for s, (name, colour, pick) in enumerate(series):
            ys, means, sds = [], [], []
            for y, item in enumerate(items):
                fig_ = pick(item)
                if not fig_ or fig_["mean"] is None:
                    continue
                ys.append(y - 0.4 + step * (s + 0.5))
                means.append(fig_["mean"])
                sds.append(fig_["sd"] or 0.0)
            ax.errorbar(
                means, ys, xerr=sds, fmt="o", color=colour, ecolor=colour, capsize=3,
                markersize=4, label=name, gid=f"series-{s}",
            )  # fmt: skip
        ax.set_yticks(range(len(items)), [i["label"] for i in items])
        ax.invert_yaxis()
        ax.set_xlim(0.5, 5.5)
        ax.set_xticks([1, 2, 3, 4, 5])
        ax.set_xlabel("Mean (SD), 1 = low, 5 = high")
        if block["stem"]:
            ax.set_title(block["stem"], loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        _hidden_footnote(fig, hidden, data.get("k"))
        return _svg(fig)


RENDERERS = {
    "agreement": agreement_chart,
    "agreement-groups": agreement_groups_chart,
    "relevance": relevance_chart,
}


def charts_render(data: dict[str, Any]) -> dict[str, str]:
    """Every chart the data supports: name -> SVG text (charts with nothing to show omitted)."""
    out = {}
    for name, render in RENDERERS.items():
        svg = render(data)
        if svg is not None:
            out[name] = svg
    return out
