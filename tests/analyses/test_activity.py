import numpy as np
import pandas as pd
import pytest

from socialens.analyses import activity
from socialens.stats import gini
from tests.conftest import SHARED_DATA


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
    assert r.summary["lifetime"]["rate_ratio_leaders_vs_others"]["n_group"] == 2


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
    assert r.summary["window"]["capped_collection"] and r.summary["window"]["rate_method"] == "capped"
    est = r.tables["window_rates"].set_index("person_id")["posts_per_week"]
    truth = pd.Series(rates)
    rel = (est / truth[est.index] - 1).abs()
    assert rel.median() < 0.1 and rel.max() < 0.35  # 200 events: ~7 % sampling error
    gc = r.summary["window"]["rate_ratio_leaders_vs_others"]
    assert gc["p_value"] < 0.01 and gc["median_group"] > 30 and gc["permutation"]["p_value"] < 0.01
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


def test_dormant_capped_account_observed_to_collection_time(ws, tmp_path):
    """A capped timeline is observed from its oldest collected post to when it was collected,
    not to its last post: an account silent for its last year gets the rate of the whole span."""
    rates = {f"lead{i}": 40.0 for i in range(4)} | {f"s{i}": r for i, r in
                                                   enumerate(np.linspace(2, 20, 30))}
    _capped_org(tmp_path / "capped", rates, cap=200)
    # s0 (2 posts/week) went silent a year before the collection: shift its posts back 52 weeks
    import json

    path = tmp_path / "capped" / "posts.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row in rows:
        if row["account_id"] == "twitter:4":  # s0
            row["created_at"] = str(np.datetime64(row["created_at"][:-1]) - np.timedelta64(364, "D")) + "Z"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ws.ingest(tmp_path / "capped")
    r = activity(ws)
    w = r.tables["window_rates"].set_index("person_id")
    s0 = [x for x in rows if x["account_id"] == "twitter:4"]
    first = min(np.datetime64(x["created_at"][:-1]) for x in s0)
    newest = max(np.datetime64(x["created_at"][:-1]) for x in rows)  # the file's newest post
    weeks = (newest - first) / np.timedelta64(7, "D")
    assert w.loc["s0", "posts_per_week"] == pytest.approx(200 / weeks, rel=1e-6)
    # the old span rate (199 / (last - first)) gave its active past's rate: ~2/week, not ~1.3
    assert w.loc["s0", "posts_per_week"] < 0.75 * 2.0
    assert r.summary["window"]["collection_time_rule"].startswith("the latest snapshot")


def test_collection_time_from_the_timeline_page_stamp(ws, tmp_path):
    """Counters read off a stamped timeline page date its collection (same ingest run)."""
    import json

    from socialens.analyses.activity import collection_times

    user = {"id_str": "1001", "screen_name": "ada", "name": "Ada", "followers_count": 5,
            "friends_count": 1, "statuses_count": 3, "created_at": "Tue Apr 21 00:00:00 +0000 2009"}
    page = {"statuses": [{"id_str": f"8{i}", "created_at": f"Mon Jul {10 + i} 12:00:00 +0000 2017",
                          "text": "t", "user": user} for i in range(3)],
            "__twarc": {"url": "https://api.twitter.com/1.1/search/tweets.json",
                        "retrieved_at": "2017-09-01T09:30:00+00:00", "version": "1.12.1"}}
    (tmp_path / "pages.jsonl").write_text(json.dumps(page) + "\n")
    ws.ingest(tmp_path / "pages.jsonl")
    t = collection_times(ws)
    assert str(t["twitter:1001"]) == "2017-09-01 09:30:00+00:00"


