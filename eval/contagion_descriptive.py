"""The descriptive contagion measures through the product, against the simulator's truth.

``python -m eval.contagion_descriptive [--seeds N] [--people P]``: for each seed,
``socialens.simulate`` (which ingests into a workspace) → ``first_use`` / ``contagion`` reading only
what an analyst sees → compared with ``sim_truth_campaigns`` / ``sim_truth_campaign_uses``:

* ``first_users_exact``: share of campaign hashtags whose first member user *and* first-use time
  ``first_use`` recovers exactly (truth: the earliest ``used_at`` among uses by a person's account);
* ``adopters_exact``: share of campaigns whose whole set of (person, first-use time) is recovered;
* ``leader_first_matches_truth``: the leader-first count of the analysis equals the count computed
  from the truth tables (campaigns with ≥ 2 member users);
* ``rejection_rate``: share of seeds where the leader-first test rejects at α = 0.05 — under the
  ``null`` preset (leaders still *introduce* 30 % of campaigns there, so leaders are first by
  design: the test should reject, it describes who was first, not influence), under a "fair
  seeding" null (``campaign_seed_shares`` = leaders' share of people, equal transmission), and under
  exact exchangeability (the adoption order permuted within each behaviour: the size of the test
  itself, ≤ 0.05 by construction of the exact p-value, below it through discreteness).

One JSON object on the last line.
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

SEED0 = 110_000


def _truth_first(ws) -> pd.DataFrame:
    uses = ws.sql(
        """SELECT c.hashtag, u.person_id, u.used_at FROM sim_truth_campaign_uses u
           JOIN sim_truth_campaigns c USING (campaign_id)
           JOIN accounts a ON a.account_id = u.account_id
           WHERE a.kind = 'personal' AND a.person_id IS NOT NULL""")
    return uses


def one(name: str, seed: int, people: int, preset: str, overrides: dict, folder: Path, rng) -> dict:
    import socialens
    from socialens.analyses.contagion import leader_first
    from socialens.behaviours import first_use, leader_ids

    out = folder / f"{name}-{seed}.duckdb"
    socialens.simulate(people=people, seed=seed, preset=preset, out=out, **overrides)
    ws = socialens.open(out, read_only=True)
    try:
        truth = _truth_first(ws)
        tags = sorted(truth.hashtag.unique())
        got = first_use(ws, [f"hashtag:#{t}" for t in tags]).execute()
        got["hashtag"] = got.behaviour.str.removeprefix("hashtag:#")
        lead = leader_ids(ws)
        n_first = n_all = 0
        for t in tags:
            tr = truth[truth.hashtag == t].sort_values(["used_at", "person_id"])
            g = got[got.hashtag == t].sort_values(["at", "person_id"])
            if len(g) and (g.person_id.iloc[0], g["at"].iloc[0]) == (
                    tr.person_id.iloc[0], tr.used_at.iloc[0]):
                n_first += 1
            if set(zip(g.person_id, g["at"], strict=True)) == set(
                    zip(tr.person_id, tr.used_at, strict=True)):
                n_all += 1
        tr_uses = truth.rename(columns={"hashtag": "behaviour", "used_at": "at"})
        _, s_truth = leader_first(tr_uses, lead)
        _, s_got = leader_first(got[["person_id", "behaviour", "at"]], lead)
        # exchangeable order: the same adopter sets, times permuted within each behaviour
        perm = got.copy()
        perm["at"] = perm.groupby("behaviour")["at"].transform(
            lambda s: s.sample(frac=1.0, random_state=int(rng.integers(2**31))).to_numpy())
        _, s_perm = leader_first(perm[["person_id", "behaviour", "at"]], lead)
        return {
            "seed": seed, "campaigns": len(tags), "first_exact": n_first, "all_exact": n_all,
            "leader_first": s_got.get("leader_first"),
            "leader_first_truth": s_truth.get("leader_first"),
            "p": s_got.get("p_value"), "p_perm": s_perm.get("p_value"),
            "n_tested": s_got.get("n_behaviours"),
        }
    finally:
        ws.close()


def _mean(xs: list) -> float | None:
    return float(np.mean(xs)) if xs else None


def run(seeds: int = 10, people: int = 300) -> dict:
    t0 = time.perf_counter()
    rng = np.random.default_rng(SEED0)
    rows = {}
    settings = {"default": ("default", {}), "null": ("null", {}),
                "null_fair_seeding": ("null", {"campaign_seed_shares": (0.03, 0.0, 0.0, 0.97)})}
    with tempfile.TemporaryDirectory() as d:
        for name, (preset, over) in settings.items():
            rows[name] = [one(name, SEED0 + i, people, preset, over, Path(d), rng)
                          for i in range(seeds)]

    def rate(rs, key):
        ps = [r[key] for r in rs if r[key] is not None]
        return {"rate": (float(np.mean([p < 0.05 for p in ps])) if ps else None),
                "n_seeds_tested": len(ps)}

    d = rows["default"] + rows["null"] + rows["null_fair_seeding"]
    out = {
        "n_seeds": seeds, "people": people,
        "first_users_exact": sum(r["first_exact"] for r in d) / sum(r["campaigns"] for r in d),
        "adopters_exact": sum(r["all_exact"] for r in d) / sum(r["campaigns"] for r in d),
        "leader_first_matches_truth": float(np.mean(
            [r["leader_first"] == r["leader_first_truth"] for r in d])),
        "rejection_rate": {
            "null_preset": rate(rows["null"], "p"),
            "null_fair_seeding": rate(rows["null_fair_seeding"], "p"),
            "exchangeable_order": rate(d, "p_perm"),
        },
        "power_default_preset": rate(rows["default"], "p"),
        "mean_leader_first_rate": {k: _mean([r["leader_first"] / r["n_tested"]
                                             for r in v if r["n_tested"]])
                                   for k, v in rows.items()},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--people", type=int, default=300)
    a = ap.parse_args(argv)
    res = run(a.seeds, a.people)
    print(json.dumps(res))
    return res


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
