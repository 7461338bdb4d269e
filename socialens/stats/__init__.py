"""Statistics used by the analyses: rank tests against random assignment (mid-ranks for ties),
effect sizes with exact test-inversion and distribution-free intervals, Holm's adjustment,
concentration. Each function documents its method and citation; the same
text is in ``docs/methods.md``."""

from socialens.stats.concentration import gini, top_share
from socialens.stats.intervals import hodges_lehmann, median_interval, u_distribution
from socialens.stats.multiple import holm, smallest_adjusted
from socialens.stats.ranks import (
    bootstrap_ci,
    group_comparison,
    median_rank_pvalue,
    mid_ranks,
    min_median_rank_pvalue,
    rank_biserial,
    top_k_hypergeom,
    top_k_test,
)

__all__ = [
    "gini",
    "top_share",
    "bootstrap_ci",
    "group_comparison",
    "median_rank_pvalue",
    "rank_biserial",
    "top_k_hypergeom",
    "top_k_test",
    "mid_ranks",
    "min_median_rank_pvalue",
    "hodges_lehmann",
    "median_interval",
    "u_distribution",
    "holm",
    "smallest_adjusted",
]
