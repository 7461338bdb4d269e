"""Bluesky (AT Protocol) XRPC responses: feeds, posts, profiles and follows.

Shapes read, as the lexicons define them (see ``docs/formats.md``):

* ``app.bsky.feed.getAuthorFeed`` / ``getTimeline``: ``{"feed": [feedViewPost], "cursor"}`` where a
  ``feedViewPost`` is ``{post: postView, reply?: {root, parent}, reason?: reasonRepost}``;
* ``app.bsky.feed.getPosts``: ``{"posts": [postView]}``;
* ``app.bsky.feed.getPostThread``: ``{"thread": threadViewPost}``, a post with its ``parent`` chain
  and its ``replies`` (a post per view; deleted or blocked views are skipped);
* ``app.bsky.actor.getProfile`` (one ``profileViewDetailed``) and ``getProfiles``
  (``{"profiles": [...]}``);
* ``app.bsky.graph.getFollows`` / ``getFollowers``: ``{"subject": profileView, "follows"|"followers":
  [profileView], "cursor"}``.

A file is one JSON response, or JSON Lines of responses (what ``socialens collect bluesky`` writes,
each stamped with ``_socialens.retrieved_at``), streamed line by line. Ids: accounts are
``bluesky:<did>``, posts ``bluesky:<at-uri>``. A repost (a feed item with ``reason`` of type
``reasonRepost``) has no record URI in the feed, so its id is ``bluesky:repost:<reposter did>:<at-uri
of the post>``; its time is the reason's ``indexedAt``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from socialens.errors import RecordError
from socialens.ingest._platform import (
    Rows,
    account_row,
    entities,
    first_json_value,
    is_json_lines,
    is_jsonl_path,
    iso_time,
    json_file_records,
    mapped,
    maybe_time,
    named_json_lines,
    need,
    post_row,
    raw_json,
    snapshot_row,
)

__all__ = ["detect", "tasks", "map_post_view", "map_feed_item", "map_profile", "records",
           "from_sdk_dump"]

PLATFORM = "bluesky"
_LISTS = ("feed", "posts", "profiles", "follows", "followers")


def _body(v: Any) -> Any:
    return v.get("response", v) if isinstance(v, dict) and "_socialens" in v and "response" in v else v


def _kind(v: Any) -> str | None:
    v = _body(v)
    if not isinstance(v, dict):
        return None
    for key in _LISTS:
        items = v.get(key)
        if isinstance(items, list):
            if not items:
                return key if key in ("follows", "followers") and "subject" in v else None
            for first in items[:50]:  # the first recognisable item decides (not a damaged one)
                if key == "feed" and isinstance(first, dict) and _is_post_view(first.get("post")):
                    return key
                if key == "posts" and _is_post_view(first):
                    return key
                if key in ("profiles", "follows", "followers") and _is_profile(first):
                    return key
    if isinstance(v.get("thread"), dict) and _is_post_view(v["thread"].get("post")):
        return "thread"
    if _is_profile(v):
        return "profile"
    return None


def _is_post_view(d: Any) -> bool:
    return isinstance(d, dict) and str(d.get("uri", "")).startswith("at://") and "record" in d


def _is_profile(d: Any) -> bool:
    return isinstance(d, dict) and str(d.get("did", "")).startswith("did:") and "handle" in d


def detect(path: Path) -> bool:
    return is_jsonl_path(path) and _kind(first_json_value(path)) is not None


# -- mapping ----------------------------------------------------------------------------------
def _camel(key: str) -> str:
    if key == "py_type":
        return "$type"
    head, *rest = key.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest) if head else key


def from_sdk_dump(value: Any) -> Any:
    """An atproto SDK ``model_dump()`` (snake_case keys, ``py_type``) in the lexicon's JSON shape.

    4CAT stores Bluesky posts this way; keys become camelCase (``like_count`` → ``likeCount``,
    ``py_type`` → ``$type``), values are kept.

    >>> from_sdk_dump({"like_count": 2, "record": {"created_at": "2024-11-03T15:17:43Z", "py_type": "app.bsky.feed.post"}})
    {'likeCount': 2, 'record': {'createdAt': '2024-11-03T15:17:43Z', '$type': 'app.bsky.feed.post'}}
    """
    if isinstance(value, dict):
        return {_camel(k) if isinstance(k, str) else k: from_sdk_dump(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_sdk_dump(v) for v in value]
    return value


def _thread_views(t: Any) -> Iterator[dict]:
    """The post views of a threadViewPost: the post, its parents (nearest first), its replies."""
    seen: set[str] = set()
    stack = [t]
    node = t.get("parent") if isinstance(t, dict) else None
    while isinstance(node, dict):  # the parent chain, walked iteratively
        stack.append(node)
        node = node.get("parent")
    while stack:
        node = stack.pop(0)
        pv = node.get("post") if isinstance(node, dict) else None
        if not _is_post_view(pv) or pv["uri"] in seen:
            continue
        seen.add(pv["uri"])
        yield pv
        replies = node.get("replies") if isinstance(node, dict) else None
        if isinstance(replies, list):
            stack.extend(r for r in replies if isinstance(r, dict))
def _did_of(uri: str) -> str | None:
    """``at://did:plc:abc/app.bsky.feed.post/3k`` → ``did:plc:abc``."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    return uri[5:].split("/", 1)[0] or None


