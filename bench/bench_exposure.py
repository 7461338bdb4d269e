"""Exposure counting at scale: ``socialens.behaviours.exposure_counts`` (ibis) vs a plain DuckDB SQL
join doing the same counting, measured in the same run.

Data: a synthetic organization written straight into DuckDB with numpy (the simulator plus ingest
would take far longer than the counting at this size): ``--people`` people of whom 1 % are leaders,
``--ties`` exposure ties (random ordered pairs, 30 % with a start time, the rest NULL = from the
start), ``--behaviours`` behaviours with ``--uses`` first uses (Zipf-like popularity). Both sides
produce the full per-(person, behaviour) table (``person_id, behaviour, adopted_at, n_leaders,
n_peers, first_leader_at, first_peer_at`` and the unexposed adopters) as Arrow; the rows and the
column sums are checked equal. Interleaved repeats (ibis, SQL, ibis, SQL, ...): median and range of
wall seconds; peak RSS of the process (both run in it, so this is the larger of the two).

Prints one JSON object on the last line and appends a section to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
T0 = pd.Timestamp("2015-01-01", tz="UTC")
DAYS = 730

SQL = """
WITH e AS (
  SELECT t.person_id, u.behaviour, t.source_person_id,
         CASE WHEN t.start_at IS NOT NULL AND t.start_at > u."at" THEN t.start_at ELSE u."at" END
           AS exp_at
  FROM ties t JOIN uses u ON u.person_id = t.source_person_id),
f AS (
  SELECT e.*, o."at" AS own_at, l.leader_id IS NOT NULL AS is_l
  FROM e LEFT JOIN uses o ON o.person_id = e.person_id AND o.behaviour = e.behaviour
         LEFT JOIN leaders l ON l.leader_id = e.source_person_id
  WHERE e.exp_at < coalesce(o."at", TIMESTAMPTZ '{end}')),
agg AS (
  SELECT person_id, behaviour, max(own_at) AS adopted_at,
         count(*) FILTER (WHERE is_l) AS n_leaders, count(*) FILTER (WHERE NOT is_l) AS n_peers,
         min(exp_at) FILTER (WHERE is_l) AS first_leader_at,
         min(exp_at) FILTER (WHERE NOT is_l) AS first_peer_at
  FROM f GROUP BY person_id, behaviour)
SELECT * FROM agg
UNION ALL
SELECT u.person_id, u.behaviour, u."at", 0, 0, NULL, NULL FROM uses u
WHERE NOT EXISTS (SELECT 1 FROM agg a WHERE a.person_id = u.person_id
                  AND a.behaviour = u.behaviour)
