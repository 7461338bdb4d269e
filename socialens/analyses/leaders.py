"""The leader report card: for each leader, the per-leader rows of the other analyses in one place.

A card is a composition, not a new measurement: adoption rank (``adoption``), posting rate
(``activity``), external followers (``directory``), internal coverage (``reach``), tone profile
(``tone``), personal/professional mix (``sharing``), coordination received (``coordination``), the
behaviours the leader used first in the organization and how far each spread (``contagion``) are
read from those analyses' tables, and every number on the card names the table and row it comes
from (``components.source``). A component the workspace cannot give (no snapshots, too few posts,
the leader not in that table) is written "not enough data" with the reason, never as a number.

One quantity is estimated here: how much faster members take up the behaviours a leader used
when they can see that leader — a discrete-time proportional-hazards model (the grouped-time Cox
model of :class:`socialens.behaviours.influence.DiscreteHazard`, profile-likelihood interval) with
three time-varying exposure indicators per member and behaviour: could see *this* leader use it
(and no other leader), could see another leader use it, could see a peer use it; one baseline per
period and behaviour. ``exp(β)`` of the first is the ratio of adoption hazards of members who could
see this leader (and no other leader) against members who could see no leader. Its coverage is
measured on simulated organizations (``python -m eval.leaders_calibration``, EVALUATION.md); see
docs/methods.md, "Leader report card".

:func:`leaders` runs the component analyses itself; :func:`leader_cards` builds the card from
results already computed (``run_all`` and the demo use it, so nothing runs twice).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from markupsafe import Markup, escape
from scipy import stats

from socialens.analyses.common import post_time_range, roster_at, select_leaders, to_time
from socialens.analyses.result import Result, readable
from socialens.analyses.signature import analysis_function
from socialens.behaviours import DEFAULT_EXPOSURE_KINDS, exposure_ties, first_use
from socialens.behaviours.influence import DiscreteHazard
from socialens.errors import AnalysisError
from socialens.workspace import Workspace

__all__ = ["leaders", "leader_cards", "leader_exposure_ratios", "LeaderCards", "COMPONENTS",
           "card_anchor", "NOT_ENOUGH", "RATIO_IN_SUMMARY", "RATIO_WARNING"]

#: the analyses a card is composed of (run by :func:`leaders` when not given)
COMPONENTS = ("directory", "adoption", "activity", "reach", "contagion", "coordination", "tone",
              "sharing")
#: how a missing component is written
NOT_ENOUGH = "not enough data"
#: the behaviour kinds for which the plain-language summary quotes the exposure ratio: those
#: whose interval passed the rule declared before the calibration (EVALUATION.md, "Leader report
#: card"; 200 fresh organizations, seeds 192000-192199): joining the platform covered the planted
#: ratio 2 in 93.1 % and the null 1 in 94.1 %; hashtag cascades without leader pull (the
#: product's default behaviours) covered 1 in 96.7 %. Other behaviours (topics, personal posts,
#: tone states) were not calibrated: their ratio stays in the exposure_ratios table with a note.
RATIO_IN_SUMMARY = frozenset({"platform", "hashtags"})
#: fewest adoptions by members exposed to the leader (and no other leader) before a ratio is given
MIN_EXPOSED_EVENTS = 3
#: fewest behaviours a leader used before a ratio is given for behaviours shown in posts: the
#: interval is clustered by behaviour (one cascade is one independent unit), which needs at least 3
MIN_BEHAVIOURS = 3
#: the note (and the summaries' reason) when the ratio is not quoted
RATIO_WARNING = (
    "the summaries do not quote the exposure ratio for these behaviours: only joining the "
    "platform and hashtags were calibrated on simulated organizations (EVALUATION.md, Leader "
    "report card: on 200 organizations the interval covered the truth for 93.1 % of leaders "
    "joining the platform and 96.7 % of leaders in hashtag cascades); for topics and other "
    "behaviours it stays in the exposure_ratios table, uncalibrated")
_COVARIATES = ("leader_exposure", "other_leader_exposure", "peer_exposure", "peer_count",
               "recent_peer_count", "group_count")


def card_anchor(person_id: str) -> str:
    """The HTML id of a leader's card (``leader-<id>``, characters outside ``[A-Za-z0-9_-]``
    replaced)."""
    return "leader-" + re.sub(r"[^A-Za-z0-9_-]", "-", str(person_id))


# ---------------------------------------------------------------------- the exposure ratio
class _CellHazard(DiscreteHazard):
    """:class:`DiscreteHazard` fitted on cells built here (three exposure indicators, one
    baseline per period and behaviour) instead of on an :class:`AdoptionPanel`."""

    def __init__(self, cells, n_people: int, n_events: int, alpha: float = 0.05):
        super().__init__("indicator", alpha=alpha, profile=("leader_exposure",))
        self._cells = cells
        self._n = (n_people, n_events)

    def cells(self, panel=None):
        group, X, n, y, names = self._cells
        self.n_people_, self.n_events_ = self._n
        keep = [k for k in range(X.shape[1]) if len(np.unique(X[n > 0, k])) > 1]
        self.dropped_ = [nm for k, nm in enumerate(names) if k not in keep]
        if not keep or names[0] not in [names[k] for k in keep]:
            raise AnalysisError("nobody at risk was ever exposed to this leader alone")
        return group, X[:, keep], n, y, [names[k] for k in keep]


def _periods(at: pd.Series, start: pd.Timestamp, period: pd.Timedelta) -> np.ndarray:
    t = pd.to_datetime(at, utc=True)
    return np.floor((t - start) / period).to_numpy(dtype=float)


def leader_exposure_ratios(ws: Workspace, leader_set: Sequence[str], members: Sequence[str], *,
                           window_start, window_end, behaviours=None,
                           exposure: Sequence[str] = DEFAULT_EXPOSURE_KINDS,
                           lag_days: float = 1.0, ties: pd.DataFrame | None = None,
                           uses: pd.DataFrame | None = None, entry: pd.DataFrame | None = None,
                           groups: dict[str, str] | None = None,
                           only: Sequence[str] | None = None,
                           min_exposed_events: int = MIN_EXPOSED_EVENTS,
                           min_behaviours: int | None = None,
                           confidence: float = 0.95) -> pd.DataFrame:
    """Per leader: the hazard ratio of taking up a behaviour the leader used, for members who
    could see the leader (and no other leader) use it against members who could see no leader.

    Parameters
    ----------
    leader_set : sequence of str
        Every leader (exposure to the others is the ``other_leader_exposure`` covariate).
    members : sequence of str
        The people who may be at risk (the members: the roster without the leaders).
    window_start, window_end : time
        The observation window; time is cut into periods of ``max(lag_days, 1)`` days.
    behaviours : spec, optional
        Behaviour specs (default ``top-hashtags:20``); a leader's model uses the ones the leader
        showed before the window end.
    exposure : sequence of str
        Exposure network kinds (:func:`~socialens.behaviours.exposure_ties`).
    lag_days : float
        Period length; a contact counts from the period after the one they adopted in.
    ties, uses : DataFrame, optional
        The exposure ties (``person_id, source_person_id, start_at``) and first uses
        (``person_id, behaviour, at``), when already read (default: from the workspace).
    entry : DataFrame, optional
        ``person_id, at``: when each member could first show the behaviour (on the platform);
        members without a row are never at risk. Default: for ``platform`` everyone from the
        window start; for behaviours shown in posts each member's adoption date
        (:func:`~socialens.analyses.common.adoption_dates`: their first personal account's
        creation, else their first post) — a member who is not on the platform cannot post a
        hashtag, and counting them unexposed would make any tie look like influence.
    groups : dict, optional
        ``{member: group}`` for the ``group_count`` control: ``log(1 + members of one's group
        who had shown the behaviour)`` (lagged, capped at 30): shocks a department shares and
        contagion through ties nobody observed. Default: the ``department`` of ``people``
        (when ``ws`` is given); ``{}`` for none.
    only : sequence of str, optional
        Fit these leaders only.
    min_exposed_events : int
        Fewer adoptions by members exposed to the leader alone give ``status`` "not enough data".
    min_behaviours : int, optional
        Fewer behaviours used by the leader give "not enough data". Default
        :data:`MIN_BEHAVIOURS` (3) for behaviours shown in posts, 1 for ``platform`` alone (one
        behaviour; its model-based interval is the calibrated one).

    Returns
    -------
    DataFrame
        ``person_id, n_behaviours, n_at_risk, n_adopted, n_adopted_exposed, n_exposed,
        hazard_ratio, ci_low, ci_high, p_value, other_leader_hr, peer_hr, peer_count_hr,
        group_count_hr, se_inflation, status, reason``.

    Notes
    -----
    Covariates, per member, behaviour and period, lagged one period: could see this leader use it
    and no other leader (the ratio reported); could see another leader use it; could see at least
    one peer use it; ``log(1 + peers seen)`` (peers capped at 30), so that both a threshold-like
    and a cascade-like (each peer one more chance) response to peers are absorbed; and
    ``group_count`` (above). One baseline per period and behaviour.

    Interval: the adoptions within one behaviour's cascade are not independent given what is
    observed (transmissions through ties nobody observed, within a period, from the official
    account), so with ``S >= 3`` behaviours the profile interval is widened by
    ``max(r_member, r_behaviour * sqrt(S / (S - 1)) * t_{S-1} / z)``, where ``r_member =
    max(1, se / se_model)`` of the sandwich clustered by member, ``r_behaviour = se / se_model`` of
    the sandwich clustered by behaviour (CR1: ``sqrt(S / (S - 1))``), and ``t_{S-1} / z`` refers
    the bound to Student's t with ``S - 1`` degrees of freedom, as few clusters need (Cameron &
    Miller 2015). With fewer behaviours (``min_behaviours=1``, e.g. ``platform``) the
    member-clustered widening alone is applied when ``S > 1``.
    """
    start, end = pd.Timestamp(to_time(window_start, "window_start")), pd.Timestamp(
        to_time(window_end, "window_end"))
    period = pd.Timedelta(days=max(float(lag_days), 1.0))
    T = int(np.ceil((end - start) / period))
    if T < 2:
        raise AnalysisError("the window holds fewer than two periods; widen it")
    if uses is None:
        uses = first_use(ws, behaviours).to_pandas()
    if ties is None:
        ties = exposure_ties(ws, list(exposure)).to_pandas()
    uses = uses.dropna(subset=["at"])
    lead = {str(x) for x in leader_set}
    members = [str(m) for m in members if str(m) not in lead]
    only_platform = bool((uses.behaviour == "platform").all())
    if min_behaviours is None:
        min_behaviours = 1 if only_platform else MIN_BEHAVIOURS
    if entry is None and ws is not None and not only_platform:
        from socialens.analyses.common import adoption_dates

        entry = adoption_dates(ws).rename(columns={"adopted_at": "at"})
    if entry is not None:
        e = entry.dropna(subset=["at"]).assign(person_id=entry.person_id.astype(str))
        e = dict(zip(e.person_id, _periods(e["at"], start, period), strict=True))
        entry_p = {m: max(int(e[m]), 0) for m in members if m in e and e[m] < T}
    else:
        entry_p = dict.fromkeys(members, 0)
    if groups is None and ws is not None:
        ppl = ws.table("people").select("person_id", "department").to_pandas()
        groups = {str(p): d for p, d in zip(ppl.person_id, ppl.department, strict=True)
                  if isinstance(d, str) and d}
    mpos = {m: k for k, m in enumerate(members)}
    # adoption period of every person and behaviour (-1 before the window, T not in it)
    up = uses.assign(person_id=uses.person_id.astype(str),
                     p=_periods(uses["at"], start, period)).sort_values("p")
    up = up.drop_duplicates(["behaviour", "person_id"])
    up["p"] = np.where(up.p < 0, -1, np.minimum(up.p, T)).astype(np.int64)
    adopt = {b: dict(zip(g.person_id, g.p, strict=True)) for b, g in up.groupby("behaviour")}
    t = ties.assign(person_id=ties.person_id.astype(str),
                    source_person_id=ties.source_person_id.astype(str))
    t = t[t.person_id.isin(mpos) & (t.person_id != t.source_person_id)]
    ts = _periods(t["start_at"], start, period) if "start_at" in t else np.zeros(len(t))
    t = t.assign(ts=np.where(np.isnan(ts), 0, np.maximum(ts, 0)).astype(np.int64))
    onsets = {}  # behaviour -> per member: (leader source -> onset, sorted peer onsets)
    rows = []
    for x in sorted(lead if only is None else [str(o) for o in only]):
        own = [b for b, a in adopt.items() if a.get(x, T) < T]
        row = {"person_id": x, "n_behaviours": len(own)}
        if not own:
            rows.append({**row, "status": NOT_ENOUGH,
                         "reason": "used none of the behaviours before the window end"})
            continue
        for b in own:
            if b not in onsets:
                onsets[b] = _onsets(adopt[b], t, members, mpos, lead, T)
        row.update(_fit_one(x, own, adopt, onsets, members, entry_p, T, min_exposed_events,
                            1 - confidence, groups, min_behaviours))
        rows.append(row)
    cols = ["person_id", "n_behaviours", "n_at_risk", "n_adopted", "n_adopted_exposed",
            "n_exposed", "hazard_ratio", "ci_low", "ci_high", "p_value", "other_leader_hr",
            "peer_hr", "peer_count_hr", "group_count_hr", "se_inflation", "status", "reason"]
    return pd.DataFrame(rows).reindex(columns=cols)


def _onsets(a: dict, t: pd.DataFrame, members, mpos, lead, T) -> list:
    """Per member: ``({leader: onset period}, sorted peer onset periods)`` of one behaviour (a
    contact counts from the period after the one they adopted in, once the tie exists)."""
    src_p = np.array([a.get(s, T) for s in t.source_person_id], dtype=np.int64)
    used = src_p < T
    on = np.maximum(t.ts.to_numpy(), src_p + 1)[used]
    who = t.person_id.map(mpos).to_numpy()[used]
    src = t.source_person_id.to_numpy()[used]
    is_l = np.isin(src, list(lead))
    out = [({}, []) for _ in members]
    for i, s, o, lf in zip(who, src, on, is_l, strict=True):
        if lf:
            out[i][0][s] = int(o)
        else:
            out[i][1].append(int(o))
    return [(d, sorted(p)) for d, p in out]


_CAP = 30  # peers (and department members) seen, pooled above


#: periods a peer's use counts as recent (a cascade passes a behaviour on within days)
RECENT_PERIODS = 7


def _code(lead_code: int, npeer: int, nrecent: int, ndept: int) -> int:
    return ((lead_code * (_CAP + 1) + npeer) * (_CAP + 1) + nrecent) * (_CAP + 1) + ndept


def _decode(code: np.ndarray) -> tuple[np.ndarray, ...]:
    c = _CAP + 1
    return code // c ** 3, (code // c ** 2) % c, (code // c) % c, code % c


def _fit_one(x, own, adopt, onsets, members, entry_p, T, min_events, alpha,
             groups: dict | None = None, min_behaviours: int = 1) -> dict:
    """Spells and cells of leader ``x``'s model over behaviours ``own``, and its fit."""
    S = len(own)
    n_risk = n_ev = n_ev_x = n_exp = 0
    inf = np.iinfo(np.int64).max
    spells: list[tuple[int, int, int, int, int]] = []  # member, stratum, pattern, lo, hi
    events: list[tuple[int, int, int, int]] = []  # member, stratum, pattern, period
    for s, b in enumerate(own):
        a = adopt[b]
        dept_on: dict = {}
        if groups:  # onsets of each group's members (a member's own never counts: see below)
            for m in members:
                if (g := groups.get(m)) is not None and a.get(m, T) < T:
                    dept_on.setdefault(g, []).append(a[m] + 1)
            dept_on = {g: np.sort(v) for g, v in dept_on.items()}
        for i, m in enumerate(members):
            e0 = entry_p.get(m)
            ai = a.get(m, T)
            if e0 is None or ai < 0:  # not on the platform, or used it before the window
                continue
            e0 = min(e0, ai)
            exit_ = ai + 1 if ai < T else T
            lead_on, peer_on = onsets[b][i]
            d_on = dept_on.get(groups.get(m)) if groups else None
            d_on = d_on if d_on is not None else np.zeros(0, np.int64)
            ex = lead_on.get(x, inf)
            eo = min((v for k, v in lead_on.items() if k != x), default=inf)
            ends = [v + RECENT_PERIODS for v in peer_on]
            cuts = sorted({e0, *(v for v in (ex, eo, *peer_on, *ends, *d_on.tolist())
                                 if e0 < v < exit_), exit_})
            n_risk += 1
            seen_x = False
            code = 0
            for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
                fx, fo = ex <= lo, eo <= lo
                npeer = int(np.searchsorted(peer_on, lo, side="right"))
                nrecent = min(npeer - int(np.searchsorted(ends, lo, side="right")), _CAP)
                npeer = min(npeer, _CAP)
                # own onset is ai + 1 > lo: never counted while at risk
                ndept = min(int(np.searchsorted(d_on, lo, side="right")), _CAP)
                code = _code(2 * int(fx and not fo) + int(fo), npeer, nrecent, ndept)
                spells.append((i, s, code, lo, hi))
                seen_x |= bool(fx and not fo)
            n_exp += seen_x
            if ai < T:
                events.append((i, s, code, ai))  # the last spell ends with the adoption period
                n_ev += 1
                n_ev_x += int(_decode(np.array(code))[0] == 2)
    out = {"n_at_risk": n_risk, "n_adopted": n_ev, "n_adopted_exposed": n_ev_x, "n_exposed": n_exp}
    if S < min_behaviours:
        return {**out, "status": NOT_ENOUGH,
                "reason": f"used {S} of the behaviours (at least {min_behaviours} needed: the "
                          "interval treats each behaviour's cascade as one independent unit)"}
    if n_ev_x < min_events:
        return {**out, "status": NOT_ENOUGH,
                "reason": f"{n_ev_x} adoptions by members who could see this leader alone "
                          f"(at least {min_events} needed)"}
    sp = np.asarray(spells, dtype=np.int64)
    ev = np.asarray(events, dtype=np.int64).reshape(-1, 4)
    keys, rows = np.unique(sp[:, 1] * 10**7 + sp[:, 2], return_inverse=True)
    rows = rows.ravel()
    ev_rows = np.searchsorted(keys, ev[:, 1] * 10**7 + ev[:, 2])
    R = len(keys)
    N = np.zeros((R, T + 1))  # at-risk counts by (stratum, pattern) and period
    np.add.at(N, (rows, sp[:, 3]), 1.0)
    np.add.at(N, (rows, sp[:, 4]), -1.0)
    N = np.cumsum(N, axis=1)[:, :T]
    Y = np.zeros((R, T))
    np.add.at(Y, (ev_rows, ev[:, 3]), 1.0)
    r_i, t_i = np.nonzero(N > 0.5)
    s_i, c_i = keys[r_i] // 10**7, keys[r_i] % 10**7
    n, y = N[r_i, t_i], Y[r_i, t_i]
    g = s_i * T + t_i
    has = np.zeros(S * T)
    np.add.at(has, g, y)
    keep = has[g] > 0  # baseline groups without adoptions drop out
    group = np.unique(g[keep], return_inverse=True)[1].ravel()
    lead_code, npeer, nrecent, ndept = _decode(c_i[keep])
    X = np.column_stack([lead_code == 2, lead_code == 1, npeer > 0, np.log1p(npeer),
                         np.log1p(nrecent), np.log1p(ndept)]).astype(float)
    model = _CellHazard((group, X, n[keep], y[keep], list(_COVARIATES)), n_risk, n_ev, alpha)
    try:
        with np.errstate(over="ignore"):  # an unbounded profile gives exp(±inf)
            model.fit(None)
    except (AnalysisError, np.linalg.LinAlgError, ValueError) as exc:
        return {**out, "status": NOT_ENOUGH, "reason": f"model not fitted: {exc}"}
    hr, lo, hi = model.interval("leader_exposure")
    sm = model.summary_.set_index("covariate")
    # members appear in every behaviour's stratum, and the adoptions within one behaviour's
    # cascade depend on each other beyond the observed exposures: widen the profile interval by
    # the larger of the member-clustered and the behaviour-clustered (small-sample t) ratio
    inflation = 1.0
    if S > 1 and np.isfinite(lo) and np.isfinite(hi) and lo > 0:
        cells_at = (r_i[keep], t_i[keep])
        with np.errstate(all="ignore"):  # exp(mu) overflows in groups of certain adoption
            inflation = _cluster_inflation(model, group, X, n[keep], cells_at, rows, sp,
                                           ev_rows, ev, R, T, sp[:, 0], ev[:, 0])
            if S >= 3:
                by_b = _cluster_inflation(model, group, X, n[keep], cells_at, rows, sp,
                                          ev_rows, ev, R, T, sp[:, 1], ev[:, 1], floor=False)
                q = stats.t.ppf(1 - alpha / 2, S - 1) / stats.norm.ppf(1 - alpha / 2)
                inflation = max(inflation, by_b * np.sqrt(S / (S - 1)) * q)
        b0 = np.log(hr)
        with np.errstate(over="ignore"):  # a widened bound beyond e^709 is unbounded
            lo = float(np.exp(b0 - (b0 - np.log(lo)) * inflation))
            hi = float(np.exp(b0 + (np.log(hi) - b0) * inflation))
    out["se_inflation"] = inflation
    out.update(hazard_ratio=hr, ci_low=lo, ci_high=hi,
               p_value=float(sm.p_value.get("leader_exposure", np.nan)),
               other_leader_hr=float(sm.hazard_ratio.get("other_leader_exposure", np.nan)),
               peer_hr=float(sm.hazard_ratio.get("peer_exposure", np.nan)),
               peer_count_hr=float(sm.hazard_ratio.get("peer_count", np.nan)),
               group_count_hr=float(sm.hazard_ratio.get("group_count", np.nan)))
    if not (np.isfinite(lo) and np.isfinite(hi) and lo > 0):
        return {**out, "status": NOT_ENOUGH,
                "reason": "the data cannot bound the ratio (open-ended interval)"}
    if not model.converged_:
        return {**out, "status": NOT_ENOUGH, "reason": "the model did not converge"}
    return {**out, "status": "ok", "reason": None}


