"""Forget a person: remove them from every table of a workspace (GDPR art. 17, right to erasure).

:func:`forget` resolves ``who`` (a ``person_id``, an ``account_id`` or a handle, with or without
``@``) to a person and their accounts — or to one outsider account — and, in one transaction:

* deletes their ``people`` row, ``roles``, ``accounts``, ``account_snapshots``, ``collect_state``,
  their posts and the posts that are only copies of them (others' reposts of their posts), the
  ``post_features`` and ``post_entities`` of those posts, every ``edges`` row from or to their
  accounts or derived from a deleted post, their ``sim_truth_*`` rows, and every ``quarantine``
  row whose raw record names one of their ids or handles;
* in the posts of others that stay: removes the ``mention`` entities of their handles, rewrites
  ``@handle`` in the text (and the handle or id inside ``attrs``) to :data:`TOMBSTONE`, and sets
  ``reply_to_post_id``/``reply_to_account_id``/``quote_of`` that point to them to NULL; drops the
  ``post_features`` of rewritten posts so that ``socialens enrich`` recomputes them from the new
  text;
* records a tombstone per identifier in ``forgotten`` (SHA-256 of the lower-cased identifier,
  never the identifier) so that a later ingest of the same files quarantines their records
  without keeping them (:func:`is_forgotten`, :func:`apply_tombstones`).

Afterwards the file is checkpointed and, by default, **rewritten** (``compact=True``): DuckDB
leaves deleted rows' bytes in free blocks of the file after ``CHECKPOINT`` (measured, see
``docs/privacy.md``), so the workspace is copied into a fresh file (``COPY FROM DATABASE``) that is
renamed over the old one. Serve copies (``WORKSPACE.serve/``) made before are removed and a new one
is published. Published sites are rebuilt with ``sites=[...]`` (the default ``socialens publish``
options) and checked for traces.

Examples
--------
>>> import socialens, tempfile, os
>>> from socialens.forget import forget
>>> ws = socialens.open(os.path.join(tempfile.mkdtemp(), "org.duckdb"))
>>> _ = ws.con.execute("INSERT INTO people (person_id, name) VALUES ('p1', 'Ann Example')")
>>> res = forget(ws, "p1")
>>> res.deleted["people"], res.tombstones, ws.count("people")
(1, 1, 0)
>>> ws.close()
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from socialens.errors import SocialensError

__all__ = ["forget", "ForgetResult", "ForgetError", "TOMBSTONE", "id_hash", "is_forgotten",
           "apply_tombstones", "trace_scan", "site_traces"]

#: What a forgotten handle is rewritten to in others' posts.
TOMBSTONE = "@[forgotten]"
#: What a forgotten person's full name is rewritten to in others' posts.
NAME_TOMBSTONE = "[forgotten]"


class ForgetError(SocialensError, LookupError):
    """The person, account or handle to forget is not in the workspace."""


def id_hash(value: str) -> str:
    """The tombstone of an identifier: SHA-256 (hex) of its lower-cased text."""
    return hashlib.sha256(str(value).strip().lower().encode("utf-8")).hexdigest()


@dataclass
class ForgetResult:
    """What :func:`forget` removed (or, with ``dry_run``, would remove)."""

    who: str
    person_id: str | None
    account_ids: list[str]
    handles: list[str]
    dry_run: bool
    #: rows deleted per table
    deleted: dict[str, int] = field(default_factory=dict)
    #: rows changed in place per ``table.column`` (others' posts that mentioned them)
    rewritten: dict[str, int] = field(default_factory=dict)
    tombstones: int = 0
    compacted: bool = False
    serve_copies_removed: int = 0
    serve_copy: str | None = None
    #: per site folder: files that held a trace before the rebuild, and after it
    sites: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "who": self.who, "dry_run": self.dry_run, "n_accounts": len(self.account_ids),
            "deleted": self.deleted, "rewritten": self.rewritten, "tombstones": self.tombstones,
            "compacted": self.compacted, "serve_copies_removed": self.serve_copies_removed,
            "serve_copy": self.serve_copy, "sites": self.sites,
        }

    def summary(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        lines = [f"{'Dry run: ' if self.dry_run else ''}{verb} {self.who!r} "
                 f"({len(self.account_ids)} account(s))"]
        for t, n in self.deleted.items():
            if n:
                lines.append(f"  {t}: {n} row(s) deleted")
        for c, n in self.rewritten.items():
            if n:
                lines.append(f"  {c}: {n} row(s) rewritten (mentions of them in others' posts)")
        if not self.dry_run:
            lines.append(f"  forgotten: {self.tombstones} tombstone(s) recorded (hashes only)")
            if self.compacted:
                lines.append("  workspace file rewritten (no bytes of deleted rows remain)")
            if self.serve_copies_removed or self.serve_copy:
                lines.append(f"  serve copies: {self.serve_copies_removed} old removed"
                             + (f", new {self.serve_copy}" if self.serve_copy else ""))
            for d, s in self.sites.items():
                lines.append(f"  site {d}: rebuilt; files with a trace {s['before']} -> "
                             f"{s['after']}")
        return "\n".join(lines)


# -- resolving who ------------------------------------------------------------------------------
def _resolve(con, who: str) -> tuple[str | None, list[str], list[str]]:
    w = who.strip()
    if not w:
        raise ForgetError("give a person_id, an account_id (platform:id) or a handle to forget")
    person = con.execute("SELECT person_id FROM people WHERE person_id = ?", [w]).fetchone()
    if person is None:
        acc = con.execute("SELECT person_id, account_id FROM accounts WHERE account_id = ?",
                          [w]).fetchone()
        if acc is None:
            h = w.lstrip("@").lower()
            rows = con.execute("SELECT DISTINCT person_id, account_id FROM accounts WHERE "
                               "lower(handle) = ?", [h]).fetchall()
            people = {r[0] for r in rows}
            if len(people) > 1 or (len(rows) > 1 and None in people):
                raise ForgetError(
                    f"the handle {w!r} belongs to {len(rows)} accounts of different people "
                    "or outsiders; forget one of them by its account_id (`socialens sql "
                    "\"SELECT account_id, person_id FROM accounts WHERE lower(handle) = "
                    f"'{h}'\"`)")
            acc = rows[0] if rows else None
        if acc is None:
            # a person known only from roles (no people row) is still someone to forget
            role = con.execute("SELECT DISTINCT person_id FROM roles WHERE person_id = ?",
                               [w]).fetchone()
            if role is None:
                raise ForgetError(
                    f"nobody called {w!r} in this workspace: no person_id, account_id or handle "
                    "matches. List them with `socialens sql \"SELECT person_id, name FROM "
                    "people\"` or `... \"SELECT account_id, handle FROM accounts\"`")
            person = role
        elif acc[0] is not None:
            person = (acc[0],)
        else:
            accounts = [acc[1]]
            return None, accounts, _handles(con, accounts)
    pid = person[0]
    accounts = [r[0] for r in con.execute(
        "SELECT account_id FROM accounts WHERE person_id = ? ORDER BY 1", [pid]).fetchall()]
    return pid, accounts, _handles(con, accounts)


def _handles(con, accounts: list[str]) -> list[str]:
    if not accounts:
        return []
    return sorted({r[0].lower() for r in con.execute(
        "SELECT handle FROM accounts WHERE handle IS NOT NULL AND handle <> '' AND "
        "list_contains(?, account_id)", [accounts]).fetchall()})


def _names(con, pid: str | None, accounts: list[str]) -> list[str]:
    """Full names to rewrite in free text: the person's name and display names with a space
    (a single word such as "Tony" is too common to rewrite safely)."""
    names = set()
    if pid is not None:
        names |= {r[0] for r in con.execute("SELECT name FROM people WHERE person_id = ?",
                                            [pid]).fetchall() if r[0]}
    if accounts:
        names |= {r[0] for r in con.execute(
            "SELECT display_name FROM accounts WHERE list_contains(?, account_id)",
            [accounts]).fetchall() if r[0]}
    return sorted(n.strip() for n in names if " " in n.strip() and len(n.strip()) >= 4)


# -- the deletion -------------------------------------------------------------------------------
def _tables(con) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND "
        "table_catalog = current_database()").fetchall()}


def _alt(values: list[str]) -> str:
    return "|".join(re.escape(v) for v in values)


def _plan(con, pid, accounts, handles, names) -> list[tuple[str, str, str, list]]:
    """``(kind, table-or-column, sql, params)`` statements, in the order they must run; ``kind``
    is ``delete`` or ``rewrite``. Each statement counts or changes rows; the same list serves the
    dry run (as counts) and the real run."""
    tabs = _tables(con)
    acc = accounts
    # the posts to delete: theirs, and others' reposts of theirs (copies of their content)
    con.execute("CREATE OR REPLACE TEMP TABLE _forget_posts AS SELECT post_id FROM posts "
                "WHERE list_contains(?, account_id)", [acc])
    con.execute("INSERT INTO _forget_posts SELECT post_id FROM posts WHERE repost_of IN "
                "(SELECT post_id FROM _forget_posts) AND post_id NOT IN "
                "(SELECT post_id FROM _forget_posts)")
    doomed = "post_id IN (SELECT post_id FROM _forget_posts)"
    hl = [h.lower() for h in handles]
    steps: list[tuple[str, str, str, list]] = []
    d = steps.append
    d(("delete", "post_features", f"post_features WHERE {doomed}", []))
    d(("delete", "post_entities", f"post_entities WHERE {doomed} OR (kind = 'mention' AND "
       "list_contains(?, lower(value))) OR list_contains(?, value)", [hl, acc]))
    d(("delete", "edges", f"edges WHERE list_contains(?, src) OR list_contains(?, dst) OR "
       f"{doomed}", [acc, acc]))
    # others' posts: references and text (before the posts are deleted, so the references
    # to deleted posts are still resolvable)
    d(("rewrite", "posts.reply_to_post_id", "posts SET reply_to_post_id = NULL WHERE NOT "
       f"({doomed}) AND reply_to_post_id IN (SELECT post_id FROM _forget_posts)", []))
    d(("rewrite", "posts.reply_to_account_id", "posts SET reply_to_account_id = NULL WHERE NOT "
       f"({doomed}) AND list_contains(?, reply_to_account_id)", [acc]))
    d(("rewrite", "posts.quote_of", f"posts SET quote_of = NULL WHERE NOT ({doomed}) AND "
       "quote_of IN (SELECT post_id FROM _forget_posts)", []))
    if hl:
        pat = f"(?i)@({_alt(hl)})\\b"
        d(("rewrite", "posts.text", f"posts SET text = regexp_replace(text, ?, ?, 'g') WHERE "
           f"NOT ({doomed}) AND regexp_matches(text, ?)", [pat, TOMBSTONE, pat]))
    if names:
        npat = f"(?i)\\b({_alt(names)})\\b"
        d(("rewrite", "posts.text#name", "posts SET text = regexp_replace(text, ?, ?, 'g') "
           f"WHERE NOT ({doomed}) AND regexp_matches(text, ?)", [npat, NAME_TOMBSTONE, npat]))
    ids = acc + hl + ([pid] if pid else [])
    if ids:
        # JSON attrs of others' posts and accounts: the id or handle as a JSON string or @handle
        at = f"|@({_alt(hl)})\\b" if hl else ""
        jpat = f"(?i)(\"({_alt(ids)})\"{at})"
        for t in ("posts", "accounts", "people"):
            keep = (f"NOT ({doomed})" if t == "posts" else
                    "NOT list_contains(?, account_id)" if t == "accounts" else
                    "person_id IS DISTINCT FROM ?")
            kp = [acc] if t == "accounts" else [pid] if t == "people" else []
            d(("rewrite", f"{t}.attrs", f"{t} SET attrs = regexp_replace(CAST(attrs AS VARCHAR), "
               f"?, '\"{TOMBSTONE}\"', 'g')::JSON WHERE {keep} AND "
               "regexp_matches(CAST(attrs AS VARCHAR), ?)", [jpat, *kp, jpat]))
        if hl:
            bpat = f"(?i)@({_alt(hl)})\\b"
            d(("rewrite", "accounts.bio", "accounts SET bio = regexp_replace(bio, ?, ?, 'g') "
               "WHERE NOT list_contains(?, account_id) AND regexp_matches(bio, ?)",
               [bpat, TOMBSTONE, acc, bpat]))
    d(("delete", "posts", f"posts WHERE {doomed}", []))
    d(("delete", "account_snapshots", "account_snapshots WHERE list_contains(?, account_id)",
       [acc]))
    if "collect_state" in tabs:
        d(("delete", "collect_state", "collect_state WHERE list_contains(?, account_id)", [acc]))
    d(("delete", "accounts", "accounts WHERE list_contains(?, account_id)", [acc]))
    if pid is not None:
        d(("delete", "roles", "roles WHERE person_id = ?", [pid]))
        d(("delete", "people", "people WHERE person_id = ?", [pid]))
    pids = [pid] if pid else []
    sim = {
        "sim_truth_people": "list_contains(?, person_id) OR list_contains(?, account_id)",
        "sim_truth_ties": "list_contains(?, src_person_id) OR list_contains(?, dst_person_id)",
        "sim_truth_campaigns": "seed_account_id IN (SELECT unnest(?)) OR "
                               "list_contains(?, seed_person_id)",
        "sim_truth_campaign_uses": "list_contains(?, account_id) OR list_contains(?, person_id) "
                                   "OR list_contains(?, source_account_id)",
        "sim_truth_posts": "list_contains(?, account_id) OR list_contains(?, person_id)",
    }
    sim_params = {"sim_truth_people": [pids, acc], "sim_truth_ties": [pids, pids],
                  "sim_truth_campaigns": [acc, pids],
                  "sim_truth_campaign_uses": [acc, pids, acc],
                  "sim_truth_posts": [acc, pids]}
    for t, where in sim.items():
        if t in tabs:
            d(("delete", t, f"{t} WHERE {where}", sim_params[t]))
    for col in ("manager_id", "influencer_person_id"):
        if "sim_truth_people" in tabs and pids:
            d(("rewrite", f"sim_truth_people.{col}",
               f"sim_truth_people SET {col} = NULL WHERE {col} = ?", [pid]))
    # raw records in quarantine that name them (ids case-sensitive, handles in any case)
    qparts = []
    if acc or pids:
        qparts.append(f"(^|[^\\w:])({_alt(acc + pids)})($|[^\\w:])")
    if hl:
        qparts.append(f"(?i)(^|[^\\w])@?({_alt(hl)})($|[^\\w])")
    for i, q in enumerate(qparts):
        d(("delete", "quarantine" + ("" if i == 0 else "#handles"),
           "quarantine WHERE regexp_matches(coalesce(raw, ''), ?)", [q]))
    return steps


def forget(ws, who: str, *, dry_run: bool = False, compact: bool = True,
           sites: list[str | os.PathLike] | None = None) -> ForgetResult:
    """Remove the person (or outsider account) ``who`` from every table of ``ws``.

    Parameters
    ----------
    ws : Workspace
        Open for writing.
    who : str
        A ``person_id``, an ``account_id`` (``twitter:123``) or a handle (``@name``); an account
        or handle of a member resolves to the member and all their accounts.
    dry_run : bool
        Count what would be removed and change nothing.
    compact : bool
        Rewrite the workspace file afterwards so that no bytes of the deleted rows remain in it
        (DuckDB keeps them in free blocks after a ``CHECKPOINT``). The handle ``ws`` is reopened
        on the new file.
    sites : list of folders
        Published sites (folders built by ``socialens publish``) to rebuild from the forgotten
        workspace with the default publish options, then checked for traces.

    Returns
    -------
    ForgetResult
        Rows deleted per table, rows rewritten per column, tombstones, serve copies and sites.
    """
    from socialens.errors import WorkspaceError

    if ws.read_only and not dry_run:
        raise WorkspaceError(f"{ws.path} is open read-only; forgetting needs write access")
    con = ws.con
    pid, accounts, handles = _resolve(con, who)
    names = _names(con, pid, accounts)
    res = ForgetResult(who=who, person_id=pid, account_ids=accounts, handles=handles,
                       dry_run=dry_run)
    site_dirs = [Path(s) for s in sites or []]
    if site_dirs:
        from socialens.site.build import MARKER

        for s in site_dirs:
            if not (s / MARKER).exists():
                raise ForgetError(f"{s} is not a folder built by `socialens publish` (no {MARKER} "
                                  "in it); pass the folder you gave to `socialens publish --out`")
    needles = _needles(pid, accounts, handles, names)
    before = {str(s): len(site_traces(s, needles)) for s in site_dirs}

    def run(c) -> None:
        for kind, what, sql, params in _plan(c, pid, accounts, handles, names):
            key = what.split("#")[0]
            target = res.deleted if kind == "delete" else res.rewritten
            if dry_run:
                table, _, rest = sql.partition(" ")
                if kind == "delete":
                    q = f"SELECT count(*) FROM {sql}"
                else:  # "T SET col = ... WHERE cond": count the rows the WHERE picks
                    where = rest.split(" WHERE ", 1)[1]
                    # the SET part's parameters come first; drop them
                    n_set = rest.split(" WHERE ", 1)[0].count("?")
                    q = f"SELECT count(*) FROM {table} WHERE {where}"
                    params = params[n_set:]
                n = c.execute(q, params).fetchone()[0]
            else:
                verb = "DELETE FROM" if kind == "delete" else "UPDATE"
                n = c.execute(f"{verb} {sql}", params).fetchone()[0]
            target[key] = target.get(key, 0) + n
        if not dry_run:
            # rewritten posts get new features from `socialens enrich`
            n = c.execute("DELETE FROM post_features WHERE post_id IN (SELECT post_id FROM posts "
                          "WHERE contains(text, ?) OR contains(text, ?))",
                          [TOMBSTONE, NAME_TOMBSTONE]).fetchone()[0]
            res.rewritten["post_features (dropped for re-enrichment)"] = n
            now = datetime.now(UTC)
            req = uuid.uuid4().hex[:12]
            rows = [(id_hash(v), k, req, now) for k, vals in
                    (("person_id", [pid] if pid else []), ("account_id", accounts),
                     ("handle", handles)) for v in vals]
            c.executemany("INSERT OR IGNORE INTO forgotten VALUES (?, ?, ?, ?)", rows)
            res.tombstones = len(rows)
        c.execute("DROP TABLE IF EXISTS _forget_posts")

    if dry_run:
        run(con)
        return res
    with ws.transaction() as c:
        run(c)
    con.execute("CHECKPOINT")
    if compact:
        _compact(ws)
        res.compacted = True
    res.serve_copies_removed, res.serve_copy = _renew_serve_copies(ws)
    for s in site_dirs:
        from socialens.site.build import publish

        publish(ws, s)
        res.sites[str(s)] = {"before": before[str(s)],
                             "after": len(site_traces(s, needles))}
    return res


def _compact(ws) -> None:
    """Rewrite the workspace into a fresh file and rename it over the old one (same folder, so
    the rename is atomic); reopen ``ws`` on it."""
    import duckdb

    path = Path(ws.path)
    tmp = path.with_name(f".{path.name}.forget-{os.getpid()}.duckdb")
    for p in (tmp, Path(str(tmp) + ".wal")):
        if p.exists():
            p.unlink()
    con = ws.con
    db = con.execute("SELECT current_database()").fetchone()[0]
    con.execute(f"ATTACH '{tmp}' AS socialens_compact")
    try:
        con.execute(f'COPY FROM DATABASE "{db}" TO socialens_compact')
        con.execute("CHECKPOINT socialens_compact")
    finally:
        con.execute("DETACH socialens_compact")
    mode = os.stat(path).st_mode & 0o777
    os.chmod(tmp, mode)
    con.close()
    ws.con = None
    ws._ibis = None
    os.replace(tmp, path)
    wal = Path(str(path) + ".wal")
    if wal.exists():
        wal.unlink()
    ws.con = duckdb.connect(str(path))
    ws.con.execute("SET TimeZone = 'UTC'")


def _renew_serve_copies(ws) -> tuple[int, str | None]:
    """Remove every serve copy made before the forget and publish a fresh one (if ``serve``
    keeps copies of this workspace). A ``serve`` that has an old copy open keeps reading it
    until it swaps to the new one (seconds); the file's name is gone at once."""
    from socialens import serve_copy

    d = serve_copy.copy_dir(ws.path)
    if not d.is_dir():
        return 0, None
    old = serve_copy.generations(ws.path)
    new = serve_copy.publish(ws, force=True)
    removed = 0
    for _, p in old:
        if new is not None and p == new:
            continue
        try:
            p.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed, str(new.name) if new is not None else None


