"""analysis.stats against R (the committed fixture), plus properties and degenerate inputs.

The fixture ``tests/analysis/fixtures/r_reference.json`` is written by
``analysis/R/make_reference.R``; every value there came from R and must be matched to a relative
1e-6.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import stats
from analysis.stats import (
    FISHER_BUDGET_SECONDS,
    FISHER_SKIP_FACTOR,
    FISHER_WORK_PER_SECOND,
    chisq_sf,
    counts,
    describe,
    fisher,
    fisher_exact,
    kruskal,
    rank_sum,
    wilcoxon,
)

FIXTURE = json.loads((Path(__file__).parent.parent / "fixtures" / "r_reference.json").read_text())
REL = 1e-6


def close(ours: float | None, r_value: float, abs_tol: float = 1e-300) -> bool:
    return ours is not None and math.isclose(ours, r_value, rel_tol=REL, abs_tol=abs_tol)


def r_undefined(value: object) -> bool:
    """R's NaN or NA, written as strings in the fixture."""
    return value in ("NaN", "NA")


def values(raw: list) -> list[float | None]:
    return [None if r_undefined(v) else v for v in raw]


def case_id(case: dict) -> str:
    return case["name"]


@pytest.fixture
def pure_python(monkeypatch):
    """Run analysis.stats without numpy or the compiled kernel (the fallback paths, which
    tables too large for the kernel's node codes still take)."""
    monkeypatch.setattr(fisher, "_np", None)
    monkeypatch.setattr(fisher, "_use_kernel", False)


@pytest.fixture
def numpy_always(monkeypatch):
    """Use the numpy network, without the compiled kernel, even for the small tables that
    would go to pure Python."""
    assert fisher._np is not None
    monkeypatch.setattr(fisher, "_use_kernel", False)
    monkeypatch.setattr(fisher, "_PURE_PYTHON_MAX_N", -1)


def test_fixture_records_r_version():
    assert FIXTURE["r_version"].startswith("R version ")
    assert "make_reference.R" in FIXTURE["generated_by"]
    assert len(FIXTURE["fisher"]) >= 60
    assert len(FIXTURE["wilcox"]) >= 50
    assert len(FIXTURE["kruskal"]) >= 40


# ---------------------------------------------------------------------------------------------
# Fisher


@pytest.mark.parametrize("case", FIXTURE["fisher"], ids=case_id)
def test_fisher_matches_r(case):
    result = fisher_exact(case["table"], budget_seconds=60)
    assert 0.0 <= result.pvalue <= 1.0
    if "workspace" in case.get("error", ""):
        # beyond what R computes exactly: test_fisher_beyond_rs_reach_is_monte_carlo
        assert result.method == "monte_carlo"
        return
    if "error" in case:
        # R stops for a 1 x k or an all-zero table; ours documents p = 1 for them.
        assert result.pvalue == 1.0
        assert result.statistic is None
        assert "p-value is 1" in result.note
        return
    assert result.method == "exact"
    assert result.stderr is None
    assert close(result.pvalue, case["pvalue"]), (result.pvalue, case["pvalue"])


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in FIXTURE["fisher"]
        if "error" not in c
        and (len(c["table"]) * len(c["table"][0]) <= 12 or sum(map(sum, c["table"])) <= 40)
    ],
    ids=case_id,
)
def test_fisher_pure_python_matches_r(case, pure_python):
    result = fisher_exact(case["table"], budget_seconds=60)
    assert result.method == "exact"
    assert close(result.pvalue, case["pvalue"]), (result.pvalue, case["pvalue"])


@pytest.mark.parametrize(
    "case",
    [c for c in FIXTURE["fisher"] if "error" not in c and sum(map(sum, c["table"])) <= 60],
    ids=case_id,
)
def test_fisher_numpy_network_matches_r_on_small_tables(case, numpy_always):
    result = fisher_exact(case["table"], budget_seconds=60)
    assert result.method == "exact"
    assert close(result.pvalue, case["pvalue"]), (result.pvalue, case["pvalue"])


