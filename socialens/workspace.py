"""The workspace: one DuckDB file holding an organization's roster, accounts, posts and networks.

A :class:`Workspace` is a thin handle over the documented schema (``docs/data_format.md``), in the
manner of sqlite-utils' ``Database``: a DuckDB connection, ibis tables for set-based work, pandas
DataFrames for small results, and explicit transactions. Opening a workspace applies pending
migrations and writes nothing outside the file.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from socialens.errors import WorkspaceError
from socialens.schema import applied_migrations, migrate, pending_migrations

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pandas as pd

__all__ = ["Workspace", "open_workspace", "default_workspace_path", "storage_error_message",
           "TABLES", "LOCK_WAIT"]

#: Seconds a write open waits while other processes hold the workspace *read-only* (e.g.
#: ``serve`` copying it for a moment, see :mod:`socialens.serve_copy`) before it gives up
#: (``$SOCIALENS_LOCK_WAIT``). A write open blocked by another writer gives up at once.
LOCK_WAIT = float(os.environ.get("SOCIALENS_LOCK_WAIT") or 3.0)
_log = logging.getLogger("socialens")
#: what :meth:`Workspace.table`'s kept expressions depend on: every table and view (the privacy
#: boundary's temporary views included, ibis's own in-memory tables left out) with its catalog id
#: and column count, which a CREATE, DROP or ALTER changes
_CATALOG_FINGERPRINT = (
    "SELECT database_name, schema_name, table_name, table_oid, column_count FROM duckdb_tables() "
    "WHERE NOT starts_with(table_name, 'ibis_') UNION ALL "
    "SELECT database_name, schema_name, view_name, view_oid, column_count FROM duckdb_views() "
    "WHERE NOT internal AND NOT starts_with(view_name, 'ibis_') ORDER BY ALL")

#: The data tables of the workspace, in load order.
TABLES = (
    "people",
    "roles",
    "accounts",
    "account_snapshots",
    "posts",
    "post_entities",
    "edges",
    "ingest_runs",
    "quarantine",
)


def default_workspace_path() -> Path:
    """``$SOCIALENS_WORKSPACE`` if set, else ``socialens.duckdb`` in the current folder."""
    return Path(os.environ.get("SOCIALENS_WORKSPACE") or "socialens.duckdb")


class Workspace:
    """An open workspace.

    Parameters
    ----------
    path : str or Path
        The DuckDB file. Created (with the current schema) if it does not exist, unless
        ``read_only``.
    read_only : bool
        Open without the right to write; the file must exist and be fully migrated.

    Examples
    --------
    >>> import socialens, tempfile, os
    >>> ws = socialens.open(os.path.join(tempfile.mkdtemp(), "org.duckdb"))
    >>> ws.count("people")
    0
    >>> ws.close()
    """

    def __init__(self, path: str | os.PathLike, *, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise WorkspaceError(
                f"no workspace at {self.path}; create one with `socialens init -w {self.path}`"
            )
        if not read_only and not self.path.parent.exists():
            raise WorkspaceError(
                f"the folder {self.path.parent} does not exist; create it first or choose another "
                "--workspace path"
            )
        self.con = _connect(self.path, read_only)
        self.con.execute("SET TimeZone = 'UTC'")
        if read_only:
            pending = pending_migrations(self.con)
            if pending:
                self.con.close()
                raise WorkspaceError(
                    f"{self.path} needs migrations {pending}; open it once without read_only "
                    "(e.g. `socialens init`) to upgrade it"
                )
        else:
            migrate(self.con)
        #: ingest runs a crash or kill left unfinished, marked and reconciled by this open
        #: (:func:`socialens.ingest.loader.reconcile_interrupted`)
        self.interrupted: list[dict] = []
        if not read_only and self.con.execute(
                "SELECT count(*) FROM ingest_runs WHERE finished_at IS NULL").fetchone()[0]:
            from socialens.ingest.loader import reconcile_interrupted

            self.interrupted = reconcile_interrupted(self.con)
        self._ibis = None
        self._tables: dict[str, ir.Table] = {}
        self._tables_fingerprint: list | None = None
        #: why the last serve copy could not be published (None: published or not needed)
        self.serve_copy_error: str | None = None

    # -- basics -------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<Workspace {str(self.path)!r}>"

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent). A workspace open for writing first publishes a
        serve copy if ``socialens serve`` keeps one (:mod:`socialens.serve_copy`)."""
        if self.con is not None:
            if not self.read_only:
                self.refresh_serve_copy()
            self.con.close()
            self.con = None
            self._ibis = None
            self._tables, self._tables_fingerprint = {}, None

    @property
    def migrations(self) -> list[str]:
        """Names of the migrations applied to this workspace."""
        return applied_migrations(self.con)

    # -- reading ------------------------------------------------------------------------------
    def sql(self, query: str, params: list | dict | None = None) -> pd.DataFrame:
        """Run a query and return a pandas DataFrame (times are UTC-aware)."""
        return self.con.execute(query, params or []).df()

    def df(self, table: str) -> pd.DataFrame:
        """A whole table as a DataFrame (for small tables; use :meth:`table` for big ones)."""
        self._check_table(table)
        return self.sql(f'SELECT * FROM "{table}"')

    def count(self, table: str) -> int:
        """Number of rows in a table."""
        self._check_table(table)
        return self.con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]

    def counts(self) -> dict[str, int]:
        """Row counts of every data table."""
        return {t: self.count(t) for t in self.table_names()}

    def table_names(self) -> list[str]:
        rows = self.con.execute(
            "SELECT DISTINCT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            # ibis registers in-memory tables as temporary views: they are not the workspace's
            "AND NOT (table_catalog = 'temp' AND starts_with(table_name, 'ibis_')) "
            "ORDER BY table_name"
        ).fetchall()
        return [r[0] for r in rows]

    def table(self, name: str) -> ir.Table:
        """A lazy ibis table expression, for set-based work that also runs on other backends.

        The expressions are kept while the catalog is unchanged (the same tables and views with
        the same ids and column counts, one query of DuckDB's catalog functions): checking the
        name against ``information_schema`` and asking ibis for the schema cost about 10 ms a
        call, and an analysis asks for nine tables (BENCHMARKS.md, issue 14 item 4)."""
        fingerprint = self.con.execute(_CATALOG_FINGERPRINT).fetchall()
        if fingerprint != self._tables_fingerprint:
            self._tables, self._tables_fingerprint = {}, fingerprint
        t = self._tables.get(name)
        if t is None:
            self._check_table(name)
            t = self._tables[name] = self.ibis.table(name)
        return t

    @property
    def ibis(self):
        """The ibis backend over this workspace's connection (created on first use)."""
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con)
            self._ibis.execute = _arrow_execute(self._ibis)
        return self._ibis

    def _check_table(self, name: str) -> None:
        if name not in self.table_names():
            raise WorkspaceError(
                f"no table {name!r} in {self.path}; tables are {', '.join(self.table_names())}"
            )

    # -- writing ------------------------------------------------------------------------------
    def ingest(self, *paths, timezone: str | None = None, format: str | None = None, **options):
        """Ingest files or folders; see :func:`socialens.ingest.ingest_paths` (``options``:
        ``public``, ``mapping``, ``platform``, ``account``, ``account_from_filename``)."""
        from socialens.ingest import ingest_paths

        return ingest_paths(self, list(paths), timezone=timezone, format=format, **options)

    def refresh_serve_copy(self, *, force: bool = True) -> None:
        """Publish the committed state for ``socialens serve`` if it keeps a copy of this
        workspace (``WORKSPACE.serve/``); ``force=False`` at most every
        :data:`socialens.serve_copy.MIN_INTERVAL` seconds. A copy that cannot be written (no
        space, a read-only folder) is logged and recorded in :attr:`serve_copy_error`; the
        workspace is not affected and the next writer tries again."""
        from socialens import serve_copy

        try:
            serve_copy.publish(self, force=force)
            self.serve_copy_error = None
        except (OSError, duckdb.Error) as exc:
            d = serve_copy.copy_dir(self.path)
            self.serve_copy_error = (
                f"the copy `socialens serve` reads ({d}) was not refreshed: "
                f"{storage_error_message(exc, d) or exc}. The workspace itself is fine; "
                "`socialens serve` shows the previous state until a later command that writes "
                "the workspace (e.g. `socialens init`) refreshes it.")
            _log.warning("Warning: %s", self.serve_copy_error)

    # -- transactions -----------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """``with ws.transaction() as con:`` — commit on success, roll back on error."""
        if self.read_only:
            raise WorkspaceError(f"{self.path} is open read-only")
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException as exc:
            try:
                self.con.execute("ROLLBACK")
            except duckdb.Error:  # e.g. the write failed for lack of space and DuckDB gave up
                pass
            msg = storage_error_message(exc, self.path) if isinstance(exc, Exception) else None
            if msg is not None:
                raise WorkspaceError(msg) from exc
            raise
        try:
            self.con.execute("COMMIT")
        except duckdb.Error as exc:
            msg = storage_error_message(exc, self.path)
            if msg is None:
                raise
            try:
                self.con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise WorkspaceError(msg) from exc


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, waiting up to :data:`LOCK_WAIT` seconds while only readers hold the
    file; DuckDB's errors become a :class:`WorkspaceError` saying what to do."""
    deadline = time.monotonic() + LOCK_WAIT
    pause = 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            held_by_readers = (not read_only and _LOCK.search(str(exc))
                               and "would be able to open this database in read-only mode"
                               in str(exc))
            if held_by_readers and time.monotonic() + pause < deadline:
                time.sleep(pause)
                pause = min(pause * 2, 0.25)
                continue
            raise WorkspaceError(_open_error_message(path, read_only, exc)) from exc


