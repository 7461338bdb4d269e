"""Build the bundled demo dataset "us-congress" in the canonical interchange format.

The US Congress as an organization: party leaders (level 0), committee leaders (level 1) and
rank-and-file members (level 2), their Twitter accounts, counters observed in 2015 and 2017, the
17,586 Senate tweets of 2012-2015 and two account networks. Everything is derived from the
licence-clean files in ``../shared/data`` (see its SOURCES.md); the output folder gets a SOURCES.md
with every transformation, the counts printed here, the sha256 of each file and the licences.

Usage::

    .venv/bin/python scripts/build_demo_dataset.py [--shared ../shared/data] [--out PATH]

The output is deterministic (sorted rows, gzip mtime 0, no absolute paths or clock times), so a
rebuild gives byte-identical files; ``tests/datasets/test_build_demo_dataset.py`` checks that.
Only the standard library, PyYAML and pandas are used.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import re
import shutil
import statistics
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import yaml

from socialens.ingest.roster import COMMITTEE_LEADER_TITLES

__all__ = ["build", "main", "BuildError", "OUTPUT_FILES"]

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUT = REPO_ROOT / "socialens" / "datasets" / "us_congress"

LOS_ANGELES = ZoneInfo("America/Los_Angeles")

# congress-legislators snapshots used (the brief's choice: one per era of the other sources)
ROSTER_DATES = ("2015-07-16", "2017-11-29", "2022-05-26")
DATA_FILES = (
    "people.csv.gz",
    "roles.csv.gz",
    "accounts.csv.gz",
    "snapshots.csv.gz",
    "posts.jsonl.gz",
    "edges.csv.gz",
)
# shared licence file -> name next to the shipped data
LICENCES = {
    "congress_legislators/LICENSE": "LICENSE-congress-legislators",
    "congresstweets_accounts/LICENSE": "LICENSE-congresstweets-accounts",
    "congresstweets_accounts/LICENSE-automator": "LICENSE-congresstweets-automator",
    "senate_2015_twitterreport/LICENSE": "LICENSE-twitterreport",
    "congress_network_2022_fink/LICENSE.txt": "LICENSE-CongressionalTwitterNetwork",
}
OUTPUT_FILES = (*DATA_FILES, *LICENCES.values(), "SOURCES.md")

# committee-membership titles that make a committee leader (shared SOURCES.md: Chair/Chairman/
# Co-Chairman/Ranking Member; the other keys are spellings of the same titles in the files): the
# roster reader's rule, so the demo and `socialens ingest` of the same files agree
COMMITTEE_TITLES = COMMITTEE_LEADER_TITLES
TERM_TITLES = {"sen": "Senator", "rep": "Representative"}
CHAMBERS = {"sen": "senate", "rep": "house"}

# Fink et al. collection window (README: tweets from 2022-02-09 to 2022-06-09)
FINK_WINDOW = ("2022-02-09", "2022-06-09")

# handle observations, most recent source first; used to pick the current handle and to
# resolve 2015 screen names (replies, the 2015 social-media listing) to numeric ids
HANDLE_SOURCES_BY_RECENCY = (
    "historical-users",  # congresstweets-accounts, as of 2023-06
    "social-media-2022-05-26",
    "fink-2022",
    "list-members-2017",
    "social-media-2017-11-29",
    "twitterreport-2015",
    "historical-users-prev",  # previous names, date unknown
)
HANDLE_SOURCES_FOR_2015 = (
    "twitterreport-2015",
    "list-members-2017",
    "social-media-2017-11-29",
    "social-media-2022-05-26",
    "fink-2022",
    "historical-users",
    "historical-users-prev",
)

# the date each handle source observed its handles (YYYY-MM-DD; `accounts.attrs.handle_history`).
# list-members-2017 and twitterreport-2015 are dated with their snapshot's observed_at (computed
# from the data, see build_snapshots); historical-users is "as of 2023-06" (shared SOURCES.md), taken
# as its last day so no handle is claimed earlier than known; Fink et al. at the end of their window.
# historical-users-prev (previous names) has no date and gives no observation.
HANDLE_SOURCE_DATES = {
    "social-media-2017-11-29": "2017-11-29",
    "social-media-2022-05-26": "2022-05-26",
    "fink-2022": "2022-06-09",
    "historical-users": "2023-06-30",
}
# handles written by hand in a listing (case as typed); API sources give the account's own casing
LISTING_HANDLE_SOURCES = ("social-media-2017-11-29", "social-media-2022-05-26")

# Twitter user ids: sequential integers until early 2016, snowflakes after (the id's top 41 bits
# are milliseconds since the Twitter epoch 1288834974657, twitter-archive/snowflake IdWorker.scala).
# In this data the largest sequential id is 4,917,423,588 (created 2016-02-16) and the smallest
# snowflake 694,984,534,249,594,882 (created 2016-02-03); an id is read as a snowflake when it
# encodes a time from 2016-01-01 on (sequential ids are ~10^8 times smaller, so none does).
# check_snowflake_user_ids verifies the decoding against every recorded created_at.
SNOWFLAKE_USER_IDS_FROM = datetime(2016, 1, 1, tzinfo=UTC)
SNOWFLAKE_EPOCH_MS = 1288834974657
SNOWFLAKE_MIN_USER_ID = (int(SNOWFLAKE_USER_IDS_FROM.timestamp() * 1000) - SNOWFLAKE_EPOCH_MS) << 22

# a press office (kind = delegate): the account's own profile says it is one. In the handle or
# display name: "Press" as a name part (McConnellPress, "Portman Press Office", "SenBlunt
# PressOffice"; not "Pressley"); in the bio: "press office/shop/team" or "PressShop", unless it
# points to another account ("Press office is @SenSasse" in @BenSasse's bio).
PRESS_HANDLE_RE = re.compile(r"Press(?![a-z])")
PRESS_NAME_RE = re.compile(r"(?i)\bpress(?:\s*(?:office|shop|team))?\b")
PRESS_BIO_RE = re.compile(r"(?i)\bpress\s*(?:office|shop|team)\b(?!\s+(?:is|at)\s+@)")

RETWEET_RE = re.compile(r"^RT @(\w+)")


class BuildError(Exception):
    """The shared data is not what the builder expects; the message says what and where."""


# --------------------------------------------------------------------------------------------
# small helpers


class Log:
    """Counts of everything the builder did, printed and written into SOURCES.md."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def section(self, title: str) -> None:
        self.lines.append(f"\n### {title}")
        print(f"\n== {title}")

    def count(self, what: str, value: object) -> None:
        text = f"{value:,}" if isinstance(value, int) else str(value)
        self.lines.append(f"- {what}: {text}")
        print(f"  {what}: {text}")

    def note(self, text: str) -> None:
        self.lines.append(f"- {text}")
        print(f"  {text}")


def load_yaml_gz(path: Path):
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return yaml.load(f, Loader=loader)  # noqa: S506 - a safe loader


