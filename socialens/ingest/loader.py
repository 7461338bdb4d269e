"""Loading mapped rows into the workspace: reference checks, de-duplication, quarantine, provenance.

Every reader maps a source record to a list of ``(target_table, row)`` pairs; the first pair is the
record's *primary* row, which decides how the record is counted (loaded, duplicate or quarantined), so
that for every file ``n_read = n_loaded + n_duplicate + n_quarantined``. Further pairs are *secondary*
rows (e.g. the author's account embedded in a tweet): loaded when new and valid, otherwise skipped
and counted in :attr:`FileReport.secondary`.

Rows are staged in batches into a temporary DuckDB table, and each batch is checked with set-based
SQL (unknown references → quarantine, existing keys → duplicates), so memory stays bounded however
large the file.
"""

from __future__ import annotations

import json
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from socialens.workspace import Workspace

__all__ = ["TargetSpec", "TARGETS", "Loader", "FileReport", "ApiError", "new_run_id",
           "reconcile_interrupted"]

BATCH_SIZE = 20_000


@dataclass(frozen=True)
class Ref:
    column: str
    table: str
    table_column: str


@dataclass(frozen=True)
class TargetSpec:
    """How rows of one table are keyed and which references must resolve."""

    table: str
    key: tuple[str, ...]
    refs: tuple[Ref, ...] = ()
    null_safe_key: bool = False
    #: when a record's key exists, fill the existing row's empty (NULL) columns from it
    merge: bool = False


TARGETS: dict[str, TargetSpec] = {
    "people": TargetSpec("people", ("person_id",), merge=True),
    "roles": TargetSpec(
        "roles", ("person_id", "title", "start_at"), (Ref("person_id", "people", "person_id"),)
    ),
    "accounts": TargetSpec(
        "accounts", ("account_id",), (Ref("person_id", "people", "person_id"),), merge=True
    ),
    "account_snapshots": TargetSpec(
        "account_snapshots",
        ("account_id", "observed_at"),
        (Ref("account_id", "accounts", "account_id"),),
    ),
    "posts": TargetSpec("posts", ("post_id",), (Ref("account_id", "accounts", "account_id"),)),
    "edges": TargetSpec(
        "edges",
        ("src", "dst", "kind", "observed_at", "window_start", "window_end"),
        (Ref("src", "accounts", "account_id"), Ref("dst", "accounts", "account_id")),
        null_safe_key=True,
    ),
}

#: Load order: a batch is flushed table by table in this order so references resolve.
ORDER = ("people", "roles", "accounts", "account_snapshots", "posts", "edges")

_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "JSON": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC"),
}


_SURROGATE = re.compile("[\ud800-\udfff]")
_INT_RANGE = {"BIGINT": 2**63, "INTEGER": 2**31}


def _clean_text(text: str) -> str:
    """``text`` with lone surrogates (which no UTF-8 file or database can hold) as U+FFFD."""
    return text if text.isascii() or not _SURROGATE.search(text) else _SURROGATE.sub("\ufffd", text)


def _show(v: Any) -> str:
    r = repr(v)
    return _clean_text(r if len(r) <= 60 else r[:57] + "...")


def _check_value(v: Any, typ: str) -> str | None:
    """Why ``v`` cannot be stored in a column of DuckDB type ``typ`` (None when it can)."""
    if typ == "VARCHAR":
        return None if isinstance(v, str) else "is not a text"
    if typ in _INT_RANGE:
        if not isinstance(v, int) or isinstance(v, bool):
            return "is not an integer"
        lim = _INT_RANGE[typ]
        return None if -lim <= v < lim else f"is out of range (at most {lim - 1})"
    if typ == "DOUBLE":
        if isinstance(v, bool) or not isinstance(v, int | float):
            return "is not a number"
        try:
            float(v)
        except OverflowError:
            return "is too large"
        return None
    if typ == "BOOLEAN":
        return None if isinstance(v, bool) else "is not true or false"
    if typ.startswith("TIMESTAMP"):
        return None if isinstance(v, datetime) and v.tzinfo is not None else "is not a time"
    return None


#: quarantine reason of a record of a person removed with ``socialens forget`` (raw not kept)
FORGOTTEN_REASON = ("a forgotten person's record: they were removed with `socialens forget` and "
                    "are not loaded again (the raw record is not kept)")


def _forgotten_col(item: tuple[str, dict], hashes: set[str]) -> str | None:
    from socialens.forget import is_forgotten

    target, row = item
    return is_forgotten(TARGETS[target].table, row, hashes)


