"""The ``socialens`` command line: a thin layer over the library.

Each command validates its arguments, calls one library function, prints, and turns a
:class:`~socialens.errors.SocialensError` into exit code 1 with the message (never a traceback).
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from socialens.errors import SocialensError

__all__ = ["app", "main"]

app = typer.Typer(
    name="socialens",
    help="Do an organization's leaders model social media behaviour, and do its members follow?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)  # never hard-wrap messages: they hold paths and ids
err = Console(stderr=True, soft_wrap=True)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace", "-w",
        help="Workspace file (default: $SOCIALENS_WORKSPACE, else ./socialens.duckdb).",
        show_default=False,
    ),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]Error:[/] {escape(message)}", markup=True, highlight=False,
              soft_wrap=True)
    return typer.Exit(code)


def _warn(message: str) -> None:
    err.print(f"[bold yellow]Warning:[/] {escape(message)}", highlight=False)


def _say(message: str) -> None:
    """Print text that may hold user-supplied paths, names or ids (never read as markup)."""
    out.print(message, markup=False, highlight=False)


def _version(value: bool) -> None:
    if value:
        from socialens import __version__

        _say(f"socialens {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """Do an organization's leaders model social media behaviour, and do its members follow?"""


def command(*args, **kwargs):
    """Register a command whose library errors become a message and exit code 1."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*a, **k):
            try:
                return fn(*a, **k)
            except SocialensError as exc:
                raise _fail(str(exc)) from None
            except KeyboardInterrupt:
                raise _fail("interrupted", 130) from None
            except Exception as exc:  # a full disk or a read-only file system: say so
                from socialens.workspace import default_workspace_path, storage_error_message

                where = k.get("workspace") or (default_workspace_path()
                                               if "workspace" in k else None)
                msg = storage_error_message(exc, where)
                if msg is None:
                    raise
                raise _fail(msg) from None

        return app.command(*args, **kwargs)(inner)

    return wrap


#: Commands that may create the workspace they are given; every other needs an existing one.
CREATES_WORKSPACE = ("init", "ingest", "collect", "simulate", "demo")


def _open(workspace: Path | None, *, read_only: bool = False, must_exist: bool = False):
    """Open the workspace; read-only commands open it read-only (they run alongside a notebook
    that opened it with ``read_only=True``). ``must_exist``: refuse to create a new file (a
    mistyped ``-w`` would otherwise give an empty workspace)."""
    from socialens import open as open_ws
    from socialens.errors import WorkspaceError
    from socialens.workspace import default_workspace_path

    path = workspace if workspace is not None else default_workspace_path()
    if (must_exist or read_only) and not path.exists():
        raise WorkspaceError(
            f"no workspace at {path}; create one with `socialens init -w {path}`, or load files "
            f"into a new one with `socialens ingest FILES -w {path}`"
        )
    return open_ws(path, read_only=read_only)


def _progress():
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal,
    )


# -- init ------------------------------------------------------------------------------------
@command()
def init(workspace: WorkspaceOpt = None) -> None:
    """Create a workspace (or bring an existing one up to the current schema)."""
    with _open(workspace) as ws:
        _say(f"workspace {ws.path} ready (migrations: {', '.join(ws.migrations)})")


# -- ingest ----------------------------------------------------------------------------------
@command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to load.")],
    workspace: WorkspaceOpt = None,
    timezone: Annotated[
        str | None, typer.Option(help="IANA zone of times written without offset, e.g. UTC.")
    ] = None,
    format: Annotated[str | None, typer.Option("--format", help="Force an input format.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
    public: Annotated[bool, typer.Option(
        "--public", help="The rosters given declare their people public (e.g. elected officials): "
        "opt_in = true and attrs.public = roster for each.")] = False,
    map_: Annotated[str | None, typer.Option(
        "--map", help="Read CSV/JSONL files of posts by column: field=column,... e.g. "
        "text=Text,created_at=Date,post_id=\"Tweet ID\" (fields: docs/formats.md).")] = None,
    platform: Annotated[str | None, typer.Option(
        help="With --map: id prefix of the posts and authors (twitter, bluesky...; default "
        "custom).")] = None,
    account: Annotated[str | None, typer.Option(
        help="With --map: the native id of every row's author.")] = None,
    account_from_filename: Annotated[bool, typer.Option(
        "--account-from-filename", help="With --map: the author is the file name without "
        "extension.")] = False,
) -> None:
    """Load files into the workspace. Bad records go to quarantine; the counts are always printed.

    A folder that is not a canonical folder or an archive is read file by file; files in no
    format SociaLens reads are listed. Exits 1 only when nothing at all could be loaded.
    """
    from socialens.ingest import ingest_paths
    from socialens.ingest.mapped_csv import parse_map

    mapping = parse_map(map_) if map_ is not None else None

    with _open(workspace) as ws, _progress() as progress:
        def on_file(path: Path, target: str):
            task = progress.add_task(f"{path.name} → {target}", total=None)
            return lambda n: progress.advance(task, n)

        result = ingest_paths(ws, paths, timezone=timezone, format=format, on_file=on_file,
                              public=public, mapping=mapping, platform=platform, account=account,
                              account_from_filename=account_from_filename)
    if json_out:
        out.print_json(json.dumps(result.as_dict()))
    else:
        table = Table(title="ingest", show_edge=False)
        for col in ("file", "table", "read", "loaded", "duplicate", "quarantined"):
            table.add_column(col, justify="left" if col in ("file", "table") else "right")
        for f in result.files:
            table.add_row(escape(Path(f.path).name), f.target, str(f.n_read), str(f.n_loaded),
                          str(f.n_duplicate), str(f.n_quarantined))
        t = result.totals
        table.add_row("total", "", str(t["read"]), str(t["loaded"]), str(t["duplicate"]),
                      str(t["quarantined"]), style="bold")
        out.print(table)
        for f in result.files:
            for reason, n in f.reasons.most_common(5):
                out.print(f"  quarantined {n} × in {Path(f.path).name}: {reason}",
                          highlight=False, markup=False)
        for f in result.files:
            if f.api_errors:
                kinds = "; ".join(f"{n} × {k}" for k, n in f.api_errors.most_common(5))
                out.print(f"  API errors in {Path(f.path).name} (not records: neither read nor "
                          f"quarantined): {sum(f.api_errors.values())} ({kinds})",
                          highlight=False, markup=False)
        if any(result.interactions.values()):
            made = ", ".join(f"{n} {k}" for k, n in result.interactions.items() if n)
            out.print(f"  interaction edges derived from posts: {made}", highlight=False)
        if t["quarantined"]:
            out.print("  (all rejected records, with file, line and reason: "
                      "`socialens quarantine`)", highlight=False)
        for s in result.skipped:
            _say(f"  not read: {s.reason}")
        for path in result.public:
            _say(f"  {Path(path).name}: its people are declared public (opt_in = true, "
                 "attrs.public = roster)")
    if not result.ok:
        raise _fail("nothing could be loaded; see the reasons above")


# -- collect ---------------------------------------------------------------------------------
@command()
def collect(
    platform: Annotated[str, typer.Argument(help="bluesky, mastodon, rss or x.")],
    workspace: WorkspaceOpt = None,
    roster: Annotated[Path | None, typer.Option(
        help="Roster file (CSV/YAML) to ingest before collecting.")] = None,
    base_url: Annotated[str | None, typer.Option(
        help="API root instead of the platform's (a self-hosted server, a test server).")] = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Folder for the raw pages (default: <workspace>.raw/<platform>/).")] = None,
    max_pages: Annotated[int | None, typer.Option(
        help="Pages of posts per account in this run; later runs continue.")] = None,
    since: Annotated[str | None, typer.Option(
        help="Do not page back further than this time (ISO 8601 or a date).")] = None,
    follows: Annotated[bool, typer.Option(
        "--follows/--no-follows", help="Also collect whom each account follows.")] = True,
    max_retries: Annotated[int, typer.Option(help="Retries per request (429, 5xx, timeouts).")] = 5,
    timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 30.0,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Collect the roster's accounts live: profiles (snapshots), new posts, follows.

    Raw pages are written to --out before they are ingested. Tokens come only from the
    environment: SOCIALENS_MASTODON_TOKEN (optional), SOCIALENS_X_BEARER_TOKEN (x). Exits 1 when
    the run stopped early; the next run continues where it stopped.
    """
    from socialens.collect import collect as run_collect

    with _open(workspace) as ws, _progress() as progress:
        task = progress.add_task(f"collecting {platform}", total=None)
        rep = run_collect(ws, platform, roster=roster, base_url=base_url, out=out_dir,
                          max_pages=max_pages, since=since, follows=follows,
                          max_retries=max_retries, timeout=timeout,
                          on_account=lambda label: progress.update(task, description=label))
    if json_out:
        out.print_json(json.dumps(rep.as_dict(), default=str))
    else:
        table = Table(title=f"collect {platform}", show_edge=False)
        for col in ("account", "status", "requests", "pages", "posts", "follows"):
            table.add_column(col, justify="left" if col in ("account", "status") else "right")
        for a in rep.accounts:
            table.add_row(escape(a.account), a.status, str(a.requests), str(a.pages),
                          str(a.posts_seen),
                          str(a.follows_seen))
        out.print(table)
        f, t = rep.fetch, rep.ingest_totals
        out.print(f"requests {f.get('requests', 0)}, retries {f.get('retries', 0)}, waited "
                  f"{f.get('slept_seconds', 0)} s; ingested: read {t['read']}, loaded "
                  f"{t['loaded']}, duplicate {t['duplicate']}, quarantined {t['quarantined']}",
                  highlight=False)
        _say(f"raw pages: {rep.run_dir}")
        for a in rep.accounts:
            if a.note:
                out.print(f"  note: {a.account}: {a.note}", highlight=False, markup=False)
        for note in rep.notes:
            out.print(f"  note: {note}", highlight=False, markup=False)
    if not rep.complete:
        raise _fail(f"the collection stopped early: {rep.stopped}")


