"""The privacy boundary: what published output may read, applied to the tables, not to strings.

Two rules, both applied by :func:`restrict` to the workspace's tables before any analysis, report,
site, ``serve`` response or export reads them:

**Visibility.** Only **public** posts are ever published, reported or exported: Mastodon direct
messages, followers-only and unlisted posts, posts of protected X accounts and posts whose audience
is unknown (``posts.visibility`` NULL) stay in the workspace for the owner's own research queries
but never reach a report, the directory site, its feeds, ``serve`` or an export.

**Consent.** People who did not opt in (``people.opt_in`` false) — and with ``pseudonymize`` everyone
on the roster and every outside account — never appear in published output: they are replaced by
keyed pseudonyms, stable within a study, so the network and every count stay intact:

=========================  ==================================================================
what                       becomes
=========================  ==================================================================
``people.person_id``       ``p-3f9a2c1d`` (HMAC-SHA256 of the id with the study key, 8 hex)
``people.name``            ``Person 3f9a2c1d``; ``attrs`` (e-mail, ids, ...) withheld
``people.department``      kept; ``Department <hex>`` when nobody in it opted in (a department
                           of hidden people only would point at them)
``roles.title``            kept when at least :data:`MIN_TITLE_HOLDERS` people hold it; a rarer
                           title ("CEO") of a hidden person becomes ``Role <hex>``; level and
                           leader flag are kept (the analyses need them)
``accounts.account_id``    ``<platform>:a-<hex>`` (HMAC of the account id: the native id, a
                           numeric X id or ``server/@user``, would name the person)
``accounts.handle``        ``p-3f9a2c1d`` (the person's pseudonym; an outside account's
                           ``a-<hex>``); ``display_name`` the pseudonym, ``bio`` and ``url``
                           withheld, ``attrs.handle_history`` dropped
``posts.post_id``          ``<platform>:x-<hex>`` for their posts (and replies to them), ``url``
                           withheld; ``reply_to_*``, ``quote_of``, ``repost_of`` follow
post text, entity values   mentions ``@handle`` (also ``@user@server``, old handles, profile
                           URLs), full names and rare surnames of hidden people are rewritten
                           to their pseudonyms — in everyone's posts, bios and display names
``edges``, snapshots,      account and post ids follow the mapping above
features, entities
``ingest_runs``,           ``source_path`` withheld (a file name such as ``<handle>_timeline.json``
``quarantine``             names its owner) unless ``show_paths``, and then rewritten like text;
                           the quarantine's ``raw`` record is always withheld
=========================  ==================================================================

Join keys stay consistent (every table maps an id the same way), so the analyses run unchanged on
the restricted tables. ``ids:`` leader selections given with the real ids are mapped with
:func:`map_leaders` before they reach an analysis, so the parameters echoed in the report, in
``summary.json`` and by ``/api/analyses/*`` show the pseudonyms. People outside the organization
(accounts without a person) keep their handles unless ``pseudonymize``.

The **study key** (see :func:`study_key`) is, in order: a key file the user passes
(``--key-file``), ``$SOCIALENS_STUDY_KEY``, or a key generated once and stored beside the workspace
in ``<workspace>.study-key`` (mode 0600; never inside the workspace file, never printed or
logged). The same key gives the same pseudonyms; keep it to link outputs of one study, delete it to
unlink them.

:func:`restrict` creates temporary views named like the tables (``people``, ``roles``,
``accounts``, ``account_snapshots``, ``posts``, ``post_entities``, ``post_features``, ``edges``,
``ingest_runs``, ``quarantine``) that shadow the stored ones; the mapping tables live in an
in-memory database attached for the purpose, and post text is rewritten by a vectorised function
registered on the connection. Everything that then reads the workspace — SQL, pandas or ibis —
sees the restricted tables; nothing is written into the file (this also works on a read-only
workspace). :func:`lift` removes the views again.

Examples
--------
>>> import socialens, tempfile, json
>>> from pathlib import Path
>>> d = Path(tempfile.mkdtemp())
>>> _ = (d / "accounts.csv").write_text("account_id\\nmastodon:x.social/@ada\\n")
>>> rows = [{"post_id": f"mastodon:x.social/{i}", "account_id": "mastodon:x.social/@ada",
...          "created_at": "2023-01-01T00:00:00Z", "text": t, "visibility": v}
...         for i, (t, v) in enumerate([("hello all", "public"), ("psst", "direct")])]
>>> _ = (d / "posts.jsonl").write_text("\\n".join(map(json.dumps, rows)))
>>> ws = socialens.open(d / "org.duckdb")
>>> _ = ws.ingest(d)
>>> restrict(ws)
>>> ws.sql("SELECT text FROM posts").text.tolist()
['hello all']
>>> lift(ws)
>>> ws.count("posts")
2
>>> ws.close()
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import inspect
import os
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from socialens.errors import SocialensError

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

    from socialens.workspace import Workspace

__all__ = ["PUBLISHABLE", "MIN_TITLE_HOLDERS", "KEY_ENV", "PrivacyError", "Consent", "restrict",
           "lift", "is_restricted", "public_only", "published", "hidden_counts", "study_key",
           "key_path", "map_leaders", "is_pseudonym", "consent_of", "current_consent"]

#: The audiences whose posts may be published.
PUBLISHABLE = ("public",)
#: A title held by fewer people than this identifies its holder; a hidden holder's is masked.
MIN_TITLE_HOLDERS = 3
#: The environment variable holding the study key.
KEY_ENV = "SOCIALENS_STUDY_KEY"

_VIEWS = ("people", "roles", "accounts", "account_snapshots", "posts", "post_entities",
          "post_features", "edges", "ingest_runs", "quarantine")
_PSEUDONYM = re.compile(r"^[pa]-[0-9a-f]{8}$")
_KEY_CACHE: dict[str, bytes] = {}
#: connection id -> (Consent, attached alias, function name) of the restriction in force
_STATE: dict[int, tuple] = {}


class PrivacyError(SocialensError, ValueError):
    """The privacy boundary cannot be applied."""


@dataclass(frozen=True)
class Consent:
    """Who published output may name.

    ``hide`` (default): people who did not opt in are pseudonymized; false only for an internal
    build (``--include-all``). ``pseudonymize``: everyone is. ``show_paths``: ingested file paths
    are shown (rewritten like text). ``key_file``: where the study key is read from.
    """

    hide: bool = True
    pseudonymize: bool = False
    show_paths: bool = False
    key_file: str | None = None


def consent_of(*, include_all: bool = False, pseudonymize: bool = False,
               show_paths: bool = False, key_file=None) -> Consent:
    """The :class:`Consent` of a publishing call's options (``--pseudonymize`` wins over
    ``--include-all``)."""
    return Consent(hide=bool(pseudonymize or not include_all), pseudonymize=bool(pseudonymize),
                   show_paths=bool(show_paths), key_file=str(key_file) if key_file else None)


def _con(target):
    con = getattr(target, "con", target)
    if con is None:
        raise PrivacyError("the workspace is closed")
    return con


def _catalog(con) -> str:
    name = con.execute("SELECT current_database()").fetchone()[0]
    return '"' + str(name).replace('"', '""') + '"'


def _has_table(con, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_catalog = current_database() AND table_name = ?", [name]
    ).fetchone()[0])


# -- the study key ------------------------------------------------------------------------------
def key_path(workspace_path: str | os.PathLike) -> Path:
    """Where the generated study key of a workspace is kept: ``<workspace>.study-key``."""
    p = Path(workspace_path)
    return p.with_name(p.name + ".study-key")


def _db_path(con) -> str | None:
    row = con.execute("SELECT path FROM duckdb_databases() "
                      "WHERE database_name = current_database()").fetchone()
    return row[0] if row and row[0] else None


def _read_key(path: Path, what: str) -> bytes:
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise PrivacyError(f"cannot read the study key {what} {path}: {exc.strerror or exc}; "
                           f"pass an existing --key-file or set ${KEY_ENV}") from None
    if len(key) < 16:
        raise PrivacyError(f"the study key in {path} is shorter than 16 characters; use a long "
                           "random key, e.g. `python -c \"import secrets; print(secrets.token_hex(32))\"`")
    return key


def study_key(workspace_path: str | os.PathLike | None, key_file: str | os.PathLike | None = None,
              *, create: bool = True) -> bytes:
    """The study key: ``key_file`` if given, else ``$SOCIALENS_STUDY_KEY``, else the key stored
    beside the workspace (:func:`key_path`), generated on first use (``create``). Never printed."""
    if key_file:
        return _read_key(Path(key_file), "file")
    env = os.environ.get(KEY_ENV)
    if env:
        if len(env.strip()) < 16:
            raise PrivacyError(f"${KEY_ENV} is shorter than 16 characters; use a long random key")
        return env.strip().encode("utf-8")
    if workspace_path is None or str(workspace_path) in ("", ":memory:"):
        return _KEY_CACHE.setdefault(":memory:", secrets.token_hex(32).encode())
    path = key_path(workspace_path)
    cached = _KEY_CACHE.get(str(path))
    if cached is not None and path.exists():
        return cached
    if path.exists():
        key = _read_key(path, "file")
    elif not create:
        raise PrivacyError(f"no study key: {path} does not exist")
    else:
        key = secrets.token_hex(32).encode()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = _read_key(path, "file")
        except OSError as exc:
            raise PrivacyError(
                f"cannot store a study key in {path} ({exc.strerror or exc}); set ${KEY_ENV} or "
                "pass --key-file with a key of your own") from None
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(key + b"\n")
    _KEY_CACHE[str(path)] = key
    return key


def _h(key: bytes, kind: str, value: str, n: int = 8) -> str:
    return hmac.new(key, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()[:n]


def is_pseudonym(handle: str | None) -> bool:
    """Whether a handle is one of the boundary's pseudonyms (``p-3f9a2c1d``): it links nowhere."""
    return bool(handle) and bool(_PSEUDONYM.match(handle.lstrip("@")))


