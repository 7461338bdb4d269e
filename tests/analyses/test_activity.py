import numpy as np
import pytest

from socialens.analyses import activity
from socialens.stats import gini


def test_window_rates(tiny_ws):
    r = activity(tiny_ws)
    w = r.tables["window_rates"]
    assert w.iloc[0]["person_id"] == "ceo"
    # s4's account has no posts at all: not covered, so not counted as silent
    assert "s4" not in set(w["person_id"])
    assert r.summary["window"]["n_posts"] == 507
    assert r.summary["window"]["gini"] == pytest.approx(gini(w["n_posts"]))
    lo, hi = r.summary["window"]["gini_ci"]
    assert lo <= r.summary["window"]["gini"] <= hi
    # rate = posts / weeks present in the window
    row = w.set_index("person_id").loc["ceo"]
    assert row["posts_per_week"] == pytest.approx(row["n_posts"] / row["weeks_present"])


def test_lifetime_rates_from_counters(tiny_ws):
    r = activity(tiny_ws, as_of="2009-01-01", snapshot="2009-01-01")
    lf = r.tables["lifetime_rates"].set_index("person_id")
    weeks = (np.datetime64("2009-01-01") - np.datetime64("2007-03-01")) / np.timedelta64(7, "D")
    assert lf.loc["ceo", "lifetime_posts_per_week"] == pytest.approx(2000 / weeks)
    assert r.summary["lifetime"]["posts_per_week_leaders_vs_others"]["n_group"] == 2


def test_window_parameters_recorded(tiny_ws):
    r = activity(tiny_ws, window_start="2008-09-01", window_end="2008-10-01T00:00:00Z")
    assert r.params["window_start"].startswith("2008-09-01")
    assert r.summary["window"]["n_posts"] < 507
