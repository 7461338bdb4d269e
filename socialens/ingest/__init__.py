"""Ingest: read files in any supported format into the workspace, with provenance and quarantine.

Formats are registered in :data:`FORMATS` (name → module with ``detect(path)`` and
``tasks(path, timezone)``). ``ingest_paths`` detects the format of each path (or takes ``format``),
and loads each file in its own transaction. Re-ingesting the same files changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from socialens.errors import InputFileError
from socialens.ingest import (
    bluesky,
    canonical,
    congresstweets,
    feeds,
    fourcat,
    mastodon,
    roster,
    twitter_archive,
    twitter_v1,
    twitter_v2,
)
from socialens.ingest.loader import FileReport, Loader
from socialens.ingest.sources import file_sha256
from socialens.ingest.values import check_timezone
from socialens.workspace import Workspace

__all__ = ["FORMATS", "IngestResult", "ingest_paths", "ingest_path", "detect_format", "FileReport"]

#: Registered input formats, tried in order by :func:`detect_format`.
#: Order matters: the first format whose ``detect`` accepts a path wins; each platform reader checks
#: payload keys that the others lack (see docs/formats.md).
FORMATS: dict[str, object] = {
    "canonical": canonical,
    "twitter_archive": twitter_archive,
    "roster": roster,
    "feeds": feeds,
    "twitter_v2": twitter_v2,
    "twitter_v1": twitter_v1,
    "congresstweets": congresstweets,
    "bluesky": bluesky,
    "mastodon": mastodon,
    "fourcat": fourcat,
}


@dataclass
class IngestResult:
    """The outcome of one ``ingest`` call: one :class:`FileReport` per file."""

    files: list[FileReport] = field(default_factory=list)
    #: interaction edges (reply/mention/repost/quote) derived from posts by this call, per kind
    interactions: dict[str, int] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, int]:
        keys = ("n_read", "n_loaded", "n_duplicate", "n_quarantined")
        return {k[2:]: sum(getattr(f, k) for f in self.files) for k in keys}

    @property
    def ok(self) -> bool:
        """False when nothing could be loaded although something was read and rejected."""
        t = self.totals
        return not (t["loaded"] == 0 and t["duplicate"] == 0 and t["read"] > 0) and bool(self.files)

    def as_dict(self) -> dict:
        return {"totals": self.totals, "files": [f.as_dict() for f in self.files],
                "interactions": dict(self.interactions)}


def detect_format(path: Path) -> str:
    """The name of the first registered format that recognises ``path``."""
    for name, module in FORMATS.items():
        if module.detect(path):
            return name
    raise InputFileError(
        f"cannot tell the format of {path}. Canonical files are named people.csv, roles.csv, "
        "accounts.csv, snapshots.csv, posts.jsonl, edges.csv (optionally .gz); for other formats "
        f"pass --format ({', '.join(FORMATS)})"
    )


def ingest_path(
    ws: Workspace,
    path: str | Path,
    *,
    timezone: str | None = None,
    format: str | None = None,
    on_file: Callable[[Path, str], Callable[[int], None] | None] | None = None,
) -> IngestResult:
    """Ingest one file or folder. See :func:`ingest_paths`."""
    return ingest_paths(ws, [path], timezone=timezone, format=format, on_file=on_file)


def ingest_paths(
    ws: Workspace,
    paths: list[str | Path],
    *,
    timezone: str | None = None,
    format: str | None = None,
    on_file: Callable[[Path, str], Callable[[int], None] | None] | None = None,
) -> IngestResult:
    """Ingest files or folders into ``ws``.

    Parameters
    ----------
    ws : Workspace
    paths : list of paths
        Files or folders. Every path is checked before anything is loaded.
    timezone : str, optional
        IANA zone of naive times in the input; without it naive times are quarantined.
    format : str, optional
        Force a format instead of detecting it.
    on_file : callable, optional
        ``on_file(path, target)`` is called before each file and may return a progress callback
        that receives the number of records processed since its last call.

    Returns
    -------
    IngestResult
        Per-file counts; ``read = loaded + duplicate + quarantined`` for every file.
    """
    if timezone is not None:
        check_timezone(timezone)
    if format is not None and format not in FORMATS:
        raise InputFileError(f"unknown format {format!r}; known formats: {', '.join(FORMATS)}")
    plan = []
    for p in map(Path, paths):
        if not p.exists():
            raise InputFileError(f"{p} does not exist")
        fmt = format or detect_format(p)
        plan.append((p, fmt))
    result = IngestResult()
    for p, fmt in plan:
        for f, target, records in FORMATS[fmt].tasks(p, timezone):
            progress = on_file(f, target) if on_file else None
            loader = Loader(
                ws, path=f.resolve(), sha256=file_sha256(f), format=fmt, target=target,
                timezone=timezone, on_progress=progress,
            )
            result.files.append(loader.run(records))
    if any(f.recorded for f in result.files):
        from socialens.network import derive_interactions

        result.interactions = derive_interactions(ws)
    return result
