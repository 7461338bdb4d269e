"""Ingest: read files in any supported format into the workspace, with provenance and quarantine.

Formats are registered in :data:`FORMATS` (name → module with ``detect(path)`` and
``tasks(path, timezone)``). ``ingest_paths`` detects the format of each path (or takes ``format``),
and loads each file in its own transaction. Re-ingesting the same files changes nothing.

A folder is read as a whole when a format claims it (a canonical folder, an X archive); any other
folder is read file by file, each file's format detected on its own (sub-folders likewise): files
in no format SociaLens reads are reported by name in :attr:`IngestResult.skipped` and the rest
loads. A file of posts in no known layout is read with a column mapping (``mapping=``, ``--map``;
see :mod:`socialens.ingest.mapped_csv`).
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
    mapped_csv,
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

__all__ = ["FORMATS", "IngestResult", "Skipped", "ingest_paths", "ingest_path", "detect_format",
           "unsupported_format", "FileReport"]

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


@dataclass(frozen=True)
class Skipped:
    """A file inside an ingested folder that was not read, and why."""

    path: str
    reason: str


@dataclass
class IngestResult:
    """The outcome of one ``ingest`` call: one :class:`FileReport` per file."""

    files: list[FileReport] = field(default_factory=list)
    #: files inside ingested folders that are in no format SociaLens reads (not loaded)
    skipped: list[Skipped] = field(default_factory=list)
    #: roster files whose people were declared public (``public=True`` or the roster's own
    #: ``public: true``): ``people.opt_in`` is true and ``people.attrs.public`` is ``"roster"``
    public: list[str] = field(default_factory=list)
    #: interaction edges (reply/mention/repost/quote) derived from posts by this call, per kind
    interactions: dict[str, int] = field(default_factory=dict)
    #: rows removed or rewritten after loading because they named a forgotten person
    #: (:func:`socialens.forget.apply_tombstones`), per table or column
    forgotten: dict[str, int] = field(default_factory=dict)

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
                "interactions": dict(self.interactions),
                "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
                "public": list(self.public)}


_MAP_HINT = ("a CSV or JSON Lines file of posts in another layout is read by mapping its columns: "
             "--map text=<column>,created_at=<column>[,post_id=<column>] with --account-from-filename "
             "or --account <id> (see docs/formats.md)")


def _zip_names(path: Path) -> list[str]:
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return z.namelist()[:10_000]
    except (OSError, zipfile.BadZipFile):
        return []


def unsupported_format(path: Path) -> str | None:
    """A message when ``path`` is in a known format SociaLens does not read yet, else None.

    Recognised: LinkedIn's "Get a copy of your data" CSVs (``Shares.csv``, ``Comments.csv``), a
    Slack workspace export (zip or folder with ``channels.json`` and ``users.json``), and zip
    archives in general (an X archive must be unpacked first).
    """
    from socialens.ingest._platform import csv_header

    name = path.name
    if path.is_dir():
        if (path / "channels.json").is_file() and (path / "users.json").is_file():
            return (f"{path}: a Slack workspace export; Slack exports are not supported yet "
                    "(SociaLens reads no Slack format)")
        return None
    low = name.lower()
    if low.endswith(".zip"):
        names = {n.rsplit("/", 1)[-1] for n in _zip_names(path)}
        if {"channels.json", "users.json"} <= names:
            return (f"{path}: a Slack workspace export; Slack exports are not supported yet "
                    "(SociaLens reads no Slack format)")
        if "tweets.js" in names or "tweet.js" in names:
            return (f"{path}: a zipped X/Twitter archive; zip files are not supported yet: unpack "
                    "it and ingest the folder")
        return f"{path}: a zip archive; zip files are not supported yet: unpack it and ingest its files"
    if low.endswith((".csv", ".csv.gz")):
        header = set(csv_header(path))
        if {"Date", "ShareLink", "ShareCommentary"} <= header:
            return (f"{path}: LinkedIn data export posts (Shares.csv); the LinkedIn format is not "
                    "supported yet. Its posts can be read with a column mapping: --map "
                    "text=ShareCommentary,created_at=Date,url=ShareLink,visibility=Visibility "
                    "--platform linkedin --account <your id> --timezone UTC (LinkedIn's "
                    "MEMBER_NETWORK is not 'public', so such posts are never published)")
        if header == {"Date", "Link", "Message"}:
            return (f"{path}: LinkedIn data export comments (Comments.csv); the LinkedIn format is "
                    "not supported yet. They can be read with a column mapping: --map "
                    "text=Message,created_at=Date,url=Link --platform linkedin --account <your id> "
                    "--timezone UTC")
    return None


def _detect(path: Path) -> str | None:
    for name, module in FORMATS.items():
        if module.detect(path):
            return name
    return None


def detect_format(path: Path) -> str:
    """The name of the first registered format that recognises ``path``.

    Raises
    ------
    InputFileError
        Naming the file: "not supported yet" for known unsupported formats (LinkedIn, Slack, zip),
        else what the known formats are and how to read a file of posts with ``--map``.
    """
    name = _detect(path)
    if name is not None:
        return name
    raise InputFileError(unsupported_format(path) or roster.companion_note(path) or (
        f"cannot tell the format of {path}. Canonical files are named people.csv, roles.csv, "
        "accounts.csv, snapshots.csv, posts.jsonl, edges.csv (optionally .gz); for other formats "
        f"pass --format ({', '.join(FORMATS)}); {_MAP_HINT}"
    ))


def _files_under(folder: Path) -> list[Path]:
    """The files of a folder and its sub-folders (hidden ones left out), sorted."""
    out = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        out.extend(_files_under(child) if child.is_dir() else [child])
    return out


def _expand(folder: Path, skipped: list[Skipped]) -> list[tuple[Path, str]]:
    """Per-file detection inside a folder no format claims as a whole."""
    plan = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_dir():
            if (why := unsupported_format(child)) is not None:
                skipped.append(Skipped(str(child), why))
            elif (fmt := _detect(child)) is not None:
                plan.append((child, fmt))
            else:
                plan.extend(_expand(child, skipped))
            continue
        fmt = _detect(child)
        if fmt is None:
            skipped.append(Skipped(str(child), unsupported_format(child) or roster.companion_note(child) or (
                f"{child}: not in a format SociaLens reads (docs/formats.md); {_MAP_HINT}")))
        else:
            plan.append((child, fmt))
    return plan


def _order(item: tuple[Path, str]) -> tuple:
    """People before the rows that refer to them: rosters first (legislators before committee
    membership), then everything else, each group by path."""
    p, fmt = item
    return (0, roster.order(p)) if fmt == "roster" else (1, 0)


def _plan(
    paths: list[Path], format: str | None, spec: mapped_csv.ColumnMap | None
) -> tuple[list[tuple[Path, str]], list[Skipped]]:
    plan: list[tuple[Path, str]] = []
    skipped: list[Skipped] = []
    for p in paths:
        if not p.exists():
            raise InputFileError(f"{p} does not exist")
        if spec is not None:
            files = [f for f in _files_under(p) if f.is_file()] if p.is_dir() else [p]
            plan.extend((f, "mapped") for f in files)
            continue
        if format is not None:
            module = FORMATS[format]
            if format == "canonical" and not module.detect(p):
                raise InputFileError(
                    f"--format canonical: {p} is not a canonical {'folder' if p.is_dir() else 'file'}"
                    ": canonical files are named people.csv, roles.csv, accounts.csv, "
                    f"snapshots.csv, posts.jsonl, edges.csv (optionally .gz); {_MAP_HINT}")
            if p.is_dir() and not module.detect(p):
                plan.extend((f, format) for f in _files_under(p))  # the format of every file
            else:
                plan.append((p, format))
            continue
        if p.is_dir():
            fmt = _detect(p)
            if fmt is not None:
                plan.append((p, fmt))
                continue
            if (why := unsupported_format(p)) is not None:
                raise InputFileError(why)
            found = _expand(p, skipped)
            if not found:
                if 0 < len(skipped) <= 5:
                    raise InputFileError(f"{p}: none of its files is in a format SociaLens reads: "
                                         + " | ".join(s.reason for s in skipped))
                names = ", ".join(Path(s.path).name for s in skipped[:10]) or "no files"
                raise InputFileError(
                    f"{p}: none of its files is in a format SociaLens reads ({names}"
                    f"{', ...' if len(skipped) > 10 else ''}); see docs/formats.md; {_MAP_HINT}")
            plan.extend(sorted(found, key=_order))
            continue
        plan.append((p, detect_format(p)))
    return plan, skipped


def ingest_path(
    ws: Workspace,
    path: str | Path,
    *,
    timezone: str | None = None,
    format: str | None = None,
    on_file: Callable[[Path, str], Callable[[int], None] | None] | None = None,
    **options,
) -> IngestResult:
    """Ingest one file or folder. See :func:`ingest_paths` (``options`` are its other keywords)."""
    return ingest_paths(ws, [path], timezone=timezone, format=format, on_file=on_file, **options)


def ingest_paths(
    ws: Workspace,
    paths: list[str | Path],
    *,
    timezone: str | None = None,
    format: str | None = None,
    on_file: Callable[[Path, str], Callable[[int], None] | None] | None = None,
    public: bool = False,
    mapping: dict[str, str] | None = None,
    platform: str | None = None,
    account: str | None = None,
    account_from_filename: bool = False,
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
        Force a format instead of detecting it (on a folder no format claims: on each file in it).
    on_file : callable, optional
        ``on_file(path, target)`` is called before each file and may return a progress callback
        that receives the number of records processed since its last call.
    public : bool
        The rosters among ``paths`` declare their people public (e.g. elected officials): every
        person they list gets ``opt_in = true`` and ``attrs.public = "roster"``, so outputs may
        name them and say why. A roster YAML can say the same itself with ``public: true``.
    mapping : dict, optional
        Read every file as posts with this column mapping, ``{field: column}`` (see
        :mod:`socialens.ingest.mapped_csv`); ``platform`` (id prefix, default ``custom``),
        ``account`` (every row's author) and ``account_from_filename`` go with it.

    Returns
    -------
    IngestResult
        Per-file counts; ``read = loaded + duplicate + quarantined`` for every file.
    """
    if timezone is not None:
        check_timezone(timezone)
    spec = None
    if mapping is not None:
        if format not in (None, "mapped"):
            raise InputFileError(f"--map reads files as mapped posts; it cannot be combined with "
                                 f"--format {format}")
        spec = mapped_csv.ColumnMap(dict(mapping), platform or "custom", account,
                                    account_from_filename)
    elif platform is not None or account is not None or account_from_filename:
        raise InputFileError("--platform, --account and --account-from-filename go with --map "
                             "(e.g. --map text=Text,created_at=Date --account-from-filename)")
    elif format == "mapped":
        raise InputFileError("--format mapped needs --map (e.g. --map text=Text,created_at=Date)")
    elif format is not None and format not in FORMATS:
        raise InputFileError(f"unknown format {format!r}; known formats: {', '.join(FORMATS)}")
    plan, skipped = _plan(list(map(Path, paths)), format, spec)
    if public and not any(fmt == "roster" for _, fmt in plan):
        raise InputFileError(
            "--public declares the people of a roster public; none of the paths is a roster "
            "(roster.csv/.yaml, congress-legislators YAML)")
    result = IngestResult(skipped=skipped)
    for p, fmt in plan:
        declared: set[str] = set()
        if fmt == "mapped":
            tasks = mapped_csv.tasks(p, timezone, spec)
        elif fmt == "roster":
            tasks = roster.tasks(p, timezone, public=public, declared=declared)
        else:
            tasks = FORMATS[fmt].tasks(p, timezone)
        for f, target, records in tasks:
            progress = on_file(f, target) if on_file else None
            options = {"public": public and fmt == "roster"}
            if fmt == "mapped":
                options.update({"map": dict(mapping or {}), "platform": platform,
                                "account": account, "account_from_filename": account_from_filename})
            loader = Loader(
                ws, path=f.resolve(), sha256=file_sha256(f), format=fmt, target=target,
                timezone=timezone, on_progress=progress, options=options,
            )
            result.files.append(loader.run(records))
        if declared:
            roster.declare_public(ws, declared)
            result.public.append(str(p))
    # also when no file changed anything: an ingest killed after loading its files but before
    # these steps committed leaves them to the next ingest of the same files, which loads nothing
    # new (both steps are idempotent and add only what is missing; tests/test_kill_points.py)
    changed = any(f.recorded for f in result.files)
    if result.files:
        from socialens.network import derive_interactions

        derived = derive_interactions(ws)
        from socialens.forget import apply_tombstones  # socialens forget: mentions of them

        scrubbed = apply_tombstones(ws)
        changed = changed or any(derived.values()) or bool(scrubbed)
        if changed:
            result.interactions, result.forgotten = derived, scrubbed
    if changed:
        # posts and the ties derived from them are one state `socialens serve` may show
        # (socialens.serve_copy; at most every few seconds, and always when ws is closed)
        refresh = getattr(ws, "refresh_serve_copy", None)
        if refresh is not None:
            refresh(force=False)
    return result
