"""The results of an analysis run in words, like the results paragraph of a paper.

:func:`summary_paragraph` reads the results dict of :func:`analysis.runs.compute.analyse` (schema in
``docs/analysis-json.md``) and nothing else, so the same run always gives the same text.
Numbers follow common journal style: whole percentages, means and SDs to one decimal, p to two
decimals (three below .01, "p < .001" below that, "p > .99" above), no leading zero on p,
counts under ten in words when they stand alone in the prose. A category the small-cell rule
hides (:mod:`analysis.runs.disclosure`) is named with "n < k" (or "n not shown") and none of its
figures; a wave analysed as totals only says so.
"""

from __future__ import annotations

import math
import re

from analysis.runs import disclosure
from surveys import builtin

SIGNIFICANCE = 0.05
NOTHING = "No responses could be analysed."

_WORDS = ["none", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

# Stems of the built-in instrument whose topic can be lifted out of the question text.
_TOPIC_PATTERNS = [
    re.compile(
        "^" + re.escape(stem).replace(re.escape("{}"), "(?P<topic>.+?)") + "$", re.IGNORECASE
    )
    for stem in (builtin.CHALLENGE_STEM, builtin.ADDRESSED_STEM)
]


def summary_paragraph(results: dict, *, program_name: str | None = None) -> str:
    """A paragraph summarising ``results``: response, demographics, agreement items and their
    differences across groups, relevance ratings, stressors."""
    sentences = [_response_sentence(results.get("response") or {}, program_name)]
    if not results.get("response", {}).get("analyzed"):
        sentences.append(NOTHING)
        return " ".join(s for s in sentences if s)
    small_cells = (results.get("meta") or {}).get("small_cells") or {}
    totals = bool(small_cells.get("totals_only"))
    sentences += [
        _demographics_sentence(results),
        _groups_sentence(results),
        *_agreement_sentences(results.get("table2") or []),
        _totals_only_sentence(small_cells.get("k"))
        if totals
        else _group_difference_sentence(results.get("table2") or []),
        *_relevance_sentences(results.get("relevance") or [], _demographic_names(results)),
        *_stressor_sentences(results.get("stressors") or [], _demographic_names(results)),
    ]
    return " ".join(s for s in sentences if s)


# -- numbers --------------------------------------------------------------------------------


def count_words(n: int) -> str:
    """A count in prose: words under ten, digits from ten on."""
    return _WORDS[n] if 0 <= n < len(_WORDS) else str(n)


def percent(value: float | None) -> str:
    """A percentage rounded half up to a whole number: "71%"."""
    if value is None:
        return "n/a"
    return f"{math.floor(value + 0.5 + 1e-9)}%"


def p_cell(p: float | None) -> str:
    """A p-value in a table cell, as the results paragraph prints it without the "p":
    ".045", ".004", "<.001", ">.99"; a dash when there is none. The results page, the
    workbook and the PDF report all print p-values with this."""
    if p is None:
        return "–"
    text = p_text(p)
    if text.startswith("p = "):
        return text[4:]
    return text[2:].replace(" ", "")


def p_text(p: float | None) -> str:
    """A p-value as journals print it: "p = .03", "p = .004", "p < .001", "p > .99"."""
    if p is None:
        return "p not computable"
    if p < 0.001:
        return "p < .001"
    if p > 0.99:
        return "p > .99"
    digits = 3 if p < 0.01 else 2
    shown = f"{p:.{digits}f}"
    if p < SIGNIFICANCE <= float(shown):
        shown = f"{p:.3f}"
        if float(shown) >= SIGNIFICANCE:
            return "p < .05"
    return "p = " + shown.lstrip("0")


def _decimal(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _fraction(k: int, n: int, pct: float | None) -> str:
    return f"{k} of {n}, {percent(pct)}"


def _join(parts: list[str], last: str = "and") -> str:
    if len(parts) <= 1:
        return "".join(parts)
    if len(parts) == 2:
        return f"{parts[0]} {last} {parts[1]}"
    return ", ".join(parts[:-1]) + f", {last} {parts[-1]}"


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the word looks like an acronym."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- item names -----------------------------------------------------------------------------


def split_stem(text: str) -> tuple[str, str]:
    """(stem, topic) of an item's text: "Participating in the group fostered: empathy" gives
    ("Participating in the group fostered", "empathy"); a text without a stem gives
    ("", text)."""
    for pattern in _TOPIC_PATTERNS:
        match = pattern.match(text)
        if match:
            return "", match.group("topic")
    if ": " in text:
        stem, topic = text.rsplit(": ", 1)
        return stem.strip(), topic.strip()
    return "", text.strip().rstrip("?")


def item_name(text: str) -> str:
    """The short name of an item: its text without the stem."""
    return split_stem(text)[1]


# -- sentences ------------------------------------------------------------------------------


def _response_sentence(response: dict, program_name: str | None) -> str:
    distributed = response.get("distributed") or 0
    returned = response.get("returned") or 0
    analysed = response.get("analyzed") or 0
    excluded = response.get("excluded") or 0
    where = f" in {program_name}" if program_name else ""
    if distributed and not returned:
        return f"Of {distributed} clinicians surveyed{where}, none returned the survey."
    if distributed:
        rate = response.get("rate")
        shown = percent(rate * 100) if rate is not None else "n/a"
        start = (
            f"Of {distributed} clinicians surveyed{where}, {returned} returned the survey ({shown})"
        )
    elif returned:
        start = f"{_capital(count_words(returned))} surveys were returned{where}"
    else:
        return f"No surveys were returned{where}."
    if not analysed:
        return start + "."
    if excluded:
        reasons = response.get("excluded_reasons") or {}
        why = ""
        if len(reasons) == 1:
            why = ": " + next(iter(reasons))
        elif reasons:
            why = ": " + "; ".join(f"{r} ({n})" for r, n in reasons.items())
        verb = "was" if excluded == 1 else "were"
        return (
            f"{start}; {count_words(analysed)} {'was' if analysed == 1 else 'were'} analysed "
            f"({count_words(excluded)} {verb} excluded{why})."
        )
    if analysed == returned:
        every = "it was" if analysed == 1 else f"all {count_words(analysed)} were"
        return f"{start}, and {every} analysed."
    return f"{start}; {count_words(analysed)} {'was' if analysed == 1 else 'were'} analysed."


def _totals_only_sentence(k: int | None) -> str:
    fewer = f"Fewer than {k} responses" if k else "Too few responses"
    return (
        f"{fewer} were analysed, so only totals are reported: no figures by group or by any "
        "characteristic of the respondents."
    )


def _demographics_sentence(results: dict) -> str:
    items = {i["question"]: i for i in results.get("table1_items") or []}
    parts = []
    for question, item in items.items():
        if question == "group" or not item["n"]:
            continue
        rows = [
            r
            for r in results["table1"]
            if r["question"] == question and not disclosure.is_hidden(r) and r["n"]
        ]
        if not rows:  # every category hidden (small cells)
            continue
        top = max(rows, key=lambda r: r["n"])  # max keeps the first of equal counts
        parts.append(
            f"{_lower_first(item['text'])}, {_lower_first(top['label'])} "
            f"({_fraction(top['n'], item['n'], top['percent'])})"
        )
    if not parts:
        return ""
    return f"The most common answers were: {'; '.join(parts)}."


def _groups_sentence(results: dict) -> str:
    every = [r for r in results.get("table1") or [] if r["question"] == "group"]
    if any(disclosure.is_hidden(r) for r in every):
        # Small cells: every group is listed, hidden ones with "n < k", so that a group nobody
        # named cannot be told from a small one.
        k = disclosure.threshold(results)
        parts = []
        for r in every:
            shown = disclosure.count_text(r, k) if k else "not shown"
            if shown == disclosure.HIDDEN_TEXT:
                shown = "not shown"
            parts.append(f"{group_name(r['label'])}, n {shown or '= ' + str(r['n'])}")
        sentence = f"Respondents by group: {'; '.join(parts)}"
    else:
        rows = [r for r in every if r["n"]]
        if not rows:
            return ""
        listed = "; ".join(f"{group_name(r['label'])}, n = {r['n']}" for r in rows)
        noun = "group" if len(rows) == 1 else "groups"
        sentence = f"Respondents came from {count_words(len(rows))} {noun} ({listed})"
    item = next((i for i in results["table1_items"] if i["question"] == "group"), None)
    if item and item["missing"]:
        sentence += f"; {count_words(item['missing'])} did not name a group"
    return sentence + "."


def _qualifier(k: int, n: int) -> str:
    if k == n:
        return "All respondents" if n > 1 else "The one respondent"
    if k == 0:
        return "No respondent"
    if 2 * k > n:
        return "Most respondents"
    if 2 * k == n:
        return "Half of the respondents"
    return "A minority of respondents"


def _agreement_sentences(table2: list[dict]) -> list[str]:
    """One sentence per run of items with the same qualifier and stem, in codebook order."""
    sentences: list[str] = []
    runs: list[tuple[str, str, list[str]]] = []
    unanswered = []
    for row in table2:
        overall = row["overall"]
        if not overall["n"]:
            unanswered.append(item_name(row["text"]))
            continue
        stem, topic = split_stem(row["text"])
        qualifier = _qualifier(overall["agree"], overall["n"])
        part = f"{topic} ({_fraction(overall['agree'], overall['n'], overall['percent'])})"
        if runs and runs[-1][0] == qualifier and runs[-1][1] == stem:
            runs[-1][2].append(part)
        else:
            runs.append((qualifier, stem, [part]))
    for qualifier, stem, parts in runs:
        that = f"that {_lower_first(stem)} " if stem else "with "
        sentences.append(f"{qualifier} agreed {that}{_join(parts)}.")
    if unanswered:
        sentences.append(
            f"Nobody answered the item{'s' if len(unanswered) > 1 else ''} on {_join(unanswered)}."
        )
    return sentences


def _group_difference_sentence(table2: list[dict]) -> str:
    tested = [r for r in table2 if r["p_value"] is not None]
    if not tested:
        return "Agreement could not be compared across groups." if table2 else ""
    significant = [r for r in tested if r["significant"]]
    if not significant:
        if len(tested) == 1:
            return (
                f"Agreement did not differ significantly across groups (Fisher's exact test, "
                f"{p_text(tested[0]['p_value'])})."
            )
        return "No item differed significantly across groups (Fisher's exact test, all p ≥ .05)."
    parts = []
    for row in significant:
        by_group = "; ".join(
            f"{group_name(label)}: {percent(g['percent'])}"
            for label, g in row["by_group"].items()
            if g["n"]
        )
        estimate = ", Monte Carlo estimate" if row["test"]["method"] == "monte_carlo" else ""
        parts.append(f"{item_name(row['text'])} ({by_group}; {p_text(row['p_value'])}{estimate})")
    rest = len(tested) - len(significant)
    tail = ""
    if rest:
        tail = f"; {'the other item' if rest == 1 else 'the other items'} did not (all p ≥ .05)"
    return f"Agreement differed across groups (Fisher's exact test) for {_join(parts)}{tail}."


def group_name(label: str) -> str:
    """A group label in prose: "group 2" for a bare number (paper forms), else the name."""
    return f"group {label}" if label.isdigit() else label


def _demographic_names(results: dict) -> dict[str, str]:
    """{demographic code: its question text in prose}; "group" for the group question."""
    names = {i["question"]: _lower_first(i["text"]) for i in results.get("table1_items") or []}
    names["group"] = "group"
    return names


def _relevance_sentences(relevance: list[dict], names: dict[str, str]) -> list[str]:
    answered = [r for r in relevance if r["overall"]["n"]]
    if not answered:
        return []
    builtin_stem = builtin.RELEVANCE_STEM.rstrip(": ")
    builtin_items = all(split_stem(r["text"])[0] == builtin_stem for r in answered)
    parts = []
    for row in answered:
        o = row["overall"]
        spread = f"SD {_decimal(o['sd'])}" if o["sd"] is not None else f"n = {o['n']}"
        parts.append(f"{_decimal(o['mean'])} ({spread}) for {item_name(row['text'])}")
    intro = (
        "Mean ratings of relevance to daily practice (1 = low, 5 = high)"
        if builtin_items
        else "Mean ratings (1 to 5)"
    )
    sentences = [f"{intro} were {_join(parts)}."]
    tested, found = 0, []
    for row in answered:
        for demographic, by in row["by"].items():
            if by["p_value"] is None:
                continue
            tested += 1
            if by["p_value"] < SIGNIFICANCE:
                test = "Wilcoxon rank-sum" if by["test"] == "rank_sum" else "Kruskal-Wallis"
                found.append(
                    f"{item_name(row['text'])} by {names.get(demographic, demographic)} "
                    f"({test} test, {p_text(by['p_value'])})"
                )
    if found:
        sentences.append(f"Ratings differed for {_join(found)}.")
    elif tested:
        sentences.append(
            "Ratings did not differ significantly by any demographic characteristic or group "
            "(Wilcoxon rank-sum or Kruskal-Wallis test, all p ≥ .05)."
        )
    return sentences


def _stressor_sentences(stressors: list[dict], names: dict[str, str]) -> list[str]:
    sentences = []
    challenges = [r for r in stressors if r["kind"] == "challenge" and r["n"]]
    addressed = [r for r in stressors if r["kind"] == "addressed" and r["n"]]
    if challenges:
        first, *rest = challenges
        parts = [
            f"{item_name(r['text'])} by {percent(r['percent'])} ({r['positive']} of {r['n']})"
            for r in rest
        ]
        lead = (
            f"{_capital(item_name(first['text']))} was named a moderate or serious challenge by "
            f"{percent(first['percent'])} of respondents ({first['positive']} of {first['n']})"
        )
        sentences.append(_join([lead, *parts]) + ".")
    if addressed:
        parts = [
            f"{item_name(r['text'])} ({_fraction(r['positive'], r['n'], r['percent'])})"
            for r in addressed
        ]
        sentences.append(f"Respondents said the group addressed {_join(parts)}.")
    tested, found = 0, []
    for row in challenges + addressed:
        significant = []
        for demographic, by in row["by"].items():
            if by["p_value"] is None:
                continue
            tested += 1
            if by["p_value"] < SIGNIFICANCE:
                significant.append(
                    f"{names.get(demographic, demographic)} ({p_text(by['p_value'])})"
                )
        if significant:
            topic = item_name(row["text"])
            lead = (
                f"naming {topic} a moderate or serious challenge"
                if row["kind"] == "challenge"
                else f"saying the group addressed {topic}"
            )
            found.append(f"{lead} was associated with {_join(significant)}")
    if found:
        sentences.append(f"By Fisher's exact test, {'; '.join(found)}.")
    elif tested:
        sentences.append(
            "None was associated with a demographic characteristic or group (Fisher's exact "
            "test, all p ≥ .05)."
        )
    return sentences
