"""Sharing: the personal / professional mix by level, person and quarter, and whether members'
personal share rises after leaders they are exposed to post something personal.

**Mix.** ``post_features.personal_score`` (feature version 3) is a calibrated probability that a
post is PERSONAL or MIXED, so its mean over posts estimates the share of personal posts (MIXED
labels are unreliable, so labels are not counted). Per person: their record posts' mean score.
Per group (leaders / members, each level, each quarter) the group's posts pooled (a ratio of
sums), with percentile bootstrap intervals that resample **people** within the group.

**Shift** (docs/methods.md, "Personal sharing after leaders' personal posts"). A leader's or a
peer's *first personal post* is the ``personal`` behaviour of :mod:`socialens.behaviours` (their
first record post the sharing model labels PERSONAL). A member ``i`` is exposed to it through the
exposure network (:func:`socialens.behaviours.exposure_ties`: follows, replies, mentions, and
reporting lines with ``manager``) at ``max(first personal post, tie start)``, as in
:func:`socialens.behaviours.exposure_events` — but regardless of when ``i`` first posted something
personal (it is a rate change, not an adoption). ``τ_L(i)`` is the earliest such exposure to a
leader, ``τ_P(i)`` to a peer (another member). With ``m = min_posts``, a member enters the leader
arm when they have ≥ m scored posts in the window before ``τ_L`` and ≥ m from ``τ_L`` on; their
change is ``Δ_i^L = mean score after − mean score before``. The estimands are

    θ_L = mean of Δ_i^L over the leader arm,   θ_P = the same for peers,   θ_L − θ_P,

the last being the headline contrast: the peers' first personal posts carry the same passage of
time and the same general drift as the leaders', so what the leaders add is ``θ_L − θ_P``.
Members are not independent (those of one department share leaders and peers), so intervals are a
delete-one-**cluster** jackknife with t(G − 1) over clusters (the member's department, or the
leader whose post exposed them first), both arms deleted together so that the contrast's
covariance is kept. With fewer than ``min_members`` members in an arm or fewer than
``min_clusters`` clusters the analysis says "too few to tell" and gives no interval.

All set-based work (the scored posts, the exposure times, the before / after sums per member, the
per-person and per-quarter sums) is ibis over the workspace tables; the statistics run in Python
on the per-member and per-person tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from socialens.analyses.common import post_time_range, roster_groups, to_time
from socialens.analyses.result import Result
from socialens.analyses.signature import analysis_function
from socialens.behaviours.spec import BehaviourError
from socialens.errors import AnalysisError
from socialens.stats.bootstrap import group_ratios
from socialens.workspace import Workspace

__all__ = ["sharing", "scored_posts", "person_shares", "period_shares", "pooled_shares",
           "exposure_times", "member_changes", "shift_estimates", "CLUSTERS", "PERIODS"]

#: how members are clustered for the shift's interval
CLUSTERS = ("department", "leader")
#: periods of the mix over time (ibis truncation units)
PERIODS = {"quarter": "Q", "month": "M", "year": "Y"}
_ARMS = ("leader", "peer")


def scored_posts(ws: Workspace, *, window_start=None, window_end=None):
    """Record posts of persons with a personal score: ``person_id, post_id, at, score`` (ibis)."""
    from socialens.behaviours.events import record_posts
    from socialens.enrich.runner import FEATURE_VERSION

    rp = record_posts(ws)
    if window_start is not None:
        rp = rp.filter(rp.created_at >= window_start)
    if window_end is not None:
        rp = rp.filter(rp.created_at < window_end)
    f = ws.table("post_features")
    f = f.filter(f.feature_version == FEATURE_VERSION, f.personal_score.notnull())
    f = f.select(f_post_id=f.post_id, score=f.personal_score)
    j = rp.join(f, rp.post_id == f.f_post_id)
    return j.select(person_id=j.person_id.cast("string"), post_id=j.post_id, at=j.created_at,
                    score=j.score.cast("float64"))


def person_shares(posts) -> pd.DataFrame:
    """Per person: ``n_posts, score_sum`` of :func:`scored_posts` rows (one ibis aggregation)."""
    agg = posts.group_by("person_id").aggregate(n_posts=posts.count(),
                                                score_sum=posts.score.sum())
    df = agg.to_pandas()
    df["n_posts"] = df.n_posts.fillna(0).astype("int64")
    df["score_sum"] = df.score_sum.astype(float)
    return df.sort_values("person_id", ignore_index=True)


def period_shares(posts, period: str = "quarter") -> pd.DataFrame:
    """Per person and period: ``person_id, period, n_posts, score_sum`` (ibis)."""
    unit = PERIODS[period]
    p = posts.mutate(period=posts.at.truncate(unit))
    agg = p.group_by(["person_id", "period"]).aggregate(n_posts=p.count(), score_sum=p.score.sum())
    df = agg.to_pandas()
    df["n_posts"] = df.n_posts.astype("int64")
    df["score_sum"] = df.score_sum.astype(float)
    return df.sort_values(["period", "person_id"], ignore_index=True)


def pooled_shares(per_person: pd.DataFrame, groups: pd.Series, *, n_boot: int = 1000,
                  confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Pooled personal share per group with a people-resampling percentile bootstrap.

    Parameters
    ----------
    per_person : DataFrame
        ``person_id, n_posts, score_sum`` (from :func:`person_shares`).
    groups : Series
        person_id → group label (people not in it are left out).

    Returns
    -------
    DataFrame
        ``group, n_people, n_posts, personal_share, ci_low, ci_high``: the share is
        ``Σ score / Σ posts`` over the group's people.

    >>> pp = pd.DataFrame({"person_id": ["a", "b"], "n_posts": [2, 8], "score_sum": [1.0, 0.2]})
    >>> t = pooled_shares(pp, pd.Series({"a": "x", "b": "x"}), n_boot=0)
    >>> round(float(t.personal_share[0]), 3), int(t.n_people[0])
    (0.12, 2)
    """
    t = group_ratios(per_person, groups, {"personal_share": "score_sum"}, n_boot=n_boot,
                     confidence=confidence, seed=seed)
    return t.rename(columns={"personal_share_ci_low": "ci_low",
                             "personal_share_ci_high": "ci_high"})


