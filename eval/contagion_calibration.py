"""Calibration of the influence tests through the product (simulate → ingest → estimators).

For each seed an organization is simulated (``socialens.simulate``) and ingested into a fresh
workspace; the estimators read only what an analyst could read there — the roster (people with
their reporting lines, roles), the accounts' creation dates — never ``sim_truth_*``; the planted
values are then read from ``sim_truth_effects`` to score them.

The behaviour is **joining the platform** (the only simulated behaviour with a planted hazard
ratio, and the only one that has no influence at all under ``null`` and ``homophily-only``). Its
exposure network must be known for people who have *not* joined: follows edges exist only between
accounts, so the analyst's network is the **reporting lines** of the roster (each member exposed to
their manager and to every leader above them). The simulator's leader ties are the reporting lines
exactly when the hierarchy ties are certain, so the runs set ``p_follow_ceo = 1``,
``p_follow_department_head = 1``, ``p_follow_manager = 1`` (SimConfig overrides, no code change),
a static network (``tie_late_share = tie_end_share = 0``) and no leader on the platform on day 0
(``adopted_at_start_leaders = 0``; otherwise everyone is exposed to the CEO from the first day and
leader exposure does not vary). Peer ties other than the manager stay unobserved, as they would be.

Settings (``SETTINGS``): coverage of the leader-exposure hazard ratio under ``unconfounded``,
``default`` and ``strong-leaders``; rejection rates of the shuffle and edge-reversal tests (and of
the Cox model's Wald test of leader exposure) under ``null`` and ``homophily-only``; power under
``unconfounded`` and ``strong-leaders``. Small organizations (``PEOPLE``) keep 200 seeds per
setting within about 20 minutes on two cores.

Run alone: ``python -m eval.contagion_calibration [n_seeds]`` (metrics as JSON on the last line).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from eval.common import emit
from socialens.behaviours.influence import AdoptionPanel, EdgeReversalTest, ExposureCox, ShuffleTest

TITLE = "Influence tests: calibration through the product (simulated organizations)"

N_SEEDS = 200
PEOPLE = 300
N_PERMUTATIONS = 99
#: SimConfig overrides of every run (see the module docstring for why)
IDENTIFIED = dict(p_follow_ceo=1.0, p_follow_department_head=1.0, p_follow_manager=1.0,
                  tie_late_share=0.0, tie_end_share=0.0, adopted_at_start_leaders=0,
                  n_campaigns=0, post_rate_median=0.002, truth_posts=False)
#: preset → which metrics it feeds
SETTINGS = {
    "unconfounded": ("coverage", "power"),
    "default": ("coverage",),
    "strong-leaders": ("coverage", "power"),
    "null": ("rejection",),
    "homophily-only": ("rejection",),
}
SEED_BASE = 110_000  # seeds SEED_BASE + k: never used while the estimators were written


def reporting_ties(people: pd.DataFrame, leaders: set[str]) -> pd.DataFrame:
    """Each person → their manager and every leader above them in the reporting chain."""
    mgr = dict(zip(people.person_id, people.manager_id, strict=True))
    rows = []
    for p in people.person_id:
        m = mgr.get(p)
        if isinstance(m, str):
            rows.append((p, m))
        seen = set()
        while isinstance(m, str) and m not in seen:
            seen.add(m)
            if m in leaders and m != mgr.get(p):
                rows.append((p, m))
            m = mgr.get(m)
    return pd.DataFrame(rows, columns=["person_id", "source_person_id"]).assign(start_at=pd.NaT)


def observed_panel(ws, *, controls=("department",)) -> AdoptionPanel:
    """The platform-adoption panel of a workspace, from the roster and the accounts only."""
    people = ws.table("people")
    people = people.mutate(manager_id=people.attrs.cast("json")["manager_id"].str).select(
        "person_id", "department", "manager_id").to_pandas()
    roles = ws.table("roles")
    start = roles.start_at.min().to_pandas()
    first_roles = roles.filter(roles.start_at == start).select("person_id", "is_leader", "level")
    roster = first_roles.to_pandas()
    leaders = set(roster.person_id[roster.is_leader])
    acc = ws.table("accounts")
    adopt = (acc.filter((acc.kind == "personal") & acc.person_id.notnull())
             .group_by("person_id").aggregate(at=acc.created_at.min()).to_pandas())
    end = ws.table("account_snapshots").observed_at.max().to_pandas()
    members = people.merge(roster, on="person_id")
    population = members[~members.is_leader].drop(columns=["is_leader", "manager_id"])
    ties = reporting_ties(people, leaders)
    return AdoptionPanel.from_tables(adopt, ties, population=population, leaders=leaders,
                                     start=start, end=end, period="1D", lag=1,
                                     controls=list(controls))


def one_run(preset: str, seed: int, *, n_permutations: int = N_PERMUTATIONS,
            people: int = PEOPLE, folder: Path | None = None) -> dict:
    import socialens
    from socialens.workspace import Workspace

    with tempfile.TemporaryDirectory(dir=folder) as d:
        out = Path(d) / "w.duckdb"
        socialens.simulate(people=people, seed=seed, preset=preset, out=out, **IDENTIFIED)
        ws = Workspace(out)
        try:
            panel = observed_panel(ws)
            eff = ws.table("sim_truth_effects").to_pandas()
        finally:
            ws.close()
    planted = dict(zip(eff.name, eff.planted, strict=True))
    row = {"preset": preset, "seed": seed, "n_at_risk": panel.n_at_risk,
           "n_events": panel.n_events,
           "planted_hr_leader": planted["adoption_hr_leader_exposure"],
           "planted_hr_peer": planted["adoption_hr_peer_exposure"]}
    try:
        cox = ExposureCox("indicator").fit(panel)
        hr, lo, hi = cox.interval("leader_exposure")
        row.update(hr_leader=hr, hr_leader_low=lo, hr_leader_high=hi,
                   p_cox_leader=float(cox.summary_.set_index("covariate").p_value.get(
                       "leader_exposure", np.nan)))
        hrp, lop, hip = cox.interval("peer_exposure")
        row.update(hr_peer=hrp, hr_peer_low=lop, hr_peer_high=hip)
    except Exception as exc:  # noqa: BLE001 - recorded, counted as a failure
        row["cox_error"] = f"{type(exc).__name__}: {exc}"
    sh = ShuffleTest(n_permutations, seed=seed).fit(panel)
    er = EdgeReversalTest(n_permutations, seed=seed).fit(panel)
    for k in ("leader", "peer", "all"):
        row[f"alpha_{k}"] = sh.alpha_[k]
        row[f"p_shuffle_{k}"] = sh.p_values_[k]
        row[f"p_reversal_{k}"] = er.p_values_[k]
    return row


def _rate(x) -> float | None:
    x = pd.Series(x, dtype=float).dropna()
    return round(float(x.mean()), 4) if len(x) else None


def summarize(rows: pd.DataFrame, alpha: float = 0.05) -> dict:
    out: dict = {"n_seeds": int(rows.groupby("preset").seed.nunique().min()), "coverage": {},
                 "rejection_rate": {}, "power": {}, "median_hr_leader": {},
                 "median_hr_peer": {}, "failures": {}}
    for preset, g in rows.groupby("preset"):
        uses = SETTINGS.get(preset, ())
        ok = g.dropna(subset=["hr_leader_low"])
        out["failures"][preset] = int(len(g) - len(ok))
        out["median_hr_leader"][preset] = round(float(ok.hr_leader.median()), 3)
        out["median_hr_peer"][preset] = round(float(ok.hr_peer.median()), 3)
        tests = {"shuffle_leader": g.p_shuffle_leader, "shuffle_all": g.p_shuffle_all,
                 "reversal_leader": g.p_reversal_leader, "reversal_all": g.p_reversal_all,
                 "cox_leader": g.p_cox_leader if "p_cox_leader" in g else pd.Series(dtype=float)}
        rej = {k: _rate(v.dropna() < alpha) if v.notna().any() else None
               for k, v in tests.items()}
        if "coverage" in uses:
            cover = (ok.hr_leader_low <= ok.planted_hr_leader) & \
                    (ok.planted_hr_leader <= ok.hr_leader_high)
            out["coverage"][f"cox_hr_leader[{preset}]"] = _rate(cover)
            cp = (ok.hr_peer_low <= ok.planted_hr_peer) & (ok.planted_hr_peer <= ok.hr_peer_high)
            out["coverage"][f"cox_hr_peer[{preset}]"] = _rate(cp)
        if "rejection" in uses:
            out["rejection_rate"][preset] = rej
        if "power" in uses:
            out["power"][preset] = rej
    return out


def _job(args):
    return one_run(*args)


def run(n_seeds: int = N_SEEDS, presets=tuple(SETTINGS), *, workers: int = 2,
        rows_out: Path | None = None) -> dict:
    """Every setting over ``n_seeds`` seeds (``workers`` processes); per-seed rows to ``rows_out``."""
    t0 = time.perf_counter()
    # seed-major order, rows appended as they come: a stopped run still covers every preset
    jobs = [(preset, SEED_BASE + k) for k in range(n_seeds) for preset in presets]
    rows = []

    def keep(row):
        rows.append(row)
        if rows_out is not None:
            pd.DataFrame([row]).to_csv(rows_out, mode="a", header=len(rows) == 1, index=False)

    if rows_out is not None and Path(rows_out).exists():
        Path(rows_out).unlink()
    if workers > 1:
        from multiprocessing import get_context

        with get_context("spawn").Pool(workers) as pool:
            for row in pool.imap(_job, jobs):
                keep(row)
    else:
        for j in jobs:
            keep(_job(j))
    df = pd.DataFrame(rows)
    res = summarize(df)
    res["people"] = PEOPLE
    res["n_permutations"] = N_PERMUTATIONS
    res["seconds"] = round(time.perf_counter() - t0, 1)
    return res


def to_markdown(r: dict) -> str:
    lines = [f"{r['n_seeds']} seeds per preset, {r['people']} people each, joining the platform as "
             "the behaviour, reporting lines as the analyst's exposure network (module docstring "
             f"of `eval/contagion_calibration.py`), {r['n_permutations']} permutations per test.",
             "", "| Cox interval (95 %) | coverage of the planted hazard ratio |", "|---|---|"]
    for k, v in r["coverage"].items():
        lines.append(f"| {k} | {v} |")
    lines += ["", "| preset | " + " | ".join(["shuffle (leader)", "shuffle (all)",
                                             "reversal (leader)", "reversal (all)",
                                             "Cox Wald (leader)"]) + " |",
              "|---|---|---|---|---|---|"]
    for kind in ("rejection_rate", "power"):
        for preset, rej in r[kind].items():
            lines.append(f"| {preset} ({'rejection under no influence' if kind == 'rejection_rate' else 'power'}) | "
                         + " | ".join(str(rej[k]) for k in ("shuffle_leader", "shuffle_all",
                                                            "reversal_leader", "reversal_all",
                                                            "cox_leader")) + " |")
    lines += ["", "Median estimated hazard ratios (leader / peer exposure): "
              + ", ".join(f"{p}: {r['median_hr_leader'][p]} / {r['median_hr_peer'][p]}"
                          for p in r["median_hr_leader"]) + "."]
    return "\n".join(lines)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else N_SEEDS
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    result = run(n, rows_out=out)
    print(to_markdown(result))
    emit(result)
