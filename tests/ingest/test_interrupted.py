"""An ingest killed mid-file: the next open marks its run interrupted and reconciles its counts
with the rows that point to it; re-running the ingest gives the tables of an uninterrupted one."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

import socialens
from socialens.status import status

N = 50


def _org(tmp_path):
    folder = tmp_path / "org"
    folder.mkdir()
    (folder / "people.csv").write_text("person_id,name\np1,Ada\n")
    (folder / "accounts.csv").write_text("account_id,person_id\ntwitter:9,p1\n")
    lines = [json.dumps({"post_id": f"twitter:{i}", "account_id": "twitter:9",
                         "created_at": "2023-01-01T00:00:00Z", "text": f"post {i} #tag"})
             for i in range(N)]
    lines[7] = "{broken"
    (folder / "posts.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def _tables(ws):
    """Every table's rows (run ids aside), as sorted CSV lines."""
    return {t: sorted(ws.sql(f"SELECT * EXCLUDE (run_id) FROM {t}").astype(str)
                      .to_csv(index=False, header=False).splitlines())
            for t in ("people", "accounts", "posts", "post_entities", "edges", "quarantine")}


def test_a_killed_ingest_is_reconciled_on_open_and_a_rerun_completes_it(tmp_path):
    folder = _org(tmp_path)
    path = tmp_path / "ws.duckdb"
    # a real process, killed with SIGKILL by itself after its third committed batch of posts
    script = textwrap.dedent(f"""
        import os, signal
        import socialens
        import socialens.ingest.loader as loader
        loader.BATCH_SIZE = 10
        batches = []
        def on_file(path, target):
            if target != "posts":
                return None
            def progress(n):
                batches.append(n)
                if len(batches) == 3:
                    os.kill(os.getpid(), signal.SIGKILL)
            return progress
        ws = socialens.open({str(path)!r})
        ws.ingest({str(folder)!r}, on_file=on_file)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    ws = socialens.open(path)
    try:
        [run] = ws.interrupted
        assert run["target"] == "posts"
        loaded = ws.count("posts")
        assert 0 < loaded < N - 1  # some batches were committed, not all
        assert run["n_loaded"] == loaded
        assert run["n_quarantined"] == ws.count("quarantine") == 1  # line 8, in the first batch
        runs = status(ws).runs.set_index("target")
        assert runs.loc["posts", "state"] == "interrupted"
        assert runs.loc["posts", "n_read"] == loaded + 1
        assert set(runs["state"]) == {"finished", "interrupted"}
        # re-running the ingest loads the rest; the tables equal those of an uninterrupted run
        again = ws.ingest(folder)
        f = {x.target: x for x in again.files}["posts"]
        assert (f.n_loaded, f.n_duplicate) == (N - 1 - loaded, loaded)
        got = _tables(ws)
    finally:
        ws.close()
    fresh = socialens.open(tmp_path / "fresh.duckdb")
    try:
        fresh.ingest(folder)
        assert _tables(fresh) == got
    finally:
        fresh.close()


def test_reconciling_happens_once_and_read_only_opens_report_unfinished_runs(tmp_path):
    path = tmp_path / "ws.duckdb"
    ws = socialens.open(path)
    ws.con.execute("""INSERT INTO ingest_runs (run_id, started_at, source_path, sha256, format,
                        target, n_read, n_loaded, n_duplicate, n_quarantined, socialens_version,
                        n_merged) VALUES ('r1', now(), '/x/people.csv', 'abc', 'canonical',
                        'people', 0, 0, 0, 0, 'test', 0)""")
    ws.con.execute("INSERT INTO people (person_id, opt_in, run_id) VALUES ('p1', false, 'r1'), "
                   "('p2', false, 'r1')")
    ws.close()
    ro = socialens.open(path, read_only=True)
    assert ro.interrupted == []
    assert status(ro).runs.state.tolist() == ["unfinished"]
    ro.close()
    ws = socialens.open(path)
    assert [(r["run_id"], r["n_loaded"]) for r in ws.interrupted] == [("r1", 2)]
    assert ws.sql("SELECT n_read, n_loaded FROM ingest_runs").values.tolist() == [[2, 2]]
    ws.close()
    ws = socialens.open(path)
    assert ws.interrupted == []  # marked: not reconciled twice
    assert status(ws).runs.state.tolist() == ["interrupted"]
    ws.close()