def _cluster_inflation(model, group, X, n, cell_at, rows, sp, ev_rows, ev, R, T, spell_cluster,
                       event_cluster, floor: bool = True) -> float:
    """``max(1, se_cluster / se_model)`` (``se_cluster / se_model`` without ``floor``) of the
    leader coefficient: the sandwich variance with
    the score summed within each cluster (``spell_cluster``/``event_cluster``: the cluster of each
    spell and event; the member: over their person-periods in every behaviour, Lin & Wei 1989;
    the behaviour: over everyone's person-periods of that behaviour), the baseline parameters
    profiled out through the within-group weighted mean of the covariates.
    """
    names = list(model.summary_.covariate)
    Xk = X[:, [_COVARIATES.index(nm) for nm in names]]
    beta = model.summary_.coef.to_numpy(float)
    mu = np.exp(np.clip(model._a[group] + Xk @ beta, -200, 30))
    em1 = np.expm1(mu)
    w = n * mu * mu / em1
    G = int(group.max()) + 1
    sw = np.bincount(group, weights=w, minlength=G) + 1e-300
    k = Xk.shape[1]
    xbar = np.column_stack([np.bincount(group, weights=w * Xk[:, j], minlength=G) / sw
                            for j in range(k)])
    dx = Xk - xbar[group]
    u0, u1 = -mu, mu / em1  # scores of a person-period without and with an event
    r_c, t_c = cell_at
    C0 = np.zeros((R, T + 1, k))  # prefix sums over time of the non-event scores
    C0[r_c, t_c + 1] = u0[:, None] * dx
    np.cumsum(C0, axis=1, out=C0)
    A1 = np.zeros((R, T, k))
    A1[r_c, t_c] = (u1 - u0)[:, None] * dx
    n_cl = int(max(spell_cluster.max(), event_cluster.max() if len(ev) else 0)) + 1
    score = np.zeros((n_cl, k))
    np.add.at(score, spell_cluster, C0[rows, sp[:, 4]] - C0[rows, sp[:, 3]])
    if len(ev):
        np.add.at(score, event_cluster, A1[ev_rows, ev[:, 3]])
    info = (Xk * w[:, None]).T @ dx  # the information with the baselines eliminated
    try:
        inv = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return 1.0
    robust = inv @ (score.T @ score) @ inv
    j = names.index("leader_exposure")
    se_model, se_rob = np.sqrt(inv[j, j]), np.sqrt(max(robust[j, j], 0.0))
    if not (np.isfinite(se_model) and np.isfinite(se_rob)) or se_model <= 0:
        return 1.0
    return float(max(1.0, se_rob / se_model)) if floor else float(se_rob / se_model)


