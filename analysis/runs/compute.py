"""The survey analysis as one pure function: a codebook and answers in, a JSON-able dict out.

:func:`analyse` makes no database query and imports nothing from Django, so the Celery job,
the ``run_analysis`` command and the benchmark all run the same code on the same data. The
results schema (version :data:`SCHEMA_VERSION`) is described in ``docs/analysis-json.md``.

The answers are read once into counters: responses per combination of demographic answers,
and per analysed item, responses per (demographic combination, answer to the item).
Everything else (Table 1, Table 2, relevance, stressors) is computed from those counters,
whose size depends on the number of distinct answer combinations, not on the number of
responses.

Conventions:

- A missing answer (absent, ``None`` or blank) is left out item by item: every figure carries
  the ``n`` it rests on.
- Percentages are ``100 * count / n`` at full float precision (``None`` when ``n`` is 0);
  rounding is left to presentation (:mod:`analysis.runs.summary`, the templates).
- The statistics come from :mod:`analysis.stats`; degenerate cases are stated in ``notes``.
- Small cells (:mod:`analysis.runs.disclosure`): with fewer than ``small_cell_k`` analysed responses
  there is no breakdown at all; otherwise a category with fewer than ``small_cell_k``
  respondents in a table is hidden (with complementary suppression), and every test across a
  breakdown counts the hidden categories together as one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from operator import methodcaller
from typing import Any

from analysis import stats
from analysis.runs import disclosure
from surveys.builtin import GROUP_CODE, describes_respondent

SCHEMA_VERSION = 2

AGREEMENT_TYPE = "agreement5"
RELEVANCE_TYPE = "rating5"
STRESSOR_KINDS = {"challenge4": "challenge", "yes_no": "addressed"}
SIGNIFICANCE = 0.05

NO_RESPONSES_NOTE = "No analysable responses: nothing to analyse."

Progress = Callable[[float, str], None]


def analyse(
    *,
    questions: list[dict],
    responses: list[dict[str, str]],
    response_line: dict,
    group_labels: list[str] | None = None,
    small_cell_k: int,
    progress: Progress | None = None,
    fisher_budget: float | None = None,
) -> dict:
    """Analyse the answers of a wave's analysable responses.

    ``questions`` is the instrument's codebook (:func:`surveys.services.codebook`): dicts with
    ``code``, ``section``, ``text``, ``type``, ``values`` ([{value, label}]) and ``positive``
    (the value codes counted as the positive category). ``responses`` holds the answers of
    the analysed responses only ({question code: value code}); excluded and pilot responses
    are left out by the caller, which gives their counts in ``response_line``
    ({distributed, returned, excluded, excluded_reasons}). ``group_labels`` orders the groups
    (the program's group names); without it the labels found in the answers are sorted.
    ``progress`` is called with (fraction done, step name) between steps. ``fisher_budget`` is
    the time in seconds an exact test may take before its p-value is estimated by Monte Carlo
    (``None``: the default of :func:`analysis.stats.fisher_exact`, ``0``: Monte Carlo at once).
    ``small_cell_k`` is the program's small-cell threshold (:mod:`analysis.runs.disclosure`).
    """
    small_k = int(small_cell_k)
    if small_k < 1:
        raise ValueError(f"The small-cell threshold must be a whole number from 1, not {small_k}.")
    report = progress or (lambda fraction, step: None)
    totals_only = len(responses) < small_k
    # Below k analysed responses every breakdown would be a small cell: none is made at all.
    demographics = [] if totals_only else demographic_questions(questions)
    result = _empty_result(questions, responses, response_line, small_k, totals_only)
    notes: list[str] = result["notes"]
    if not responses:
        notes.append(NO_RESPONSES_NOTE)
        report(1.0, "Done")
        return result

    report(0.0, "Counting answers")
    items = _items_by_kind(questions)
    counted = _count(
        responses, [q["code"] for q in demographics], [q["code"] for qs in items for q in qs]
    )

    report(0.15, "Table 1: demographics")
    levels = {
        q["code"]: _levels(q, counted.demographic(i), group_labels, notes)
        for i, q in enumerate(demographics)
    }
    cells = _Cells(small_k)
    result["table1"], result["table1_items"] = _table1(demographics, counted, levels, cells)
    group_index = next((i for i, q in enumerate(demographics) if q["code"] == GROUP_CODE), None)
    result["meta"]["groups"] = _group_comparison(
        counted, group_index, levels, analysed=len(responses), totals_only=totals_only,
        small_k=small_k, notes=notes,
    )  # fmt: skip

    analysis = _Analysis(
        counted, demographics, levels, group_index, _Tester(fisher_budget, notes), notes, cells
    )
    result["table2"], result["relevance"], result["stressors"] = _item_rows(analysis, items, report)
    if cells.any_hidden:
        notes.append(disclosure.SMALL_CELLS_NOTE.format(k=small_k))

    report(1.0, "Done")
    return result


def _empty_result(
    questions: list[dict],
    responses: list[dict[str, str]],
    response_line: dict,
    small_k: int,
    totals_only: bool,
) -> dict[str, Any]:
    """The result with its meta and response line and every table still empty."""
    return {
        "meta": {
            "schema_version": SCHEMA_VERSION,
            "questions": len(questions),
            "responses": len(responses),
            "groups": [],
            "small_cells": {"k": small_k, "totals_only": totals_only},
        },
        "response": _response_line(response_line, analysed=len(responses)),
        "table1": [],
        "table1_items": [],
        "table2": [],
        "relevance": [],
        "stressors": [],
        "notes": [],
    }


def _items_by_kind(questions: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """The analysed items, in codebook order within each kind: the agreement items (Table 2),
    the relevance items and the stressors."""
    return (
        [q for q in questions if q["type"] == AGREEMENT_TYPE],
        [q for q in questions if q["type"] == RELEVANCE_TYPE],
        [q for q in questions if q["type"] in STRESSOR_KINDS],
    )


def _group_comparison(
    counted: _Counted,
    group_index: int | None,
    levels: dict[str, dict[str, str]],
    *,
    analysed: int,
    totals_only: bool,
    small_k: int,
    notes: list[str],
) -> list[str]:
    """The groups compared (``meta.groups``), with the note that says why there are none, or
    on the responses that name no group."""
    if totals_only:
        notes.append(disclosure.TOTALS_ONLY_NOTE.format(k=small_k))
        return []
    if group_index is None:
        notes.append("The instrument has no group question: nothing is compared across groups.")
        return []
    _group_notes(counted.demographic(group_index), analysed, notes)
    return list(levels[GROUP_CODE])


class _Analysis:
    """What every item's row is computed from: the counts, the demographics with their levels
    (and where the group question is among them), the tester, the notes and the small-cell
    rule."""

    def __init__(
        self,
        counted: _Counted,
        demographics: list[dict],
        levels: dict[str, dict[str, str]],
        group_index: int | None,
        tester: _Tester,
        notes: list[str],
        cells: _Cells,
    ) -> None:
        self.counted = counted
        self.demographics = demographics
        self.levels = levels
        self.group_index = group_index
        self.tester = tester
        self.notes = notes
        self.cells = cells


def _item_rows(
    a: _Analysis,
    items: tuple[list[dict], list[dict], list[dict]],
    report: Progress,
) -> tuple[list[dict], list[dict], list[dict]]:
    """The rows of Table 2, of the relevance items and of the stressors, reporting progress
    before each item."""
    agreement, relevance, stressors = items
    # The Fisher tests take the time: weigh each step by the number it runs.
    steps = [
        ("Table 2: agreement items", agreement, 1, _agreement_item),
        ("Relevance", relevance, 0.25, _relevance_item),
        ("Stressors", stressors, max(1, len(a.demographics)), _stressor_item),
    ]
    total = sum(len(qs) * weight for _step, qs, weight, _row in steps) or 1
    done = 0.0
    rows: list[list[dict]] = []
    for step, qs, weight, row_of in steps:
        rows.append([])
        for k, q in enumerate(qs, start=1):
            report(0.2 + 0.8 * done / total, f"{step} ({k} of {len(qs)})")
            rows[-1].append(row_of(a, q))
            done += weight
    return rows[0], rows[1], rows[2]


def _agreement_item(a: _Analysis, q: dict) -> dict:
    """Table 2's row of an agreement item."""
    return _table2_row(q, a.counted, a.group_index, a.levels.get(GROUP_CODE, {}), a.tester, a.cells)


def _relevance_item(a: _Analysis, q: dict) -> dict:
    """The row of a relevance item."""
    return _relevance_row(q, a.counted, a.demographics, a.levels, a.tester, a.notes, a.cells)


def _stressor_item(a: _Analysis, q: dict) -> dict:
    """The row of a stressor."""
    return _stressor_row(q, a.counted, a.demographics, a.levels, a.tester, a.cells)


# -- counting ------------------------------------------------------------------------------


def _answer(value: Any) -> str:
    """An answer as its value code; "" when missing."""
    if value is None:
        return ""
    return str(value).strip()


class _Counted:
    """The answers reduced to counts.

    Each distinct combination of demographic answers (a tuple of value codes, "" where
    missing) gets an id; ``keys`` counts responses per id and ``items[code]`` counts them per
    (id, answer to the item).
    """

    def __init__(self, key_of: list[tuple[str, ...]], keys: Counter, items: dict[str, Counter]):
        self.key_of = key_of
        self.keys = keys
        self.items = items
        self._level_cache: dict[int, list[str]] = {}

    def demographic(self, index: int) -> Counter:
        """{answer to demographic ``index``: responses} (missing answers under "")."""
        counts: Counter = Counter()
        for kid, n in self.keys.items():
            counts[self.key_of[kid][index]] += n
        return counts

    def overall(self, code: str) -> Counter:
        """{answer to item ``code``: responses} (missing answers under "")."""
        counts: Counter = Counter()
        for (_kid, answer), n in self.items[code].items():
            counts[answer] += n
        return counts

    def by(self, code: str, index: int) -> dict[str, Counter]:
        """{answer to demographic ``index``: {answer to item ``code``: responses}}."""
        # The (id, answer) counts summed into (level, answer) counts first, then split by
        # level: a Counter per level, not one made (and mostly thrown away) per pair, which
        # on 50,000 responses took a third of the computation outside the tests.
        level_of = self._levels(index)
        pairs: dict[tuple[str, str], int] = {}
        get = pairs.get
        for (kid, answer), n in self.items[code].items():
            key = (level_of[kid], answer)
            pairs[key] = get(key, 0) + n
        table: dict[str, Counter] = {}
        for (level, answer), n in pairs.items():
            row = table.get(level)
            if row is None:
                row = table[level] = Counter()
            row[answer] = n
        return table

    def _levels(self, index: int) -> list[str]:
        """The answer to demographic ``index`` of every combination id."""
        cached = self._level_cache.get(index)
        if cached is None:
            cached = self._level_cache[index] = [key[index] for key in self.key_of]
        return cached


def _count(
    responses: list[Mapping[str, Any]], demo_codes: list[str], item_codes: list[str]
) -> _Counted:
    # Column by column: each column is read from the answers by a loop that runs in C
    # (map + methodcaller), and Counter counts the (demographic id, answer) pairs in C too.
    # On 50,000 responses this is several times faster than one Python loop over the
    # responses updating every counter.
    def column(code: str) -> list[Any]:
        return list(map(methodcaller("get", code), responses))

    ids: dict[tuple, int] = {}
    if demo_codes:
        kids = [ids.setdefault(key, len(ids)) for key in zip(*map(column, demo_codes), strict=True)]
    else:
        ids[()] = 0
        kids = [0] * len(responses)
    raw_items = {code: Counter(zip(kids, column(code), strict=True)) for code in item_codes}
    # Normalise (blank, None, stray spaces) once per distinct value, not per response.
    key_of = [tuple(_answer(v) for v in key) for key in ids]
    # Raw keys that differ only by blanks or spaces become one normalised key.
    merged: dict[tuple[str, ...], int] = {}
    remap = [merged.setdefault(key, len(merged)) for key in key_of]
    keys: Counter = Counter()
    for kid, n in Counter(kids).items():
        keys[remap[kid]] += n
    items: dict[str, Counter] = {}
    for code, counter in raw_items.items():
        norm: Counter = Counter()
        for (kid, answer), n in counter.items():
            norm[remap[kid], _answer(answer)] += n
        items[code] = norm
    return _Counted(list(merged), keys, items)


# -- questions and levels --------------------------------------------------------------------


def demographic_questions(questions: list[dict]) -> list[dict]:
    """The questions that describe the respondent (:func:`surveys.builtin.describes_respondent`):
    the single-choice questions of the first section, and the group question wherever it is."""
    if not questions:
        return []
    first = questions[0]["section"]
    return [
        q
        for q in questions
        if describes_respondent(
            type=q["type"], code=q["code"], section=q["section"], first_section=first
        )
    ]


def _levels(
    question: dict, found: Counter, group_labels: list[str] | None, notes: list[str]
) -> dict[str, str]:
    """{value code: label} of a demographic, in the codebook's order (the given group labels
    for the group question), followed by any other answer found, sorted."""
    if question["values"]:
        known = {v["value"]: v["label"] for v in question["values"]}
    elif question["code"] == GROUP_CODE and group_labels is not None:
        known = {label: label for label in group_labels}
    else:
        return {value: value for value in sorted(v for v in found if v)}
    extra = sorted(v for v in found if v and v not in known)
    if extra:
        what = "the program's groups" if not question["values"] else "the codebook"
        notes.append(
            f"Answers to {_name(question)} include values not in {what} "
            f"({', '.join(extra)}): they are reported as categories of their own."
        )
    return known | {value: value for value in extra}


def _name(question: dict) -> str:
    return f'"{question["text"]}" ({question["code"]})'


def _pct(count: int, n: int) -> float | None:
    return 100.0 * count / n if n else None


def _group_notes(groups: Counter, analysed: int, notes: list[str]) -> None:
    # A group's own size is a Table 1 figure, under the small-cell rule like any other: the
    # notes name no group by its count.
    unnamed = groups.get("", 0)
    if unnamed:
        who = "response does" if unnamed == 1 else "responses do"
        notes.append(
            f"{unnamed} of {analysed} analysed {who} not name a group: counted in the overall "
            "figures, in no group."
        )


class _Cells:
    """The small-cell rule (:mod:`analysis.runs.disclosure`) as the tables apply it: the
    categories hidden in Table 1 per demographic question (hidden in every item's table
    too), and whether anything was hidden at all (for the note)."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.table1: dict[str, set[str]] = {}
        self.any_hidden = False

    def hide(self, code: str, counts: dict[str, int]) -> dict[str, str]:
        """{category: why} to hide in a table of demographic ``code`` with these counts."""
        hidden = disclosure.hidden_categories(counts, k=self.k, start=self.table1.get(code, ()))
        # A category nobody chose prints "< k" too, but only a hidden respondent is worth the
        # note.
        if any(counts[c] for c in hidden):
            self.any_hidden = True
        return hidden


# -- tables ---------------------------------------------------------------------------------


def _response_line(line: dict, *, analysed: int) -> dict:
    distributed = int(line.get("distributed") or 0)
    returned = int(line.get("returned") or 0)
    return {
        "distributed": distributed,
        "returned": returned,
        "analyzed": analysed,
        "excluded": int(line.get("excluded") or 0),
        "excluded_reasons": dict(sorted((line.get("excluded_reasons") or {}).items())),
        "rate": returned / distributed if distributed else None,
    }


def _table1(
    demographics: list[dict], counted: _Counted, levels: dict[str, dict[str, str]], cells: _Cells
):
    rows, items = [], []
    total = sum(counted.keys.values())
    for i, q in enumerate(demographics):
        counts = counted.demographic(i)
        n = total - counts.get("", 0)
        items.append({"question": q["code"], "text": q["text"], "n": n, "missing": total - n})
        found = {value: counts.get(value, 0) for value in levels[q["code"]]}
        hidden = cells.hide(q["code"], found)
        cells.table1[q["code"]] = set(hidden)
        for value, label in levels[q["code"]].items():
            row = {
                "question": q["code"],
                "text": q["text"],
                "value": value,
                "label": label,
                "n": found[value],
                "percent": _pct(found[value], n),
            }
            if value in hidden:
                keep = ("question", "text", "value", "label")
                row = disclosure.hidden_figures(row, hidden[value], keep=keep)
            rows.append(row)
    return rows, items


def _proportion(counts: Counter, positive: set[str]) -> dict:
    n = sum(c for answer, c in counts.items() if answer)
    hits = sum(c for answer, c in counts.items() if answer in positive)
    return {"n": n, "hits": hits, "percent": _pct(hits, n)}


def _split(
    code: str, figures: dict[str, dict], cells: _Cells, *, n: str, hits: str
) -> tuple[dict[str, dict], list[tuple[int, int]]]:
    """The figures of a breakdown under the small-cell rule, and the rows of its Fisher
    table: the shown categories with answers, then the hidden ones together as one row."""
    hidden = cells.hide(code, {value: f[n] for value, f in figures.items()})
    shown: dict[str, dict] = {}
    rows: list[tuple[int, int]] = []
    merged_n = merged_hits = 0
    for value, f in figures.items():
        if value in hidden:
            shown[value] = disclosure.hidden_figures(f, hidden[value], keep=("label",))
            merged_n += f[n]
            merged_hits += f[hits]
        else:
            shown[value] = f
            if f[n]:
                rows.append((f[hits], f[n] - f[hits]))
    if merged_n:
        rows.append((merged_hits, merged_n - merged_hits))
    return shown, rows


def _table2_row(q: dict, counted: _Counted, group_index, groups: dict[str, str], tester, cells):
    positive = set(q["positive"])
    overall = _proportion(counted.overall(q["code"]), positive)
    tester.nobody(q, overall["n"])
    by_group: dict[str, dict] = {}
    rows: list[tuple[int, int]] = []
    if group_index is not None:
        table = counted.by(q["code"], group_index)
        for label in groups:
            p = _proportion(table.get(label, Counter()), positive)
            by_group[label] = {"n": p["n"], "agree": p["hits"], "percent": p["percent"]}
        by_group, rows = _split(GROUP_CODE, by_group, cells, n="n", hits="agree")
    p_value, test = tester.fisher(
        rows,
        what=f"{_name(q)} across groups",
        levels_word="groups",
        answered=overall["n"],
    )
    return {
        "item": q["code"],
        "text": q["text"],
        "overall": {"n": overall["n"], "agree": overall["hits"], "percent": overall["percent"]},
        "by_group": by_group,
        "p_value": p_value,
        "significant": p_value is not None and p_value < SIGNIFICANCE,
        "test": test,
    }


def _numbers(counts: Counter, question: dict, notes: list[str]) -> list[float]:
    """The numeric answers, each repeated as often as it was given, in a stable order."""
    values: list[float] = []
    bad = 0
    for answer in sorted(a for a in counts if a):
        try:
            number = float(answer)
        except ValueError:
            bad += counts[answer]
            continue
        values.extend([number] * counts[answer])
    if bad:
        notes.append(f"{bad} answers to {_name(question)} are not numbers: left out.")
    return values


def _relevance_row(
    q, counted: _Counted, demographics, levels, tester, notes: list[str], cells: _Cells
) -> dict:
    silent: list[str] = []  # the per-level figures would repeat the overall warning
    d = stats.describe(_numbers(counted.overall(q["code"]), q, notes))
    tester.nobody(q, d.n)
    by: dict[str, dict] = {}
    for i, demo in enumerate(demographics):
        table = counted.by(q["code"], i)
        sample_of = {
            value: _numbers(table.get(value, Counter()), q, silent)
            for value in levels[demo["code"]]
        }
        hidden = cells.hide(demo["code"], {value: len(s) for value, s in sample_of.items()})
        level_figures: dict[str, dict] = {}
        samples: list[list[float]] = []
        merged: list[float] = []
        for value, label in levels[demo["code"]].items():
            sample = sample_of[value]
            ld = stats.describe(sample)
            figures = {"label": label, "n": ld.n, "mean": ld.mean, "sd": ld.sd, "median": ld.median}
            if value in hidden:
                figures = disclosure.hidden_figures(figures, hidden[value], keep=("label",))
                merged.extend(sample)
            elif sample:
                samples.append(sample)
            level_figures[value] = figures
        if merged:  # the hidden categories, as one, after the shown ones
            samples.append(sorted(merged))
        by[demo["code"]] = {"levels": level_figures} | tester.ranks(
            samples, what=f"{_name(q)} by {demo['code']}", answered=d.n
        )
    return {
        "item": q["code"],
        "text": q["text"],
        "overall": {
            "n": d.n,
            "mean": d.mean,
            "sd": d.sd,
            "median": d.median,
            "q1": d.q1,
            "q3": d.q3,
            "iqr": d.iqr,
            "min": d.min,
            "max": d.max,
        },
        "by": by,
    }


def _stressor_row(q, counted: _Counted, demographics, levels, tester, cells: _Cells) -> dict:
    positive = set(q["positive"])
    overall = _proportion(counted.overall(q["code"]), positive)
    tester.nobody(q, overall["n"])
    by: dict[str, dict] = {}
    for i, demo in enumerate(demographics):
        table = counted.by(q["code"], i)
        level_figures = {}
        for value in levels[demo["code"]]:
            p = _proportion(table.get(value, Counter()), positive)
            level_figures[value] = {"n": p["n"], "positive": p["hits"], "percent": p["percent"]}
        level_figures, rows = _split(demo["code"], level_figures, cells, n="n", hits="positive")
        p_value, test = tester.fisher(
            rows,
            what=f"{_name(q)} by {demo['code']}",
            levels_word="categories",
            answered=overall["n"],
        )
        by[demo["code"]] = {"levels": level_figures, "p_value": p_value, "test": test}
    return {
        "item": q["code"],
        "text": q["text"],
        "kind": STRESSOR_KINDS[q["type"]],
        "n": overall["n"],
        "positive": overall["hits"],
        "percent": overall["percent"],
        "by": by,
    }


# -- tests ----------------------------------------------------------------------------------


#: Why :func:`analysis.stats.fisher_exact` used Monte Carlo, by ``FisherResult.fallback``.
_MONTE_CARLO_WHY = {
    "estimate": "the exact test was not attempted, its estimated work being far beyond the "
    "time budget",
    "work": "the exact test reached its work limit (set by the time budget)",
    "time": "the exact test did not finish within its time budget",
    "memory": "the exact test would need too much memory",
    "no budget": "the exact test was not attempted (no time budget)",
}


class _Tester:
    """Runs the tests of :mod:`analysis.stats` and states in ``notes`` what was degenerate."""

    def __init__(self, fisher_budget: float | None, notes: list[str]) -> None:
        self.notes = notes
        # None keeps the default budget of :func:`analysis.stats.fisher_exact`.
        self.fisher_kwargs = {} if fisher_budget is None else {"budget_seconds": fisher_budget}

    def nobody(self, question: dict, n: int) -> None:
        if n == 0:
            self.notes.append(f"Nobody answered {_name(question)}: n 0, no percentages or tests.")

    def fisher(self, rows: list[tuple[int, int]], *, what: str, levels_word: str, answered: int):
        """(p-value, {method, stderr, note}) of Fisher's exact test on ``rows`` (levels with
        answers x [positive, not])."""
        if answered == 0:
            return None, {"method": None, "stderr": None, "note": "Nobody answered."}
        if len(rows) < 2:
            note = f"Not tested: fewer than two {levels_word} have answers."
            self.notes.append(f"{what}: {note}")
            return None, {"method": None, "stderr": None, "note": note}
        res = stats.fisher_exact([list(r) for r in rows], **self.fisher_kwargs)
        note = res.note or None
        if res.method == "monte_carlo":
            why = _MONTE_CARLO_WHY.get(res.fallback or "", "the exact test was not used")
            self.notes.append(
                f"{what}: {why}; the p-value is a Monte Carlo estimate "
                f"(standard error {res.stderr:.2g})."
            )
        elif res.statistic is None:  # a degenerate table: p = 1 by definition
            plain = note
            if res.shape[1] < 2:
                plain = "every answer falls in the same category, so the test gives p = 1."
            self.notes.append(f"{what}: {plain}")
        return res.pvalue, {"method": res.method, "stderr": res.stderr, "note": note}

    def ranks(self, samples: list[list[float]], *, what: str, answered: int) -> dict:
        """Rank-sum for two samples, Kruskal-Wallis for more: {test, method, statistic,
        p_value, note}."""
        empty = {"test": None, "method": None, "statistic": None, "p_value": None}
        if answered == 0:
            return empty | {"note": "Nobody answered."}
        if len(samples) < 2:
            note = "Not tested: fewer than two categories have answers."
            self.notes.append(f"{what}: {note}")
            return empty | {"note": note}
        if len(samples) == 2:
            # The wave's tables print the p-value only: no interval to search for.
            res = stats.rank_sum(samples[0], samples[1], shift=False)
            test, method = "rank_sum", res.method
        else:
            res = stats.kruskal(*samples)
            test, method = "kruskal", "chi-squared approximation"
        note = res.note or None
        # Ties are the rule with a 5-point rating; only a missing p-value is worth a note.
        if res.pvalue is None:
            self.notes.append(f"{what}: {note}")
        return {
            "test": test,
            "method": method,
            "statistic": res.statistic,
            "p_value": res.pvalue,
            "note": note,
        }
