"""Coordination under the null: is the upward shift in the data or in the estimator?

EVALUATION.md (*Coordination calibration*) reports that under the ``null`` preset (no planted
coordination) the members → leaders minus members → peers estimate is shifted upwards by about a
quarter of its standard error over 157 organizations, although the estimator is linear in each
reply's marker indicators once the posts answered are fixed, so that its expectation is exactly 0
when a speaker's replies are exchangeable (the simulator draws a reply's text from the speaker's
tone alone when ``c = 0``).

This evaluation separates the two explanations on fresh development seeds, through the product
(simulate → ingest → enrich → the analysis' own pair counts):

* ``estimate``: the estimator on the data;
* ``perm_mean``: its mean over ``--perms`` re-draws of the data in which each speaker's reply
  marker vectors are permuted among that speaker's replies (the posts answered fixed). This is the
  estimator's expectation under within-speaker exchangeability, a Monte Carlo planted value.
  If ``estimate − perm_mean`` averages 0 over seeds while ``estimate`` does not, the estimator
  (its thresholds, aggregation or the selection of scored cells) makes the shift; if
  ``perm_mean`` averages 0 and ``estimate`` does not, the data holds a within-speaker
  association between a reply's markers and the post's it answers that the mechanism as written
  does not.
* ``assoc_z``: that association directly: per marker, the within-speaker covariance of reply
  and parent indicators (summed over speakers), as a z-score against the same permutations,
  averaged over the 8 markers.

One JSON line per seed (``--rows``), a summary as the last line. Seeds: 920000+ (development;
not the calibration's reported seeds 150000-150199, not its development seeds 910000-910199).

    python -m eval.coordination_null_mechanism --seed-start 920000 --seeds 60 --perms 40 \
        --rows eval/runs/coordination_null_mechanism-920000.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from eval.coordination_calibration import SETTINGS, reply_rows

NAME = "coordination_null_mechanism"


def counts_of(rows: pd.DataFrame, s: np.ndarray) -> pd.DataFrame:
    """Pair counts (the layout of ``pair_counts``) with reply markers ``s`` (replies × 8)."""
    from socialens.analyses.coordination import MARKERS

    t = rows[[f"t_{m}" for m in MARKERS]].to_numpy(np.int64)
    df = pd.DataFrame({"speaker": rows.speaker.to_numpy(), "target": rows.target.to_numpy(),
                       "n": 1})
    for j, m in enumerate(MARKERS):
        df[f"tally_{m}"] = s[:, j]
        df[f"cond_total_{m}"] = t[:, j]
        df[f"cond_tally_{m}"] = s[:, j] * t[:, j]
    return df.groupby(["speaker", "target"], as_index=False, sort=True).sum()


def _estimate(counts, lead, memb) -> float | None:
    from socialens.analyses.coordination import group_estimates

    g, _ = group_estimates(counts, lead, memb, n_boot=0)
    v = g.set_index("comparison").loc["members_to_leaders_minus_peers", "agg2"]
    return None if v is None or pd.isna(v) else float(v)


def _within_cov(s: np.ndarray, t: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Per marker: sum over speakers of the covariance numerator of s and t within the speaker."""
    cnt = np.bincount(codes, minlength=k)[:, None]
    sm = np.zeros((k, s.shape[1]))
    np.add.at(sm, codes, s)
    return ((s - (sm / cnt)[codes]) * t).sum(axis=0)


