"""The privacy boundary: what published output may read, applied to the tables, not to strings.

Only **public** posts are ever published, reported or exported: Mastodon direct messages,
followers-only and unlisted posts, posts of protected X accounts and posts whose audience is unknown
(``posts.visibility`` NULL) stay in the workspace for the owner's own research queries but never
reach a report, the directory site, its feeds, ``serve`` or an export.

:func:`restrict` applies the boundary to a workspace's connection: it creates temporary views named
``posts``, ``post_entities``, ``post_features``, ``edges`` and ``quarantine`` that shadow the stored
tables and keep only public posts, their entities and features, the edges that are not derived
from a non-public post, and the quarantine without its raw records. Everything that then reads the
workspace, SQL, pandas or ibis, sees the restricted tables; nothing is written into the file (temporary views live in memory, so this also works on a
read-only workspace). :func:`lift` removes the views again.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from socialens.errors import SocialensError

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

    from socialens.workspace import Workspace

__all__ = ["PUBLISHABLE", "PrivacyError", "restrict", "lift", "is_restricted", "public_only",
           "published", "hidden_counts"]

#: The audiences whose posts may be published.
PUBLISHABLE = ("public",)

_VIEWS = ("posts", "post_entities", "post_features", "edges", "quarantine")


class PrivacyError(SocialensError, ValueError):
    """The privacy boundary cannot be applied."""


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


def restrict(target: Workspace | duckdb.DuckDBPyConnection) -> None:
    """Shadow the post tables with views that hold public posts only.

    ``target`` is a workspace or a DuckDB connection (temporary views belong to one connection:
    a cursor made with ``con.cursor()`` needs its own call). Idempotent. Edges of kind
    reply/mention/repost/quote derived from a post that is not public are hidden too (a direct
    message is a tie nobody else can see); observed ties (``follows``) stay. The ``raw`` column of
    ``quarantine`` is withheld (a rejected record may be a private post).
    """
    con = _con(target)
    if is_restricted(con):
        return
    cat = _catalog(con)
    ok = "visibility IN (" + ", ".join(f"'{v}'" for v in PUBLISHABLE) + ")"
    public = f"SELECT post_id FROM {cat}.main.posts WHERE {ok}"
    con.execute(f"CREATE TEMP VIEW posts AS SELECT * FROM {cat}.main.posts WHERE {ok}")
    con.execute(f"""CREATE TEMP VIEW post_entities AS SELECT e.* FROM {cat}.main.post_entities e
                    WHERE e.post_id IN ({public})""")
    if _has_table(con, "post_features"):
        con.execute(f"""CREATE TEMP VIEW post_features AS SELECT f.* FROM {cat}.main.post_features f
                        WHERE f.post_id IN ({public})""")
    con.execute(f"""CREATE TEMP VIEW edges AS SELECT e.* FROM {cat}.main.edges e
                    WHERE e.post_id IS NULL OR e.post_id IN ({public})""")
    # a quarantined record's raw text may be anything (a direct message that failed to parse):
    # its reason, file and line stay, the raw record is withheld
    con.execute(f"""CREATE TEMP VIEW quarantine AS
                    SELECT * REPLACE (CAST(NULL AS VARCHAR) AS raw) FROM {cat}.main.quarantine""")
    if hasattr(target, "_ibis"):
        target._ibis = None  # ibis caches table schemas; start afresh


def lift(target: Workspace | duckdb.DuckDBPyConnection) -> None:
    """Remove the views of :func:`restrict` (idempotent)."""
    con = getattr(target, "con", target)
    if con is None:
        return
    for name in _VIEWS:
        con.execute(f"DROP VIEW IF EXISTS temp.main.{name}")
    if hasattr(target, "_ibis"):
        target._ibis = None


def published(fn: Callable) -> Callable:
    """Decorator of a publishing entry point ``fn(ws, ...)``: runs it inside :func:`public_only`."""

    @functools.wraps(fn)
    def inner(ws, *args, **kwargs):
        with public_only(ws):
            return fn(ws, *args, **kwargs)

    return inner


@contextmanager
def public_only(ws: Workspace) -> Iterator[Workspace]:
    """``with public_only(ws):`` — :func:`restrict` for the block, lifted afterwards unless it was
    already in force (so a caller's own restriction is kept). Every publishing entry point (report,
    publish, serve, export) runs inside it."""
    was = is_restricted(ws)
    restrict(ws)
    try:
        yield ws
    finally:
        if not was and ws.con is not None:
            lift(ws)


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
