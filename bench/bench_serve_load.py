"""Open-loop load test of ``socialens serve`` against a trivial Starlette app (issue 14, item 5).

Requests arrive at fixed rates (default 50, 100 and 200 req/s, constant inter-arrival times or
``--arrivals poisson``), whatever the server does: the generator, a process of its own, issues
each request at its scheduled time and measures its latency *from that time*, so that a server
that falls behind is charged for the requests waiting behind a slow one (no coordinated
omission; a closed-loop client would wait and send fewer). The product gets a mix of routes
(stylesheet, directory page, person pages, feed page, the people/posts/accounts API, and posts
since a random time, which no kept answer serves: a DuckDB query in a worker thread); the
baseline, a Starlette app serving one file (the site's stylesheet) and one JSON document, runs
under the same uvicorn settings on the same machine. Product and baseline alternate run by run
(their order alternating too) for ``--repeats`` rounds; each figure is the median over the
rounds with its range, with the CPU time the server process used during the run (from
``/proc/PID/stat``, so Linux only).

Appends a section to BENCHMARKS.md and prints one JSON object on its last line.

    python -m bench.bench_serve_load [--rates 50,100,200] [--duration 20] [--repeats 5]
                                     [--arrivals constant|poisson] [--workspace WS]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_SITE_PARAMS = {"platform": "twitter", "account_filter": "official_listing=true"}
#: the baseline's file: the site's stylesheet, the product's smallest page
BASELINE_FILE = ROOT / "socialens" / "site" / "static" / "site.css"
BASELINE_JSON = {"name": "baseline", "items": [{"id": i, "value": f"item {i}"} for i in range(20)]}
TIMEOUT = 10.0  # a request not answered within this many seconds counts as an error


# -- the baseline server ----------------------------------------------------------------------
def baseline_app():
    """The trivial Starlette app: ``/file`` (one file from disk) and ``/json`` (one document)."""
    from starlette.applications import Starlette
    from starlette.responses import FileResponse, JSONResponse
    from starlette.routing import Route

    async def file(request):
        return FileResponse(BASELINE_FILE, media_type="text/css; charset=utf-8")

    async def doc(request):
        return JSONResponse(BASELINE_JSON)

    return Starlette(routes=[Route("/file", file), Route("/json", doc)])


def _serve_baseline(port: int) -> None:
    import uvicorn

    # as `socialens serve` runs uvicorn: default loop/http implementations, log level info
    # (access log on), one process
    uvicorn.Server(uvicorn.Config(baseline_app(), host="127.0.0.1", port=port,
                                  log_level="info")).run()


# -- the generator (its own process) ----------------------------------------------------------
def _pct(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile (nearest rank)."""
    if not values:
        return None
    v = sorted(values)
    return v[max(0, min(len(v), math.ceil(q / 100 * len(v))) - 1)]