# -- traces -------------------------------------------------------------------------------------
def _needles(pid, accounts, handles, names) -> list[re.Pattern]:
    pats = [re.compile(rf"(?<![\w:]){re.escape(v)}(?![\w:])") for v in accounts + ([pid] if pid
                                                                                 else [])]
    pats += [re.compile(rf"(?i)(?<!\w)@?{re.escape(h)}(?!\w)") for h in handles]
    pats += [re.compile(rf"(?i)\b{re.escape(n)}\b") for n in names]
    return pats


def trace_scan(ws, who_ids: list[str], handles: list[str], names: list[str]) -> dict[str, int]:
    """Rows per ``table.column`` whose text (VARCHAR or JSON) contains one of the ids (exactly,
    case-sensitive), handles (case-insensitive, as a word) or names (as words). Tables
    ``forgotten`` and ``schema_migrations`` hold no personal data and are skipped."""
    found: dict[str, int] = {}
    cols = ws.con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = "
        "'main' AND table_catalog = current_database() "
        "AND (data_type = 'VARCHAR' OR data_type = 'JSON') AND table_name NOT IN "
        "('forgotten', 'schema_migrations') ORDER BY 1, 2").fetchall()
    parts = []
    if who_ids:
        parts.append(f"(^|[^\\w:])({_alt(who_ids)})($|[^\\w:])")
    if handles:
        parts.append(f"(?i)(^|[^\\w])@?({_alt(handles)})($|[^\\w])")
    if names:
        parts.append(f"(?i)\\b({_alt(names)})\\b")
    for t, c in cols:
        for p in parts:
            n = ws.con.execute(f'SELECT count(*) FROM "{t}" WHERE regexp_matches('
                               f'CAST("{c}" AS VARCHAR), ?)', [p]).fetchone()[0]
            if n:
                found[f"{t}.{c}"] = found.get(f"{t}.{c}", 0) + n
    return found


