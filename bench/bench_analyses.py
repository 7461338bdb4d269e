"""The founding analyses against a plain DuckDB query of the same per-person aggregates
(issue 14, item 4: "each analysis ≤ 2× a plain DuckDB SQL query computing the same per-person
aggregates").

The baseline is one hand-written SQL query per analysis that computes the per-person numbers the
analysis' table shows, without anything else the analysis does:

* ``directory``: per listed person, posts, first and last post on their personal accounts, and
  followers/following at the latest snapshot of each account (summed over the person's accounts);
* ``adoption``: per person, the first post on a personal account;
* ``activity``: per person, the posts in the last 365 days of the data and the days they were on
  the platform in that window.

The analysis does more than its baseline — roster at a date, leader selection, the privacy
boundary's consent rules, charts, and its statistics (``activity``'s permutation test) — so the
ratio is what that costs over the aggregates a user could write by hand, which is the issue's
reading. A simulated organization (preset ``scale``, about 56 posts per person; or
``--workspace``) is analysed in one process: a warm-up call of each, then ``--repeats``
interleaved rounds (baseline, analysis, baseline, analysis, …); each figure is the median and
range over the rounds, wall and CPU time of the process (DuckDB's threads included).

Usage: ``python -m bench.bench_analyses [--people 20000] [--repeats 5] [--workspace WS]
[--no-write]``. Appends a section to BENCHMARKS.md and prints one JSON object.
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

_PERSON_POSTS = """
    SELECT a.person_id, count(*) AS posts, min(p.created_at) AS first_post,
           max(p.created_at) AS last_post
    FROM posts p JOIN accounts a USING (account_id)
    WHERE a.person_id IS NOT NULL AND a.kind = 'personal'
    GROUP BY a.person_id"""

#: the plain per-person aggregates (DuckDB SQL) each analysis is set against
BASELINES = {
    "directory": f"""
        WITH pp AS ({_PERSON_POSTS}),
        snap AS (SELECT account_id, arg_max(followers, observed_at) AS followers,
                        arg_max(following, observed_at) AS following
                 FROM account_snapshots GROUP BY account_id),
        fol AS (SELECT a.person_id, sum(s.followers) AS followers, sum(s.following) AS following
                FROM accounts a JOIN snap s USING (account_id)
                WHERE a.person_id IS NOT NULL GROUP BY a.person_id)
        SELECT pe.person_id, pp.posts, pp.first_post, pp.last_post, fol.followers, fol.following
        FROM people pe LEFT JOIN pp USING (person_id) LEFT JOIN fol USING (person_id)
        ORDER BY fol.followers DESC NULLS LAST, pe.person_id""",
    "adoption": f"""
        SELECT person_id, first_post FROM ({_PERSON_POSTS}) ORDER BY first_post, person_id""",
    "activity": """
        WITH bounds AS (SELECT max(created_at) AS t1, max(created_at) - INTERVAL 365 DAY AS t0
                        FROM posts),
        first AS (SELECT a.person_id, min(p.created_at) AS first_post
                  FROM posts p JOIN accounts a USING (account_id)
                  WHERE a.person_id IS NOT NULL AND a.kind = 'personal' GROUP BY a.person_id),
        n AS (SELECT a.person_id, count(*) AS posts
              FROM posts p JOIN accounts a USING (account_id), bounds b
              WHERE a.person_id IS NOT NULL AND a.kind = 'personal' AND p.created_at >= b.t0
                AND p.created_at < b.t1
              GROUP BY a.person_id)
        SELECT f.person_id, coalesce(n.posts, 0) AS posts,
               date_diff('second', greatest(f.first_post, b.t0), b.t1) / 86400.0 AS days
        FROM first f LEFT JOIN n USING (person_id), bounds b
        WHERE f.first_post < b.t1 ORDER BY f.person_id""",
}


def _stats(v: list[float]) -> dict:
    return {"median": statistics.median(v), "min": min(v), "max": max(v)}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="bench.bench_analyses")
    ap.add_argument("--people", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--workspace", type=Path, help="an existing workspace instead of simulating")
    ap.add_argument("--no-write", action="store_true", help="do not append to BENCHMARKS.md")
    a = ap.parse_args(argv)
    import socialens
    from socialens.analyses import REGISTRY

    with tempfile.TemporaryDirectory() as d:
        path = workspace_or_simulated(a.workspace, d, a.people, 56)
        ws = socialens.open(path, read_only=True)
        n_posts = ws.con.execute("SELECT count(*) FROM posts").fetchone()[0]
        n_people = ws.con.execute("SELECT count(*) FROM people").fetchone()[0]
        out = {"bench": "analyses_vs_sql", "posts": n_posts, "people": n_people,
               "repeats": a.repeats, "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
               "analyses": {}}
        for name, sql in BASELINES.items():
            fn = REGISTRY[name]
            base = lambda sql=sql: ws.con.execute(sql).arrow()  # noqa: E731
            prod = lambda fn=fn: fn(ws)  # noqa: E731
            base()
            prod()  # warm-up: imports, first compilation
            t = {"baseline": [], "analysis": []}
            for _ in range(a.repeats):
                for k, f in (("baseline", base), ("analysis", prod)):
                    _, w, c = timed(f)
                    t[k].append((w, c))
            ratio_w = [p[0] / b[0] for b, p in zip(t["baseline"], t["analysis"], strict=True)]
            ratio_c = [p[1] / max(b[1], 1e-9) for b, p in zip(t["baseline"], t["analysis"],
                                                               strict=True)]
            out["analyses"][name] = {
                "baseline_wall_s": _stats([x[0] for x in t["baseline"]]),
                "baseline_cpu_s": _stats([x[1] for x in t["baseline"]]),
                "analysis_wall_s": _stats([x[0] for x in t["analysis"]]),
                "analysis_cpu_s": _stats([x[1] for x in t["analysis"]]),
                "ratio_wall": _stats(ratio_w), "ratio_cpu": _stats(ratio_c)}
            r = out["analyses"][name]
            print(f"{name:10} baseline {r['baseline_wall_s']['median']:.3f} s, analysis "
                  f"{r['analysis_wall_s']['median']:.3f} s: {r['ratio_wall']['median']:.1f}x",
                  file=sys.stderr, flush=True)
        ws.close()
    if not a.no_write:
        _append(out)
    print(json.dumps(out))
    return out


def _f(s: dict, digits: int = 2) -> str:
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


def _append(o: dict) -> None:
    rows = "\n".join(
        f"| {k} | {_f(r['baseline_wall_s'], 3)} | {_f(r['baseline_cpu_s'], 3)} | "
        f"{_f(r['analysis_wall_s'])} | {_f(r['analysis_cpu_s'])} | **{_f(r['ratio_wall'], 1)}×** "
        f"| {_f(r['ratio_cpu'], 1)}× |" for k, r in o["analyses"].items())
    text = f"""
## Founding analyses vs plain SQL per-person aggregates — {o['date']}

`python -m bench.bench_analyses --repeats {o['repeats']}`: {o['posts']:,} posts, {o['people']:,}
people (simulated, preset `scale`), one process, warm (one untimed call of each first),
{o['repeats']} interleaved rounds, median (range). Baseline: the hand-written DuckDB query of the
per-person numbers the analysis' table shows (`bench/bench_analyses.py`, `BASELINES`).

| analysis | SQL wall s | SQL CPU s | analysis wall s | analysis CPU s | ratio wall | ratio CPU |
|---|---:|---:|---:|---:|---:|---:|
{rows}
"""
    with (REPO / "BENCHMARKS.md").open("a", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
