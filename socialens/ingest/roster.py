"""Rosters: who belongs to the organization and which accounts are theirs.

Two inputs (see ``docs/formats.md``):

* an **organization roster** in CSV or YAML (``roster.csv``, ``roster.yaml``; YAML holds a list of
  mappings, optionally under ``people:``). One person per row: ``person_id`` (or ``id``), ``name``,
  ``department``, ``opt_in``; optionally a current role (``title``, ``level``, ``start``/``start_at``,
  ``end``/``end_at``, ``is_leader``); and handles per platform:

  ============== ===================================================================
  column         account created
  ============== ===================================================================
  twitter_id     ``twitter:<id>`` (handle from ``twitter``)
  bluesky_did    ``bluesky:<did>`` (handle from ``bluesky``)
  mastodon       ``mastodon:<host>/@<user>`` from ``@user@host``
  blog / rss     ``blog:<feed URL>`` (what :mod:`socialens.ingest.feeds` loads onto)
  kind           ``personal`` / ``official`` / ``delegate`` for all the row's accounts
  ============== ===================================================================

  A Twitter handle without ``twitter_id`` or a Bluesky handle without ``bluesky_did`` cannot name
  an account (accounts are keyed by the platform's stable id); it is kept in the person's
  ``attrs.handles`` so a collector can resolve it. Any other column goes to ``attrs``.

* the **congress-legislators** YAML (unitedstates/congress-legislators):
  ``legislators-current.yaml`` (people keyed by ``bioguide``; every term is a role
  ``Senator``/``Representative`` at level 2; every ``leadership_roles`` entry a level-0 leader role;
  department = party of the latest term) and ``legislators-social-media.yaml`` (accounts
  ``twitter:<twitter_id>`` with the handle, owned by the bioguide id; ``mastodon`` handles too).

The person is the primary row of a record; roles and accounts are secondary rows. A YAML file is
parsed whole; a record's line is its 1-based position in the list.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from socialens.errors import InputFileError, RecordError
from socialens.ingest._platform import Rows, account_row, csv_header, head_text, mapped, raw_json
from socialens.ingest.mastodon import account_id_for
from socialens.ingest.sources import iter_csv, open_binary
from socialens.ingest.values import (
    ACCOUNT_KINDS,
    clean_str,
    parse_bool,
    parse_int,
    parse_time,
)

__all__ = ["detect", "tasks", "map_roster_row", "map_legislator", "map_social_media"]

_PLATFORM_COLS = {"twitter", "twitter_id", "bluesky", "bluesky_did", "mastodon", "blog", "rss"}
_ROSTER_KNOWN = {"person_id", "id", "name", "department", "opt_in", "title", "level", "start",
                 "start_at", "end", "end_at", "is_leader", "kind", *_PLATFORM_COLS}


def _is_yaml(path: Path) -> bool:
    n = path.name.lower().removesuffix(".gz")
    return n.endswith((".yaml", ".yml"))


def _yaml_head(path: Path) -> str:
    return head_text(path, 16 * 1024)


def _legislators_kind(head: str) -> str | None:
    if "bioguide:" not in head:
        return None
    if "social:" in head:
        return "social"
    if "terms:" in head or "name:" in head:
        return "legislators"
    return None


def detect(path: Path) -> bool:
    if path.is_dir():
        return False
    if _is_yaml(path):
        head = _yaml_head(path)
        if _legislators_kind(head):
            return True
        return any(f"{c}:" in head for c in _PLATFORM_COLS) and ("name:" in head or "person_id:" in head)
    if path.name.lower().removesuffix(".gz").endswith(".csv"):
        h = set(csv_header(path))
        return bool(h & {"person_id", "name"}) and bool(h & _PLATFORM_COLS)
    return False


# -- organization roster ----------------------------------------------------------------------
def map_roster_row(r: Any, tz: str | None = None) -> Rows:
    """One roster row → person, optional role, and the accounts its handles name."""
    if not isinstance(r, dict):
        raise RecordError(f"expected a mapping, got {type(r).__name__}")
    r = {str(k).strip(): v for k, v in r.items()}
    pid = clean_str(r.get("person_id")) or clean_str(r.get("id"))
    if not pid:
        raise RecordError("person_id is missing; every roster row needs a stable id", "person_id")
    kind = (clean_str(r.get("kind")) or "personal").lower()
    if kind not in ACCOUNT_KINDS:
        raise RecordError(f"kind {kind!r} is not one of {', '.join(ACCOUNT_KINDS)}", "kind")
    attrs = {k: v for k, v in r.items() if k not in _ROSTER_KNOWN and v not in (None, "")}
    handles = {}
    accounts: Rows = []
    tw_id, tw = clean_str(r.get("twitter_id")), clean_str(r.get("twitter"))
    if tw_id:
        if tw_id.endswith(".0"):
            tw_id = tw_id[:-2]
        accounts.append(account_row("twitter", tw_id, handle=tw, person_id=pid, kind=kind))
    elif tw:
        handles["twitter"] = tw.lstrip("@")
    did, bs = clean_str(r.get("bluesky_did")), clean_str(r.get("bluesky"))
    if did:
        if not did.startswith("did:"):
            raise RecordError(f"bluesky_did {did[:40]!r} is not a DID (did:plc:...)", "bluesky_did")
        accounts.append(account_row("bluesky", did, handle=bs, person_id=pid, kind=kind))
    elif bs:
        handles["bluesky"] = bs.lstrip("@")
    md = clean_str(r.get("mastodon"))
    if md:
        parts = md.lstrip("@").split("@")
        if len(parts) != 2 or not all(parts):
            raise RecordError(f"mastodon {md[:60]!r} is not @user@host", "mastodon")
        aid = account_id_for(parts[0], parts[1])
        accounts.append(account_row("mastodon", aid.split(":", 1)[1], handle=f"{parts[0]}@{parts[1]}",
                                    person_id=pid, kind=kind, url=f"https://{parts[1]}/@{parts[0]}"))
    feed = clean_str(r.get("blog")) or clean_str(r.get("rss"))
    if feed:
        accounts.append(account_row("blog", feed, person_id=pid, kind=kind, url=feed))
    if handles:
        attrs["handles"] = handles
    rows: Rows = [("people", {
        "person_id": pid, "name": clean_str(r.get("name")), "department": clean_str(r.get("department")),
        "opt_in": parse_bool(r.get("opt_in"), "opt_in", default=False), "attrs": attrs or None,
    })]
    title = clean_str(r.get("title"))
    start = r.get("start_at") or r.get("start")
    if title and start not in (None, ""):
        level = parse_int(r.get("level"), "level")
        level = 2 if level is None else level
        rows.append(("roles", {
            "person_id": pid, "title": title, "level": level,
            "is_leader": parse_bool(r.get("is_leader"), "is_leader", default=level == 0),
            "start_at": parse_time(start, "start_at", tz),
            "end_at": parse_time(r.get("end_at") or r.get("end"), "end_at", tz), "attrs": None,
        }))
    return rows + accounts


# -- congress-legislators -----------------------------------------------------------------------
def _bioguide(r: Any) -> str:
    bid = ((r or {}).get("id") or {}).get("bioguide") if isinstance(r, dict) else None
    if not bid:
        raise RecordError("the entry has no id.bioguide", "id.bioguide")
    return str(bid)


def map_legislator(r: Any) -> Rows:
    """A ``legislators-current.yaml`` entry → person, a role per term, leadership roles."""
    bid = _bioguide(r)
    name = r.get("name") or {}
    full = name.get("official_full") or " ".join(x for x in (name.get("first"), name.get("last")) if x)
    terms = [t for t in r.get("terms") or [] if isinstance(t, dict)]
    last = terms[-1] if terms else {}
    rows: Rows = [("people", {
        "person_id": bid, "name": full or None, "department": last.get("party"),
        "opt_in": False,
        "attrs": {"chamber": {"sen": "senate", "rep": "house"}.get(last.get("type")),
                  "state": last.get("state"), "district": last.get("district"),
                  "gender": (r.get("bio") or {}).get("gender")},
    })]
    for t in terms:
        title = {"sen": "Senator", "rep": "Representative"}.get(t.get("type"), t.get("type"))
        if not title or not t.get("start"):
            continue
        rows.append(("roles", {
            "person_id": bid, "title": title, "level": 2, "is_leader": False,
            "start_at": parse_time(str(t["start"]), "start"),
            "end_at": parse_time(str(t["end"]), "end") if t.get("end") else None,
            "attrs": {"state": t.get("state"), "party": t.get("party"), "district": t.get("district")},
        }))
    for lr in r.get("leadership_roles") or []:
        if isinstance(lr, dict) and lr.get("title") and lr.get("start"):
            rows.append(("roles", {
                "person_id": bid, "title": lr["title"], "level": 0, "is_leader": True,
                "start_at": parse_time(str(lr["start"]), "start"),
                "end_at": parse_time(str(lr["end"]), "end") if lr.get("end") else None,
                "attrs": {"chamber": lr.get("chamber")},
            }))
    return rows


def map_social_media(r: Any) -> Rows:
    """A ``legislators-social-media.yaml`` entry → the member's accounts (primary: the first)."""
    bid = _bioguide(r)
    s = r.get("social") or {}
    rows: Rows = []
    if s.get("twitter_id"):
        rows.append(account_row("twitter", str(s["twitter_id"]), handle=s.get("twitter"), person_id=bid))
    md = clean_str(s.get("mastodon"))
    if md and md.lstrip("@").count("@") == 1:
        user, host = md.lstrip("@").split("@")
        rows.append(account_row("mastodon", account_id_for(user, host).split(":", 1)[1],
                                handle=f"{user}@{host}", person_id=bid))
    if not rows:
        raise RecordError(
            f"{bid} has no twitter_id or mastodon handle; accounts need a stable id (the entry "
            f"lists: {', '.join(sorted(s)) or 'nothing'})", "social",
        )
    return rows