def site_traces(site: str | os.PathLike, needles: list[re.Pattern]) -> list[str]:
    """Files of a published site whose text matches one of ``needles``."""
    out = []
    for p in sorted(Path(site).rglob("*")):
        if p.is_file():
            text = p.read_bytes().decode("utf-8", "replace")
            if any(n.search(text) for n in needles):
                out.append(str(p.relative_to(site)))
    return out


# -- re-ingest ----------------------------------------------------------------------------------
def tombstones(con) -> set[str]:
    """The hashes in ``forgotten`` (empty set when the table is empty or absent)."""
    try:
        return {r[0] for r in con.execute("SELECT id_hash FROM forgotten").fetchall()}
    except Exception:  # noqa: BLE001 - a workspace before migration 0008
        return set()


#: columns of a loaded row that identify a person or account, per table
_ID_COLUMNS = {
    "people": ("person_id",), "roles": ("person_id",),
    "accounts": ("account_id", "person_id", "handle"), "account_snapshots": ("account_id",),
    "posts": ("account_id",), "edges": ("src", "dst"), "collect_state": ("account_id",),
}


def is_forgotten(table: str, row: dict[str, Any], hashes: set[str]) -> str | None:
    """The column of ``row`` (bound for ``table``) whose value is a forgotten identifier."""
    if not hashes:
        return None
    for col in _ID_COLUMNS.get(table, ()):
        v = row.get(col)
        if v is not None and v != "" and id_hash(str(v).lstrip("@") if col == "handle"
                                                else str(v)) in hashes:
            return col
    return None


