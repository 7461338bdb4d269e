"""Live collectors: Bluesky, Mastodon, blogs (RSS/Atom) and X, writing raw pages, then ingesting them.

``collect(ws, "bluesky")`` collects every roster account of the platform: its profile (a dated
counter snapshot), its posts since the last collection (incremental and resumable, see
:mod:`socialens.collect.state`) and whom it follows. Raw pages are written to disk (JSONL, stamped
with URL, client and retrieval time, fsynced) before they are ingested through the platform readers
of :mod:`socialens.ingest`. Everything is documented in ``docs/collect.md``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from socialens.collect.base import FetchError, RetryPolicy
from socialens.collect.collector import Collector, CollectReport
from socialens.errors import CollectError
from socialens.workspace import Workspace

__all__ = ["collect", "COLLECTORS", "CollectReport", "RetryPolicy", "FetchError", "collector_for"]


def _collectors() -> dict[str, type[Collector]]:
    from socialens.collect.bluesky import BlueskyCollector
    from socialens.collect.mastodon import MastodonCollector
    from socialens.collect.rss import RssCollector
    from socialens.collect.x import XCollector

    return {"bluesky": BlueskyCollector, "mastodon": MastodonCollector, "rss": RssCollector,
            "x": XCollector}


#: Platform names accepted by :func:`collect`.
COLLECTORS = ("bluesky", "mastodon", "rss", "x")


def collector_for(platform: str) -> type[Collector]:
    classes = _collectors()
    if platform not in classes:
        raise CollectError(f"unknown platform {platform!r}; choose one of {', '.join(COLLECTORS)}")
    return classes[platform]


def collect(
    ws: Workspace,
    platform: str,
    *,
    roster: str | Path | None = None,
    base_url: str | None = None,
    out: str | Path | None = None,
    max_retries: int = 5,
    timeout: float = 30.0,
    max_pages: int | None = None,
    since: datetime | str | None = None,
    follows: bool = True,
    seed: int | None = None,
    **kw: Any,
) -> CollectReport:
    """Collect one platform's roster accounts into ``ws``.

    Parameters
    ----------
    ws : Workspace
    platform : {"bluesky", "mastodon", "rss", "x"}
    roster : path, optional
        A roster file (CSV/YAML, see ``docs/formats.md``) to ingest first.
    base_url : str, optional
        API root instead of the platform's (for tests and self-hosted AppViews; Mastodon normally
        uses each account's home server).
    out : path, optional
        Folder for raw pages; default ``<workspace>.raw/<platform>/``.
    max_retries, timeout, seed
        Retry budget per request, seconds per request, jitter seed.
    max_pages : int, optional
        Pages of posts per account per run (the rest is fetched by the next runs).
    since : datetime or ISO string, optional
        Do not page back further than this time.
    follows : bool
        Also collect whom each account follows.
    **kw
        Passed to the collector (``sleep``, ``clock``, ``policy`` for tests).

    Returns
    -------
    CollectReport
        Per account: status (``ok``, ``partial``, ``unavailable``, ``error``), requests, pages,
        notes; fetch statistics; the raw files and their ingest counts.
    """
    cls = collector_for(platform)
    if isinstance(since, str):
        from socialens.ingest.values import parse_time

        since = parse_time(since, "since")
    if roster is not None:
        from socialens.ingest import ingest_paths

        ingest_paths(ws, [roster])
    on_account = kw.pop("on_account", None)
    policy = kw.pop("policy", None) or RetryPolicy(max_retries=max_retries, seed=seed)
    collector = cls(ws, base_url=base_url, out=out, policy=policy, timeout=timeout,
                    max_pages=max_pages, since=since, follows=follows, **kw)
    return collector.run(on_account=on_account)
