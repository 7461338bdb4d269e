"""Were the leaders the first to adopt the platform?

Adoption date per person: the creation time of their earliest personal account, else their first
post (:func:`socialens.analyses.common.adoption_dates`). Among the members at ``as_of`` who had
adopted by then, people are ranked by adoption date (rank 1 = first). The leaders' median adoption
rank is tested against random assignment of the leader label (exact), the leaders' share of the
first k adopters against the hypergeometric distribution, and adoption times are compared with a
Mann–Whitney U test (rank-biserial r with bootstrap CI). Cumulative adoption curves per level use
every member of that level at ``as_of`` as denominator, so they end at the level's coverage.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from socialens.analyses.common import (
    adoption_dates,
    latest_snapshot_time,
    post_time_range,
    roster_at,
    select_leaders,
    to_time,
)
from socialens.analyses.result import MAX_CHART_POINTS, Result, num, thin
from socialens.analyses.signature import analysis_function
from socialens.errors import AnalysisError
from socialens.stats import bootstrap_ci, group_comparison, median_rank_pvalue, top_k_hypergeom
from socialens.workspace import Workspace

__all__ = ["adoption"]


@analysis_function
def adoption(
    ws: Workspace,
    *,
    as_of=None,
    snapshot=None,
    leaders: str = "is_leader",
    platform: str | None = None,
    account_filter: str | None = None,
    first_k: tuple[int, ...] = (10, 25),
    seed: int = 0,
) -> Result:
    """Adoption order of the platform: leaders vs others.

    Parameters
    ----------
    as_of : time, optional
        Time at which membership and roles are read and adoption is observed (default: the
        ``snapshot`` time, else the latest snapshot, else the last post).
    leaders : str
        Leader rule.
    platform : str, optional
        Count only accounts on this platform.
    account_filter : str, optional
        ``key=value`` on the accounts' ``attrs`` (e.g. ``official_listing=true``).
    first_k : tuple of int
        Sizes of the "first adopters" groups tested.
    """
    t = (to_time(as_of, "as_of") or latest_snapshot_time(ws, to_time(snapshot, "snapshot"))
         or post_time_range(ws)[1])
    if t is None:
        raise AnalysisError("the workspace has no snapshots or posts; nothing to date adoption by")
    roster = roster_at(ws, t)
    if roster.empty:
        raise AnalysisError(f"nobody holds a role at {t.isoformat()}; choose another --as-of")
    roster["leader"] = select_leaders(roster, leaders).to_numpy()
    ad = adoption_dates(ws, platform, account_filter)
    df = roster.merge(ad, on="person_id", how="left")
    df["adopted"] = df["adopted_at"].notna() & (df["adopted_at"] <= pd.Timestamp(t))
    adopters = df[df["adopted"]].sort_values(["adopted_at", "person_id"]).reset_index(drop=True)
    adopters.insert(0, "adoption_rank", np.arange(1, len(adopters) + 1))
    N = len(adopters)
    if N == 0:
        raise AnalysisError(f"no member had adopted by {t.isoformat()}")
    lead, others = adopters[adopters["leader"]], adopters[~adopters["leader"]]
    n_lead = len(lead)
    summary: dict = {
        "n_members": int(len(roster)),
        "n_adopted": N,
        "share_adopted": N / len(roster),
        "n_leaders_in_roster": int(roster["leader"].sum()),
        "n_leaders_adopted": n_lead,
        "first_adopter": {"name": adopters.iloc[0]["name"],
                          "person_id": adopters.iloc[0]["person_id"],
                          "title": adopters.iloc[0]["title"],
                          "adopted_at": adopters.iloc[0]["adopted_at"]},
        "adoption_source_counts": adopters["adoption_source"].value_counts().to_dict(),
    }
    if n_lead:
        med = float(np.median(lead["adoption_rank"]))
        days = (adopters["adopted_at"] - adopters["adopted_at"].min()).dt.total_seconds() / 86400
        first_at = adopters["adopted_at"].min()
        summary.update(
            leaders_median_adoption_rank=med,
            leaders_median_adoption_rank_ci=list(bootstrap_ci(np.median, lead["adoption_rank"], seed=seed)),
            others_median_adoption_rank=float(np.median(others["adoption_rank"])) if len(others) else None,
            p_value_median_rank=median_rank_pvalue(med, n_lead, N),
            leaders_median_adopted_at=first_at + pd.Timedelta(days=float(np.median(days[adopters["leader"]]))),
            others_median_adopted_at=(first_at + pd.Timedelta(days=float(np.median(days[~adopters["leader"]])))
                                      if len(others) else None),
            # days after the first adopter; alternative "less" = leaders adopted earlier
            days_after_first_leaders_vs_others=group_comparison(
                days[adopters["leader"]], days[~adopters["leader"]], alternative="less", seed=seed),
            leaders=[{"name": r.name, "person_id": r.person_id, "title": r.title,
                      "adoption_rank": int(r.adoption_rank), "adopted_at": r.adopted_at}
                     for r in lead.itertuples()],
            first_k=[{"k": k, "leaders_in_first_k": int((lead["adoption_rank"] <= k).sum()),
                      "expected_under_random": k * n_lead / N,
                      "p_value": top_k_hypergeom(int((lead["adoption_rank"] <= k).sum()), k, n_lead, N)}
                     for k in first_k if k <= N],
        )
    curves = _curves(df, t)
    by_level = (df.groupby("level", dropna=False)
                  .agg(n_members=("person_id", "size"), n_adopted=("adopted", "sum"))
                  .reset_index())
    by_level["share_adopted"] = by_level["n_adopted"] / by_level["n_members"]
    med_by_level = adopters.groupby("level", dropna=False)["adoption_rank"].median()
    by_level["median_adoption_rank"] = by_level["level"].map(med_by_level)
    if n_lead:
        headline = (
            f"Of {N} members who had adopted by {pd.Timestamp(t).date()}, the {n_lead} leaders' "
            f"median adoption rank is {num(summary['leaders_median_adoption_rank'], 'g')} (others: "
            f"{num(summary['others_median_adoption_rank'], 'g')}; 1 = first); probability of a median "
            f"this early under random assignment: {num(summary['p_value_median_rank'], '.2g')}."
        )
    else:
        headline = f"No leader had adopted by {pd.Timestamp(t).date()}."
    params = {"as_of": t, "leaders": leaders, "platform": platform,
              "account_filter": account_filter, "first_k": list(first_k),
              "seed": seed, "snapshot": to_time(snapshot, "snapshot")}
    cols = ["adoption_rank", "person_id", "name", "department", "title", "level", "leader",
            "opt_in", "adopted_at", "adoption_source", "first_account_id"]
    return Result(
        name="adoption",
        title="Adoption: who was on the platform first?",
        params=params,
        summary=summary,
        tables={"adopters": adopters[cols], "by_level": by_level, "curves": curves},
        figures={"adoption_curves": _chart(curves)},
        headline=headline,
        notes=[
            "Adoption = creation of the earliest personal account, else the first collected post. "
            "Account creation dates are left-truncated by the platform's own start.",
            "Members who had not adopted by the date the roles are read at count in the curves' "
            "denominators.",
        ],
    )


def _curves(df: pd.DataFrame, t) -> pd.DataFrame:
    rows = []
    groups = [(f"level {int(lv)}" if pd.notna(lv) else "no level", g)
              for lv, g in df.groupby("level", dropna=False)]
    leaders = df[df["leader"]]
    # the leaders' curve drawn over an identical level curve would hide it: one series, named so
    same = [i for i, (_, g) in enumerate(groups) if set(g["person_id"]) == set(leaders["person_id"])]
    if same and len(leaders):
        i = same[0]
        groups[i] = (f"{groups[i][0]} (the leaders)", groups[i][1])
    elif len(leaders):
        groups.append(("leaders", leaders))
    for label, g in groups:
        n = len(g)
        times = g.loc[g["adopted"], "adopted_at"].sort_values()
        for i, when in enumerate(times, start=1):
            rows.append({"group": label, "at": when, "cumulative_share": i / n, "n_members": n})
    return pd.DataFrame(rows, columns=["group", "at", "cumulative_share", "n_members"])


def _chart(curves: pd.DataFrame) -> alt.Chart:
    per_group = max(50, MAX_CHART_POINTS // max(1, curves["group"].nunique()))
    data = pd.concat([thin(g, per_group) for _, g in curves.groupby("group", sort=False)]) \
        if len(curves) else curves.copy()
    data = data.copy()
    data["at"] = data["at"].dt.tz_convert("UTC").dt.tz_localize(None)
    return (
        alt.Chart(data, title="Cumulative adoption by level")
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("at:T", title="adoption date"),
            y=alt.Y("cumulative_share:Q", title="share of members adopted",
                    axis=alt.Axis(format="%")),
            color=alt.Color("group:N", title=None, scale=alt.Scale(scheme="dark2")),
            strokeDash=alt.condition(alt.datum.group == "leaders", alt.value([6, 3]),
                                     alt.value([1, 0])),
            strokeWidth=alt.condition(alt.datum.group == "leaders", alt.value(3), alt.value(2)),
        )
        .properties(width=520, height=280)
    )