def _pid(uri: str) -> str:
    return f"{PLATFORM}:{uri}"


def map_profile(p: Any, observed_at: datetime | None = None) -> Rows:
    """A profileView(Detailed) → account and, when it has counters, a snapshot.

    Without a retrieval stamp the snapshot is observed at the profile's ``indexedAt`` (a lower
    bound of when the counters were read).
    """
    did = need(p, "did", "profile")
    if not str(did).startswith("did:"):
        raise RecordError(f"did {str(did)[:40]!r} is not a DID", "did")
    acc = account_row(
        PLATFORM, did, handle=p.get("handle"), display_name=p.get("displayName"),
        bio=p.get("description"), url=f"https://bsky.app/profile/{p.get('handle') or did}",
        created_at=maybe_time(p.get("createdAt")),
        attrs={"labels": [lb.get("val") for lb in p.get("labels") or [] if isinstance(lb, dict)] or None},
    )
    seen = observed_at or maybe_time(p.get("indexedAt"))
    return [acc, *snapshot_row(
        acc[1]["account_id"], seen, followers=p.get("followersCount"),
        following=p.get("followsCount"), posts_count=p.get("postsCount"),
    )]


def _facet_entities(record: dict) -> list[tuple[str, str]]:
    tags, mentions, links = [], [], []
    for facet in record.get("facets") or []:
        for feat in (facet or {}).get("features") or []:
            t = (feat or {}).get("$type", "")
            if t.endswith("#mention") and feat.get("did"):
                mentions.append(f"{PLATFORM}:{feat['did']}")
            elif t.endswith("#link") and feat.get("uri"):
                links.append(feat["uri"])
            elif t.endswith("#tag") and feat.get("tag"):
                tags.append(feat["tag"])
    tags.extend(t for t in record.get("tags") or [] if isinstance(t, str))
    return entities(hashtags=tags, mentions=mentions, urls=links)


def _quoted_uri(embed: Any) -> str | None:
    if not isinstance(embed, dict):
        return None
    t = embed.get("$type", "")
    rec = None
    if t == "app.bsky.embed.record":
        rec = embed.get("record")
    elif t == "app.bsky.embed.recordWithMedia":
        rec = (embed.get("record") or {}).get("record")
    uri = (rec or {}).get("uri") if isinstance(rec, dict) else None
    return uri if uri and "/app.bsky.feed.post/" in uri else None


def map_post_view(pv: Any, observed_at: datetime | None = None, *, with_author: bool = True) -> Rows:
    """A postView → post, author account (+ snapshot when the view carries counters)."""
    uri = need(pv, "uri", "post view")
    if not str(uri).startswith("at://"):
        raise RecordError(f"uri {str(uri)[:60]!r} is not an AT-URI", "uri")
    author = pv.get("author")
    did = (author or {}).get("did") if isinstance(author, dict) else None
    did = did or _did_of(uri)
    rec = pv.get("record")
    if not isinstance(rec, dict):
        raise RecordError("the post view has no record (the post itself)", "record")
    created = iso_time(rec.get("createdAt") or pv.get("indexedAt"), "createdAt")
    reply = rec.get("reply") if isinstance(rec.get("reply"), dict) else {}
    parent = (reply.get("parent") or {}).get("uri")
    langs = rec.get("langs") or []
    handle = (author or {}).get("handle")
    post = post_row(
        PLATFORM, uri, f"{PLATFORM}:{did}", created,
        text=rec.get("text"), lang=langs[0] if langs else None,
        reply_to_post_id=_pid(parent) if parent else None,
        reply_to_account_id=f"{PLATFORM}:{_did_of(parent)}" if parent and _did_of(parent) else None,
        quote_of=_pid(q) if (q := _quoted_uri(rec.get("embed"))) else None,
        like_count=pv.get("likeCount"), repost_count=pv.get("repostCount"),
        reply_count=pv.get("replyCount"), quote_count=pv.get("quoteCount"),
        url=f"https://bsky.app/profile/{handle or did}/post/{uri.rsplit('/', 1)[-1]}",
        attrs={"cid": pv.get("cid"),
               "reply_root": _pid(reply["root"]["uri"]) if isinstance(reply.get("root"), dict)
               and reply["root"].get("uri") else None,
               "labels": [lb.get("val") for lb in pv.get("labels") or [] if isinstance(lb, dict)] or None},
        ents=_facet_entities(rec),
    )
    rows: Rows = [post]
    if with_author:
        rows.extend(map_profile(author, observed_at) if _is_profile(author)
                    else [account_row(PLATFORM, did, attrs={"incomplete": True})])
    return rows


