"""Are a group's members ranked higher than chance would put them?

Three questions, all against the null hypothesis that the group labels (e.g. "leader") were
assigned to the ranked people uniformly at random:

* :func:`median_rank_pvalue` — the exact probability that the group's median rank is at least as
  good as observed (derived from the hypergeometric distribution of order statistics).
* :func:`top_k_hypergeom` — the probability that at least ``x`` of the top ``k`` are group members
  (hypergeometric upper tail).
* :func:`group_comparison` — Mann–Whitney U test, the rank-biserial correlation as effect size
  (Kerby 2014) and the Hodges–Lehmann shift with its exact test-inversion interval (Hodges &
  Lehmann 1963; Bauer 1972; :mod:`socialens.stats.intervals`).

Ties: ranks are mid-ranks (:func:`mid_ranks`), and the median-rank and top-k distributions are
computed on the mid-ranks actually observed (the permutation distribution of the labels over the
tied ranks), so ties never favour anyone by id.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats as sps
from scipy.special import gammaln

from socialens.stats.intervals import hodges_lehmann

__all__ = [
    "mid_ranks",
    "median_rank_pvalue",
    "min_median_rank_pvalue",
    "top_k_test",
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


def mid_ranks(values, *, descending: bool = True) -> np.ndarray:
    """Ranks 1..N of ``values`` (1 = largest when ``descending``), tied values sharing the mean
    of their ranks.

    >>> mid_ranks([10, 30, 30, 5]).tolist()
    [3.0, 1.5, 1.5, 4.0]
    """
    v = np.asarray(values, dtype=float)
    return sps.rankdata(-v if descending else v, method="average")


def median_rank_pvalue(observed_median: float, n_group: int, n_total: int, *,
                       ranks=None) -> float:
    """P(median rank of a random ``n_group``-subset of the ranks <= ``observed_median``).

    The ranks are 1..n_total, or the ``ranks`` given (all ``n_total`` of them, mid-ranks when
    there are ties): the exact permutation distribution of the group label over them. Let
    ``v_1 <= ... <= v_N`` be the ranks sorted and ``c(a)`` the number of them ``<= a``. For odd
    ``n`` the median is the ``m``-th smallest group rank, ``m = (n+1)/2``, and
    ``P(median <= a)`` is the hypergeometric probability that at least ``m`` of the group are
    among the ``c(a)`` smallest. For even ``n`` the median is the mean of the ``m``-th and
    ``m+1``-th, ``m = n/2``; we sum over the position ``a`` of the ``m``-th:
    ``P = C(a-1, m-1) C(N-a, n-m) / C(N, n)`` and, given it, the other ``n-m`` are a uniform subset
    of positions ``a+1..N``, of which those with ``v <= 2 * observed - v_a`` qualify.

    >>> round(median_rank_pvalue(3, 3, 5), 4)   # P(at least 2 of 3 in the top 3 of 5) = 7/10
    0.7
    >>> round(median_rank_pvalue(5, 1, 10), 12)
    0.5
    >>> round(median_rank_pvalue(1.5, 1, 3, ranks=[1.5, 1.5, 3]), 4)   # a tie for first place
    0.6667
    """
    n, N = int(n_group), int(n_total)
    if not 1 <= n <= N:
        raise ValueError(f"need 1 <= n_group ({n}) <= n_total ({N})")
    if ranks is None:
        v = np.arange(1, N + 1, dtype=float)
    else:
        v = np.sort(np.asarray(ranks, dtype=float))
        if len(v) != N:
            raise ValueError(f"ranks has {len(v)} values, n_total is {N}")
    eps = 1e-9

    def count_le(a):
        return np.searchsorted(v, np.asarray(a, dtype=float) + eps, side="right")

    if n % 2 == 1:
        m = (n + 1) // 2
        c = int(count_le(observed_median))
        if c < m:
            return 0.0
        return float(sps.hypergeom.sf(m - 1, N, n, c))
    m = n // 2
    a = np.arange(m, N - (n - m) + 1)
    log_p_a = _lcomb(a - 1, m - 1) + _lcomb(N - a, n - m) - _lcomb(N, n)
    b = count_le(2 * observed_median - v[a - 1])  # need the (m+1)-th at a position <= b, > a
    b = np.clip(b, a, N)
    # P(at least one of the n-m remaining positions in (a, b]) = 1 - C(N-b, n-m) / C(N-a, n-m)
    p_cond = 1 - np.exp(_lcomb(N - b, n - m) - _lcomb(N - a, n - m))
    p = float(np.sum(np.exp(log_p_a) * p_cond))
    return min(max(p, 0.0), 1.0)


def min_median_rank_pvalue(n_group: int, n_total: int, *, ranks=None) -> float:
    """The smallest p-value :func:`median_rank_pvalue` can give at this size: the group holding
    the ``n_group`` best ranks.

    3 leaders among 11 people can never reach p < 0.05 (the issue's example):

    >>> round(min_median_rank_pvalue(3, 11), 4)   # C(2,2) C(9,1) / C(11,3) = 9/165
    0.0545
    """
    n, N = int(n_group), int(n_total)
    v = np.arange(1, N + 1, dtype=float) if ranks is None else np.sort(np.asarray(ranks, float))
    return median_rank_pvalue(float(np.median(v[:n])), n, N, ranks=ranks)


def top_k_test(group_ranks, ranks, k: int) -> dict:
    """Leaders among the top ``k``, exact with ties: the top group is everyone whose (mid-)rank is
    at most ``k`` (``size`` people, more or fewer than ``k`` when a tie straddles ``k``), and
    the count of group members in it is hypergeometric under random assignment.

    >>> round(top_k_test([1, 2], [1, 2, 3, 4, 5], 2)["p_value"], 12)   # 1 / C(5, 2)
    0.1
    >>> top_k_test([1.5], [1.5, 1.5, 3], 1)["size"]   # a tie for first: nobody is in the top 1
    0
    """
    r = np.asarray(ranks, dtype=float)
    g = np.asarray(group_ranks, dtype=float)
    size = int((r <= k + 1e-9).sum())
    x = int((g <= k + 1e-9).sum())
    return {"k": int(k), "size": size, "leaders_in_top_k": x,
            "expected_under_random": size * len(g) / len(r) if len(r) else None,
            "p_value": float(sps.hypergeom.sf(x - 1, len(r), len(g), size))}


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
    group, others, *, alternative: str = "greater", scale: str = "identity",
    level: float = 0.95, seed: int = 0, n_boot: int = 0,
) -> dict:
    """Compare a group's values with the others': medians, Mann–Whitney U, rank-biserial r and
    the Hodges–Lehmann shift with its exact interval.

    Parameters
    ----------
    group, others : array-like of float
        Values (higher = more, e.g. followers or posting rate; days for "earlier").
    alternative : {"greater", "less", "two-sided"}
        The alternative for the group relative to the others (of the Mann–Whitney test; the
        interval is two-sided).
    scale : {"identity", "log1p"}
        Scale of the shift: ``log1p`` compares ``log(1 + value)``, and the shift is reported as
        the ratio ``ratio`` = exp(shift) of ``1 + value`` (leaders have ``ratio`` times as many).
    seed, n_boot
        Unused (kept so callers written for the former bootstrap intervals still run).

    Returns
    -------
    dict
        ``n_group, n_others, median_group, median_others, ratio_of_medians``; ``u, p_value``
        (Mann–Whitney, scipy's exact distribution for small samples without ties, else the normal
        approximation with tie correction); ``rank_biserial`` (point estimate: its former
        bootstrap interval covered 82–86 % with 4–7 leaders and is not given); ``shift``,
        ``shift_ci`` and ``shift_ci_coverage`` (the exact coverage of the test-inversion
        interval under the shift model; ``shift_ci`` is [None, None] when no interval reaches
        ``level`` at this size), and for ``log1p`` also ``ratio``, ``ratio_ci``.
    """
    del seed, n_boot
    g = np.asarray(group, dtype=float)
    o = np.asarray(others, dtype=float)
    g, o = g[np.isfinite(g)], o[np.isfinite(o)]
    out = {
        "n_group": int(len(g)),
        "n_others": int(len(o)),
        "median_group": float(np.median(g)) if len(g) else None,
        "median_others": float(np.median(o)) if len(o) else None,
        "scale": scale,
    }
    if len(g) == 0 or len(o) == 0:
        out.update(u=None, p_value=None, rank_biserial=None, ratio_of_medians=None, shift=None,
                   shift_ci=[None, None], shift_ci_coverage=None)
        return out
    if scale not in ("identity", "log1p"):
        raise ValueError(f"scale={scale!r}: use 'identity' or 'log1p'")
    res = sps.mannwhitneyu(g, o, alternative=alternative)
    r = 2 * res.statistic / (len(g) * len(o)) - 1
    ratio = _ratio_of_medians(g, o)
    tg, to = (np.log1p(g), np.log1p(o)) if scale == "log1p" else (g, o)
    hl = hodges_lehmann(tg, to, level=level)
    out.update(
        u=float(res.statistic),
        p_value=float(res.pvalue),
        alternative=alternative,
        rank_biserial=float(r),
        ratio_of_medians=None if not np.isfinite(ratio) else float(ratio),
        shift=hl["shift"], shift_ci=hl["ci"], shift_ci_coverage=hl["coverage"],
        shift_ci_method=hl["method"],
    )
    if scale == "log1p":
        out["ratio"] = float(np.exp(hl["shift"]))
        out["ratio_ci"] = [None if c is None else float(np.exp(c)) for c in hl["ci"]]
    return out
