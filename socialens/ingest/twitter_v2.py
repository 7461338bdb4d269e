"""X (Twitter) API v2: JSON Lines as written by twarc2, and the flat one-tweet-per-row CSV of twarc-csv.

Three shapes are read (see ``docs/formats.md``):

* **response pages** (``twarc2 search/timeline/tweets/users/following``): one JSON object per line
  with ``data`` (tweets or users), ``includes`` (``users``, ``tweets`` expansions), ``errors``
  (deleted/protected tweets) and twarc's ``__twarc`` stamp (``url``, ``version``,
  ``retrieved_at``);
* **flattened tweets** (``twarc2 flatten``): one tweet per line with the ``author`` embedded;
* **twarc-csv** rows (``twarc2 csv``): dotted column names (``author.username``,
  ``public_metrics.like_count``, ``referenced_tweets.quoted.id``), lists as JSON strings (entities
  as lists of strings: ``["#tag"]``, ``["@user"]``, ``["https://..."]``), booleans as
  ``True``/``False``; the users CSV (``twarc2 csv --input-data-type users``) too.

Each tweet (or user) is one record: a page line with 100 tweets yields 100 records, all reported at
that line. A page's ``errors`` (a pinned or referenced tweet that is missing, a requested user that
is not found) are not records: they are counted apart, in ``FileReport.api_errors`` (printed by
``socialens ingest``), by resource type, title and parameter. A user page's pinned tweets
(``includes.tweets``) load as the users' posts.

Counters (followers, ...) become a snapshot observed at the page's retrieval time (``__twarc`` or
``_socialens`` ``retrieved_at``), and only then: an unstamped page gives accounts without snapshots.
A tweet whose author is ``protected`` is recorded with ``visibility = 'followers'``.
Streams line by line: memory does not grow with the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from socialens.errors import RecordError
from socialens.ingest._platform import (
    Rows,
    account_row,
    as_id,
    csv_header,
    entities,
    first_json_value,
    is_csv_path,
    is_jsonl_path,
    iso_time,
    mapped,
    maybe_time,
    need,
    post_row,
    raw_json,
    snapshot_row,
)
from socialens.ingest.loader import ApiError
from socialens.ingest.sources import SourceRecord, iter_csv, iter_jsonl, loads, too_deep_error

__all__ = ["detect", "tasks", "map_tweet", "map_user", "records", "line_records", "csv_records",
           "unflatten"]

PLATFORM = "twitter"
_FOLLOW_URL = re.compile(r"/2/users/(\d+)/(following|followers)\b")


# -- detection --------------------------------------------------------------------------------
def _is_v2_tweet(d: Any) -> bool:
    return isinstance(d, dict) and "id" in d and "text" in d and (
        "author_id" in d or "edit_history_tweet_ids" in d or "public_metrics" in d
    ) and "user" not in d and "id_str" not in d


def _is_v2_user(d: Any) -> bool:
    return isinstance(d, dict) and "username" in d and "id" in d and "acct" not in d and (
        "public_metrics" in d or "name" in d
    )


def _unwrap(v: Any) -> Any:
    """A page collected by ``socialens collect x`` (``{"_socialens": {...}, "response": page}``) as
    a twarc-style page: the response with the stamp inside it."""
    if isinstance(v, dict) and isinstance(v.get("_socialens"), dict) and isinstance(v.get("response"), dict):
        return {**v["response"], "_socialens": v["_socialens"]}
    return v


def _is_users_csv(h: set[str]) -> bool:
    """The header of twarc-csv's users CSV: user columns, no tweet text."""
    return {"id", "username"} <= h and "text" not in h and bool(
        h & {"public_metrics.followers_count", "__twarc.retrieved_at", "created_at"})


def _is_v2_list(d: Any) -> bool:
    return isinstance(d, dict) and "id" in d and "name" in d and (
        "member_count" in d or "owner_id" in d or "follower_count" in d) and "username" not in d


