"""``socialens publish``: the directory as a static site — plain files, no CDN, no server needed.

Layout of the output folder::

    index.html                 the ranked directory (search, filters, sorting, paging in site.js)
    people/<slug>.html         one page per person (accounts, counters, role history, posts)
    feed.html                  everyone's recent posts
    subscribe.html             links to every subscription file
    feeds/*.atom               all, leaders, one per department, one per person
    subscriptions.opml         every account's feed
    exports/bluesky-starter-packs.json, exports/mastodon-lists.csv
    report/report.html         the research report (redacted like the site)
    assets/site.css, assets/site.js

Every page carries a Content-Security-Policy that allows only the site's own script and style
files; the directory's data for client-side search is JSON inside
``<script type="application/json">`` (see :func:`socialens.site.security.json_for_script`).
"""

from __future__ import annotations

import shutil
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
           "run_analyses", "redact_results"]

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

    def __init__(self, d: Directory, *, has_report: bool = False):
        from socialens import __version__

        self.d = d
        self.has_report = has_report
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

    def person(self, p: dict) -> str:
        return self._render("person.html.j2", "../", page="person", p=p,
                            accounts=self.d.accounts.get(p["person_id"], []),
                            roles=self.d.roles.get(p["person_id"], []),
                            posts=self.d.recent_posts.get(p["person_id"], []))

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


def _prepare_out(out: Path) -> None:
    if out.exists():
        if not out.is_dir():
            raise SiteError(f"{out} exists and is not a folder; choose another --out")
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise SiteError(
                f"{out} is not empty and was not built by `socialens publish`; choose an empty "
                "or new folder for --out (a previous site there is replaced, so nobody who has "
                "since opted out stays in it)")
        shutil.rmtree(out)
    try:
        out.mkdir(parents=True)
    except OSError as exc:
        raise SiteError(f"cannot create {out}: {exc.strerror or exc}") from exc


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
    d = load_directory(ws, include_all=include_all, snapshot=snapshot, as_of=as_of,
                       leaders=leaders, platform=platform, account_filter=account_filter,
                       title=title)
    _prepare_out(out)
    notes: list[str] = []
    params = {"snapshot": snapshot, "as_of": as_of, "leaders": leaders, "platform": platform,
              "account_filter": account_filter}
    from socialens.analyses import REGISTRY

    results: dict = {}
    unavailable: dict[str, str] = {}
    if report:
        results = run_analyses(ws, params, notes, names=list(REGISTRY), unavailable=unavailable)
        if not include_all:
            results = redact_results(ws, results)
    report_path = None
    if report and results:
        from socialens.report import write_report

        paths = write_report(ws, out / "report", results=results, unavailable=unavailable,
                             include_all=include_all, title=f"{d.title}: research report")
        report_path = paths["html"]
    r = Renderer(d, has_report=report_path is not None)
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
    files[MARKER] = b"built by socialens publish; this folder is replaced by the next build\n"
    for rel, content in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    sizes = {rel: len(c) for rel, c in files.items()}
    if report_path is not None:
        for f in (out / "report").iterdir():
            sizes[f"report/{f.name}"] = f.stat().st_size
    return PublishResult(out_dir=out, n_people=len(d.people), n_not_listed=d.n_not_listed,
                         include_all=include_all, files=sizes,
                         seconds=time.perf_counter() - t0, report=report_path, notes=notes)


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


def redact_results(ws: Workspace, results: dict) -> dict:
    """``results`` as they are: the privacy boundary (:mod:`socialens.privacy`) pseudonymizes
    people who did not opt in in the tables the analyses read, so there is nothing left to scrub
    (kept for callers of the former string-scrubbing layer; to be removed)."""
    return results
