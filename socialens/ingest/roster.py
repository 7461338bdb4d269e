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
  department = party of the latest term), ``executive.yaml`` (the same shape; terms are
  ``President``/``Vice President`` roles at level 2), ``legislators-social-media.yaml`` (accounts
  ``twitter:<twitter_id>`` with the handle, owned by the bioguide id; ``mastodon`` handles too) and
  ``committee-membership-current.yaml`` (committee leaders, below).

**Committee leaders** follow the rule of the bundled demo (``scripts/build_demo_dataset.py``): a
member whose title on a top-level committee (4-character code such as ``SSFI``) is Chair,
Chairman, Chairwoman, Chairperson, Co-Chairman, Cochairman or Ranking Member
(:data:`COMMITTEE_LEADER_TITLES`) gets a level-1 role (``is_leader`` false: leaders are chosen
with ``--leaders``), titled ``Chair, Senate Committee on Finance`` (the committee's name from
``committees-current.yaml`` beside the file, else its code), with ``committee``,
``committee_name``, ``source_title``, ``party`` (majority/minority), ``rank`` and ``congress`` in
``attrs``. Each such entry is one record; other titles (Vice Chair, Ex Officio) and subcommittees
are not read. The file has no dates, so the role spans the whole Congress containing the date the
file describes: the ``YYYY-MM-DD`` name of its folder (the layout of ``../shared/data``), else the
latest term start in ``legislators-current.yaml`` beside it; without either the entries are
quarantined with that reason. Load the legislators first (a folder is ordered that way).

**Public rosters.** A roster of public officials may declare its people public: ``public: true`` at
the top of a roster YAML (``{public: true, people: [...]}``), or ``ingest --public`` /
``ingest(..., public=True)`` for any roster file. Every person of such a file gets
``opt_in = true`` and ``attrs.public = "roster"`` (also when the person was loaded before), so
outputs can name them and say that the roster declares them public.

The person is the primary row of a record; roles and accounts are secondary rows. A YAML file is
parsed whole; a record's line is its 1-based position in the list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from socialens.errors import InputFileError, RecordError
from socialens.ingest._platform import Rows, account_row, csv_header, head_text, mapped, raw_json
from socialens.ingest.mastodon import account_id_for
from socialens.ingest.sources import iter_csv, read_all
from socialens.ingest.values import (
    ACCOUNT_KINDS,
    clean_str,
    parse_bool,
    parse_int,
    parse_time,
)

__all__ = ["detect", "tasks", "order", "map_roster_row", "map_legislator", "map_social_media",
           "map_committee_leader", "congress_of", "declare_public", "companion_note",
           "COMMITTEE_LEADER_TITLES"]

#: committee-membership titles that make a committee leader, as the demo's rule spells them
#: (``scripts/build_demo_dataset.py`` COMMITTEE_TITLES): source title → title of the role
COMMITTEE_LEADER_TITLES = {
    "Chair": "Chair",
    "Chairman": "Chair",
    "Chairwoman": "Chair",
    "Chairperson": "Chair",
    "Co-Chairman": "Co-Chair",
    "Cochairman": "Co-Chair",
    "Ranking Member": "Ranking Member",
}
_TERM_TITLES = {"sen": "Senator", "rep": "Representative", "prez": "President",
                "viceprez": "Vice President"}
_COMMITTEE_KEY = re.compile(r"^[A-Z]{4}[0-9]*:\s*$", re.M)
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

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
    if _COMMITTEE_KEY.search(head.split("\n", 1)[0] + "\n"):
        return "membership"
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
    start = clean_str(r.get("start_at")) or clean_str(r.get("start"))
    if title and start is not None:
        level = parse_int(r.get("level"), "level")
        level = 2 if level is None else level
        rows.append(("roles", {
            "person_id": pid, "title": title, "level": level,
            "is_leader": parse_bool(r.get("is_leader"), "is_leader", default=level == 0),
            "start_at": parse_time(start, "start_at", tz),
            "end_at": parse_time(r.get("end_at") or r.get("end"), "end_at", tz), "attrs": None,
        }))
    return rows + accounts


def companion_note(path: Path) -> str | None:
    """Why a congress-legislators file that is read only with another one is not loaded alone."""
    if path.name.lower().startswith("committees-current.y"):
        return (f"{path}: the committee list; it names the committees of "
                "committee-membership-current.yaml beside it and holds no people, roles or posts "
                "of its own")
    return None


def order(path: Path) -> int:
    """Load order of roster files in a folder: people (0), their accounts (1), committee roles (2)."""
    kind = _legislators_kind(_yaml_head(path)) if _is_yaml(path) else None
    return {"social": 1, "membership": 2}.get(kind or "", 0)


def declare_public(ws, person_ids: set[str]) -> None:
    """``opt_in = true`` and ``attrs.public = "roster"`` for these people (a public roster)."""
    with ws.transaction() as con:
        con.execute(
            """UPDATE people SET opt_in = TRUE,
                   attrs = json_merge_patch(coalesce(attrs, '{}'::JSON), '{"public": "roster"}')
               WHERE person_id IN (SELECT unnest(?::VARCHAR[]))""",
            [sorted(person_ids)],
        )