def detect(path: Path) -> bool:
    """twarc2 JSONL (pages or flattened tweets) or twarc-csv (tweets or users)."""
    if is_csv_path(path):
        h = set(csv_header(path))
        return ({"id", "author_id", "text"} <= h and bool(
            h & {"referenced_tweets.replied_to.id", "public_metrics.like_count", "__twarc.retrieved_at",
                 "author.username", "edit_history_tweet_ids"}
        )) or _is_users_csv(h)
    if not is_jsonl_path(path):
        return False
    v = _unwrap(first_json_value(path))
    if not isinstance(v, dict):
        return False
    if "data" in v:
        data = v["data"]
        first = data[0] if isinstance(data, list) and data else data
        return _is_v2_tweet(first) or _is_v2_user(first) or _is_v2_list(first)
    return _is_v2_tweet(v)


# -- mapping ----------------------------------------------------------------------------------
def _user_url(u: dict) -> str | None:
    try:
        first = u["entities"]["url"]["urls"][0]
    except (KeyError, IndexError, TypeError):
        return u.get("url") or None
    if isinstance(first, str):  # twarc-csv writes the expanded URLs as a list of strings
        return first or u.get("url") or None
    if isinstance(first, dict):
        return first.get("expanded_url") or first.get("url") or u.get("url") or None
    return u.get("url") or None


def _flag(v: Any) -> bool:
    """A boolean field: JSON ``true`` or twarc-csv's ``True``."""
    return v is True or (isinstance(v, str) and v.strip().lower() == "true")


def map_user(u: Any, observed_at: datetime | None = None) -> Rows:
    """A v2 user object → its account row and (when ``observed_at`` is known) a snapshot."""
    uid = as_id(need(u, "id", "user"), "id")
    pm = u.get("public_metrics") or {}
    attrs = {k: u.get(k) for k in ("location", "verified", "verified_type", "pinned_tweet_id",
                                   "profile_image_url")}
    attrs["verified"] = _flag(attrs["verified"]) if attrs["verified"] is not None else None
    attrs["protected"] = _flag(u["protected"]) if u.get("protected") not in (None, "") else None
    acc = account_row(
        PLATFORM, uid, handle=u.get("username"), display_name=u.get("name"),
        bio=u.get("description"), url=_user_url(u),
        created_at=maybe_time(u.get("created_at")), attrs=attrs,
    )
    return [acc, *snapshot_row(
        acc[1]["account_id"], observed_at, followers=pm.get("followers_count"),
        following=pm.get("following_count"), posts_count=pm.get("tweet_count"),
        listed_count=pm.get("listed_count"),
    )]


def _bare_account(uid: str) -> tuple[str, dict]:
    """The author of a tweet whose user expansion is missing: an account with only its id."""
    return account_row(PLATFORM, uid, attrs={"incomplete": True})


def _items(ent: dict, key: str, *fields: str) -> list:
    """The values of one entity list: ``field`` of each object, or the item itself when it is a
    string (twarc-csv writes entities as ``["#tag"]``, ``["@user"]``, ``["https://..."]``)."""
    out = []
    for x in ent.get(key) or []:
        if isinstance(x, str):
            out.append(x)
        elif isinstance(x, dict):
            out.append(next((x[f] for f in fields if x.get(f)), None))
    return out


def _ents(ent: dict | None) -> list[tuple[str, str]]:
    ent = ent if isinstance(ent, dict) else {}
    return entities(
        hashtags=_items(ent, "hashtags", "tag"),
        mentions=_items(ent, "mentions", "username"),
        urls=_items(ent, "urls", "unwound_url", "expanded_url", "url"),
    )