def _arrow_execute(backend):
    """ibis's DuckDB ``execute`` (``expr.to_pandas()``) with the same result, faster.

    ibis turns every Arrow column that holds a null into Python objects (``to_pylist``) before
    its pandas conversion; for a timestamp column of 180,000 people that is a Python ``datetime``
    per row, then ``pd.to_datetime`` of them all — a fifth of an analysis' time at 10^6 posts.
    Here string columns with nulls go through Arrow's own conversion (the same object array of
    ``str`` and ``None``) and UTC timestamps with nulls through Arrow's too, at the nanosecond
    resolution ibis's path gives them; every other column is converted exactly as ibis does.
    ``tests/test_workspace.py`` checks frame equality, dtypes included, against ibis's own
    ``execute`` for each column type with and without nulls.
    """
    import pyarrow.types as pat

    def execute(expr, /, *, params=None, limit=None, **kwargs):
        import pandas as pd
        from ibis.backends.duckdb.converter import DuckDBPandasData

        table = backend._to_duckdb_relation(expr, params=params, limit=limit,
                                            **kwargs).to_arrow_table()
        cols = {}
        for name, col in zip(table.column_names, table.columns, strict=True):
            t = col.type
            if pat.is_nested(t) or pat.is_dictionary(t):
                cols[name] = col.to_pylist()
            elif not col.null_count or pat.is_string(t) or pat.is_large_string(t):
                cols[name] = col.to_pandas()
            elif pat.is_timestamp(t) and t.tz is not None:
                cols[name] = col.to_pandas().astype(f"datetime64[ns, {t.tz}]")
            else:
                cols[name] = col.to_pylist()
        df = DuckDBPandasData.convert_table(pd.DataFrame(cols), expr.as_table().schema())
        return expr.__pandas_result__(df)

    return execute


