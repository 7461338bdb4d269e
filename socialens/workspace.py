"""The workspace: one DuckDB file holding an organization's roster, accounts, posts and networks.

A :class:`Workspace` is a thin handle over the documented schema (``docs/data_format.md``), in the
manner of sqlite-utils' ``Database``: a DuckDB connection, ibis tables for set-based work, pandas
DataFrames for small results, and explicit transactions. Opening a workspace applies pending
migrations and writes nothing outside the file.
"""

from __future__ import annotations

import os
import re
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

__all__ = ["Workspace", "open_workspace", "default_workspace_path", "TABLES"]

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
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise WorkspaceError(_open_error_message(self.path, read_only, exc)) from exc
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

    # -- basics -------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<Workspace {str(self.path)!r}>"

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self.con is not None:
            self.con.close()
            self.con = None
            self._ibis = None

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
            "ORDER BY table_name"
        ).fetchall()
        return [r[0] for r in rows]

    def table(self, name: str) -> ir.Table:
        """A lazy ibis table expression, for set-based work that also runs on other backends."""
        self._check_table(name)
        return self.ibis.table(name)

    @property
    def ibis(self):
        """The ibis backend over this workspace's connection (created on first use)."""
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con)
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

    # -- transactions -----------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """``with ws.transaction() as con:`` — commit on success, roll back on error."""
        if self.read_only:
            raise WorkspaceError(f"{self.path} is open read-only")
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")


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
                "for writing. Close it there (`ws.close()` in a notebook) and run the command "
                "again; commands that only read (analyze, report, export, status, sql...) can run "
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
