"""Posting activity, tone, personal sharing and reply threads, generated in chunks.

*Accounts* ("entities") are numbered: people ``0 … n-1`` (personal accounts), then the official
account ``n``, then the delegate accounts ``n+1 …`` (run for the highest leaders). Posting rates are
log-normal (heavy-tailed); leaders' rates are multiplied by ``leader_rate_multiplier``.

Posts are generated block by block (256 accounts per block, each block with its own random stream
``default_rng([seed, 101, block])``), so the output does not depend on the chunk size used to write it,
and memory is bounded by the chunk size.

Tone and personal sharing: a member's planned tone (the VADER compound their text will carry) is
``tone_i + tone_shift · (T_i - tone_i) · exposed + noise`` where ``T_i`` is the mean tone of the leaders
``i`` follows and ``exposed`` says whether the post is after ``i``'s first exposure to an adopted leader
(and after ``i`` joined). Personal sharing shifts the same way with ``personal_shift``.

Replies go to a follower of the author (leaders' posts get ``reply_to_leader_boost`` times as many);
with probability ``coordination_leader`` (replying to a leader) or ``coordination_peer`` the reply
copies one function-word category present in the post it answers (**planted coordination**). The author
answers back in 30 % of threads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from socialens.simulate.adoption import Adoption
from socialens.simulate.config import SimConfig
from socialens.simulate.network import NEVER, Network
from socialens.simulate.org import Org
from socialens.simulate.texts import MARKERS, TextBank

__all__ = ["Population", "build_population", "iter_post_chunks", "BLOCK", "POST_KINDS"]

BLOCK = 256
DAY = 86400
POST_KINDS = ("original", "reply", "reply_back", "campaign")
_BACK_REPLY = 0.3


@dataclass
class Population:
    """Per-account arrays (length ``n_entities``) and per-person traits."""

    n: int
    n_entities: int
    delegates_of: np.ndarray     # person index of each delegate account
    created_sec: np.ndarray      # int64 seconds from start; -1 = no account
    rate: np.ndarray             # posts/day
    counts: np.ndarray           # original posts per account
    tone: np.ndarray             # baseline planned tone
    tone_target: np.ndarray      # mean tone of the leaders followed
    personal: np.ndarray         # baseline personal share
    personal_target: np.ndarray
    exposed_sec: np.ndarray      # first second from which a member's posts are "exposed" (inf = never)
    is_leader_entity: np.ndarray
    follows_official: np.ndarray  # per person
    external_followers: np.ndarray
    level_entity: np.ndarray

    @property
    def has_account(self) -> np.ndarray:
        return self.created_sec >= 0


def build_population(cfg: SimConfig, org: Org, net: Network, adoption: Adoption,
                     rng: np.random.Generator) -> Population:
    n = org.n
    leaders = np.flatnonzero(org.is_leader)
    delegates_of = leaders[: cfg.n_delegates]
    m = n + 1 + len(delegates_of)
    created = np.full(m, -1, dtype=np.int64)
    adopted = adoption.adopted
    offset = rng.integers(0, DAY, size=n)
    created[:n] = np.where(adopted, adoption.day.astype(np.int64) * DAY + offset, -1)
    created[np.flatnonzero(adoption.cause == 0)] = 0  # seeds: already there at the start
    created[n:] = 0
    rate = np.empty(m)
    rate[:n] = cfg.post_rate_median * np.exp(cfg.post_rate_sigma * rng.standard_normal(n))
    rate[:n] *= np.where(org.is_leader, cfg.leader_rate_multiplier, 1.0)
    rate[n] = cfg.post_rate_median * cfg.leader_rate_multiplier
    rate[n + 1:] = rate[delegates_of]
    active_days = np.where(created >= 0, cfg.days - created / DAY, 0.0)
    if cfg.target_posts is not None:
        expected = float((rate * active_days).sum())
        if expected > 0:
            rate = rate * (cfg.target_posts / expected)
    counts = rng.poisson(rate * active_days)
    # tone and personal sharing
    leader = org.is_leader
    tone = np.clip(rng.normal(cfg.tone_member_mean, cfg.tone_member_sd, size=n), -0.95, 0.95)
    tone[leader] = np.clip(cfg.tone_leader + rng.normal(0, 0.1, size=len(leaders)), -0.95, 0.95)
    conc = 10.0
    pm = min(max(cfg.personal_member_mean, 1e-6), 1 - 1e-6)
    personal = rng.beta(pm * conc, (1 - pm) * conc, size=n)
    personal[leader] = cfg.personal_leader
    to_leader = leader[net.dst]
    k = np.bincount(net.src[to_leader], minlength=n)
    t_sum = np.bincount(net.src[to_leader], weights=tone[net.dst[to_leader]], minlength=n)
    p_sum = np.bincount(net.src[to_leader], weights=personal[net.dst[to_leader]], minlength=n)
    tone_target = np.where(k > 0, t_sum / np.maximum(k, 1), tone[leader].mean())
    personal_target = np.where(k > 0, p_sum / np.maximum(k, 1), personal[leader].mean())
    first = adoption.leader_exposed_day.astype(np.int64)
    exposed_sec = np.where(first == NEVER, np.inf, first * float(DAY))
    exposed_sec = np.maximum(exposed_sec, created[:n].astype(float))
    exposed_sec[leader | ~adopted] = np.inf
    follows_official = rng.random(n) < cfg.p_follow_official
    boost = np.asarray(cfg.external_followers_level_boost, dtype=float)
    level_ent = np.concatenate([org.level, np.ones(m - n, dtype=org.level.dtype)])  # like C-suite
    ext = cfg.external_followers_median * np.exp(1.2 * rng.standard_normal(m))
    ext *= boost[np.minimum(level_ent, len(boost) - 1)]
    ext[n] *= 2
    ent_leader = np.concatenate([leader, np.zeros(m - n, dtype=bool)])
    return Population(n, m, delegates_of, created, rate, counts, tone, tone_target, personal,
                      personal_target, exposed_sec, ent_leader, follows_official,
                      np.floor(ext).astype(np.int64), level_ent)


def _entity_tone(pop: Population, ent: np.ndarray, sec: np.ndarray, cfg: SimConfig):
    """Mean planned tone, personal probability and exposure flag of posts by ``ent`` at ``sec``."""
    n = pop.n
    is_person = ent < n
    pe = np.where(is_person, ent, 0)
    exposed = is_person & (sec >= pop.exposed_sec[pe])
    tone = np.where(is_person, pop.tone[pe], cfg.tone_leader * 0.5)
    tone = tone + cfg.tone_shift * (pop.tone_target[pe] - tone) * exposed
    pers = np.where(is_person, pop.personal[pe], 0.0)
    pers = pers + cfg.personal_shift * (pop.personal_target[pe] - pers) * exposed
    return tone, pers, exposed


def _block(b: int, cfg: SimConfig, seed: int, org: Org, net: Network, pop: Population,
           bank: TextBank, seq0: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 101, b])
    lo, hi = b * BLOCK, min((b + 1) * BLOCK, pop.n_entities)
    ents = np.arange(lo, hi)
    cnt = pop.counts[lo:hi]
    ent = np.repeat(ents, cnt)
    end = cfg.days * DAY
    c0 = pop.created_sec[ent]
    sec = c0 + np.floor(rng.random(len(ent)) * (end - c0)).astype(np.int64)
    o = np.lexsort((sec, ent))
    ent, sec = ent[o], sec[o]
    seq = seq0 + np.arange(len(ent), dtype=np.int64)
    tone_mu, pers_p, exposed = _entity_tone(pop, ent, sec, cfg)
    planned = np.clip(tone_mu + rng.normal(0, cfg.tone_post_sd, size=len(ent)), -1, 1)
    personal = rng.random(len(ent)) < pers_p
    frag = bank.originals(personal, planned, rng)
    out = {
        "kind": np.zeros(len(ent), np.int8), "ent": ent, "sec": sec, "seq": seq,
        "rep": np.full(len(ent), -1, np.int32), "parent_seq": np.full(len(ent), -1, np.int64),
        "parent_ent": np.full(len(ent), -1, np.int64), "planned": planned,
        "personal": personal.astype(np.int8), "exposed": exposed, "frag": frag,
        "marker": np.full(len(ent), -1, np.int8),
    }
    # replies, from followers of person-authored posts
    is_person = ent < pop.n
    lam = cfg.reply_share * np.where(pop.is_leader_entity[ent], cfg.reply_to_leader_boost, 1.0)
    nrep = np.where(is_person, rng.poisson(lam), 0)
    parent = np.repeat(np.arange(len(ent)), nrep)
    r_k = np.arange(len(parent)) - np.repeat(np.cumsum(nrep) - nrep, nrep)
    author = ent[parent]
    deg = net.indptr[author + 1] - net.indptr[author]
    pick = net.indptr[author] + np.floor(rng.random(len(parent)) * deg).astype(np.int64)
    r_sec = sec[parent] + 60 + np.floor(rng.exponential(0.3 * DAY, size=len(parent))).astype(np.int64)
    ok = deg > 0
    tie = net.order[np.where(ok, pick, 0)]
    replier = net.src[tie]
    r_day = r_sec // DAY
    ok &= (r_sec < end) & (net.start[tie] <= r_day) & (net.end[tie] > r_day)
    c_rep = pop.created_sec[replier]
    ok &= (c_rep >= 0) & (c_rep < r_sec)
    parent, r_k, replier, r_sec, author = parent[ok], r_k[ok], replier[ok], r_sec[ok], author[ok]
    tone_mu, pers_p, r_exp = _entity_tone(pop, replier, r_sec, cfg)
    r_planned = np.clip(tone_mu + rng.normal(0, cfg.tone_post_sd, size=len(replier)), -1, 1)
    c = np.where(pop.is_leader_entity[author], cfg.coordination_leader, cfg.coordination_peer)
    coord = rng.random(len(replier)) < c
    pm = bank.markers[frag[parent]]
    score = rng.random(pm.shape) * pm
    marker = np.where(coord & pm.any(axis=1), score.argmax(axis=1), -1).astype(np.int8)
    r_frag = bank.replies(r_planned, marker, rng)
    reps = {
        "kind": np.ones(len(replier), np.int8), "ent": replier, "sec": r_sec, "seq": seq[parent],
        "rep": r_k.astype(np.int32), "parent_seq": seq[parent], "parent_ent": author,
        "planned": r_planned, "personal": np.full(len(replier), -1, np.int8), "exposed": r_exp,
        "frag": r_frag, "marker": marker,
    }
    # the author answers back in some threads
    back = rng.random(len(replier)) < _BACK_REPLY
    b_sec = r_sec[back] + 60 + np.floor(rng.exponential(0.3 * DAY, size=int(back.sum()))).astype(np.int64)
    keep = b_sec < end
    bi = np.flatnonzero(back)[keep]
    b_sec = b_sec[keep]
    b_ent = author[bi]
    tone_mu, _, b_exp = _entity_tone(pop, b_ent, b_sec, cfg)
    b_planned = np.clip(tone_mu + rng.normal(0, cfg.tone_post_sd, size=len(bi)), -1, 1)
    backs = {
        "kind": np.full(len(bi), 2, np.int8), "ent": b_ent, "sec": b_sec, "seq": seq[parent[bi]],
        "rep": r_k[bi].astype(np.int32), "parent_seq": seq[parent[bi]], "parent_ent": replier[bi],
        "planned": b_planned, "personal": np.full(len(bi), -1, np.int8), "exposed": b_exp,
        "frag": bank.replies(b_planned, np.full(len(bi), -1, np.int8), rng),
        "marker": np.full(len(bi), -1, np.int8),
    }
    return {k: np.concatenate([out[k], reps[k], backs[k]]) for k in out}


def iter_post_chunks(cfg: SimConfig, seed: int, org: Org, net: Network, pop: Population,
                     bank: TextBank) -> Iterator[dict[str, np.ndarray]]:
    """Yield chunks of generated posts (originals, replies, answers), each of about
    ``cfg.chunk_posts`` original posts, as dicts of equal-length arrays."""
    n_blocks = -(-pop.n_entities // BLOCK)
    per_block = np.add.reduceat(pop.counts, np.arange(0, pop.n_entities, BLOCK))
    seq0 = np.concatenate([[0], np.cumsum(per_block)])
    parts, size = [], 0
    for b in range(n_blocks):
        parts.append(_block(b, cfg, seed, org, net, pop, bank, int(seq0[b])))
        size += int(per_block[b])
        if size >= cfg.chunk_posts or b == n_blocks - 1:
            yield {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
            parts, size = [], 0


MARKER_NAMES = np.array(list(MARKERS) + [None], dtype=object)
