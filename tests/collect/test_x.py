"""socialens collect x against a fake X API v2 (pytest-httpserver): no network."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.wrappers import Response

from socialens.collect import collect
from socialens.errors import CollectError
from tests.collect.conftest import T0, iso, raw_lines, write_roster

TOKEN = "AAAAAAAAAAAAAAAAAAAAAfakeBearer%2Fsecret"


class FakeX:
    """``/2/users/:id``, ``/2/users/by/username/:u``, ``/2/users/:id/tweets``, ``.../following``."""

    def __init__(self, server, page_size=2):
        self.server, self.page_size = server, page_size
        self.users = {}
        self.tweets = {}  # user id -> newest first
        self.following = {}
        self.suspended = set()
        self.follows_forbidden = False  # X's answer to an app without Enterprise access
        self.calls = []
        self._id = 1_760_000_000_000_000_000
        for pat, fn in ((r"^/2/users/by/username/\w+$", self.by_username),
                        (r"^/2/users/\d+$", self.user), (r"^/2/users/\d+/tweets$", self.timeline),
                        (r"^/2/users/\d+/following$", self.follows)):
            server.expect_request(re.compile(pat)).respond_with_handler(self._wrap(fn))

    def _wrap(self, fn):
        def h(request):
            self.calls.append((request.path, dict(request.args), dict(request.headers)))
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return Response(json.dumps({"title": "Unauthorized", "status": 401}), status=401)
            return fn(request)
        return h

    @property
    def url(self):
        return self.server.url_for("").rstrip("/")

    def add_user(self, uid, username, followers=10):
        self.users[uid] = {"id": uid, "username": username, "name": username.title(),
                           "created_at": "2012-01-01T00:00:00.000Z", "description": "",
                           "protected": False,
                           "public_metrics": {"followers_count": followers, "following_count": 1,
                                              "tweet_count": 0, "listed_count": 0}}
        self.tweets[uid] = []

    def add_tweet(self, uid, text, at):
        self._id += 1
        self.tweets[uid].insert(0, {"id": str(self._id), "text": text, "author_id": uid,
                                    "created_at": iso(at), "edit_history_tweet_ids": [str(self._id)],
                                    "lang": "en", "public_metrics": {"retweet_count": 0,
                                    "reply_count": 0, "like_count": 1, "quote_count": 0}})
        self.users[uid]["public_metrics"]["tweet_count"] += 1

    def _json(self, body):
        return Response(json.dumps(body), content_type="application/json",
                        headers={"x-rate-limit-limit": "900", "x-rate-limit-remaining": "899",
                                 "x-rate-limit-reset": "1900000000"})

    def _user_or_error(self, uid, name):
        if uid in self.suspended:
            return self._json({"errors": [{"parameter": "id", "resource_id": uid, "value": uid,
                                           "detail": f"User has been suspended: [{uid}].",
                                           "title": "Forbidden", "resource_type": "user",
                                           "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
        return self._json({"data": self.users[uid]})

    def by_username(self, request):
        name = request.path.rsplit("/", 1)[1]
        uid = next((u for u, d in self.users.items() if d["username"] == name), None)
        return self._user_or_error(uid, name)

    def user(self, request):
        return self._user_or_error(request.path.rsplit("/", 1)[1], None)

    def timeline(self, request):
        uid = request.path.split("/")[3]
        items = self.tweets[uid]
        if "since_id" in request.args:
            items = [t for t in items if int(t["id"]) > int(request.args["since_id"])]
        start = int(request.args.get("pagination_token") or 0)
        page = items[start:start + self.page_size]
        meta = {"result_count": len(page)}
        if page:
            meta |= {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
        if start + self.page_size < len(items):
            meta["next_token"] = str(start + self.page_size)
        body = {"meta": meta}
        if page:
            body |= {"data": page, "includes": {"users": [self.users[uid]]}}
        return self._json(body)

    def follows(self, request):
        if self.follows_forbidden:
            return Response(json.dumps({
                "client_id": "123", "required_enrollment": "Appropriate Level of API Access",
                "registration_url": "https://developer.x.com/en/portal/product",
                "title": "Client Forbidden", "reason": "client-not-enrolled",
                "detail": "When authenticating requests to the Twitter API v2 endpoints, you must "
                          "use keys and tokens from a Twitter developer App that is attached to a "
                          "Project.", "type": "https://api.twitter.com/2/problems/client-forbidden"}),
                status=403, content_type="application/json")
        uid = request.path.split("/")[3]
        ids = self.following.get(uid, [])
        return self._json({"data": [self.users[i] for i in ids], "meta": {"result_count": len(ids)}})


@pytest.fixture
def xapi(httpserver, monkeypatch):
    monkeypatch.setenv("SOCIALENS_X_BEARER_TOKEN", TOKEN)
    x = FakeX(httpserver)
    x.add_user("11", "ada_ceo", followers=5000)
    x.add_user("22", "bo_coo")
    x.add_user("33", "zed")
    x.suspended.add("33")
    for i in range(3):
        x.add_tweet("11", f"Ada tweet {i} #acme", T0 + timedelta(hours=i))
    x.following["11"] = ["22"]
    return x


def test_collect_x(ws, xapi, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    roster = write_roster(tmp_path / "roster.csv", [
        {"person_id": "p1", "name": "Ada", "twitter_id": "11", "twitter": "ada_ceo"},
        {"person_id": "p2", "name": "Bo", "twitter": "bo_coo"},
        {"person_id": "p3", "name": "Zed", "twitter_id": "33"},
    ])
    rep = collect(ws, "x", roster=roster, base_url=xapi.url, out=tmp_path / "raw", sleep=lambda s: None)
    assert rep.complete
    assert {a.account: a.status for a in rep.accounts} == {
        "twitter:11": "ok", "twitter:22": "ok", "twitter:33": "unavailable"}
    assert "suspended" in rep.unavailable[0].note
    assert ws.sql("SELECT count(*) n FROM posts WHERE account_id='twitter:11'").n[0] == 3
    assert ws.sql("SELECT person_id FROM accounts WHERE account_id='twitter:22'").person_id[0] == "p2"
    snap = ws.sql("SELECT followers FROM account_snapshots WHERE account_id='twitter:11'")
    assert 5000 in snap.followers.tolist()
    assert ws.sql("SELECT src, dst FROM edges WHERE kind='follows'").values.tolist() == [
        ["twitter:11", "twitter:22"]]
    assert rep.ingest_totals["quarantined"] == 0
    # the token: sent in the header, never in a URL, a raw page, the report or a log line
    for p in Path(rep.run_dir).iterdir():
        assert TOKEN not in p.read_text()
    assert all(TOKEN not in line["_socialens"]["url"] for line in raw_lines(rep))
    assert TOKEN not in caplog.text and TOKEN not in json.dumps(rep.as_dict(), default=str)

    xapi.calls.clear()
    xapi.add_tweet("11", "Ada new", T0 + timedelta(days=1))
    collect(ws, "x", base_url=xapi.url, out=tmp_path / "raw", follows=False, sleep=lambda s: None)
    tl = [a for p, a, _ in xapi.calls if p == "/2/users/11/tweets"]
    assert len(tl) == 1 and tl[0]["since_id"]  # only what is new
    assert ws.sql("SELECT count(*) n FROM posts WHERE account_id='twitter:11'").n[0] == 4


def test_follows_refused_does_not_stop_the_run(ws, xapi, tmp_path, caplog):
    """A 403 on the follows lookup (Enterprise-only) is recorded and counted; every account's
    profile and timeline are still collected, and follows are asked only once."""
    xapi.follows_forbidden = True
    xapi.add_tweet("22", "Bo tweet", T0)
    roster = write_roster(tmp_path / "roster.csv", [
        {"person_id": "p1", "name": "Ada", "twitter_id": "11", "twitter": "ada_ceo"},
        {"person_id": "p2", "name": "Bo", "twitter_id": "22", "twitter": "bo_coo"},
    ])
    with caplog.at_level(logging.WARNING, logger="socialens.collect"):
        rep = collect(ws, "x", roster=roster, base_url=xapi.url, out=tmp_path / "raw",
                      sleep=lambda s: None)
    assert rep.complete and rep.stopped is None
    assert {a.account: a.status for a in rep.accounts} == {"twitter:11": "ok", "twitter:22": "ok"}
    assert ws.sql("SELECT account_id, count(*) n FROM posts GROUP BY 1 ORDER BY 1").values.tolist() == [
        ["twitter:11", 3], ["twitter:22", 1]]
    assert ws.count("edges") == 0 or ws.sql("SELECT count(*) n FROM edges WHERE kind='follows'").n[0] == 0
    assert [p for p, _, _ in xapi.calls if p.endswith("/following")] == ["/2/users/11/following"]
    warn = [n for n in rep.notes if n.startswith("warning: follows not collected")]
    assert len(warn) == 1 and "for 2 accounts" in warn[0] and "HTTP 403" in warn[0]
    assert "Client Forbidden" not in warn[0] or "403" in warn[0]
    assert "follows not collected" in rep.accounts[0].note
    assert "refused GET /2/users/:id/following" in caplog.text
    saved = json.loads((Path(rep.run_dir) / "report.json").read_text())
    assert any(n.startswith("warning: follows not collected for 2 accounts") for n in saved["notes"])


def test_x_needs_a_token(ws, monkeypatch):
    monkeypatch.delenv("SOCIALENS_X_BEARER_TOKEN", raising=False)
    with pytest.raises(CollectError, match="SOCIALENS_X_BEARER_TOKEN"):
        collect(ws, "x", base_url="http://127.0.0.1:9")
