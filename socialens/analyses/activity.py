"""Were the leaders the most active posters?

Two measures, each used where the data allow:

* **window rate** — from collected posts: posts in the observation window per week the account was
  observed. Only *primary* posts count (``posts.collected_as`` = ``record``, or NULL for rows
  loaded before it existed): a profile's embedded "latest status" or a quoted original neither
  makes an account covered nor stretches the default window. An account is observed from the later
  of the window start and its presence (creation, else its first collected record) to the window
  end; when the collection is capped at the last N posts per account (detected), from its oldest
  collected record (where the cap cut it; its creation when it has fewer than N) to the time its
  timeline was collected (see :func:`collection_times`), not to its last post — so a dormant
  account is not given its active past's rate.
  Only accounts with at least one collected record count as covered, so a member whose posts were
  never collected is not mistaken for a silent one.
* **lifetime rate** — from counters: the snapshot's ``posts_count`` over the account's age in weeks.

Concentration of window posting rates: Gini coefficient (bootstrap CI) and the share of the top
10 %.
Leaders vs others (:func:`rate_ratio`): the **rate ratio** from a count regression with a
log-exposure offset — negative binomial (NB2) with its dispersion estimated by the Pearson moment
condition when the counts are overdispersed, Poisson when they are not — with its 95 % interval and
one-sided p-value, and as the robustness check a permutation test of the exposure-weighted rate
ratio under random assignment of the leader label.
"""

from __future__ import annotations

import itertools
import math
import warnings

import altair as alt
import ibis
import numpy as np
import pandas as pd
from ibis import _
from scipy import optimize, stats

from socialens.analyses.common import (
    latest_snapshot_time,
    personal_accounts,
    post_time_range,
    record_posts,
    roster_at,
    select_leaders,
    snapshots_at,
    to_time,
    week_index,
)
from socialens.analyses.result import Result, thin
from socialens.analyses.signature import analysis_function
from socialens.errors import AnalysisError
from socialens.stats import bootstrap_ci, gini, top_share
from socialens.workspace import Workspace

__all__ = ["activity", "rate_ratio", "collection_times"]

WEEK = pd.Timedelta(days=7)