def exposure_times(ws: Workspace, roles: pd.DataFrame, *, exposure=None,
                   follows: str = "always") -> pd.DataFrame:
    """Per member: when they were first exposed to a leader's and to a peer's first personal post.

    Parameters
    ----------
    roles : DataFrame
        ``person_id, is_leader`` of the people of the organization (members = not leaders; other
        people's posts expose nobody and nobody else is exposed).
    exposure : kinds, optional
        Exposure network kinds (default ``follows, reply, mention``; add ``manager`` for reporting
        lines), as :func:`socialens.behaviours.exposure_ties`.
    follows : {"always", "observed"}
        As :func:`socialens.behaviours.exposure_ties`.

    Returns
    -------
    DataFrame
        One row per member with any exposure: ``person_id, leader_at, leader_source, peer_at,
        peer_source`` (NaT / None without one). The source is the person whose first personal
        post exposed the member first (ties broken by id).
    """
    import ibis

    from socialens.behaviours import exposure_ties, first_use, leader_table

    try:
        uses = first_use(ws, "personal")
        ties = exposure_ties(ws, exposure if exposure is not None else ("follows", "reply",
                                                                         "mention"),
                             follows=follows)
    except BehaviourError as exc:
        raise AnalysisError(str(exc)) from None
    r = ibis.memtable(pd.DataFrame({"r_person": roles.person_id.astype(str).to_numpy(),
                                    "r_leader": roles.is_leader.to_numpy(dtype=bool)}))
    members = r.filter(~r.r_leader)
    lt = leader_table(set(roles.person_id[roles.is_leader.to_numpy(dtype=bool)].astype(str)))
    src = uses.select(s_person=uses.person_id.cast("string"), src_at=uses.at)
    src = src.semi_join(r, src.s_person == r.r_person)
    e = ties.join(src, ties.source_person_id == src.s_person)
    e = e.semi_join(members, e.person_id == members.r_person)
    e = e.mutate(exp_at=ibis.ifelse(e.start_at.notnull() & (e.start_at > e.src_at), e.start_at,
                                    e.src_at))
    e = e.left_join(lt, e.source_person_id == lt.leader_id)
    e = e.select(person_id=e.person_id, source=e.source_person_id, exp_at=e.exp_at,
                 is_leader=e.leader_id.notnull())
    w = ibis.window(group_by=[e.person_id, e.is_leader], order_by=[e.exp_at, e.source])
    first = e.mutate(_rn=ibis.row_number().over(w)).filter(lambda t: t._rn == 0)
    df = first.select("person_id", "is_leader", "source", "exp_at").to_pandas()
    out = pd.DataFrame({"person_id": pd.Series(sorted(df.person_id.unique()), dtype=object)})
    for flag, arm in ((True, "leader"), (False, "peer")):
        x = df[df.is_leader == flag][["person_id", "exp_at", "source"]].rename(
            columns={"exp_at": f"{arm}_at", "source": f"{arm}_source"})
        out = out.merge(x, on="person_id", how="left")
    return out


