"""Rank tests validated on simulated data with known answers (null and planted)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialens.stats import group_comparison, median_rank_pvalue, rank_biserial, top_k_hypergeom


@pytest.mark.parametrize("n", [1, 4, 9, 10])
def test_median_rank_pvalue_matches_monte_carlo(n):
    N = 120
    rng = np.random.default_rng(n)
    sims = np.array([np.median(rng.choice(N, n, replace=False) + 1) for _ in range(20000)])
    for m in (10, 30, 60, 90):
        exact = median_rank_pvalue(m, n, N)
        mc = (sims <= m).mean()
        assert abs(exact - mc) < 4 * np.sqrt(max(mc * (1 - mc), 1e-4) / len(sims)) + 1e-3


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.integers(30, 200), st.floats(0, 250))
def test_median_rank_pvalue_is_a_probability_and_monotone(n, N, m):
    p = median_rank_pvalue(m, n, N)
    assert 0 <= p <= 1
    assert median_rank_pvalue(m + 5, n, N) >= p - 1e-12


def test_median_rank_pvalue_is_uniform_under_the_null():
    """False-positive rate at alpha = 0.05 stays at or below 5 % (the test is exact, discrete)."""
    rng = np.random.default_rng(7)
    N, n = 300, 9
    ps = [median_rank_pvalue(np.median(rng.choice(N, n, replace=False) + 1), n, N) for _ in range(3000)]
    rate = np.mean(np.array(ps) < 0.05)
    assert rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 3000)
    assert rate > 0.02  # and not absurdly conservative


def test_median_rank_pvalue_detects_a_planted_effect():
    """Leaders drawn from the top fifth: power near 1."""
    rng = np.random.default_rng(8)
    N, n = 504, 9
    ps = [median_rank_pvalue(np.median(rng.choice(N // 5, n, replace=False) + 1), n, N)
          for _ in range(500)]
    assert np.mean(np.array(ps) < 0.05) > 0.95


def test_top_k_hypergeom_known_values():
    # all 3 leaders in the top 3 of 431: 1 / C(431, 3)
    assert top_k_hypergeom(3, 3, 3, 431) == pytest.approx(1 / (431 * 430 * 429 / 6))
    assert top_k_hypergeom(0, 4, 3, 431) == pytest.approx(1.0)


def test_group_comparison_null_and_planted():
    rng = np.random.default_rng(3)
    null_p = [group_comparison(rng.lognormal(size=10), rng.lognormal(size=200), n_boot=50)["p_value"]
              for _ in range(400)]
    assert np.mean(np.array(null_p) < 0.05) < 0.05 + 3 * np.sqrt(0.05 * 0.95 / 400)
    res = group_comparison(rng.lognormal(1.5, size=10), rng.lognormal(size=200), seed=1)
    assert res["p_value"] < 0.01
    lo, hi = res["shift_ci"]
    assert lo <= res["shift"] <= hi and lo > 0
    assert res["rank_biserial"] > 0.5 and "rank_biserial_ci" not in res


def test_rank_biserial_antisymmetric():
    x, y = [1, 5, 9, 2], [3, 4, 8]
    assert rank_biserial(x, y) == pytest.approx(-rank_biserial(y, x))