# ---------------------------------------------------------------------- composition
def _row(df: pd.DataFrame | None, col: str, pid: str) -> pd.Series | None:
    if df is None or df.empty or col not in df:
        return None
    hit = df[df[col].astype(str) == pid]
    return None if hit.empty else hit.iloc[0]


def _f(v) -> float | None:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(v) else v


def _median_members(df: pd.DataFrame, col: str) -> float | None:
    if df is None or df.empty or col not in df or "leader" not in df:
        return None
    v = pd.to_numeric(df.loc[~df.leader.fillna(False).astype(bool), col], errors="coerce").dropna()
    return float(v.median()) if len(v) else None


def _group_value(df: pd.DataFrame | None, group: str, col: str) -> float | None:
    if df is None or df.empty or "group" not in df:
        return None
    hit = df[df.group == group]
    return _f(hit.iloc[0][col]) if len(hit) and col in hit else None


def _component_rows(pid: str, results: dict[str, Result], unavailable: dict[str, str],
                    min_posts: int) -> list[dict]:
    """The card's rows for one leader: one per measure, each with its source table."""
    rows: list[dict] = []

    def add(component, measure, source, value=None, *, ci=(None, None), rank=None, of=None,
            compared_with=None, compared_label=None, detail=None, status="ok"):
        rows.append({"component": component, "measure": measure, "value": _f(value),
                     "ci_low": _f(ci[0]), "ci_high": _f(ci[1]), "rank": _f(rank), "of": _f(of),
                     "compared_with": _f(compared_with), "compared_label": compared_label,
                     "detail": detail, "status": status, "source": source})

    def missing(component, measure, source, reason):
        add(component, measure, source, status=NOT_ENOUGH, detail=reason)

    def unavailable_reason(name):
        return (f"{name} not available: {unavailable[name]}" if name in unavailable
                else f"{name} was not run")

    # adoption
    r = results.get("adoption")
    if r is None:
        missing("adoption", "adoption rank", "adoption", unavailable_reason("adoption"))
    else:
        t = r.tables.get("adopters")
        hit = _row(t, "person_id", pid)
        if hit is None or _f(hit.get("adoption_rank")) is None:
            missing("adoption", "adoption rank", "adoption.adopters",
                    "no adoption date (no personal account with a creation date or post)")
        else:
            add("adoption", "adoption rank", "adoption.adopters", hit.adoption_rank,
                rank=hit.adoption_rank, of=t.adoption_rank.notna().sum(),
                detail=f"on social media since {readable(hit.adopted_at)}")
    # activity
    r = results.get("activity")
    if r is None:
        missing("activity", "posts per week", "activity", unavailable_reason("activity"))
    else:
        done = False
        for tab, col in (("window_rates", "posts_per_week"),
                         ("lifetime_rates", "lifetime_posts_per_week")):
            t = r.tables.get(tab)
            hit = _row(t, "person_id", pid)
            if hit is not None and _f(hit.get(col)) is not None:
                add("activity", "posts per week" if tab == "window_rates"
                    else "posts per week over the account's life", f"activity.{tab}", hit[col],
                    rank=hit.get("rank"), of=len(t),
                    compared_with=_median_members(t, col), compared_label="members' median",
                    detail=(f"{readable(hit.get('n_posts'))} posts in the window"
                            if tab == "window_rates" else None))
                done = True
                break
        if not done:
            missing("activity", "posts per week", "activity.window_rates",
                    "no posts collected in the window (or observed for too short a time)")
    # directory
    r = results.get("directory")
    if r is None:
        missing("directory", "external followers", "directory", unavailable_reason("directory"))
    else:
        t = r.tables.get("ranking")
        hit = _row(t, "person_id", pid)
        if hit is None or _f(hit.get("followers")) is None:
            missing("directory", "external followers", "directory.ranking",
                    "no follower count at the snapshot")
        else:
            add("directory", "external followers", "directory.ranking", hit.followers,
                rank=hit.get("rank"), of=t["rank"].notna().sum(),
                compared_with=_median_members(t, "followers"), compared_label="members' median",
                detail=f"snapshot {readable(r.params.get('snapshot'))}")
    # reach
    r = results.get("reach")
    if r is None:
        missing("reach", "internal coverage", "reach", unavailable_reason("reach"))
    else:
        t = r.tables.get("leaders")
        hit = _row(t, "person_id", pid)
        if hit is None or _f(hit.get("share_1hop")) is None:
            missing("reach", "internal coverage", "reach.leaders",
                    "not a leader in the network analysed (or no ties to them)")
        else:
            add("reach", "share of members who pay them attention directly", "reach.leaders",
                hit.share_1hop, detail=f"{readable(hit.get('reach_1hop'))} members")
            if _f(hit.get("share_2hop")) is not None:
                add("reach", "share of members within two steps", "reach.leaders",
                    hit.share_2hop, detail=f"{readable(hit.get('reach_2hop'))} members")
    # tone
    r = results.get("tone")
    if r is None:
        missing("tone", "mean tone", "tone", unavailable_reason("tone"))
    else:
        t = r.tables.get("people")
        hit = _row(t, "person_id", pid)
        n = _f(hit.get("n_posts")) if hit is not None else None
        if hit is None or n is None or n < min_posts or _f(hit.get("mean_tone")) is None:
            missing("tone", "mean tone", "tone.people",
                    f"{int(n or 0)} enriched posts (at least {min_posts} needed)")
        else:
            prof = r.tables.get("profiles")
            add("tone", "mean tone (VADER compound, −1 to +1)", "tone.people", hit.mean_tone,
                compared_with=_group_value(prof, "members", "mean_tone"),
                compared_label="members (tone.profiles)",
                detail=f"{readable(n)} posts")
            add("tone", "share of positive posts", "tone.people", hit.share_positive,
                compared_with=_group_value(prof, "members", "share_positive"),
                compared_label="members (tone.profiles)")
            add("tone", "share of negative posts", "tone.people", hit.share_negative,
                compared_with=_group_value(prof, "members", "share_negative"),
                compared_label="members (tone.profiles)")
    # sharing
    r = results.get("sharing")
    if r is None:
        missing("sharing", "share of personal posts", "sharing", unavailable_reason("sharing"))
    else:
        t = r.tables.get("people")
        hit = _row(t, "person_id", pid)
        n = _f(hit.get("n_posts")) if hit is not None else None
        if hit is None or n is None or n < min_posts or _f(hit.get("personal_share")) is None:
            missing("sharing", "share of personal posts", "sharing.people",
                    f"{int(n or 0)} classified posts (at least {min_posts} needed)")
        else:
            add("sharing", "share of personal posts", "sharing.people", hit.personal_share,
                compared_with=_group_value(r.tables.get("mix"), "members", "personal_share"),
                compared_label="members (sharing.mix)", detail=f"{readable(n)} posts")
    # coordination
    r = results.get("coordination")
    if r is None:
        missing("coordination", "coordination received", "coordination",
                unavailable_reason("coordination"))
    else:
        t = r.tables.get("leaders_as_targets")
        sub = (t[t.target.astype(str) == pid] if t is not None and not t.empty and "target" in t
               else pd.DataFrame())
        sub = sub[pd.to_numeric(sub.get("score"), errors="coerce").notna()] if len(sub) else sub
        if sub.empty:
            missing("coordination", "coordination received", "coordination.leaders_as_targets",
                    "too few member replies to them for any style marker")
        else:
            add("coordination", "coordination received (mean over style markers, "
                "percentage points)", "coordination.leaders_as_targets",
                100 * float(sub.score.mean()), of=len(sub),
                detail=f"{len(sub)} markers scored, {readable(int(sub.n.max()))} replies")
    # contagion: behaviours started
    r = results.get("contagion")
    if r is None:
        missing("contagion", "behaviours started", "contagion", unavailable_reason("contagion"))
    else:
        t = r.tables.get("behaviours")
        n_started = 0
        if t is not None and not t.empty:
            n_started = int(((t.person_id.astype(str) == pid) & ~t.tied.fillna(False)).sum())
        add("contagion", "behaviours started (first user in the organization)",
            "contagion.behaviours", n_started, of=0 if t is None else len(t))
    return rows


