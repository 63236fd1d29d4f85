"""Small cells: which categories of a wave's respondents a table may break out.

One rule, applied here and nowhere else, to everything the analysis shows: the results JSON,
the results page, the results paragraph, the charts, the workbook, the PDF reports. ``k`` is
the program's small-cell threshold (``Program.small_cell_k``: 5 unless a coordinator lowered
it, with a recorded reason). See docs/analysis.md, "Small cells".

1. **Totals only below k.** A wave with fewer than ``k`` analysed responses is shown as
   totals: the response line and each item over all respondents, no breakdown at all
   (:func:`analysis.runs.compute.analyse` leaves the breakdowns out; :func:`totals_only` strips
   them from a stored result).
2. **Small cells.** In every breakdown (the categories of a demographic question, the
   groups), a category with fewer than ``k`` respondents in that table, none included, is
   hidden: its count prints "< k" and none of its figures (agreement, ratings, percentages)
   is given.
3. **Complementary suppression.** Subtracting the shown categories from the total gives the
   hidden ones together. So while the hidden categories together hold between 1 and ``k - 1``
   respondents, or a reader could still pin one hidden count down from the total and the
   printed bounds ("< k" means 0 to k - 1, "hidden" means at least k), the smallest shown
   category is hidden too (printed "hidden"), the later one on a tie.
   :func:`hidden_categories` applies 2 and 3.
4. **Tests.** A test across a breakdown takes the shown categories and the hidden ones merged
   into one category (placed last), never a hidden category on its own
   (:mod:`analysis.runs.compute`). The merged category holds 0 or at least ``k`` respondents,
   and its figures can be worked out from the shown ones anyway, so a p-value reveals no small cell.

The guarantee is per table: within one breakdown no hidden category's count or answers can
be worked out from what is printed. Respondents who did not answer the demographic question
are not a category (nobody can be picked out by not answering): they count in the total and
in no category, as before. Combining two breakdowns of the same item (by gender and by group)
is not audited cell by cell; every shown cell still rests on at least ``k`` respondents.

Pure: no Django, no database. The figures dicts follow docs/analysis-json.md.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

#: The program's default threshold
#: (``sessions_app.programs.models.SMALL_CELL_K_DEFAULT``); a lower k needs a reason, which
#: every output states next to the figures.
STANDARD_K = 5

#: Why a category is hidden (the ``suppressed`` key of a hidden figures dict).
SMALL = "small"  # fewer than k respondents: printed "< k"
COMPLEMENTARY = "complementary"  # hidden so that a small one cannot be worked out: "hidden"

HIDDEN_TEXT = "hidden"

TOTALS_ONLY_NOTE = (
    "Fewer than {k} responses were analysed: only totals are shown, no breakdown by group or "
    "by any characteristic (small-cell rule, k = {k})."
)
OUTDATED_NOTE = (
    "This run was made {when}, and the program's small-cell threshold is now k = {k}: only "
    "totals are shown. Run the analysis again to see the breakdowns under the current rule."
)
SMALL_CELLS_NOTE = (
    "Small cells (k = {k}): a category with fewer than {k} respondents in a table is shown as "
    "“< {k}” without its answers, and where needed another category is hidden too "
    "(“hidden”) so that no small one can be worked out from the totals. Tests count the "
    "hidden categories of a characteristic together, as one category."
)
NOT_SHOWN_TEST_NOTE = "Not shown: totals only (small-cell rule)."


def below(k: int) -> str:
    """How a small count prints: "< 5"."""
    return f"< {k}"


def why_hidden(count: int, k: int) -> str:
    """:data:`SMALL` for a count under ``k``, else :data:`COMPLEMENTARY`."""
    return SMALL if count < k else COMPLEMENTARY


def hidden_categories(
    counts: Mapping[str, int], *, k: int, start: Iterable[str] = ()
) -> dict[str, str]:
    """{category: why} of the categories a breakdown must hide (rules 2 and 3).

    ``counts`` are the respondents in each category of this table, in the table's order;
    ``start`` are categories to hide in any case (those hidden in Table 1 for the same
    question, so that a category hidden there is hidden in every item's table too).
    """
    hidden = {c for c in start if c in counts} | {c for c, n in counts.items() if n < k}
    order = {c: i for i, c in enumerate(counts)}
    while _exposed(counts, hidden, k):
        shown = [c for c in counts if c not in hidden]
        if not shown:
            break
        # The smallest shown category, the later one on a tie: the first listed categories
        # (codebook order) stay visible when counts are equal.
        hidden.add(min(shown, key=lambda c: (counts[c], -order[c])))
    return {c: why_hidden(counts[c], k) for c in counts if c in hidden}


def _exposed(counts: Mapping[str, int], hidden: set[str], k: int) -> bool:
    """Whether the hidden categories can still be worked out from the shown ones."""
    total = sum(counts[c] for c in hidden)
    if 0 < total < k:
        return True
    # What a reader knows of each hidden count: "< k" is 0 to k - 1, "hidden" at least k.
    lows = {c: 0 if counts[c] < k else k for c in hidden}
    highs = {c: k - 1 if counts[c] < k else None for c in hidden}
    for c in hidden:
        if counts[c] == 0 or counts[c] >= k:
            continue  # nobody to protect, or not a small cell
        others_high = [highs[o] for o in hidden if o != c]
        low = 0 if None in others_high else max(0, total - sum(others_high))  # type: ignore[arg-type]
        high = min(k - 1, total - sum(lows[o] for o in hidden if o != c))
        if low == high:
            return True
    return False


def hidden_figures(figures: Mapping[str, Any], why: str, *, keep: Iterable[str] = ()) -> dict:
    """``figures`` with every number blanked (``None``) and ``suppressed`` set to ``why``;
    the keys in ``keep`` (a label) stay."""
    kept = set(keep)
    return {key: (value if key in kept else None) for key, value in figures.items()} | {
        "suppressed": why
    }


def is_hidden(figures: Mapping[str, Any] | None) -> bool:
    return bool(figures) and bool(figures.get("suppressed"))  # type: ignore[union-attr]


def count_text(figures: Mapping[str, Any], k: int) -> str | None:
    """How a hidden category's count prints ("< 5" or "hidden"); None when it is shown."""
    why = figures.get("suppressed")
    if not why:
        return None
    return below(k) if why == SMALL else HIDDEN_TEXT


def threshold(results: Mapping[str, Any]) -> int | None:
    """The k a result was protected with; None for a result made before the rule."""
    small = (results.get("meta") or {}).get("small_cells") or {}
    k = small.get("k")
    return int(k) if isinstance(k, int) else None


def footnote(k: int) -> str:
    """The sentence every table with hidden cells prints under it."""
    return (
        f"{below(k)}: fewer than {k} respondents, not shown; {HIDDEN_TEXT}: not shown so that a "
        f"category with fewer than {k} cannot be worked out from the total."
    )


def notice(meta: Mapping[str, Any]) -> str | None:
    """ "Small-cell threshold lowered to k=3: <reason>" for a result (``meta.small_cells``) or
    a program (``{"k": ..., "reason": ...}``) whose threshold is below the standard; None
    otherwise."""
    small = meta.get("small_cells", meta)
    k = small.get("k")
    if not isinstance(k, int) or k >= STANDARD_K:
        return None
    reason = (small.get("reason") or "").strip() or "no reason recorded"
    return f"Small-cell threshold lowered to k={k}: {reason}"


def totals_only(results: Mapping[str, Any], *, k: int, note: str) -> dict:
    """A copy of ``results`` without any breakdown (rule 1): no Table 1 categories, no
    figures by group or characteristic, no tests across them; the notes are replaced by
    ``note`` (the old ones may name a small category); the charts keep the overall one."""
    out = copy.deepcopy(
        {key: value for key, value in results.items() if key not in ("summary", "charts")}
    )
    meta = out.setdefault("meta", {})
    meta["groups"] = []
    meta["small_cells"] = dict(meta.get("small_cells") or {}) | {"k": k, "totals_only": True}
    out["table1"] = []
    out["table1_items"] = []
    for row in out.get("table2") or []:
        row["by_group"] = {}
        row["p_value"] = None
        row["significant"] = False
        row["test"] = {"method": None, "stderr": None, "note": NOT_SHOWN_TEST_NOTE}
    for key in ("relevance", "stressors"):
        for row in out.get(key) or []:
            row["by"] = {}
    data = out.get("charts_data")
    if data:
        data["groups"] = []
        for block in ("agreement", "relevance"):
            for item in (data.get(block) or {}).get("items") or []:
                item["by_group"] = {}
                item.pop("hidden", None)
    charts = (results.get("charts") or {}).get("agreement")
    if charts:
        out["charts"] = {"agreement": charts}  # all respondents: a total
    out["notes"] = [note]
    return out


def is_current(results: Mapping[str, Any], *, k: int) -> bool:
    """Whether ``results`` were protected with threshold ``k`` or a higher one."""
    made_with = threshold(results)
    return made_with is not None and made_with >= k


def shown(results: Mapping[str, Any], *, k: int) -> dict:
    """``results`` as they may be shown under today's threshold ``k``.

    A result protected with ``k`` or a higher threshold is shown as it is; a result made
    before the rule, or with a lower threshold than today's, shows totals only, with a note
    saying why (:func:`totals_only`; the caller writes the paragraph again)."""
    if is_current(results, k=k):
        return dict(results)
    made_with = threshold(results)
    when = (
        "before small cells were protected"
        if made_with is None
        else f"with a small-cell threshold of k = {made_with}"
    )
    return totals_only(results, k=k, note=OUTDATED_NOTE.format(when=when, k=k))