def map_tweet(
    t: Any,
    *,
    users: dict[str, dict] | None = None,
    tweets: dict[str, dict] | None = None,
    observed_at: datetime | None = None,
    _depth: int = 0,
) -> Rows:
    """A v2 tweet → ``[post, author account, author snapshot, referenced posts..., mentioned accounts...]``.

    ``users`` and ``tweets`` are the page's ``includes`` indexed by id; a flattened tweet carries its
    ``author`` itself.
    """
    tid = as_id(need(t, "id", "tweet"), "id")
    author_id = t.get("author_id") or (t.get("author") or {}).get("id")
    if not author_id:
        raise RecordError(
            "the tweet has no author_id; collect with tweet.fields=author_id (twarc2 does by default)",
            "author_id",
        )
    author_id = as_id(author_id, "author_id")
    if not t.get("created_at"):
        raise RecordError(
            "the tweet has no created_at; collect with tweet.fields=created_at", "created_at"
        )
    created = iso_time(t["created_at"])
    users = users or {}
    tweets = tweets or {}
    author = t.get("author") if isinstance(t.get("author"), dict) else users.get(author_id)
    secondary: Rows = map_user(author, observed_at) if author else [_bare_account(author_id)]
    refs = {}
    for r in t.get("referenced_tweets") or []:
        if isinstance(r, dict) and r.get("type") and r.get("id"):
            refs[r["type"]] = f"{PLATFORM}:{as_id(r['id'], 'referenced_tweets.id')}"
    note = t.get("note_tweet") if isinstance(t.get("note_tweet"), dict) else None
    text = note.get("text") if note and note.get("text") else t.get("text")
    ents = _ents(note.get("entities") if note and note.get("entities") else t.get("entities"))
    pm = t.get("public_metrics") or {}
    reply_user = t.get("in_reply_to_user_id")
    username = author.get("username") if author else None
    history = t.get("edit_history_tweet_ids") or []
    attrs = {
        "source": t.get("source"),
        "conversation_id": t.get("conversation_id"),
        "edit_history_tweet_ids": history if len(history) > 1 else None,
        "possibly_sensitive": True if _flag(t.get("possibly_sensitive")) else None,
        "impression_count": pm.get("impression_count"),
        "bookmark_count": pm.get("bookmark_count"),
        "long_post": True if note else None,
    }
    post = post_row(
        PLATFORM, tid, f"{PLATFORM}:{author_id}", created,
        text=text, lang=t.get("lang"),
        reply_to_post_id=refs.get("replied_to"),
        reply_to_account_id=f"{PLATFORM}:{as_id(reply_user, 'in_reply_to_user_id')}" if reply_user else None,
        quote_of=refs.get("quoted"), repost_of=refs.get("retweeted"),
        like_count=pm.get("like_count"), repost_count=pm.get("retweet_count"),
        reply_count=pm.get("reply_count"), quote_count=pm.get("quote_count"),
        url=f"https://twitter.com/{username or 'i/web'}/status/{tid}",
        attrs=attrs, ents=ents,
        visibility="followers" if author and _flag(author.get("protected")) else "public",
    )
    rows: Rows = [post, *secondary]
    # referenced tweets from the includes (the retweeted/quoted/replied-to originals) and their authors
    if _depth == 0:
        for ref_id in refs.values():
            ref = tweets.get(ref_id.split(":", 1)[1])
            if ref:
                try:
                    rows.extend(map_tweet(ref, users=users, observed_at=observed_at, _depth=1))
                except RecordError:
                    pass  # a secondary row that cannot be mapped is simply not loaded
        for m in ((t.get("entities") if isinstance(t.get("entities"), dict) else None) or {}).get("mentions") or []:
            mid = m.get("id") if isinstance(m, dict) else None
            if mid and str(mid) in users:
                rows.extend(map_user(users[str(mid)], observed_at))
    return rows


# -- reading ----------------------------------------------------------------------------------
def _page_time(page: dict) -> datetime | None:
    meta = page.get("__twarc") or page.get("_socialens") or {}
    return maybe_time(meta.get("retrieved_at")) if isinstance(meta, dict) else None


def _follow_edges(page: dict, users: list[dict], observed_at: datetime | None) -> dict[str, Rows]:
    meta = page.get("__twarc") or page.get("_socialens") or {}
    m = _FOLLOW_URL.search(str(meta.get("url") or "")) if isinstance(meta, dict) else None
    if not m:
        return {}
    owner, direction = m.group(1), m.group(2)
    out = {}
    for u in users:
        uid = str(u.get("id")) if isinstance(u, dict) and u.get("id") else None
        if uid:
            src, dst = (owner, uid) if direction == "following" else (uid, owner)
            out[uid] = [("edges", {"src": f"{PLATFORM}:{src}", "dst": f"{PLATFORM}:{dst}",
                                   "kind": "follows", "weight": 1.0, "observed_at": observed_at,
                                   "window_start": None, "window_end": None})]
    return out