def _started(pid: str, results: dict[str, Result], members: set[str]) -> list[dict]:
    """The behaviours ``pid`` used first, and the share of members who took each up after."""
    r = results.get("contagion")
    if r is None:
        return []
    t, seq = r.tables.get("behaviours"), r.tables.get("first_users")
    if t is None or t.empty:
        return []
    own = t[(t.person_id.astype(str) == pid) & ~t.tied.fillna(False)]
    out = []
    for b in own.itertuples(index=False):
        after = seq[(seq.behaviour == b.behaviour) & (seq["at"] > b.first_at)
                    & seq.person_id.astype(str).isin(members)] if seq is not None else seq
        n_after = 0 if after is None else int(after.person_id.nunique())
        out.append({"person_id": pid, "behaviour": b.behaviour, "first_at": b.first_at,
                    "adopters": int(b.adopters), "members_after": n_after,
                    "n_members": len(members),
                    "share_after": n_after / len(members) if members else None,
                    "source": "contagion.behaviours, contagion.first_users"})
    return out


@analysis_function
def leaders(
    ws: Workspace,
    *,
    leaders: str = "is_leader",
    as_of=None,
    window_start=None,
    window_end=None,
    snapshot=None,
    platform: str | None = None,
    account_filter: str | None = None,
    behaviours=None,
    exposure: tuple[str, ...] = DEFAULT_EXPOSURE_KINDS,
    lag_days: float = 1.0,
    min_posts: int = 3,
    seed: int = 0,
) -> Result:
    """A report card per leader: adoption rank, posting rate, followers, internal coverage, tone,
    personal sharing, coordination received, behaviours started and how members took them up.

    Parameters
    ----------
    leaders : str
        Leader rule (``is_leader``, ``level<=1``, ``ids:a,b``).
    as_of : time, optional
        When roles are read (default: ``window_end``, else the last post).
    window_start, window_end : time, optional
        Observation window of posts and behaviours (default: the first and last post).
    snapshot, platform, account_filter
        As for ``directory``, ``adoption`` and ``activity``.
    behaviours : spec, optional
        Behaviours followed (default ``top-hashtags:20``, as ``contagion``).
    exposure : tuple of str
        Exposure network kinds (as ``contagion``).
    lag_days : float
        Period of the exposure-ratio model (days, at least 1).
    min_posts : int
        Fewest posts for a person's tone and personal share to be shown.
    seed : int
        Seed of the component analyses' resampling.

    The component analyses are run with these parameters (each gets the ones it takes); to
    reuse results already computed, call :func:`leader_cards`.
    """
    from socialens.analyses import run_all

    shared = {"leaders": leaders, "as_of": as_of, "window_start": window_start,
              "window_end": window_end, "snapshot": snapshot, "platform": platform,
              "account_filter": account_filter, "behaviours": behaviours, "seed": seed}
    unavailable: dict[str, str] = {}
    results = run_all(ws, list(COMPONENTS), unavailable=unavailable,
                      **{k: v for k, v in shared.items() if v is not None},
                      **({"exposure": tuple(exposure)}
                         if exposure and tuple(exposure) != DEFAULT_EXPOSURE_KINDS else {}))
    return leader_cards(ws, results, unavailable=unavailable, leaders=leaders, as_of=as_of,
                        window_start=window_start, window_end=window_end, behaviours=behaviours,
                        exposure=exposure, lag_days=lag_days, min_posts=min_posts,
                        snapshot=snapshot, platform=platform, account_filter=account_filter,
                        seed=seed)


