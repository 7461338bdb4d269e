import pandas as pd
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


def test_median_rank_is_stated_with_the_ranks_and_the_smallest_attainable_p(tiny_ws):
    """The leaders are the population: their ranks are listed, no bootstrap interval of their
    median rank (it covered 79-89 % with 3-5 leaders), and 2 leaders of 7 can at best give 1/21."""
    s = directory(tiny_ws).summary
    assert "leaders_median_follower_rank_ci" not in s
    assert s["leaders_follower_ranks"] == [1.0, 3.0]
    assert s["min_p_value_median_rank"] == pytest.approx(1 / 21)
    assert s["primary"]["p_value"] == s["p_value_median_rank"] and s["primary"]["better"]
    # 2 leaders: no distribution-free 95 % interval of their median follower count exists
    assert s["leaders_median_followers_interval"]["ci"] is None
    assert s["followers_leaders_vs_others"]["shift_ci"] == [None, None]


LEAD = {"a", "f"}
TIES = {
    "people.csv": "person_id,name,department,opt_in\n" + "\n".join(
        f"{p},{p.upper()},D,true" for p in ("a", "b", "c", "d", "e", "f")),
    "roles.csv": "person_id,title,level,is_leader,start_at\n" + "\n".join(
        f"{p},{'Boss' if p in LEAD else 'Staff'},{0 if p in LEAD else 2},{str(p in LEAD).lower()},"
        "2000-01-01" for p in ("a", "b", "c", "d", "e", "f")),
    "accounts.csv": "account_id,person_id,platform,handle,kind,created_at\n" + "\n".join(
        f"x:{i},{p},x,{p},personal,2008-01-0{i}T00:00:00Z"
        for i, p in enumerate(("a", "b", "c", "d", "e", "f"), start=1)),
    # everyone has 10 followers: nobody is ranked above anyone
    "snapshots.csv": "account_id,observed_at,followers,following,posts_count\n" + "\n".join(
        f"x:{i},2010-01-01T00:00:00Z,10,1,1" for i in range(1, 7)),
}


def test_ties_share_their_mid_rank_whatever_the_ids(ws, tmp_path):
    """Ties were broken by person id: leaders 'a' ranked first among equals (a direction
    whenever ids correlate with roles). All tied: every mid-rank is 3.5 and p = 1."""
    ws.ingest(_write(tmp_path / "org", TIES))
    r = directory(ws)
    assert set(r.tables["ranking"]["mid_rank"]) == {3.5}
    assert r.summary["leaders_follower_ranks"] == [3.5, 3.5]
    assert r.summary["p_value_median_rank"] == pytest.approx(1.0)
    top4 = r.summary["top_k"][0]  # mid-rank 3.5 <= 4: the top 4 of an all-way tie is everyone
    assert (top4["size"], top4["p_value"]) == (6, pytest.approx(1.0))


def _write(folder, files: dict[str, str]):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text.strip() + "\n", encoding="utf-8")
    return folder


TWO_ACCOUNTS = {
    "people.csv": """
person_id,name,department,opt_in
ann,Ann A,Exec,true
bob,Bob B,Sales,true
""",
    "roles.csv": """
person_id,title,level,is_leader,start_at
ann,CEO,0,true,2000-01-01
bob,Staff,2,false,2000-01-01
""",
    # Ann's most-followed account has no collected posts and no posts counter; her other one has
    # both: groupby().first() took the first non-null value of each column, mixing the two.
    "accounts.csv": """
account_id,person_id,platform,handle,kind,created_at
x:1,ann,x,ann_big,personal,2008-01-01T00:00:00Z
x:2,ann,x,ann_small,personal,2009-01-01T00:00:00Z
x:3,bob,x,bob,personal,2009-06-01T00:00:00Z
x:4,bob,x,bob_later,personal,2010-02-01T00:00:00Z
""",
    "snapshots.csv": """
account_id,observed_at,followers,following,posts_count
x:1,2010-01-01T00:00:00Z,900,10,
x:2,2010-01-01T00:00:00Z,50,5,700
x:3,2010-01-01T00:00:00Z,80,8,300
x:4,2010-01-01T00:00:00Z,5000,8,300
""",
    "posts.jsonl": """
{"post_id": "x:10", "account_id": "x:2", "created_at": "2009-12-01T00:00:00Z", "text": "hi"}
{"post_id": "x:11", "account_id": "x:2", "created_at": "2009-12-02T00:00:00Z", "text": "hi again"}
""",
}


