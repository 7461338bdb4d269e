"""Scale benchmark: the full pipeline on simulated organizations of 10^4, 10^5, 10^6 (10^7) posts.

For each size: ``simulate`` (files only, preset ``scale``, about 50 posts per person) → ``ingest`` →
``enrich`` → ``analyze`` (``socialens.analyses.run_all``) → ``report`` (``write_report``). Every stage
runs in its own fresh Python process, so its wall time and **peak RSS** (``ru_maxrss`` of that process,
via ``os.wait4``) are its own. The log–log slope of time against posts is fitted per stage and for the
total over the sizes of this run; absolute times vary between machines, so the slopes and the
ratios between sizes of the same run are what to compare. Results are appended to BENCHMARKS.md.

Usage: ``python -m bench.bench_pipeline [--sizes 1e4,1e5,1e6] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("simulate", "ingest", "enrich", "analyze", "report")

_CODE = {
    "simulate": "from socialens.simulate import simulate\n"
                "r = simulate(people=max(200, {posts} // 50), seed=1, preset='scale', "
                "target_posts={posts}, files={files!r})\n"
                "print('ROWS', r.rows.get('posts', 0))",
    "ingest": "import socialens\nws = socialens.open({ws!r})\nr = ws.ingest({files!r})\n"
              "print('ROWS', r.totals['read'])",
    "enrich": "import socialens\nfrom socialens.enrich import enrich\nws = socialens.open({ws!r})\n"
              "r = enrich(ws)\nprint('ROWS', ws.count('post_features'))",
    "analyze": "import socialens\nfrom socialens.analyses import run_all\n"
               "ws = socialens.open({ws!r}, read_only=True)\nr = run_all(ws)\nprint('ROWS', len(r))",
    "report": "import socialens\nfrom socialens.report import write_report\n"
              "ws = socialens.open({ws!r}, read_only=True)\nwrite_report(ws, {out!r})\nprint('ROWS', 1)",
}


def _run(code: str) -> dict:
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    out, err = p.stdout.read(), p.stderr.read()
    ok = os.waitstatus_to_exitcode(status) == 0
    rows = next((int(ln.split()[1]) for ln in out.splitlines() if ln.startswith("ROWS ")), None)
    return {"ok": ok, "seconds": wall, "peak_rss_mib": usage.ru_maxrss / 1024, "rows": rows,
            "error": None if ok else err.strip().splitlines()[-1:] or ["failed"]}


def _available(stage: str) -> bool:
    mod, name = {"enrich": ("socialens.enrich", "enrich"), "analyze": ("socialens.analyses", "run_all"),
                 "report": ("socialens.report", "write_report")}.get(stage, (None, None))
    if mod is None:
        return True
    code = f"import {mod} as m; raise SystemExit(0 if hasattr(m, {name!r}) else 1)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def _slope(xs, ys) -> float | None:
    pts = [(x, y) for x, y in zip(xs, ys, strict=True) if y and y > 0]
    if len(pts) < 2:
        return None
    x, y = np.log10([p[0] for p in pts]), np.log10([p[1] for p in pts])
    return float(np.polyfit(x, y, 1)[0])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="bench.bench_pipeline")
    ap.add_argument("--sizes", default=os.environ.get("SOCIALENS_BENCH_SIZES", "1e4,1e5,1e6"),
                    help="post counts, comma-separated (add 1e7 for the optional size)")
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--keep", default=None, help="keep the workspaces in this folder")
    args = ap.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    stages = [s for s in args.stages.split(",") if s in STAGES]
    skipped = [s for s in stages if not _available(s)]
    stages = [s for s in stages if s not in skipped]
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="socialens-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    results = []
    for n in sizes:
        d = base / f"posts_{n}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir()
        ctx = {"posts": n, "files": str(d / "files"), "ws": str(d / "ws.duckdb"), "out": str(d / "report")}
        row = {"target_posts": n, "stages": {}}
        for s in stages:
            r = _run(_CODE[s].format(**ctx))
            row["stages"][s] = r
            print(f"posts={n:>9} {s:9} {r['seconds']:8.1f} s  peak {r['peak_rss_mib']:7.0f} MiB"
                  f"  rows={r['rows']}  {'' if r['ok'] else r['error']}", flush=True)
            if s == "simulate":
                row["posts"] = r["rows"] or n
            if s == "ingest" and r["ok"] and r["rows"]:
                r["records_per_s"] = r["rows"] / r["seconds"]
            if not r["ok"]:
                break
        results.append(row)
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)
    posts = [r.get("posts", r["target_posts"]) for r in results]
    slopes = {s: _slope(posts, [r["stages"].get(s, {}).get("seconds") for r in results]) for s in stages}
    totals = [sum(v["seconds"] for k, v in r["stages"].items() if k != "simulate") for r in results]
    slopes["pipeline (ingest→report)"] = _slope(posts, totals)
    summary = {"bench": "pipeline", "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
               "machine": f"{platform.platform()}, {os.cpu_count()} CPUs, "
                          f"{_mem_gib():.0f} GiB RAM, Python {platform.python_version()}",
               "skipped_stages": skipped, "results": results, "slopes": slopes}
    _append_markdown(summary, stages)
    print(json.dumps(summary, default=float))
    return summary


def _mem_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        return float("nan")


def _append_markdown(s: dict, stages: list[str]) -> None:
    lines = [f"\n## Pipeline scale benchmark — {s['date']}\n",
             f"Machine: {s['machine']}. Organizations from `socialens simulate --preset scale` "
             "(about 50 posts per person). Each stage in its own process; time = wall seconds, "
             "RSS = peak resident memory of that process.",
             "" if not s["skipped_stages"] else
             f"Stages not available in this tree and skipped: {', '.join(s['skipped_stages'])}.",
             "", "| posts | " + " | ".join(f"{st} s | {st} MiB" for st in stages) + " |",
             "|---:|" + "---:|---:|" * len(stages)]
    for r in s["results"]:
        cells = []
        for st in stages:
            v = r["stages"].get(st)
            cells += [f"{v['seconds']:.1f}" + ("" if v["ok"] else " (failed)"), f"{v['peak_rss_mib']:.0f}"] if v else ["–", "–"]
        lines.append(f"| {r.get('posts', r['target_posts']):,} | " + " | ".join(cells) + " |")
    ing = [f"{r['stages']['ingest'].get('records_per_s', 0):,.0f}" for r in s["results"]
           if "ingest" in r["stages"]]
    lines += ["", "Log–log slope of time against posts (1.0 = linear): " + ", ".join(
        f"{k} {v:.2f}" if v is not None else f"{k} n/a" for k, v in s["slopes"].items()) + ".",
        f"Canonical ingest throughput (records/s, all files): {', '.join(ing)}.", ""]
    with open(ROOT / "BENCHMARKS.md", "a", encoding="utf-8") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:])