def leader_cards(ws: Workspace, results: dict[str, Result], *,
                 unavailable: dict[str, str] | None = None, leaders: str = "is_leader",
                 as_of=None, window_start=None, window_end=None, behaviours=None,
                 exposure: tuple[str, ...] = DEFAULT_EXPOSURE_KINDS, lag_days: float = 1.0,
                 min_posts: int = 3, **_ignored) -> LeaderCards:
    """The report card Result from component ``results`` already computed (``{name: Result}``,
    e.g. from :func:`~socialens.analyses.run_all`); ``unavailable`` gives the reasons of
    components that could not run. ``ws`` should be the same (restricted) workspace."""
    unavailable = dict(unavailable or {})
    t0, t1 = to_time(window_start, "window_start"), to_time(window_end, "window_end")
    first, last = post_time_range(ws)
    start = t0 or first
    end = t1 or (None if last is None else
                 (pd.Timestamp(last) + pd.Timedelta(seconds=1)).to_pydatetime())
    at = to_time(as_of, "as_of") or t1 or last
    if at is None:
        raise AnalysisError("no time to read the roles at: the workspace has no posts; give "
                            "--as-of")
    roster = roster_at(ws, at)
    if roster.empty:
        raise AnalysisError(f"nobody holds a role at {at.isoformat()}; choose another --as-of")
    roster["leader"] = select_leaders(roster, leaders).to_numpy()
    roster["person_id"] = roster.person_id.astype(str)
    lead = roster[roster.leader].sort_values(["level", "person_id"], na_position="last")
    if lead.empty:
        raise AnalysisError(f"no leader under the rule {leaders!r} at {at.date()}; choose "
                            "another --leaders or --as-of")
    members = set(roster.person_id[~roster.leader])
    # the exposure ratio
    ratios = pd.DataFrame({"person_id": lead.person_id})
    ratio_note = None
    if start is not None and end is not None and end > start:
        try:
            ratios = leader_exposure_ratios(
                ws, list(lead.person_id), sorted(members), window_start=start, window_end=end,
                behaviours=behaviours, exposure=exposure, lag_days=lag_days)
        except AnalysisError as exc:
            ratio_note = str(exc)
    else:
        ratio_note = "no observation window (no posts)"
    if "status" not in ratios:
        ratios = ratios.assign(status=NOT_ENOUGH, reason=ratio_note)
    comp, started, cards = [], [], []
    what = _behaviour_word(behaviours, results)
    for p in lead.itertuples(index=False):
        pid = str(p.person_id)
        rows = _component_rows(pid, results, unavailable, min_posts)
        rr = _row(ratios, "person_id", pid)
        ok = rr is not None and rr.get("status") == "ok"
        rows.append({"component": "exposure ratio",
                     "measure": f"how much faster members who could see them take up {what} "
                                "they used (hazard ratio)",
                     "value": _f(rr.get("hazard_ratio")) if ok else None,
                     "ci_low": _f(rr.get("ci_low")) if ok else None,
                     "ci_high": _f(rr.get("ci_high")) if ok else None, "rank": None, "of": None,
                     "compared_with": 1.0 if ok else None,
                     "compared_label": "members who could see no leader use it" if ok else None,
                     "detail": ((f"{int(rr.n_adopted_exposed)} of {int(rr.n_adopted)} adoptions "
                                 f"by members who could see them alone; {int(rr.n_behaviours)} "
                                 f"{what}" + ("" if what in RATIO_IN_SUMMARY else
                                              "; not calibrated for this kind of behaviour "
                                              "(notes)")) if ok else
                                (rr.get("reason") if rr is not None else ratio_note)),
                     "status": "ok" if ok else NOT_ENOUGH, "source": "leaders.exposure_ratios"})
        for r in rows:
            r.update(person_id=pid, name=p.name)
        comp += rows
        st = _started(pid, results, members)
        started += st
        cards.append({"person_id": pid, "name": p.name, "title": p.title,
                      "level": _f(p.level), "anchor": card_anchor(pid),
                      "summary": _summary(p.name, rows, st, what, what in RATIO_IN_SUMMARY)})
    components = pd.DataFrame(comp)[["person_id", "name", "component", "measure", "value",
                                     "ci_low", "ci_high", "rank", "of", "compared_with",
                                     "compared_label", "detail", "status", "source"]]
    started_df = pd.DataFrame(started, columns=["person_id", "behaviour", "first_at",
                                                "adopters", "members_after", "n_members",
                                                "share_after", "source"])
    card_df = pd.DataFrame(cards)
    wide = _wide(card_df, components)
    n_ok = int((components.status == "ok").sum())
    n_missing = int((components.status != "ok").sum())
    n_ratio = int((ratios.get("status") == "ok").sum()) if "status" in ratios else 0
    summary = {
        "n_leaders": len(card_df), "n_members": len(members),
        "n_components_shown": n_ok, "n_components_not_enough_data": n_missing,
        "n_exposure_ratios": n_ratio, "ratio_in_summary": what in RATIO_IN_SUMMARY,
        "components_not_available": unavailable,
        "leaders": [{"person_id": c["person_id"], "name": c["name"], "summary": c["summary"]}
                    for c in cards],
    }
    params = {"leaders": leaders, "as_of": at, "window_start": start, "window_end": end,
              "behaviours": behaviours or "top-hashtags:20", "exposure": list(exposure),
              "lag_days": max(float(lag_days), 1.0), "min_posts": min_posts,
              "components": {n: results[n].params for n in COMPONENTS if n in results}}
    notes = [
        "Every number on a card is a row of another analysis (column source: analysis.table); "
        "'not enough data' means the workspace cannot give that number for this leader, with "
        "the reason beside it.",
        "Exposure ratio: discrete-time proportional-hazards model (grouped-time Cox, one "
        "baseline per period and behaviour) of members taking up each behaviour the leader used, "
        "with three lagged exposure indicators — could see this leader use it (and no other "
        "leader), could see another leader use it, could see a peer use it; the ratio is the "
        "first, with a 95 % profile-likelihood interval. It is association in time along the "
        "network, not proof of influence (shared interests also make it exceed 1). Coverage on "
        "simulated organizations: EVALUATION.md (Leader report card); docs/methods.md.",
    ]
    if ratio_note:
        notes.append(f"exposure ratios not estimated: {ratio_note}")
    if what not in RATIO_IN_SUMMARY:
        notes.append(RATIO_WARNING)
    headline = (f"Report cards for {len(card_df)} leaders: {n_ok} numbers shown, {n_missing} "
                f"marked '{NOT_ENOUGH}'" + (f"; exposure ratio estimated for {n_ratio}" if n_ratio
                                            else "") + ".")
    return LeaderCards(
        name="leaders", title="Leader report cards", params=params, summary=summary,
        tables={"cards": wide, "components": components, "behaviours_started": started_df,
                "exposure_ratios": ratios.merge(lead[["person_id", "name"]], on="person_id",
                                                how="left")},
        headline=headline, notes=notes)


