"""Tone: profiles by level and person, and tone alignment after leaders' posts on a topic.

**Profiles.** Per person, their record posts in the window with VADER's compound score
(``post_features.tone_compound``): the mean, the share clearly positive (compound ≥ 0.5) and
clearly negative (≤ −0.5). Per level (and leaders vs members) the same over the level's posts
pooled (a ratio of sums), with percentile bootstrap intervals that resample **people** within the
group (a person's posts are not independent draws).

**Alignment** (docs/methods.md, "Tone alignment"). Topics are behaviours of the behaviours
mechanism (``hashtag:#X``, ``topic:name=kw1,kw2``, ``top-hashtags:N``): every record post showing
the behaviour is a post *on* the topic (:func:`socialens.behaviours.behaviour_posts`). For each
member post ``p`` on topic ``k`` by member ``i`` at time ``t``, ``L(p)`` is the most recent post on
``k`` by a leader in ``[t − H, t)`` and ``P(p)`` the most recent one by another member (not ``i``),
``H = lookback_days``. The member's baseline ``b_ik`` is the mean tone of ``i``'s record posts in the
window that are not on ``k``. On the **matched** posts (both a leader and a peer post before them)
the least-squares fit

    y_p − b_ik = c + α_L · y_L(p) + α_P · y_P(p) + e_p

gives ``α_L``: per unit of the leader's tone, how much more the member's post on the topic departs
from the member's usual tone in the leader's direction — under the mechanism
``y_p = b + α (y_L − b) + noise`` it is the fraction ``α`` of the way to the leader's tone.
``α_P`` is the placebo: the same for the peer post that preceded the same member post. The
headline effect is ``α_L`` and the contrast ``α_L − α_P``. Intervals treat **topics** as the
clusters (all posts on a topic share its leader and peer posts): the headline's is the
delete-one-topic jackknife (CR3) with t(G − 1); the percentile topic bootstrap and a CR1 t
interval are in the table too.

All set-based work (the topic posts, the as-of pairing with the preceding leader and peer posts,
per-person sums) is ibis over the workspace tables; the statistics run in Python on the pairs table
and the per-person sums.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from socialens.analyses.common import post_time_range, roster_groups, to_time
from socialens.analyses.result import Result
from socialens.analyses.signature import analysis_function
from socialens.behaviours.spec import BehaviourError, TopHashtags, parse_specs
from socialens.errors import AnalysisError
from socialens.stats.bootstrap import group_ratios, percentile_interval
from socialens.workspace import Workspace

__all__ = ["tone", "person_tones", "tone_profiles", "alignment_pairs", "alignment_fit",
           "topic_baselines", "contrast_intervals", "INTERVALS", "TOPIC_KINDS", "POSITIVE", "NEGATIVE", "DEFAULT_TOPICS"]

#: behaviour kinds that are topics (posts *on* something)
TOPIC_KINDS = ("hashtag", "topic")
#: VADER's conventional cut-offs for clearly positive / negative (Hutto & Gilbert 2014 use ±0.05
#: for any polarity; "clearly" is the ±0.5 of ``tone:positive`` / ``tone:negative``)
POSITIVE, NEGATIVE = 0.5, -0.5
DEFAULT_TOPICS = ("top-hashtags:20",)


def _features(ws: Workspace):
    from socialens.enrich.runner import FEATURE_VERSION

    f = ws.table("post_features")
    f = f.filter(f.feature_version == FEATURE_VERSION, f.tone_compound.notnull())
    return f.select(f_post_id=f.post_id, tone=f.tone_compound)


def _toned_posts(ws: Workspace, t0, t1):
    """Record posts of persons with their compound: ``person_id, post_id, at, tone`` (ibis)."""
    from socialens.behaviours.events import record_posts

    rp = record_posts(ws)
    if t0 is not None:
        rp = rp.filter(rp.created_at >= t0)
    if t1 is not None:
        rp = rp.filter(rp.created_at < t1)
    f = _features(ws)
    j = rp.join(f, rp.post_id == f.f_post_id)
    return j.select(person_id=j.person_id.cast("string"), post_id=j.post_id, at=j.created_at,
                    tone=j.tone)


def person_tones(ws: Workspace, *, window_start=None, window_end=None) -> pd.DataFrame:
    """Per person: ``n_posts, tone_sum, n_positive, n_negative`` over their record posts with a
    compound score in ``[window_start, window_end)`` (one ibis aggregation)."""
    t = _toned_posts(ws, to_time(window_start, "window_start"), to_time(window_end, "window_end"))
    agg = t.group_by("person_id").aggregate(
        n_posts=t.count(), tone_sum=t.tone.sum(),
        n_positive=(t.tone >= POSITIVE).cast("int64").sum(),
        n_negative=(t.tone <= NEGATIVE).cast("int64").sum())
    df = agg.to_pandas()
    for c in ("n_posts", "n_positive", "n_negative"):
        df[c] = df[c].fillna(0).astype("int64")
    df["tone_sum"] = df["tone_sum"].astype(float)
    return df.sort_values("person_id", ignore_index=True)


def tone_profiles(per_person: pd.DataFrame, groups: pd.Series, *, n_boot: int = 1000,
                  confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Pooled tone per group with people-resampling bootstrap intervals.

    Parameters
    ----------
    per_person : DataFrame
        From :func:`person_tones` (``person_id`` as a column).
    groups : Series
        person_id → group label (people not in it are left out; several rows per person are
        allowed by passing a Series with a repeated index).

    Returns
    -------
    DataFrame
        ``group, n_people, n_posts, mean_tone, mean_tone_ci_low/high, share_positive, ..._ci_low/high,
        share_negative, ..._ci_low/high`` — each a ratio of sums over the group's people.

    >>> pp = pd.DataFrame({"person_id": ["a", "b"], "n_posts": [2, 2], "tone_sum": [1.0, -0.2],
    ...                    "n_positive": [1, 0], "n_negative": [0, 0]})
    >>> t = tone_profiles(pp, pd.Series({"a": "x", "b": "x"}), n_boot=0)
    >>> round(float(t.mean_tone[0]), 3), float(t.share_positive[0])
    (0.2, 0.25)
    """
    return group_ratios(per_person, groups, {"mean_tone": "tone_sum",
                                             "share_positive": "n_positive",
                                             "share_negative": "n_negative"},
                        n_boot=n_boot, confidence=confidence, seed=seed)


