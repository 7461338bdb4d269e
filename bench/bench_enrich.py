"""Enrichment throughput on real text, as a ratio to plain VADER measured in the same run.

Texts: the 7,020 Senate tweets of ``coordination_reference`` (or, without the shared data, the
500-utterance excerpt shipped with the tests), repeated to ``--n`` posts. Measured, each best of
``--repeat`` runs in this process:

* ``vader_plain``: ``SentimentIntensityAnalyzer().polarity_scores(text)`` on the raw texts, the
  baseline;
* ``enrich_batch``: all features (language, tone, markers, sharing model, entities) through
  :func:`socialens.enrich.enrich_batch` on Arrow batches of 5,000;
* ``enrich_batch_convokit``: the same with ``markers_mode="convokit"``;
* ``enrich_workspace``: :func:`socialens.enrich.enrich` end to end on a temporary DuckDB workspace
  (read, compute, write ``post_features`` and ``post_entities``).

Prints one JSON object on the last line and appends a row to BENCHMARKS.md. No timing is asserted
anywhere in the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def sharing_cost(T: list[str], rev: str, repeat: int) -> dict:
    """Per-post cost of the sharing model at git revision ``rev`` vs the current one, timed
    interleaved in this process (``--sharing-against REV``): median and range of ``repeat`` runs.
    """
    import importlib.util
    import statistics
    import subprocess

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


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_enrich")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="do not append to BENCHMARKS.md")
    ap.add_argument("--sharing-against", metavar="REV",
                    help="only time the sharing model of git revision REV against the current one")
    args = ap.parse_args(argv)
    if args.sharing_against:
        r = sharing_cost(texts(args.n)[0], args.sharing_against, args.repeat)
        sys.stdout.write(json.dumps(r, sort_keys=True) + "\n")
        return r

    import socialens
    from socialens.enrich import enrich, enrich_batch
    from socialens.enrich.language import identifier
    from socialens.enrich.sharing import shipped_model
    from socialens.enrich.tone import analyzer

    T, source = texts(args.n)
    ids = [f"twitter:{i}" for i in range(len(T))]
    batches = [
        pa.RecordBatch.from_pydict({"post_id": ids[i:i + 5000], "text": T[i:i + 5000]})
        for i in range(0, len(T), 5000)
    ]
    sia, _, _ = analyzer(), identifier(), shipped_model()  # load once, outside the timings

    def vader():
        for t in T:
            sia.polarity_scores(t)

    def ours(mode="default"):
        for b in batches:
            enrich_batch(b, markers_mode=mode)

    t_vader = best(vader, args.repeat)
    t_ours = best(ours, args.repeat)
    t_ck = best(lambda: ours("convokit"), args.repeat)

    with tempfile.TemporaryDirectory() as d:
        ws = socialens.open(Path(d) / "b.duckdb")
        ws.con.execute("INSERT INTO accounts (account_id, platform) VALUES ('twitter:1', 'twitter')")
        ws.con.register("_p", pa.table({"post_id": ids, "text": T}))
        ws.con.execute("INSERT INTO posts (post_id, account_id, created_at, text) "
                       "SELECT post_id, 'twitter:1', TIMESTAMPTZ '2015-01-01', text FROM _p")
        ws.con.unregister("_p")
        t0 = time.perf_counter()
        enrich(ws, batch_size=5000)
        t_ws = time.perf_counter() - t0
        ws.close()

    n = len(T)
    r = {
        "n_posts": n,
        "source": source,
        "vader_plain_posts_per_s": round(n / t_vader),
        "enrich_batch_posts_per_s": round(n / t_ours),
        "enrich_batch_convokit_posts_per_s": round(n / t_ck),
        "enrich_workspace_posts_per_s": round(n / t_ws),
        "ratio_enrich_batch_vs_vader": round(t_vader / t_ours, 3),
        "ratio_enrich_workspace_vs_vader": round(t_vader / t_ws, 3),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    if not args.no_write:
        path = REPO / "BENCHMARKS.md"
        if not path.exists():
            path.write_text("# Benchmarks\n\nAppended by `make bench`; ratios are against a baseline "
                            "measured in the same run.\n", encoding="utf-8")
        with path.open("a", encoding="utf-8") as f:
            f.write(
                f"\n## enrich — {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}\n\n"
                f"{n} posts ({source}), best of {args.repeat}, Python {r['python']}, "
                f"{r['cpus']} CPUs, one process.\n\n"
                "| what | posts/s | ratio to plain VADER |\n|---|---:|---:|\n"
                f"| plain vaderSentiment (baseline) | {r['vader_plain_posts_per_s']} | 1.000 |\n"
                f"| enrich_batch, all features (default markers) | "
                f"{r['enrich_batch_posts_per_s']} | {r['ratio_enrich_batch_vs_vader']:.3f} |\n"
                f"| enrich_batch, convokit markers | {r['enrich_batch_convokit_posts_per_s']} | "
                f"{t_vader / t_ck:.3f} |\n"
                f"| enrich() on a DuckDB workspace, end to end | "
                f"{r['enrich_workspace_posts_per_s']} | "
                f"{r['ratio_enrich_workspace_vs_vader']:.3f} |\n"
            )
    sys.stdout.write(json.dumps(r, sort_keys=True) + "\n")
    return r


if __name__ == "__main__":
    main()
