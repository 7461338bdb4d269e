"""Enrichment throughput against plain vaderSentiment on the same texts, per core, interleaved.

Texts: the 7,020 Senate tweets of ``coordination_reference`` (or, without the shared data, the
500-utterance excerpt shipped with the tests), repeated to ``--n`` posts.

**Warm, in one process** (models loaded before the clock starts), ``--repeat`` rounds; in each
round the baseline and the product run back to back, their order alternating between rounds
(ABBA…), so that the load of other processes on the shared machine hits both alike:

* ``vader_plain``: ``SentimentIntensityAnalyzer().polarity_scores(text)`` on the raw texts, the
  baseline;
* ``enrich_batch``: every feature (language, tone, markers, sharing model, entities) through
  :func:`socialens.enrich.enrich_batch` on Arrow batches of 5,000;
* ``fast_vader``: :class:`socialens.enrich.vader_fast.FastVader` alone on the raw texts (the same
  four scores as the baseline, bit for bit).

**Cold, one fresh process per run** (interpreter start, imports and model loading included), the
same alternation: ``python -c`` scoring the texts with vaderSentiment vs
:func:`socialens.enrich.enrich` end to end on a DuckDB workspace (read, compute, write
``post_features`` and ``post_entities``) with 1 and with 2 workers; each child reports its wall
time, its CPU time (its own plus its workers') and peak RSS (its own and its largest worker's).

The 7,020 distinct texts repeat, so in the warm rounds the caches of per-word work (FastVader's
tokens, the sharing model's words, the markers' tokens) are full, as for any large corpus with a
settled vocabulary; no cache keeps whole texts. The cold runs start with empty caches.

Each figure is the median and range over the repeats, wall and CPU. Ratios are
``baseline time / product time`` (above 1: the product is faster). The machine's load average is
recorded before and after. Prints one JSON object on the last line and appends a section to
BENCHMARKS.md. No timing is asserted anywhere in the tests.

Usage::

    python -m bench.bench_enrich [--n 20000] [--cold-n N] [--repeat 5] [--no-write] [--no-cold]
    python -m bench.bench_enrich --sharing-against REV   # the sharing model of REV vs now
    python -m bench.bench_enrich --stages [--n 40000] [--repeat 3]   # CPU per feature stage

``--stages`` times each stage :func:`socialens.enrich.enrich_batch` calls (the functions the
runner module calls, wrapped with ``time.process_time``) over warm rounds and prints the split;
"rest" is what the runner does itself (columns in, the Arrow output).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

REPO = Path(__file__).resolve().parent.parent


def texts(n: int) -> tuple[list[str], str]:
    shared = Path(os.environ.get("SOCIALENS_SHARED_DATA") or REPO.parent / "shared" / "data")
    ref = shared / "coordination_reference" / "corpus" / "utterances.csv.gz"
    src = ref if ref.exists() else REPO / "tests" / "enrich" / "data" / "convokit_excerpt.csv.gz"
    base = list(pd.read_csv(src, dtype=str, keep_default_na=False).text)
    out = (base * (n // len(base) + 1))[:n]
    return out, src.name


def sharing_cost(T: list[str], rev: str, repeat: int) -> dict:
    """Per-post cost of the sharing model at git revision ``rev`` vs the current one, timed
    interleaved in this process (``--sharing-against REV``): median and range of ``repeat`` runs.
    """
    import importlib.util

    from socialens.enrich.sharing import shipped_model

    def show(path):
        return subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:{path}"], check=True,
                              capture_output=True, text=True).stdout

    with tempfile.TemporaryDirectory() as d:
        mod_path = Path(d) / "old_sharing.py"
        mod_path.write_text(show("socialens/enrich/sharing.py"), encoding="utf-8")
        spec = importlib.util.spec_from_file_location("old_sharing", mod_path)
        old = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(old)
    old_m = old.SharingModel.from_dict(json.loads(show("socialens/enrich/data/sharing_model.json")))
    new_m = shipped_model()
    runs = {"before": (lambda: old_m._proba(old_m._design(T)).argmax(axis=1)),
            "after": (lambda: new_m._label_score(new_m._design(T)))}
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(repeat):
        for k, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[k].append((time.perf_counter() - t0) / len(T) * 1e6)
    return {k: {"median_us_per_post": round(statistics.median(v), 1),
                "range_us_per_post": [round(min(v), 1), round(max(v), 1)]}
            for k, v in times.items()} | {"rev": rev, "n_posts": len(T), "repeats": repeat}


#: The stage functions ``socialens.enrich.runner`` calls (those it has: code before
#: ``socialens.enrich.views`` calls ``readable`` and ``strip_entities`` once per text instead of
#: ``read_texts`` once per batch).
STAGES = ("read_texts", "readable", "strip_entities", "detect_languages", "tone_scores",
          "classify_sharing", "marker_counts", "extract_entities")


def stage_split(n: int, repeat: int) -> dict:
    """CPU seconds per stage of ``enrich_batch`` on ``n`` posts (batches of 5,000), the mean of
    ``repeat`` warm rounds, and the whole ``enrich_batch`` time of the same rounds."""
    from socialens.enrich import runner

    T, source = texts(n)
    ids = [f"twitter:{i}" for i in range(len(T))]
    batches = [pa.RecordBatch.from_pydict({"post_id": ids[i:i + 5000], "text": T[i:i + 5000]})
               for i in range(0, len(T), 5000)]
    runner.load_models()
    for b in batches:  # warm: models and per-token caches as in the warm rounds of ``measure``
        runner.enrich_batch(b)
    spent: dict[str, float] = {}
    originals = {name: getattr(runner, name) for name in STAGES if hasattr(runner, name)}

    def timed(name, fn):
        def wrapper(*a, **k):
            c0 = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[name] = spent.get(name, 0.0) + time.process_time() - c0
        return wrapper

    for name, fn in originals.items():
        setattr(runner, name, timed(name, fn))
    try:
        total = 0.0
        for _ in range(repeat):
            c0 = time.process_time()
            for b in batches:
                runner.enrich_batch(b)
            total += time.process_time() - c0
    finally:
        for name, fn in originals.items():
            setattr(runner, name, fn)
    stages = {k: v / repeat for k, v in spent.items()}
    stages["rest"] = total / repeat - sum(stages.values())
    return {"n_posts": len(T), "source": source, "repeats": repeat,
            "enrich_batch_cpu": total / repeat, "stages_cpu": stages,
            "loadavg": round(os.getloadavg()[0], 2)}


def _timed(fn) -> tuple[float, float]:
    """(wall, CPU of this process) seconds of ``fn()``."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def _summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": [round(v, 4) for v in values]}


