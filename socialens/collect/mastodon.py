"""Mastodon: accounts, statuses and follows from each account's home server's REST API.

Endpoints (public data needs no token; ``SOCIALENS_MASTODON_TOKEN``, when set, is sent as a bearer
token, for servers that require authorised access):

* ``GET /api/v1/accounts/lookup?acct=<user>`` on the account's home server → the Account (counters →
  a snapshot) and its local id. ``404`` (not found), ``410`` (suspended) or an Account with
  ``suspended: true`` mark the account unavailable.
* ``GET /api/v1/accounts/:id/statuses?limit=40&since_id=<newest seen>`` → statuses, newest first,
  paged with the ``Link: <...max_id=...>; rel="next"`` header down to the previous collection.
* ``GET /api/v1/accounts/:id/following?limit=80`` → whom the account follows, paged with
  ``Link rel="next"``. Each page is stamped with ``_socialens.subject`` (the account id), from which
  the reader makes ``follows`` edges.

Status ids are only meaningful on the server they come from; the reader takes that server from the
page's URL. Pages are ingested with :mod:`socialens.ingest.mastodon`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

from socialens.collect.collector import AccountUnavailable, Collector, Page, Target
from socialens.collect.state import AccountState
from socialens.errors import CollectError
from socialens.ingest._platform import maybe_time

__all__ = ["MastodonCollector"]

STATUS_LIMIT = 40
FOLLOW_LIMIT = 80


def _next_url(resp) -> str | None:
    return (resp.links.get("next") or {}).get("url") or None


def _max_id(url: str | None) -> str | None:
    if not url:
        return None
    vals = parse_qs(urlparse(url).query).get("max_id")
    return vals[0] if vals else None


class MastodonCollector(Collector):
    """Collects the roster's Mastodon accounts (see the module docstring)."""

    platform: ClassVar[str] = "mastodon"
    ingest_format: ClassVar[str] = "mastodon"
    token_env: ClassVar[str] = "SOCIALENS_MASTODON_TOKEN"

    def _user_host(self, t: Target) -> tuple[str, str]:
        user_host = t.account_id.split(":", 1)[1]  # host/@user
        host, user = user_host.split("/@", 1)
        return user, host

    def _server(self, t: Target) -> str:
        return self.base_url or f"https://{self._user_host(t)[1]}"

    def _check(self, resp, t: Target) -> Any:
        if resp.status_code == 200:
            try:
                return resp.json()
            except ValueError as exc:
                raise CollectError(f"{resp.request.url} did not return JSON") from exc
        if resp.status_code in (404, 410):
            what = "suspended (HTTP 410)" if resp.status_code == 410 else "not found (HTTP 404)"
            raise AccountUnavailable(f"Mastodon account {t.handle or t.label} is {what}; skipped "
                                     "(recorded in collect_state)")
        if resp.status_code in (401, 403):
            raise AccountUnavailable(
                f"{resp.request.url.host} refuses anonymous access to {t.handle or t.label} "
                f"(HTTP {resp.status_code}); set SOCIALENS_MASTODON_TOKEN to a token of that server")
        raise CollectError(f"{resp.request.url} answered HTTP {resp.status_code}; check --base-url")

    def collect_profile(self, t: Target) -> Target:
        user, _host = self._user_host(t)
        server = self._server(t)
        resp = self.get("/api/v1/accounts/lookup", {"acct": user}, base_url=server)
        body = self._check(resp, t)
        self.write("profiles", resp, body)
        if not isinstance(body, dict) or not body.get("id"):
            raise CollectError(f"the lookup of {t.handle} returned no account id; is --base-url a "
                               "Mastodon server?")
        self.state.update(t.account_id, native_id=str(body["id"]), server=server)
        if body.get("suspended"):
            raise AccountUnavailable(f"Mastodon account {t.handle} is suspended; skipped (its "
                                     "profile page is kept)")
        if isinstance(body.get("moved"), dict) and self._current is not None:
            self._current.note = f"moved to {body['moved'].get('acct')}"
        return t

    def reached(self, key: str, at: datetime | None, st: AccountState) -> bool:
        if st.newest_post_id and key.isdigit() and st.newest_post_id.isdigit():
            return int(key) <= int(st.newest_post_id)
        return super().reached(key, at, st)

    def posts_page(self, t: Target, cursor: str | None, st: AccountState) -> Page:
        sid = self.state.get(t.account_id).native_id
        resp = self.get(f"/api/v1/accounts/{sid}/statuses",
                        {"limit": STATUS_LIMIT, "since_id": st.newest_post_id, "max_id": cursor},
                        base_url=self._server(t))
        body = self._check(resp, t)
        self.write("posts", resp, body)
        items = [(str(s.get("id")), maybe_time(s.get("created_at")))
                 for s in body if isinstance(s, dict) and s.get("id")] if isinstance(body, list) else []
        nxt = _max_id(_next_url(resp))
        if nxt is None and len(items) >= STATUS_LIMIT:
            nxt = items[-1][0]  # no Link header: page on from the oldest id seen
        return Page(items, nxt)

    def collect_follows(self, t: Target) -> None:
        sid = self.state.get(t.account_id).native_id
        url: str | None = f"/api/v1/accounts/{sid}/following"
        params: dict | None = {"limit": FOLLOW_LIMIT}
        while url:
            resp = self.get(url, params, base_url=self._server(t))
            body = self._check(resp, t)
            self.write("follows", resp, body, subject=t.account_id)
            n = len(body) if isinstance(body, list) else 0
            if self._current is not None:
                self._current.follows_seen += n
            url, params = (_next_url(resp), None) if n else (None, None)
