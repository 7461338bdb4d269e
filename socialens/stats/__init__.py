"""Statistics used by the analyses: rank tests against random assignment, effect sizes with
bootstrap intervals, concentration. Each function documents its method and citation; the same
text is in ``docs/methods.md``."""

from socialens.stats.concentration import gini, top_share
from socialens.stats.ranks import (
    bootstrap_ci,
    group_comparison,
    median_rank_pvalue,
    rank_biserial,
    top_k_hypergeom,
)

__all__ = [
    "gini",
    "top_share",
    "bootstrap_ci",
    "group_comparison",
    "median_rank_pvalue",
    "rank_biserial",
    "top_k_hypergeom",
]