def _topic_specs(behaviours) -> list:
    parsed = parse_specs(list(DEFAULT_TOPICS) if behaviours is None else behaviours)
    bad = [b.name for b in parsed if not isinstance(b, TopHashtags) and b.kind not in TOPIC_KINDS]
    if bad:
        raise AnalysisError(
            f"tone alignment needs topics, and {', '.join(map(repr, bad))} "
            f"{'is' if len(bad) == 1 else 'are'} not: give hashtags or keyword topics, e.g. "
            "-b hashtag:#Tag, -b 'topic:tax=tax cut,tax reform' or -b top-hashtags:20")
    return parsed


def alignment_pairs(ws: Workspace, behaviours, roles: pd.DataFrame, *, lookback_days: float | None
                    = 30.0, window_start=None, window_end=None) -> pd.DataFrame:
    """Member posts on each topic with the most recent leader post and the most recent post of
    another member on the same topic before them (set-based: an ibis range join and a window).

    Parameters
    ----------
    behaviours : specs
        Topics (``hashtag:#X``, ``topic:name=...``, ``top-hashtags:N``).
    roles : DataFrame
        ``person_id, is_leader`` of the people of the organization; posts of others are ignored.
    lookback_days : float or None
        A source post counts when at most this many days before the member's post (None: any).

    Returns
    -------
    DataFrame
        One row per (topic, member post): ``behaviour, post_id, person_id, at, tone``, and for
        ``src`` in ``leader``/``peer``: ``{src}_post_id, {src}_person_id, {src}_at, {src}_tone``
        (NaN when there is none in the lookback).
    """
    import ibis

    from socialens.behaviours.events import behaviour_posts

    t0, t1 = to_time(window_start, "window_start"), to_time(window_end, "window_end")
    try:
        bp = behaviour_posts(ws, _topic_specs(behaviours), window_start=t0, window_end=t1)
    except BehaviourError as exc:
        raise AnalysisError(str(exc)) from None
    f = _features(ws)
    tp = bp.join(f, bp.post_id == f.f_post_id)
    r = ibis.memtable(pd.DataFrame({"person_id": roles.person_id.astype(str).to_numpy(),
                                    "is_leader": roles.is_leader.to_numpy(dtype=bool)}))
    tp = tp.join(r, tp.person_id == r.person_id).select(
        behaviour=tp.behaviour, post_id=tp.post_id, person_id=tp.person_id, at=tp.at,
        tone=tp.tone, is_leader=r.is_leader)
    p = tp.filter(~tp.is_leader)
    s = tp.select(s_behaviour=tp.behaviour, s_post_id=tp.post_id, s_person_id=tp.person_id,
                  s_at=tp.at, s_tone=tp.tone, s_leader=tp.is_leader)
    cond = [p.behaviour == s.s_behaviour, s.s_at < p.at, s.s_person_id != p.person_id]
    if lookback_days is not None:
        cond.append(s.s_at >= p.at - ibis.interval(seconds=int(round(lookback_days * 86400))))
    j = p.join(s, cond)
    w = ibis.window(group_by=[j.behaviour, j.post_id, j.s_leader],
                    order_by=[ibis.desc(j.s_at), ibis.desc(j.s_post_id)])
    last = j.mutate(_rn=ibis.row_number().over(w)).filter(lambda t: t._rn == 0)
    src = last.select("behaviour", "post_id", "s_leader", "s_post_id", "s_person_id", "s_at",
                      "s_tone").to_pandas()
    base = p.select("behaviour", "post_id", "person_id", "at", "tone").to_pandas()
    out = base
    for flag, name in ((True, "leader"), (False, "peer")):
        x = src[src.s_leader == flag].drop(columns="s_leader").rename(columns={
            "s_post_id": f"{name}_post_id", "s_person_id": f"{name}_person_id",
            "s_at": f"{name}_at", "s_tone": f"{name}_tone"})
        out = out.merge(x, on=["behaviour", "post_id"], how="left")
    return out.sort_values(["behaviour", "at", "post_id"], ignore_index=True)


