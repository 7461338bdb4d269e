"""Personal-sharing shift: calibration of its intervals through the product (simulate → ingest →
enrich → ``sharing``), against the shift the simulator plants.

The simulator (``socialens/simulate/activity.py``, ``_entity_tone``) gives member ``i`` a baseline
personal probability ``b_i`` (``sim_truth_people.personal_baseline``) and the mean personal share
of the leaders they follow ``T_i`` (``personal_target``); every original post written after ``i``'s
first exposure to an adopted leader (``sim_truth_posts.exposed_to_leader``) is personal with
probability ``b_i + s (T_i − b_i)``, ``s = personal_shift`` (0.3 in ``default``, 0 in ``null``);
before it, with ``b_i``. Peers move nobody.

**The planted value of the estimand.** The analysis's exposure time (a leader's first personal
post seen through the exposure network) is not the simulator's (the first tie to an adopted
leader), and the analysis sees the classifier's scores, not the planted labels. So the planted
value is computed *for this design*: each member post gets its planted personal probability
``π_p = b_i + s (T_i − b_i) · exposed_p``; the analysis's own per-member before / after split
(:func:`socialens.analyses.sharing.member_changes` and :func:`~socialens.analyses.sharing.
shift_estimates` with the analysis's exposure times, arms and clusters) applied to ``π_p`` gives
θ_L, θ_P, θ_L − θ_P in probability units (``planted_prob_*``); times the classifier's
discrimination ``κ`` = mean personal_score of the planted-PERSONAL member posts − that of the
planted-PROFESSIONAL ones (measured in the same workspace) gives the planted value on the score
scale (``planted_*``), which is what the mean of calibrated scores estimates when the fragment
pool is fixed. Under ``null`` every planted value is 0. A seed *covers* when the 95 % interval of
θ_L − θ_P contains ``planted_leader_minus_peer``; under ``null`` it *rejects* when the interval
excludes 0. Coverage of the probability-scale value (what a manager reads) is reported too.

Settings: leaders adopt like everyone else and without a head start (``leader_baseline_hr = 1``,
``adopted_at_start_leaders = 0``), so that members who joined before their leaders have posts
before the leaders' first personal posts; no campaigns and no replies (their posts carry no
planted label). Development seeds: 0–1 (the settings were chosen on them, so that both arms have
members); the reported run uses fresh seeds from ``SEED_BASE``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from eval.common import complete_seeds, emit, run_jobs

NAME = "sharing_calibration"
TITLE = "Personal-sharing shift: interval calibration on simulated organizations"

SETTINGS = dict(people=600, days=730, reply_share=0.0, n_campaigns=0, post_rate_median=0.15,
                leader_baseline_hr=1.0, adopted_at_start_leaders=0, base_hazard=0.001,
                n_delegates=0)
PRESETS = {"planted": "default", "null": "null"}
SEED_BASE = 180_000
DEV_SEEDS = range(0, 2)
N_SEEDS = 200
BUDGET_S = 1500.0
TERMS = ("leader", "peer", "leader_minus_peer")


def one_seed(seed: int, preset: str, *, settings: dict | None = None) -> dict:
    """Simulate → ingest → enrich → sharing for one seed, and the planted values for its design."""
    import ibis

    import socialens
    from socialens.analyses.sharing import (
        exposure_times,
        member_changes,
        sharing,
        shift_estimates,
    )
    from socialens.enrich import enrich
    from socialens.simulate import simulate

    settings = dict(SETTINGS if settings is None else settings)
    t0 = time.perf_counter()
    row = {"seed": seed, "preset": preset}
    with tempfile.TemporaryDirectory() as d:
        r = simulate(seed=seed, preset=PRESETS.get(preset, preset), out=Path(d) / "ws.duckdb",
                     **settings)
        ws = socialens.open(r.workspace)
        try:
            enrich(ws)
            res = sharing(ws, n_boot=0)
            eff = ws.table("sim_truth_effects").to_pandas().set_index("name").planted
            s = float(eff.get("personal_shift", 0.0))
            people = ws.table("sim_truth_people").select(
                "person_id", "personal_baseline", "personal_target").to_pandas()
            tp = ws.table("sim_truth_posts")
            tp = tp.filter(tp.kind == "original", tp.person_id.notnull()).select(
                "post_id", "person_id", "exposed_to_leader", "personal").to_pandas()
            posts = ws.table("posts").select("post_id", "created_at").to_pandas()
            feats = ws.table("post_features").select("post_id", "personal_score").to_pandas()
            roles = res.tables["people"][["person_id", "leader"]].rename(
                columns={"leader": "is_leader"})
            events = exposure_times(ws, roles)
        finally:
            ws.close()
    sh = res.tables["shift"].set_index("term")
    for term in TERMS:
        x = sh.loc[term]
        row[term] = _f(x.estimate)
        row[f"{term}_low"], row[f"{term}_high"] = _f(x.ci_low), _f(x.ci_high)
        row[f"{term}_n"] = int(x.n_members)
    row["n_clusters"] = int(sh.loc["leader_minus_peer"].n_clusters)
    # planted probability of every member original
    p = tp.merge(people, on="person_id").merge(posts, on="post_id").merge(feats, on="post_id")
    members = set(roles.person_id[~roles.is_leader.astype(bool)])
    p = p[p.person_id.isin(members)]
    p["pi"] = p.personal_baseline + s * (p.personal_target - p.personal_baseline) * \
        p.exposed_to_leader.astype(float)
    kappa = float(p[p.personal == True].personal_score.mean()  # noqa: E712
                  - p[p.personal == False].personal_score.mean())  # noqa: E712
    row["kappa"] = kappa
    mt = ibis.memtable(pd.DataFrame({"person_id": p.person_id.astype(str), "at": p.created_at,
                                     "score": p.pi.astype(float)}))
    ch = member_changes(mt, events)
    dept = res.tables["people"].set_index("person_id").department
    cl = ch.person_id.map(dept)
    planted = shift_estimates(ch, cl.astype(object).where(cl.notna(), "(none)"),
                              min_members=1, min_clusters=2).set_index("term")
    for term in TERMS:
        v = _f(planted.loc[term].estimate)
        row[f"planted_prob_{term}"] = v
        row[f"planted_{term}"] = None if v is None else v * kappa
    row["seconds"] = round(time.perf_counter() - t0, 2)
    return row


def _f(v):
    return None if v is None or pd.isna(v) else float(v)


def _rate(s: pd.Series) -> float | None:
    return round(float(s.mean()), 4) if len(s) else None


def _covers(g: pd.DataFrame, term: str, target) -> tuple[pd.Series, pd.Series]:
    lo, hi = g[f"{term}_low"], g[f"{term}_high"]
    ok = lo.notna() & hi.notna()
    t = g[target] if isinstance(target, str) else target
    return ok & (lo <= t) & (t <= hi), ok


def summarize(rows: pd.DataFrame) -> dict:
    n = int(rows.groupby("preset").seed.nunique().min()) if len(rows) else 0
    out: dict = {"n_seeds": n, "settings": SETTINGS, "presets": PRESETS,
                 "headline": "leader_minus_peer"}
    if not len(rows):
        return out
    out["seeds"] = [int(rows.seed.min()), int(rows.seed.max())]
    pl, nu = rows[rows.preset == "planted"], rows[rows.preset == "null"]
    if len(pl):
        cov, ok = _covers(pl, "leader_minus_peer", "planted_leader_minus_peer")
        out["coverage"] = _rate(cov[ok]) if ok.any() else None
        out["no_interval_planted"] = int((~ok).sum())
        out["coverage_prob_scale"] = _rate(_covers(pl, "leader_minus_peer",
                                                   "planted_prob_leader_minus_peer")[0][ok])
        cl, okl = _covers(pl, "leader", "planted_leader")
        out["coverage_leader"] = _rate(cl[okl]) if okl.any() else None
        out["no_interval_leader_planted"] = int((~okl).sum())
        out["power"] = _rate((ok & ~_covers(pl, "leader_minus_peer", 0.0)[0])[ok])
    if len(nu):
        cov0, ok0 = _covers(nu, "leader_minus_peer", 0.0)
        out["rejection_rate"] = _rate((~cov0)[ok0]) if ok0.any() else None
        cl0, okl0 = _covers(nu, "leader", 0.0)
        out["rejection_rate_leader"] = _rate((~cl0)[okl0]) if okl0.any() else None
        out["no_interval_leader_null"] = int((~okl0).sum())
        out["no_interval_null"] = int((~ok0).sum())
    for name, g in (("planted", pl), ("null", nu)):
        if len(g):
            for c in ("leader", "peer", "leader_minus_peer", "planted_leader_minus_peer",
                      "planted_prob_leader_minus_peer", "planted_prob_leader", "kappa"):
                out[f"mean_{c}_{name}"] = round(float(g[c].mean()), 4)
            out[f"sd_leader_minus_peer_{name}"] = round(float(g.leader_minus_peer.std()), 4)
            out[f"median_members_leader_{name}"] = float(g.leader_n.median())
            out[f"median_members_peer_{name}"] = float(g.peer_n.median())
    return out


def _job(args):
    seed, preset = args
    try:
        return one_seed(seed, preset)
    except Exception as exc:  # noqa: BLE001 - a failed seed is a row, counted, not a crash
        return {"seed": seed, "preset": preset, "error": f"{type(exc).__name__}: {exc}"}


def run(n_seeds: int = N_SEEDS, *, seed_base: int = SEED_BASE, workers: int = 1,
        rows_out: Path | None = None, budget_s: float | None = BUDGET_S) -> dict:
    """Both presets over ``n_seeds`` seeds from ``seed_base`` (seed-major, so a run stopped by
    ``budget_s`` still has both presets for its seeds)."""
    t0 = time.perf_counter()
    jobs = [(seed_base + k, preset) for k in range(n_seeds) for preset in PRESETS]
    rows = run_jobs(_job, jobs, workers=workers, rows_out=rows_out, budget_s=budget_s, t0=t0)
    df, errors = complete_seeds(rows, len(PRESETS))
    out = summarize(df)
    out.update(errors=errors, seconds=round(time.perf_counter() - t0, 1), workers=workers,
               n_seeds_requested=n_seeds, budget_s=budget_s)
    return out


def to_markdown(r: dict) -> str:
    s = r.get("seeds", [None, None])
    return "\n".join([
        f"{r['n_seeds']} seeds per preset (seeds {s[0]}–{s[1]}"
        + (f", of {r['n_seeds_requested']} asked: stopped by the {r['budget_s']:.0f} s budget"
           if r.get("n_seeds_requested", r["n_seeds"]) > r["n_seeds"] else "")
        + f"; settings chosen on development seeds {DEV_SEEDS.start}–{DEV_SEEDS.stop - 1}), "
        f"{SETTINGS['people']} people, {SETTINGS['days']} days, planted preset `default` "
        "(personal_shift 0.3), null preset `null` (0); "
        f"{r.get('seconds', '?')} s with {r.get('workers', '?')} workers. Headline θ_L − θ_P, "
        "delete-one-department jackknife (docs/methods.md).", "",
        "| coverage of planted θ_L − θ_P, score scale (target 92–98 %) | same, probability "
        "scale | rejection of θ_L − θ_P = 0 under null (target 2–8 %) | power | coverage θ_L |",
        "|---|---|---|---|---|",
        f"| {r.get('coverage')} | {r.get('coverage_prob_scale')} | {r.get('rejection_rate')} | "
        f"{r.get('power')} | {r.get('coverage_leader')} |", "",
        f"Mean θ_L − θ_P {r.get('mean_leader_minus_peer_planted')} (planted "
        f"{r.get('mean_planted_leader_minus_peer_planted')} on the score scale, "
        f"{r.get('mean_planted_prob_leader_minus_peer_planted')} in probability; κ = "
        f"{r.get('mean_kappa_planted')}; sd over seeds "
        f"{r.get('sd_leader_minus_peer_planted')}); under null "
        f"{r.get('mean_leader_minus_peer_null')}. Median members per arm: leader "
        f"{r.get('median_members_leader_planted')}, peer {r.get('median_members_peer_planted')}. "
        f"Seeds without an interval: {r.get('no_interval_planted')} planted, "
        f"{r.get('no_interval_null')} null. Failed seeds: {r.get('errors', 0)}.",
    ])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=N_SEEDS, help="seeds per preset")
    ap.add_argument("--seed-base", type=int, default=SEED_BASE)
    ap.add_argument("--dev", action="store_true",
                    help=f"the development seeds {DEV_SEEDS.start}-{DEV_SEEDS.stop - 1}")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--budget", type=float, default=BUDGET_S,
                    help="stop starting organizations after this many seconds")
    ap.add_argument("--rows", type=Path, help="write per-seed rows here (JSON Lines)")
    ap.add_argument("--summarize", type=Path, nargs="+",
                    help="only summarize these row files (JSON Lines; several runs together)")
    a = ap.parse_args(argv)
    if a.summarize:
        rows = []
        for path in a.summarize:
            with open(path) as fh:
                rows += [json.loads(line) for line in fh if line.strip()]
        df = pd.DataFrame(rows).drop_duplicates(subset=["seed", "preset"], keep="last")
        if "error" in df:
            df = df[df["error"].isna()]
        both = df.groupby("seed").preset.nunique()
        out = summarize(df[df.seed.isin(both.index[both == len(PRESETS)])])
    else:
        base, n = (DEV_SEEDS.start, len(DEV_SEEDS)) if a.dev else (a.seed_base, a.seeds)
        out = run(n, seed_base=base, workers=a.workers, rows_out=a.rows, budget_s=a.budget)
    print(to_markdown(out), file=sys.stderr)
    emit(out)


if __name__ == "__main__":
    main()
