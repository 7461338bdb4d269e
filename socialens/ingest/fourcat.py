"""4CAT exports: the CSV (and NDJSON) of a dataset in 4CAT's common column set.

Every 4CAT data source maps its items to at least ``id, thread_id, timestamp, body, author``, and
most add ``author_fullname``, ``author_id``, ``subject``, ``url``, ``unix_timestamp``,
``hashtags``/``mentions``/``urls`` (comma-separated), engagement counts and reply/repost flags.
Those columns are read; every other column is kept in ``attrs``.

* Platform: from the post ``url`` host (twitter.com/x.com → ``twitter``, bsky.app → ``bluesky``,
  ``instagram``, ``tiktok``, ``telegram`` (t.me), ``reddit``, ``youtube``, ``facebook``,
  ``threads``), else ``4cat``.
* Time: ``unix_timestamp`` when present (exact), else ``timestamp``, which 4CAT writes in UTC
  without an offset: it is read as UTC unless ``--timezone`` says otherwise.
* Author: ``<platform>:<author_id>`` when there is an author id, else ``<platform>:<author>``.
* ``thread_id`` is kept in ``attrs.thread_id``; a ``reply_to``/``in_reply_to_id`` column becomes the
  replied-to post.
Streams (CSV and NDJSON).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from socialens.errors import RecordError
from socialens.ingest._platform import (
    Rows,
    account_row,
    csv_header,
    entities,
    first_json_value,
    is_csv_path,
    is_jsonl_path,
    mapped,
    post_row,
)
from socialens.ingest.sources import iter_csv, iter_jsonl
from socialens.ingest.values import clean_str, parse_bool, parse_time

__all__ = ["detect", "tasks", "map_item", "COMMON_COLUMNS"]

COMMON_COLUMNS = {"id", "thread_id", "timestamp", "body", "author"}
_KNOWN = COMMON_COLUMNS | {"author_fullname", "author_id", "url", "unix_timestamp", "hashtags",
                           "mentions", "urls", "subject", "like_count", "likes", "retweet_count",
                           "reply_count", "quote_count", "repost_count", "shares", "reply_to",
                           "in_reply_to_id", "language", "lang", "is_retweet", "is_repost"}
_HOSTS = {"twitter.com": "twitter", "x.com": "twitter", "bsky.app": "bluesky",
          "instagram.com": "instagram", "tiktok.com": "tiktok", "t.me": "telegram",
          "reddit.com": "reddit", "youtube.com": "youtube", "youtu.be": "youtube",
          "facebook.com": "facebook", "threads.net": "threads", "threads.com": "threads"}


def detect(path: Path) -> bool:
    if is_csv_path(path):
        return COMMON_COLUMNS <= set(csv_header(path))
    if is_jsonl_path(path):
        v = first_json_value(path)
        return isinstance(v, dict) and COMMON_COLUMNS <= set(v)
    return False


def _platform(url: Any) -> str:
    try:
        host = (urlparse(str(url or "")).hostname or "").lower()
    except ValueError:
        return "4cat"
    host = host[4:] if host.startswith("www.") else host
    host = host[2:] if host.startswith("m.") else host
    return _HOSTS.get(host, "4cat")


def _split(v: Any) -> list[str]:
    if isinstance(v, list):
        return [str(x) for x in v]
    s = clean_str(v)
    return [x.strip() for x in s.split(",") if x.strip()] if s else []


def map_item(r: Any, tz: str | None = None) -> Rows:
    if not isinstance(r, dict):
        raise RecordError(f"expected an object/row, got {type(r).__name__}")
    pid = clean_str(r.get("id"))
    if not pid:
        raise RecordError("id is missing", "id")
    platform = _platform(r.get("url"))
    unix = clean_str(r.get("unix_timestamp"))
    if unix:
        try:
            created = datetime.fromtimestamp(float(unix), UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise RecordError(f"unix_timestamp {unix[:20]!r} is not a number", "unix_timestamp") from exc
    else:
        created = parse_time(r.get("timestamp"), "timestamp", tz or "UTC")
        if created is None:
            raise RecordError("timestamp is missing", "timestamp")
    author_id = clean_str(r.get("author_id"))
    author = clean_str(r.get("author"))
    native = author_id or author
    if not native:
        raise RecordError("the item has no author or author_id", "author")
    attrs = {k: v for k, v in r.items() if k not in _KNOWN and v not in (None, "")}
    thread = clean_str(r.get("thread_id"))
    if thread and thread != pid:
        attrs["thread_id"] = thread
    if clean_str(r.get("subject")):
        attrs["subject"] = clean_str(r.get("subject"))
    reply = clean_str(r.get("in_reply_to_id")) or clean_str(r.get("reply_to"))
    repost = False
    for flag in ("is_retweet", "is_repost"):
        try:
            repost = repost or bool(parse_bool(r.get(flag), flag, default=False))
        except RecordError:
            pass
    if repost:
        attrs["is_repost"] = True
    account_id = f"{platform}:{native}"
    return [
        post_row(platform, pid, account_id, created, text=r.get("body") or None,
                 lang=r.get("language") or r.get("lang"),
                 reply_to_post_id=f"{platform}:{reply}" if reply and reply.isdigit() else None,
                 like_count=r.get("like_count") or r.get("likes"),
                 repost_count=r.get("retweet_count") or r.get("repost_count") or r.get("shares"),
                 reply_count=r.get("reply_count"), quote_count=r.get("quote_count"),
                 url=r.get("url"), attrs=attrs or None,
                 ents=entities(hashtags=_split(r.get("hashtags")), mentions=_split(r.get("mentions")),
                               urls=_split(r.get("urls")))),
        account_row(platform, native, handle=author if author_id else author,
                    display_name=r.get("author_fullname")),
    ]


def tasks(path: Path, timezone: str | None) -> Iterator[tuple[Path, str, Iterator]]:
    if is_csv_path(path):
        _, recs = iter_csv(path)
    else:
        recs = iter_jsonl(path)
    yield path, "posts", mapped(recs, lambda r: map_item(r, timezone), what="4CAT item")
