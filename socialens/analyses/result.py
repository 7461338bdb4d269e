"""The :class:`Result` every analysis returns: tidy tables, headline numbers, figures, HTML."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

__all__ = ["Result", "to_jsonable", "num", "thin", "MAX_CHART_POINTS"]

#: Charts embed their data; beyond this many points they are thinned (tables keep every row).
MAX_CHART_POINTS = 1500


def thin(df: pd.DataFrame, max_points: int = MAX_CHART_POINTS, *, keep=None) -> pd.DataFrame:
    """At most ``max_points`` rows, evenly spaced in the current order, always keeping the first
    and last rows and every row where the boolean Series ``keep`` is true (e.g. leaders).

    >>> len(thin(pd.DataFrame({"x": range(10_000)}), 100))
    100
    """
    n = len(df)
    if n <= max_points:
        return df
    must = np.zeros(n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    budget = max(2, max_points - int(must.sum()))
    idx = np.unique(np.linspace(0, n - 1, budget).round().astype(int))
    must[idx] = True
    return df[must]


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas/datetime values into plain JSON types (NaN → None)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, pd.Timestamp | datetime):
        if pd.isna(value):
            return None
        return pd.Timestamp(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if value is pd.NaT or (not isinstance(value, str | bool | int) and pd.isna(value)):
        return None
    return value


@dataclass
class Result:
    """What an analysis returns. Nothing here is written into the workspace.

    Attributes
    ----------
    name : str
        Analysis name (``directory``, ``adoption``, ...).
    title : str
        Human title.
    params : dict
        Every parameter that determined the result (window, snapshot, leader rule, as_of...).
    summary : dict
        Headline numbers (JSON-able), each estimate with its uncertainty.
    tables : dict of DataFrame
        Tidy tables.
    figures : dict of altair.Chart
        Figure specifications (rendered to SVG by :meth:`to_html`).
    headline : str
        The answer in words, for people who read no tables.
    notes : list of str
        Caveats and method notes shown with the result.
    """

    name: str
    title: str
    params: dict[str, Any]
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    headline: str = ""
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.params = to_jsonable(self.params)
        self.summary = to_jsonable(self.summary)

    def __repr__(self) -> str:
        return f"<Result {self.name}: {self.headline[:100]}>"

    def to_dict(self) -> dict[str, Any]:
        """``{"summary": ..., "params": ...}`` — the form stored in ``summary.json``."""
        return {"summary": self.summary, "params": self.params}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def figure_svg(self, name: str) -> str:
        """Render one figure to an SVG string, offline (vl-convert)."""
        import vl_convert as vlc

        return vlc.vegalite_to_svg(self.figures[name].to_json())

    def to_html(self, *, figures: bool = True, max_rows: int = 50) -> str:
        """An HTML fragment (a ``<section>``): headline, summary, figures, tables, notes.

        Every value that comes from data is escaped.
        """
        parts = [f'<section class="result" id="{escape(self.name)}">',
                 f"<h2>{escape(self.title)}</h2>",
                 f'<p class="headline">{escape(self.headline)}</p>']
        if figures:
            for name in self.figures:
                svg = self.figure_svg(name)
                parts.append(f'<figure class="chart" data-name="{escape(name)}">{Markup(svg)}</figure>')
        parts.append('<details class="numbers"><summary>Numbers</summary>')
        parts.append(_dict_table(self.summary, "summary"))
        parts.append("</details>")
        for name, df in self.tables.items():
            parts.append(f'<details class="table"><summary>Table: {escape(name)} '
                         f"({len(df)} rows)</summary>")
            parts.append(_df_html(df, max_rows=max_rows, name=name))
            parts.append("</details>")
        parts.append('<details class="params"><summary>Parameters</summary>')
        parts.append(_dict_table(self.params, "params"))
        parts.append("</details>")
        if self.notes:
            parts.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in self.notes)
                         + "</ul>")
        parts.append("</section>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()


def num(value: Any, spec: str = "g") -> str:
    """Format a number for a headline; None/NaN become "n/a"."""
    value = to_jsonable(value)
    return "n/a" if value is None else format(value, spec)


def _fmt(v: Any) -> str:
    v = to_jsonable(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict | list):
        return json.dumps(v, default=str)
    return "" if v is None else str(v)


def _dict_table(d: dict, cls: str) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(_fmt(v))}</td></tr>" for k, v in d.items())
    return f'<table class="{cls}"><tbody>{rows}</tbody></table>'


def _df_html(df: pd.DataFrame, *, max_rows: int, name: str) -> str:
    shown = df.head(max_rows)
    head = "".join(f"<th>{escape(str(c))}</th>" for c in shown.columns)
    body = []
    for row in shown.itertuples(index=False):
        body.append("<tr>" + "".join(f"<td>{escape(_fmt(v))}</td>" for v in row) + "</tr>")
    more = (f'<p class="more">showing {max_rows} of {len(df)} rows</p>' if len(df) > max_rows else "")
    return (f'<table class="data" data-table="{escape(name)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>{more}")