# -- reading ----------------------------------------------------------------------------------
def _load_yaml(path: Path) -> Any:
    import yaml

    with open_binary(path) as f:
        try:
            return yaml.load(f.read().decode("utf-8-sig"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as exc:
            raise InputFileError(f"{path}: not valid YAML: {exc}") from exc


def tasks(path: Path, timezone: str | None) -> Iterator[tuple[Path, str, Iterator]]:
    if not _is_yaml(path):
        _, recs = iter_csv(path)
        yield path, "people", mapped(recs, lambda r: map_roster_row(r, timezone), what="roster row")
        return
    doc = _load_yaml(path)
    if isinstance(doc, dict) and isinstance(doc.get("people"), list):
        doc = doc["people"]
    if not isinstance(doc, list):
        raise InputFileError(f"{path}: expected a YAML list of people (or 'people:' with a list)")
    items = [(i, raw_json(x, 5000), x) for i, x in enumerate(doc, start=1)]
    first = doc[0] if doc else {}
    if isinstance(first, dict) and isinstance(first.get("id"), dict) and "bioguide" in first["id"]:
        if "social" in first:
            yield path, "accounts", mapped(items, map_social_media, what="social-media entry")
        else:
            yield path, "people", mapped(items, map_legislator, what="legislator")
        return
    yield path, "people", mapped(items, lambda r: map_roster_row(r, timezone), what="roster entry")