def unknown_ref_reason(column: str, value: Any, table: str) -> str:
    """The quarantine reason of a record whose ``column`` names no row of ``table``."""
    return (f"unknown {column} {value!r}: no such row in {table}; load it first (e.g. add it to "
            f"the {table} file) or correct the id")


def new_run_id() -> str:
    """``20260101T120000Z-1a2b3c4d``: sortable by time, unique."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)


@dataclass(frozen=True)
class ApiError:
    """An error entry of an API response page, which readers pass in place of a record's error.

    A page's ``errors`` (a pinned or referenced tweet that is missing, a requested user that is not
    found) are not records of the collection: the loader counts them in
    :attr:`FileReport.api_errors` by ``kind`` and neither reads nor quarantines them, so
    ``read = loaded + duplicate + quarantined`` still counts records only.
    """

    kind: str


@dataclass
class FileReport:
    """What happened to one input file."""

    path: str
    format: str
    target: str
    sha256: str
    run_id: str | None = None
    n_read: int = 0
    n_loaded: int = 0
    n_duplicate: int = 0
    n_quarantined: int = 0
    n_merged: int = 0
    reasons: Counter = field(default_factory=Counter)
    secondary: dict[str, Counter] = field(default_factory=dict)
    recorded: bool = False
    #: error entries of the API pages (not records; see :class:`ApiError`), by kind
    api_errors: Counter = field(default_factory=Counter)

    @property
    def balanced(self) -> bool:
        return self.n_read == self.n_loaded + self.n_duplicate + self.n_quarantined

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "target": self.target,
            "sha256": self.sha256,
            "run_id": self.run_id,
            "read": self.n_read,
            "loaded": self.n_loaded,
            "duplicate": self.n_duplicate,
            "quarantined": self.n_quarantined,
            "merged": self.n_merged,
            "reasons": dict(self.reasons.most_common()),
            "secondary": {k: dict(v) for k, v in self.secondary.items()},
            "api_errors": dict(self.api_errors.most_common()),
            "recorded": self.recorded,
        }


@dataclass
class _Pending:
    line: int
    raw: str
    primary: bool
    row: dict[str, Any]


class Loader:
    """Loads one file's records inside one transaction. Use :meth:`run`."""

    def __init__(
        self,
        ws: Workspace,
        *,
        path: Path,
        sha256: str,
        format: str,
        target: str,
        timezone: str | None,
        on_progress: Callable[[int], None] | None = None,
        options: dict[str, Any] | None = None,
    ):
        self.ws = ws
        self.con = ws.con
        self.report = FileReport(str(path), format, target, sha256)
        self.timezone = timezone
        self.run_id = new_run_id()
        self.on_progress = on_progress
        #: the ingest options that shaped the rows (roster declared public, column mapping),
        #: recorded in ``ingest_runs.options``; a run with ``public`` is kept even if it loaded
        #: nothing new (the declaration itself changed the people)
        self.options = {k: v for k, v in (options or {}).items() if v not in (None, False, {}, [])}
        self._buffers: dict[str, list[_Pending]] = {t: [] for t in ORDER}
        self._embedded: bool | None = None  # whether posts holds embedded copies (checked once)
        self._quarantine: list[tuple] = []
        self._new_quarantined = 0
        self._n_buffered = 0
        self._columns: dict[str, list[tuple[str, str]]] = {}
        self._required: dict[str, list[str]] = {}
        from socialens.forget import tombstones  # socialens forget: refuse forgotten people

        self._forgotten = tombstones(self.con)

    # -- public -------------------------------------------------------------------------------
    def run(self, records: Iterable[tuple[int, str, list[tuple[str, dict]] | None, Any]]) -> FileReport:
        """Load ``(line, raw, rows, error)`` items; ``error`` is a reason string or a RecordError.

        Each batch is committed on its own, so memory stays bounded however large the file. The
        run is recorded in ``ingest_runs`` before the first batch (``finished_at`` NULL) and
        completed at the end, so rows of an interrupted run still point to their file; a run that
        changed nothing is removed again.
        """
        bulk = getattr(records, "load_bulk", None)  # canonical posts: set-based when it can be
        if bulk is not None and (report := bulk(self)) is not None:
            return report
        started = datetime.now(UTC)
        self._begin(started)
        try:
            for line, raw, rows, error in records:
                if isinstance(error, ApiError):
                    self.report.api_errors[error.kind] += 1
                    continue
                self.report.n_read += 1
                if error is not None:
                    reason = getattr(error, "reason", None) or str(error)
                    fld = getattr(error, "field", None)
                    self._add_quarantine(line, raw, self.report.target, reason, fld)
                    continue
                bad = self._invalid(rows[0][0], rows[0][1])
                if bad is not None:
                    self._add_quarantine(line, raw, self.report.target, *bad)
                    continue
                if self._forgotten and (col := _forgotten_col(rows[0], self._forgotten)):
                    # socialens forget: the record is counted, its raw text is not kept
                    self._add_quarantine(line, "", self.report.target, FORGOTTEN_REASON, col)
                    continue
                for i, (target, row) in enumerate(rows):
                    if i and (why := self._invalid(target, row)) is not None:
                        self._secondary(target, f"skipped: invalid {why[1]}")
                        continue
                    if i and self._forgotten and _forgotten_col((target, row), self._forgotten):
                        self._secondary(target, "skipped: a forgotten person's (socialens forget)")
                        continue
                    self._buffers[target].append(_Pending(line, raw, i == 0, row))
                self._n_buffered += 1
                if self._n_buffered >= BATCH_SIZE:
                    with self.ws.transaction():
                        self._flush()
                        self._flush_quarantine()  # committed with the batch: a kill loses neither
            with self.ws.transaction():
                self._flush()
                self._flush_quarantine()
                self._finish()
        except BaseException:
            self._abandon()
            raise
        return self.report

    # -- internals ----------------------------------------------------------------------------
    def _add_quarantine(self, line, raw, target, reason, fld=None) -> None:
        self.report.n_quarantined += 1
        self.report.reasons[reason if len(reason) <= 240 else reason[:237] + "..."] += 1
        self._quarantine.append((line, raw, target, fld, reason))
        if len(self._quarantine) >= BATCH_SIZE:
            self._flush_quarantine()

    def _secondary(self, target: str, what: str, n: int = 1) -> None:
        if n:
            self.report.secondary.setdefault(target, Counter())[what] += n

    def _cols(self, table: str) -> list[tuple[str, str]]:
        if table not in self._columns:
            desc = self.con.execute(f'DESCRIBE "{table}"').fetchall()
            self._columns[table] = [(r[0], r[1]) for r in desc if r[0] not in ("run_id", "source_line")]
            self._required[table] = [r[0] for r in desc if r[2] == "NO"
                                     and r[0] not in ("run_id", "source_line")]
        return self._columns[table]

    def _invalid(self, target: str, row: dict[str, Any]) -> tuple[str, str] | None:
        """``(reason, column)`` when a mapped row cannot be stored as it is (a value of the wrong
        type or out of range, a required column empty), else None; lone surrogates in its texts
        are replaced by U+FFFD on the way (docs/data_format.md)."""
        table = TARGETS[target].table
        cols = self._cols(table)
        for name in self._required[table]:
            if row.get(name) is None:
                return f"{name} is missing; every {table} row needs one", name
        for name, typ in cols:
            v = row.get(name)
            if v is None:
                continue
            why = _check_value(v, typ)
            if why is None:
                if typ == "VARCHAR" and not v.isascii() and _SURROGATE.search(v):
                    row[name] = _SURROGATE.sub("\ufffd", v)
                continue
            return f"{name}: {_show(v)} {why}", name
        ents = row.get("_entities")
        if ents:
            row["_entities"] = [(k, _clean_text(str(x))) for k, x in ents]
        return None

    def _flush(self) -> None:
        for target in ORDER:
            pending = self._buffers[target]
            if pending:
                self._flush_target(target, pending)
                self._buffers[target] = []
        if self.on_progress and self._n_buffered:
            self.on_progress(self._n_buffered)
        self._n_buffered = 0

    def _flush_target(self, target: str, pending: list[_Pending]) -> None:
        spec = TARGETS[target]
        kept: dict[tuple, int] = {}
        batch: list[_Pending] = []
        for p in pending:  # duplicates inside the batch; a record's own row wins over an embedded copy
            key = tuple(p.row.get(k) for k in spec.key)
            if key in kept:
                first = batch[kept[key]]
                if p.primary and not first.primary:
                    batch[kept[key]] = p
                    p = first
                if p.primary:
                    self.report.n_duplicate += 1
                else:
                    self._secondary(target, "duplicate")
                continue
            kept[key] = len(batch)
            batch.append(p)
        if not batch:
            return
        if target == "posts":  # how the post arrived (docs/data_format.md, posts.collected_as)
            for p in batch:
                p.row["collected_as"] = "record" if p.primary else "embedded"
            if not all(p.primary for p in batch):
                self._embedded = True
        cols = self._cols(spec.table)
        plain = [(n, t) for n, t in cols if t != "JSON"]
        stage = pa.Table.from_pylist(
            [p.row for p in batch],
            schema=pa.schema([(n, _ARROW_TYPES[t]) for n, t in plain]),
        )
        for name, _ in (c for c in cols if c[1] == "JSON"):
            stage = stage.append_column(name, pa.array(
                [None if (v := p.row.get(name)) is None
                 else _clean_text(json.dumps(v, ensure_ascii=False, sort_keys=True, default=str))
                 for p in batch],
                type=pa.string()))
        stage = stage.append_column("_i", pa.array(range(len(batch)), type=pa.int64()))
        stage = stage.append_column("_line", pa.array([p.line for p in batch], type=pa.int64()))
        con = self.con
        con.register("_stage_arrow", stage)
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE _stage AS SELECT * FROM _stage_arrow")
        finally:
            con.unregister("_stage_arrow")
        # 1. unresolved references -> quarantine (primary) or skip (secondary)
        for ref in spec.refs:
            missing = (f"""s."{ref.column}" IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM "{ref.table}" t WHERE t."{ref.table_column}" = s."{ref.column}")""")
            bad = con.execute(f'SELECT _i, "{ref.column}" FROM _stage s WHERE {missing}').fetchall()
            if bad:
                for i, value in bad:
                    p = batch[i]
                    if p.primary:
                        self._add_quarantine(p.line, p.raw, target,
                                             unknown_ref_reason(ref.column, value, ref.table),
                                             ref.column)
                    else:
                        self._secondary(target, f"skipped: unknown {ref.column}")
                con.execute(f"DELETE FROM _stage s WHERE {missing}")
        names = ", ".join(f'"{n}"' for n, _ in cols)
        if spec.merge or spec.null_safe_key:
            loaded = self._insert_checked(spec, cols, names, batch)
        else:
            loaded = self._insert_or_ignore(spec, names, batch)
        if target == "posts":
            self._mark_records([p.row["post_id"] for p in pending if p.primary])
        n_primary = sum(1 for i in loaded if batch[i].primary)
        self.report.n_loaded += n_primary
        self._secondary(target, "loaded", len(loaded) - n_primary)
        if target == "posts" and loaded:
            self._insert_entities([batch[i].row for i in loaded])
        con.execute("DROP TABLE IF EXISTS _stage")

    def _mark_records(self, post_ids: list[str]) -> None:
        """A post first loaded embedded in another record (a quoted original, a profile's latest
        status) that now arrives as a record of its own becomes ``collected_as = 'record'``."""
        if self._embedded is None:
            self._embedded = self.con.execute(
                "SELECT count(*) > 0 FROM (SELECT 1 FROM posts WHERE collected_as = 'embedded' "
                "LIMIT 1)").fetchone()[0]
        if not post_ids or not self._embedded:
            return
        self.con.register("_records_arrow", pa.table({"post_id": pa.array(post_ids, pa.string())}))
        try:
            self.con.execute(
                """UPDATE posts SET collected_as = 'record' WHERE collected_as = 'embedded'
                   AND post_id IN (SELECT post_id FROM _records_arrow)""")
        finally:
            self.con.unregister("_records_arrow")

    def _count_duplicates(self, target: str, batch: list[_Pending], dup_idx) -> None:
        for i in dup_idx:
            if batch[i].primary:
                self.report.n_duplicate += 1
            else:
                self._secondary(target, "duplicate")

    def _insert_or_ignore(self, spec: TargetSpec, names: str, batch: list[_Pending]) -> list[int]:
        """Tables with a primary key: let the key's index find duplicates (no table scan)."""
        keys = ", ".join(f'"{k}"' for k in spec.key)
        remaining = [i for (i,) in self.con.execute("SELECT _i FROM _stage ORDER BY _i").fetchall()]
        inserted = self.con.execute(
            f"""INSERT OR IGNORE INTO "{spec.table}" ({names}, run_id, source_line)
                SELECT {names}, ?, _line FROM _stage ORDER BY _i RETURNING {keys}""",
            [self.run_id],
        ).fetchall()
        new = set(map(tuple, inserted))
        loaded, dups = [], []
        for i in remaining:
            key = tuple(batch[i].row.get(k) for k in spec.key)
            (loaded if key in new else dups).append(i)
        self._count_duplicates(spec.table, batch, dups)
        return loaded

    def _insert_checked(self, spec: TargetSpec, cols, names: str, batch: list[_Pending]) -> list[int]:
        """Tables without a usable primary key (NULL-able key parts) or that merge duplicates."""
        con = self.con
        eq = " IS NOT DISTINCT FROM " if spec.null_safe_key else " = "
        cond = " AND ".join(f't."{k}"{eq}s."{k}"' for k in spec.key)
        dups = [i for (i,) in con.execute(
            f'SELECT _i FROM _stage s WHERE EXISTS (SELECT 1 FROM "{spec.table}" t WHERE {cond})'
        ).fetchall()]
        if dups:
            if spec.merge:
                self._merge(spec, cols, batch)
            self._count_duplicates(spec.table, batch, dups)
            con.execute(
                f'DELETE FROM _stage s WHERE EXISTS (SELECT 1 FROM "{spec.table}" t WHERE {cond})'
            )
        loaded = [i for (i,) in con.execute("SELECT _i FROM _stage ORDER BY _i").fetchall()]
        if loaded:
            con.execute(
                f"""INSERT INTO "{spec.table}" ({names}, run_id, source_line)
                    SELECT {names}, ?, _line FROM _stage ORDER BY _i""",
                [self.run_id],
            )
        return loaded

    def _merge(self, spec: TargetSpec, cols: list[tuple[str, str]], batch: list[_Pending]) -> None:
        """Fill NULL columns of existing rows from duplicates that have a value there.

        Keys are never changed and a non-empty value is never overwritten, so re-ingesting the same
        files still changes nothing. The filling run is recorded (``ingest_runs.n_merged``).
        """
        fill = [n for n, _ in cols if n not in spec.key]
        key = " AND ".join(f't."{k}" = s."{k}"' for k in spec.key)
        gap = " OR ".join(f'(t."{c}" IS NULL AND s."{c}" IS NOT NULL)' for c in fill)
        rows = self.con.execute(
            f'SELECT s._i FROM "{spec.table}" t JOIN _stage s ON {key} WHERE {gap}'
        ).fetchall()
        if not rows:
            return
        sets = ", ".join(f'"{c}" = coalesce(t."{c}", s."{c}")' for c in fill)
        self.con.execute(
            f'UPDATE "{spec.table}" AS t SET {sets} FROM _stage s WHERE {key} AND ({gap})'
        )
        n = sum(1 for (i,) in rows if batch[i].primary)
        self.report.n_merged += n
        self._secondary(spec.table, "merged", len(rows) - n)

    def _insert_entities(self, rows: list[dict]) -> None:
        post_ids, kinds, values = [], [], []
        for r in rows:  # entities are unique per post (the mappers de-duplicate them)
            for kind, value in dict.fromkeys(r.get("_entities", ())):
                post_ids.append(r["post_id"])
                kinds.append(kind)
                values.append(value)
        if not post_ids:
            return
        tbl = pa.table({"post_id": post_ids, "kind": kinds, "value": values})
        self.con.register("_ents_arrow", tbl)
        try:
            self.con.execute(
                "INSERT OR IGNORE INTO post_entities SELECT post_id, kind, value, ? FROM _ents_arrow",
                [self.run_id],
            )
        finally:
            self.con.unregister("_ents_arrow")

    def _flush_quarantine(self) -> None:
        if not self._quarantine:
            return
        q = self._quarantine
        self._quarantine = []
        tbl = pa.table({
            "line": pa.array([r[0] for r in q], pa.int64()),
            "raw": pa.array([_clean_text(str(r[1])[:100_000]) for r in q], pa.string()),
            "target": pa.array([r[2] for r in q], pa.string()),
            "field": pa.array([None if r[3] is None else _clean_text(str(r[3])) for r in q],
                              pa.string()),
            "reason": pa.array([_clean_text(str(r[4])) for r in q], pa.string()),
        })
        self.con.register("_q_arrow", tbl)
        try:
            before = self.con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
            self.con.execute(
                """INSERT INTO quarantine
                   SELECT DISTINCT ?, ?, ?, q.line, q.target, q.field, q.reason, q.raw FROM _q_arrow q
                   WHERE NOT EXISTS (SELECT 1 FROM quarantine t WHERE t.sha256 = ?
                     AND t.line IS NOT DISTINCT FROM q.line AND t.target = q.target
                     AND t.reason = q.reason)""",
                [self.run_id, self.report.path, self.report.sha256, self.report.sha256],
            )
            after = self.con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        finally:
            self.con.unregister("_q_arrow")
        self._new_quarantined += after - before

    def _begin(self, started: datetime) -> None:
        from socialens import __version__

        r = self.report
        self.con.execute(
            """INSERT INTO ingest_runs (run_id, started_at, finished_at, source_path, sha256,
                 format, target, timezone, n_read, n_loaded, n_duplicate, n_quarantined,
                 socialens_version, n_merged, options)
               VALUES (?, ?, NULL, ?, ?, ?, ?, ?, 0, 0, 0, 0, ?, 0, ?)""",
            [self.run_id, started, r.path, r.sha256, r.format, r.target, self.timezone,
             __version__,
             json.dumps(self.options, sort_keys=True, default=str) if self.options else None],
        )

    def _abandon(self) -> None:
        """An error or interrupt: keep the run (with its counts so far) if it loaded anything."""
        try:
            self._finish(complete=False)
        except Exception:  # pragma: no cover - the original error matters more
            pass

    def _finish(self, complete: bool = True) -> None:
        r = self.report
        changed = r.n_loaded or r.n_merged or self._new_quarantined or self.options.get(
            "public") or any(
            c.get("loaded") or c.get("merged") for c in r.secondary.values()
        )
        if not changed:
            self.con.execute("DELETE FROM ingest_runs WHERE run_id = ?", [self.run_id])
            return
        self.con.execute(
            f"""UPDATE ingest_runs SET finished_at = {'now()' if complete else 'NULL'},
                  n_read = ?, n_loaded = ?, n_duplicate = ?, n_quarantined = ?, n_merged = ?,
                  options = ?
                WHERE run_id = ?""",
            [r.n_read, r.n_loaded, r.n_duplicate, r.n_quarantined, r.n_merged,
             json.dumps(self.options, sort_keys=True, default=str) if self.options else None,
             self.run_id],
        )
        r.run_id = self.run_id
        r.recorded = True


