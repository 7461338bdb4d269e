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
from tests.killpoints import Helper, after, before, checkpoint, kill_points

pytestmark = [pytest.mark.skipif(not hasattr(os, "fork") or not Path("/proc/self/stat").exists(),
                                 reason="needs os.fork and /proc (Linux)"),
              pytest.mark.slow]

HERE = "tests.test_kill_points"

#: columns that differ between two runs over the same data by construction: the run's id and the
#: times it stamps (bookkeeping, not data)
MASKED = {"post_features": ("computed_at",), "schema_migrations": ("applied_at",),
          "collect_state": ("last_run_at", "last_ok_at"), "forgotten": ("forgotten_at",)}
#: which run loaded a row, and from which line of its file: a killed collection's pages are split
#: over two runs' raw files, so their line numbers differ
PROVENANCE = ("run_id", "source_line")
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
    """Every table's rows (provenance and run time stamps aside), sorted, as text."""
    with socialens.open(path, read_only=True) as ws:
        out = {}
        for t in ws.table_names():
            if t in NOT_COMPARED:
                continue
            cols = [r[0] for r in ws.con.execute(f'DESCRIBE "{t}"').fetchall()
                    if r[0] not in PROVENANCE and r[0] not in MASKED.get(t, ())]
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
            # posts: a post first loaded embedded in another's record (a reposted original) that
            # arrives as a record of its own later is marked a record but keeps its first run
            assert rows == r.n_loaded or (table == "posts" and rows > r.n_loaded), \
                (r.run_id, r.target, rows, r.n_loaded)
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


@pytest.mark.parametrize("prefix,nth", kill_points(INGEST_STOPS, {0, 7, 9, 12},
                                                 lambda p, n: f"{p}-{n}"))
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


@pytest.mark.parametrize("prefix,nth,workers", kill_points(ENRICH_STOPS, {1, 3, 10},
                                                         lambda p, n, w: f"{p}-{n}-w{w}"))
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


# -- collect --------------------------------------------------------------------------------------
FROZEN = "2024-03-05T12:00:00+00:00"  # the retrieval time of every run (a run's time stamp)


