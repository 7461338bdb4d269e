"""A full disk, a read-only workspace and a workspace locked by another process each end in their own
message naming the cause and the fix, through the CLI, with exit code 1 and no traceback.

The DuckDB errors are injected (the texts are DuckDB 1.5.6's, as measured on a full tmpfs and a
read-only bind mount); when the tests run as root where ``mount`` works, the same is also checked
on a real 1 MB tmpfs and a real read-only bind mount, including the re-run after space is freed.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import socialens
import socialens.workspace as workspace_mod
from socialens.cli import app
from socialens.errors import WorkspaceError
from socialens.workspace import storage_error_message
from tests.conftest import TINY_ORG, WorkspaceHolder

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def flat(text: str) -> str:
    return " ".join(text.split())


def _no_traceback(r):
    assert "Traceback" not in r.output and "IO Error" not in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)


# -- disk full ------------------------------------------------------------------------------------
DISK_FULL = 'IO Error: Could not write file "{}": No space left on device'
COMMIT_FULL = ('TransactionContext Error: Failed to commit: Could not write file "{}": No space '
               'left on device')


def test_disk_full_while_ingesting(tmp_path, monkeypatch):
    from socialens.ingest.loader import Loader

    w = tmp_path / "org.duckdb"

    def full(self):
        raise duckdb.IOException(DISK_FULL.format(f"{w}.wal"))

    monkeypatch.setattr(Loader, "_flush", full)
    r = run("ingest", TINY_ORG, "-w", w)
    assert r.exit_code == 1, r.output
    _no_traceback(r)
    msg = flat(r.output)
    assert f"Error: the disk holding {w} is full (" in msg and " free)" in msg
    assert f'Could not write file "{w}.wal": No space left on device' in msg
    assert "Free some space on that disk" in msg and "run the same command again" in msg


def test_disk_full_on_commit_and_from_python(tmp_path):
    """The message the library raises (WorkspaceError), for a notebook too."""
    for text in (COMMIT_FULL, DISK_FULL, "FATAL Error: Failed: {}: No space left on device"):
        msg = storage_error_message(duckdb.Error(text.format(tmp_path / "x.wal")),
                                    tmp_path / "x")
        assert msg.startswith(f"the disk holding {tmp_path / 'x'} is full"), msg
        assert "Failed to commit" not in msg or text == COMMIT_FULL
    msg = storage_error_message(OSError(errno.ENOSPC, "No space left on device", "out.html"),
                                None)
    assert msg.startswith("the disk holding out.html is full")
    msg = storage_error_message(OSError(errno.EDQUOT, "Disk quota exceeded"), tmp_path)
    assert "is full" in msg
    assert storage_error_message(ValueError("No space left on device"), tmp_path) is None
    assert storage_error_message(duckdb.Error("Binder Error: no column x"), tmp_path) is None


def test_transaction_turns_a_full_disk_into_a_workspace_error(tmp_path):
    with socialens.open(tmp_path / "w.duckdb") as ws:
        with pytest.raises(WorkspaceError, match="is full") as info:
            with ws.transaction() as con:
                con.execute("INSERT INTO people (person_id, name) VALUES ('a', 'A')")
                raise duckdb.IOException(DISK_FULL.format(tmp_path / "w.duckdb.wal"))
        assert isinstance(info.value.__cause__, duckdb.IOException)
        assert ws.count("people") == 0  # rolled back
        with ws.transaction() as con:  # the workspace is usable again
            con.execute("INSERT INTO people (person_id, name) VALUES ('a', 'A')")
        assert ws.count("people") == 1


def test_disk_full_when_creating_the_workspace(tmp_path, monkeypatch):
    w = tmp_path / "new.duckdb"
    real = duckdb.connect

    def connect(path, *a, **k):
        if str(path) == str(w):
            raise duckdb.IOException(DISK_FULL.format(w))
        return real(path, *a, **k)

    monkeypatch.setattr(workspace_mod.duckdb, "connect", connect)
    r = run("init", "-w", w)
    assert r.exit_code == 1
    _no_traceback(r)
    assert f"Error: the disk holding {w} is full" in flat(r.output)
    assert "Is it a DuckDB file" not in r.output


def test_disk_full_writing_an_output_file(tmp_path, monkeypatch):
    import socialens.site as site

    w = tmp_path / "org.duckdb"
    with socialens.open(w) as ws:
        ws.ingest(TINY_ORG)
    out = tmp_path / "site"

    def publish(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(out / "index.html"))

    monkeypatch.setattr(site, "publish", publish)
    r = run("publish", "-w", w, "--out", out, "--no-report")
    assert r.exit_code == 1, r.output
    _no_traceback(r)
    assert "is full" in r.output and "No space left on device" in flat(r.output)


# -- read-only ------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["init", "ingest", "enrich"])
def test_read_only_file_system(tmp_path, monkeypatch, command):
    w = tmp_path / "org.duckdb"
    with socialens.open(w) as ws:
        ws.ingest(TINY_ORG)
    real = duckdb.connect

    def connect(path, *a, read_only=False, **k):
        if str(path) == str(w) and not read_only:
            raise duckdb.IOException(f'IO Error: Cannot open file "{w}": Read-only file system')
        return real(path, *a, read_only=read_only, **k)

    monkeypatch.setattr(workspace_mod.duckdb, "connect", connect)
    args = {"ingest": ["ingest", TINY_ORG], "init": ["init"], "enrich": ["enrich"]}[command]
    r = run(*args, "-w", w)
    assert r.exit_code == 1, r.output
    _no_traceback(r)
    msg = flat(r.output)
    assert f"Error: {w} is on a read-only file system, so nothing can be written there" in msg
    assert "Commands that only read (status, analyze, report, export, sql, serve) work on it" in msg
    assert f"`cp {w} /some/writable/folder/`" in msg and "remount" in msg
    assert "Is it a DuckDB file" not in msg
    assert run("status", "-w", w).exit_code == 0  # reading still works


def test_no_permission(tmp_path, monkeypatch):
    w = tmp_path / "org.duckdb"
    socialens.open(w).close()

    def connect(path, *a, **k):
        raise duckdb.IOException(f'IO Error: Cannot open file "{w}": Permission denied')

    monkeypatch.setattr(workspace_mod.duckdb, "connect", connect)
    r = run("init", "-w", w)
    assert r.exit_code == 1
    _no_traceback(r)
    msg = flat(r.output)
    assert f"Error: no permission to write {w} (or the folder it is in" in msg
    assert "chmod u+w" in msg and "run as the user who owns it" in msg


def test_a_new_workspace_on_a_read_only_file_system(tmp_path, monkeypatch):
    w = tmp_path / "new.duckdb"

    def connect(path, *a, **k):
        raise duckdb.IOException(f'IO Error: Cannot open file "{w}": Read-only file system')

    monkeypatch.setattr(workspace_mod.duckdb, "connect", connect)
    r = run("init", "-w", w)
    assert r.exit_code == 1
    msg = flat(r.output)
    assert f"{w} is on a read-only file system" in msg
    assert "Create the workspace in a writable folder instead" in msg and "cp " not in msg


# -- locked ---------------------------------------------------------------------------------------


def test_locked_by_another_writer(tmp_path):
    w = tmp_path / "org.duckdb"
    socialens.open(w).close()
    with WorkspaceHolder(w, "rw") as holder:
        r = run("ingest", TINY_ORG, "-w", w)
        assert r.exit_code == 1
        _no_traceback(r)
        msg = flat(r.output)
        assert f"Error: {w} is locked: another process," in msg
        assert f"(PID {holder.proc.pid}), has it open for writing" in msg
        assert "only one process can write to a workspace at a time" in msg
        assert "run this command again" in msg
        r = run("status", "-w", w)  # a reader is locked out too, and told why
        assert r.exit_code == 1 and "not even read-only" in flat(r.output)
    assert run("ingest", TINY_ORG, "-w", w).exit_code == 0  # the holder is gone: it works


def test_locked_by_a_reader_after_the_wait(tmp_path, monkeypatch):
    monkeypatch.setattr(workspace_mod, "LOCK_WAIT", 0.3)
    w = tmp_path / "org.duckdb"
    socialens.open(w).close()
    with WorkspaceHolder(w, "ro") as holder:
        r = run("init", "-w", w)
        assert r.exit_code == 1
        _no_traceback(r)
        msg = flat(r.output)
        assert f"Error: {w} is open read-only in another process" in msg
        assert f"(PID {holder.proc.pid})" in msg and "Close it there" in msg


# -- the real thing (root, where mount works) -------------------------------------------------------
def _can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.fixture
def mount_point(tmp_path):
    made = []

    def mount(*args) -> Path:
        target = tmp_path / f"mnt{len(made)}"
        target.mkdir()
        r = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
        if r.returncode:
            pytest.skip(f"mount does not work here: {r.stderr.strip()}")
        made.append(target)
        return target

    yield mount
    for target in reversed(made):
        subprocess.run(["umount", "-l", str(target)], check=False)


def _big_org(folder: Path, n_posts: int = 20000) -> Path:
    shutil.copytree(TINY_ORG, folder)
    with (folder / "posts.jsonl").open("a") as f:
        for i in range(n_posts):
            f.write(json.dumps({"post_id": f"twitter:9{i:07d}", "account_id": "twitter:1",
                                "created_at": f"2009-{1 + i % 12:02d}-{1 + i % 28:02d}T12:00:00Z",
                                "text": f"post {i} " + "words " * 30}) + "\n")
    return folder


def _counts(w: Path) -> dict:
    with socialens.open(w, read_only=True) as ws:
        return {t: ws.count(t) for t in ("people", "posts", "post_entities", "edges",
                                          "quarantine")}


@pytest.mark.skipif(not _can_mount(), reason="needs root and mount")
@pytest.mark.slow
def test_real_full_disk_then_the_same_command_after_freeing_space(tmp_path, mount_point):
    org = _big_org(tmp_path / "org")
    small = mount_point("-t", "tmpfs", "-o", "size=1m", "tmpfs")
    w = small / "org.duckdb"
    r = subprocess.run([sys.executable, "-m", "socialens", "ingest", str(org), "-w", str(w)],
                       capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    msg = flat(r.stderr)
    assert f"Error: the disk holding {w} is full" in msg and "No space left on device" in msg
    # "free space": move the workspace to a disk with room, run the same command again
    roomy = tmp_path / "roomy" / "org.duckdb"
    roomy.parent.mkdir()
    for f in small.iterdir():
        if f.name.startswith("org.duckdb"):
            shutil.copy(f, roomy.parent / f.name)
    assert run("ingest", org, "-w", roomy).exit_code == 0
    ref = tmp_path / "ref.duckdb"
    assert run("ingest", org, "-w", ref).exit_code == 0
    assert _counts(roomy) == _counts(ref) and _counts(ref)["posts"] == 20507


@pytest.mark.skipif(not _can_mount(), reason="needs root and mount")
def test_real_read_only_bind_mount(tmp_path, mount_point):
    src = tmp_path / "src"
    src.mkdir()
    with socialens.open(src / "org.duckdb") as ws:
        ws.ingest(TINY_ORG)
    ro = mount_point("--bind", "-o", "ro", str(src))
    w = ro / "org.duckdb"
    for args in (["init"], ["ingest", TINY_ORG]):
        r = run(*args, "-w", w)
        assert r.exit_code == 1, r.output
        _no_traceback(r)
        assert f"Error: {w} is on a read-only file system" in flat(r.output)
    r = run("status", "-w", w)
    assert r.exit_code == 0 and "posts" in r.output
    r = run("init", "-w", ro / "new.duckdb")
    assert r.exit_code == 1 and "Create the workspace in a writable folder" in flat(r.output)