# -- enrich ----------------------------------------------------------------------------------
EngineOpt = Annotated[str, typer.Option(
    help="duckdb (the workspace) or spark (a lake, see --lake).")]
LakeOpt = Annotated[str | None, typer.Option(
    help="With --engine spark: the lake folder or URI written by `export --parquet-lake`.")]


def _check_engine(engine: str, lake: str | None) -> None:
    if engine not in ("duckdb", "spark"):
        raise _fail(f"--engine {engine!r}: use duckdb or spark")
    if (engine == "spark") != (lake is not None):
        raise _fail("--engine spark reads a lake: give --lake DIR (written by `socialens export "
                    "--out DIR --parquet-lake`)" if lake is None else
                    "--lake is read by the Spark engine: add --engine spark")


@command()
def enrich(
    workspace: WorkspaceOpt = None,
    markers_mode: Annotated[
        str, typer.Option("--markers-mode", help="Style markers: default, or convokit (parity).")
    ] = "default",
    sharing_method: Annotated[
        str, typer.Option("--sharing", help="Personal/professional classifier: model or baseline.")
    ] = "model",
    batch_size: Annotated[int, typer.Option(help="Posts per batch and transaction.")] = 5000,
    workers: Annotated[int, typer.Option(
        help="Processes computing features in parallel (0 = one per CPU).")] = 0,
    json_out: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
    engine: EngineOpt = "duckdb",
    lake: LakeOpt = None,
) -> None:
    """Compute post features (tone, style markers, personal/professional, entities, language).

    Incremental: only posts without features at the current feature version are enriched.
    With --engine spark, the posts of a lake are enriched by Spark and the features written
    back into the lake.
    """
    from socialens.enrich import enrich as run_enrich

    _check_engine(engine, lake)
    if engine == "spark":
        from socialens.spark import SparkWorkspace, enrich_lake

        with SparkWorkspace(lake) as sw:
            res = enrich_lake(sw, markers_mode=markers_mode, sharing_method=sharing_method,
                              batch_size=batch_size)
        if json_out:
            out.print_json(json.dumps(res))
        else:
            _say(f"enriched {res['enriched']} posts of the lake {lake} with Spark (feature "
                 f"version {res['feature_version']}); {res['entities_added']} entities added")
        return
    with _open(workspace, must_exist=True) as ws, _progress() as progress:
        task = progress.add_task("enriching posts", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = run_enrich(ws, batch_size=batch_size, markers_mode=markers_mode,
                            sharing_method=sharing_method, on_progress=on_progress,
                            workers=workers)
    if json_out:
        out.print_json(json.dumps(result.as_dict()))
        return
    _say(
        f"enriched {result.enriched} posts (feature version {result.feature_version}, markers "
        f"{result.markers_mode}); {result.skipped_already_done} already done; "
        f"{result.entities_added} entities added; {result.non_english} not English"
    )
    for name, counts in (("tone", result.by_tone_label), ("sharing", result.by_sharing_label)):
        if counts:
            _say(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


# -- analyze ---------------------------------------------------------------------------------
def _analysis_params(as_of, snapshot, leaders, window_start, window_end, platform,
                     account_filter=None) -> dict:
    params = {"leaders": leaders}
    for k, v in (("as_of", as_of), ("snapshot", snapshot), ("window_start", window_start),
                 ("window_end", window_end), ("platform", platform),
                 ("account_filter", account_filter)):
        if v is not None:
            params[k] = v
    return params


def _warn_snapshot(ws, snapshot: str | None) -> None:
    """Warn when --snapshot is after the latest snapshot in the workspace (that one is used)."""
    if snapshot is not None:
        from socialens.analyses.common import snapshot_after_data

        note = snapshot_after_data(ws, snapshot)
        if note:
            _warn(note)


def _out_file(path: Path) -> Path:
    """An output file whose folder is created if missing (a clear error if it cannot be)."""
    if path.is_dir():
        raise _fail(f"{path} is a folder; give a file name, e.g. {path / 'summary.json'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(f"cannot create the folder {path.parent} for {path}: "
                    f"{exc.strerror or exc}") from None
    return path


AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Time at which roles (who leads) are read; default: the snapshot time.")]
SnapshotOpt = Annotated[str | None, typer.Option(
    help="Use the follower snapshot nearest before this time; default: the latest.")]
LeadersOpt = Annotated[str, typer.Option(
    help="Leader selection: 'is_leader' (flag of roles held), 'level<=N', or 'ids:a,b,c'.")]
WindowStartOpt = Annotated[str | None, typer.Option(help="Observation window start (posts).")]
WindowEndOpt = Annotated[str | None, typer.Option(help="Observation window end (posts).")]
PlatformOpt = Annotated[str | None, typer.Option(help="Restrict to one platform.")]
AccountFilterOpt = Annotated[str | None, typer.Option(
    help="Only accounts whose attrs match key=value, e.g. official_listing=true.")]
PseudonymizeOpt = Annotated[bool, typer.Option(
    "--pseudonymize", help="Name nobody: every person and account under a keyed pseudonym "
    "(Person 3f9a2c1d, @p-3f9a2c1d), also inside post texts; people who did not opt in always "
    "are.")]
ShowPathsOpt = Annotated[bool, typer.Option(
    "--show-paths", help="Show the paths of the ingested files (withheld by default: a file "
    "name can name a person).")]
KeyFileOpt = Annotated[Path | None, typer.Option(
    "--key-file", help="File holding the study key of the pseudonyms (default: "
    "$SOCIALENS_STUDY_KEY, else WORKSPACE.study-key, created on first use).")]
BehaviourOpt = Annotated[list[str] | None, typer.Option(
    "--behaviour", "--behaviours", "-b",
    help="Behaviour for the contagion analysis (repeatable): hashtag:#Tag, top-hashtags:N, "
    "platform, 'topic:name=word,other words', personal, tone:negative; default top-hashtags:20. "
    "The tone analysis takes the topics among them (hashtags, topics, top-hashtags:N).")]
KindsOpt = Annotated[str | None, typer.Option(
    "--kinds", help="Edge kinds of the network for reach and interactions, comma-separated "
    "(follows, reply, mention, repost, quote, interaction); default: each analysis's own.")]
ReversedKindsOpt = Annotated[str | None, typer.Option(
    "--reversed-kinds", help="Edge kinds to read in the opposite direction (e.g. interaction "
    "ties recorded as 'dst pays attention to src'), comma-separated.")]


ExposureKindsOpt = Annotated[str | None, typer.Option(
    "--exposure", help="Exposure network of the behaviour analyses (contagion, contagion_tests), "
    "comma-separated from follows, reply, mention, repost, quote, interaction, manager "
    "(one's manager), leaders_above (every leader above one in the reporting chain); for "
    "joining the platform use manager,leaders_above; default follows,reply,mention.")]
ControlsOpt = Annotated[str | None, typer.Option(
    "--controls", help="Controls of the influence tests' hazard model (contagion_tests), "
    "comma-separated from level, department, or 'none'; default department.")]
ClusterOpt = Annotated[str | None, typer.Option(
    "--cluster", help="Inference of the influence tests: 'department' (clustered, the "
    "default) or 'none' (model-based intervals, permutation p-value).")]


def _influence_params(params: dict, exposure: str | None, controls: str | None,
                      cluster: str | None) -> None:
    """Add ``exposure``, ``controls`` and ``cluster`` to the analysis parameters, checked."""
    if exposure is not None:
        from socialens.behaviours import EXPOSURE_KINDS

        params["exposure"] = _kinds("--exposure", exposure, EXPOSURE_KINDS)
    if controls is not None:
        chosen = tuple(c.strip() for c in controls.split(",") if c.strip())
        params["controls"] = () if chosen == ("none",) else chosen
    if cluster is not None:
        if cluster not in ("department", "none"):
            raise _fail(f"--cluster {cluster!r}: choose department or none")
        params["cluster"] = None if cluster == "none" else cluster


def _network_params(params: dict, kinds: str | None, reversed_kinds: str | None) -> None:
    """Add ``kinds`` / ``reversed_kinds`` to the analysis parameters, checked against the known
    edge kinds so that a typo is an error that lists them, not an analysis 'not available'."""
    from socialens.network import NETWORK_KINDS

    for name, value in (("kinds", kinds), ("reversed_kinds", reversed_kinds)):
        if value is not None:
            params[name] = _kinds(f"--{name.replace('_', '-')}", value, NETWORK_KINDS,
                                  allow_empty=name == "reversed_kinds")


def _kinds(flag: str, value: str, known, allow_empty: bool = False) -> tuple[str, ...]:
    """A comma-separated list of kinds, each checked against ``known`` (an error names them)."""
    chosen = tuple(k.strip() for k in value.split(",") if k.strip())
    bad = [k for k in chosen if k not in known]
    if bad or (not chosen and not allow_empty):
        raise _fail(f"{flag} {value!r}: unknown edge kind {', '.join(bad) or '(none given)'}; "
                    f"known kinds: {', '.join(known)}")
    return chosen


@command()
def analyze(
    workspace: WorkspaceOpt = None,
    names: Annotated[list[str] | None, typer.Option(
        "--analysis", "-a", help="Analysis to run (repeatable); default: all.")] = None,
    as_of: AsOfOpt = None,
    snapshot: SnapshotOpt = None,
    leaders: LeadersOpt = "is_leader",
    window_start: WindowStartOpt = None,
    window_end: WindowEndOpt = None,
    platform: PlatformOpt = None,
    account_filter: AccountFilterOpt = None,
    behaviours: BehaviourOpt = None,
    kinds: KindsOpt = None,
    reversed_kinds: ReversedKindsOpt = None,
    exposure: ExposureKindsOpt = None,
    controls: ControlsOpt = None,
    cluster: ClusterOpt = None,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Also write {analyses: {name: {summary, params}}} to this file (its "
        "folder is created if missing).")] = None,
    engine: EngineOpt = "duckdb",
    lake: LakeOpt = None,
) -> None:
    """Run analyses and print their headline answers."""
    from socialens.analyses import run_all, summaries

    if json_out:
        _out_file(json_out)
    _check_engine(engine, lake)

    params = _analysis_params(as_of, snapshot, leaders, window_start, window_end, platform,
                              account_filter)
    if behaviours:
        params["behaviours"] = list(behaviours)
    _network_params(params, kinds, reversed_kinds)
    _influence_params(params, exposure, controls, cluster)
    from socialens.privacy import map_leaders, restrict

    unavailable: dict[str, str] = {}
    if engine == "spark":  # the lake was written through the boundary (socialens.lake)
        from socialens.spark import SparkWorkspace

        with SparkWorkspace(lake) as ws:
            if ws.consent is None or not ws.consent.get("hide"):
                _say("note: this lake was written with --include-all: its output names "
                     "everyone; keep it internal")
            results = run_all(ws, names=names, unavailable=unavailable, **params)
    else:
        with _open(workspace, read_only=True) as ws:
            restrict(ws)  # summary.json is published output: public posts, consent (privacy.py)
            _warn_snapshot(ws, snapshot)
            params["leaders"] = map_leaders(ws, params["leaders"])
            results = run_all(ws, names=names, unavailable=unavailable, **params)
    for name in [n for n in (names or []) if n in results or n in unavailable] or [
            *results, *unavailable]:
        if name in results:
            out.print(f"[bold]{escape(name)}[/]: {escape(results[name].headline)}", highlight=False)
        elif name in unavailable:
            out.print(f"[bold]{escape(name)}[/]: not available: {escape(unavailable[name])}",
                      highlight=False)
    if json_out:
        json_out.write_text(json.dumps(summaries(results, unavailable), indent=2, default=str)
                            + "\n")
        _say(f"wrote {json_out}")
    if not results:
        raise _fail("no analysis could run on this workspace; see the reasons above")


# -- report ----------------------------------------------------------------------------------
@command()
def report(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for report.html and summary.json.")],
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    snapshot: SnapshotOpt = None,
    leaders: LeadersOpt = "is_leader",
    window_start: WindowStartOpt = None,
    window_end: WindowEndOpt = None,
    platform: PlatformOpt = None,
    account_filter: AccountFilterOpt = None,
    behaviours: BehaviourOpt = None,
    kinds: KindsOpt = None,
    reversed_kinds: ReversedKindsOpt = None,
    exposure: ExposureKindsOpt = None,
    influence_tests: Annotated[bool, typer.Option(
        "--influence-tests", help="Also run the influence tests (contagion_tests: hazard ratios "
        "of leader exposure, clustered by department, with their tests) and give them a "
        "section; slow on many behaviours.")] = False,
    controls: ControlsOpt = None,
    cluster: ClusterOpt = None,
    title: Annotated[str | None, typer.Option(help="Report title.")] = None,
    include_all: Annotated[bool, typer.Option(
        "--include-all", help="Also name people who did not opt in (e.g. a study of public "
        "officials); recorded in the report's header and summary.json.")] = False,
    pseudonymize: PseudonymizeOpt = False,
    show_paths: ShowPathsOpt = False,
    key_file: KeyFileOpt = None,
    engine: EngineOpt = "duckdb",
    lake: LakeOpt = None,
) -> None:
    """Write a self-contained HTML report (report.html) and summary.json.

    An analysis that cannot run on the workspace is reported as not available, with its reason.
    """
    from socialens.report import write_report

    _check_engine(engine, lake)
    params = _analysis_params(as_of, snapshot, leaders, window_start, window_end, platform,
                              account_filter)
    if behaviours:
        params["behaviours"] = list(behaviours)
    _network_params(params, kinds, reversed_kinds)
    _influence_params(params, exposure, controls, cluster)
    if (controls is not None or cluster is not None) and not influence_tests:
        raise _fail("--controls and --cluster set up the influence tests: add --influence-tests")
    if engine == "spark":  # the lake's own boundary must cover what the report asks for
        from socialens.spark import SparkWorkspace

        opener = SparkWorkspace(lake)
    else:
        opener = _open(workspace, read_only=True)
    with opener as ws:
        if engine == "duckdb":
            _warn_snapshot(ws, snapshot)
        paths = write_report(ws, out_dir, title=title, include_all=include_all,
                             pseudonymize=pseudonymize, show_paths=show_paths, key_file=key_file,
                             names=["contagion_tests"] if influence_tests else None, **params)
    for name, reason in paths["not_available"].items():
        _say(f"{name}: not available: {reason}")
    if include_all and not pseudonymize:
        err.print("[bold yellow]Warning:[/] --include-all: people who did not opt in are named "
                  "in this report.", highlight=False)
    _say(f"report: {paths['html']}\nsummary: {paths['json']}")


# -- first-use -------------------------------------------------------------------------------
@command("first-use")
def first_use_cmd(
    behaviours: BehaviourOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    leaders: LeadersOpt = "is_leader",
    window_start: WindowStartOpt = None,
    window_end: WindowEndOpt = None,
    exposure: Annotated[str, typer.Option(
        help="Exposure network: follows, reply, mention, repost, quote, interaction, manager "
        "(comma-separated).")] = "follows,reply,mention",
    limit: Annotated[int, typer.Option(help="Adopters shown per behaviour (0 = all).")] = 20,
    csv_out: Annotated[Path | None, typer.Option(
        "--csv", help="Write every row to this CSV file instead of printing.")] = None,
) -> None:
    """Who used a behaviour first, and who followed: each adopter with the leaders and peers
    among their contacts who had used it before them."""
    from socialens.behaviours import adoption_sequence

    if csv_out:
        _out_file(csv_out)
    with _open(workspace, read_only=True) as ws:
        seq = adoption_sequence(ws, behaviours or ["top-hashtags:5"], leaders=leaders,
                                as_of=as_of, exposure=exposure, window_start=window_start,
                                window_end=window_end)
    if csv_out:
        seq.to_csv(csv_out, index=False)
        _say(f"wrote {len(seq)} rows to {csv_out}")
        return
    for name, g in seq.groupby("behaviour", sort=False):
        shown = g if limit <= 0 else g.head(limit)
        cols = ["order", "name", "leader", "at", "days_after_first", "leaders_seen",
                "peers_seen", "seen_first"]
        title = f"{name}: {len(g)} adopters" + (f" (first {len(shown)})" if len(shown) < len(g)
                                                else "")
        shown = shown.assign(days_after_first=shown.days_after_first.round(1))
        _print_table(_frame_table(shown[cols], title))


# -- demo ------------------------------------------------------------------------------------
@command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("demo-out"),
) -> None:
    """Build a workspace from the bundled US Congress dataset, analyze it, write the report and
    publish the directory site."""
    from socialens.datasets.demo import run_demo

    with _progress() as progress:
        task = progress.add_task("demo", total=None)
        res = run_demo(out_dir, on_step=lambda msg: progress.update(task, description=msg))
    _say(res["answer"])
    _say(f"\nworkspace: {res['workspace']}\nreport:    {res['html']}\nsummary:   {res['json']}"
         f"\nsite:      {res['site']}")


