"""4CAT exports: the CSV (and NDJSON) of a dataset in 4CAT's common column set.

Every 4CAT data source maps its items to at least ``id, thread_id, timestamp, body, author``, and
most add ``author_fullname``/``author_display_name``, ``author_id``, ``subject``, ``link`` (the
post's URL; ``url`` in older exports), ``unix_timestamp``, ``hashtags``/``tags``,
``mentions``, ``urls``/``links`` (comma-separated), engagement counts and reply/repost flags.
Those columns are read; every other column is kept in ``attrs``.

* Platform: from the host of the post's ``link``/``url`` (twitter.com/x.com → ``twitter``,
  bsky.app → ``bluesky``, ``instagram``, ``tiktok``, ``telegram`` (t.me), ``reddit``, ``youtube``,
  ``facebook``, ``threads``), else from the id (an ``at://`` URI → ``bluesky``), else ``4cat``.
  Rows of a known platform get the ids that platform's own reader writes (``twitter:<tweet id>``,
  ``bluesky:<at-uri>``; authors ``twitter:<user id>``, ``bluesky:<did>``), so a 4CAT export joins
  with the same platform's other data.
* Time, in this order: ``created_at`` when it carries a UTC offset (Bluesky); ``timestamp``: a
  number is Unix seconds (Bluesky CSV), a text ``YYYY-MM-DD HH:MM:SS`` is UTC (4CAT writes it from
  the platform's UTC time; ``--timezone`` overrides for an export known to be written in local
  time); ``unix_timestamp`` only when there is no ``timestamp``. ``unix_timestamp`` is not
  trusted because 4CAT's X/Twitter data source computes it as ``naive_utc_time.timestamp()``,
  which Python reads in the 4CAT server's local zone: on a server in Europe/Amsterdam it is one or
  two hours early. When both are present and disagree the difference in seconds is kept in
  ``attrs.unix_timestamp_skew_s``.
* Author: ``<platform>:<author_id>`` when there is an author id, else ``<platform>:<author>``.
* ``thread_id`` is kept in ``attrs.thread_id``; a ``reply_to``/``in_reply_to_id`` column becomes the
  replied-to post, and so does a Bluesky ``replied_to_post``/``quoted_post`` link (``quote_of``)
  that names its author by DID or by the row's own author handle; other links stay in ``attrs``
  (a handle does not give the DID). 4CAT's X/Twitter CSV has no ids of replied-to, quoted or
  reposted tweets (only ``replied_user``/``quoted_user``/``retweeted_user`` handles, kept in
  ``attrs``), and its ``body`` of a retweet is the full retweeted text.
* NDJSON: 4CAT's stored items. Bluesky items (atproto SDK ``model_dump()`` of post views, with
  ``4CAT_metadata``) are read with :mod:`socialens.ingest.bluesky` (observed at
  ``4CAT_metadata.collected_at``); X/Twitter items are tweet objects that the ``twitter_v2``
  reader detects itself; other items are read as mapped rows like the CSV.
Streams (CSV and NDJSON).
"""

from __future__ import annotations

import re
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

__all__ = ["detect", "tasks", "map_item", "map_stored_item", "created_time", "COMMON_COLUMNS"]

COMMON_COLUMNS = {"id", "thread_id", "timestamp", "body", "author"}
_KNOWN = COMMON_COLUMNS | {"author_fullname", "author_display_name", "author_id", "author_profile",
                           "url", "link", "unix_timestamp", "created_at", "hashtags", "tags",
                           "mentions", "urls", "links", "subject", "like_count", "likes",
                           "retweet_count", "reply_count", "quote_count", "repost_count", "shares",
                           "reply_to", "in_reply_to_id", "language", "lang", "language_guess",
                           "languages", "is_retweet", "is_repost"}
_HOSTS = {"twitter.com": "twitter", "x.com": "twitter", "bsky.app": "bluesky",
          "instagram.com": "instagram", "tiktok.com": "tiktok", "t.me": "telegram",
          "reddit.com": "reddit", "youtube.com": "youtube", "youtu.be": "youtube",
          "facebook.com": "facebook", "threads.net": "threads", "threads.com": "threads"}
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_BSKY_LINK = re.compile(r"^https://bsky\.app/profile/([^/]+)/post/([^/?#]+)$")


