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