# -- simulate --------------------------------------------------------------------------------
@command()
def simulate(
    out_ws: Annotated[Path, typer.Option("--out", "-o", help="Workspace to write (created if missing).")],
    people: Annotated[int | None, typer.Option(help="Number of people (default: the preset's).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives identical files.")] = 0,
    preset: Annotated[str | None, typer.Option(
        help="Named preset: default, null, homophily-only, unconfounded, strong-leaders, "
        "zappos-2009, scale (see docs/simulation.md).")] = None,
    config: Annotated[Path | None, typer.Option(
        help="JSON or YAML file of parameter overrides (see SimConfig).")] = None,
    files: Annotated[Path | None, typer.Option(
        help="Folder for the canonical files and ground truth (default: <out>.sim/).")] = None,
    no_ingest: Annotated[bool, typer.Option(
        "--no-ingest", help="Only write the files; do not load them into the workspace.")] = False,
) -> None:
    """Generate a simulated organization with planted leader effects and known ground truth."""
    from socialens.simulate import simulate as run

    with _progress() as progress:
        task = progress.add_task("simulate", total=None)
        res = run(people, seed, preset=preset, config=config, out=out_ws, files=files,
                  ingest=not no_ingest,
                  progress=lambda msg: progress.update(task, description=msg))
    rows = res.rows
    _say(f"simulated {res.config.people} people ({res.config.preset}, seed {res.seed}): "
         f"{rows.get('accounts', 0)} accounts, {rows.get('posts', 0)} posts, "
         f"{rows.get('edges', 0)} edges")
    _say(f"files:     {res.files}")
    if res.workspace:
        _say(f"workspace: {res.workspace}")


