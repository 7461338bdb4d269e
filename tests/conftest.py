"""Shared fixtures: temporary workspaces and the tiny literal organization."""

from __future__ import annotations

from pathlib import Path

import pytest

import socialens

FIXTURES = Path(__file__).parent / "fixtures"
TINY_ORG = FIXTURES / "tiny_org"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


class WorkspaceHolder:
    """Another process holding a workspace file open (as a notebook or a writer would), until the
    ``with`` block ends: ``with WorkspaceHolder(path, "rw" | "ro") as holder: holder.proc.pid``."""

    CODE = ("import sys, duckdb\n"
            "con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'ro')\n"
            "print('ready', flush=True)\n"
            "sys.stdin.read()\n")

    def __init__(self, path, mode: str):
        import subprocess
        import sys

        self.proc = subprocess.Popen([sys.executable, "-c", self.CODE, str(path), mode],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


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


def pytest_unconfigure(config):
    """Shut down the AWS SDK that ``tests/test_lake.py`` starts in this process (pyarrow's S3 file
    system), while the interpreter is whole and after the last file system object is collected.
    Left to the interpreter's exit, its threads can abort the process after the last test has
    passed ("terminate called without an active exception", exit 134: apache/arrow#41087), which
    fails ``make test`` with every test green."""
    import sys

    if "pyarrow._s3fs" in sys.modules:
        import gc

        from pyarrow import fs

        gc.collect()
        fs.ensure_s3_finalized()