def fixture_case(section: str, name: str) -> dict:
    return next(c for c in FIXTURE[section] if c["name"] == name)


def test_fisher_degenerate_notes():
    zero_row = fisher_exact([[1, 2, 3], [0, 0, 0]])
    assert zero_row.pvalue == 1.0 and zero_row.shape == (1, 3)
    assert "1 all-zero row(s)" in zero_row.note and "p-value is 1" in zero_row.note
    empty = fisher_exact([[0, 0], [0, 0]])
    assert empty.pvalue == 1.0 and "no observations" in empty.note
    assert fisher_exact([]).pvalue == 1.0
    kept = fisher_exact([[1, 2, 0], [3, 4, 0]])
    assert kept.shape == (2, 2) and "1 all-zero column(s)" in kept.note


def test_fisher_statistic_is_the_observed_table_probability():
    # P([[3, 1], [1, 3]]) = C(4,3) C(4,1) / C(8,4) = 16 / 70
    assert math.isclose(fisher_exact([[3, 1], [1, 3]]).statistic, 16 / 70, rel_tol=1e-12)


def test_fisher_near_tie_uses_rs_tolerances():
    """A table 2.2e-7 more probable than the observed one: FEXACT (r x c) counts it, the
    2 x 2 rule (1e-7) does not, and the fixture shows R doing exactly that."""
    rxc = fixture_case("fisher", "near tie 2x3")
    two = fixture_case("fisher", "near tie 2x2")
    assert close(fisher_exact(rxc["table"]).pvalue, rxc["pvalue"])
    assert close(fisher_exact(two["table"]).pvalue, two["pvalue"])
    assert two["pvalue"] < 0.99 < rxc["pvalue"]


@pytest.mark.parametrize(
    "table", [[[1, -1], [2, 3]], [[1, 2], [3]], [[1.5, 2], [3, 4]], [["a", 1], [2, 3]]]
)
def test_fisher_rejects_bad_tables(table):
    with pytest.raises(ValueError):
        fisher_exact(table)


def test_fisher_accepts_integral_floats():
    assert fisher_exact([[3.0, 1.0], [1.0, 3.0]]).pvalue == fisher_exact([[3, 1], [1, 3]]).pvalue


@pytest.mark.parametrize(("budget", "fallback"), [(0, "no budget"), (1e-9, "estimate")])
def test_fisher_monte_carlo_fallback(budget, fallback):
    case = fixture_case("fisher", "3x6 n=150")
    result = fisher_exact(case["table"], budget_seconds=budget)
    assert result.method == "monte_carlo"
    assert result.fallback == fallback
    assert result.stderr is not None and result.stderr > 0
    assert result.mc_samples == stats.FISHER_MC_SAMPLES
    assert abs(result.pvalue - case["pvalue"]) < 4 * result.stderr
    assert "Monte Carlo" in result.note
    # reproducible with its seed
    again = fisher_exact(case["table"], budget_seconds=budget)
    assert again.pvalue == result.pvalue


def test_fisher_monte_carlo_pure_python(pure_python):
    case = fixture_case("fisher", "3x4")
    result = fisher_exact(case["table"], budget_seconds=0, mc_samples=4000, seed=7)
    assert result.method == "monte_carlo" and result.mc_samples == 4000
    assert abs(result.pvalue - case["pvalue"]) < 4 * result.stderr
    assert fisher_exact(case["table"], budget_seconds=0, mc_samples=4000, seed=7) == result


def test_fisher_monte_carlo_seed_changes_the_draws():
    table = fixture_case("fisher", "3x4")["table"]
    first = fisher_exact(table, budget_seconds=0, seed=1)
    second = fisher_exact(table, budget_seconds=0, seed=2)
    assert first.pvalue != second.pvalue