# -- export ----------------------------------------------------------------------------------
@command()
def export(
    out_dir: Annotated[str, typer.Option(
        "--out", "-o", help="Output folder (with --parquet-lake also an object-storage URI, "
        "e.g. s3://bucket/prefix).")],
    workspace: WorkspaceOpt = None,
    tables: Annotated[str, typer.Option(help="Table format: csv or parquet.")] = "csv",
    networks: Annotated[str, typer.Option(
        help="Network formats, comma-separated: gexf,graphml (empty for none).")] = "gexf,graphml",
    convokit: Annotated[bool, typer.Option(help="Also write a ConvoKit corpus folder.")] = True,
    as_of: Annotated[str | None, typer.Option(
        help="Time at which node roles (is_leader) are read; default now.")] = None,
    kinds: Annotated[str | None, typer.Option(
        help="Network edge kinds, comma-separated (follows, reply, mention, repost, quote, "
             "interaction); default all.")] = None,
    before: Annotated[str | None, typer.Option(
        help="Network of the ties made before this time (ISO 8601), e.g. 2017-06-01.")] = None,
    since: Annotated[str | None, typer.Option(
        help="Network of the ties made at or after this time.")] = None,
    include_all: Annotated[bool, typer.Option(
        "--include-all", help="Also name people who did not opt in (an internal export).")] = False,
    pseudonymize: PseudonymizeOpt = False,
    show_paths: ShowPathsOpt = False,
    key_file: KeyFileOpt = None,
    parquet_lake: Annotated[bool, typer.Option(
        "--parquet-lake", help="Write only a lake into --out: every table as Parquet plus "
        "socialens-lake.json, for `analyze --engine spark --lake DIR`. --out may be an "
        "object-storage URI (s3://bucket/prefix; credentials from the environment).")] = False,
) -> None:
    """Write the workspace tables (CSV/Parquet), the networks (GEXF, GraphML) and a ConvoKit corpus.

    Only public posts (and the ties they make) are exported; people who did not opt in (with
    --pseudonymize everyone) appear under keyed pseudonyms, with consistent ids across files."""
    from socialens.export import export_all

    fmts = [f.strip() for f in networks.split(",") if f.strip()]
    from socialens.lake import is_uri

    if is_uri(out_dir) and not parquet_lake:
        raise SocialensError(f"--out {out_dir}: object-storage URIs take a lake only; add "
                             "--parquet-lake, or give a local folder")
    if parquet_lake:  # engine: the lake for other engines (socialens.lake)
        from socialens.lake import write_lake

        with _open(workspace, read_only=True) as ws:
            m = write_lake(ws, out_dir, include_all=include_all, pseudonymize=pseudonymize,
                           show_paths=show_paths, key_file=key_file)
        rows = sum(t["rows"] for t in m["tables"].values())
        _say(f"lake      {out_dir}: {len(m['tables'])} tables, {rows:,} rows")
        return
    with _open(workspace, read_only=True) as ws:
        res = export_all(ws, Path(out_dir), table_format=tables, network_formats=fmts,
                         convokit=convokit, as_of=as_of, before=before, since=since,
                         kinds=[k for k in kinds.split(",") if k.strip()] if kinds else None,
                         include_all=include_all, pseudonymize=pseudonymize,
                         show_paths=show_paths, key_file=key_file)
    for kind, paths in res.items():
        for p in paths:
            _say(f"{kind:9} {p}")


