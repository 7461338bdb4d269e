"""Calibration of the reach analysis's permutation test under a true null, through the product.

Many small organizations are simulated with the ``founding-null`` preset (leaders are like
everyone else: no ties up the hierarchy, no department homophily, no reply boost towards leaders,
the same posting rate; docs/simulation.md), ingested into a workspace and analysed with
:func:`socialens.analyses.reach` exactly as a user would (default kinds: follows and the ties
derived from posts). The one-sided test "leaders are more central than a random choice of as many
people" should then reject at about its nominal level: the share of organizations with
``p < 0.05`` is the false-positive rate (primary measure: PageRank; the other measures and the
Holm-adjusted "any measure" rejection are reported too).

**Power** is measured the same way where leaders are planted central: ``--preset weak-ties``
(the null organization where 10 % of members follow the CEO and 10 % their department head) and
``--preset default`` (the simulator's default: most members follow their manager, department
head and CEO, and reply to leaders three times as often); the share of organizations with
``p < 0.05`` is then the test's power at that planted effect (reported as ``power``).

``run(n_seeds, quick, preset=)`` returns the numbers; alone,
``python -m eval.reach_calibration [--seeds N] [--preset P] [--quick] [--rows rows.jsonl]
[--workers W]`` prints one JSON object on its last line (``n_seeds``, ``rejection_rate``, ...).

Seeds: the reported runs use ``SEED0 + i`` (null) and ``POWER_SEED0 + i`` (power); the quick
version (the tests) uses ``QUICK_SEED0 + i``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

__all__ = ["run", "evaluate", "to_markdown", "one_org", "SEED0", "POWER_SEED0", "QUICK_SEED0",
           "ALPHA", "CONFIG", "TITLE"]

TITLE = "Reach: the leaders-vs-random centrality test, false-positive rate and power"

SEED0 = 120_000
POWER_SEED0 = 121_000
QUICK_SEED0 = 12_000
ALPHA = 0.05
#: a small organization: 120 people (CEO and chiefs are the leaders), one year
CONFIG = {"preset": "founding-null", "people": 120}
#: scenario -> (simulator preset, overrides). ``weak-ties`` is the null organization with one
#: planted difference: 10 % of members follow the CEO and 10 % their department head.
SCENARIOS = {
    "founding-null": ("founding-null", {}),
    "default": ("default", {}),
    "weak-ties": ("founding-null", {"p_follow_ceo": 0.1, "p_follow_department_head": 0.1}),
}
METRICS = ("in_degree", "in_strength", "pagerank", "betweenness", "eigenvector")


def one_org(seed: int, folder: str, n_permutations: int = 999,
            preset: str = "founding-null") -> dict:
    """Simulate → ingest → reach for one organization; the test's p-values."""
    import socialens
    from socialens.analyses import reach
    from socialens.simulate import simulate

    out = Path(folder) / f"reach-{seed}.duckdb"
    sim_preset, overrides = SCENARIOS[preset]
    simulate(seed=seed, out=out, files=out.with_suffix(".sim"),
             **{**CONFIG, **overrides, "preset": sim_preset})
    ws = socialens.open(out)
    try:
        r = reach(ws, n_permutations=n_permutations, seed=seed)
        s = r.summary
        holm = r.tables["leaders_vs_others"].set_index("metric").p_value_holm.to_dict()
    finally:
        ws.close()
    for p in out.parent.glob(out.name + "*"):
        p.unlink()
    shutil.rmtree(out.with_suffix(".sim"), ignore_errors=True)
    perm = s["permutation"] or {}
    return {"seed": seed, "preset": preset, "n_in_network": s["n_in_network"],
            "n_leaders_in_network": s["n_leaders_in_network"],
            **{f"p_{m}": perm.get(f"p_value_{m}") for m in METRICS},
            "p_holm_min": min(holm.values()) if holm else None}