@pytest.fixture
def no_exact_attempt(monkeypatch):
    """Make any start of the exact computation fail the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the exact computation was started")

    monkeypatch.setattr(fisher, "_network_pvalue", refuse)


#: Like the 50,000-response benchmark (bench/analysis_50k.py): 10 groups x agree / not,
#: n = 47,000, and 8 clinician types x agree / not.
BENCH_10X2 = [[3750, 950], [3760, 940], [3620, 1080], [3710, 990], [3680, 1020]] * 2
BENCH_8X2 = [
    [8758, 16541], [1952, 3547], [1242, 2429], [925, 1758],
    [1133, 2095], [646, 1185], [976, 1852], [318, 630],
]  # fmt: skip
# 5 x 6, n = 300
BIG_5X6 = [
    [12, 8, 10, 11, 9, 10],
    [9, 11, 12, 8, 10, 10],
    [10, 10, 9, 12, 11, 8],
    [11, 9, 10, 10, 8, 12],
    [8, 12, 9, 9, 12, 10],
]


@pytest.mark.parametrize("table", [BENCH_10X2, BENCH_8X2, BIG_5X6], ids=["10x2", "8x2", "5x6"])
def test_fisher_estimate_skips_tables_far_beyond_the_budget(table, no_exact_attempt):
    # The estimate sends these straight to Monte Carlo: the exact computation never starts
    # (no_exact_attempt), whereas before it spent its whole 3 s budget first.
    assert sum(map(sum, table)) == {10: 47_000, 8: 45_987, 5: 300}[len(table)]
    result = fisher_exact(table)
    assert result.method == "monte_carlo"
    assert result.fallback == "estimate"
    assert result.note.startswith("Exact computation not attempted: about ")
    assert "partial tables to enumerate" in result.note
    assert result.stderr > 0 and result.mc_samples == stats.FISHER_MC_SAMPLES
    assert 0 < result.pvalue <= 1
    assert fisher_exact(table) == result  # seeded: the same estimate every time


def test_fisher_estimate_dwarfs_the_work_limit_for_the_bench_tables():
    # R's FEXACT stops with a workspace error on both.
    limit = FISHER_BUDGET_SECONDS * FISHER_WORK_PER_SECOND
    for table in (BENCH_10X2, BENCH_8X2):
        rows = [sum(r) for r in table]
        cols = [sum(c) for c in zip(*table, strict=True)]
        assert fisher._exact_work_estimate(rows, cols) > 10 * FISHER_SKIP_FACTOR * limit


@pytest.mark.parametrize("name", ["4x5 n=150", "5x6 n=300"])
def test_fisher_is_exact_on_the_hardest_tables_r_computes_exactly(name):
    # R takes 10 to 40 s on these; before the compiled kernel they stopped at the work limit
    # (or were not attempted) and got a Monte Carlo estimate.
    case = fixture_case("fisher", name)
    result = fisher_exact(case["table"])
    assert result.method == "exact" and result.fallback is None and result.stderr is None
    assert close(result.pvalue, case["pvalue"]), (result.pvalue, case["pvalue"])


def test_fisher_beyond_rs_reach_is_monte_carlo_and_says_so():
    case = fixture_case("fisher", "5x6 n=300 beyond FEXACT")
    assert "workspace" in case["error"]  # R's fisher.test has no exact p-value for it
    result = fisher_exact(case["table"])
    assert result.method == "monte_carlo" and result.fallback == "estimate"
    assert "R's fisher.test does not compute such tables exactly either" in result.note
    assert "Monte Carlo p-value from 10000 random tables" in result.note
    assert result.stderr > 0


def test_fisher_required_shapes_are_fast_and_exact():
    # 2 x 5 with n = 100 and 3 x 4 with n = 60: exact, well under a second each (once the
    # kernel is compiled: on a cold cache, the first call compiles it).
    fisher_exact([[1, 2, 3], [3, 2, 1], [2, 2, 2]])
    for table in (
        [[10, 12, 8, 15, 5], [12, 10, 9, 11, 8]],
        [[5, 3, 2, 6], [4, 7, 1, 3], [2, 6, 8, 13]],
    ):
        start = time.perf_counter()
        result = fisher_exact(table)
        assert result.method == "exact" and result.fallback is None
        assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(
    "table",
    [
        [[10, 1, 1, 9], [6, 3, 4, 6], [11, 12, 4, 7], [6, 6, 3, 11]],
        [[6, 14, 9, 16, 8, 6, 10, 4, 15, 15], [6, 11, 5, 9, 6, 11, 10, 2, 8, 29]],
        [[9, 7, 12, 3, 14, 8], [6, 12, 7, 2, 10, 10], [7, 7, 10, 4, 13, 9]],
    ],
    ids=["4x4 n=100", "2x10 n=200", "3x6 n=150"],
)
def test_fisher_moderate_tables_stay_exact(table, monkeypatch):
    # Neither the estimate nor the work limit stops these at the default budget (a frozen
    # clock rules out the time budget, so this holds on any machine).
    monkeypatch.setattr(fisher.time, "perf_counter", lambda: 0.0)
    result = fisher_exact(table)
    assert result.method == "exact" and result.fallback is None


@pytest.mark.parametrize("case", [c for c in FIXTURE["fisher"] if "error" not in c], ids=case_id)
def test_fisher_fixture_is_exact_with_the_default_budget(case):
    # The estimate and the work limit leave every R fixture case exact at the default budget.
    result = fisher_exact(case["table"])
    assert result.method == "exact" and result.fallback is None
    assert close(result.pvalue, case["pvalue"]), (result.pvalue, case["pvalue"])


def counted_work(table: list[list[int]]) -> tuple[int, float]:
    """(work counted by an unlimited exact run, the up-front estimate) for ``table``."""
    table = [row for row in table if sum(row)]
    keep = [j for j in range(len(table[0])) if any(row[j] for row in table)]
    table = [[row[j] for j in keep] for row in table]
    if len(table) > len(table[0]):
        table = [list(col) for col in zip(*table, strict=True)]
    rows = [sum(r) for r in table]
    cols = [sum(c) for c in zip(*table, strict=True)]
    n = sum(rows)
    lf = fisher._log_factorials(n)
    observed = -math.fsum(lf[x] for r in table for x in r)
    log_k = math.fsum(lf[r] for r in rows) + math.fsum(lf[c] for c in cols) - lf[n]
    limits = fisher._Limits()
    fisher._network_pvalue(rows, cols, lf, observed + 1e-7, log_k, limits)
    return limits.work, fisher._exact_work_estimate(rows, cols)


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in FIXTURE["fisher"]
        if "error" not in c and c["pvalue"] < 1 and sum(map(sum, c["table"])) > 30
    ],
    ids=case_id,
)
def test_fisher_estimate_tracks_the_counted_work(case):
    # The estimate may overshoot (the bounds prune more than it assumes) but never falls far
    # short of the work actually done: that is what makes skipping on it safe.
    work, estimate = counted_work(case["table"])
    assert work <= 3 * estimate


def test_fisher_work_limit_stops_at_the_same_point_whatever_the_clock(monkeypatch):
    # The work limit (budget x FISHER_WORK_PER_SECOND units) does not read the clock, so it
    # stops the computation at the same point on a fast or a slow machine.
    table = fixture_case("fisher", "3x6 n=150")["table"]
    work, _ = counted_work(table)
    budget = work / 2 / FISHER_WORK_PER_SECOND  # half the work it needs
    # a frozen clock: only the work limit can stop it
    monkeypatch.setattr(fisher.time, "perf_counter", lambda: 0.0)
    result = fisher_exact(table, budget_seconds=budget)
    assert result.method == "monte_carlo" and result.fallback == "work"
    assert "work limit" in result.note
    more = fisher_exact(table, budget_seconds=2 * budget)
    assert more.method == "exact" and more.fallback is None


def test_fisher_time_budget_is_still_the_safety_net(monkeypatch):
    # A clock that jumps an hour per reading: the deadline trips before any work limit.
    ticks = iter(range(0, 10**9, 3600))
    monkeypatch.setattr(fisher.time, "perf_counter", lambda: float(next(ticks)))
    case = fixture_case("fisher", "3x6 n=150")
    result = fisher_exact(case["table"])
    assert result.method == "monte_carlo" and result.fallback == "time"
    assert "did not finish within 60 s" in result.note
    assert abs(result.pvalue - case["pvalue"]) < 4 * result.stderr


def row_fillings(total: int, caps: list[int]):
    """Every row with this total and each cell at most its cap."""
    if len(caps) == 1:
        if total <= caps[0]:
            yield [total]
        return
    for x in range(min(total, caps[0]) + 1):
        for rest in row_fillings(total - x, caps[1:]):
            yield [x, *rest]


def enumerate_tables(rows: list[int], cols: list[int]):
    """Every table with these margins (brute force, for small tables only)."""
    if len(rows) == 1:
        yield [list(cols)]
        return
    for first in row_fillings(rows[0], cols):
        rest_cols = [c - x for c, x in zip(cols, first, strict=True)]
        for rest in enumerate_tables(rows[1:], rest_cols):
            yield [first, *rest]


def brute_force_p(table: list[list[int]]) -> float:
    table = [row for row in table if sum(row)]
    if not table:
        return 1.0
    keep = [j for j in range(len(table[0])) if any(row[j] for row in table)]
    table = [[row[j] for j in keep] for row in table]
    rows = [sum(r) for r in table]
    cols = [sum(c) for c in zip(*table, strict=True)]
    if len(rows) < 2 or len(cols) < 2:
        return 1.0
    n = sum(rows)

    def log_p(t):
        return (
            sum(math.lgamma(r + 1) for r in rows)
            + sum(math.lgamma(c + 1) for c in cols)
            - math.lgamma(n + 1)
            - sum(math.lgamma(x + 1) for row in t for x in row)
        )

    observed = log_p(table)
    tol = math.log1p(1e-7) if (len(rows), len(cols)) == (2, 2) else 3.45254e-7
    return math.fsum(
        math.exp(lp) for t in enumerate_tables(rows, cols) if (lp := log_p(t)) <= observed + tol
    )


small_tables = st.integers(2, 4).flatmap(
    lambda r: st.integers(2, 4).flatmap(
        lambda c: st.lists(
            st.lists(st.integers(0, 4), min_size=c, max_size=c), min_size=r, max_size=r
        )
    )
)


def table_from_balls(r: int, c: int, balls: list[tuple[int, int]]) -> list[list[int]]:
    table = [[0] * c for _ in range(r)]
    for i, j in balls:
        table[i % r][j % c] += 1
    return table


# at most 14 observations: few enough tables with the same margins to list them all
tiny_tables = st.builds(
    table_from_balls,
    st.integers(2, 4),
    st.integers(2, 4),
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=14),
)
property_settings = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@property_settings
@given(tiny_tables)
def test_fisher_equals_brute_force_enumeration(table):
    expected = brute_force_p(table)
    result = fisher_exact(table)
    assert 0.0 <= result.pvalue <= 1.0
    assert math.isclose(result.pvalue, expected, rel_tol=1e-9)


@property_settings
@given(small_tables, st.randoms(use_true_random=False))
def test_fisher_invariant_under_permutation_and_transpose(table, rng):
    p = fisher_exact(table).pvalue
    rows = list(table)
    rng.shuffle(rows)
    order = list(range(len(table[0])))
    rng.shuffle(order)
    permuted = [[row[j] for j in order] for row in rows]
    transposed = [list(col) for col in zip(*table, strict=True)]
    assert math.isclose(fisher_exact(permuted).pvalue, p, rel_tol=1e-9)
    assert math.isclose(fisher_exact(transposed).pvalue, p, rel_tol=1e-9)


@property_settings
@given(small_tables)
def test_fisher_numpy_and_pure_python_agree(table):
    saved_np, saved_max = fisher._np, fisher._PURE_PYTHON_MAX_N
    fisher._PURE_PYTHON_MAX_N = -1
    try:
        with_numpy = fisher_exact(table).pvalue
        fisher._np = None
        without = fisher_exact(table).pvalue
    finally:
        fisher._np, fisher._PURE_PYTHON_MAX_N = saved_np, saved_max
    assert math.isclose(with_numpy, without, rel_tol=1e-9)


# ---------------------------------------------------------------------------------------------
# Wilcoxon rank sum

R_WILCOX_METHODS = {
    "Wilcoxon rank sum exact test": "exact",
    "Wilcoxon rank sum test with continuity correction": (
        "normal approximation with continuity correction"
    ),
    "Wilcoxon rank sum test": "normal approximation",
}


@pytest.mark.parametrize("case", FIXTURE["wilcox"], ids=case_id)
def test_rank_sum_matches_r(case):
    x, y = values(case["x"]), values(case["y"])
    if "error" in case:
        with pytest.raises(ValueError, match="not enough"):
            rank_sum(x, y, correct=case["correct"], exact=case["exact"])
        return
    result = rank_sum(x, y, correct=case["correct"], exact=case["exact"])
    assert close(result.statistic, case["statistic"], abs_tol=1e-12)
    assert result.method == R_WILCOX_METHODS[case["method"]]
    if r_undefined(case["pvalue"]):
        assert result.pvalue is None
        assert "identical" in result.note
    else:
        assert close(result.pvalue, case["pvalue"]), (result.pvalue, case["pvalue"])
    if any("ties" in w for w in case["warnings"]):
        assert "Ties" in result.note


def test_rank_sum_drops_missing_and_counts():
    result = rank_sum([1, None, float("nan"), 3], [2, 4])
    assert (result.n_x, result.n_y) == (2, 2)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(1, 5), min_size=1, max_size=30),
    st.lists(st.integers(1, 5), min_size=1, max_size=30),
)
def test_rank_sum_is_symmetric(x, y):
    forward = rank_sum(x, y)
    backward = rank_sum(y, x)
    assert math.isclose(forward.statistic + backward.statistic, len(x) * len(y))
    if forward.pvalue is None:
        assert backward.pvalue is None
    else:
        assert math.isclose(forward.pvalue, backward.pvalue, rel_tol=1e-12)
        assert 0 < forward.pvalue <= 1


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(1, 5), min_size=1, max_size=25),
    st.lists(st.integers(1, 5), min_size=1, max_size=25),
)
def test_kruskal_with_two_groups_is_the_uncorrected_rank_sum(x, y):
    h = kruskal(x, y)
    w = rank_sum(x, y, correct=False, exact=False)
    if w.pvalue is None:
        assert h.pvalue is None
    else:
        assert math.isclose(h.pvalue, w.pvalue, rel_tol=1e-9, abs_tol=1e-15)


def test_exact_wilcoxon_distribution_is_a_distribution():
    for m, n in [(1, 1), (3, 4), (7, 2), (10, 10)]:
        freqs = wilcoxon._wilcox_counts(m, n)
        assert len(freqs) == m * n + 1
        assert sum(freqs) == math.comb(m + n, m)
        assert freqs == freqs[::-1]


# ---------------------------------------------------------------------------------------------
# Kruskal-Wallis


@pytest.mark.parametrize("case", FIXTURE["kruskal"], ids=case_id)
def test_kruskal_matches_r(case):
    groups = [values(g) for g in case["groups"]]
    result = kruskal(*groups)
    if "error" in case:
        assert "same group" in case["error"]
        assert result.statistic is None and result.pvalue is None and result.df is None
        assert "Fewer than two groups" in result.note
        return
    assert result.df == case["df"]
    if r_undefined(case["pvalue"]):
        assert result.statistic is None and result.pvalue is None
        assert "identical" in result.note
        return
    assert close(result.statistic, case["statistic"], abs_tol=1e-12)
    assert close(result.pvalue, case["pvalue"]), (result.pvalue, case["pvalue"])
    if case["list_form_error"] is not None:  # R's list form refuses empty groups; we drop them
        assert "left out" in result.note


def test_kruskal_counts_groups_and_values():
    result = kruskal([1, 2, None], [], [3, 4, 5])
    assert (result.n, result.groups, result.df) == (5, 2, 1)
    assert "Group(s) 2" in result.note
    assert kruskal().pvalue is None


# ---------------------------------------------------------------------------------------------
# Distribution functions


@pytest.mark.parametrize("x", [0.001, 0.5, 1, 3.84, 10, 50, 200, 700, 1400])
def test_chisq_sf_closed_forms(x):
    # df = 1: P(X > x) = erfc(sqrt(x / 2)); df = 2: exp(-x / 2)
    assert math.isclose(chisq_sf(x, 1), math.erfc(math.sqrt(x / 2)), rel_tol=1e-12)
    assert math.isclose(chisq_sf(x, 2), math.exp(-x / 2), rel_tol=1e-12)
    # df = 4: exp(-x/2) (1 + x/2)
    assert math.isclose(chisq_sf(x, 4), math.exp(-x / 2) * (1 + x / 2), rel_tol=1e-12)


def test_chisq_sf_edges():
    assert chisq_sf(0, 3) == 1.0
    assert chisq_sf(-1e-12, 3) == 1.0
    assert chisq_sf(math.inf, 3) == 0.0
    with pytest.raises(ValueError):
        chisq_sf(1.0, 0)


# ---------------------------------------------------------------------------------------------
# describe and counts

DESCRIBE_FIELDS = ["mean", "sd", "median", "q1", "q3", "iqr", "min", "max"]


@pytest.mark.parametrize("case", FIXTURE["describe"], ids=case_id)
def test_describe_matches_r(case):
    result = describe(values(case["values"]))
    assert result.n == case["n"]
    assert result.missing == len(case["values"]) - case["n"]
    for field in DESCRIBE_FIELDS:
        ours = getattr(result, field)
        if r_undefined(case[field]):
            assert ours is None, field
        else:
            assert close(ours, case[field], abs_tol=1e-12), (field, ours, case[field])


def test_describe_empty_and_nan():
    empty = describe([])
    assert empty.n == 0 and empty.mean is None and empty.sd is None and empty.q1 is None
    nan_only = describe([float("nan"), None])
    assert nan_only.n == 0 and nan_only.missing == 2
    one = describe([7])
    assert (one.n, one.mean, one.sd, one.median, one.iqr) == (1, 7, None, 7, 0)


@pytest.mark.parametrize("case", FIXTURE["counts"], ids=case_id)
def test_counts_match_r(case):
    rows = counts(values(case["values"]), levels=case["levels"])
    assert [r.level for r in rows] == case["levels"]
    assert [r.n for r in rows] == case["n"]
    for row, pct in zip(rows, case["percent"], strict=True):
        if r_undefined(pct):
            assert row.percent is None
        else:
            assert close(row.percent, pct, abs_tol=1e-12)


def test_counts_order_and_unknown_values():
    rows = counts(["b", "a", None, "b", "z"], levels=["a", "b", "c"])
    assert rows == [("a", 1, 25.0), ("b", 2, 50.0), ("c", 0, 0.0), ("z", 1, 25.0)]
    assert [r.level for r in counts([3, 1, 2, 1])] == [1, 2, 3]
    assert counts([]) == []
    assert counts([None], levels=[1]) == [(1, 0, None)]
    mixed = counts(["x", 1, "x"])  # not comparable: first appearance
    assert [r.level for r in mixed] == ["x", 1]
    assert math.isclose(sum(r.percent for r in counts([1, 2, 2, 3, 3, 3])), 100.0)