"""


def make_data(con, people: int, ties: int, behaviours: int, uses: int, seed: int = 0) -> set[str]:
    rng = np.random.default_rng(seed)
    ids = np.array([f"p{i:07d}" for i in range(people)], dtype=object)
    src = rng.integers(0, people, ties)
    dst = rng.integers(0, people, ties)
    keep = src != dst
    start = pd.Series(T0 + pd.to_timedelta(rng.uniform(0, DAYS, ties), unit="D"))
    start[rng.random(ties) > 0.3] = pd.NaT
    t = pd.DataFrame({"person_id": ids[src[keep]], "source_person_id": ids[dst[keep]],
                      "start_at": start[keep].to_numpy()}).drop_duplicates(
        ["person_id", "source_person_id"])
    pop = 1.0 / np.arange(1, behaviours + 1) ** 0.8
    b = rng.choice(behaviours, uses, p=pop / pop.sum())
    who = rng.integers(0, people, uses)
    u = pd.DataFrame({"person_id": ids[who], "behaviour": [f"hashtag:#t{x}" for x in b],
                      "at": T0 + pd.to_timedelta(rng.uniform(0, DAYS, uses), unit="D")})
    u = u.sort_values("at").drop_duplicates(["person_id", "behaviour"])
    leaders = set(ids[rng.choice(people, max(1, people // 100), replace=False)])
    con.register("t_df", t)
    con.register("u_df", u)
    con.register("l_df", pd.DataFrame({"leader_id": sorted(leaders)}))
    con.execute("CREATE TABLE ties AS SELECT person_id, source_person_id, "
                "start_at::TIMESTAMPTZ AS start_at FROM t_df")
    con.execute('CREATE TABLE uses AS SELECT person_id, behaviour, "at"::TIMESTAMPTZ AS "at" '
                "FROM u_df")
    con.execute("CREATE TABLE leaders AS SELECT * FROM l_df")
    for name in ("t_df", "u_df", "l_df"):
        con.unregister(name)
    return leaders


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_exposure")
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--ties", type=int, default=2_000_000)
    ap.add_argument("--behaviours", type=int, default=10_000)
    ap.add_argument("--uses", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="do not append to BENCHMARKS.md")
    args = ap.parse_args(argv)

    import duckdb
    import ibis

    from socialens.behaviours import exposure_counts

    con = duckdb.connect()
    t_make = time.perf_counter()
    make_data(con, args.people, args.ties, args.behaviours, args.uses)
    t_make = time.perf_counter() - t_make
    n_ties, n_uses = (con.execute(f"SELECT count(*) FROM {x}").fetchone()[0]
                      for x in ("ties", "uses"))
    end = (T0 + pd.Timedelta(days=DAYS + 1)).isoformat()
    be = ibis.duckdb.from_connection(con)
    expr = exposure_counts(be.table("uses"), be.table("ties"), be.table("leaders"), end=end)

    def run_ibis():
        return expr.to_pyarrow()

    def run_sql():
        r = con.execute(SQL.format(end=end)).arrow()
        return r.read_all() if hasattr(r, "read_all") else r

    times: dict[str, list[float]] = {"ibis": [], "sql": []}
    results = {}
    for _ in range(args.repeat):
        for name, fn in (("ibis", run_ibis), ("sql", run_sql)):
            t = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - t)
    a = results["ibis"].to_pandas()
    b = results["sql"].to_pandas()
    same = (len(a) == len(b) and int(a.n_leaders.sum()) == int(b.n_leaders.sum())
            and int(a.n_peers.sum()) == int(b.n_peers.sum()))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med = {k: statistics.median(v) for k, v in times.items()}
    out = {
        "people": args.people, "ties": int(n_ties), "behaviours": args.behaviours,
        "uses": int(n_uses), "rows": len(a), "exposures": int(a.n_leaders.sum() + a.n_peers.sum()),
        "same_result": bool(same), "make_data_s": round(t_make, 1),
        "ibis_s": {"median": round(med["ibis"], 2), "min": round(min(times["ibis"]), 2),
                   "max": round(max(times["ibis"]), 2)},
        "sql_s": {"median": round(med["sql"], 2), "min": round(min(times["sql"]), 2),
                  "max": round(max(times["sql"]), 2)},
        "ratio_ibis_to_sql": round(med["ibis"] / med["sql"], 3),
        "peak_rss_mib": round(rss), "repeat": args.repeat,
    }
    if not args.no_write:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        with open(REPO / "BENCHMARKS.md", "a", encoding="utf-8") as f:
            f.write(
                f"\n## Exposure counting — {now}\n\n"
                f"Synthetic organization in DuckDB (numpy): {args.people:,} people, {n_ties:,} "
                f"exposure ties, {args.behaviours:,} behaviours, {n_uses:,} first uses; "
                f"{out['exposures']:,} counted exposures in {len(a):,} rows. "
                f"{platform.platform()}, {os.cpu_count()} CPUs, Python "
                f"{platform.python_version()}; {args.repeat} interleaved repeats, median "
                f"(range); peak RSS of the process {out['peak_rss_mib']} MiB. Same result: "
                f"{same}.\n\n"
                "| what | seconds | ratio to SQL |\n|---|---:|---:|\n"
                f"| plain DuckDB SQL join (baseline) | {med['sql']:.2f} "
                f"({min(times['sql']):.2f}–{max(times['sql']):.2f}) | 1.000 |\n"
                f"| `exposure_counts` (ibis on DuckDB) | {med['ibis']:.2f} "
                f"({min(times['ibis']):.2f}–{max(times['ibis']):.2f}) | "
                f"{out['ratio_ibis_to_sql']:.3f} |\n")
    print(json.dumps(out))
    return out


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
