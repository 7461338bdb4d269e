import pytest

from socialens.analyses import adoption


def test_adoption_order(tiny_ws):
    r = adoption(tiny_ws, as_of="2009-01-01")
    df = r.tables["adopters"]
    assert list(df["person_id"][:3]) == ["ceo", "coo", "rec"]
    s = r.summary
    assert s["leaders_median_adoption_rank"] == 1.5
    # both leaders in the first two of 7: 1 / C(7, 2)
    assert s["p_value_median_rank"] == pytest.approx(1 / 21)
    assert s["first_adopter"]["name"] == "Tony H"
    assert s["days_after_first_leaders_vs_others"]["rank_biserial"] == pytest.approx(-1.0)
    curves = r.tables["curves"]
    # the leaders are exactly level 0: one series named so, not two identical lines (the second
    # one hid the first, leaving a legend entry nobody could see)
    assert set(curves["group"]) == {"level 0 (the leaders)", "level 1", "level 2"}
    assert curves.groupby("group")["cumulative_share"].max()["level 0 (the leaders)"] == 1.0
    assert r.params["as_of"].startswith("2009-01-01")


def test_adoption_is_censored_at_as_of(tiny_ws):
    r = adoption(tiny_ws, as_of="2007-12-31")
    assert r.summary["n_adopted"] == 3


def test_leaders_across_levels_get_their_own_dashed_series(tiny_ws):
    r = adoption(tiny_ws, as_of="2009-01-01", leaders="level<=1")
    curves = r.tables["curves"]
    assert set(curves["group"]) == {"level 0", "level 1", "level 2", "leaders"}
    spec = r.figures["adoption_curves"].to_dict()
    assert spec["encoding"]["strokeDash"]["condition"]["value"] == [6, 3]


MIXED = {
    "people.csv": "person_id,name,department,opt_in\nboss,Boss B,X,true\namy,Amy A,X,true\n"
                  "bo,Bo B,X,true\ncy,Cy C,X,true",
    "roles.csv": "person_id,title,level,is_leader,start_at\nboss,CEO,0,true,2000-01-01\n"
                 "amy,Staff,1,false,2000-01-01\nbo,Staff,1,false,2000-01-01\n"
                 "cy,Staff,1,false,2000-01-01",
    # the boss's account has no creation date; her first post (2009) is later than everyone's
    # account creation but earlier than their first posts
    "accounts.csv": "account_id,person_id,platform,handle,kind,created_at\n"
                    "x:1,boss,x,boss,personal,\nx:2,amy,x,amy,personal,2008-01-01T00:00:00Z\n"
                    "x:3,bo,x,bo,personal,2008-02-01T00:00:00Z\n"
                    "x:4,cy,x,cy,personal,2008-03-01T00:00:00Z",
    "posts.jsonl": "\n".join(
        f'{{"post_id": "x:{10 + i}", "account_id": "x:{i}", "created_at": "{when}", "text": "hi"}}'
        for i, when in [(1, "2009-01-01T00:00:00Z"), (2, "2010-01-01T00:00:00Z"),
                        (3, "2010-02-01T00:00:00Z"), (4, "2010-03-01T00:00:00Z")]),
}


def _write(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text.strip() + "\n", encoding="utf-8")
    return folder


def test_creation_dates_and_first_posts_are_never_ranked_together(ws, tmp_path):
    """The boss's 2009 first post was ranked among 2008 creation dates (last of 4); by either
    source alone she is either not ranked or first."""
    ws.ingest(_write(tmp_path / "org", MIXED))
    r = adoption(ws, as_of="2011-01-01")
    s = r.summary
    assert s["adoption_date_source"] == "account_created"
    assert set(r.tables["adopters"]["adoption_source"]) == {"account_created"}
    assert s["n_adopted"] == 3 and s["n_not_ranked_no_date"] == 1
    assert s["n_leaders_adopted"] == 0 and "primary" not in s
    assert "by account creation" in r.headline
    r = adoption(ws, as_of="2011-01-01", date_source="first_post")
    assert r.summary["leaders_adoption_ranks"] == [1.0]
    assert r.summary["primary"]["date_source"] == "first_post"
    assert r.summary["min_p_value_median_rank"] == pytest.approx(0.25)
