"""The canonical interchange format: a folder of ``people.csv``, ``roles.csv``, ``accounts.csv``,
``snapshots.csv``, ``posts.jsonl`` and ``edges.csv`` (see ``docs/data_format.md``).

One total function per file kind maps a raw record to canonical rows or raises
:class:`~socialens.errors.RecordError`; the loader does the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from socialens.errors import RecordError
from socialens.ingest.sources import iter_csv, iter_jsonl
from socialens.ingest.values import (
    ACCOUNT_KINDS,
    EDGE_KINDS,
    VISIBILITIES,
    clean_str,
    parse_bool,
    parse_float,
    parse_int,
    parse_time,
    platform_of,
)
from socialens.text import decode_entities, entity_rows, scan

__all__ = ["FILES", "detect", "tasks", "map_person", "map_role", "map_account", "map_snapshot",
           "map_post", "map_edge", "canonical_name"]

Rows = list[tuple[str, dict[str, Any]]]

_SUFFIX = re.compile(r"(\.csv|\.jsonl)(\.gz)?$")


def _req(rec: dict, name: str, *aliases: str) -> str:
    for n in (name, *aliases):
        v = clean_str(rec.get(n))
        if v is not None:
            return v
    raise RecordError(f"{name} is missing; every record needs one", name)


def _attrs(rec: dict, known: set[str]) -> dict | None:
    extra = {k: v for k, v in rec.items() if k not in known and v not in (None, "")}
    return extra or None


_PEOPLE = {"person_id", "name", "department", "opt_in"}


def map_person(rec: dict, tz: str | None = None) -> Rows:
    return [("people", {
        "person_id": _req(rec, "person_id"),
        "name": clean_str(rec.get("name")),
        "department": clean_str(rec.get("department")),
        "opt_in": parse_bool(rec.get("opt_in"), "opt_in", default=False),
        "attrs": _attrs(rec, _PEOPLE),
    })]


_ROLES = {"person_id", "title", "level", "is_leader", "start_at", "start", "end_at", "end"}


def map_role(rec: dict, tz: str | None = None) -> Rows:
    level = parse_int(_req(rec, "level"), "level")
    start = parse_time(_req(rec, "start_at", "start"), "start_at", tz)
    end_raw = clean_str(rec.get("end_at")) or clean_str(rec.get("end"))
    end = parse_time(end_raw, "end_at", tz)
    if end is not None and end <= start:
        raise RecordError(f"end_at {end_raw} is not after start_at; check the dates", "end_at")
    return [("roles", {
        "person_id": _req(rec, "person_id"),
        "title": _req(rec, "title"),
        "level": level,
        "is_leader": parse_bool(rec.get("is_leader"), "is_leader", default=level == 0),
        "start_at": start,
        "end_at": end,
        "attrs": _attrs(rec, _ROLES),
    })]


_ACCOUNTS = {"account_id", "platform", "person_id", "handle", "kind", "created_at", "display_name",
             "bio", "url"}


def map_account(rec: dict, tz: str | None = None) -> Rows:
    account_id = _req(rec, "account_id")
    platform = platform_of(account_id, "account_id")
    given = clean_str(rec.get("platform"))
    if given is not None and given.lower() != platform:
        raise RecordError(
            f"platform {given!r} does not match the account_id prefix {platform!r}", "platform"
        )
    kind = (clean_str(rec.get("kind")) or "personal").lower()
    if kind not in ACCOUNT_KINDS:
        raise RecordError(f"kind {kind!r} is not one of {', '.join(ACCOUNT_KINDS)}", "kind")
    handle = clean_str(rec.get("handle"))
    return [("accounts", {
        "account_id": account_id,
        "platform": platform,
        "person_id": clean_str(rec.get("person_id")),
        "handle": handle.lstrip("@") if handle else None,
        "kind": kind,
        "created_at": parse_time(rec.get("created_at"), "created_at", tz),
        "display_name": clean_str(rec.get("display_name")),
        "bio": clean_str(rec.get("bio")),
        "url": clean_str(rec.get("url")),
        "attrs": _attrs(rec, _ACCOUNTS),
    })]


def map_snapshot(rec: dict, tz: str | None = None) -> Rows:
    return [("account_snapshots", {
        "account_id": _req(rec, "account_id"),
        "observed_at": parse_time(_req(rec, "observed_at"), "observed_at", tz),
        "followers": parse_int(rec.get("followers"), "followers"),
        "following": parse_int(rec.get("following"), "following"),
        "posts_count": parse_int(rec.get("posts_count"), "posts_count"),
        "listed_count": parse_int(rec.get("listed_count"), "listed_count"),
    })]


def _str_list(rec: dict, name: str) -> list[str]:
    v = rec.get(name)
    if not v:
        return []
    if not isinstance(v, list):
        raise RecordError(f"{name} must be a list of strings", name)
    out = []
    for x in v:
        if not isinstance(x, str):
            raise RecordError(f"{name} must be a list of strings", name)
        if x.strip():
            out.append(x)
    return out


def _opt_id(rec: dict, name: str) -> str | None:
    v = rec.get(name)
    if v is None or v == "":
        return None
    if isinstance(v, int) and not isinstance(v, bool):
        raise RecordError(f"{name} must be a 'platform:id' string, not the number {v}", name)
    return clean_str(v)


def _visibility(rec: dict) -> str | None:
    """``visibility``: absent means public (the canonical format's documented default); the value
    ``unknown`` means NULL (never published)."""
    if "visibility" not in rec:
        return "public"
    v = clean_str(rec.get("visibility"))
    if v is None or v.lower() == "unknown":
        return None
    v = v.lower()
    if v not in VISIBILITIES:
        raise RecordError(
            f"visibility {v!r} is not one of {', '.join(VISIBILITIES)} or unknown", "visibility"
        )
    return v


_POST_INT = ("like_count", "repost_count", "reply_count", "quote_count")
_ENTITY_LISTS = ("hashtags", "mentions", "urls")


def post_entities(text: str | None, platform: str, lists: list) -> list[tuple[str, str]]:
    """A canonical post's ``post_entities`` pairs from its decoded ``text`` and its
    ``hashtags``/``mentions``/``urls`` lists (None: the record leaves the list out): each list the
    record gives is kept (normalised; blank items dropped); a list it leaves out is found in the
    text, with the rule enrichment uses. Used by :func:`map_post` and the bulk path
    (:mod:`socialens.ingest.canonical_bulk`)."""
    lists = [None if v is None else [x for x in v if x.strip()] for v in lists]
    if any(v is None for v in lists):
        found = scan(text, platform)
        lists = [getattr(found, k) if v is None else v for k, v in zip(_ENTITY_LISTS, lists,
                                                                        strict=True)]
    return entity_rows(*lists)


def map_post(rec: Any, tz: str | None = None) -> Rows:
    if not isinstance(rec, dict):
        raise RecordError(f"expected a JSON object, got {type(rec).__name__}")
    post_id = _req(rec, "post_id")
    platform = platform_of(post_id, "post_id")
    account_id = _req(rec, "account_id")
    text = rec.get("text")
    if text is not None and not isinstance(text, str):
        raise RecordError("text must be a string", "text")
    attrs = rec.get("attrs")
    if attrs is not None and not isinstance(attrs, dict):
        raise RecordError("attrs must be a JSON object", "attrs")
    text = decode_entities(text)  # stored decoded, as every reader's text (socialens.text)
    lists = [None if rec.get(k) is None else _str_list(rec, k) for k in _ENTITY_LISTS]
    entities = post_entities(text, platform, lists)
    row = {
        "post_id": post_id,
        "account_id": account_id,
        "created_at": parse_time(_req(rec, "created_at"), "created_at", tz),
        "text": text,
        "lang": clean_str(rec.get("lang")),
        "reply_to_post_id": _opt_id(rec, "reply_to_post_id"),
        "reply_to_account_id": _opt_id(rec, "reply_to_account_id"),
        "quote_of": _opt_id(rec, "quote_of"),
        "repost_of": _opt_id(rec, "repost_of"),
        "url": clean_str(rec.get("url")),
        "attrs": attrs or None,
        "visibility": _visibility(rec),
        "_entities": entities,
    }
    for name in _POST_INT:
        row[name] = parse_int(rec.get(name), name)
    return [("posts", row)]


def map_edge(rec: dict, tz: str | None = None) -> Rows:
    kind = _req(rec, "kind").lower()
    if kind not in EDGE_KINDS:
        raise RecordError(f"kind {kind!r} is not one of {', '.join(EDGE_KINDS)}", "kind")
    ws, we = (parse_time(rec.get(n), n, tz) for n in ("window_start", "window_end"))
    if ws is not None and we is not None and we < ws:
        raise RecordError("window_end is before window_start", "window_end")
    return [("edges", {
        "src": _req(rec, "src"),
        "dst": _req(rec, "dst"),
        "kind": kind,
        "weight": parse_float(rec.get("weight"), "weight", default=1.0),
        "observed_at": parse_time(rec.get("observed_at"), "observed_at", tz),
        "window_start": ws,
        "window_end": we,
    })]


#: canonical file stem → (target table, mapper, reader kind)
FILES: dict[str, tuple[str, Any, str]] = {
    "people": ("people", map_person, "csv"),
    "roles": ("roles", map_role, "csv"),
    "accounts": ("accounts", map_account, "csv"),
    "snapshots": ("account_snapshots", map_snapshot, "csv"),
    "posts": ("posts", map_post, "jsonl"),
    "edges": ("edges", map_edge, "csv"),
}

_REQUIRED = {
    "people": ["person_id"],
    "roles": ["person_id", "title", "level"],
    "accounts": ["account_id"],
    "snapshots": ["account_id", "observed_at"],
    "edges": ["src", "dst", "kind"],
}


def canonical_name(path: Path) -> str | None:
    """``people`` for ``people.csv`` / ``people.csv.gz``, etc.; None if not a canonical file."""
    m = _SUFFIX.search(path.name)
    if not m:
        return None
    stem = path.name[: m.start()]
    if stem in FILES and FILES[stem][2] == m.group(1)[1:]:
        return stem
    return None


def detect(path: Path) -> bool:
    """A canonical file, or a folder holding at least one."""
    if path.is_dir():
        return any(canonical_name(p) for p in path.iterdir())
    return canonical_name(path) is not None


def _files_in(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    found = {}
    for p in sorted(path.iterdir()):
        name = canonical_name(p)
        if name:
            if name in found:
                from socialens.errors import InputFileError

                raise InputFileError(
                    f"{path} holds both {found[name].name} and {p.name}; keep one of them"
                )
            found[name] = p
    order = list(FILES)
    return [found[n] for n in order if n in found]


def tasks(path: Path, timezone: str | None) -> Iterator[tuple[Path, str, Iterator]]:
    """For each canonical file under ``path``: ``(file, target, records)`` where records yields
    ``(line, raw, rows, error)``; for ``posts.jsonl`` records also offers ``load_bulk(loader)``,
    which the Loader tries first (:mod:`socialens.ingest.canonical_bulk`)."""
    for f in _files_in(path):
        stem = canonical_name(f)
        target, mapper, kind = FILES[stem]
        records = _records(f, stem, mapper, kind, timezone)
        yield f, target, _PostRecords(records, f, timezone) if stem == "posts" else records


class _PostRecords:
    """The records of a ``posts.jsonl`` (an iterator), which can also be loaded set-based."""

    def __init__(self, records: Iterator, path: Path, timezone: str | None):
        self._records, self.path, self.timezone = records, path, timezone

    def __iter__(self):
        return self._records

    def __next__(self):
        return next(self._records)

    def load_bulk(self, loader):
        """The file loaded by :func:`socialens.ingest.canonical_bulk.load_posts` (a FileReport),
        or None when it must go record by record (nothing was written then)."""
        from socialens.ingest.canonical_bulk import load_posts

        return load_posts(loader, self.path, self.timezone)


def _records(f: Path, stem: str, mapper, kind: str, tz: str | None) -> Iterator:
    if kind == "csv":
        header, recs = iter_csv(f)
        missing = [c for c in _REQUIRED.get(stem, []) if c not in header]
        if stem == "roles" and not ({"start_at", "start"} & set(header)):
            missing.append("start_at")
        note = (
            f"the file has no column {', '.join(missing)} (columns: {', '.join(header)}); "
            "see docs/data_format.md" if missing else None
        )
    else:
        recs, note = iter_jsonl(f), None
    for rec in recs:
        if rec.error is not None:
            yield rec.line, rec.raw, None, rec.error
            continue
        if note:
            yield rec.line, rec.raw, None, RecordError(note, missing[0])
            continue
        try:
            yield rec.line, rec.raw, mapper(rec.data, tz), None
        except RecordError as exc:
            yield rec.line, rec.raw, None, exc