def _public_rows(rows: Rows) -> Rows:
    out = []
    for target, row in rows:
        if target == "people":
            attrs = dict(row.get("attrs") or {})
            attrs["public"] = "roster"
            row = {**row, "opt_in": True, "attrs": attrs}
        out.append((target, row))
    return out


def _declaring(stream: Iterator, declared: set[str] | None) -> Iterator:
    """Mark the people of a public roster's records and note their ids in ``declared``."""
    for line, raw, rows, error in stream:
        if rows:
            rows = _public_rows(rows)
            if declared is not None:
                declared.update(r["person_id"] for t, r in rows if t == "people")
        yield line, raw, rows, error


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
        title = _TERM_TITLES.get(t.get("type"), t.get("type"))
        if not title or clean_str(t.get("start")) is None:
            continue
        rows.append(("roles", {
            "person_id": bid, "title": title, "level": 2, "is_leader": False,
            "start_at": parse_time(str(t["start"]), "start"),
            "end_at": parse_time(str(t["end"]), "end") if t.get("end") else None,
            "attrs": {"state": t.get("state"), "party": t.get("party"), "district": t.get("district")},
        }))
    for lr in r.get("leadership_roles") or []:
        if isinstance(lr, dict) and clean_str(lr.get("title")) and clean_str(lr.get("start")):
            rows.append(("roles", {
                "person_id": bid, "title": lr["title"], "level": 0, "is_leader": True,
                "start_at": parse_time(str(lr["start"]), "start"),
                "end_at": parse_time(str(lr["end"]), "end") if lr.get("end") else None,
                "attrs": {"chamber": lr.get("chamber")},
            }))
    return rows


_TWITTER_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")


def map_social_media(r: Any) -> Rows:
    """A ``legislators-social-media.yaml`` entry → the member's accounts (primary: the first)."""
    bid = _bioguide(r)
    s = r.get("social") or {}
    rows: Rows = []
    tw = clean_str(s.get("twitter"))
    if s.get("twitter_id"):
        rows.append(account_row("twitter", str(s["twitter_id"]), handle=tw, person_id=bid))
    elif tw and _TWITTER_HANDLE.match(tw.lstrip("@")):
        # newer entries list a handle without its numeric id: keep the handle as an account known
        # by handle only (the congresstweets reader's form), so it is neither lost nor guessed
        name = tw.lstrip("@")
        rows.append(account_row("twitter", f"@{name.lower()}", handle=name, person_id=bid,
                                attrs={"id_unknown": True}))
    md = clean_str(s.get("mastodon"))
    if md and md.lstrip("@").count("@") == 1:
        user, host = md.lstrip("@").split("@")
        rows.append(account_row("mastodon", account_id_for(user, host).split(":", 1)[1],
                                handle=f"{user}@{host}", person_id=bid))
    if not rows:
        raise RecordError(
            f"{bid} has no Twitter id or handle and no Mastodon handle (the entry "
            f"lists: {', '.join(sorted(s)) or 'nothing'})", "social",
        )
    return rows


def congress_of(day: date) -> tuple[int, date, date]:
    """The Congress ``(number, start, end)`` whose two-year term contains ``day`` (from Jan 3).

    >>> congress_of(date(2017, 11, 29))
    (115, datetime.date(2017, 1, 3), datetime.date(2019, 1, 3))
    >>> congress_of(date(2019, 1, 2))[0]
    115
    """
    start_year = day.year if day.year % 2 == 1 else day.year - 1
    if day < date(start_year, 1, 3):
        start_year -= 2
    return (start_year - 1789) // 2 + 1, date(start_year, 1, 3), date(start_year + 2, 1, 3)


def map_committee_leader(item: Any) -> Rows:
    """One leadership entry of ``committee-membership-current.yaml`` → a level-1 role.

    ``item`` is ``(code, member, committee names, (congress, start, end) or a reason)``.
    """
    code, m, names, when = item
    if isinstance(when, str):
        raise RecordError(when, "start_at")
    bid = clean_str((m or {}).get("bioguide")) if isinstance(m, dict) else None
    if not bid:
        raise RecordError("the membership entry has no bioguide id", "bioguide")
    number, start, end = when
    title = COMMITTEE_LEADER_TITLES[m["title"]]
    name = names.get(code)
    return [("roles", {
        "person_id": bid, "title": f"{title}, {name or code}", "level": 1, "is_leader": False,
        "start_at": parse_time(start.isoformat(), "start_at"),
        "end_at": parse_time(end.isoformat(), "end_at"),
        "attrs": {"committee": code, "committee_name": name, "source_title": m["title"],
                  "party": m.get("party"), "rank": m.get("rank"), "congress": number,
                  "dates": f"the {number}th Congress, which contains the date the file describes"},
    })]