#: How the collection time of a capped timeline is found (recorded in the summary).
COLLECTION_TIME_RULE = (
    "the latest snapshot of the account from the same ingest run as its posts (the counters read "
    "off the timeline page at its retrieval stamp), else the newest record post of any account in "
    "that run (the file was collected after it), never before the account's last post and at most "
    "the window end"
)


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
    n_permutations: int = 9999,
    seed: int = 0,
) -> Result:
    """Posting rates, their concentration, and leaders vs others as a rate ratio.

    Parameters
    ----------
    window_start, window_end : time, optional
        Observation window for posts (default: first to last collected record post).
    as_of : time, optional
        When roles are read (default: the window end, else the snapshot).
    snapshot : time, optional
        Counters snapshot for lifetime rates (default: the latest at or before ``as_of``).
    min_weeks : float
        Accounts observed for less than this many weeks of the window are left out of window rates.
    rate : {"auto", "exposure", "capped"}
        ``exposure``: posts / weeks from the later of window start and the account's presence to
        the window end. ``capped``: posts / weeks from the account's oldest collected record to
        its collection time — right when timelines were collected only back to their last N posts
        (the Twitter API's 3,200, twitterreport's 200). ``auto`` chooses ``capped`` when the
        collection looks capped (see :func:`_capped_collection`).
    n_permutations : int
        Random assignments of the leader label for the permutation test (all of them when there
        are at most this many).

    Notes
    -----
    For the founding answer (``socialens.report.answer``) the statistic is
    ``summary["window"]["rate_ratio_leaders_vs_others"]`` (else the same key under ``"lifetime"``):
    ``estimate``, ``ci``, ``p_value`` (one-sided, leaders' rate higher), ``model``, and the
    permutation check under ``permutation``; see :func:`rate_ratio`.
    """
    if rate == "span":
        raise AnalysisError("rate='span' is now rate='capped' (posts / weeks from the oldest "
                            "collected post to the collection time)")
    first, last = post_time_range(ws, records_only=True)
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

    # -- window rates from primary posts ------------------------------------------------------
    if ws_t is not None and we_t is not None and we_t > ws_t:
        # covered accounts: at least one collected record at any time
        # one pass over the posts: all records per account and, filtered, those in the window
        # (the numbers of post_stats(ws, records_only=True) and of post_stats(ws, ws_t, we_t, ...))
        p = record_posts(ws)
        in_window = (p.created_at >= ws_t) & (p.created_at <= we_t)
        per_account = p.group_by("account_id").aggregate(
            n_total=p.count(), first_post=p.created_at.min(), last_post_at=p.created_at.max(),
            n_window=p.count(where=in_window),
            weeks_window=week_index(p.created_at).nunique(where=in_window))
        cov = (accounts.join(per_account, "account_id")
                       .select(accounts.account_id, accounts.person_id,
                               present_from=ibis.coalesce(accounts.created_at,
                                                          per_account.first_post),
                               first_record=per_account.first_post,
                               last_record=per_account.last_post_at,
                               n_posts=per_account.n_window.fill_null(0),
                               weeks_with_posts=per_account.weeks_window.fill_null(0),
                               n_total=per_account.n_total))
        acc = cov.to_pandas()
        capped, cap = _capped_collection(acc["n_total"])
        method = {"auto": "capped" if capped else "exposure"}.get(rate, rate)
        if method not in ("capped", "exposure"):
            raise AnalysisError(f"rate={rate!r}: choose auto, exposure or capped")
        w0, w1 = pd.Timestamp(ws_t), pd.Timestamp(we_t)
        if method == "exposure":
            since = acc["present_from"]
            until = pd.Series(w1, index=acc.index)
        else:
            # a timeline at the cap is complete from its oldest collected record on; one below
            # the cap is complete from the account's creation
            at_cap = acc["n_total"] >= (cap or 0) if capped else pd.Series(True, index=acc.index)
            since = acc["first_record"].where(at_cap, acc["present_from"])
            coll = collection_times(ws).reindex(acc["account_id"]).to_numpy()
            until = pd.Series(pd.to_datetime(coll, utc=True), index=acc.index)
            until = until.fillna(acc["last_record"])
            until = until.where(until > acc["last_record"], acc["last_record"])
            until = until.where(until < w1, w1)
        acc["observed_from"] = since.where(since > w0, w0)
        acc["observed_until"] = until
        acc["weeks_present"] = (acc["observed_until"] - acc["observed_from"]) / WEEK
        acc = acc[acc["weeks_present"] >= min_weeks]
        per = (acc.groupby("person_id")
                  .agg(n_posts=("n_posts", "sum"), weeks_with_posts=("weeks_with_posts", "max"),
                       weeks_present=("weeks_present", "max"),
                       observed_from=("observed_from", "min"),
                       observed_until=("observed_until", "max"))
                  .reset_index())
        per["posts_per_week"] = per["n_posts"] / per["weeks_present"]
        df = roster.merge(per, on="person_id", how="inner")
        df["posts_per_week_with_posts"] = np.where(df["weeks_with_posts"] > 0,
                                                   df["n_posts"] / df["weeks_with_posts"], 0.0)
        df = df.sort_values(["posts_per_week", "person_id"], ascending=[False, True]).reset_index(drop=True)
        df.insert(0, "rank", np.arange(1, len(df) + 1))
        tables["window_rates"] = df[["rank", "person_id", "name", "department", "title", "level",
                                     "leader", "opt_in", "n_posts", "weeks_present",
                                     "observed_from", "observed_until", "weeks_with_posts",
                                     "posts_per_week", "posts_per_week_with_posts"]]
        if len(df):
            rates = df["posts_per_week"].to_numpy(dtype=float)
            rr = rate_ratio(df["n_posts"], df["weeks_present"], df["leader"],
                            n_permutations=n_permutations, seed=seed)
            summary["window"] = {
                "rate_method": method,
                "capped_collection": capped,
                "cap": cap,
                "collection_time_rule": COLLECTION_TIME_RULE if method == "capped" else None,
                "n_people": int(len(df)),
                "n_posts": int(df["n_posts"].sum()),
                "gini": gini(rates),
                "gini_ci": list(bootstrap_ci(gini, rates, seed=seed)),
                "top10_share": top_share(rates, 0.1),
                "rate_ratio_leaders_vs_others": rr,
                "leaders": [{"name": r.name, "person_id": r.person_id, "title": r.title,
                             "rank": int(r.rank),
                             "posts_per_week": r.posts_per_week}
                            for r in df[df["leader"]].itertuples()],
            }
            if rr["n_group"] and rr["n_others"]:
                headline_parts.append(
                    f"in {w0.date()}–{w1.date()}, {rr['n_group']} leaders posted "
                    f"{_describe(rr)}")
            if capped:
                headline_parts.append(
                    f"the collection keeps only each account's last ~{cap} posts, so each account "
                    "is observed from its oldest collected post to the time it was collected"
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
            rr = rate_ratio(lf["lifetime_posts"], lf["age_weeks"], lf["leader"],
                            n_permutations=n_permutations, seed=seed)
            summary["lifetime"] = {
                "snapshot": snap, "n_people": int(len(lf)),
                "gini_posts_count": gini(lf["lifetime_posts"]),
                "rate_ratio_leaders_vs_others": rr,
            }
            if rr["n_group"] and rr["n_others"]:
                headline_parts.append(
                    f"over their accounts' lifetimes (counters of {pd.Timestamp(snap).date()}), "
                    f"{rr['n_group']} leaders posted {_describe(rr)}"
                )
            if "window_rates" not in figures:
                figures["lifetime_rates"] = _rate_chart(lf, "lifetime_posts_per_week",
                                                        "Lifetime posts per week (leaders highlighted)")
    primary = _primary(summary)
    if primary:
        summary["primary"] = primary
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
              "min_weeks": min_weeks, "rate": rate, "n_permutations": n_permutations,
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
            "Window rate = record posts in the window / weeks the account was observed in the "
            "window (from the later of window start and adoption; for capped timelines from the "
            "oldest collected post to the collection time). Embedded copies (a profile's latest "
            "status, quoted or reposted originals) are not counted; only accounts with collected "
            "records are covered.",
            "Lifetime rate = posts counter / account age at the snapshot.",
            "Leaders vs others: rate ratio from a negative-binomial (or, without overdispersion, "
            "Poisson) regression with a log-exposure offset; permutation test of the "
            "exposure-weighted rate ratio as the check.",
        ],
    )


