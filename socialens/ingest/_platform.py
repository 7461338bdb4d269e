"""Shared helpers of the platform readers (X/Twitter, Bluesky, Mastodon, feeds, 4CAT, rosters).

Every platform reader maps one source record to canonical rows: a *primary* row (the post or the
account the record is about) followed by *secondary* rows (the embedded author account, its counter
snapshot, referenced posts). These helpers build those rows, sniff file heads for format detection
and turn mappers into the ``(line, raw, rows, error)`` stream the loader consumes, so that a bad
record becomes a quarantine reason and never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from socialens.errors import RecordError
from socialens.ingest.sources import (
    TOO_DEEP,
    SourceRecord,
    load_document,
    loads,
    open_binary,
    too_deep_error,
)
from socialens.ingest.values import clean_str, parse_int, to_utc
from socialens.text import decode_entities, entity_rows, html_to_text, text_entities

__all__ = [
    "Rows",
    "head_text",
    "first_json_value",
    "is_json_lines",
    "named_json_lines",
    "json_file_records",
    "csv_header",
    "is_jsonl_path",
    "is_csv_path",
    "account_row",
    "snapshot_row",
    "post_row",
    "entities",
    "mapped",
    "twitter_time",
    "html_to_text",
    "need",
    "as_id",
]

Rows = list[tuple[str, dict[str, Any]]]
#: :data:`~socialens.ingest.sources.TOO_DEEP` as it appears in a record's raw JSON text
TOO_DEEP_JSON = json.dumps(TOO_DEEP, ensure_ascii=False)[1:-1]

_HEAD_BYTES = 256 * 1024


# -- detection helpers ------------------------------------------------------------------------
def head_text(path: Path, n: int = _HEAD_BYTES) -> str:
    """The first ``n`` bytes of a (possibly gzipped) file as text; '' if unreadable or a folder."""
    if not path.is_file():
        return ""
    try:
        with open_binary(path) as f:
            data = f.read(n)
    except (OSError, EOFError, Exception):  # noqa: BLE001 - detection must never raise
        return ""
    return data.decode("utf-8-sig", "replace")


def _strip_gz(name: str) -> str:
    return name[:-3] if name.endswith(".gz") else name


def is_jsonl_path(path: Path) -> bool:
    return _strip_gz(path.name.lower()).endswith((".jsonl", ".ndjson", ".json", ".jsonlines"))


def is_csv_path(path: Path) -> bool:
    return _strip_gz(path.name.lower()).endswith((".csv", ".tsv"))


_LINES_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")


def is_json_lines(path: Path) -> bool:
    """True when the file is JSON Lines: named so (``.jsonl``, ``.ndjson``; then a damaged first
    line does not make it a document), or its first line is a complete JSON value (the first line
    of a pretty-printed single document is not)."""
    if named_json_lines(path):
        return True
    first = head_text(path).lstrip().split("\n", 1)[0]
    try:
        loads(first)
    except json.JSONDecodeError:
        return False
    return True


def named_json_lines(path: Path) -> bool:
    """The file's name says JSON Lines (``.jsonl``, ``.ndjson``, ``.jsonlines``, optionally .gz)."""
    return _strip_gz(path.name.lower()).endswith(_LINES_SUFFIXES)


def json_file_records(
    path: Path, expand: Callable[[int, Any, bool], Iterable[SourceRecord]], *, lines: bool
) -> Iterator[SourceRecord]:
    """The records of a file that is either JSON Lines of pages (``lines``) or one JSON document.

    ``expand(line, value, is_line)`` turns one page (or the whole document, with line 1) into
    records; a broken line or an undecodable document becomes a record with an error.
    """
    from socialens.ingest.sources import iter_jsonl

    if lines:
        for rec in iter_jsonl(path):
            if rec.error is not None:
                yield rec
            else:
                yield from expand(rec.line, rec.data, True)
        return
    doc, _ = load_document(path)
    yield from expand(1, doc, False)


def first_json_value(path: Path) -> Any:
    """The first JSON value of a JSON Lines file, or the whole document if it fits in the head.

    Returns None when the head does not parse (detection then says "not mine").
    """
    text = head_text(path)
    if not text.strip():
        return None
    stripped = text.lstrip()
    if stripped.startswith("[") or stripped.startswith("{"):
        try:
            return loads(stripped)[0]
        except json.JSONDecodeError:
            pass
        first = stripped.split("\n", 1)[0]
        try:
            return loads(first)[0]
        except json.JSONDecodeError:
            pass
        if _max_depth_exceeded(stripped):
            return None  # a head too deep to decode piecewise: detection says "not mine"
        # a big document: decode the first element / the first keys
        dec = json.JSONDecoder()
        if stripped.startswith("["):
            try:
                value, _ = dec.raw_decode(stripped[1:].lstrip())
                return [value]
            except json.JSONDecodeError:
                return None
        return _partial_object(stripped)
    return None


def _max_depth_exceeded(text: str) -> bool:
    from socialens.ingest.sources import MAX_DEPTH, _max_depth

    return _max_depth(text) > MAX_DEPTH