def topic_baselines(pairs: pd.DataFrame, per_person: pd.DataFrame) -> pd.Series:
    """The baseline of each (member, topic) of ``pairs`` (from :func:`alignment_pairs`, which holds
    every member post on the topics): the mean tone of the member's record posts in the window
    that are not on the topic, i.e. their totals (:func:`person_tones`) minus their posts on it;
    NaN without such posts. The number of posts it rests on is in ``.attrs['n']``."""
    on = pairs.groupby(["person_id", "behaviour"]).tone.agg(n_on="size", sum_on="sum")
    d = pairs[["person_id", "behaviour"]].join(on, on=["person_id", "behaviour"])
    d = d.merge(per_person[["person_id", "n_posts", "tone_sum"]], on="person_id", how="left")
    n = d.n_posts.fillna(0).to_numpy(float) - d.n_on.fillna(0).to_numpy(float)
    s = d.tone_sum.fillna(0).to_numpy(float) - d.sum_on.fillna(0).to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        b = np.where(n > 0, s / np.maximum(n, 1), np.nan)
    out = pd.Series(b, index=pairs.index)
    out.attrs["n"] = pd.Series(n, index=pairs.index)
    return out


def alignment_fit(y: np.ndarray, x: np.ndarray, cluster: np.ndarray, *, n_boot: int = 2000,
                  confidence: float = 0.95, seed: int = 0) -> dict:
    """Least squares ``y = c + x @ beta + e`` with intervals that respect clusters.

    Parameters
    ----------
    y : array (n,)
    x : array (n, k)
        Regressors (an intercept is added).
    cluster : array (n,)
        Cluster labels (topics): the bootstrap resamples whole clusters; the CR1 interval uses
        Student's t with G − 1 degrees of freedom.

    Returns
    -------
    dict
        ``beta`` (k), ``boot`` (n_boot × k replicates, NaN where a replicate is singular),
        ``ci_boot`` and ``ci_cr1`` (k × 2), ``se_cr1`` and ``se_jack`` (k), ``cov_cr1`` and
        ``cov_jack`` (k × k: the CR1 sandwich and the CR3 delete-one-cluster jackknife),
        ``n``, ``n_clusters``.

    >>> x = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> r = alignment_fit(np.array([1.0, 3.0, 5.0, 7.0]), x, np.array([0, 0, 1, 1]), n_boot=0)
    >>> [round(float(v), 6) for v in r["beta"]]
    [2.0]
    """
    from scipy import stats

    y = np.asarray(y, float)
    x = np.asarray(x, float)
    x = x.reshape(len(y), -1) if x.ndim != 2 else x
    x = np.column_stack([np.ones(len(y)), x])
    k = x.shape[1]
    codes, uniq = pd.factorize(pd.Series(cluster))
    g = len(uniq)
    xtx_g = np.zeros((g, k, k))
    xty_g = np.zeros((g, k))
    np.add.at(xtx_g, codes, x[:, :, None] * x[:, None, :])
    np.add.at(xty_g, codes, x * y[:, None])
    xtx, xty = xtx_g.sum(0), xty_g.sum(0)
    out = {"n": int(len(y)), "n_clusters": int(g), "beta": np.full(k - 1, np.nan),
           "ci_boot": np.full((k - 1, 2), np.nan), "ci_cr1": np.full((k - 1, 2), np.nan),
           "se_cr1": np.full(k - 1, np.nan), "boot": np.empty((0, k - 1)),
           "cov_cr1": np.full((k - 1, k - 1), np.nan), "se_jack": np.full(k - 1, np.nan),
           "cov_jack": np.full((k - 1, k - 1), np.nan)}
    if len(y) <= k or abs(np.linalg.det(xtx)) < 1e-12 * max(1.0, np.abs(xtx).max()) ** k:
        return out
    beta = np.linalg.solve(xtx, xty)
    out["beta"] = beta[1:]
    # CR1 sandwich
    e = y - x @ beta
    sg = np.zeros((g, k))
    np.add.at(sg, codes, x * e[:, None])
    bread = np.linalg.inv(xtx)
    meat = sg.T @ sg * (g / max(g - 1, 1)) * ((len(y) - 1) / max(len(y) - k, 1))
    v = bread @ meat @ bread
    se = np.sqrt(np.clip(np.diag(v), 0, None))[1:]
    out["se_cr1"] = se
    out["cov_cr1"] = v[1:, 1:]
    # CR3: the delete-one-cluster jackknife, (G − 1)/G · Σ (β₋g − β̄)(β₋g − β̄)ᵀ
    if g > 2:
        a = xtx[None] - xtx_g
        det = np.linalg.det(a)
        okj = np.abs(det) > 1e-12 * np.maximum(1.0, np.abs(a).reshape(g, -1).max(1)) ** k
        if okj.all():
            bj = np.linalg.solve(a, (xty[None] - xty_g)[:, :, None])[:, :, 0]
            dj = bj - bj.mean(0)
            vj = dj.T @ dj * (g - 1) / g
            out["cov_jack"] = vj[1:, 1:]
            out["se_jack"] = np.sqrt(np.clip(np.diag(vj), 0, None))[1:]
    if g > 1:
        q = stats.t.ppf(0.5 + confidence / 2, g - 1)
        out["ci_cr1"] = np.column_stack([beta[1:] - q * se, beta[1:] + q * se])
    if n_boot and g > 1:
        rng = np.random.default_rng(seed)
        w = rng.multinomial(g, np.full(g, 1 / g), size=n_boot).astype(float)
        a = np.einsum("bg,gij->bij", w, xtx_g)
        r = w @ xty_g
        det = np.linalg.det(a)
        ok = np.abs(det) > 1e-12 * np.maximum(1.0, np.abs(a).reshape(n_boot, -1).max(1)) ** k
        bb = np.full((n_boot, k), np.nan)
        if ok.any():
            bb[ok] = np.linalg.solve(a[ok], r[ok][:, :, None])[:, :, 0]
        out["boot"] = bb[:, 1:]
        out["ci_boot"] = np.array([percentile_interval(bb[:, j], confidence)
                                   for j in range(1, k)], dtype=float)
    return out


