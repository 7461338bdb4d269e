"""X (Twitter) API v1.1 JSON: status (tweet) objects and user objects.

Shapes read (see ``docs/formats.md``):

* JSON Lines of statuses (twarc 1) or of users, one object per line — streamed;
* a JSON document holding an array of statuses (``statuses/user_timeline``) or users
  (``users/lookup``), a ``search/tweets`` page (``{"statuses": [...]}``) or a cursored user page
  (``lists/members``, ``followers/list``, ``friends/list``: ``{"users": [...], "next_cursor": ...}``);
* JSON Lines whose lines are such pages (what a collector writes).

A whole JSON document has to be parsed at once (the standard library has no streaming JSON parser);
API pages are small, so this is bounded in practice. Each status or user is one record; its line
is the JSONL line, or the 1-based position of the item in a JSON document.

Counters (followers, friends, statuses, listed) become a snapshot observed when the page was
retrieved, and only then: at the page's stamp (``__twarc`` or ``_socialens`` ``retrieved_at``), or,
for a streamed status, at its ``timestamp_ms`` (when the stream delivered it, with its users
rendered at that moment). A REST page without a stamp (``statuses/user_timeline``, ``users/lookup``
saved as they came) gives accounts without snapshots: a tweet's time is not when its author's
counters were seen, and dating them there would back-date them.

A status whose author is ``protected`` is recorded with ``visibility = 'followers'``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from socialens.errors import RecordError
from socialens.ingest._platform import (
    Rows,
    account_row,
    as_id,
    entities,
    first_json_value,
    html_to_text,
    is_json_lines,
    is_jsonl_path,
    mapped,
    maybe_time,
    named_json_lines,
    need,
    post_row,
    raw_json,
    snapshot_row,
    twitter_time,
)
from socialens.ingest.sources import iter_jsonl, load_document

__all__ = ["detect", "tasks", "map_status", "map_user", "records"]

PLATFORM = "twitter"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _is_status(d: Any) -> bool:
    return isinstance(d, dict) and "id_str" in d and "user" in d and (
        "text" in d or "full_text" in d
    )


def _is_user(d: Any) -> bool:
    return isinstance(d, dict) and "id_str" in d and "screen_name" in d and "followers_count" in d


def _kind(v: Any) -> str | None:
    """'statuses' or 'users' for a v1.1 payload (one object, an array, or a page)."""
    if isinstance(v, list):  # the first recognisable item decides (a damaged first one does not)
        return next((k for k in map(_kind, v[:50]) if k), None)
    if _is_status(v):
        return "statuses"
    if _is_user(v):
        return "users"
    if isinstance(v, dict):
        for key, kind in (("statuses", "statuses"), ("users", "users")):
            items = v.get(key)
            if isinstance(items, list) and items and any(_kind(x) == kind for x in items[:50]):
                return kind
    return None


def detect(path: Path) -> bool:
    return is_jsonl_path(path) and _kind(first_json_value(path)) is not None


# -- mapping ----------------------------------------------------------------------------------
def _id(d: dict, key: str) -> str | None:
    v = d.get(key + "_str") or d.get(key)
    return None if v in (None, "") else as_id(v, key)


def _user_url(u: dict) -> str | None:
    try:
        urls = u["entities"]["url"]["urls"]
        return urls[0].get("expanded_url") or urls[0].get("url")
    except (KeyError, IndexError, TypeError):
        return u.get("url") or None


def map_user(u: Any, observed_at: datetime | None = None, *, with_status: bool = True) -> Rows:
    """A v1.1 user → account, snapshot (when ``observed_at``), and its embedded latest status."""
    uid = _id(u, "id") if isinstance(u, dict) else None
    if not uid:
        raise RecordError("the user object has no id_str", "id_str")
    need(u, "screen_name", "user")
    acc = account_row(
        PLATFORM, uid, handle=u.get("screen_name"), display_name=u.get("name"),
        bio=u.get("description"), url=_user_url(u),
        created_at=maybe_time(u.get("created_at"), twitter_time),
        attrs={k: u.get(k) for k in ("location", "verified", "protected", "lang", "time_zone")},
    )
    account_id = acc[1]["account_id"]
    rows: Rows = [acc, *snapshot_row(
        account_id, observed_at, followers=u.get("followers_count"),
        following=u.get("friends_count"), posts_count=u.get("statuses_count"),
        listed_count=u.get("listed_count"),
    )]
    st = u.get("status")
    if with_status and isinstance(st, dict):
        try:
            rows.extend(map_status(st, author=u, observed_at=None, nested=True))
        except RecordError:
            pass  # the embedded status is secondary: if it is broken the account still loads
    return rows


def map_status(
    s: Any, *, author: dict | None = None, observed_at: datetime | None = None, nested: bool = False
) -> Rows:
    """A v1.1 status → post, author account + snapshot, and the retweeted/quoted originals.

    ``author`` is given for the ``status`` embedded in a user object (which has no ``user``).
    """
    if not isinstance(s, dict):
        raise RecordError(f"expected a status object, got {type(s).__name__}")
    sid = _id(s, "id")
    if not sid:
        raise RecordError("the status has no id_str", "id_str")
    user = s.get("user") if isinstance(s.get("user"), dict) else author
    if not user or not _id(user, "id"):
        raise RecordError("the status has no user (author) object", "user")
    uid = _id(user, "id")
    created = twitter_time(need(s, "created_at", "status"))
    observed_at = observed_at or _delivered(s)
    ext = s.get("extended_tweet") if isinstance(s.get("extended_tweet"), dict) else {}
    text = ext.get("full_text") or s.get("full_text") or s.get("text")
    ent = ext.get("entities") or s.get("entities") or {}
    ents = entities(
        hashtags=[h.get("text") for h in ent.get("hashtags") or [] if isinstance(h, dict)],
        mentions=[m.get("screen_name") for m in ent.get("user_mentions") or [] if isinstance(m, dict)],
        urls=[u.get("expanded_url") or u.get("url") for u in ent.get("urls") or [] if isinstance(u, dict)],
    ) if ent else None  # no entities object: post_row finds them in the text
    rt = s.get("retweeted_status") if isinstance(s.get("retweeted_status"), dict) else None
    qt = s.get("quoted_status") if isinstance(s.get("quoted_status"), dict) else None
    quote_id = _id(s, "quoted_status_id") or (_id(qt, "id") if qt else None)
    reply_to = _id(s, "in_reply_to_status_id")
    reply_user = _id(s, "in_reply_to_user_id")
    handle = user.get("screen_name")
    post = post_row(
        PLATFORM, sid, f"{PLATFORM}:{uid}", created,
        text=text, lang=s.get("lang"),
        reply_to_post_id=f"{PLATFORM}:{reply_to}" if reply_to else None,
        reply_to_account_id=f"{PLATFORM}:{reply_user}" if reply_user else None,
        quote_of=f"{PLATFORM}:{quote_id}" if quote_id else None,
        repost_of=f"{PLATFORM}:{_id(rt, 'id')}" if rt and _id(rt, "id") else None,
        like_count=s.get("favorite_count"), repost_count=s.get("retweet_count"),
        reply_count=s.get("reply_count"), quote_count=s.get("quote_count"),
        url=f"https://twitter.com/{handle or 'i/web'}/status/{sid}",
        attrs={"source": html_to_text(s.get("source")), "truncated": s.get("truncated") or None,
               "in_reply_to_screen_name": s.get("in_reply_to_screen_name")},
        ents=ents,
        visibility="followers" if user.get("protected") is True else "public",
    )
    rows: Rows = [post]
    if not nested or s.get("user"):
        rows.extend(map_user(user, observed_at, with_status=False))
    for inner in (rt, qt):
        if inner and isinstance(inner.get("user"), dict):
            try:
                rows.extend(map_status(inner, observed_at=observed_at))
            except RecordError:
                pass
    return rows


# -- reading ----------------------------------------------------------------------------------
def _stamp(page: Any) -> datetime | None:
    if not isinstance(page, dict):
        return None
    meta = page.get("__twarc") or page.get("_socialens") or {}
    return maybe_time(meta.get("retrieved_at")) if isinstance(meta, dict) else None


def _delivered(s: dict) -> datetime | None:
    """When the streaming API delivered a status (``timestamp_ms``); None for REST statuses."""
    ms = s.get("timestamp_ms")
    if isinstance(ms, bool) or ms in (None, ""):
        return None
    try:
        return _EPOCH + timedelta(milliseconds=int(ms))
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _page_items(doc: Any) -> tuple[str | None, list, datetime | None]:
    """(kind, items, observed_at) of one payload."""
    kind = _kind(doc)
    if isinstance(doc, list):
        items = doc
    elif isinstance(doc, dict) and kind and isinstance(doc.get(kind), list):
        items = doc[kind]
    elif isinstance(doc, dict) and kind is None and not _is_status(doc) and not _is_user(doc) and (
            key := next((k for k in ("statuses", "users") if isinstance(doc.get(k), list)), None)):
        kind, items = key, doc[key]  # a page whose items are all damaged: each on its own
    else:
        items = [doc]
    return kind, items, _stamp(doc)


def _map(item: Any) -> Rows:
    kind, d, observed = item
    if kind == "users" or (kind is None and _is_user(d)):
        return map_user(d, observed)
    return map_status(d, observed_at=observed)


def records(path: Path) -> Iterator:
    """``(line, raw, rows, error)`` for every status or user in the file."""
    head = first_json_value(path)
    whole_doc = not named_json_lines(path) and not (isinstance(head, dict) and is_json_lines(path))

    def items():
        if whole_doc:
            doc, _ = load_document(path)  # values too deep are cut, and quarantined by mapped
            kind, its, observed = _page_items(doc)
            for i, d in enumerate(its, start=1):
                yield i, raw_json(d), (kind or _kind(d), d, observed)
            return
        for rec in iter_jsonl(path):
            if rec.error is not None:
                yield rec
                continue
            kind, its, observed = _page_items(rec.data)
            for d in its:
                yield rec.line, rec.raw if len(its) == 1 else raw_json(d), (kind, d, observed)
    return mapped(items(), _map, what="v1.1 object")


def tasks(path: Path, timezone: str | None) -> Iterator[tuple[Path, str, Iterator]]:
    kind = _kind(first_json_value(path))
    yield path, "accounts" if kind == "users" else "posts", records(path)
