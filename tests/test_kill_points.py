"""``kill -9`` during ingest, enrich and collect, then the same command again, gives the tables of
an uninterrupted run (issue 15, item 2); the killed run is accounted for.

Each trial is a real ``socialens`` process (forked from one helper, see :mod:`tests.killpoints`)
stopped at a named point of its work and killed there with SIGKILL; the workspace is then opened
(which reconciles an unfinished ingest run), its bookkeeping checked, the same command run again,
and every table's rows compared — as SHA-256 digests of the sorted rows, run ids and the times a
run stamps (``computed_at``, ``last_run_at``...) aside — with those of an uninterrupted run. The
figures go to EVALUATION.md ("Kill points (kill -9 and re-run)").
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

import socialens
from tests.killpoints import Helper, after, before, checkpoint

pytestmark = [pytest.mark.skipif(not hasattr(os, "fork") or not Path("/proc/self/stat").exists(),
                                 reason="needs os.fork and /proc (Linux)"),
              pytest.mark.slow]

HERE = "tests.test_kill_points"

#: columns that differ between two runs over the same data by construction: the run's id and the
#: times it stamps (bookkeeping, not data)
MASKED = {"post_features": ("computed_at",), "schema_migrations": ("applied_at",),
          "collect_state": ("last_run_at", "last_ok_at"), "forgotten": ("forgotten_at",)}
#: ingest_runs is the bookkeeping itself (a killed run adds a row): checked by _check_runs
NOT_COMPARED = ("ingest_runs",)


# -- hooks, installed in the forked child before it runs the command -----------------------------
_current = {"target": None}


def _transaction_hooks() -> None:
    """``commit T`` (inside a transaction, before COMMIT) and ``committed T`` (after it), T the
    work going on (``_current["target"]``)."""
    import contextlib

    from socialens.workspace import Workspace

    tx = Workspace.transaction

    @contextlib.contextmanager
    def transaction(self):
        with tx(self) as con:
            _current["in_tx"] = True
            try:
                yield con
                checkpoint(f"commit {_current['target']}")
            finally:
                _current["in_tx"] = False
        checkpoint(f"committed {_current['target']}")
    Workspace.transaction = transaction


def enrich_hooks() -> None:
    """``tone`` (a batch being computed, in this process: one worker), ``got batch`` (a batch's
    features computed, by this process or the pool, not yet written), ``commit enrich`` /
    ``committed enrich`` (around each batch's COMMIT)."""
    import socialens.enrich.runner as runner

    _current["target"] = "enrich"
    runner.tone_scores = before(runner.tone_scores, lambda *a: "tone")
    computed = runner._computed

    def computed_batches(batches, kwargs, workers):
        for item in computed(batches, kwargs, workers):
            checkpoint("got batch")
            yield item
    runner._computed = computed_batches
    _transaction_hooks()


def ingest_hooks(batch_size: int) -> None:
    """Checkpoints through the loader: ``begin T`` (run recorded), ``flushed T`` (a batch staged,
    inside its transaction), ``quarantined T`` (quarantine rows written), ``finish T`` (counts
    written, before the last commit), ``commit T`` / ``committed T`` (around every COMMIT),
    ``loaded T`` (the file done), ``interactions`` (before deriving the interaction edges)."""
    import socialens.ingest.loader as loader
    import socialens.network as network

    loader.BATCH_SIZE = batch_size
    L = loader.Loader

    def run(self, records):
        _current["target"] = self.report.target
        result = run.orig(self, records)
        checkpoint(f"loaded {self.report.target}")
        return result
    run.orig = L.run
    L.run = run
    L._begin = after(L._begin, lambda self, *_: f"begin {self.report.target}")
    L._flush = after(L._flush, lambda self: f"flushed {self.report.target}")
    L._finish = after(L._finish, lambda self, *_: f"finish {self.report.target}")

    def flush_quarantine(self):
        pending = bool(self._quarantine)
        flush_quarantine.orig(self)
        if pending:
            where = "in batch" if _current.get("in_tx") else "alone"
            checkpoint(f"quarantined {self.report.target} {where}")
    flush_quarantine.orig = L._flush_quarantine
    L._flush_quarantine = flush_quarantine

    def derive(ws):
        _current["target"] = "interactions"
        checkpoint("interactions")
        return derive.orig(ws)
    derive.orig = network.derive_interactions
    network.derive_interactions = derive

    _transaction_hooks()


# -- comparing workspaces -----------------------------------------------------------------------
def table_rows(path: Path) -> dict[str, list[str]]:
    """Every table's rows (run ids and run time stamps aside), sorted, as text."""
    with socialens.open(path, read_only=True) as ws:
        out = {}
        for t in ws.table_names():
            if t in NOT_COMPARED:
                continue
            cols = [r[0] for r in ws.con.execute(f'DESCRIBE "{t}"').fetchall()
                    if r[0] != "run_id" and r[0] not in MASKED.get(t, ())]
            sel = ", ".join(f'"{c}"' for c in cols)
            out[t] = sorted(repr(r) for r in ws.con.execute(f'SELECT {sel} FROM "{t}"').fetchall())
        return out


def digests(rows: dict[str, list[str]]) -> dict[str, str]:
    return {t: hashlib.sha256("\n".join(r).encode()).hexdigest()[:16] for t, r in rows.items()}


def assert_same_tables(got: dict, want: dict) -> None:
    if digests(got) == digests(want):
        return
    lines = []
    for t in sorted(set(got) | set(want)):
        a, b = set(got.get(t, [])), set(want.get(t, []))
        if got.get(t) != want.get(t):
            lines.append(f"{t}: {len(got.get(t, []))} rows vs {len(want.get(t, []))}; extra "
                         f"{sorted(a - b)[:3]}, missing {sorted(b - a)[:3]}")
    raise AssertionError("tables differ from the uninterrupted run:\n" + "\n".join(lines))


def check_runs(path: Path) -> dict[str, int]:
    """Every ingest run finished or marked interrupted, balanced (read = loaded + duplicate +
    quarantined), its loaded count the rows pointing to it; returns {state: n}."""
    from socialens.ingest.loader import TARGETS

    with socialens.open(path, read_only=True) as ws:
        runs = ws.sql("SELECT * FROM ingest_runs")
        states = {"finished": 0, "interrupted": 0}
        for r in runs.itertuples():
            interrupted = r.options is not None and "interrupted" in json.loads(r.options)
            assert r.finished_at is not None or interrupted, f"run {r.run_id} left unfinished"
            states["interrupted" if interrupted else "finished"] += 1
            assert r.n_read == r.n_loaded + r.n_duplicate + r.n_quarantined, r
            table = TARGETS[r.target].table
            record = " AND coalesce(collected_as, 'record') = 'record'" if table == "posts" else ""
            rows = ws.con.execute(f'SELECT count(*) FROM "{table}" WHERE run_id = ?{record}',
                                  [r.run_id]).fetchone()[0]
            assert rows == r.n_loaded, (r.run_id, r.target, rows, r.n_loaded)
            q = ws.con.execute("SELECT count(*) FROM quarantine WHERE run_id = ?",
                               [r.run_id]).fetchone()[0]
            assert q <= r.n_quarantined, (r.run_id, q, r.n_quarantined)
        return states


# -- the organization ---------------------------------------------------------------------------
TEXTS = ["Great day with the team at the offsite :) @{h} #acme",
         "My daughter's first recital tonight, so proud",
         "Quarterly results are out: revenue up 12% https://acme.example/q3 #acme",
         "Thanks @{h} for the review, merging now",
         "Feeling terrible about the outage yesterday. We will do better.",
         "Weekend hike with my dog, beautiful weather #outdoors",
         "Nous lançons notre nouveau produit aujourd'hui",
         "Hiring: senior data engineer, remote OK https://acme.example/jobs #hiring"]
N_POSTS = 120


def small_org(tmp: Path) -> Path:
    """Three people and an outsider (and 12 account rows of an unknown kind: more than a batch
    of quarantine rows, so these are written outside a batch's transaction), 120 posts
    (mentions, replies, a repost; English and not) with 16 broken lines among them and one post
    twice; follows."""
    folder = tmp / "org"
    folder.mkdir()
    (folder / "people.csv").write_text("person_id,name,department,opt_in\nceo,Ada,Exec,true\n"
                                       "dev,Bo,Eng,true\nops,Cy,Ops,false\n")
    (folder / "roles.csv").write_text("person_id,title,level,is_leader,start_at\n"
                                      "ceo,CEO,0,true,2020-01-01\ndev,Engineer,2,false,2020-01-01\n")
    handles = {"twitter:1": "ada", "twitter:2": "bo", "twitter:3": "cy", "twitter:9": "out"}
    (folder / "accounts.csv").write_text(  # and 12 rows of an unknown kind, in a run
        "account_id,person_id,platform,handle,kind\n" + "".join(
            f"{a},{p},twitter,{h},personal\n"
            for (a, h), p in zip(handles.items(), ["ceo", "dev", "ops", ""], strict=True))
        + "".join(f"twitter:{50 + i},,twitter,bot{i},robot\n" for i in range(12)))
    lines = []
    for i in range(N_POSTS):
        author = f"twitter:{1 + i % 3}"
        other = handles[f"twitter:{1 + (i + 1) % 3}"]
        rec = {"post_id": f"twitter:{1000 + i}", "account_id": author,
               "created_at": f"2024-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
               "text": TEXTS[i % len(TEXTS)].format(h=other)}
        if i % 7 == 3:
            rec["reply_to_post_id"] = f"twitter:{1000 + i - 1}"
            rec["reply_to_account_id"] = f"twitter:{1 + (i - 1) % 3}"
        if i == 50:
            rec["repost_of"] = "twitter:1001"
        lines.append(json.dumps(rec))
        for j in range(12 if i == 30 else 1 if i in (5, 17, 61, 99) else 0):  # 16
            lines.append('{"post_id": "twitter:broken' + f"{i}-{j}")
    lines.append(lines[10])
    (folder / "posts.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "edges.csv").write_text("src,dst,kind,weight,observed_at\n"
                                      "twitter:2,twitter:1,follows,1,2024-01-01T00:00:00Z\n"
                                      "twitter:3,twitter:1,follows,1,2024-01-01T00:00:00Z\n"
                                      "twitter:1,twitter:9,follows,1,2024-01-01T00:00:00Z\n")
    return folder


INGEST_BATCH = 10
PRELOAD = ["socialens.ingest", "socialens.network", "socialens.forget", "socialens.serve_copy",
           "ibis", "ibis.backends.duckdb", "rich.progress", "rich.table", "socialens.enrich",
           "socialens.enrich.runner:load_models"]


@pytest.fixture(scope="module")
def helper(tmp_path_factory):
    h = Helper(tmp_path_factory.mktemp("helper"), preload=[HERE, *PRELOAD])
    yield h
    h.close()


@pytest.fixture(scope="module")
def ingest_setup(tmp_path_factory, helper):
    tmp = tmp_path_factory.mktemp("ingest")
    folder = small_org(tmp)
    empty = tmp / "empty.duckdb"
    socialens.open(empty).close()  # every trial starts from a copy (migrations done once)
    ref = tmp / "ref.duckdb"
    shutil.copy(empty, ref)
    res = helper.run(["ingest", folder, "-w", ref], hooks=[(f"{HERE}:ingest_hooks", INGEST_BATCH)])
    assert res["code"] == 0
    want = table_rows(ref)
    assert len(want["posts"]) == N_POSTS and len(want["quarantine"]) == 16 + 12
    assert sum("'mention'" in r for r in want["edges"]) == 30  # derived from the posts
    assert check_runs(ref) == {"finished": 5, "interrupted": 0}
    return tmp, empty, folder, want, res["steps"]


# (checkpoint prefix, nth): spread over the files, the batches, the transactions and what follows
INGEST_STOPS = [
    ("begin people", 1),             # the first run recorded, nothing loaded
    ("flushed accounts", 1),         # a batch staged inside its transaction, not committed
    ("loaded accounts", 1),          # between files
    ("begin posts", 1),              # the posts run recorded, before its first batch
    ("committed posts", 1),          # after the first committed batch
    ("quarantined posts in", 2),     # quarantine rows written inside batch 2's transaction
    ("quarantined accounts alone", 1),  # 10 quarantine rows written outside a transaction
    ("commit posts", 4),             # inside the fourth batch's transaction, before COMMIT
    ("committed posts", 7),          # after the seventh batch
    ("finish posts", 1),             # counts written, inside the last transaction
    ("loaded posts", 1),             # posts done, edges not begun
    ("flushed edges", 1),            # inside the last file's transaction
    ("interactions", 1),             # every file loaded, the interaction edges not derived
    ("commit interactions", 1),      # inside the interactions' transaction
]


@pytest.mark.parametrize("prefix,nth", INGEST_STOPS, ids=[f"{p}-{n}" for p, n in INGEST_STOPS])
def test_killed_ingest_then_rerun_equals_uninterrupted(ingest_setup, helper, tmp_path, prefix,
                                                       nth):
    _, empty, folder, want, ref_steps = ingest_setup
    assert sum(s.startswith(prefix) for s in ref_steps) >= nth  # the point exists
    path = tmp_path / "ws.duckdb"
    shutil.copy(empty, path)
    argv = ["ingest", folder, "-w", path]
    hooks = [(f"{HERE}:ingest_hooks", INGEST_BATCH)]
    helper.kill(helper.stop_at(argv, (prefix, nth), hooks))
    # the next open marks an unfinished run interrupted and reconciles its counts with its rows
    with socialens.open(path) as ws:
        interrupted = ws.interrupted
        posts_loaded = ws.count("posts")
        quarantined = dict(ws.con.execute("SELECT run_id, count(*) FROM quarantine "
                                          "GROUP BY ALL").fetchall())
    assert check_runs(path)["interrupted"] == len(interrupted)
    if prefix.startswith(("loaded", "interactions", "commit interactions")):
        assert interrupted == []  # killed between runs: every run finished
    else:  # killed inside a file's run: marked interrupted, its counts those of its rows
        [run] = interrupted
        assert run["target"] == prefix.split()[1]
        if prefix == "committed posts":
            assert posts_loaded == run["n_loaded"] == INGEST_BATCH * nth
        if prefix.startswith("quarantined"):  # rolled back with its batch, or kept
            # 10 rows written alone: kept; batch 2's rolled back with it, batch 1's (1) kept
            assert run["n_quarantined"] == quarantined.get(run["run_id"]) == (
                INGEST_BATCH if "alone" in prefix else 1)
    res = helper.run(argv, hooks=hooks)
    assert res["code"] == 0
    assert_same_tables(table_rows(path), want)
    assert check_runs(path)["interrupted"] == len(interrupted)


# -- enrich ---------------------------------------------------------------------------------------
ENRICH_BATCH = 10


@pytest.fixture(scope="module")
def enrich_setup(ingest_setup, helper, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("enrich")
    ingested = ingest_setup[0] / "ref.duckdb"
    ref = tmp / "ref.duckdb"
    shutil.copy(ingested, ref)
    res = helper.run(_enrich_argv(ref, 1), hooks=[(f"{HERE}:enrich_hooks",)])
    assert res["code"] == 0 and res["steps"].count("committed enrich") == N_POSTS // ENRICH_BATCH
    want = table_rows(ref)
    assert len(want["post_features"]) == N_POSTS
    return ingested, want


def _enrich_argv(path: Path, workers: int) -> list:
    return ["enrich", "-w", path, "--batch-size", ENRICH_BATCH, "--workers", workers, "--json"]


# (checkpoint prefix, nth, workers): mid-batch, inside and after a batch's transaction, from the
# first batch to the last; with two workers the pool is computing the next batches meanwhile
ENRICH_STOPS = [
    ("tone", 1, 1),               # computing the first batch, nothing written
    ("commit enrich", 1, 1),      # the first batch written, inside its transaction
    ("committed enrich", 1, 1),   # after the first batch
    ("got batch", 4, 1),          # batch 4 computed, not written
    ("tone", 6, 1),               # computing batch 6
    ("commit enrich", 8, 1),      # inside batch 8's transaction
    ("committed enrich", 9, 1),   # after batch 9
    ("tone", 12, 1),              # computing the last batch
    ("commit enrich", 12, 1),     # inside the last batch's transaction (the run not over)
    ("got batch", 1, 2),          # 2 workers: the first batch back, the others in flight
    ("committed enrich", 5, 2),   # 2 workers: after batch 5, batches 6-9 in flight
]


def _committed_before(prefix: str, nth: int) -> int:
    """Batches the killed run had committed at its stop."""
    return nth if prefix == "committed enrich" else nth - 1


@pytest.mark.parametrize("prefix,nth,workers", ENRICH_STOPS,
                         ids=[f"{p}-{n}-w{w}" for p, n, w in ENRICH_STOPS])
def test_killed_enrich_then_rerun_equals_uninterrupted(enrich_setup, helper, tmp_path, prefix, nth,
                                                       workers):
    ingested, want = enrich_setup
    path = tmp_path / "ws.duckdb"
    shutil.copy(ingested, path)
    argv = _enrich_argv(path, workers)
    hooks = [(f"{HERE}:enrich_hooks",)]
    helper.kill(helper.stop_at(argv, (prefix, nth), hooks))
    if workers > 1:
        assert len(helper.pool) >= workers  # the pool was running (and ended with the kill)
    done = ENRICH_BATCH * _committed_before(prefix, nth)
    with socialens.open(path, read_only=True) as ws:  # what the killed run committed, whole
        assert ws.count("post_features") == done
        assert ws.con.execute("SELECT count(DISTINCT post_id) FROM post_features").fetchone()[0] \
            == done
    out = tmp_path / "enrich.json"
    res = helper.run(argv, hooks=hooks, out=out)
    assert res["code"] == 0
    again = json.loads(out.read_text())
    assert (again["enriched"], again["skipped_already_done"]) == (N_POSTS - done, done)
    assert_same_tables(table_rows(path), want)