# -- status / quarantine / sql --------------------------------------------------------------
def _frame_table(df, title: str | None = None) -> Table:
    """A DataFrame as a Rich table; cells are shown as text (never read as markup)."""
    from socialens.status import to_jsonable

    table = Table(title=title, show_edge=False)
    for col in df.columns:
        numeric = df[col].dtype.kind in "iuf"
        table.add_column(escape(str(col)), justify="right" if numeric else "left")
    for row in df.itertuples(index=False):
        cells = []
        for v in row:
            v = to_jsonable(v)
            cells.append("" if v is None else escape(v if isinstance(v, str) else json.dumps(v)))
        table.add_row(*cells)
    return table


def _print_table(table: Table) -> None:
    """Print a table at its natural width when the output is not a terminal (a pipe, a file):
    cells are then never cut to 80 columns."""
    if out.is_terminal:
        out.print(table)
    else:
        Console(file=out.file, width=100_000, soft_wrap=True).print(table)


@command()
def status(
    workspace: WorkspaceOpt = None,
    runs: Annotated[int, typer.Option(help="Show this many of the latest ingest runs.")] = 10,
    json_out: Annotated[bool, typer.Option("--json", help="Print everything as JSON.")] = False,
) -> None:
    """What the workspace holds: tables and row counts, ingest runs, quarantine reasons,
    enrichment state and schema migrations."""
    from socialens.status import status as run_status

    with _open(workspace, read_only=True) as ws:
        st = run_status(ws)
    if json_out:
        out.print_json(json.dumps(st.as_dict()))
        return
    _say(f"workspace {st.path} ({st.size_bytes / 1e6:.1f} MB), socialens {st.socialens_version}")
    _say(f"migrations: {', '.join(st.migrations)}")
    tables = Table(title="tables", show_edge=False)
    tables.add_column("table")
    tables.add_column("rows", justify="right")
    for name, n in st.tables.items():
        tables.add_row(name, f"{n:,}")
    _print_table(tables)
    e = st.enrichment
    _say(f"enrichment: {e['enriched']:,} of {e['posts']:,} posts have features at version "
         f"{e['feature_version']}" + (f"; {e['pending']:,} pending (`socialens enrich`)"
                                      if e["pending"] else ""))
    if st.runs.empty:
        _say("ingest runs: none yet (`socialens ingest FILES`)")
    else:
        shown = st.runs.head(runs).drop(columns=["started_at"])  # the run id starts with it
        shown["source_path"] = [Path(x).name for x in shown["source_path"]]
        shown = shown.rename(columns={"run_id": "run", "source_path": "file", "n_read": "read",
                                      "n_loaded": "loaded", "n_duplicate": "duplicate",
                                      "n_merged": "merged", "n_quarantined": "quarantined"})
        title = f"ingest runs ({len(shown)} latest of {len(st.runs)})" \
            if len(st.runs) > len(shown) else "ingest runs"
        _print_table(_frame_table(shown, title))
    if st.quarantine.empty:
        _say("quarantine: empty")
    else:
        n = int(st.quarantine["n"].sum())
        _print_table(_frame_table(st.quarantine, f"quarantine: {n:,} record{'s' * (n != 1)} by "
                                  "reason (`socialens quarantine` lists them)"))


