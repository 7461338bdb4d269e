"""Orchestration: org → network → adoption → population → campaigns → posts, written as a canonical
folder plus ground truth, then (optionally) ingested into a workspace through the normal ingest path.

Random streams are derived from the one ``seed``: ``default_rng([seed, k])`` for stage ``k`` (1 org,
2 network, 3 adoption, 4 population, 5 writer extras), ``[seed, 101, block]`` for posts and
``[seed, 202, campaign]`` for campaigns.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from socialens.simulate.activity import (
    DAY,
    MARKER_NAMES,
    POST_KINDS,
    build_population,
    iter_post_chunks,
)
from socialens.simulate.adoption import CAUSES, simulate_adoption
from socialens.simulate.behaviours import SOURCE_KINDS, simulate_campaigns
from socialens.simulate.config import SimConfig, SimulationError
from socialens.simulate.network import NEVER, TIE_KINDS, build_network
from socialens.simulate.org import build_org, level_title
from socialens.simulate.texts import text_bank
from socialens.simulate.writer import TRUTH_DIR, CanonicalWriter, iso_times

__all__ = ["SimulationResult", "generate", "load_truth", "TRUTH_TABLES"]

#: ground-truth tables, in load order (migration 0003_sim_truth)
TRUTH_TABLES = ("sim_truth_params", "sim_truth_effects", "sim_truth_people", "sim_truth_ties",
                "sim_truth_campaigns", "sim_truth_campaign_uses", "sim_truth_posts")

_TS = pa.timestamp("s", tz="UTC")


@dataclass
class SimulationResult:
    """What :func:`socialens.simulate` produced."""

    config: SimConfig
    seed: int
    files: Path
    workspace: Path | None = None
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def truth_dir(self) -> Path:
        return self.files / TRUTH_DIR

    def truth(self, name: str) -> pd.DataFrame:
        """A ground-truth table read from its Parquet file (``people``, ``ties``, ``posts``, ...)."""
        return pd.read_parquet(self.truth_dir / f"sim_truth_{name}.parquet")

    def as_dict(self) -> dict:
        return {"preset": self.config.preset, "seed": self.seed, "people": self.config.people,
                "files": str(self.files), "workspace": str(self.workspace) if self.workspace else None,
                "rows": self.rows, "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}


def _ts(base_epoch: int, sec: np.ndarray) -> pa.Array:
    sec = np.asarray(sec, dtype=np.int64)
    return pa.array(base_epoch + sec, type=pa.int64(), mask=sec < 0).cast(_TS)


def _effects(cfg: SimConfig) -> pa.Table:
    rows = [
        ("adoption_hr_leader_exposure", cfg.hr_leader_exposure,
         "hazard ratio of adoption when tied to ≥ 1 adopted leader"),
        ("adoption_hr_peer_exposure", cfg.hr_peer_exposure,
         "hazard ratio of adoption when tied to ≥ 1 adopted non-leader"),
        ("adoption_leader_baseline_hr", cfg.leader_baseline_hr, "leaders' baseline hazard multiplier"),
        ("p_transmit_leader", cfg.p_transmit_leader, "hashtag uptake probability per exposure to a leader's use"),
        ("p_transmit_peer", cfg.p_transmit_peer, "hashtag uptake probability per exposure to a member's use"),
        ("p_transmit_official", cfg.p_transmit_official,
         "hashtag uptake probability per exposure to an official/delegate account's use"),
        ("tone_shift", cfg.tone_shift, "fraction of the way members' tone moves to their leaders' after exposure"),
        ("tone_alignment", cfg.tone_alignment,
         "fraction of the way a member's post on a hashtag moves to the tone of the most recent "
         "leader post on it (within tone_alignment_days)"),
        ("tone_alignment_days", cfg.tone_alignment_days,
         "days a leader's post on a hashtag pulls members' tone on it"),
        ("personal_shift", cfg.personal_shift,
         "fraction of the way members' personal share moves to their leaders' after exposure"),
        ("coordination_leader", cfg.coordination_leader,
         "probability a reply to a leader copies a marker category of the post"),
        ("coordination_peer", cfg.coordination_peer,
         "probability a reply to a non-leader copies a marker category of the post"),
        ("confounder_trend_log_hr", cfg.trend_log_hr, "log baseline hazard increase over the window"),
        ("confounder_dept_shock_hr", cfg.dept_shock_hr, "hazard ratio during a department shock"),
        ("confounder_affinity_log_hr", cfg.affinity_log_hr, "log hazard ratio per unit of latent affinity"),
    ]
    return pa.table({"name": [r[0] for r in rows], "planted": [float(r[1]) for r in rows],
                     "description": [r[2] for r in rows]})


def _campaign_tones(cfg: SimConfig, seed: int, c: int, ents: np.ndarray, secs: np.ndarray,
                    tone: np.ndarray, pop, bank) -> np.ndarray:
    """Planned tones of campaign ``c``'s posts (in use order): the author's tone plus post noise
    (sd ``tone_post_sd``, stream ``[seed, 204, c]``); then **planted tone alignment**: a member's
    post within ``tone_alignment_days`` after a leader's post on the hashtag moves
    ``tone_alignment`` of the way to the VADER compound of the fragment of the most recent one.
    Fragments are drawn with the stream ``[seed, 203, c]``, whose draws do not depend on the tones,
    so the leaders' fragments found here are the ones written."""
    tone = np.clip(tone + np.random.default_rng([seed, 204, c]).normal(0, cfg.tone_post_sd,
                                                                       size=len(tone)), -1, 1)
    is_p = ents < pop.n
    lead = is_p & pop.is_leader_entity[np.minimum(ents, pop.n_entities - 1)]
    if cfg.tone_alignment == 0 or not lead.any():
        return tone
    frag = bank.professional.choose(tone, np.random.default_rng([seed, 203, c]))
    l_sec, l_tone = secs[lead], bank.compound[frag[lead]]
    o = np.argsort(l_sec, kind="stable")
    l_sec, l_tone = l_sec[o], l_tone[o]
    k = np.searchsorted(l_sec, secs, side="left") - 1        # the last leader post strictly before
    ok = is_p & ~lead & (k >= 0)
    ok &= secs - l_sec[np.maximum(k, 0)] <= cfg.tone_alignment_days * DAY
    out = tone.copy()
    out[ok] = tone[ok] + cfg.tone_alignment * (l_tone[k[ok]] - tone[ok])
    return out