def reconcile_interrupted(con) -> list[dict[str, Any]]:
    """Mark the ingest runs left unfinished by a crash or a kill, and make their counts add up.

    A run is recorded before its first batch (``finished_at`` NULL) and each batch is committed
    on its own, so a process killed mid-file leaves a run whose rows so far are in the tables but
    whose counts are those of its start. Called when a workspace is opened for writing (no other
    process can be writing then: DuckDB lets one process write a file), every such run gets
    ``n_loaded`` = the rows of its target that point to it (posts: those loaded as records),
    ``n_quarantined`` = at least its quarantine rows, ``n_read`` = the sum, and
    ``options.interrupted`` = when this was found (``finished_at`` stays NULL: it never
    finished). Re-running the ingest of the file loads the rest (its loaded rows count as
    duplicates then). Returns the reconciled runs (``run_id``, ``source_path``, counts).
    """
    rows = con.execute(
        """SELECT run_id, source_path, target, n_duplicate, n_quarantined, n_merged FROM ingest_runs
           WHERE finished_at IS NULL AND (options IS NULL OR json_extract(options, '$.interrupted')
           IS NULL)""").fetchall()
    done = []
    for run_id, path, target, n_dup, n_q, n_merged in rows:
        table = TARGETS[target].table if target in TARGETS else None
        if table is None:
            continue
        record = " AND coalesce(collected_as, 'record') = 'record'" if table == "posts" else ""
        loaded = con.execute(f'SELECT count(*) FROM "{table}" WHERE run_id = ?{record}',
                             [run_id]).fetchone()[0]
        quarantined = max(n_q, con.execute("SELECT count(*) FROM quarantine WHERE run_id = ?",
                                           [run_id]).fetchone()[0])
        note = {"interrupted": datetime.now(UTC).isoformat(timespec="seconds")}
        con.execute(
            """UPDATE ingest_runs SET n_loaded = ?, n_quarantined = ?, n_read = ? + ? + n_duplicate,
                 options = json_merge_patch(coalesce(options, '{}'::JSON), ?::JSON)
               WHERE run_id = ?""",
            [loaded, quarantined, loaded, quarantined, json.dumps(note), run_id])
        done.append({"run_id": run_id, "source_path": path, "target": target, "n_loaded": loaded,
                     "n_duplicate": n_dup, "n_quarantined": quarantined, "n_merged": n_merged})
    return done
