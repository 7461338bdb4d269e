"""The HTTP side of collection: a polite fetcher and the raw-page writer.

:class:`Fetcher` wraps one ``httpx.Client`` with a configurable base URL (tests point it at a
local fake server). Every request is retried on timeouts, connection errors, HTTP 429 and 5xx, with
exponential backoff and jitter drawn from a seeded ``random.Random`` (so tests are deterministic),
honouring ``Retry-After`` and the platforms' rate-limit reset headers (Bluesky ``ratelimit-reset``,
Mastodon ``x-ratelimit-reset``, X ``x-rate-limit-reset``); when a response says no requests remain
in the window, the next request waits for the reset. A budget (``max_retries``) bounds the retries of
one request; when it is spent, :class:`FetchError` stops the run.

Tokens go only into the ``Authorization`` header: never into a URL, a log line or a raw page
(:class:`RawWriter` also redacts any secret it is given, as a second guard).

:class:`RawWriter` appends one JSON line per fetched page::

    {"_socialens": {"url": ..., "client": "socialens/0.1.0 httpx/0.28.1",
                    "retrieved_at": "2024-03-02T12:00:00.123456Z"}, "response": <the API's JSON>}

and fsyncs it before anything else happens, so a page on disk is never lost if ingest fails.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from socialens.errors import CollectError

__all__ = [
    "RetryPolicy",
    "Fetcher",
    "FetchError",
    "RawWriter",
    "client_name",
    "utc_now",
    "iso_utc",
    "parse_reset",
]

log = logging.getLogger("socialens.collect")

#: HTTP statuses that are retried (besides timeouts and connection errors).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


def client_name() -> str:
    """``socialens/<version> httpx/<version>``: the client recorded in every raw page."""
    from socialens import __version__

    return f"socialens/{__version__} httpx/{httpx.__version__}"


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(dt: datetime) -> str:
    """``2024-03-02T12:00:00.123456Z``."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FetchError(CollectError):
    """A request failed for good: the retry budget is spent, or the server refused it.

    Parameters
    ----------
    message : str
    url : str
        The URL (never carries a token).
    status : int, optional
        The last HTTP status, None for timeouts and connection errors.
    """

    def __init__(self, message: str, url: str, status: int | None = None):
        super().__init__(message)
        self.url = url
        self.status = status


@dataclass
class RetryPolicy:
    """How hard to try one request.

    Parameters
    ----------
    max_retries : int
        Retries after the first attempt (so ``max_retries + 1`` attempts at most).
    backoff_base, backoff_max : float
        The n-th retry (n = 0, 1, ...) of a failure without a server-given wait sleeps
        ``min(backoff_max, backoff_base * 2**n)`` scaled by a jitter factor drawn uniformly from
        [0.5, 1] ("equal jitter").
    max_wait : float
        The longest single wait honoured (seconds). A ``Retry-After`` or rate-limit reset further
        away than this stops the run with a message saying when to run again.
    seed : int, optional
        Seed of the jitter; None draws from the system.
    """

    max_retries: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_wait: float = 900.0
    seed: int | None = None

    def backoff(self, attempt: int, rng: random.Random) -> float:
        return min(self.backoff_max, self.backoff_base * 2 ** attempt) * rng.uniform(0.5, 1.0)


