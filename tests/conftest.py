"""Shared fixtures: temporary workspaces and the tiny literal organization."""

from __future__ import annotations

from pathlib import Path

import pytest

import socialens

FIXTURES = Path(__file__).parent / "fixtures"
TINY_ORG = FIXTURES / "tiny_org"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def ws(tmp_path):
    """An empty workspace in a temporary folder."""
    w = socialens.open(tmp_path / "ws.duckdb")
    yield w
    w.close()


@pytest.fixture
def tiny_dir() -> Path:
    """The tiny literal organization (8 people, CEO and COO leaders) in canonical format."""
    return TINY_ORG


@pytest.fixture
def tiny_ws(ws, tiny_dir):
    """A workspace with the tiny organization loaded."""
    ws.ingest(tiny_dir)
    return ws
