"""Fake Bluesky, Mastodon and feed servers on pytest-httpserver, serving real-shaped pages.

The fakes implement the paging the real APIs document (Bluesky ``cursor``; Mastodon ``max_id`` /
``since_id`` with ``Link`` headers; feeds with ``ETag``/``If-None-Match``) over small literal data,
count requests per endpoint, and can be told to fail: ``fail(endpoint, [(status, headers), ...])``
queues responses served before the real one (429 with ``Retry-After``, 5xx, or ``"sleep"`` for a
response slower than the client's timeout). No test touches the network.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.wrappers import Request, Response

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class FakeBase:
    def __init__(self, server):
        self.server = server
        self.calls: Counter = Counter()
        self.failures: dict[str, list] = defaultdict(list)
        self.seen: list[tuple[str, dict]] = []

    def fail(self, endpoint: str, responses: list) -> None:
        self.failures[endpoint].extend(responses)

    def _maybe_fail(self, endpoint: str):
        q = self.failures.get(endpoint)
        if q:
            status, headers = q.pop(0)
            if status == "sleep":
                time.sleep(headers)
                return None
            body = json.dumps({"error": "RateLimitExceeded" if status == 429 else "InternalServerError",
                               "message": "fake failure"})
            return Response(body, status=status, headers=headers, content_type="application/json")
        return None

    def route(self, path: str, endpoint: str, fn):
        def handler(request: Request):
            self.calls[endpoint] += 1
            self.seen.append((endpoint, dict(request.args), dict(request.headers)))
            failed = self._maybe_fail(endpoint)
            if failed is not None:
                return failed
            return fn(request)
        self.server.expect_request(path).respond_with_handler(handler)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")


# -- Bluesky ------------------------------------------------------------------------------------
def bsky_profile(did: str, handle: str, name: str, followers: int, follows: int, posts: int) -> dict:
    return {"did": did, "handle": handle, "displayName": name, "description": f"{name} at Acme",
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/bafk@jpeg",
            "followersCount": followers, "followsCount": follows, "postsCount": posts,
            "createdAt": "2023-05-01T10:00:00.000Z", "indexedAt": "2024-01-01T00:00:00.000Z",
            "associated": {"lists": 0, "feedgens": 0, "starterPacks": 0, "labeler": False},
            "labels": [], "viewer": {"muted": False, "blockedBy": False}}


def bsky_basic(p: dict) -> dict:
    return {k: p[k] for k in ("did", "handle", "displayName", "avatar", "createdAt", "labels")}


class FakeBluesky(FakeBase):
    """``/xrpc/app.bsky.actor.getProfile``, ``feed.getAuthorFeed``, ``graph.getFollows``."""

    def __init__(self, server, page_size: int = 2):
        super().__init__(server)
        self.page_size = page_size
        self.profiles: dict[str, dict] = {}
        self.handles: dict[str, str] = {}
        self.feeds: dict[str, list[dict]] = defaultdict(list)
        self.follows: dict[str, list[str]] = defaultdict(list)
        self.unavailable: dict[str, tuple[str, str]] = {}
        self.route("/xrpc/app.bsky.actor.getProfile", "getProfile", self.get_profile)
        self.route("/xrpc/app.bsky.feed.getAuthorFeed", "getAuthorFeed", self.get_author_feed)
        self.route("/xrpc/app.bsky.graph.getFollows", "getFollows", self.get_follows)

    def add_account(self, did, handle, name, followers=10, follows=2):
        self.profiles[did] = bsky_profile(did, handle, name, followers, follows, 0)
        self.handles[handle] = did

    def add_post(self, did: str, rkey: str, text: str, at: datetime, *, repost_of: tuple | None = None):
        """A post (or, with ``repost_of=(did, rkey, at)``, a repost) at the top of the feed."""
        author = self.profiles[did]
        if repost_of:
            odid, orkey, oat = repost_of
            item = {"post": self._post_view(odid, orkey, "original", oat),
                    "reason": {"$type": "app.bsky.feed.defs#reasonRepost", "by": bsky_basic(author),
                               "indexedAt": iso(at)}}
        else:
            item = {"post": self._post_view(did, rkey, text, at)}
        self.feeds[did].insert(0, item)
        author["postsCount"] += 1

    def _post_view(self, did, rkey, text, at):
        return {"uri": f"at://{did}/app.bsky.feed.post/{rkey}", "cid": f"bafyrei{rkey}",
                "author": bsky_basic(self.profiles[did]),
                "record": {"$type": "app.bsky.feed.post", "text": text, "createdAt": iso(at),
                           "langs": ["en"]},
                "replyCount": 0, "repostCount": 1, "likeCount": 3, "quoteCount": 0,
                "indexedAt": iso(at + timedelta(seconds=1)), "labels": [], "viewer": {}}

    def _actor(self, request) -> str | None:
        a = request.args.get("actor", "")
        return a if a.startswith("did:") else self.handles.get(a)

    def _error(self, err: str, msg: str) -> Response:
        return Response(json.dumps({"error": err, "message": msg}), status=400,
                        content_type="application/json")

    def get_profile(self, request):
        did = self._actor(request)
        if did in self.unavailable:
            return self._error(*self.unavailable[did])
        if did not in self.profiles:
            return self._error("InvalidRequest", "Profile not found")
        return Response(json.dumps(self.profiles[did]), content_type="application/json",
                        headers={"ratelimit-limit": "3000", "ratelimit-remaining": "2999",
                                 "ratelimit-reset": str(int(time.time()) + 300),
                                 "ratelimit-policy": "3000;w=300"})

    def _sort_time(self, item) -> str:
        return (item.get("reason") or {}).get("indexedAt") or item["post"]["indexedAt"]

    def get_author_feed(self, request):
        did = self._actor(request)
        if did in self.unavailable:
            return self._error(*self.unavailable[did])
        limit = min(int(request.args.get("limit", 50)), 100, self.page_size)
        items = self.feeds.get(did, [])
        cursor = request.args.get("cursor")
        if cursor:
            items = [it for it in items if self._sort_time(it) < cursor]
        page = items[:limit]
        body = {"feed": page}
        if len(items) > limit:
            body["cursor"] = self._sort_time(page[-1])
        return Response(json.dumps(body), content_type="application/json")

    def get_follows(self, request):
        did = self._actor(request)
        limit = min(int(request.args.get("limit", 50)), 100, self.page_size)
        start = int(request.args.get("cursor") or 0)
        dids = self.follows.get(did, [])
        page = dids[start:start + limit]
        body = {"subject": bsky_basic(self.profiles[did]) | {"description": ""},
                "follows": [bsky_basic(self.profiles[d]) | {"indexedAt": "2024-01-01T00:00:00.000Z"}
                            for d in page]}
        if start + limit < len(dids):
            body["cursor"] = str(start + limit)
        return Response(json.dumps(body), content_type="application/json")


# -- Mastodon -----------------------------------------------------------------------------------
def masto_account(local_id: str, username: str, host: str, name: str, *, followers=5, following=2,
                  statuses=0, acct=None) -> dict:
    return {"id": local_id, "username": username, "acct": acct or username, "display_name": name,
            "locked": False, "bot": False, "discoverable": True, "group": False,
            "created_at": "2022-11-01T00:00:00.000Z", "note": f"<p>{name} at Acme</p>",
            "url": f"https://{host}/@{username}", "uri": f"https://{host}/users/{username}",
            "avatar": f"https://{host}/avatars/{local_id}.png", "header": "",
            "followers_count": followers, "following_count": following, "statuses_count": statuses,
            "last_status_at": "2024-03-01", "emojis": [], "fields": []}


class FakeMastodon(FakeBase):
    """``/api/v1/accounts/lookup``, ``/api/v1/accounts/:id/statuses``, ``.../following``."""

    HOST = "social.acme.example"

    def __init__(self, server, page_size: int = 2):
        super().__init__(server)
        self.page_size = page_size
        self.accounts: dict[str, dict] = {}  # username -> Account
        self.statuses: dict[str, list[dict]] = defaultdict(list)  # local id -> newest first
        self.following: dict[str, list[str]] = defaultdict(list)
        self.gone: dict[str, int] = {}
        self._next_id = 110_000_000_000_000_000
        self.route("/api/v1/accounts/lookup", "lookup", self.lookup)
        import re

        self.server.expect_request(re.compile(r"^/api/v1/accounts/\d+/statuses$")) \
            .respond_with_handler(self._wrap("statuses", self.get_statuses))
        self.server.expect_request(re.compile(r"^/api/v1/accounts/\d+/following$")) \
            .respond_with_handler(self._wrap("following", self.get_following))

    def _wrap(self, endpoint, fn):
        def handler(request):
            self.calls[endpoint] += 1
            self.seen.append((endpoint, dict(request.args), dict(request.headers)))
            failed = self._maybe_fail(endpoint)
            return failed if failed is not None else fn(request)
        return handler

    def add_account(self, username, name, **kw):
        local_id = str(100 + len(self.accounts))
        self.accounts[username] = masto_account(local_id, username, self.HOST, name, **kw)
        return local_id

    def add_status(self, username: str, html: str, at: datetime, *, tags=(), reblog_of=None):
        acc = self.accounts[username]
        self._next_id += 1
        sid = str(self._next_id)
        reblog = None
        if reblog_of is not None:
            reblog = self.statuses[reblog_of[0]][reblog_of[1]]
        s = {"id": sid, "created_at": iso(at), "in_reply_to_id": None,
             "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "",
             "visibility": "public", "language": "en",
             "uri": f"https://{self.HOST}/users/{username}/statuses/{sid}",
             "url": f"https://{self.HOST}/@{username}/{sid}", "replies_count": 0,
             "reblogs_count": 0, "favourites_count": 2, "edited_at": None,
             "content": "" if reblog else html, "reblog": reblog,
             "application": {"name": "Web", "website": None},
             "account": {k: v for k, v in acc.items()}, "media_attachments": [], "mentions": [],
             "tags": [{"name": t, "url": f"https://{self.HOST}/tags/{t}"} for t in tags],
             "emojis": [], "card": None, "poll": None}
        self.statuses[acc["id"]].insert(0, s)
        acc["statuses_count"] += 1
        return sid

    def lookup(self, request):
        user = request.args.get("acct", "").split("@")[0]
        if user in self.gone:
            code = self.gone[user]
            return Response(json.dumps({"error": "Record not found" if code == 404 else "Gone"}),
                            status=code, content_type="application/json")
        if user not in self.accounts:
            return Response(json.dumps({"error": "Record not found"}), status=404,
                            content_type="application/json")
        return Response(json.dumps(self.accounts[user]), content_type="application/json",
                        headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299",
                                 "X-RateLimit-Reset": iso(datetime.now(UTC) + timedelta(minutes=5))})

    def _link(self, request, next_params: dict | None, prev_params: dict | None) -> dict:
        links = []
        base = self.url + request.path
        from urllib.parse import urlencode

        if next_params:
            links.append(f'<{base}?{urlencode(next_params)}>; rel="next"')
        if prev_params:
            links.append(f'<{base}?{urlencode(prev_params)}>; rel="prev"')
        return {"Link": ", ".join(links)} if links else {}

    def get_statuses(self, request):
        local_id = request.path.split("/")[4]
        limit = min(int(request.args.get("limit", 20)), 40, self.page_size)
        items = self.statuses.get(local_id, [])
        if "max_id" in request.args:
            items = [s for s in items if int(s["id"]) < int(request.args["max_id"])]
        if "since_id" in request.args:
            items = [s for s in items if int(s["id"]) > int(request.args["since_id"])]
        page = items[:limit]
        by_id = {a["id"]: a for a in self.accounts.values()}
        page = [dict(s, account=by_id[s["account"]["id"]]) for s in page]  # rendered now
        headers = {}
        if page:
            headers = self._link(request, {"limit": limit, "max_id": page[-1]["id"]},
                                 {"limit": limit, "min_id": page[0]["id"]})
        return Response(json.dumps(page), content_type="application/json", headers=headers)

    def get_following(self, request):
        local_id = request.path.split("/")[4]
        by_id = {a["id"]: a for a in self.accounts.values()}
        users = self.following.get(local_id, [])
        limit = min(int(request.args.get("limit", 40)), 80, self.page_size)
        start = int(request.args.get("max_id") or 0)
        page = users[start:start + limit]
        headers = {}
        if start + limit < len(users):
            headers = self._link(request, {"limit": limit, "max_id": start + limit}, None)
        return Response(json.dumps([by_id[self.accounts[u]["id"]] for u in page]),
                        content_type="application/json", headers=headers)


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture
def sleeps():
    """A fake ``sleep`` that records the waits instead of waiting."""
    return []


@pytest.fixture
def bsky(httpserver):
    return FakeBluesky(httpserver)


@pytest.fixture
def masto(httpserver):
    return FakeMastodon(httpserver)


def write_roster(path, rows: list[dict]) -> str:
    import csv

    cols = sorted({k for r in rows for k in r}, key=lambda c: (c != "person_id", c))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
    return str(path)


def raw_lines(report) -> list[dict]:
    out = []
    for p in report.raw_files:
        if p.endswith(".jsonl"):
            with open(p) as f:
                out += [json.loads(line) for line in f]
    return out