def member_changes(posts, events: pd.DataFrame) -> pd.DataFrame:
    """Before / after sums of each member's scores around their leader and peer exposure times.

    Parameters
    ----------
    posts : ibis table
        ``person_id, at, score`` (:func:`scored_posts`, or any score column in that shape).
    events : DataFrame
        From :func:`exposure_times`.

    Returns
    -------
    DataFrame
        ``events`` with, for ``arm`` in ``leader``/``peer``: ``{arm}_n_before, {arm}_sum_before,
        {arm}_n_after, {arm}_sum_after`` (a post at the exposure time or later is *after*).
    """
    import ibis

    ev = events[["person_id", "leader_at", "peer_at"]].copy()
    for c in ("leader_at", "peer_at"):
        ev[c] = pd.to_datetime(ev[c], utc=True)
    cols = [c for c in events.columns if c not in ("person_id",)]
    if ev.empty:
        out = events.copy()
        for arm in _ARMS:
            for c in ("n_before", "sum_before", "n_after", "sum_after"):
                out[f"{arm}_{c}"] = pd.Series(dtype=float)
        return out
    ts = posts.at.type()
    t = ibis.memtable(ev.rename(columns={"person_id": "e_person"}),
                      schema={"e_person": "string", "leader_at": ts, "peer_at": ts})
    j = posts.join(t, posts.person_id == t.e_person)
    aggs = {}
    for arm in _ARMS:
        at = j[f"{arm}_at"]
        before = at.notnull() & (j.at < at)
        after = at.notnull() & (j.at >= at)
        aggs[f"{arm}_n_before"] = before.cast("int64").sum()
        aggs[f"{arm}_sum_before"] = ibis.ifelse(before, j.score, 0.0).sum()
        aggs[f"{arm}_n_after"] = after.cast("int64").sum()
        aggs[f"{arm}_sum_after"] = ibis.ifelse(after, j.score, 0.0).sum()
    agg = j.group_by(j.person_id).aggregate(**aggs).to_pandas()
    out = events[["person_id", *cols]].merge(agg, on="person_id", how="left")
    for arm in _ARMS:
        for c in ("n_before", "n_after"):
            out[f"{arm}_{c}"] = out[f"{arm}_{c}"].fillna(0).astype("int64")
        for c in ("sum_before", "sum_after"):
            out[f"{arm}_{c}"] = out[f"{arm}_{c}"].fillna(0.0).astype(float)
    return out


