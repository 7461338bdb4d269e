"""Were the leaders the first to adopt the platform?

Adoption date per person, from **one** source for everyone ranked (``date_source``): the creation
time of their earliest personal account, or their first collected post. The two are never ranked
together (a first post is later than the account's creation, so mixing them would favour whoever
has a creation date); ``auto`` uses creation dates when any member has one, and members without a
date of that source are not ranked (counted in ``n_not_ranked_no_date``). Among the members at
``as_of`` who had adopted by then, people are ranked by that date (rank 1 = first; simultaneous
dates share their mid-rank). The primary test: the leaders' median adoption rank against random
assignment of the leader label (exact, with the smallest attainable p-value). Secondary: the
leaders among the first k adopters (hypergeometric), days after the first adopter compared with a
Mann–Whitney U test and the Hodges–Lehmann shift in days with its exact interval, and the
distribution-free interval of the leaders' median adoption date (from 6 leaders on). Cumulative
adoption curves per level use every member of that level at ``as_of`` as denominator, so they end
at the level's coverage.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from socialens.analyses.common import (
    latest_snapshot_time,
    person_dates,
    post_time_range,
    roster_at,
    select_leaders,
    to_time,
)
from socialens.analyses.result import MAX_CHART_POINTS, Result, num, thin
from socialens.analyses.signature import analysis_function
from socialens.errors import AnalysisError
from socialens.stats import (
    group_comparison,
    median_interval,
    median_rank_pvalue,
    mid_ranks,
    min_median_rank_pvalue,
    top_k_test,
)
from socialens.workspace import Workspace

__all__ = ["adoption", "adoption_dates_by_source", "DATE_SOURCES"]

#: the adoption dates an answer can rank by (one of them, never both)
DATE_SOURCES = ("account_created", "first_post")


def adoption_dates_by_source(ws: Workspace, platform: str | None = None,
                             account_filter: str | None = None) -> pd.DataFrame:
    """:func:`~socialens.analyses.common.person_dates` as a DataFrame ordered by person."""
    return person_dates(ws, platform, account_filter).order_by("person_id").to_pandas()


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
    date_source: str = "auto",
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
    date_source : {"auto", "account_created", "first_post"}
        The one adoption date everyone ranked is ranked by (``auto``: account creation when any
        member has a creation date, else the first collected post).
    seed : int
        Recorded only: nothing here is random.
    """
    if date_source not in ("auto", *DATE_SOURCES):
        raise AnalysisError(f"date_source={date_source!r}: use auto, account_created or first_post")
    t = (to_time(as_of, "as_of") or latest_snapshot_time(ws, to_time(snapshot, "snapshot"))
         or post_time_range(ws)[1])
    if t is None:
        raise AnalysisError("the workspace has no snapshots or posts; nothing to date adoption by")
    roster = roster_at(ws, t)
    if roster.empty:
        raise AnalysisError(f"nobody holds a role at {t.isoformat()}; choose another --as-of")
    roster["leader"] = select_leaders(roster, leaders).to_numpy()
    ad = adoption_dates_by_source(ws, platform, account_filter)
    members = roster.merge(ad, on="person_id", how="left")
    source = date_source
    if source == "auto":
        source = ("account_created" if members["account_created"].notna().any()
                  else "first_post")
    other = "first_post" if source == "account_created" else "account_created"
    df = members.assign(adopted_at=members[source], adoption_source=source,
                        first_account_id=members[f"{source}_id"])
    df["adopted"] = df["adopted_at"].notna() & (df["adopted_at"] <= pd.Timestamp(t))
    # members who had adopted by t by the other date only: not ranked, counted
    other_by_t = df[other].notna() & (df[other] <= pd.Timestamp(t))
    n_not_ranked = int((~df["adopted"] & other_by_t).sum())
    adopters = df[df["adopted"]].sort_values(["adopted_at", "person_id"]).reset_index(drop=True)
    adopters.insert(0, "adoption_rank", np.arange(1, len(adopters) + 1))
    adopters.insert(1, "mid_rank", mid_ranks(adopters["adopted_at"].astype("int64"),
                                             descending=False) if len(adopters) else np.empty(0))
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
        "adoption_date_source": source,
        "n_not_ranked_no_date": n_not_ranked,
        "first_adopter": {"name": adopters.iloc[0]["name"],
                          "person_id": adopters.iloc[0]["person_id"],
                          "title": adopters.iloc[0]["title"],
                          "adopted_at": adopters.iloc[0]["adopted_at"]},
    }
    if n_lead:
        ranks = adopters["mid_rank"].to_numpy(dtype=float)
        med = float(np.median(lead["mid_rank"]))
        p = median_rank_pvalue(med, n_lead, N, ranks=ranks)
        p_min = min_median_rank_pvalue(n_lead, N, ranks=ranks)
        others_med = float(np.median(others["mid_rank"])) if len(others) else None
        days = (adopters["adopted_at"] - adopters["adopted_at"].min()).dt.total_seconds() / 86400
        first_at = adopters["adopted_at"].min()
        mi = median_interval(days[adopters["leader"]])
        mi["ci"] = None if mi["ci"] is None else [first_at + pd.Timedelta(days=d) for d in mi["ci"]]
        summary.update(
            leaders_median_adoption_rank=med,
            leaders_adoption_ranks=sorted(float(r) for r in lead["mid_rank"]),
            others_median_adoption_rank=others_med,
            p_value_median_rank=p,
            min_p_value_median_rank=p_min,
            leaders_median_adopted_at=first_at + pd.Timedelta(days=float(np.median(days[adopters["leader"]]))),
            leaders_median_adopted_at_interval=mi,
            others_median_adopted_at=(first_at + pd.Timedelta(days=float(np.median(days[~adopters["leader"]])))
                                      if len(others) else None),
            # days after the first adopter; alternative "less" = leaders adopted earlier; the
            # Hodges-Lehmann shift is in days (negative = leaders earlier)
            days_after_first_leaders_vs_others=group_comparison(
                days[adopters["leader"]], days[~adopters["leader"]], alternative="less"),
            leaders=[{"name": r.name, "person_id": r.person_id, "title": r.title,
                      "adoption_rank": float(r.mid_rank), "adopted_at": r.adopted_at}
                     for r in lead.itertuples()],
            first_k=[{**(x := top_k_test(lead["mid_rank"], ranks, k)),
                      "leaders_in_first_k": x["leaders_in_top_k"]} for k in first_k if k <= N],
        )
        summary["primary"] = {
            "question": "first",
            "statistic": f"the leaders' median adoption rank by {source.replace('_', ' ')} "
                         "date (mid-ranks), exact against random assignment",
            "p_value": p, "min_p_value": p_min,
            "better": None if others_med is None else med < others_med,
            "date_source": source,
        }
    curves = _curves(df, t)
    by_level = (df.groupby("level", dropna=False)
                  .agg(n_members=("person_id", "size"), n_adopted=("adopted", "sum"))
                  .reset_index())
    by_level["share_adopted"] = by_level["n_adopted"] / by_level["n_members"]
    med_by_level = adopters.groupby("level", dropna=False)["mid_rank"].median()
    by_level["median_adoption_rank"] = by_level["level"].map(med_by_level)
    if n_lead:
        headline = (
            f"Of {N} members who had adopted by {pd.Timestamp(t).date()} (by "
            f"{'account creation' if source == 'account_created' else 'first collected post'}), "
            f"the {n_lead} leaders' median adoption rank is {num(summary['leaders_median_adoption_rank'], 'g')} (others: "
            f"{num(summary['others_median_adoption_rank'], 'g')}; 1 = first); probability of a median "
            f"this early under random assignment: {num(summary['p_value_median_rank'], '.2g')}."
        )
    else:
        headline = (f"No leader had adopted by {pd.Timestamp(t).date()} by "
                    f"{'account creation' if source == 'account_created' else 'first collected post'}"
                    + (f"; {n_not_ranked} member(s) with only a "
                       f"{'first post' if source == 'account_created' else 'creation date'} are "
                       f"not ranked (date_source={other!r} ranks by that date)." if n_not_ranked
                       else "."))
    params = {"as_of": t, "leaders": leaders, "platform": platform,
              "account_filter": account_filter, "first_k": list(first_k),
              "date_source": date_source,
              "seed": seed, "snapshot": to_time(snapshot, "snapshot")}
    cols = ["adoption_rank", "mid_rank", "person_id", "name", "department", "title", "level", "leader",
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
            f"Adoption = {'creation of the earliest personal account' if source == 'account_created' else 'the first collected post'}"
            f" for everyone ranked (never mixed with "
            f"{'first posts' if source == 'account_created' else 'account creation dates'}); "
            f"{n_not_ranked} member(s) with only the other date are not ranked. Account creation "
            "dates are left-truncated by the platform's own start.",
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
        if len(times):  # one frame per group (was one dict per adopter: 1.6 s at 180,000)
            rows.append(pd.DataFrame({"group": label, "at": times.to_numpy(),
                                      "cumulative_share": np.arange(1, len(times) + 1) / n,
                                      "n_members": n}))
    columns = ["group", "at", "cumulative_share", "n_members"]
    if not rows:
        return pd.DataFrame([], columns=columns)
    return pd.concat(rows, ignore_index=True)[columns]


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
