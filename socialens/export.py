"""Exports: workspace tables as CSV/Parquet, networks as GEXF/GraphML, and a ConvoKit corpus.

* :func:`export_tables` writes each table with DuckDB's ``COPY`` (streamed by DuckDB, any size).
* :func:`export_network` writes the account network (``edges`` aggregated per ``src, dst, kind``,
  weights summed) with networkx's GEXF/GraphML writers, which escape XML; nodes carry the account's
  platform, handle, kind, person, department and whether the person holds a leader role at ``as_of``.
* :func:`export_convokit` writes a corpus directory that ``convokit.Corpus(filename=...)`` loads:
  ``utterances.jsonl`` (one post per line: ``id, speaker, conversation_id, reply_to, timestamp,
  text, meta``), ``speakers.json`` (``{id: {"meta": ..., "vectors": []}}`` with the person's roles),
  ``conversations.json``, ``corpus.json`` and ``index.json`` (the metadata type index).

Every export reads the workspace through the privacy boundary (:mod:`socialens.privacy`): public
posts only, and people who did not opt in under keyed pseudonyms (``p-3f9a2c1d``, "Person
3f9a2c1d"; their accounts ``<platform>:a-<hex>``, their posts ``<platform>:x-<hex>``) in every
table, node, speaker and utterance — mentions of them in others' posts included. With
``pseudonymize`` everyone is (the roster and outside accounts alike); with ``include_all`` (an
internal export) nobody is. Ingested files' paths are withheld unless ``show_paths``. The ids
stay consistent across the files, so a pseudonymized export still joins.

Nothing is written into the workspace.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from socialens.errors import SocialensError
from socialens.privacy import published
from socialens.workspace import TABLES, Workspace

__all__ = ["ExportError", "export_tables", "export_network", "export_convokit", "export_all",
           "TABLE_FORMATS", "NETWORK_FORMATS", "EXPORT_TABLES"]

TABLE_FORMATS = ("csv", "parquet")
#: The tables :func:`export_tables` writes by default: the data tables and the post features.
EXPORT_TABLES = (*TABLES, "post_features")
NETWORK_FORMATS = ("gexf", "graphml")


class ExportError(SocialensError, ValueError):
    """An export cannot be written with the given arguments."""


def _out_dir(path: str | Path) -> Path:
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ExportError(f"{p} exists and is not a folder; choose another --out")
    p.mkdir(parents=True, exist_ok=True)
    return p


@published
def export_tables(
    ws: Workspace, out_dir: str | Path, *, format: str = "csv", tables: Iterable[str] | None = None,
    include_all: bool = False, pseudonymize: bool = False, show_paths: bool = False,
    key_file: str | Path | None = None,
) -> list[Path]:
    """Write workspace tables to ``out_dir/<table>.csv`` (or ``.parquet``); returns the paths.

    By default every table of :data:`EXPORT_TABLES` (the data tables and ``post_features``).
    JSON columns are written as JSON text; times as ISO 8601 in UTC.
    """
    if format not in TABLE_FORMATS:
        raise ExportError(f"unknown table format {format!r}; use one of {', '.join(TABLE_FORMATS)}")
    names = list(tables) if tables else [t for t in EXPORT_TABLES if t in ws.table_names()]
    unknown = [t for t in names if t not in ws.table_names()]
    if unknown:
        raise ExportError(f"no table {', '.join(unknown)}; tables are {', '.join(ws.table_names())}")
    out = _out_dir(out_dir)
    written = []
    for t in names:
        path = out / f"{t}.{format}"
        opts = "(FORMAT csv, HEADER true)" if format == "csv" else "(FORMAT parquet)"
        target = str(path).replace("'", "''")
        ws.con.execute(f"COPY (SELECT * FROM \"{t}\") TO '{target}' {opts}")
        written.append(path)
    return written


def _clean(attrs: dict[str, Any]) -> dict[str, Any]:
    """Graph attributes that GEXF/GraphML accept: no None, scalars only."""
    out = {}
    for k, v in attrs.items():
        if v is None or (isinstance(v, float) and v != v):
            continue
        out[k] = v if isinstance(v, (str, int, float, bool)) else str(v)
    return out


def network_graph(ws: Workspace, *, kinds: Iterable[str] | None = None, as_of: str | None = None,
                  before: str | None = None, since: str | None = None):
    """The account network as a ``networkx.MultiDiGraph`` (one edge per ``src, dst, kind``).

    Edges are :func:`socialens.network.network_at` of the workspace's ``edges``: observed ties and
    the reply/mention/repost/quote ties derived from posts, optionally only those made in
    ``[since, before)``; each carries ``kind``, summed ``weight``, ``n`` and first/last time.
    """
    import networkx as nx

    from socialens.network import network_at

    agg = network_at(ws.table("edges"), before=before, since=since, kinds=kinds).execute()
    edges = [(r.src, r.dst, r.kind, r.weight, r.n,
              None if r.first_at is None or r.first_at != r.first_at else r.first_at,
              None if r.last_at is None or r.last_at != r.last_at else r.last_at)
             for r in agg.itertuples()]
    at = as_of or "now()"
    leader_sql = "EXISTS (SELECT 1 FROM roles r WHERE r.person_id = a.person_id AND r.is_leader " \
                 "AND r.start_at <= CAST(? AS TIMESTAMPTZ) AND (r.end_at IS NULL OR " \
                 "CAST(? AS TIMESTAMPTZ) < r.end_at))"
    if as_of is None:
        leader_sql = leader_sql.replace("CAST(? AS TIMESTAMPTZ)", at)
        lp: list[Any] = []
    else:
        lp = [as_of, as_of]
    nodes = ws.con.execute(
        f"""SELECT a.account_id, a.platform, a.handle, a.kind, a.person_id, a.display_name,
                   p.name, p.department, {leader_sql} AS is_leader
            FROM accounts a LEFT JOIN people p USING (person_id) ORDER BY a.account_id""",
        lp,
    ).fetchall()
    g = nx.MultiDiGraph()
    used = {e[0] for e in edges} | {e[1] for e in edges}
    for aid, platform, handle, kind, pid, dname, name, dept, leader in nodes:
        if aid in used or pid is not None:
            g.add_node(aid, **_clean({
                "label": handle or dname or aid, "platform": platform, "handle": handle,
                "account_kind": kind, "person_id": pid, "name": name, "department": dept,
                "is_leader": bool(leader),
            }))
    for src, dst, kind, weight, n, first, last in edges:
        g.add_edge(src, dst, key=kind, **_clean({
            "kind": kind, "weight": float(weight), "n": int(n),
            "first_seen": first.isoformat() if isinstance(first, datetime) else first,
            "last_seen": last.isoformat() if isinstance(last, datetime) else last,
        }))
    return g


@published
def export_network(
    ws: Workspace, path: str | Path, *, format: str | None = None,
    kinds: Iterable[str] | None = None, as_of: str | None = None,
    before: str | None = None, since: str | None = None, include_all: bool = False,
    pseudonymize: bool = False, key_file: str | Path | None = None,
) -> Path:
    """Write the account network to ``path`` as GEXF or GraphML (by ``format`` or the suffix).

    Gephi opens both; NodeXL and yEd read GraphML. Parallel edges of different kinds are kept
    (one per kind) with their summed ``weight``.
    """
    import networkx as nx

    path = Path(path)
    fmt = format or path.suffix.lstrip(".").lower()
    if fmt not in NETWORK_FORMATS:
        raise ExportError(f"unknown network format {fmt!r}; use .gexf or .graphml")
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    g = network_graph(ws, kinds=kinds, as_of=as_of, before=before, since=since)
    if fmt == "gexf":
        nx.write_gexf(g, path)
    else:
        nx.write_graphml(g, path)
    return path


def _type_name(v: Any) -> str:
    return f"<class '{type(v).__name__}'>"


@published
def export_convokit(ws: Workspace, out_dir: str | Path, *, name: str | None = None,
                    include_reposts: bool = False, batch_size: int = 10_000,
                    include_all: bool = False, pseudonymize: bool = False,
                    key_file: str | Path | None = None) -> Path:
    """Write a ConvoKit corpus directory of the workspace's posts.

    Utterances are posts (reposts are left out unless ``include_reposts``: they have no text of
    their own). ``reply_to`` is the replied-to post when it is in the corpus, else None (the
    outside parent is kept in ``meta.reply_to_external``); ``conversation_id`` is the id of the
    earliest ancestor in the corpus (the post itself when it starts a conversation). ``timestamp`` is
    Unix seconds. Speakers are accounts, with their person's name, department and roles in ``meta``.
    """
    out = _out_dir(out_dir)
    con = ws.con
    repost_filter = "" if include_reposts else "WHERE repost_of IS NULL"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _ck AS
        WITH RECURSIVE u AS (SELECT post_id, reply_to_post_id FROM posts {repost_filter}),
        parent AS (SELECT u.post_id, CASE WHEN p.post_id IS NOT NULL THEN u.reply_to_post_id END AS reply_to
                   FROM u LEFT JOIN u p ON p.post_id = u.reply_to_post_id),
        walk(post_id, cur, depth) AS (
            SELECT post_id, post_id, 0 FROM parent
            UNION ALL
            SELECT w.post_id, pr.reply_to, w.depth + 1 FROM walk w JOIN parent pr ON pr.post_id = w.cur
            WHERE pr.reply_to IS NOT NULL AND w.depth < 10000)
        SELECT p.post_id, p.reply_to,
               arg_max(w.cur, w.depth) AS conversation_id
        FROM parent p JOIN walk w USING (post_id) GROUP BY p.post_id, p.reply_to""")
    utt_index: dict[str, set[str]] = {}
    conversations: set[str] = set()
    cur = con.execute("""SELECT p.post_id, p.account_id, c.conversation_id, c.reply_to,
                                epoch(p.created_at)::BIGINT, p.text, p.lang, p.created_at,
                                p.reply_to_post_id, p.reply_to_account_id, p.quote_of, p.repost_of,
                                p.like_count, p.repost_count, p.reply_count, p.quote_count, p.url
                         FROM posts p JOIN _ck c USING (post_id)
                         ORDER BY p.created_at, p.post_id""")
    n = 0
    with open(out / "utterances.jsonl", "w", encoding="utf-8") as f:
        while True:
            rows = cur.fetchmany(batch_size)
            if not rows:
                break
            for (pid, spk, conv, reply, ts, text, lang, created, rtp, rta, quote, repost,
                 likes, reposts, replies, quotes, url) in rows:
                meta = {k: v for k, v in {
                    "created_at": created.isoformat(), "lang": lang,
                    "reply_to_external": rtp if rtp and reply is None else None,
                    "reply_to_account_id": rta, "quote_of": quote, "repost_of": repost,
                    "like_count": likes, "repost_count": reposts, "reply_count": replies,
                    "quote_count": quotes, "url": url,
                }.items() if v is not None}
                for k, v in meta.items():
                    utt_index.setdefault(k, set()).add(_type_name(v))
                conversations.add(conv)
                f.write(json.dumps({"id": pid, "speaker": spk, "conversation_id": conv,
                                    "reply_to": reply, "timestamp": ts, "text": text or "",
                                    "meta": meta, "vectors": []}, ensure_ascii=False) + "\n")
                n += 1
    con.execute("DROP TABLE IF EXISTS _ck")
    roles: dict[str, list[dict]] = {}
    for pid, title, level, leader, start, end in con.execute(
        "SELECT person_id, title, level, is_leader, start_at, end_at FROM roles ORDER BY person_id, start_at"
    ).fetchall():
        roles.setdefault(pid, []).append({
            "title": title, "level": level, "is_leader": bool(leader),
            "start": start.isoformat() if start else None, "end": end.isoformat() if end else None})
    speakers = {}
    spk_index: dict[str, set[str]] = {}
    for aid, platform, handle, kind, pid, person_name, dept in con.execute(
        """SELECT a.account_id, a.platform, a.handle, a.kind, a.person_id, p.name, p.department
           FROM accounts a LEFT JOIN people p USING (person_id)
           WHERE a.account_id IN (SELECT DISTINCT account_id FROM posts) ORDER BY 1"""
    ).fetchall():
        meta = {k: v for k, v in {
            "platform": platform, "handle": handle, "account_kind": kind, "person_id": pid,
            "name": person_name, "department": dept, "roles": roles.get(pid) if pid else None,
            "is_leader_ever": any(r["is_leader"] for r in roles.get(pid, [])) if pid else None,
        }.items() if v is not None}
        for k, v in meta.items():
            spk_index.setdefault(k, set()).add(_type_name(v))
        speakers[aid] = {"meta": meta, "vectors": []}
    with open(out / "speakers.json", "w", encoding="utf-8") as f:
        json.dump(speakers, f, ensure_ascii=False)
    with open(out / "conversations.json", "w", encoding="utf-8") as f:
        json.dump({c: {"meta": {}, "vectors": []} for c in sorted(conversations)}, f, ensure_ascii=False)
    from socialens import __version__

    # the workspace's file name only: its full path (a home folder, a user name) is not shared
    corpus_meta = {"name": name or ws.path.stem, "source": f"socialens {__version__}",
                   "workspace": ws.path.name, "n_utterances": n}
    with open(out / "corpus.json", "w", encoding="utf-8") as f:
        json.dump(corpus_meta, f, ensure_ascii=False)
    index = {
        "utterances-index": {k: sorted(v) for k, v in sorted(utt_index.items())},
        "speakers-index": {k: sorted(v) for k, v in sorted(spk_index.items())},
        "conversations-index": {},
        "overall-index": {k: [_type_name(v)] for k, v in corpus_meta.items()},
        "version": 1,
        "vectors": [],
    }
    with open(out / "index.json", "w", encoding="utf-8") as f:
        json.dump(index, f)
    return out


@published
def export_all(ws: Workspace, out_dir: str | Path, *, table_format: str = "csv",
               network_formats: Iterable[str] = NETWORK_FORMATS, convokit: bool = True,
               as_of: str | None = None, kinds: Iterable[str] | None = None,
               before: str | None = None, since: str | None = None, include_all: bool = False,
               pseudonymize: bool = False, show_paths: bool = False,
               key_file: str | Path | None = None) -> dict[str, list[Path]]:
    """Everything: ``tables/``, ``network.gexf``/``network.graphml``, ``convokit/``.

    ``kinds``, ``before`` and ``since`` select the network's edges (see :func:`network_graph`).
    ``include_all``, ``pseudonymize``, ``show_paths`` and ``key_file`` set the privacy boundary
    (see the module's docstring): by default people who did not opt in are pseudonymized.
    """
    out = _out_dir(out_dir)
    res: dict[str, list[Path]] = {"tables": export_tables(ws, out / "tables", format=table_format)}
    res["networks"] = [export_network(ws, out / f"network.{fmt}", format=fmt, as_of=as_of,
                                      kinds=kinds, before=before, since=since)
                       for fmt in network_formats]
    if convokit:
        res["convokit"] = [export_convokit(ws, out / "convokit")]
    return res
