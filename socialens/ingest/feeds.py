"""Blogs: RSS 2.0 and Atom feeds (also RSS 0.9x/1.0), parsed with feedparser — a post per entry.

The feed is one account, ``blog:<feed URL>``; the feed URL is the feed's ``rel="self"`` link (Atom,
or ``atom:link`` in RSS), else the ``_socialens.url`` of a collected page, else the site link; a
relative link is resolved against the page URL or the site link, and a feed that names itself only
by relative links (``href="feed.xml"``) has no account: its entries are quarantined with that
reason (collect it, or make the self link absolute). A
roster maps that same URL to a person (see :mod:`socialens.ingest.roster`), so a feed loaded after
the roster lands on the roster's account and its person.

Besides feed files, JSON Lines of collected pages (``socialens collect rss``) are read: each line is
``{"_socialens": {"url", "client", "retrieved_at"}, "response": "<the feed's XML as text>"}``; the
page URL names the feed when it has no self link, and every entry of a page is reported at its line.

Each entry: post ``blog:<entry id>`` (the ``<guid>``/``<id>``, else the entry link) when the id is an
absolute URI (``http(s)://host/...``, ``tag:``, ``urn:``), which is unique across feeds; any other id
(an RSS ``isPermaLink="false"`` guid such as ``2026-09-05-crash``, a number, a relative path) is
only unique within its feed and is scoped by it: ``blog:<feed URL>#<entry id>``. Time from
``published`` (else ``updated``; an entry with neither is quarantined), text = title, a blank line,
and the summary/content converted from HTML; categories become hashtags, links in the content urls.
A feed document is parsed whole (feeds are small); the line of an entry is its 1-based position.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from socialens.errors import RecordError
from socialens.ingest._platform import (
    Rows,
    account_row,
    entities,
    first_json_value,
    head_text,
    html_to_text,
    is_jsonl_path,
    mapped,
    post_row,
    raw_json,
)
from socialens.ingest.sources import SourceRecord, iter_jsonl, read_all

__all__ = ["detect", "tasks", "parse_feed", "map_entry", "feed_account_id", "entry_post_id"]

PLATFORM = "blog"
_ROOT = re.compile(r"<(rss|feed|rdf:RDF)[\s>]", re.I)
_HREF = re.compile(r"""href=["']([^"']+)["']""")
_ABSOLUTE = re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s]", re.I)
_GLOBAL_ID = re.compile(r"^(https?://[^/\s]+|tag:|urn:)", re.I)


def _collected_feed(v: Any) -> bool:
    """A page written by ``socialens collect rss``: ``{"_socialens": {...}, "response": "<rss ..."}``."""
    return isinstance(v, dict) and isinstance(v.get("_socialens"), dict) \
        and isinstance(v.get("response"), str) and bool(_ROOT.search(v["response"][:8192]))


def detect(path: Path) -> bool:
    if not path.is_file():
        return False
    head = head_text(path, 8192).lstrip()
    if head.startswith("{") and is_jsonl_path(path):
        return _collected_feed(first_json_value(path))
    return head.startswith("<") and bool(_ROOT.search(head))


def feed_account_id(feed_url: str) -> str:
    """``blog:<feed URL>`` — the account id of a feed, as a roster writes it."""
    return f"{PLATFORM}:{feed_url.strip()}"


def _time(st: Any) -> datetime | None:
    if not st:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(st), UTC)
    except (ValueError, OverflowError, OSError, TypeError):
        return None  # a date outside years 1-9999 (year 0, or 9999 with a negative offset)


_CHARREF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,24}));")


def _charref(m: re.Match) -> bytes:
    n = int(m.group(1), 16) if m.group(1) else int(m.group(2))
    ok = n in (0x9, 0xA, 0xD) or 0x20 <= n <= 0xD7FF or 0xE000 <= n <= 0x10FFFF
    return m.group(0) if ok and n not in (0xFFFE, 0xFFFF) else b"&#xFFFD;"


def parse_feed(data: bytes, url: str | None = None):
    """``(feed_url, feedparser result)``; the feed URL as defined in the module docstring (None
    when the feed names itself only by relative links and nothing gives a base).

    A character reference to no character XML allows (``&#0;``, a surrogate such as
    ``&#xD800;``, ``&#1114112;``) reads as U+FFFD, as an HTML parser reads it. A document
    feedparser cannot read at all gives a result with no entries and ``bozo_exception`` set.

    >>> parse_feed(b"<rss><channel><link>https://a.example/</link><item><title>x&#1114112;y"
    ...            b"</title><pubDate>Tue, 10 Jan 2023 12:00:00 +0000</pubDate></item></channel></rss>"
    ...            )[1].entries[0].title
    'x\ufffdy'
    """
    import feedparser

    data = _CHARREF.sub(_charref, data) if b"&#" in data else data
    try:
        d = feedparser.parse(data)
    except Exception as exc:  # noqa: BLE001 - a third-party parser: any failure is a bad document
        d = feedparser.FeedParserDict(bozo=1, bozo_exception=exc, entries=[],
                                      feed=feedparser.FeedParserDict())
    self_link = next((lk.get("href") for lk in d.feed.get("links", []) if lk.get("rel") == "self"), None)
    site = d.feed.get("link")
    bases = [b for b in (url, site) if b and _ABSOLUTE.match(b)]
    candidates = [self_link, url, site]
    for link in candidates:
        if not link:
            continue
        if _ABSOLUTE.match(link):
            return link, d
        if bases:
            return urljoin(bases[0], link), d
    return None, d


def entry_post_id(entry_id: str, feed_url: str) -> str:
    """The native post id of an entry: its id when globally unique, else scoped by the feed.

    >>> entry_post_id("https://ada.example/2023/why", "https://ada.example/feed.xml")
    'https://ada.example/2023/why'
    >>> entry_post_id("2026-09-05-crash", "https://news.example/feed.xml")
    'https://news.example/feed.xml#2026-09-05-crash'
    """
    entry_id = entry_id.strip()
    return entry_id if _GLOBAL_ID.match(entry_id) else f"{feed_url.strip()}#{entry_id}"


def map_entry(e: Any, feed_url: str, feed: Any) -> Rows:
    """One feed entry → post + the feed's account."""
    eid = e.get("id") or e.get("link")
    if not eid:
        raise RecordError("the entry has neither an id/guid nor a link", "id")
    published, updated = dict.get(e, "published_parsed"), dict.get(e, "updated_parsed")
    created = _time(published) or _time(updated)
    if created is None:
        raise RecordError(
            "the entry has no parseable published/updated date; nothing dates the post", "published"
        )
    html = None
    if e.get("content"):
        html = e["content"][0].get("value")
    html = html or e.get("summary")
    body = html_to_text(html)
    title = html_to_text(e.get("title"))
    text = "\n\n".join(x for x in (title, body) if x) or None
    account = feed_account_id(feed_url)
    return [
        post_row(PLATFORM, entry_post_id(eid, feed_url), account, created, text=text, url=e.get("link"),
                 lang=e.get("language") or feed.get("language"),
                 attrs={"title": title, "author": e.get("author"),
                        "updated": _time(updated).isoformat() if updated and published else None},
                 ents=entities(hashtags=[t.get("term") for t in e.get("tags") or [] if t.get("term")],
                               urls=_HREF.findall(html or "")),
                 text_kinds=("hashtag", "mention", "url")),  # and those in the text
        ("accounts", account_row(PLATFORM, feed_url.strip(), handle=None,
                                 display_name=html_to_text(feed.get("title")),
                                 bio=html_to_text(feed.get("subtitle")),
                                 url=feed.get("link"))[1]),
    ]


def _feed_items(data: bytes, url: str | None, line: int | None) -> Iterator:
    """The entries of one feed document; ``line`` is the JSONL line of a collected page (all its
    entries share it), None for a plain feed file (an entry's line is its position)."""
    feed_url, d = parse_feed(data, url)
    if not d.entries and d.get("bozo"):
        yield SourceRecord(line or 1, data[:2000].decode("utf-8", "replace"),
                           error=f"not a well-formed feed: {d.get('bozo_exception')}")
        return
    if not feed_url:
        links = [lk.get("href") for lk in d.feed.get("links", []) if lk.get("href")]
        why = (f"the feed names itself only by relative links ({', '.join(map(repr, links))})"
               if links else "the feed has no self link and no site link")
        for i, e in enumerate(d.entries, start=1):
            yield SourceRecord(line or i, raw_json(dict(e), 5000), error=(
                f"{why}, so its account cannot be named; make its <atom:link rel=\"self\" "
                "href=...> an absolute URL or ingest a copy collected with `socialens collect rss`"))
        return
    for i, e in enumerate(d.entries, start=1):
        yield line or i, raw_json({k: dict.get(e, k) for k in ("id", "link", "title", "published", "updated")}), (e, feed_url, d.feed)


def records(path: Path) -> Iterator:
    def items():
        head = head_text(path, 8192).lstrip()
        if head.startswith("{") and is_jsonl_path(path):  # collected pages, one feed per line
            for rec in iter_jsonl(path):
                if rec.error is not None:
                    yield rec
                elif not _collected_feed(rec.data):
                    yield SourceRecord(rec.line, rec.raw, error=(
                        "not a collected feed page ({\"_socialens\": ..., \"response\": \"<rss...\"})"))
                else:
                    meta = rec.data["_socialens"]
                    yield from _feed_items(rec.data["response"].encode("utf-8"),
                                           meta.get("url"), rec.line)
            return
        yield from _feed_items(read_all(path), None, None)
    return mapped(items(), lambda it: map_entry(*it), what="feed entry")


def tasks(path: Path, timezone: str | None) -> Iterator[tuple[Path, str, Iterator]]:
    yield path, "posts", records(path)
