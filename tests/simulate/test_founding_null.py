"""The founding-null preset: leaders exchangeable with everyone else for first / most active /
most followed; and the activity calibration's quick version through the product."""

import numpy as np
import pytest

from socialens.simulate import make_config, simulate


def test_founding_null_switches_off_every_leader_difference(tmp_path):
    c = make_config("founding-null")
    assert (c.leader_baseline_hr, c.adopted_at_start_leaders, c.leader_rate_multiplier) == (1, 0, 1)
    assert set(c.external_followers_level_boost) == {1.0} and c.reply_to_leader_boost == 1
    assert c.p_follow_manager == c.p_follow_department_head == c.p_follow_ceo == 0
    r = simulate(people=400, seed=3, preset="founding-null", files=tmp_path)
    ties = r.truth("ties")
    assert set(ties["kind"]) == {"peer"}
    people = r.truth("people")
    assert people["adoption_cause"].isin(["baseline", None]).all()  # no seeds, no influence
    # posting rates: leaders drawn from the same log-normal (no multiplier)
    lead = people["is_leader"].to_numpy()
    z = (np.log(people["post_rate"]) - np.log(c.post_rate_median)) / c.post_rate_sigma
    assert abs(z[lead].mean()) < 3 / np.sqrt(lead.sum())
    # in-degree of the CEO is like anyone's: peer ties are not department-bound
    indeg = ties.groupby("dst_person_id").size().reindex(people["person_id"], fill_value=0)
    assert indeg.iloc[0] > np.percentile(indeg, 1)


def test_null_preset_is_not_a_founding_null():
    c = make_config("null")
    assert c.leader_baseline_hr > 1 and c.leader_rate_multiplier > 1
    assert "founding-null" in c.description


@pytest.mark.slow
def test_activity_calibration_quick():
    """The activity calibration through the product, a few seeds (the full one is
    ``python -m eval.calibration_activity``; EVALUATION.md)."""
    from eval.calibration_activity import run

    res = run(seeds=2, leader_counts=(5,), quick=True, workers=1)
    cov = res["coverage"]["activity_rate_ratio"]
    assert set(cov) == {"null", "effect"} and 0 <= cov["null"]["5"] <= 1
    assert set(res["rejection_rate"]) == {"activity_rate_ratio", "activity_permutation"}
    d = res["activity_details"]
    assert d["null_5"]["n_with_interval"] == 2 and d["effect_5"]["planted"] == 2.0
    assert d["effect_5"]["geometric_mean_estimate"] > d["null_5"]["geometric_mean_estimate"]