INTERVALS = ("jackknife", "bootstrap", "cr1")


def contrast_intervals(fit: dict, c, confidence: float = 0.95) -> dict:
    """Estimate and the three intervals of the contrast ``c @ beta`` of an :func:`alignment_fit`:
    ``boot`` (percentile of the cluster bootstrap), ``jack`` and ``cr1`` (estimate ± t(G − 1) ×
    the CR3 jackknife / CR1 sandwich standard error)."""
    from scipy import stats

    c = np.asarray(c, float)
    est = float(c @ fit["beta"])
    out = {"estimate": None if not np.isfinite(est) else est}
    g = fit["n_clusters"]
    q = stats.t.ppf(0.5 + confidence / 2, g - 1) if g > 1 else np.nan
    out["boot"] = (percentile_interval(fit["boot"] @ c, confidence) if len(fit["boot"])
                   else (None, None))
    for name in ("jack", "cr1"):
        se = float(np.sqrt(max(c @ fit[f"cov_{name}"] @ c, 0.0)))
        ok = np.isfinite(se) and np.isfinite(q) and out["estimate"] is not None
        out[f"{name}_se"] = se if ok else None
        out[name] = (est - q * se, est + q * se) if ok else (None, None)
    return out


def _verdict(lo, hi) -> str:
    if lo is None or hi is None:
        return "too few posts to tell"
    if lo > 0:
        return "towards"
    if hi < 0:
        return "away from"
    return "no clear move"


