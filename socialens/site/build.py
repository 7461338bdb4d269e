"""``socialens publish``: the directory as a static site — plain files, no CDN, no server needed.

Layout of the output folder::

    index.html                 the ranked directory (search, filters, sorting, paging in site.js)
    people/<slug>.html         one page per person (accounts, counters, role history, posts)
    feed.html                  everyone's recent posts
    subscribe.html             links to every subscription file
    feeds/*.atom               all, leaders, one per department, one per person
    subscriptions.opml         every account's feed
    exports/bluesky-starter-packs.json, exports/mastodon-lists.csv
    report/report.html         the research report (through the same privacy boundary)
    assets/site.css, assets/site.js

Every page carries a Content-Security-Policy that allows only the site's own script and style
files; the directory's data for client-side search is JSON inside
``<script type="application/json">`` (see :func:`socialens.site.security.json_for_script`).

The site is built in a staging folder beside ``--out`` (``.<name>.socialens-publish-<pid>-*``,
same file system), the marker written last, and swapped into place by one rename only when
complete (see :func:`_swap_into_place`): a reader of the folder sees the old site or the new one,
never a half, and a killed build leaves the old site as it was. Staging folders of builds that
no longer run are removed by the next build.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from socialens.privacy import published
from socialens.site.feeds import department_feeds, mastodon_address, subscription_files
from socialens.site.model import SORT_KEYS, Directory, SiteError, load_directory
from socialens.site.security import CSP, json_for_script
from socialens.workspace import Workspace

__all__ = ["publish", "PublishResult", "Renderer", "directory_rows", "ASSETS", "MARKER",
           "run_analyses"]

#: Files shipped with the package and copied to ``assets/``.
ASSETS = {"site.css": "text/css", "site.js": "text/javascript"}
#: Written into every built site; a folder without it is never deleted or overwritten.
MARKER = ".socialens-site"
#: Rows of the directory rendered into the HTML (the rest is paged in by site.js).
SERVER_ROWS = 100


def directory_rows(d: Directory) -> list[dict]:
    """The compact rows embedded in the directory page for client-side search."""
    rows = []
    for p in d.people:
        lp = p["latest_post"]["text"] if p["latest_post"] else ""
        rows.append({
            "r": p["rank"], "s": p["slug"], "n": p["name"], "t": p["title"],
            "d": p["department"], "L": p["leader"], "f": p["followers"], "p": p["posts"],
            "a": p["adopted_at"], "i": p["internal_followers"],
            "lp": (lp[:139] + "…") if len(lp) > 140 else lp,
            "acc": [[a["platform"], a["handle"] or a["account_id"], a["url"]]
                    for a in d.accounts.get(p["person_id"], [])],
        })
    return rows


def asset_text(name: str) -> str:
    """The text of a shipped asset (``site.css``, ``site.js``)."""
    if name not in ASSETS:
        raise KeyError(name)
    return resources.files("socialens.site").joinpath("static", name).read_text(encoding="utf-8")


class Renderer:
    """Renders the site's pages from a :class:`Directory` (used by publish and by serve)."""

    def __init__(self, d: Directory, *, has_report: bool = False, cards: dict | None = None):
        from socialens import __version__

        self.d = d
        self.has_report = has_report
        self.cards = cards or {}  # person_id -> the leader report card (escaped HTML)
        self.env = Environment(loader=PackageLoader("socialens.site", "templates"),
                               autoescape=select_autoescape(["html", "j2", "xml"],
                                                            default_for_string=True),
                               trim_blocks=False, lstrip_blocks=False)
        self.common = {"d": d, "csp": CSP, "version": __version__, "has_report": has_report,
                       "sort_keys": SORT_KEYS}

    def _render(self, template: str, root: str, **ctx) -> str:
        return self.env.get_template(template).render(root=root, **self.common, **ctx)

    def directory(self) -> str:
        return self._render("directory.html.j2", "", page="directory",
                            shown=self.d.people[:SERVER_ROWS],
                            data_json=Markup(json_for_script(directory_rows(self.d))))

    def person(self, p: dict, *, card: Markup | None = None, card_note: str | None = None) -> str:
        """A person's page; ``card`` (escaped HTML) overrides the card given at construction,
        ``card_note`` is said where a leader's card is not there yet (``serve`` computes it in the
        background)."""
        return self._render("person.html.j2", "../", page="person", p=p,
                            accounts=self.d.accounts.get(p["person_id"], []),
                            roles=self.d.roles.get(p["person_id"], []),
                            posts=self.d.recent_posts.get(p["person_id"], []),
                            card=card if card is not None else self.cards.get(p["person_id"]),
                            card_note=card_note)

    def feed(self) -> str:
        return self._render("feed.html.j2", "", page="feed")

    def subscribe(self) -> str:
        accs = self.d.all_accounts()
        return self._render(
            "subscribe.html.j2", "", page="subscribe", dept_feeds=department_feeds(self.d),
            n_accounts=len(accs),
            n_bluesky=sum(a["platform"] == "bluesky" for a in accs),
            n_mastodon=sum(a["platform"] == "mastodon" and mastodon_address(a) is not None
                           for a in accs))


