"""Determinism, chunked (bounded-memory) output, and the workspace written through canonical ingest."""

from __future__ import annotations

import hashlib
import tracemalloc

import pyarrow.parquet as pq
import pytest

import socialens
from socialens.simulate import TRUTH_TABLES, simulate

SMALL = dict(people=300, post_rate_median=0.01, n_campaigns=3)


def _digests(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_files_and_different_seeds_differ(tmp_path):
    a = simulate(seed=11, files=tmp_path / "a", **SMALL)
    b = simulate(seed=11, files=tmp_path / "b", **SMALL)
    c = simulate(seed=12, files=tmp_path / "c", **SMALL)
    da, db, dc = _digests(a.files), _digests(b.files), _digests(c.files)
    assert da == db
    assert len(da) >= 12
    for name in ("people.csv", "accounts.csv", "posts.jsonl", "edges.csv"):
        assert da[name] != dc[name]


def test_chunk_size_does_not_change_the_posts(tmp_path):
    a = simulate(seed=2, files=tmp_path / "a", chunk_posts=1000, **{**SMALL, "people": 800})
    b = simulate(seed=2, files=tmp_path / "b", **{**SMALL, "people": 800})
    assert (a.files / "posts.jsonl").read_bytes() == (b.files / "posts.jsonl").read_bytes()
    groups = [pq.ParquetFile(r.truth_dir / "sim_truth_posts.parquet").num_row_groups for r in (a, b)]
    assert groups[0] > groups[1]  # written in more, smaller chunks


def _workspace_content(path):
    """Every data column of every table, ordered by all columns (run ids and load times differ by
    design between two ingests and are left out)."""
    ws = socialens.open(path, read_only=True)
    out = {}
    try:
        for t in ("people", "roles", "accounts", "account_snapshots", "posts", "post_entities",
                  "edges", *TRUTH_TABLES):
            cols = [r[0] for r in ws.con.execute(f'DESCRIBE "{t}"').fetchall()
                    if r[0] not in ("run_id", "source_line")]
            names = ", ".join(f'"{c}"' for c in cols)
            out[t] = ws.con.execute(f'SELECT {names} FROM "{t}" ORDER BY ALL').fetchall()
    finally:
        ws.close()
    return out


def test_same_seed_gives_identical_workspace_tables(tmp_path):
    a = simulate(seed=5, out=tmp_path / "a.duckdb", **SMALL)
    b = simulate(seed=5, out=tmp_path / "b.duckdb", **SMALL)
    ca, cb = _workspace_content(a.workspace), _workspace_content(b.workspace)
    assert ca == cb
    assert len(ca["posts"]) == a.rows["posts"] > 0
    assert len(ca["sim_truth_people"]) == 300
    ws = socialens.open(a.workspace, read_only=True)
    try:
        assert ws.count("quarantine") == 0
        runs = ws.sql("SELECT n_read, n_loaded FROM ingest_runs")
        assert (runs.n_read == runs.n_loaded).all()
    finally:
        ws.close()


@pytest.mark.slow
def test_writer_memory_is_bounded_by_the_chunk_size(tmp_path):
    kw = dict(people=1500, seed=1, target_posts=40_000, truth_posts=True, n_campaigns=2)

    def peak(chunk, where):
        tracemalloc.start()
        try:
            simulate(files=tmp_path / where, chunk_posts=chunk, **kw)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, big = peak(1_000, "small"), peak(100_000, "big")
    assert small < big / 3, (small, big)
    assert (tmp_path / "small/posts.jsonl").read_bytes() == (tmp_path / "big/posts.jsonl").read_bytes()
