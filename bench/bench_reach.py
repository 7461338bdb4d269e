"""Reach on a large network: exact betweenness (the former default) against the source-sampling
estimate (Brandes & Pich 2007, ``betweenness_sources``), time and agreement.

A simulated organization (preset ``scale``, about 55 posts per person; or ``--workspace`` an
existing one) is analysed by ``reach`` in ``--repeats`` interleaved rounds (exact, sampled, exact,
sampled, …) in one process after a warm-up run; each figure is the median and range over the
rounds, wall time and CPU time of the process (DuckDB's threads included). Agreement of the
sampled estimate with the exact values, from the first round: Spearman correlation over everyone
and over the 100 most central, median relative error of the 100 most central and of the leaders,
the leaders' median betweenness rank and the permutation p-value of both.

Usage: ``python -m bench.bench_reach [--people 5000] [--repeats 5] [--sources 1000]
[--workspace WS] [--no-write]``. Appends a section to BENCHMARKS.md and prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench._common import timed, workspace_or_simulated  # noqa: E402


def _agreement(exact, sampled) -> dict:
    from scipy.stats import spearmanr

    a = exact.tables["centrality"].set_index("person_id").betweenness
    b = sampled.tables["centrality"].set_index("person_id").betweenness.reindex(a.index)
    top = a.sort_values(ascending=False).index[:100]
    lead = exact.tables["centrality"].query("leader").person_id
    la = a[lead].where(a[lead] > 0).dropna()
    rank = {k: r.tables["leaders_vs_others"].set_index("metric").loc["betweenness",
                                                                      "leaders_median_rank"]
            for k, r in (("exact", exact), ("sampled", sampled))}
    return {
        "n_in_network": int(len(a)),
        "spearman_all": float(spearmanr(a, b).statistic),
        "spearman_top100": float(spearmanr(a[top], b[top]).statistic),
        "median_rel_err_top100": float((abs(b[top] - a[top]) / a[top]).median()),
        "median_rel_err_leaders": float((abs(b[la.index] - la) / la).median()) if len(la) else None,
        "leaders_median_rank_exact": float(rank["exact"]),
        "leaders_median_rank_sampled": float(rank["sampled"]),
        "p_exact": exact.summary["permutation"]["p_value_betweenness"],
        "p_sampled": sampled.summary["permutation"]["p_value_betweenness"],
    }


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sources", type=int, default=1000)
    ap.add_argument("--workspace", type=Path, help="an existing workspace instead of simulating")
    ap.add_argument("--no-write", action="store_true", help="do not append to BENCHMARKS.md")
    a = ap.parse_args(argv)

    import socialens
    from socialens.analyses.reach import reach

    with tempfile.TemporaryDirectory() as d:
        path = workspace_or_simulated(a.workspace, d, a.people, 55)
        ws = socialens.open(path, read_only=True)
        try:
            n_posts = ws.count("posts")
            exact = lambda: reach(ws, betweenness_sources=10**12)  # noqa: E731
            sampled = lambda: reach(ws, betweenness_sources=a.sources)  # noqa: E731
            sampled()  # warm-up: imports, DuckDB caches
            runs = {"exact": [], "sampled": []}
            first = {}
            for _ in range(a.repeats):
                for k, fn in (("exact", exact), ("sampled", sampled)):
                    res, wall, cpu = timed(fn)
                    runs[k].append((wall, cpu))
                    first.setdefault(k, res)
            agree = _agreement(first["exact"], first["sampled"])
        finally:
            ws.close()

    def med(k, i):
        v = [r[i] for r in runs[k]]
        return statistics.median(v), min(v), max(v)

    out = {"bench": "reach", "posts": n_posts, "repeats": a.repeats, "sources": a.sources,
           "method_sampled": first["sampled"].summary["betweenness_method"],
           **{f"{k}_{m}": med(k, i) for k in runs for i, m in ((0, "wall"), (1, "cpu"))},
           **agree}
    out["cpu_ratio"] = out["exact_cpu"][0] / out["sampled_cpu"][0]
    out["wall_ratio"] = out["exact_wall"][0] / out["sampled_wall"][0]
    if not a.no_write:
        def f(t):
            return f"{t[0]:.1f} s ({t[1]:.1f}–{t[2]:.1f})"

        with open(REPO / "BENCHMARKS.md", "a", encoding="utf-8") as fh:
            fh.write(
                f"\n## reach: exact vs sampled betweenness — "
                f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
                f"`python -m bench.bench_reach {' '.join(argv or [])}`; {n_posts:,} posts, "
                f"{agree['n_in_network']:,} people in the network, {a.repeats} interleaved rounds "
                f"in one process, Python {sys.version.split()[0]}.\n\n"
                "| betweenness | wall | CPU |\n|---|---|---|\n"
                f"| exact (baseline) | {f(out['exact_wall'])} | {f(out['exact_cpu'])} |\n"
                f"| {out['method_sampled']} | {f(out['sampled_wall'])} | {f(out['sampled_cpu'])} |\n\n"
                f"CPU ratio {out['cpu_ratio']:.1f}×, wall ratio {out['wall_ratio']:.1f}×. "
                f"Agreement: Spearman {agree['spearman_all']:.3f} (everyone), "
                f"{agree['spearman_top100']:.3f} (top 100); median relative error "
                f"{agree['median_rel_err_top100']:.1%} (top 100), "
                + (f"{agree['median_rel_err_leaders']:.1%}" if agree["median_rel_err_leaders"]
                   is not None else "n/a")
                + f" (leaders); leaders' median rank {agree['leaders_median_rank_exact']:g} "
                  f"(exact) / {agree['leaders_median_rank_sampled']:g} (sampled); permutation "
                  f"p {agree['p_exact']:.2g} / {agree['p_sampled']:.2g}.\n")
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
