"""X (Twitter): users, timelines and follows from the X API v2, with an app-only bearer token.

The token comes only from ``SOCIALENS_X_BEARER_TOKEN`` (there is no anonymous access). Endpoints:

* ``GET /2/users/:id`` (or ``/2/users/by/username/:username`` for a handle-only roster entry) with
  ``user.fields`` including ``public_metrics`` → the user (counters → a snapshot). A response whose
  ``errors`` say the user is suspended or not found (HTTP 200 with no ``data``, or 404) marks the
  account unavailable.
* ``GET /2/users/:id/tweets?max_results=100&since_id=<newest seen>`` with the tweet fields and
  expansions the reader needs (``author_id``, ``referenced_tweets.id``,
  ``referenced_tweets.id.author_id``), paged with ``meta.next_token`` → ``pagination_token``.
* ``GET /2/users/:id/following?max_results=1000`` → the reader makes ``follows`` edges from the page
  URL. X serves this endpoint only to some access levels (Enterprise, per the X docs): a 403 there
  does not stop the run. It is recorded (a note in the run report, with the number of accounts
  whose follows were not collected; a warning in the log), follows are not asked again in that
  run, and profiles and timelines go on.

Pages are ingested with :mod:`socialens.ingest.twitter_v2`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, ClassVar

from socialens.collect.collector import AccountUnavailable, Collector, CollectReport, Page, Target
from socialens.collect.state import AccountState
from socialens.errors import CollectError
from socialens.ingest._platform import maybe_time

__all__ = ["XCollector", "DEFAULT_BASE_URL"]

log = logging.getLogger("socialens.collect")

DEFAULT_BASE_URL = "https://api.x.com"
USER_FIELDS = ("created_at,description,entities,location,name,pinned_tweet_id,profile_image_url,"
               "protected,public_metrics,url,username,verified,verified_type")
TWEET_FIELDS = ("attachments,author_id,conversation_id,created_at,edit_history_tweet_ids,entities,"
                "in_reply_to_user_id,lang,note_tweet,possibly_sensitive,public_metrics,"
                "referenced_tweets,reply_settings,source")
EXPANSIONS = "author_id,referenced_tweets.id,referenced_tweets.id.author_id,entities.mentions.username"


class XCollector(Collector):
    """Collects the roster's X accounts (see the module docstring)."""

    platform: ClassVar[str] = "twitter"
    ingest_format: ClassVar[str] = "twitter_v2"
    default_base_url: ClassVar[str] = DEFAULT_BASE_URL
    token_env: ClassVar[str] = "SOCIALENS_X_BEARER_TOKEN"
    handle_key: ClassVar[str] = "twitter"

    def __init__(self, ws, **kw):
        super().__init__(ws, **kw)
        if not self.token:
            raise CollectError("collect x needs an app-only bearer token in the environment: "
                               "export SOCIALENS_X_BEARER_TOKEN=... (from the X developer portal)")
        #: why X refused the follows lookup in this run (None while it has not), and for whom
        self.follows_refused: str | None = None
        self.follows_missing: list[str] = []

    def _check(self, resp, t: Target) -> Any:
        body: Any = None
        try:
            body = resp.json()
        except ValueError:
            pass
        if resp.status_code == 200 and isinstance(body, dict):
            return body
        if resp.status_code == 404:
            raise AccountUnavailable(f"X account {t.label} not found (HTTP 404); skipped")
        if resp.status_code in (401, 403):
            raise CollectError(f"X refused the bearer token (HTTP {resp.status_code}); check "
                               "SOCIALENS_X_BEARER_TOKEN and the app's access level")
        raise CollectError(f"{resp.request.url} answered HTTP {resp.status_code}; check --base-url")

    def collect_profile(self, t: Target) -> Target:
        if t.account_id:
            url = f"/2/users/{t.account_id.split(':', 1)[1]}"
        else:
            url = f"/2/users/by/username/{t.handle}"
        resp = self.get(url, {"user.fields": USER_FIELDS})
        body = self._check(resp, t)
        user = body.get("data")
        if not isinstance(user, dict) or not user.get("id"):
            errs = body.get("errors") or [{}]
            detail = "; ".join(str(e.get("detail") or e.get("title") or e) for e in errs)
            raise AccountUnavailable(f"X account {t.label} is unavailable: {detail}; skipped "
                                     "(recorded in collect_state)")
        self.write("profiles", resp, body)
        t = self.resolved(t, str(user["id"]), user.get("username"))
        self.state.update(t.account_id, native_id=str(user["id"]),
                          server=self.base_url or DEFAULT_BASE_URL)
        return t

    def reached(self, key: str, at: datetime | None, st: AccountState) -> bool:
        if st.newest_post_id and key.isdigit() and st.newest_post_id.isdigit():
            return int(key) <= int(st.newest_post_id)
        return super().reached(key, at, st)

    def posts_page(self, t: Target, cursor: str | None, st: AccountState) -> Page:
        uid = t.account_id.split(":", 1)[1]
        resp = self.get(f"/2/users/{uid}/tweets", {
            "max_results": 100, "since_id": st.newest_post_id, "pagination_token": cursor,
            "tweet.fields": TWEET_FIELDS, "expansions": EXPANSIONS, "user.fields": USER_FIELDS,
        })
        body = self._check(resp, t)
        self.write("posts", resp, body)
        data = body.get("data") or []
        items = [(str(d.get("id")), maybe_time(d.get("created_at"))) for d in data if isinstance(d, dict)]
        return Page(items, (body.get("meta") or {}).get("next_token") or None)

    def collect_follows(self, t: Target) -> None:
        uid = t.account_id.split(":", 1)[1]
        if self.follows_refused is not None:  # refused once: the access level will not change
            self.follows_missing.append(t.account_id)
            return
        token = None
        while True:
            resp = self.get(f"/2/users/{uid}/following", {
                "max_results": 1000, "pagination_token": token, "user.fields": USER_FIELDS})
            if resp.status_code == 403:
                self._refused(resp, t)
                return
            body = self._check(resp, t)
            self.write("follows", resp, body)
            n = len(body.get("data") or [])
            if self._current is not None:
                self._current.follows_seen += n
            token = (body.get("meta") or {}).get("next_token")
            if not n or not token:
                return

    def _refused(self, resp, t: Target) -> None:
        try:
            body = resp.json()
        except ValueError:
            body = {}
        detail = ""
        if isinstance(body, dict):
            detail = str(body.get("detail") or body.get("title") or body.get("reason") or "")[:200]
        self.follows_refused = f"HTTP 403{': ' + detail if detail else ''}"
        self.follows_missing.append(t.account_id)
        if self._current is not None:
            self._current.note = f"follows not collected: X refused the lookup ({self.follows_refused})"
        log.warning("%s: X refused GET /2/users/:id/following (%s); follows are not collected in "
                    "this run, timelines go on", t.label, self.follows_refused)

    def _finish(self, report: CollectReport) -> None:
        if self.follows_refused is not None:
            n = len(self.follows_missing)
            report.notes.append(
                f"warning: follows not collected for {n} account{'s' if n != 1 else ''}: X refused "
                f"GET /2/users/:id/following ({self.follows_refused}); the endpoint needs an access "
                "level that serves it (Enterprise, per the X docs). Profiles and timelines were "
                "collected; pass --no-follows to skip the lookup.")
        super()._finish(report)
