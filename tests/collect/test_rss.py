"""socialens collect rss against fake feeds (pytest-httpserver): conditional GET, gone feeds."""

from __future__ import annotations

import hashlib

import pytest
from werkzeug.wrappers import Response

from socialens.collect import collect
from socialens.collect.state import StateStore
from socialens.errors import CollectError
from tests.collect.conftest import raw_lines, write_roster


def rss(url: str, items: list[tuple[str, str, str]]) -> str:
    body = "".join(
        f"<item><title>{t}</title><link>{url}#{g}</link><guid>{url}#{g}</guid>"
        f"<pubDate>{d}</pubDate><category>Leadership</category>"
        f"<description>&lt;p&gt;Body of {t}&lt;/p&gt;</description></item>"
        for g, t, d in items)
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            'xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>Ada\'s blog</title>'
            f'<link>https://blog.acme.example/</link><atom:link href="{url}" rel="self" '
            f'type="application/rss+xml"/><description>CEO notes</description>{body}'
            '</channel></rss>')


class FakeFeed:
    def __init__(self, server, path):
        self.server, self.path = server, path
        self.items = [("1", "First", "Fri, 01 Mar 2024 09:00:00 GMT"),
                      ("2", "Second", "Sat, 02 Mar 2024 09:00:00 GMT")]
        self.calls = 0
        self.not_modified = 0
        server.expect_request(path).respond_with_handler(self.handle)

    @property
    def url(self):
        return self.server.url_for(self.path)

    def handle(self, request):
        self.calls += 1
        text = rss(self.url, self.items)
        etag = '"' + hashlib.sha1(text.encode()).hexdigest()[:12] + '"'
        if request.headers.get("If-None-Match") == etag:
            self.not_modified += 1
            return Response(status=304, headers={"ETag": etag})
        return Response(text, content_type="application/rss+xml",
                        headers={"ETag": etag, "Last-Modified": "Sat, 02 Mar 2024 09:00:00 GMT"})


@pytest.fixture
def feeds(httpserver, tmp_path):
    ada = FakeFeed(httpserver, "/ada/feed.xml")
    httpserver.expect_request("/gone/feed.xml").respond_with_data("gone", status=410)
    roster = write_roster(tmp_path / "roster.csv", [
        {"person_id": "p1", "name": "Ada", "blog": ada.url},
        {"person_id": "p2", "name": "Gone", "blog": httpserver.url_for("/gone/feed.xml")},
    ])
    return ada, roster


def run(ws, sleeps, **kw):
    return collect(ws, "rss", out=ws.path.parent / "raw", sleep=sleeps.append, seed=1, **kw)


def test_feed_collection_and_conditional_get(ws, feeds, sleeps):
    ada, roster = feeds
    rep = run(ws, sleeps, roster=roster)
    assert rep.complete
    assert {a.account: a.status for a in rep.accounts} == {
        f"blog:{ada.url}": "ok", f"blog:{ada.url.replace('ada', 'gone')}": "unavailable"}
    posts = ws.sql("SELECT * FROM posts ORDER BY created_at")
    assert posts.post_id.tolist() == [f"blog:{ada.url}#1", f"blog:{ada.url}#2"]
    assert set(posts.account_id) == {f"blog:{ada.url}"}
    assert ws.sql(f"SELECT person_id FROM accounts WHERE account_id='blog:{ada.url}'").person_id[0] == "p1"
    line = raw_lines(rep)[0]
    assert line["response"].startswith("<?xml") and line["_socialens"]["url"] == ada.url
    st = StateStore(ws, "blog").get(f"blog:{ada.url}")
    assert st.etag and str(st.newest_post_at) == "2024-03-02 09:00:00+00:00"

    rep2 = run(ws, sleeps)  # nothing changed: one request, 304, nothing written
    assert ada.not_modified == 1 and raw_lines(rep2) == []
    assert "not modified" in rep2.accounts[0].note

    ada.items.insert(0, ("3", "Third", "Sun, 03 Mar 2024 09:00:00 GMT"))
    rep3 = run(ws, sleeps)
    assert ws.sql("SELECT count(*) n FROM posts").n[0] == 3
    assert rep3.ingest_totals["loaded"] == 1 and rep3.ingest_totals["duplicate"] == 2


def test_feed_5xx_is_retried(ws, feeds, sleeps, httpserver):
    ada, roster = feeds
    original = ada.handle
    state = {"n": 0}

    def flaky(request):
        state["n"] += 1
        return Response("busy", status=503) if state["n"] == 1 else original(request)

    httpserver.clear()
    httpserver.expect_request("/ada/feed.xml").respond_with_handler(flaky)
    httpserver.expect_request("/gone/feed.xml").respond_with_data("gone", status=404)
    rep = run(ws, sleeps, roster=roster)
    assert rep.complete and rep.fetch["retries"] == 1 and len(sleeps) == 1
    assert ws.sql("SELECT count(*) n FROM posts").n[0] == 2


def test_base_url_is_refused_for_feeds(ws, sleeps):
    with pytest.raises(CollectError, match="does not apply to rss"):
        collect(ws, "rss", base_url="http://127.0.0.1:9")
