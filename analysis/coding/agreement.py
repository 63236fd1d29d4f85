"""Agreement between two reviewers on a yes/no judgement: Cohen's kappa.

For each theme of the codebook, every open answer coded by both reviewers gives a pair of
judgements (did reviewer 1 apply the theme? did reviewer 2?). With ``n`` such pairs:

* observed agreement ``po`` = share of answers where both said yes or both said no;
* expected agreement ``pe`` = ``p1 * p2 + (1 - p1) * (1 - p2)``, where ``p1`` and ``p2`` are the
  shares of answers each reviewer applied the theme to (the agreement two reviewers with those
  rates would reach by chance);
* ``kappa = (po - pe) / (1 - pe)``.

Two cases have no kappa, and say why in ``note``: no pairs at all, and ``pe == 1``, which
happens only when both reviewers gave the same answer to every item (both always yes, or both
always no). Their agreement is then 100% but kappa is 0 / 0: undefined, not 1.

The arithmetic is exact (fractions), so a kappa on a band's edge lands in the right band.
Pure Python, no Django.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["BANDS", "KappaResult", "cohen_kappa", "kappa_label"]

NO_ITEMS = "no items were coded by both reviewers"
CONSTANT = (
    "both reviewers gave the same answer to every item; agreement is 100% but kappa is undefined"
)

# Landis & Koch (1977): upper bound of each band (inclusive) and its name; below 0 is "poor".
BANDS: tuple[tuple[float, str], ...] = (
    (0.20, "slight"),
    (0.40, "fair"),
    (0.60, "moderate"),
    (0.80, "substantial"),
    (1.00, "almost perfect"),
)
POOR = "poor"
UNDEFINED = "undefined"


@dataclass(frozen=True)
class KappaResult:
    """``kappa`` None when undefined (see ``note``); ``observed`` and ``expected`` are the
    proportions ``po`` and ``pe`` (None when there are no items)."""

    kappa: float | None
    observed: float | None
    expected: float | None
    n: int
    note: str = ""

    @property
    def label(self) -> str:
        return kappa_label(self.kappa)


def _exact_kappa(
    a: Sequence[bool], b: Sequence[bool]
) -> tuple[Fraction, Fraction, Fraction | None]:
    n = len(a)
    both_yes = sum(1 for x, y in zip(a, b, strict=True) if x and y)
    both_no = sum(1 for x, y in zip(a, b, strict=True) if not x and not y)
    po = Fraction(both_yes + both_no, n)
    p1 = Fraction(sum(1 for x in a if x), n)
    p2 = Fraction(sum(1 for y in b if y), n)
    pe = p1 * p2 + (1 - p1) * (1 - p2)
    kappa = None if pe == 1 else (po - pe) / (1 - pe)
    return po, pe, kappa


def cohen_kappa(a: Sequence[bool], b: Sequence[bool]) -> KappaResult:
    """Cohen's kappa of two reviewers' yes/no judgements on the same items, in the same order.

    Raises ``ValueError`` if the two lists differ in length.
    """
    if len(a) != len(b):
        raise ValueError(f"Both reviewers must judge the same items ({len(a)} vs {len(b)}).")
    n = len(a)
    if n == 0:
        return KappaResult(kappa=None, observed=None, expected=None, n=0, note=NO_ITEMS)
    po, pe, kappa = _exact_kappa([bool(x) for x in a], [bool(y) for y in b])
    if kappa is None:
        return KappaResult(kappa=None, observed=float(po), expected=float(pe), n=n, note=CONSTANT)
    return KappaResult(kappa=float(kappa), observed=float(po), expected=float(pe), n=n)


def kappa_label(k: float | None) -> str:
    """The Landis & Koch band of a kappa: poor (< 0), slight (0-0.20), fair (0.21-0.40),
    moderate (0.41-0.60), substantial (0.61-0.80), almost perfect (0.81-1); "undefined" for
    None."""
    if k is None:
        return UNDEFINED
    k = round(k, 9)  # 0.6 computed as 0.6000000000000001 is still "moderate"
    if k < 0:
        return POOR
    for upper, name in BANDS:
        if k <= upper:
            return name
    return BANDS[-1][1]