@dataclass
class PublishResult:
    """What :func:`publish` wrote."""

    out_dir: Path
    n_people: int
    n_not_listed: int
    include_all: bool
    files: dict[str, int] = field(default_factory=dict)  # relative path -> bytes
    seconds: float = 0.0
    report: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(self.files.values())


_STAGING = ".socialens-publish-"


def _check_out(out: Path) -> None:
    """Fail, before any work, when ``out`` may not be replaced."""
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise SiteError(f"{out} exists and is not a folder; choose another --out")
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise SiteError(
                f"{out} is not empty and was not built by `socialens publish`; choose an empty "
                "or new folder for --out (a previous site there is replaced, so nobody who has "
                "since opted out stays in it)")


def _pid_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":  # no cheap, safe check (os.kill(pid, 0) is Ctrl+C on Windows)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def _remove_stale_staging(out: Path) -> None:
    """Remove the staging folders beside ``out`` left by builds that no longer run (a killed
    ``publish``): folders named ``.<name>.socialens-publish-<pid>-*`` whose process is gone."""
    pattern = re.compile(re.escape(f".{out.name}{_STAGING}") + r"(\d+)-[A-Za-z0-9_]+(-old)?")
    try:
        entries = list(out.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m and entry.is_dir() and not entry.is_symlink() and not _pid_running(int(m[1])):
            shutil.rmtree(entry, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where the system
    or the file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    return False  # ENOSYS, EINVAL (file system), ...: fall back to two renames


def _swap_into_place(staging: Path, out: Path) -> None:
    """Put the complete site in ``staging`` at ``out``; the old site (if any) ends under the
    staging name and is removed. Where an atomic exchange is available (Linux) ``out`` always
    holds a whole site; elsewhere the old site is renamed aside and the new one renamed in (an
    instant without ``out``), then the old one removed."""
    if not out.exists():
        os.replace(staging, out)
        return
    if _exchange(staging, out):
        old = staging
    else:
        old = staging.with_name(staging.name + "-old")
        os.replace(out, old)
        os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)


@published
def publish(
    ws: Workspace,
    out_dir: str | Path,
    *,
    include_all: bool = False,
    pseudonymize: bool = False,
    show_paths: bool = False,
    key_file: str | Path | None = None,
    report: bool = True,
    base_url: str | None = None,
    title: str | None = None,
    snapshot=None,
    as_of=None,
    leaders: str = "is_leader",
    platform: str | None = None,
    account_filter: str | None = None,
) -> PublishResult:
    """Build the static directory site into ``out_dir`` (replacing a previous build there).

    Parameters
    ----------
    include_all : bool
        Also list people who did not opt in; the pages then carry an "internal build" banner.
        Default: only ``opt_in = true`` — nobody else appears in any page, feed or file; where
        others mention them (a post, a table of the report) they appear under their keyed
        pseudonym (:mod:`socialens.privacy`).
    pseudonymize, show_paths, key_file
        As for :func:`socialens.report.write_report`: everyone under a pseudonym (the directory
        then lists the people who opted in under theirs, without profile links), the ingested
        files' paths, the study key.
    report : bool
        Also run the analyses and write the research report into ``report/`` (redacted like the
        site; analyses that cannot run on this workspace are left out and noted).
    base_url : str, optional
        Where the site will be hosted (``https://example.org/directory/``), used to make links
        in feeds and OPML absolute. Without it they are relative to the site.
    snapshot, as_of, leaders, platform, account_filter
        As for the directory analysis.
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    if out.is_symlink():  # replace the folder it points to, keep the link
        out = out.resolve()
    _check_out(out)
    d = load_directory(ws, include_all=include_all, snapshot=snapshot, as_of=as_of,
                       leaders=leaders, platform=platform, account_filter=account_filter,
                       title=title)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_staging(out)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}{_STAGING}{os.getpid()}-",
                                        dir=out.parent))
        umask = os.umask(0o022)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # as a plain mkdir (mkdtemp makes it private)
    except OSError as exc:
        raise SiteError(f"cannot create {out}: {exc.strerror or exc}") from exc
    try:
        res = _build(ws, d, staging, out, include_all=include_all, report=report,
                     base_url=base_url, params={"snapshot": snapshot, "as_of": as_of,
                                                "leaders": leaders, "platform": platform,
                                                "account_filter": account_filter})
        _check_out(out)  # still ours (nobody put other files there meanwhile)
        _swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    res.seconds = time.perf_counter() - t0
    return res


def _build(ws: Workspace, d: Directory, staging: Path, out: Path, *, include_all: bool,
           report: bool, base_url: str | None, params: dict) -> PublishResult:
    """Write the whole site into ``staging`` (the marker last); the result names ``out``."""
    from socialens.analyses import REGISTRY

    notes: list[str] = []

    results: dict = {}
    unavailable: dict[str, str] = {}
    if report:
        # computed on the tables of the privacy boundary (publish is @published): nothing to scrub
        results = run_analyses(ws, params, notes, names=list(REGISTRY), unavailable=unavailable)
    report_path = None
    if report and results:
        from socialens.report import write_report

        paths = write_report(ws, staging / "report", results=results, unavailable=unavailable,
                             include_all=include_all, title=f"{d.title}: research report")
        report_path = out / Path(paths["html"]).relative_to(staging)
    r = Renderer(d, has_report=report_path is not None, cards=leader_cards_html(d, results))
    files: dict[str, bytes] = {
        "index.html": r.directory().encode("utf-8"),
        "feed.html": r.feed().encode("utf-8"),
        "subscribe.html": r.subscribe().encode("utf-8"),
    }
    for p in d.people:
        files[f"people/{p['slug']}.html"] = r.person(p).encode("utf-8")
    for name in ASSETS:
        files[f"assets/{name}"] = asset_text(name).encode("utf-8")
    files.update(subscription_files(d, base_url=base_url))
    marker = b"built by socialens publish; this folder is replaced by the next build\n"
    for rel, content in files.items():
        path = staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (staging / MARKER).write_bytes(marker)  # last: a folder with it is a complete site
    sizes = {rel: len(c) for rel, c in files.items()}
    sizes[MARKER] = len(marker)
    if report_path is not None:
        for f in (staging / "report").iterdir():
            sizes[f"report/{f.name}"] = f.stat().st_size
    return PublishResult(out_dir=out, n_people=len(d.people), n_not_listed=d.n_not_listed,
                         include_all=include_all, files=sizes, report=report_path, notes=notes)


def leader_card(results: dict, person_id: str) -> Markup | None:
    """One person's leader report card from ``results`` (the ``leaders`` Result), or None."""
    r = results.get("leaders")
    return r.card_html(person_id) if r is not None and hasattr(r, "card_html") else None


def leader_cards_html(d: Directory, results: dict) -> dict[str, Markup]:
    """``{person_id: card}`` for the listed people who have a leader report card in ``results``
    (the ``leaders`` Result, computed on the same restricted tables as ``d``)."""
    return {p["person_id"]: card for p in d.people
            if (card := leader_card(results, p["person_id"])) is not None}


def run_analyses(ws: Workspace, params: dict, notes: list[str] | None = None,
                 names: list[str] | None = None,
                 unavailable: dict[str, str] | None = None) -> dict:
    """Run the registered analyses (default: all) with the site's parameters (each gets the ones
    it takes); ones that cannot run on this workspace are skipped, with a note and their reason in
    ``unavailable``."""
    from socialens.analyses import run_all

    skipped: dict[str, str] = {}
    results = run_all(ws, names, unavailable=skipped,
                      **{k: v for k, v in params.items() if v is not None})
    for name, reason in skipped.items():
        if notes is not None:
            notes.append(f"analysis {name} left out of the report: {reason}")
    if unavailable is not None:
        unavailable.update(skipped)
    return results

