"""Calibration of the activity analysis's leaders-vs-others rate ratio, through the product.

For each leader count (3, 5, 9) and each of two worlds — the **true null** (preset
``founding-null``: leaders are like everyone else) and a **planted moderate effect** (the same
world with ``leader_rate_multiplier = 2``: leaders post twice as much) — many small organizations
are simulated, ingested into a workspace and analysed with :func:`socialens.analyses.activity`
exactly as a user would; the reported rate ratio and its 95 % interval are compared with the
planted ratio (``leader_rate_multiplier``; the simulator's ``sim_truth_people.post_rate`` is
log-normal around it, so the planted ratio is the ratio of the groups' mean rates), and the
one-sided tests (the regression's and the permutation test's) are counted as rejections at 5 %.

``run(seeds, leader_counts, quick)`` returns ``{"coverage", "rejection_rate", "power", ...}``;
``eval/founding_calibration.py`` merges it with the other founding analyses. Alone:
``python -m eval.calibration_activity [--quick] [--seeds N] [--rows rows.jsonl]`` prints the JSON on its last line.

Seeds: the reported runs use seeds ``SEED0 + i``; the quick version (the tests) uses other seeds,
and the model rule was chosen on separate draws (docs/methods.md, *Activity*), never on these.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

__all__ = ["run", "markdown", "setting_config", "one_org", "SEED0", "EFFECT", "TITLE"]

TITLE = "Activity: the leaders-vs-others rate ratio (calibration)"
#: first seed of the reported runs (the quick version in the tests starts at QUICK_SEED0)
SEED0 = 100_000
QUICK_SEED0 = 7_000
#: the planted moderate effect: leaders post twice as much
EFFECT = 2.0
ALPHA = 0.05


def setting_config(n_leaders: int, world: str) -> dict:
    """Simulator overrides of one setting: a small organization (60 people, the CEO and
    ``n_leaders - 1`` chiefs as leaders, one year, most people adopting early)."""
    cfg = dict(preset="founding-null", people=60, spans=(n_leaders - 1, 2), days=365,
               base_hazard=0.01, post_rate_median=0.05, snapshot_every_days=365)
    if world == "effect":
        # only originals, so that every post carries the planted multiplier
        cfg.update(leader_rate_multiplier=EFFECT, reply_share=0.0)
    return cfg


def one_org(n_leaders: int, world: str, seed: int, folder: str) -> dict:
    """Simulate → ingest → activity for one organization; the numbers compared with the truth."""
    import socialens
    from socialens.analyses import activity
    from socialens.simulate import simulate

    cfg = setting_config(n_leaders, world)
    out = Path(folder) / f"{world}-{n_leaders}-{seed}.duckdb"
    res = simulate(seed=seed, out=out, files=out.with_suffix(".sim"), **cfg)
    planted = float(res.config.leader_rate_multiplier)
    ws = socialens.open(out)
    try:
        r = activity(ws, n_permutations=999, seed=seed)
        rr = r.summary["window"]["rate_ratio_leaders_vs_others"]
        wr = r.tables["window_rates"][["person_id", "weeks_present"]]
        truth = ws.sql("SELECT person_id, post_rate, is_leader FROM sim_truth_people")
    finally:
        ws.close()
    t = truth.merge(wr, on="person_id")
    lead = t["is_leader"].to_numpy(bool)
    w = t["weeks_present"].to_numpy(float)
    pr = t["post_rate"].to_numpy(float)
    realized = (float((pr * w)[lead].sum() / w[lead].sum() / ((pr * w)[~lead].sum() / w[~lead].sum()))
                if lead.any() and (~lead).any() else None)
    for p in out.parent.glob(out.name + "*"):
        p.unlink()
    import shutil

    shutil.rmtree(out.with_suffix(".sim"), ignore_errors=True)
    lo, hi = rr["ci"]
    return {"n_leaders": n_leaders, "world": world, "seed": seed, "planted": planted,
            "realized": realized, "estimate": rr["estimate"], "lo": lo, "hi": hi,
            "p_model": rr["p_value"], "p_perm": rr["permutation"]["p_value"],
            "model": rr["model"], "n_group": rr["n_group"], "n_others": rr["n_others"]}


def _batch(args) -> list[dict]:
    jobs, folder, rows_path = args
    out = []
    for j in jobs:
        row = one_org(*j, folder)
        out.append(row)
        if rows_path:  # one JSON line per organization, so a long run can be resumed
            with open(rows_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
    return out


def _rate(flags) -> float | None:
    flags = [f for f in flags if f is not None]
    return round(float(np.mean(flags)), 4) if flags else None


def run(seeds: int = 200, leader_counts: tuple[int, ...] = (3, 5, 9), quick: bool = False,
        workers: int | None = None, rows_path: str | Path | None = None) -> dict:
    """Coverage of the 95 % rate-ratio interval, rejection rates under the true null and power
    at the planted effect, per leader count (keys ``"3"``, ``"5"``, ``"9"``).

    ``quick`` uses the quick seeds (for the tests; ``seeds`` of them per setting).
    ``rows_path``: a JSON Lines file of per-organization rows; organizations already in it are
    not simulated again (resume), new ones are appended."""
    t0 = time.perf_counter()
    seed0 = QUICK_SEED0 if quick else SEED0
    # seed-major order: a run stopped early has about as many seeds in every setting
    jobs = [(k, world, seed0 + i) for i in range(seeds) for k in leader_counts
            for world in ("null", "effect")]
    done = []
    if rows_path and Path(rows_path).exists():
        wanted = set(jobs)
        for line in Path(rows_path).read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            key = (r["n_leaders"], r["world"], r["seed"])
            if key in wanted:
                done.append(r)
                wanted.discard(key)
        jobs = [j for j in jobs if j in wanted]
    workers = workers or min(2, os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix="socialens-cal-") as folder:
        if workers == 1 or len(jobs) <= 1:
            rows = _batch((jobs, folder, rows_path))
        else:
            parts = [(jobs[i::workers], folder, rows_path) for i in range(workers)]
            with ProcessPoolExecutor(workers) as pool:
                rows = [r for part in pool.map(_batch, parts) for r in part]
    rows = done + rows
    cov, rej, power, detail = {}, {}, {}, {}
    for key in ("activity_rate_ratio", "activity_permutation"):
        rej[key], power[key] = {}, {}
    cov["activity_rate_ratio"] = {"null": {}, "effect": {}}
    for k in leader_counts:
        for world in ("null", "effect"):
            rs = [r for r in rows if r["n_leaders"] == k and r["world"] == world]
            covered = [None if r["lo"] is None else r["lo"] <= r["planted"] <= r["hi"] for r in rs]
            cov["activity_rate_ratio"][world][str(k)] = _rate(covered)
            model = [None if r["p_model"] is None else r["p_model"] < ALPHA for r in rs]
            perm = [None if r["p_perm"] is None else r["p_perm"] < ALPHA for r in rs]
            target = rej if world == "null" else power
            target["activity_rate_ratio"][str(k)] = _rate(model)
            target["activity_permutation"][str(k)] = _rate(perm)
            est = [r["estimate"] for r in rs if r["estimate"] is not None]
            real = [r["realized"] for r in rs if r["realized"] is not None]
            detail[f"{world}_{k}"] = {
                "n_seeds": len(rs), "n_with_interval": sum(c is not None for c in covered),
                "planted": rs[0]["planted"] if rs else None,
                "median_estimate": round(float(np.median(est)), 4) if est else None,
                "geometric_mean_estimate": round(float(np.exp(np.mean(np.log(est)))), 4) if est else None,
                "median_realized_ratio": round(float(np.median(real)), 4) if real else None,
                "covers_realized": _rate([None if r["lo"] is None or r["realized"] is None
                                          else r["lo"] <= r["realized"] <= r["hi"] for r in rs]),
                "share_negative_binomial": _rate([r["model"] == "negative_binomial" for r in rs
                                                  if r["model"]]),
                "median_ci_ratio_hi_lo": round(float(np.median([r["hi"] / r["lo"] for r in rs
                                                                if r["lo"]])), 3) if est else None,
                "median_people": float(np.median([r["n_group"] + r["n_others"] for r in rs])) if rs else None,
            }
    return {"n_seeds": seeds, "leader_counts": list(leader_counts), "quick": quick, "seed0": seed0,
            "planted_effect": EFFECT, "alpha": ALPHA, "coverage": cov, "rejection_rate": rej,
            "power": power, "activity_details": detail,
            "activity_seconds": round(time.perf_counter() - t0, 1),
            "settings": {"preset": "founding-null", "people": 60, "days": 365,
                         "planted_effect": EFFECT, "seed0": seed0,
                         "n_organizations": len(rows)},
            "notes": {"activity_rate_ratio": (
                "activity's leaders-vs-others rate ratio (NB2 regression with a log-exposure "
                "offset, moment dispersion; 95 % t interval, one-sided p); coverage of the planted "
                f"ratio (1 under the true null, {EFFECT:g} under the planted effect)"),
                "activity_permutation": "activity's permutation test of the exposure-weighted "
                                        "rate ratio (one-sided)"}}


def markdown(result: dict) -> str:
    """The activity rows of EVALUATION.md."""
    ks = [str(k) for k in result["leader_counts"]]
    cov, rej, pw = result["coverage"]["activity_rate_ratio"], result["rejection_rate"], result["power"]

    def pct(x):
        return "n/a" if x is None else f"{100 * x:.1f} %"

    lines = [
        f"Through the product (simulate → ingest → `activity`), {result['n_seeds']} organizations "
        f"per setting (60 people, one year), seeds from {result['seed0']}; planted moderate effect: leaders' "
        f"posting rate × {result['planted_effect']:g}. Targets: coverage 92–98 %, rejection under "
        "the true null 2–8 %.",
        "",
        "| leaders | coverage, true null (RR = 1) | coverage, planted RR = 2 | rejects under null: "
        "regression | rejects under null: permutation | power at RR = 2: regression | "
        "power at RR = 2: permutation |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for k in ks:
        lines.append(f"| {k} | {pct(cov['null'][k])} | {pct(cov['effect'][k])} | "
                     f"{pct(rej['activity_rate_ratio'][k])} | {pct(rej['activity_permutation'][k])} | "
                     f"{pct(pw['activity_rate_ratio'][k])} | {pct(pw['activity_permutation'][k])} |")
    lines += ["", f"Run time {result['activity_seconds']} s "
              "(`python -m eval.calibration_activity`)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=TITLE)
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--leaders", default="3,5,9")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--rows", default=None, help="JSON Lines file of per-organization rows "
                    "(resumes a stopped run)")
    a = ap.parse_args(argv)
    res = run(a.seeds, tuple(int(x) for x in a.leaders.split(",")), a.quick, workers=a.workers,
              rows_path=a.rows)
    print(markdown(res))
    sys.stdout.write(json.dumps(res, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
