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
    # the verdict is the department-clustered test the interval inverts: it rejects exactly
    # when the interval leaves out 1; the permutation test (p on the grid 1/20 … 1) is beside it
    assert row.q_leader == row.p_leader and (row.p_leader <= 0.05) == (lo > 1 or hi < 1)
    assert round(row.p_leader_perm * 20, 9) % 1 == 0 and row.p_leader_perm != row.p_leader
    assert row.n_clusters == ws.table("people").department.nunique().to_pyarrow().as_py() - 1
    assert r.params["controls"] == ["department"] and r.params["cluster"] == "department"
    assert r.headline.startswith("Members were ")
    assert "times as likely to start platform" in r.headline
    assert "clustered by department" in r.headline and "shuffle" not in r.headline
    assert any("robust profile-likelihood intervals clustered by department" in n
               for n in r.notes)
    assert any("not influence" in n and "no influence verdict" in n for n in r.notes)
    assert r.params["n_permutations"] == 19 and r.params["exposure"] == ["manager"]
    # reproducible with the seed
    r2 = contagion_tests(ws, behaviours=["platform"], exposure=("manager",),
                         n_permutations=19, seed=3)
    assert np.allclose(r2.tables["influence_tests"].p_shuffle_leader, t.p_shuffle_leader)
    assert r2.tables["influence_tests"].p_leader_perm.iloc[0] == row.p_leader_perm
    # without clustering the permutation test is the verdict and the interval is model-based
    r3 = contagion_tests(ws, behaviours=["platform"], exposure=("manager",), cluster=None,
                         n_permutations=19, seed=3)
    row3 = r3.tables["influence_tests"].iloc[0]
    assert row3.p_leader == row3.p_leader_perm == row.p_leader_perm
    assert row3.hr_leader == pytest.approx(row.hr_leader)
    assert row3.hr_leader_ci[0] >= lo and row3.hr_leader_ci[1] <= hi
    assert "permutation test" in r3.headline


def test_platform_with_follows_warns_about_the_unobservable_network(ws):
    r = contagion_tests(ws, behaviours=["platform"], exposure=("follows",), n_permutations=5)
    assert any("inflated" in n for n in r.notes)


def test_bad_parameters_say_what_to_do(ws):
    with pytest.raises(ParameterError, match="did you mean 'controls'"):
        contagion_tests(ws, control=("level",))
    with pytest.raises(AnalysisError, match="choose from level, department"):
        contagion_tests(ws, behaviours=["platform"], controls=("tenure",))


def test_without_controls_the_model_is_still_clustered_and_its_interval_holds_the_estimate(ws):
    r = contagion_tests(ws, behaviours=["platform"], exposure=("manager",),
                        controls=(), n_permutations=9, seed=1)
    row = r.tables["influence_tests"].iloc[0]
    lo, hi = row.hr_leader_ci
    assert lo < row.hr_leader < hi and row.n_clusters >= 2
    assert any("profile-likelihood intervals" in n for n in r.notes)
    assert r.params["controls"] == [] and r.params["cluster"] == "department"
    with pytest.raises(AnalysisError, match="choose department or None"):
        contagion_tests(ws, behaviours=["platform"], cluster="level")


def test_the_report_gives_the_influence_tests_a_section_when_asked(ws, tmp_path):
    import json

    from socialens.report import write_report

    write_report(ws, tmp_path / "rep", names=["contagion_tests"], behaviours=["platform"],
                 exposure=("manager",), n_permutations=9)
    html = (tmp_path / "rep" / "report.html").read_text()
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    r = summary["analyses"]["contagion_tests"]
    assert r["params"]["cluster"] == "department" and r["params"]["exposure"] == ["manager"]
    assert "Influence tests" in html and "clustered by department" in html
    assert "p-value, leader-permutation test" in html
    # the first page puts the influence verdict beside the descriptive hashtag answer
    line = [x for x in summary["answer"].splitlines() if "follow their hashtags" in x][0]
    assert "Influence tests (section below): " in line
    assert "the test clustered by department" in line.split("Influence tests (section below)")[1]
    write_report(ws, tmp_path / "plain", behaviours=["platform"])
    plain = json.loads((tmp_path / "plain" / "summary.json").read_text())
    assert "contagion_tests" not in plain["analyses"]
    assert "Influence tests (section below)" not in plain["answer"]


def test_the_analysis_is_the_calibrated_estimator(tmp_path):
    """contagion_tests on joining the platform, with the calibration's network (one's manager
    and every leader above) and window, gives the interval eval.contagion_calibration scores —
    to the last digit — so EVALUATION.md's coverage is the analysis' own."""
    import socialens
    from eval.contagion_calibration import COX_MODELS, IDENTIFIED, observed_panel
    from socialens.workspace import Workspace

    socialens.simulate(people=300, seed=900_001, preset="strong-leaders", out=tmp_path / "w.duckdb",
                       **IDENTIFIED)
    ws = Workspace(tmp_path / "w.duckdb", read_only=True)
    try:
        est, kw = COX_MODELS["_dh_rob"]
        panel = observed_panel(ws)
        want = est("indicator", **kw).fit(panel).interval("leader_exposure")
        start = ws.table("roles").start_at.min().to_pandas()
        end = ws.table("account_snapshots").observed_at.max().to_pandas()
        r = contagion_tests(ws, behaviours=["platform"], exposure=("manager", "leaders_above"),
                            window_start=start, window_end=end, as_of=start, n_permutations=5)
    finally:
        ws.close()
    row = r.tables["influence_tests"].iloc[0]
    assert (row.n_at_risk, row.n_adopted) == (panel.n_at_risk, panel.n_events)
    assert (row.hr_leader, *row.hr_leader_ci) == pytest.approx(want, rel=1e-12)
    assert 1 < want[1] < 4 < want[2]
    assert not any("inflated" in n for n in r.notes)