def _behaviour_word(behaviours, results) -> str:
    spec = behaviours
    if spec is None and "contagion" in results:
        spec = results["contagion"].params.get("behaviours")
    s = " ".join(spec) if isinstance(spec, list | tuple) else str(spec or "top-hashtags")
    if s.strip() == "platform":
        return "platform"
    return "hashtags" if all("hashtag" in p for p in s.split()) else "behaviours"


def _wide(cards: pd.DataFrame, comp: pd.DataFrame) -> pd.DataFrame:
    """One row per leader: the headline value of each component (NaN: not enough data)."""
    pick = {"adoption rank": "adoption_rank", "posts per week": "posts_per_week",
            "external followers": "followers",
            "share of members who pay them attention directly": "internal_coverage",
            "mean tone (VADER compound, −1 to +1)": "mean_tone",
            "share of personal posts": "personal_share",
            "behaviours started (first user in the organization)": "behaviours_started"}
    out = cards[["person_id", "name", "title", "level"]].copy()
    for measure, col in pick.items():
        sub = comp[(comp.measure == measure) & (comp.status == "ok")]
        out[col] = out.person_id.map(dict(zip(sub.person_id, sub.value, strict=True)))
    coord = comp[comp.component.eq("coordination") & comp.status.eq("ok")]
    out["coordination_received"] = out.person_id.map(dict(zip(coord.person_id, coord.value,
                                                              strict=True)))
    ratio = comp[comp.component.eq("exposure ratio") & comp.status.eq("ok")]
    for col in ("value", "ci_low", "ci_high"):
        out["exposure_ratio" + ("" if col == "value" else "_" + col)] = out.person_id.map(
            dict(zip(ratio.person_id, ratio[col], strict=True)))
    out["summary"] = cards.summary
    return out


