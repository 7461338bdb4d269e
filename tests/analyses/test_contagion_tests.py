"""contagion_tests on a small simulated organization (platform and hashtags, reporting lines)."""

from __future__ import annotations

import numpy as np
import pytest

from socialens.analyses.contagion_tests import contagion_tests
from socialens.analyses.signature import ParameterError
from socialens.errors import AnalysisError

pytestmark = pytest.mark.slow  # one simulated organization (about 8 s), then 1–7 s per test


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    import socialens
    from socialens.workspace import Workspace

    d = tmp_path_factory.mktemp("ct")
    socialens.simulate(people=250, seed=21, preset="strong-leaders", out=d / "w.duckdb",
                       n_campaigns=2, post_rate_median=0.004, p_follow_ceo=1.0,
                       p_follow_department_head=1.0, adopted_at_start_leaders=0)
    w = Workspace(d / "w.duckdb", read_only=True)
    yield w
    w.close()


@pytest.mark.slow
def test_hazard_ratios_tests_and_headline(ws):
    r = contagion_tests(ws, behaviours=["platform"], exposure=("manager",),
                        n_permutations=19, seed=3)
    t = r.tables["influence_tests"]
    assert t.behaviour.tolist() == ["platform"]
    row = t.iloc[0]
    assert row.n_at_risk > 200 and row.n_adopted > 50
    lo, hi = row.hr_leader_ci
    assert lo < row.hr_leader < hi
    assert 0 < row.p_shuffle_leader <= 1 and row.q_shuffle_leader == row.p_shuffle_leader
    # the verdict is the leader-permutation test (p on the grid 1/20 … 1), not the shuffle test
    assert row.q_leader == row.p_leader and round(row.p_leader * 20, 9) % 1 == 0
    assert r.headline.startswith("Members were ")
    assert "times as likely to start platform" in r.headline
    assert "permutation test" in r.headline and "shuffle" not in r.headline
    assert any("not influence" in n and "no influence verdict" in n for n in r.notes)
    assert r.params["n_permutations"] == 19 and r.params["exposure"] == ["manager"]
    # reproducible with the seed
    r2 = contagion_tests(ws, behaviours=["platform"], exposure=("manager",),
                         n_permutations=19, seed=3)
    assert np.allclose(r2.tables["influence_tests"].p_shuffle_leader, t.p_shuffle_leader)
    assert r2.tables["influence_tests"].p_leader.iloc[0] == row.p_leader


def test_platform_with_follows_warns_about_the_unobservable_network(ws):
    r = contagion_tests(ws, behaviours=["platform"], exposure=("follows",), n_permutations=5)
    assert any("inflated" in n for n in r.notes)


def test_bad_parameters_say_what_to_do(ws):
    with pytest.raises(ParameterError, match="did you mean 'controls'"):
        contagion_tests(ws, control=("level",))
    with pytest.raises(AnalysisError, match="choose from level, department"):
        contagion_tests(ws, behaviours=["platform"], controls=("tenure",))


def test_department_control_uses_the_discrete_hazard_model_and_its_interval(ws):
    r = contagion_tests(ws, behaviours=["platform"], exposure=("manager",),
                        controls=("department",), n_permutations=9, seed=1)
    row = r.tables["influence_tests"].iloc[0]
    lo, hi = row.hr_leader_ci
    assert lo < row.hr_leader < hi
    assert any("profile-likelihood intervals" in n for n in r.notes)
    assert r.params["controls"] == ["department"]
