"""Serve beside writers: read-only copies of a workspace that writers refresh atomically.

DuckDB lets one process open a file for writing *or* several processes open it read-only, never
both (measured with DuckDB 1.5.6: while one process has the file open for writing, a read-only
open elsewhere fails with "Conflicting lock", and while any process has it open read-only, a
write open fails). So ``socialens serve`` cannot read the workspace while ``ingest``, ``collect``
or ``enrich`` write it, and cannot keep it open without locking them out.

Instead ``serve`` reads a **serve copy**: a complete DuckDB file in the folder ``WORKSPACE.serve/``
beside the workspace, one file per generation (``000000000001.duckdb``, ``000000000002.duckdb``
...). The folder is created by the first ``serve``; from then on every process that writes the
workspace (any :class:`~socialens.workspace.Workspace` opened for writing) publishes a new
generation after each finished ingest run (at most one every :data:`MIN_INTERVAL` seconds) and
when it closes the workspace, if anything changed and no ingest run was cut short (that one is
published by the next writing open, which reconciles it):

1. ``CHECKPOINT`` (the database file then holds every committed transaction, the WAL is empty;
   the writer still holds the lock, so nothing changes the file meanwhile),
2. copy the file to ``.tmp-<pid>-<random>.duckdb`` in the folder, ``fsync`` it,
3. ``link`` it to the next generation's name (atomic, never replaces a file), remove the
   temporary name, ``fsync`` the folder,
4. remove generations older than the newest :data:`KEEP` and temporary files of dead processes.

A generation file is therefore always whole: the state after a committed run, never a half run.
``serve`` (:class:`Follower`) opens the newest generation read-only, checks the folder at most every
``poll`` seconds, and when a newer generation appears, loads it in a background thread and then
swaps it in; requests keep being answered from the previous copy meanwhile, and every request is
answered from one copy from start to end. Each generation has its own file name, because DuckDB
caches open databases by path within a process: re-opening a replaced file under the same name
in the same process returns the old, cached database (measured). A generation removed while
``serve`` still has it open stays readable (POSIX unlink semantics) until ``serve`` lets it go.

When ``serve`` starts and the newest copy is older than the workspace (or there is none), it
makes one itself: it opens the workspace read-only for the time of the copy (a byte copy; or
DuckDB's ``COPY FROM DATABASE`` when a WAL left by a crashed writer holds transactions the file
does not) — a writer that starts in that instant waits for it (see
:data:`socialens.workspace.LOCK_WAIT`). If a writer holds the workspace at that moment, ``serve``
serves the newest copy there is (the writer publishes a new one when it finishes), or, with none
yet, says so. If the folder cannot be written (a read-only file system, no space), ``serve``
opens the workspace itself, read-only, as before, and says that writers must wait for it to stop.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["SUFFIX", "KEEP", "MIN_INTERVAL", "copy_dir", "generations", "latest", "is_stale",
           "publish", "prepare", "Follower"]

log = logging.getLogger("socialens.serve")

#: The folder of serve copies is ``<workspace file name> + SUFFIX``, beside the workspace.
SUFFIX = ".serve"
#: Generations kept after a new one is published (the newest and the one before it, which a
#: ``serve`` may be about to open).
KEEP = 2
#: Least time (seconds) between two copies published by one writer after finished ingest runs
#: (``$SOCIALENS_SERVE_COPY_INTERVAL``); closing the workspace always publishes.
MIN_INTERVAL = float(os.environ.get("SOCIALENS_SERVE_COPY_INTERVAL") or 2.0)

#: ingest runs left unfinished and not yet reconciled (socialens.ingest.loader.reconcile_interrupted)
_CUT_SHORT = ("SELECT count(*) FROM ingest_runs WHERE finished_at IS NULL AND (options IS NULL OR "
              "json_extract(options, '$.interrupted') IS NULL)")
_GEN = re.compile(r"^(\d{12})\.duckdb$")
_TMP = re.compile(r"^\.tmp-(\d+)-[0-9a-f]+\.duckdb(\.wal)?$")


def copy_dir(workspace: str | os.PathLike) -> Path:
    """The folder of serve copies of ``workspace``: ``WORKSPACE.serve/``."""
    p = Path(workspace)
    return p.with_name(p.name + SUFFIX)


def generations(workspace: str | os.PathLike) -> list[tuple[int, Path]]:
    """The complete copies, oldest first, as ``(generation, path)``."""
    d = copy_dir(workspace)
    try:
        names = os.listdir(d)
    except OSError:
        return []
    out = [(int(m[1]), d / n) for n in names if (m := _GEN.match(n))]
    return sorted(out)


def latest(workspace: str | os.PathLike) -> Path | None:
    """The newest complete copy, or None."""
    gens = generations(workspace)
    return gens[-1][1] if gens else None


def _mtime(path: Path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def is_stale(workspace: str | os.PathLike) -> bool:
    """Whether the workspace holds changes the newest copy does not: there is no copy, or the
    workspace file or its WAL was written after the newest copy was made."""
    p = Path(workspace)
    newest = latest(p)
    made = _mtime(newest) if newest is not None else None
    if made is None:
        return True
    ws, wal = _mtime(p), _mtime(_wal(p))
    return (ws is not None and ws > made) or (wal is not None and wal > made
                                              and os.path.getsize(_wal(p)) > 0)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's process
        return True
    return True


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. a platform without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _prune(d: Path, keep: int = KEEP) -> None:
    gens = generations(d.with_name(d.name[: -len(SUFFIX)]))
    for _, path in gens[:-keep] if keep else gens:
        try:
            path.unlink()
        except OSError:  # pragma: no cover - removed by another writer meanwhile
            pass
    try:
        names = os.listdir(d)
    except OSError:  # pragma: no cover
        return
    for n in names:
        m = _TMP.match(n)
        if m and not _pid_alive(int(m[1])):
            try:
                (d / n).unlink()
            except OSError:  # pragma: no cover
                pass


def _file_mode(workspace: Path) -> int:
    try:
        return os.stat(workspace).st_mode & 0o777
    except OSError:  # pragma: no cover - the workspace vanished
        return 0o600


def _make_dir(workspace: Path) -> Path:
    """The copy folder, readable by whoever may read the workspace (a copy holds the same personal
    data), e.g. 0700 for a 0600 workspace."""
    d = copy_dir(workspace)
    mode = _file_mode(workspace)
    dir_mode = mode | ((mode & 0o444) >> 2) | 0o700
    if not d.is_dir():
        d.mkdir(mode=dir_mode)
        os.chmod(d, dir_mode)  # mkdir's mode is filtered by the umask
    return d


def _copy_file(src: Path, tmp: Path) -> None:
    """Copy ``src`` to the new file ``tmp``, which nobody but its owner can read meanwhile."""
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    shutil.copyfile(src, tmp)


def _install(d: Path, fill: Callable[[Path], None]) -> Path:
    """Write a new generation with ``fill(tmp_path)`` and give it the next generation's name; it
    gets the workspace's permission bits."""
    workspace = d.with_name(d.name[: -len(SUFFIX)])
    tmp = d / f".tmp-{os.getpid()}-{secrets.token_hex(4)}.duckdb"
    try:
        fill(tmp)
        os.chmod(tmp, _file_mode(workspace))
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        gens = generations(d.with_name(d.name[: -len(SUFFIX)]))
        gen = gens[-1][0] + 1 if gens else 1
        while True:
            final = d / f"{gen:012d}.duckdb"
            try:
                os.link(tmp, final)  # atomic, and never replaces a copy someone has open
                break
            except FileExistsError:
                gen += 1
    finally:
        for leftover in (tmp, _wal(tmp)):
            try:
                leftover.unlink()
            except FileNotFoundError:
                pass
    _fsync_dir(d)
    _prune(d)
    return final


