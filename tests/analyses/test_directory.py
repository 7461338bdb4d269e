import pytest

from socialens.analyses import directory
from socialens.errors import AnalysisError


def test_ranking_on_the_tiny_org(tiny_ws):
    r = directory(tiny_ws)
    df = r.tables["ranking"]
    assert list(df["person_id"][:4]) == ["ceo", "s2", "coo", "rec"]
    assert list(df["rank"]) == list(range(1, 8))
    s = r.summary
    assert s["n_members"] == 8 and s["n_listed"] == 7  # s5 has no account
    assert s["leaders_median_follower_rank"] == 2.0
    # exact: P(median of 2 random ranks of 7 <= 2) = P(pair in {1,2},{1,3}) = 2/21
    assert s["p_value_median_rank"] == pytest.approx(2 / 21)
    assert r.params["snapshot"].startswith("2009-01-01")
    assert "leaders' median follower rank is 2" in r.headline
    # the official account is not a person and is not ranked
    assert "twitter:100" not in set(df["account_id"])


def test_snapshot_parameter_and_tolerance(tiny_ws):
    r = directory(tiny_ws, snapshot="2008-07-01")
    assert r.summary["n_listed"] == 1  # only the CEO was observed in June 2008
    with pytest.raises(AnalysisError, match="no account snapshot"):
        directory(tiny_ws, snapshot="2001-01-01")


def test_leader_rules(tiny_ws):
    r = directory(tiny_ws, leaders="level<=1")
    assert r.summary["n_leaders_listed"] == 3
    r = directory(tiny_ws, leaders="ids:rec")
    assert [x["name"] for x in r.summary["leaders"]] == ["Rachel R"]
    with pytest.raises(AnalysisError, match="not understood"):
        directory(tiny_ws, leaders="bosses")


def test_as_of_reads_roles_at_that_time(tiny_ws):
    # s5 left between 2008-06-01 and 2008-09-01
    r = directory(tiny_ws, as_of="2008-07-01")
    assert r.summary["n_members"] == 7


def test_empty_workspace_is_a_clear_error(ws):
    with pytest.raises(AnalysisError, match="no account snapshots"):
        directory(ws)


def test_median_rank_has_a_bootstrap_interval(tiny_ws):
    s = directory(tiny_ws).summary
    lo, hi = s["leaders_median_follower_rank_ci"]
    assert lo <= s["leaders_median_follower_rank"] <= hi
    assert 1 <= lo and hi <= s["n_listed"]