def apply_tombstones(ws) -> dict[str, int]:
    """After an ingest: remove what re-ingested files brought back of forgotten people that the
    loader could not refuse record by record — mentions of their handles in others' posts (entity,
    text) and rows whose ids are tombstoned. Returns rows changed per table (empty: nothing)."""
    con = ws.con
    hashes = tombstones(con)
    if not hashes:
        return {}
    hl = [r[0] for r in con.execute(
        "SELECT DISTINCT lower(value) FROM post_entities WHERE kind = 'mention' AND "
        "list_contains(?, sha256(lower(value)))", [sorted(hashes)]).fetchall()]
    accs = [r[0] for r in con.execute(
        "SELECT DISTINCT a FROM (SELECT account_id AS a FROM posts UNION SELECT src FROM edges "
        "UNION SELECT dst FROM edges UNION SELECT reply_to_account_id FROM posts) "
        "WHERE a IS NOT NULL AND list_contains(?, sha256(lower(a)))", [sorted(hashes)]).fetchall()]
    if not hl and not accs:
        return {}
    out: dict[str, int] = {}
    with ws.transaction() as c:
        for kind, what, sql, params in _plan(c, None, accs, hl, []):
            verb = "DELETE FROM" if kind == "delete" else "UPDATE"
            n = c.execute(f"{verb} {sql}", params).fetchone()[0]
            if n:
                key = what.split("#")[0]
                out[key] = out.get(key, 0) + n
        c.execute("DROP TABLE IF EXISTS _forget_posts")
    return out


def _jsonable(res: ForgetResult) -> str:
    return json.dumps(res.as_dict(), indent=2, sort_keys=True)