def _primary(summary: dict) -> dict | None:
    """The pre-declared primary test of "were the leaders the most active?": the one-sided
    rate-ratio test of the window rates (else of the lifetime rates), for the founding answer."""
    for part in ("window", "lifetime"):
        rr = (summary.get(part) or {}).get("rate_ratio_leaders_vs_others")
        if not rr or rr["p_value"] is None:
            continue
        model = {"negative_binomial": "negative-binomial", "poisson": "Poisson"}[rr["model"]]
        lo, hi = rr["ci"]
        perm = rr["permutation"]
        return {
            "part": part, "measure": f"{part} posts per week",
            "statistic": f"rate ratio of {part} posts per week, leaders vs others ({model} "
                         "regression with a log-exposure offset), one-sided",
            "p_value": rr["p_value"], "min_p_value": None,
            "min_p_note": "model-based p-value: no floor at this size",
            "better": rr["estimate"] > 1, "estimate": rr["estimate"], "ci": [lo, hi],
            "evidence": (f"leaders posted {_fmt(rr['estimate'])} times as often as others "
                         f"({part}; rate ratio 95 % CI {_fmt(lo)}–{_fmt(hi)}, {model} regression "
                         f"with a log-exposure offset; {_fmt(rr['rate_group'])} vs "
                         f"{_fmt(rr['rate_others'])} posts/week, {rr['n_group']} leaders vs "
                         f"{rr['n_others']} others; permutation check p = "
                         f"{'n/a' if perm['p_value'] is None else format(perm['p_value'], '.2g')})"),
            "leaders_median": rr["median_group"], "others_median": rr["median_others"],
            "n_leaders": rr["n_group"], "n_others": rr["n_others"],
            "permutation_p_value": perm["p_value"],
        }
    return None


