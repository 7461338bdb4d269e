"""The report: Results composed into one self-contained, offline HTML file plus ``summary.json``.

No CDN, no script: charts are inline SVG rendered by vl-convert, styles are inline, and every text
that comes from data is escaped (Jinja2 autoescape + :class:`Result.to_html`). People who did not
opt in are shown without name, handle or id.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from socialens.analyses import run_all, summaries
from socialens.analyses.result import Result, _fmt
from socialens.errors import SocialensError
from socialens.report.answer import founding_answer, verdicts
from socialens.workspace import Workspace

__all__ = ["write_report", "render_report", "redact", "founding_answer", "verdicts"]

HIDDEN = "(not listed)"
_IDENTIFYING = ("name", "handle", "account_id", "person_id", "url", "first_account_id")


def redact(results: dict[str, Result], ws: Workspace) -> dict[str, Result]:
    """Copies of ``results`` in which people with ``opt_in = false`` are anonymised."""
    hidden = ws.sql("SELECT person_id, name FROM people WHERE NOT opt_in")
    ids = set(hidden["person_id"])
    if not ids:
        return results
    out = {}
    for name, r in results.items():
        tables = {}
        for tname, df in r.tables.items():
            if "person_id" in df.columns:
                df = df.copy()
                mask = df["person_id"].isin(ids)
                for col in _IDENTIFYING:
                    if col in df.columns:
                        df[col] = df[col].astype(object)
                        df.loc[mask, col] = HIDDEN
            tables[tname] = df
        out[name] = Result(r.name, r.title, dict(r.params), _redact_obj(r.summary, ids), tables,
                           r.figures if not _figures_identify(r) else {}, r.headline, list(r.notes))
        if _figures_identify(r):
            out[name].notes.append("Charts with names are omitted because some people did not opt in.")
            out[name].figures = {}
    return out


def _figures_identify(r: Result) -> bool:
    return r.name == "directory" or any("name" in getattr(f, "data", pd.DataFrame()).columns
                                        for f in r.figures.values()
                                        if isinstance(getattr(f, "data", None), pd.DataFrame))


def _redact_obj(obj, ids):
    if isinstance(obj, dict):
        if obj.get("person_id") in ids:
            return {k: (HIDDEN if k in _IDENTIFYING else _redact_obj(v, ids)) for k, v in obj.items()}
        return {k: _redact_obj(v, ids) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_redact_obj(v, ids) for v in obj]
    return obj


def render_report(ws: Workspace, results: dict[str, Result], *, title: str | None = None,
                  sources: str | None = None) -> str:
    """The report HTML as a string."""
    from socialens import __version__

    env = Environment(loader=PackageLoader("socialens.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    tpl = env.get_template("report.html.j2")
    runs = ws.sql("SELECT * FROM ingest_runs ORDER BY started_at").to_dict("records")
    for r in runs:
        r["source_path"] = os.path.basename(r["source_path"])
    return tpl.render(
        title=title or "SociaLens report: do the leaders model social media use?",
        version=__version__,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        workspace=ws.path.name,
        results=results,
        sections={n: Markup(r.to_html()) for n, r in results.items()},
        answer=founding_answer(results),
        verdicts=verdicts(results),
        counts={t: n for t, n in ws.counts().items() if t != "schema_migrations"},
        runs=runs,
        sources=sources,
        fmt=_fmt,
    )


def write_report(
    ws: Workspace,
    out_dir: str | Path,
    *,
    results: dict[str, Result] | None = None,
    title: str | None = None,
    sources: str | None = None,
    include_all: bool = False,
    **params,
) -> dict[str, Path]:
    """Run the analyses (unless ``results`` are given) and write ``report.html`` and
    ``summary.json`` into ``out_dir``. Returns their paths."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SocialensError(f"cannot create {out}: {exc.strerror or exc}") from exc
    if results is None:
        results = run_all(ws, **params)
    shown = results if include_all else redact(results, ws)
    html = render_report(ws, shown, title=title, sources=sources)
    summary = summaries(shown)
    summary["answer"] = founding_answer(shown)
    summary["verdicts"] = verdicts(shown)
    (out / "report.html").write_text(html, encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n",
                                      encoding="utf-8")
    return {"html": out / "report.html", "json": out / "summary.json"}
