"""Exact intervals and tie-aware rank tests, checked against full enumeration and simulation."""

from itertools import combinations
from math import comb

import numpy as np
import pytest

from socialens.stats import (
    group_comparison,
    hodges_lehmann,
    holm,
    median_interval,
    median_rank_pvalue,
    mid_ranks,
    min_median_rank_pvalue,
    top_k_test,
    u_distribution,
)


def test_u_distribution_matches_enumeration():
    m, n = 3, 5
    counts = np.zeros(m * n + 1)
    for grp in combinations(range(m + n), m):
        # U = pairs (group member, other) with the member larger: value = index
        others = [i for i in range(m + n) if i not in grp]
        counts[sum(g > o for g in grp for o in others)] += 1
    assert u_distribution(m, n) == pytest.approx(counts / comb(m + n, m), abs=1e-14)
    assert u_distribution(9, 500)[0] == pytest.approx(1 / comb(509, 9), rel=1e-9)


@pytest.mark.parametrize("ranks,n", [
    ([1, 2.5, 2.5, 4, 6, 6, 6, 8], 3),
    ([1, 2.5, 2.5, 4, 6, 6, 6, 8], 4),
    ([1.5, 1.5, 3, 4, 5, 6.5, 6.5, 8, 9], 2),
])
def test_median_rank_pvalue_on_mid_ranks_is_the_permutation_distribution(ranks, n):
    meds = np.array([np.median([ranks[i] for i in c]) for c in combinations(range(len(ranks)), n)])
    for obs in sorted(set(meds)):
        assert median_rank_pvalue(obs, n, len(ranks), ranks=ranks) == pytest.approx(
            np.mean(meds <= obs + 1e-9), abs=1e-12)


def test_smallest_attainable_p_three_leaders_of_eleven():
    assert min_median_rank_pvalue(3, 11) == pytest.approx(9 / 165)
    assert min_median_rank_pvalue(3, 11) > 0.05  # can never be significant
    assert min_median_rank_pvalue(9, 515) == pytest.approx(comb(9, 5) / comb(515, 5))


def test_ties_have_no_direction():
    # everyone tied: the leaders' median mid-rank is the only possible one, p = 1
    r = mid_ranks([5] * 10)
    assert set(r) == {5.5}
    assert median_rank_pvalue(5.5, 3, 10, ranks=r) == pytest.approx(1.0)
    assert top_k_test([5.5] * 3, r, 4)["size"] == 0


def test_hodges_lehmann_coverage_matches_its_statement():
    rng = np.random.default_rng(11)
    hits, cov = [], None
    for _ in range(1000):
        x, y = rng.standard_normal(5) + 1.0, rng.standard_normal(40)
        r = hodges_lehmann(x, y)
        cov = r["coverage"]
        hits.append(r["ci"][0] <= 1.0 <= r["ci"][1])
    assert 0.95 <= cov < 0.96
    assert abs(np.mean(hits) - cov) < 3 * np.sqrt(cov * (1 - cov) / 1000)


def test_hodges_lehmann_says_when_no_interval_exists():
    r = hodges_lehmann([5, 6, 7], [1, 2, 3])
    assert r["ci"] == [None, None] and r["coverage"] == 1.0


def test_median_interval_only_where_distribution_free_one_exists():
    assert median_interval(range(1, 4))["ci"] is None
    assert median_interval(range(1, 6))["best_coverage"] == pytest.approx(0.9375)
    r = median_interval(range(1, 10))
    assert r["ci"] == [2.0, 8.0] and r["coverage"] == pytest.approx(1 - 2 * 10 / 512)


def test_group_comparison_log1p_ratio():
    rng = np.random.default_rng(5)
    x = np.exp(rng.standard_normal(30) * 0.5) * 4000
    y = np.exp(rng.standard_normal(300) * 0.5) * 1000
    res = group_comparison(x, y, scale="log1p")
    lo, hi = res["ratio_ci"]
    assert lo < 4 < hi and res["ratio"] == pytest.approx(np.exp(res["shift"]))


def test_holm():
    assert holm({"a": 0.01, "b": None, "c": 0.04}) == {"a": 0.02, "b": None, "c": 0.04}
