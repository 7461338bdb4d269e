"""socialens collect bluesky against a fake AppView (pytest-httpserver): no network."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from socialens.collect import collect
from socialens.collect.state import StateStore
from tests.collect.conftest import T0, raw_lines, write_roster

CEO, COO, DEV, GONE = "did:plc:ceo111", "did:plc:coo222", "did:plc:dev333", "did:plc:gone444"


@pytest.fixture
def org(bsky, tmp_path):
    """Four roster people: two with DIDs, one handle only, one suspended; posts and follows."""
    bsky.add_account(CEO, "ceo.acme.example", "Ada CEO", followers=1200, follows=3)
    bsky.add_account(COO, "coo.acme.example", "Bo COO", followers=300)
    bsky.add_account(DEV, "dev.acme.example", "Cy Dev", followers=40)
    bsky.add_account("did:plc:out999", "outsider.example", "Outsider")
    bsky.unavailable[GONE] = ("AccountTakedown", "Account has been suspended")
    for i in range(5):
        bsky.add_post(CEO, f"3kceo{i}", f"CEO post {i} #acme", T0 + timedelta(hours=i))
    bsky.add_post(COO, "3kcoo0", "COO hello", T0)
    bsky.add_post(CEO, "x", "", T0 + timedelta(hours=6), repost_of=(COO, "3kcoo0", T0))
    bsky.follows[CEO] = [COO, DEV, "did:plc:out999"]
    bsky.follows[COO] = [CEO]
    roster = write_roster(tmp_path / "roster.csv", [
        {"person_id": "p1", "name": "Ada", "title": "CEO", "level": "0", "start": "2020-01-01",
         "bluesky_did": CEO, "bluesky": "ceo.acme.example"},
        {"person_id": "p2", "name": "Bo", "title": "COO", "level": "0", "start": "2020-01-01",
         "bluesky_did": COO},
        {"person_id": "p3", "name": "Cy", "bluesky": "@dev.acme.example"},
        {"person_id": "p4", "name": "Di", "bluesky_did": GONE},
    ])
    return roster


def run(ws, bsky, sleeps, **kw):
    kw.setdefault("seed", 1)
    return collect(ws, "bluesky", base_url=bsky.url, out=ws.path.parent / "raw", sleep=sleeps.append,
                   **kw)


def test_first_collection(ws, bsky, org, sleeps):
    rep = run(ws, bsky, sleeps, roster=org)
    assert rep.complete and rep.stopped is None
    status = {a.account: a.status for a in rep.accounts}
    assert status == {f"bluesky:{CEO}": "ok", f"bluesky:{COO}": "ok", f"bluesky:{DEV}": "ok",
                      f"bluesky:{GONE}": "unavailable"}
    gone = rep.unavailable[0]
    assert "suspended" in gone.note and "AccountTakedown" in gone.note
    assert StateStore(ws, "bluesky").get(f"bluesky:{GONE}").status == "unavailable"
    # every request accounted for: 4 profiles; CEO feed 6 items / 2 per page = 3 pages, COO 1, DEV 1;
    # follows: CEO 3 / 2 = 2 pages, COO 1, DEV 1
    assert bsky.calls == {"getProfile": 4, "getAuthorFeed": 5, "getFollows": 4}
    assert rep.fetch["requests"] == 13 and rep.fetch["retries"] == 0 and sleeps == []
    # the handle-only roster entry was resolved and its account belongs to the person
    acc = ws.sql("SELECT account_id, person_id, handle FROM accounts WHERE platform='bluesky' "
                 "ORDER BY account_id").values.tolist()
    assert [f"bluesky:{DEV}", "p3", "dev.acme.example"] in acc
    assert [f"bluesky:{CEO}", "p1", "ceo.acme.example"] in acc
    # posts, the repost, dated snapshots at the retrieval time
    posts = ws.sql("SELECT post_id, account_id, repost_of FROM posts").set_index("post_id")
    assert sum(posts.account_id == f"bluesky:{CEO}") == 6
    assert f"bluesky:repost:{CEO}:at://{COO}/app.bsky.feed.post/3kcoo0" in posts.index
    snap = ws.sql(f"SELECT * FROM account_snapshots WHERE account_id='bluesky:{CEO}'")
    assert snap.followers.tolist() == [1200] and snap.posts_count.tolist() == [6]
    # the internal follow network: edges among roster accounts (and one to an outsider)
    e = ws.sql("SELECT e.src, e.dst FROM edges e JOIN accounts a ON a.account_id = e.dst "
               "WHERE e.kind='follows' AND a.person_id IS NOT NULL ORDER BY 1, 2").values.tolist()
    assert e == [[f"bluesky:{CEO}", f"bluesky:{COO}"], [f"bluesky:{CEO}", f"bluesky:{DEV}"],
                 [f"bluesky:{COO}", f"bluesky:{CEO}"]]
    # ingest read = loaded + duplicate + quarantined, nothing quarantined
    assert rep.ingest_totals["quarantined"] == 0
    assert all(f["read"] == f["loaded"] + f["duplicate"] + f["quarantined"] for f in rep.ingest)


def test_raw_pages_carry_provenance(ws, bsky, org, sleeps):
    rep = run(ws, bsky, sleeps, roster=org)
    lines = raw_lines(rep)
    assert len(lines) == 4 - 1 + 5 + 4  # profiles (one unavailable) + feed pages + follows pages
    for line in lines:
        meta = line["_socialens"]
        assert set(meta) >= {"url", "client", "retrieved_at"}
        assert meta["url"].startswith(bsky.url + "/xrpc/app.bsky.")
        assert meta["client"].startswith("socialens/") and "httpx/" in meta["client"]
        assert meta["retrieved_at"].endswith("Z")
    run_dir = ws.path.parent / "raw" / rep.run_id
    assert (run_dir / "INGESTED").exists()
    assert json.loads((run_dir / "report.json").read_text())["run_id"] == rep.run_id


def test_second_run_fetches_only_newer_posts(ws, bsky, org, sleeps):
    run(ws, bsky, sleeps, roster=org)
    bsky.calls.clear()
    bsky.add_post(CEO, "3kceo9", "CEO new post", T0 + timedelta(days=1))
    rep = run(ws, bsky, sleeps, follows=False)
    # one feed page per account suffices: it reaches the newest post of the last collection
    assert bsky.calls == {"getProfile": 4, "getAuthorFeed": 3}
    assert rep.ingest_totals["quarantined"] == 0
    n = ws.sql(f"SELECT count(*) n FROM posts WHERE account_id='bluesky:{CEO}'").n[0]
    assert n == 7
    st = StateStore(ws, "bluesky").get(f"bluesky:{CEO}")
    assert st.newest_post_id == f"at://{CEO}/app.bsky.feed.post/3kceo9" and st.cursor is None
    # snapshots are dated: one per run
    assert ws.sql(f"SELECT count(*) n FROM account_snapshots WHERE account_id='bluesky:{CEO}'").n[0] == 2


def test_nothing_new_costs_one_page(ws, bsky, org, sleeps):
    run(ws, bsky, sleeps, roster=org)
    bsky.calls.clear()
    run(ws, bsky, sleeps, follows=False)
    assert bsky.calls["getAuthorFeed"] == 3


class _Sleeps(list):
    """Records waits; really sleeps the short ones, so that the single-threaded fake server has
    finished the slow (timed-out) response before the retry arrives."""

    def append(self, seconds):
        super().append(seconds)
        if seconds < 1.0:
            import time

            time.sleep(seconds)


@pytest.mark.slow  # ~6 s: two real request timeouts of 1 s
def test_retry_after_5xx_and_timeouts(ws, bsky, org):
    sleeps = _Sleeps()
    bsky.fail("getAuthorFeed", [(429, {"Retry-After": "7"}), (503, {}), (502, {})])
    bsky.fail("getProfile", [("sleep", 1.2)])  # slower than the 1 s timeout
    rep = run(ws, bsky, sleeps, roster=org, timeout=1.0, max_retries=5)
    assert rep.complete
    assert rep.fetch["retries"] == 4
    # Retry-After is honoured exactly; the other waits are exponential backoff with jitter in
    # [0.5, 1] x 1, 2, 4 s, from a seeded generator (the same every run)
    assert sleeps[1] == 7
    assert 0.5 <= sleeps[0] <= 1 and 1 <= sleeps[2] <= 2 and 2 <= sleeps[3] <= 4
    assert rep.fetch["by_status"] == {"200": 12, "400": 1, "429": 1, "503": 1, "502": 1}
    again = _Sleeps()
    bsky.fail("getAuthorFeed", [(429, {"Retry-After": "7"}), (503, {}), (502, {})])
    bsky.fail("getProfile", [("sleep", 1.2)])
    run(ws, bsky, again, timeout=1.0, max_retries=5)
    assert again == sleeps  # seeded jitter: deterministic


def test_rate_limit_reset_header_is_honoured(ws, bsky, org, sleeps):
    import time as _time

    now = 1_800_000_000.0
    bsky.fail("getAuthorFeed", [(429, {"ratelimit-limit": "3000", "ratelimit-remaining": "0",
                                       "ratelimit-reset": str(int(now) + 42)})])
    run(ws, bsky, sleeps, roster=org, clock=lambda: now)
    assert sleeps == [42.0]
    assert _time.time() < now  # the fake clock is in the future: nothing really waited


def test_a_reset_too_far_away_stops_the_run_with_advice(ws, bsky, org, sleeps):
    bsky.fail("getAuthorFeed", [(429, {"Retry-After": "3600"})])
    rep = run(ws, bsky, sleeps, roster=org)
    assert not rep.complete and "run the collection again after" in rep.stopped
    assert sleeps == []


def test_interrupted_run_is_ingested_and_resumed_from_the_cursor(ws, bsky, org, sleeps):
    # the CEO's second feed page keeps failing: retries are exhausted and the run stops
    calls = {"n": 0}
    original = bsky.get_author_feed

    def flaky(request):
        calls["n"] += 1
        if request.args.get("cursor") and calls["n"] <= 10:
            from werkzeug.wrappers import Response

            return Response("oops", status=500)
        return original(request)

    bsky.get_author_feed = flaky
    bsky.server.clear()
    bsky.route("/xrpc/app.bsky.actor.getProfile", "getProfile", bsky.get_profile)
    bsky.route("/xrpc/app.bsky.feed.getAuthorFeed", "getAuthorFeed", flaky)
    bsky.route("/xrpc/app.bsky.graph.getFollows", "getFollows", bsky.get_follows)

    rep = run(ws, bsky, sleeps, roster=org, max_retries=2)
    assert not rep.complete and "giving up" in rep.stopped and "500" not in rep.stopped.split("after")[0]
    assert [a.status for a in rep.accounts] == ["error"]  # stopped at the first account
    assert len(sleeps) == 2  # two retries, then the budget is spent
    # the first page (2 posts) was written before the failure and is in the workspace
    assert ws.sql(f"SELECT count(*) n FROM posts WHERE account_id='bluesky:{CEO}'").n[0] >= 2
    st = StateStore(ws, "bluesky").get(f"bluesky:{CEO}")
    assert st.cursor is not None and st.sweep_newest_id is not None and st.newest_post_id is None
    saved = st.cursor

    calls["n"] = 100  # the server is healthy again
    bsky.calls.clear()
    bsky.seen.clear()
    bsky.add_post(CEO, "3kceo7", "posted while we were down", T0 + timedelta(days=2))
    rep2 = run(ws, bsky, sleeps)
    assert rep2.complete
    cursors = [args.get("cursor") for ep, args, _ in bsky.seen
               if ep == "getAuthorFeed" and args["actor"] == CEO]
    assert cursors[0] == saved  # continues where it stopped, down to the end of the feed
    assert cursors[-1] is None and cursors.count(None) == 1  # then one page for what is new
    n = ws.sql(f"SELECT count(*) n FROM posts WHERE account_id='bluesky:{CEO}'").n[0]
    assert n == 7  # 5 posts + repost + the new one: nothing lost
    st = StateStore(ws, "bluesky").get(f"bluesky:{CEO}")
    assert st.cursor is None and st.newest_post_id == f"at://{CEO}/app.bsky.feed.post/3kceo7"


def test_max_pages_backfills_over_several_runs(ws, bsky, org, sleeps):
    rep = run(ws, bsky, sleeps, roster=org, max_pages=1, follows=False)
    ceo = next(a for a in rep.accounts if a.account == f"bluesky:{CEO}")
    assert ceo.status == "partial" and "max_pages" in ceo.note
    run(ws, bsky, sleeps, max_pages=1, follows=False)
    run(ws, bsky, sleeps, max_pages=1, follows=False)
    assert ws.sql(f"SELECT count(*) n FROM posts WHERE account_id='bluesky:{CEO}'").n[0] == 6
    assert StateStore(ws, "bluesky").get(f"bluesky:{CEO}").cursor is None


def test_a_run_killed_before_ingest_is_ingested_next_time(ws, bsky, org, sleeps):
    rep = run(ws, bsky, sleeps, roster=org)
    run_dir = ws.path.parent / "raw" / rep.run_id
    (run_dir / "INGESTED").unlink()
    ws.con.execute("DELETE FROM posts")
    rep2 = run(ws, bsky, sleeps, follows=False)
    assert rep2.recovered == [str(run_dir)]
    assert ws.sql("SELECT count(*) n FROM posts").n[0] == 7


def test_no_roster_accounts_is_a_note(ws, bsky, sleeps):
    rep = run(ws, bsky, sleeps)
    assert rep.accounts == [] and "no bluesky accounts" in rep.notes[0]
