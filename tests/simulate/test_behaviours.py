"""Hashtag campaigns: leader vs peer transmission through the product, and the generator.

Through the product (``test_*_through_the_product``): simulate → ingest → the ``contagion``
analysis (first uses of each campaign hashtag, follows as the exposure network, exposure curves of
Romero et al.) → compared with the planted transmission probabilities in ``sim_truth_effects``.
The share of members who adopt while exactly one leader (peer) they follow has used the hashtag
is what an analyst sees; it is below the planted probability (a second exposure or the window end
comes before the delayed use), so the tests assert the order and the bound, with Wilson bands.

Generator tests (``test_generator_*``) check the simulator from its truth tables. Their
estimator uses the recorded source of each use: every first use of a hashtag by account ``j`` at
time ``t`` exposes the followers of ``j`` who were on the platform at ``t`` and had not used it yet
(a *trial*); the trial is *credited* when the follower's use is attributed to ``j``. A successful
trial is not credited when another source reached the follower first, so credited / trials
underestimates the probability. With the planted delay distribution (exponential, mean ``δ``)
the likelihood of a trial is ``p`` when credited and ``1 - p·(1 - exp(-Δ/δ))`` otherwise, where
``Δ`` is the time from the trial to the follower's use (or to the end of the window): the maximum
likelihood estimate of ``p`` per kind of source is what is compared with the planted value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize_scalar


def transmission(result):
    p = result.truth("people")
    ties = result.truth("ties")
    uses = result.truth("campaign_uses")
    on = dict(zip(p.person_id, p.adopted_at, strict=True))
    leader = dict(zip(p.person_id, p.is_leader, strict=True))
    personal = dict(zip(p.person_id, p.account_id, strict=True))
    followers = ties.groupby("dst_person_id").src_person_id.apply(list).to_dict()
    end = pd.Timestamp(result.config.start, tz="UTC") + pd.Timedelta(days=result.config.days)
    delay = result.config.transmit_delay_days * 86400.0
    out = {"leader": ([], []), "peer": ([], [])}
    for _c, g in uses.groupby("campaign_id"):
        used = dict(zip(g.person_id, g.used_at, strict=True))
        src = dict(zip(g.person_id, g.source_account_id, strict=True))
        for j, t, acc in zip(g.person_id, g.used_at, g.account_id, strict=True):
            if j is None or acc != personal[j]:  # official and delegate accounts
                continue
            kind = "leader" if leader[j] else "peer"
            for i in followers.get(j, ()):
                joined = on[i]
                if pd.isna(joined) or joined >= t:
                    continue
                if i in used and used[i] <= t:
                    continue
                out[kind][0].append(src.get(i) == acc)
                out[kind][1].append(((used.get(i, end)) - t).total_seconds())
    est = {}
    for kind, (credited, gap) in out.items():
        credited = np.asarray(credited, bool)
        w = 1 - np.exp(-np.asarray(gap, float)[~credited] / delay)
        nll = lambda p, c=credited, w=w: -(c.sum() * np.log(p) + np.log1p(-p * w).sum())  # noqa: E731
        est[kind] = (minimize_scalar(nll, bounds=(1e-6, 1 - 1e-6), method="bounded").x, len(credited))
    return est


def test_generator_plants_leader_and_peer_transmission(unconfounded):
    est = transmission(unconfounded)
    cfg = unconfounded.config
    for kind, planted in (("leader", cfg.p_transmit_leader), ("peer", cfg.p_transmit_peer)):
        p_hat, n = est[kind]
        se = np.sqrt(planted * (1 - planted) / n)
        assert n > 1000
        assert abs(p_hat - planted) < 3 * se + 0.01 * planted + 0.005, (kind, p_hat, planted, n)
    assert est["leader"][0] > 2 * est["peer"][0]


def test_generator_null_transmission_is_equal(null):
    est = transmission(null)
    (pl, nl), (pp, npeer) = est["leader"], est["peer"]
    se = np.sqrt(pl * (1 - pl) / nl + pp * (1 - pp) / npeer)
    assert abs(pl - pp) < 3 * se


def test_generator_trial_counts_match_the_planted_probabilities(unconfounded):
    c = unconfounded.truth("campaigns").sum(numeric_only=True)
    cfg = unconfounded.config
    for kind, p in (("leader", cfg.p_transmit_leader), ("peer", cfg.p_transmit_peer),
                    ("official", cfg.p_transmit_official)):
        n, s = c[f"n_trials_{kind}"], c[f"n_successes_{kind}"]
        assert abs(s / n - p) < 3 * np.sqrt(p * (1 - p) / n), kind


def test_generator_campaigns_have_every_kind_of_seed(unconfounded):
    c = unconfounded.truth("campaigns")
    assert set(c.seed_kind) == {"leader", "official", "delegate", "member"}
    uses = unconfounded.truth("campaign_uses")
    first = uses.sort_values("used_at").groupby("campaign_id").head(1)
    assert (first.source_kind == "seed").all()
    assert (uses.groupby("campaign_id").size() == c.set_index("campaign_id").n_users).all()


def _curves_through_product(preset, tmp_path):
    import socialens
    from socialens.analyses.contagion import contagion

    from .conftest import QUICK

    out = tmp_path / "w.duckdb"
    socialens.simulate(people=800, seed=31, preset=preset, out=out, n_campaigns=30, **QUICK)
    ws = socialens.open(out, read_only=True)
    try:
        r = contagion(ws, behaviours="top-hashtags:30", exposure=("follows",))
        eff = ws.table("sim_truth_effects").to_pandas().set_index("name").planted
    finally:
        ws.close()
    c = r.tables["exposure_curves"].set_index(["exposure", "k"])
    return c.loc[("leaders seen", 1)], c.loc[("peers seen", 1)], eff


@pytest.mark.slow
def test_leader_transmission_exceeds_peer_through_the_product(tmp_path):
    lead, peer, eff = _curves_through_product("unconfounded", tmp_path)
    assert eff["p_transmit_leader"] == 0.15 and eff["p_transmit_peer"] == 0.05
    assert lead.at_risk > 500 and peer.at_risk > 500
    # the Wilson bands are apart, leaders' share about twice the peers' (seed 31: 0.091, 0.048)
    assert lead.p_low > peer.p_high and lead.p > 1.5 * peer.p
    # an analyst's share at exactly one exposure is a lower bound of the planted probability
    assert lead.p_high < eff["p_transmit_leader"] and peer.p_low < eff["p_transmit_peer"]


@pytest.mark.slow
def test_null_transmission_through_the_product(tmp_path):
    lead, peer, eff = _curves_through_product("null", tmp_path)
    assert eff["p_transmit_leader"] == eff["p_transmit_peer"] == 0.05
    assert lead.at_risk > 100 and peer.at_risk > 100
    # leaders transmit like peers: the bands overlap (seed 31: 0.022 and 0.027)
    assert lead.p_low < peer.p_high and peer.p_low < lead.p_high
    assert lead.p < 0.05 and peer.p < 0.05
