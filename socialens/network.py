"""Networks from posts: interaction edges derived from replies, mentions, reposts and quotes, and
the time-resolved network "who had interacted with whom before time t".

Observed ties (``follows``, loaded ``interaction`` aggregates) come from input files. Every post that
answers, names, reposts or quotes another account is a tie as well, and it carries a time: the
post's ``created_at``. :func:`interaction_edges` derives those ties as one set-based expression over
``posts``, ``post_entities`` and ``accounts`` (ibis, so it runs on DuckDB and on Spark alike);
:func:`derive_interactions` writes the new ones into the workspace's ``edges`` table (called at the
end of every ingest), and :func:`network_at` aggregates the edges table as of a time.

The rules (see ``docs/methods.md``, "Interaction network"):

=========  =====================================================================================
kind       one edge per post, from the post's author to ...
=========  =====================================================================================
reply      the account replied to: ``reply_to_account_id``, else the author of
           ``reply_to_post_id`` when that post is in the workspace
repost     the author of ``repost_of`` (the original must be in the workspace; platform readers
           load embedded originals)
quote      the author of ``quote_of`` (same)
mention    each account the post names: a ``mention`` entity whose value is an ``account_id``
           or a handle of an account on the post's platform (case-insensitive), or a
           ``mention_account`` entity. Reposts give no mention edges: their text and its
           mentions are the original author's.
=========  =====================================================================================

Self-ties (an account answering itself in a thread) and ties to accounts that are not in the
workspace are left out. Kinds overlap by design: a reply usually also mentions the account it
answers; analyses choose the kinds they count.

Examples
--------
>>> import socialens, tempfile, json
>>> from pathlib import Path
>>> d = Path(tempfile.mkdtemp())
>>> _ = (d / "accounts.csv").write_text("account_id,handle\\ntwitter:1,ceo\\ntwitter:2,ann\\n")
>>> rows = [{"post_id": "twitter:10", "account_id": "twitter:1", "created_at": "2017-01-02T10:00:00Z",
...          "text": "Welcome @ann!", "mentions": ["ann"]},
...         {"post_id": "twitter:11", "account_id": "twitter:2", "created_at": "2017-01-03T10:00:00Z",
...          "text": "thanks", "reply_to_post_id": "twitter:10"}]
>>> _ = (d / "posts.jsonl").write_text("\\n".join(map(json.dumps, rows)))
>>> ws = socialens.open(d / "org.duckdb")
>>> _ = ws.ingest(d)
>>> ws.sql("SELECT src, dst, kind, post_id FROM edges ORDER BY kind").values.tolist()
[['twitter:1', 'twitter:2', 'mention', 'twitter:10'], ['twitter:2', 'twitter:1', 'reply', 'twitter:11']]
>>> network_at(ws.table("edges"), before="2017-01-03").execute()[["src", "dst", "kind", "n"]].values.tolist()
[['twitter:1', 'twitter:2', 'mention', 1]]
>>> ws.close()
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from socialens.errors import SocialensError

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

    from socialens.workspace import Workspace

__all__ = [
    "INTERACTION_KINDS",
    "NETWORK_KINDS",
    "RULES_VERSION",
    "NetworkError",
    "interaction_edges",
    "derive_interactions",
    "network_at",
    "edge_kind_counts",
]

#: Edge kinds derived from posts.
INTERACTION_KINDS = ("reply", "mention", "repost", "quote")
#: Every edge kind of the workspace (``follows`` and ``interaction`` are observed, not derived).
NETWORK_KINDS = ("follows", "reply", "mention", "repost", "quote", "interaction")
#: Version of the derivation rules; the ``run_id`` of derived edges is ``interactions:<version>``.
RULES_VERSION = "1"

_COLUMNS = ("src", "dst", "kind", "weight", "observed_at", "window_start", "window_end", "post_id")


class NetworkError(SocialensError, ValueError):
    """A network cannot be built with the given arguments."""


def _check_kinds(kinds: Iterable[str] | None, allowed: tuple[str, ...]) -> list[str] | None:
    if kinds is None:
        return None
    kinds = [k.strip().lower() for k in kinds if k and k.strip()]
    bad = [k for k in kinds if k not in allowed]
    if bad:
        raise NetworkError(
            f"unknown edge kind {', '.join(map(repr, bad))}; known kinds: {', '.join(allowed)}"
        )
    return kinds


def interaction_edges(
    posts: ir.Table, entities: ir.Table, accounts: ir.Table, *, kinds: Iterable[str] | None = None
) -> ir.Table:
    """The interaction edges of ``posts`` as an ibis expression (nothing is executed).

    Parameters
    ----------
    posts, entities, accounts : ibis tables
        The workspace's ``posts``, ``post_entities`` and ``accounts`` (any backend).
    kinds : iterable of str, optional
        A subset of :data:`INTERACTION_KINDS` (default: all four).

    Returns
    -------
    ibis table
        Columns ``src, dst, kind, weight, observed_at, window_start, window_end, post_id``: one row
        per (post, kind, target account), ``weight`` 1, ``observed_at`` the post's time.
    """
    import ibis

    kinds = _check_kinds(kinds, INTERACTION_KINDS) or list(INTERACTION_KINDS)
    known = accounts.select(acc_id=accounts.account_id)
    p = posts.select("post_id", "account_id", "created_at", "reply_to_post_id",
                     "reply_to_account_id", "quote_of", "repost_of")
    authors = posts.select(ref_post=posts.post_id, ref_author=posts.account_id)

    def _via_post(column: str, kind: str, direct: str | None = None) -> ir.Table:
        sub = p.filter(p[column].notnull() if direct is None
                       else (p[column].notnull() | p[direct].notnull()))
        j = sub.left_join(authors, sub[column] == authors.ref_post)
        dst = j.ref_author if direct is None else ibis.coalesce(j[direct], j.ref_author)
        return j.select(src=j.account_id, dst=dst, kind=ibis.literal(kind),
                        observed_at=j.created_at, post_id=j.post_id)

    parts = []
    if "reply" in kinds:
        parts.append(_via_post("reply_to_post_id", "reply", direct="reply_to_account_id"))
    if "repost" in kinds:
        parts.append(_via_post("repost_of", "repost"))
    if "quote" in kinds:
        parts.append(_via_post("quote_of", "quote"))
    if "mention" in kinds:
        plat = accounts.select(author_id=accounts.account_id, platform=accounts.platform)
        mp = p.filter(p.repost_of.isnull()).join(plat, p.account_id == plat.author_id)
        ents = entities.filter(entities.kind.isin(("mention", "mention_account")))
        m = mp.join(ents, mp.post_id == ents.post_id).select(
            src=mp.account_id, platform=mp.platform, observed_at=mp.created_at,
            post_id=mp.post_id, value=ents.value, ekind=ents.kind)
        # a value that is an account id of the workspace (mention_account, Mastodon/Bluesky ids)
        by_id = m.join(known, m.value == known.acc_id).select(
            src=m.src, dst=known.acc_id, observed_at=m.observed_at, post_id=m.post_id)
        # a handle of an account on the post's platform
        handles = accounts.filter(accounts.handle.notnull()).select(
            h_id=accounts.account_id, h_platform=accounts.platform,
            h_handle=accounts.handle.lower())
        hm = m.filter(m.ekind == "mention")
        by_handle = hm.join(
            handles, (hm.platform == handles.h_platform) & (hm.value.lower() == handles.h_handle)
        ).select(src=hm.src, dst=handles.h_id, observed_at=hm.observed_at, post_id=hm.post_id)
        ment = by_id.union(by_handle, distinct=True)
        parts.append(ment.select(src=ment.src, dst=ment.dst, kind=ibis.literal("mention"),
                                 observed_at=ment.observed_at, post_id=ment.post_id))
    edges = parts[0]
    for part in parts[1:]:
        edges = edges.union(part)
    edges = edges.filter(edges.dst.notnull() & (edges.src != edges.dst))
    edges = edges.semi_join(known, edges.dst == known.acc_id).distinct()
    null_ts = ibis.null().cast(edges.observed_at.type())
    return edges.select(
        src=edges.src, dst=edges.dst, kind=edges.kind, weight=ibis.literal(1.0, "float64"),
        observed_at=edges.observed_at, window_start=null_ts, window_end=null_ts,
        post_id=edges.post_id,
    )


def derive_interactions(ws: Workspace) -> dict[str, int]:
    """Insert the interaction edges of the workspace's posts that ``edges`` does not hold yet.

    Idempotent and incremental: an edge is identified by ``(post_id, kind, dst)``, so a second call
    adds only the ties of new posts or of accounts loaded since (a mention of a handle resolves
    once its account is loaded). Set-based: one ``INSERT ... SELECT`` compiled from
    :func:`interaction_edges`.

    Returns
    -------
    dict
        Edges added per kind.
    """
    import ibis

    expr = interaction_edges(ws.table("posts"), ws.table("post_entities"), ws.table("accounts"))
    sql = ibis.to_sql(expr, dialect="duckdb")
    cols = ", ".join(_COLUMNS)
    ws.con.execute(f"CREATE OR REPLACE TEMP TABLE _new_interactions AS SELECT * FROM ({sql}) d")
    try:
        with ws.transaction() as con:
            rows = con.execute(
                f"""INSERT INTO edges ({cols}, run_id, source_line)
                    SELECT {cols}, ?, NULL FROM _new_interactions d
                    WHERE NOT EXISTS (SELECT 1 FROM edges e WHERE e.post_id = d.post_id
                                      AND e.kind = d.kind AND e.dst = d.dst)
                    RETURNING kind""",
                [f"interactions:{RULES_VERSION}"],
            ).fetchall()
    finally:
        ws.con.execute("DROP TABLE IF EXISTS _new_interactions")
    out = dict.fromkeys(INTERACTION_KINDS, 0)
    for (kind,) in rows:
        out[kind] += 1
    return out


def _as_time(value: Any, name: str):
    import pandas as pd

    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise NetworkError(f"{name} {value!r} is not a time; use ISO 8601, e.g. 2017-06-01") from exc
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.tz_convert("UTC").to_pydatetime()


def network_at(
    edges: ir.Table,
    *,
    before: str | datetime | None = None,
    since: str | datetime | None = None,
    kinds: Iterable[str] | None = None,
    follows: str = "always",
) -> ir.Table:
    """The network as of a time: ties aggregated per ``(src, dst, kind)``.

    Parameters
    ----------
    edges : ibis table
        The workspace's ``edges`` table.
    before : time, optional
        Keep ties made strictly before this time ("who had replied to / mentioned / reposted whom
        before t"): derived ties by their post's time, aggregated ties whose window started before.
    since : time, optional
        Keep only ties made at or after this time (a window ``[since, before)``).
    kinds : iterable of str, optional
        Edge kinds to keep (default: every kind).
    follows : {"always", "observed"}
        ``follows`` ties are states, observed at collection time, not made at a known time:
        ``"always"`` (default) assumes each held throughout; ``"observed"`` keeps only follows
        observed within ``[since, before)``.

    Returns
    -------
    ibis table
        ``src, dst, kind, weight`` (summed), ``n`` (edges aggregated), ``first_at``, ``last_at``.
    """
    kinds = _check_kinds(kinds, NETWORK_KINDS)
    if follows not in ("always", "observed"):
        raise NetworkError(f"follows={follows!r}; use 'always' or 'observed'")
    t1, t0 = _as_time(before, "before"), _as_time(since, "since")
    e = edges
    if kinds is not None:
        e = e.filter(e.kind.isin(kinds))
    start = e.observed_at.coalesce(e.window_start)
    end = e.observed_at.coalesce(e.window_end, e.window_start)
    timed = e.kind != "follows" if follows == "always" else e.kind == e.kind
    if t1 is not None:
        e = e.filter(~timed | start.isnull() | (start < t1))
    if t0 is not None:
        e = e.filter(~timed | end.isnull() | (end >= t0))
    start = e.observed_at.coalesce(e.window_start)
    end = e.observed_at.coalesce(e.window_end, e.window_start)
    return e.group_by(["src", "dst", "kind"]).aggregate(
        weight=e.weight.sum(), n=e.count(), first_at=start.min(), last_at=end.max()
    ).order_by(["src", "dst", "kind"])


def edge_kind_counts(edges: ir.Table) -> dict[str, dict[str, int]]:
    """Edges and distinct ties per kind: ``{kind: {"edges": n, "ties": n_src_dst}}``."""
    agg = edges.group_by("kind").aggregate(
        edges=edges.count(), ties=(edges.src.concat("\x1f", edges.dst)).nunique()
    ).execute()
    return {r.kind: {"edges": int(r.edges), "ties": int(r.ties)} for r in agg.itertuples()}
