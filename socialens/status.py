"""Everyday look-ups on a workspace: what it holds, what was rejected, and ad-hoc SQL.

These back ``socialens status``, ``socialens quarantine`` and ``socialens sql`` (the commands
sqlite-utils and datasette users expect). Each reads only; :func:`run_sql` writes only when asked.

Examples
--------
>>> import socialens, tempfile, os
>>> ws = socialens.open(os.path.join(tempfile.mkdtemp(), "org.duckdb"))
>>> st = status(ws)
>>> st.tables["people"], st.enrichment["posts"]
(0, 0)
>>> run_sql(ws, "SELECT 1 + 1 AS two")["two"].tolist()
[2]
>>> ws.close()
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from socialens.errors import SocialensError
from socialens.workspace import TABLES, Workspace

__all__ = ["QueryError", "WorkspaceStatus", "QuarantineList", "status", "quarantine", "run_sql",
           "to_jsonable", "to_records"]


class QueryError(SocialensError, ValueError):
    """An SQL query given by the user cannot run (syntax, unknown table, a write when read-only)."""


def to_jsonable(value: Any) -> Any:
    """A query value as plain JSON: times in ISO 8601, NaN/NaT as None, other types as text."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, str | bool | int):
        return value
    if isinstance(value, datetime | date | time):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return str(value)


def to_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame as a JSON-ready list of row objects (see :func:`to_jsonable`)."""
    return [{str(k): to_jsonable(v) for k, v in row.items()}
            for row in df.astype(object).to_dict(orient="records")]


@dataclass
class WorkspaceStatus:
    """What a workspace holds (see :func:`status`).

    Attributes
    ----------
    path : Path
    size_bytes : int
        Size of the DuckDB file.
    socialens_version : str
        The version reading it.
    migrations : list of str
        Schema migrations applied, oldest first.
    tables : dict
        Row count of every table (simulation ground-truth tables only when not empty).
    runs : DataFrame
        Ingest runs, newest first: ``run_id, started_at, source_path, format, target, n_read,
        n_loaded, n_duplicate, n_merged, n_quarantined, state``; ``state`` is ``finished``,
        ``interrupted`` (killed or crashed, its counts reconciled with its rows when the
        workspace was next opened for writing; re-ingest the file to load the rest) or
        ``unfinished`` (running now, or interrupted and not yet reconciled).
    quarantine : DataFrame
        Quarantined records counted by ``target, field, reason`` (most frequent first).
    enrichment : dict
        ``posts``, ``feature_version`` (current), ``enriched`` (posts with features at the current
        version), ``pending`` (posts ``socialens enrich`` would compute) and ``by_version``
        (posts with features per stored ``feature_version``).
    """

    path: Path
    size_bytes: int
    socialens_version: str
    migrations: list[str]
    tables: dict[str, int]
    runs: pd.DataFrame
    quarantine: pd.DataFrame
    enrichment: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO 8601 strings."""
        return {
            "path": str(self.path), "size_bytes": self.size_bytes,
            "socialens_version": self.socialens_version, "migrations": list(self.migrations),
            "tables": dict(self.tables), "runs": to_records(self.runs),
            "quarantine": to_records(self.quarantine), "enrichment": to_jsonable(self.enrichment),
        }


def status(ws: Workspace) -> WorkspaceStatus:
    """Tables with their row counts, ingest runs, quarantine reasons, enrichment state, migrations.

    Parameters
    ----------
    ws : Workspace
        Open workspace (read-only is enough).
    """
    from socialens import __version__
    from socialens.enrich.runner import FEATURE_VERSION

    names = [t for t in ws.table_names() if t != "schema_migrations"]
    order = [t for t in TABLES if t in names] + [t for t in names if t not in TABLES]
    tables = {}
    for t in order:
        n = ws.count(t)
        if n or not t.startswith("sim_truth_"):
            tables[t] = n
    runs = ws.sql("""SELECT run_id, started_at, source_path, format, target, n_read, n_loaded,
                            n_duplicate, n_merged, n_quarantined,
                            CASE WHEN finished_at IS NOT NULL THEN 'finished'
                                 WHEN json_extract(options, '$.interrupted') IS NOT NULL
                                 THEN 'interrupted' ELSE 'unfinished' END AS state
                     FROM ingest_runs ORDER BY started_at DESC, run_id DESC""")
    reasons = ws.sql("""SELECT target, field, reason, count(*) AS n FROM quarantine
                        GROUP BY ALL ORDER BY n DESC, target, field NULLS FIRST, reason""")
    by_version = dict(ws.con.execute(
        "SELECT feature_version, count(DISTINCT post_id) FROM post_features GROUP BY 1 ORDER BY 1"
    ).fetchall())
    n_posts = tables.get("posts", 0)
    enriched = int(by_version.get(FEATURE_VERSION, 0))
    enrichment = {"posts": n_posts, "feature_version": FEATURE_VERSION, "enriched": enriched,
                  "pending": n_posts - enriched, "by_version": by_version}
    return WorkspaceStatus(
        path=ws.path, size_bytes=ws.path.stat().st_size if ws.path.exists() else 0,
        socialens_version=__version__, migrations=ws.migrations, tables=tables, runs=runs,
        quarantine=reasons, enrichment=enrichment,
    )


