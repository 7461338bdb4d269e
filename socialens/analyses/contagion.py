"""Do members follow their leaders? Descriptive contagion measures over behaviours.

For each behaviour (hashtags by default: the 20 used by the most members) the first uses come from
:func:`socialens.behaviours.first_use` and the exposure from
:func:`socialens.behaviours.exposure_counts` over the exposure network (follows, replies,
mentions by default). Leaders and peers side by side:

* **leader-first rate**: in how many behaviours was a leader the first member to show it, against
  the number expected if the first user were drawn at random from each behaviour's users
  (``sum_b L_b / n_b``); exact one-sided p-value from the Poisson-binomial distribution;
* **per behaviour**: did leaders adopt earlier than the peers who adopted it (one-sided
  Mann–Whitney U), Benjamini–Hochberg q-values across behaviours;
* **lags**: days from a member's first exposure to a leader's (a peer's) use to their own;
* **exposure curves** P(adopt | k) (Romero, Meeder & Kleinberg 2011): of the member-behaviour
  pairs that reached k leaders (peers) seen using it, the share that adopted at exactly k; with
  stickiness (the curve's maximum) and persistence (its area over the rectangle of that height);
* **who used it first, and who followed**: the adoption sequence of each behaviour with what each
  adopter had seen.

This is description. It shows whether adoption *follows* exposure to leaders; whether that is
influence rather than homophily or shared timing is the job of the influence tests (shuffle,
edge reversal, Cox model) in ``contagion_tests``.
"""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

from socialens.analyses.common import post_time_range, to_time
from socialens.analyses.result import Result
from socialens.analyses.signature import analysis_function
from socialens.behaviours import (
    DEFAULT_EXPOSURE_KINDS,
    BehaviourError,
    exposure_counts,
    exposure_events,
    exposure_ties,
    first_use_posts,
    leader_ids,
)
from socialens.behaviours.exposure import _kinds
from socialens.behaviours.sequence import sequence_from
from socialens.errors import AnalysisError
from socialens.workspace import Workspace

__all__ = ["contagion", "poisson_binomial_sf", "exposure_curve", "leader_first",
           "curve_shape", "benjamini_hochberg"]


def poisson_binomial_sf(x: int, p) -> float:
    """P(X >= x) for X a sum of independent Bernoulli(p_i): exact, by convolution.

    >>> round(poisson_binomial_sf(2, [0.5, 0.5]), 4)
    0.25
    >>> poisson_binomial_sf(0, [0.1, 0.9])
    1.0
    """
    pmf = np.array([1.0])
    for q in np.asarray(p, dtype=float):
        pmf = np.convolve(pmf, [1.0 - q, q])
    return float(min(1.0, pmf[int(x):].sum())) if x > 0 else 1.0