def _pc(v) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{100 * v:.0f} %".replace("-", "−")


@analysis_function
def tone(
    ws: Workspace,
    *,
    behaviours=None,
    as_of=None,
    window_start=None,
    window_end=None,
    leaders: str = "is_leader",
    lookback_days: float | None = 30.0,
    min_baseline_posts: int = 3,
    interval: str = "jackknife",
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Result:
    """Tone profiles by level and person, and tone alignment after leaders' posts on a topic.

    Parameters
    ----------
    behaviours : str or list, optional
        The topics: ``hashtag:#X``, ``topic:name=kw1,kw2`` (or ``=/regex/``), ``top-hashtags:N``
        (default ``top-hashtags:20``). Other behaviour kinds are not topics and are refused.
    as_of : time, optional
        When roles are read (default: ``window_end``, else the last post).
    window_start, window_end : time, optional
        Posts created in ``[window_start, window_end)`` (default: all).
    leaders : str
        Leader rule (``is_leader``, ``level<=1``, ``ids:...``); members are everyone else on the
        roster at ``as_of``.
    lookback_days : float or None
        A leader's or peer's post on the topic counts for a member's post at most this many days
        later (None: any time before).
    min_baseline_posts : int
        A member's post enters the alignment fit when the member has at least this many other
        posts (not on the topic) for the baseline.
    interval : {"jackknife", "bootstrap", "cr1"}
        The interval of the headline: the delete-one-topic jackknife (CR3, default: the best
        calibrated on the development seeds, EVALUATION.md), the percentile bootstrap over
        topics, or the cluster-robust CR1 standard error; the first and last with t(G − 1); all
        three are in the table.
    n_boot : int
        Bootstrap replicates (0: none; then ``interval="bootstrap"`` falls back to ``cr1``).
    confidence : float
        Interval level.
    seed : int
        Seed of the bootstraps.
    """
    if interval not in INTERVALS:
        raise AnalysisError(f"interval={interval!r}: use one of {', '.join(INTERVALS)}")
    if not 0 < confidence < 1:
        raise AnalysisError(f"confidence={confidence!r} must be between 0 and 1, e.g. 0.95")
    if n_boot < 0:
        raise AnalysisError(f"n_boot={n_boot!r} must be 0 (no bootstrap) or more, e.g. 1000")
    if lookback_days is not None and not lookback_days > 0:
        raise AnalysisError(f"lookback_days={lookback_days!r} must be > 0 (or None for any time)")
    if min_baseline_posts < 1:
        raise AnalysisError(f"min_baseline_posts={min_baseline_posts!r} must be at least 1")
    chosen = "cr1" if interval == "bootstrap" and n_boot == 0 else interval
    specs = _topic_specs(behaviours)
    t0, t1 = to_time(window_start, "window_start"), to_time(window_end, "window_end")
    first, last = post_time_range(ws)
    t = to_time(as_of, "as_of") or t1 or last
    if t is None:
        raise AnalysisError("the workspace has no posts; there is no tone to measure")
    per_person = person_tones(ws, window_start=t0, window_end=t1)
    if per_person.empty:
        from socialens.enrich.runner import FEATURE_VERSION

        f = ws.table("post_features")
        old = sorted(f.filter(f.feature_version != FEATURE_VERSION).select("feature_version")
                     .distinct().to_pandas().feature_version.astype(str))
        stale = (f" (the features here are of version {', '.join(old)}, this SociaLens reads "
                 f"version {FEATURE_VERSION})" if old else "")
        raise AnalysisError(f"no post has a tone score{stale}: run `socialens enrich` first (tone "
                            "reads VADER's compound score of each post)")
    roster, by_role, by_level = roster_groups(ws, t, leaders)
    # --- profiles -------------------------------------------------------------------------------
    prof = pd.concat([
        tone_profiles(per_person, by_role, n_boot=n_boot, confidence=confidence, seed=seed)
        .assign(kind="role"),
        tone_profiles(per_person, by_level.sort_values(kind="stable"), n_boot=n_boot,
                      confidence=confidence, seed=seed).assign(kind="level"),
    ], ignore_index=True)
    people = roster[["person_id", "name", "level", "title", "leader", "opt_in"]].merge(
        per_person, on="person_id", how="inner")
    with np.errstate(invalid="ignore", divide="ignore"):
        people["mean_tone"] = people.tone_sum / people.n_posts
        people["share_positive"] = people.n_positive / people.n_posts
        people["share_negative"] = people.n_negative / people.n_posts
    people = people.drop(columns="tone_sum").sort_values(["leader", "mean_tone"],
                                                         ascending=[False, False],
                                                         ignore_index=True)
    # --- alignment ------------------------------------------------------------------------------
    roles = pd.DataFrame({"person_id": roster.person_id.to_numpy(),
                          "is_leader": roster.leader.to_numpy(dtype=bool)})
    pairs = alignment_pairs(ws, specs, roles, lookback_days=lookback_days, window_start=t0,
                            window_end=t1)
    base = topic_baselines(pairs, per_person)
    pairs["baseline"] = base.to_numpy()
    pairs["n_baseline_posts"] = base.attrs["n"].to_numpy()
    pairs["response"] = pairs.tone - pairs.baseline
    ok_base = pairs.n_baseline_posts >= min_baseline_posts
    matched = pairs[ok_base & pairs.leader_tone.notna() & pairs.peer_tone.notna()]
    fits = {
        "joint": (matched, ["leader_tone", "peer_tone"]),
        "leader_only": (pairs[ok_base & pairs.leader_tone.notna()], ["leader_tone"]),
        "peer_only": (pairs[ok_base & pairs.peer_tone.notna()], ["peer_tone"]),
    }
    rows, joint = [], None
    key = {"bootstrap": "boot", "jackknife": "jack", "cr1": "cr1"}[chosen]
    for model, (d, cols) in fits.items():
        fit = alignment_fit(d.response.to_numpy(), d[cols].to_numpy(), d.behaviour.to_numpy(),
                            n_boot=n_boot, confidence=confidence, seed=seed)
        if model == "joint":
            joint = fit
        terms = [(c.replace("_tone", ""), np.eye(len(cols))[j]) for j, c in enumerate(cols)]
        if model == "joint":
            terms.append(("leader_minus_peer", np.array([1.0, -1.0])))
        for term, c in terms:
            ci = contrast_intervals(fit, c, confidence)
            rows.append({"model": model, "term": term, "estimate": ci["estimate"],
                         "ci_low": ci[key][0], "ci_high": ci[key][1],
                         "boot_ci_low": ci["boot"][0], "boot_ci_high": ci["boot"][1],
                         "jack_se": ci["jack_se"], "jack_ci_low": ci["jack"][0],
                         "jack_ci_high": ci["jack"][1], "cr1_se": ci["cr1_se"],
                         "cr1_ci_low": ci["cr1"][0], "cr1_ci_high": ci["cr1"][1],
                         "n_posts": fit["n"], "n_members": int(d.person_id.nunique()),
                         "n_topics": fit["n_clusters"]})
    alignment = pd.DataFrame(rows)
    lo_col, hi_col = "ci_low", "ci_high"

    def est(term):
        r = alignment[(alignment.model == "joint") & (alignment.term == term)].iloc[0]
        v = r["estimate"]
        lo, hi = r.get(lo_col), r.get(hi_col)
        f = lambda z: None if z is None or pd.isna(z) else float(z)  # noqa: E731
        return {"estimate": f(v), "ci_low": f(lo), "ci_high": f(hi)}

    a_l, a_p, a_d = est("leader"), est("peer"), est("leader_minus_peer")
    gap = float((matched.leader_tone - matched.baseline).abs().mean()) if len(matched) else None
    shift = {k: (None if v is None or gap is None else v * gap) for k, v in a_l.items()}
    # per-topic table
    topics = pairs.groupby("behaviour").agg(
        n_member_posts=("post_id", "size"), n_members=("person_id", "nunique"),
        n_after_leader=("leader_tone", "count"), n_after_peer=("peer_tone", "count"),
        mean_member_tone=("tone", "mean"), mean_leader_tone=("leader_tone", "mean"),
        mean_peer_tone=("peer_tone", "mean")).reset_index()
    topics = topics.merge(matched.groupby("behaviour").size().rename("n_matched").reset_index(),
                          on="behaviour", how="left").fillna({"n_matched": 0})
    topics["n_matched"] = topics.n_matched.astype(int)
    # --- headline -------------------------------------------------------------------------------
    role = prof[prof.kind == "role"].set_index("group")

    def mean_of(g):
        return role.mean_tone.get(g) if g in role.index else None

    tone_words = (f"Leaders' posts average {_sgn(mean_of('leaders'))} on VADER's −1 to 1 tone "
                  f"scale, members' {_sgn(mean_of('members'))}.")
    if joint is None or not joint["n"] or a_l["estimate"] is None:
        headline = (tone_words + " Too few member posts on the topics follow both a leader's and "
                    "a peer's post to measure tone alignment "
                    f"({len(matched)} matched posts).")
    else:
        def ci(d):
            return ("" if d["ci_low"] is None else
                    f" ({_pc(d['ci_low'])} to {_pc(d['ci_high'])})")
        verdict = _verdict(a_d["ci_low"], a_d["ci_high"])
        verdict = {"towards": "members follow leaders' tone more than peers'",
                   "away from": "members follow peers' tone more than leaders'",
                   "no clear move": "no clear difference between leaders and peers"}.get(
                       verdict, verdict)
        headline = (
            f"After a leader posts on a topic, members' next posts on it move {_pc(a_l['estimate'])}"
            f"{ci(a_l)} of the way from their usual tone towards the leader's (about "
            f"{_sgn(shift['estimate'])} on the −1 to 1 scale); after a peer's post, "
            f"{_pc(a_p['estimate'])}{ci(a_p)} towards the peer's: {verdict}. " + tone_words)
    summary = {
        "confidence": confidence, "interval": chosen,
        "n_people": int(len(people)), "n_posts": int(per_person.n_posts.sum()),
        "mean_tone_leaders": mean_of("leaders"), "mean_tone_members": mean_of("members"),
        "alignment_leader": a_l, "alignment_peer": a_p, "alignment_leader_minus_peer": a_d,
        "typical_gap": gap, "typical_shift_towards_leader": shift,
        "n_matched_posts": int(len(matched)), "n_matched_members": int(matched.person_id.nunique()),
        "n_topics": int(matched.behaviour.nunique()),
        "topics": sorted(pairs.behaviour.unique().tolist())[:50],
        "window_start": t0 or first, "window_end": t1,
    }
    figures = {}
    try:
        figures = _figures(prof, alignment)
    except Exception:  # pragma: no cover - a chart never stops an analysis  # noqa: BLE001
        figures = {}
    return Result(
        name="tone",
        title="Tone: how leaders and members sound, and whether members take their leaders' tone",
        params={"as_of": t, "window_start": t0, "window_end": t1, "leaders": leaders,
                "behaviours": [getattr(b, "name", f"top-hashtags:{getattr(b, 'n', '')}")
                               for b in specs],
                "lookback_days": lookback_days, "min_baseline_posts": min_baseline_posts,
                "interval": interval, "n_boot": n_boot, "confidence": confidence, "seed": seed},
        summary=summary,
        tables={"profiles": prof, "people": people, "alignment": alignment, "topics": topics,
                # the source posts' ids and authors are other people's: only their tones and
                # times are shown (alignment_pairs() has the ids, for the Python API)
                "pairs": pairs.drop(columns=[c for c in pairs.columns if c.endswith(
                    ("post_id", "_person_id"))])},
        figures=figures,
        headline=headline,
        notes=[
            "Tone is VADER's compound score of each post (−1 most negative, +1 most positive); "
            f"'clearly positive' is ≥ {POSITIVE}, 'clearly negative' ≤ {NEGATIVE}. Group values "
            "pool the group's posts; intervals resample people.",
            "Alignment: for each member post on a topic, the most recent leader post and the most "
            f"recent other member's post on it in the {lookback_days} days before; the member's "
            "departure from their usual tone (their posts not on the topic) is regressed on both "
            "(docs/methods.md, 'Tone alignment'). 'x % of the way' is the leader coefficient; the "
            "peer coefficient is the placebo. Intervals: delete-one-topic jackknife (topics are "
            "the clusters).",
            "Alignment is association in time, not proof that leaders cause members' tone: a "
            "topic's own tone is shared by everyone posting on it; the peer placebo measures how "
            "much of that is there without a leader.",
        ],
    )


def _sgn(v) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:+.2f}".replace("-", "−")