def parse_reset(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` or rate-limit reset header value, or None.

    Accepts delta seconds (``Retry-After: 30``, IETF ``RateLimit-Reset: 30``), epoch seconds
    (Bluesky, X: ``1705420800``), ISO 8601 (Mastodon: ``2024-03-02T12:05:00.000Z``) and HTTP dates.

    >>> parse_reset("30", now=1_700_000_000)
    30.0
    >>> parse_reset("1700000060", now=1_700_000_000)
    60.0
    >>> parse_reset("2023-11-14T22:14:20Z", now=1_700_000_000)
    60.0
    >>> parse_reset("nonsense", now=0) is None
    True
    """
    if value is None:
        return None
    v = value.strip()
    if not v:
        return None
    try:
        x = float(v)
    except ValueError:
        pass
    else:
        return max(0.0, x - now if x > 1e9 else x)
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return max(0.0, dt.timestamp() - now)
    except ValueError:
        pass
    try:
        dt = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return max(0.0, dt.timestamp() - now)


_RESET_HEADERS = ("ratelimit-reset", "x-ratelimit-reset", "x-rate-limit-reset")
_REMAINING_HEADERS = ("ratelimit-remaining", "x-ratelimit-remaining", "x-rate-limit-remaining")


@dataclass
class FetchStats:
    """Counters of one fetcher: requests sent, retries, waits (seconds slept, by cause)."""

    requests: int = 0
    retries: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    slept: float = 0.0
    waits: list[tuple[str, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "retries": self.retries, "by_status": dict(self.by_status),
                "slept_seconds": round(self.slept, 3)}


class Fetcher:
    """GET JSON or text from one API with retries, backoff and rate-limit waits.

    Parameters
    ----------
    base_url : str
        Relative paths are resolved against it; absolute URLs (e.g. a ``Link: rel="next"``) are
        used as given.
    token : str, optional
        Sent as ``Authorization: Bearer <token>``; never logged or written.
    timeout : float
        Seconds for connect/read/write/pool.
    policy : RetryPolicy, optional
    sleep, clock : callables, optional
        ``time.sleep`` / ``time.time`` by default; tests pass fakes so no test really waits.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        headers: dict[str, str] | None = None,
    ):
        self.policy = policy or RetryPolicy()
        self.rng = random.Random(self.policy.seed)
        self.sleep = sleep
        self.clock = clock
        self.stats = FetchStats()
        self._not_before = 0.0
        h = {"User-Agent": client_name(), "Accept": "application/json"}
        h.update(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            base_url=base_url or "", headers=h, timeout=httpx.Timeout(timeout),
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- waiting ----------------------------------------------------------------------------------
    def _wait(self, seconds: float, why: str, url: str) -> None:
        if seconds <= 0:
            return
        if seconds > self.policy.max_wait:
            until = datetime.fromtimestamp(self.clock() + seconds, UTC)
            raise FetchError(
                f"{why} at {url}: the server asks to wait {seconds:.0f} s (until {iso_utc(until)}), "
                f"longer than max_wait {self.policy.max_wait:.0f} s; run the collection again after "
                "that time (it continues where it stopped)", url, 429,
            )
        log.info("waiting %.1f s (%s)", seconds, why)
        self.stats.slept += seconds
        self.stats.waits.append((why, seconds))
        self.sleep(seconds)

    def _server_wait(self, resp: httpx.Response) -> float | None:
        now = self.clock()
        w = parse_reset(resp.headers.get("retry-after"), now)
        if w is not None:
            return w
        for h in _RESET_HEADERS:
            w = parse_reset(resp.headers.get(h), now)
            if w is not None:
                return w
        return None

    def _note_remaining(self, resp: httpx.Response) -> None:
        for h in _REMAINING_HEADERS:
            rem = resp.headers.get(h)
            if rem is not None and rem.strip() in ("0", "0.0"):
                w = self._server_wait(resp)
                if w:
                    self._not_before = max(self._not_before, self.clock() + w)
                return

    # -- requests ---------------------------------------------------------------------------------
    def get(self, url: str, params: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None) -> httpx.Response:
        """GET with retries. Returns the response for any status that is not retried (2xx, 3xx,
        4xx but 429); the caller decides what a 4xx means.

        Raises
        ------
        FetchError
            When timeouts, connection errors, 429 or 5xx persist beyond ``max_retries``.
        """
        # None, not {}: httpx replaces the query of an absolute URL (a Link rel="next") with
        # the params given, even when they are empty
        params = {k: v for k, v in (params or {}).items() if v is not None} or None
        attempt = 0
        while True:
            pause = self._not_before - self.clock()
            if pause > 0:
                self._wait(pause, "rate-limit window exhausted", url)
            self.stats.requests += 1
            shown = url
            try:
                resp = self._client.get(url, params=params, headers=headers)
                shown = str(resp.request.url)
            except httpx.TimeoutException:
                status, why, server_wait = None, "timeout", None
            except httpx.TransportError as exc:
                status, why, server_wait = None, f"connection error ({type(exc).__name__})", None
            else:
                status = resp.status_code
                key = str(status)
                self.stats.by_status[key] = self.stats.by_status.get(key, 0) + 1
                log.info("GET %s -> %s", shown, status)
                if status not in RETRY_STATUSES:
                    self._note_remaining(resp)
                    return resp
                why = "rate limited (429)" if status == 429 else f"server error {status}"
                server_wait = self._server_wait(resp)
            if attempt >= self.policy.max_retries:
                raise FetchError(
                    f"giving up on {shown} after {attempt + 1} attempts: {why}. Pages fetched so "
                    "far are saved and ingested; run the collection again to continue from there",
                    shown, status,
                )
            delay = server_wait if server_wait is not None else self.policy.backoff(attempt, self.rng)
            self.stats.retries += 1
            log.info("retry %d of %s after %s", attempt + 1, shown, why)
            self._wait(delay, why, shown)
            attempt += 1


def _redact(text: str, secrets: Iterable[str]) -> str:
    for s in secrets:
        if s and s in text:
            text = text.replace(s, "[redacted]")
    return text


class RawWriter:
    """Appends stamped pages to one JSONL file, fsynced per page. The file is created on the
    first page (no empty files).

    Parameters
    ----------
    path : Path
    secrets : iterable of str
        Strings (tokens) that must never reach the disk; replaced by ``[redacted]`` if they occur.
    """

    def __init__(self, path: Path, *, secrets: Iterable[str] = ()):
        self.path = Path(path)
        self.client = client_name()
        self.secrets = [s for s in secrets if s]
        self.pages = 0
        self._f = None

    def write(self, url: str, response: Any, retrieved_at: datetime, **extra: Any) -> None:
        """Append ``{"_socialens": {url, client, retrieved_at, **extra}, "response": response}``."""
        meta = {"url": url, "client": self.client, "retrieved_at": iso_utc(retrieved_at), **extra}
        line = json.dumps({"_socialens": meta, "response": response}, ensure_ascii=False)
        line = _redact(line, self.secrets)
        if self._f is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._f = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open per run
        self._f.write(line + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())
        self.pages += 1

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None