# -- text rewriting -----------------------------------------------------------------------------
_TOKEN = re.compile(r"[\w\-]+(?:[.:/@][\w\-]+)*")
_SEP = re.compile(r"([.:/@\-])")
_GAP = re.compile(r"^[\s.,]{1,3}$")
_WORDS = re.compile(r"[^\W_]+")
_CACHE_MAX = 100_000  # rewritten texts kept (the analyses read the same posts several times)


class _Rewriter:
    """Rewrites the identifiers of hidden people inside free text, token by token (one pass, a
    dict lookup per token: cost grows with the text, not with the number of hidden people)."""

    def __init__(self):
        self.handles: dict[str, str] = {}    # lower-case handle -> pseudonymous handle
        self.ids: dict[str, str] = {}        # exact id -> pseudonymous id
        self.single: dict[str, str] = {}     # exact-case single word (surname) -> pseudonym
        self.names: dict[str, list] = {}     # first word (lower) -> [(words, pseudonym)]

    def __bool__(self) -> bool:
        return bool(self.handles or self.ids or self.single or self.names)

    def add_name(self, name: str | None, pseudo: str, visible_words: set[str]) -> None:
        if not isinstance(name, str):
            return
        words = [m.group(0) for m in _TOKEN.finditer(name)]
        if len(words) >= 2:
            low = tuple(w.lower() for w in words)
            lst = self.names.setdefault(low[0], [])
            if (low, pseudo) not in lst:
                lst.append((low, pseudo))
                lst.sort(key=lambda x: -len(x[0]))
        # a rare surname (or a one-word name) alone names the person too
        last = words[-1] if words else ""
        if len(last) >= 4 and last[0].isupper() and last.lower() not in visible_words:
            prev = self.single.get(last)
            self.single[last] = pseudo if prev in (None, pseudo) else "(a person not listed)"

    def _token(self, tok: str, mention: bool) -> str | None:
        low = tok.lower()
        h = self.handles.get(low)
        if h is not None and (mention or len(low) >= 5 or not low.isalpha()):
            return h
        r = self.ids.get(tok) or self.single.get(tok)
        if r is not None:
            return r
        if _SEP.search(tok):
            parts = _SEP.split(tok)
            changed = False
            for i in range(0, len(parts), 2):
                p = parts[i]
                r = self.handles.get(p.lower()) or self.ids.get(p) or self.single.get(p)
                if r is not None:
                    parts[i], changed = r, True
            if changed:
                return "".join(parts)
        return None

    def _triggers(self) -> frozenset:
        """Lower-case words one of which a text must contain to need rewriting."""
        t = getattr(self, "_trig", None)
        if t is None:
            words = set()
            for k in [*self.handles, *self.ids, *self.single]:
                words.update(w for w in _WORDS.findall(k.lower()))
            # a text holding a full name holds its last word: the rarer word is the better trigger
            words.update(ws[-1] for lst in self.names.values() for ws, _ in lst)
            t = self._trig = frozenset(words)
        return t

    def __call__(self, text):
        if not text or not isinstance(text, str):
            return text
        cache = self.__dict__.setdefault("_cache", {})
        hit = cache.get(text)
        if hit is None:
            if len(cache) >= _CACHE_MAX:  # bounded: memory stays flat on big workspaces
                cache.clear()
            if self._triggers().isdisjoint(_WORDS.findall(text.lower())):
                hit = text  # the fast path: no word of any hidden identifier
            else:
                hit = self._rewrite(text)
            cache[text] = hit
        return hit

    def _rewrite(self, text: str) -> str:
        toks = list(_TOKEN.finditer(text))
        out: list[str] = []
        last, i, n = 0, 0, len(toks)
        while i < n:
            m = toks[i]
            s, e = m.span()
            tok = m.group(0)
            rep, j = None, i
            for words, pseudo in self.names.get(tok.lower(), ()):
                k = len(words)
                if i + k <= n and all(toks[i + x].group(0).lower() == words[x] for x in range(1, k)) \
                        and all(_GAP.match(text[toks[i + x - 1].end():toks[i + x].start()])
                                for x in range(1, k)):
                    rep, j = pseudo, i + k - 1
                    e = toks[j].end()
                    break
            if rep is None:
                rep = self._token(tok, s > 0 and text[s - 1] in "@\uFF20")
            if rep is not None:
                out.append(text[last:s])
                out.append(rep)
                last = e
            i = j + 1
        if not out:
            return text
        out.append(text[last:])
        return "".join(out)

    def path(self, text):
        """A file path: also handles glued into longer file names (``ada_timeline.json``)."""
        text = self(text)
        if not isinstance(text, str):
            return text
        for h, r in sorted(self.handles.items(), key=lambda x: -len(x[0])):
            if len(h) >= 3 and h in text.lower():
                text = re.sub(re.escape(h), r, text, flags=re.IGNORECASE)
        return text