_HWM = """
def hwm_kb(pid="self"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
"""

# peak RSS is read from /proc (VmHWM, reset by exec), not getrusage: Linux's ru_maxrss of a child
# starts at its parent's RSS at fork, so a child of this (large) process would report ours
_CHILD_VADER = _HWM + """
import json, sys, time
w0, c0 = time.perf_counter(), time.process_time()
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
texts = json.load(open(sys.argv[1], encoding="utf-8"))
sia = SentimentIntensityAnalyzer()
for t in texts:
    sia.polarity_scores(t)
print(json.dumps({"wall": time.perf_counter() - w0, "cpu": time.process_time() - c0,
                  "rss_self_kb": hwm_kb(), "rss_worker_kb": None}))
"""

# the workers' peak RSS: sampled from /proc every 50 ms while they run (VmHWM only grows, so the
# last sample of each worker is its peak up to 50 ms before it exits, after its last batch)
_CHILD_ENRICH = _HWM + """
import json, multiprocessing, resource, shutil, sys, threading, time
if __name__ == "__main__":
    w0, c0 = time.perf_counter(), time.process_time()
    import socialens
    from socialens.enrich import enrich
    peaks = {}
    done = threading.Event()
    def sample():
        while not done.is_set():
            for p in multiprocessing.active_children():
                v = hwm_kb(p.pid)
                if v:
                    peaks[p.pid] = max(peaks.get(p.pid, 0), v)
            time.sleep(0.05)
    threading.Thread(target=sample, daemon=True).start()
    shutil.copy(sys.argv[1], sys.argv[2])
    ws = socialens.open(sys.argv[2])
    r = enrich(ws, batch_size=5000, workers=int(sys.argv[3]))
    ws.close()
    done.set()
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"wall": time.perf_counter() - w0,
                      "cpu": time.process_time() - c0 + ch.ru_utime + ch.ru_stime,
                      "rss_self_kb": hwm_kb(),
                      "rss_worker_kb": max(peaks.values()) if peaks else None,
                      "workers_seen": len(peaks), "enriched": r.enriched}))
"""


