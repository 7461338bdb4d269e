"""Spark ``local[2]`` against DuckDB on the same machine: analyze and enrich, per organization size.

For each size: ``simulate`` (files, preset ``scale``, about 50 posts per person) → ``ingest`` into
DuckDB, then a lake (:mod:`socialens.lake`) written before and one after ``enrich``. Then, in
``--repeats`` interleaved rounds (DuckDB, Spark, DuckDB, Spark, …), each in a fresh process:

* **analyze**: ``run_all`` of every registry analysis, on the enriched workspace vs on the enriched
  lake with ``SparkWorkspace``;
* **enrich**: ``enrich`` of a fresh copy of the unenriched workspace (one process, one core) vs
  ``enrich_lake`` of a fresh copy of the unenriched lake (Spark's two executor threads).

Each figure is the median and range over the rounds, as wall time, CPU time (the process's own
user + system, plus the JVM's for Spark, read from ``/proc`` before the session stops) and peak
resident memory (VmHWM of the Python process; of the JVM for Spark, reported apart). Spark's CPU
counts the JVM and every live descendant of it (the executors' Python workers) with their reaped
children. These are
**cold** runs: interpreter start, imports, model loading and, for Spark, the JVM and session
start are included — that is what a user's command costs. Results are appended to BENCHMARKS.md.

Usage: ``python -m bench.bench_spark [--sizes 1e4,1e5] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_PRELUDE = """
import json, os, resource, sys, time
def _proc(pid):
    st = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    hwm = next((int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM")), 0)
    return (int(st[11]) + int(st[12])) / tick, hwm / 1024
def _tree(root):
    # CPU seconds of root and every live descendant (Spark's Python workers are children of the
    # JVM), and the peak RSS (MiB) of root
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                parent[int(d)] = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    todo, cpu, seen = [root], 0.0, set()
    while todo:
        pid = todo.pop()
        seen.add(pid)
        try:
            st = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            cpu += sum(int(x) for x in st[11:15]) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
        todo += [c for c, p in parent.items() if p == pid and c not in seen]
    return cpu, _proc(root)[1]
def _report(rows, spark=None):
    jvm_cpu = jvm_rss = 0.0
    if spark is not None:
        jvm_cpu, jvm_rss = _tree(spark.sparkContext._gateway.proc.pid)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print("RESULT " + json.dumps({"rows": rows, "cpu_s": ru.ru_utime + ru.ru_stime + jvm_cpu,
                                  "py_rss_mib": ru.ru_maxrss / 1024, "jvm_rss_mib": jvm_rss}))
"""

_CODE = {
    "simulate": "from socialens.simulate import simulate\n"
                "r = simulate(people=max(200, {posts} // 50), seed=1, preset='scale', "
                "target_posts={posts}, files={files!r})\n_report(r.rows.get('posts', 0))",
    "ingest": "import socialens\nws = socialens.open({ws!r})\nr = ws.ingest({files!r})\n"
              "ws.close()\n_report(r.totals['read'])",
    "lake": "import socialens\nfrom socialens.lake import write_lake\n"
            "ws = socialens.open({ws!r}, read_only=True)\n"
            "m = write_lake(ws, {lake!r}, include_all=True)\n_report(m['tables']['posts']['rows'])",
    "enrich_duckdb": "import socialens\nfrom socialens.enrich import enrich\n"
                     "ws = socialens.open({ws!r})\nr = enrich(ws, workers=1)\nws.close()\n"
                     "_report(r.enriched)",
    "enrich_spark": "from socialens.spark import SparkWorkspace, enrich_lake, spark_session\n"
                    "s = spark_session()\nlake = SparkWorkspace({lake!r}, spark=s)\n"
                    "r = enrich_lake(lake)\n_report(r['enriched'], s)\ns.stop()",
    "analyze_duckdb": "import socialens\nfrom socialens.analyses import run_all\n"
                      "ws = socialens.open({ws!r}, read_only=True)\n"
                      "u = {{}}\nr = run_all(ws, unavailable=u)\n_report(len(r))",
    "analyze_spark": "from socialens.spark import SparkWorkspace, spark_session\n"
                     "from socialens.analyses import run_all\ns = spark_session()\n"
                     "lake = SparkWorkspace({lake!r}, spark=s)\n"
                     "u = {{}}\nr = run_all(lake, unavailable=u)\n_report(len(r), s)\ns.stop()",
}


def _run(stage: str, **ctx) -> dict:
    code = _PRELUDE + _CODE[stage].format(**ctx)
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       env=env)
    wall = time.perf_counter() - t0
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if p.returncode != 0 or line is None:
        return {"ok": False, "wall_s": wall, "error": (p.stderr.strip().splitlines() or ["?"])[-1]}
    return {"ok": True, "wall_s": wall, **json.loads(line[7:])}


def _stats(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="bench.bench_spark")
    ap.add_argument("--sizes", default=os.environ.get("SOCIALENS_BENCH_SPARK_SIZES", "1e4,1e5"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--keep", default=None, help="keep the workspaces in this folder")
    args = ap.parse_args(argv)
    try:
        import pyspark  # noqa: F401
    except ImportError:
        print(json.dumps({"bench": "spark", "skipped": "pyspark not installed"}))
        return {}
    sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="socialens-spark-"))
    results = []
    for n in sizes:
        d = base / f"posts_{n}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        ws0, lake0 = d / "raw.duckdb", d / "lake_raw"
        ws1, lake1 = d / "enriched.duckdb", d / "lake_enriched"
        row = {"target_posts": n, "setup": {}, "rounds": []}
        for stage, ctx in (("simulate", {"posts": n, "files": str(d / "files")}),
                           ("ingest", {"ws": str(ws0), "files": str(d / "files")}),
                           ("lake", {"ws": str(ws0), "lake": str(lake0)})):
            row["setup"][stage] = r = _run(stage, **ctx)
            print(f"posts={n:>8} {stage:15} {r['wall_s']:7.1f} s", flush=True)
            if not r["ok"]:
                raise SystemExit(f"{stage} failed: {r['error']}")
        row["posts"] = row["setup"]["simulate"]["rows"]
        shutil.copy(ws0, ws1)
        row["setup"]["enrich_once"] = _run("enrich_duckdb", ws=str(ws1))
        row["setup"]["lake_enriched"] = _run("lake", ws=str(ws1), lake=str(lake1))
        for i in range(args.repeats):
            rnd = {}
            for stage in ("enrich_duckdb", "enrich_spark", "analyze_duckdb", "analyze_spark"):
                work = d / f"work_{stage}"
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir()
                if stage == "enrich_duckdb":
                    shutil.copy(ws0, work / "ws.duckdb")
                    ctx = {"ws": str(work / "ws.duckdb")}
                elif stage == "enrich_spark":
                    shutil.copytree(lake0, work / "lake")
                    ctx = {"lake": str(work / "lake")}
                else:
                    ctx = {"ws": str(ws1), "lake": str(lake1)}
                rnd[stage] = r = _run(stage, **ctx)
                print(f"posts={n:>8} round {i + 1} {stage:15} {r['wall_s']:7.1f} s wall "
                      f"{r.get('cpu_s', float('nan')):7.1f} s cpu  "
                      f"{'' if r['ok'] else r['error']}", flush=True)
                shutil.rmtree(work, ignore_errors=True)
            row["rounds"].append(rnd)
        row["summary"] = {
            stage: {m: _stats([rnd[stage][m] for rnd in row["rounds"] if rnd[stage]["ok"]])
                    for m in ("wall_s", "cpu_s", "py_rss_mib", "jvm_rss_mib")}
            for stage in row["rounds"][0] if all(rnd[stage]["ok"] for rnd in row["rounds"])}
        results.append(row)
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)
    summary = {"bench": "spark", "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
               "machine": f"{platform.platform()}, {os.cpu_count()} CPUs, Python "
                          f"{platform.python_version()}", "repeats": args.repeats,
               "results": results}
    _append_markdown(summary)
    print(json.dumps(summary, default=float))
    return summary


def _fmt(s: dict, unit: str = "") -> str:
    return f"{s['median']:.1f}{unit} ({s['min']:.1f}–{s['max']:.1f})"


def _append_markdown(s: dict) -> None:
    lines = [f"\n## Spark local[2] vs DuckDB — {s['date']}\n",
             f"`python -m bench.bench_spark` — {s['machine']}. Simulated organizations "
             "(preset `scale`); each figure is the median (range) of "
             f"{s['repeats']} interleaved cold runs, each in a fresh process (imports, models, "
             "JVM and session start included). CPU = the process's user + system time, plus, for "
             "Spark, the JVM's and its Python workers'. Enrich: DuckDB one process, one core; Spark two executor threads.",
             "", "| posts | stage | DuckDB wall s | Spark wall s | Spark / DuckDB (wall) | "
             "DuckDB CPU s | Spark CPU s | DuckDB peak MiB | Spark peak MiB (Python + JVM) |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in s["results"]:
        sm = r.get("summary", {})
        for stage in ("analyze", "enrich"):
            a, b = sm.get(f"{stage}_duckdb"), sm.get(f"{stage}_spark")
            if not a or not b:
                lines.append(f"| {r.get('posts', r['target_posts']):,} | {stage} | failed | | | | "
                             "| | |")
                continue
            ratio = b["wall_s"]["median"] / a["wall_s"]["median"]
            lines.append(
                f"| {r.get('posts', r['target_posts']):,} | {stage} | {_fmt(a['wall_s'])} | "
                f"{_fmt(b['wall_s'])} | {ratio:.2f} | {_fmt(a['cpu_s'])} | {_fmt(b['cpu_s'])} | "
                f"{a['py_rss_mib']['median']:.0f} | {b['py_rss_mib']['median']:.0f} + "
                f"{b['jvm_rss_mib']['median']:.0f} |")
    lines.append("")
    with open(ROOT / "BENCHMARKS.md", "a", encoding="utf-8") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:])