# -- building the boundary ----------------------------------------------------------------------
def _build_maps(con, cat: str, alias: str, consent: Consent, key: bytes) -> _Rewriter:
    """The mapping tables in ``alias`` and the text rewriter of the hidden people."""
    import pandas as pd

    hide_all = consent.pseudonymize
    people = con.execute(f"SELECT person_id, name, department, coalesce(opt_in, false) "
                         f"FROM {cat}.main.people").fetchall()
    hidden = {pid for pid, _, _, ok in people if hide_all or not ok}
    visible_words = {w.lower() for pid, name, _, _ in people if pid not in hidden
                     and isinstance(name, str) for w in _TOKEN.findall(name)}
    rw = _Rewriter()
    pmap = []
    for pid, name, _, _ in people:
        if pid in hidden:
            h = _h(key, "person", pid)
            pmap.append((pid, f"p-{h}", f"Person {h}"))
            rw.add_name(name, f"Person {h}", visible_words)
            if len(pid) >= 3:
                rw.ids[pid] = f"p-{h}"
    depts: dict[str, bool] = {}
    for pid, _, dept, _ in people:
        if isinstance(dept, str):
            depts[dept] = depts.get(dept, False) or pid not in hidden
    dmap = [(d, f"Department {_h(key, 'department', d, 6)}") for d, shown in depts.items()
            if not shown and hidden]
    titles = con.execute(f"""SELECT person_id, title, count(DISTINCT person_id) OVER (PARTITION BY title)
                             FROM {cat}.main.roles""").fetchall()
    tmap = sorted({(pid, t, f"Role {_h(key, 'title', t, 6)}") for pid, t, n in titles
                   if pid in hidden and n < MIN_TITLE_HOLDERS})
    accounts = con.execute(
        f"""SELECT account_id, person_id, platform, handle, display_name,
                   json_extract_string(attrs, '$.handle_history') FROM {cat}.main.accounts"""
    ).fetchall()
    pseudo_person = {pid: (nid, nname) for pid, nid, nname in pmap}
    visible_handles: set[str] = set()
    amap = []
    for aid, pid, platform, handle, dname, history in accounts:
        if pid in hidden or (hide_all and pid is None):
            h = _h(key, "account", aid)
            new_id = f"{platform}:a-{h}"
            if pid is not None:
                new_handle, new_name = pseudo_person[pid][0], pseudo_person[pid][1]
            else:
                new_handle, new_name = f"a-{h}", f"Account {h}"
            amap.append((aid, new_id, new_handle, new_name))
            rw.ids[aid] = new_id
            native = aid.split(":", 1)[1] if ":" in aid else aid
            if len(native) >= 3:
                rw.ids.setdefault(native, new_id.split(":", 1)[1])
            # attrs.handle_history: ``YYYY-MM-DD=handle;...`` (earlier handles name them too)
            olds = [handle] + [part.partition("=")[2] for part in (history or "").split(";")]
            for old in olds:
                if isinstance(old, str) and old.strip("@ "):
                    o = old.strip().lstrip("@").lower()
                    rw.handles[o] = new_handle
                    if "@" in o:
                        rw.handles.setdefault("@" + o.split("@", 1)[0], new_handle)
            rw.add_name(dname, new_name, visible_words)
        elif isinstance(handle, str):
            o = handle.strip().lstrip("@").lower()
            visible_handles.add(o)
            visible_handles.add(o.split("@", 1)[0])
    # a Mastodon handle's user part alone (``@ada`` for ada@x.social) when no listed account has it
    for k in [k for k in rw.handles if k.startswith("@")]:
        v = rw.handles.pop(k)
        if k[1:] not in visible_handles:
            rw.handles.setdefault(k[1:], v)
    hidden_accounts = [a[0] for a in amap]
    posts = con.execute(
        f"""SELECT post_id FROM {cat}.main.posts WHERE account_id IN (SELECT unnest($a))
            UNION SELECT reply_to_post_id FROM {cat}.main.posts
            WHERE reply_to_account_id IN (SELECT unnest($a)) AND reply_to_post_id IS NOT NULL""",
        {"a": hidden_accounts}).fetchall()
    xmap = [(p, (p.split(":", 1)[0] if ":" in p else "post") + ":x-" + _h(key, "post", p, 12))
            for (p,) in posts]
    frames = {
        "person_map": pd.DataFrame(pmap, columns=["person_id", "new_id", "new_name"]),
        "dept_map": pd.DataFrame(dmap, columns=["department", "new_department"]),
        "title_map": pd.DataFrame(tmap, columns=["person_id", "title", "new_title"]),
        "account_map": pd.DataFrame(amap, columns=["account_id", "new_id", "new_handle",
                                                   "new_name"]),
        "post_map": pd.DataFrame(xmap, columns=["post_id", "new_id"]),
        "handle_map": pd.DataFrame(list(rw.handles.items()), columns=["handle", "new_handle"]),
    }
    con.execute(f"CREATE SCHEMA {alias}.maps")
    for name, df in frames.items():
        con.execute(f"CREATE TABLE {alias}.maps.{name} ("
                    + ", ".join(f"{c} VARCHAR" for c in df.columns) + ")")
        if len(df):
            con.register("_socialens_frame", df.astype(str))
            try:
                con.execute(f"INSERT INTO {alias}.maps.{name} SELECT * FROM _socialens_frame")
            finally:
                con.unregister("_socialens_frame")
    return rw


