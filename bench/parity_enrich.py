"""Parity harness for enrichment speed work: ``enrich_batch`` output must not change.

``save`` computes the features and entities of fixed inputs with the current code and writes them
to Parquet; ``check`` recomputes them and compares every column except ``computed_at`` exactly
(floats bit for bit, ``None`` where ``None``, same labels, same row order). Inputs:

* ``reference``: the 7,020 Senate tweets of ``coordination_reference`` (ids ``twitter:<row>``);
* ``bench``: the 20,000-post input of :mod:`bench.bench_enrich` (the same texts, repeated);
* ``simulated`` (when ``--sim-posts`` is given): a ``posts.jsonl`` of ``socialens simulate``,
  with its ``lang`` tags when it has them.

Each input runs in the default and convokit markers modes and with the baseline sharing method,
in batches of 5,000 as the runner does.

Usage::

    python -m bench.parity_enrich save  --out /tmp/enrich_parity [--sim-posts posts.jsonl]
    python -m bench.parity_enrich check --out /tmp/enrich_parity [--sim-posts posts.jsonl]

``check`` prints one line per input and setting and exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench.bench_enrich import texts as bench_texts

SETTINGS = {
    "default": {"markers_mode": "default", "sharing_method": "model"},
    "convokit": {"markers_mode": "convokit", "sharing_method": "model"},
    "baseline": {"markers_mode": "default", "sharing_method": "baseline"},
}
_STAMP = datetime(2000, 1, 1, tzinfo=UTC)


def inputs(sim_posts: Path | None) -> dict[str, pa.Table]:
    """The named input tables (``post_id``, ``text``, optional ``lang``)."""
    ref, _ = bench_texts(7020)
    bench, _ = bench_texts(20000)
    out = {
        "reference": pa.table({"post_id": [f"twitter:{i}" for i in range(len(ref))], "text": ref}),
        "bench": pa.table({"post_id": [f"twitter:{i}" for i in range(len(bench))], "text": bench}),
    }
    if sim_posts is not None:
        rows = [json.loads(line) for line in sim_posts.read_text("utf-8").splitlines() if line]
        cols = {"post_id": [r["post_id"] for r in rows], "text": [r.get("text") for r in rows]}
        if any("lang" in r for r in rows):
            cols["lang"] = [r.get("lang") for r in rows]
        out["simulated"] = pa.table(cols)
    return out


def compute(table: pa.Table, **kwargs) -> tuple[pa.Table, pa.Table]:
    """``enrich_batch`` over ``table`` in batches of 5,000; features without ``computed_at``."""
    from socialens.enrich import enrich_batch

    feats, ents = [], []
    for b in table.to_batches(max_chunksize=5000):
        f, e = enrich_batch(b, computed_at=_STAMP, **kwargs)
        feats.append(f)
        ents.append(e)
    features = pa.Table.from_batches(feats).drop_columns(["computed_at"])
    return features, pa.Table.from_batches(ents)


def _same_column(a: pa.ChunkedArray, b: pa.ChunkedArray) -> int:
    """Number of rows where two columns differ (floats compared bit for bit)."""
    a, b = a.combine_chunks(), b.combine_chunks()
    if a.type != b.type or len(a) != len(b):
        return max(len(a), len(b))
    null_a = np.asarray(a.is_null())
    null_b = np.asarray(b.is_null())
    diff = null_a != null_b
    if pa.types.is_floating(a.type):
        va = a.fill_null(0.0).to_numpy(zero_copy_only=False).view(np.int64)
        vb = b.fill_null(0.0).to_numpy(zero_copy_only=False).view(np.int64)
        diff |= (va != vb) & ~null_a
    else:
        va, vb = a.to_pylist(), b.to_pylist()
        diff |= np.array([x != y for x, y in zip(va, vb, strict=True)], dtype=bool)
    return int(diff.sum())


def compare(expected: pa.Table, actual: pa.Table) -> dict[str, int]:
    """``{column: rows that differ}`` (a missing or extra column counts every row)."""
    out = {}
    for name in sorted(set(expected.column_names) | set(actual.column_names)):
        if name not in expected.column_names or name not in actual.column_names:
            out[name] = max(expected.num_rows, actual.num_rows)
        else:
            out[name] = _same_column(expected.column(name), actual.column(name))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.parity_enrich")
    ap.add_argument("action", choices=["save", "check"])
    ap.add_argument("--out", type=Path, default=Path("/tmp/enrich_parity"))
    ap.add_argument("--sim-posts", type=Path, default=None)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    failed = False
    for name, table in inputs(args.sim_posts).items():
        for setting, kwargs in SETTINGS.items():
            features, entities = compute(table, **kwargs)
            fpath = args.out / f"{name}.{setting}.features.parquet"
            epath = args.out / f"{name}.{setting}.entities.parquet"
            if args.action == "save":
                pq.write_table(features, fpath)
                pq.write_table(entities, epath)
                print(f"saved {name}/{setting}: {features.num_rows} posts, "
                      f"{features.num_columns} columns, {entities.num_rows} entities")
                continue
            diffs = compare(pq.read_table(fpath), features)
            ediffs = compare(pq.read_table(epath), entities)
            bad = {k: v for k, v in {**diffs, **{f"entities.{k}": v for k, v in ediffs.items()}}
                   .items() if v}
            failed |= bool(bad)
            status = "IDENTICAL" if not bad else f"DIFFERENT {bad}"
            print(f"{name}/{setting}: {features.num_rows} posts x {len(diffs)} feature columns, "
                  f"{entities.num_rows} entity rows x {len(ediffs)} columns: {status}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
