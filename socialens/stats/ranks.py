"""Are a group's members ranked higher than chance would put them?

Three questions, all against the null hypothesis that the group labels (e.g. "leader") were
assigned to the ranked people uniformly at random:

* :func:`median_rank_pvalue` — the exact probability that the group's median rank is at least as
  good as observed (derived from the hypergeometric distribution of order statistics).
* :func:`top_k_hypergeom` — the probability that at least ``x`` of the top ``k`` are group members
  (hypergeometric upper tail).
* :func:`group_comparison` — Mann–Whitney U test with the rank-biserial correlation as effect size
  and a bootstrap confidence interval (Kerby 2014; Efron & Tibshirani 1993).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import stats as sps
from scipy.special import gammaln

__all__ = [
    "median_rank_pvalue",
    "top_k_hypergeom",
    "rank_biserial",
    "bootstrap_ci",
    "group_comparison",
]


def _lcomb(n, k):
    n = np.asarray(n, dtype=float)
    k = np.asarray(k, dtype=float)
    out = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    return np.where((k < 0) | (k > n), -np.inf, out)


def median_rank_pvalue(observed_median: float, n_group: int, n_total: int) -> float:
    """P(median rank of a random ``n_group``-subset of ranks 1..n_total <= ``observed_median``).

    Exact. For odd ``n`` the median is the order statistic ``r_(m)``, ``m = (n+1)/2``, and
    ``P(r_(m) <= a)`` is the hypergeometric probability that at least ``m`` of the group fall in
    the top ``a``. For even ``n`` the median is ``(r_(m) + r_(m+1)) / 2`` with ``m = n/2``; we sum
    over the value of ``r_(m)``: ``P(r_(m) = a) = C(a-1, m-1) C(N-a, n-m) / C(N, n)`` and, given
    it, the other ``n-m`` ranks are a uniform subset of ``a+1..N``.

    >>> round(median_rank_pvalue(3, 3, 5), 4)   # P(at least 2 of 3 in the top 3 of 5) = 7/10
    0.7
    >>> round(median_rank_pvalue(5, 1, 10), 12)
    0.5
    """
    n, N = int(n_group), int(n_total)
    if not 1 <= n <= N:
        raise ValueError(f"need 1 <= n_group ({n}) <= n_total ({N})")
    if n % 2 == 1:
        m = (n + 1) // 2
        a = math.floor(observed_median)
        if a < m:
            return 0.0
        return float(sps.hypergeom.sf(m - 1, N, n, min(a, N)))
    m = n // 2
    a = np.arange(m, N - (n - m) + 1)
    log_p_a = _lcomb(a - 1, m - 1) + _lcomb(N - a, n - m) - _lcomb(N, n)
    b = np.floor(2 * observed_median - a)  # need r_(m+1) <= b, with r_(m+1) > a
    b = np.clip(b, a, N)
    # P(at least one of the n-m remaining ranks in (a, b]) = 1 - C(N-b, n-m) / C(N-a, n-m)
    p_cond = 1 - np.exp(_lcomb(N - b, n - m) - _lcomb(N - a, n - m))
    p = float(np.sum(np.exp(log_p_a) * p_cond))
    return min(max(p, 0.0), 1.0)


def top_k_hypergeom(x: int, k: int, n_group: int, n_total: int) -> float:
    """P(at least ``x`` group members among the top ``k``) under random assignment.

    Zappos 2009: the 3 leaders were 3 of the top 4 of 431 (``docs/methods.md``), so
    ``P = C(3,3) C(428,1) / C(431,4) = 428 / 1,417,867,165``:

    >>> from math import comb, isclose
    >>> p = top_k_hypergeom(3, 4, 3, 431)
    >>> f"{p:.6e}"
    '3.018618e-07'
    >>> isclose(p, comb(3, 3) * comb(428, 1) / comb(431, 4), rel_tol=1e-12)
    True
    """
    return float(sps.hypergeom.sf(x - 1, n_total, n_group, k))


def rank_biserial(x, y) -> float:
    """Rank-biserial correlation ``P(X > Y) - P(X < Y)`` (ties count half), in [-1, 1].

    Equals ``2 U_x / (n_x n_y) - 1`` with ``U_x`` the Mann–Whitney statistic of ``x`` (Kerby 2014).

    >>> rank_biserial([3, 4], [1, 2])
    1.0
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    nx, ny = len(x), len(y)
    if nx == 0 or ny == 0:
        return float("nan")
    ranks = sps.rankdata(np.concatenate([x, y]))  # average ranks: ties count half
    u = ranks[:nx].sum() - nx * (nx + 1) / 2
    return float(2 * u / (nx * ny) - 1)


def bootstrap_ci(
    stat: Callable[..., float],
    *samples,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat(*samples)``, resampling each sample independently.

    Deterministic for a given ``seed``. Returns (nan, nan) when a sample is empty.
    """
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(s, dtype=float) for s in samples]
    if any(len(a) == 0 for a in arrays):
        return (float("nan"), float("nan"))
    vals = np.empty(n_boot)
    for i in range(n_boot):
        vals[i] = stat(*(a[rng.integers(0, len(a), len(a))] for a in arrays))
    vals = vals[np.isfinite(vals)]
    if len(vals) == 0:
        return (float("nan"), float("nan"))
    lo, hi = np.quantile(vals, [(1 - level) / 2, 1 - (1 - level) / 2])
    return (float(lo), float(hi))


def _ratio_of_medians(x, y):
    my = np.median(y)
    return np.median(x) / my if my else np.nan


def group_comparison(
    group, others, *, alternative: str = "greater", seed: int = 0, n_boot: int = 2000
) -> dict:
    """Compare a group's values with the others': medians, Mann–Whitney U, rank-biserial r.

    Parameters
    ----------
    group, others : array-like of float
        Values (higher = more, e.g. followers or posting rate; pass negated times for "earlier").
    alternative : {"greater", "less", "two-sided"}
        The alternative for the group relative to the others.

    Returns
    -------
    dict
        ``n_group, n_others, median_group, median_others, ratio_of_medians`` (with bootstrap CI),
        ``u, p_value`` (Mann–Whitney, exact for small samples without ties, else normal
        approximation with tie correction), ``rank_biserial`` with its bootstrap CI.
    """
    g = np.asarray(group, dtype=float)
    o = np.asarray(others, dtype=float)
    g, o = g[np.isfinite(g)], o[np.isfinite(o)]
    out = {
        "n_group": int(len(g)),
        "n_others": int(len(o)),
        "median_group": float(np.median(g)) if len(g) else None,
        "median_others": float(np.median(o)) if len(o) else None,
    }
    if len(g) == 0 or len(o) == 0:
        out.update(u=None, p_value=None, rank_biserial=None, rank_biserial_ci=None,
                   ratio_of_medians=None, ratio_of_medians_ci=None)
        return out
    res = sps.mannwhitneyu(g, o, alternative=alternative)
    r = 2 * res.statistic / (len(g) * len(o)) - 1
    ratio = _ratio_of_medians(g, o)
    out.update(
        u=float(res.statistic),
        p_value=float(res.pvalue),
        alternative=alternative,
        rank_biserial=float(r),
        rank_biserial_ci=list(bootstrap_ci(rank_biserial, g, o, n_boot=n_boot, seed=seed)),
        ratio_of_medians=None if not np.isfinite(ratio) else float(ratio),
        ratio_of_medians_ci=list(bootstrap_ci(_ratio_of_medians, g, o, n_boot=n_boot, seed=seed + 1)),
    )
    return out
