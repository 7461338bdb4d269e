"""Canonical posts ingest (set-based, socialens.ingest.canonical_bulk) against DuckDB's raw
``read_json`` of the same file into a table, and against the per-record path.

The file: tiny_org's 507 posts replicated with new post ids to ``--posts`` records (default 10^6;
507 distinct texts, or with ``--distinct-texts`` every text made unique by appending `` ~i``, i the
record's number). Each repeat runs, alternating, (a) ``CREATE TABLE t AS SELECT * FROM
read_json(file, format='newline_delimited')`` in a fresh DuckDB file, (b)
``ws.ingest(posts.jsonl)`` into a fresh workspace holding tiny_org's people and accounts;
``--reference`` adds (c) the same ingest with the per-record path (canonical_bulk.ENABLED = False);
``--compare-to FILE`` adds (d) the same ingest with another version of ``canonical_bulk.py`` (e.g.
from ``git show REV:socialens/ingest/canonical_bulk.py > /tmp/cb_before.py``) whose ``load_posts``
stands in for the current one, for before/after figures from the same rounds. Reported: median and
range of wall and CPU time over ``--repeats`` (>= 5), the ratios of medians to ``read_json``'s
(wall and CPU) and the peak RSS of the process (ru_maxrss) after all. Prints one JSON object.
Usage: ``python -m bench.bench_canonical_ingest [--posts N] [--repeats 5] [--reference]
[--distinct-texts] [--compare-to FILE]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny_org"


def make(folder: Path, n: int, distinct_texts: bool = False) -> Path:
    recs = [json.loads(line) for line in open(TINY / "posts.jsonl")]
    for f in ("people.csv", "accounts.csv"):
        shutil.copy(TINY / f, folder / f)
    with open(folder / "posts.jsonl", "w") as out:
        for i in range(n):
            r = dict(recs[i % len(recs)])
            r["post_id"] = f"{r['post_id']}r{i // len(recs)}"
            if distinct_texts and r.get("text"):
                r["text"] = f"{r['text']} ~{i}"
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    return folder / "posts.jsonl"


def _timed(fn) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def main(argv: list[str] | None = None) -> dict:
    import duckdb

    import socialens
    from socialens.ingest import canonical_bulk as cb

    ap = argparse.ArgumentParser(prog="bench.bench_canonical_ingest")
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--reference", action="store_true", help="also time the per-record path")
    ap.add_argument("--distinct-texts", action="store_true",
                    help="append ' ~<record number>' to every non-empty text (no repeated texts)")
    ap.add_argument("--compare-to", type=Path, default=None,
                    help="also time this version of canonical_bulk.py (before/after)")
    args = ap.parse_args(argv)
    res: dict[str, list[tuple[float, float]]] = {"read_json": [], "bulk": [], "per_record": [],
                                                 "compare": []}
    other = None
    if args.compare_to is not None:
        import importlib.util

        spec = importlib.util.spec_from_file_location("_cb_compare", args.compare_to)
        other = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(other)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        posts = make(tmp / "in", args.posts, args.distinct_texts)

        def raw():
            con = duckdb.connect(str(tmp / "raw.duckdb"))
            con.execute(f"CREATE TABLE t AS SELECT * FROM read_json('{posts}', "
                        "format='newline_delimited')")
            assert con.execute("SELECT count(*) FROM t").fetchone()[0] == args.posts
            con.close()

        def product(bulk: bool, module=None):
            cb.ENABLED = bulk
            current = cb.load_posts
            if module is not None:
                cb.load_posts = module.load_posts
            ws = socialens.open(tmp / "w.duckdb")
            ws.ingest(tmp / "in" / "people.csv", tmp / "in" / "accounts.csv")

            def go():
                r = ws.ingest(posts).files[0]
                assert r.n_loaded == args.posts, r.as_dict()
            try:
                return _timed(go)
            finally:
                ws.close()
                cb.ENABLED = True
                cb.load_posts = current

        for _ in range(args.repeats):
            for name in res:
                for f in tmp.glob("*.duckdb*"):
                    f.unlink()
                if name == "read_json":
                    res[name].append(_timed(raw))
                elif name == "bulk":
                    res[name].append(product(True))
                elif name == "per_record" and args.reference:
                    res[name].append(product(False))
                elif name == "compare" and other is not None:
                    res[name].append(product(True, other))
                if res[name]:  # progress: each timing as it is taken
                    print(json.dumps({name: res[name][-1]}), file=sys.stderr, flush=True)

    def stats(xs):
        return {"median": round(statistics.median(xs), 3), "min": round(min(xs), 3),
                "max": round(max(xs), 3)}

    out = {"posts": args.posts, "repeats": args.repeats, "distinct_texts": args.distinct_texts}
    for name, runs in res.items():
        if runs:
            out[name] = {"wall": stats([w for w, _ in runs]), "cpu": stats([c for _, c in runs])}
    for name in ("bulk", "per_record", "compare"):
        if name in out:
            for m in ("wall", "cpu"):
                out[f"{name}_vs_read_json_{m}"] = round(
                    out[name][m]["median"] / out["read_json"][m]["median"], 2)
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
