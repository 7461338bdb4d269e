"""``serve`` beside writers (socialens.serve_copy): copies published atomically by writers, the
app swapping them in without a restart, one copy per response, and a real ``serve`` process
answering while real ``ingest``/``enrich``/``init`` processes write."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import socialens
from socialens import serve_copy
from socialens.errors import WorkspaceError
from tests.conftest import TINY_ORG, WorkspaceHolder

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


def _split_tiny(tmp_path: Path, n_base: int = 300) -> tuple[Path, Path]:
    """The tiny organization with its first ``n_base`` posts, and a folder with the rest."""
    base, rest = tmp_path / "base", tmp_path / "rest"
    shutil.copytree(TINY_ORG, base)
    lines = (TINY_ORG / "posts.jsonl").read_text().splitlines(keepends=True)
    (base / "posts.jsonl").write_text("".join(lines[:n_base]))
    rest.mkdir()
    (rest / "posts.jsonl").write_text("".join(lines[n_base:]))
    return base, rest


@pytest.fixture
def split_ws(tmp_path):
    base, rest = _split_tiny(tmp_path)
    path = tmp_path / "ws" / "org.duckdb"
    path.parent.mkdir()
    with socialens.open(path) as w:
        w.ingest(base)
    return path, rest


def _client(path, **kw):
    from fastapi.testclient import TestClient

    from socialens.site.app import create_app

    app = create_app(path, allowed_hosts=["testserver"], **kw)
    return app, TestClient(app)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _posts_total(client) -> int:
    return sum(p["posts"] or 0 for p in client.get("/api/people?limit=1000").json()["items"])


# -- the copies -------------------------------------------------------------------------------
def test_writers_publish_only_when_serve_keeps_copies(split_ws):
    path, rest = split_ws
    with socialens.open(path) as w:
        w.ingest(rest)
    assert not serve_copy.copy_dir(path).exists() and serve_copy.latest(path) is None

    copy, reason = serve_copy.prepare(path)  # what `serve` does first
    assert reason is None and copy.name == "000000000001.duckdb"
    assert not serve_copy.is_stale(path)
    with socialens.open(path):  # opened and closed, nothing changed: no new copy
        pass
    assert [g for g, _ in serve_copy.generations(path)] == [1]
    with socialens.open(path) as w:
        w.con.execute("UPDATE people SET name = 'Renamed' WHERE person_id = 's1'")
    gens = serve_copy.generations(path)
    assert [g for g, _ in gens] == [1, 2]
    with duckdb.connect(str(gens[-1][1]), read_only=True) as c:
        assert c.execute("SELECT name FROM people WHERE person_id = 's1'").fetchone() == (
            "Renamed",)
    with duckdb.connect(str(gens[0][1]), read_only=True) as c:
        assert c.execute("SELECT name FROM people WHERE person_id = 's1'").fetchone() == (
            "Sam One",)
    for i in range(3):  # older generations are pruned: the newest and the one before it stay
        with socialens.open(path) as w:
            w.con.execute("UPDATE people SET name = ? WHERE person_id = 's1'", [f"n{i}"])
    assert [g for g, _ in serve_copy.generations(path)] == [4, 5]
    assert sorted(p.name for p in serve_copy.copy_dir(path).iterdir()) == [
        "000000000004.duckdb", "000000000005.duckdb"]  # no temporary files left behind


def test_a_copy_holds_every_table_and_row(split_ws):
    path, rest = split_ws
    serve_copy.prepare(path)
    with socialens.open(path) as w:
        w.ingest(rest)
        counts = w.counts()
    with socialens.open(serve_copy.latest(path), read_only=True) as c:
        assert c.counts() == counts and counts["posts"] == 507


def test_copy_from_a_crashed_writers_wal(tmp_path):
    """A writer killed before its checkpoint leaves transactions only in the WAL; serve's own copy
    then goes through DuckDB (COPY FROM DATABASE) instead of copying the file."""
    path = tmp_path / "org.duckdb"
    with socialens.open(path) as w:
        w.ingest(TINY_ORG)
    code = ("import duckdb, os, sys\n"
            "c = duckdb.connect(sys.argv[1])\n"
            "c.execute(\"UPDATE people SET name = 'In the WAL' WHERE person_id = 's2'\")\n"
            "os._exit(9)\n")
    subprocess.run([sys.executable, "-c", code, str(path)], check=False)
    assert path.with_name(path.name + ".wal").stat().st_size > 0
    copy, _ = serve_copy.prepare(path)
    with socialens.open(copy, read_only=True) as c:
        assert c.sql("SELECT name FROM people WHERE person_id = 's2'")["name"][0] == "In the WAL"
        assert c.count("posts") == 507


def test_a_copy_that_cannot_be_written_is_reported_and_the_write_still_succeeds(
        split_ws, monkeypatch, caplog):
    path, rest = split_ws
    serve_copy.prepare(path)

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(serve_copy.shutil, "copyfile", full)
    with socialens.open(path) as w:
        w.ingest(rest)
    assert w.serve_copy_error is not None
    assert "was not refreshed" in w.serve_copy_error and "is full" in w.serve_copy_error
    assert "previous state" in w.serve_copy_error
    assert "was not refreshed" in caplog.text
    assert [g for g, _ in serve_copy.generations(path)] == [1]
    assert [p.name for p in serve_copy.copy_dir(path).iterdir()] == ["000000000001.duckdb"]
    with socialens.open(path, read_only=True) as w:
        assert w.count("posts") == 507  # the workspace itself has the new posts
    monkeypatch.undo()
    with socialens.open(path):  # the next writer publishes what the last one could not
        pass
    assert [g for g, _ in serve_copy.generations(path)] == [1, 2]


# -- the app ----------------------------------------------------------------------------------
def test_the_app_picks_up_new_data_without_a_restart(split_ws):
    path, rest = split_ws
    app, client = _client(path)
    live = app.app.state.socialens_live
    live.poll = 3600.0  # no look at the folder on a request: only refresh() swaps here
    assert live.copy is not None and live.copy.parent == serve_copy.copy_dir(path)
    before = _posts_total(client)
    page_before = client.get("/index.html").text
    # the app does not hold the workspace: another writer (here this process) can write it
    with socialens.open(path) as w:
        w.ingest(rest)
        n_posts = w.sql("SELECT count(*) AS n FROM posts p JOIN accounts a USING (account_id) "
                        "JOIN people USING (person_id) WHERE opt_in")["n"][0]
    assert _posts_total(client) == before  # nothing swapped in yet (refresh not called)
    assert live.refresh() is True and live.swaps == 1
    after = _posts_total(client)
    assert after > before and after == n_posts
    assert client.get("/index.html").text != page_before  # pages are rendered afresh
    assert live.refresh() is False  # nothing newer
    client.close()


def test_the_app_swaps_in_the_background_on_a_request(split_ws):
    import time

    path, rest = split_ws
    app, client = _client(path)
    live = app.app.state.socialens_live
    live.poll = 0.0
    before = _posts_total(client)
    with socialens.open(path) as w:
        w.ingest(rest)
    deadline = time.monotonic() + 30
    while _posts_total(client) == before:
        assert time.monotonic() < deadline, "the new copy was not swapped in"
        time.sleep(0.05)
    assert live.swaps == 1
    client.close()


def test_one_request_is_answered_from_one_copy(split_ws):
    """The state is bound once per request (also in routes that run in a worker thread): a copy
    swapped in meanwhile is used from the next request on."""
    from socialens.site.app import _CURRENT

    path, rest = split_ws
    app, client = _client(path)
    live = app.app.state.socialens_live
    fastapi_app = app.app
    seen = []

    @fastapi_app.get("/_test_state")
    def _probe():  # a sync route: FastAPI runs it in a worker thread
        bound = _CURRENT.get()
        first = fastapi_app.state.socialens.d
        with socialens.open(path) as w:  # a writer publishes, and the app swaps, mid-request
            w.con.execute("UPDATE people SET name = name || '!' WHERE person_id = 's1'")
        live.refresh()
        seen.append((bound is not None, first is fastapi_app.state.socialens.d,
                     first is live.current().d))
        return {}

    assert client.get("/_test_state").status_code == 200
    assert seen == [(True, True, False)]
    client.close()


def test_pseudonyms_of_the_copy_come_from_the_workspace_study_key(split_ws, monkeypatch):
    monkeypatch.delenv("SOCIALENS_STUDY_KEY", raising=False)
    path, _ = split_ws
    from socialens.privacy import key_path

    _, client = _client(path)
    via_copy = client.get("/api/people?limit=1000").json()
    client.close()
    assert key_path(path).exists()  # s3 did not opt in: the key beside the workspace is used
    assert not list(serve_copy.copy_dir(path).glob("*.study-key"))
    shutil.rmtree(serve_copy.copy_dir(path))
    serve_copy.copy_dir(path).write_text("not a folder")  # no copies possible: the workspace
    app, client = _client(path)
    assert app.app.state.socialens_live.copy is None
    assert client.get("/api/people?limit=1000").json() == via_copy
    client.close()


def test_without_a_writable_copy_folder_serve_reads_the_workspace_and_says_so(
        split_ws, monkeypatch):
    from typer.testing import CliRunner

    import socialens.site.app as site_app
    from socialens.cli import app as cli_app

    path, _ = split_ws
    serve_copy.copy_dir(path).write_text("in the way")
    copy, reason = serve_copy.prepare(path)
    assert copy is None and reason.startswith(f"cannot write {serve_copy.copy_dir(path)}")
    served = []
    monkeypatch.setattr(site_app, "run", lambda application, **kw: served.append(application))
    r = CliRunner().invoke(cli_app, ["serve", "-w", str(path), "--port", str(_free_port())])
    assert r.exit_code == 0, r.output
    assert served and served[0].app.state.socialens_live.copy is None
    assert f"serving {path} itself, read-only: cannot write {serve_copy.copy_dir(path)}" in (
        " ".join(r.output.split()))
    assert "must wait until serve stops" in " ".join(r.output.split())


def test_serve_says_when_it_serves_a_copy(split_ws, monkeypatch):
    from typer.testing import CliRunner

    import socialens.site.app as site_app
    from socialens.cli import app as cli_app

    path, _ = split_ws
    served = []
    monkeypatch.setattr(site_app, "run", lambda application, **kw: served.append(application))
    r = CliRunner().invoke(cli_app, ["serve", "-w", str(path), "--port", str(_free_port())])
    assert r.exit_code == 0 and "Warning" not in r.output, r.output
    assert served[0].app.state.socialens_live.copy == serve_copy.latest(path)




def test_serve_starting_while_a_writer_runs(split_ws):
    path, _ = split_ws
    with WorkspaceHolder(path, "rw") as holder:
        with pytest.raises(WorkspaceError) as info:  # no copy yet
            serve_copy.prepare(path)
        msg = str(info.value)
        assert f"PID {holder.proc.pid}" in msg and "start it again when that process is done" in msg
    serve_copy.prepare(path)
    with socialens.open(path) as w:
        w.con.execute("UPDATE people SET name = 'Newer' WHERE person_id = 's1'")
    w.close()
    with WorkspaceHolder(path, "rw"):  # a copy exists: serve the newest one, the writer publishes later
        _, client = _client(path)
        names = {p["person_id"]: p["name"] for p in
                 client.get("/api/people?limit=1000").json()["items"]}
        assert names["s1"] == "Newer"
        client.close()


def test_a_writer_waits_for_serve_copying_the_workspace(split_ws):
    """serve holds the workspace read-only only while it copies it; a writer starting then waits
    (LOCK_WAIT) instead of failing."""
    import threading

    path, _ = split_ws
    with WorkspaceHolder(path, "ro") as holder:
        threading.Timer(0.5, holder.proc.stdin.close).start()
        with socialens.open(path) as w:  # waits until the reader is gone
            assert w.count("people") == 8


# -- a real serve process beside real writers ---------------------------------------------------
@pytest.mark.slow
def test_real_serve_process_beside_real_ingest_enrich_and_init(tmp_path):
    from eval.serve_beside_writers import measure

    r = measure(tmp_path, people=60, seed=3, chunks=2, clients=2, tail=0.5)
    artifact = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifact.mkdir(exist_ok=True)
    (artifact / "serve_beside_writers.json").write_text(json.dumps(r, indent=1))
    assert r["writers"] == 4 and r["writers_failed"] == 0, r["writer_errors"]
    assert r["requests"] > 50
    assert r["failed"] == 0 and r["inconsistent"] == 0, r["errors"]
    assert r["distinct_people_answers"] >= 3  # the base and each chunk change the directory
    assert r["final_state_served"] and not r["serve_restarted"] and not r["serve_errors"]


def test_a_run_cut_short_is_published_only_once_reconciled(split_ws, monkeypatch):
    import socialens.ingest.canonical_bulk as bulk
    import socialens.ingest.loader as loader

    path, rest = split_ws
    serve_copy.prepare(path)
    monkeypatch.setattr(loader, "BATCH_SIZE", 50)
    monkeypatch.setattr(bulk, "ENABLED", False)  # the record-by-record path, whose _flush fails
    real, calls = loader.Loader._flush, []

    def flush_then_fail(self):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("cut short")
        real(self)

    monkeypatch.setattr(loader.Loader, "_flush", flush_then_fail)
    w = socialens.open(path)
    with pytest.raises(RuntimeError, match="cut short"):
        w.ingest(rest)
    assert w.count("posts") == 300 + 100  # two batches were committed
    w.close()
    assert [g for g, _ in serve_copy.generations(path)] == [1]  # not published half-way
    monkeypatch.undo()
    with socialens.open(path) as w:  # reconciles the run, then publishes
        assert len(w.interrupted) == 1
    gens = serve_copy.generations(path)
    assert [g for g, _ in gens] == [1, 2]
    with socialens.open(gens[-1][1], read_only=True) as c:
        assert c.count("posts") == 400


def test_copies_are_as_private_as_the_workspace(split_ws):
    import os
    import stat

    path, rest = split_ws
    os.chmod(path, 0o600)
    copy, _ = serve_copy.prepare(path)
    assert stat.S_IMODE(os.stat(serve_copy.copy_dir(path)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(copy).st_mode) == 0o600
    with socialens.open(path) as w:
        w.ingest(rest)
    assert stat.S_IMODE(os.stat(serve_copy.latest(path)).st_mode) == 0o600