@command()
def quarantine(
    workspace: WorkspaceOpt = None,
    run: Annotated[str | None, typer.Option(
        help="Only this ingest run: its id, a unique prefix of it, or 'latest'.")] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many records (0 = all).")] = 50,
    raw: Annotated[bool, typer.Option("--raw", help="Also show each record as read.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the records as JSON.")] = False,
) -> None:
    """List the records ingest rejected, with file, line, target table, field and reason."""
    from socialens.status import quarantine as list_quarantine

    if limit < 0:
        raise _fail(f"--limit {limit} is negative; give 0 (all) or more")
    with _open(workspace, read_only=True) as ws:
        q = list_quarantine(ws, run=run, limit=limit or None, raw=raw)
    if json_out:
        out.print_json(json.dumps(q.as_dict()))
        return
    if q.total == 0:
        _say("no quarantined records" + (f" in run {run}" if run else ""))
        return
    _print_table(_frame_table(q.rows, f"quarantine: {len(q.rows)} of {q.total} record"
                              f"{'s' * (q.total != 1)}"
                              + (f" (--limit {limit}; --limit 0 for all)"
                                 if q.total > len(q.rows) else "")))


@command()
def forget(
    who: Annotated[str, typer.Argument(
        help="The person to remove: a person_id, an account_id (platform:id) or a handle.")],
    workspace: WorkspaceOpt = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Count what would be removed; change nothing.")] = False,
    site: Annotated[list[Path] | None, typer.Option(
        "--site", help="A folder built by `socialens publish` to rebuild without them (default "
        "publish options); repeatable.")] = None,
    no_compact: Annotated[bool, typer.Option(
        "--no-compact", help="Do not rewrite the workspace file afterwards (deleted rows' bytes "
        "then stay in its free blocks; see docs/privacy.md).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print what was removed as JSON.")] = False,
) -> None:
    """Remove a person everywhere in the workspace (rows, posts, features, entities, edges,
    snapshots, collect state, quarantined raw records, serve copies) and say what was removed.

    Mentions of them in others' posts are rewritten to @[forgotten]; a tombstone (a hash) makes
    a later ingest of the same files quarantine their records. See docs/privacy.md.
    """
    from socialens.forget import forget as forget_person

    with _open(workspace, read_only=dry_run, must_exist=True) as ws:
        res = forget_person(ws, who, dry_run=dry_run, compact=not no_compact, sites=site or [])
    if json_out:
        out.print_json(json.dumps(res.as_dict()))
    else:
        _say(res.summary())