def _ord(n: float) -> str:
    n = int(n)
    suf = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suf}"


def _pct(v: float) -> str:
    return f"{100 * v:.0f} %"


def _summary(name: str, rows: list[dict], started: list[dict], what: str,
             quote_ratio: bool) -> str:
    """A few plain sentences from the card's rows (only rows with status ok are quoted)."""
    by = {r["measure"]: r for r in rows if r["status"] == "ok"}
    parts = []
    if (r := by.get("adoption rank")) is not None:
        parts.append(f"joined social media {_ord(r['rank'])} of {int(r['of']):,}")
    r = by.get("posts per week") or by.get("posts per week over the account's life")
    if r is not None:
        rank = f", {_ord(r['rank'])} of {int(r['of']):,}" if r["rank"] is not None else ""
        parts.append(f"posts {r['value']:.1f} times a week{rank}")
    if (r := by.get("external followers")) is not None:
        rank = f" ({_ord(r['rank'])} of {int(r['of']):,})" if r["rank"] is not None else ""
        parts.append(f"has {int(r['value']):,} followers{rank}")
    if (r := by.get("share of members who pay them attention directly")) is not None:
        parts.append(f"{_pct(r['value'])} of members pay them attention directly")
    s = [f"{name}: " + "; ".join(parts) + "." if parts else
         f"{name}: {NOT_ENOUGH} on adoption, posting, followers and reach."]
    tone = by.get("mean tone (VADER compound, −1 to +1)")
    pers = by.get("share of personal posts")
    bits = []
    if tone is not None:
        cmp = (f" (members {tone['compared_with']:+.2f})" if tone["compared_with"] is not None
               else "")
        bits.append(f"their tone averages {tone['value']:+.2f}{cmp}")
    if pers is not None:
        cmp = f" (members {_pct(pers['compared_with'])})" if pers["compared_with"] is not None else ""
        bits.append(f"{_pct(pers['value'])} of their posts are personal{cmp}")
    if bits:
        s.append(bits[0][0].upper() + "; ".join(bits)[1:] + ".")
    started_row = by.get("behaviours started (first user in the organization)")
    if started_row is not None and not started:
        s.append(f"They were the first user of none of the {int(started_row['of'])} {what} "
                 "followed.")
    if started:
        best = max(started, key=lambda b: (b["share_after"] or 0))
        label = best["behaviour"].split(":", 1)[-1]
        s.append(f"They were first in the organization with {len(started)} of the {what} "
                 f"followed; {label} was taken up after them by {best['members_after']} of "
                 f"{best['n_members']} members ({_pct(best['share_after'] or 0)}).")
    ratio = next((r for r in rows if r["component"] == "exposure ratio"), None)
    if ratio is not None and ratio["status"] == "ok" and quote_ratio:
        ci = f"{ratio['value']:.1f}× ({ratio['ci_low']:.1f}–{ratio['ci_high']:.1f})"
        s.append(f"Members who could see them (and no other leader) on the platform joined it {ci}"
                 " as fast as members who could see no leader there." if what == "platform" else
                 f"Members who could see them (and no other leader) use one of their {what} "
                 f"took it up {ci} as fast as members who could see no leader use it.")
    elif ratio is not None and ratio["status"] == "ok":
        s.append(f"How much faster members who can see them take up their {what} is not quoted "
                 "here: it is not calibrated for them (see the table's notes).")
    elif ratio is not None:
        s.append(f"Whether members who can see them take up their {what} faster: {NOT_ENOUGH}.")
    return " ".join(s)


