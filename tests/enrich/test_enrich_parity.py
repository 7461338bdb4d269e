"""Enrichment output is unchanged by the speed work: every feature, bit for bit, on a fixed corpus.

``data/enrich_golden.parquet`` holds ``enrich_batch``'s features (all columns but ``computed_at``)
and entities of 4,700 real posts — VADER's 4,200 human-rated tweets and the 500 Senate tweets of
the ConvoKit excerpt, both shipped in ``tests/enrich/data`` — in the three settings (default
markers, convokit markers, baseline sharing), computed with the code before the speed work
(commit ae369a6, feature version 3). The same comparison on the 60,775-post corpus (7,020
reference tweets, the 20,000-post bench input, a simulated organization) is
``python -m bench.parity_enrich check``.

Regenerate only when a feature's definition changes (with a ``FEATURE_VERSION`` bump)::

    python -m tests.enrich.test_enrich_parity --save
"""

from __future__ import annotations

import gzip
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "enrich_golden.parquet"
GOLDEN_ENTITIES = DATA / "enrich_golden_entities.parquet"
SETTINGS = {
    "default": {"markers_mode": "default", "sharing_method": "model"},
    "convokit": {"markers_mode": "convokit", "sharing_method": "model"},
    "baseline": {"markers_mode": "default", "sharing_method": "baseline"},
}
_STAMP = datetime(2000, 1, 1, tzinfo=UTC)


def corpus() -> pa.Table:
    with gzip.open(DATA / "vader_tweets_GroundTruth.txt.gz", "rt", encoding="utf-8") as f:
        vader = [line.rstrip("\n").split("\t", 2)[2] for line in f if line.strip()]
    senate = list(pd.read_csv(DATA / "convokit_excerpt.csv.gz", dtype=str,
                              keep_default_na=False).text)
    texts = vader + senate
    return pa.table({"post_id": [f"twitter:{i}" for i in range(len(texts))], "text": texts})


def compute() -> tuple[pa.Table, pa.Table]:
    """Features (without ``computed_at``) and entities of :func:`corpus` in every setting, in
    batches of 5,000 as the runner does, with a ``setting`` column."""
    from socialens.enrich import enrich_batch

    feats, ents = [], []
    for setting, kwargs in SETTINGS.items():
        for b in corpus().to_batches(max_chunksize=5000):
            f, e = enrich_batch(b, computed_at=_STAMP, **kwargs)
            f = pa.Table.from_batches([f]).drop_columns(["computed_at"])
            e = pa.Table.from_batches([e])
            feats.append(f.append_column("setting", pa.array([setting] * f.num_rows)))
            ents.append(e.append_column("setting", pa.array([setting] * e.num_rows)))
    return pa.concat_tables(feats), pa.concat_tables(ents)


#: columns whose last bits depend on the CPU: py3langid's confidence is a float32 softmax of
#: matrix products, and numpy's OpenBLAS picks its kernels by CPU (on an AMD EPYC, 5,028 of the
#: 14,100 rows differ from the reference machine by up to 2e-6, at 0812e51 as after it); the
#: language label itself is compared exactly
TOLERANCE = {"lang_confidence": 1e-5}


def _differences(expected: pa.Table, actual: pa.Table) -> dict[str, int]:
    """``{column: rows that differ}``; floats compared bit for bit (to :data:`TOLERANCE` for the
    CPU-dependent columns), nulls where nulls."""
    out = {}
    for name in sorted(set(expected.column_names) | set(actual.column_names)):
        if name not in expected.column_names or name not in actual.column_names:
            out[name] = max(expected.num_rows, actual.num_rows)
            continue
        a = expected.column(name).combine_chunks()
        b = actual.column(name).combine_chunks()
        if a.type != b.type or len(a) != len(b):
            out[name] = max(len(a), len(b))
            continue
        diff = np.asarray(a.is_null()) != np.asarray(b.is_null())
        if pa.types.is_floating(a.type) and name in TOLERANCE:
            va = a.fill_null(0.0).to_numpy(zero_copy_only=False).astype(np.float64)
            vb = b.fill_null(0.0).to_numpy(zero_copy_only=False).astype(np.float64)
            diff |= ~(np.abs(va - vb) <= TOLERANCE[name])
        elif pa.types.is_floating(a.type):
            va = a.fill_null(0.0).to_numpy(zero_copy_only=False).view(np.int64)
            vb = b.fill_null(0.0).to_numpy(zero_copy_only=False).view(np.int64)
            diff |= va != vb
        else:
            diff |= np.array([x != y for x, y in zip(a.to_pylist(), b.to_pylist(), strict=True)],
                             dtype=bool)
        out[name] = int(diff.sum())
    return {k: v for k, v in out.items() if v}


def test_features_identical_to_before_the_speed_work():
    features, entities = compute()
    expected = pq.read_table(GOLDEN)
    assert features.num_rows == expected.num_rows == 3 * 4700
    assert _differences(expected, features) == {}
    assert _differences(pq.read_table(GOLDEN_ENTITIES), entities) == {}
    # the corpus exercises what the features read: English and not, tone, sharing, entities
    f = features.filter(pc.equal(features.column("setting"), "default")).to_pandas()
    assert (~f.is_english).sum() > 5 and f.tone_compound.notna().sum() > 4000
    assert f.sharing_label.dropna().nunique() >= 2
    assert entities.num_rows > 1000


if __name__ == "__main__":
    if sys.argv[1:] != ["--save"]:
        sys.exit("usage: python -m tests.enrich.test_enrich_parity --save")
    feats, ents = compute()
    pq.write_table(feats, GOLDEN, compression="zstd")
    pq.write_table(ents, GOLDEN_ENTITIES, compression="zstd")
    print(f"saved {feats.num_rows} feature rows, {ents.num_rows} entity rows to {DATA}")