async def _generate(spec: dict) -> dict:
    import httpx

    rate, duration = spec["rate"], spec["duration"]
    rng = random.Random(spec["seed"])
    routes: dict[str, list[str]] = spec["routes"]
    names = sorted(routes)
    n = int(round(rate * duration))
    if spec["arrivals"] == "poisson":
        offsets, t = [], 0.0
        for _ in range(n):
            offsets.append(t)
            t += rng.expovariate(rate)
    else:
        offsets = [i / rate for i in range(n)]
    plan = []
    for off in offsets:
        name = names[rng.randrange(len(names))]
        url = rng.choice(routes[name])
        if "{since}" in url:  # a time to the second in 2009-2017: a query seldom asked before
            url = url.replace("{since}", datetime.fromtimestamp(
                rng.randrange(1230768000, 1514764800), UTC).strftime("%Y-%m-%dT%H:%M:%S"))
        plan.append((off, name, url))
    lat: dict[str, list[float]] = {k: [] for k in names}
    lag: list[float] = []
    errors: list[str] = []
    done_at: list[float] = []
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=spec["base"], limits=limits, timeout=TIMEOUT) as client:
        async def one(scheduled: float, name: str, url: str) -> None:
            lag.append(time.perf_counter() - scheduled)
            try:
                r = await client.get(url)
                ok = r.status_code == 200 and len(r.content) > 0
                why = f"HTTP {r.status_code}"
            except httpx.HTTPError as exc:
                ok, why = False, type(exc).__name__
            end = time.perf_counter()
            done_at.append(end)
            if ok:
                lat[name].append(end - scheduled)
            else:
                errors.append(f"{url}: {why}")

        tasks = []
        start = time.perf_counter() + 0.2
        for off, name, url in plan:
            scheduled = start + off
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            # issued now, whether or not earlier requests have been answered
            tasks.append(asyncio.ensure_future(one(scheduled, name, url)))
        await asyncio.gather(*tasks)
    allv = [x for v in lat.values() for x in v]
    span = (max(done_at) - start) if done_at else float("nan")

    def ms(x):
        return None if x is None else round(x * 1e3, 2)

    return {
        "rate": rate, "scheduled": n, "ok": len(allv), "errors": len(errors),
        "error_samples": errors[:5], "achieved_rps": round(len(allv) / span, 1),
        "p50_ms": ms(_pct(allv, 50)), "p90_ms": ms(_pct(allv, 90)), "p99_ms": ms(_pct(allv, 99)),
        "max_ms": ms(max(allv)) if allv else None,
        "send_lag_p99_ms": ms(_pct(lag, 99)), "send_lag_max_ms": ms(max(lag)) if lag else None,
        "routes": {k: {"n": len(v), "p50_ms": ms(_pct(v, 50)), "p99_ms": ms(_pct(v, 99))}
                   for k, v in lat.items()},
    }


def _run_generator(spec: dict) -> dict:
    """One run of the generator in a fresh process; its result."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    try:
        out = subprocess.run([sys.executable, "-m", "bench.bench_serve_load", "--generate",
                              f.name], cwd=ROOT, capture_output=True, text=True, check=True,
                             timeout=spec["duration"] + 4 * TIMEOUT + 60)
    finally:
        os.unlink(f.name)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- servers ----------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start(cmd: list[str], probe: str) -> tuple[subprocess.Popen, str]:
    import httpx

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "SOCIALENS_TOKEN"}
    proc = subprocess.Popen([*cmd, "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(base + probe, timeout=5).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{' '.join(cmd)} did not start")
        time.sleep(0.2)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:  # pragma: no cover
        proc.kill()


def product_routes(base: str) -> dict[str, list[str]]:
    """The product's mix: one entry per route kind, chosen uniformly, then a URL uniformly."""
    import httpx

    people = httpx.get(base + "/api/people?limit=1000", timeout=60).json()["items"]
    sample = random.Random(0).sample(people, min(100, len(people)))
    return {
        "static css": ["/assets/site.css"],
        "directory page": ["/index.html"],
        "person page": [f"/people/{p['slug']}.html" for p in sample],
        "feed page": ["/feed.html"],
        "GET /api/people": ["/api/people?limit=50", "/api/people?q=sen&limit=50",
                            "/api/people?role=leaders"],
        "GET /api/posts": [f"/api/posts?person={p['person_id']}&limit=20" for p in sample]
                          + ["/api/posts?since=2015-01-01&limit=50"],
        # a random time each request: answered by a DuckDB query, not from the answers kept
        "GET /api/posts?since=random": ["/api/posts?since={since}&limit=20"],
        "GET /api/accounts": ["/api/accounts?limit=100"],
    }


def _warm(base: str, routes: dict[str, list[str]], analyses: bool = True) -> None:
    """Every URL once, the analyses computed (a leader's page starts them in the background; they
    must not run during a measured run), then the leader pages again, with their card."""
    import httpx

    with httpx.Client(base_url=base, timeout=600) as c:
        for urls in routes.values():
            for u in urls:
                c.get(u.replace("{since}", "2016-01-01T00:00:00"))
        if analyses:
            c.get("/api/analyses/directory").raise_for_status()  # waits for the analyses
        for u in routes.get("person page", []):
            c.get(u)