def test_one_row_is_one_account(ws, tmp_path):
    ws.ingest(_write(tmp_path / "org", TWO_ACCOUNTS))
    df = directory(ws).tables["ranking"].set_index("person_id")
    ann = df.loc["ann"]
    assert (ann["account_id"], ann["handle"], ann["followers"]) == ("x:1", "ann_big", 900)
    # every number is x:1's: no posts collected and no counter are unknown, not x:2's values
    assert pd.isna(ann["n_posts"]) and pd.isna(ann["last_post_at"]) and pd.isna(ann["posts_count"])
    assert ann["n_accounts"] == 2
    # x:4 was "created" after the snapshot that observed it: not shown, Bob is x:3
    assert df.loc["bob", "account_id"] == "x:3" and df.loc["bob", "n_accounts"] == 1


def test_ties_go_to_the_posts_counter_then_the_account_id():
    from socialens.analyses.directory import representative_accounts

    acc = pd.DataFrame({"person_id": ["p"] * 3, "account_id": ["x:3", "x:2", "x:1"],
                        "followers": [10, 10, 10], "posts_count": [5, 7, 7],
                        "n_posts": [1, 1, 1]})
    assert list(representative_accounts(acc)["account_id"]) == ["x:1"]
    acc["posts_count"] = [9, 7, 7]
    assert list(representative_accounts(acc)["account_id"]) == ["x:3"]


def test_a_misspelled_parameter_raises():
    with pytest.raises(TypeError, match=r"'leader' \(did you mean 'leaders'\?\).*as_of"):
        directory(None, leader="ids:x")


def test_the_handle_is_the_one_of_the_snapshot_date(ws, tmp_path):
    """A 2017 directory showed handles first used later (@VP, @SpeakerPelosi)."""
    files = dict(TWO_ACCOUNTS)
    files["accounts.csv"] = """
account_id,person_id,platform,handle,kind,created_at,handle_history
x:1,ann,x,ann_later,personal,2008-01-01T00:00:00Z,2009-06-01=ann_then;2011-01-01=ann_later
x:2,ann,x,ann_small,personal,2009-01-01T00:00:00Z,
x:3,bob,x,bob_new,personal,2009-06-01T00:00:00Z,2012-05-01=bob_new
"""
    ws.ingest(_write(tmp_path / "org", files))
    df = directory(ws).tables["ranking"].set_index("person_id")
    assert df.loc["ann", "handle"] == "ann_then"
    assert pd.isna(df.loc["bob", "handle"])  # only observed later: unknown in 2010, not bob_new


def test_representative_accounts_is_the_multi_key_sort():
    """The lexsort of codes picks, per person, the row pandas' multi-key sort puts first
    (followers, then posts counter, then collected posts, unknown last, then account id)."""
    import numpy as np
    import pandas as pd

    from socialens.analyses.directory import representative_accounts

    rng = np.random.default_rng(7)
    n = 3000
    acc = pd.DataFrame({
        "person_id": [f"p{i}" for i in rng.integers(0, 900, n)],
        "account_id": [f"x:{i}" for i in rng.permutation(n)],
        "followers": rng.choice([0, 1, 2, np.nan], n),
        "posts_count": rng.choice([5, None, 7], n),
        "n_posts": pd.array(rng.choice([1, 2, 3], n)).astype("Int64"),
        "last_post_at": None,
    })
    acc.loc[::7, "n_posts"] = pd.NA
    keys = pd.DataFrame({c: pd.to_numeric(acc[c], errors="coerce").fillna(-1)
                         for c in ("followers", "posts_count", "n_posts")})
    keys["person_id"], keys["account_id"] = acc["person_id"], acc["account_id"]
    order = keys.sort_values(["person_id", "followers", "posts_count", "n_posts", "account_id"],
                             ascending=[True, False, False, False, True], kind="mergesort").index
    expected = acc.loc[order].drop_duplicates("person_id", keep="first").reset_index(drop=True)
    pd.testing.assert_frame_equal(representative_accounts(acc), expected)
    assert representative_accounts(acc.iloc[:0]).empty