def collect_hooks(batch_size: int) -> None:
    """The loader's checkpoints (the raw pages are ingested at the end) and ``fetched E`` (a
    response in memory, not written), ``wrote K`` (a page fsynced to ``K.jsonl``), ``torn K`` (half
    of a page's line written), ``cursor saved`` / ``sweep started`` / ``mark raised`` /
    ``account done`` (collect_state committed), ``ingest dir`` / ``ingested dir`` (around a run
    folder's ingest). Every run retrieves at the same (frozen) time, so a re-fetched profile or
    follows page is the same observation (a run's time stamp, like its id, aside)."""
    from datetime import datetime

    import socialens.collect.base as base
    import socialens.collect.collector as collector
    from socialens.collect.state import StateStore

    ingest_hooks(batch_size)
    fixed = datetime.fromisoformat(FROZEN)
    base.utc_now = collector.utc_now = lambda: fixed
    base.Fetcher.get = after(base.Fetcher.get,
                             lambda self, url, *a: f"fetched {url.rsplit('.', 1)[-1]}")

    class Torn:
        def __init__(self, f):
            self.f = f

        def write(self, s):
            self.f.write(s[:len(s) // 2])
            self.f.flush()
            checkpoint(f"torn {Path(self.f.name).stem}")
            return self.f.write(s[len(s) // 2:])

        def __getattr__(self, name):
            return getattr(self.f, name)

    write = base.RawWriter.write

    def raw_write(self, *a, **k):
        write(self, *a, **k)
        if not isinstance(self._f, Torn):
            self._f = Torn(self._f)  # from the second page of each file on
        checkpoint(f"wrote {self.path.stem}")
    base.RawWriter.write = raw_write
    update = StateStore.update

    def state_update(self, account_id, **changes):
        st = update(self, account_id, **changes)
        if set(changes) == {"cursor"}:
            checkpoint("cursor saved")
        elif "newest_post_id" in changes:
            checkpoint("mark raised")
        elif changes.get("sweep_newest_id"):
            checkpoint("sweep started")
        elif "last_ok_at" in changes:
            checkpoint("account done")
        return st
    StateStore.update = state_update
    ingest_dir = collector.Collector._ingest_dir
    collector.Collector._ingest_dir = after(before(ingest_dir, lambda *a: "ingest dir"),
                                            lambda *a: "ingested dir")


@pytest.fixture(scope="module")
def bsky_server():
    from pytest_httpserver import HTTPServer

    from tests.collect.conftest import FakeBluesky

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield FakeBluesky(server)
    finally:
        server.clear()
        server.stop()


CEO, COO, DEV = "did:plc:ceo111", "did:plc:coo222", "did:plc:dev333"


@pytest.fixture(scope="module")
def collect_setup(bsky_server, helper, tmp_path_factory):
    from datetime import timedelta

    from tests.collect.conftest import T0, write_roster

    bsky = bsky_server
    bsky.add_account(CEO, "ceo.acme.example", "Ada CEO", followers=1200, follows=3)
    bsky.add_account(COO, "coo.acme.example", "Bo COO", followers=300)
    bsky.add_account(DEV, "dev.acme.example", "Cy Dev", followers=40)
    bsky.add_account("did:plc:out999", "outsider.example", "Outsider")
    for i in range(7):
        bsky.add_post(CEO, f"3kceo{i}", f"CEO post {i} #acme @coo.acme.example",
                      T0 + timedelta(hours=i))
    for i in range(3):
        bsky.add_post(COO, f"3kcoo{i}", f"COO hello {i}", T0 + timedelta(hours=i, minutes=30))
    bsky.add_post(CEO, "x", "", T0 + timedelta(hours=9), repost_of=(COO, "3kcoo0", T0))
    bsky.add_post(DEV, "3kdev0", "first post", T0)
    bsky.follows[CEO] = [COO, DEV, "did:plc:out999"]
    bsky.follows[COO] = [CEO]
    tmp = tmp_path_factory.mktemp("collect")
    roster = write_roster(tmp / "roster.csv", [
        {"person_id": "p1", "name": "Ada", "title": "CEO", "level": "0", "start": "2020-01-01",
         "bluesky_did": CEO},
        {"person_id": "p2", "name": "Bo", "bluesky_did": COO},
        {"person_id": "p3", "name": "Cy", "bluesky": "@dev.acme.example"},
    ])
    base = tmp / "base.duckdb"
    with socialens.open(base) as ws:
        ws.ingest(roster)
    ref = tmp / "ref.duckdb"
    shutil.copy(base, ref)
    first = helper.run(_collect_argv(ref, bsky), hooks=[(f"{HERE}:collect_hooks", 2)])
    assert first["code"] == 0
    want = table_rows(ref)
    # a second run of a finished collection changes nothing (the same command, as after a kill)
    assert helper.run(_collect_argv(ref, bsky), hooks=[(f"{HERE}:collect_hooks", 2)])["code"] == 0
    assert_same_tables(table_rows(ref), want)
    assert len([r for r in want["posts"] if "bluesky:at://" in r or "repost" in r]) == 12
    assert all("None, None, None, None, None, 'ok'" in r for r in want["collect_state"]), \
        want["collect_state"]
    return base, want, first["steps"]


def _collect_argv(path: Path, bsky) -> list:
    return ["collect", "bluesky", "-w", path, "--base-url", bsky.url,
            "--out", path.parent / f"{path.stem}.raw", "--json"]


# (checkpoint prefix, nth): fetched / written / state saved, page by page over three accounts,
# a torn page line, the follows, and the ingest of the raw pages at the end
COLLECT_STOPS = [
    ("fetched getProfile", 1),     # the first response in memory, nothing on disk
    ("wrote profiles", 1),         # a profile page on disk, the state not updated
    ("sweep started", 1),          # the first page of posts on disk, its sweep recorded
    ("fetched getAuthorFeed", 2),  # the second page fetched, not written
    ("wrote posts", 2),            # the second page on disk, its cursor not saved
    ("cursor saved", 2),           # the cursor after the second page saved
    ("torn posts", 3),             # half of the fourth page's line on disk
    ("mark raised", 1),            # the first account's sweep done, follows not fetched
    ("wrote follows", 2),          # between two follows pages
    ("account done", 2),           # the second account done, the third not begun
    ("ingest dir", 1),             # every page on disk, nothing ingested
    ("committed posts", 2),        # ingesting the pages: two batches of posts committed
    ("ingested dir", 1),           # ingested, the run's report not written
]


@pytest.mark.parametrize("prefix,nth", kill_points(COLLECT_STOPS, {4, 6, 10, 12},
                                                 lambda p, n: f"{p}-{n}"))
def test_killed_collect_then_rerun_equals_uninterrupted(collect_setup, bsky_server, helper,
                                                        tmp_path, prefix, nth):
    base, want, ref_steps = collect_setup
    assert sum(s.startswith(prefix) for s in ref_steps) >= nth  # the point exists
    path = tmp_path / "ws.duckdb"
    shutil.copy(base, path)
    argv = _collect_argv(path, bsky_server)
    hooks = [(f"{HERE}:collect_hooks", 2)]
    helper.kill(helper.stop_at(argv, (prefix, nth), hooks))
    [killed] = (path.parent / "ws.raw").iterdir()
    with socialens.open(path) as ws:  # reconciles an ingest the kill cut short
        cursors = [c for (c,) in ws.con.execute(
            "SELECT cursor FROM collect_state WHERE cursor IS NOT NULL").fetchall()]
    # a saved cursor is that of a page whose line is whole on disk: the pages above it are kept
    saved = set()
    for f in killed.glob("*.jsonl"):
        for line in f.read_text().splitlines(keepends=True):
            if line.endswith("\n"):
                saved.add((json.loads(line)["response"] or {}).get("cursor"))
    assert set(cursors) <= saved, (cursors, saved)
    check_runs(path)
    pending = not (killed / "INGESTED").exists() and any(killed.iterdir())
    out = tmp_path / "collect.json"
    res = helper.run(argv, hooks=hooks, out=out)
    assert res["code"] == 0
    rep = json.loads(out.read_text())
    assert rep["recovered"] == ([str(killed)] if pending else [])  # ingested first
    if pending:  # and recorded as interrupted where the run is kept
        note = json.loads((killed / "report.json").read_text())
        assert not note["complete"] and note["stopped"].startswith("interrupted")
        assert note["torn_pages_dropped"] == (["posts"] if prefix == "torn posts" else [])
        assert (killed / "INGESTED").exists()
    assert_same_tables(table_rows(path), want)  # no post skipped or doubled, the same state
    check_runs(path)
