import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from socialens.stats import gini, top_share


def test_known_values():
    assert gini([5, 5, 5]) == 0
    assert gini([0, 0, 0, 0, 10]) == 0.8
    assert top_share([1] * 90 + [10] * 10, 0.1) == 100 / 190


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=50))
def test_gini_in_range_and_permutation_invariant(xs):
    g = gini(xs)
    assert 0 <= g < 1 or (sum(xs) == 0 and g == 0)
    assert np.isclose(gini(list(reversed(xs))), g)
    assert np.isclose(gini([2 * x for x in xs]), g)  # scale invariant
