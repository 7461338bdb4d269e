"""Collection state: where the last collection of each account stopped (table ``collect_state``).

A *sweep* pages an account's posts from the newest down to the newest post of the previous complete
sweep (the high-water mark ``newest_post_*``). While a sweep is in progress the state holds its
first (newest) post (``sweep_newest_*``) and the cursor of the next older page (``cursor``); both are
written after every raw page is on disk. A run that dies therefore leaves a cursor, and the next run
first finishes that sweep from the cursor down to the old high-water mark, then moves the mark up to
``sweep_newest`` and starts a new sweep for what was posted since.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from socialens.workspace import Workspace

__all__ = ["AccountState", "StateStore"]


@dataclass
class AccountState:
    """One row of ``collect_state`` (see ``docs/data_format.md``)."""

    platform: str
    account_id: str
    native_id: str | None = None
    server: str | None = None
    newest_post_id: str | None = None
    newest_post_at: datetime | None = None
    sweep_newest_id: str | None = None
    sweep_newest_at: datetime | None = None
    cursor: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    status: str | None = None
    note: str | None = None
    last_run_at: datetime | None = None
    last_ok_at: datetime | None = None


_COLS = [f.name for f in fields(AccountState)]


class StateStore:
    """Reads and writes ``collect_state`` rows of one workspace (each write is committed at once)."""

    def __init__(self, ws: Workspace, platform: str):
        self.ws = ws
        self.platform = platform

    def get(self, account_id: str) -> AccountState:
        row = self.ws.con.execute(
            f"SELECT {', '.join(_COLS)} FROM collect_state WHERE platform = ? AND account_id = ?",
            [self.platform, account_id],
        ).fetchone()
        if row is None:
            return AccountState(self.platform, account_id)
        return AccountState(**dict(zip(_COLS, row, strict=True)))

    def update(self, account_id: str, **changes: Any) -> AccountState:
        """Set the given columns (others unchanged) and return the new state."""
        unknown = set(changes) - set(_COLS)
        if unknown:
            raise KeyError(f"not collect_state columns: {sorted(unknown)}")
        st = self.get(account_id)
        for k, v in changes.items():
            setattr(st, k, v)
        values = [getattr(st, c) for c in _COLS]
        self.ws.con.execute(
            f"INSERT OR REPLACE INTO collect_state ({', '.join(_COLS)}) "
            f"VALUES ({', '.join('?' for _ in _COLS)})",
            values,
        )
        return st

    def all(self) -> list[AccountState]:
        rows = self.ws.con.execute(
            f"SELECT {', '.join(_COLS)} FROM collect_state WHERE platform = ? ORDER BY account_id",
            [self.platform],
        ).fetchall()
        return [AccountState(**dict(zip(_COLS, r, strict=True))) for r in rows]