def _figures(prof: pd.DataFrame, alignment: pd.DataFrame) -> dict:
    import altair as alt

    lv = prof[prof.kind == "level"].dropna(subset=["mean_tone"])
    out = {}
    if len(lv):
        base = alt.Chart(lv)
        pts = base.mark_point(filled=True, size=70, color="#c0392b").encode(
            y=alt.Y("group:N", title=None, sort=None),
            x=alt.X("mean_tone:Q", title="mean tone (VADER compound)"),
            tooltip=["group", "n_people", "n_posts", alt.Tooltip("mean_tone:Q", format=".2f")])
        bars = base.mark_rule(color="#c0392b").encode(y=alt.Y("group:N", sort=None),
                                                       x="mean_tone_ci_low:Q",
                                                       x2="mean_tone_ci_high:Q")
        out["tone_by_level"] = alt.layer(bars, pts).properties(
            title="Tone by level (95 % intervals)", width=360)
    j = alignment[(alignment.model == "joint") & alignment.estimate.notna()].copy()
    if len(j):
        j["who"] = j.term.map({"leader": "after a leader's post", "peer": "after a peer's post",
                               "leader_minus_peer": "difference"})
        base = alt.Chart(j)
        pts = base.mark_point(filled=True, size=70, color="#2c3e50").encode(
            y=alt.Y("who:N", title=None, sort=None),
            x=alt.X("estimate:Q", title="share of the way towards the source's tone",
                    axis=alt.Axis(format="%")),
            tooltip=["who", alt.Tooltip("estimate:Q", format=".0%"), "n_posts", "n_topics"])
        bars = base.mark_rule(color="#2c3e50").encode(y=alt.Y("who:N", sort=None),
                                                       x="ci_low:Q", x2="ci_high:Q")
        zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 3]).encode(x="x:Q")
        out["alignment"] = alt.layer(bars, pts, zero).properties(
            title="Tone alignment (95 % intervals)", width=360)
    return out