def _is_stored_bsky(v: Any) -> bool:
    """A Bluesky item as 4CAT stores it: an atproto SDK post view dump (``py_type``, snake_case)."""
    return isinstance(v, dict) and str(v.get("uri", "")).startswith("at://") \
        and isinstance(v.get("record"), dict) \
        and ("4CAT_metadata" in v or str(v.get("py_type", "")).endswith("#postView"))


def detect(path: Path) -> bool:
    if is_csv_path(path):
        return COMMON_COLUMNS <= set(csv_header(path))
    if is_jsonl_path(path):
        v = first_json_value(path)
        return isinstance(v, dict) and (COMMON_COLUMNS <= set(v) or _is_stored_bsky(v))
    return False


def _host_platform(url: Any) -> str | None:
    try:
        host = (urlparse(str(url or "")).hostname or "").lower()
    except ValueError:
        return None
    host = host[4:] if host.startswith("www.") else host
    host = host[2:] if host.startswith("m.") else host
    return _HOSTS.get(host)


def _platform(r: dict) -> str:
    for col in ("link", "url", "author_profile"):
        p = _host_platform(r.get(col))
        if p:
            return p
    if str(r.get("id") or "").startswith("at://did:"):
        return "bluesky"
    return "4cat"


#: Entity kinds and the columns that list them; a kind whose columns the export lacks is read from
#: the text (socialens.text), as enrichment does.
_ENTITY_COLUMNS = (("hashtag", ("hashtags", "tags")), ("mention", ("mentions",)),
                   ("url", ("urls", "links")))


def _split(v: Any) -> list[str]:
    if isinstance(v, list):
        return [str(x) for x in v]
    s = clean_str(v)
    return [x.strip() for x in s.split(",") if x.strip()] if s else []


