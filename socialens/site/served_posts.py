"""The posts ``socialens serve`` answers ``GET /api/posts`` from: the listed people's posts, read
through the privacy views once per serve copy and kept in an in-memory DuckDB table.

Read through the views on every request (:func:`socialens.site.model.query_posts`), a posts
query costs about as much as rewriting every post of the workspace: the consent views apply the
pseudonym rewrite (a Python function, which holds the GIL) to each row before the join on the
person can filter (the demo: 100-400 ms per request for 20 posts out of 17,586). A serve copy
never changes, so ``serve`` runs that rewrite once, when it loads a copy, and answers each request
with a plain, parameterized query on the result (a few ms, DuckDB releasing the GIL while it
runs). The rows, their order (newest first, then ``post_id``) and their JSON are those of
:func:`~socialens.site.model.query_posts` (``tests/site/test_serve_load.py`` compares the two on
every parameter combination). The table costs memory of about the size of the listed people's
posts' text, and is dropped with the copy.
"""

from __future__ import annotations

import uuid
from collections import namedtuple
from typing import Any

from socialens.site.model import _POST_COLUMNS, _post_rows

__all__ = ["ServedPosts", "query_posts"]


class _Rows:
    """Fetched rows in the shape :func:`~socialens.site.model._post_rows` reads (``itertuples``),
    without the pandas conversion (several times the query's own cost for 20 rows)."""

    def __init__(self, cursor):
        self.row = namedtuple("Row", [d[0] for d in cursor.description])
        self.rows = cursor.fetchall()

    def itertuples(self, index: bool = False):
        return map(self.row._make, self.rows)


class ServedPosts:
    """The listed people's posts (personal and delegate accounts), materialized from the
    restricted ``posts`` and ``accounts`` views of ``con``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection on which :func:`socialens.privacy.restrict` is in force (the serve copy's).
    ids : list of str
        The listed people (``Directory.people``'s ``person_id``), as ``query_posts`` takes them.
    """

    def __init__(self, con, ids: list[str]):
        self.ids = frozenset(ids)
        # an attached in-memory database is visible to every cursor of the connection (a TEMP
        # table would belong to this one connection only)
        self.db = f"socialens_served_{uuid.uuid4().hex[:10]}"
        con.execute(f"ATTACH ':memory:' AS {self.db} (READ_WRITE)")
        self.table = f"{self.db}.main.posts"
        con.execute(
            f"""CREATE TABLE {self.table} AS
                SELECT {_POST_COLUMNS} FROM posts p JOIN accounts a USING (account_id)
                WHERE a.kind IN ('personal', 'delegate') AND a.person_id IN (SELECT unnest($ids))
                ORDER BY p.created_at DESC, p.post_id""", {"ids": list(ids)})
        self.n = con.execute(f"SELECT count(*) FROM {self.table}").fetchone()[0]

    def query(self, cur, *, person: str | None = None, since=None, limit: int = 100,
              offset: int = 0) -> list[dict]:
        """What ``query_posts(con, ids, person=, since=, limit=, offset=)`` returns, read with
        ``cur`` (a cursor of the same connection, one per thread)."""
        where = ["TRUE"]
        params: dict[str, Any] = {"n": int(limit), "o": int(offset)}
        if person is not None:
            if person not in self.ids:
                return []
            where.append("person_id = $person")
            params["person"] = person
        if since is not None:
            where.append("created_at >= $since")
            params["since"] = since
        cur.execute(f"""SELECT * FROM {self.table} WHERE {' AND '.join(where)}
                        ORDER BY created_at DESC, post_id LIMIT $n OFFSET $o""", params)
        return _post_rows(_Rows(cur))


def query_posts(posts: ServedPosts, cur, *, person: str | None = None, since=None,
                limit: int = 100, offset: int = 0) -> list[dict]:
    """``posts.query(cur, ...)``: what ``GET /api/posts`` answers with (the app calls it by this
    module-level name, which tests replace to plant a failure)."""
    return posts.query(cur, person=person, since=since, limit=limit, offset=offset)
