"""Bluesky: profiles, author feeds and follows from the public AppView's XRPC endpoints.

Endpoints (no authentication needed on ``https://public.api.bsky.app``):

* ``app.bsky.actor.getProfile?actor=<did or handle>`` → the profile (counters → a snapshot; a
  handle-only roster entry is resolved to its DID here). ``400`` with ``error`` ``AccountTakedown``
  (suspended), ``AccountDeactivated`` or ``InvalidRequest`` ("Profile not found") marks the account
  unavailable.
* ``app.bsky.feed.getAuthorFeed?actor=<did>&limit=100&filter=posts_with_replies[&cursor=]`` → posts
  and reposts, newest first; paged with ``cursor`` until the previous collection's newest post.
* ``app.bsky.graph.getFollows?actor=<did>&limit=100[&cursor=]`` → whom the account follows (each page
  carries the ``subject``, so the reader makes ``follows`` edges).

Pages are ingested with :mod:`socialens.ingest.bluesky`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from socialens.collect.collector import AccountUnavailable, Collector, Page, Target
from socialens.collect.state import AccountState
from socialens.errors import CollectError
from socialens.ingest._platform import maybe_time

__all__ = ["BlueskyCollector", "DEFAULT_BASE_URL"]

DEFAULT_BASE_URL = "https://public.api.bsky.app"
PAGE_LIMIT = 100
_UNAVAILABLE = {"AccountTakedown": "suspended (AccountTakedown)",
                "AccountDeactivated": "deactivated (AccountDeactivated)",
                "InvalidRequest": "not found", "NotFound": "not found",
                "BlockedActor": "blocks the collector", "BlockedByActor": "blocks the collector"}


def _json(resp) -> Any:
    try:
        return resp.json()
    except ValueError as exc:
        raise CollectError(f"{resp.request.url} did not return JSON (HTTP {resp.status_code})") from exc


def _check(resp, t: Target) -> Any:
    """The JSON body of a 200, AccountUnavailable for the documented account errors."""
    if resp.status_code == 200:
        return _json(resp)
    body: Any = {}
    try:
        body = resp.json()
    except ValueError:
        pass
    err = body.get("error") if isinstance(body, dict) else None
    msg = body.get("message") if isinstance(body, dict) else None
    if resp.status_code in (400, 404) and (err in _UNAVAILABLE or resp.status_code == 404):
        raise AccountUnavailable(
            f"Bluesky account {t.label} is {_UNAVAILABLE.get(err, 'not found')}"
            + (f": {msg}" if msg else "") + "; skipped (recorded in collect_state)")
    raise CollectError(
        f"{resp.request.url.copy_remove_param('cursor')} answered HTTP {resp.status_code}"
        f"{' ' + err if err else ''}{': ' + msg if msg else ''}; check --base-url"
    )


def _item_time(item: dict) -> datetime | None:
    reason = item.get("reason") if isinstance(item.get("reason"), dict) else None
    if reason and reason.get("indexedAt"):
        return maybe_time(reason.get("indexedAt"))
    post = item.get("post") or {}
    return maybe_time(post.get("indexedAt")) or maybe_time((post.get("record") or {}).get("createdAt"))


def _item_key(item: dict) -> str:
    post = item.get("post") or {}
    reason = item.get("reason") if isinstance(item.get("reason"), dict) else None
    if reason and str(reason.get("$type", "")).endswith("#reasonRepost"):
        return f"repost:{(reason.get('by') or {}).get('did')}:{post.get('uri')}"
    return str(post.get("uri"))


class BlueskyCollector(Collector):
    """Collects the roster's Bluesky accounts (see the module docstring)."""

    platform: ClassVar[str] = "bluesky"
    ingest_format: ClassVar[str] = "bluesky"
    default_base_url: ClassVar[str] = DEFAULT_BASE_URL
    token_env: ClassVar[str] = "SOCIALENS_BLUESKY_TOKEN"
    handle_key: ClassVar[str] = "bluesky"

    def _actor(self, t: Target) -> str:
        return t.account_id.split(":", 1)[1] if t.account_id else t.handle

    def collect_profile(self, t: Target) -> Target:
        resp = self.get("/xrpc/app.bsky.actor.getProfile", {"actor": self._actor(t)})
        body = _check(resp, t)
        self.write("profiles", resp, body)
        did = body.get("did") if isinstance(body, dict) else None
        if not did:
            raise CollectError(f"the profile of {t.label} has no did; is --base-url a Bluesky AppView?")
        t = self.resolved(t, did, body.get("handle"))
        self.state.update(t.account_id, native_id=did, server=self.base_url or DEFAULT_BASE_URL)
        return t

    def posts_page(self, t: Target, cursor: str | None, st: AccountState) -> Page:
        resp = self.get("/xrpc/app.bsky.feed.getAuthorFeed", {
            "actor": self._actor(t), "limit": PAGE_LIMIT, "filter": "posts_with_replies",
            "cursor": cursor,
        })
        body = _check(resp, t)
        self.write("posts", resp, body)
        feed = [it for it in body.get("feed") or [] if isinstance(it, dict)]
        return Page([(_item_key(it), _item_time(it)) for it in feed], body.get("cursor") or None)

    def collect_follows(self, t: Target) -> None:
        cursor = None
        while True:
            resp = self.get("/xrpc/app.bsky.graph.getFollows",
                            {"actor": self._actor(t), "limit": PAGE_LIMIT, "cursor": cursor})
            body = _check(resp, t)
            self.write("follows", resp, body)
            follows = body.get("follows") or []
            if self._current is not None:
                self._current.follows_seen += len(follows)
            cursor = body.get("cursor")
            if not follows or not cursor:
                return
