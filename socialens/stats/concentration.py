"""Concentration of activity: the Gini coefficient and the share held by the top fraction."""

from __future__ import annotations

import numpy as np

__all__ = ["gini", "top_share"]


def gini(values) -> float:
    """Gini coefficient of non-negative values (0 = equal, → 1 = one holds everything).

    Uses the sorted-values formula ``G = sum_i (2i - n - 1) x_(i) / (n sum x)`` (no small-sample
    correction).

    >>> gini([1, 1, 1, 1])
    0.0
    >>> gini([0, 0, 0, 4])
    0.75
    """
    x = np.sort(np.asarray(values, dtype=float))
    if len(x) == 0 or x.sum() == 0:
        return float("nan") if len(x) == 0 else 0.0
    if (x < 0).any():
        raise ValueError("gini needs non-negative values")
    n = len(x)
    i = np.arange(1, n + 1)
    return float(np.sum((2 * i - n - 1) * x) / (n * x.sum()))


def top_share(values, fraction: float = 0.1) -> float:
    """Share of the total held by the top ``fraction`` of units (at least one unit).

    >>> top_share([1] * 9 + [91], 0.1)
    0.91
    """
    x = np.sort(np.asarray(values, dtype=float))[::-1]
    if len(x) == 0 or x.sum() == 0:
        return float("nan")
    k = max(1, int(round(fraction * len(x))))
    return float(x[:k].sum() / x.sum())
