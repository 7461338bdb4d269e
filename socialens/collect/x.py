"""X (Twitter) API v2 collector (not implemented yet)."""

from __future__ import annotations

from typing import ClassVar

from socialens.collect.collector import Collector
from socialens.errors import CollectError

__all__ = ["XCollector"]


class XCollector(Collector):
    platform: ClassVar[str] = "twitter"
    ingest_format: ClassVar[str] = "twitter_v2"

    def __init__(self, ws, **kw):
        raise CollectError("collect x is not implemented yet; collect bluesky, mastodon or rss")
