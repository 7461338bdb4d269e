"""Model or delegate: per-behaviour uptake, the matched comparison, the "cannot tell" path, and a
small through-product check against the simulator's truth."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import socialens
from socialens.analyses import REGISTRY, run_all
from socialens.analyses.delegation import delegation, matched_difference
from socialens.errors import AnalysisError

# Two leaders (ldr1 with a delegate account ldr1team), an official account, five members (m5
# joins on 02-15, after every first use: never at risk). All accounts but m5's exist from 01-01.
# Leader-seeded: #a ldr1 02-01 (m1 02-02, m2 02-05: 2/5), #b ldr2 02-03 (m1 02-04 12:00: 1/5;
# m2 04-01 is after the 30-day horizon), #c ldr1 02-10 (nobody: 0/5).
# Delegated: #d official 02-01 (m3 02-11: 1/6), #e official 02-05 (0/6), #f ldr1team 02-06 (ldr1
# 02-07 is the owner, not counted; m4 02-08: 1/5). #g is first used by a member (m1).
POSTS = [
    ("x:1", "x:ldr1", "2020-02-01T00:00:00Z", "go #a"), ("x:2", "x:m1", "2020-02-02T00:00:00Z", "#a"),
    ("x:3", "x:m2", "2020-02-05T00:00:00Z", "#a yes"), ("x:4", "x:m5", "2020-02-20T00:00:00Z", "#a"),
    ("x:5", "x:ldr2", "2020-02-03T00:00:00Z", "#b"), ("x:6", "x:m1", "2020-02-04T12:00:00Z", "#b"),
    ("x:7", "x:m2", "2020-04-01T00:00:00Z", "late #b"), ("x:8", "x:ldr1", "2020-02-10T00:00:00Z", "#c"),
    ("x:9", "x:org", "2020-02-01T00:00:00Z", "#d"), ("x:10", "x:m3", "2020-02-11T00:00:00Z", "#d"),
    ("x:11", "x:org", "2020-02-05T00:00:00Z", "#e"), ("x:12", "x:ldr1team", "2020-02-06T00:00:00Z", "#f"),
    ("x:13", "x:ldr1", "2020-02-07T00:00:00Z", "#f"), ("x:14", "x:m4", "2020-02-08T00:00:00Z", "#f"),
    ("x:15", "x:m1", "2020-02-01T00:00:00Z", "#g"), ("x:16", "x:m2", "2020-02-02T00:00:00Z", "#g"),
    ("x:17", "x:m3", "2020-06-30T00:00:00Z", "the end"),
]


def _make(d):
    people = ["ldr1", "ldr2", "m1", "m2", "m3", "m4", "m5"]
    (d / "people.csv").write_text("person_id,name\n" + "".join(f"{p},{p.upper()}\n" for p in people))
    (d / "roles.csv").write_text(
        "person_id,title,level,is_leader,start_at\n"
        + "".join(f"{p},{'Head' if p.startswith('ldr') else 'Staff'},{0 if p.startswith('ldr') else 2},"
                  f"{'true' if p.startswith('ldr') else 'false'},2019-01-01\n" for p in people))
    acc = "".join(f"x:{p},{p},{p},personal,{'2020-02-15' if p == 'm5' else '2020-01-01'}T00:00:00Z\n"
                  for p in people)
    (d / "accounts.csv").write_text(
        "account_id,person_id,handle,kind,created_at\n" + acc
        + "x:org,,org,official,2019-01-01T00:00:00Z\n"
          "x:ldr1team,ldr1,ldr1team,delegate,2019-01-01T00:00:00Z\n")
    rows = [{"post_id": i, "account_id": a, "created_at": t, "text": x} for i, a, t, x in POSTS]
    (d / "posts.jsonl").write_text("\n".join(map(json.dumps, rows)) + "\n")
    w = socialens.open(d / "org.duckdb")
    w.ingest(d)
    return w


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    w = _make(tmp_path_factory.mktemp("delegation"))
    yield w
    w.close()


def test_per_behaviour_uptake_by_hand(ws):
    r = delegation(ws, horizon_days=30)
    t = r.tables["behaviours"].set_index("behaviour")
    assert sorted(t.index) == [f"hashtag:#{c}" for c in "abcdef"]  # #g: a member's, left out
    assert t.seeder_kind.to_dict() == {
        "hashtag:#a": "leader", "hashtag:#b": "leader", "hashtag:#c": "leader",
        "hashtag:#d": "official", "hashtag:#e": "official", "hashtag:#f": "delegate"}
    assert t.at_risk.tolist() == [5, 6, 5, 6, 5, 5]  # by first use: a, d, b, e, f, c
    assert t.adopters.to_dict() == {"hashtag:#a": 2, "hashtag:#b": 1, "hashtag:#c": 0,
                                    "hashtag:#d": 1, "hashtag:#e": 0, "hashtag:#f": 1}
    assert t.uptake_share["hashtag:#a"] == pytest.approx(0.4)
    assert t.uptake_share["hashtag:#d"] == pytest.approx(1 / 6)
    assert t.uptake_share["hashtag:#f"] == pytest.approx(0.2)
    assert t.days_to_first_echo["hashtag:#b"] == pytest.approx(1.5)
    assert t.days_to_first_echo["hashtag:#f"] == pytest.approx(2.0)
    assert t.days_to_first_echo["hashtag:#d"] == pytest.approx(10.0)
    assert math.isnan(t.days_to_first_echo["hashtag:#c"])
    assert t.followed_up.all() and set(t.period) == {"2020Q1"}


def test_matched_comparison_by_hand(ws):
    r = delegation(ws, horizon_days=30, interval="t")
    s = r.summary
    lead, dele = np.array([0.4, 0.2, 0.0]), np.array([1 / 6, 0.0, 0.2])
    assert s["status"] == "estimated" and s["n_leader"] == 3 and s["n_delegated"] == 3
    assert s["delta"] == pytest.approx(lead.mean() - dele.mean())      # 0.0778
    v1, v0 = lead.var(ddof=1) / 3, dele.var(ddof=1) / 3                  # one stratum, w = 1
    dof = (v1 + v0) ** 2 / (v1 ** 2 / 2 + v0 ** 2 / 2)
    half = stats.t.ppf(0.975, dof) * math.sqrt(v1 + v0)
    assert s["delta_ci"] == pytest.approx([s["delta"] - half, s["delta"] + half])
    assert s["delta_se"] == pytest.approx(math.sqrt(v1 + v0))
    assert s["delta_p_value"] == pytest.approx(2 * stats.t.sf(s["delta"] / math.sqrt(v1 + v0), dof))
    h = delegation(ws, horizon_days=30).summary  # the default: HC3, each arm's SS / (n - 1)^2
    assert h["interval"] == "hc3" and h["delta"] == pytest.approx(s["delta"])
    h1, h0 = v1 * 3 / 2, v0 * 3 / 2                                      # s2 / (n - 1), n = 3
    assert h["delta_se"] == pytest.approx(math.sqrt(h1 + h0))
    assert h["delta_ci"][1] - h["delta"] == pytest.approx(stats.t.ppf(0.975, 6 - 2)
                                                          * math.sqrt(h1 + h0))
    d = delegation(ws, horizon_days=30, interval="bootstrap-t").summary
    assert d["interval"] == "bootstrap-t" and d["delta"] == pytest.approx(s["delta"])
    assert d["delta_se"] == pytest.approx(s["delta_se"])
    assert d["delta_ci"][0] < d["delta"] < d["delta_ci"][1]
    comp = r.tables["comparison"].set_index("metric")
    assert comp.loc["adopters", "estimate"] == pytest.approx(1.0 - 2 / 3)
    assert comp.loc["echoed", "estimate"] == pytest.approx(2 / 3 - 2 / 3)
    assert s["median_days_to_first_echo_leader"] == pytest.approx(1.25)
    assert s["median_days_to_first_echo_delegated"] == pytest.approx(6.0)
    assert "taken up by 20 %" in r.headline and "no clear difference" in r.headline
    curves = r.tables["uptake_curves"]
    lead_curve = curves[curves.seeder == "a leader's own account"].set_index("day").share
    assert lead_curve[0] == 0 and lead_curve[1] == pytest.approx(0.2 / 3)  # #a: m1 on day 1
    assert lead_curve[30] == pytest.approx(0.2)
    assert "uptake_curves" in r.figures
    html = r.to_html(figures=False)
    assert "Model or delegate" in html


def test_matched_strata_weights_and_bootstrap():
    y = np.array([0.5, 0.3, 0.1, 0.2, 0.9, 0.7, 0.4])
    arm = np.array([1, 1, 0, 0, 1, 0, 0])
    s = np.array(["q1", "q1", "q1", "q1", "q2", "q2", "q3"])  # q3 has no leader: dropped
    r = matched_difference(y, arm, s, min_per_arm=2)
    # q1: 0.4 - 0.15 = 0.25 (4 behaviours); q2: 0.9 - 0.7 = 0.2 (2): weights 4/6, 2/6
    assert r["estimate"] == pytest.approx(0.25 * 4 / 6 + 0.2 * 2 / 6)
    assert r["n_strata"] == 2 and r["n_leader"] == 3 and r["n_delegated"] == 3
    b = matched_difference(y, arm, s, interval="bootstrap", n_boot=500, seed=1, min_per_arm=2)
    assert b["estimate"] == r["estimate"] and b["ci_low"] <= r["estimate"] <= b["ci_high"]


def test_pooled_variance_by_hand():
    # q1: leader 0.5, 0.3 (mean 0.4, SS 0.02), delegated 0.1, 0.2, 0.6 (mean 0.3, SS 0.14);
    # q2: leader 0.9, 0.7, 0.8 (mean 0.8, SS 0.02), delegated 0.4, 0.2 (mean 0.3, SS 0.02).
    # Weights 5/10, 5/10. s2_L = (0.02 + 0.02) / (5 - 2), s2_D = (0.14 + 0.02) / (5 - 2).
    y = np.array([0.5, 0.3, 0.1, 0.2, 0.6, 0.9, 0.7, 0.8, 0.4, 0.2])
    arm = np.array([1, 1, 0, 0, 0, 1, 1, 1, 0, 0])
    s = np.array(["q1"] * 5 + ["q2"] * 5)
    r = matched_difference(y, arm, s, interval="t")
    assert r["estimate"] == pytest.approx(0.5 * 0.1 + 0.5 * 0.5)                    # 0.30
    v_l = 0.04 / 3 * (0.25 / 2 + 0.25 / 3)                                          # 0.0027778
    v_d = 0.16 / 3 * (0.25 / 3 + 0.25 / 2)                                          # 0.0111111
    assert r["se"] == pytest.approx(math.sqrt(v_l + v_d))                           # 0.117851
    assert r["se"] == pytest.approx(0.117851, abs=1e-6)
    dof = (v_l + v_d) ** 2 / (v_l ** 2 / 3 + v_d ** 2 / 3)                          # 4.41
    assert r["df"] == pytest.approx(dof) and r["df"] == pytest.approx(4.41, abs=0.01)
    q = stats.t.ppf(0.975, dof)
    assert [r["ci_low"], r["ci_high"]] == pytest.approx([0.3 - q * r["se"], 0.3 + q * r["se"]])


def test_hc3_variance_by_hand():
    # the same cells as above; HC3 per cell SS / (n - 1)^2: q1 leader 0.02 / 1, delegated
    # 0.14 / 4; q2 leader 0.02 / 4, delegated 0.02 / 1; every weight^2 = 0.25
    y = np.array([0.5, 0.3, 0.1, 0.2, 0.6, 0.9, 0.7, 0.8, 0.4, 0.2])
    arm = np.array([1, 1, 0, 0, 0, 1, 1, 1, 0, 0])
    s = np.array(["q1"] * 5 + ["q2"] * 5)
    r = matched_difference(y, arm, s)
    assert r["estimate"] == pytest.approx(0.30)
    parts = 0.25 * np.array([0.02, 0.035, 0.005, 0.02])
    assert r["se"] == pytest.approx(math.sqrt(parts.sum())) and parts.sum() == pytest.approx(0.02)
    assert r["se"] == pytest.approx(0.141421, abs=1e-6)
    dof = 10 - 4  # residual df of the cell-means regression: 10 behaviours, 4 cells
    assert r["df"] == dof
    q = stats.t.ppf(0.975, dof)
    assert [r["ci_low"], r["ci_high"]] == pytest.approx([0.3 - q * r["se"], 0.3 + q * r["se"]])
    assert r["p_value"] == pytest.approx(2 * stats.t.sf(0.3 / r["se"], dof))
    # wider than the pooled t (0.117851): each cell's mean inflated by n / (n - 1)
    assert r["se"] > matched_difference(y, arm, s, interval="t")["se"]


def test_hc3_equals_statsmodels_on_the_cell_means_regression():
    # the matched difference is a contrast of the saturated stratum-by-arm regression's
    # coefficients (weights fixed); statsmodels' HC3 covariance of that contrast is the se
    import statsmodels.api as sm

    rng = np.random.default_rng(7)
    s = np.repeat(["q1", "q2", "q3"], [9, 12, 7])
    arm = np.r_[rng.permutation([1] * 4 + [0] * 5), rng.permutation([1] * 7 + [0] * 5),
                rng.permutation([1] * 3 + [0] * 4)]
    y = rng.gamma(0.8, 0.05, len(s)) + 0.02 * arm
    r = matched_difference(y, arm, s)
    cells = [(q, a) for q in ("q1", "q2", "q3") for a in (1, 0)]
    x = np.column_stack([((s == q) & (arm == a)).astype(float) for q, a in cells])
    fit = sm.OLS(y, x).fit(cov_type="HC3", use_t=True)
    w = {q: np.mean(s == q) for q in ("q1", "q2", "q3")}
    c = np.array([(1 if a else -1) * w[q] for q, a in cells])
    assert r["estimate"] == pytest.approx(float(c @ fit.params))
    assert r["se"] == pytest.approx(math.sqrt(float(c @ fit.cov_params() @ c)))
    assert r["df"] == fit.df_resid == len(y) - 6
    lo, hi = fit.t_test(c).conf_int(alpha=0.05)[0]  # statsmodels' HC3 t test, df_resid
    assert [r["ci_low"], r["ci_high"]] == pytest.approx([lo, hi])


def test_hc3_cell_with_one_behaviour_takes_the_pooled_variance():
    # q1: leader 0.5, 0.3 (SS 0.02), delegated 0.1 alone; q2: leader 0.9, 0.7, 0.8 (SS 0.02),
    # delegated 0.4, 0.2, 0.3 (SS 0.02). Weights 3/9, 6/9. The lone delegated cell takes the
    # delegated arm's pooled within-stratum variance 0.02 / (4 - 2) = 0.01, with its 2 df.
    y = np.array([0.5, 0.3, 0.1, 0.9, 0.7, 0.8, 0.4, 0.2, 0.3])
    arm = np.array([1, 1, 0, 1, 1, 1, 0, 0, 0])
    s = np.array(["q1"] * 3 + ["q2"] * 6)
    r = matched_difference(y, arm, s)
    w1, w2 = 3 / 9, 6 / 9
    assert r["estimate"] == pytest.approx(w1 * (0.4 - 0.1) + w2 * (0.8 - 0.3))
    parts = np.array([w1 ** 2 * 0.02 / 1, w2 ** 2 * 0.02 / 4, w2 ** 2 * 0.02 / 4,
                      w1 ** 2 * 0.01])
    assert r["se"] == pytest.approx(math.sqrt(parts.sum()))
    assert r["df"] == 9 - 4


def test_bootstrap_t_is_the_studentized_resampling_by_hand():
    y = np.array([0.5, 0.3, 0.1, 0.2, 0.6, 0.9, 0.7, 0.8, 0.4, 0.2])
    arm = np.array([1, 1, 0, 0, 0, 1, 1, 1, 0, 0])
    s = np.array(["q1"] * 5 + ["q2"] * 5)
    r = matched_difference(y, arm, s, interval="bootstrap-t", n_boot=400, seed=3)
    t = matched_difference(y, arm, s, interval="t")
    assert r["estimate"] == pytest.approx(t["estimate"]) and r["se"] == pytest.approx(t["se"])
    # the same draws by hand: cells in the order (q1, leader), (q1, delegated), (q2, ...), ...
    rng = np.random.default_rng(3)
    cells = [(0.5, y[(s == q) & (arm == a)], a) for q in ("q1", "q2") for a in (1, 0)]
    est_b, ss = np.zeros(400), {1: np.zeros(400), 0: np.zeros(400)}
    for w, v, a in cells:
        vb = v[rng.integers(0, len(v), size=(400, len(v)))]
        est_b += (1 if a else -1) * w * vb.mean(axis=1)
        ss[a] += ((vb - vb.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    se_b = np.sqrt(ss[1] / 3 * (0.25 / 2 + 0.25 / 3) + ss[0] / 3 * (0.25 / 3 + 0.25 / 2))
    tb = (est_b[se_b > 0] - 0.3) / se_b[se_b > 0]
    lo, hi = np.quantile(tb, [0.025, 0.975], method="inverted_cdf")
    assert r["n_boot_used"] == len(tb)
    assert [r["ci_low"], r["ci_high"]] == pytest.approx([0.3 - hi * r["se"], 0.3 - lo * r["se"]])
    p = 2 * min((np.sum(tb >= 0.3 / r["se"]) + 1) / (len(tb) + 1),
                (np.sum(tb <= 0.3 / r["se"]) + 1) / (len(tb) + 1))
    assert r["p_value"] == pytest.approx(min(1.0, p))


def test_bootstrap_t_stretches_the_side_a_skewed_arm_leans_to():
    # a leader arm mixing a few large campaigns (a CEO's) with many small ones: right-skewed, so
    # the studentized interval reaches further above the estimate than below; t is symmetric
    rng = np.random.default_rng(0)
    lead = np.where(rng.random(48) < 0.15, rng.normal(0.14, 0.04, 48), rng.normal(0.02, 0.015, 48))
    dele = rng.normal(0.03, 0.02, 58)
    y = np.clip(np.r_[lead, dele], 0, 1)
    arm = np.r_[np.ones(48, int), np.zeros(58, int)]
    s = np.array(["q"] * len(y))
    b = matched_difference(y, arm, s, interval="bootstrap-t", n_boot=4000, seed=1)
    t = matched_difference(y, arm, s, interval="t")
    assert b["ci_high"] - b["estimate"] > 1.1 * (b["estimate"] - b["ci_low"])
    assert t["ci_high"] - t["estimate"] == pytest.approx(t["estimate"] - t["ci_low"])
    # no spread at all: the interval is the estimate, by every method
    z = matched_difference(np.r_[np.full(4, 0.2), np.full(4, 0.1)], np.r_[np.ones(4), np.zeros(4)],
                           np.array(["q"] * 8))
    assert z["ci_low"] == pytest.approx(0.1) and z["ci_high"] == pytest.approx(0.1)
    with pytest.raises(AnalysisError, match="bootstrap-t"):
        matched_difference(y, arm, s, interval="wild")


def test_no_interval_when_an_arm_has_one_behaviour_per_period():
    y = np.array([0.5, 0.1, 0.2, 0.9, 0.7, 0.6])
    arm = np.array([1, 0, 0, 1, 0, 0])
    r = matched_difference(y, arm, np.array(["q1", "q1", "q1", "q2", "q2", "q2"]), min_per_arm=2)
    assert r["status"] == "too few" and r["estimate"] is None and "single behaviour" in r["reason"]
    r = matched_difference(y, arm, np.array(["y"] * 6), min_per_arm=2)   # one stratum: fine
    assert r["status"] == "estimated" and r["estimate"] == pytest.approx(0.7 - 0.4)


def test_too_few_to_tell(ws):
    r = delegation(ws, behaviours=["hashtag:#a", "hashtag:#b", "hashtag:#d", "hashtag:#g"],
                   horizon_days=30)
    s = r.summary
    assert s["status"] == "too few" and s["delta"] is None and s["delta_ci"] is None
    assert s["n_by_seeder_kind"] == {"leader": 2, "official": 1, "member": 1}
    assert r.headline.startswith("The data cannot tell: 2 behaviours started by a leader")
    assert "%" not in r.headline
    comp = r.tables["comparison"]
    assert comp.estimate.isna().all() and (comp.status == "too few").all()


def test_long_horizon_leaves_behaviours_out_and_errors_are_clear(ws):
    r = delegation(ws, horizon_days=140)  # data end 06-30: only first uses before 02-11 qualify
    assert r.tables["behaviours"].followed_up.tolist() == [True] * 6
    r = delegation(ws, horizon_days=160)
    assert r.summary["n_not_followed_up"] == 6 and r.summary["status"] == "too few"
    with pytest.raises(AnalysisError, match="period='month'"):
        delegation(ws, period="month")
    with pytest.raises(AnalysisError, match="horizon_days"):
        delegation(ws, horizon_days=0)
    with pytest.raises(AnalysisError, match="not one"):
        delegation(ws, behaviours="personal")


def test_registered_and_in_run_all(ws):
    assert REGISTRY["delegation"] is delegation
    res = run_all(ws, ["delegation"], horizon_days=30)
    assert res["delegation"].summary["n_leader"] == 3


def test_cli_analyze_delegation(tmp_path):
    from typer.testing import CliRunner

    from socialens.cli import app

    w = _make(tmp_path)
    path = str(w.path)
    w.close()  # the CLI opens the file itself
    res = CliRunner().invoke(app, ["analyze", "-a", "delegation", "-w", path])
    assert res.exit_code == 0, res.output
    assert "delegation: Hashtags a leader starts herself are taken up by" in res.output
    res = CliRunner().invoke(app, ["analyze", "-a", "delegation", "-w", path, "-b", "platform"])
    assert res.exit_code == 1 and "not one" in res.output and "Traceback" not in res.output


def test_through_the_product_matches_the_simulators_truth(tmp_path):
    """simulate -> ingest -> delegation: seeder kinds and uptake shares equal the ones computed
    from sim_truth_campaigns / sim_truth_campaign_uses / sim_truth_people."""
    r = socialens.simulate(people=120, seed=5, out=tmp_path / "o.duckdb", n_campaigns=24,
                           campaign_seed_shares=(0.4, 0.3, 0.2, 0.1), truth_posts=False)
    w = socialens.open(r.workspace, read_only=True)
    try:
        res = delegation(w, horizon_days=90)
        camp = w.table("sim_truth_campaigns").to_pandas()
        uses = w.table("sim_truth_campaign_uses").to_pandas()
        ppl = w.table("sim_truth_people").to_pandas()
    finally:
        w.close()
    t = res.tables["behaviours"].set_index("behaviour")
    camp = camp[camp.seed_kind != "member"]
    camp["behaviour"] = "hashtag:#" + camp.hashtag
    assert set(t.index) == set(camp.behaviour)
    assert (t.seeder_kind[camp.behaviour].to_numpy() == camp.seed_kind.to_numpy()).all()
    joined = pd.to_datetime(ppl.set_index("person_id").adopted_at, utc=True)
    for c in camp.itertuples():
        t0 = pd.Timestamp(c.introduced_at)
        t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0
        risk = set(joined.index[joined.notna() & (joined <= t0)]) - {c.seed_person_id}
        u = uses[(uses.campaign_id == c.campaign_id) & uses.person_id.isin(risk)
                 & (uses.account_id.str.startswith("twitter:p")) & ~uses.account_id.str.endswith("_team")]
        dt = pd.to_datetime(u.used_at, utc=True) - t0
        took = u[(dt > pd.Timedelta(0)) & (dt <= pd.Timedelta(days=90))]
        assert t.at_risk[c.behaviour] == len(risk)
        assert t.adopters[c.behaviour] == took.person_id.nunique()


def test_simulator_delegate_audience_option():
    from socialens.simulate import SimulationError, make_config

    assert make_config("null", delegate_audience="owner").delegate_audience == "owner"
    assert make_config().delegate_audience == "official"
    with pytest.raises(SimulationError, match="delegate_audience"):
        make_config(delegate_audience="everyone")