def _epoch(value: str, field: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise RecordError(f"{field} {value[:20]!r} is not a Unix time", field) from exc


def created_time(r: dict, tz: str | None = None) -> tuple[datetime, int | None]:
    """The creation time of a 4CAT item and the skew of its ``unix_timestamp`` (seconds, or None).

    The rule is the module docstring's: ``created_at`` with an offset, else ``timestamp`` (a
    number is Unix seconds; a text is UTC unless ``tz`` says otherwise), else ``unix_timestamp``.

    >>> created_time({"timestamp": "2021-04-08 19:34:16", "unix_timestamp": "1617903256"})
    (datetime.datetime(2021, 4, 8, 19, 34, 16, tzinfo=datetime.timezone.utc), -7200)
    >>> created_time({"timestamp": "1730647063"})[0].isoformat()
    '2024-11-03T15:17:43+00:00'
    """
    created = None
    iso = clean_str(r.get("created_at"))
    if iso:
        try:
            created = parse_time(iso, "created_at")
        except RecordError:
            created = None  # no offset (or not ISO): the timestamp decides
    ts = clean_str(r.get("timestamp"))
    if created is None and ts:
        created = _epoch(ts, "timestamp") if _NUMBER.match(ts) else parse_time(ts, "timestamp", tz or "UTC")
    unix = clean_str(r.get("unix_timestamp"))
    if created is None and unix:
        created = _epoch(unix, "unix_timestamp")
    if created is None and iso:
        created = parse_time(iso, "created_at", tz or "UTC")
    if created is None:
        raise RecordError("timestamp is missing", "timestamp")
    skew = None
    if unix and _NUMBER.match(unix):
        try:
            d = round(float(unix) - created.timestamp())
        except (OverflowError, ValueError):  # a unix_timestamp beyond any date: no skew to tell
            d = None
        skew = d if d else None
    return created, skew


def _bsky_link(link: Any, handle: str | None, did: str | None) -> tuple[str, str] | None:
    """``(post_id, account_id)`` of a bsky.app post link whose author is named by DID, or by the
    handle of the row's own author (``handle`` → ``did``: a reply in one's own thread)."""
    m = _BSKY_LINK.match(clean_str(link) or "")
    if not m:
        return None
    who = m.group(1)
    if not who.startswith("did:"):
        if not (handle and did and who.lower() == handle.lower() and did.startswith("did:")):
            return None
        who = did
    return f"bluesky:at://{who}/app.bsky.feed.post/{m.group(2)}", f"bluesky:{who}"


def _mention(platform: str, m: str) -> str:
    # 4CAT's Bluesky mentions are handles, or DIDs when the handle could not be looked up; the
    # Bluesky reader writes a mention as the account id bluesky:<did>
    return f"bluesky:{m}" if platform == "bluesky" and m.startswith("did:") else m


def map_item(r: Any, tz: str | None = None) -> Rows:
    """One mapped 4CAT item (a CSV row, or an NDJSON object in the same columns) → post + author."""
    if not isinstance(r, dict):
        raise RecordError(f"expected an object/row, got {type(r).__name__}")
    pid = clean_str(r.get("id"))
    if not pid:
        raise RecordError("id is missing", "id")
    platform = _platform(r)
    created, skew = created_time(r, tz)
    author_id = clean_str(r.get("author_id"))
    author = clean_str(r.get("author"))
    native = author_id or author
    if not native:
        raise RecordError("the item has no author or author_id", "author")
    attrs = {k: v for k, v in r.items() if k not in _KNOWN and v not in (None, "")}
    if skew:
        attrs["unix_timestamp_skew_s"] = skew
    thread = clean_str(r.get("thread_id"))
    if thread and thread != pid:
        attrs["thread_id"] = thread
    if clean_str(r.get("subject")):
        attrs["subject"] = clean_str(r.get("subject"))
    reply = clean_str(r.get("in_reply_to_id")) or clean_str(r.get("reply_to"))
    reply_post = f"{platform}:{reply}" if reply and reply.isdigit() else None
    reply_account = None
    quote = None
    if platform == "bluesky":
        if (link := _bsky_link(r.get("replied_to_post"), author, author_id)) is not None:
            reply_post, reply_account = link
        if (link := _bsky_link(r.get("quoted_post"), author, author_id)) is not None:
            quote = link[0]
    repost = False
    for flag in ("is_retweet", "is_repost"):
        try:
            repost = repost or bool(parse_bool(r.get(flag), flag, default=False))
        except RecordError:
            pass
    if repost:
        attrs["is_repost"] = True
    langs = _split(r.get("language") or r.get("lang") or r.get("language_guess") or r.get("languages"))
    lang = langs[0] if langs and langs[0] != "N/A" else None
    account_id = f"{platform}:{native}"
    return [
        post_row(platform, pid, account_id, created, text=r.get("body"), lang=lang,
                 reply_to_post_id=reply_post, reply_to_account_id=reply_account, quote_of=quote,
                 like_count=r.get("like_count") or r.get("likes"),
                 repost_count=r.get("retweet_count") or r.get("repost_count") or r.get("shares"),
                 reply_count=r.get("reply_count"), quote_count=r.get("quote_count"),
                 url=r.get("link") or r.get("url"), attrs=attrs or None,
                 ents=entities(hashtags=_split(r.get("hashtags") or r.get("tags")),
                               mentions=[_mention(platform, m) for m in _split(r.get("mentions"))],
                               urls=_split(r.get("urls") or r.get("links"))),
                 text_kinds=[k for k, cols in _ENTITY_COLUMNS if not any(c in r for c in cols)]),
        account_row(platform, native, handle=author if author_id else author,
                    display_name=r.get("author_fullname") or r.get("author_display_name"),
                    url=r.get("author_profile")),
    ]


def map_stored_item(v: Any, tz: str | None = None) -> Rows:
    """One line of a 4CAT NDJSON: a stored Bluesky post view, else a mapped item."""
    if _is_stored_bsky(v):
        from socialens.ingest import bluesky

        meta = v.get("4CAT_metadata") if isinstance(v.get("4CAT_metadata"), dict) else {}
        seen = None
        if isinstance(meta.get("collected_at"), int | float):
            try:
                seen = datetime.fromtimestamp(meta["collected_at"], UTC)
            except (ValueError, OverflowError, OSError):
                seen = None  # a secondary stamp: the post still loads, without a snapshot time
        return bluesky.map_post_view(bluesky.from_sdk_dump(v), seen)
    return map_item(v, tz)


def tasks(path: Path, timezone: str | None) -> Iterator[tuple[Path, str, Iterator]]:
    if is_csv_path(path):
        _, recs = iter_csv(path)
        yield path, "posts", mapped(recs, lambda r: map_item(r, timezone), what="4CAT item")
    else:
        yield path, "posts", mapped(iter_jsonl(path), lambda r: map_stored_item(r, timezone),
                                    what="4CAT item")
