"""Ad-hoc CSV / JSON Lines files of posts, read with a column mapping (``--map``).

A file that no reader recognises, such as a scraped ``Text,Date,Favorites,Retweets,Tweet ID`` CSV,
is read by saying which of its columns holds which post field::

    socialens ingest realDonaldTrump.csv --map text=Text,created_at=Date,post_id="Tweet ID" \\
        --account-from-filename --platform twitter --timezone UTC

Fields (:data:`FIELDS`): ``created_at`` (required), ``text``, ``post_id``, ``account`` (the
author's native id), ``handle``, ``url``, ``lang``, ``reply_to`` (native id of the replied-to
post), ``like_count``, ``repost_count``, ``reply_count``, ``quote_count``, ``visibility``.

* Ids: post ``<platform>:<post_id>``; without a ``post_id`` column, ``<platform>:h<hash>`` of
  the author, time and text (stable when the same file is ingested again). ``platform`` defaults
  to ``custom``; give the real one (``twitter``, ``bluesky``...) so that the ids join with that
  platform's other data.
* Author, exactly one of: an ``account`` column (native id, e.g. the numeric X user id), a
  ``handle`` column (used as the native id when there is no ``account`` column), ``account=`` (every
  row's author is this native id), ``account_from_filename`` (the file name without extension,
  also used as the handle: ``realDonaldTrump.csv`` → ``twitter:realDonaldTrump``). A handle is not
  an X/Bluesky stable id: such an account joins other data only where they use the same id.
* Time: ISO 8601, X's ``Fri Jun 23 17:18:21 +0000 2017`` or Unix seconds (milliseconds when
  above 10^11); a time without offset needs ``--timezone``, else the row is quarantined.
* Visibility: ``public`` unless a ``visibility`` column is mapped (public, unlisted, followers,
  direct; anything else is unknown).
* Entities (hashtags, mentions, URLs) are found in the text; every unmapped column is kept in
  ``attrs``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from socialens.errors import InputFileError, RecordError
from socialens.ingest._platform import (
    Rows,
    account_row,
    csv_header,
    first_json_value,
    is_csv_path,
    is_jsonl_path,
    mapped,
    post_row,
    text_entities,
    twitter_time,
)
from socialens.ingest.sources import iter_csv, iter_jsonl
from socialens.ingest.values import VISIBILITIES, clean_str, parse_time

__all__ = ["FIELDS", "ColumnMap", "parse_map", "tasks", "map_row"]

#: The post fields a column can be mapped to.
FIELDS = ("post_id", "account", "handle", "created_at", "text", "url", "lang", "reply_to",
          "like_count", "repost_count", "reply_count", "quote_count", "visibility")
_PLATFORM = re.compile(r"^[a-z][a-z0-9_-]*$")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


@dataclass(frozen=True)
class ColumnMap:
    """Which source column holds which post field, and where the author comes from.

    Parameters
    ----------
    columns : mapping
        ``{field: source column}``; fields are :data:`FIELDS`.
    platform : str
        Prefix of the ids (``twitter``, ``bluesky``, ...); ``custom`` by default.
    account : str, optional
        The native id of every row's author.
    account_from_filename : bool
        The author is the file name without its extension.
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    platform: str = "custom"
    account: str | None = None
    account_from_filename: bool = False

    def __post_init__(self):
        unknown = sorted(set(self.columns) - set(FIELDS))
        if unknown:
            raise InputFileError(
                f"--map: unknown field {', '.join(map(repr, unknown))}; the fields are "
                f"{', '.join(FIELDS)}")
        if "created_at" not in self.columns:
            raise InputFileError("--map needs created_at=<column>: every post needs its time")
        if not _PLATFORM.match(self.platform or ""):
            raise InputFileError(f"--platform {self.platform!r} is not a platform name such as "
                                 "twitter, bluesky, mastodon (lower case letters, digits, -, _)")
        sources = [s for s, given in (
            ("an account or handle column", "account" in self.columns or "handle" in self.columns),
            ("--account", self.account is not None),
            ("--account-from-filename", self.account_from_filename)) if given]
        if not sources:
            raise InputFileError(
                "--map: say who wrote the posts: map account=<column> or handle=<column>, or pass "
                "--account <native id> or --account-from-filename")
        if len(sources) > 1:
            raise InputFileError(f"--map: the author is given twice ({' and '.join(sources)}); "
                                 "keep one")

    def check_columns(self, path: Path, columns: list[str]) -> None:
        """An :class:`InputFileError` naming the file when a mapped column is not in it."""
        missing = [c for c in self.columns.values() if c not in columns]
        if missing:
            raise InputFileError(
                f"{path}: no column {', '.join(map(repr, missing))} (the file has "
                f"{', '.join(map(repr, columns)) or 'no header'}); fix --map")


