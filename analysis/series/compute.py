"""The results of a wave series, item by item: each follow-up against the baseline.

For every scale question (agreement, rating, challenge, yes/no) and every later wave:

* the distributions of the two waves, all analysed respondents (unpaired);
* for the respondents linked in both waves (by recipient, or by personal code): the Wilcoxon
  signed-rank test of follow-up against baseline with the Hodges-Lehmann shift and its
  interval, and for the item's positive category (agree = 4 or 5, ...) McNemar's exact test
  with the difference in proportions and Newcombe's interval;
* for everyone who answered (unpaired): the rank-sum test, and the difference in the positive
  category's proportion with its interval.

A year-over-year series adds the Cochran-Armitage test for trend in the positive category
across its waves. The small-cell rule holds throughout: a wave's distribution is shown only
with at least *k* answers, a paired result only with at least *k* linked pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count

from analysis import stats
from sessions_app.models import Attendance, Session
from sessions_app.presenters.selectors import ATTENDED
from surveys import linking
from surveys import series as series_service
from surveys.builtin import GROUP_CODE
from surveys.models import Response, SeriesWave, WaveSeries
from surveys.responses import analysable
from surveys.services import codebook

SCALE_TYPES = ("agreement5", "rating5", "challenge4", "yes_no")


@dataclass
class Distribution:
    n: int
    counts: dict[str, int]  # value code -> count
    shown: bool  # n >= k

    def percent(self, value: str) -> int | None:
        return round(100 * self.counts.get(value, 0) / self.n) if self.n else None


@dataclass
class Comparison:
    """One item, one later wave against the baseline."""

    later: SeriesWave
    before: Distribution
    after: Distribution
    pairs: int
    paired_shown: bool
    signed_rank: Any = None  # stats.SignedRankResult
    mcnemar: Any = None  # stats.mcnemar_exact result
    paired_difference: Any = None  # stats.paired_proportion_difference result
    rank_sum: Any = None  # stats.RankSumResult
    difference: Any = None  # stats.proportion_difference result (unpaired)
    positive_before: int | None = None  # per cent positive, all respondents
    positive_after: int | None = None
    # Confidential waves: change (later minus baseline) against sessions attended in between,
    # over the linked respondents (Spearman); never shown per person.
    attendance: Any = None  # stats.SpearmanResult
    attendance_pairs: int = 0


@dataclass
class ItemResult:
    code: str
    text: str
    type: str
    values: list[dict[str, str]]
    positive: list[str]
    comparisons: list[Comparison] = field(default_factory=list)
    trend: Any = None  # stats.trend_test result (year-over-year series)
    trend_shown: bool = False
    # The trend's effect: the positive share of the last wave minus the first's, prop.test's
    # interval; and the shares of every wave, in per cent.
    trend_difference: Any = None
    trend_shares: list[int] = field(default_factory=list)


@dataclass
class SeriesResults:
    series: WaveSeries
    members: list[SeriesWave]
    k: int
    summary: series_service.LinkingSummary
    items: list[ItemResult]
    paragraph: str


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def series_results(series: WaveSeries) -> SeriesResults:
    """Every item's comparisons (a fixed number of queries: the links, the answers, the
    questionnaire)."""
    program = series.program
    k = program.small_cell_k
    members = series_service.members_of(series)
    summary = series_service.linking_summary(series, k=k, members=members)
    if not members:
        return SeriesResults(series, members, k, summary, [], "")
    links = {row.member.wave_id: row.links for row in summary.rows}
    answers: dict[int, dict] = {}
    by_wave: dict[int, list[dict]] = {m.wave_id: [] for m in members}
    for pk, wave_id, given in analysable(
        Response.objects.filter(wave_id__in=list(by_wave))
    ).values_list("pk", "wave_id", "answers"):
        answers[pk] = given
        by_wave[wave_id].append(given)
    questions = comparable(codebook(members[0].wave.instrument))
    base = members[0]
    attended = {later.wave_id: _attended(base, later, links) for later in members[1:]}
    # Who links to whom does not depend on the question: worked out once per later wave.
    paired = {
        later.wave_id: linking.pairs(links[base.wave_id], links[later.wave_id])
        for later in members[1:]
    }
    items = []
    for q in questions:
        item = ItemResult(q["code"], q["text"], q["type"], q["values"], q["positive"])
        for later in members[1:]:
            comparison = _compare(
                q, later, by_wave[base.wave_id], by_wave[later.wave_id], paired[later.wave_id],
                answers, k,
            )  # fmt: skip
            _against_attendance(comparison, q["code"], attended[later.wave_id], answers, k)
            item.comparisons.append(comparison)
        if series.design == WaveSeries.Design.YEARLY and len(members) >= 3 and q["positive"]:
            _trend(item, [by_wave[m.wave_id] for m in members], k)
        items.append(item)
    results = SeriesResults(series, members, k, summary, items, "")
    results.paragraph = paragraph(results)
    return results


def comparable(questions: list[dict]) -> list[dict]:
    """The questions a series compares: the scale questions, and single-choice questions with
    ordered numeric value codes outside the first section (the wellbeing module's burnout
    level); not the respondent's demographics or group, not free text."""
    first = questions[0]["section"] if questions else None
    out = []
    for q in questions:
        ordinal = (
            q["type"] == "single_choice"
            and q["values"]
            and all(v["value"].isdigit() for v in q["values"])
            and q["section"] != first
            and q["code"] != GROUP_CODE
        )
        if q["type"] in SCALE_TYPES or ordinal:
            out.append(q)
    return out


