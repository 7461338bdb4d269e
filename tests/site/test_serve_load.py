"""``serve`` under load, without timing anything: pages and API answers kept per serve copy and
made afresh after a swap, one render for concurrent first requests, no handler blocking the event
loop (a slow render or query does not hold up a stylesheet: ordering, not milliseconds), the
analyses' lock not held against a second leader page, and the materialized posts identical to
``query_posts`` through the privacy views."""

from __future__ import annotations

import asyncio
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

import socialens
from socialens.site import app as app_module
from socialens.site.app import create_app
from socialens.site.build import Renderer
from socialens.site.model import query_posts
from tests.conftest import TINY_ORG

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

GATE_TIMEOUT = 20.0  # only reached when the test fails


@pytest.fixture
def split_ws(tmp_path):
    """The tiny organization's workspace with its first 300 posts, and a folder with the rest."""
    base, rest = tmp_path / "base", tmp_path / "rest"
    shutil.copytree(TINY_ORG, base)
    lines = (TINY_ORG / "posts.jsonl").read_text().splitlines(keepends=True)
    (base / "posts.jsonl").write_text("".join(lines[:300]))
    rest.mkdir()
    (rest / "posts.jsonl").write_text("".join(lines[300:]))
    path = tmp_path / "ws" / "org.duckdb"
    path.parent.mkdir()
    with socialens.open(path) as w:
        w.ingest(base)
    return path, rest


def _client(app):
    from fastapi.testclient import TestClient

    return TestClient(app)


async def _get_all(app, urls: list[str]):
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        return await asyncio.gather(*(c.get(u) for u in urls))


def test_pages_and_answers_are_kept_per_copy_and_made_afresh_after_a_swap(split_ws, monkeypatch):
    path, rest = split_ws
    renders = []
    real = Renderer.directory
    monkeypatch.setattr(Renderer, "directory", lambda self: renders.append(self) or real(self))
    app = create_app(path)
    live = app.app.state.socialens_live
    live.poll = 3600.0  # only refresh() swaps
    with _client(app) as c:
        first = c.get("/index.html")
        assert first.status_code == 200 and len(renders) == 1
        assert c.get("/index.html").content == first.content and len(renders) == 1  # kept
        old = live.current()
        assert old.renders == {"index": 1}
        posts_before = c.get("/api/posts?limit=1000").json()["items"]
        assert c.get("/api/posts?limit=1000").json()["items"] == posts_before  # kept answer
        assert ("posts", None, None, 1000, 0) in old._answers

        with socialens.open(path) as w:  # a writer publishes a newer copy
            w.ingest(rest)
        assert c.get("/index.html").content == first.content  # not swapped in yet
        assert live.refresh() is True
        new = live.current()
        assert new is not old and new.renders["index"] == 1  # rendered while loading the copy
        assert len(renders) == 2 and renders[-1] is new.renderer
        second = c.get("/index.html")
        assert second.content != first.content and len(renders) == 2  # the new copy's page
        assert second.content == new.cached("index")
        posts_after = c.get("/api/posts?limit=1000").json()["items"]
        assert len(posts_after) > len(posts_before)  # the answer kept for the old copy is gone
        assert new.posts.n == len(posts_after)


def test_concurrent_first_requests_render_a_page_once(xss_ws_path):
    app = create_app(xss_ws_path)
    state = app.app.state.socialens_live.current()
    responses = asyncio.run(_get_all(app, ["/feed.html"] * 8 + ["/index.html"] * 8))
    assert [r.status_code for r in responses] == [200] * 16
    assert len({r.content for r in responses[:8]}) == 1
    assert state.renders == {"feed": 1, "index": 1}


def _gated(real, entered: threading.Event, gate: threading.Event):
    """``real`` made slow: it says it was entered, then waits for the gate."""
    def slow(*args, **kw):
        entered.set()
        gate.wait(GATE_TIMEOUT)
        return real(*args, **kw)
    return slow


def _ordering(app, slow_url: str, fast_urls: list[str], entered: threading.Event,
              gate: threading.Event) -> list[str]:
    """Starts ``slow_url`` (which blocks in a worker until ``gate``), then asks the fast URLs;
    returns the order in which the responses arrived."""
    import httpx

    order: list[str] = []

    async def run():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            async def get(u):
                r = await c.get(u)
                assert r.status_code == 200, (u, r.text[:200])
                order.append(u)

            slow = asyncio.ensure_future(get(slow_url))
            for _ in range(int(GATE_TIMEOUT / 0.01)):  # until the slow work has started
                if entered.is_set() or slow.done():
                    break
                await asyncio.sleep(0.01)
            assert entered.is_set()
            await asyncio.gather(*(get(u) for u in fast_urls))
            gate.set()
            await slow

    asyncio.run(run())
    return order