def publish(ws: Any, *, force: bool = True) -> Path | None:
    """Publish a serve copy of ``ws`` (open for writing) if a ``serve`` copy folder exists and the
    workspace changed since the newest copy; returns the new copy's path, else None.

    ``force=False`` (after each finished ingest run) publishes at most once every
    :data:`MIN_INTERVAL` seconds per workspace handle; the skipped change is published by a later
    run or when the workspace is closed. Errors writing the copy (no space, a read-only folder)
    are raised as :class:`OSError`; the workspace itself is untouched by them.
    """
    import duckdb

    d = copy_dir(ws.path)
    if ws.read_only or ws.con is None or not d.is_dir():
        return None
    now = time.monotonic()
    if not force and now - getattr(ws, "_serve_copy_at", float("-inf")) < MIN_INTERVAL:
        return None
    try:
        if ws.con.execute(_CUT_SHORT).fetchone()[0]:
            return None  # a run cut short here: published once the next open has reconciled it
        ws.con.execute("CHECKPOINT")
    except duckdb.Error:  # e.g. another transaction of this process is open: publish later
        return None
    if not is_stale(ws.path):
        return None
    path = _install(d, lambda tmp: _copy_file(ws.path, tmp))
    ws._serve_copy_at = now
    return path


def _lock_held(exc: Exception) -> bool:
    return "Conflicting lock" in str(exc)


