"""Helpers for the platform reader tests: ingest a fixture, check the balance and idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialens.ingest import detect_format

PLATFORM_FIXTURES = Path(__file__).parent / "fixtures"


def _tables(ws) -> dict[str, int]:
    return {t: ws.count(t) for t in ("people", "roles", "accounts", "account_snapshots", "posts",
                                     "post_entities", "edges", "quarantine", "ingest_runs")}


@pytest.fixture
def load(ws):
    """``load(name, fmt)``: ingest a fixture (asserting it is detected as ``fmt``), check
    read = loaded + duplicate + quarantined for every file, then re-ingest and check that nothing
    changes. Returns the first ingest's result."""

    def _load(name: str, fmt: str):
        path = PLATFORM_FIXTURES / name
        assert detect_format(path) == fmt
        result = ws.ingest(path)
        for f in result.files:
            assert f.balanced, f.as_dict()
            assert f.format == fmt
        before = _tables(ws)
        again = ws.ingest(path)
        assert _tables(ws) == before
        for f1, f2 in zip(result.files, again.files, strict=True):
            assert f2.n_loaded == 0
            assert f2.n_duplicate == f1.n_loaded + f1.n_duplicate
            assert f2.n_quarantined == f1.n_quarantined
        return result

    return _load


def reasons(result) -> list[str]:
    return [r for f in result.files for r in f.reasons]