@dataclass
class QuarantineList:
    """Quarantined records (see :func:`quarantine`): ``rows`` (``run_id, file, line, target,
    field, reason``, and ``raw`` when asked) and ``total``, the number matching before ``limit``."""

    rows: pd.DataFrame
    total: int

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "shown": len(self.rows), "rows": to_records(self.rows)}


def quarantine(ws: Workspace, *, run: str | None = None, limit: int | None = 50,
               raw: bool = False) -> QuarantineList:
    """The records ingest rejected, with file, line, target table, field and reason.

    Parameters
    ----------
    ws : Workspace
    run : str, optional
        Only this ingest run: its ``run_id``, a prefix of it that names one run, or ``latest``.
    limit : int, optional
        At most this many rows (in run order, then file line); None for all.
    raw : bool
        Also return the rejected record as read (``raw``).
    """
    if limit is not None and limit < 0:
        raise QueryError(f"limit={limit} is negative; give 0 or more (or None for all)")
    where, params = "", []
    if run is not None:
        run_id = _resolve_run(ws, run)
        where, params = "WHERE q.run_id = ?", [run_id]
    total = ws.con.execute(f"SELECT count(*) FROM quarantine q {where}", params).fetchone()[0]
    cols = "q.run_id, q.source_path AS file, q.line, q.target, q.field, q.reason" + (
        ", q.raw" if raw else "")
    lim = "" if limit is None else f"LIMIT {int(limit)}"
    rows = ws.sql(f"""SELECT {cols} FROM quarantine q LEFT JOIN ingest_runs r USING (run_id)
                      {where} ORDER BY r.started_at, q.run_id, q.source_path, q.line {lim}""",
                  params)
    return QuarantineList(rows=rows, total=int(total))


def _resolve_run(ws: Workspace, run: str) -> str:
    runs = [r[0] for r in ws.con.execute(
        "SELECT run_id FROM ingest_runs ORDER BY started_at DESC, run_id DESC").fetchall()]
    if not runs:
        raise QueryError(f"no ingest runs in {ws.path}, so no run {run!r}")
    if run == "latest":
        return runs[0]
    if run in runs:
        return run
    matches = [r for r in runs if r.startswith(run)]
    if len(matches) == 1:
        return matches[0]
    recent = ", ".join(runs[:5])
    if matches:
        raise QueryError(f"run {run!r} matches {len(matches)} runs; give more of the id "
                         f"(recent runs: {recent})")
    raise QueryError(f"no ingest run {run!r}; recent runs are {recent} (see `socialens status`), "
                     "or use --run latest")


def run_sql(ws: Workspace, query: str, params: list | dict | None = None) -> pd.DataFrame:
    """Run one SQL query (DuckDB dialect) and return its result as a DataFrame.

    Writes are refused when ``ws`` is open read-only (the default of ``socialens sql``); the
    error says so. A statement that returns no rows (e.g. ``CREATE``) gives an empty DataFrame.
    """
    if not query or not query.strip():
        raise QueryError("the query is empty; give a statement, e.g. \"SELECT count(*) FROM posts\"")
    try:
        cur = ws.con.execute(query, params or [])
        if cur.description is None:
            return pd.DataFrame()
        return cur.df()
    except duckdb.Error as exc:
        text = str(exc)
        if ws.read_only and "read-only" in text:
            raise QueryError(f"{text.split(': ', 1)[-1]} The workspace is open read-only; "
                             "`socialens sql --write` opens it for writing.") from None
        raise QueryError(f"the query failed: {text}") from None