# -- the benchmark ----------------------------------------------------------------------------
def _summary(runs: list[dict]) -> dict:
    def stat(key):
        vals = [r[key] for r in runs if r.get(key) is not None]
        if not vals:
            return None
        return {"median": round(statistics.median(vals), 2), "min": min(vals), "max": max(vals)}

    return {"repeats": len(runs), "errors": sum(r["errors"] for r in runs),
            "scheduled": sum(r["scheduled"] for r in runs),
            **{k: stat(k) for k in ("p50_ms", "p99_ms", "max_ms", "achieved_rps", "cpu_s",
                                    "cpu_ms_per_request", "send_lag_p99_ms", "loadavg")}}


def run_benchmark(ws_path: Path, rates: list[float], duration: float, repeats: int,
                  arrivals: str, log=print) -> dict:
    product_cmd = [sys.executable, "-m", "socialens", "serve", "-w", str(ws_path),
                   "--platform", DEMO_SITE_PARAMS["platform"], "--account-filter",
                   DEMO_SITE_PARAMS["account_filter"]]
    baseline_cmd = [sys.executable, "-m", "bench.bench_serve_load", "--serve-baseline"]
    product, pbase = _start(product_cmd, "/api/people?limit=1")
    try:
        baseline, bbase = _start(baseline_cmd, "/json")
        try:
            targets = {"product": (product, pbase, product_routes(pbase)),
                       "baseline": (baseline, bbase, {"file": ["/file"], "json": ["/json"]})}
            _warm(pbase, targets["product"][2])
            _warm(bbase, targets["baseline"][2], analyses=False)
            runs: dict[str, dict[float, list[dict]]] = {t: {r: [] for r in rates} for t in targets}
            for rep in range(repeats):
                for i, rate in enumerate(rates):
                    order = ["product", "baseline"] if (rep + i) % 2 == 0 else \
                        ["baseline", "product"]
                    for name in order:
                        proc, base, routes = targets[name]
                        spec = {"base": base, "rate": rate, "duration": duration,
                                "routes": routes, "arrivals": arrivals,
                                "seed": 1000 * rep + i}
                        cpu0 = _cpu_seconds(proc.pid)
                        res = _run_generator(spec)
                        res["cpu_s"] = round(_cpu_seconds(proc.pid) - cpu0, 2)
                        res["cpu_ms_per_request"] = round(
                            1e3 * res["cpu_s"] / max(1, res["ok"] + res["errors"]), 3)
                        res["loadavg"] = round(os.getloadavg()[0], 2)
                        runs[name][rate].append(res)
                        log(f"round {rep + 1}/{repeats} {name:8s} {rate:g} req/s: "
                            f"p50 {res['p50_ms']} ms p99 {res['p99_ms']} ms max "
                            f"{res['max_ms']} ms, {res['errors']} errors, "
                            f"{res['achieved_rps']} req/s, server CPU {res['cpu_s']} s, "
                            f"load {res['loadavg']}")
        finally:
            _stop(baseline)
    finally:
        _stop(product)
    out: dict = {"rates": rates, "duration": duration, "repeats": repeats, "arrivals": arrivals,
                 "targets": {}}
    for name, by_rate in runs.items():
        out["targets"][name] = {str(r): _summary(v) for r, v in by_rate.items()}
    ratios = {}
    for rate in rates:
        pairs = [p["p99_ms"] / b["p99_ms"] for p, b in zip(runs["product"][rate],
                                                           runs["baseline"][rate], strict=True)
                 if p["p99_ms"] and b["p99_ms"]]
        med = (out["targets"]["product"][str(rate)]["p99_ms"]["median"]
               / out["targets"]["baseline"][str(rate)]["p99_ms"]["median"])
        ratios[str(rate)] = {"p99_ratio_of_medians": round(med, 2),
                             "per_round_min": round(min(pairs), 2),
                             "per_round_max": round(max(pairs), 2)}
    out["p99_ratio"] = ratios
    out["product_routes_last_round"] = {str(r): runs["product"][r][-1]["routes"] for r in rates}
    out["runs"] = runs
    return out


def _fmt(s: dict | None, unit: str = "") -> str:
    if not s:
        return "–"
    return f"{s['median']:g}{unit} ({s['min']:g}–{s['max']:g})"