def _distribution(rows: list[dict], code: str, k: int) -> Distribution:
    counts: dict[str, int] = {}
    for row in rows:
        value = row.get(code)
        if value not in (None, ""):
            counts[str(value)] = counts.get(str(value), 0) + 1
    n = sum(counts.values())
    return Distribution(n=n, counts=counts, shown=n >= k)


def _compare(q, later, before_rows, after_rows, pairs, answers, k) -> Comparison:
    code, positive = q["code"], set(q["positive"])
    before, after = _distribution(before_rows, code, k), _distribution(after_rows, code, k)
    x, y = [], []
    table = [[0, 0], [0, 0]]  # rows: positive before (yes, no); columns: positive after
    for first, second in pairs:
        a, b = answers[first].get(code), answers[second].get(code)
        if a in (None, "") or b in (None, ""):
            continue
        x.append(_number(b))
        y.append(_number(a))
        if positive:
            table[0 if str(a) in positive else 1][0 if str(b) in positive else 1] += 1
    comparison = Comparison(later=later, before=before, after=after, pairs=len(x),
                            paired_shown=len(x) >= k)  # fmt: skip
    if comparison.paired_shown:
        comparison.signed_rank = stats.signed_rank(x, y)
        if positive:
            comparison.mcnemar = stats.mcnemar_exact(table)
            comparison.paired_difference = stats.paired_proportion_difference(table)
    if before.shown and after.shown:
        values_before = [_number(v) for v in _values(before_rows, code)]
        values_after = [_number(v) for v in _values(after_rows, code)]
        comparison.rank_sum = stats.rank_sum(values_after, values_before)
        if positive:
            hits_before = sum(before.counts.get(v, 0) for v in positive)
            hits_after = sum(after.counts.get(v, 0) for v in positive)
            comparison.positive_before = round(100 * hits_before / before.n)
            comparison.positive_after = round(100 * hits_after / after.n)
            comparison.difference = stats.proportion_difference(
                hits_after, after.n, hits_before, before.n
            )
    return comparison