_NO_SPACE = ("No space left on device", "Disk quota exceeded")
_READ_ONLY_FS = ("Read-only file system",)
_NO_PERMISSION = ("Permission denied", "Operation not permitted")


def _free_space(path: Path) -> str:
    folder = path if path.is_dir() else path.parent
    try:
        st = os.statvfs(folder if str(folder) else ".")
    except OSError:
        return ""
    free = st.f_bavail * st.f_frsize
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if free < 1024 or unit == "TB":
            return f" ({free:.0f} {unit} free)" if unit == "bytes" else f" ({free:.1f} {unit} free)"
        free /= 1024
    return ""  # pragma: no cover


def storage_error_message(exc: BaseException, path: str | os.PathLike | None) -> str | None:
    """The message for a disk-full, read-only or permission error while writing ``path`` (a
    workspace, or a folder beside it), naming the cause and the fix; None for any other error.

    DuckDB reports these as ``IOException``, ``TransactionException`` ("Failed to commit: Could
    not write file ...: No space left on device") or ``FatalException`` (after which the
    database is invalidated in this process); Python as ``OSError`` with ``ENOSPC``, ``EDQUOT``,
    ``EROFS``, ``EACCES`` or ``EPERM``.
    """
    if isinstance(exc, WorkspaceError):
        return None
    text = str(exc)
    code = getattr(exc, "errno", None) if isinstance(exc, OSError) else None
    if path is None:
        named = getattr(exc, "filename", None) or (m[1] if (m := re.search(
            r'file "([^"]+)"', text)) else None)
        path = named or "."
    where = Path(path)
    is_duck = isinstance(exc, duckdb.Error)
    if not (is_duck or isinstance(exc, OSError)):
        return None
    if code in (errno.ENOSPC, errno.EDQUOT) or any(s in text for s in _NO_SPACE):
        return (
            f"the disk holding {where} is full{_free_space(where)}: "
            f"{_short(text)}. Nothing was half-written: the transaction being written was rolled "
            "back, and an ingest run cut short is completed or accounted for the next time the "
            "workspace is opened for writing. Free some space on that disk (or move the "
            "workspace to a disk with room and pass that path with -w), then run the same "
            "command again."
        )
    new = where.suffix == ".duckdb" and not where.exists()
    if code == errno.EROFS or any(s in text for s in _READ_ONLY_FS):
        if new:
            return (f"{where} is on a read-only file system, so no workspace can be created "
                    f"there: {_short(text)}. Create the workspace in a writable folder instead "
                    "(pass that path with -w), or remount the file system read-write.")
        return (
            f"{where} is on a read-only file system, so nothing can be written there: "
            f"{_short(text)}. Commands that only read (status, analyze, report, export, sql, "
            f"serve) work on it as it is. To write, copy the workspace to a writable folder "
            f"(`cp {where} /some/writable/folder/`) and pass the copy with -w, or remount the "
            "file system read-write."
        )
    if code in (errno.EACCES, errno.EPERM) or any(s in text for s in _NO_PERMISSION):
        if new:
            return (f"no permission to create {where}: {_short(text)}. Create the workspace in "
                    "a folder you can write to instead (pass that path with -w), or ask for "
                    "write permission on that folder.")
        return (
            f"no permission to write {where} (or the folder it is in, where DuckDB keeps its "
            f"write-ahead log): {_short(text)}. Commands that only read (status, analyze, report, "
            "export, sql, serve) work on it as it is. To write, run as the user who owns it, "
            f"give yourself write permission on the file and its folder (`chmod u+w`), or copy "
            "it to a folder of yours and pass the copy with -w."
        )
    return None