def test_rate_ratio_model_rule_and_permutation():
    from socialens.analyses.activity import rate_ratio

    # Poisson-like counts: no overdispersion -> Poisson, the estimate is the pooled ratio
    r = rate_ratio([30, 28, 33, 10, 9, 12, 11, 10, 8], [10] * 9, [1, 1, 1, 0, 0, 0, 0, 0, 0])
    assert r["model"] == "poisson" and r["alpha"] == 0
    assert r["estimate"] == pytest.approx((91 / 30) / (60 / 60))
    assert r["permutation"]["exact"] and r["permutation"]["p_value"] == pytest.approx(1 / 84)
    # heterogeneous rates -> NB2 with the Pearson moment alpha: Σ (y-μ)²/(μ(1+αμ)) = n - 2
    rng = np.random.default_rng(1)
    e = rng.uniform(10, 50, 40)
    y = rng.poisson(np.exp(rng.standard_normal(40)) * e)
    g = np.arange(40) < 5
    r = rate_ratio(y, e, g, n_permutations=999, seed=2)
    assert r["model"] == "negative_binomial" and r["alpha"] > 0.3
    from socialens.analyses.activity import _group_means

    mu = _group_means(y.astype(float), e, g, r["alpha"])
    assert ((y - mu) ** 2 / (mu * (1 + r["alpha"] * mu))).sum() == pytest.approx(38, rel=1e-4)
    assert r["ci"][0] < r["estimate"] < r["ci"][1]
    assert not r["permutation"]["exact"] and r["permutation"]["n_permutations"] == 999
    # no leader posted: no finite ratio, the permutation test still answers
    r = rate_ratio([0, 0, 3, 4, 5], [1] * 5, [1, 1, 0, 0, 0])
    assert r["estimate"] is None and r["permutation"]["p_value"] == 1.0


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "congresstweets_accounts").exists(), reason="no shared data")
def test_embedded_latest_statuses_neither_cover_nor_stretch_the_window(ws):
    """Real data: the demo's Senate timelines (2012-08 → 2015-07, records) plus the 2017
    list-members page, whose 1,057 users' embedded "latest status" posts run from 2009 to 2017.
    Before posts.collected_as was used, the default window ran 2009-07-14 → 2017-08-09, 535
    people were "covered" (every House member by one embedded post) and leaders and others both
    posted a median 0.01 posts/week (0.00 even in the Senate window); counting records only,
    the Senate's leaders and others post about 18-22 vs 9-10 posts/week."""
    from socialens.datasets.demo import dataset_dir

    ws.ingest(dataset_dir())
    ws.ingest(SHARED_DATA / "congresstweets_accounts" / "list-members-2017.json.gz")
    assert ws.sql("SELECT count(*) n FROM posts WHERE collected_as = 'embedded'").n[0] == 1057
    r = activity(ws, platform="twitter")
    first, last = ws.con.execute("SELECT min(created_at), max(created_at) FROM posts "
                                 "WHERE collected_as = 'record'").fetchone()
    assert r.params["window_start"] == first.isoformat()  # 2012-08-06, not 2009-07-14
    assert r.params["window_end"] == last.isoformat()  # 2015-07-17, not 2017-08-09
    s = r.summary["window"]
    assert s["rate_method"] == "capped"
    # covered = people with a record post: the Senate's ~100 accounts, not every House member
    covered = set(ws.sql("""SELECT DISTINCT a.person_id FROM accounts a JOIN posts p USING
        (account_id) WHERE p.collected_as = 'record' AND a.kind = 'personal'""").person_id)
    people = set(r.tables["window_rates"]["person_id"])
    assert people <= covered and 50 < s["n_people"] <= 110
    rr = s["rate_ratio_leaders_vs_others"]
    assert rr["rate_group"] > 5 and rr["rate_others"] > 5  # posts/week; was 0.01 for both
    explicit = activity(ws, platform="twitter", window_start=first, window_end=last)
    assert explicit.summary["window"]["rate_ratio_leaders_vs_others"]["rate_group"] == \
        pytest.approx(rr["rate_group"])


@pytest.mark.parametrize("n, k", [(12, 3), (6, 3), (40, 1)])
def test_random_subsets_are_uniform_over_k_subsets(n, k):
    """Both samplers (rows drawn again while they repeat an index, k² ≤ n; a random permutation's
    first k otherwise) give every k-subset the same probability."""
    from math import comb

    from scipy import stats as sps

    from socialens.analyses.activity import random_subsets

    rows = random_subsets(np.random.default_rng(7), n, k, 300 * comb(n, k))
    assert rows.shape == (300 * comb(n, k), k)
    assert all(len(set(r)) == k for r in rows[:5000])
    keys = np.sort(rows, axis=1) @ (n ** np.arange(k))
    _, counts = np.unique(keys, return_counts=True)
    assert len(counts) == comb(n, k)
    assert sps.chisquare(counts).pvalue > 1e-3


def test_the_permutation_test_of_a_few_leaders_among_many_draws_small_subsets():
    """200,000 people, 30 leaders: the test draws 30-subsets, not 200,000-permutations, and its
    p-value is that of the exchangeable null (a planted ratio of 1.5 is found, none is not)."""
    rng = np.random.default_rng(3)
    n, k = 200_000, 30
    e = rng.uniform(10, 50, n)
    g = np.zeros(n, bool)
    g[:k] = True
    y = rng.poisson(e * np.where(g, 1.5, 1.0))
    from socialens.analyses.activity import rate_ratio

    r = rate_ratio(y, e, g, n_permutations=9999, seed=1)
    assert r["permutation"]["n_permutations"] == 9999 and not r["permutation"]["exact"]
    assert r["permutation"]["p_value"] < 0.001
    y0 = rng.poisson(e)
    p0 = rate_ratio(y0, e, g, n_permutations=999, seed=1)["permutation"]["p_value"]
    assert 0.001 < p0 <= 1


def test_week_index_is_the_iso_week_partition():
    """week_index numbers the same weeks truncate("W") does (Monday 00:00 UTC), at the
    boundaries, to the microsecond, before 1970 and for a leap day."""
    import ibis
    import pandas as pd

    from socialens.analyses.common import week_index

    times = pd.to_datetime([
        "2024-01-01 00:00:00", "2023-12-31 23:59:59.999999", "2024-01-07 23:59:59.999999",
        "2024-01-08 00:00:00", "2024-02-29 12:00:00", "1970-01-01 00:00:00",
        "1969-12-28 23:59:59.999999", "1969-12-29 00:00:00", "1955-06-15 08:30:00",
        "2038-01-19 03:14:08", "2017-11-06 00:00:00.000001"], utc=True, format="ISO8601")
    t = ibis.memtable(pd.DataFrame({"t": times}))
    got = t.select(k=week_index(t.t), w=t.t.truncate("W")).execute()
    assert got.groupby("k")["w"].nunique().eq(1).all()  # one week per number
    assert got.groupby("w")["k"].nunique().eq(1).all()  # one number per week
    assert got["k"].nunique() == 9