def benjamini_hochberg(pvalues) -> np.ndarray:
    """Benjamini–Hochberg q-values (NaN stays NaN).

    >>> benjamini_hochberg([0.01, 0.04, 0.03, np.nan]).round(3).tolist()
    [0.03, 0.04, 0.04, nan]
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return q


def leader_first(uses: pd.DataFrame, lead: set[str], min_adopters: int = 2) -> tuple[pd.DataFrame, dict]:
    """Per behaviour: its first user(s), whether a leader, the chance of that at random.

    ``uses``: ``person_id, behaviour, at``. Behaviours with fewer than ``min_adopters`` users are
    left out; when leaders and peers tie for the earliest time the behaviour is ``tied`` and left
    out of the test (it cannot say who was first).
    """
    rows = []
    for b, g in uses.groupby("behaviour", sort=True):
        n = len(g)
        if n < min_adopters:
            continue
        is_l = g.person_id.isin(lead)
        first = g[g["at"] == g["at"].min()]
        fl = first.person_id.isin(lead)
        later_l = g[is_l & (g["at"] > g["at"].min())]
        later_p = g[~is_l & (g["at"] > g["at"].min())]
        t0 = g["at"].min()
        rows.append({
            "behaviour": b, "adopters": n, "leader_adopters": int(is_l.sum()),
            "first_at": t0, "person_id": sorted(first.person_id)[0],
            "first_is_leader": bool(fl.all()), "tied": bool(fl.any() and not fl.all()),
            "chance_leader_first": float(is_l.mean()),
            "leaders_median_days": (float(((g[is_l]["at"] - t0).dt.total_seconds() / 86400).median())
                                    if is_l.any() else None),
            "peers_median_days": (float(((g[~is_l]["at"] - t0).dt.total_seconds() / 86400).median())
                                  if (~is_l).any() else None),
            "_l": (g[is_l]["at"].astype("int64") / 8.64e13).to_numpy(),
            "_p": (g[~is_l]["at"].astype("int64") / 8.64e13).to_numpy(),
            "_later": (len(later_l), len(later_p)),
        })
    tbl = pd.DataFrame(rows)
    if tbl.empty:
        return tbl, {"n_behaviours": 0}
    # per behaviour: did its leader users adopt earlier than its peer users?
    ps = []
    for r in rows:
        if len(r["_l"]) and len(r["_p"]):
            ps.append(float(stats.mannwhitneyu(r["_l"], r["_p"], alternative="less",
                                               method="auto").pvalue))
        else:
            ps.append(np.nan)
    tbl["p_leaders_earlier"] = ps
    tbl["q_leaders_earlier"] = benjamini_hochberg(ps)
    tbl = tbl.drop(columns=["_l", "_p", "_later"])
    tested = tbl[~tbl.tied]
    x = int(tested.first_is_leader.sum())
    expected = float(tested.chance_leader_first.sum())
    m = len(tested)
    summary = {
        "n_behaviours": m, "n_tied_first": int(tbl.tied.sum()),
        "leader_first": x, "expected_leader_first": expected,
        "leader_first_rate": x / m if m else None,
        "expected_leader_first_rate": expected / m if m else None,
        "p_value": poisson_binomial_sf(x, tested.chance_leader_first) if m else None,
        "n_tested_leaders_earlier": int(np.isfinite(tbl.p_leaders_earlier).sum()),
        "n_significant_leaders_earlier_q05": int((tbl.q_leaders_earlier < 0.05).sum()),
    }
    return tbl, summary


def exposure_curve(k: pd.Series, adopted: pd.Series, *, min_at_risk: int = 10,
                   max_k: int = 30) -> pd.DataFrame:
    """Romero et al.'s P(k): of the pairs that reached k exposures, the share that adopted at k.

    ``k``: exposures at adoption (adopters) or by the end (non-adopters); pairs with k = 0 are not
    on the curve. Rows ``k, at_risk, adopted, p, p_low, p_high`` (Wilson 95 %), for k up to
    ``max_k`` while at least ``min_at_risk`` pairs reached k.
    """
    k = np.asarray(k, dtype=int)
    a = np.asarray(adopted, dtype=bool)
    rows = []
    for kk in range(1, max_k + 1):
        n = int((k >= kk).sum())
        if n < min_at_risk:
            break
        s = int(((k == kk) & a).sum())
        lo, hi = _wilson(s, n)
        rows.append({"k": kk, "at_risk": n, "adopted": s, "p": s / n, "p_low": lo, "p_high": hi})
    return pd.DataFrame(rows, columns=["k", "at_risk", "adopted", "p", "p_low", "p_high"])


def _wilson(s: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    if n == 0:
        return (math.nan, math.nan)
    p = s / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def curve_shape(curve: pd.DataFrame) -> dict:
    """Stickiness (max P(k)) and persistence (area under P over the rectangle of height max P and
    the curve's length, Romero et al. 2011) of an :func:`exposure_curve`.

    >>> curve_shape(pd.DataFrame({"k": [1, 2], "p": [0.5, 0.25]}))
    {'stickiness': 0.5, 'persistence': 0.75, 'k_max': 2, 'k_at_max': 1}
    """
    if curve.empty:
        return {"stickiness": None, "persistence": None, "k_max": 0, "k_at_max": None}
    p = curve.p.to_numpy(dtype=float)
    top = float(p.max())
    return {"stickiness": top, "persistence": (float(p.mean() / top) if top > 0 else None),
            "k_max": int(curve.k.max()), "k_at_max": int(curve.k.iloc[int(p.argmax())])}


def _lag_summary(days: pd.Series) -> dict:
    d = days.dropna()
    if d.empty:
        return {"n": 0, "median_days": None, "q1_days": None, "q3_days": None}
    return {"n": int(len(d)), "median_days": float(d.median()), "q1_days": float(d.quantile(0.25)),
            "q3_days": float(d.quantile(0.75))}


def _chart(curves: pd.DataFrame) -> alt.Chart:
    data = curves.copy()
    base = alt.Chart(data, title="Exposure curves: who takes a behaviour up after seeing k use it")
    line = base.mark_line(point=True).encode(
        x=alt.X("k:Q", title="contacts seen using it (k)", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("p:Q", title="share who adopted at k", axis=alt.Axis(format="%")),
        color=alt.Color("exposure:N", title=None, scale=alt.Scale(scheme="dark2")),
    )
    band = base.mark_errorband(opacity=0.2).encode(
        x="k:Q", y=alt.Y("p_low:Q", title=""), y2="p_high:Q", color="exposure:N")
    return (band + line).properties(width=520, height=280)


def _days(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a - b).dt.total_seconds() / 86400.0


@analysis_function
def contagion(
    ws: Workspace,
    *,
    behaviours=None,
    as_of=None,
    window_start=None,
    window_end=None,
    leaders: str = "is_leader",
    exposure: tuple[str, ...] = DEFAULT_EXPOSURE_KINDS,
    lag_days: float = 0.0,
    decay_days: float | None = None,
    min_adopters: int = 2,
    min_at_risk: int = 10,
) -> Result:
    """Leader-first rate, adoption lags and exposure curves, leaders and peers side by side.

    Parameters
    ----------
    behaviours : str or list, optional
        Behaviour specs (``hashtag:#X``, ``top-hashtags:50``, ``platform``, ``topic:...``,
        ``personal``, ``tone:negative``; see :mod:`socialens.behaviours.spec`); default
        ``top-hashtags:20``.
    as_of : time, optional
        When roles are read (default: ``window_end``, else the last post).
    window_start, window_end : time, optional
        First uses in ``[window_start, window_end)``; non-adopters are observed to the window end
        (default: just after the last post).
    leaders : str
        Leader rule.
    exposure : tuple of str
        Exposure network (``follows``, ``reply``, ``mention``, ``repost``, ``quote``,
        ``interaction``, ``manager``, ``leaders_above``).
    lag_days : float
        A contact's use is seen ``lag_days`` after it.
    decay_days : float, optional
        Half-life of exposures (adds decayed exposure weights to the exposure table).
    min_adopters : int
        Behaviours with fewer member users are not in the leader-first test.
    min_at_risk : int
        An exposure curve stops at the first k that fewer pairs reached.
    """
    t0, t1 = to_time(window_start, "window_start"), to_time(window_end, "window_end")
    first, last = post_time_range(ws)
    if last is None:
        raise AnalysisError("the workspace has no posts; there are no behaviours to follow")
    end = t1 or (pd.Timestamp(last) + pd.Timedelta(seconds=1)).to_pydatetime()
    t_roles = to_time(as_of, "as_of") or t1 or last
    kinds = _kinds(exposure)
    try:
        uses_t = first_use_posts(ws, behaviours, window_start=t0, window_end=t1)
        uses = uses_t.execute()
    except BehaviourError:
        raise
    if uses.empty:
        raise AnalysisError(
            f"no member showed any of the behaviours {behaviours or 'top-hashtags:20'} in the "
            "window; posts need hashtags (or choose --behaviour platform)")
    if int(uses.groupby("behaviour").size().max()) < min_adopters:
        raise AnalysisError(
            f"no behaviour was shown by {min_adopters} members or more ({uses.behaviour.nunique()} "
            "behaviours, each by one member): there is no one who followed; choose other "
            "behaviours (--behaviour) or a longer window")
    lead = leader_ids(ws, leaders, t_roles)
    ties = exposure_ties(ws, kinds, leaders=lead)
    u3 = uses_t.drop("post_id")
    counts = exposure_counts(u3, ties, lead, end=end, lag_days=lag_days,
                             decay_days=decay_days).order_by("behaviour", "person_id").execute()
    people = ws.table("people").select("person_id", "name", "opt_in").execute()
    names = dict(zip(people.person_id, people.name, strict=True))
    # the contacts named in "seen first" are named only when they opted in (the report redacts
    # by person_id, which this column does not carry)
    public_names = {p: (n if o else "a member") for p, n, o in
                    zip(people.person_id, people.name, people.opt_in.fillna(False), strict=True)}

    # leader-first and per-behaviour tests
    per_b, lf = leader_first(uses, lead, min_adopters)

    # lags from the first exposure of each kind to adoption
    ad = counts[counts.adopted_at.notna()].copy()
    ad["days_after_leader"] = _days(ad.adopted_at, ad.first_leader_at)
    ad["days_after_peer"] = _days(ad.adopted_at, ad.first_peer_at)
    lag_l, lag_p = _lag_summary(ad.days_after_leader), _lag_summary(ad.days_after_peer)
    if lag_l["n"] and lag_p["n"]:
        lag_test = stats.mannwhitneyu(ad.days_after_leader.dropna(), ad.days_after_peer.dropna(),
                                      alternative="two-sided")
        lag_p_value = float(lag_test.pvalue)
    else:
        lag_p_value = None
    lags = pd.DataFrame([{"after": "a leader", **lag_l}, {"after": "a peer", **lag_p}])

    # exposure curves
    adopted = counts.adopted_at.notna()
    curves, shapes = [], {}
    for label, k in (("leaders seen", counts.n_leaders), ("peers seen", counts.n_peers),
                     ("anyone seen", counts.n_leaders + counts.n_peers)):
        c = exposure_curve(k, adopted, min_at_risk=min_at_risk)
        c.insert(0, "exposure", label)
        curves.append(c)
        shapes[label] = curve_shape(c)
    curves = pd.concat(curves, ignore_index=True)

    # who used it first, and who followed (the adopters' exposure at adoption)
    ev = exposure_events(u3, ties, lead, lag_days=lag_days).filter(
        lambda t: t.adopted_at.notnull()).execute()
    seq = sequence_from(uses, ev, names, lead, contact_names=public_names)
    if not per_b.empty:
        per_b.insert(per_b.columns.get_loc("person_id") + 1, "name", per_b.person_id.map(names))

    n_b = uses.behaviour.nunique()
    exposed = counts[(counts.n_leaders + counts.n_peers) > 0]
    share_l1 = curves[(curves.exposure == "leaders seen") & (curves.k == 1)]
    share_p1 = curves[(curves.exposure == "peers seen") & (curves.k == 1)]
    summary = {
        "n_behaviours": int(n_b), "n_adoptions": int(len(uses)),
        "n_adopters": int(uses.person_id.nunique()), "n_leaders": len(lead),
        "n_exposure_ties": int(ties.count().execute()),
        "leader_first": lf,
        "lags": {"after_leader": lag_l, "after_peer": lag_p, "p_value": lag_p_value},
        "curves": shapes,
        "p_adopt_after_one_leader": (float(share_l1.p.iloc[0]) if len(share_l1) else None),
        "p_adopt_after_one_peer": (float(share_p1.p.iloc[0]) if len(share_p1) else None),
        "n_pairs_exposed": int(len(exposed)),
        "window_start": t0 or first, "window_end": end,
    }
    what = ("hashtags" if uses.behaviour.str.startswith("hashtag:").all() else "behaviours")
    headline = _headline({**summary, "what": what})
    return Result(
        name="contagion",
        title="Do members follow their leaders? First users, lags and exposure curves",
        params={"behaviours": behaviours or "top-hashtags:20", "as_of": t_roles,
                "window_start": t0, "window_end": t1, "leaders": leaders, "exposure": kinds,
                "lag_days": lag_days, "decay_days": decay_days, "min_adopters": min_adopters,
                "min_at_risk": min_at_risk},
        summary=summary,
        tables={"behaviours": per_b, "lags": lags, "exposure_curves": curves,
                "first_users": seq, "exposure": counts},
        figures={"exposure_curves": _chart(curves)} if not curves.empty else {},
        headline=headline,
        notes=[
            "A behaviour's first use is a member's first record post showing it (embedded copies "
            "of other people's posts do not count); official and delegate accounts are nobody's.",
            f"Exposure: a member sees whom they {', '.join(kinds)}; a contact's use counts as seen "
            "once it happened (plus the lag) and the tie existed, and only before the member's "
            "own first use (or the window end).",
            "Leader first: expected = the sum over behaviours of the leaders' share of its users "
            "(the first user drawn at random among them); exact Poisson-binomial p-value. "
            "Behaviours whose first use is a tie between a leader and a peer are left out.",
            "Exposure curves (Romero et al. 2011): of the member-behaviour pairs that reached k "
            "contacts seen using it, the share that adopted at exactly k; Wilson 95 % bands.",
            "Description, not proof of influence: homophily and shared timing also make "
            "adoption follow exposure (see the influence tests).",
        ],
    )


def _headline(s: dict) -> str:
    lf = s["leader_first"]
    what = s.get("what", "behaviours")
    parts = []
    if lf.get("n_behaviours"):
        p = lf["p_value"]
        ptxt = "p < 0.001" if p < 0.001 else f"p = {p:.2g}"
        parts.append(
            f"A leader was the first member to use {lf['leader_first']} of {lf['n_behaviours']} "
            f"{what}; {lf['expected_leader_first']:.1f} would be expected if the first user "
            f"were any of its users at random ({ptxt}).")
    else:
        parts.append(f"None of the {s['n_behaviours']} {what} had two member users or more.")
    ll, lp = s["lags"]["after_leader"], s["lags"]["after_peer"]
    if ll["n"] or lp["n"]:
        def lag(d):
            return "n/a" if d["median_days"] is None else f"{d['median_days']:.0f} days"
        parts.append(
            f"Members who adopted after seeing a leader use it did so after a median of "
            f"{lag(ll)} ({ll['n']} adoptions); after seeing a peer, {lag(lp)} ({lp['n']}).")
    pl, pp = s["p_adopt_after_one_leader"], s["p_adopt_after_one_peer"]
    if pl is not None or pp is not None:
        def pct(x):
            return "n/a" if x is None else f"{x:.0%}"
        parts.append(f"Of members who saw one leader use one of them, {pct(pl)} took it up "
                     f"then; of those who saw one peer, {pct(pp)}.")
    return " ".join(parts)
