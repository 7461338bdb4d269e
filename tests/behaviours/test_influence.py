"""The influence tests: panels on literal tables, the estimators on planted data, and a small
calibration through the product (simulate → ingest → estimators)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from socialens.behaviours.influence import (
    AdoptionPanel,
    DiscreteHazard,
    EdgeReversalTest,
    ExposureCox,
    LeaderPermutationTest,
    ShuffleTest,
    benjamini_hochberg,
    group_share_steps,
    permute_at_risk,
    risk_set_groups,
    social_correlation,
    split_episodes,
)
from socialens.errors import AnalysisError

T0 = pd.Timestamp("2020-01-01", tz="UTC")


def _day(d):
    return T0 + pd.Timedelta(days=d, hours=5)


def literal_panel():
    # L is a leader who adopts on day 1; a sees L and b; b adopts on day 3; a on day 5; c never.
    adoptions = pd.DataFrame({"person_id": ["L", "b", "a"], "at": [_day(1), _day(3), _day(5)]})
    ties = pd.DataFrame({"person_id": ["a", "a", "c", "b"], "source_person_id": ["L", "b", "b", "c"],
                         "start_at": [pd.NaT, pd.NaT, _day(4), pd.NaT]})
    pop = pd.DataFrame({"person_id": ["a", "b", "c"], "dept": ["x", "x", "y"]})
    return AdoptionPanel.from_tables(adoptions, ties, population=pop, leaders={"L"}, start=T0,
                                     end=T0 + pd.Timedelta(days=10), controls=["dept"])


def test_episodes_count_contacts_adopted_before_with_lag_and_tie_start():
    p = literal_panel()
    ep = pd.DataFrame(p.episodes())
    ep["who"] = p.ids[ep.person]
    got = {w: g[["start", "stop", "event", "n_leader", "n_peer"]].values.tolist()
           for w, g in ep.groupby("who")}
    # a: unexposed day 0–1, sees L from day 2, b too from day 4, adopts on day 5
    assert got["a"] == [[0, 2, 0, 0, 0], [2, 4, 0, 1, 0], [4, 6, 1, 1, 1]]
    # b: sees c, who never adopts; adopts on day 3
    assert got["b"] == [[0, 4, 1, 0, 0]]
    # c: the tie to b starts on day 4 (after b adopted on day 3): exposed from day 4
    assert got["c"] == [[0, 4, 0, 0, 0], [4, 10, 0, 0, 1]]
    assert p.n_at_risk == 3 and p.n_events == 2


def test_lag_below_one_period_is_refused():
    with pytest.raises(AnalysisError, match="at least one period"):
        AdoptionPanel.from_tables(pd.DataFrame({"person_id": [], "at": []}),
                                  pd.DataFrame({"person_id": [], "source_person_id": []}),
                                  population=pd.DataFrame({"person_id": ["a"]}), leaders=set(),
                                  start=T0, end=T0 + pd.Timedelta(days=5), lag=0)


def planted(n=400, hr_leader=3.0, days=200, seed=1, influence=True):
    """Members each watching one of 6 leaders and 3 random members; discrete-time hazard."""
    rng = np.random.default_rng(seed)
    leaders = [f"L{k}" for k in range(6)]
    members = [f"m{k}" for k in range(n)]
    lead_day = rng.integers(0, days, size=6)
    ties = [(m, leaders[k % 6]) for k, m in enumerate(members)]
    ties += [(m, members[j]) for m in members for j in rng.choice(n, 3, replace=False)]
    ties = pd.DataFrame(ties, columns=["person_id", "source_person_id"])
    my_leader = np.arange(n) % 6
    day = np.full(n, days)
    h0 = 0.004
    for t in range(days):
        exposed = lead_day[my_leader] < t
        h = h0 * np.where(exposed & influence, hr_leader, 1.0)
        new = (day == days) & (rng.random(n) < -np.expm1(-h))
        day[new] = t
    adopt = pd.DataFrame({"person_id": leaders + [m for m, d in zip(members, day, strict=True)
                                                 if d < days],
                          "at": [_day(int(d)) for d in lead_day] + [_day(int(d)) for d in day
                                                                   if d < days]})
    pop = pd.DataFrame({"person_id": members})
    return AdoptionPanel.from_tables(adopt, ties, population=pop, leaders=set(leaders), start=T0,
                                     end=T0 + pd.Timedelta(days=days))


@pytest.mark.slow  # the first lifelines fit imports autograd (about 5 s)
def test_cox_recovers_a_planted_leader_hazard_ratio():
    cox = ExposureCox("indicator").fit(planted(hr_leader=3.0))
    hr, lo, hi = cox.interval("leader_exposure")
    assert lo < 3.0 < hi and lo > 1.5, (hr, lo, hi)
    assert cox.n_people_ == 400
    assert cox.summary_.columns.tolist()[:4] == ["covariate", "hazard_ratio", "ci_low", "ci_high"]


def test_cox_finds_nothing_without_influence_and_controls_enter():
    p = planted(influence=False, seed=2)
    cox = ExposureCox("indicator").fit(p)
    row = cox.summary_.set_index("covariate").loc["leader_exposure"]
    assert abs(row.coef) < 3 * row.se, (row.hazard_ratio, row.se)


def test_shuffle_and_reversal_are_seeded_and_detect_strong_influence():
    p = planted(hr_leader=6.0, seed=3)
    a = ShuffleTest(19, seed=4).fit(p)
    b = ShuffleTest(19, seed=4).fit(p)
    assert a.p_values_ == b.p_values_
    assert a.alpha_["leader"] > 0.5
    assert a.p_values_["leader"] == pytest.approx(0.05)  # the smallest attainable with 19
    assert a.alpha_null_.shape == (19, 3)
    e = EdgeReversalTest(19, seed=4).fit(p)
    # nobody follows a member from a leader's seat: reversed leader exposure is undefined
    assert np.isnan(e.alpha_reversed_["leader"]) or e.difference_["leader"] > 0
    assert 0 < e.p_values_["all"] <= 1


def test_social_correlation_total_and_split():
    p = planted(hr_leader=4.0, seed=5)
    s, t = social_correlation(p), social_correlation(p, split=False)
    assert set(s) == {"alpha_leader", "alpha_peer", "beta"} and set(t) == {"alpha", "beta"}
    assert s["alpha_leader"] > s["alpha_peer"]


def exchangeable_panel(rng, n=60, n_leaders=4, T=40, h=0.02, h_leader=0.1):
    """Nobody influences anybody: members adopt at one common hazard, leaders (not at risk)
    earlier, as in the simulator (the case that made the former shuffle over-reject)."""
    L = n_leaders
    ids = np.array([f"L{k}" for k in range(L)] + [f"m{k}" for k in range(n)])
    d = rng.geometric(np.r_[np.full(L, h_leader), np.full(n, h)]) - 1
    adopt = np.minimum(d, T)
    ti = np.r_[np.arange(L, n + L), np.repeat(np.arange(L, n + L), 2)]
    tj = np.r_[rng.integers(0, L, n), rng.integers(L, n + L, 2 * n)]
    ok = ti != tj
    return AdoptionPanel(ids, adopt, np.r_[np.zeros(L, bool), np.ones(n, bool)],
                         np.r_[np.ones(L, bool), np.zeros(n, bool)], ti[ok], tj[ok],
                         np.zeros(ok.sum(), np.int64), T)


def test_permutation_keeps_adoptions_per_period_in_each_stratum_and_leaders_fixed():
    p = literal_panel()
    rng = np.random.default_rng(0)
    groups = risk_set_groups(p, "dept")
    assert sorted(len(g) for g in groups) == [1, 2]
    for _ in range(20):
        a = permute_at_risk(p, groups, rng)
        lead = p.is_leader
        assert (a[lead] == p.adopt[lead]).all()          # leaders keep their times
        for g in groups:                                  # per stratum: same multiset of periods
            assert sorted(a[g]) == sorted(p.adopt[g])
    with pytest.raises(AnalysisError, match="not a control column"):
        risk_set_groups(p, "level")


@pytest.mark.slow  # 300 small panels × 19 shuffles (about 8 s alone, 20 s under load)
def test_shuffle_rejects_at_its_level_on_exchangeable_data():
    """Literal exchangeable adoption (numpy, no simulator): P(p ≤ 0.05) ≈ 0.05. On 400 such
    panels the former shuffle (adopters' times only, leaders shuffled with members) rejected
    0.105 / 0.06 / 0.12 (leader / peer / all), this one 0.040 / 0.052 / 0.042."""
    rng = np.random.default_rng(1)
    p = np.array([list(ShuffleTest(19, seed=r).fit(exchangeable_panel(rng)).p_values_.values())
                  for r in range(300)])
    rate = (p <= 0.05).mean(axis=0)
    # binomial sd at 300 draws is 0.013
    assert ((0.02 <= rate) & (rate <= 0.085)).all(), rate


def test_group_share_is_lagged_and_splits_the_spells():
    p = literal_panel()  # dept x: a (adopts 5), b (adopts 3); dept y: c (never)
    group, share = group_share_steps(p, "dept")
    gx = group[list(p.ids).index("a")]
    assert share[gx, :4].tolist() == [0, 0, 0, 0] and share[gx, 4] == 0.5  # b adopted in 3
    assert share[gx, 6] == 1.0                                             # a adopted in 5
    _, recent = group_share_steps(p, "dept", window=2)
    assert recent[gx, 4:8].tolist() == [0.5, 0.5, 0.5, 0.5] and recent[gx, 8] == 0.0
    ep = split_episodes(p.episodes(), group[p.episodes()["person"]], share)
    who = p.ids[ep["person"]]
    a = [(s, t, e, v) for w, s, t, e, v in zip(who, ep["start"], ep["stop"], ep["event"],
                                                ep["share"], strict=True) if w == "a"]
    assert a == [(0, 2, False, 0.0), (2, 4, False, 0.0), (4, 6, True, 0.5)]
    df = ExposureCox(controls=["dept"], group_share="dept").design(p)
    assert "dept_share" in df and df.event.sum() == 2


def test_discrete_hazard_recovers_a_planted_ratio_with_a_profile_interval():
    d = DiscreteHazard("indicator").fit(planted(hr_leader=3.0))
    hr, lo, hi = d.interval("leader_exposure")
    assert 1.5 < lo < 3.0 < hi < 6, (hr, lo, hi)
    row = d.summary_.set_index("covariate").loc["leader_exposure"]
    assert row.interval == "profile likelihood" and row.p_value < 1e-4
    # without influence the likelihood-ratio test does not reject and the interval holds 1
    d0 = DiscreteHazard("indicator").fit(planted(influence=False, seed=2))
    _, lo0, hi0 = d0.interval("leader_exposure")
    assert lo0 < 1 < hi0


def test_discrete_hazard_interval_stays_open_when_the_data_cannot_bound_the_ratio():
    """Only exposed members adopt (separation): the partial likelihood has no finite maximum.
    The ratio must not be pulled to 1 with a narrow interval (the ridge retry of ExposureCox);
    the profile interval is bounded below and open above."""
    T = 30
    ids = np.array(["L", *[f"m{k}" for k in range(40)]])
    adopt = np.full(41, T)
    adopt[0] = 2
    adopt[1:11] = np.arange(5, 25, 2)       # ten exposed members adopt
    ti = np.arange(1, 21)                   # m0…m19 see the leader; m20…m39 see nobody
    p = AdoptionPanel(ids, adopt, np.r_[False, np.ones(40, bool)], np.r_[True, np.zeros(40, bool)],
                      ti, np.zeros(20, np.int64), np.zeros(20, np.int64), T)
    d = DiscreteHazard("indicator", profile=("leader_exposure",)).fit(p)
    hr, lo, hi = d.interval("leader_exposure")
    assert np.isinf(hi) and lo > 2, (hr, lo, hi)


@pytest.mark.slow  # three profile-likelihood fits (about 3 s)
def test_a_leader_effect_shared_by_a_whole_stratum_is_not_estimable_within_it():
    """Everyone of a department watches the same leader (reporting lines): with one baseline per
    period and department the leader ratio has no information — the interval is open at both
    ends, not a number."""
    p = planted(hr_leader=3.0, seed=6)
    members = [i for i in p.ids if i.startswith("m")]
    p.controls = pd.DataFrame({"dept": [f"d{int(m[1:]) % 6}" for m in members]}, index=members)
    free = DiscreteHazard(profile=("leader_exposure",)).fit(p).interval("leader_exposure")
    assert 1 < free[1] < 3 < free[2] < np.inf
    within = DiscreteHazard(strata=("dept",), profile=("leader_exposure",)).fit(p)
    _, lo, hi = within.interval("leader_exposure")
    assert lo == 0 and hi == np.inf, (lo, hi)


def _clustered(seed=1, hr_leader=3.0):
    p = planted(hr_leader=hr_leader, seed=seed)
    members = [i for i in p.ids if i.startswith("m")]
    # the department is the leader one watches (members m_k watch L_{k mod 6})
    p.controls = pd.DataFrame({"dept": [f"d{int(m[1:]) % 6}" for m in members]}, index=members)
    return p


def test_cluster_robust_covariance_is_the_sandwich_of_the_person_period_model():
    """robust_cov (cells, baseline eliminated) against the textbook sandwich computed on the
    unaggregated person-period rows with one explicit dummy per period: β block of
    I⁻¹ (G/(G−1) Σ_g U_g U_gᵀ) I⁻¹, U_g the full score (baseline and β) summed over cluster g."""
    p = _clustered(seed=3)
    m = DiscreteHazard("indicator", cluster="dept")
    group, X, n, y, names = m.cells(p)
    b, cov, ll, ok, a = DiscreteHazard._fit(group, X, n, y, np.zeros(len(n)))
    rcov, n_g = DiscreteHazard.robust_cov(group, X, n, y, a, b, m.cell_cluster_)
    assert n_g == 6
    # expand the cells back to one row per person-period (events first within a cell)
    rows = np.repeat(np.arange(len(n)), n.astype(int))
    first = np.r_[0, np.cumsum(n)[:-1]].astype(int)
    ev = (np.arange(len(rows)) - first[rows]) < y[rows]
    G, k = int(group.max()) + 1, X.shape[1]
    D = np.zeros((len(rows), G + k))
    D[np.arange(len(rows)), group[rows]] = 1.0
    D[:, G:] = X[rows]
    mu = np.exp(D @ np.r_[a, b])
    u = ev * mu / np.expm1(mu) - (~ev) * mu          # d loglik / d eta, per row
    w = mu * mu / np.expm1(mu)                        # expected information weight
    info = D.T @ (w[:, None] * D)
    score = np.zeros((6, G + k))
    np.add.at(score, m.cell_cluster_[rows], u[:, None] * D)
    meat = score.T @ score * 6 / 5
    inv = np.linalg.pinv(info)
    full = (inv @ meat @ inv)[G:, G:]
    assert np.allclose(rcov, full, rtol=1e-6, atol=1e-10), (rcov, full)


def test_clustered_interval_is_never_narrower_and_its_test_is_the_interval():
    from scipy import stats

    p = _clustered(seed=1)
    plain = DiscreteHazard("indicator", profile=("leader_exposure",)).fit(p)
    rob = DiscreteHazard("indicator", profile=("leader_exposure",), cluster="dept").fit(p)
    raw = DiscreteHazard("indicator", profile=("leader_exposure",), cluster="dept",
                         robust_floor=False).fit(p)
    _, lo0, hi0 = plain.interval("leader_exposure")
    hr, lo, hi = rob.interval("leader_exposure")
    r = rob.summary_.set_index("covariate").loc["leader_exposure"]
    assert rob.n_clusters_ == 6 and r.interval == "robust profile likelihood"
    assert r.variance_ratio >= 1 and lo <= lo0 and hi >= hi0 and lo < 3 < hi
    # F(1, 5) instead of χ²₁ widens the interval even at a variance ratio of 1
    assert (hi - lo) > (hi0 - lo0) * 1.05
    # the p-value is the robust likelihood-ratio statistic against F(1, G − 1) ...
    lr = stats.chi2.isf(plain.summary_.set_index("covariate").p_value["leader_exposure"], 1)
    assert r.p_value == pytest.approx(stats.f.sf(lr / r.variance_ratio, 1, 5), rel=1e-4)
    # ... and the unfloored ratio is the sandwich's over the model's variance
    rr = raw.summary_.set_index("covariate").loc["leader_exposure"]
    assert rr.variance_ratio == pytest.approx(rr.se ** 2 / rr.se_model ** 2)
    assert r.variance_ratio == max(rr.variance_ratio, 1.0)
    # no influence: the interval holds 1 and the test does not reject
    p0 = _clustered(seed=2, hr_leader=1.0)
    d0 = DiscreteHazard("indicator", profile=("leader_exposure",), cluster="dept").fit(p0)
    _, l0, h0 = d0.interval("leader_exposure")
    assert l0 < 1 < h0 and d0.summary_.set_index("covariate").p_value["leader_exposure"] > 0.05


def test_cluster_needs_a_control_column_and_two_groups():
    p = planted(seed=1)
    with pytest.raises(AnalysisError, match="not a control column"):
        DiscreteHazard(cluster="dept").fit(p)
    members = [i for i in p.ids if i.startswith("m")]
    p.controls = pd.DataFrame({"dept": ["d0"] * len(members)}, index=members)
    with pytest.raises(AnalysisError, match="at least two"):
        DiscreteHazard(cluster="dept").fit(p)


def test_leader_permutation_statistic_is_the_likelihood_ratio_and_finds_a_planted_effect():
    from scipy import stats

    p = planted(hr_leader=3.0, seed=1)
    lp = LeaderPermutationTest(n_permutations=99, seed=0).fit(p)
    d = DiscreteHazard("indicator").fit(p)
    lr_p = d.summary_.set_index("covariate").p_value["leader_exposure"]
    # parity: the observed statistic is the χ² likelihood-ratio statistic of DiscreteHazard
    assert stats.chi2.sf(lp.statistic_, 1) == pytest.approx(lr_p, rel=1e-6)
    assert lp.statistic_ == pytest.approx(62.11, abs=0.05) and lp.n_leaders_ == 6
    # no permutation of the six leaders' days comes near the observed one
    assert lp.p_value_ == lp.p_greater_ == 0.01 and lp.signed_root_ > 0


@pytest.mark.slow  # 40 panels × 20 fits (about 10 s)
def test_leader_permutation_test_is_exact_when_leaders_are_exchangeable():
    """No influence, leaders' days drawn from one law: P(p ≤ 0.05) = 1/20 with 19 permutations
    (here the two-sided test rejects 2 of 40 panels, the one-sided 1; binomial sd 1.4)."""
    res = np.array([[r.p_value_, r.p_greater_] for r in (
        LeaderPermutationTest(n_permutations=19, seed=s).fit(
            planted(n=150, days=120, influence=False, seed=200 + s)) for s in range(40))])
    assert np.all((res * 20).round(9) % 1 == 0)  # on the grid 1/20 … 1
    assert ((res <= 0.05).sum(axis=0) <= 6).all(), (res <= 0.05).sum(axis=0)


def test_leader_permutation_test_keeps_leaders_within_their_group():
    p = planted(hr_leader=3.0, seed=1)
    groups = {f"L{k}": ("a" if k < 3 else "b") for k in range(6)}
    lp = LeaderPermutationTest(n_permutations=19, leader_groups=groups, seed=0).fit(p)
    assert lp.n_leaders_ == 6 and lp.p_value_ <= 0.1
    alone = {f"L{k}": f"g{k}" for k in range(6)}  # nobody to exchange with: no test
    assert np.isnan(LeaderPermutationTest(n_permutations=9, leader_groups=alone)
                    .fit(p).p_value_)


def test_benjamini_hochberg_keeps_nan_and_is_monotone():
    q = benjamini_hochberg([0.001, np.nan, 0.2, 0.03])
    assert np.isnan(q[1])
    assert q[0] == pytest.approx(0.003) and q[3] == pytest.approx(0.045)
    assert q[2] == pytest.approx(0.2)


@pytest.mark.slow
def test_small_calibration_through_the_product(tmp_path):
    """Two seeds per setting through simulate → ingest → estimators (eval.contagion_calibration
    runs 200): the interval covers the planted leader effect under strong leaders, and the
    estimator reads no sim_truth table to produce it."""
    from eval.contagion_calibration import one_run, summarize

    rows = [one_run("strong-leaders", 7_000 + k, n_permutations=19, folder=tmp_path)
            for k in range(2)]
    rows += [one_run("null", 7_100 + k, n_permutations=19, folder=tmp_path) for k in range(2)]
    res = summarize(pd.DataFrame(rows))
    assert res["n_seeds"] == 2
    df = pd.DataFrame(rows)
    strong = df[df.preset == "strong-leaders"]
    # the primary model (department control, clustered by department): the planted HR 4 is
    # inside at least one of the two intervals (hundreds of seeds: EVALUATION.md), which hold
    # the model-based ones
    covers = (strong.hr_leader_dh_rob_low <= 4.0) & (4.0 <= strong.hr_leader_dh_rob_high)
    assert covers.any(), strong.filter(like="hr_leader")
    assert (strong.hr_leader_dh_rob_low <= strong.hr_leader_dh_ctl_low + 1e-9).all()
    assert (strong.hr_leader_dh_rob_high >= strong.hr_leader_dh_ctl_high - 1e-9).all()
    assert "department_share" not in strong
    # its p-values: the permutation test on the grid 1/20 … 1, one-sided ≤ two-sided
    assert ((df.p_perm_leader * 20).round(9) % 1 == 0).all()
    one_sided = df.p_perm_greater_leader
    assert ((one_sided <= df.p_perm_leader + 1e-12) | (one_sided == 1)).all()
    assert set(res["rejection_rate"]) == {"null"}
    assert set(res["coverage"]) == {"cox_dh_rob_hr_leader[strong-leaders]",
                                    "cox_dh_ctl_hr_leader[strong-leaders]"}
    assert {"cox_dh_rob_leader", "perm_leader", "shuffle_dept_all", "cox_dh_ctl_leader"} <= set(
        res["rejection_rate"]["null"])
