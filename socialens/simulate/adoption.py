"""Adoption of the platform as a discrete-time proportional-hazard process.

For a person ``i`` not yet on the platform, the probability of joining on day ``t`` is
``1 - exp(-h_i(t))`` with

    h_i(t) = base_hazard · exp(trend_log_hr · t / days) · shock_{dept(i)}(t) · exp(affinity_log_hr · a_i)
             · leader_baseline_hr^{leader_i} · hr_leader_exposure^{EL_i(t)} · hr_peer_exposure^{EP_i(t)}

where ``EL_i(t)`` (``EP_i(t)``) is 1 when, at the start of day ``t``, ``i`` has an active tie to at
least one leader (non-leader) who joined before day ``t``. The first three factors after the base
hazard are the confounders (shared trend, department shocks, homophily on the latent affinity ``a``).

Each adoption is also *attributed* to a cause (``baseline``, ``leader`` or ``peer``), drawn in
proportion to the share of the hazard each part contributes (the excess hazard ``h·(1 - 1/HR)`` split
between the two exposures in proportion to their log hazard ratios), and an influencer is drawn among
the exposing adopted contacts of that kind. The attribution is part of the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from socialens.simulate.config import SimConfig
from socialens.simulate.network import NEVER, Network
from socialens.simulate.org import Org

__all__ = ["Adoption", "simulate_adoption", "CAUSES"]

CAUSES = ("seed", "baseline", "leader", "peer")


@dataclass
class Adoption:
    day: np.ndarray              # int32 adoption day, NEVER = not adopted in the window
    cause: np.ndarray            # int8 index into CAUSES, -1 = not adopted
    influencer: np.ndarray       # int64 person, -1 = none
    leader_exposed_day: np.ndarray  # int32 first day with EL = 1, NEVER if never
    peer_exposed_day: np.ndarray    # int32 first day with EP = 1
    shock_start: np.ndarray      # int32 per department (index = department + 1)

    @property
    def adopted(self) -> np.ndarray:
        return self.day != NEVER


def simulate_adoption(cfg: SimConfig, org: Org, net: Network, rng: np.random.Generator) -> Adoption:
    n, days = org.n, cfg.days
    leader = org.is_leader
    day = np.full(n, NEVER, dtype=np.int32)
    cause = np.full(n, -1, dtype=np.int8)
    influencer = np.full(n, -1, dtype=np.int64)
    first_l = np.full(n, NEVER, dtype=np.int32)
    first_p = np.full(n, NEVER, dtype=np.int32)
    c_l = np.zeros(n, dtype=np.int32)
    c_p = np.zeros(n, dtype=np.int32)
    # seeds: the highest leaders, already on the platform on day 0
    seeds = np.flatnonzero(leader)[: cfg.adopted_at_start_leaders]
    day[seeds] = 0
    cause[seeds] = 0
    n_dept = max(org.n_departments, 1)
    shock_start = rng.integers(0, max(days - cfg.dept_shock_days, 1), size=n_dept + 1, dtype=np.int32)
    dept_idx = org.department + 1
    static = cfg.base_hazard * np.exp(cfg.affinity_log_hr * net.affinity)
    static = static * np.where(leader, cfg.leader_baseline_hr, 1.0)
    log_l, log_p = np.log(cfg.hr_leader_exposure), np.log(cfg.hr_peer_exposure)
    # tie events bucketed by day
    start_days = net.start
    late = np.flatnonzero((start_days > 0) & (start_days < days))
    late = late[np.argsort(start_days[late], kind="stable")]
    late_ptr = np.searchsorted(start_days[late], np.arange(days + 1))
    ending = np.flatnonzero(net.end < days)
    ending = ending[np.argsort(net.end[ending], kind="stable")]
    end_ptr = np.searchsorted(net.end[ending], np.arange(days + 1))
    dst_leader = leader[net.dst]
    newly = np.empty(0, dtype=np.int64)
    for t in range(days):
        # (ii) yesterday's adopters expose their followers through ties active today
        if len(newly):
            ties = net.follower_ties(newly)
            ties = ties[(net.start[ties] < t) & (net.end[ties] > t)]
            _bump(c_l, c_p, net.src[ties], dst_leader[ties], +1)
        # (i) ties starting today to people who joined before today
        ties = late[late_ptr[t]:late_ptr[t + 1]]
        ties = ties[day[net.dst[ties]] < t]
        _bump(c_l, c_p, net.src[ties], dst_leader[ties], +1)
        # ties ending today that were counted (dst joined at least two days ago)
        ties = ending[end_ptr[t]:end_ptr[t + 1]]
        ties = ties[(day[net.dst[ties]].astype(np.int64) + 1 < t)
                    & (np.maximum(net.start[ties], day[net.dst[ties]].astype(np.int64) + 1) < t)]
        _bump(c_l, c_p, net.src[ties], dst_leader[ties], -1)
        el, ep = c_l > 0, c_p > 0
        first_l[(first_l == NEVER) & el] = t
        first_p[(first_p == NEVER) & ep] = t
        at_risk = day == NEVER
        shock = np.where((t >= shock_start) & (t < shock_start + cfg.dept_shock_days),
                         cfg.dept_shock_hr, 1.0)
        log_exp = log_l * el + log_p * ep
        h = static * np.exp(cfg.trend_log_hr * t / days + log_exp) * shock[dept_idx]
        u = rng.random(n)
        joins = at_risk & (u < -np.expm1(-h))
        newly = np.flatnonzero(joins)
        day[newly] = t
        if len(newly):
            _attribute(newly, h, log_l * el, log_p * ep, cause, influencer, net, day, t, leader, rng)
        if t == 0:
            newly = np.union1d(newly, seeds)
    return Adoption(day, cause, influencer, first_l, first_p, shock_start)


def _bump(c_l, c_p, src, to_leader, sign):
    if len(src):
        np.add.at(c_l, src[to_leader], sign)
        np.add.at(c_p, src[~to_leader], sign)


def _attribute(newly, h, ll, lp, cause, influencer, net, day, t, leader, rng):
    hh = h[newly]
    tot = ll[newly] + lp[newly]
    excess = np.where(tot > 0, 1.0 - np.exp(-tot), 0.0)  # share of hazard due to exposure
    u = rng.random(len(newly))
    share_l = np.where(tot > 0, ll[newly] / np.where(tot > 0, tot, 1.0), 0.0)
    is_exposure = u < excess
    to_leader = is_exposure & (rng.random(len(newly)) < share_l)
    c = np.full(len(newly), 1, dtype=np.int8)
    c[is_exposure] = 3
    c[to_leader] = 2
    cause[newly] = c
    del hh
    # influencer: a uniformly drawn exposing contact of the attributed kind
    for i, ci in zip(newly[c > 1], c[c > 1], strict=True):
        lo = np.searchsorted(net.src, i, side="left")
        hi = np.searchsorted(net.src, i, side="right")
        d = net.dst[lo:hi]
        ok = (day[d] < t) & (net.start[lo:hi] < t) & (net.end[lo:hi] > t) & (leader[d] == (ci == 2))
        cand = d[ok]
        if len(cand):
            influencer[i] = cand[rng.integers(len(cand))]