def _append(res: dict, command: str) -> None:
    lines = [
        f"\n## serve under open-loop load — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n",
        f"`{command}`. Demo workspace (US Congress, officially listed Twitter accounts), Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs shared with other work; generator "
        f"(httpx, its own process), product (`socialens serve`) and baseline (Starlette: one "
        f"file, one JSON; same uvicorn settings) on the same machine. {res['arrivals']} "
        f"arrivals, {res['duration']:g} s per run, {res['repeats']} rounds, product and baseline "
        "alternating; latency from each request's scheduled time; median (range) over the "
        "rounds; CPU = the server process's user+system time during the run.\n",
        "| server | rate req/s | achieved req/s | p50 ms | p99 ms | max ms | errors | "
        "server CPU s | CPU ms/request | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for rate in res["rates"]:
        for name in ("baseline", "product"):
            s = res["targets"][name][str(rate)]
            lines.append(f"| {name} | {rate:g} | {_fmt(s['achieved_rps'])} | {_fmt(s['p50_ms'])} "
                         f"| {_fmt(s['p99_ms'])} | {_fmt(s['max_ms'])} | {s['errors']} of "
                         f"{s['scheduled']} | {_fmt(s['cpu_s'])} | "
                         f"{_fmt(s['cpu_ms_per_request'])} | {_fmt(s['loadavg'])} |")
    lines.append("")
    lines.append("p99 product / baseline: " + "; ".join(
        f"{r} req/s **{v['p99_ratio_of_medians']}×** (per round {v['per_round_min']}–"
        f"{v['per_round_max']})" for r, v in res["p99_ratio"].items()) + ".\n")
    rate = "100.0" if "100.0" in res["product_routes_last_round"] else \
        next(iter(res["product_routes_last_round"]))
    lines += [f"Product routes at {float(rate):g} req/s, last round:\n",
              "| route | requests | p50 ms | p99 ms |", "|---|---:|---:|---:|"]
    for name, r in res["product_routes_last_round"][rate].items():
        lines.append(f"| {name} | {r['n']} | {r['p50_ms']} | {r['p99_ms']} |")
    with (ROOT / "BENCHMARKS.md").open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> dict | None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="50,100,200",
                    help="Arrival rates, requests per second, comma-separated.")
    ap.add_argument("--duration", type=float, default=20, help="Seconds per run.")
    ap.add_argument("--repeats", type=int, default=5, help="Rounds (product and baseline each).")
    ap.add_argument("--arrivals", choices=["constant", "poisson"], default="constant")
    ap.add_argument("--workspace", type=Path, default=None,
                    help="A demo workspace (default: build one with run_demo in a temp folder).")
    ap.add_argument("--no-append", action="store_true", help="Do not append to BENCHMARKS.md.")
    ap.add_argument("--serve-baseline", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--generate", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve_baseline:
        _serve_baseline(args.port)
        return None
    if args.generate:
        spec = json.loads(Path(args.generate).read_text())
        try:
            import uvloop
        except ImportError:  # pragma: no cover - uvicorn[standard] brings it
            print(json.dumps(asyncio.run(_generate(spec))))
        else:
            print(json.dumps(uvloop.run(_generate(spec))))
        return None
    rates = [float(r) for r in args.rates.split(",")]
    command = "python -m bench.bench_serve_load " + " ".join(argv if argv is not None
                                                             else sys.argv[1:])
    with tempfile.TemporaryDirectory() as tmp:
        ws_path = args.workspace
        if ws_path is None:
            from socialens.datasets.demo import run_demo

            ws_path = run_demo(Path(tmp) / "demo")["workspace"]
        res = run_benchmark(Path(ws_path), rates, args.duration, args.repeats, args.arrivals,
                            log=lambda m: print(m, file=sys.stderr, flush=True))
    if not args.no_append:
        _append(res, command.strip())
    slim = {k: v for k, v in res.items() if k != "runs"}
    print(json.dumps({"benchmark": "serve_load", **slim}))
    return res


if __name__ == "__main__":
    main()