def _child(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], check=True,
                         capture_output=True, text=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _workspace(path: Path, T: list[str]) -> None:
    import socialens

    ids = [f"twitter:{i}" for i in range(len(T))]
    ws = socialens.open(path)
    ws.con.execute("INSERT INTO accounts (account_id, platform) VALUES ('twitter:1', 'twitter')")
    ws.con.register("_p", pa.table({"post_id": ids, "text": T}))
    ws.con.execute("INSERT INTO posts (post_id, account_id, created_at, text) "
                   "SELECT post_id, 'twitter:1', TIMESTAMPTZ '2015-01-01', text FROM _p")
    ws.con.unregister("_p")
    ws.close()


def measure(n: int, repeat: int, cold: bool = True, cold_n: int | None = None) -> dict:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from socialens.enrich import enrich_batch

    try:
        from socialens.enrich.runner import load_models
    except ImportError:  # code from before the pool initializer (``--before`` comparisons)
        def load_models():
            from socialens.enrich.language import identifier
            from socialens.enrich.sharing import shipped_model
            from socialens.enrich.tone import analyzer

            identifier(), shipped_model(), analyzer()

    T, source = texts(n)
    ids = [f"twitter:{i}" for i in range(len(T))]
    batches = [
        pa.RecordBatch.from_pydict({"post_id": ids[i:i + 5000], "text": T[i:i + 5000]})
        for i in range(0, len(T), 5000)
    ]
    sia = SentimentIntensityAnalyzer()
    load_models()
    enrich_batch(batches[0].slice(0, 100))  # first-call costs (regex compilation, caches' start)

    def vader():
        for t in T:
            sia.polarity_scores(t)

    def ours():
        for b in batches:
            enrich_batch(b)

    contenders = [("vader_plain", vader), ("enrich_batch", ours)]
    try:
        from socialens.enrich.vader_fast import FastVader

        fv = FastVader()
        fv.scores(T[:1000])
        contenders.append(("fast_vader", lambda: fv.scores(T)))
    except ImportError:  # code from before FastVader
        pass
    load_before = os.getloadavg()
    warm: dict[str, dict[str, list[float]]] = {
        k: {"wall": [], "cpu": []} for k, _ in contenders}
    for r in range(repeat):
        order = contenders
        for name, fn in order if r % 2 == 0 else order[::-1]:
            w, c = _timed(fn)
            warm[name]["wall"].append(w)
            warm[name]["cpu"].append(c)
    result: dict = {
        "n_posts": len(T), "source": source, "repeats": repeat,
        "python": platform.python_version(), "cpus": os.cpu_count(),
        "warm": {k: {m: _summary(v) for m, v in d.items()} for k, d in warm.items()},
    }
    for m in ("wall", "cpu"):
        ratios = [a / b for a, b in zip(warm["vader_plain"][m], warm["enrich_batch"][m],
                                        strict=True)]
        result["warm"][f"ratio_{m}"] = _summary(ratios)
        if "fast_vader" in warm:
            result["warm"][f"fast_vader_speedup_{m}"] = _summary(
                [a / b for a, b in zip(warm["vader_plain"][m], warm["fast_vader"][m],
                                       strict=True)])
    if cold:
        cold_runs: dict[str, list[dict]] = {"vader_plain": [], "enrich_w1": [], "enrich_w2": []}
        TC = T if not cold_n else texts(cold_n)[0]
        result["cold_n_posts"] = len(TC)
        with tempfile.TemporaryDirectory() as d:
            base, db = Path(d) / "base.duckdb", Path(d) / "run.duckdb"
            _workspace(base, TC)
            tj = Path(d) / "texts.json"
            tj.write_text(json.dumps(TC), encoding="utf-8")
            jobs = [("vader_plain", lambda: _child(_CHILD_VADER, tj)),
                    ("enrich_w1", lambda: _child(_CHILD_ENRICH, base, db, 1)),
                    ("enrich_w2", lambda: _child(_CHILD_ENRICH, base, db, 2))]
            for r in range(repeat):
                for name, fn in jobs if r % 2 == 0 else jobs[::-1]:
                    cold_runs[name].append(fn())
                    db.unlink(missing_ok=True)
        result["cold"] = {
            k: {"wall": _summary([x["wall"] for x in v]), "cpu": _summary([x["cpu"] for x in v]),
                "peak_rss_mb": max(x["rss_self_kb"] for x in v) / 1024,
                "peak_rss_worker_mb": (max(x["rss_worker_kb"] for x in v) / 1024
                                       if all(x["rss_worker_kb"] for x in v) else None)}
            for k, v in cold_runs.items()}
        vw = [x["wall"] for x in cold_runs["vader_plain"]]
        vc = [x["cpu"] for x in cold_runs["vader_plain"]]
        for k in ("enrich_w1", "enrich_w2"):
            result["cold"][k]["ratio_wall"] = _summary(
                [a / x["wall"] for a, x in zip(vw, cold_runs[k], strict=True)])
            result["cold"][k]["ratio_cpu"] = _summary(
                [a / x["cpu"] for a, x in zip(vc, cold_runs[k], strict=True)])
        result["cold"]["scaling_1_to_2_wall"] = _summary(
            [a["wall"] / b["wall"] for a, b in zip(cold_runs["enrich_w1"], cold_runs["enrich_w2"],
                                                     strict=True)])
    result["loadavg_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    return result


def _fmt(s: dict, unit: float = 1.0, digits: int = 2) -> str:
    return (f"{s['median'] * unit:.{digits}f} ({s['min'] * unit:.{digits}f}–"
            f"{s['max'] * unit:.{digits}f})")


def to_markdown(r: dict, command: str) -> str:
    n = r["n_posts"]
    w = r["warm"]
    kps = lambda s: {"median": n / s["median"] / 1000, "min": n / s["max"] / 1000,  # noqa: E731
                     "max": n / s["min"] / 1000}
    lines = [
        f"\n## enrich vs plain VADER, interleaved — {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}\n",
        f"`{command}`: {n} posts ({r['source']}), {r['repeats']} interleaved repeats (baseline and "
        f"product alternating, ABBA), median (range); Python {r['python']}, {r['cpus']} CPUs "
        f"shared with other work (load average {r['loadavg_before_after'][0]} before, "
        f"{r['loadavg_before_after'][1]} after). Ratio = plain VADER's time / ours (> 1: faster "
        "than plain VADER).\n",
        "**Warm, one process, one core** (models loaded before timing):\n",
        "| what | wall s | CPU s | k posts/s (wall) |\n|---|---:|---:|---:|",
        f"| plain vaderSentiment `polarity_scores` (baseline) | {_fmt(w['vader_plain']['wall'])} | "
        f"{_fmt(w['vader_plain']['cpu'])} | {_fmt(kps(w['vader_plain']['wall']), digits=1)} |",
        f"| `enrich_batch`, all features | {_fmt(w['enrich_batch']['wall'])} | "
        f"{_fmt(w['enrich_batch']['cpu'])} | {_fmt(kps(w['enrich_batch']['wall']), digits=1)} |",
        f"| **ratio** (per round) | {_fmt(w['ratio_wall'], digits=3)} | "
        f"{_fmt(w['ratio_cpu'], digits=3)} | |",
    ]
    if "fast_vader" in w:
        lines += [
            f"| `FastVader.scores` (tone alone, same four scores) | "
            f"{_fmt(w['fast_vader']['wall'])} | {_fmt(w['fast_vader']['cpu'])} | "
            f"{_fmt(kps(w['fast_vader']['wall']), digits=1)} |",
            f"| FastVader speed-up over vaderSentiment (per round) | "
            f"{_fmt(w['fast_vader_speedup_wall'])}× | {_fmt(w['fast_vader_speedup_cpu'])}× | |",
        ]
    if "cold" in r:
        c = r["cold"]
        lines += [
            f"\n**Cold, one fresh process per run**, {r.get('cold_n_posts', n)} posts (start, "
            "imports, model loading included; `enrich()` end to end on a DuckDB workspace, "
            "batches of 5,000; CPU includes the workers'):\n",
            "| what | wall s | CPU s | ratio wall | ratio CPU | peak RSS MB (process / worker) |",
            "|---|---:|---:|---:|---:|---:|",
            f"| plain vaderSentiment (baseline) | {_fmt(c['vader_plain']['wall'])} | "
            f"{_fmt(c['vader_plain']['cpu'])} | 1 | 1 | {c['vader_plain']['peak_rss_mb']:.0f} |",
        ]
        for k, label in (("enrich_w1", "`enrich()`, 1 worker (in process)"),
                         ("enrich_w2", "`enrich()`, 2 worker processes")):
            worker = c[k]["peak_rss_worker_mb"]
            lines.append(
                f"| {label} | {_fmt(c[k]['wall'])} | {_fmt(c[k]['cpu'])} | "
                f"{_fmt(c[k]['ratio_wall'], digits=3)} | {_fmt(c[k]['ratio_cpu'], digits=3)} | "
                f"{c[k]['peak_rss_mb']:.0f} / {'–' if worker is None else f'{worker:.0f}'} |")
        lines.append(f"\nScaling 1 → 2 workers (wall, per round): "
                     f"{_fmt(c['scaling_1_to_2_wall'], digits=2)}×.\n")
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_enrich")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-cold", action="store_true", help="only the warm in-process rounds")
    ap.add_argument("--cold-n", type=int, default=None,
                    help="posts for the cold runs (default: --n); larger amortizes start-up")
    ap.add_argument("--no-write", action="store_true", help="do not append to BENCHMARKS.md")
    ap.add_argument("--stages", action="store_true",
                    help="only the CPU split of enrich_batch by stage (warm, printed, not written)")
    ap.add_argument("--sharing-against", metavar="REV",
                    help="only time the sharing model of git revision REV against the current one")
    args = ap.parse_args(argv)
    if args.sharing_against:
        r = sharing_cost(texts(args.n)[0], args.sharing_against, args.repeat)
        sys.stdout.write(json.dumps(r, sort_keys=True) + "\n")
        return r
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    if args.stages:
        r = stage_split(args.n, args.repeat)
        for k, v in sorted(r["stages_cpu"].items(), key=lambda kv: -kv[1]):
            sys.stdout.write(f"{k:18s} {v:7.3f} s CPU {100 * v / r['enrich_batch_cpu']:5.1f} %\n")
        sys.stdout.write(json.dumps(r, sort_keys=True) + "\n")
        return r
    r = measure(args.n, args.repeat, cold=not args.no_cold, cold_n=args.cold_n)
    command = "python -m bench.bench_enrich " + " ".join(argv if argv is not None else sys.argv[1:])
    if not args.no_write:
        path = REPO / "BENCHMARKS.md"
        with path.open("a", encoding="utf-8") as f:
            f.write(to_markdown(r, command.strip()))
    sys.stdout.write(json.dumps(r, sort_keys=True) + "\n")
    return r


if __name__ == "__main__":
    main()