# ---------------------------------------------------------------------- rendering
def _value_text(r: dict) -> str:
    if r["status"] != "ok" or r["value"] is None:
        return NOT_ENOUGH
    v, m = r["value"], r["measure"]
    if "share" in m:
        text = _pct(v)
    elif "rank" in m:
        text = f"{_ord(v)} of {int(r['of']):,}" if r["of"] else _ord(v)
    elif "tone" in m:
        text = f"{v:+.2f}"
    elif "hazard ratio" in m:
        text = f"{v:.2f}×"
    elif "percentage points" in m:
        text = f"{v:+.1f}"
    elif float(v).is_integer():
        text = f"{int(v):,}"
    else:
        text = f"{v:.2f}"
    if r["ci_low"] is not None and r["ci_high"] is not None:
        text += f" (95 % interval {r['ci_low']:.2f}–{r['ci_high']:.2f})"
    if r["rank"] is not None and "rank" not in m:
        text += f", rank {_ord(r['rank'])} of {int(r['of']):,}" if r["of"] else ""
    return text


def _compare_text(r: dict) -> str:
    if r["status"] != "ok" or r["compared_with"] is None:
        return ""
    v, m = r["compared_with"], r["measure"]
    text = (_pct(v) if "share" in m else f"{v:+.2f}" if "tone" in m
            else f"{v:.2f}" if "hazard" in m or v < 100 else f"{v:,.0f}")
    return f"{r['compared_label']}: {text}"


class LeaderCards(Result):
    """The ``leaders`` Result: renders one anchored card per leader before the tables."""

    def card_html(self, person_id: str, *, heading: str = "h3") -> Markup | None:
        """One leader's card (an ``<article>``), every value escaped; None when not a leader
        here."""
        cards = self.tables.get("cards")
        if cards is None or cards.empty:
            return None
        hit = cards[cards.person_id.astype(str) == str(person_id)]
        if hit.empty:
            return None
        c = hit.iloc[0]
        comp = self.tables["components"]
        rows = comp[comp.person_id.astype(str) == str(person_id)].to_dict("records")
        anchor = card_anchor(person_id)
        out = [f'<article class="leader-card" id="{escape(anchor)}" '
               f'aria-labelledby="{escape(anchor)}-h">',
               f'<{heading} id="{escape(anchor)}-h">{escape(c["name"])}'
               + (f' <span class="muted">{escape(c["title"])}</span>'
                  if isinstance(c["title"], str) and c["title"] else "") + f"</{heading}>",
               f'<p class="card-summary">{escape(c["summary"])}</p>',
               '<div class="table-wrap"><table class="card"><thead><tr><th scope="col">What'
               '</th><th scope="col">Value</th><th scope="col">Compared with</th>'
               '<th scope="col">From</th></tr></thead><tbody>']
        for r in rows:
            r = {k: (None if not isinstance(v, str) and pd.isna(v) else v) for k, v in r.items()}
            cls = ' class="unknown"' if r["status"] != "ok" else ""
            detail = (f'<br><span class="muted">{escape(r["detail"])}</span>'
                      if r.get("detail") else "")
            cmp = _compare_text(r)
            out.append(f'<tr><th scope="row">{escape(r["measure"])}</th>'
                       f'<td data-label="Value"{cls}>{escape(_value_text(r))}{detail}</td>'
                       f'<td data-label="Compared with">{escape(cmp)}</td>'
                       f'<td data-label="From"><code>{escape(r["source"])}</code></td></tr>')
        out.append("</tbody></table></div>")
        st = self.tables["behaviours_started"]
        st = st[st.person_id.astype(str) == str(person_id)]
        if len(st):
            out.append('<div class="table-wrap"><table class="card-behaviours"><caption>'
                       'Behaviours they used first, and how far each spread</caption><thead><tr>'
                       '<th scope="col">Behaviour</th><th scope="col">First used</th>'
                       '<th scope="col">Members who took it up after them</th></tr></thead>'
                       "<tbody>")
            for b in st.itertuples(index=False):
                share = _pct(b.share_after) if b.share_after is not None else NOT_ENOUGH
                out.append(f"<tr><td>{escape(b.behaviour)}</td>"
                           f"<td>{escape(readable(b.first_at))}</td>"
                           f"<td>{escape(f'{b.members_after} of {b.n_members} ({share})')}</td>"
                           "</tr>")
            out.append("</tbody></table></div>")
        out.append("</article>")
        return Markup("\n".join(out))

    def cards_html(self) -> Markup:
        """Every card, after a list of links to them."""
        cards = self.tables.get("cards")
        if cards is None or cards.empty:
            return Markup("")
        links = "".join(f'<li><a href="#{escape(card_anchor(p))}">{escape(n)}</a></li>'
                        for p, n in zip(cards.person_id, cards.name, strict=True))
        body = "\n".join(str(self.card_html(p)) for p in cards.person_id)
        return Markup(f'<nav class="leader-cards" aria-label="Leader report cards"><ul>{links}'
                      f"</ul></nav>\n{body}")

    def to_html(self, *, figures: bool = True, max_rows: int = 50) -> str:
        base = super().to_html(figures=figures, max_rows=max_rows)
        head, sep, rest = base.partition("</p>")  # after the (escaped) headline
        return head + sep + "\n" + str(self.cards_html()) + rest


leaders.from_results = leader_cards
