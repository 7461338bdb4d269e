"""Were the leaders the most active posters?

Two measures, each used where the data allow:

* **window rate** — from collected posts: posts in the observation window per week of presence
  (weeks between the later of window start and the person's adoption, and the window end); or,
  when the collection is capped at the last N posts per account (detected), posts per week between
  each account's first and last collected post.
  Only accounts with at least one collected post anywhere in the workspace count as covered, so a
  member whose posts were never collected is not mistaken for a silent one.
* **lifetime rate** — from counters: the snapshot's ``posts_count`` over the account's age in weeks.

Concentration of window posting rates: Gini coefficient (bootstrap CI) and the share of the top
10 %.
Leaders vs others: Mann–Whitney U with rank-biserial r and a bootstrap CI of the ratio of medians.
"""

from __future__ import annotations

import altair as alt
import ibis
import numpy as np
import pandas as pd

from socialens.analyses.common import (
    latest_snapshot_time,
    personal_accounts,
    post_stats,
    post_time_range,
    roster_at,
    select_leaders,
    snapshots_at,
    to_time,
)
from socialens.analyses.result import Result, thin
from socialens.analyses.signature import analysis_function
from socialens.errors import AnalysisError
from socialens.stats import bootstrap_ci, gini, group_comparison, top_share
from socialens.workspace import Workspace

__all__ = ["activity"]

WEEK = pd.Timedelta(days=7)


