"""Benchmark of the directory site on the demo (US Congress) workspace.

1. ``socialens publish`` of the demo directory: build time and page sizes.
2. A bounded load test of ``socialens serve`` on loopback: N concurrent clients (default 50) for
   D seconds (default 20) against a mix of pages and API routes, from a second process. Reports
   errors, throughput and latency percentiles (p99 per route), with the cached static stylesheet
   as the in-run baseline.

Appends a section to BENCHMARKS.md and prints one JSON object on its last line.

    python -m bench.bench_serve [--clients 50] [--duration 20] [--workspace demo-out/workspace.duckdb]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.bench_serve_load import DEMO_SITE_PARAMS, _start, _stop, product_routes

ROOT = Path(__file__).resolve().parents[1]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))]


def build_site(ws_path: Path, out: Path) -> dict:
    import socialens
    from socialens.site import publish

    with socialens.open(ws_path, read_only=True) as ws:
        res = publish(ws, out, title="US Congress on Twitter (2017)", **DEMO_SITE_PARAMS)
    people = [n for rel, n in res.files.items() if rel.startswith("people/")]
    top = (out / "index.html").read_text(encoding="utf-8")
    return {
        "people": res.n_people, "files": len(res.files), "seconds": round(res.seconds, 2),
        "total_mb": round(res.total_bytes / 1e6, 2),
        "index_kb": round(res.files["index.html"] / 1e3, 1),
        "person_page_kb_median": round(statistics.median(people) / 1e3, 1),
        "feed_html_kb": round(res.files["feed.html"] / 1e3, 1),
        "all_atom_kb": round(res.files["feeds/all.atom"] / 1e3, 1),
        "report_kb": round(res.files.get("report/report.html", 0) / 1e3, 1),
        "leaders_highlighted": top.count('<tr class="leader">'),
    }


async def _load(base: str, routes: dict[str, list[str]], clients: int, duration: float) -> dict:
    import httpx

    lat: dict[str, list[float]] = {k: [] for k in routes}
    errors: list[str] = []
    names = list(routes)
    deadline = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        async def worker(seed: int):
            rng = random.Random(seed)
            while time.perf_counter() < deadline:
                name = names[rng.randrange(len(names))]
                url = rng.choice(routes[name])
                t0 = time.perf_counter()
                try:
                    r = await client.get(url)
                    await r.aread()
                    ok = r.status_code == 200
                except httpx.HTTPError as exc:
                    ok, r = False, exc
                dt = time.perf_counter() - t0
                if ok:
                    lat[name].append(dt)
                else:
                    errors.append(f"{url}: {getattr(r, 'status_code', r)!r}")

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.perf_counter() - t0
    allv = [x for v in lat.values() for x in v]
    return {
        "requests": len(allv) + len(errors), "errors": len(errors), "error_samples": errors[:5],
        "seconds": round(elapsed, 1), "rps": round((len(allv) + len(errors)) / elapsed, 1),
        "p50_ms": round(_pct(allv, 50) * 1e3, 1), "p99_ms": round(_pct(allv, 99) * 1e3, 1),
        "max_ms": round(max(allv) * 1e3, 1) if allv else None,
        "routes": {k: {"n": len(v), "p50_ms": round(_pct(v, 50) * 1e3, 1),
                       "p99_ms": round(_pct(v, 99) * 1e3, 1)} for k, v in lat.items()},
    }


def load_test(ws_path: Path, clients: int, duration: float) -> dict:
    import httpx

    proc, base = _start([sys.executable, "-m", "socialens", "serve", "-w", str(ws_path),
                         "--platform", DEMO_SITE_PARAMS["platform"], "--account-filter",
                         DEMO_SITE_PARAMS["account_filter"]], "/api/people?limit=1")
    try:
        routes = product_routes(base)
        routes.pop("GET /api/posts?since=random")  # closed-loop clients fetch fixed URLs
        routes = {("static css (baseline)" if k == "static css" else k): v
                  for k, v in routes.items()}
        for urls in routes.values():  # warm the page caches (first render of each page)
            for u in urls:
                httpx.get(base + u, timeout=60)
        res = asyncio.run(_load(base, routes, clients, duration))
        res["loadavg"] = round(os.getloadavg()[0], 2)
        return res
    finally:
        _stop(proc)

def _append(site: dict, load: dict, clients: int, duration: float) -> None:
    lines = [
        f"\n## site (publish + serve) — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n",
        f"Demo workspace (US Congress, 2017 snapshot, officially listed Twitter accounts), "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs; server and load generator "
        f"share the machine (load average {load['loadavg']} during the run).\n",
        "**publish**: {people} people, {files} files, {total_mb} MB in {seconds} s (analyses and "
        "report included); index.html {index_kb} kB (all rows embedded for search), median "
        "person page {person_page_kb_median} kB, feed.html {feed_html_kb} kB, all.atom "
        "{all_atom_kb} kB, report {report_kb} kB; {leaders_highlighted} leader rows highlighted "
        "on the first page.\n".format(**site),
        f"**serve** under load: {clients} concurrent clients for {duration:g} s on loopback "
        f"(httpx, second process): {load['requests']} requests, **{load['errors']} errors**, "
        f"{load['rps']} req/s, p50 {load['p50_ms']} ms, **p99 {load['p99_ms']} ms**, max "
        f"{load['max_ms']} ms.\n",
        "| route | requests | p50 ms | p99 ms | p99 ratio to baseline |",
        "|---|---:|---:|---:|---:|",
    ]
    base = load["routes"]["static css (baseline)"]["p99_ms"] or float("nan")
    for name, r in load["routes"].items():
        lines.append(f"| {name} | {r['n']} | {r['p50_ms']} | {r['p99_ms']} | "
                     f"{r['p99_ms'] / base:.2f} |")
    with (ROOT / "BENCHMARKS.md").open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--workspace", type=Path, default=None,
                    help="A demo workspace (default: build one with run_demo in a temp folder).")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        ws_path = args.workspace
        if ws_path is None:
            from socialens.datasets.demo import run_demo

            ws_path = run_demo(Path(tmp) / "demo")["workspace"]
        site = build_site(ws_path, Path(tmp) / "site")
        load = load_test(ws_path, args.clients, args.duration)
    _append(site, load, args.clients, args.duration)
    result = {"benchmark": "serve", "site": site, "load": load}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