def _api_errors(rec: SourceRecord) -> Iterator[tuple[int, str, Any]]:
    for e in rec.data.get("errors") or []:
        yield rec.line, raw_json(e), ({"kind": "error"}, e)


def _expand(rec: SourceRecord) -> Iterator[SourceRecord | tuple[int, str, Any]]:
    """One JSONL line → one item per tweet/user (pages) or the line itself (flattened), then one
    item per entry of the page's ``errors``."""
    if rec.error is None:
        rec = SourceRecord(rec.line, rec.raw, data=_unwrap(rec.data))
    if rec.error is None and isinstance(rec.data, dict) and "data" not in rec.data \
            and "id" not in rec.data and ("_socialens" in rec.data or "errors" in rec.data):
        # a page with no results (meta.result_count 0), or with errors only: no records
        if isinstance(rec.data.get("errors"), list):
            yield from _api_errors(rec)
        return
    if rec.error is not None or not isinstance(rec.data, dict) or "data" not in rec.data:
        yield rec
        return
    page = rec.data
    observed = _page_time(page)
    inc = page.get("includes") if isinstance(page.get("includes"), dict) else {}

    def expansions(key: str) -> list:  # a page's includes of the wrong shape expand nothing
        v = inc.get(key)
        return v if isinstance(v, list) else []
    users = {str(u["id"]): u for u in expansions("users") if isinstance(u, dict) and "id" in u}
    tweets = {str(x["id"]): x for x in expansions("tweets") if isinstance(x, dict) and "id" in x}
    data = page["data"]
    data = data if isinstance(data, list) else [data]
    is_users = bool(data) and all(_is_v2_user(d) and "text" not in d for d in data)
    is_lists = bool(data) and all(_is_v2_list(d) for d in data)
    edges = _follow_edges(page, data, observed) if is_users else {}
    for d in data:
        ctx = {"kind": "user" if is_users else "list" if is_lists else "tweet", "users": users,
               "tweets": tweets, "observed_at": observed, "edges": edges}
        yield rec.line, raw_json(d), (ctx, d)
    if isinstance(page.get("errors"), list):
        yield from _api_errors(rec)


class _ApiErrorEntry(RecordError):
    """Raised for an ``errors`` entry; :func:`records` turns it into a loader :class:`ApiError`."""


def _api_error_kind(e: Any) -> str:
    if not isinstance(e, dict):
        return "malformed error entry"
    kind = f"{e.get('resource_type') or 'resource'}: {e.get('title') or 'error'}"
    return f"{kind} ({e['parameter']})" if e.get("parameter") else kind


def _map_item(item: Any) -> Rows:
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], dict):
        ctx, d = item
        if ctx["kind"] == "error":
            raise _ApiErrorEntry(_api_error_kind(d))
        if ctx["kind"] == "list":
            raise RecordError(
                f"list {d.get('id')} ({str(d.get('name'))[:60]!r}) is an X list, not a tweet or a "
                "user; SociaLens has no table for lists: collect its members (twarc2 lists "
                "members) or its tweets (twarc2 lists tweets) and ingest those", "data")
        if ctx["kind"] == "user":
            rows = map_user(d, ctx["observed_at"])
            pinned = ctx["tweets"].get(str(d.get("pinned_tweet_id") or ""))
            if pinned:
                try:
                    rows.extend(map_tweet(pinned, users={str(d["id"]): d},
                                          observed_at=ctx["observed_at"], _depth=1))
                except RecordError:
                    pass  # the pinned tweet is secondary: the account still loads
            return rows + ctx["edges"].get(str(d.get("id")), [])
        return map_tweet(d, users=ctx["users"], tweets=ctx["tweets"], observed_at=ctx["observed_at"])
    # a flattened tweet: author embedded, __twarc stamp on the tweet itself
    if not isinstance(item, dict):
        raise RecordError(f"expected a JSON object (a tweet or a page), got {type(item).__name__}")
    return map_tweet(item, observed_at=_page_time(item))


def _api_errors_apart(stream: Iterator) -> Iterator:
    for line, raw, rows, error in stream:
        if isinstance(error, _ApiErrorEntry):
            error = ApiError(error.reason)
        yield line, raw, rows, error