@analysis_function
def activity(
    ws: Workspace,
    *,
    window_start=None,
    window_end=None,
    as_of=None,
    snapshot=None,
    leaders: str = "is_leader",
    platform: str | None = None,
    account_filter: str | None = None,
    tolerance_days: float = 120,
    min_weeks: float = 1.0,
    rate: str = "auto",
    seed: int = 0,
) -> Result:
    """Posting rates, their concentration, and leaders vs others.

    Parameters
    ----------
    window_start, window_end : time, optional
        Observation window for posts (default: first to last collected post).
    as_of : time, optional
        When roles are read (default: the window end, else the snapshot).
    snapshot : time, optional
        Counters snapshot for lifetime rates (default: the latest at or before ``as_of``).
    min_weeks : float
        People present for less than this many weeks of the window are left out of window rates.
    rate : {"auto", "exposure", "span"}
        ``exposure``: posts / weeks present in the window. ``span``: (posts - 1) / weeks between
        the first and last collected post — right when timelines were collected only back to their
        last N posts (the Twitter API's 3,200, twitterreport's 200). ``auto`` chooses ``span``
        when the collection looks capped (see :func:`_capped_collection`).
    """
    first, last = post_time_range(ws)
    ws_t = to_time(window_start, "window_start") or first
    we_t = to_time(window_end, "window_end") or last
    t = to_time(as_of, "as_of") or we_t or latest_snapshot_time(ws, to_time(snapshot, "snapshot"))
    if t is None:
        raise AnalysisError("the workspace has no posts and no snapshots; nothing to measure")
    snap = latest_snapshot_time(ws, to_time(snapshot, "snapshot") or t)
    roster = roster_at(ws, t)
    if roster.empty:
        raise AnalysisError(f"nobody holds a role at {t.isoformat()}; choose another --as-of")
    roster["leader"] = select_leaders(roster, leaders).to_numpy()
    summary: dict = {"n_members": int(len(roster)),
                     "n_leaders_in_roster": int(roster["leader"].sum())}
    tables: dict = {}
    figures: dict = {}
    headline_parts = []
    accounts = personal_accounts(ws, platform, account_filter)

    # -- window rates from posts --------------------------------------------------------------
    if ws_t is not None and we_t is not None and we_t > ws_t:
        # covered accounts: at least one collected post at any time
        everything = post_stats(ws)
        window = post_stats(ws, ws_t, we_t)
        cov = (accounts.join(everything, "account_id")
                       .select(accounts.account_id, accounts.person_id,
                               present_from=ibis.coalesce(accounts.created_at, everything.first_post)))
        cov = cov.left_join(window, "account_id").select(
            cov.account_id, cov.person_id, cov.present_from, n_posts=window.n_posts.fill_null(0),
            weeks_with_posts=window.weeks_with_posts.fill_null(0),
            first_in_window=window.first_post, last_in_window=window.last_post_at,
            n_total=everything.n_posts)
        acc = cov.to_pandas()
        capped, cap = _capped_collection(acc["n_total"])
        method = {"auto": "span" if capped else "exposure"}.get(rate, rate)
        if method not in ("span", "exposure"):
            raise AnalysisError(f"rate={rate!r}: choose auto, exposure or span")
        start = acc["present_from"].where(acc["present_from"] > pd.Timestamp(ws_t), pd.Timestamp(ws_t))
        acc["weeks_present"] = (pd.Timestamp(we_t) - start) / WEEK
        acc["weeks_span"] = (acc["last_in_window"] - acc["first_in_window"]) / WEEK
        if method == "exposure":
            acc["rate"] = acc["n_posts"] / acc["weeks_present"]
            acc = acc[acc["weeks_present"] >= min_weeks]
        else:  # events per week between the first and the last collected post
            acc = acc[(acc["n_posts"] >= 2) & (acc["weeks_span"] > 0)]
            acc["rate"] = (acc["n_posts"] - 1) / acc["weeks_span"]
        per = (acc.groupby("person_id")
                  .agg(n_posts=("n_posts", "sum"), weeks_with_posts=("weeks_with_posts", "max"),
                       weeks_present=("weeks_present", "max"), weeks_span=("weeks_span", "max"),
                       posts_per_week=("rate", "sum"))
                  .reset_index())
        df = roster.merge(per, on="person_id", how="inner")
        df["posts_per_week_with_posts"] = np.where(df["weeks_with_posts"] > 0,
                                                   df["n_posts"] / df["weeks_with_posts"], 0.0)
        df = df.sort_values(["posts_per_week", "person_id"], ascending=[False, True]).reset_index(drop=True)
        df.insert(0, "rank", np.arange(1, len(df) + 1))
        tables["window_rates"] = df[["rank", "person_id", "name", "department", "title", "level",
                                     "leader", "opt_in", "n_posts", "weeks_present",
                                     "weeks_span", "weeks_with_posts", "posts_per_week",
                                     "posts_per_week_with_posts"]]
        if len(df):
            rates = df["posts_per_week"].to_numpy(dtype=float)
            summary["window"] = {
                "rate_method": method,
                "capped_collection": capped,
                "cap": cap,
                "n_people": int(len(df)),
                "n_posts": int(df["n_posts"].sum()),
                "gini": gini(rates),
                "gini_ci": list(bootstrap_ci(gini, rates, seed=seed)),
                "top10_share": top_share(rates, 0.1),
                "posts_per_week_leaders_vs_others": group_comparison(
                    df.loc[df["leader"], "posts_per_week"], df.loc[~df["leader"], "posts_per_week"],
                    alternative="greater", seed=seed),
                "leaders": [{"name": r.name, "person_id": r.person_id, "title": r.title,
                             "rank": int(r.rank),
                             "posts_per_week": r.posts_per_week}
                            for r in df[df["leader"]].itertuples()],
            }
            gc = summary["window"]["posts_per_week_leaders_vs_others"]
            if gc["n_group"] and gc["n_others"]:
                headline_parts.append(
                    f"In {pd.Timestamp(ws_t).date()}–{pd.Timestamp(we_t).date()}, {gc['n_group']} "
                    f"leaders posted a median {gc['median_group']:.2f} posts/week vs "
                    f"{gc['median_others']:.2f} for {gc['n_others']} others (Mann–Whitney "
                    f"p = {gc['p_value']:.2g}, rank-biserial r = {gc['rank_biserial']:.2f})"
                )
            if capped:
                headline_parts.append(
                    f"the collection keeps only each account's last ~{cap} posts, so rates are "
                    "measured between each account's first and last collected post"
                )
            headline_parts.append(
                f"posting rates are concentrated: Gini {summary['window']['gini']:.2f}, the top "
                f"10 % account for {summary['window']['top10_share']:.0%} of the posting volume"
            )
            figures["window_rates"] = _rate_chart(df, "posts_per_week",
                                                  "Posts per week in the window (leaders highlighted)")

    # -- lifetime rates from counters ---------------------------------------------------------
    if snap is not None:
        snaps = snapshots_at(ws, snap, tolerance_days)
        acc = (accounts.filter(accounts.created_at.notnull())
                       .select("account_id", "person_id", "created_at")
                       .to_pandas()
                       .merge(snaps, on="account_id"))
        acc = acc[acc["posts_count"].notna()].copy()
        acc["age_weeks"] = (acc["observed_at"] - acc["created_at"]) / WEEK
        acc = acc[acc["age_weeks"] > 0]
        per = acc.groupby("person_id").agg(lifetime_posts=("posts_count", "sum"),
                                           age_weeks=("age_weeks", "max")).reset_index()
        per["lifetime_posts_per_week"] = per["lifetime_posts"] / per["age_weeks"]
        lf = roster.merge(per, on="person_id", how="inner")
        lf = lf.sort_values(["lifetime_posts_per_week", "person_id"], ascending=[False, True]).reset_index(drop=True)
        lf.insert(0, "rank", np.arange(1, len(lf) + 1))
        tables["lifetime_rates"] = lf[["rank", "person_id", "name", "department", "title", "level",
                                       "leader", "opt_in", "lifetime_posts", "age_weeks",
                                       "lifetime_posts_per_week"]]
        if len(lf):
            gc = group_comparison(lf.loc[lf["leader"], "lifetime_posts_per_week"],
                                  lf.loc[~lf["leader"], "lifetime_posts_per_week"],
                                  alternative="greater", seed=seed)
            summary["lifetime"] = {
                "snapshot": snap, "n_people": int(len(lf)),
                "gini_posts_count": gini(lf["lifetime_posts"]),
                "posts_per_week_leaders_vs_others": gc,
            }
            if gc["n_group"] and gc["n_others"]:
                headline_parts.append(
                    f"over their accounts' lifetimes (counters of {pd.Timestamp(snap).date()}), "
                    f"{gc['n_group']} leaders posted a median {gc['median_group']:.1f}/week vs "
                    f"{gc['median_others']:.1f} for {gc['n_others']} others (p = {gc['p_value']:.2g})"
                )
            if "window_rates" not in figures:
                figures["lifetime_rates"] = _rate_chart(lf, "lifetime_posts_per_week",
                                                        "Lifetime posts per week (leaders highlighted)")
    by_level = [
        t.groupby("level", dropna=False)
         .agg(n=("person_id", "size"), median_posts_per_week=(col, "median"),
              mean_posts_per_week=(col, "mean"))
         .reset_index().assign(measure=name)
        for name, t, col in (("window", tables.get("window_rates"), "posts_per_week"),
                             ("lifetime", tables.get("lifetime_rates"), "lifetime_posts_per_week"))
        if t is not None and len(t)
    ]
    if by_level:
        tables["by_level"] = pd.concat(by_level, ignore_index=True)
    if not tables:
        raise AnalysisError("no posts in the window and no usable counters; nothing to measure")
    params = {"window_start": ws_t, "window_end": we_t, "as_of": t, "snapshot": snap,
              "leaders": leaders, "platform": platform, "account_filter": account_filter,
              "min_weeks": min_weeks, "rate": rate,
              "snapshot_tolerance_days": tolerance_days, "seed": seed}
    headline = "; ".join(headline_parts) + "." if headline_parts else "No leader data."
    return Result(
        name="activity",
        title="Activity: who posts most?",
        params=params,
        summary=summary,
        tables=tables,
        figures=figures,
        headline=headline[0].upper() + headline[1:],
        notes=[
            "Window rate = posts in the window / weeks present in the window (from the later of "
            "window start and adoption). Only accounts with collected posts are covered.",
            "Lifetime rate = posts counter / account age at the snapshot.",
        ],
    )


