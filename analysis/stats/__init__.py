"""Statistics for survey analysis, defined to agree with R.

No Django: plain functions on plain values, usable and testable on their own. The standard
library does everything; numpy (a dependency of the project) only speeds up Fisher's test,
which falls back to pure Python without it and gives the same p-values.

Every function here states which R function it reproduces and how; the test suite compares
each one with values computed by R itself (``tests/analysis/fixtures/r_reference.json``, made
by ``analysis/R/make_reference.R``) to a relative tolerance of 1e-6.

* :func:`describe`: n, mean, sample SD, median, quartiles (R's ``quantile(type = 7)``).
* :func:`counts`: frequency table of a categorical answer, with percentages of non-missing.
* :func:`fisher_exact`: Fisher's exact test for any r x c table (R's ``fisher.test``), exact
  by a network algorithm, or by Monte Carlo with a standard error when the exact computation
  is estimated to be far out of reach or does not fit in its work limit or time budget.
* :func:`rank_sum`: Wilcoxon rank-sum / Mann-Whitney test with the Hodges-Lehmann shift and
  its interval (R's ``wilcox.test(x, y, conf.int = TRUE)``).
* :func:`kruskal`: Kruskal-Wallis rank-sum test (R's ``kruskal.test``).

Paired and trend tests (``tests/analysis/fixtures/r_paired_reference.json``, made by
``analysis/R/make_paired_reference.R``):

* :func:`signed_rank`: Wilcoxon signed-rank test of paired values with the Hodges-Lehmann
  estimate and its interval (R's ``wilcox.test(x, y, paired = TRUE, conf.int = TRUE)``).
* :func:`mcnemar`: McNemar's chi-squared test of a paired 2 x 2 table (R's ``mcnemar.test``).
* :func:`mcnemar_exact`: exact McNemar test (R's ``binom.test(b, b + c)``) with the
  conditional odds ratio and its exact interval.
* :func:`sign_test`: sign test of paired values (R's ``binom.test`` on the signs).
* :func:`spearman`: Spearman's rank correlation test (R's ``cor.test(method = "spearman")``).
* :func:`trend_test`: chi-squared test for trend in proportions (R's ``prop.trend.test``).
* :func:`paired_proportion_difference`: difference of paired proportions with Newcombe's
  interval; :func:`proportion_difference`: of two independent proportions (R's
  ``prop.test`` interval).

Missing values: ``None`` and float NaN are missing everywhere and are left out, as R does with
``NA`` (``na.rm = TRUE`` for the descriptive helpers). Where R stops with an error or returns
``NaN``/``NA`` for a degenerate input, the functions here return ``None`` for the undefined
value and say why in ``note`` (or raise :class:`ValueError` where R raises, as documented on
each function). ``docs/statistics.md`` has the full mapping.
"""

# One module per section; this package re-exports the public names of the former single
# module. The Fisher constants are public as before (callers and tests read them), outside
# ``__all__`` as before: ``X as X`` marks them re-exported.
from analysis.stats.correlation import SpearmanResult, spearman
from analysis.stats.descriptive import CountRow, Description, counts, describe
from analysis.stats.distributions import chisq_sf, normal_two_sided_p, t_cdf
from analysis.stats.fisher import FISHER_BUDGET_SECONDS as FISHER_BUDGET_SECONDS
from analysis.stats.fisher import FISHER_LOG_TOL_RXC as FISHER_LOG_TOL_RXC
from analysis.stats.fisher import FISHER_MC_SAMPLES as FISHER_MC_SAMPLES
from analysis.stats.fisher import FISHER_MC_SEED as FISHER_MC_SEED
from analysis.stats.fisher import FISHER_REL_TOL_2X2 as FISHER_REL_TOL_2X2
from analysis.stats.fisher import FISHER_SKIP_FACTOR as FISHER_SKIP_FACTOR
from analysis.stats.fisher import FISHER_WORK_PER_SECOND as FISHER_WORK_PER_SECOND
from analysis.stats.fisher import FisherResult, fisher_exact
from analysis.stats.kruskal_wallis import KruskalResult, kruskal
from analysis.stats.paired import (
    McNemarExactResult,
    McNemarResult,
    PairedDifferenceResult,
    SignTestResult,
    mcnemar,
    mcnemar_exact,
    paired_proportion_difference,
    sign_test,
)
from analysis.stats.proportions import (
    ProportionDifferenceResult,
    TrendResult,
    proportion_difference,
    trend_test,
)
from analysis.stats.signed_ranks import SignedRankResult, signed_rank
from analysis.stats.wilcoxon import RankSumResult, rank_sum

__all__ = [
    "CountRow",
    "Description",
    "FisherResult",
    "KruskalResult",
    "McNemarExactResult",
    "McNemarResult",
    "PairedDifferenceResult",
    "ProportionDifferenceResult",
    "RankSumResult",
    "SignTestResult",
    "SignedRankResult",
    "SpearmanResult",
    "TrendResult",
    "chisq_sf",
    "counts",
    "describe",
    "fisher_exact",
    "kruskal",
    "mcnemar",
    "mcnemar_exact",
    "normal_two_sided_p",
    "paired_proportion_difference",
    "proportion_difference",
    "rank_sum",
    "sign_test",
    "signed_rank",
    "spearman",
    "t_cdf",
    "trend_test",
]