@command()
def sql(
    query: Annotated[str, typer.Argument(help="The SQL query (DuckDB dialect).")],
    workspace: WorkspaceOpt = None,
    write: Annotated[bool, typer.Option(
        "--write", help="Open the workspace for writing (default: read-only, so a query cannot "
        "change it).")] = False,
    csv_out: Annotated[bool, typer.Option("--csv", help="Print the result as CSV.")] = False,
    json_out: Annotated[bool, typer.Option(
        "--json", help="Print the result as a JSON list of objects.")] = False,
) -> None:
    """Run an SQL query on the workspace and print the result (a table, CSV or JSON).

    The tables and their columns are in docs/data_format.md, e.g.
    socialens sql "SELECT platform, count(*) AS n FROM accounts GROUP BY platform".
    """
    from socialens.status import run_sql, to_records

    if csv_out and json_out:
        raise _fail("choose one of --csv and --json")
    with _open(workspace, read_only=not write, must_exist=True) as ws:
        df = run_sql(ws, query)
    if json_out:
        out.print_json(json.dumps(to_records(df)))
    elif csv_out:
        typer.echo(df.to_csv(index=False), nl=False)
    elif len(df.columns):
        _print_table(_frame_table(df))
        _say(f"{len(df)} row{'s' if len(df) != 1 else ''}")
    else:
        _say("done (no result rows)")


