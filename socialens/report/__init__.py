"""The report: Results composed into one self-contained, offline HTML file plus ``summary.json``.

No CDN, no script: charts are inline SVG rendered by vl-convert, styles are inline, and every text
that comes from data is escaped (Jinja2 autoescape + :class:`Result.to_html`). People who did not
opt in are shown without name, handle or id, unless ``include_all`` (a study of public officials);
the choice is recorded in the report's header and in ``summary.json`` (``privacy``). An analysis
that cannot run on the workspace is shown as "not available: <reason>" and recorded in
``summary.json`` (``not_available``).
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from socialens.analyses import run_all, summaries
from socialens.analyses.result import Result, label, readable
from socialens.errors import AnalysisError, SocialensError
from socialens.privacy import published
from socialens.report.answer import QUESTIONS, answer_lines, founding_answer, verdicts
from socialens.workspace import Workspace

__all__ = ["write_report", "render_report", "redact", "founding_answer", "verdicts",
           "privacy_info"]

HIDDEN = "(not listed)"
#: columns and summary keys that could identify a person (titles and departments can: "CEO")
_IDENTIFYING = ("name", "handle", "account_id", "person_id", "url", "first_account_id", "title",
                "department", "display_name", "bio")


def redact(results: dict[str, Result], ws: Workspace) -> dict[str, Result]:
    """Copies of ``results`` in which people with ``opt_in = false`` are anonymised: in tables,
    in the summary and in the data behind the charts."""
    hidden = ws.sql("SELECT person_id, name FROM people WHERE NOT opt_in")
    ids = set(hidden["person_id"])
    if not ids:
        return results
    names = sorted({n for n in hidden["name"].dropna() if n.strip()}, key=len, reverse=True)
    out = {}
    for name, r in results.items():
        tables = {t: _redact_df(df, ids) for t, df in r.tables.items()}
        figures = {}
        for fname, chart in r.figures.items():
            data = getattr(chart, "data", None)
            if isinstance(data, pd.DataFrame) and "person_id" in data.columns:
                chart = chart.copy()
                chart.data = _redact_df(data, ids)
            figures[fname] = chart
        headline = r.headline
        for n in names:  # longest first, so "Ann Lee" goes before "Ann"
            headline = headline.replace(n, HIDDEN)
        # "Name (Title)" in headlines: a title can identify as well as a name
        headline = re.sub(re.escape(HIDDEN) + r" \([^)]*\)", HIDDEN, headline)
        out[name] = Result(r.name, r.title, dict(r.params), _redact_obj(r.summary, ids), tables,
                           figures, headline, list(r.notes))
    return out


def _redact_df(df: pd.DataFrame, ids: set) -> pd.DataFrame:
    if "person_id" not in df.columns:
        return df
    mask = df["person_id"].isin(ids)
    if not mask.any():
        return df
    df = df.copy()
    for col in (*_IDENTIFYING, "label"):
        if col in df.columns:
            df[col] = df[col].astype(object)
            df.loc[mask, col] = HIDDEN
    return df


def _redact_obj(obj, ids):
    if isinstance(obj, dict):
        if obj.get("person_id") in ids:
            return {k: (HIDDEN if k in _IDENTIFYING else _redact_obj(v, ids)) for k, v in obj.items()}
        return {k: _redact_obj(v, ids) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_redact_obj(v, ids) for v in obj]
    return obj


def privacy_info(ws: Workspace, include_all: bool) -> dict:
    """Who the report may name, for its header and ``summary.json``: ``include_all``, the number
    of people who did not opt in (named only with ``include_all``) and of people the roster
    declares public (``people.attrs.public = "roster"``, with ``opt_in = true``)."""
    row = ws.con.execute(
        """SELECT count(*) FILTER (WHERE NOT coalesce(opt_in, false)),
                  count(*) FILTER (WHERE coalesce(opt_in, false)
                                   AND json_extract_string(attrs, '$.public') = 'roster')
           FROM people""").fetchone()
    n_hidden, n_public = int(row[0] or 0), int(row[1] or 0)
    if include_all:
        text = (f"Internal report (--include-all): everyone is named, including the {n_hidden} "
                "people who did not opt in." if n_hidden else
                "Everyone is named (--include-all); every person in the workspace opted in.")
    elif n_hidden:
        text = (f"{n_hidden} people who did not opt in are not named; they are shown as "
                f"{HIDDEN!r}.")
    else:
        text = "Everyone in the workspace opted in to be named."
    if n_public:
        text += (f" The names of {n_public} people are shown because the roster declares them "
                 "public (public officials).")
    return {"include_all": bool(include_all), "n_not_opted_in": n_hidden,
            "n_not_opted_in_named": n_hidden if include_all else 0,
            "n_roster_public": n_public, "statement": text}


def _not_available_html(name: str, reason: str) -> Markup:
    from markupsafe import escape

    from socialens.analyses import REGISTRY

    fn = REGISTRY.get(name)
    doc = (fn.__doc__ or "").strip().splitlines()[0] if fn else name
    return Markup(f'<section class="result not-available" id="{escape(name)}">'
                  f"<h2>{escape(name.capitalize())}: {escape(doc)}</h2>"
                  f'<p class="headline">Not available: {escape(reason)}</p></section>')


def render_report(ws: Workspace, results: dict[str, Result], *, title: str | None = None,
                  sources: str | None = None, unavailable: dict[str, str] | None = None,
                  include_all: bool = False) -> str:
    """The report HTML as a string; ``unavailable`` (``{name: reason}``) lists the analyses that
    could not run, shown as "not available: <reason>"."""
    from socialens import __version__

    env = Environment(loader=PackageLoader("socialens.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    tpl = env.get_template("report.html.j2")
    runs = ws.sql("SELECT * FROM ingest_runs ORDER BY started_at").to_dict("records")
    for r in runs:
        r["source_path"] = os.path.basename(r["source_path"])
    from socialens.analyses import REGISTRY

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
        answer=answer_lines(results),
        questions=QUESTIONS,
        verdicts=verdicts(results),
        privacy=privacy_info(ws, include_all),
        counts=counts,
        runs=runs,
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
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SocialensError(f"cannot create {out}: {exc.strerror or exc}") from exc
    unavailable = dict(unavailable or {})
    if results is None:
        results = run_all(ws, unavailable=unavailable, **params)
    if not results:
        reasons = "; ".join(f"{n}: {r}" for n, r in unavailable.items())
        raise AnalysisError(f"no analysis can run on this workspace ({reasons})")
    shown = results if include_all else redact(results, ws)
    html = render_report(ws, shown, title=title, sources=sources, unavailable=unavailable,
                         include_all=include_all)
    summary = summaries(shown, unavailable)
    summary["answer"] = founding_answer(shown)
    summary["verdicts"] = verdicts(shown)
    summary["privacy"] = privacy_info(ws, include_all)
    (out / "report.html").write_text(html, encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n",
                                      encoding="utf-8")
    return {"html": out / "report.html", "json": out / "summary.json",
            "not_available": unavailable}