def _register_text(con, fname: str, rw: _Rewriter, paths: bool) -> None:
    import pyarrow as pa

    fn = rw.path if paths else rw

    def rewrite(arr):
        return pa.array([fn(v) for v in arr.to_pylist()], type=pa.string())

    con.create_function(fname, rewrite, ["VARCHAR"], "VARCHAR", type="arrow",
                        null_handling="special", side_effects=False)


def restrict(target: Workspace | duckdb.DuckDBPyConnection, consent: Consent | bool = True, *,
             key: bytes | None = None) -> None:
    """Shadow the tables with views that hold what published output may read.

    ``target`` is a workspace or a DuckDB connection (temporary views belong to one connection:
    a cursor made with ``con.cursor()`` needs its own call). ``consent`` is a :class:`Consent`,
    ``True`` (the default: people who did not opt in are pseudonymized) or ``False`` (visibility
    only: an internal build). ``key`` overrides the study key (see :func:`study_key`).

    Edges of kind reply/mention/repost/quote derived from a post that is not public are hidden
    (a direct message is a tie nobody else can see); observed ties (``follows``) stay. The ``raw``
    column of ``quarantine`` is withheld (a rejected record may be a private post). Idempotent for
    the same ``consent``; a different one replaces the restriction in force.
    """
    con = _con(target)
    if consent is True:
        consent = Consent()
    elif consent is False:
        consent = Consent(hide=False)
    if is_restricted(con):
        if _STATE.get(id(con), (None,))[0] == consent:
            return
        lift(target)
    cat = _catalog(con)
    ok = "visibility IN (" + ", ".join(f"'{v}'" for v in PUBLISHABLE) + ")"
    public = f"SELECT post_id FROM {cat}.main.posts WHERE {ok}"
    tag = uuid.uuid4().hex[:10]
    alias, fname, pname = f"socialens_consent_{tag}", f"socialens_text_{tag}", \
        f"socialens_path_{tag}"
    if not consent.hide:
        _visibility_views(con, cat, ok, public, consent.show_paths)
        _STATE[id(con)] = (consent, None, None)
    else:
        if key is None and not consent.pseudonymize and not con.execute(
                f"SELECT count(*) FROM {cat}.main.people WHERE NOT coalesce(opt_in, false)"
        ).fetchone()[0]:
            key = b"-"  # nobody to pseudonymize: no key needed (and none is created)
        if key is None:
            key = study_key(_db_path(con), consent.key_file)
        con.execute(f"ATTACH ':memory:' AS {alias} (READ_WRITE)")
        try:
            rw = _build_maps(con, cat, alias, consent, key)
        except BaseException:
            con.execute(f"DETACH {alias}")
            raise
        _register_text(con, fname, rw, False)
        _register_text(con, pname, rw, True)
        _consent_views(con, cat, alias, fname, pname, ok, public, consent.show_paths)
        _STATE[id(con)] = (consent, alias, (fname, pname))
    if hasattr(target, "_ibis"):
        target._ibis = None  # ibis caches table schemas; start afresh


