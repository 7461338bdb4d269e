"""Blogs: RSS/Atom feeds fetched with httpx, parsed (at ingest) with feedparser.

Each roster account ``blog:<feed URL>`` is fetched with a conditional GET (``If-None-Match`` with the
last ``ETag``, ``If-Modified-Since`` with the last ``Last-Modified``, both kept in
``collect_state``): a ``304 Not Modified`` costs one request and writes nothing. A feed only ever
holds its latest entries, so "posts since the last collection" is what the feed shows that the
workspace does not have yet (earlier entries come back as duplicates, which ingest counts and
skips). ``404``/``410`` mark the feed unavailable. There are no counters and no follows.

A page is written as ``{"_socialens": {...}, "response": "<the feed's XML as text>"}`` and ingested
with :mod:`socialens.ingest.feeds`.
"""

from __future__ import annotations

from typing import ClassVar

from socialens.collect.collector import AccountUnavailable, Collector, Target
from socialens.errors import CollectError

__all__ = ["RssCollector"]


class RssCollector(Collector):
    """Collects the roster's blog feeds (see the module docstring)."""

    platform: ClassVar[str] = "blog"
    ingest_format: ClassVar[str] = "feeds"

    def __init__(self, ws, **kw):
        if kw.get("base_url"):
            raise CollectError("--base-url does not apply to rss: every feed is fetched from the "
                               "URL the roster gives it (blog/rss column)")
        super().__init__(ws, **kw)

    def collect_profile(self, t: Target) -> Target:
        """The whole feed is the "profile": fetch it (conditionally) and write it."""
        from socialens.ingest.feeds import parse_feed

        url = t.account_id.split(":", 1)[1]
        st = self.state.get(t.account_id)
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
        if st.etag:
            headers["If-None-Match"] = st.etag
        if st.last_modified:
            headers["If-Modified-Since"] = st.last_modified
        resp = self.get(url, headers=headers)
        if resp.status_code == 304:
            if self._current is not None:
                self._current.note = "not modified since the last collection"
            return t
        if resp.status_code in (404, 410):
            raise AccountUnavailable(f"feed {url} is gone (HTTP {resp.status_code}); skipped "
                                     "(recorded in collect_state)")
        if resp.status_code != 200:
            raise CollectError(f"feed {url} answered HTTP {resp.status_code}")
        text = resp.text
        self.write("posts", resp, text)
        feed_url, d = parse_feed(resp.content, str(resp.request.url))
        times = [e.get("published_parsed") or e.get("updated_parsed") for e in d.entries]
        newest = max((t_ for t_ in times if t_), default=None)
        changes = {"etag": resp.headers.get("etag"), "last_modified": resp.headers.get("last-modified"),
                   "server": str(resp.request.url)}
        if newest is not None:
            import calendar
            from datetime import UTC, datetime

            at = datetime.fromtimestamp(calendar.timegm(newest), UTC)
            if st.newest_post_at is None or at > st.newest_post_at:
                changes["newest_post_at"] = at
        self.state.update(t.account_id, **changes)
        if self._current is not None:
            self._current.posts_seen += len(d.entries)
            if feed_url and feed_url.strip() != url:
                self._current.note = (
                    f"the feed names itself {feed_url} (its self link), so its posts load onto "
                    f"blog:{feed_url}, not the roster's {t.account_id}; put that URL in the roster")
        return t

    def _sweep(self, t: Target) -> None:  # the feed was read with the profile
        return None