def records(path: Path) -> Iterator:
    """``(line, raw, rows, error)`` for every tweet/user of a twarc2 JSONL file; the pages'
    ``errors`` entries come as :class:`~socialens.ingest.loader.ApiError` (counted apart)."""
    return line_records(iter_jsonl(path))


def line_records(recs: Iterable[SourceRecord]) -> Iterator:
    """:func:`records` of the given lines (as :func:`~socialens.ingest.sources.iter_jsonl` reads
    them): the per-record mapping, which :mod:`socialens.ingest.twitter_v2_bulk` also runs on
    the lines its SQL cannot decide."""
    def items():
        for rec in recs:
            yield from _expand(rec)
    return _api_errors_apart(mapped(items(), _map_item, what="tweet"))


class _PageRecords:
    """The records of a twarc2 JSONL file of tweet pages (an iterator), which can also be loaded
    set-based (:mod:`socialens.ingest.twitter_v2_bulk`)."""

    def __init__(self, path: Path):
        self.path = path
        self._records: Iterator | None = None

    def __iter__(self):
        return self

    def __next__(self):
        if self._records is None:
            self._records = records(self.path)
        return next(self._records)

    def load_bulk(self, loader):
        """The file loaded by :func:`socialens.ingest.twitter_v2_bulk.load_pages` (a
        FileReport), or None when it must go record by record (nothing was written then)."""
        from socialens.ingest.twitter_v2_bulk import load_pages

        return load_pages(loader, self.path)


# -- twarc-csv --------------------------------------------------------------------------------
_REF_COL = re.compile(r"^referenced_tweets\.(replied_to|retweeted|quoted)\.id$")


def unflatten(row: dict[str, str]) -> dict:
    """A twarc-csv row → the nested v2 tweet (with ``author`` and ``__twarc``) it was made from."""
    out: dict[str, Any] = {}
    refs = []
    for key, value in row.items():
        if value is None or value == "":
            continue
        m = _REF_COL.match(key)
        if m:
            refs.append({"type": m.group(1), "id": value})
            continue
        if value[:1] in "[{" :
            try:
                value = loads(value)[0]  # too deep: cut, and the row quarantined below
            except json.JSONDecodeError:
                pass
        parts = key.split(".")
        node = out
        for p in parts[:-1]:
            nxt = node.get(p)
            if not isinstance(nxt, dict):
                nxt = node[p] = {}
            node = nxt
        node[parts[-1]] = value
    if refs:
        out["referenced_tweets"] = refs
    if "author" in out and "id" not in out["author"] and out.get("author_id"):
        out["author"]["id"] = out["author_id"]
    return out


def _map_user_row(u: Any) -> Rows:
    """A twarc-csv users row (unflattened): the account, a snapshot at ``__twarc.retrieved_at``."""
    return map_user(u, _page_time(u) if isinstance(u, dict) else None)


def csv_records(path: Path) -> Iterator:
    """``(line, raw, rows, error)`` for every row of a twarc-csv file (tweets or users)."""
    header, recs = iter_csv(path)
    users = _is_users_csv(set(header or []))

    def items():
        for rec in recs:
            if rec.error is not None:
                yield rec
                continue
            row = unflatten(rec.data)
            deep = too_deep_error(row)
            yield SourceRecord(rec.line, rec.raw, error=deep) if deep else (rec.line, rec.raw, row)
    if users:
        return mapped(items(), _map_user_row, what="user row")
    return mapped(items(), _map_item, what="tweet row")


def tasks(path: Path, timezone: str | None) -> Iterator[tuple[Path, str, Iterator]]:
    """One task per file; the target is ``accounts`` for user pages, else ``posts``."""
    if is_csv_path(path):
        users = _is_users_csv(set(csv_header(path)))
        yield path, "accounts" if users else "posts", csv_records(path)
        return
    v = _unwrap(first_json_value(path))
    data = v.get("data") if isinstance(v, dict) else None
    first = data[0] if isinstance(data, list) and data else data
    target = "accounts" if _is_v2_user(first) and "text" not in first else "posts"
    yield path, target, _PageRecords(path) if target == "posts" else records(path)
