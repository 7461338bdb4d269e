"""Model or delegate? Uptake of behaviours a leader starts herself vs. those an official or
delegate account starts.

For each behaviour (by default every hashtag whose **first use in the organization** is a post of
a leader's personal account, of an official account or of a delegate account — the *campaign
hashtags*; or the hashtags and topics given with ``behaviours``) the **seeder** is the account of
that first use, and its **seeder kind** is

* ``leader``: a personal account of a person who is a leader (at ``as_of``);
* ``official`` / ``delegate``: an account of that kind (``accounts.kind``, set in the roster);
* ``member``: a personal account of someone else (listed, never compared).

The **members at risk** of a behaviour are the people with a personal account who were on the
platform at its first use ``t0`` (joined, as the ``platform`` behaviour dates joining: the
earliest account creation, else the first record post), except the seeder's owner. A member
**takes it up** when their first use (a record post of a personal account,
:func:`socialens.behaviours.first_use`) falls in ``(t0, t0 + horizon]``. Per behaviour:

* ``uptake_share`` = adopters within the horizon / members at risk;
* ``adopters`` (reach within the organization) and ``days_to_first_echo`` (the first adopter).

**The estimand** (``delta``): the difference in mean uptake share, leader-seeded minus delegated
(official or delegate), *within matched strata*: behaviours are grouped by the calendar period of
their first use (``period``: quarter by default); strata with at least one behaviour of each arm
are kept and weighted by their number of behaviours,
``delta = sum_s w_s (mean_L,s - mean_D,s)``, ``w_s = n_s / sum n_s``. The behaviour is the unit of
replication. The default interval (``interval="hc3"``) is the Student interval (residual degrees of
freedom, behaviours minus cells) with the HC3 variance of the stratum-by-arm means (MacKinnon &
White 1985): each cell's own spread, inflated by ``n / (n - 1)`` (leverage ``1 / n``). On
development organizations the pooled ``t`` interval's se was a little too small (sd of
(estimate - truth) / se 1.01-1.04 over many campaign sets of one organization), HC3's is not
(docs/methods.md, *Delegation*). ``interval="t"`` pools each arm's within-stratum variance;
``interval="bootstrap-t"`` takes its quantiles from the studentized bootstrap (behaviours
resampled within stratum and arm) and ``interval="bootstrap"`` is the percentile interval of the
same resamples. With fewer than ``min_per_arm`` behaviours in either arm of the matched strata
the comparison says the data cannot tell and prints no number.

Everything set-based is ibis (no SQL strings, no backend connection); the statistics run in Python
on the per-behaviour table. See docs/methods.md (*Delegation*) and ``eval/delegation_calibration.py``.
"""

from __future__ import annotations

import math
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

from socialens.analyses.common import post_time_range, to_time
from socialens.analyses.result import Result
from socialens.analyses.signature import analysis_function
from socialens.behaviours import BehaviourError, first_use, leader_ids
from socialens.behaviours.spec import Behaviour, TopHashtags, parse_specs
from socialens.errors import AnalysisError
from socialens.workspace import Workspace

__all__ = ["delegation", "per_behaviour", "matched_difference", "PERIODS", "INTERVALS",
           "ARMS"]

#: calendar strata of the matched comparison
PERIODS = {"quarter": "Q", "half": "2Q", "year": "Y", "none": None}
#: interval methods (the first is the default)
INTERVALS = ("hc3", "t", "bootstrap-t", "bootstrap")
#: seeder kinds of the two arms
ARMS = {"leader": ("leader",), "delegated": ("official", "delegate")}
_METRICS = (("uptake_share", "share of members who took it up"),
            ("adopters", "members who took it up (reach)"),
            ("echoed", "share of behaviours echoed by a member"))
_HELP_B = ("give hashtags or topics, e.g. -b 'hashtag:#Tag', -b top-hashtags:50 or "
           "-b 'topic:tax=tax cut,tax reform'")


def _org_accounts(ws: Workspace):
    """Accounts of the organization: personal accounts of people, official and delegate accounts."""
    a = ws.table("accounts")
    a = a.filter(((a.kind == "personal") & a.person_id.notnull())
                 | a.kind.isin(["official", "delegate"]))
    return a.select(acc_id=a.account_id, acc_person=a.person_id.cast("string"),
                    acc_kind=a.kind)


def _record_posts(ws: Workspace):
    p = ws.table("posts")
    p = p.filter(p.collected_as.isnull() | (p.collected_as != "embedded"))
    acc = _org_accounts(ws)
    j = p.join(acc, p.account_id == acc.acc_id)
    return j.select(post_id=j.post_id, account_id=j.account_id, person_id=j.acc_person,
                    account_kind=j.acc_kind, at=j.created_at, text=j.text)


