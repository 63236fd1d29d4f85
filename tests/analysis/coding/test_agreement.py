"""Cohen's kappa between two reviewers: textbook 2x2 tables, the degenerate cases and the
Landis & Koch bands.

The expected values are computed in each test from the 2x2 counts (a = both yes, b = reviewer 1
only, c = reviewer 2 only, d = both no), not with the code under test. Where R is installed,
the same tables are also computed by base R:

    tab <- matrix(c(a, c, b, d), 2)   # rows: reviewer 1 yes/no; columns: reviewer 2 yes/no
    n <- sum(tab); po <- sum(diag(tab)) / n
    pe <- sum(rowSums(tab) * colSums(tab)) / n^2
    (po - pe) / (1 - pe)
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from analysis.coding.agreement import cohen_kappa, kappa_label

TABLES = [
    # (a, b, c, d): both yes, reviewer 1 only, reviewer 2 only, both no
    (20, 5, 10, 15),  # po 0.7, pe 0.5, kappa 0.4
    (45, 15, 25, 15),  # po 0.6, pe 0.54, kappa 0.1304...
    (25, 35, 5, 35),  # po 0.6, pe 0.48, kappa 0.2307...
    (1, 0, 0, 1),  # perfect agreement, kappa 1
    (0, 3, 2, 0),  # complete disagreement
    (7, 0, 3, 0),  # reviewer 1 always yes: kappa 0
]


def judgements(a: int, b: int, c: int, d: int) -> tuple[list[bool], list[bool]]:
    first = [True] * a + [True] * b + [False] * c + [False] * d
    second = [True] * a + [False] * b + [True] * c + [False] * d
    return first, second


def by_hand(a: int, b: int, c: int, d: int) -> tuple[float, float, float]:
    n = a + b + c + d
    po = (a + d) / n
    first_yes, second_yes = (a + b) / n, (a + c) / n
    pe = first_yes * second_yes + (1 - first_yes) * (1 - second_yes)
    return po, pe, (po - pe) / (1 - pe)


def test_textbook_example_gives_kappa_0_4():
    first, second = judgements(20, 5, 10, 15)
    result = cohen_kappa(first, second)
    assert result.n == 50
    assert result.observed == pytest.approx(0.7)
    assert result.expected == pytest.approx(0.5)
    assert result.kappa == pytest.approx(0.4)
    assert result.note == ""
    assert result.label == "fair"


@pytest.mark.parametrize("counts", TABLES)
def test_kappa_equals_the_hand_computation_from_the_2x2_counts(counts):
    po, pe, kappa = by_hand(*counts)
    result = cohen_kappa(*judgements(*counts))
    assert result.observed == pytest.approx(po, rel=1e-12)
    assert result.expected == pytest.approx(pe, rel=1e-12)
    assert result.kappa == pytest.approx(kappa, rel=1e-12, abs=1e-12)
    assert result.n == sum(counts)


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
@pytest.mark.parametrize("counts", TABLES)
def test_kappa_equals_r(counts):
    a, b, c, d = counts
    script = (
        f"tab <- matrix(c({a}, {c}, {b}, {d}), 2); n <- sum(tab); po <- sum(diag(tab)) / n; "
        "pe <- sum(rowSums(tab) * colSums(tab)) / n^2; cat(sprintf('%.15g', (po - pe) / (1 - pe)))"
    )
    out = subprocess.run(
        ["Rscript", "-e", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert cohen_kappa(*judgements(*counts)).kappa == pytest.approx(
        float(out.stdout), rel=1e-9, abs=1e-12
    )


def test_order_of_items_does_not_matter_only_the_pairs():
    first, second = judgements(20, 5, 10, 15)
    pairs = list(zip(first, second, strict=True))[::-1]
    result = cohen_kappa([p[0] for p in pairs], [p[1] for p in pairs])
    assert result.kappa == pytest.approx(0.4)


def test_complete_disagreement_on_a_balanced_table_is_minus_one():
    result = cohen_kappa([True, False], [False, True])
    assert result.kappa == pytest.approx(-1.0)
    assert result.label == "poor"


def test_no_items_has_no_kappa_and_says_so():
    result = cohen_kappa([], [])
    assert result.kappa is None
    assert result.observed is None
    assert result.n == 0
    assert result.note == "no items were coded by both reviewers"
    assert result.label == "undefined"


@pytest.mark.parametrize("answer", [True, False])
def test_both_reviewers_constant_and_identical_is_undefined_not_one(answer):
    result = cohen_kappa([answer] * 6, [answer] * 6)
    assert result.kappa is None
    assert result.observed == 1.0
    assert result.expected == 1.0
    assert result.n == 6
    assert result.note == (
        "both reviewers gave the same answer to every item; agreement is 100% but kappa is "
        "undefined"
    )


def test_both_constant_but_opposite_is_defined():
    # po = 0, pe = 0: kappa 0, not undefined.
    result = cohen_kappa([True] * 4, [False] * 4)
    assert result.kappa == 0.0
    assert result.note == ""


def test_lists_of_different_length_are_refused():
    with pytest.raises(ValueError, match="same items"):
        cohen_kappa([True, False], [True])


@pytest.mark.parametrize(
    ("k", "label"),
    [
        (-0.5, "poor"),
        (-0.01, "poor"),
        (0.0, "slight"),
        (0.2, "slight"),
        (0.21, "fair"),
        (0.4, "fair"),
        (0.41, "moderate"),
        (0.6, "moderate"),
        (0.6000000000000001, "moderate"),
        (0.61, "substantial"),
        (0.8, "substantial"),
        (0.81, "almost perfect"),
        (1.0, "almost perfect"),
        (None, "undefined"),
    ],
)
def test_landis_koch_bands(k, label):
    assert kappa_label(k) == label


def test_kappa_exactly_on_a_band_edge_lands_in_the_lower_band():
    # a=4, b=1, c=1, d=4: po 0.8, pe 0.5, kappa (0.8 - 0.5) / 0.5 = 0.6 exactly.
    result = cohen_kappa(*judgements(4, 1, 1, 4))
    assert result.kappa == 0.6
    assert result.label == "moderate"
