"""The interface other analyses build on: first_use, exposure_ties, leader_ids, exposure_counts."""

from __future__ import annotations

import pandas as pd
import pytest

from socialens.behaviours import (
    BehaviourError,
    exposure_counts,
    exposure_ties,
    first_use,
    leader_ids,
)


def ts(day: int, hour: int = 10) -> pd.Timestamp:
    return pd.Timestamp(f"2020-01-{day:02d}T{hour:02d}:00:00Z")


def rows(expr, cols=None):
    df = expr.execute()
    cols = cols or list(df.columns)
    return sorted(tuple(r) for r in df[cols].itertuples(index=False))


def test_first_use_hashtag_counts_record_posts_of_persons(org):
    got = rows(first_use(org, "hashtag:#DEAL"))
    # cfo's 2019 #deal is an embedded copy: not a record, so not cfo's behaviour
    assert got == [("ann", "hashtag:#deal", ts(2)), ("bob", "hashtag:#deal", ts(3)),
                   ("ceo", "hashtag:#deal", ts(1))]
    t = first_use(org, "hashtag:#deal").schema()
    assert [str(t[c]) for c in ("person_id", "behaviour")] == ["string", "string"]
    assert t["at"].is_timestamp()


def test_first_use_window_and_top_hashtags(org):
    got = rows(first_use(org, "top-hashtags:1", window_start="2020-01-02"))
    assert got == [("ann", "hashtag:#deal", ts(2)), ("bob", "hashtag:#deal", ts(3))]
    assert rows(first_use(org, "top-hashtags:5", window_end="2020-01-03")) == [
        ("ann", "hashtag:#deal", ts(2)), ("ceo", "hashtag:#deal", ts(1))]


def test_first_use_platform_topic(org):
    plat = dict((p, at) for p, _, at in rows(first_use(org, "platform")))
    assert plat["ceo"] == pd.Timestamp("2019-06-01T00:00:00Z")  # account created
    assert plat["ann"] == ts(2)                                   # first record post
    assert "cfo" not in plat                                      # only an embedded post
    assert rows(first_use(org, "topic:tax=tax cut")) == [("bob", "topic:tax", ts(3))]
    assert rows(first_use(org, "topic:t=/ta[x]\\s+cut/")) == [("bob", "topic:t", ts(3))]


def test_first_use_feature_behaviour_without_features_says_enrich(org):
    with pytest.raises(BehaviourError, match="socialens enrich"):
        first_use(org, "tone:negative")


def test_exposure_ties_direction_and_start(org):
    got = exposure_ties(org, ["follows", "reply", "mention"]).execute()
    # the follower is exposed to whom they follow; the official account is nobody's person
    assert rows(exposure_ties(org, ["follows"]), ["person_id", "source_person_id"]) == [
        ("ann", "ceo"), ("bob", "ann"), ("bob", "ceo"), ("cat", "bob")]
    # follows are held from the start; ann -> ceo is a follow and a later reply: from the start
    assert len(got) == 4 and got.start_at.isna().all()
    timed = rows(exposure_ties(org, ["reply", "mention"]))
    assert timed == [("ann", "ceo", ts(2)), ("cat", "bob", ts(5))]
    assert rows(exposure_ties(org, ["mention"], before="2020-01-05")) == []
    mgr = rows(exposure_ties(org, "manager"), ["person_id", "source_person_id"])
    assert mgr == [("ann", "ceo"), ("bob", "ann"), ("cat", "ann"), ("cfo", "ceo")]
    # every leader above in the reporting chain (bob and cat report to ann, who reports to ceo)
    above = rows(exposure_ties(org, "leaders_above", leaders={"ceo", "cfo"}),
                 ["person_id", "source_person_id"])
    assert above == [("ann", "ceo"), ("bob", "ceo"), ("cat", "ceo"), ("cfo", "ceo")]
    above_ann = rows(exposure_ties(org, "leaders_above", leaders={"ann"}),
                     ["person_id", "source_person_id"])
    assert above_ann == [("bob", "ann"), ("cat", "ann")]
    both = rows(exposure_ties(org, ["manager", "leaders_above"], leaders={"ceo"}),
                ["person_id", "source_person_id"])
    assert both == [("ann", "ceo"), ("bob", "ann"), ("bob", "ceo"), ("cat", "ann"),
                    ("cat", "ceo"), ("cfo", "ceo")]
    with pytest.raises(BehaviourError, match="needs the leaders"):
        exposure_ties(org, ["leaders_above"])
    with pytest.raises(BehaviourError, match="follows,reply,mention"):
        exposure_ties(org, ["likes"])


def test_leader_ids(org):
    assert leader_ids(org) == {"ceo", "cfo"}
    assert leader_ids(org, "level<=0") == {"ceo"}


def test_exposure_counts_leaders_and_peers_before_adoption(org):
    uses = first_use(org, "hashtag:#deal")
    ties = exposure_ties(org, ["follows"])
    got = exposure_counts(uses, ties, {"ceo", "cfo"}, end="2020-02-01").execute()
    got = got.set_index("person_id").sort_index()
    # ann follows the ceo (adopted day 1) and adopted day 2: one leader
    assert got.loc["ann", ["n_leaders", "n_peers"]].tolist() == [1, 0]
    # bob follows ceo and ann, both before his day 3
    assert got.loc["bob", ["n_leaders", "n_peers"]].tolist() == [1, 1]
    assert got.loc["bob", "first_peer_at"] == ts(2)
    # cat follows bob, never adopted: exposed to one peer by the end
    assert pd.isna(got.loc["cat", "adopted_at"]) and got.loc["cat", "n_peers"] == 1
    # the ceo adopted first: no exposure
    assert got.loc["ceo", ["n_leaders", "n_peers"]].tolist() == [0, 0]
    # a lag of two days: ann's exposure to the ceo (day 1 + 2 > day 2) no longer counts
    lag = exposure_counts(uses, ties, {"ceo"}, lag_days=2).execute().set_index("person_id")
    assert lag.loc["ann", "n_leaders"] == 0 and lag.loc["bob", "n_leaders"] == 0
    # decay: bob saw ann's use 1 day before his own, half-life 1 day
    dec = exposure_counts(uses, ties, {"ceo"}, decay_days=1).execute().set_index("person_id")
    assert dec.loc["bob", "w_peers"] == pytest.approx(0.5)
    assert dec.loc["bob", "w_leaders"] == pytest.approx(0.25)