def parse_map(text: str) -> dict[str, str]:
    """``"text=Text,created_at=Date,post_id=Tweet ID"`` → ``{"text": "Text", ...}``.

    >>> parse_map('text=Text, created_at=Date,post_id="Tweet ID"')
    {'text': 'Text', 'created_at': 'Date', 'post_id': 'Tweet ID'}
    """
    out: dict[str, str] = {}
    for part in (p for p in text.split(",") if p.strip()):
        key, eq, col = part.partition("=")
        key, col = key.strip(), col.strip().strip('"').strip("'")
        if not eq or not key or not col:
            raise InputFileError(f"--map: {part.strip()!r} is not field=column "
                                 "(e.g. --map text=Text,created_at=Date)")
        if key in out:
            raise InputFileError(f"--map: {key} is mapped twice")
        out[key] = col
    if not out:
        raise InputFileError("--map is empty; e.g. --map text=Text,created_at=Date")
    return out


def _time(value: Any, tz: str | None) -> datetime:
    s = clean_str(value)
    if s is None:
        raise RecordError("created_at is empty", "created_at")
    if _NUMBER.match(s):
        n = float(s)
        try:
            return datetime.fromtimestamp(n / 1000 if n > 1e11 else n, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise RecordError(f"created_at {s[:20]!r} is not a Unix time", "created_at") from exc
    try:
        return parse_time(s, "created_at", tz)
    except RecordError as exc:
        if "no UTC offset" in exc.reason:
            raise
        try:
            return twitter_time(s, "created_at")
        except RecordError:
            raise exc from None


def map_row(r: Any, spec: ColumnMap, path: Path, tz: str | None = None) -> Rows:
    """One row (CSV record or JSON object) → post + author account."""
    if not isinstance(r, dict):
        raise RecordError(f"expected a row/object, got {type(r).__name__}")
    c = spec.columns

    def get(name: str) -> Any:
        col = c.get(name)
        v = r.get(col) if col is not None else None  # columns were checked against the header
        return v if not isinstance(v, str) or v.strip() else None

    created = _time(get("created_at"), tz)
    handle = clean_str(get("handle"))
    if "account" in c:
        native = clean_str(get("account"))
    elif "handle" in c:
        native = handle.lstrip("@") if handle else None
    elif spec.account is not None:
        native = spec.account
    else:
        native = path.name.split(".", 1)[0]
        handle = native
    if not native:
        raise RecordError("the author is empty", c.get("account") or c.get("handle"))
    text = get("text")
    text = str(text) if text is not None else None
    pid = clean_str(get("post_id"))
    if pid and pid.endswith(".0") and pid[:-2].isdigit():  # a numeric id that went through floats
        pid = pid[:-2]
    if not pid:
        key = f"{native}\x1f{created.isoformat()}\x1f{text or ''}"
        pid = "h" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]
    vis = (clean_str(get("visibility")) or "").lower() if "visibility" in c else "public"
    reply = clean_str(get("reply_to"))
    attrs = {k: v for k, v in r.items() if k not in set(c.values()) and v not in (None, "")}
    account_id = f"{spec.platform}:{native}"
    return [
        post_row(spec.platform, pid, account_id, created, text=text, lang=get("lang"),
                 reply_to_post_id=f"{spec.platform}:{reply}" if reply else None,
                 like_count=get("like_count"), repost_count=get("repost_count"),
                 reply_count=get("reply_count"), quote_count=get("quote_count"), url=get("url"),
                 attrs=attrs or None, ents=text_entities(text),
                 visibility=vis if vis in VISIBILITIES else None),
        account_row(spec.platform, native, handle=handle),
    ]


def tasks(path: Path, timezone: str | None, spec: ColumnMap) -> Iterator[tuple[Path, str, Iterator]]:
    """The one task of a mapped file; mapped columns missing from the file are an error."""
    if is_csv_path(path):
        spec.check_columns(path, csv_header(path))
        _, recs = iter_csv(path)
    elif is_jsonl_path(path):
        first = first_json_value(path)
        if isinstance(first, dict):
            spec.check_columns(path, list(first))
        recs = iter_jsonl(path)
    else:
        raise InputFileError(f"{path}: --map reads CSV (.csv, .tsv) and JSON Lines (.jsonl, "
                             ".ndjson, .json) files, optionally .gz")
    yield path, "posts", mapped(recs, lambda r: map_row(r, spec, path, timezone), what="mapped row")