def prepare(workspace: str | os.PathLike) -> tuple[Path | None, str | None]:
    """For ``serve``: make sure a current serve copy of ``workspace`` exists.

    Returns ``(copy, None)`` with the copy to serve, or ``(None, reason)`` when no copy can be
    kept beside the workspace (the caller then serves the workspace itself, read-only). Raises
    :class:`~socialens.errors.WorkspaceError` when there is no workspace, or a writer holds it and
    no copy exists yet.
    """
    import duckdb

    from socialens.errors import WorkspaceError
    from socialens.schema import pending_migrations
    from socialens.workspace import _open_error_message, storage_error_message

    p = Path(workspace)
    if not p.exists():
        raise WorkspaceError(f"no workspace at {p}; create one with `socialens init -w {p}`")
    d = copy_dir(p)
    try:
        _make_dir(p)
        probe = d / f".tmp-{os.getpid()}-{secrets.token_hex(4)}.duckdb"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        return None, f"cannot write {d} ({exc.strerror or exc})"
    if not is_stale(p):
        return latest(p), None
    try:
        con = duckdb.connect(str(p), read_only=True)
    except duckdb.Error as exc:
        newest = latest(p)
        if _lock_held(exc) and newest is not None:
            log.info("%s is being written; serving its newest copy %s", p, newest.name)
            return newest, None
        msg = _open_error_message(p, True, exc)
        if _lock_held(exc):
            msg += (" `socialens serve` can run beside writers once it has a copy of the "
                    "workspace: start it again when that process is done (later writers then "
                    "refresh the copy).")
        raise WorkspaceError(msg) from exc
    try:
        pending = pending_migrations(con)
        if pending:
            raise WorkspaceError(f"{p} needs migrations {pending}; run `socialens init -w {p}` "
                                 "to upgrade it")
        wal = _wal(p)
        if wal.exists() and wal.stat().st_size > 0:
            # a crashed writer's WAL: the file alone lacks its transactions; DuckDB writes them out
            def fill(tmp: Path) -> None:
                db = con.execute("SELECT current_database()").fetchone()[0]
                con.execute(f"ATTACH '{tmp}' AS socialens_serve_copy (READ_WRITE)")
                try:
                    con.execute(f'COPY FROM DATABASE "{db}" TO socialens_serve_copy')
                finally:
                    con.execute("DETACH socialens_serve_copy")
        else:
            def fill(tmp: Path) -> None:
                _copy_file(p, tmp)
        try:
            return _install(d, fill), None
        except (OSError, duckdb.Error) as exc:
            newest = latest(p)
            why = storage_error_message(exc, d) or str(exc)
            if newest is not None:
                log.warning("could not refresh the serve copy (%s); serving %s", why, newest)
                return newest, None
            return None, why
    finally:
        con.close()


class Follower:
    """The newest serve copy of a workspace, loaded into a state object and swapped when a newer
    copy appears.

    Parameters
    ----------
    workspace : path
        The workspace (not a copy).
    load : callable
        ``load(ws)`` builds the state served from an open, read-only workspace handle (whose
        ``path`` is the workspace's, not the copy's).
    poll : float
        Least seconds between two looks at the copy folder.
    """

    def __init__(self, workspace: str | os.PathLike, load: Callable[[Any], Any], *,
                 poll: float = 0.5):
        self.source = Path(workspace)
        self.load = load
        self.poll = poll
        copy, self.direct_reason = prepare(self.source)
        #: the copy being served (None: the workspace itself, read-only)
        self.copy: Path | None = copy
        self._state = self._load(copy)
        self._checked = time.monotonic()
        self._lock = threading.Lock()
        self._loading: threading.Thread | None = None
        self._failed: set[Path] = set()
        #: copies swapped in since the start
        self.swaps = 0

    def _load(self, copy: Path | None):
        from socialens.workspace import Workspace

        ws = Workspace(copy if copy is not None else self.source, read_only=True)
        try:
            ws.path = self.source  # names, the report and the study key refer to the workspace
            ws.copy = copy
            return self.load(ws)
        except BaseException:
            ws.close()
            raise

    def current(self):
        """The state to answer a request with (starts loading a newer copy when there is one)."""
        if self.copy is not None and time.monotonic() - self._checked >= self.poll:
            self._checked = time.monotonic()
            newest = latest(self.source)
            if newest is not None and newest != self.copy and newest not in self._failed:
                with self._lock:
                    if self._loading is None:
                        self._loading = threading.Thread(target=self._swap, args=(newest,),
                                                         name="socialens-serve-copy",
                                                         daemon=True)
                        self._loading.start()
        return self._state

    def refresh(self) -> bool:
        """Load and swap in the newest copy now (in this thread); whether it changed."""
        if self.copy is None:
            return False
        loading = self._loading
        if loading is not None:  # a swap in the background: let it finish first
            loading.join()
        newest = latest(self.source)
        if newest is None or newest == self.copy:
            return False
        return self._swap(newest)

    def _swap(self, newest: Path) -> bool:
        try:
            state = self._load(newest)
        except Exception as exc:  # noqa: BLE001 - keep serving the copy there is
            log.warning("cannot load the serve copy %s (%s); still serving %s", newest, exc,
                        self.copy)
            self._failed.add(newest)
            with self._lock:
                self._loading = None
            return False
        self.swaps += 1
        self._state, self.copy = state, newest  # readers see the old state or the new one
        with self._lock:
            self._loading = None
        log.info("serving %s", newest.name)
        return True