def load_json_gz(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def read_csv_str(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def iso_z(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_twitter_time(text: str) -> datetime:
    """A v1.1 API time, e.g. ``Fri Jun 23 17:18:21 +0000 2017``."""
    return datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)


def twitterreport_time(text: str) -> datetime:
    """A time of the twitterreport R package data, corrected to UTC.

    The files hold the UTC clock reading shifted by the America/Los_Angeles offset (7 h in summer,
    8 h in winter): read as UTC and shown on a Los Angeles clock, they give the true UTC reading.
    ``check_twitterreport_times`` verifies this against tweet-id timestamps and the raw 2017 API.
    """
    shifted = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    return shifted.astimezone(LOS_ANGELES).replace(tzinfo=UTC)


def snowflake_time(id_text: str) -> datetime:
    """Creation time encoded in a Twitter snowflake id (valid from November 2010)."""
    return datetime.fromtimestamp(((int(id_text) >> 22) + 1288834974657) / 1000, tz=UTC)


def next_midnight(dt: datetime) -> datetime:
    day = dt.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def congress_of(day: str) -> tuple[int, str, str]:
    """The Congress (number, start, end) whose two-year term contains ``day`` (terms start Jan 3)."""
    d = date.fromisoformat(day)
    start_year = d.year if d.year % 2 == 1 else d.year - 1
    if d < date(start_year, 1, 3):
        start_year -= 2
    number = (start_year - 1789) // 2 + 1
    return number, f"{start_year}-01-03", f"{start_year + 2}-01-03"


def sha1_hex(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def post_key(screen_name: str, created_at: str, text: str) -> str:
    """The stable key of shared/data/sharing_labels/README.md (fields verbatim from the source)."""
    return f"{screen_name}|{created_at}|{sha1_hex(text[:30])[:10]}"


def fmt_bool(value: bool) -> str:
    return "true" if value else "false"


def fmt_float(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def unique_in_order(values) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        seen.setdefault(v, None)
    return list(seen)


def write_gzip(path: Path, data: bytes) -> None:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    path.write_bytes(buf.getvalue())


def csv_bytes(columns: list[str], rows: list[dict]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="raise")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row[c] for c in columns})
    return buf.getvalue().encode("utf-8")


# --------------------------------------------------------------------------------------------
# sources


@dataclass
class Roster:
    day: str
    legislators: list
    social: list
    membership: dict
    committees: dict  # thomas_id -> committee record


def load_rosters(shared: Path) -> dict[str, Roster]:
    rosters = {}
    for day in ROSTER_DATES:
        folder = shared / "congress_legislators" / day
        committees = {c["thomas_id"]: c for c in load_yaml_gz(folder / "committees-current.yaml.gz")}
        rosters[day] = Roster(
            day=day,
            legislators=load_yaml_gz(folder / "legislators-current.yaml.gz"),
            social=load_yaml_gz(folder / "legislators-social-media.yaml.gz"),
            membership=load_yaml_gz(folder / "committee-membership-current.yaml.gz"),
            committees=committees,
        )
    return rosters


# --------------------------------------------------------------------------------------------
# people and roles


def build_people(rosters: dict[str, Roster], log: Log) -> tuple[list[dict], dict[str, dict], dict[str, str]]:
    """One row per bioguide id; fields from the most recent snapshot that lists the person.

    Returns the rows, the latest YAML record per person and the date of that roster.
    """
    latest: dict[str, dict] = {}
    listed: dict[str, list[str]] = defaultdict(list)
    for day in ROSTER_DATES:  # ascending, so later snapshots overwrite
        for p in rosters[day].legislators:
            bioguide = p["id"]["bioguide"]
            latest[bioguide] = p
            listed[bioguide].append(day)
    rows = []
    for bioguide, p in sorted(latest.items()):
        name = p["name"].get("official_full") or f"{p['name']['first']} {p['name']['last']}"
        term = p["terms"][-1]
        rows.append(
            {
                "person_id": bioguide,
                "name": name,
                "department": term["party"],
                "opt_in": "true",
                "chamber": CHAMBERS[term["type"]],
                "state": term["state"],
                "bioguide": bioguide,
                "gender": p.get("bio", {}).get("gender", ""),
                "rosters": ";".join(listed[bioguide]),
            }
        )
    log.section("people")
    for day in ROSTER_DATES:
        log.count(f"legislators in the {day} roster", len(rosters[day].legislators))
    log.count("people (union by bioguide id)", len(rows))
    log.count("people with no official_full name (first + last used)",
              sum(1 for p in latest.values() if not p["name"].get("official_full")))
    return rows, latest, {b: days[-1] for b, days in listed.items()}


def leadership_title(title: str, chamber: str) -> str:
    """One spelling across snapshots: 2015/2017 say ``Majority Whip`` + chamber, 2022 ``Senate
    Majority Whip``; ``Speaker`` becomes ``Speaker of the House`` as in 2022."""
    if title == "Speaker":
        return "Speaker of the House"
    if re.search(r"\b(Senate|House)\b", title):
        return title
    return f"{chamber.capitalize()} {title}"


def build_roles(rosters: dict[str, Roster], latest: dict[str, dict], last_listed: dict[str, str],
                log: Log) -> list[dict]:
    rows: list[dict] = []

    # level 2: terms, from the most recent snapshot that lists the person. Someone missing from
    # a later roster left before its date: a term running past it ends at that date instead.
    capped = []
    service_end: dict[str, str] = {}
    for bioguide, p in latest.items():
        later = [d for d in ROSTER_DATES if d > last_listed[bioguide]]
        for term in p["terms"]:
            row = {
                "person_id": bioguide,
                "title": TERM_TITLES[term["type"]],
                "level": 2,
                "is_leader": "false",
                "start_at": term["start"],
                "end_at": term["end"],
                "chamber": CHAMBERS[term["type"]],
                "state": term["state"],
                "district": "" if term.get("district") is None else str(term["district"]),
                "party": term.get("party", ""),
                "source": f"legislators-current {last_listed[bioguide]} terms",
            }
            if later and term["end"] > later[0]:
                row["end_at"] = later[0]
                row["end_source"] = f"not in the {later[0]} roster (left earlier, date unknown)"
                capped.append(f"{bioguide} {row['title']} {term['start']} -> {term['end']} "
                              f"capped at {later[0]}")
            rows.append(row)
        service_end[bioguide] = max(r["end_at"] for r in rows if r["person_id"] == bioguide)
    n_terms = len(rows)

    # level 0: leadership_roles, same rule
    leaders: list[dict] = []
    for bioguide, p in latest.items():
        for r in p.get("leadership_roles", []):
            leaders.append(
                {
                    "person_id": bioguide,
                    "title": leadership_title(r["title"], r["chamber"]),
                    "level": 0,
                    "is_leader": "true",
                    "start_at": r["start"],
                    "end_at": r.get("end") or "",
                    "chamber": r["chamber"],
                    "source_title": r["title"],
                    "source": f"legislators-current {last_listed[bioguide]} leadership_roles",
                }
            )
    # an open role of someone missing from a later snapshot has ended: at the start of the next
    # holder of the same title, else at the end of the person's last term
    closed = Counter()
    closed_list = []
    for r in leaders:
        if r["end_at"] or last_listed[r["person_id"]] == ROSTER_DATES[-1]:
            continue
        nxt = sorted(o["start_at"] for o in leaders
                     if o["title"] == r["title"] and o["start_at"] > r["start_at"])
        term_end = service_end[r["person_id"]]
        if nxt and nxt[0] <= term_end:
            r["end_at"], r["end_source"] = nxt[0], "start of the next holder"
        else:
            r["end_at"], r["end_source"] = term_end, "end of the last term"
        closed[r["end_source"]] += 1
        closed_list.append(f"{r['person_id']} {r['title']} {r['start_at']} -> {r['end_at']} ({r['end_source']})")
    rows.extend(leaders)

    # level 1: committee leaders seen in each snapshot, dated to the Congress of the snapshot
    committee_rows = []
    skipped = Counter()
    trimmed = 0
    for day in ROSTER_DATES:
        roster = rosters[day]
        number, start, end = congress_of(day)
        for code, members in sorted(roster.membership.items()):
            if len(code) != 4:
                continue
            for m in members:
                title = COMMITTEE_TITLES.get(m.get("title") or "")
                if title is None:
                    if m.get("title"):
                        skipped[f"title {m['title']!r} (not a committee-leader title)"] += 1
                    continue
                if m["bioguide"] not in latest:
                    skipped["member not in people"] += 1
                    continue
                committee = roster.committees.get(code, {})
                role_end = min(end, service_end[m["bioguide"]])
                trimmed += role_end < end
                committee_rows.append(
                    {
                        "person_id": m["bioguide"],
                        "title": f"{title} {code}",
                        "level": 1,
                        "is_leader": "false",
                        "start_at": start,
                        "end_at": role_end,
                        "chamber": committee.get("type", ""),
                        "committee": code,
                        "committee_name": committee.get("name", ""),
                        "source_title": m["title"],
                        "congress": str(number),
                        "party": m.get("party", ""),
                        "source": f"committee-membership-current {day}",
                        "dates": f"Congress {number} (contains the snapshot date {day})",
                    }
                )
    rows.extend(committee_rows)

    keys = Counter((r["person_id"], r["title"], r["start_at"]) for r in rows)
    dupes = [k for k, n in keys.items() if n > 1]
    if dupes:
        raise BuildError(f"roles: duplicate (person_id, title, start_at) keys, e.g. {dupes[:3]}")
    missing = {r["person_id"] for r in rows} - set(latest)
    if missing:
        raise BuildError(f"roles: person ids not in people: {sorted(missing)[:5]}")

    log.section("roles")
    log.count("level 2 (Senator/Representative terms)", n_terms)
    log.count("level 2 terms running past a roster date the person is missing from, capped there",
              len(capped))
    for text in sorted(capped):
        log.note(f"capped: {text}")
    log.count("level 0 (leadership_roles)", len(leaders))
    for key in ("start of the next holder", "end of the last term"):
        log.count(f"level 0 open roles of people absent from a later roster, closed at the {key}",
                  closed[key])
    for text in sorted(closed_list):
        log.note(f"closed: {text}")
    for day in ROSTER_DATES:
        number, start, end = congress_of(day)
        log.count(f"level 1 committee leaders from {day} (Congress {number}, {start} -> {end})",
                  sum(1 for r in committee_rows if r["source"].endswith(day)))
    log.count("level 1 roles ending with the member's (capped) service before the Congress ends", trimmed)
    for key, n in sorted(skipped.items()):
        log.count(f"committee titles on top-level committees skipped: {key}", n)
    rows.sort(key=lambda r: (r["person_id"], r["start_at"], r["level"], r["title"]))
    return rows


def active_roles(roles: list[dict], day: str, level: int) -> list[dict]:
    return [r for r in roles if r["level"] == level and r["start_at"] <= day
            and (not r["end_at"] or day < r["end_at"])]


# --------------------------------------------------------------------------------------------
# accounts


@dataclass
class Account:
    """Everything the sources say about one numeric Twitter id."""

    id: str
    handles: dict[str, str] = field(default_factory=dict)  # source -> handle (first seen)
    prev_handles: list[str] = field(default_factory=list)
    person_claims: dict[str, str] = field(default_factory=dict)  # source -> bioguide
    account_type: str = ""
    entity: dict | None = None
    display_name: str = ""
    bio: str = ""
    url: str = ""
    created_at: datetime | None = None
    created_source: str = ""
    sources: set[str] = field(default_factory=set)
    official_listing: set[str] = field(default_factory=set)
    deleted: bool = False
    verified: str = ""
    profiles: list[tuple[str, str, str, str]] = field(default_factory=list)  # source, handle, name, bio

    def see_handle(self, source: str, handle: str) -> None:
        if handle:
            self.handles.setdefault(source, handle)

    def handle(self) -> str:
        for source in HANDLE_SOURCES_BY_RECENCY:
            if source in self.handles:
                return self.handles[source]
        return ""


class AccountBook:
    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}

    def get(self, account_id: str, source: str) -> Account:
        if not account_id.isdigit():
            raise BuildError(f"{source}: account id {account_id!r} is not a numeric Twitter id")
        acc = self.accounts.setdefault(account_id, Account(account_id))
        acc.sources.add(source)
        return acc

    def handle_index(self, order: tuple[str, ...]) -> dict[str, dict[str, set[str]]]:
        """source -> lower-cased handle -> ids."""
        index: dict[str, dict[str, set[str]]] = {s: defaultdict(set) for s in order}
        for acc in self.accounts.values():
            for source, handle in acc.handles.items():
                index[source][handle.lower()].add(acc.id)
            for handle in acc.prev_handles:
                index["historical-users-prev"][handle.lower()].add(acc.id)
        return index

    def resolve(self, handle: str, order: tuple[str, ...], index=None) -> tuple[str | None, str]:
        """The id a screen name denotes: the first source (in ``order``) that knows the handle
        decides; ``(None, "ambiguous")`` when that source knows several ids for it."""
        index = index or self.handle_index(order)
        for source in order:
            ids = index[source].get(handle.lower())
            if ids:
                return (next(iter(ids)), source) if len(ids) == 1 else (None, "ambiguous")
        return None, "unknown"


def observed_2017_of(lm_users: list) -> datetime:
    """When list-members-2017 was retrieved (approximation): the day after its latest status."""
    return next_midnight(max(parse_twitter_time(u["status"]["created_at"]) for u in lm_users if u.get("status")))


def build_accounts(shared: Path, rosters: dict[str, Roster], people: set[str], observed_2015: datetime,
                   log: Log):
    book = AccountBook()
    log.section("accounts")

    # 1. list-members-2017: raw v1.1 user objects
    lm_users = load_json_gz(shared / "congresstweets_accounts" / "list-members-2017.json.gz")["users"]
    handle_dates = {**HANDLE_SOURCE_DATES,
                    "list-members-2017": observed_2017_of(lm_users).date().isoformat(),
                    "twitterreport-2015": observed_2015.date().isoformat()}
    for u in lm_users:
        acc = book.get(u["id_str"], "list-members-2017")
        acc.see_handle("list-members-2017", u["screen_name"])
        acc.display_name = u["name"] or ""
        acc.bio = u["description"] or ""
        urls = (u.get("entities") or {}).get("url", {}).get("urls", [])
        acc.url = (urls[0].get("expanded_url") if urls else None) or u["url"] or ""
        acc.created_at, acc.created_source = parse_twitter_time(u["created_at"]), "list-members-2017"
        acc.verified = fmt_bool(u["verified"])
        acc.profiles.append(("list-members-2017", u["screen_name"], u["name"] or "", u["description"] or ""))
    log.count("list-members-2017 user objects", len(lm_users))

    # 2. historical-users-filtered: account -> member (bioguide) or organization entity
    entities = load_json_gz(shared / "congresstweets_accounts" / "historical-users-filtered.json.gz")
    other_ids = {u["id_str"] for u in lm_users}
    hist_kept = Counter()
    hist_skipped = 0
    pending = []
    for e in entities:
        for a in e["accounts"]:
            pending.append((e, a))
    # ids seen in the other account sources decide which former members' accounts are kept
    profiles = read_csv_str(shared / "senate_2015_twitterreport" / "senators_profile.csv")
    members_2015 = read_csv_str(shared / "senate_2015_twitterreport" / "members_2015.csv")
    fink_ids = set((shared / "congress_network_2022_fink" / "congress_ids.txt").read_text().split())
    social_ids = {str(s["social"]["twitter_id"]) for r in rosters.values() for s in r.social
                  if s["social"].get("twitter_id")}
    other_ids |= set(profiles.tw_id) | fink_ids | social_ids
    for e, a in pending:
        member = e["type"] == "member"
        if member and e["id"]["bioguide"] not in people and a["id"] not in other_ids:
            hist_skipped += 1
            continue
        acc = book.get(a["id"], "historical-users")
        acc.see_handle("historical-users", a["screen_name"])
        for prev in a.get("prev_names", []):
            # two entries are {bioguide: name} dicts instead of names
            names = [prev] if isinstance(prev, str) else list(prev.values())
            acc.prev_handles.extend(n for n in names if n)
        acc.account_type = a["account_type"]
        acc.deleted = bool(a.get("deleted"))
        if member:
            acc.person_claims["historical-users"] = e["id"]["bioguide"]
            hist_kept["member"] += 1
        else:
            acc.entity = {"name": e["name"], "type": e["type"], "chamber": a.get("chamber") or e["chamber"],
                          "party": e.get("party", "")}
            if not acc.display_name and a.get("name"):
                acc.display_name = a["name"]
            hist_kept[e["type"]] += 1
    log.count("historical-users entities", len(entities))
    log.count("historical-users accounts", len(pending))
    for kind, n in sorted(hist_kept.items()):
        log.count(f"historical-users {kind} accounts kept", n)
    log.count("historical-users member accounts skipped (member not in people and id in no other source)",
              hist_skipped)

    # 3. legislators-social-media: the official listing (ids from 2016 on, handles only in 2015)
    for day in ROSTER_DATES:
        for s in rosters[day].social:
            tid = s["social"].get("twitter_id")
            if tid:
                acc = book.get(str(tid), f"social-media-{day}")
                acc.see_handle(f"social-media-{day}", s["social"].get("twitter", ""))
                acc.person_claims[f"social-media-{day}"] = s["id"]["bioguide"]
                acc.official_listing.add(day)

    # 4. twitterreport 2015: senator profiles (+ bioguide join of members_2015.csv)
    bioguide_2015 = {i: b for i, b in zip(members_2015.tw_id, members_2015.bioguide, strict=True) if b}
    n_prof = 0
    for _, p in profiles.iterrows():
        if not p.tw_id:
            continue
        n_prof += 1
        acc = book.get(p.tw_id, "twitterreport-2015")
        acc.see_handle("twitterreport-2015", p.tw_screen_name)
        acc.profiles.append(("twitterreport-2015", p.tw_screen_name, p.tw_name, p.tw_description))
        if p.tw_id in bioguide_2015:
            acc.person_claims["twitterreport-2015"] = bioguide_2015[p.tw_id]
        if acc.created_at is None:
            acc.created_at, acc.created_source = twitterreport_time(p.tw_created_at), "twitterreport-2015"
        if not acc.display_name:
            acc.display_name, acc.bio = p.tw_name, p.tw_description
        if not acc.verified:
            acc.verified = p.tw_verified.lower()
    log.count("senators_profile.csv rows with an account", n_prof)
    log.count("senators_profile.csv rows without an account (senator had none in the data)",
              int((profiles.tw_id == "").sum()))

    # 5. Fink et al. 2022 nodes: usernames resolved to ids in congress_ids.txt
    node_ids = resolve_fink_nodes(shared, book, log)
    nodes = read_csv_str(shared / "congress_network_2022_fink" / "nodes_2022.csv")
    for node, username, bioguide in zip(nodes.node, nodes.username, nodes.bioguide, strict=True):
        acc = book.get(node_ids[int(node)], "fink-2022")
        acc.see_handle("fink-2022", username)
        if bioguide:
            acc.person_claims["fink-2022"] = bioguide

    # 6. the 2015 listing has handles only: mark the accounts it names when the handle resolves
    #    (2015 sources first) to an account already linked to the same person
    order = HANDLE_SOURCES_FOR_2015
    index = book.handle_index(order)
    outcome = Counter()
    for s in rosters[ROSTER_DATES[0]].social:
        handle = s["social"].get("twitter")
        if not handle:
            outcome["no twitter handle"] += 1
            continue
        account_id, how = book.resolve(handle, order, index)
        if account_id is None:
            outcome[f"handle {how} (not marked)"] += 1
            continue
        claims = set(book.accounts[account_id].person_claims.values())
        if claims and claims != {s["id"]["bioguide"]}:
            outcome["handle resolves to another person's account (not marked)"] += 1
            continue
        book.accounts[account_id].official_listing.add(ROSTER_DATES[0])
        book.accounts[account_id].person_claims.setdefault(f"social-media-{ROSTER_DATES[0]}",
                                                           s["id"]["bioguide"])
        outcome["handle resolved and marked"] += 1
    for key, n in sorted(outcome.items()):
        log.count(f"2015-07-16 social-media entries: {key}", n)

    rows = account_rows(book, people, handle_dates, log)
    return book, rows, lm_users, profiles, node_ids


def resolve_fink_nodes(shared: Path, book: AccountBook, log: Log) -> dict[int, str]:
    """Node index -> Twitter id.

    The network has 475 nodes but ``congress_ids.txt`` 530 ids, so node i is *not* line i (only
    the first 9 agree). Each node's username (``nodes_2022.csv`` = ``usernameList`` of the JSON)
    is resolved through the handles known from the other sources, restricted to the 530 ids; the
    result must be unique for every node and keep the order of ``congress_ids.txt`` (the nodes
    are the ids minus the accounts without edges), which confirms the mapping.
    """
    folder = shared / "congress_network_2022_fink"
    ids = (folder / "congress_ids.txt").read_text().split()
    position = {x: i for i, x in enumerate(ids)}
    nodes = read_csv_str(folder / "nodes_2022.csv")
    network = load_json_gz(folder / "congress_network_data.json.gz")
    network = network[0] if isinstance(network, list) else network
    if list(network["usernameList"]) != list(nodes.username):
        raise BuildError(f"{folder}: nodes_2022.csv usernames differ from usernameList of the JSON")
    index = book.handle_index(HANDLE_SOURCES_BY_RECENCY)
    known: dict[str, set[str]] = defaultdict(set)
    for per_source in index.values():
        for handle, found in per_source.items():
            known[handle] |= found & set(position)
    result: dict[int, str] = {}
    for node, username in zip(nodes.node.astype(int), nodes.username, strict=True):
        found = known.get(username.lower(), set())
        if len(found) != 1:
            raise BuildError(f"{folder}/nodes_2022.csv: node {node} @{username} resolves to "
                             f"{sorted(found) or 'no id'} in congress_ids.txt")
        result[node] = found.pop()
    order = [position[result[n]] for n in sorted(result)]
    if order != sorted(order):
        raise BuildError(f"{folder}: resolved node ids are not in congress_ids.txt order")
    log.count("Fink nodes resolved to congress_ids.txt ids by username (unique, order-preserving)",
              len(result))
    log.count("Fink nodes whose id is line `node` of congress_ids.txt",
              sum(1 for n, i in result.items() if ids[n] == i))
    log.count("congress_ids.txt ids that are not network nodes (not shipped)",
              len(ids) - len(result))
    log.count("Fink nodes whose nodes_2022.csv twitter_id (the 2022 official listing) is another account",
              int(sum(1 for n, t in zip(nodes.node.astype(int), nodes.twitter_id, strict=True)
                      if t and t != result[n])))
    return result


def press_office_evidence(acc: Account) -> str:
    """Why the account is a press office (its own profile says so), or "" when it is not."""
    for source, handle, name, bio in acc.profiles:
        if PRESS_HANDLE_RE.search(handle):
            return f"press office: {source} screen_name {handle!r}"
        if PRESS_NAME_RE.search(name):
            return f"press office: {source} name {name!r}"
        m = PRESS_BIO_RE.search(bio)
        if m:
            return f"press office: {source} description {m.group(0)!r}"
    return ""


def handle_history(acc: Account, handle_dates: dict[str, str]) -> str:
    """``YYYY-MM-DD=handle;...``: each dated source's handle, in date order, a run of the same
    handle (case-insensitive) kept as its first observation. A listing's handle takes the casing
    of the same name from an API source of the account."""
    api = {h.lower(): h for src, h in acc.handles.items() if src not in LISTING_HANDLE_SOURCES}
    obs = sorted((handle_dates[src], api.get(h.lower(), h)) for src, h in acc.handles.items()
                 if src in handle_dates)
    kept: list[tuple[str, str]] = []
    for day, h in obs:
        if not kept or kept[-1][1].lower() != h.lower():
            kept.append((day, h))
    return ";".join(f"{day}={h}" for day, h in kept)


def check_snowflake_user_ids(book: AccountBook, log: Log) -> None:
    """Evidence for reading user ids as snowflakes: every account with a recorded created_at."""
    known = [(int(a.id), a.created_at) for a in book.accounts.values() if a.created_at is not None]
    flakes = [(i, c) for i, c in known if i >= SNOWFLAKE_MIN_USER_ID]
    sequential = [(i, c) for i, c in known if i < SNOWFLAKE_MIN_USER_ID]
    worst = max(abs((snowflake_time(str(i)) - c).total_seconds()) for i, c in flakes)
    largest_seq = max(sequential)
    log.count("accounts with a recorded created_at and a snowflake id (encoding 2016-01-01 or later)",
              len(flakes))
    log.count("their largest |id time - recorded created_at| (seconds)", round(worst, 2))
    log.count("smallest snowflake id with a recorded created_at",
              f"{min(flakes)[0]} (created {iso_z(min(flakes)[1])})")
    log.count("largest sequential id with a recorded created_at",
              f"{largest_seq[0]} (created {iso_z(largest_seq[1])})")
    if worst > 2:
        raise BuildError("user ids read as snowflakes no longer agree with the recorded created_at; "
                         "re-examine SNOWFLAKE_MIN_USER_ID")


def account_rows(book: AccountBook, people: set[str], handle_dates: dict[str, str], log: Log) -> list[dict]:
    rows = []
    conflicts = []
    stats = Counter()
    check_snowflake_user_ids(book, log)
    for acc in book.accounts.values():
        if acc.created_at is None and int(acc.id) >= SNOWFLAKE_MIN_USER_ID:
            acc.created_at, acc.created_source = snowflake_time(acc.id).replace(microsecond=0), "snowflake"
        evidence = ""
        claims = set(acc.person_claims.values())
        bioguide = ""
        if len(claims) > 1:
            conflicts.append((acc.id, dict(sorted(acc.person_claims.items()))))
            # the official listing wins, then the account map
            for source in ("social-media-2022-05-26", "social-media-2017-11-29",
                           "social-media-2015-07-16", "historical-users", "twitterreport-2015",
                           "fink-2022"):
                if source in acc.person_claims:
                    bioguide = acc.person_claims[source]
                    break
        elif claims:
            bioguide = claims.pop()
        person_id = bioguide if bioguide in people else ""
        if acc.entity is not None:
            kind = "official"
            stats["official (committee/caucus/party)"] += 1
        elif person_id and (evidence := press_office_evidence(acc)):
            kind = "delegate"
            stats["delegate (a member's press office, by its own profile), linked to a person"] += 1
        elif person_id:
            kind = "personal"
            stats["personal, linked to a person"] += 1
        elif bioguide:
            kind = "personal"
            stats["personal, member not in people (person_id empty, member_bioguide kept)"] += 1
        else:
            kind = "personal"
            stats["personal, no source links it to a member (person_id empty)"] += 1
        handle = acc.handle()
        previous = unique_in_order(
            h for h in [*acc.handles.values(), *acc.prev_handles] if h.lower() != handle.lower())
        previous = sorted({h.lower(): h for h in previous}.values(), key=str.lower)
        rows.append(
            {
                "account_id": f"twitter:{acc.id}",
                "platform": "twitter",
                "person_id": person_id,
                "handle": handle,
                "kind": kind,
                "created_at": iso_z(acc.created_at) if acc.created_at else "",
                "display_name": acc.display_name,
                "bio": acc.bio,
                "url": acc.url,
                "account_type": acc.account_type,
                "official_listing": fmt_bool(bool(acc.official_listing)),
                "official_listing_rosters": ";".join(sorted(acc.official_listing)),
                "member_bioguide": bioguide if bioguide and not person_id else "",
                "entity_name": acc.entity["name"] if acc.entity else "",
                "entity_type": acc.entity["type"] if acc.entity else "",
                "entity_chamber": acc.entity["chamber"] if acc.entity else "",
                "entity_party": acc.entity["party"] if acc.entity else "",
                "previous_handles": ";".join(previous),
                "verified": acc.verified,
                "deleted": fmt_bool(acc.deleted) if "historical-users" in acc.sources else "",
                "created_at_source": acc.created_source,
                "handle_history": handle_history(acc, handle_dates),
                "kind_evidence": evidence,
                "sources": ";".join(sorted(acc.sources)),
            }
        )
    rows.sort(key=lambda r: r["account_id"])
    log.count("accounts (unique numeric ids)", len(rows))
    for key, n in sorted(stats.items()):
        log.count(f"accounts {key}", n)
    log.count("accounts with a created_at", sum(1 for r in rows if r["created_at"]))
    for source, n in sorted(Counter(r["created_at_source"] for r in rows if r["created_at"]).items()):
        log.count(f"accounts with created_at_source {source}", n)
    for r in rows:
        if r["kind"] == "delegate":
            log.note(f"delegate: {r['account_id']} @{r['handle']} ({r['person_id']}): {r['kind_evidence']}")
    log.count("accounts with a handle_history whose handles differ",
              sum(1 for r in rows if r["handle_history"].count("=") > 1))
    log.count("accounts in an official social-media listing", sum(r["official_listing"] == "true" for r in rows))
    log.count("accounts whose sources name different members", len(conflicts))
    for c in conflicts:
        log.note(f"conflict: {c}")
    return rows


# --------------------------------------------------------------------------------------------
# snapshots, posts, edges


def check_twitterreport_times(tweets: pd.DataFrame, profiles: pd.DataFrame, lm_users: list, log: Log) -> None:
    """Evidence for the time-zone correction: tweet ids and the raw 2017 API objects."""
    worst = max(abs((twitterreport_time(c) - snowflake_time(i)).total_seconds())
                for i, c in zip(tweets.id, tweets.created_at, strict=True))
    raw_offsets = Counter(
        round((datetime.strptime(c, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
               - snowflake_time(i)).total_seconds() / 3600)
        for i, c in zip(tweets.id, tweets.created_at, strict=True))
    lm_created = {u["id_str"]: parse_twitter_time(u["created_at"]) for u in lm_users}
    pairs = [(twitterreport_time(c), lm_created[i]) for i, c in zip(profiles.tw_id, profiles.tw_created_at, strict=True)
             if i in lm_created]
    agree = sum(a == b for a, b in pairs)
    log.count("senate tweets: source time minus tweet-id (snowflake) time, hours -> tweets",
              dict(sorted(raw_offsets.items())))
    log.count("senate tweets: largest |corrected time - tweet-id time| (seconds)", round(worst, 2))
    log.count("2015 profiles whose corrected created_at equals the raw 2017 API created_at",
              f"{agree} of {len(pairs)}")
    if worst > 5 or agree != len(pairs):
        raise BuildError("senate_2015_twitterreport: the America/Los_Angeles time correction no longer "
                         "matches the tweet ids / 2017 profiles; re-examine the time zone of the files")


def build_snapshots(lm_users: list, profiles: pd.DataFrame, tweets_last: datetime, log: Log):
    observed_2017 = observed_2017_of(lm_users)
    observed_2015 = next_midnight(tweets_last)
    rows = [
        {
            "account_id": f"twitter:{u['id_str']}",
            "observed_at": iso_z(observed_2017),
            "followers": u["followers_count"],
            "following": u["friends_count"],
            "posts_count": u["statuses_count"],
            "listed_count": u["listed_count"],
        }
        for u in lm_users
    ]
    for _, p in profiles[profiles.tw_id != ""].iterrows():
        rows.append(
            {
                "account_id": f"twitter:{p.tw_id}",
                "observed_at": iso_z(observed_2015),
                "followers": int(float(p.tw_followers_count)),
                "following": int(float(p.tw_friends_count)),
                "posts_count": int(float(p.tw_statuses_count)),
                "listed_count": int(float(p.tw_listed_count)),
            }
        )
    rows.sort(key=lambda r: (r["account_id"], r["observed_at"]))
    log.section("snapshots")
    log.count("2017 observed_at (day after the latest status in list-members-2017)", iso_z(observed_2017))
    log.count("2017 snapshots", len(lm_users))
    log.count("2017 users without a status (not used for observed_at)",
              sum(1 for u in lm_users if not u.get("status")))
    log.count("2015 observed_at (day after the latest Senate tweet, corrected to UTC)", iso_z(observed_2015))
    log.count("2015 snapshots", int((profiles.tw_id != "").sum()))
    return rows, observed_2017, observed_2015


def build_posts(tweets: pd.DataFrame, profiles: pd.DataFrame, book: AccountBook, log: Log):
    screen_to_id = {s.lower(): i for s, i in zip(profiles.tw_screen_name, profiles.tw_id, strict=True) if i}
    index = book.handle_index(HANDLE_SOURCES_FOR_2015)
    rows = []
    replies = Counter()
    reply_pairs = Counter()
    stats = Counter()
    for t in tweets.itertuples(index=False):
        author = screen_to_id.get(t.screen_name.lower())
        if author is None or author != t.user_id:
            raise BuildError(f"senate_tweets.csv.gz: @{t.screen_name} (user_id {t.user_id}) has no "
                             "matching senators_profile.csv account")
        key = post_key(t.screen_name, t.created_at, t.text)
        attrs = {"post_key": key, "source_name": t.source_name, "source_id": t.id,
                 "source_created_at": t.created_at}
        post = {
            "post_id": f"twitter:sen2015-{sha1_hex(key)[:16]}",
            "account_id": f"twitter:{author}",
            "created_at": iso_z(twitterreport_time(t.created_at)),
            "text": t.text,
            "repost_count": int(t.retweet_count),
            "like_count": int(t.favorite_count),
        }
        if t.in_reply_to_screen_name:
            attrs["in_reply_to_screen_name"] = t.in_reply_to_screen_name
            target, how = book.resolve(t.in_reply_to_screen_name, HANDLE_SOURCES_FOR_2015, index)
            replies[how if target is None else "resolved"] += 1
            if target is not None:
                post["reply_to_account_id"] = f"twitter:{target}"
                if target == author:
                    stats["self-replies (threads; no reply edge)"] += 1
                else:
                    reply_pairs[(author, target)] += 1
        rt = RETWEET_RE.match(t.text)
        if rt:
            attrs["retweet_of_screen_name"] = rt.group(1)
            stats["retweets (text starts with 'RT @x'; repost_of left empty)"] += 1
        if t.coordinates:
            attrs["coordinates"] = t.coordinates
        post["attrs"] = attrs
        rows.append(post)
    ids = Counter(p["post_id"] for p in rows)
    if len(ids) != len(rows):
        raise BuildError("senate_tweets.csv.gz: post_key hashes are not unique")
    if len({p["attrs"]["post_key"] for p in rows}) != len(rows):
        raise BuildError("senate_tweets.csv.gz: post_key is not unique")
    rows.sort(key=lambda p: p["post_id"])
    log.section("posts")
    log.count("senate tweets read", len(tweets))
    log.count("posts written (post_id unique)", len(rows))
    log.count("accounts with posts", len({p["account_id"] for p in rows}))
    log.count("posts by an account linked to no person (@KellyAyotte: no source gives its member)",
              sum(1 for p in rows if p["account_id"] == "twitter:229592356"))
    log.count("replies (in_reply_to_screen_name set)", sum(replies.values()))
    for key, n in sorted(replies.items()):
        log.count(f"replies whose screen name is {key}" if key != "resolved"
                  else "replies resolved to a known account (reply_to_account_id)", n)
    for key, n in sorted(stats.items()):
        log.count(key, n)
    return rows, reply_pairs


def build_edges(shared: Path, node_ids: dict[int, str], reply_pairs: Counter,
                first_tweet: datetime, last_tweet: datetime, log: Log) -> list[dict]:
    rows = []
    path = shared / "congress_network_2022_fink" / "congress.edgelist.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            m = re.fullmatch(r"(\d+) (\d+) \{'weight': ([0-9.eE+-]+)\}", line.strip())
            if not m:
                raise BuildError(f"{path}:{lineno}: unexpected edge line {line.strip()!r}")
            # Fink et al. store influence: B -> A when A retweeted, quoted, replied to or
            # mentioned B (graph_maker.py). SociaLens edges point from the member who paid
            # attention to the member attended to (follower -> followed, replier -> replied to),
            # so each edge is turned round: A -> B.
            rows.append(
                {
                    "src": f"twitter:{node_ids[int(m.group(2))]}",
                    "dst": f"twitter:{node_ids[int(m.group(1))]}",
                    "kind": "interaction",
                    "weight": fmt_float(float(m.group(3))),
                    "observed_at": "",
                    "window_start": FINK_WINDOW[0],
                    "window_end": FINK_WINDOW[1],
                }
            )
    n_fink = len(rows)
    window = (first_tweet.date().isoformat(), (last_tweet.date() + timedelta(days=1)).isoformat())
    for (src, dst), n in reply_pairs.items():
        rows.append(
            {
                "src": f"twitter:{src}",
                "dst": f"twitter:{dst}",
                "kind": "reply",
                "weight": str(n),
                "observed_at": "",
                "window_start": window[0],
                "window_end": window[1],
            }
        )
    keys = Counter((r["src"], r["dst"], r["kind"]) for r in rows)
    if max(keys.values()) > 1:
        raise BuildError("edges: duplicate (src, dst, kind)")
    rows.sort(key=lambda r: (r["kind"], r["src"], r["dst"]))
    log.section("edges")
    log.count(f"interaction edges (Fink et al. 2022, window {FINK_WINDOW[0]} -> {FINK_WINDOW[1]})", n_fink)
    log.count(f"reply edges (Senate tweets, window {window[0]} -> {window[1]})", len(rows) - n_fink)
    log.count("replies aggregated into reply edges", sum(reply_pairs.values()))
    return rows


# --------------------------------------------------------------------------------------------
# the 2017 check of shared/data/SOURCES.md


def rank_summary(frame: pd.DataFrame, groups: dict[str, set[str]], key: str) -> dict:
    """Median follower rank (1 = most followers) and creation rank (1 = earliest) per group."""
    frame = frame.copy()
    frame["follower_rank"] = frame["followers"].rank(ascending=False, method="average")
    frame["creation_rank"] = frame["created_at"].rank(ascending=True, method="average")
    out = {"n": len(frame)}
    for name, members in groups.items():
        sub = frame[frame[key].isin(members)]
        out[name] = (len(sub), statistics.median(sub.follower_rank) if len(sub) else None,
                     statistics.median(sub.creation_rank) if len(sub) else None)
    return out


def fmt_ranks(summary: dict) -> str:
    parts = [f"n = {summary['n']}"]
    for name, value in summary.items():
        if name != "n":
            n, fr, cr = value
            parts.append(f"{name} ({n}): follower {fr:g}, creation {cr:g}")
    return "; ".join(parts)


def verify_2017(rosters, roles, accounts, snapshots, lm_users, observed_2017, log: Log) -> dict:
    day = ROSTER_DATES[1]
    serving = {r["person_id"] for r in active_roles(roles, day, 2)}
    leaders = {r["person_id"] for r in active_roles(roles, day, 0)}
    committee = {r["person_id"] for r in active_roles(roles, day, 1)} - leaders
    rank_and_file = serving - leaders - committee
    groups = {"party leaders": leaders, "committee leaders": committee, "rank and file": rank_and_file}
    log.section("check: 2017 ranks (shared SOURCES.md: 504 accounts, leaders 38 / 47, rank and file ~285 / 283)")
    log.count(f"people serving on {day} / party leaders / committee leaders / rank and file",
              f"{len(serving)} / {len(leaders)} / {len(committee)} / {len(rank_and_file)}")
    lm = {u["id_str"]: u for u in lm_users}
    social = {str(s["social"]["twitter_id"]): s["id"]["bioguide"] for s in rosters[day].social
              if s["social"].get("twitter_id")}
    social_handle = {s["social"]["twitter"].lower(): s["id"]["bioguide"] for s in rosters[day].social
                     if s["social"].get("twitter")}

    def frame(pairs):
        return pd.DataFrame([{"account": i, "person": b, "followers": lm[i]["followers_count"],
                              "created_at": parse_twitter_time(lm[i]["created_at"])} for i, b in pairs])

    by_id = [(i, b) for i, b in social.items() if i in lm and b in serving]
    by_handle_verified = [(u["id_str"], social_handle[u["screen_name"].lower()]) for u in lm_users
                          if u["screen_name"].lower() in social_handle and u["verified"]
                          and social_handle[u["screen_name"].lower()] in serving]
    results = {
        "A": rank_summary(frame(by_id), groups, "person"),
        "B": rank_summary(frame(by_handle_verified), groups, "person"),
    }
    log.note("A. accounts: list-members-2017 users whose id is the twitter_id of a 2017-11-29 "
             "social-media entry: " + fmt_ranks(results["A"]))
    log.note("B. accounts: list-members-2017 users whose screen name is the 2017-11-29 social-media "
             "handle (case-insensitive) and that are verified (the only join found that gives 504): "
             + fmt_ranks(results["B"]))

    # C. people, from the shipped tables: best personal account among those observed in 2017
    acc = pd.DataFrame(accounts)
    snap = pd.DataFrame(snapshots)
    snap = snap[snap.observed_at == iso_z(observed_2017)]
    j = snap.merge(acc, on="account_id")
    j = j[(j.person_id != "") & (j.kind == "personal") & j.person_id.isin(serving)]
    j = j.assign(created_at=pd.to_datetime(j.created_at, utc=True), followers=j.followers.astype(int))
    people = j.groupby("person_id").agg(followers=("followers", "max"), created_at=("created_at", "min"),
                                        n_accounts=("account_id", "size")).reset_index()
    results["C"] = rank_summary(people, groups, "person_id")
    ranked = people.assign(follower_rank=people.followers.rank(ascending=False, method="average"),
                           creation_rank=people.created_at.rank(method="average"))
    for r in ranked[ranked.person_id.isin(leaders)].sort_values("follower_rank").itertuples():
        handles = ", ".join(sorted("@" + h for h in j[j.person_id == r.person_id].handle))
        log.note(f"C. leader {r.person_id} ({handles}): follower rank {r.follower_rank:g}, "
                 f"creation rank {r.creation_rank:g}")
    log.note("C. people serving on 2017-11-29 with a personal account in the 2017 snapshot, "
             "max followers and earliest creation over those accounts (office and campaign): "
             + fmt_ranks(results["C"]))
    office = j[j.account_type != "campaign"]
    people_office = office.groupby("person_id").agg(
        followers=("followers", "max"), created_at=("created_at", "min")).reset_index()
    results["D"] = rank_summary(people_office, groups, "person_id")
    log.note("D. as C but campaign accounts excluded: " + fmt_ranks(results["D"]))
    return results


# --------------------------------------------------------------------------------------------
# SOURCES.md


SOURCES_TEMPLATE = """\
# The "us-congress" demo dataset

The US Congress as an organization: **party leaders** (level 0), **committee leaders** (level 1) and
**rank-and-file** members (level 2), their Twitter accounts, follower counts observed in 2015 and
2017, the 17,586 Senate tweets of 2012-2015, and two networks between accounts. The files are in the
canonical interchange format (`docs/data_format.md`); load them with `socialens ingest` or
`ingest_path(workspace, US_CONGRESS_DIR)`.

Generated by `scripts/build_demo_dataset.py` from `../shared/data` (see its SOURCES.md). Do not edit
by hand: rebuild with `.venv/bin/python scripts/build_demo_dataset.py`; the build is deterministic
and `tests/datasets/test_build_demo_dataset.py` checks that a rebuild is byte-identical.

**Publishing.** Every person has `opt_in = true`: they are Members of Congress, public officials,
and everything here comes from public data published for reuse. The account rows include former
members' and unlinked accounts (`person_id` empty), which are never listed as people.

## Files

| file | rows | sha256 |
|---|---:|---|
{file_table}

## Sources

| source (in `../shared/data`) | repository | licence (file here) | taken |
|---|---|---|---|
| `congress_legislators/{{2015-07-16,2017-11-29,2022-05-26}}/legislators-current.yaml.gz` | unitedstates/congress-legislators | CC0-1.0 (`LICENSE-congress-legislators`) | people, terms, `leadership_roles` |
| `congress_legislators/<same dates>/legislators-social-media.yaml.gz` | unitedstates/congress-legislators | CC0-1.0 | `twitter`, `twitter_id` → `official_listing` and person links |
| `congress_legislators/<same dates>/committee-membership-current.yaml.gz`, `committees-current.yaml.gz` | unitedstates/congress-legislators | CC0-1.0 | committee chairs and ranking members, committee names |
| `congresstweets_accounts/historical-users-filtered.json.gz` | alexlitel/congresstweets-accounts | MIT (`LICENSE-congresstweets-accounts`) | account → member bioguide, `account_type`, committee/caucus/party accounts, previous names, `deleted` |
| `congresstweets_accounts/list-members-2017.json.gz` | alexlitel/congresstweets-automator (`test/data/list-members.json`) | MIT (`LICENSE-congresstweets-automator`) | 1,063 v1.1 user objects: id_str, screen_name, name, description, url, created_at, verified, counters |
| `senate_2015_twitterreport/senators_profile.csv`, `members_2015.csv`, `senate_tweets.csv.gz` | gvegayon/twitterreport (R package data) | MIT (`LICENSE-twitterreport`, the package's `MIT + file LICENSE` stub) | 2015 senator accounts and counters, the Senate tweets |
| `congress_network_2022_fink/congress.edgelist.gz`, `congress_ids.txt`, `nodes_2022.csv`, `congress_network_data.json.gz` | gsprint23/CongressionalTwitterNetwork (Fink et al., Physica A 2023) | MIT (`LICENSE-CongressionalTwitterNetwork`) | the 2022 interaction network |
| `sharing_labels/README.md` | (this project) | | the definition of `post_key` only |

Tweet texts belong to their authors; the repositories above distributed them publicly under the
licences named. Only what the demo needs is shipped.

## What was done, file by file

### people.csv.gz
- One row per bioguide id in the union of the three rosters 2015-07-16, 2017-11-29, 2022-05-26.
  Fields come from the most recent roster listing the person: `name` = `official_full` (else first
  + last), `department` = party of the latest term, `chamber` and `state` of the latest term,
  `gender`, `bioguide`; `rosters` lists the snapshots that contain the person.

### roles.csv.gz
- **Level 2** `Senator` / `Representative`: one role per term in `terms`, start/end as in the YAML
  (bare dates = 00:00 UTC; `end` is the scheduled end of the term). Each person's terms come from
  the most recent roster listing them. Delegates and the Resident Commissioner are `Representative`
  (see `state`). **Approximation:** `legislators-current` records scheduled term ends, and members
  who leave simply disappear from the next file. A term that runs past the date of a roster the
  person is missing from is cut at that roster's date (`end_source` says so; e.g. Jeff Sessions,
  Attorney General from February 2017, is a Senator until 2017-11-29 instead of 2021-01-03), so the
  people serving on each roster date are exactly that roster. Other mid-term departures keep the
  scheduled end (e.g. John Boehner, who resigned in October 2015, stays a Representative until
  2017-01-03; Al Franken, who resigned in January 2018, until 2021-01-03).
- **Level 0** party leaders (`is_leader = true`): every `leadership_roles` entry of the same
  (most recent) roster. Titles are given one spelling: 2015/2017 list `Majority Whip` with a
  chamber, 2022 `Senate Majority Whip`; the chamber is prefixed when the title lacks it and
  `Speaker` becomes `Speaker of the House` (the original in `source_title`). The 2015 and 2017
  rosters list only Speaker, floor leaders and whips (9 people each); 2022 adds conference and
  caucus chairs, secretaries and the President pro tempore (24 active on 2022-05-26). A role still
  open in a roster stays open (`end_at` empty) when the person is in the 2022 roster. A role left
  open by someone *absent* from a later roster has ended: it is closed at the start of the next
  holder of the same title, else at the end of the person's last term (`end_source` says which;
  the list is in the build log below). Without this, John Boehner and Harry Reid would still be
  leaders in 2017.
- **Level 1** committee leaders (`is_leader = false`): members whose title on a top-level
  committee (4-character code) in `committee-membership-current.yaml` is Chair, Chairman,
  Chairwoman, Chairperson, Co-Chairman, Cochairman or Ranking Member (the rule of the shared
  SOURCES.md, with its spelling variants). Titles are `Chair <code>`, `Co-Chair <code>`,
  `Ranking Member <code>`, with `committee`, `committee_name`, `source_title` and `party`
  (majority/minority) kept. Vice chairs are not committee leaders under this rule, which also
  leaves out the vice chairmen who lead the minority on the Senate Intelligence and Ethics
  committees. **Approximation:** the rosters carry no dates for committee posts, so each role seen
  in a roster is dated to the whole Congress containing the roster date (cut at the end of the
  member's service when that comes first) (114th 2015-01-03 →
  2017-01-03, 115th 2017-01-03 → 2019-01-03, 117th 2021-01-03 → 2023-01-03; `dates` says so). Chairs
  who changed within a Congress are therefore off by up to two years; Congresses between the
  rosters (116th) have no committee roles.

### accounts.csv.gz
- `account_id = twitter:<numeric id>`; ids are taken only from sources that give them (never
  invented; the 2015 social-media listing has handles only and creates no accounts).
- Accounts: all 1,063 users of `list-members-2017`; the accounts of `historical-users-filtered`
  (organization entities all; member accounts when the member is in people or the id occurs in
  another source); the `twitter_id`s of the 2017 and 2022 social-media listings; the 89 accounts of
  `senators_profile.csv`; the 475 nodes of the 2022 network. Deduplicated by id.
- `person_id` = the bioguide id that `historical-users-filtered`, the social-media listings,
  `members_2015.csv` or `nodes_2022.csv` give for the account (they never disagree, see the build
  log), when that person is in people; otherwise empty with `member_bioguide` kept. Member accounts
  are `kind = personal` (the member's own account; `account_type` = office/campaign from
  historical-users). Committee, caucus and party accounts are `kind = official`, `person_id` empty,
  with `entity_name`, `entity_type`, `entity_chamber`, `entity_party`. Six list-members-2017
  accounts (members' campaign/personal accounts that no source maps to a bioguide id, e.g.
  @electdennisross) and @KellyAyotte (no bioguide in `members_2015.csv`, not in historical-users)
  are `personal` with `person_id` empty: linking them by name would be a guess.
- **Press offices** are `kind = delegate` (person_id kept): no source marks them
  (historical-users' `account_type` is only office/campaign, the social-media listing has no type),
  so the account's own profile decides (list-members-2017, else the 2015 profile): "Press" as a
  name part of the screen name or display name (`McConnellPress`, "Portman Press Office"; not
  "Pressley"), or a bio calling it a press office/shop/team unless the phrase points to another
  account ("Press office is @SenSasse"). `kind_evidence` quotes the text; the list is in the build
  log. The classification has no date (an account is judged by its 2015/2017 profile).
- `official_listing = true` when the account is the `twitter_id` of a person in a social-media
  listing (2017-11-29, 2022-05-26), or for 2015-07-16 (handles only) when the handle resolves to
  an account of the same person (2015 sources first); `official_listing_rosters` says which.
- `handle` = the most recent screen name known (historical-users 2023 > 2022 sources > 2017 >
  2015); the others are in `previous_handles`. `handle_history` = the dated observations
  `YYYY-MM-DD=handle;...` (twitterreport {observed_2015_day}, list-members-2017 {observed_2017_day},
  social-media listings on their dates, Fink et al. 2022-06-09, historical-users "as of 2023-06" as
  2023-06-30; previous names have no date and are left out; a listing's handle takes the account's
  own casing; a run of one handle is kept as its first observation), so a directory of a date
  shows the handle of that date. `display_name`, `bio`, `url` from list-members-2017
  (the `url` expanded from `entities.url`), else from the 2015 profile, else the historical-users
  name. `created_at` from list-members-2017 (UTC, as the API gives it), else the 2015 profile
  (corrected to UTC, see posts), else, for a snowflake user id, the time the id encodes
  (`(id >> 22) + 1288834974657` ms; `created_at_source = snowflake`, derived). User ids are
  snowflakes only from early 2016 (see the build log: largest sequential and smallest snowflake id
  with a recorded `created_at`); an id counts as one when it encodes 2016-01-01 or later, and the
  builder checks the decoding against every recorded `created_at`. `created_at_source` says which. `verified` as of 2017 (else
  2015), `deleted` from historical-users, `sources` lists every source that names the account.

### snapshots.csv.gz
- list-members-2017: `followers_count`, `friends_count`, `statuses_count`, `listed_count` →
  followers, following, posts_count, listed_count. **Approximation:** the file has no retrieval
  time (the shared SOURCES.md says "about July 2017"); `observed_at` is the latest
  `status.created_at` in the file rounded up to the next midnight UTC ({observed_2017}).
- senators_profile.csv (2015): same counters; `observed_at` = the latest Senate tweet (corrected
  to UTC) rounded up to the next midnight ({observed_2015}). **Approximation**, as above.

### posts.jsonl.gz
- The 17,586 rows of `senate_tweets.csv.gz`. The source `id` is an inexact R double, so the key is
  `post_key = screen_name|created_at|sha1(text[:30])[:10]` (sharing_labels/README.md; fields
  verbatim) and `post_id = twitter:sen2015-` + the first 16 hex digits of sha1(post_key); both are
  unique. `attrs` keeps `post_key`, `source_name`, `source_id` (the inexact id as written) and
  `source_created_at` (the time as written).
- `account_id` via the screen name (case-insensitive) → `senators_profile.csv` `tw_id`, which
  always equals the tweet's `user_id`.
- **Time zone (a correction, not an assumption).** The times in the twitterreport files are not
  UTC: they are the UTC clock reading shifted by the America/Los_Angeles offset (+7 h in summer,
  +8 h in winter, presumably an R session time-zone artefact). `created_at` = the source time read as
  UTC and shown on a Los Angeles clock, written with `Z`. Evidence (computed by the builder, see the
  log): the timestamps encoded in the tweet ids (snowflake ids; the low bits lost to the R double do
  not touch the time) agree with every corrected time to within a few seconds, and the corrected
  `tw_created_at` of every 2015 profile equals the raw API `created_at` of the same account in
  list-members-2017. The brief's assumption ("the API returns UTC, write `Z`") would put every
  tweet 7-8 hours late.
- Replies: `in_reply_to_screen_name` is kept in `attrs`; when it is a known account's handle
  (resolved with 2015 sources first, unambiguous only) it becomes `reply_to_account_id`.
- Retweets: text starting with `RT @x:` gets `attrs.retweet_of_screen_name = x`; `repost_of` stays
  empty (the original's id is unknown). `retweet_count` → `repost_count`, `favorite_count` →
  `like_count`; `coordinates` (14 posts) kept in `attrs`.
- Text is verbatim, HTML entities (the escaped ampersand, `&lt;`) as in the source. No `hashtags`,
  `mentions` or `urls` lists are given: `socialens ingest` decodes the entities and finds hashtags,
  mentions and URLs (t.co links, not expanded) with its one text layer (`socialens.text`), so a
  hashtag here means what it means for every other source.

### edges.csv.gz
- `interaction`: the Fink et al. network turned round to SociaLens's direction (`src` paid attention
  to `dst`: Fink's edge B → A, "A retweeted, quoted, replied to or mentioned B", is stored A → B),
  `weight` = the edge list's weight (transmission probability), window 2022-02-09 → 2022-06-09 (README; the fetcher's exact bounds are
  2022-02-09T22:01:13Z and 2022-06-09T00:00:00Z). **Node ids:** node *i* is *not* line *i* of
  `congress_ids.txt` (530 ids, 475 nodes; only 10 agree, see the build log). Each node's username is
  resolved through the handles of the other sources to one of the 530 ids; every node resolves
  uniquely and the ids come out in the order of `congress_ids.txt`, i.e. the nodes are the ids
  minus those without edges. Note that `nodes_2022.csv` `twitter_id` is the 2022 official listing
  of the member, which for some nodes is a different account from the node's (e.g. node
  @CoryBooker vs listed @SenBooker): the node's own account is used.
- `reply`: Senate 2012-2015 replies between two known accounts (self-replies excluded), `weight` =
  number of replies, window = first tweet day → the day after the last tweet day.

## Build log (counts printed by the builder)

The section "check: 2017 ranks" is the check of the shared SOURCES.md note ("504 member accounts
joined to the 2017-11-29 roster: the 9 party leaders' median follower rank is 38 of 504 and their
median account-creation rank 47 of 504; rank-and-file medians about 285 and 283"). Ranks: 1 = most
followers / earliest account; ties share the average rank; the party leaders, committee leaders
and rank and file are the people holding a level 0, level 1 (and no level 0), or only a level 2 role
on 2017-11-29.

{build_log}
"""


def render_sources(log: Log, file_stats: dict[str, tuple[int, str]], observed_2017: datetime,
                   observed_2015: datetime) -> str:
    file_table = "\n".join(f"| `{name}` | {rows:,} | `{sha}` |" for name, (rows, sha) in file_stats.items())
    return SOURCES_TEMPLATE.format(file_table=file_table, build_log="\n".join(log.lines).strip("\n"),
                                   observed_2017=iso_z(observed_2017), observed_2015=iso_z(observed_2015),
                                   observed_2017_day=observed_2017.date().isoformat(),
                                   observed_2015_day=observed_2015.date().isoformat())


# --------------------------------------------------------------------------------------------
# the build


PEOPLE_COLUMNS = ["person_id", "name", "department", "opt_in", "chamber", "state", "bioguide", "gender",
                  "rosters"]
ROLE_COLUMNS = ["person_id", "title", "level", "is_leader", "start_at", "end_at", "chamber", "state",
                "district", "party", "committee", "committee_name", "congress", "source_title",
                "end_source", "dates", "source"]
ACCOUNT_COLUMNS = ["account_id", "platform", "person_id", "handle", "kind", "created_at",
                   "display_name", "bio", "url", "account_type", "official_listing",
                   "official_listing_rosters", "member_bioguide", "entity_name", "entity_type",
                   "entity_chamber", "entity_party", "previous_handles", "verified", "deleted",
                   "created_at_source", "handle_history", "kind_evidence", "sources"]
SNAPSHOT_COLUMNS = ["account_id", "observed_at", "followers", "following", "posts_count", "listed_count"]
EDGE_COLUMNS = ["src", "dst", "kind", "weight", "observed_at", "window_start", "window_end"]


def check_references(accounts, snapshots, posts, edges) -> None:
    known = {a["account_id"] for a in accounts}
    for name, ids in (("snapshots", [s["account_id"] for s in snapshots]),
                      ("posts", [p["account_id"] for p in posts]),
                      ("edges", [e[c] for e in edges for c in ("src", "dst")])):
        missing = sorted(set(ids) - known)
        if missing:
            raise BuildError(f"{name}: account ids not in accounts: {missing[:5]}")


def build(shared: Path, out: Path) -> dict:
    """Build the dataset from ``shared`` into ``out``; returns the 2017 check results."""
    shared, out = Path(shared), Path(out)
    if not (shared / "SOURCES.md").is_file():
        raise BuildError(f"{shared} is not the shared data folder (no SOURCES.md); pass --shared PATH")
    log = Log()
    rosters = load_rosters(shared)
    people, latest, last_listed = build_people(rosters, log)
    roles = build_roles(rosters, latest, last_listed, log)
    tweets = read_csv_str(shared / "senate_2015_twitterreport" / "senate_tweets.csv.gz")
    times = [twitterreport_time(c) for c in tweets.created_at]
    book, accounts, lm_users, profiles, node_ids = build_accounts(shared, rosters, set(latest),
                                                                  next_midnight(max(times)), log)

    log.section("time zone of the twitterreport files")
    check_twitterreport_times(tweets, profiles[profiles.tw_id != ""], lm_users, log)
    snapshots, observed_2017, observed_2015 = build_snapshots(lm_users, profiles, max(times), log)
    posts, reply_pairs = build_posts(tweets, profiles, book, log)
    edges = build_edges(shared, node_ids, reply_pairs, min(times), max(times), log)
    check_references(accounts, snapshots, posts, edges)

    log.section("roles active on check dates")
    for day in ("2015-07-16", "2017-07-01", "2017-11-29", "2022-05-26"):
        log.count(f"party-leader roles active on {day}", len(active_roles(roles, day, 0)))
        log.count(f"committee-leader roles active on {day}", len(active_roles(roles, day, 1)))
    results = verify_2017(rosters, roles, accounts, snapshots, lm_users, observed_2017, log)

    out.mkdir(parents=True, exist_ok=True)
    payloads = {
        "people.csv.gz": (csv_bytes(PEOPLE_COLUMNS, people), len(people)),
        "roles.csv.gz": (csv_bytes(ROLE_COLUMNS, roles), len(roles)),
        "accounts.csv.gz": (csv_bytes(ACCOUNT_COLUMNS, accounts), len(accounts)),
        "snapshots.csv.gz": (csv_bytes(SNAPSHOT_COLUMNS, snapshots), len(snapshots)),
        "posts.jsonl.gz": ("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts).encode("utf-8"),
                           len(posts)),
        "edges.csv.gz": (csv_bytes(EDGE_COLUMNS, edges), len(edges)),
    }
    file_stats = {}
    for name in DATA_FILES:
        data, n = payloads[name]
        write_gzip(out / name, data)
        file_stats[name] = (n, hashlib.sha256((out / name).read_bytes()).hexdigest())
    for source, target in LICENCES.items():
        shutil.copyfile(shared / source, out / target)
    (out / "SOURCES.md").write_text(render_sources(log, file_stats, observed_2017, observed_2015),
                                    encoding="utf-8")
    print("\n== files")
    for name, (n, sha) in file_stats.items():
        print(f"  {name}: {n:,} rows, {(out / name).stat().st_size:,} bytes, sha256 {sha}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                        help="the shared data folder (default: ../shared/data next to the repository)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output folder (default: socialens/datasets/us_congress)")
    args = parser.parse_args(argv)
    try:
        build(args.shared, args.out)
    except (BuildError, FileNotFoundError) as exc:
        print(f"build_demo_dataset: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
