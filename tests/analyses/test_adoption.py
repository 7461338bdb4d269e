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
    assert curves.groupby("group")["cumulative_share"].max()["leaders"] == 1.0
    assert r.params["as_of"].startswith("2009-01-01")


def test_adoption_is_censored_at_as_of(tiny_ws):
    r = adoption(tiny_ws, as_of="2007-12-31")
    assert r.summary["n_adopted"] == 3