def shift_estimates(changes: pd.DataFrame, cluster: pd.Series, *, min_posts: int = 3,
                    min_members: int = 10, min_clusters: int = 5,
                    confidence: float = 0.95) -> pd.DataFrame:
    """θ_L, θ_P and θ_L − θ_P with delete-one-cluster jackknife intervals.

    Parameters
    ----------
    changes : DataFrame
        From :func:`member_changes`.
    cluster : Series
        Cluster label per row of ``changes`` (same index).
    min_posts : int
        Posts needed before and after for a member to enter an arm.
    min_members, min_clusters : int
        Below these (in an arm; clusters over both arms) there is no interval ("too few").

    Returns
    -------
    DataFrame
        One row per ``term`` (``leader``, ``peer``, ``leader_minus_peer``): ``estimate, ci_low,
        ci_high, se, mean_before, mean_after, n_members, n_clusters, enough``.

    >>> ch = pd.DataFrame({"leader_n_before": [3, 3], "leader_sum_before": [0.3, 0.6],
    ...                    "leader_n_after": [3, 3], "leader_sum_after": [0.6, 0.9],
    ...                    "peer_n_before": [0, 3], "peer_sum_before": [0.0, 0.3],
    ...                    "peer_n_after": [0, 3], "peer_sum_after": [0.0, 0.3]})
    >>> e = shift_estimates(ch, pd.Series(["a", "b"]), min_members=1, min_clusters=1)
    >>> [round(float(v), 3) for v in e.estimate]
    [0.1, 0.0, 0.1]
    """
    from scipy import stats

    d = {}
    for arm in _ARMS:
        nb, na = changes[f"{arm}_n_before"].to_numpy(float), changes[f"{arm}_n_after"].to_numpy(
            float)
        ok = (nb >= min_posts) & (na >= min_posts)
        with np.errstate(invalid="ignore", divide="ignore"):
            before = changes[f"{arm}_sum_before"].to_numpy(float) / nb
            after = changes[f"{arm}_sum_after"].to_numpy(float) / na
        d[arm] = (ok, before, after)
    codes, uniq = pd.factorize(pd.Series(np.asarray(cluster), index=changes.index).fillna("(none)"))
    used = np.zeros(len(uniq), bool)
    for ok, _, _ in d.values():
        used[np.unique(codes[ok])] = True
    gs = np.flatnonzero(used)
    g = len(gs)

    def arm_mean(arm, keep):
        ok, b, a = d[arm]
        m = ok & keep
        return float(np.mean(a[m] - b[m])) if m.any() else np.nan

    everyone = np.ones(len(changes), bool)
    full = {arm: arm_mean(arm, everyone) for arm in _ARMS}
    full["leader_minus_peer"] = full["leader"] - full["peer"]
    jack = {k: [] for k in full}
    for c in gs:
        keep = codes != c
        v = {arm: arm_mean(arm, keep) for arm in _ARMS}
        v["leader_minus_peer"] = v["leader"] - v["peer"]
        for k in v:
            jack[k].append(v[k])
    q = stats.t.ppf(0.5 + confidence / 2, g - 1) if g > 1 else np.nan
    rows = []
    for term, est in full.items():
        arms = _ARMS if term == "leader_minus_peer" else (term,)
        n_mem = min(int(d[a][0].sum()) for a in arms)
        n_cl = len(set().union(*[set(np.unique(codes[d[a][0]])) for a in arms]))
        enough = bool(np.isfinite(est) and n_mem >= min_members and n_cl >= min_clusters
                      and g >= max(min_clusters, 2))
        se = lo = hi = None
        jv = np.asarray(jack[term], float)
        if enough and np.isfinite(jv).all():
            se = float(np.sqrt((g - 1) / g * np.sum((jv - jv.mean()) ** 2)))
            lo, hi = est - q * se, est + q * se
        elif enough:
            enough = False
        row = {"term": term, "estimate": est if np.isfinite(est) else None, "ci_low": lo,
               "ci_high": hi, "se": se, "n_members": n_mem, "n_clusters": n_cl,
               "enough": enough, "mean_before": None, "mean_after": None}
        if term != "leader_minus_peer":
            ok, b, a = d[term]
            if ok.any():
                row["mean_before"], row["mean_after"] = float(b[ok].mean()), float(a[ok].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def _pts(v) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{100 * v:.0f} %"


def _dpts(v) -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    p = 100 * v
    s = f"{abs(p):.0f}"
    return ("+" if p >= 0.5 else "−" if p <= -0.5 else "±") + s


def _ci_pts(lo, hi) -> str:
    f = lambda v: f"{round(100 * v) + 0:.0f}".replace("-", "−")  # noqa: E731 (+0: no "−0")
    return f"{f(lo)} to {f(hi)}"


@analysis_function
def sharing(
    ws: Workspace,
    *,
    as_of=None,
    window_start=None,
    window_end=None,
    leaders: str = "is_leader",
    exposure: str | list[str] | None = None,
    follows: str = "always",
    period: str = "quarter",
    min_posts: int = 3,
    min_members: int = 10,
    min_clusters: int = 5,
    cluster: str = "department",
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Result:
    """Personal / professional mix by level, person and period, and members' personal share
    before and after their leaders' (and, as the comparison, their peers') first personal posts.

    Parameters
    ----------
    as_of : time, optional
        When roles are read (default: ``window_end``, else the last post).
    window_start, window_end : time, optional
        Posts created in ``[window_start, window_end)`` (default: all).
    leaders : str
        Leader rule (``is_leader``, ``level<=1``, ``ids:...``); members are everyone else on the
        roster at ``as_of``.
    exposure : str or list, optional
        Exposure network kinds (default ``follows,reply,mention``; ``manager`` adds reporting
        lines).
    follows : {"always", "observed"}
        Follow ties from the start (default) or from their first observation.
    period : {"quarter", "month", "year"}
        Periods of the mix over time.
    min_posts : int
        Scored posts a member needs before and after an exposure to enter its arm.
    min_members, min_clusters : int
        Fewer members in an arm or fewer clusters: "too few to tell", no interval.
    cluster : {"department", "leader"}
        Clusters of the jackknife: the member's department (default) or the leader whose
        personal post exposed them first.
    n_boot : int
        Bootstrap replicates of the mix intervals (0: none).
    confidence : float
        Interval level.
    seed : int
        Seed of the bootstrap.
    """
    if not 0 < confidence < 1:
        raise AnalysisError(f"confidence={confidence!r} must be between 0 and 1, e.g. 0.95")
    if n_boot < 0:
        raise AnalysisError(f"n_boot={n_boot!r} must be 0 (no bootstrap) or more, e.g. 1000")
    if period not in PERIODS:
        raise AnalysisError(f"period={period!r}: use one of {', '.join(PERIODS)}")
    if cluster not in CLUSTERS:
        raise AnalysisError(f"cluster={cluster!r}: use one of {', '.join(CLUSTERS)}")
    if follows not in ("always", "observed"):
        raise AnalysisError(f"follows={follows!r}: use 'always' or 'observed'")
    for name, v, lo in (("min_posts", min_posts, 1), ("min_members", min_members, 1),
                        ("min_clusters", min_clusters, 2)):
        if not isinstance(v, (int, np.integer)) or v < lo:
            raise AnalysisError(f"{name}={v!r} must be a whole number of at least {lo}")
    t0, t1 = to_time(window_start, "window_start"), to_time(window_end, "window_end")
    first, last = post_time_range(ws)
    t = to_time(as_of, "as_of") or t1 or last
    if t is None:
        raise AnalysisError("the workspace has no posts; there is no sharing to measure")
    posts = scored_posts(ws, window_start=t0, window_end=t1)
    per_person = person_shares(posts)
    if per_person.empty:
        raise AnalysisError("no post has a personal score: run `socialens enrich` first (sharing "
                            "reads the sharing model's personal_score of each post)")
    roster, by_role, by_level = roster_groups(ws, t, leaders)
    # --- mix --------------------------------------------------------------------------------------
    mix = pd.concat([
        pooled_shares(per_person, by_role, n_boot=n_boot, confidence=confidence, seed=seed)
        .assign(kind="role"),
        pooled_shares(per_person, by_level.sort_values(kind="stable"), n_boot=n_boot,
                      confidence=confidence, seed=seed).assign(kind="level"),
    ], ignore_index=True)
    per_period = period_shares(posts, period)
    over_time = []
    for p, g in per_period.groupby("period", sort=True):
        tab = pooled_shares(g[["person_id", "n_posts", "score_sum"]], by_role, n_boot=n_boot,
                            confidence=confidence, seed=seed)
        tab = tab[tab.n_people > 0]
        if len(tab):
            over_time.append(tab.assign(period=p))
    over_time = pd.DataFrame([r for tab in over_time for r in tab.to_dict("records")],
                             columns=["group", "n_people", "n_posts", "personal_share",
                                      "ci_low", "ci_high", "period"])
    over_time = over_time[["period", "group", "n_people", "n_posts", "personal_share", "ci_low",
                           "ci_high"]]
    people = roster[["person_id", "name", "department", "level", "title", "leader",
                     "opt_in"]].merge(per_person, on="person_id", how="inner")
    people["personal_share"] = people.score_sum / people.n_posts
    people = people.drop(columns="score_sum").sort_values(
        ["leader", "personal_share"], ascending=[False, False], ignore_index=True)
    # --- shift --------------------------------------------------------------------------------------
    roles = pd.DataFrame({"person_id": roster.person_id.to_numpy(),
                          "is_leader": roster.leader.to_numpy(dtype=bool)})
    events = exposure_times(ws, roles, exposure=exposure, follows=follows)
    changes = member_changes(posts, events)
    dept = roster.set_index("person_id").department
    changes["department"] = changes.person_id.map(dept)
    cl = (changes.department if cluster == "department" else changes.leader_source)
    shift = shift_estimates(changes, cl.astype(object).where(cl.notna(), "(none)"),
                            min_posts=min_posts, min_members=min_members,
                            min_clusters=min_clusters, confidence=confidence)
    sh = shift.set_index("term")

    def term(name):
        r = sh.loc[name]
        f = lambda z: None if z is None or pd.isna(z) else float(z)  # noqa: E731
        return {"estimate": f(r.estimate), "ci_low": f(r.ci_low), "ci_high": f(r.ci_high),
                "mean_before": f(r.mean_before), "mean_after": f(r.mean_after),
                "n_members": int(r.n_members), "n_clusters": int(r.n_clusters),
                "enough": bool(r.enough)}

    s_l, s_p, s_d = term("leader"), term("peer"), term("leader_minus_peer")
    role = mix[mix.kind == "role"].set_index("group")

    def share_of(g):
        return None if g not in role.index else role.personal_share.get(g)

    mix_words = (f"Leaders' posts are {_pts(share_of('leaders'))} personal, members' "
                 f"{_pts(share_of('members'))}.")

    def arm_words(s):
        ci = "" if s["ci_low"] is None else f" ({_ci_pts(s['ci_low'], s['ci_high'])})"
        return f"{_dpts(s['estimate'])} points{ci}"

    if not (s_l["enough"] and s_p["enough"] and s_d["enough"]):
        headline = (
            f"{mix_words} Too few to tell whether members share more personal posts after "
            f"their leaders do: {s_l['n_members']} members with {min_posts}+ posts before and "
            f"after a leader's first personal post and {s_p['n_members']} around a peer's, in "
            f"{int(sh.loc['leader_minus_peer'].n_clusters)} {cluster} clusters (at least "
            f"{min_members} members each and {min_clusters} clusters are needed).")
        verdict = "too few to tell"
    else:
        lo, hi = s_d["ci_low"], s_d["ci_high"]
        verdict = ("more after leaders than after peers" if lo > 0 else
                   "less after leaders than after peers" if hi < 0 else
                   "no clear difference between leaders and peers")
        headline = (
            f"After a leader they are exposed to first posts something personal, members' share "
            f"of personal posts goes from {_pts(s_l['mean_before'])} to "
            f"{_pts(s_l['mean_after'])} ({arm_words(s_l)}); after a peer's, "
            f"{arm_words(s_p)}: {verdict} ({_dpts(s_d['estimate'])} points, "
            f"{_ci_pts(lo, hi)}). {mix_words}")
    summary = {
        "confidence": confidence, "interval": "jackknife", "cluster": cluster,
        "n_people": int(len(people)), "n_posts": int(per_person.n_posts.sum()),
        "personal_share_leaders": share_of("leaders"), "personal_share_members": share_of("members"),
        "shift_leader": s_l, "shift_peer": s_p, "shift_leader_minus_peer": s_d,
        "verdict": verdict,
        "n_members_exposed_leader": int(events.leader_at.notna().sum()) if len(events) else 0,
        "n_members_exposed_peer": int(events.peer_at.notna().sum()) if len(events) else 0,
        "window_start": t0 or first, "window_end": t1,
    }
    members_tab = changes.copy()
    for arm in _ARMS:
        with np.errstate(invalid="ignore", divide="ignore"):
            members_tab[f"{arm}_before"] = members_tab[f"{arm}_sum_before"] / members_tab[
                f"{arm}_n_before"]
            members_tab[f"{arm}_after"] = members_tab[f"{arm}_sum_after"] / members_tab[
                f"{arm}_n_after"]
    members_tab = members_tab.drop(columns=[c for c in members_tab.columns if c.endswith(
        ("_sum_before", "_sum_after", "_source"))])
    figures = {}
    try:
        figures = _figures(mix, over_time, shift)
    except Exception:  # pragma: no cover - a chart never stops an analysis  # noqa: BLE001
        figures = {}
    return Result(
        name="sharing",
        title="Sharing: how personal leaders and members are, and whether members follow "
              "their leaders' personal posts",
        params={"as_of": t, "window_start": t0, "window_end": t1, "leaders": leaders,
                "exposure": exposure, "follows": follows, "period": period,
                "min_posts": min_posts, "min_members": min_members, "min_clusters": min_clusters,
                "cluster": cluster, "n_boot": n_boot, "confidence": confidence, "seed": seed},
        summary=summary,
        tables={"mix": mix, "over_time": over_time, "people": people, "shift": shift,
                # whose post exposed a member is another person's behaviour: only times shown
                "members": members_tab},
        figures=figures,
        headline=headline,
        notes=[
            "The personal share is the mean of the sharing model's calibrated personal_score "
            "(probability of PERSONAL or MIXED) over the posts, not a count of labels; group "
            "values pool the group's posts; intervals resample people.",
            "Shift: each member's mean score from the first time a leader they follow, reply to "
            "or mention (the exposure network) had posted something personal, minus before it; "
            "the same around a peer's first personal post is the comparison "
            "(docs/methods.md, 'Personal sharing after leaders' personal posts'). Intervals: "
            f"delete-one-{cluster} jackknife.",
            "A before/after change is association in time, not proof that leaders cause it; "
            "the peer comparison carries the same passage of time. The classifier's "
            "discrimination shrinks any change in the true share (EVALUATION.md).",
        ],
    )


def _figures(mix: pd.DataFrame, over_time: pd.DataFrame, shift: pd.DataFrame) -> dict:
    import altair as alt

    out = {}
    lv = mix[mix.kind == "level"].dropna(subset=["personal_share"])
    if len(lv):
        base = alt.Chart(lv)
        pts = base.mark_point(filled=True, size=70, color="#8e44ad").encode(
            y=alt.Y("group:N", title=None, sort=None),
            x=alt.X("personal_share:Q", title="share of personal posts",
                    axis=alt.Axis(format="%")),
            tooltip=["group", "n_people", "n_posts",
                     alt.Tooltip("personal_share:Q", format=".0%")])
        bars = base.mark_rule(color="#8e44ad").encode(y=alt.Y("group:N", sort=None),
                                                       x="ci_low:Q", x2="ci_high:Q")
        out["personal_by_level"] = alt.layer(bars, pts).properties(
            title="Personal share by level (95 % intervals)", width=360)
    ot = over_time.dropna(subset=["personal_share"])
    if len(ot):
        out["personal_over_time"] = alt.Chart(ot).mark_line(point=True).encode(
            x=alt.X("period:T", title=None),
            y=alt.Y("personal_share:Q", title="share of personal posts",
                    axis=alt.Axis(format="%")),
            color=alt.Color("group:N", title=None),
            tooltip=["period:T", "group", "n_people", "n_posts",
                     alt.Tooltip("personal_share:Q", format=".0%")]).properties(
            title="Personal share by period, leaders and members", width=360)
    s = shift[shift.estimate.notna()].copy()
    if len(s):
        s["who"] = s.term.map({"leader": "after a leader's first personal post",
                               "peer": "after a peer's first personal post",
                               "leader_minus_peer": "difference"})
        base = alt.Chart(s)
        pts = base.mark_point(filled=True, size=70, color="#2c3e50").encode(
            y=alt.Y("who:N", title=None, sort=None),
            x=alt.X("estimate:Q", title="change in members' personal share",
                    axis=alt.Axis(format="%")),
            tooltip=["who", alt.Tooltip("estimate:Q", format=".1%"), "n_members", "n_clusters"])
        bars = base.mark_rule(color="#2c3e50").encode(y=alt.Y("who:N", sort=None),
                                                       x="ci_low:Q", x2="ci_high:Q")
        zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 3]).encode(x="x:Q")
        out["personal_shift"] = alt.layer(bars, pts, zero).properties(
            title="Members' personal share after first personal posts (95 % intervals)",
            width=360)
    return out