def _describe(rr: dict) -> str:
    """``'12.3 vs 4.1 posts/week (pooled) for 30 others: rate ratio 3.0 (95 % CI ...)'``."""
    text = (f"{_fmt(rr['rate_group'])} vs {_fmt(rr['rate_others'])} posts/week (all posts over "
            f"all weeks observed) for {rr['n_others']} others")
    if rr["estimate"] is None:
        return text + f" ({rr['model_note']})"
    lo, hi = rr["ci"]
    model = {"negative_binomial": "negative-binomial", "poisson": "Poisson"}[rr["model"]]
    perm = rr["permutation"]["p_value"]
    return (text + f": rate ratio {_fmt(rr['estimate'])} (95 % CI {_fmt(lo)}–{_fmt(hi)}, "
            f"{model} regression with exposure offset, one-sided p = {rr['p_value']:.2g}"
            + (f"; permutation p = {perm:.2g}" if perm is not None else "") + ")")


def _fmt(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "n/a" if x is None else "∞"
    return f"{x:.2f}" if abs(x) < 10 else f"{x:.1f}"


def collection_times(ws: Workspace) -> pd.Series:
    """When each account's collected timeline was collected (index ``account_id``).

    The rule (``COLLECTION_TIME_RULE``): the latest snapshot of the account from the same ingest
    run as its record posts — readers store a page's counters at its retrieval stamp
    (``__twarc.retrieved_at``, ``_socialens.retrieved_at``, a stream's ``timestamp_ms``) with that
    page's run — else the newest record post of any account in the same run (a file of timelines
    was collected after its newest post; this is how the twitterreport Senate data, without
    stamps, is dated). The caller keeps it at or after the account's last post and at most the
    window end.
    """
    rec = record_posts(ws).select("account_id", "run_id", "created_at")
    acc_runs = rec.select("account_id", "run_id").distinct()
    run_newest = rec.group_by("run_id").aggregate(newest=rec.created_at.max())
    snaps = ws.table("account_snapshots")
    stamped = snaps.join(acc_runs, ["account_id", "run_id"]).group_by("account_id").aggregate(
        t_stamp=snaps.observed_at.max())
    by_run = acc_runs.join(run_newest, "run_id").group_by("account_id").aggregate(
        t_run=_.newest.max())
    both = by_run.left_join(stamped, "account_id")
    rows = both.select(account_id=by_run.account_id,
                       collected_at=stamped.t_stamp.coalesce(by_run.t_run)).to_pandas()
    return rows.set_index("account_id")["collected_at"]


def rate_ratio(counts, exposure, group, *, n_permutations: int = 9999, seed: int = 0,
               level: float = 0.95) -> dict:
    """Rate ratio of a group (the leaders) vs the others from counts over exposures.

    The model: ``counts_i ~ NB2(mean = exposure_i · exp(b0 + b1 · group_i), dispersion α)``, i.e.
    a log-linear count regression with ``log(exposure)`` as offset (Cameron & Trivedi 2013,
    ch. 3); the rate ratio is ``exp(b1)``, the ratio of the groups' mean rates. Rule for the
    model: the Poisson fit's Pearson statistic ``X² = Σ (y - μ)² / μ`` is compared with its
    degrees of freedom ``n - 2``; when ``X² ≤ n - 2`` (no overdispersion) the model is Poisson
    (α = 0), otherwise α is the moment estimate solving ``Σ (y - μ)² / (μ (1 + α μ)) = n - 2``
    (Breslow 1984; Cameron & Trivedi 2013, §3.3) and the model is NB2 with that α, fitted by
    statsmodels' GLM. The moment estimate is used rather than maximum likelihood because the ML
    estimate of α is biased low when between-person heterogeneity is not gamma (log-normal rates
    of the simulator: α̂_ML ≈ 0.84 for a true 1.72), which makes Wald intervals too narrow.
    Interval: ``exp(b1 ± q · se)`` with ``q`` the ``t`` quantile on ``n - 2`` degrees of freedom
    (the dispersion is estimated; the normal quantile for Poisson). ``p_value`` is one-sided (the
    group's rate higher), ``p_value_two_sided`` beside it.

    Robustness check (``permutation``): the exposure-weighted rate ratio
    ``(Σ_g y / Σ_g E) / (Σ_o y / Σ_o E)`` (the Poisson estimate) against random assignment of the
    group label to as many people: exact over all assignments when there are at most
    ``n_permutations``, else ``n_permutations`` random ones with ``p = (1 + #≥) / (1 + B)``.

    >>> r = rate_ratio([30, 28, 33, 10, 9, 12, 11, 10, 8], [10] * 9, [1, 1, 1, 0, 0, 0, 0, 0, 0])
    >>> round(r["estimate"], 2), r["model"], r["permutation"]["exact"]
    (3.03, 'poisson', True)
    >>> r["permutation"]["p_value"] == 1 / 84
    True
    """
    y = np.asarray(counts, dtype=float)
    e = np.asarray(exposure, dtype=float)
    g = np.asarray(group, dtype=bool)
    ok = np.isfinite(y) & np.isfinite(e) & (e > 0)
    y, e, g = y[ok], e[ok], g[ok]
    n, k = len(y), int(g.sum())
    yg, eg, yo, eo = y[g].sum(), e[g].sum(), y[~g].sum(), e[~g].sum()
    out = {
        "n_group": k, "n_others": n - k,
        "posts_group": float(yg), "weeks_group": float(eg),
        "posts_others": float(yo), "weeks_others": float(eo),
        "rate_group": float(yg / eg) if k else None,
        "rate_others": float(yo / eo) if n - k else None,
        "median_group": float(np.median(y[g] / e[g])) if k else None,
        "median_others": float(np.median(y[~g] / e[~g])) if n - k else None,
        "estimate": None, "ci": [None, None], "ci_level": level,
        "p_value": None, "p_value_two_sided": None,
        "model": None, "alpha": None, "pearson_dispersion": None, "model_note": None,
        "permutation": {"statistic": "exposure-weighted rate ratio", "rate_ratio": None,
                        "p_value": None, "n_permutations": 0, "exact": None},
    }
    if k == 0 or k == n:
        out["model_note"] = "no one to compare with"
        return out
    out["permutation"] = _permutation_test(y, e, g, n_permutations, seed)
    if n < 3 or yg == 0 or yo == 0:
        out["model_note"] = ("too few people for the regression" if n < 3 else
                             "no posts in one of the groups: no finite rate ratio")
        return out
    mu_p = _group_means(y, e, g, 0.0)
    x2 = float(((y - mu_p) ** 2 / mu_p).sum())
    dof = n - 2
    out["pearson_dispersion"] = x2 / dof
    alpha = 0.0 if x2 <= dof else _moment_alpha(y, e, g, dof)
    import statsmodels.api as sm

    x = np.column_stack([np.ones(n), g.astype(float)])
    family = sm.families.Poisson() if alpha == 0 else sm.families.NegativeBinomial(alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            fit = sm.GLM(y, x, family=family, offset=np.log(e)).fit()
        except Exception as exc:  # noqa: BLE001 - a fit that does not converge is reported, not raised
            out["model_note"] = f"the regression did not converge ({type(exc).__name__})"
            return out
    b, se = float(fit.params[1]), float(fit.bse[1])
    dist = stats.norm if alpha == 0 else stats.t(dof)
    q = float(dist.ppf(0.5 + level / 2))
    out.update(estimate=math.exp(b), ci=[math.exp(b - q * se), math.exp(b + q * se)],
               p_value=float(dist.sf(b / se)), p_value_two_sided=float(2 * dist.sf(abs(b / se))),
               model="poisson" if alpha == 0 else "negative_binomial", alpha=alpha)
    return out


def _group_means(y, e, g, alpha):
    """Fitted means of the NB2 (α > 0) or Poisson (α = 0) model with one rate per group: each
    group's rate solves ``Σ (y - E r) / (1 + α E r) = 0``."""
    mu = np.empty_like(y)
    for m in (g, ~g):
        yy, ee = y[m], e[m]
        r = yy.sum() / ee.sum()
        if alpha > 0:
            lo, hi = (yy / ee).min(), (yy / ee).max()
            if hi > lo:
                r = optimize.brentq(_score, lo, hi, args=(yy, ee, alpha), xtol=1e-12, rtol=1e-10)
        mu[m] = ee * r
    return mu


def _score(r, y, e, alpha):
    return ((y - e * r) / (1 + alpha * e * r)).sum()


def _moment_alpha(y, e, g, dof) -> float:
    """α solving the Pearson moment condition ``Σ (y - μ)² / (μ (1 + α μ)) = dof``."""
    def excess(log_a):
        a = math.exp(log_a)
        mu = _group_means(y, e, g, a)
        return float(((y - mu) ** 2 / (mu * (1 + a * mu))).sum()) - dof

    lo, hi = math.log(1e-8), math.log(1e4)
    if excess(hi) > 0:
        return 1e4
    return math.exp(optimize.brentq(excess, lo, hi, xtol=1e-6))


def _permutation_test(y, e, g, n_permutations: int, seed: int) -> dict:
    n, k = len(y), int(g.sum())
    ty, te = y.sum(), e.sum()

    def ratio(sy, se):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (sy / se) / ((ty - sy) / (te - se))

    obs = float(ratio(y[g].sum(), e[g].sum()))
    res = {"statistic": "exposure-weighted rate ratio", "rate_ratio": obs, "p_value": None,
           "n_permutations": 0, "exact": None}
    if not np.isfinite(obs) and not np.isinf(obs):  # 0/0: nobody posted
        return res
    total = math.comb(n, k)
    small = min(k, n - k)  # draw the smaller side and get the group's sums by complement
    if total <= n_permutations:
        idx = np.array(list(itertools.combinations(range(n), small)), dtype=np.int64)
        count, b, exact = 0, len(idx), True
        chunks = [idx]
    else:
        rng = np.random.default_rng(seed)
        b, exact, chunks = int(n_permutations), False, []
        left = b
        while left > 0:
            m = min(left, max(1, 2_000_000 // (small if small * small <= n else n)))
            chunks.append(random_subsets(rng, n, small, m))
            left -= m
        count = 1
    for idx in chunks:
        sy, se = y[idx].sum(axis=1), e[idx].sum(axis=1)
        if small != k:
            sy, se = ty - sy, te - se
        count += int((ratio(sy, se) >= obs * (1 - 1e-9)).sum())
    res.update(p_value=count / b if exact else count / (b + 1), n_permutations=b, exact=exact)
    return res


def random_subsets(rng: np.random.Generator, n: int, k: int, m: int) -> np.ndarray:
    """``m`` independent, uniformly random ``k``-subsets of ``range(n)``, one per row (``m × k``
    indices, no index twice in a row).

    When ``k² ≤ n`` (a few leaders among many people) each row is drawn with replacement and
    drawn again while it repeats an index (the birthday bound: a row repeats with probability
    below ``1 − e^(−1/2) ≈ 0.39``), which keeps a row uniform over the ordered ``k``-tuples of
    distinct indices and so over ``k``-subsets, at ``O(k)`` per row; otherwise the first ``k`` of
    a random permutation (``argpartition`` of uniforms, ``O(n)`` per row).

    >>> rows = random_subsets(np.random.default_rng(0), 10_000, 5, 3)
    >>> rows.shape, all(len(set(r)) == 5 for r in rows)
    ((3, 5), True)
    """
    if k * k <= n:
        out = rng.integers(0, n, size=(m, k))
        while True:
            srt = np.sort(out, axis=1)
            bad = (srt[:, 1:] == srt[:, :-1]).any(axis=1)
            if not bad.any():
                return out
            out[bad] = rng.integers(0, n, size=(int(bad.sum()), k))
    return np.argpartition(rng.random((m, n)), k - 1, axis=1)[:, :k]


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