def _capped_collection(n_total: pd.Series) -> tuple[bool, int | None]:
    """Does the collection look truncated at a fixed number of posts per account?

    True when at least half of the covered accounts (and at least 5) have exactly the maximum
    count, and that maximum is at least 20: a natural distribution of post counts is never piled up
    at its maximum like that.
    """
    counts = n_total.dropna().astype(int)
    if len(counts) < 5:
        return False, None
    top = int(counts.max())
    at_top = int((counts == top).sum())
    capped = top >= 20 and at_top >= 5 and at_top >= len(counts) / 2
    return capped, top if capped else None


def _rate_chart(df: pd.DataFrame, col: str, title: str) -> alt.Chart:
    data = df[["rank", "person_id", "name", "title", "leader", col]].copy()
    data["who"] = np.where(data["leader"], "leader", "other")
    data["rate"] = data[col].clip(lower=0.01)
    data = thin(data[["rank", "person_id", "name", "title", "who", "rate"]],
                keep=data["who"] == "leader")
    if len(data) < len(df):
        title += f" — {len(data)} of {len(df)} people shown, all leaders included"
    return (
        alt.Chart(data, title=title)
        .mark_circle(size=40)
        .encode(
            x=alt.X("rank:Q", title="rank (1 = most active)"),
            y=alt.Y("rate:Q", scale=alt.Scale(type="log"), title="posts per week (log)"),
            color=alt.Color("who:N", scale=alt.Scale(domain=["leader", "other"],
                                                     range=["#c0392b", "#95a5a6"]), title=None),
            tooltip=["name", "title", "rate"],
        )
        .properties(width=520, height=260)
    )
