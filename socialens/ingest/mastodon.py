"""Mastodon: REST API ``Status`` and ``Account`` JSON, and the ActivityPub ``outbox.json`` of an
account archive export.

Identifiers (see ``docs/formats.md``):

* accounts are ``mastodon:<home host>/@<username>`` (``mastodon:mastodon.social/@Gargron``): the
  same from every server's API, from ActivityPub and from a roster's ``@user@host`` handle;
* posts are ``mastodon:<host>/<status id>`` where ``host`` is the server the numeric id belongs to:
  the server queried (``_socialens.url`` stamp of a collected page) or else the author's home
  server; in an outbox the id is the last segment of the Note's ``/statuses/<id>`` URI.

HTML ``content`` is converted to text; ``spoiler_text`` (content warning) is kept in ``attrs``.
A reblog becomes a repost (``repost_of``) whose original is a secondary post. Statuses of the REST
API come as a JSON array (one response) or JSON Lines (one status or one stamped response per
line, streamed); an outbox is one JSON document (``orderedItems`` of ``Create``/``Announce``
activities).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

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
    iso_time,
    json_file_records,
    mapped,
    maybe_time,
    need,
    post_row,
    raw_json,
    snapshot_row,
)

__all__ = ["detect", "tasks", "map_status", "map_account", "map_activity", "account_id_for",
           "records"]

PLATFORM = "mastodon"
_STATUS_URI = re.compile(r"^https?://([^/]+)/users/([^/]+)/statuses/(\d+)")


def _is_status(d: Any) -> bool:
    return isinstance(d, dict) and "content" in d and isinstance(d.get("account"), dict) and "id" in d


def _is_account(d: Any) -> bool:
    return isinstance(d, dict) and "acct" in d and "username" in d and "id" in d


def _is_outbox(d: Any) -> bool:
    return isinstance(d, dict) and d.get("type") in ("OrderedCollection", "OrderedCollectionPage") \
        and "orderedItems" in d


_ACTOR_TYPES = ("Person", "Service", "Application", "Group", "Organization")


def _is_actor(d: Any) -> bool:
    """An ActivityPub actor document (the account archive's ``actor.json``)."""
    return isinstance(d, dict) and d.get("type") in _ACTOR_TYPES \
        and bool(d.get("preferredUsername")) and "/users/" in str(d.get("id") or "")


def _body(v: Any) -> Any:
    return v.get("response", v) if isinstance(v, dict) and "_socialens" in v and "response" in v else v


def _kind(v: Any) -> str | None:
    v = _body(v)
    if _is_outbox(v):
        return "outbox"
    if _is_actor(v):
        return "actor"
    for first in v[:50] if isinstance(v, list) else [v]:  # a damaged first item does not decide
        if _is_status(first):
            return "statuses"
        if _is_account(first):
            return "accounts"
    return None


def detect(path: Path) -> bool:
    return is_jsonl_path(path) and _kind(first_json_value(path)) is not None


# -- mapping ----------------------------------------------------------------------------------
def _host(url: Any) -> str | None:
    try:
        return urlparse(str(url)).hostname or None
    except ValueError:
        return None


def account_id_for(username: str, host: str) -> str:
    """``mastodon:mastodon.social/@gargron``: the home host and the username (lower-case)."""
    return f"{PLATFORM}:{host.lower()}/@{username.lower()}"


def _home(acc: dict) -> tuple[str, str]:
    """(username, home host) of an Account entity."""
    acct = str(acc.get("acct") or "")
    username = acc.get("username") or acct.split("@", 1)[0]
    host = acct.split("@", 1)[1] if "@" in acct else _host(acc.get("url"))
    if not username or not host:
        raise RecordError("the account has no username/acct with a host and no url", "acct")
    return username, host


def map_account(a: Any, observed_at: datetime | None = None) -> Rows:
    """An Account entity → account and snapshot (when ``observed_at`` is known)."""
    need(a, "acct", "account")
    username, host = _home(a)
    acc = account_row(
        PLATFORM, f"{host.lower()}/@{username.lower()}", handle=f"{username}@{host}",
        display_name=a.get("display_name"), bio=html_to_text(a.get("note")), url=a.get("url"),
        created_at=maybe_time(a.get("created_at")),
        attrs={"local_id": str(a.get("id")) if a.get("id") else None, "bot": a.get("bot") or None,
               "locked": a.get("locked") or None, "group": a.get("group") or None},
    )
    return [acc, *snapshot_row(
        acc[1]["account_id"], observed_at, followers=a.get("followers_count"),
        following=a.get("following_count"), posts_count=a.get("statuses_count"),
    )]


def map_status(s: Any, observed_at: datetime | None = None, server: str | None = None,
               _depth: int = 0) -> Rows:
    """A Status entity → post, author account (+ snapshot), and the reblogged original."""
    sid = as_id(need(s, "id", "status"), "id")
    acc = need(s, "account", "status")
    if not isinstance(acc, dict):
        raise RecordError("the status's account is not an object", "account")
    username, home = _home(acc)
    server = server or (_host(acc.get("url")) if "@" not in str(acc.get("acct")) else None) \
        or _host(s.get("uri")) or home
    author = account_id_for(username, home)
    created = iso_time(need(s, "created_at", "status"))
    mentions = [m for m in s.get("mentions") or [] if isinstance(m, dict)]
    reply_acc = None
    if s.get("in_reply_to_account_id"):
        rid = str(s["in_reply_to_account_id"])
        if rid == str(acc.get("id")):
            reply_acc = author
        else:
            for m in mentions:
                if str(m.get("id")) == rid and m.get("acct") is not None:
                    try:
                        reply_acc = account_id_for(*_home(m))
                    except RecordError:
                        pass
    mention_ids = []
    for m in mentions:
        try:
            mention_ids.append(account_id_for(*_home(m)))
        except RecordError:
            continue
    reblog = s.get("reblog") if isinstance(s.get("reblog"), dict) else None
    quote = s.get("quote") if isinstance(s.get("quote"), dict) else None
    quoted = quote.get("quoted_status") if quote and "quoted_status" in quote else quote
    ents = entities(
        hashtags=[t.get("name") for t in s.get("tags") or [] if isinstance(t, dict)],
        mentions=mention_ids,
        urls=[u for u in [(s.get("card") or {}).get("url")] if u],
    )
    post = post_row(
        PLATFORM, f"{server}/{sid}", author, created,
        text=None if reblog else html_to_text(s.get("content")),
        lang=s.get("language"),
        reply_to_post_id=f"{PLATFORM}:{server}/{s['in_reply_to_id']}" if s.get("in_reply_to_id") else None,
        reply_to_account_id=reply_acc,
        repost_of=f"{PLATFORM}:{server}/{reblog['id']}" if reblog and reblog.get("id") else None,
        quote_of=f"{PLATFORM}:{server}/{quoted['id']}" if isinstance(quoted, dict) and quoted.get("id") else None,
        like_count=s.get("favourites_count"), repost_count=s.get("reblogs_count"),
        reply_count=s.get("replies_count"), quote_count=s.get("quotes_count"),
        url=s.get("url") or s.get("uri"),
        visibility=_api_visibility(s.get("visibility")),
        attrs={"uri": s.get("uri"),
               "spoiler_text": s.get("spoiler_text") or None,
               "sensitive": s.get("sensitive") or None, "edited_at": s.get("edited_at"),
               "application": (s.get("application") or {}).get("name")
               if isinstance(s.get("application"), dict) else None},
        ents=ents, text_kinds=("url",),  # the API lists tags and mentions, not links
    )
    rows: Rows = [post, *map_account(acc, observed_at)]
    if _depth == 0:
        for inner in (reblog, quoted):
            if _is_status(inner):
                try:
                    rows.extend(map_status(inner, observed_at, server, _depth=1))
                except RecordError:
                    pass
    return rows


# -- ActivityPub outbox -----------------------------------------------------------------------
_PUBLIC = {"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"}
#: Mastodon's API names for a status's audience (``private`` is followers-only).
_API_VISIBILITY = {"public": "public", "unlisted": "unlisted", "private": "followers",
                   "direct": "direct"}


def _api_visibility(value: Any) -> str | None:
    """The Mastodon API's ``visibility`` as ours; None (unknown) when absent or unrecognised."""
    return _API_VISIBILITY.get(str(value).lower()) if isinstance(value, str) else None


def _audience(*objs: Any) -> str | None:
    """An ActivityPub object's audience from its ``to``/``cc`` addressing (as Mastodon writes it):
    Public in ``to`` = public, Public only in ``cc`` = unlisted, a followers collection without
    Public = followers, only named actors = direct; None when there is no addressing at all."""
    for obj in objs:
        if not isinstance(obj, dict) or ("to" not in obj and "cc" not in obj):
            continue

        def _list(v):
            return [v] if isinstance(v, str) else [x for x in v or [] if isinstance(x, str)]

        to, cc = _list(obj.get("to")), _list(obj.get("cc"))
        if _PUBLIC & set(to):
            return "public"
        if _PUBLIC & set(cc):
            return "unlisted"
        if any(x.rstrip("/").endswith("/followers") for x in to + cc):
            return "followers"
        return "direct"
    return None


def _actor_id(actor: Any) -> str:
    """``https://host/users/name`` → ``mastodon:host/@name``."""
    url = actor.get("id") if isinstance(actor, dict) else actor
    m = re.match(r"^https?://([^/]+)/users/([^/?#]+)", str(url or ""))
    if not m:
        raise RecordError(f"actor {str(url)[:60]!r} is not an https://host/users/name URI", "actor")
    return account_id_for(m.group(2), m.group(1))


def _note_id(uri: str) -> str:
    m = _STATUS_URI.match(str(uri or ""))
    if m:
        return f"{PLATFORM}:{m.group(1)}/{m.group(3)}"
    if not uri:
        raise RecordError("the object has no id", "id")
    return f"{PLATFORM}:{uri}"  # not a Mastodon status URI: keep the whole URI


def map_activity(act: Any) -> Rows:
    """A ``Create`` (of a Note) or ``Announce`` (a boost) activity of an outbox → post + actor."""
    if not isinstance(act, dict):
        raise RecordError(f"expected an activity object, got {type(act).__name__}")
    typ = act.get("type")
    actor = _actor_id(need(act, "actor", "activity"))
    username_host = actor.split(":", 1)[1]
    host, name = username_host.split("/@", 1)
    actor_row = account_row(PLATFORM, username_host, handle=f"{name}@{host}",
                            url=act.get("actor") if isinstance(act.get("actor"), str) else None)
    if typ == "Announce":
        obj = act.get("object")
        target = obj.get("id") if isinstance(obj, dict) else obj
        if not target:
            raise RecordError("the Announce has no object", "object")
        return [post_row(PLATFORM, _note_id(need(act, "id", "activity")).split(":", 1)[1], actor,
                         iso_time(need(act, "published", "activity"), "published"),
                         repost_of=_note_id(target), url=act.get("id"),
                         visibility=_audience(act), attrs={"kind": "announce"}), actor_row]
    if typ != "Create":
        raise RecordError(f"activity type {typ!r} is not a post (Create or Announce)", "type")
    note = need(act, "object", "activity")
    if not isinstance(note, dict):
        raise RecordError("the Create activity does not embed its object", "object")
    if note.get("type") not in ("Note", "Question", "Article", "Page"):
        raise RecordError(f"object type {note.get('type')!r} is not a post", "object.type")
    tags = [t for t in note.get("tag") or [] if isinstance(t, dict)]
    mentions = []
    for t in tags:
        if t.get("type") == "Mention" and t.get("href"):
            try:
                mentions.append(_actor_id(t["href"]))
            except RecordError:
                name_ = str(t.get("name") or "").lstrip("@")
                if name_:
                    mentions.append(name_)
    reply = note.get("inReplyTo")
    content = note.get("content")
    if content is None and isinstance(note.get("contentMap"), dict) and note["contentMap"]:
        content = next(iter(note["contentMap"].values()))
    lang = next(iter(note["contentMap"]), None) if isinstance(note.get("contentMap"), dict) and note["contentMap"] else None
    quote = note.get("quoteUri") or note.get("quoteUrl") or note.get("_misskey_quote")
    return [post_row(
        PLATFORM, _note_id(need(note, "id", "object")).split(":", 1)[1], actor,
        iso_time(note.get("published") or act.get("published"), "published"),
        text=html_to_text(content), lang=lang,
        reply_to_post_id=_note_id(reply) if isinstance(reply, str) and reply else None,
        reply_to_account_id=(_actor_id(reply) if isinstance(reply, str) and "/users/" in reply else None),
        quote_of=_note_id(quote) if isinstance(quote, str) and quote else None,
        url=note.get("url") if isinstance(note.get("url"), str) else note.get("id"),
        visibility=_audience(note, act),
        attrs={"uri": note.get("id"), "summary": note.get("summary"),
               "sensitive": note.get("sensitive") or None, "updated": note.get("updated")},
        ents=entities(hashtags=[t.get("name") for t in tags if t.get("type") == "Hashtag"],
                      mentions=mentions),
        text_kinds=("url",),  # ActivityPub lists tags and mentions, not links
    ), actor_row]


def map_actor(actor: Any) -> Rows:
    """An ActivityPub actor (``actor.json`` of a Mastodon account archive) → its account.

    The id and handle are those the outbox's activities give the same actor
    (``mastodon:host/@name``, ``name@host``), so the two files join.
    """
    aid = _actor_id(need(actor, "id", "actor"))
    host, name = aid.split(":", 1)[1].split("/@", 1)
    username = actor.get("preferredUsername") or name
    return [account_row(
        PLATFORM, f"{host}/@{name}", handle=f"{username}@{host}",
        display_name=actor.get("name"), bio=html_to_text(actor.get("summary")),
        url=actor.get("url") if isinstance(actor.get("url"), str) else actor.get("id"),
        created_at=maybe_time(actor.get("published")),
        attrs={"actor_type": actor.get("type") if actor.get("type") != "Person" else None,
               "locked": actor.get("manuallyApprovesFollowers") or None,
               "discoverable": actor.get("discoverable"),
               "uri": actor.get("id")},
    )]


# -- reading ----------------------------------------------------------------------------------
def _stamp(v: Any) -> tuple[datetime | None, str | None]:
    meta = v.get("_socialens") if isinstance(v, dict) else None
    if not isinstance(meta, dict):
        return None, None
    return maybe_time(meta.get("retrieved_at")), _host(meta.get("url")) if meta.get("url") else None


_FOLLOW_URL = re.compile(r"/api/v1/accounts/[^/?#]+/(following|followers)(?:[/?#]|$)")


def _follow_context(doc: Any, observed: datetime | None) -> tuple[str, str, datetime | None] | None:
    """``(subject account id, following|followers, observed_at)`` of a collected follows page.

    ``socialens collect mastodon`` stamps ``/api/v1/accounts/:id/following`` pages with
    ``_socialens.subject`` (the account id of ``:id``, which the local id alone cannot name).
    """
    meta = doc.get("_socialens") if isinstance(doc, dict) else None
    if not isinstance(meta, dict) or not meta.get("subject"):
        return None
    m = _FOLLOW_URL.search(str(meta.get("url") or ""))
    return (str(meta["subject"]), m.group(1), observed) if m else None


def _expand(line: int, doc: Any, single_line: bool) -> Iterator[tuple[int, str, Any]]:
    observed, server = _stamp(doc)
    body = _body(doc)
    kind = _kind(body)
    if kind == "outbox":
        acts = body.get("orderedItems")
        for i, act in enumerate(acts if isinstance(acts, list) else [acts], start=1):
            yield (line if single_line else i), raw_json(act), ("activity", act, None, None, None)
        return
    if kind == "actor":
        yield line, raw_json(body), ("actor", body, None, None, None)
        return
    follow = _follow_context(doc, observed)
    items = body if isinstance(body, list) else [body]
    for i, it in enumerate(items, start=1):
        k = "status" if _is_status(it) else "account" if _is_account(it) else "?"
        yield (line if single_line else i), raw_json(it), (k, it, observed, server, follow)


def _map(item: Any) -> Rows:
    kind, d, observed, server, follow = item
    if kind == "activity":
        return map_activity(d)
    if kind == "actor":
        return map_actor(d)
    if kind == "status":
        return map_status(d, observed, server)
    if kind == "account":
        rows = map_account(d, observed)
        if follow:
            subject, direction, seen = follow
            other = rows[0][1]["account_id"]
            src, dst = (subject, other) if direction == "following" else (other, subject)
            rows.append(("edges", {"src": src, "dst": dst, "kind": "follows", "weight": 1.0,
                                   "observed_at": seen, "window_start": None, "window_end": None}))
        return rows
    raise RecordError("neither a Mastodon Status nor an Account entity")


def records(path: Path) -> Iterator:
    items = json_file_records(path, _expand, lines=is_json_lines(path))
    return mapped(items, _map, what="Mastodon item")


def tasks(path: Path, timezone: str | None) -> Iterator[tuple[Path, str, Iterator]]:
    kind = _kind(first_json_value(path))
    yield path, "accounts" if kind in ("accounts", "actor") else "posts", records(path)