def one_seed(seed: int, perms: int) -> dict:
    import socialens
    from socialens.analyses.common import roster_at, select_leaders
    from socialens.analyses.coordination import MARKERS, coordination, pair_counts
    from socialens.enrich import enrich, feature_version
    from socialens.simulate import simulate

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        r = simulate(seed=seed, preset="null", out=Path(d) / "ws.duckdb", **SETTINGS)
        ws = socialens.open(r.workspace)
        try:
            enrich(ws, sharing_method="baseline")
            fv = feature_version("default")
            rows = reply_rows(ws, fv)
            real = pair_counts(ws, feature_version=fv)
            as_of = coordination(ws, n_boot=0).params["as_of"]
            roster = roster_at(ws, pd.Timestamp(as_of).to_pydatetime())
        finally:
            ws.close()
    lead = sorted(roster.person_id[select_leaders(roster, "is_leader")])
    memb = sorted(roster.person_id[~select_leaders(roster, "is_leader")])
    s = rows[[f"s_{m}" for m in MARKERS]].to_numpy(np.int64)
    t = rows[[f"t_{m}" for m in MARKERS]].to_numpy(np.int64)
    mine = counts_of(rows, s)
    cols = [c for c in real.columns if c not in ("speaker", "target")]
    same = (len(mine) == len(real)
            and (mine[cols].to_numpy() == real[cols].to_numpy()).all())
    est = _estimate(mine, lead, memb)
    rng = np.random.default_rng([seed, 7])
    spk = pd.Categorical(rows.speaker)
    codes, k = spk.codes, len(spk.categories)
    order = np.argsort(codes, kind="stable")
    groups = np.split(order, np.flatnonzero(np.diff(codes[order])) + 1)  # replies per speaker
    obs_cov = _within_cov(s, t, codes, k)
    perm_est, perm_cov = [], []
    for _ in range(perms):
        idx = np.empty(len(s), np.int64)
        for g in groups:
            idx[g] = rng.permutation(g)
        sp = s[idx]
        perm_cov.append(_within_cov(sp, t, codes, k))
        if est is not None:
            v = _estimate(counts_of(rows, sp), lead, memb)
            if v is not None:
                perm_est.append(v)
    pc = np.array(perm_cov)
    sd = pc.std(axis=0, ddof=1)
    z = np.where(sd > 0, (obs_cov - pc.mean(axis=0)) / np.where(sd > 0, sd, 1), 0.0)
    return {"seed": seed, "estimate": est,
            "perm_mean": float(np.mean(perm_est)) if perm_est else None,
            "perm_sd": float(np.std(perm_est, ddof=1)) if len(perm_est) > 1 else None,
            "assoc_z": {m: round(float(v), 4) for m, v in zip(MARKERS, z, strict=True)},
            "assoc_z_mean": float(z.mean()), "n_replies": int(len(rows)),
            "counts_match_pair_counts": bool(same), "seconds": round(time.perf_counter() - t0, 1)}


def summarize(rows: list[dict]) -> dict:
    ok = [r for r in rows if r["estimate"] is not None and r["perm_mean"] is not None]
    e = np.array([r["estimate"] for r in ok])
    p = np.array([r["perm_mean"] for r in ok])
    z = np.array([r["assoc_z_mean"] for r in rows])

    def mean_se(x):
        return (float(x.mean()), float(x.std(ddof=1) / np.sqrt(len(x)))) if len(x) > 1 else (
            None, None)

    out = {"evaluation": NAME, "n_seeds": len(rows), "n_with_estimate": len(ok),
           "seeds": [min(r["seed"] for r in rows), max(r["seed"] for r in rows)],
           "all_counts_match": all(r["counts_match_pair_counts"] for r in rows)}
    for name, x in (("estimate", e), ("perm_mean", p), ("estimate_minus_perm_mean", e - p),
                    ("assoc_z_mean", z)):
        m, se = mean_se(x)
        out[name] = {"mean": m, "se": se}
    per_marker = {}
    for m in rows[0]["assoc_z"]:
        zz = np.array([r["assoc_z"][m] for r in rows])
        per_marker[m] = {"mean": round(float(zz.mean()), 3),
                         "se": round(float(zz.std(ddof=1) / np.sqrt(len(zz))), 3)}
    out["assoc_z_by_marker"] = per_marker
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed-start", type=int, default=920000)
    ap.add_argument("--seeds", type=int, default=60)
    ap.add_argument("--perms", type=int, default=40)
    ap.add_argument("--budget", type=float, default=None, help="stop after this many seconds")
    ap.add_argument("--rows", type=Path, default=None, help="append per-seed JSON lines here")
    ap.add_argument("--summarize", nargs="*", type=Path, default=None,
                    help="only summarize these row files")
    a = ap.parse_args(argv)
    if a.summarize:
        rows = [json.loads(line) for f in a.summarize for line in f.read_text().splitlines()
                if line.strip()]
    else:
        rows, t0 = [], time.perf_counter()
        for seed in range(a.seed_start, a.seed_start + a.seeds):
            r = one_seed(seed, a.perms)
            rows.append(r)
            print(json.dumps(r), file=sys.stderr, flush=True)
            if a.rows:
                with a.rows.open("a") as f:
                    f.write(json.dumps(r) + "\n")
            if a.budget and time.perf_counter() - t0 > a.budget:
                break
    out = summarize(rows)
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