def _visibility_views(con, cat: str, ok: str, public: str, show_paths: bool) -> None:
    con.execute(f"CREATE TEMP VIEW posts AS SELECT * FROM {cat}.main.posts WHERE {ok}")
    con.execute(f"""CREATE TEMP VIEW post_entities AS SELECT e.* FROM {cat}.main.post_entities e
                    WHERE e.post_id IN ({public})""")
    if _has_table(con, "post_features"):
        con.execute(f"""CREATE TEMP VIEW post_features AS SELECT f.* FROM {cat}.main.post_features f
                        WHERE f.post_id IN ({public})""")
    con.execute(f"""CREATE TEMP VIEW edges AS SELECT e.* FROM {cat}.main.edges e
                    WHERE e.post_id IS NULL OR e.post_id IN ({public})""")
    path = "source_path" if show_paths else "CAST(NULL AS VARCHAR)"
    con.execute(f"""CREATE TEMP VIEW ingest_runs AS
                    SELECT * REPLACE ({path} AS source_path) FROM {cat}.main.ingest_runs""")
    # a quarantined record's raw text may be anything (a direct message that failed to parse):
    # its reason, file and line stay, the raw record is withheld
    con.execute(f"""CREATE TEMP VIEW quarantine AS
                    SELECT * REPLACE (CAST(NULL AS VARCHAR) AS raw, {path} AS source_path)
                    FROM {cat}.main.quarantine""")