def map_feed_item(item: Any, observed_at: datetime | None = None) -> Rows:
    """A feedViewPost → the post (or the repost) with its context as secondary rows."""
    pv = need(item, "post", "feed item")
    reason = item.get("reason") if isinstance(item.get("reason"), dict) else None
    original = map_post_view(pv, observed_at)
    if reason and reason.get("$type", "").endswith("#reasonRepost"):
        by = need(reason, "by", "repost reason")
        by_did = need(by, "did", "repost reason's by")
        repost = post_row(
            PLATFORM, f"repost:{by_did}:{pv['uri']}", f"{PLATFORM}:{by_did}",
            iso_time(reason.get("indexedAt"), "reason.indexedAt"),
            repost_of=_pid(pv["uri"]), attrs={"kind": "repost"},
        )
        return [repost, *map_profile(by, observed_at), *original]
    rows = original
    reply = item.get("reply") if isinstance(item.get("reply"), dict) else {}
    for key in ("parent", "root"):  # the thread context, when the views are not deleted/blocked
        ctx = reply.get(key)
        if _is_post_view(ctx):
            try:
                rows.extend(map_post_view(ctx, observed_at))
            except RecordError:
                pass
    return rows


def _follow(subject: dict, other: dict, key: str, observed_at: datetime | None) -> Rows:
    rows = map_profile(other, observed_at)
    s, o = f"{PLATFORM}:{subject['did']}", f"{PLATFORM}:{other['did']}"
    src, dst = (s, o) if key == "follows" else (o, s)
    return [*rows, *map_profile(subject, observed_at),
            ("edges", {"src": src, "dst": dst, "kind": "follows", "weight": 1.0,
                       "observed_at": observed_at, "window_start": None, "window_end": None})]


# -- reading ----------------------------------------------------------------------------------
def _stamp(v: Any) -> datetime | None:
    meta = v.get("_socialens") if isinstance(v, dict) else None
    return maybe_time(meta.get("retrieved_at")) if isinstance(meta, dict) else None


def _expand(line: int, doc: Any) -> Iterator[tuple[int, str, Any]]:
    observed = _stamp(doc)
    body = _body(doc)
    kind = _kind(body)
    if kind is None and isinstance(body, dict):
        # no item is recognisable (all damaged): the list key still says what the items are,
        # so each is read, and quarantined, on its own
        kind = next((k for k in _LISTS if isinstance(body.get(k), list) and body[k]), None)
    if kind is None and observed is not None and isinstance(body, dict) \
            and any(body.get(k) == [] for k in _LISTS):
        return  # a collected page with no items (the end of a feed): nothing to read
    if kind is None:
        yield line, raw_json(doc), ("?", doc, observed, None)
        return
    if kind == "profile":
        yield line, raw_json(body), (kind, body, observed, None)
        return
    if kind == "thread":
        for pv in _thread_views(body["thread"]):
            yield line, raw_json(pv), ("posts", pv, observed, None)
        return
    subject = body.get("subject") if kind in ("follows", "followers") else None
    for it in body.get(kind) or []:
        yield line, raw_json(it), (kind, it, observed, subject)


def _map(item: Any) -> Rows:
    kind, d, observed, subject = item
    if kind == "feed":
        return map_feed_item(d, observed)
    if kind == "posts":
        return map_post_view(d, observed)
    if kind in ("profile", "profiles"):
        return map_profile(d, observed)
    if kind in ("follows", "followers"):
        if not _is_profile(subject):
            raise RecordError("the follows page has no subject profile", "subject")
        if not _is_profile(d):
            raise RecordError("the follow is not a profile view (no did/handle)", "did")
        return _follow(subject, d, kind, observed)
    raise RecordError(
        "not a Bluesky response this reader knows (feed, posts, profile(s), follows/followers)"
    )


def records(path: Path) -> Iterator:
    lines = named_json_lines(path) or (isinstance(first_json_value(path), dict) and is_json_lines(path))
    items = json_file_records(path, lambda line, data, _: _expand(line, data), lines=lines)
    return mapped(items, _map, what="Bluesky item")


def tasks(path: Path, timezone: str | None) -> Iterator[tuple[Path, str, Iterator]]:
    kind = _kind(first_json_value(path))
    target = "posts" if kind in ("feed", "posts", "thread") else "accounts"
    yield path, target, records(path)
