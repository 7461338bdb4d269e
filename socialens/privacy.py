"""The privacy boundary: what published output may read, applied to the tables, not to strings.

Only **public** posts are ever published, reported or exported: Mastodon direct messages,
followers-only and unlisted posts, posts of protected X accounts and posts whose audience is unknown
(``posts.visibility`` NULL) stay in the workspace for the owner's own research queries but never
reach a report, the directory site, its feeds, ``serve`` or an export.

:func:`restrict` applies the boundary to a workspace's connection: it creates temporary views named
``posts``, ``post_entities``, ``post_features`` and ``edges`` that shadow the stored tables and keep
only public posts, their entities and features, and the edges that are not derived from a
non-public post. Everything that then reads the workspace, SQL, pandas or ibis, sees the restricted
tables; nothing is written into the file (temporary views live in memory, so this also works on a
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

from typing import TYPE_CHECKING

from socialens.errors import SocialensError

if TYPE_CHECKING:  # pragma: no cover
    from socialens.workspace import Workspace

__all__ = ["PUBLISHABLE", "PrivacyError", "restrict", "lift", "is_restricted", "hidden_counts"]

#: The audiences whose posts may be published.
PUBLISHABLE = ("public",)

_VIEWS = ("posts", "post_entities", "post_features", "edges")


class PrivacyError(SocialensError, ValueError):
    """The privacy boundary cannot be applied."""


def _catalog(ws: Workspace) -> str:
    name = ws.con.execute("SELECT current_database()").fetchone()[0]
    return '"' + str(name).replace('"', '""') + '"'


def _has_table(ws: Workspace, name: str) -> bool:
    return bool(ws.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_catalog = current_database() AND table_name = ?", [name]
    ).fetchone()[0])


def restrict(ws: Workspace) -> None:
    """Shadow the post tables of ``ws``'s connection with views that hold public posts only.

    Idempotent. Edges of kind reply/mention/repost/quote derived from a post that is not public are
    hidden too (a direct message is a tie nobody else can see); observed ties (``follows``) stay.
    """
    if ws.con is None:
        raise PrivacyError("the workspace is closed")
    if is_restricted(ws):
        return
    cat = _catalog(ws)
    ok = "visibility IN (" + ", ".join(f"'{v}'" for v in PUBLISHABLE) + ")"
    ws.con.execute(f"CREATE TEMP VIEW posts AS SELECT * FROM {cat}.main.posts WHERE {ok}")
    ws.con.execute(
        f"""CREATE TEMP VIEW post_entities AS SELECT e.* FROM {cat}.main.post_entities e
            WHERE e.post_id IN (SELECT post_id FROM {cat}.main.posts WHERE {ok})""")
    if _has_table(ws, "post_features"):
        ws.con.execute(
            f"""CREATE TEMP VIEW post_features AS SELECT f.* FROM {cat}.main.post_features f
                WHERE f.post_id IN (SELECT post_id FROM {cat}.main.posts WHERE {ok})""")
    ws.con.execute(
        f"""CREATE TEMP VIEW edges AS SELECT e.* FROM {cat}.main.edges e
            WHERE e.post_id IS NULL
               OR e.post_id IN (SELECT post_id FROM {cat}.main.posts WHERE {ok})""")
    ws._ibis = None  # ibis caches table schemas; start afresh


def lift(ws: Workspace) -> None:
    """Remove the views of :func:`restrict` (idempotent)."""
    if ws.con is None:
        return
    for name in _VIEWS:
        ws.con.execute(f"DROP VIEW IF EXISTS temp.main.{name}")
    ws._ibis = None


def is_restricted(ws: Workspace) -> bool:
    """Whether :func:`restrict` is in force on ``ws``'s connection."""
    return bool(ws.con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = 'posts'"
    ).fetchone()[0])


def hidden_counts(ws: Workspace) -> dict[str, int]:
    """Posts kept out of published output, by audience (``unknown`` for NULL)."""
    cat = _catalog(ws)
    rows = ws.con.execute(
        f"""SELECT coalesce(visibility, 'unknown'), count(*) FROM {cat}.main.posts
            WHERE visibility IS NULL OR visibility NOT IN
              ({", ".join(f"'{v}'" for v in PUBLISHABLE)})
            GROUP BY 1 ORDER BY 1""").fetchall()
    return {k: int(n) for k, n in rows}
