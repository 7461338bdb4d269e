"""Recovery of the planted adoption hazard ratios with a direct estimator written here.

The estimator: for every non-leader, split the days at risk (day 0 to the adoption day) by whether a
leader (a non-leader) they follow had joined before that day, count adoptions and person-days in the
four cells, and fit the multiplicative model ``rate = exp(b0 + bL·EL + bP·EP)`` by Poisson maximum
likelihood (Newton's method on the four cells). Daily probabilities are turned into hazards with
``-log(1 - p)``, as in the generator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def exposure_cells(result):
    """Events and person-days by (leader-exposed, peer-exposed) for non-leaders; static networks."""
    cfg = result.config
    p = result.truth("people")
    ties = result.truth("ties")
    start = pd.Timestamp(cfg.start, tz="UTC")
    days = cfg.days
    a = ((p.adopted_at - start).dt.total_seconds() // 86400).fillna(days).astype(int)
    adopt = dict(zip(p.person_id, a, strict=True))
    leader = dict(zip(p.person_id, p.is_leader, strict=True))
    ties = ties.assign(da=ties.dst_person_id.map(adopt), dl=ties.dst_person_id.map(leader))
    first_l = ties[ties.dl].groupby("src_person_id").da.min() + 1
    first_p = ties[~ties.dl].groupby("src_person_id").da.min() + 1
    m = p[~p.is_leader]
    a = m.person_id.map(adopt).to_numpy()
    el = m.person_id.map(first_l).fillna(10**9).to_numpy()
    ep = m.person_id.map(first_p).fillna(10**9).to_numpy()
    last = np.minimum(a, days - 1) + 1  # at risk on days [0, last)
    ev = np.zeros((2, 2))
    pt = np.zeros((2, 2))
    lo_l, lo_p = np.minimum(el, last), np.minimum(ep, last)
    for i in (0, 1):
        for j in (0, 1):
            lo = np.maximum(lo_l if i else 0, lo_p if j else 0)
            hi = np.minimum(last if i else lo_l, last if j else lo_p)
            pt[i, j] = np.clip(hi - lo, 0, None).sum()
    joined = a < days
    for i in (0, 1):
        for j in (0, 1):
            ev[i, j] = (joined & ((a >= el) == bool(i)) & ((a >= ep) == bool(j))).sum()
    return ev, pt


def fit_hazard_ratios(ev, pt):
    """Poisson MLE of log rate = b0 + bL·EL + bP·EP on the 2×2 cells; returns (HR_L, HR_P, se)."""
    X = np.array([[1, 0, 0], [1, 0, 1], [1, 1, 0], [1, 1, 1]], float)
    y = np.array([ev[0, 0], ev[0, 1], ev[1, 0], ev[1, 1]])
    t = np.array([pt[0, 0], pt[0, 1], pt[1, 0], pt[1, 1]])
    y = -np.log1p(-y / t) * t  # daily probabilities -> hazards
    b = np.array([np.log(y.sum() / t.sum()), 0, 0])
    for _ in range(50):
        mu = t * np.exp(X @ b)
        info = X.T @ (mu[:, None] * X)
        b = b + np.linalg.solve(info, X.T @ (y - mu))
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    return np.exp(b[1]), np.exp(b[2]), se[1:]


def test_unconfounded_hazard_ratios_are_recovered(unconfounded):
    ev, pt = exposure_cells(unconfounded)
    assert ev.min() >= 30, ev  # every cell is informative
    hr_l, hr_p, se = fit_hazard_ratios(ev, pt)
    cfg = unconfounded.config
    # within 3 standard errors (on the log scale) of the planted values
    assert abs(np.log(hr_l) - np.log(cfg.hr_leader_exposure)) < 3 * se[0], (hr_l, se)
    assert abs(np.log(hr_p) - np.log(cfg.hr_peer_exposure)) < 3 * se[1], (hr_p, se)
    assert hr_l > hr_p > 1


def test_null_gives_no_effect(null):
    hr_l, hr_p, se = fit_hazard_ratios(*exposure_cells(null))
    assert abs(np.log(hr_l)) < 3 * se[0], (hr_l, se)
    assert abs(np.log(hr_p)) < 3 * se[1], (hr_p, se)


def test_homophily_only_fools_the_naive_estimator(tmp_path):
    """No influence is planted, but shocks, trend and homophily make exposure look like influence."""
    from socialens.simulate import simulate

    from .conftest import QUICK

    r = simulate(people=4000, seed=8, preset="homophily-only", files=tmp_path, n_campaigns=2,
                 **QUICK)
    assert r.config.hr_leader_exposure == r.config.hr_peer_exposure == 1.0
    hr_l, hr_p, se = fit_hazard_ratios(*exposure_cells(r))
    assert hr_l > 1.3 or hr_p > 1.3, (hr_l, hr_p)


def test_truth_records_causes_and_influencers(unconfounded):
    p = unconfounded.truth("people")
    adopted = p[p.adopted_at.notna()]
    assert set(adopted.adoption_cause) <= {"seed", "baseline", "leader", "peer"}
    assert (adopted.adoption_cause == "seed").sum() == unconfounded.config.adopted_at_start_leaders
    infl = adopted[adopted.adoption_cause.isin(["leader", "peer"])]
    assert infl.influencer_person_id.notna().mean() > 0.95
    lead = set(p.person_id[p.is_leader])
    by_leader = infl[infl.adoption_cause == "leader"].influencer_person_id.dropna()
    assert by_leader.isin(lead).all()
    # influencers joined before the people they influenced
    when = dict(zip(p.person_id, p.adopted_at, strict=True))
    assert (infl.influencer_person_id.map(when) < infl.adopted_at).all()
    # nobody is never-adopted with a cause
    assert p[p.adopted_at.isna()].adoption_cause.isna().all()
