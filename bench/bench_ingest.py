"""Canonical ingest throughput, as a ratio to a baseline measured in the same run.

Baseline: reading the same ``posts.jsonl`` and ``json.loads`` of every line (the least any Python
reader must do). Reported: records/s of the full ingest (validation, staging, de-duplication,
entities, provenance) and its cost in multiples of the baseline, plus the re-ingest (all duplicates)
cost. Appends a section to BENCHMARKS.md and prints one JSON object on its last line.

Usage: ``python -m bench.bench_ingest [--posts 200000]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _make(folder: Path, n_posts: int, n_accounts: int = 1000, seed: int = 1) -> None:
    rng = random.Random(seed)
    (folder / "accounts.csv").write_text(
        "account_id,handle\n" + "".join(f"twitter:{i},h{i}\n" for i in range(n_accounts)))
    with open(folder / "posts.jsonl", "w") as f:
        for i in range(n_posts):
            f.write(json.dumps({
                "post_id": f"twitter:p{i}", "account_id": f"twitter:{rng.randrange(n_accounts)}",
                "created_at": f"2015-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                "text": "Proud to support the #Jobs bill with @colleague today https://t.co/x",
                "hashtags": ["Jobs"], "mentions": ["colleague"], "urls": ["https://t.co/x"],
                "like_count": i % 50, "repost_count": i % 7}) + "\n")


def main(argv: list[str] | None = None) -> dict:
    import socialens

    ap = argparse.ArgumentParser(prog="bench.bench_ingest")
    ap.add_argument("--posts", type=int, default=200_000)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        _make(folder, args.posts)
        t0 = time.perf_counter()
        with open(folder / "posts.jsonl", "rb") as f:
            n = sum(1 for line in f if json.loads(line))
        baseline = time.perf_counter() - t0
        with socialens.open(Path(tmp) / "w.duckdb") as ws:
            t0 = time.perf_counter()
            res = ws.ingest(folder)
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            again = ws.ingest(folder)
            second = time.perf_counter() - t0
    assert res.totals["loaded"] == n + 1000 and again.totals["loaded"] == 0
    out = {
        "benchmark": "ingest", "posts": n,
        "records_per_s": round((n + 1000) / first),
        "ratio_to_json_loads": round(first / baseline, 1),
        "reingest_ratio_to_json_loads": round(second / baseline, 1),
    }
    with open(ROOT / "BENCHMARKS.md", "a", encoding="utf-8") as f:
        f.write(
            f"\n## Canonical ingest — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
            f"Machine: {platform.platform()}, Python {platform.python_version()}. "
            f"{n:,} posts (+1,000 accounts), each with a hashtag, a mention and a URL.\n\n"
            "| measure | value |\n|---|---|\n"
            f"| ingest throughput | {out['records_per_s']:,} records/s |\n"
            f"| ingest time / `json.loads` of the same lines | {out['ratio_to_json_loads']}× |\n"
            f"| re-ingest (all duplicates) / `json.loads` | {out['reingest_ratio_to_json_loads']}× |\n"
        )
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