def _partial_object(text: str) -> dict | None:
    """Keys of a large JSON object's head: ``{key: value}`` for each complete leading member."""
    dec = json.JSONDecoder()
    out: dict[str, Any] = {}
    i = 1
    n = len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n,":
            i += 1
        if i >= n or text[i] != '"':
            break
        try:
            key, i = dec.raw_decode(text, i)
        except json.JSONDecodeError:
            break
        while i < n and text[i] in " \t\r\n:":
            i += 1
        try:
            value, i = dec.raw_decode(text, i)
        except json.JSONDecodeError:
            # cut off by the head: keep the first element of an array, else mark it present
            out[key] = ...
            if text[i:i + 1] == "[":
                j = i + 1
                while j < n and text[j] in " \t\r\n":
                    j += 1
                try:
                    out[key] = [dec.raw_decode(text, j)[0]]
                except json.JSONDecodeError:
                    pass
            break
        out[key] = value
    return out or None


def csv_header(path: Path) -> list[str]:
    """The header row of a CSV file (empty list when it cannot be read)."""
    text = head_text(path, 64 * 1024)
    if not text:
        return []
    try:
        row = next(csv.reader(io.StringIO(text)))
    except (StopIteration, csv.Error):
        return []
    return [h.strip() for h in row]


# -- row builders -----------------------------------------------------------------------------
def as_id(value: Any, field: str) -> str:
    """A native id as a string (numbers allowed: v1.1 ids are numbers, but prefer ``id_str``)."""
    if isinstance(value, bool) or value is None:
        raise RecordError(f"{field} is missing", field)
    if isinstance(value, int):
        return str(value)
    s = clean_str(value)
    if s is None:
        raise RecordError(f"{field} is missing", field)
    return s


def need(rec: Any, key: str, what: str = "record") -> Any:
    """``rec[key]``, or a RecordError saying which field the record lacks."""
    if not isinstance(rec, dict):
        raise RecordError(f"expected a JSON object for the {what}, got {type(rec).__name__}")
    v = rec.get(key)
    if v is None or v == "":
        raise RecordError(f"the {what} has no {key!r}; it is not a complete payload", key)
    return v


def _clean_attrs(attrs: dict | None) -> dict | None:
    if not attrs:
        return None
    out = {k: v for k, v in attrs.items() if v not in (None, "", [], {})}
    return out or None


def account_row(
    platform: str,
    native_id: str,
    *,
    handle: str | None = None,
    display_name: str | None = None,
    bio: str | None = None,
    url: str | None = None,
    created_at: datetime | None = None,
    person_id: str | None = None,
    kind: str = "personal",
    attrs: dict | None = None,
) -> tuple[str, dict]:
    handle = clean_str(handle)
    return ("accounts", {
        "account_id": f"{platform}:{native_id}",
        "platform": platform,
        "person_id": person_id,
        "handle": handle.lstrip("@") if handle else None,
        "kind": kind,
        "created_at": created_at,
        "display_name": clean_str(display_name),
        "bio": clean_str(bio),
        "url": clean_str(url),
        "attrs": _clean_attrs(attrs),
    })


def snapshot_row(
    account_id: str,
    observed_at: datetime | None,
    *,
    followers: Any = None,
    following: Any = None,
    posts_count: Any = None,
    listed_count: Any = None,
) -> list[tuple[str, dict]]:
    """``[("account_snapshots", row)]``, or ``[]`` when there is no time or no counter.

    Negative or malformed counters are dropped (a snapshot is a secondary row: it never decides
    whether the record loads).
    """
    if observed_at is None:
        return []
    counters = {}
    for name, v in (("followers", followers), ("following", following),
                    ("posts_count", posts_count), ("listed_count", listed_count)):
        try:
            counters[name] = parse_int(v, name)
        except RecordError:
            counters[name] = None
    if all(v is None for v in counters.values()):
        return []
    return [("account_snapshots", {"account_id": account_id, "observed_at": observed_at, **counters})]