def test_a_slow_page_render_does_not_hold_up_a_stylesheet(xss_ws_path):
    """The first render of the directory page runs in a worker thread: while it is stuck, the
    stylesheet, the API and a kept page are answered (a render on the event loop would hold them
    all until it finished)."""
    app = create_app(xss_ws_path)
    state = app.app.state.socialens_live.current()
    state.page("feed", state.renderer.feed)  # a kept page
    entered, gate = threading.Event(), threading.Event()
    state.renderer.directory = _gated(state.renderer.directory, entered, gate)
    fast = ["/assets/site.css", "/feed.html", "/api/people?limit=2"]
    order = _ordering(app, "/index.html", fast, entered, gate)
    assert sorted(order[:3]) == sorted(fast) and order[3] == "/index.html"
    assert gate.is_set()


def test_a_slow_posts_query_does_not_hold_up_a_stylesheet(xss_ws_path, monkeypatch):
    app = create_app(xss_ws_path)
    entered, gate = threading.Event(), threading.Event()
    monkeypatch.setattr(app_module, "query_posts", _gated(app_module.query_posts, entered, gate))
    fast = ["/assets/site.css", "/api/accounts?limit=3", "/subscriptions.opml"]
    order = _ordering(app, "/api/posts?limit=5", fast, entered, gate)
    assert sorted(order[:3]) == sorted(fast) and order[3] == "/api/posts?limit=5"


def test_a_second_leader_page_does_not_wait_for_the_analyses(xss_ws_path, monkeypatch):
    """The analyses' thread holds the workspace while it computes; a second leader page asks
    whether they are ready without waiting for that (it used to wait on the same lock)."""
    entered, gate = threading.Event(), threading.Event()
    monkeypatch.setattr(app_module, "run_analyses",
                        _gated(app_module.run_analyses, entered, gate))
    app = create_app(xss_ws_path)
    state = app.app.state.socialens_live.current()
    leaders = [p for p in state.d.people if p["leader"]]
    assert len(leaders) >= 2
    with _client(app) as c:
        for p in leaders[:2]:
            r = c.get(f"/people/{p['slug']}.html")
            assert r.status_code == 200 and "being computed" in r.text
            assert entered.wait(GATE_TIMEOUT)
        assert not gate.is_set() and state._results is None  # both answered meanwhile
        gate.set()
        state._background.join(GATE_TIMEOUT * 6)
        assert state._results is not None
        assert "being computed" not in c.get(f"/people/{leaders[1]['slug']}.html").text


def test_answers_are_dropped_least_recently_used_past_the_bound(xss_ws_path, monkeypatch):
    app = create_app(xss_ws_path)
    state = app.app.state.socialens_live.current()
    with _client(app) as c:
        one = len(c.get("/api/people?limit=1").content)
        monkeypatch.setattr(app_module, "API_CACHE_BYTES", 3 * one)
        for i in range(1, 7):
            assert c.get(f"/api/people?limit=1&offset={i}").status_code == 200
        assert state._answers_bytes <= 3 * one
        kept = [k[-1] for k in state._answers]  # the offsets: the most recent ones
        assert 2 <= len(kept) <= 4 and kept == list(range(7 - len(kept), 7))
        c.get("/api/people?limit=1&offset=5")  # used again: now the most recent
        assert [k[-1] for k in state._answers][-1] == 5


@pytest.mark.parametrize("include_all", [False, True])
def test_served_posts_are_query_posts_through_the_privacy_views(xss_ws_path, include_all):
    """The materialized posts answer every parameter combination exactly as ``query_posts``
    does on the restricted cursor (pseudonyms, hidden people's posts, XSS payloads included)."""
    app = create_app(xss_ws_path, include_all=include_all)
    state = app.app.state.socialens_live.current()
    cur = state.cursor()
    times = sorted({p["created_at"] for p in query_posts(cur, state.ids, limit=1000)})
    assert state.posts.n == len(query_posts(cur, state.ids, limit=1000)) > 10
    sinces = [None, datetime(1900, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC),
              *(datetime.fromisoformat(t) for t in times[:: max(1, len(times) // 5)])]
    checked = 0
    people = [None, "nobody", *state.ids[:: max(1, len(state.ids) // 10)]]
    with state.borrowed_cursor() as served_cur:
        for person in people:
            for since in sinces:
                for limit, offset in [(1000, 0), (2, 1), (5, 10**6)]:
                    kw = {"person": person, "since": since, "limit": limit, "offset": offset}
                    expected = query_posts(cur, state.ids, **kw)
                    assert state.posts.query(served_cur, **kw) == expected, kw
                    checked += bool(expected)
    assert checked > 20 and len(people) >= 10


def test_served_posts_live_in_an_in_memory_database_of_their_own(xss_ws_path):
    app = create_app(xss_ws_path)
    state = app.app.state.socialens_live.current()
    dbs = {r[0]: r[1] for r in state.ws.con.execute(
        "SELECT database_name, path FROM duckdb_databases()").fetchall()}
    assert state.posts.db in dbs and dbs[state.posts.db] is None  # nothing written to disk
    assert Path(state.ws.copy).parent.name.endswith(".serve")
