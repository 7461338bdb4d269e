"""The report: Results composed into one self-contained, offline HTML file plus ``summary.json``.

No CDN, no script: charts are inline SVG rendered by vl-convert, styles are inline, and every text
that comes from data is escaped (Jinja2 autoescape + :class:`Result.to_html`). The report reads
the workspace through the privacy boundary (:mod:`socialens.privacy`): only public posts, and
people who did not opt in — with ``pseudonymize`` everyone — under keyed pseudonyms ("Person
3f9a2c1d", ``@p-3f9a2c1d``) in every table the analyses read, so no name, handle or id of theirs
reaches a table, a chart, a headline or a parameter; ``include_all`` (a study of public officials)
names everyone. The choice is recorded in the report's header and in ``summary.json``
(``privacy``). Ingested files are listed by format, counts and sha256; their paths (a file name
such as ``<handle>_timeline.json`` names its owner) only with ``show_paths``. An analysis that
cannot run on the workspace is shown as "not available: <reason>" and recorded in
``summary.json`` (``not_available``).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from socialens.analyses import REGISTRY, run_all, summaries
from socialens.analyses.result import Result, label, readable
from socialens.errors import AnalysisError, SocialensError
from socialens.privacy import current_consent, published
from socialens.report.answer import QUESTIONS, answer_lines, founding_answer, verdicts
from socialens.workspace import Workspace

__all__ = ["write_report", "render_report", "founding_answer", "verdicts", "privacy_info"]

def privacy_info(ws: Workspace, include_all: bool, pseudonymize: bool = False,
                 show_paths: bool = False) -> dict:
    """Who the report may name, for its header and ``summary.json``: ``include_all``,
    ``pseudonymize``, the number of people who did not opt in (named only with ``include_all``),
    of people the roster declares public (``people.attrs.public = "roster"``, with ``opt_in =
    true``) and whether file paths are shown."""
    p = ws.table("people")  # ibis, so that a lake read by Spark reports the same
    opted = p.opt_in.fill_null(False)
    row = p.aggregate(
        hidden=(~opted).sum(),
        public=(opted & (p.attrs["public"].str == "roster").fill_null(False)).sum(),
    ).execute().iloc[0]
    n_hidden, n_public = (0 if v is None or v != v else int(v) for v in (row.hidden, row.public))
    include_all = bool(include_all and not pseudonymize)
    if pseudonymize:
        text = ("Pseudonymized (--pseudonymize): nobody is named; every person and account is "
                "shown under a keyed pseudonym (\"Person 3f9a2c1d\", @p-3f9a2c1d), also inside "
                "post texts, stable within the study (its key is not in this report).")
    elif include_all:
        text = (f"Internal report (--include-all): everyone is named, including the {n_hidden} "
                "people who did not opt in." if n_hidden else
                "Everyone is named (--include-all); every person in the workspace opted in.")
    elif n_hidden:
        text = (f"{n_hidden} people who did not opt in are not named: they appear under keyed "
                "pseudonyms (\"Person 3f9a2c1d\", @p-3f9a2c1d), also where others' posts mention "
                "them, so that counts and networks stay whole.")
    else:
        text = "Everyone in the workspace opted in to be named."
    if n_public and not pseudonymize:
        text += (f" The names of {n_public} people are shown because the roster declares them "
                 "public (public officials).")
    if not show_paths:
        text += " Ingested files are listed without their paths (--show-paths shows them)."
    return {"include_all": include_all, "pseudonymize": bool(pseudonymize),
            "n_not_opted_in": n_hidden,
            "n_not_opted_in_named": n_hidden if include_all else 0,
            "n_roster_public": 0 if pseudonymize else n_public, "show_paths": bool(show_paths),
            "statement": text}


def _not_available_html(name: str, reason: str) -> Markup:
    from markupsafe import escape

    fn = REGISTRY.get(name)
    doc = (fn.__doc__ or "").strip().splitlines()[0] if fn else name
    return Markup(f'<section class="result not-available" id="{escape(name)}">'
                  f"<h2>{escape(name.capitalize())}: {escape(doc)}</h2>"
                  f'<p class="headline">Not available: {escape(reason)}</p></section>')


def render_report(ws: Workspace, results: dict[str, Result], *, title: str | None = None,
                  sources: str | None = None, unavailable: dict[str, str] | None = None,
                  include_all: bool = False, pseudonymize: bool = False,
                  show_paths: bool = False) -> str:
    """The report HTML as a string; ``unavailable`` (``{name: reason}``) lists the analyses that
    could not run, shown as "not available: <reason>". ``ws`` should be restricted
    (:func:`socialens.privacy.public_only`) with the same consent as the ``results``."""
    from socialens import __version__

    env = Environment(loader=PackageLoader("socialens.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    tpl = env.get_template("report.html.j2")
    runs = (ws.table("ingest_runs").order_by(["started_at", "run_id"]).execute()
            .astype(object).where(lambda d: d.notna(), None).to_dict("records"))
    for r in runs:  # the boundary withholds the path unless --show-paths
        r["source_path"] = (os.path.basename(r["source_path"])
                            if isinstance(r["source_path"], str) else None)

    unavailable = dict(unavailable or {})
    order = [n for n in REGISTRY if n in results or n in unavailable]
    order += [n for n in results if n not in order]
    sections = {n: (Markup(results[n].to_html()) if n in results
                    else _not_available_html(n, unavailable[n])) for n in order}
    titles = {n: (results[n].title if n in results else f"{n.capitalize()} (not available)")
              for n in order}
    counts = {t: n for t, n in ws.counts().items()
              if t != "schema_migrations" and not (t.startswith("sim_truth_") and n == 0)}
    return tpl.render(
        title=title or "SociaLens report: do the leaders model social media use?",
        version=__version__,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        workspace=ws.path.name,
        order=order,
        titles=titles,
        sections=sections,
        unavailable=unavailable,
        answer=answer_lines(results, unavailable),
        questions=QUESTIONS,
        verdicts=verdicts(results, unavailable),
        privacy=privacy_info(ws, include_all, pseudonymize, show_paths),
        counts=counts,
        runs=runs,
        show_paths=show_paths,
        sources=sources,
        readable=readable,
        label=label,
    )


@published
def write_report(
    ws: Workspace,
    out_dir: str | Path,
    *,
    results: dict[str, Result] | None = None,
    unavailable: dict[str, str] | None = None,
    title: str | None = None,
    sources: str | None = None,
    include_all: bool = False,
    pseudonymize: bool = False,
    show_paths: bool = False,
    key_file: str | Path | None = None,
    names: list[str] | None = None,
    **params,
) -> dict:
    """Run the analyses (unless ``results`` are given) and write ``report.html`` and
    ``summary.json`` into ``out_dir``. Returns their paths (``html``, ``json``) and
    ``not_available`` (``{name: reason}``).

    Parameters
    ----------
    results : dict, optional
        Results to report (default: run every analysis with ``params``; one that cannot run on
        this workspace is reported as not available, with its reason).
    unavailable : dict, optional
        ``{name: reason}`` of analyses that could not run, when ``results`` are given.
    include_all : bool
        Name everyone, also people who did not opt in (e.g. a study of public officials); the
        report's header and ``summary.json`` (``privacy``) say so.
    pseudonymize : bool
        Name nobody: every person and account under its keyed pseudonym (wins over
        ``include_all``).
    show_paths : bool
        Show the paths of the ingested files (rewritten like post text).
    key_file : path, optional
        The study key (default ``$SOCIALENS_STUDY_KEY``, else ``<workspace>.study-key``).
    names : list of str, optional
        Opt-in analyses to run as well as every default one (e.g. ``["contagion_tests"]``).

    The analyses and the report read the workspace through :func:`socialens.privacy.public_only`
    with that consent; ``results`` passed in should have been computed inside it too.
    """
    in_force = current_consent(ws)  # what the tables hold: the report says what it shows
    if in_force is not None:
        include_all, pseudonymize = not in_force.hide, in_force.pseudonymize
        show_paths = in_force.show_paths
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SocialensError(f"cannot create {out}: {exc.strerror or exc}") from exc
    unavailable = dict(unavailable or {})
    if results is None:
        results = run_all(ws, [*REGISTRY, *[n for n in names or () if n not in REGISTRY]],
                          unavailable=unavailable, **params)
    if not results:
        reasons = "; ".join(f"{n}: {r}" for n, r in unavailable.items())
        raise AnalysisError(f"no analysis can run on this workspace ({reasons})")
    html = render_report(ws, results, title=title, sources=sources, unavailable=unavailable,
                         include_all=include_all, pseudonymize=pseudonymize,
                         show_paths=show_paths)
    summary = summaries(results, unavailable)
    summary["answer"] = founding_answer(results, unavailable)
    summary["verdicts"] = verdicts(results, unavailable)
    summary["privacy"] = privacy_info(ws, include_all, pseudonymize, show_paths)
    (out / "report.html").write_text(html, encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n",
                                      encoding="utf-8")
    return {"html": out / "report.html", "json": out / "summary.json",
            "not_available": unavailable}
