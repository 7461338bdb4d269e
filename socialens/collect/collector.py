"""The platform-independent part of a collection run.

A run (``Collector.run``) reads the roster accounts of one platform from the workspace, and for each
account: fetches its profile (a dated counter snapshot), the posts since the last collection (a
*sweep*, see :mod:`socialens.collect.state`) and whom it follows. Every page is written to the run's
raw JSONL files before the state moves on; at the end — also when the run stops on an error or an
interrupt — the raw files are ingested through the existing readers
(:func:`socialens.ingest.ingest_paths`). A run folder that was never ingested (the process was
killed) is ingested at the start of the next run.

Layout of ``out`` (default ``<workspace>.raw/<platform>/`` next to the workspace file)::

    <run_id>/accounts.csv     roster accounts resolved from handles (canonical; ingested first)
    <run_id>/profiles.jsonl   one stamped profile page per account
    <run_id>/posts.jsonl      stamped post pages
    <run_id>/follows.jsonl    stamped follows pages
    <run_id>/report.json      what happened (also returned as CollectReport)
    <run_id>/INGESTED         written once the files above are ingested
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from socialens.collect.base import Fetcher, FetchError, RawWriter, RetryPolicy, iso_utc, utc_now
from socialens.collect.state import AccountState, StateStore
from socialens.errors import CollectError
from socialens.ingest.loader import new_run_id
from socialens.workspace import Workspace

__all__ = ["Collector", "CollectReport", "AccountReport", "Target", "Page", "AccountUnavailable"]

log = logging.getLogger("socialens.collect")

RAW_FILES = ("profiles", "posts", "follows")


class AccountUnavailable(CollectError):
    """The platform says the account is suspended, deactivated, deleted or unknown."""


@dataclass
class Target:
    """A roster account to collect. ``account_id`` is None while only a handle is known."""

    account_id: str | None
    person_id: str | None
    handle: str | None
    kind: str = "personal"

    @property
    def label(self) -> str:
        return self.account_id or f"@{self.handle}"


@dataclass
class Page:
    """One page of posts, newest first: ``(key, time)`` per item and the cursor of the next page."""

    items: list[tuple[str, datetime | None]]
    next_cursor: str | None


@dataclass
class AccountReport:
    account: str
    status: str = "ok"
    requests: int = 0
    pages: int = 0
    posts_seen: int = 0
    follows_seen: int = 0
    note: str | None = None


@dataclass
class CollectReport:
    """The outcome of one collection run (also written to ``<run dir>/report.json``)."""

    platform: str
    run_id: str
    run_dir: str
    started_at: str
    finished_at: str | None = None
    complete: bool = True
    stopped: str | None = None
    accounts: list[AccountReport] = field(default_factory=list)
    fetch: dict[str, Any] = field(default_factory=dict)
    raw_files: list[str] = field(default_factory=list)
    ingest: list[dict[str, Any]] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def unavailable(self) -> list[AccountReport]:
        return [a for a in self.accounts if a.status == "unavailable"]

    @property
    def ingest_totals(self) -> dict[str, int]:
        keys = ("read", "loaded", "duplicate", "quarantined")
        return {k: sum(f.get(k, 0) for f in self.ingest) for k in keys}

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ingest_totals"] = self.ingest_totals
        return d


class Collector:
    """Base class of the platform collectors; subclasses implement the ``collect_*`` hooks.

    Parameters
    ----------
    ws : Workspace
    base_url : str, optional
        API root to use instead of the platform's (tests point it at a local fake server).
    out : Path, optional
        Folder for the raw pages (default ``<workspace>.raw/<platform>/``).
    policy : RetryPolicy, optional
    timeout : float
        Seconds per request.
    max_pages : int, optional
        Stop a sweep after this many pages of posts; the cursor is saved and the next run goes on.
    since : datetime, optional
        Do not page further back than this time (first collections of long timelines).
    follows : bool
        Also collect whom each account follows.
    sleep, clock : callables, optional
        Injected into the fetcher (tests).
    """

    platform: ClassVar[str]
    ingest_format: ClassVar[str]
    default_base_url: ClassVar[str | None] = None
    token_env: ClassVar[str | None] = None
    handle_key: ClassVar[str | None] = None  # key in people.attrs.handles

    def __init__(
        self,
        ws: Workspace,
        *,
        base_url: str | None = None,
        out: str | Path | None = None,
        policy: RetryPolicy | None = None,
        timeout: float = 30.0,
        max_pages: int | None = None,
        since: datetime | None = None,
        follows: bool = True,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ):
        if ws.read_only:
            raise CollectError(f"{ws.path} is open read-only; collection writes to the workspace")
        self.ws = ws
        self.base_url = base_url.rstrip("/") if base_url else None
        self.out = Path(out) if out else ws.path.parent / f"{ws.path.stem}.raw" / self.platform
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self.max_pages = max_pages
        self.since = since
        self.follows = follows
        self._sleep = sleep
        self._clock = clock
        self.token = os.environ.get(self.token_env) if self.token_env else None
        self.state = StateStore(ws, self.platform)
        self._fetchers: dict[str, Fetcher] = {}
        self._current: AccountReport | None = None

    # -- hooks for subclasses -----------------------------------------------------------------
    def collect_profile(self, t: Target) -> Target:
        """Fetch and write the profile; return the target with ``account_id`` resolved."""
        raise NotImplementedError

    def posts_page(self, t: Target, cursor: str | None, st: AccountState) -> Page:
        """Fetch and write one page of posts (newest first), starting at ``cursor``."""
        raise NotImplementedError

    def collect_follows(self, t: Target) -> None:
        """Fetch and write whom the account follows (every page)."""

    def reached(self, key: str, at: datetime | None, st: AccountState) -> bool:
        """Whether an item is at or below the high-water mark (the sweep can stop)."""
        if st.newest_post_id is not None and key == st.newest_post_id:
            return True
        return st.newest_post_at is not None and at is not None and at < st.newest_post_at

    # -- fetchers -----------------------------------------------------------------------------
    def fetcher(self, base_url: str | None = None) -> Fetcher:
        """One fetcher (connection pool, retry budget, rate-limit window) per API server."""
        key = base_url or self.base_url or self.default_base_url or ""
        if key not in self._fetchers:
            kw: dict[str, Any] = {}
            if self._sleep is not None:
                kw["sleep"] = self._sleep
            if self._clock is not None:
                kw["clock"] = self._clock
            self._fetchers[key] = Fetcher(key or None, token=self.token, timeout=self.timeout,
                                          policy=self.policy, **kw)
        return self._fetchers[key]

    def get(self, url: str, params: dict | None = None, *, base_url: str | None = None,
            headers: dict | None = None):
        resp = self.fetcher(base_url).get(url, params, headers=headers)
        if self._current is not None:
            self._current.requests += 1
        return resp

    def write(self, kind: str, resp, body: Any, **extra: Any) -> None:
        """Write one page to the run's ``<kind>.jsonl`` (fsynced) before anything else."""
        self._writers[kind].write(str(resp.request.url), body, utc_now(), **extra)
        if kind == "posts" and self._current is not None:
            self._current.pages += 1

    # -- roster -------------------------------------------------------------------------------
    def targets(self) -> list[Target]:
        """Roster accounts of this platform: owned by a person, or official/delegate accounts;
        plus handles kept in ``people.attrs.handles`` that no account of the person resolves yet."""
        rows = self.ws.con.execute(
            "SELECT account_id, person_id, handle, kind FROM accounts WHERE platform = ? AND "
            "(person_id IS NOT NULL OR kind IN ('official', 'delegate')) ORDER BY account_id",
            [self.platform],
        ).fetchall()
        out = [Target(a, p, h, k or "personal") for a, p, h, k in rows]
        if self.handle_key:
            have = {p for _, p, _, _ in rows if p}
            for pid, handle in self.ws.con.execute(
                "SELECT person_id, json_extract_string(attrs, ?) FROM people "
                "WHERE json_extract_string(attrs, ?) IS NOT NULL ORDER BY person_id",
                [f"$.handles.{self.handle_key}", f"$.handles.{self.handle_key}"],
            ).fetchall():
                if pid not in have and handle:
                    out.append(Target(None, pid, handle.lstrip("@")))
        return out

    def resolved(self, t: Target, native_id: str, handle: str | None) -> Target:
        """Record a handle resolved to a stable id as a canonical account row (person kept)."""
        account_id = f"{self.platform}:{native_id}"
        if t.account_id is None:
            path = self.run_dir / "accounts.csv"
            new = not path.exists()
            with open(path, "a", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                if new:
                    w.writerow(["account_id", "platform", "person_id", "handle", "kind"])
                w.writerow([account_id, self.platform, t.person_id or "", handle or t.handle or "",
                            t.kind])
                f.flush()
                os.fsync(f.fileno())
        return Target(account_id, t.person_id, handle or t.handle, t.kind)

    # -- the run ------------------------------------------------------------------------------
    def run(self, on_account: Callable[[str], None] | None = None) -> CollectReport:
        """Collect every roster account, then ingest the raw pages. See the module docstring."""
        self.out.mkdir(parents=True, exist_ok=True)
        run_id = new_run_id()
        self.run_dir = self.out / run_id
        self.run_dir.mkdir()
        secrets = [self.token] if self.token else []
        self._writers = {k: RawWriter(self.run_dir / f"{k}.jsonl", secrets=secrets) for k in RAW_FILES}
        report = CollectReport(self.platform, run_id, str(self.run_dir), iso_utc(utc_now()))
        report.recovered = self._recover()
        try:
            targets = self.targets()
            if not targets:
                report.notes.append(
                    f"no {self.platform} accounts in the roster: ingest a roster with a "
                    f"{self.platform} column first (or pass --roster)")
            for t in targets:
                if on_account:
                    on_account(t.label)
                if not self._collect_one(t, report):
                    break
        except KeyboardInterrupt:
            report.complete = False
            report.stopped = "interrupted"
            raise
        finally:
            for w in self._writers.values():
                w.close()
            for f in self._fetchers.values():
                f.close()
            self._finish(report)
        return report

    def _collect_one(self, t: Target, report: CollectReport) -> bool:
        """Collect one account; False when the run must stop (the server keeps failing)."""
        ar = AccountReport(t.label)
        report.accounts.append(ar)
        self._current = ar
        now = utc_now()
        try:
            t = self.collect_profile(t)
            ar.account = t.account_id or ar.account
            self.state.update(t.account_id, last_run_at=now)
            self._sweep(t)
            if self.follows:
                self.collect_follows(t)
            st = self.state.get(t.account_id)
            self.state.update(t.account_id, status="ok" if st.cursor is None else "partial",
                              note=ar.note, last_ok_at=now)
            if st.cursor is not None:
                ar.status = "partial"
            return True
        except AccountUnavailable as exc:
            ar.status, ar.note = "unavailable", str(exc)
            if t.account_id:
                self.state.update(t.account_id, status="unavailable", note=str(exc), last_run_at=now)
            log.warning("%s: %s", t.label, exc)
            return True
        except FetchError as exc:
            ar.status, ar.note = "error", str(exc)
            report.complete = False
            report.stopped = str(exc)
            if t.account_id:
                self.state.update(t.account_id, status="error", note=str(exc), last_run_at=now)
            return False
        finally:
            self._current = None

    # -- sweeps -------------------------------------------------------------------------------
    def _sweep(self, t: Target) -> None:
        st = self.state.get(t.account_id)
        if st.cursor is not None:  # an earlier sweep was interrupted: finish it first
            if not self._segment(t, st.cursor, resuming=True):
                return
        self._segment(t, None, resuming=False)

    def _segment(self, t: Target, cursor: str | None, *, resuming: bool) -> bool:
        aid = t.account_id
        pages = 0
        while True:
            st = self.state.get(aid)
            page = self.posts_page(t, cursor, st)
            pages += 1
            if self._current is not None:
                self._current.posts_seen += len(page.items)
            if not resuming and pages == 1 and page.items:
                key, at = page.items[0]
                st = self.state.update(aid, sweep_newest_id=key, sweep_newest_at=at)
            done = (not page.items or page.next_cursor is None
                    or any(self.reached(k, at, st) for k, at in page.items)
                    or (self.since is not None
                        and any(at is not None and at < self.since for _, at in page.items)))
            if done:
                self.state.update(
                    aid, newest_post_id=st.sweep_newest_id or st.newest_post_id,
                    newest_post_at=st.sweep_newest_at or st.newest_post_at,
                    sweep_newest_id=None, sweep_newest_at=None, cursor=None,
                )
                return True
            cursor = page.next_cursor
            self.state.update(aid, cursor=cursor)
            if self.max_pages is not None and pages >= self.max_pages:
                if self._current is not None:
                    self._current.note = (f"stopped after {pages} pages (max_pages); the next run "
                                          "continues from the saved cursor")
                return False

    # -- ingest -------------------------------------------------------------------------------
    def _ingest_dir(self, run_dir: Path) -> list[dict[str, Any]]:
        from socialens.ingest import ingest_paths

        done = []
        acc = run_dir / "accounts.csv"
        if acc.exists():
            done += [f.as_dict() for f in ingest_paths(self.ws, [acc], format="canonical").files]
        for kind in RAW_FILES:
            p = run_dir / f"{kind}.jsonl"
            if p.exists() and p.stat().st_size:
                done += [f.as_dict() for f in
                         ingest_paths(self.ws, [p], format=self.ingest_format).files]
        (run_dir / "INGESTED").write_text(iso_utc(utc_now()) + "\n")
        return done

    def _recover(self) -> list[str]:
        """Ingest run folders of earlier runs that stopped before their ingest."""
        out = []
        for d in sorted(p for p in self.out.iterdir() if p.is_dir()):
            if d == self.run_dir or (d / "INGESTED").exists():
                continue
            if any((d / f"{k}.jsonl").exists() for k in RAW_FILES) or (d / "accounts.csv").exists():
                torn = [k for k in RAW_FILES if _cut_torn_line(d / f"{k}.jsonl")]
                ingested = self._ingest_dir(d)
                out.append(str(d))
                if not (d / "report.json").exists():  # killed: say so where the run is kept
                    note = {"platform": self.platform, "run_id": d.name, "run_dir": str(d),
                            "complete": False, "stopped": "interrupted (the process ended "
                            f"without finishing); its pages were ingested by run {self.run_dir.name}",
                            "torn_pages_dropped": torn, "ingest": ingested}
                    (d / "report.json").write_text(json.dumps(note, indent=2, default=str) + "\n")
        return out

    def _finish(self, report: CollectReport) -> None:
        report.fetch = _merge_stats([f.stats.as_dict() for f in self._fetchers.values()])
        report.raw_files = sorted(str(p) for p in self.run_dir.iterdir() if p.is_file())
        try:
            report.ingest = self._ingest_dir(self.run_dir)
        except Exception as exc:
            report.notes.append(
                f"ingest failed ({exc}); the raw pages are safe in {self.run_dir} and are ingested "
                f"by the next run, or now with `socialens ingest {self.run_dir}/*.jsonl "
                f"--format {self.ingest_format}`")
            report.complete = False
            raise
        finally:
            report.finished_at = iso_utc(utc_now())
            (self.run_dir / "report.json").write_text(
                json.dumps(report.as_dict(), indent=2, default=str) + "\n")


def _cut_torn_line(path: Path) -> bool:
    """Drop a last line without its newline (a page whose write a kill cut short: its cursor was
    never saved, so the next sweep fetches that page again); True when one was dropped. Without
    this the torn half would be quarantined as broken JSON (tests/test_kill_points.py)."""
    if not path.exists() or not path.stat().st_size:
        return False
    with open(path, "rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return False
        f.seek(0)
        data = f.read()
        f.truncate(data.rfind(b"\n") + 1)
        f.flush()
        os.fsync(f.fileno())
    return True


def _merge_stats(stats: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"requests": 0, "retries": 0, "by_status": {}, "slept_seconds": 0.0}
    for s in stats:
        out["requests"] += s["requests"]
        out["retries"] += s["retries"]
        out["slept_seconds"] = round(out["slept_seconds"] + s["slept_seconds"], 3)
        for k, v in s["by_status"].items():
            out["by_status"][k] = out["by_status"].get(k, 0) + v
    return out