def generate(cfg: SimConfig, seed: int, folder: str | Path,
             progress: Callable[[str], None] | None = None) -> SimulationResult:
    """Generate the organization into ``folder`` (canonical files + ``sim_truth/*.parquet``)."""
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise SimulationError(f"seed must be a non-negative integer, not {seed!r}")
    seed = int(seed)
    say = progress or (lambda _msg: None)
    res = SimulationResult(cfg, seed, Path(folder))
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        res.seconds[name] = now - clock
        clock = now

    say("org chart")
    org = build_org(cfg, np.random.default_rng([seed, 1]))
    net = build_network(cfg, org, np.random.default_rng([seed, 2]))
    lap("org_network")
    say("adoption")
    adoption = simulate_adoption(cfg, org, net, np.random.default_rng([seed, 3]))
    lap("adoption")
    pop = build_population(cfg, org, net, adoption, np.random.default_rng([seed, 4]))
    camps = simulate_campaigns(cfg, seed, org, net, pop)
    lap("campaigns")
    bank = text_bank()
    base = np.datetime64(f"{cfg.start}T00:00:00", "s")
    base_epoch = int(base.astype(np.int64))
    end = cfg.days * DAY
    n, m = org.n, pop.n_entities
    pid = org.person_ids()
    dept_names = org.department_names()
    names = org.names()
    handles = np.char.lower(np.char.replace(names.astype(str), " ", "")).astype(object) + \
        np.arange(n).astype(str).astype(object)
    acc = np.empty(m, dtype=object)
    acc[:n] = f"{cfg.platform}:" + pid
    acc[n] = f"{cfg.platform}:official"
    acc[n + 1:] = f"{cfg.platform}:" + pid[pop.delegates_of] + "_team"
    ent_person = np.concatenate([pid, [None], pid[pop.delegates_of]]).astype(object)
    ent_kind = np.array(["personal"] * n + ["official"] + ["delegate"] * len(pop.delegates_of),
                        dtype=object)
    w = CanonicalWriter(folder)
    rng = np.random.default_rng([seed, 5])
    # people, roles, accounts -------------------------------------------------------------------
    mgr = np.where(org.manager >= 0, pid[np.maximum(org.manager, 0)], None)
    w.csv("people", pd.DataFrame({"person_id": pid, "name": names, "department": dept_names,
                                  "opt_in": np.where(rng.random(n) < 0.85, "true", "false"),
                                  "manager_id": mgr}))
    start_iso = iso_times(base, np.zeros(1, np.int64))[0]
    promoted = org.promoted_day >= 0
    titles = np.array([level_title(int(lv), org.depth, d) for lv, d in zip(org.level, dept_names,
                                                                             strict=True)], dtype=object)
    prom_iso = iso_times(base, np.where(promoted, org.promoted_day.astype(np.int64) * DAY, -1))
    r1 = pd.DataFrame({"person_id": pid, "title": titles, "level": org.level.astype(int),
                       "is_leader": np.where(org.is_leader, "true", "false"), "start_at": start_iso,
                       "end_at": prom_iso})
    up = org.level[promoted].astype(int) - 1
    r2 = pd.DataFrame({"person_id": pid[promoted],
                       "title": [level_title(int(lv), org.depth, d) for lv, d in zip(up, dept_names[promoted], strict=True)],
                       "level": up, "is_leader": "false", "start_at": prom_iso[promoted], "end_at": None})
    roles = pd.concat([r1, r2], ignore_index=True).sort_values(["person_id", "start_at"], kind="stable")
    w.csv("roles", roles)
    has = pop.has_account
    display = np.concatenate([names, ["Official account"], names[pop.delegates_of] + " (team)"])
    hnd = np.concatenate([handles, ["official"], handles[pop.delegates_of] + "team"])
    w.csv("accounts", pd.DataFrame({
        "account_id": acc[has], "platform": cfg.platform, "person_id": ent_person[has],
        "handle": hnd[has], "kind": ent_kind[has], "created_at": iso_times(base, pop.created_sec[has]),
        "display_name": display[has]}))
    lap("write_roster")
    # posts --------------------------------------------------------------------------------------
    snap_days = list(range(cfg.snapshot_every_days, cfg.days, cfg.snapshot_every_days)) + [cfg.days]
    snap_sec = np.asarray(snap_days, dtype=np.int64) * DAY
    n_s = len(snap_sec)
    post_bins = np.zeros(m * (n_s + 1), dtype=np.int64)
    frag_text = bank.text
    for i, ch in enumerate(iter_post_chunks(cfg, seed, org, net, pop, bank)):
        say(f"posts chunk {i + 1}")
        kind = ch["kind"]
        base_id = "o" + ch["seq"].astype(str).astype(object)
        rep = ch["rep"].astype(str).astype(object)
        post_id = np.where(kind == 0, base_id, base_id + "r" + rep)
        post_id = np.where(kind == 2, post_id + "a", post_id)
        post_id = f"{cfg.platform}:" + post_id
        parent_id = np.where(kind == 1, f"{cfg.platform}:" + base_id,
                             np.where(kind == 2, f"{cfg.platform}:" + base_id + "r" + rep, None))
        ent = ch["ent"]
        reply_acc = np.where(kind > 0, acc[np.maximum(ch["parent_ent"], 0)], None)
        frame = pd.DataFrame({"post_id": post_id, "account_id": acc[ent],
                              "created_at": iso_times(base, ch["sec"]),
                              "text": frag_text[ch["frag"]], "reply_to_post_id": parent_id,
                              "reply_to_account_id": reply_acc})
        w.posts(frame)
        post_bins += np.bincount(ent * (n_s + 1) + np.searchsorted(snap_sec, ch["sec"], "right"),
                                 minlength=len(post_bins))
        if cfg.truth_posts:
            is_p = ent < n
            w.truth("sim_truth_posts", pa.table({
                "post_id": pa.array(post_id, pa.string()),
                "account_id": pa.array(acc[ent], pa.string()),
                "person_id": pa.array(ent_person[ent], pa.string()),
                "kind": pa.array(np.array(POST_KINDS, dtype=object)[kind], pa.string()),
                "exposed_to_leader": pa.array(ch["exposed"] & is_p, pa.bool_()),
                "tone_planned": pa.array(np.round(ch["planned"], 6), pa.float64()),
                "personal": pa.array(ch["personal"] == 1, pa.bool_(), mask=ch["personal"] < 0),
                "fragment_id": pa.array(ch["frag"], pa.int32()),
                "fragment_compound": pa.array(bank.compound[ch["frag"]], pa.float64()),
                "reply_to_leader": pa.array(pop.is_leader_entity[np.maximum(ch["parent_ent"], 0)]
                                            & (kind > 0), pa.bool_(), mask=kind == 0),
                "coordinated_marker": pa.array(MARKER_NAMES[ch["marker"]], pa.string()),
            }))
        del ch, frame
    lap("posts")
    # campaign posts and truth -------------------------------------------------------------------
    c_rows, c_use = [], []
    for row, ents, secs, srcs in zip(camps.rows, camps.ent, camps.sec, camps.src, strict=True):
        c = row["campaign"]
        is_p = ents < n
        pe = np.where(is_p, ents, 0)
        tone = _campaign_tones(cfg, seed, c, ents, secs, np.where(is_p, pop.tone[pe], 0.3),
                               pop, bank)
        frag = bank.professional.choose(tone, np.random.default_rng([seed, 203, c]))
        pids = [f"{cfg.platform}:c{c}u{k}" for k in range(len(ents))]
        texts = frag_text[frag] + f" #{row['hashtag']}"
        w.posts(pd.DataFrame({"post_id": pids, "account_id": acc[ents],
                              "created_at": iso_times(base, secs), "text": texts,
                              "reply_to_post_id": None, "reply_to_account_id": None,
                              "hashtags": [[row["hashtag"]]] * len(ents)}))
        post_bins += np.bincount(ents * (n_s + 1) + np.searchsorted(snap_sec, secs, "right"),
                                 minlength=len(post_bins))
        src_kind = np.where(srcs < 0, "seed", np.where(srcs >= n, np.where(srcs == n, "official", "delegate"),
                            np.where(pop.is_leader_entity[np.maximum(srcs, 0)], "leader", "peer")))
        c_use.append(pa.table({
            "campaign_id": pa.array(np.full(len(ents), c), pa.int32()),
            "account_id": pa.array(acc[ents], pa.string()),
            "person_id": pa.array(ent_person[ents], pa.string()),
            "used_at": _ts(base_epoch, secs), "post_id": pa.array(pids, pa.string()),
            "source_account_id": pa.array(np.where(srcs >= 0, acc[np.maximum(srcs, 0)], None), pa.string()),
            "source_kind": pa.array(src_kind.astype(object), pa.string()),
        }))
        if cfg.truth_posts:
            w.truth("sim_truth_posts", pa.table({
                "post_id": pa.array(pids, pa.string()), "account_id": pa.array(acc[ents], pa.string()),
                "person_id": pa.array(ent_person[ents], pa.string()),
                "kind": pa.array(["campaign"] * len(ents), pa.string()),
                "exposed_to_leader": pa.array(np.zeros(len(ents), bool)),
                "tone_planned": pa.array(np.round(tone, 6), pa.float64()),
                "personal": pa.array(np.zeros(len(ents), bool)),
                "fragment_id": pa.array(frag, pa.int32()),
                "fragment_compound": pa.array(bank.compound[frag], pa.float64()),
                "reply_to_leader": pa.array([None] * len(ents), pa.bool_()),
                "coordinated_marker": pa.array([None] * len(ents), pa.string()),
            }))
        c_rows.append({**row, "seed_account_id": acc[row["seed_ent"]],
                       "seed_person_id": ent_person[row["seed_ent"]]})
    w.posts(pd.DataFrame())
    lap("campaign_posts")
    # snapshots and follows edges -----------------------------------------------------------------
    posts_cum = np.cumsum(post_bins.reshape(m, n_s + 1), axis=1)
    created = pop.created_sec
    snaps, edge_count = [], 0
    for k, (sd, ss) in enumerate(zip(snap_days, snap_sec, strict=True)):
        obs = iso_times(base, np.array([ss]))[0]
        on = (created >= 0) & (created < ss)
        active = (net.start <= sd) & (net.end > sd) & on[net.src] & on[net.dst]
        offi = pop.follows_official & on[:n]
        followers = np.bincount(net.dst[active], minlength=m)
        followers[n] += int(offi.sum())
        following = np.bincount(net.src[active], minlength=m)
        following[:n] += offi
        frac = np.clip((ss - created) / np.maximum(end - created, 1), 0, 1)
        ext = np.floor(pop.external_followers * frac).astype(np.int64)
        idx = np.flatnonzero(on)
        snaps.append(pd.DataFrame({"account_id": acc[idx], "observed_at": obs,
                                   "followers": followers[idx] + ext[idx],
                                   "following": following[idx], "posts_count": posts_cum[idx, k]}))
        src = np.concatenate([net.src[active], np.flatnonzero(offi)])
        dst = np.concatenate([net.dst[active], np.full(int(offi.sum()), n)])
        for lo in range(0, len(src), 1_000_000):
            sl = slice(lo, lo + 1_000_000)
            w.csv("edges", pd.DataFrame({"src": acc[src[sl]], "dst": acc[dst[sl]], "kind": "follows",
                                         "observed_at": obs}))
        edge_count += len(src)
    w.csv("snapshots", pd.concat(snaps, ignore_index=True))
    if edge_count == 0:
        w.csv("edges", pd.DataFrame(columns=["src", "dst", "kind", "observed_at"]))
    lap("snapshots_edges")
    # ground truth -----------------------------------------------------------------------------
    params = {**cfg.as_dict(), "seed": seed}
    w.truth("sim_truth_params", pa.table({
        "name": list(params), "value": [json.dumps(v, sort_keys=True) for v in params.values()]}))
    w.truth("sim_truth_effects", _effects(cfg))
    day_ts = lambda d: _ts(base_epoch, np.where(d == NEVER, -1, d.astype(np.int64) * DAY))  # noqa: E731
    infl = adoption.influencer
    w.truth("sim_truth_people", pa.table({
        "person_id": pa.array(pid, pa.string()),
        "account_id": pa.array(np.where(has[:n], acc[:n], None), pa.string()),
        "level": pa.array(org.level.astype(np.int32)), "is_leader": pa.array(org.is_leader),
        "department": pa.array(dept_names, pa.string()), "manager_id": pa.array(mgr, pa.string()),
        "promoted_at": _ts(base_epoch, np.where(promoted, org.promoted_day.astype(np.int64) * DAY, -1)),
        "affinity": pa.array(np.round(net.affinity, 6)),
        "adopted_at": _ts(base_epoch, np.where(has[:n], created[:n], -1)),
        "adoption_cause": pa.array(np.where(adoption.cause >= 0, np.array(CAUSES, dtype=object)[
            np.maximum(adoption.cause, 0)], None), pa.string()),
        "influencer_person_id": pa.array(np.where(infl >= 0, pid[np.maximum(infl, 0)], None), pa.string()),
        "leader_exposed_at": day_ts(adoption.leader_exposed_day),
        "peer_exposed_at": day_ts(adoption.peer_exposed_day),
        "post_rate": pa.array(np.round(pop.rate[:n], 9)),
        "tone_baseline": pa.array(np.round(pop.tone, 6)),
        "tone_target": pa.array(np.round(pop.tone_target, 6)),
        "personal_baseline": pa.array(np.round(pop.personal, 6)),
        "personal_target": pa.array(np.round(pop.personal_target, 6)),
        "follows_official": pa.array(pop.follows_official),
    }))
    for lo in range(0, net.n_ties, 2_000_000):
        sl = slice(lo, lo + 2_000_000)
        w.truth("sim_truth_ties", pa.table({
            "src_person_id": pa.array(pid[net.src[sl]], pa.string()),
            "dst_person_id": pa.array(pid[net.dst[sl]], pa.string()),
            "kind": pa.array(np.array(TIE_KINDS, dtype=object)[net.kind[sl]], pa.string()),
            "start_at": _ts(base_epoch, net.start[sl].astype(np.int64) * DAY),
            "end_at": _ts(base_epoch, np.where(net.end[sl] == NEVER, -1, net.end[sl].astype(np.int64) * DAY)),
        }))
    cf = pd.DataFrame(c_rows)
    if len(cf):
        cols = {"campaign_id": pa.array(cf.campaign, pa.int32()), "hashtag": pa.array(cf.hashtag),
                "seed_kind": pa.array(cf.seed_kind), "seed_account_id": pa.array(cf.seed_account_id),
                "seed_person_id": pa.array(cf.seed_person_id, pa.string()),
                "introduced_at": _ts(base_epoch, cf.introduced_sec.to_numpy()),
                "n_users": pa.array(cf.n_users, pa.int64())}
        for pre in ("n_trials_", "n_successes_"):
            for k in SOURCE_KINDS[1:]:
                cols[pre + k] = pa.array(cf[pre + k], pa.int64())
        w.truth("sim_truth_campaigns", pa.table(cols))
        w.truth("sim_truth_campaign_uses", pa.concat_tables(c_use))
    w.close()
    lap("truth")
    res.rows = dict(w.rows)
    return res


def load_truth(ws, folder: str | Path) -> dict[str, int]:
    """Load ``folder/sim_truth/*.parquet`` into the workspace's ``sim_truth_*`` tables (replacing
    their content, in one transaction). Returns row counts."""
    tdir = Path(folder) / TRUTH_DIR
    counts = {}
    with ws.transaction() as con:
        for t in TRUTH_TABLES:
            con.execute(f'DELETE FROM "{t}"')
            f = tdir / f"{t}.parquet"
            if not f.exists():
                counts[t] = 0
                continue
            cols = [r[0] for r in con.execute(f'DESCRIBE "{t}"').fetchall()]
            names = ", ".join(f'"{c}"' for c in cols)
            con.execute(f'INSERT INTO "{t}" ({names}) SELECT {names} FROM read_parquet(?)', [str(f)])
            counts[t] = con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
    return counts