def _uses(ws: Workspace, specs) -> tuple[Any, str]:
    """Every use of the behaviours by any account of the organization: ``behaviour, post_id,
    account_id, person_id, account_kind, at`` (lazy), and a description of the selection."""
    import ibis

    rp = _record_posts(ws)
    e = ws.table("post_entities")
    e = e.filter(e.kind == "hashtag")
    if specs is None:
        j = rp.join(e, rp.post_id == e.post_id)
        parts = [j.select(behaviour=ibis.literal("hashtag:#") + j.value, post_id=rp.post_id,
                          account_id=j.account_id, person_id=j.person_id,
                          account_kind=j.account_kind, at=j.at)]
        return parts[0], "campaign hashtags"
    parsed = parse_specs(specs)
    parts = []
    tags = [b.value for b in parsed if isinstance(b, Behaviour) and b.kind == "hashtag"]
    top = [b.n for b in parsed if isinstance(b, TopHashtags)]
    if top:
        from socialens.behaviours.events import _top_tags

        t = _top_tags(ws, max(top), None, None)
        sel = e.semi_join(t, e.value == t.tag)
        j = rp.join(sel, rp.post_id == sel.post_id)
        parts.append(j.select(behaviour=ibis.literal("hashtag:#") + j.value, post_id=rp.post_id,
                              account_id=j.account_id, person_id=j.person_id,
                              account_kind=j.account_kind, at=j.at))
    if tags:
        sel = e.filter(e.value.isin(tags))
        j = rp.join(sel, rp.post_id == sel.post_id)
        parts.append(j.select(behaviour=ibis.literal("hashtag:#") + j.value, post_id=rp.post_id,
                              account_id=j.account_id, person_id=j.person_id,
                              account_kind=j.account_kind, at=j.at))
    for b in parsed:
        if isinstance(b, TopHashtags) or b.kind == "hashtag":
            continue
        if b.kind != "topic":
            raise BehaviourError(
                f"delegation compares behaviours that an account posts first and members take up; "
                f"{b.name!r} is not one (official and delegate accounts have no "
                f"{'platform joining' if b.kind == 'platform' else 'personal features'}); "
                + _HELP_B)
        hit = rp.filter(rp.text.notnull() & rp.text.re_search(b.value))
        parts.append(hit.select(behaviour=ibis.literal(b.name), post_id=hit.post_id,
                                account_id=hit.account_id, person_id=hit.person_id,
                                account_kind=hit.account_kind, at=hit.at))
    uses = parts[0]
    for p in parts[1:]:
        uses = uses.union(p, distinct=False)
    return uses.distinct(), "behaviours"


