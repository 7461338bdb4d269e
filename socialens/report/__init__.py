"""The report: Results composed into one self-contained, offline HTML file plus ``summary.json``.

No CDN, no script: charts are inline SVG rendered by vl-convert, styles are inline, and every text
that comes from data is escaped (Jinja2 autoescape + :class:`Result.to_html`). People who did not
opt in are shown without name, handle or id.
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
from socialens.analyses.result import Result, _fmt
from socialens.errors import SocialensError
from socialens.privacy import published
from socialens.report.answer import founding_answer, verdicts
from socialens.workspace import Workspace

__all__ = ["write_report", "render_report", "redact", "founding_answer", "verdicts"]

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


@published
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
