"""twarc2 JSONL page ingest (set-based, socialens.ingest.twitter_v2_bulk) against DuckDB's raw
``read_json`` scan of the same file into a table, and optionally against the per-record path.

The file: the real twarc2 search page ``../shared/data/format_samples/twitter_v2/noflat.jsonl``
(100 tweets, their includes, twarc's stamp) replicated to ``--tweets`` tweets (default 200,000,
i.e. 2,000 pages): replica r gets fresh tweet ids (every id of a tweet of ``data`` or
``includes.tweets``, wherever it occurs in the page: references, conversation ids, edit
histories, pinned tweets, ``errors``) by appending r as five digits; the users keep their ids, as
the same accounts tweet page after page. Each repeat runs, alternating, (a) ``CREATE TABLE t AS
SELECT * FROM read_json(file, format='newline_delimited')`` in a fresh DuckDB file (one row per
page, its nested structure as DuckDB infers it), (b) ``ws.ingest(file)`` into a fresh workspace;
``--reference`` adds (c) the same ingest with the per-record path (twitter_v2_bulk.ENABLED =
False), which takes minutes. Reported: median and range of wall and CPU time over ``--repeats``
(>= 5), the ratios of medians to ``read_json``'s (wall and CPU), which way the file went, and the
peak RSS of the process (ru_maxrss) after all. Warm runs (the file is in the page cache after the
first). Prints one JSON object.
Usage: ``python -m bench.bench_twarc2_bulk [--tweets N] [--repeats 5] [--reference]``.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import sys
import tempfile
from pathlib import Path

from bench._common import timed

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "format_samples" / "twitter_v2" / "noflat.jsonl"


def make(path: Path, n: int) -> int:
    """Write ``n`` tweets (whole pages of the sample, the last one cut) to ``path``; returns the
    number of tweets written."""
    page = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])
    ids = {t["id"] for t in page["data"]} | {t["id"] for t in page["includes"].get("tweets", [])}
    text = json.dumps(page)
    pattern = re.compile(r'"(' + "|".join(sorted(ids, key=len, reverse=True)) + r')"')
    per_page = len(page["data"])
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        r = 0
        while written < n:
            line = pattern.sub(lambda m, r=r: f'"{m.group(1)}{r:05d}"', text)
            if n - written < per_page:  # the last page: only the tweets still needed
                p = json.loads(line)
                p["data"] = p["data"][:n - written]
                line = json.dumps(p)
            out.write(line + "\n")
            written += min(per_page, n - written)
            r += 1
    return written


def main(argv: list[str] | None = None) -> dict:
    import duckdb

    import socialens
    from socialens.ingest import twitter_v2_bulk as tb

    ap = argparse.ArgumentParser(prog="bench.bench_twarc2_bulk")
    ap.add_argument("--tweets", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--reference", action="store_true", help="also time the per-record path")
    args = ap.parse_args(argv)
    res: dict[str, list[tuple[float, float]]] = {"read_json": [], "bulk": [], "per_record": []}
    ways = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pages = tmp / "pages.jsonl"
        n = make(pages, args.tweets)

        def raw():
            con = duckdb.connect(str(tmp / "raw.duckdb"))
            con.execute(f"CREATE TABLE t AS SELECT * FROM read_json('{pages}', "
                        "format='newline_delimited')")
            got = con.execute("SELECT sum(len(data)) FROM t").fetchone()[0]
            assert got == n, got
            con.close()

        def product(bulk: bool):
            default = tb.ENABLED
            tb.ENABLED = bulk
            before = dict(tb.STATS)
            ws = socialens.open(tmp / "w.duckdb")
            try:
                r = timed(lambda: ws.ingest(pages).files[0])
            finally:
                ws.close()
                tb.ENABLED = default
            report = r[0]
            assert report.n_read == n and report.balanced, report.as_dict()
            ways.append({k: v - before.get(k, 0) for k, v in tb.STATS.items()
                         if v != before.get(k, 0)})
            return r[1], r[2]

        for _ in range(args.repeats):
            for name in res:
                for f in tmp.glob("*.duckdb*"):
                    f.unlink()
                if name == "read_json":
                    res[name].append(timed(raw)[1:])
                elif name == "bulk":
                    res[name].append(product(True))
                elif name == "per_record" and args.reference:
                    res[name].append(product(False))
                if res[name]:  # progress: each timing as it is taken
                    print(json.dumps({name: res[name][-1]}), file=sys.stderr, flush=True)
        size = pages.stat().st_size

    def stats(xs):
        return {"median": round(statistics.median(xs), 3), "min": round(min(xs), 3),
                "max": round(max(xs), 3)}

    out = {"tweets": n, "file_mib": round(size / 2**20), "repeats": args.repeats}
    for name, runs in res.items():
        if runs:
            out[name] = {"wall": stats([w for w, _ in runs]), "cpu": stats([c for _, c in runs])}
    for name in ("bulk", "per_record"):
        if name in out:
            for m in ("wall", "cpu"):
                out[f"{name}_vs_read_json_{m}"] = round(
                    out[name][m]["median"] / out["read_json"][m]["median"], 2)
    out["ways"] = ways[0] if all(w == ways[0] for w in ways) else ways
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
