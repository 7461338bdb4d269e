import numpy as np
import pandas as pd
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
    assert r.summary["window"]["gini"] == pytest.approx(gini(w["posts_per_week"]))
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


def _capped_org(folder, rates, cap, seed=0):
    """Accounts posting as Poisson processes at known rates (posts/week) for 3 years, collected
    only back to their last ``cap`` posts (like the Twitter API / twitterreport timelines)."""
    import json

    rng = np.random.default_rng(seed)
    folder.mkdir()
    ids = list(rates)
    (folder / "people.csv").write_text("person_id,name\n" + "".join(f"{p},{p}\n" for p in ids))
    (folder / "roles.csv").write_text("person_id,title,level,start_at\n" + "".join(
        f"{p},{'Boss' if p.startswith('lead') else 'Staff'},{0 if p.startswith('lead') else 2},2010-01-01\n"
        for p in ids))
    (folder / "accounts.csv").write_text("account_id,person_id,created_at\n" + "".join(
        f"twitter:{i},{p},2010-01-01T00:00:00Z\n" for i, p in enumerate(ids)))
    end = np.datetime64("2013-01-01T00:00:00")
    lines = []
    for i, p in enumerate(ids):
        gaps = rng.exponential(7 * 86400 / rates[p], size=cap)  # seconds, backwards from the end
        times = end - np.cumsum(gaps).astype("timedelta64[s]")
        for k, t in enumerate(times):
            lines.append(json.dumps({"post_id": f"twitter:{i}-{k}", "account_id": f"twitter:{i}",
                                     "created_at": str(t) + "Z"}))
    (folder / "posts.jsonl").write_text("\n".join(lines) + "\n")


def test_capped_timelines_use_span_rates(ws, tmp_path):
    rates = {f"lead{i}": 40.0 for i in range(4)} | {f"s{i}": r for i, r in
                                                   enumerate(np.linspace(2, 20, 30))}
    _capped_org(tmp_path / "capped", rates, cap=200)
    ws.ingest(tmp_path / "capped")
    r = activity(ws)
    assert r.summary["window"]["capped_collection"] and r.summary["window"]["rate_method"] == "span"
    est = r.tables["window_rates"].set_index("person_id")["posts_per_week"]
    truth = pd.Series(rates)
    rel = (est / truth[est.index] - 1).abs()
    assert rel.median() < 0.1 and rel.max() < 0.35  # 200 events: ~7 % sampling error
    gc = r.summary["window"]["posts_per_week_leaders_vs_others"]
    assert gc["p_value"] < 0.01 and gc["median_group"] > 30
    # the naive exposure rate would see everyone at about the same rate
    naive = activity(ws, rate="exposure").tables["window_rates"]["posts_per_week"]
    assert naive.max() / naive.min() < 1.2


def test_uncapped_collection_uses_exposure(tiny_ws):
    r = activity(tiny_ws)
    assert r.summary["window"]["rate_method"] == "exposure"
    assert not r.summary["window"]["capped_collection"]


def test_breakdown_by_level(tiny_ws):
    r = activity(tiny_ws, as_of="2009-01-01", snapshot="2009-01-01")
    bl = r.tables["by_level"]
    assert set(bl["measure"]) == {"window", "lifetime"}
    top = bl[(bl["measure"] == "window") & (bl["level"] == 0)].iloc[0]
    assert top["n"] == 2