def per_behaviour(ws: Workspace, *, behaviours=None, horizon_days: float = 90.0,
                  leaders: str = "is_leader", as_of=None, window_start=None, window_end=None
                  ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The per-behaviour table and the adopters' day offsets (for the uptake curves).

    Returns ``(table, curve_counts, info)``: ``table`` has one row per behaviour first used in
    ``[window_start, window_end)`` (``behaviour, seeder_kind, seeder_account_id,
    seeder_person_id, first_use_at, post_id, period_start, at_risk, adopters, uptake_share,
    days_to_first_echo, echoed, followed_up``); ``curve_counts`` has ``behaviour, day, n`` (members
    whose first use came ``day`` whole days after the first use, rounded up: ``day - 1 < days <= day``, up to the horizon).
    """
    import ibis

    t0w, t1w = to_time(window_start, "window_start"), to_time(window_end, "window_end")
    if not horizon_days or horizon_days <= 0 or not math.isfinite(float(horizon_days)):
        raise AnalysisError(f"horizon_days={horizon_days!r}: give a positive number of days, "
                            "e.g. 90")
    first, last = post_time_range(ws)
    if last is None:
        raise AnalysisError("the workspace has no posts; there are no behaviours to compare")
    end = t1w or (pd.Timestamp(last) + pd.Timedelta(seconds=1)).to_pydatetime()
    t_roles = to_time(as_of, "as_of") or t1w or last
    uses, what = _uses(ws, behaviours)
    # the first use in the organization of each behaviour (by time, then post id)
    w = ibis.window(group_by=uses.behaviour, order_by=[uses.at, uses.post_id, uses.account_id])
    seeds = uses.mutate(_rn=ibis.row_number().over(w)).filter(lambda t: t._rn == 0)
    if t0w is not None:
        seeds = seeds.filter(seeds.at >= t0w)
    seeds = seeds.filter(seeds.at < end)
    seeds = seeds.select(behaviour="behaviour", seeder_account_id="account_id",
                         seeder_person_id="person_id", account_kind="account_kind",
                         first_use_at="at", post_id="post_id")
    lead = leader_ids(ws, leaders, t_roles)
    seed_df = seeds.execute()
    if seed_df.empty:
        raise AnalysisError(
            f"no {what} were used by the organization's accounts in the window; "
            + ("posts need hashtags" if behaviours is None else _HELP_B))
    kind = np.where(seed_df.account_kind != "personal", seed_df.account_kind,
                    np.where(seed_df.seeder_person_id.isin(lead), "leader", "member"))
    seed_df["seeder_kind"] = kind
    if behaviours is None:  # campaign hashtags: first posted by a leader or an official/delegate
        seed_df = seed_df[seed_df.seeder_kind != "member"].reset_index(drop=True)
        if seed_df.empty:
            raise AnalysisError(
                "no hashtag was first used in the organization by a leader's account or an "
                "official/delegate account; mark such accounts with kind=official or "
                "kind=delegate in the roster, or " + _HELP_B)
    # members: joining the platform (personal accounts only), their first uses
    join = first_use(ws, "platform").select(j_person="person_id", joined_at="at")
    join_df = join.execute()
    joined = np.sort(pd.to_datetime(join_df.joined_at, utc=True).to_numpy(dtype="datetime64[ns]"))
    seeds_t = ibis.memtable(seed_df[["behaviour", "seeder_person_id", "first_use_at"]].rename(
        columns={"behaviour": "s_behaviour", "seeder_person_id": "s_person",
                 "first_use_at": "t0"}))
    pu = uses.filter(uses.account_kind == "personal")
    mfirst = pu.group_by(["behaviour", "person_id"]).aggregate(at=pu.at.min())
    j = mfirst.join(seeds_t, mfirst.behaviour == seeds_t.s_behaviour)
    j = j.join(join, j.person_id == join.j_person)
    horizon_s = float(horizon_days) * 86400.0
    secs = (j.at.epoch_seconds() - j.t0.epoch_seconds()).cast("float64")
    j = j.mutate(_secs=secs)
    j = j.filter(j.joined_at <= j.t0, j._secs > 0, j._secs <= horizon_s,
                 j.s_person.isnull() | (j.person_id != j.s_person))
    curve = j.group_by([j.behaviour, (j._secs / 86400.0).ceil().cast("int64").name("day")]
                       ).aggregate(n=j.count(), first_secs=j._secs.min())
    curve_df = curve.execute()
    agg = (curve_df.groupby("behaviour").agg(adopters=("n", "sum"), first_secs=("first_secs", "min"))
           if not curve_df.empty else pd.DataFrame(columns=["adopters", "first_secs"]))
    tbl = seed_df.join(agg, on="behaviour")
    tbl["adopters"] = pd.to_numeric(tbl.adopters, errors="coerce").fillna(0).astype(int)
    t0s = pd.to_datetime(tbl.first_use_at, utc=True)
    at_risk = np.searchsorted(joined, t0s.to_numpy(dtype="datetime64[ns]"), side="right")
    # the seeder's owner is not at risk (when they had joined)
    owner = tbl.seeder_person_id.where(tbl.seeder_person_id.notna())
    jmap = dict(zip(join_df.j_person, pd.to_datetime(join_df.joined_at, utc=True), strict=True))
    owner_in = [bool(isinstance(p, str) and p in jmap and jmap[p] <= t) for p, t in
                zip(owner, t0s, strict=True)]
    tbl["at_risk"] = at_risk - np.asarray(owner_in, dtype=int)
    tbl["uptake_share"] = np.where(tbl.at_risk > 0, tbl.adopters / tbl.at_risk.clip(lower=1),
                                   np.nan)
    tbl["days_to_first_echo"] = pd.to_numeric(tbl.pop("first_secs"), errors="coerce") / 86400.0
    tbl["echoed"] = tbl.adopters > 0
    tbl["followed_up"] = (t0s + pd.Timedelta(days=float(horizon_days))) <= pd.Timestamp(end)
    tbl["first_use_at"] = t0s
    tbl = tbl.drop(columns=["account_kind"])
    tbl = tbl.sort_values(["first_use_at", "behaviour"]).reset_index(drop=True)
    info = {"what": what, "n_leaders": len(lead), "as_of": t_roles, "end": end,
            "window_start": t0w or first}
    return tbl, curve_df[["behaviour", "day", "n"]] if not curve_df.empty else \
        pd.DataFrame(columns=["behaviour", "day", "n"]), info


def _strata(t: pd.Series, period: str) -> pd.Series:
    freq = PERIODS[period]
    if freq is None:
        return pd.Series("all", index=t.index)
    per = pd.to_datetime(t, utc=True).dt.tz_localize(None).dt.to_period(
        "Q" if freq == "2Q" else freq)
    if freq == "2Q":
        return per.map(lambda p: f"{p.year}-H{1 if p.quarter <= 2 else 2}")
    return per.astype(str)


def matched_difference(y: np.ndarray, arm: np.ndarray, stratum: np.ndarray, *,
                       interval: str = "hc3", level: float = 0.95, n_boot: int = 2000,
                       seed: int = 0, min_per_arm: int = 3) -> dict:
    """The stratified (matched) difference of means, arm 1 minus arm 0, and its interval.

    Parameters
    ----------
    y : array of float
        One outcome per behaviour.
    arm : array of int
        1 = leader-seeded, 0 = delegated.
    stratum : array
        Matching stratum of each behaviour (its period).
    interval : {"hc3", "t", "bootstrap-t", "bootstrap"}
        ``hc3`` (the default): the HC3 (jackknife-type) variance of the cell means of the
        saturated stratum-by-arm regression, weights fixed:
        ``var = sum_s w_s^2 (e2_1s / (n_1s - 1)^2 + e2_0s / (n_0s - 1)^2)`` with ``e2_as`` the
        sum of squared deviations from the cell mean, i.e. ``s2_as / (n_as - 1)`` per cell (the
        unbiased ``s2_as / n_as`` inflated by ``1 / (1 - h)`` with leverage ``h = 1 / n_as``); a
        cell with a single behaviour (leverage 1, HC3 undefined) takes its arm's pooled
        within-stratum variance ``s2_a / 1``; Student quantile with the regression's residual
        degrees of freedom (behaviours minus cells, as for an HC3 t test; Long & Ervin 2000);
        ``t``: ``var = sum_s w_s^2 (s2_1 / n_1s + s2_0 / n_0s)`` with ``s2_a`` the within-stratum
        variance of arm ``a`` pooled over the kept strata, Satterthwaite degrees of freedom;
        ``bootstrap-t``: the same estimate and ``se``, the quantiles of the
        studentized replicates ``T* = (delta* - delta) / se*`` in place of Student's
        (``[delta - T*_(1-a/2) se, delta - T*_(a/2) se]``), behaviours resampled within stratum
        and arm: an equal-tailed interval when the outcome is skewed and its spread moves with
        its mean (a leader arm mixing a CEO's campaigns with those of heads with small
        audiences); ``bootstrap``: the same resamples, percentile interval.
    min_per_arm : int
        Fewer behaviours than this in either arm of the kept strata: no estimate
        (``status = "too few"``).

    Returns
    -------
    dict
        ``estimate, ci_low, ci_high, se, df, p_value`` (two-sided, of delta = 0, by the same
        method as the interval), ``n_leader, n_delegated, n_strata, mean_leader,
        mean_delegated, status`` (``"estimated"`` / ``"too few"``), ``weights`` by stratum.

    Examples
    --------
    >>> r = matched_difference(np.array([0.3, 0.5, 0.4, 0.1, 0.2, 0.0]),
    ...                        np.array([1, 1, 1, 0, 0, 0]), np.array(["a"] * 6))
    >>> round(r["estimate"], 3), r["n_leader"], r["status"]
    (0.3, 3, 'estimated')
    """
    y = np.asarray(y, dtype=float)
    arm = np.asarray(arm, dtype=int)
    stratum = np.asarray(stratum, dtype=object)
    ok = np.isfinite(y)
    y, arm, stratum = y[ok], arm[ok], stratum[ok]
    df = pd.DataFrame({"y": y, "arm": arm, "s": stratum})
    cnt = df.groupby(["s", "arm"]).size().unstack(fill_value=0).reindex(columns=[0, 1],
                                                                        fill_value=0)
    kept = cnt[(cnt[0] > 0) & (cnt[1] > 0)]
    n1, n0 = int(kept[1].sum()), int(kept[0].sum())
    out = {"estimate": None, "ci_low": None, "ci_high": None, "se": None, "df": None,
           "p_value": None,
           "n_leader": n1, "n_delegated": n0, "n_strata": len(kept),
           "n_leader_all": int((arm == 1).sum()), "n_delegated_all": int((arm == 0).sum()),
           "mean_leader": None, "mean_delegated": None, "status": "too few", "weights": {},
           "reason": None}
    if n1 < min_per_arm or n0 < min_per_arm:
        return out
    d = df[df.s.isin(kept.index)]
    w = (kept[0] + kept[1]) / float(n1 + n0)
    m = d.groupby(["s", "arm"]).y.mean().unstack()
    est = float((w * (m[1] - m[0])).sum())
    out.update(estimate=est, mean_leader=float((w * m[1]).sum()),
               mean_delegated=float((w * m[0]).sum()), status="estimated",
               weights={str(k): float(v) for k, v in w.items()})
    alpha = 1 - level
    if interval not in INTERVALS:
        raise AnalysisError(f"interval={interval!r}; choose from {', '.join(INTERVALS)}")
    if interval in ("hc3", "t", "bootstrap-t"):
        cells = [(s, a, ws_, d.y[(d.s == s) & (d.arm == a)].to_numpy())
                 for s, ws_ in w.items() for a in (1, 0)]
        var, parts, dfs = (_hc3_var if interval == "hc3" else _pooled_var)(cells, kept)
        if not math.isfinite(var):  # an arm with one behaviour per kept stratum: no spread
            out.update(estimate=None, mean_leader=None, mean_delegated=None, status="too few",
                       reason="every period has a single behaviour of one of the arms, so "
                              "their spread cannot be estimated")
            return out
        se = math.sqrt(var)
        if interval == "hc3":  # residual df of the cell-means regression
            dof = float(n1 + n0 - 2 * len(kept))
        elif var > 0:
            dof = var ** 2 / sum(v ** 2 / f for v, f in zip(parts, dfs, strict=True) if f > 0)
        else:
            dof = float(sum(dfs))
        out.update(se=se, df=float(dof))
        if interval in ("hc3", "t") or se == 0:
            q = float(stats.t.ppf(1 - alpha / 2, dof))
            out.update(ci_low=est - q * se, ci_high=est + q * se,
                       p_value=(float(2 * stats.t.sf(abs(est) / se, dof)) if se > 0
                                else float(est == 0)))
        else:
            tb = _studentized_replicates(cells, kept, est, n_boot, seed)
            q_lo, q_hi = np.quantile(tb, [alpha / 2, 1 - alpha / 2], method="inverted_cdf")
            t_obs = est / se
            p = 2 * min((np.sum(tb >= t_obs) + 1) / (len(tb) + 1),
                        (np.sum(tb <= t_obs) + 1) / (len(tb) + 1))
            out.update(ci_low=float(est - q_hi * se), ci_high=float(est - q_lo * se),
                       p_value=float(min(1.0, p)), n_boot_used=int(len(tb)))
    else:  # percentile bootstrap
        rng = np.random.default_rng(seed)
        boot = np.zeros(n_boot)
        for s, ws_ in w.items():
            for a, sign in ((1, 1.0), (0, -1.0)):
                v = d.y[(d.s == s) & (d.arm == a)].to_numpy()
                idx = rng.integers(0, len(v), size=(n_boot, len(v)))
                boot += sign * ws_ * v[idx].mean(axis=1)
        lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
        p = 2 * min((np.sum(boot <= 0) + 1) / (n_boot + 1), (np.sum(boot >= 0) + 1) / (n_boot + 1))
        out.update(se=float(boot.std(ddof=1)), ci_low=float(lo), ci_high=float(hi),
                   p_value=float(min(1.0, p)))
    return out


def _pooled_var(cells, kept) -> tuple[float, list[float], list[int]]:
    """``Var(delta-hat) = sum_a s2_a * sum_s w_s^2 / n_as`` with ``s2_a`` the within-stratum
    variance of arm ``a`` pooled over the kept strata (``nan`` when an arm has no spare degree of
    freedom); also the two arms' parts and degrees of freedom (for Satterthwaite)."""
    parts, dfs = [], []
    for a in (1, 0):
        ss = sum(float(((v - v.mean()) ** 2).sum()) for _, b, _, v in cells if b == a)
        f = sum(ws_ ** 2 / len(v) for _, b, ws_, v in cells if b == a)
        dof = int(kept[a].sum()) - len(kept)
        parts.append(ss / dof * f if dof > 0 else math.nan)
        dfs.append(dof)
    return sum(parts), parts, dfs


def _hc3_var(cells, kept) -> tuple[float, list[float], list[int]]:
    """The HC3 variance of the matched difference (MacKinnon & White 1985): per cell of ``n >= 2``
    behaviours ``w_s^2 * sum (y - mean)^2 / (n - 1)^2``; the cells of an arm with a single
    behaviour together ``s2_a * sum w_s^2`` with ``s2_a`` the arm's pooled within-stratum variance
    (``nan`` when they exist and the arm has no spare degree of freedom). Also the parts and
    their degrees of freedom (``n - 1`` per cell, the pooled ones for the singletons)."""
    pooled: dict[int, float] = {}
    for a in (1, 0):
        ss = sum(float(((v - v.mean()) ** 2).sum()) for _, b, _, v in cells if b == a)
        dof = int(kept[a].sum()) - len(kept)
        pooled[a] = ss / dof if dof > 0 else math.nan
    parts, dfs = [], []
    single = {1: 0.0, 0: 0.0}
    for _, a, ws_, v in cells:
        n = len(v)
        if n >= 2:
            parts.append(ws_ ** 2 * float(((v - v.mean()) ** 2).sum()) / (n - 1) ** 2)
            dfs.append(n - 1)
        else:
            single[a] += ws_ ** 2
    for a in (1, 0):
        if single[a] > 0:
            parts.append(pooled[a] * single[a])
            dfs.append(int(kept[a].sum()) - len(kept))
    return sum(parts), parts, dfs


def _studentized_replicates(cells, kept, est: float, n_boot: int, seed: int) -> np.ndarray:
    """``T* = (delta* - delta-hat) / se*`` over ``n_boot`` stratified resamples (behaviours
    drawn with replacement within stratum and arm, the weights fixed), each ``se*`` from the same
    pooled variance as the t interval. Replicates whose resampled spread is zero in every cell of
    an arm (``se*`` = 0 or undefined) are left out."""
    rng = np.random.default_rng(seed)
    eb = np.zeros(n_boot)
    ss = {1: np.zeros(n_boot), 0: np.zeros(n_boot)}
    f = {1: 0.0, 0: 0.0}
    for _, a, ws_, v in cells:
        vb = v[rng.integers(0, len(v), size=(n_boot, len(v)))]
        mb = vb.mean(axis=1)
        eb += (1.0 if a == 1 else -1.0) * ws_ * mb
        ss[a] += ((vb - mb[:, None]) ** 2).sum(axis=1)
        f[a] += ws_ ** 2 / len(v)
    var = sum(ss[a] / (int(kept[a].sum()) - len(kept)) * f[a] for a in (1, 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        tb = (eb - est) / np.sqrt(var)
    return tb[np.isfinite(tb)]


def _chart(curves: pd.DataFrame, horizon: float) -> alt.Chart:
    base = alt.Chart(curves, title="Uptake by who started it: share of members who took it up")
    line = base.mark_line().encode(
        x=alt.X("day:Q", title="days after the first use", scale=alt.Scale(domain=[0, horizon])),
        y=alt.Y("share:Q", title="mean share of members who took it up",
                axis=alt.Axis(format="%")),
        color=alt.Color("seeder:N", title="first posted by", scale=alt.Scale(scheme="dark2")),
    )
    return line.properties(width=520, height=280)


def _uptake_curves(tbl: pd.DataFrame, curve: pd.DataFrame, horizon: float) -> pd.DataFrame:
    days = np.arange(0, int(math.ceil(horizon)) + 1)
    rows = []
    labels = {"leader": "a leader's own account", "delegated": "an official or delegate account"}
    for arm, kinds in ARMS.items():
        sub = tbl[tbl.seeder_kind.isin(kinds) & tbl.followed_up & (tbl.at_risk > 0)]
        if sub.empty:
            continue
        c = curve[curve.behaviour.isin(sub.behaviour)]
        mat = np.zeros((len(sub), len(days)))
        pos = {b: i for i, b in enumerate(sub.behaviour)}
        for b, d, n in zip(c.behaviour, c.day, c.n, strict=True):
            if d < len(days):
                mat[pos[b], int(d)] += n
        share = np.cumsum(mat, axis=1) / sub.at_risk.to_numpy()[:, None]
        for d, v in zip(days, share.mean(axis=0), strict=True):
            rows.append({"seeder": labels[arm], "day": int(d), "share": float(v),
                         "n_behaviours": len(sub)})
    return pd.DataFrame(rows, columns=["seeder", "day", "share", "n_behaviours"])


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %".replace(".0 %", " %")


@analysis_function
def delegation(
    ws: Workspace,
    *,
    behaviours=None,
    horizon_days: float = 90.0,
    period: str = "quarter",
    interval: str = "hc3",
    min_per_arm: int = 3,
    leaders: str = "is_leader",
    as_of=None,
    window_start=None,
    window_end=None,
    n_boot: int = 2000,
    seed: int = 0,
) -> Result:
    """Model or delegate: uptake of behaviours a leader starts herself vs. an official/delegate
    account.

    Parameters
    ----------
    behaviours : str or list, optional
        Hashtags or topics (``hashtag:#X``, ``top-hashtags:50``, ``topic:name=words``); default:
        every hashtag first used in the organization by a leader's or an official/delegate
        account (campaign hashtags).
    horizon_days : float
        A member takes a behaviour up when their first use comes within this many days of its
        first use (default 90); behaviours first used less than this before the end of the data
        are listed but not compared.
    period : {"quarter", "half", "year", "none"}
        Matching strata: the calendar period of the first use.
    interval : {"hc3", "t", "bootstrap-t", "bootstrap"}
        The interval of the matched difference (see :func:`matched_difference`): by default
        ``hc3``, the Student interval with the HC3 (jackknife-type) variance per period and arm;
        ``t`` pools each arm's within-period variance.
    min_per_arm : int
        Below this many compared behaviours in either arm the data cannot tell (no number).
    leaders, as_of : str, time
        Leader rule and when roles are read (default: the window end, else the last post).
    window_start, window_end : time, optional
        Behaviours first used in ``[window_start, window_end)``; uptake is observed to the window
        end (default: the last post).
    n_boot, seed : int
        Bootstrap replicates and seed (``interval="bootstrap-t"`` or ``"bootstrap"``).
    """
    if period not in PERIODS:
        raise AnalysisError(f"period={period!r}; choose from {', '.join(PERIODS)}")
    if interval not in INTERVALS:
        raise AnalysisError(f"interval={interval!r}; choose from {', '.join(INTERVALS)}")
    if int(min_per_arm) < 2:
        raise AnalysisError(f"min_per_arm={min_per_arm!r}: at least 2 behaviours per arm are "
                            "needed for an interval")
    tbl, curve, info = per_behaviour(ws, behaviours=behaviours, horizon_days=horizon_days,
                                     leaders=leaders, as_of=as_of, window_start=window_start,
                                     window_end=window_end)
    tbl.insert(tbl.columns.get_loc("first_use_at") + 1, "period",
               _strata(tbl.first_use_at, period))
    comp = tbl[tbl.followed_up & (tbl.at_risk > 0)
               & tbl.seeder_kind.isin(ARMS["leader"] + ARMS["delegated"])]
    arm = comp.seeder_kind.isin(ARMS["leader"]).astype(int).to_numpy()
    rows, main = [], None
    for col, words in _METRICS:
        r = matched_difference(comp[col].astype(float).to_numpy(), arm, comp.period.to_numpy(),
                               interval=interval, n_boot=n_boot, seed=seed,
                               min_per_arm=int(min_per_arm))
        unm = matched_difference(comp[col].astype(float).to_numpy(), arm,
                                 np.full(len(comp), "all", dtype=object), interval=interval,
                                 n_boot=n_boot, seed=seed, min_per_arm=int(min_per_arm))
        rows.append({"metric": col, "what": words, "estimate": r["estimate"],
                     "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                     "leader_mean": r["mean_leader"], "delegated_mean": r["mean_delegated"],
                     "n_leader": r["n_leader"], "n_delegated": r["n_delegated"],
                     "n_strata": r["n_strata"], "status": r["status"],
                     "unmatched_estimate": unm["estimate"], "unmatched_ci_low": unm["ci_low"],
                     "unmatched_ci_high": unm["ci_high"]})
        if col == "uptake_share":
            main = r
    comparison = pd.DataFrame(rows)
    echo = {}
    for a, kinds in ARMS.items():
        e = comp[comp.seeder_kind.isin(kinds)].days_to_first_echo.dropna()
        echo[a] = float(e.median()) if len(e) else None
    counts = tbl.seeder_kind.value_counts().to_dict()
    n_comp = {a: int(comp.seeder_kind.isin(k).sum()) for a, k in ARMS.items()}
    summary = {
        "estimand": "difference in mean uptake share within the horizon, leader-seeded minus "
                    "delegated, within matched calendar strata",
        "status": main["status"], "reason": main["reason"], "delta": main["estimate"],
        "delta_ci": ([main["ci_low"], main["ci_high"]] if main["ci_low"] is not None else None),
        "delta_se": main["se"], "delta_p_value": main["p_value"], "interval": interval,
        "leader_share": main["mean_leader"], "delegated_share": main["mean_delegated"],
        "n_leader": main["n_leader"], "n_delegated": main["n_delegated"],
        "n_strata": main["n_strata"], "n_behaviours": int(len(tbl)),
        "n_compared_leader": n_comp["leader"], "n_compared_delegated": n_comp["delegated"],
        "n_by_seeder_kind": {k: int(v) for k, v in counts.items()},
        "n_not_followed_up": int((~tbl.followed_up).sum()),
        "median_days_to_first_echo_leader": echo["leader"],
        "median_days_to_first_echo_delegated": echo["delegated"],
        "what": ("hashtags" if tbl.behaviour.str.startswith("hashtag:").all() else "behaviours"),
        "horizon_days": float(horizon_days), "n_leaders": info["n_leaders"],
        "window_start": info["window_start"], "window_end": info["end"],
    }
    # per-arm shares with their own t intervals (one-sample, for the sentence)
    for a in ARMS:
        v = comp[comp.seeder_kind.isin(ARMS[a])].uptake_share.to_numpy(dtype=float)
        if len(v) >= 2:
            se = float(v.std(ddof=1) / math.sqrt(len(v)))
            q = float(stats.t.ppf(0.975, len(v) - 1))
            summary[f"{a}_share_all"] = float(v.mean())
            summary[f"{a}_share_all_ci"] = [max(0.0, float(v.mean()) - q * se),
                                            float(v.mean()) + q * se]
        else:
            summary[f"{a}_share_all"] = float(v.mean()) if len(v) else None
            summary[f"{a}_share_all_ci"] = None
    headline = _headline(summary, min_per_arm=int(min_per_arm))
    curves = _uptake_curves(tbl, curve, float(horizon_days))
    shown = tbl.drop(columns=["post_id"])
    return Result(
        name="delegation",
        title="Model or delegate? Uptake of what leaders start themselves vs. what official "
              "and delegate accounts start",
        params={"behaviours": behaviours or "campaign hashtags", "horizon_days": horizon_days,
                "period": period, "interval": interval, "min_per_arm": min_per_arm,
                "leaders": leaders, "as_of": info["as_of"], "window_start": window_start,
                "window_end": window_end, "n_boot": n_boot, "seed": seed},
        summary=summary,
        tables={"behaviours": shown, "comparison": comparison, "uptake_curves": curves},
        figures={"uptake_curves": _chart(curves, float(horizon_days))} if not curves.empty else {},
        headline=headline,
        notes=[
            "The seeder of a behaviour is the account of its first use in the organization "
            "(personal accounts of people, official and delegate accounts); a leader's own "
            "account vs. an official or delegate account (accounts.kind, set in the roster).",
            f"A member takes it up when their first use comes within {horizon_days:g} days; the "
            "share is of the members on the platform at the first use (the seeder's owner "
            "excepted). Behaviours first used less than the horizon before the end of the data "
            "are listed, not compared.",
            f"Matched comparison: behaviours grouped by the {period} of their first use; periods "
            "with behaviours of both arms are kept and weighted by their number of behaviours. "
            + {"hc3": "t interval from the HC3 variance of each period's and arm's mean "
                      "(its own spread, inflated by n/(n-1) for the small number of behaviours; "
                      "degrees of freedom: behaviours minus period-arm cells).",
               "t": "t interval from the within-period variances pooled per arm "
                    "(Satterthwaite).",
               "bootstrap-t": "Studentized bootstrap interval (behaviours resampled within "
                              "period and arm; the standard error from the within-period "
                              "variances pooled per arm), equal-tailed when uptake is skewed.",
               "bootstrap": "Percentile bootstrap over behaviours within period and arm."
               }[interval],
            "A total effect: who follows the seeding account is part of it (an official account "
            "may reach more members than a leader does). Not randomized: leaders may choose "
            "which campaigns to post themselves.",
        ],
    )


def _headline(s: dict, *, min_per_arm: int) -> str:
    h = f"{s['horizon_days']:g}"
    if s["status"] != "estimated" and s.get("reason"):
        return (f"The data cannot tell: {s['n_leader']} behaviours started by a leader's own "
                f"account and {s['n_delegated']} by an official or delegate account can be "
                f"compared in the same periods, but {s['reason']}; try a longer period "
                "(period='year').")
    if s["status"] != "estimated":
        return (f"The data cannot tell: {s['n_leader']} behaviours started by a leader's own "
                f"account and {s['n_delegated']} by an official or delegate account can be "
                f"compared in the same periods, fewer than the {min_per_arm} each needed "
                f"({s['n_compared_leader']} and {s['n_compared_delegated']} in all, followed "
                f"for {h} days).")
    lo, hi = s["delta_ci"] or (None, None)

    def arm(a):
        ci = s.get(f"{a}_share_all_ci")
        return _pct(s[f"{a}_share_all"]) + (f" ({_pct(ci[0])}–{_pct(ci[1])})" if ci else "")

    what = "Hashtags" if s.get("what") == "hashtags" else "Behaviours"
    diff = (f"Within the same periods the difference is {100 * s['delta']:+.1f} points "
            f"(95 % interval {100 * lo:+.1f} to {100 * hi:+.1f}; {s['n_leader']} vs "
            f"{s['n_delegated']} behaviours)")
    if lo > 0:
        verdict = ": leaders starting it themselves get more uptake."
    elif hi < 0:
        verdict = ": the official and delegate accounts get more uptake."
    else:
        verdict = ": no clear difference either way."
    return (f"{what} a leader starts herself are taken up by {arm('leader')} of members within "
            f"{h} days; those started by an official or delegate account by {arm('delegated')}. "
            + diff + verdict)
