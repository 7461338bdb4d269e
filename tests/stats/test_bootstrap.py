"""Ratio-of-sums by group with a people-resampling bootstrap."""

import numpy as np
import pandas as pd

from socialens.stats.bootstrap import group_ratios, percentile_interval


def test_ratios_by_hand_and_intervals_bracket_them():
    pp = pd.DataFrame({"person_id": ["a", "b", "c", "d"], "n_posts": [2, 8, 5, 0],
                       "s": [1.0, 2.0, 4.0, 0.0], "u": [2.0, 0.0, 1.0, 0.0]})
    groups = pd.Series({"a": "x", "b": "x", "c": "y", "d": "y"})
    t = group_ratios(pp, groups, {"ss": "s", "uu": "u"}, n_boot=500, seed=1).set_index("group")
    assert t.loc["x", "ss"] == 3.0 / 10 and t.loc["x", "uu"] == 2.0 / 10
    assert (t.loc["y", "n_people"], t.loc["y", "n_posts"]) == (1, 5)   # d has no posts
    assert t.loc["x", "ss_ci_low"] <= t.loc["x", "ss"] <= t.loc["x", "ss_ci_high"]
    again = group_ratios(pp, groups, {"ss": "s", "uu": "u"}, n_boot=500, seed=1)
    assert again.set_index("group").equals(t)                         # seeded


def test_percentile_interval_needs_two_finite_values():
    assert percentile_interval(np.array([np.nan, 1.0]), 0.95) == (None, None)
    assert np.allclose(percentile_interval(np.arange(101.0), 0.9), (5.0, 95.0))