def _short(text: str) -> str:
    """DuckDB's message without its error-class prefixes."""
    text = re.sub(r"^(?:[A-Za-z ]*(?:Error|Exception)(?: Error)?: )+", "", text.strip())
    text = text.split("\n", 1)[0].rstrip(".")
    return text if len(text) <= 300 else text[:297] + "..."


_LOCK = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def _open_error_message(path: Path, read_only: bool, exc: Exception) -> str:
    """What went wrong opening ``path``, and what to do, from DuckDB's error.

    DuckDB lets one process open a file for writing, or several processes open it read-only, never
    both: while a notebook holds a workspace open for writing, no other process can open it at all,
    not even read-only. DuckDB's lock message names the holder's program and PID.
    """
    text = str(exc)
    lock = _LOCK.search(text)
    if lock:
        holder = f"{lock['program']} (PID {lock['pid']})"
        if "would be able to open this database in read-only mode" in text:
            return (
                f"{path} is open read-only in another process, {holder}, so it cannot be opened "
                f"for writing (waited {LOCK_WAIT:g} s). Close it there (`ws.close()` in a "
                "notebook; a `socialens serve` that said it serves the workspace itself, because "
                "it could not keep a copy beside it, must be stopped) and run the command again; "
                "commands that only read (analyze, report, export, status, sql...) can run "
                "alongside it."
            )
        if read_only:
            return (
                f"{path} is locked: another process, {holder}, has it open for writing, and "
                "DuckDB lets no other process open it meanwhile, not even read-only. If that is "
                "a notebook, close the workspace there with `ws.close()`, or open it there with "
                f"`socialens.open({str(path)!r}, read_only=True)` (read-only commands such as "
                "analyze, report, export, status and sql then run alongside it); then run this "
                "command again."
            )
        return (
            f"{path} is locked: another process, {holder}, has it open for writing, and only "
            "one process can write to a workspace at a time. If that is a notebook, close the "
            "workspace there with `ws.close()`, then run this command again."
        )
    storage = storage_error_message(exc, path)
    if storage is not None:
        return storage
    if "different configuration" in text:
        mode = "read-only" if read_only else "for writing"
        return (
            f"cannot open {path} {mode}: this process already has it open in the other mode. "
            "Close the other workspace object first (`ws.close()`), or open both the same way."
        )
    return (
        f"cannot open {path} as a workspace: {text}. Is it a DuckDB file, and is another process "
        "writing to it?"
    )


def open_workspace(path: str | os.PathLike | None = None, *, read_only: bool = False) -> Workspace:
    """Open (or create) a workspace; ``path`` defaults to :func:`default_workspace_path`."""
    return Workspace(path if path is not None else default_workspace_path(), read_only=read_only)
