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

__all__ = ["Result", "to_jsonable", "num", "thin", "MAX_CHART_POINTS", "label", "readable",
           "UNKNOWN_HTML"]

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
            parts.append(f'<details class="table"><summary>Table: {escape(label(name))} '
                         f"({len(df):,} rows)</summary>")
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


#: words for the keys of summaries, parameters and table columns (the rest: underscores to spaces)
LABELS = {
    "as_of": "roles read at", "is_leader": "leader flag", "leader": "leader", "opt_in": "opted in",
    "person_id": "person id", "account_id": "account id", "first_account_id": "first account",
    "n_members": "members", "n_listed": "members listed", "n_adopted": "members who adopted",
    "n_leaders_in_roster": "leaders in the roster", "n_leaders_listed": "leaders listed",
    "n_leaders_adopted": "leaders who adopted", "n_accounts": "accounts", "n_posts": "posts collected",
    "n_people": "people", "n": "people", "k": "top k", "coverage": "share of members listed",
    "share_adopted": "share of members who adopted",
    "p_value": "p-value", "p_value_median_rank": "p-value of the leaders' median rank",
    "leaders_median_follower_rank": "leaders' median follower rank (1 = most followed)",
    "leaders_median_follower_rank_ci": "95 % interval of the leaders' median follower rank",
    "others_median_follower_rank": "others' median follower rank",
    "leaders_median_adoption_rank": "leaders' median adoption rank (1 = first)",
    "leaders_median_adoption_rank_ci": "95 % interval of the leaders' median adoption rank",
    "others_median_adoption_rank": "others' median adoption rank",
    "leaders_median_adopted_at": "leaders' median adoption date",
    "others_median_adopted_at": "others' median adoption date",
    "top_k": "leaders in the top k", "leaders_in_top_k": "leaders in the top k",
    "first_k": "leaders among the first k adopters", "leaders_in_first_k": "leaders among them",
    "expected_under_random": "expected at random",
    "followers_leaders_vs_others": "followers: leaders vs others",
    "days_after_first_leaders_vs_others": "days after the first adopter: leaders vs others",
    "posts_per_week_leaders_vs_others": "posts per week: leaders vs others",
    "n_group": "leaders", "n_others": "others", "median_group": "leaders' median",
    "median_others": "others' median", "rank_biserial": "rank-biserial correlation",
    "rank_biserial_ci": "95 % interval of the rank-biserial correlation",
    "median_ratio": "ratio of medians", "median_ratio_ci": "95 % interval of the ratio of medians",
    "gini": "Gini coefficient", "gini_ci": "95 % interval of the Gini coefficient",
    "gini_posts_count": "Gini coefficient of the posts counters",
    "top10_share": "share of posts by the top 10 %", "rate_method": "rate measured as",
    "capped_collection": "collection capped at the last posts", "cap": "posts kept per account",
    "window": "in the observation window", "lifetime": "over the accounts' lifetimes",
    "snapshot": "follower snapshot", "snapshot_requested": "snapshot asked for",
    "snapshot_tolerance_days": "oldest counters used (days before the snapshot)",
    "window_start": "window start", "window_end": "window end", "leaders": "the leaders",
    "platform": "platform", "account_filter": "accounts used", "seed": "random seed",
    "min_weeks": "fewest weeks present", "rate": "rate", "posts_per_week": "posts per week",
    "lifetime_posts_per_week": "lifetime posts per week", "posts_count": "posts counter",
    "listed_count": "listed counter", "observed_at": "counters observed", "created_at": "created",
    "adopted_at": "adopted", "adoption_rank": "adoption rank", "adoption_source": "adoption dated by",
    "adoption_source_counts": "adoption dated by", "last_post_at": "last post collected",
    "weeks_present": "weeks present", "weeks_span": "weeks from first to last post",
    "weeks_with_posts": "weeks with posts", "posts_per_week_with_posts": "posts per week with posts",
    "lifetime_posts": "posts counter", "age_weeks": "account age (weeks)",
    "median_rank": "median rank", "median_followers": "median followers",
    "median_posts_per_week": "median posts per week", "mean_posts_per_week": "mean posts per week",
    "median_adoption_rank": "median adoption rank", "cumulative_share": "share adopted",
    "first_adopter": "first adopter", "title": "role", "department": "department",
    # the influence tests (contagion_tests)
    "hr_leader": "hazard ratio, leader exposure",
    "hr_leader_ci": "95 % interval (clustered by department unless said otherwise)",
    "hr_peer": "hazard ratio, peer exposure", "hr_peer_ci": "95 % interval, peer exposure",
    "p_leader": "p-value, leader ratio (the verdict)",
    "p_leader_perm": "p-value, leader-permutation test",
    "q_leader": "q-value, leader ratio (the verdict)",
    "q_leader_perm": "q-value, leader-permutation test",
    "n_clusters": "departments (clusters)", "cluster": "inference clustered by",
    "n_at_risk": "members at risk",
    "u": "Mann–Whitney U", "alternative": "alternative hypothesis",
    "ratio_of_medians": "ratio of medians (leaders / others)",
    "ratio_of_medians_ci": "95 % interval of the ratio of medians", "n_leaders": "leaders",
    "account_created": "account creation", "n_members_posting": "members who posted",
    # issue 10: exact intervals, mid-ranks, Holm verdicts, rate ratios
    "shift": "Hodges–Lehmann shift (leaders − others)",
    "shift_ci": "95 % interval of the shift (inverted rank-sum test)",
    "shift_ci_coverage": "exact coverage of that interval",
    "ratio": "ratio (leaders / others)", "ratio_ci": "95 % interval of the ratio",
    "mid_rank": "rank (ties share the mid-rank)",
    "min_p_value_median_rank": "smallest p-value attainable at this size",
    "leaders_median_followers_interval": "distribution-free interval of the leaders' median",
    "adoption_date_source": "adoption dated by",
    "n_not_ranked_no_date": "members not ranked (no date of that kind)",
    "rate_ratio": "rate ratio (leaders / others)", "rate_ratio_ci": "95 % interval of the rate ratio",
    "p_value_holm": "p-value, Holm-adjusted over the questions",
    "primary": "the declared primary test",
}
#: labels that differ in the parameters table
PARAM_LABELS = {"leaders": "who counts as leader"}
#: words for code values
VALUE_WORDS = {"greater": "leaders higher", "less": "leaders lower (earlier)",
               "two-sided": "different", "is_leader": "people whose role has the leader flag",
               "account_created":
               "account creation", "first_post": "first collected post", "span":
               "posts between the first and last collected post", "exposure":
               "posts per week present"}