def _batch(args) -> list[dict]:
    seeds, folder, rows_path, preset = args
    rows = []
    for seed in seeds:
        row = one_org(seed, folder, preset=preset)
        rows.append(row)
        if rows_path:
            with open(rows_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
    return rows


def _rate(values) -> float | None:
    v = [x for x in values if x is not None]
    return round(float(np.mean([x < ALPHA for x in v])), 4) if v else None


def run(n_seeds: int = 200, *, quick: bool = False, workers: int = 1,
        rows_path: str | Path | None = None, budget_s: float | None = None,
        preset: str = "founding-null") -> dict:
    """Rejection rates of the reach permutation test: the false-positive rate under the true null
    (``founding-null``), the power under a preset with planted leader centrality (``default``).

    ``budget_s`` stops starting new organizations after that many seconds (single worker)."""
    t0 = time.perf_counter()
    if preset not in SCENARIOS:
        raise ValueError(f"unknown scenario {preset!r}; known: {', '.join(SCENARIOS)}")
    null = preset == "founding-null"
    seed0 = (QUICK_SEED0 if quick else SEED0 if null
             else POWER_SEED0 + 1000 * (list(SCENARIOS).index(preset) - 1))
    seeds = [seed0 + i for i in range(n_seeds)]
    done: list[dict] = []
    if rows_path and Path(rows_path).exists():
        for line in Path(rows_path).read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            if r["seed"] in seeds and r.get("preset", "founding-null") == preset:
                done.append(r)
        have = {r["seed"] for r in done}
        seeds = [s for s in seeds if s not in have]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="socialens-reach-cal-") as folder:
        if workers <= 1:
            for seed in seeds:
                if budget_s is not None and time.perf_counter() - t0 > budget_s:
                    break
                rows.extend(_batch(([seed], folder, rows_path, preset)))
        else:
            parts = [(seeds[i::workers], folder, rows_path, preset) for i in range(workers)]
            with ProcessPoolExecutor(workers) as pool:
                rows = [r for part in pool.map(_batch, parts) for r in part]
    rows = done + rows
    p = [r["p_pagerank"] for r in rows]
    n = len([x for x in p if x is not None])
    rate = _rate(p)
    # binomial standard error at the nominal level
    se = round(float(np.sqrt(ALPHA * (1 - ALPHA) / n)), 4) if n else None
    return {
        "analysis": "reach", "preset": preset, "people": CONFIG["people"],
        "alpha": ALPHA, "n_seeds": n, "rejection_rate": rate, "se_at_nominal": se,
        **({} if null else {"power": rate}),
        "rejection_rate_by_metric": {m: _rate([r[f"p_{m}"] for r in rows]) for m in METRICS},
        "rejection_rate_any_metric_holm": _rate([r["p_holm_min"] for r in rows]),
        "median_people_in_network": float(np.median([r["n_in_network"] for r in rows]))
        if rows else None,
        "median_leaders_in_network": float(np.median([r["n_leaders_in_network"] for r in rows]))
        if rows else None,
        "seed0": seed0, "seconds": round(time.perf_counter() - t0, 1),
    }


def evaluate(null_seeds: int = 400, power_seeds: int = 200) -> dict:
    """``make eval``: the false-positive rate on ``null_seeds`` null organizations and the power on
    ``power_seeds`` organizations with planted leader centrality."""
    return {"null": run(null_seeds), "power (weak-ties)": run(power_seeds, preset="weak-ties"),
            "power (default)": run(power_seeds, preset="default")}


def to_markdown(result: dict) -> str:
    """The EVALUATION.md tables of :func:`evaluate` (either part may be missing)."""
    names = {"pagerank": "**PageRank (primary)**", "in_degree": "in-degree",
             "in_strength": "in-strength", "betweenness": "betweenness",
             "eigenvector": "eigenvector"}
    parts = {k: v for k, v in result.items() if v}
    cols = list(parts)
    head = {k: "false-positive rate (`founding-null`)" if k == "null" else k for k in cols}

    def pct(x):
        return "–" if x is None else f"{100 * x:.1f} %"

    lines = ["Through the product (`socialens.simulate` → ingest → `socialens.analyses.reach`, "
             "default kinds: follows and the ties derived from posts), organizations of "
             f"{CONFIG['people']} people; one-sided permutation test at {ALPHA:.0%} (999 "
             "assignments, exact when fewer exist).", ""]
    for k in cols:
        r = parts[k]
        lines.append(f"- {k}: scenario `{r['preset']}`, {r['n_seeds']} organizations with a "
                     f"leader in the network (seeds from {r['seed0']}), median "
                     f"{r['median_people_in_network']:.0f} people and "
                     f"{r['median_leaders_in_network']:.0f} leaders in the network, "
                     f"{r['seconds']:.0f} s.")
    lines += ["", "| measure | " + " | ".join(head[k] for k in cols) + " |",
              "|---|" + "---:|" * len(cols)]
    for m in ("pagerank", *[m for m in METRICS if m != "pagerank"]):
        lines.append(f"| {names[m]} | "
                     + " | ".join(pct(parts[k]["rejection_rate_by_metric"][m]) for k in cols)
                     + " |")
    lines.append("| any of the five, Holm-adjusted | "
                 + " | ".join(pct(parts[k]["rejection_rate_any_metric_holm"]) for k in cols)
                 + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--preset", default="founding-null",
                    help="scenario: founding-null (false-positive rate), weak-ties or default "
                    "(power)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--rows", default=None, help="JSON Lines of per-organization rows (resume)")
    ap.add_argument("--budget", type=float, default=None,
                    help="stop starting organizations after this many seconds")
    a = ap.parse_args(argv)
    res = run(a.seeds, quick=a.quick, workers=a.workers, rows_path=a.rows, budget_s=a.budget,
              preset=a.preset)
    sys.stdout.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    main()