def _attended(base: SeriesWave, later: SeriesWave, links) -> list[tuple[int, int, int]]:
    """``(baseline response, later response, sessions attended)`` of the respondents linked by
    recipient (confidential waves only: the app's own attendance records, present or as a
    guest, at the program's sessions held from the baseline's opening to the later wave's)."""
    first, second = links[base.wave_id], links[later.wave_id]
    linked = {
        key[1]: (pk, second.by_key[key])
        for key, pk in first.by_key.items()
        if key[0] == "r" and key in second.by_key
    }
    if not linked or base.wave.is_anonymous or later.wave.is_anonymous:
        return []
    counts = dict(
        Attendance.objects.filter(
            clinician_id__in=list(linked), status__in=ATTENDED,
            session__status=Session.Status.SCHEDULED,
            session__starts_at__gte=base.wave.opens_at,
            session__starts_at__lt=later.wave.opens_at,
        )
        .values("clinician_id")
        .annotate(n=Count("pk"))
        .values_list("clinician_id", "n")
    )  # fmt: skip
    return [(b, a, counts.get(clinician, 0)) for clinician, (b, a) in linked.items()]


def _against_attendance(comparison: Comparison, code: str, attended, answers, k: int) -> None:
    change, sessions = [], []
    for before_pk, after_pk, n in attended:
        a, b = _number(answers[before_pk].get(code)), _number(answers[after_pk].get(code))
        if a is not None and b is not None:
            change.append(b - a)
            sessions.append(float(n))
    comparison.attendance_pairs = len(change)
    if len(change) >= max(k, 3) and len(set(sessions)) > 1 and len(set(change)) > 1:
        comparison.attendance = stats.spearman(sessions, change)


def _values(rows: list[dict], code: str) -> list[Any]:
    return [row[code] for row in rows if row.get(code) not in (None, "")]


def _trend(item: ItemResult, waves_rows: list[list[dict]], k: int) -> None:
    positive = set(item.positive)
    successes, totals = [], []
    for rows in waves_rows:
        values = _values(rows, item.code)
        successes.append(sum(1 for v in values if str(v) in positive))
        totals.append(len(values))
    item.trend_shown = all(n >= k for n in totals)
    if item.trend_shown:
        item.trend = stats.trend_test(successes, totals)
        item.trend_difference = stats.proportion_difference(
            successes[-1], totals[-1], successes[0], totals[0]
        )
        item.trend_shares = [round(100 * s / n) for s, n in zip(successes, totals, strict=True)]


def paragraph(results: SeriesResults) -> str:
    """The results in words, with the design's limits."""
    members, summary = results.members, results.summary
    if len(members) < 2:
        return "The series has one wave so far: add a follow-up to compare."
    base = summary.rows[0]
    parts = [
        f"The series compares {len(members) - 1} later wave(s) with “{base.member.label}” "
        f"({base.links.responses} analysed responses)."
    ]
    for row in summary.rows[1:]:
        linked = row.paired_with_baseline or 0
        share = round(100 * linked / row.baseline_linkable) if row.baseline_linkable else 0
        parts.append(
            f"Of the {row.baseline_linkable} baseline respondents who could be linked, "
            f"{linked} ({share}%) answered “{row.member.label}” as well."
        )
    changed = []
    for item in results.items:
        for c in item.comparisons:
            sr = c.signed_rank
            if sr is not None and sr.pvalue is not None and sr.pvalue < 0.05:
                direction = "rose" if (sr.estimate or 0) > 0 else "fell"
                changed.append(f"“{item.text}” {direction} ({c.later.label}, paired p = "
                               f"{sr.pvalue:.3g}, n = {c.pairs})")  # fmt: skip
    if changed:
        parts.append("Among linked respondents, answers changed on: " + "; ".join(changed) + ".")
    else:
        parts.append(
            "No paired change reached p < 0.05 (or too few respondents were linked to test)."
        )
    parts.append(
        "Limits of the design: respondents chose to answer (self-selection), those who answered "
        "again may differ from those who did not (attrition), there is no control group, and "
        "with many items some p-values below 0.05 are expected by chance."
    )
    return " ".join(parts)