def _beside(path: Path, stem: str) -> Path | None:
    for name in (f"{stem}.yaml", f"{stem}.yaml.gz", f"{stem}.yml", f"{stem}.yml.gz"):
        if (path.parent / name).is_file():
            return path.parent / name
    return None


def _membership_date(path: Path) -> date | str:
    """The date a membership file describes, or the reason it cannot be told."""
    folder = path.parent.name
    if _ISO_DAY.match(folder):
        try:
            return date.fromisoformat(folder)
        except ValueError:
            pass
    legislators = _beside(path, "legislators-current")
    if legislators is not None:
        starts = [str(t.get("start")) for r in _load_yaml(legislators) or [] if isinstance(r, dict)
                  for t in (r.get("terms") or [])[-1:] if isinstance(t, dict) and t.get("start")]
        if starts:
            try:
                return date.fromisoformat(max(starts)[:10])
            except ValueError:
                pass
    return (f"{path.name} has no dates and nothing tells which Congress it describes: put it in a "
            "folder named by its date (YYYY-MM-DD) or beside its legislators-current.yaml")


def _membership_items(path: Path, doc: Any) -> Iterator:
    if not isinstance(doc, dict):
        raise InputFileError(f"{path}: expected a mapping of committee codes to member lists")
    committees = _beside(path, "committees-current")
    names = {}
    if committees is not None:
        names = {c.get("thomas_id"): c.get("name") for c in _load_yaml(committees) or []
                 if isinstance(c, dict)}
    day = _membership_date(path)
    when = day if isinstance(day, str) else congress_of(day)
    i = 0
    for code, members in doc.items():
        for m in members if isinstance(members, list) else []:
            i += 1  # position among all member entries
            if len(str(code)) == 4 and isinstance(m, dict) and m.get("title") in COMMITTEE_LEADER_TITLES:
                yield i, raw_json({"committee": code, **m}, 5000), (str(code), m, names, when)


# -- reading ----------------------------------------------------------------------------------
def _yaml_loader():
    """The safe YAML loader (libyaml's when installed) whose dates that are no valid date
    (``0000-01-01``, ``2023-02-30``) stay strings, so the record that holds one is quarantined
    naming the field instead of the whole file failing."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type]
        pass

    def timestamp(loader, node):
        try:
            return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
        except (ValueError, OverflowError):
            return loader.construct_scalar(node)

    Loader.add_constructor("tag:yaml.org,2002:timestamp", timestamp)
    return Loader


def _load_yaml(path: Path) -> Any:
    import yaml

    data = read_all(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputFileError(f"{path}: not valid UTF-8 (byte 0x{data[exc.start]:02x} on line "
                             f"{line}); re-save the file as UTF-8") from exc
    try:
        return yaml.load(text, Loader=_yaml_loader())
    except yaml.YAMLError as exc:
        raise InputFileError(f"{path}: not valid YAML: {exc}") from exc
    except RecursionError as exc:  # pure-Python PyYAML (no libyaml) recurses per nesting level
        raise InputFileError(f"{path}: nested too deep to read as YAML") from exc


def tasks(
    path: Path, timezone: str | None, *, public: bool = False, declared: set[str] | None = None
) -> Iterator[tuple[Path, str, Iterator]]:
    """The file's task; with ``public`` (or a roster YAML's ``public: true``) its people are
    declared public and their ids added to ``declared`` as they load."""
    if not _is_yaml(path):
        _, recs = iter_csv(path)
        stream = mapped(recs, lambda r: map_roster_row(r, timezone), what="roster row")
        yield path, "people", _declaring(stream, declared) if public else stream
        return
    doc = _load_yaml(path)
    if _legislators_kind(_yaml_head(path)) == "membership":
        yield path, "roles", mapped(_membership_items(path, doc), map_committee_leader,
                                    what="committee membership entry")
        return
    if isinstance(doc, dict) and isinstance(doc.get("people"), list):
        declares = doc.get("public")
        if declares not in (None, True, False):
            raise InputFileError(f"{path}: public: {json.dumps(declares, default=str)} is not "
                                 "true or false")
        public = public or declares is True
        doc = doc["people"]
    if not isinstance(doc, list):
        raise InputFileError(f"{path}: expected a YAML list of people (or 'people:' with a list)")
    items = [(i, raw_json(x, 5000), x) for i, x in enumerate(doc, start=1)]
    first = doc[0] if doc else {}
    if isinstance(first, dict) and isinstance(first.get("id"), dict) and "bioguide" in first["id"]:
        if "social" in first:
            yield path, "accounts", mapped(items, map_social_media, what="social-media entry")
        else:
            stream = mapped(items, map_legislator, what="legislator")
            yield path, "people", _declaring(stream, declared) if public else stream
        return
    stream = mapped(items, lambda r: map_roster_row(r, timezone), what="roster entry")
    yield path, "people", _declaring(stream, declared) if public else stream