#: how a value that is not known is shown in HTML
UNKNOWN_HTML = Markup('<span class="unknown" title="not known">—</span>')


def label(key: str, context: str = "") -> str:
    """A key, parameter or column name in words (``as_of`` → "roles read at"); ``context``
    ``"params"`` for the parameters table."""
    if context == "params" and key in PARAM_LABELS:
        return PARAM_LABELS[key]
    if key in LABELS:
        return LABELS[key]
    words = key.replace("_", " ")
    return ("number of " + words[2:]) if key.startswith("n_") else words


def _leader_rule_words(v: str) -> str:
    import re

    m = re.match(r"^level\s*(<=|==|=|<)\s*(\d+)$", v.strip())
    if m:
        op, n = m.groups()
        return {"<=": f"roles of level {n} or above (0 = top)", "<": f"roles above level {n}",
                "==": f"roles of level {n}", "=": f"roles of level {n}"}[op]
    if v.startswith("ids:"):
        return f"{len([x for x in v[4:].split(',') if x.strip()])} people chosen by id"
    return VALUE_WORDS.get(v, v)


def readable(v: Any, key: str = "") -> str:
    """One value in words: numbers with sensible precision (p-values to 2 significant digits,
    counts with thousands separators), times as dates, booleans as yes/no, lists joined; ""
    for unknown."""
    v = to_jsonable(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}" if key not in ("seed", "k", "cap") else str(v)
    if isinstance(v, float):
        if key.startswith("p_value"):
            return f"{v:.2g}"
        if key.endswith("share") or key in ("coverage", "share_adopted", "cumulative_share"):
            return f"{v:.1%}"
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}"
        if abs(v) >= 100:
            return f"{v:,.1f}"
        if abs(v) >= 1:
            return f"{v:.2f}"
        return f"{v:.2g}"
    if isinstance(v, str):
        if len(v) >= 19 and v[4] == "-" and v[10] == "T":
            return v[:10] if v[11:19] == "00:00:00" else f"{v[:10]} {v[11:16]} UTC"
        return _leader_rule_words(v) if key == "leaders" else VALUE_WORDS.get(v, v)
    if isinstance(v, list):
        if all(not isinstance(x, dict | list) for x in v):
            if key.endswith("_ci") and len(v) == 2:
                return f"{readable(v[0])}–{readable(v[1])}"
            return ", ".join(readable(x, key) for x in v)
        return "; ".join(readable(x, key) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{label(k)} {readable(x, k)}" for k, x in v.items() if x is not None)
    return str(v)


def _fmt(v: Any) -> str:
    v = to_jsonable(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict | list):
        return json.dumps(v, default=str)
    return "" if v is None else str(v)


def _cell(v: Any, key: str = "") -> Markup:
    text = readable(v, key)
    return UNKNOWN_HTML if text == "" else escape(text)


def _dict_table(d: dict, cls: str) -> str:
    """A two-column table of ``d`` in words; nested dicts and lists of dicts become nested
    tables."""
    rows = []
    for k, v in d.items():
        if isinstance(v, dict) and v:
            cell = _dict_table(v, cls + " nested")
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            cell = _records_table(v)
        else:
            cell = _cell(v, k)
        rows.append(f"<tr><th scope=\"row\">{escape(label(k, cls))}</th><td>{cell}</td></tr>")
    return f'<div class="table-wrap"><table class="{cls}"><tbody>{"".join(rows)}</tbody></table></div>'


def _records_table(rows: list[dict]) -> str:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th scope=\"col\">{escape(label(c))}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c), c)}</td>" for c in cols) + "</tr>"
                   for r in rows)
    return f'<table class="nested"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _df_html(df: pd.DataFrame, *, max_rows: int, name: str) -> str:
    shown = df.head(max_rows)
    head = "".join(f"<th scope=\"col\">{escape(label(str(c)))}</th>" for c in shown.columns)
    body = []
    for row in shown.itertuples(index=False):
        body.append("<tr>" + "".join(f"<td>{_cell(v, str(c))}</td>"
                                     for c, v in zip(shown.columns, row, strict=True)) + "</tr>")
    more = (f'<p class="more">showing {max_rows} of {len(df)} rows</p>' if len(df) > max_rows else "")
    return (f'<div class="table-wrap"><table class="data" data-table="{escape(name)}"><thead><tr>'
            f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>{more}")