def entities(
    hashtags: Iterable[str] = (), mentions: Iterable[str] = (), urls: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """Normalized ``(kind, value)`` pairs for ``post_entities`` from the lists a source gives
    (:func:`socialens.text.entity_rows`: the normalisation text extraction uses too)."""
    return entity_rows(hashtags, mentions, urls)


def post_row(
    platform: str,
    native_id: str,
    account_id: str,
    created_at: datetime,
    *,
    text: str | None = None,
    lang: str | None = None,
    reply_to_post_id: str | None = None,
    reply_to_account_id: str | None = None,
    quote_of: str | None = None,
    repost_of: str | None = None,
    like_count: Any = None,
    repost_count: Any = None,
    reply_count: Any = None,
    quote_count: Any = None,
    url: str | None = None,
    attrs: dict | None = None,
    ents: list[tuple[str, str]] | None = None,
    visibility: str | None = "public",
    text_kinds: Iterable[str] = (),
) -> tuple[str, dict]:
    """The ``posts`` row of one post.

    ``text`` is stored decoded (:func:`socialens.text.decode_entities`: this is the one place
    where readers' texts are decoded). ``ents`` are the entities the source lists (normalised
    with :func:`entities`); ``None`` means the source gives no list, and the hashtags, mentions
    and URLs are then found in the text with :func:`socialens.text.text_entities`, the rule
    enrichment uses. ``text_kinds`` names the kinds (``hashtag``, ``mention``, ``url``) a source
    with lists does not list (a feed has categories but no mentions): those are found in the text
    and added to ``ents``.

    ``visibility`` is the post's audience (``public``, ``unlisted``, ``followers``, ``direct``, or
    None for unknown). It defaults to ``public`` for platforms whose posts have no audience
    setting (a public tweet, a Bluesky post, a feed entry); readers of platforms that have one
    (Mastodon, protected X accounts) pass what the source says.
    """
    if created_at is None:
        raise RecordError("the post has no creation time", "created_at")
    lang = clean_str(lang)
    text = decode_entities(text) if isinstance(text, str) else text
    if ents is None:
        ents = text_entities(text, platform) if isinstance(text, str) else []
    elif text_kinds and isinstance(text, str):
        kinds = set(text_kinds)
        ents = sorted(set(ents) | {e for e in text_entities(text, platform) if e[0] in kinds})
    row = {
        "post_id": f"{platform}:{native_id}",
        "account_id": account_id,
        "created_at": created_at,
        "text": text,
        "lang": None if lang in (None, "und", "zxx") else lang,
        "reply_to_post_id": reply_to_post_id,
        "reply_to_account_id": reply_to_account_id,
        "quote_of": quote_of,
        "repost_of": repost_of,
        "url": clean_str(url),
        "attrs": _clean_attrs(attrs),
        "visibility": visibility,
        "_entities": ents,
    }
    for name, v in (("like_count", like_count), ("repost_count", repost_count),
                    ("reply_count", reply_count), ("quote_count", quote_count)):
        try:
            row[name] = parse_int(v, name)
        except RecordError:
            row[name] = None
    return ("posts", row)


# -- the record stream ------------------------------------------------------------------------
Item = tuple[int, str, Any]  # (line, raw, data)


def mapped(
    items: Iterable[SourceRecord | Item],
    mapper: Callable[[Any], Rows],
    *,
    what: str = "record",
) -> Iterator[tuple[int, str, Rows | None, Any]]:
    """Apply ``mapper`` to each item; errors (including unexpected payload shapes) become reasons.

    A mapper returning ``[]`` would make the record vanish; that is reported as a quarantine
    reason too, so ``read = loaded + duplicate + quarantined`` always holds.
    """
    for item in items:
        if isinstance(item, SourceRecord):
            if item.error is not None:
                yield item.line, item.raw, None, item.error
                continue
            line, raw, data = item.line, item.raw, item.data
        else:
            line, raw, data = item
        if TOO_DEEP_JSON in raw and (deep := too_deep_error(data)) is not None:
            yield line, raw, None, deep  # cut by the JSON parser (sources.loads)
            continue
        try:
            rows = mapper(data)
        except RecordError as exc:
            yield line, raw, None, exc
            continue
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            yield line, raw, None, RecordError(
                f"the {what} does not have the documented shape ({type(exc).__name__}: "
                f"{str(exc)[:80]}); check that the file is in the format given"
            )
            continue
        if not rows:
            yield line, raw, None, RecordError(f"the {what} holds nothing to load")
            continue
        yield line, raw, rows, None


def raw_json(value: Any, limit: int = 20_000) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)[:limit]


# -- values -----------------------------------------------------------------------------------
_TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"


def twitter_time(value: Any, field: str = "created_at") -> datetime:
    """Twitter's v1.1 ``Fri Jun 23 17:18:21 +0000 2017`` (or ISO 8601) as aware UTC."""
    s = clean_str(value)
    if s is None:
        raise RecordError(f"{field} is missing", field)
    try:
        dt = datetime.strptime(s, _TWITTER_TIME)
    except ValueError:
        pass
    else:
        return to_utc(dt, field, s)
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError as exc:
        raise RecordError(f"{field}: cannot parse time {s[:40]!r}", field) from exc
    if dt.tzinfo is None:
        raise RecordError(f"{field}: time {s[:40]!r} has no UTC offset", field)
    return to_utc(dt, field, s)


def iso_time(value: Any, field: str = "created_at") -> datetime:
    """ISO 8601 with offset (``Z`` allowed) as aware UTC; a naive time is an error."""
    s = clean_str(value)
    if s is None:
        raise RecordError(f"{field} is missing", field)
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
    except ValueError as exc:
        raise RecordError(f"{field}: cannot parse time {s[:40]!r}; expected ISO 8601", field) from exc
    if dt.tzinfo is None:
        raise RecordError(f"{field}: time {s[:40]!r} has no UTC offset", field)
    return to_utc(dt, field, s)


def maybe_time(value: Any, parse=iso_time) -> datetime | None:
    """Like ``parse`` but None for missing or malformed values (for secondary fields)."""
    if value in (None, ""):
        return None
    try:
        return parse(value)
    except RecordError:
        return None


#: Kept for readers that import them from here; the text layer is :mod:`socialens.text`.
unescape = decode_entities
__all__ += ["unescape", "text_entities"]