def _consent_views(con, cat: str, a: str, fn: str, pfn: str, ok: str, public: str,
                   show_paths: bool) -> None:
    con.execute(f"""CREATE TEMP VIEW people AS
        SELECT p.* REPLACE (coalesce(m.new_id, p.person_id) AS person_id,
                            CASE WHEN m.person_id IS NULL THEN {fn}(p.name) ELSE m.new_name END
                                AS name,
                            coalesce(d.new_department, p.department) AS department,
                            CASE WHEN m.person_id IS NULL THEN p.attrs END AS attrs)
        FROM {cat}.main.people p
        LEFT JOIN {a}.maps.person_map m ON m.person_id = p.person_id
        LEFT JOIN {a}.maps.dept_map d ON d.department = p.department""")
    con.execute(f"""CREATE TEMP VIEW roles AS
        SELECT r.* REPLACE (coalesce(m.new_id, r.person_id) AS person_id,
                            coalesce(t.new_title, r.title) AS title,
                            CASE WHEN m.person_id IS NULL THEN r.attrs END AS attrs)
        FROM {cat}.main.roles r
        LEFT JOIN {a}.maps.person_map m ON m.person_id = r.person_id
        LEFT JOIN {a}.maps.title_map t ON t.person_id = r.person_id AND t.title = r.title""")
    con.execute(f"""CREATE TEMP VIEW accounts AS
        SELECT c.* REPLACE (
            coalesce(m.new_id, c.account_id) AS account_id,
            coalesce(pm.new_id, c.person_id) AS person_id,
            CASE WHEN m.account_id IS NULL THEN c.handle ELSE m.new_handle END AS handle,
            CASE WHEN m.account_id IS NULL THEN {fn}(c.display_name) ELSE m.new_name END
                AS display_name,
            CASE WHEN m.account_id IS NULL THEN {fn}(c.bio) END AS bio,
            CASE WHEN m.account_id IS NULL THEN c.url END AS url,
            CASE WHEN m.account_id IS NULL THEN c.attrs
                 ELSE CAST({fn}(CAST(json_merge_patch(c.attrs, '{{"handle_history": null}}')
                                     AS VARCHAR)) AS JSON) END AS attrs)
        FROM {cat}.main.accounts c
        LEFT JOIN {a}.maps.account_map m ON m.account_id = c.account_id
        LEFT JOIN {a}.maps.person_map pm ON pm.person_id = c.person_id""")
    con.execute(f"""CREATE TEMP VIEW account_snapshots AS
        SELECT s.* REPLACE (coalesce(m.new_id, s.account_id) AS account_id)
        FROM {cat}.main.account_snapshots s
        LEFT JOIN {a}.maps.account_map m ON m.account_id = s.account_id""")

    def post(col: str) -> str:
        return (f"coalesce((SELECT x.new_id FROM {a}.maps.post_map x WHERE x.post_id = {col}), {col})")

    def acc(col: str) -> str:
        return (f"coalesce((SELECT m.new_id FROM {a}.maps.account_map m WHERE m.account_id = {col}), "
                f"{col})")

    con.execute(f"""CREATE TEMP VIEW posts AS
        SELECT p.* REPLACE (
            coalesce(x.new_id, p.post_id) AS post_id,
            coalesce(m.new_id, p.account_id) AS account_id,
            {fn}(p.text) AS text,
            {post('p.reply_to_post_id')} AS reply_to_post_id,
            {acc('p.reply_to_account_id')} AS reply_to_account_id,
            {post('p.quote_of')} AS quote_of,
            {post('p.repost_of')} AS repost_of,
            CASE WHEN x.post_id IS NULL THEN {fn}(p.url) END AS url,
            CAST({fn}(CAST(p.attrs AS VARCHAR)) AS JSON) AS attrs)
        FROM {cat}.main.posts p
        LEFT JOIN {a}.maps.post_map x ON x.post_id = p.post_id
        LEFT JOIN {a}.maps.account_map m ON m.account_id = p.account_id
        WHERE p.{ok}""")
    con.execute(f"""CREATE TEMP VIEW post_entities AS
        SELECT e.* REPLACE (coalesce(x.new_id, e.post_id) AS post_id,
                            CASE WHEN e.kind = 'mention' THEN coalesce(h.new_handle,
                                 {acc('e.value')}) WHEN e.kind = 'hashtag' THEN e.value
                                 ELSE {fn}(e.value) END AS value)
        FROM {cat}.main.post_entities e
        LEFT JOIN {a}.maps.post_map x ON x.post_id = e.post_id
        LEFT JOIN {a}.maps.handle_map h ON e.kind = 'mention' AND h.handle = lower(e.value)
        WHERE e.post_id IN ({public})""")
    if _has_table(con, "post_features"):
        con.execute(f"""CREATE TEMP VIEW post_features AS
            SELECT f.* REPLACE (coalesce(x.new_id, f.post_id) AS post_id)
            FROM {cat}.main.post_features f
            LEFT JOIN {a}.maps.post_map x ON x.post_id = f.post_id
            WHERE f.post_id IN ({public})""")
    con.execute(f"""CREATE TEMP VIEW edges AS
        SELECT e.* REPLACE (coalesce(s.new_id, e.src) AS src, coalesce(d.new_id, e.dst) AS dst,
                            {post('e.post_id')} AS post_id)
        FROM {cat}.main.edges e
        LEFT JOIN {a}.maps.account_map s ON s.account_id = e.src
        LEFT JOIN {a}.maps.account_map d ON d.account_id = e.dst
        WHERE e.post_id IS NULL OR e.post_id IN ({public})""")
    path = f"{pfn}(source_path)" if show_paths else "CAST(NULL AS VARCHAR)"
    con.execute(f"""CREATE TEMP VIEW ingest_runs AS
                    SELECT * REPLACE ({path} AS source_path) FROM {cat}.main.ingest_runs""")
    con.execute(f"""CREATE TEMP VIEW quarantine AS
                    SELECT * REPLACE (CAST(NULL AS VARCHAR) AS raw, {path} AS source_path,
                                      {fn}(reason) AS reason, {fn}(field) AS field)
                    FROM {cat}.main.quarantine""")


