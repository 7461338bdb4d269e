"""Hashtag campaigns: behaviours introduced by a leader's personal account, the official account, a
delegate account or an ordinary member, spreading as a continuous-time independent cascade.

When account ``j`` first uses the hashtag at time ``t``, every follower ``i`` of ``j`` who is on the
platform at ``t``, whose tie to ``j`` is active that day and who has not used the hashtag before ``t``
gets one independent chance to take it up, with the **planted** probability ``p_transmit_leader``
(``j`` is a leader's personal account), ``p_transmit_peer`` (a member's) or ``p_transmit_official``
(the official or a delegate account, followed by members with ``follows_official``); on success ``i``
uses it after an exponential delay (mean ``transmit_delay_days``) unless someone else reached ``i``
first. Every use is a post carrying the hashtag. Each campaign has its own random stream
``default_rng([seed, 202, campaign])``.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from socialens.simulate.activity import DAY, Population
from socialens.simulate.config import SimConfig
from socialens.simulate.network import Network
from socialens.simulate.org import Org

__all__ = ["Campaigns", "simulate_campaigns", "SEED_KINDS", "SOURCE_KINDS"]

SEED_KINDS = ("leader", "official", "delegate", "member")
SOURCE_KINDS = ("seed", "leader", "peer", "official", "delegate")
_WORDS = ("wowservice", "deliverhappiness", "teamspirit", "culturebook", "funweek", "greenoffice",
          "bootcamp", "shoesday", "familyday", "townhall", "learnlunch", "givingback")


@dataclass
class Campaigns:
    rows: list[dict] = field(default_factory=list)       # one per campaign
    ent: list[np.ndarray] = field(default_factory=list)  # per campaign: users (entity ids)
    sec: list[np.ndarray] = field(default_factory=list)
    src: list[np.ndarray] = field(default_factory=list)  # entity that transmitted (-1 = seed)


def hashtag(c: int) -> str:
    return f"{_WORDS[c % len(_WORDS)]}{c + 1}"


def _followers(e: int, t: int, cfg, org, net, pop) -> np.ndarray:
    """Persons following account ``e`` at second ``t`` who are on the platform."""
    n = pop.n
    if e < n:
        ties = net.order[net.indptr[e]:net.indptr[e + 1]]
        d = t // DAY
        ties = ties[(net.start[ties] <= d) & (net.end[ties] > d)]
        f = net.src[ties]
    elif e > n and cfg.delegate_audience == "owner":  # a delegate reaches its owner's followers
        return _followers(int(pop.delegates_of[e - n - 1]), t, cfg, org, net, pop)
    else:
        f = pop._official_followers
    c = pop.created_sec[f]
    return f[(c >= 0) & (c < t)]


def simulate_campaigns(cfg: SimConfig, seed: int, org: Org, net: Network,
                       pop: Population) -> Campaigns:
    n = pop.n
    end = cfg.days * DAY
    pop._official_followers = np.flatnonzero(pop.follows_official)
    out = Campaigns()
    leaders = np.flatnonzero(org.is_leader)
    members = np.flatnonzero(~org.is_leader)
    for c in range(cfg.n_campaigns):
        rng = np.random.default_rng([seed, 202, c])
        kind = int(rng.choice(4, p=np.asarray(cfg.campaign_seed_shares)))
        day = int(rng.integers(int(cfg.days * 0.1), max(int(cfg.days * 0.8), int(cfg.days * 0.1) + 1)))
        t0 = day * DAY + int(rng.integers(0, DAY))
        on = pop.created_sec
        if kind == 0:
            cand = leaders[(on[leaders] >= 0) & (on[leaders] < t0)]
        elif kind == 3:
            cand = members[(on[members] >= 0) & (on[members] < t0)]
        elif kind == 2:
            cand = np.arange(n + 1, pop.n_entities)
        else:
            cand = np.array([n])
        if len(cand) == 0:
            kind, cand = 1, np.array([n])
        seed_ent = int(cand[rng.integers(len(cand))])
        done = np.zeros(n, dtype=bool)
        users, times, srcs = [seed_ent], [t0], [-1]
        trials = {k: 0 for k in SOURCE_KINDS[1:]}
        hits = {k: 0 for k in SOURCE_KINDS[1:]}
        if seed_ent < n:
            done[seed_ent] = True
        heap: list[tuple[int, int, int]] = []
        best = {}

        def attempt(e: int, t: int, done=done, trials=trials, hits=hits, rng=rng, best=best,
                    heap=heap) -> None:
            f = _followers(e, t, cfg, org, net, pop)
            f = f[~done[f]]
            if e < n:
                src_kind = "leader" if org.is_leader[e] else "peer"
                p = cfg.p_transmit_leader if org.is_leader[e] else cfg.p_transmit_peer
            else:
                src_kind = "official" if e == n else "delegate"
                p = cfg.p_transmit_official
            trials[src_kind] += len(f)
            win = f[rng.random(len(f)) < p]
            hits[src_kind] += len(win)
            delay = np.floor(rng.exponential(cfg.transmit_delay_days * DAY, size=len(win)))
            for i, tt in zip(win.tolist(), (t + 60 + delay.astype(np.int64)).tolist(), strict=True):
                if tt < end and tt < best.get(i, end):
                    best[i] = tt
                    heapq.heappush(heap, (tt, i, e))

        attempt(seed_ent, t0)
        while heap:
            t, i, e = heapq.heappop(heap)
            if done[i] or best.get(i) != t:
                continue
            done[i] = True
            users.append(i)
            times.append(t)
            srcs.append(e)
            attempt(i, t)
        out.rows.append({
            "campaign": c, "hashtag": hashtag(c), "seed_kind": SEED_KINDS[kind],
            "seed_ent": seed_ent, "introduced_sec": t0, "n_users": len(users),
            **{f"n_trials_{k}": v for k, v in trials.items()},
            **{f"n_successes_{k}": v for k, v in hits.items()},
        })
        out.ent.append(np.asarray(users, dtype=np.int64))
        out.sec.append(np.asarray(times, dtype=np.int64))
        out.src.append(np.asarray(srcs, dtype=np.int64))
    return out