# -- publish / serve (the directory site) ---------------------------------------------------
@command()
def publish(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the site (replaced).")],
    workspace: WorkspaceOpt = None,
    include_all: Annotated[bool, typer.Option(
        "--include-all", help="Also list people who did not opt in (internal-only build).")] = False,
    pseudonymize: PseudonymizeOpt = False,
    show_paths: ShowPathsOpt = False,
    key_file: KeyFileOpt = None,
    with_report: Annotated[bool, typer.Option(
        "--report/--no-report", help="Also write the research report into SITE/report/.")] = True,
    base_url: Annotated[str | None, typer.Option(
        help="Where the site will be hosted; makes links in feeds and OPML absolute.")] = None,
    title: Annotated[str | None, typer.Option(help="Site title.")] = None,
    as_of: AsOfOpt = None,
    snapshot: SnapshotOpt = None,
    leaders: LeadersOpt = "is_leader",
    platform: PlatformOpt = None,
    account_filter: AccountFilterOpt = None,
) -> None:
    """Build the organization's social media directory as a static site (plain files).

    Only people who opted in are listed, unless --include-all.
    """
    from socialens.site import publish as run_publish

    with _open(workspace, read_only=True) as ws:
        _warn_snapshot(ws, snapshot)
        res = run_publish(ws, out_dir, include_all=include_all, pseudonymize=pseudonymize,
                          show_paths=show_paths, key_file=key_file, report=with_report,
                          base_url=base_url, title=title, as_of=as_of, snapshot=snapshot,
                          leaders=leaders, platform=platform, account_filter=account_filter)
    if include_all:
        err.print(f"[bold yellow]Warning:[/] internal build: {res.n_not_listed} people who did not "
                  "opt in are listed; do not publish this site.", highlight=False)
    _say(f"site: {res.out_dir / 'index.html'} ({res.n_people} people, {len(res.files)} files, "
         f"{res.total_bytes / 1e6:.1f} MB, {res.seconds:.1f} s)")
    n_relative = 0 if base_url else _relative_feed_links(res.out_dir / "subscriptions.opml")
    if n_relative:
        _warn(f"{n_relative} feed links in subscriptions.opml point into the site with relative "
              "URLs, which a feed reader importing the file cannot follow; publish with "
              "--base-url https://WHERE-THE-SITE-WILL-BE/ to make them absolute.")
    for note in res.notes:
        out.print(f"  note: {note}", highlight=False, markup=False)


def _relative_feed_links(opml: Path) -> int:
    """Number of ``xmlUrl`` links in an OPML file that are not absolute URLs."""
    import xml.etree.ElementTree as ET

    if not opml.exists():
        return 0
    urls = [o.get("xmlUrl") for o in ET.parse(opml).iter("outline") if o.get("xmlUrl")]
    return sum(1 for u in urls if "://" not in u)


def _check_port(host: str, port: int) -> None:
    """Fail with a message, before anything is loaded or printed, when ``host:port`` cannot be
    bound (e.g. another server uses the port)."""
    import errno
    import os
    import socket

    try:
        family, kind, proto, _, addr = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise _fail(f"--host {host}: {exc.strerror or exc}; give an address such as 127.0.0.1"
                    ) from None
    with socket.socket(family, kind, proto) as sock:
        if os.name != "nt":  # as uvicorn does; on Windows it would allow taking a used port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
        except OSError as exc:
            busy = "already in use (is another server, perhaps another `socialens serve`, " \
                   "running?)" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
            raise _fail(f"cannot listen on {host}:{port}: {busy}; stop that server or choose "
                        f"another --port, e.g. --port {port + 1 if port < 65535 else 8000}"
                        ) from None


@command()
def serve(
    workspace: WorkspaceOpt = None,
    host: Annotated[str, typer.Option(
        help="Address to bind. Anything but loopback exposes the app to the network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    include_all: Annotated[bool, typer.Option(
        "--include-all", help="Also list people who did not opt in (internal use).")] = False,
    public: Annotated[bool, typer.Option(
        "--public", help="The directory is meant to be public: serve only what `socialens "
        "publish` writes (pages, feeds, exports, report; no /api, no /openapi.json). Needed to "
        "bind a non-loopback --host without SOCIALENS_TOKEN.")] = False,
    title: Annotated[str | None, typer.Option(help="Site title.")] = None,
    as_of: AsOfOpt = None,
    snapshot: SnapshotOpt = None,
    leaders: LeadersOpt = "is_leader",
    platform: PlatformOpt = None,
    account_filter: AccountFilterOpt = None,
) -> None:
    """Serve the directory and a read-only JSON API (/api/..., /openapi.json) from the workspace.

    Set SOCIALENS_TOKEN to require a token on every route (header `Authorization: Bearer TOKEN`,
    or `?token=TOKEN` once in a browser, which is exchanged for a cookie). A non-loopback --host
    needs SOCIALENS_TOKEN or --public.

    ingest, collect and enrich can write the workspace meanwhile: serve reads a copy of it
    (WORKSPACE.serve/) that they refresh when they finish, and shows the new data without a
    restart (docs/site.md).
    """
    import os

    from socialens.site.app import bind_policy, create_app, is_loopback, run

    if not 1 <= port <= 65535:
        raise _fail(f"--port {port} is not a port number (1-65535)")
    token = os.environ.get("SOCIALENS_TOKEN") or None
    allowed_hosts = bind_policy(host, token=token, public=public, include_all=include_all)
    _check_port(host, port)
    if not is_loopback(host):
        _warn(f"binding to {host} makes the directory reachable from other machines"
              + (" (public: only the published site, no API)" if public else ""))
    # serves a copy that ingest/collect/enrich refresh as they write (socialens.serve_copy)
    application = create_app(workspace, include_all=include_all, token=token, title=title,
                             allowed_hosts=allowed_hosts, public=public,
                             as_of=as_of, snapshot=snapshot, leaders=leaders, platform=platform,
                             account_filter=account_filter)
    live = application.app.state.socialens_live
    _warn_snapshot(live.current().ws, snapshot)
    if live.copy is None:
        _warn(f"serving {live.source} itself, read-only: {live.direct_reason}, so commands that "
              "write it (ingest, collect, enrich, init) must wait until serve stops")
    _say(f"serving on http://{host}:{port}/ (Ctrl+C to stop)")
    run(application, host=host, port=port)


def main() -> None:
    """Entry point of the ``socialens`` script."""
    try:
        app()
    except SocialensError as exc:  # pragma: no cover - safety net outside commands
        err.print(f"Error: {exc}", markup=False)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