def lift(target: Workspace | duckdb.DuckDBPyConnection) -> None:
    """Remove the views of :func:`restrict` (idempotent)."""
    con = getattr(target, "con", target)
    if con is None:
        return
    for name in _VIEWS:
        con.execute(f"DROP VIEW IF EXISTS temp.main.{name}")
    state = _STATE.pop(id(con), None)
    if state and state[1]:
        con.execute(f"DETACH DATABASE IF EXISTS {state[1]}")
        for f in state[2]:
            try:
                con.remove_function(f)
            except Exception:  # noqa: BLE001 - already gone with its connection
                pass
    if hasattr(target, "_ibis"):
        target._ibis = None


def _lake_consent(target) -> Consent | None:
    """The consent a lake (:mod:`socialens.lake`, read by another engine) was written under;
    None for a DuckDB workspace or connection."""
    if getattr(target, "engine", "duckdb") == "duckdb":
        return None
    c = getattr(target, "consent", None) or {}
    return Consent(hide=bool(c.get("hide")), pseudonymize=bool(c.get("pseudonymize")),
                   show_paths=bool(c.get("show_paths")))


def current_consent(target: Workspace | duckdb.DuckDBPyConnection) -> Consent | None:
    """The :class:`Consent` of the restriction in force on the connection (None: none); for a
    lake, the one it was written under."""
    lake = _lake_consent(target)
    if lake is not None:
        return lake
    con = _con(target)
    state = _STATE.get(id(con))
    return state[0] if state and is_restricted(con) else None


def map_leaders(target: Workspace | duckdb.DuckDBPyConnection, leaders):
    """An ``ids:a,b`` leader selection with the ids of hidden people replaced by their pseudonyms
    (the restricted tables know only those); other selections as they are."""
    if not isinstance(leaders, str) or not leaders.strip().startswith("ids:"):
        return leaders
    con = _con(target)
    state = _STATE.get(id(con))
    if not state or not state[1]:
        return leaders
    ids = [s.strip() for s in leaders.strip()[4:].split(",") if s.strip()]
    rows = dict(con.execute(f"SELECT person_id, new_id FROM {state[1]}.maps.person_map "
                            "WHERE person_id IN (SELECT unnest($ids))", {"ids": ids}).fetchall())
    return "ids:" + ",".join(rows.get(i, i) for i in ids)


_OPTIONS = ("include_all", "pseudonymize", "show_paths", "key_file")


def published(fn: Callable) -> Callable:
    """Decorator of a publishing entry point ``fn(ws, ...)``: runs it inside :func:`public_only`
    with the consent its keyword arguments ask for (``include_all``, ``pseudonymize``,
    ``show_paths``, ``key_file``), and maps an ``ids:`` ``leaders`` argument (:func:`map_leaders`).
    """
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def inner(ws, *args, **kwargs):
        bound = sig.bind_partial(ws, *args, **kwargs)
        opts = {k: bound.arguments[k] for k in _OPTIONS if k in bound.arguments}
        lake = _lake_consent(ws)
        if lake is not None:  # a lake holds what its writer's boundary let through, no more
            want = consent_of(**opts)
            if not _covers(lake, replace(want, key_file=None)):
                raise PrivacyError(_lake_refusal(lake, want))
            return fn(ws, *args, **kwargs)
        # called inside another publishing call without options of its own: its boundary holds
        want = None if not opts and current_consent(ws) is not None else consent_of(**opts)
        with public_only(ws, want) if want is not None else _same(ws):
            if "leaders" in kwargs:
                kwargs["leaders"] = map_leaders(ws, kwargs["leaders"])
            return fn(ws, *args, **kwargs)

    return inner


def _lake_refusal(lake: Consent, want: Consent) -> str:
    def words(c: Consent) -> str:
        return ("pseudonymized (--pseudonymize)" if c.pseudonymize else
                "with people who did not opt in pseudonymized" if c.hide else
                "naming everyone (--include-all)")
    return (f"the lake was written {words(lake)}{' with paths' if lake.show_paths else ''}; "
            f"this output asks for it {words(want)}"
            f"{'' if want.show_paths or not lake.show_paths else ' without paths'}, which the lake "
            "cannot give: write the lake again with those options (`socialens export --out DIR "
            "--parquet-lake ...`), or ask for what it holds")


@contextmanager
def _same(ws):
    yield ws


@contextmanager
def public_only(ws: Workspace, consent: Consent | bool = True) -> Iterator[Workspace]:
    """``with public_only(ws):`` — :func:`restrict` for the block, lifted (or the caller's own
    restriction put back) afterwards. Every publishing entry point (report, publish, serve,
    export) runs inside it."""
    con = _con(ws)
    was = _STATE.get(id(con), (None,))[0] if is_restricted(con) else None
    want = Consent() if consent is True else Consent(hide=False) if consent is False else consent
    if was is not None and _covers(was, want):
        yield ws
        return
    restrict(ws, want)
    try:
        yield ws
    finally:
        if ws.con is not None:
            lift(ws)
            if was is not None:
                restrict(ws, was)


def _covers(outer: Consent, inner: Consent) -> bool:
    """Whether an outer restriction already hides at least what ``inner`` asks to hide."""
    if outer == inner:
        return True
    return (outer.hide >= inner.hide and outer.pseudonymize >= inner.pseudonymize
            and outer.show_paths <= inner.show_paths
            and inner.key_file in (None, outer.key_file))


def is_restricted(target: Workspace | duckdb.DuckDBPyConnection) -> bool:
    """Whether :func:`restrict` is in force on the connection."""
    return bool(_con(target).execute(
        "SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = 'posts'"
    ).fetchone()[0])


def hidden_counts(target: Workspace | duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Posts kept out of published output, by audience (``unknown`` for NULL)."""
    con = _con(target)
    cat = _catalog(con)
    rows = con.execute(
        f"""SELECT coalesce(visibility, 'unknown'), count(*) FROM {cat}.main.posts
            WHERE visibility IS NULL OR visibility NOT IN
              ({", ".join(f"'{v}'" for v in PUBLISHABLE)})
            GROUP BY 1 ORDER BY 1""").fetchall()
    return {k: int(n) for k, n in rows}
