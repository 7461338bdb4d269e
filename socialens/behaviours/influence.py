"""Honest influence tests: influence or correlation? Leader vs peer exposure.

Three estimators of whether people start a behaviour *because* contacts who had started it could
be seen, all over one discrete-time :class:`AdoptionPanel` (who is at risk, when each person
adopted, who could see whom):

* :class:`ShuffleTest` — the shuffle test of Anagnostopoulos, Kumar & Mahdian (2008): fit the
  social-correlation coefficient α of the logistic model
  ``P(adopt in period t | a active contacts) = σ(α·ln(a + 1) + β)`` (split into leader and peer
  contacts: ``σ(α_L·ln(a_L + 1) + α_P·ln(a_P + 1) + β)``), then refit after permuting the adoption
  periods (non-adoption included) among the people at risk, optionally within strata: each
  period keeps its number of adoptions and its risk set's size, and the people not at risk
  (leaders) keep theirs. Without influence the timing carries no information and α is not larger
  than the shuffled α′; the p-value is the share of shuffles with α′ ≥ α.
* :class:`EdgeReversalTest` — the edge-reversal test of the same paper: influence flows along the
  direction in which people can see each other, correlation does not care, so α on the network
  should exceed α on the reversed network. The p-value compares ``α(G) − α(Gᵀ)`` with its
  distribution when each edge's direction is flipped at random (a deviation: the paper only
  compares the two numbers).
* :class:`ExposureCox` — a time-varying Cox proportional-hazards model of adoption (lifelines
  ``CoxTimeVaryingFitter``) with leader- and peer-exposure covariates (lagged indicators or counts
  of exposed contacts who had adopted) and person-level controls; hazard ratios with 95 % Wald
  intervals.

The set-based preparation (behaviour events, exposure ties) is done by ibis expressions in the
rest of :mod:`socialens.behaviours`; here only the aggregated tables are handled, in pandas and
numpy. Formulas and every deviation from the papers: docs/methods.md, "Influence tests".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from socialens.errors import AnalysisError

__all__ = ["AdoptionPanel", "ShuffleTest", "EdgeReversalTest", "ExposureCox", "DiscreteHazard",
           "social_correlation", "benjamini_hochberg", "permute_at_risk", "risk_set_groups",
           "group_share_steps", "split_episodes", "LeaderPermutationTest"]

#: exposure counts above this are pooled in the logistic fits (cells of the count table)
MAX_COUNT = 30


def _periods(times: pd.Series, origin: pd.Timestamp, period: pd.Timedelta) -> np.ndarray:
    t = pd.to_datetime(times, utc=True)
    out = np.floor((t - origin) / period).to_numpy(dtype=float)
    return out


def _person_periods(df: pd.DataFrame, strata, names):
    """The counting-process rows of ``df`` (``start, stop, event`` and covariates ``names``)
    expanded to one row per person-period: stratum codes and their count, the distinct covariate
    patterns and each row's pattern, and per period its source row, period index and event."""
    if strata:
        s_code = pd.MultiIndex.from_frame(df[strata]).factorize()[0]
        n_s = int(s_code.max()) + 1
    else:
        s_code, n_s = np.zeros(len(df), np.int64), 1
    X = df[names].to_numpy(float) if names else np.zeros((len(df), 0))
    pat, pat_code = np.unique(X, axis=0, return_inverse=True)
    start, stop = df.start.to_numpy(np.int64), df.stop.to_numpy(np.int64)
    k = stop - start
    row = np.repeat(np.arange(len(df)), k)
    t = np.arange(len(row)) - np.repeat(np.cumsum(k) - k, k) + start[row]
    ev = np.zeros(len(row))
    ev[np.cumsum(k)[df.event.to_numpy(bool)] - 1] = 1.0
    return s_code, n_s, pat, pat_code.ravel(), row, t, ev


@dataclass
class AdoptionPanel:
    """One behaviour's adoption data in discrete time (periods ``0 … n_periods - 1``).

    Build it with :meth:`from_tables`. Person ``k`` adopted in period ``adopt[k]`` (``-1``: before
    the window, so never at risk but exposing others from the start; ``n_periods``: not in the
    window). A tie ``(ti[m], tj[m])`` says that ``ti`` could see ``tj`` from period ``tstart[m]``
    on; ``ti`` counts ``tj`` as an exposed contact from period ``max(tstart, adopt[tj] + lag)``.
    """

    ids: np.ndarray
    adopt: np.ndarray
    at_risk: np.ndarray
    is_leader: np.ndarray
    ti: np.ndarray
    tj: np.ndarray
    tstart: np.ndarray
    n_periods: int
    lag: int = 1
    origin: pd.Timestamp | None = None
    period: pd.Timedelta | None = None
    controls: pd.DataFrame | None = None

    @classmethod
    def from_tables(cls, adoptions: pd.DataFrame, ties: pd.DataFrame, *, population: pd.DataFrame,
                    leaders: Iterable[str], start, end, period: str | pd.Timedelta = "1D",
                    lag: int = 1, controls: Sequence[str] = ()) -> AdoptionPanel:
        """Build a panel from tidy tables.

        Parameters
        ----------
        adoptions : DataFrame
            ``person_id, at``: each person's first use of the behaviour (one row each; later rows
            of a person are ignored).
        ties : DataFrame
            ``person_id`` (the exposed person), ``source_person_id`` (whom they could see),
            ``start_at`` (timestamp, or null = from the start).
        population : DataFrame
            ``person_id`` plus any control columns: the people at risk (those who had not adopted
            before ``start``). Sources outside it still expose.
        leaders : iterable of str
            Leader person ids; the others are peers.
        start, end : timestamp
            The window; time is cut into periods of ``period`` from ``start``.
        lag : int
            A contact counts from ``lag`` periods after the period in which they adopted (≥ 1:
            exposure is always strictly earlier than the adoption it may explain).
        controls : sequence of str
            Columns of ``population`` kept for the Cox model.
        """
        if lag < 1:
            raise AnalysisError(f"lag={lag}: the exposure lag must be at least one period")
        origin = pd.Timestamp(start)
        origin = origin.tz_localize("UTC") if origin.tzinfo is None else origin.tz_convert("UTC")
        stop = pd.Timestamp(end)
        stop = stop.tz_localize("UTC") if stop.tzinfo is None else stop.tz_convert("UTC")
        period = pd.Timedelta(period)
        n_periods = int(np.ceil((stop - origin) / period))
        if n_periods < 2:
            raise AnalysisError("the window holds fewer than two periods; widen it or use a "
                                "shorter period")
        missing = [c for c in controls if c not in population.columns]
        if missing:
            raise AnalysisError(f"unknown control(s) {missing}; available: "
                                f"{', '.join(c for c in population.columns if c != 'person_id')}")
        ad = adoptions.dropna(subset=["at"]).sort_values("at").drop_duplicates("person_id")
        ids = pd.Index(pd.unique(pd.concat([population.person_id, ad.person_id,
                                            ties.person_id, ties.source_person_id],
                                           ignore_index=True).astype(str)))
        adopt = np.full(len(ids), n_periods, dtype=np.int64)
        p = _periods(ad["at"], origin, period)
        p = np.where(p < 0, -1, p)
        keep = p < n_periods
        adopt[ids.get_indexer(ad.person_id.astype(str)[keep])] = p[keep].astype(np.int64)
        at_risk = np.zeros(len(ids), dtype=bool)
        at_risk[ids.get_indexer(population.person_id.astype(str))] = True
        at_risk &= adopt >= 0
        leader_set = {str(x) for x in leaders}
        is_leader = np.array([i in leader_set for i in ids], dtype=bool)
        ti = ids.get_indexer(ties.person_id.astype(str))
        tj = ids.get_indexer(ties.source_person_id.astype(str))
        if "start_at" in ties.columns:
            ts = _periods(ties["start_at"], origin, period)
            ts = np.where(np.isnan(ts), 0, np.maximum(ts, 0)).astype(np.int64)
        else:
            ts = np.zeros(len(ti), dtype=np.int64)
        ok = ti != tj
        ctl = population.drop_duplicates("person_id").set_index(
            population.drop_duplicates("person_id").person_id.astype(str))[list(controls)]
        return cls(np.asarray(ids), adopt, at_risk, is_leader, ti[ok].astype(np.int64),
                   tj[ok].astype(np.int64), ts[ok], n_periods, lag, origin, period, ctl)

    # ------------------------------------------------------------------ derived panels
    def with_adopt(self, adopt: np.ndarray) -> AdoptionPanel:
        return AdoptionPanel(self.ids, adopt, self.at_risk, self.is_leader, self.ti, self.tj,
                             self.tstart, self.n_periods, self.lag, self.origin, self.period,
                             self.controls)

    def with_ties(self, ti: np.ndarray, tj: np.ndarray) -> AdoptionPanel:
        return AdoptionPanel(self.ids, self.adopt, self.at_risk, self.is_leader, ti, tj,
                             self.tstart, self.n_periods, self.lag, self.origin, self.period,
                             self.controls)

    def reversed(self) -> AdoptionPanel:
        """The same panel with every tie's direction reversed."""
        return self.with_ties(self.tj, self.ti)

    @property
    def n_at_risk(self) -> int:
        return int(self.at_risk.sum())

    @property
    def n_events(self) -> int:
        return int((self.at_risk & (self.adopt < self.n_periods)).sum())

    # ------------------------------------------------------------------ episodes
    def episodes(self) -> dict[str, np.ndarray]:
        """Spells of constant exposure of the people at risk.

        Returns arrays ``person`` (index into ``ids``), ``start``, ``stop`` (periods; the spell
        covers periods ``start … stop - 1``), ``event`` (adopted in period ``stop - 1``),
        ``n_leader``, ``n_peer`` (contacts who had adopted at least ``lag`` periods earlier).
        """
        T = self.n_periods
        adopt = self.adopt
        exit_ = np.where(adopt < T, adopt + 1, T)
        src_adopted = adopt[self.tj] < T
        e = np.maximum(self.tstart, adopt[self.tj] + self.lag)
        ok = self.at_risk[self.ti] & src_adopted & (e < exit_[self.ti])
        ti, e, lead = self.ti[ok], e[ok], self.is_leader[self.tj[ok]]
        people = np.flatnonzero(self.at_risk)
        person = np.concatenate([people, ti])
        time = np.concatenate([np.zeros(len(people), np.int64), e])
        dl = np.concatenate([np.zeros(len(people), np.int64), lead.astype(np.int64)])
        dp = np.concatenate([np.zeros(len(people), np.int64), (~lead).astype(np.int64)])
        order = np.lexsort((time, person))
        person, time, dl, dp = person[order], time[order], dl[order], dp[order]
        first = np.r_[True, person[1:] != person[:-1]]
        grp = np.cumsum(first) - 1
        cl, cp = np.cumsum(dl), np.cumsum(dp)
        base_l = (cl - dl)[first]
        base_p = (cp - dp)[first]
        nl, np_ = cl - base_l[grp], cp - base_p[grp]
        last = np.r_[person[1:] != person[:-1], True]
        stop = np.where(last, exit_[person], np.r_[time[1:], 0])
        event = last & (adopt[person] < T)
        keep = stop > time
        return {"person": person[keep], "start": time[keep], "stop": stop[keep],
                "event": event[keep], "n_leader": nl[keep], "n_peer": np_[keep]}

    def cells(self, split: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The Anagnostopoulos et al. count table: ``(counts, events, person_periods)``.

        ``counts`` is ``(n_cells, 2)`` (leader, peer contacts already adopted; pooled above
        :data:`MAX_COUNT`) when ``split``, else ``(n_cells, 1)`` (all contacts).
        """
        ep = self.episodes()
        dur = ep["stop"] - ep["start"]
        cl = np.minimum(ep["n_leader"], MAX_COUNT)
        cp = np.minimum(ep["n_peer"], MAX_COUNT)
        if split:
            key = cl * (MAX_COUNT + 1) + cp
        else:
            key = np.minimum(ep["n_leader"] + ep["n_peer"], MAX_COUNT)
        size = (MAX_COUNT + 1) ** 2 if split else MAX_COUNT + 1
        n = np.bincount(key, weights=dur, minlength=size)
        y = np.bincount(key, weights=ep["event"].astype(float), minlength=size)
        nz = np.flatnonzero(n > 0)
        if split:
            counts = np.column_stack([nz // (MAX_COUNT + 1), nz % (MAX_COUNT + 1)])
        else:
            counts = nz[:, None]
        return counts.astype(float), y[nz], n[nz]


# ---------------------------------------------------------------------- logistic α
def _logistic(X: np.ndarray, y: np.ndarray, n: np.ndarray, iters: int = 50) -> np.ndarray:
    """Grouped-binomial logistic MLE by Newton's method (a tiny ridge keeps it finite when a
    covariate has no variation or separates the data)."""
    b = np.zeros(X.shape[1])
    rate = max(y.sum(), 0.5) / max(n.sum(), 1.0)
    b[0] = np.log(rate / (1 - rate)) if 0 < rate < 1 else 0.0
    ridge = 1e-6 * np.eye(X.shape[1])
    ridge[0, 0] = 0
    for _ in range(iters):
        eta = np.clip(X @ b, -30, 30)
        p = 1 / (1 + np.exp(-eta))
        w = n * p * (1 - p)
        g = X.T @ (y - n * p) - ridge @ b
        H = X.T @ (w[:, None] * X) + ridge
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        b = b + step
        if np.max(np.abs(step)) < 1e-9:
            break
    return b


def social_correlation(panel: AdoptionPanel, *, split: bool = True) -> dict[str, float]:
    """α of the logistic model of adoption on ln(1 + already-adopted contacts).

    Returns ``{"alpha_leader", "alpha_peer", "beta"}`` when ``split`` (NaN for an exposure kind
    nobody at risk ever had), else ``{"alpha", "beta"}``.
    """
    counts, y, n = panel.cells(split)
    X = np.column_stack([np.ones(len(y)), np.log1p(counts)])
    var = X[:, 1:].max(axis=0) > 0 if len(y) else np.zeros(X.shape[1] - 1, bool)
    b = np.full(X.shape[1], np.nan)
    if len(y) and y.sum() > 0:
        cols = np.r_[True, var]
        b[cols] = _logistic(X[:, cols], y, n)
    if split:
        return {"alpha_leader": float(b[1]), "alpha_peer": float(b[2]), "beta": float(b[0])}
    return {"alpha": float(b[1]), "beta": float(b[0])}


def _alphas(panel: AdoptionPanel) -> np.ndarray:
    s = social_correlation(panel, split=True)
    t = social_correlation(panel, split=False)
    return np.array([s["alpha_leader"], s["alpha_peer"], t["alpha"]])


_ALPHA_NAMES = ("leader", "peer", "all")


def _p_greater(obs: np.ndarray, null: np.ndarray) -> np.ndarray:
    """One-sided permutation p-values ``(1 + #{null ≥ obs}) / (1 + B)`` per column (NaN where
    the observed statistic is NaN); NaN null draws count as not ≥."""
    out = np.full(len(obs), np.nan)
    for k, o in enumerate(obs):
        if np.isfinite(o):
            col = null[:, k]
            out[k] = (1 + np.sum(np.nan_to_num(col, nan=-np.inf) >= o - 1e-12)) / (1 + len(col))
    return out


class ShuffleTest:
    """The shuffle test of Anagnostopoulos, Kumar & Mahdian (2008).

    Parameters
    ----------
    n_permutations : int
        Number of shuffles of the adoption times.
    strata : str, optional
        A column of the panel's controls: shuffle only within its groups (e.g. ``"department"``,
        so that time shocks shared by a department are kept in the null). Default: one group.
    seed : int
        Seed of the shuffles.

    Attributes
    ----------
    alpha_ : dict
        Observed α (``leader``, ``peer``, ``all``).
    alpha_null_ : DataFrame
        α after each shuffle.
    p_values_ : dict
        One-sided p-values (influence makes α larger than shuffled).
    """

    def __init__(self, n_permutations: int = 199, *, strata: str | None = None, seed: int = 0):
        self.n_permutations = n_permutations
        self.strata = strata
        self.seed = seed

    def fit(self, panel: AdoptionPanel) -> ShuffleTest:
        rng = np.random.default_rng(self.seed)
        obs = _alphas(panel)
        groups = risk_set_groups(panel, self.strata)
        null = np.empty((self.n_permutations, 3))
        for b in range(self.n_permutations):
            null[b] = _alphas(panel.with_adopt(permute_at_risk(panel, groups, rng)))
        self.alpha_ = dict(zip(_ALPHA_NAMES, obs.tolist(), strict=True))
        self.alpha_null_ = pd.DataFrame(null, columns=list(_ALPHA_NAMES))
        self.p_values_ = dict(zip(_ALPHA_NAMES, _p_greater(obs, null).tolist(), strict=True))
        return self


def risk_set_groups(panel: AdoptionPanel, strata: str | None = None) -> list[np.ndarray]:
    """The people at risk, in groups (one group, or one per level of the control ``strata``)."""
    people = np.flatnonzero(panel.at_risk)
    if strata is None:
        return [people]
    if panel.controls is None or strata not in panel.controls.columns:
        raise AnalysisError(f"shuffle strata {strata!r} is not a control column of the panel; "
                            "pass it in controls= when building the panel")
    lab = panel.controls[strata].reindex(panel.ids[people]).astype(str).to_numpy()
    return [people[lab == g] for g in np.unique(lab)]


def permute_at_risk(panel: AdoptionPanel, groups: list[np.ndarray],
                    rng: np.random.Generator) -> np.ndarray:
    """Adoption periods with those of the people at risk permuted within each group.

    Non-adopters (period ``n_periods``) are permuted with the adopters, so every group keeps its
    number of adoptions in each period and its risk set's size in each period: under the null that
    everyone at risk in a group shares one hazard in each period, the adopters of each period are
    a uniform draw from the risk set, and this permutation has exactly that law. People not at risk
    (leaders, earlier adopters, outside sources) keep their times, hence their exposure of others.
    """
    adopt = panel.adopt.copy()
    for g in groups:
        adopt[g] = adopt[rng.permutation(g)]
    return adopt


class EdgeReversalTest:
    """The edge-reversal test of Anagnostopoulos, Kumar & Mahdian (2008), with a randomization
    p-value.

    The statistic is ``D = α(G) − α(Gᵀ)`` (per exposure kind); its null distribution comes from
    networks in which each tie's direction is flipped with probability ½ (under the hypothesis
    that direction does not matter, as under homophily without influence).

    Parameters
    ----------
    n_permutations : int
        Number of random direction flips.
    seed : int
        Seed of the flips.

    Attributes
    ----------
    alpha_, alpha_reversed_ : dict
        α on the network and on the reversed network.
    difference_ : dict
        ``alpha_ - alpha_reversed_``.
    p_values_ : dict
        One-sided p-values (influence makes D larger than under random directions).
    """

    def __init__(self, n_permutations: int = 199, *, seed: int = 0):
        self.n_permutations = n_permutations
        self.seed = seed

    def fit(self, panel: AdoptionPanel) -> EdgeReversalTest:
        rng = np.random.default_rng(self.seed)
        fwd, rev = _alphas(panel), _alphas(panel.reversed())
        obs = fwd - rev
        null = np.empty((self.n_permutations, 3))
        for b in range(self.n_permutations):
            flip = rng.random(len(panel.ti)) < 0.5
            ti = np.where(flip, panel.tj, panel.ti)
            tj = np.where(flip, panel.ti, panel.tj)
            g = panel.with_ties(ti, tj)
            null[b] = _alphas(g) - _alphas(g.reversed())
        self.alpha_ = dict(zip(_ALPHA_NAMES, fwd.tolist(), strict=True))
        self.alpha_reversed_ = dict(zip(_ALPHA_NAMES, rev.tolist(), strict=True))
        self.difference_ = dict(zip(_ALPHA_NAMES, obs.tolist(), strict=True))
        self.p_values_ = dict(zip(_ALPHA_NAMES, _p_greater(obs, null).tolist(), strict=True))
        return self



def _people_and_events(df: pd.DataFrame) -> tuple[int, int]:
    """People and adoptions of a person-period design; a hazard model needs two adoptions."""
    n_events = int(df.event.sum())
    if n_events < 2:
        raise AnalysisError(f"only {n_events} adoption(s) in the window: a hazard model needs "
                            "more; widen the window or choose a more common behaviour")
    return int(df.id.nunique()), n_events

class ExposureCox:
    """Time-varying Cox proportional-hazards model of adoption with leader and peer exposure.

    Parameters
    ----------
    exposure : {"indicator", "count", "log1p"}
        How exposed contacts who had adopted enter the model: ``indicator`` (≥ 1 leader, ≥ 1
        peer), ``count``, or ``log1p`` (ln(1 + count)).
    controls : sequence of str
        Person-level columns of the panel's controls: numeric ones enter as they are, others as
        indicators (first level in sorted order = reference).
    alpha : float
        1 − confidence level of the intervals.
    penalizer : float
        lifelines' ridge penalizer (0 = plain partial likelihood).
    strata : sequence of str
        Columns of the panel's controls by which the baseline hazard is stratified (lifelines
        ``strata``): one baseline hazard per group, so any time pattern a group shares (a
        department's training week, its own trend) is absorbed. A covariate that is the same for
        everyone of a group at each time (leader exposure on reporting lines, where the whole
        department sees the same leaders) is then not estimable and is reported as dropped.
    group_share : str, optional
        A column of the panel's controls (e.g. ``"department"``): adds the time-varying covariate
        ``<column>_share``, the share of the person's group (people at risk at the start) who had
        adopted at least ``lag`` periods earlier — a proxy for common shocks and for contagion
        through ties the exposure network does not hold.
    share_window : int, optional
        With ``group_share``: count only adoptions of the last ``share_window`` periods (a recent
        adoption rate rather than a cumulative share).

    Attributes
    ----------
    summary_ : DataFrame
        One row per covariate: ``covariate, hazard_ratio, ci_low, ci_high, p_value, coef, se``.
    hazard_ratios_ : dict
        ``{covariate: hazard ratio}``.
    n_people_, n_events_ : int
    penalizer_ : float
        The penalizer used: when the plain partial likelihood does not converge (separation), the
        fit is retried with a ridge of 0.01, then 0.1 (intervals then are approximate).
    """

    def __init__(self, exposure: str = "indicator", *, controls: Sequence[str] = (),
                 alpha: float = 0.05, penalizer: float = 0.0, strata: Sequence[str] = (),
                 group_share: str | None = None, share_window: int | None = None):
        self.exposure = exposure
        self.controls = tuple(controls)
        self.alpha = alpha
        self.penalizer = penalizer
        self.strata = tuple(strata)
        self.group_share = group_share
        self.share_window = share_window

    def design(self, panel: AdoptionPanel) -> pd.DataFrame:
        """The long (start, stop] table lifelines fits."""
        if self.exposure not in ("indicator", "count", "log1p"):
            raise AnalysisError(f"exposure={self.exposure!r}: choose indicator, count or log1p")
        for c in (*self.strata, *([self.group_share] if self.group_share else [])):
            if panel.controls is None or c not in panel.controls.columns:
                raise AnalysisError(f"{c!r} is not a control column of the panel; pass it in "
                                    "controls= when building the panel")
        ep = panel.episodes()
        if self.group_share:
            group, share = group_share_steps(panel, self.group_share, window=self.share_window)
            ep = split_episodes(ep, group[ep["person"]], share)
        f = {"indicator": lambda c: (c > 0).astype(float), "count": lambda c: c.astype(float),
             "log1p": lambda c: np.log1p(c)}[self.exposure]
        df = pd.DataFrame({"id": ep["person"], "start": ep["start"].astype(float),
                           "stop": ep["stop"].astype(float), "event": ep["event"].astype(int),
                           "leader_exposure": f(ep["n_leader"]), "peer_exposure": f(ep["n_peer"])})
        if self.group_share:
            df[f"{self.group_share}_share"] = ep["share"]
        if self.strata:
            lab = panel.controls.reindex(panel.ids[df.id.to_numpy()])[list(self.strata)]
            for c in self.strata:
                df[f"stratum:{c}"] = lab[c].astype(str).to_numpy()
        if self.controls:
            ctl = panel.controls.reindex(panel.ids[df.id.to_numpy()])[list(self.controls)]
            ctl = ctl.reset_index(drop=True)
            for c in self.controls:
                col = ctl[c]
                if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
                    df[c] = col.astype(float).to_numpy()
                else:
                    d = pd.get_dummies(col.astype(str), prefix=c, prefix_sep="=", dtype=float)
                    d = d[sorted(d.columns)[1:]]
                    for k in d.columns:
                        df[k] = d[k].to_numpy()
            if df.isna().any().any():
                bad = [c for c in df.columns if df[c].isna().any()]
                raise AnalysisError(f"controls {bad} are missing for some people at risk; choose "
                                    "controls known for everyone or fill them in the roster")
        return df

    def fit(self, panel: AdoptionPanel) -> ExposureCox:
        import warnings

        from lifelines import CoxTimeVaryingFitter

        df = self.design(panel)
        self.n_people_, self.n_events_ = _people_and_events(df)
        strata = [c for c in df.columns if c.startswith("stratum:")]
        covs = [c for c in df.columns if c not in ("id", "start", "stop", "event", *strata)]
        dropped = [c for c in covs if df[c].nunique() < 2]
        self.dropped_ = dropped
        df = df.drop(columns=dropped)
        if not [c for c in covs if c not in dropped]:
            raise AnalysisError("no covariate varies among the people at risk (nobody was ever "
                                "exposed); the hazard model cannot be fitted")
        from lifelines.exceptions import ConvergenceError

        self.penalizer_ = self.penalizer
        for pen in (self.penalizer, max(self.penalizer, 0.01), max(self.penalizer, 0.1)):
            ctv = CoxTimeVaryingFitter(alpha=self.alpha, penalizer=pen)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ctv.fit(df, id_col="id", event_col="event", start_col="start",
                            stop_col="stop", strata=strata or None)
            except (ConvergenceError, np.linalg.LinAlgError, ValueError):
                continue
            self.penalizer_ = pen
            break
        else:
            raise AnalysisError("the hazard model did not converge (exposure separates adopters "
                                "from the others, e.g. only exposed people adopted); report the "
                                "exposure curves instead or widen the window")
        s = ctv.summary
        lo = [c for c in s.columns if c.startswith("exp(coef) lower")][0]
        hi = [c for c in s.columns if c.startswith("exp(coef) upper")][0]
        self.summary_ = pd.DataFrame({
            "covariate": s.index.astype(str), "hazard_ratio": s["exp(coef)"].to_numpy(),
            "ci_low": s[lo].to_numpy(), "ci_high": s[hi].to_numpy(), "p_value": s["p"].to_numpy(),
            "coef": s["coef"].to_numpy(), "se": s["se(coef)"].to_numpy()}).reset_index(drop=True)
        self.hazard_ratios_ = dict(zip(self.summary_.covariate, self.summary_.hazard_ratio,
                                       strict=True))
        return self

    def interval(self, covariate: str) -> tuple[float, float, float]:
        """``(hazard ratio, ci_low, ci_high)`` of one covariate (NaN when it was dropped)."""
        row = self.summary_[self.summary_.covariate == covariate]
        if not len(row):
            return (np.nan, np.nan, np.nan)
        r = row.iloc[0]
        return (float(r.hazard_ratio), float(r.ci_low), float(r.ci_high))


class DiscreteHazard:
    """Discrete-time proportional-hazards model of adoption (grouped-time Cox model, Prentice &
    Gloeckler 1978) with leader and peer exposure and profile-likelihood intervals.

    ``P(adopt in period t | at risk) = 1 − exp(−exp(a_t + β·x(i,t)))``: a free baseline ``a_t``
    per period (per period and stratum with ``strata``), complementary log-log link. This is
    exactly a proportional-hazards model whose hazard is constant within a period, so
    ``exp(β)`` is the hazard ratio of the underlying hazard — no approximation for tied event
    times is needed, and periods without adoptions drop out. Intervals for the exposure
    covariates invert the likelihood-ratio test (profile likelihood), so they stay honest when few
    adoptions happen without exposure (where the Wald interval of the partial likelihood fails and
    a ridge would pull the estimate to 1); they may be open-ended (``inf``) when the data cannot
    bound the ratio. Other covariates get Wald intervals from the expected information.

    Parameters
    ----------
    exposure, controls, group_share, share_window
        As for :class:`ExposureCox` (the same design table).
    strata : sequence of str
        Control columns: one baseline per period and level (absorbs any time pattern a group
        shares; a covariate constant within group and period is then not estimable).
    alpha : float
        1 − confidence level.
    profile : sequence of str
        Covariates that get profile-likelihood intervals.
    cluster : str, optional
        A control column (e.g. ``"department"``) whose groups may share unmodelled shocks, so
        that person-periods within a group are not independent. Variances become cluster-robust
        (sandwich with the efficient score summed per group, small-sample factor ``G/(G − 1)``;
        Lin & Wei 1989, Cameron & Miller 2015), and a profiled covariate's likelihood-ratio
        statistic is scaled by the ratio of model-based to robust variance (the robust
        likelihood-ratio statistic, Royall 1986; Rotnitzky & Jewell 1990) and referred to
        ``F(1, G − 1)`` instead of χ²₁, for its p-value and for the interval it inverts.
        With ``robust_floor`` (default) the ratio is never taken below 1: with a handful of
        groups the robust variance is itself noisy, and an interval narrower than the
        model-based one is not trusted.

    Attributes
    ----------
    summary_ : DataFrame
        ``covariate, hazard_ratio, ci_low, ci_high, p_value, coef, se, interval``; for profiled
        covariates ``p_value`` is the likelihood-ratio test of β = 0. With ``cluster`` also
        ``se_model`` (the model-based standard error; ``se`` is the robust one) and
        ``variance_ratio`` (robust over model-based variance, as used: floored at 1 with
        ``robust_floor``).
    n_people_, n_events_ : int
    n_clusters_ : int
        Groups of ``cluster`` among the people at risk (with ``cluster``).
    """

    #: |β| beyond which the profile search stops (hazard ratios beyond e^±12 are reported as
    #: unbounded)
    BOUND = 12.0

    def __init__(self, exposure: str = "indicator", *, controls: Sequence[str] = (),
                 strata: Sequence[str] = (), group_share: str | None = None,
                 share_window: int | None = None, alpha: float = 0.05,
                 profile: Sequence[str] = ("leader_exposure", "peer_exposure"),
                 cluster: str | None = None, robust_floor: bool = True):
        self.exposure = exposure
        self.controls = tuple(controls)
        self.strata = tuple(strata)
        self.group_share = group_share
        self.share_window = share_window
        self.alpha = alpha
        self.profile = tuple(profile)
        self.cluster = cluster
        self.robust_floor = robust_floor

    def cells(self, panel: AdoptionPanel) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                   np.ndarray, list[str]]:
        """``(group, X, n, y, names)``: person-periods aggregated by baseline group (period ×
        stratum) and covariate pattern (and ``cluster`` group: then ``self.cell_cluster_`` holds
        each cell's group code)."""
        df = ExposureCox(self.exposure, controls=self.controls, strata=self.strata,
                         group_share=self.group_share, share_window=self.share_window
                         ).design(panel)
        if self.cluster is not None:
            if panel.controls is None or self.cluster not in panel.controls.columns:
                raise AnalysisError(f"cluster={self.cluster!r} is not a control column of the "
                                    "panel; pass it in controls= when building the panel")
            lab = panel.controls[self.cluster].reindex(panel.ids[df.id.to_numpy()])
            ccode = pd.factorize(lab.astype(str))[0].astype(np.int64)
        self.n_people_, self.n_events_ = _people_and_events(df)
        strata = [c for c in df.columns if c.startswith("stratum:")]
        names = [c for c in df.columns if c not in ("id", "start", "stop", "event", *strata)]
        names = [c for c in names if df[c].nunique() > 1]
        self.dropped_ = [c for c in df.columns if c not in ("id", "start", "stop", "event",
                                                          *strata, *names)]
        if not names:
            raise AnalysisError("no covariate varies among the people at risk (nobody was ever "
                                "exposed); the hazard model cannot be fitted")
        s_code, n_s, pat, pat_code, row, t, ev = _person_periods(df, strata, names)
        gkey = t * n_s + s_code[row]
        key = gkey * len(pat) + pat_code[row]
        n_c = 1
        if self.cluster is not None:
            n_c = int(ccode.max()) + 1
            key = key * n_c + ccode[row]
        ukey, inv = np.unique(key, return_inverse=True)
        n = np.bincount(inv).astype(float)
        y = np.bincount(inv, weights=ev)
        cell_cluster = ukey % n_c
        ukey = ukey // n_c
        group = ukey // len(pat)
        X = pat[ukey % len(pat)]
        # baseline groups without adoptions have a_t = −∞ and drop out
        has = np.bincount(np.unique(group, return_inverse=True)[1], weights=y)
        keep = has[np.unique(group, return_inverse=True)[1]] > 0
        group = np.unique(group[keep], return_inverse=True)[1].ravel()
        self.cell_cluster_ = cell_cluster[keep] if self.cluster is not None else None
        return group, X[keep], n[keep], y[keep], names

    @staticmethod
    def robust_cov(group, X, n, y, a, b, cluster) -> tuple[np.ndarray, int]:
        """Cluster-robust covariance of β̂ (baseline eliminated) and the number of clusters.

        ``S⁻¹ (G/(G−1) Σ_g s_g s_gᵀ) S⁻¹`` with ``S`` the expected information of β after the
        baseline block is eliminated and ``s_g`` the efficient score of cluster ``g``: each
        cell's score ``u_c`` times ``x_c − I_aβ/I_aa`` of its baseline group, summed over the
        cluster's cells."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return DiscreteHazard._robust_cov(group, X, n, y, a, b, cluster)

    @staticmethod
    def _information(group, X, n, a, b, offset=0.0):
        """``(mu, Iaa, Iab, S)`` at ``(a, b)``: the cells' hazards, the baseline block (diagonal)
        and cross block of the expected information, and β's information with the baseline
        eliminated, ``S = I_ββ − I_βa I_aa⁻¹ I_aβ``."""
        G = int(group.max()) + 1
        mu = np.exp(np.clip(a[group] + X @ b + offset, -200, 30))
        w = n * mu * mu / np.expm1(mu)
        Iaa = np.bincount(group, weights=w, minlength=G) + 1e-12
        Iab = np.column_stack([np.bincount(group, weights=w * X[:, j], minlength=G)
                               for j in range(X.shape[1])])
        S = X.T @ (w[:, None] * X) - Iab.T @ (Iab / Iaa[:, None])
        return mu, Iaa, Iab, S

    @staticmethod
    def _robust_cov(group, X, n, y, a, b, cluster):
        mu, Iaa, Iab, S = DiscreteHazard._information(group, X, n, a, b)
        u = y * mu / np.expm1(mu) - (n - y) * mu
        eff = u[:, None] * (X - Iab[group] / Iaa[group][:, None])
        codes, k = np.unique(cluster, return_inverse=True)
        sg = np.zeros((len(codes), X.shape[1]))
        np.add.at(sg, k.ravel(), eff)
        n_g = len(codes)
        meat = sg.T @ sg * (n_g / max(n_g - 1, 1))
        try:
            Si = np.linalg.inv(S)
        except np.linalg.LinAlgError:
            return np.full_like(S, np.nan), n_g
        return Si @ meat @ Si, n_g

    @staticmethod
    def _fit(group, X, n, y, offset, iters=100, init=None):
        """Fisher scoring for (a, β) with the baseline block eliminated. Returns
        ``(beta, cov, loglik, converged, a)``."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return DiscreteHazard._fit1(group, X, n, y, offset, iters, init)

    @staticmethod
    def _fit1(group, X, n, y, offset, iters, init):
        G = int(group.max()) + 1
        p = X.shape[1]
        if init is not None:
            a, b = init[0].copy(), init[1].copy()
        else:
            rate = np.bincount(group, weights=y, minlength=G) / np.bincount(group, weights=n,
                                                                            minlength=G)
            off = (np.bincount(group, weights=n * offset, minlength=G)
                   / np.bincount(group, weights=n, minlength=G))
            a = np.log(-np.log1p(-np.clip(rate, 1e-12, 1 - 1e-12))) - off
            b = np.zeros(p)

        def loglik(a, b):
            mu = np.exp(np.clip(a[group] + X @ b + offset, -200, 30))
            return float(np.sum(y * np.log(-np.expm1(-mu)) - (n - y) * mu))

        ll = loglik(a, b)
        converged = False
        for _ in range(iters):
            mu = np.exp(np.clip(a[group] + X @ b + offset, -200, 30))
            em1 = np.expm1(mu)
            u = y * mu / em1 - (n - y) * mu
            w = n * mu * mu / em1
            ua = np.bincount(group, weights=u, minlength=G)
            Iaa = np.bincount(group, weights=w, minlength=G) + 1e-12
            if p:
                Iab = np.column_stack([np.bincount(group, weights=w * X[:, j], minlength=G)
                                       for j in range(p)])
                ub = X.T @ u
                S = X.T @ (w[:, None] * X) - Iab.T @ (Iab / Iaa[:, None])
                try:
                    db = np.linalg.solve(S, ub - Iab.T @ (ua / Iaa))
                except np.linalg.LinAlgError:
                    db = np.linalg.lstsq(S, ub - Iab.T @ (ua / Iaa), rcond=None)[0]
                da = (ua - Iab @ db) / Iaa
            else:
                S, db, da = np.zeros((0, 0)), np.zeros(0), ua / Iaa
            big = max(np.max(np.abs(da), initial=0), np.max(np.abs(db), initial=0))
            if big > 2.0:  # far from the optimum the information vanishes: cap the step
                da, db = da * (2.0 / big), db * (2.0 / big)
            step = 1.0
            accepted = False
            while step > 1e-4:
                a2, b2 = a + step * da, b + step * db
                ll2 = loglik(a2, b2)
                if ll2 >= ll - 1e-10:
                    accepted = True
                    break
                step /= 2
            if not accepted:  # no ascent along the scoring direction: at the optimum or stuck
                break
            a, b, gain, ll = a2, b2, ll2 - ll, ll2
            if abs(gain) < 1e-9 and np.max(np.abs(step * db), initial=0) < 1e-6:
                break
        theta = np.r_[a, b]

        def negll(th):
            eta = np.clip(th[:G][group] + X @ th[G:] + offset, -200, 30)
            mu = np.exp(eta)
            u = y * mu / np.expm1(mu) - (n - y) * mu
            f = -float(np.sum(y * np.log(-np.expm1(-mu)) - (n - y) * mu))
            return f, -np.r_[np.bincount(group, weights=u, minlength=G), X.T @ u]

        grad = negll(theta)[1]
        if np.max(np.abs(grad)) > 1e-4:  # scoring stalled: quasi-Newton from where it stopped
            from scipy.optimize import minimize

            r = minimize(negll, theta, jac=True, method="L-BFGS-B",
                         options={"maxiter": 20000, "maxfun": 40000, "ftol": 1e-15,
                                  "gtol": 1e-7})
            if -r.fun >= ll:
                theta, ll = r.x, -float(r.fun)
                a, b = theta[:G], theta[G:]
            grad = negll(theta)[1]
        converged = bool(np.max(np.abs(grad)) < 1e-3)
        if p:  # expected information at the final point, baseline eliminated
            S = DiscreteHazard._information(group, X, n, a, b, offset)[-1]
        try:
            cov = np.linalg.inv(S) if p else S
        except np.linalg.LinAlgError:
            cov = np.full((p, p), np.nan)
        return b, cov, ll, converged, a

    def _profile(self, group, X, n, y, k, b, ll, ok, crit, step):
        """Profile-likelihood estimate and interval of coefficient ``k`` (bounds ±BOUND)."""
        from scipy import optimize

        others = np.delete(X, k, axis=1)
        bo = np.delete(b, k)
        warm = [self._a, bo]

        def prof(v):
            r = self._fit(group, others, n, y, v * X[:, k], init=warm)
            if not (np.isfinite(r[2]) and r[3]):  # a warm start far from the optimum: start cold
                r = self._fit(group, others, n, y, v * X[:, k])
            if np.isfinite(r[2]) and r[3]:
                warm[0], warm[1] = r[4], r[0]
            return r[2]

        B = self.BOUND
        coef = float(b[k])
        if not ok or abs(coef) > B or not np.isfinite(ll):
            r = optimize.minimize_scalar(lambda v: -prof(v), bounds=(-B, B), method="bounded",
                                         options={"xatol": 1e-4})
            coef, ll = float(r.x), -float(r.fun)
        ll = max(ll, prof(coef))  # a flat likelihood can stop the joint fit short of its maximum
        p0 = prof(0.0)
        if p0 > ll:
            coef, ll = 0.0, p0
        target = ll - crit
        bounds = []
        for sign in (-1, 1):
            warm[0], warm[1] = self._a, bo
            inner, v = coef, coef + sign * step
            while abs(v) < B and prof(v) > target:
                inner, v = v, coef + 2 * (v - coef)
            v = float(np.clip(v, -B, B))
            if prof(v) > target:
                bounds.append(sign * np.inf)
                continue
            if prof(inner) <= target:
                bounds.append(inner)
                continue
            try:
                bounds.append(optimize.brentq(lambda x: prof(x) - target, min(inner, v),
                                              max(inner, v), xtol=1e-5))
            except ValueError:  # a non-monotone profile (fits stopping short): the outer point
                bounds.append(v)
        warm[0], warm[1] = self._a, bo
        return coef, ll, bounds[0], bounds[1], prof

    def fit(self, panel: AdoptionPanel) -> DiscreteHazard:
        from scipy import stats

        group, X, n, y, names = self.cells(panel)
        zero = np.zeros(len(n))
        b, cov, ll, ok, self._a = self._fit(group, X, n, y, zero)
        se_model = np.sqrt(np.clip(np.diag(cov), 0, None))
        ratio = np.ones(len(names))
        # reference laws of the Wald statistic and of the likelihood-ratio statistic
        ref_t, ref_f = stats.norm, stats.chi2(1)
        if self.cluster is not None:
            rcov, n_g = self.robust_cov(group, X, n, y, self._a, b, self.cell_cluster_)
            self.n_clusters_ = n_g
            if n_g < 2:
                raise AnalysisError(f"cluster={self.cluster!r}: the people at risk are all in "
                                    "one group; cluster-robust intervals need at least two")
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.diag(rcov) / np.diag(cov)
            ratio = np.where(np.isfinite(ratio) & (ratio > 0), ratio, 1.0)
            if self.robust_floor:
                ratio = np.maximum(ratio, 1.0)
            ref_t, ref_f = stats.t(n_g - 1), stats.f(1, n_g - 1)
        se = se_model * np.sqrt(ratio)
        z, q = ref_t.ppf(1 - self.alpha / 2), ref_f.ppf(1 - self.alpha)
        rows = []
        for k, name in enumerate(names):
            coef, s = float(b[k]), float(se[k])
            lo, hi = coef - z * s, coef + z * s
            pval = float(2 * ref_t.sf(abs(coef) / s)) if s > 0 else np.nan
            how = "Wald" if self.cluster is None else "cluster-robust Wald"
            if name in self.profile:
                coef, llmax, lo, hi, prof = self._profile(group, X, n, y, k, b, ll, ok,
                                                          q * ratio[k] / 2,
                                                          max(z * s, 0.1) if s > 0 else 0.5)
                pval = float(ref_f.sf(max(2 * (llmax - prof(0.0)), 0.0) / ratio[k]))
                how = ("profile likelihood" if self.cluster is None
                       else "robust profile likelihood")
            with np.errstate(over="ignore"):  # a Wald bound beyond e^709 is an unbounded ratio
                hr, ci = float(np.exp(coef)), (float(np.exp(lo)), float(np.exp(hi)))
            rows.append({"covariate": name, "hazard_ratio": hr, "ci_low": ci[0],
                         "ci_high": ci[1], "p_value": pval, "coef": coef, "se": s,
                         "interval": how})
            if self.cluster is not None:
                rows[-1].update(se_model=float(se_model[k]), variance_ratio=float(ratio[k]))
        self.converged_ = ok
        self.summary_ = pd.DataFrame(rows)
        self.hazard_ratios_ = dict(zip(self.summary_.covariate, self.summary_.hazard_ratio,
                                       strict=True))
        return self

    def interval(self, covariate: str) -> tuple[float, float, float]:
        """``(hazard ratio, ci_low, ci_high)`` of one covariate (NaN when it was dropped)."""
        return ExposureCox.interval(self, covariate)


def group_share_steps(panel: AdoptionPanel, column: str, *,
                      window: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lagged adoption share of each group of the people at risk, per period.

    Returns ``(group, share)``: ``group[k]`` is person ``k``'s group index (``-1`` if not at
    risk) and ``share[g, t]`` the share of group ``g`` (its people at risk at the start) who had
    adopted in a period ≤ ``t - lag`` (and, with ``window``, > ``t - lag - window``).
    """
    people = np.flatnonzero(panel.at_risk)
    lab = panel.controls[column].reindex(panel.ids[people]).astype(str).to_numpy()
    levels, gidx = np.unique(lab, return_inverse=True)
    group = np.full(len(panel.ids), -1, dtype=np.int64)
    group[people] = gidx
    T = panel.n_periods
    inc = np.zeros((len(levels), T + 2))
    a = panel.adopt[people]
    ok = a < T
    s0 = np.minimum(a[ok] + panel.lag, T + 1)
    np.add.at(inc, (gidx[ok], s0), 1.0)
    if window is not None:
        if window < 1:
            raise AnalysisError(f"share_window={window}: give at least one period")
        np.add.at(inc, (gidx[ok], np.minimum(s0 + window, T + 1)), -1.0)
    size = np.maximum(np.bincount(gidx, minlength=len(levels)), 1)
    share = np.cumsum(inc, axis=1)[:, : T + 1] / size[:, None]
    return group, share


def split_episodes(ep: dict[str, np.ndarray], group: np.ndarray,
                   share: np.ndarray) -> dict[str, np.ndarray]:
    """Split spells where their group's step function ``share[g, t]`` changes; adds ``share``
    (the value over each piece). The event stays on the last piece of a spell."""
    start, stop = ep["start"], ep["stop"]
    cuts = [np.flatnonzero(np.diff(share[g]) != 0) + 1 for g in range(share.shape[0])]
    lo = np.zeros(len(start), np.int64)
    hi = np.zeros(len(start), np.int64)
    offs = np.cumsum([0] + [len(c) for c in cuts])
    allc = np.concatenate(cuts + [np.zeros(0, np.int64)]).astype(np.int64)
    for g, c in enumerate(cuts):
        m = group == g
        lo[m] = offs[g] + np.searchsorted(c, start[m], side="right")
        hi[m] = offs[g] + np.searchsorted(c, stop[m], side="left")
    k = hi - lo + 1                       # pieces per spell
    row = np.repeat(np.arange(len(start)), k)
    j = np.arange(len(row)) - np.repeat(np.cumsum(k) - k, k)  # piece number within its spell
    first = j == 0
    last = j == np.repeat(k - 1, k)
    cut_before = allc[np.clip(lo[row] + j - 1, 0, max(len(allc) - 1, 0))] if len(allc) else 0
    cut_after = allc[np.clip(lo[row] + j, 0, max(len(allc) - 1, 0))] if len(allc) else 0
    pstart = np.where(first, start[row], cut_before)
    pstop = np.where(last, stop[row], cut_after)
    out = {key: v[row] for key, v in ep.items()}
    out["start"], out["stop"] = pstart, pstop
    out["event"] = ep["event"][row] & last
    out["share"] = share[group[row], pstart]
    return out


class LeaderPermutationTest:
    """Randomization test of the leader-exposure coefficient of a :class:`DiscreteHazard` model:
    the leaders' adoption periods are permuted among the leaders (within ``leader_groups``).

    The statistic is the likelihood-ratio statistic of β_L = 0 in ``model`` (two-sided, with all of
    the model's controls), ``2·(ℓ̂ − ℓ̂₀)``. Only the leaders' times move: the members' adoptions,
    their peer exposure, the department share and every control stay as observed, and so does
    ``ℓ̂₀`` (the fit without leader exposure). Under the null that members' adoption does not
    depend on when the leaders they see adopted, and that leaders of a group are exchangeable
    (their times a draw from one law, whoever sees them), the observed leader times are one draw
    from the permutation law and the test is exact — whatever the members' hazards, shocks or
    homophily. It does not lean on the χ² approximation, which is anti-conservative when leader
    exposure switches on for whole departments at once (few effective switches). The profile
    interval of ``model`` stays the estimate of the ratio; this test gives its p-value.

    The pool of a group is its leaders whom somebody at risk can see (leaders without a tie to
    the people at risk cannot expose anyone; keeping them in would make the pool depend on
    whether they adopted).

    Parameters
    ----------
    model : DiscreteHazard, optional
        The model whose leader coefficient is tested (its exposure measure, controls, strata,
        group share); default ``DiscreteHazard("indicator")``.
    n_permutations : int
        Number of permutations.
    leader_groups : mapping, optional
        Leader id → group (e.g. the level: the CEO is not exchanged with department heads);
        leaders are permuted within groups. Default: one group.
    seed : int
        Seed of the permutations.

    Attributes
    ----------
    statistic_ : float
        Observed likelihood-ratio statistic (0 when leader exposure carries no information).
    null_ : ndarray
        The statistic after each permutation.
    p_value_ : float
        Two-sided: ``(1 + #{null ≥ statistic}) / (1 + B)``; NaN when no leader can be exchanged.
    signed_root_, null_signed_root_ : float, ndarray
        ``sign(β̂_L)·√statistic``, observed and after each permutation.
    p_greater_ : float
        One-sided (influence raises the hazard): ``(1 + #{signed root′ ≥ signed root}) / (1 + B)``,
        1 when the observed β̂_L is not positive.
    n_leaders_ : int
        Leaders in the permutation pools.
    """

    def __init__(self, model: DiscreteHazard | None = None, n_permutations: int = 199, *,
                 leader_groups=None, seed: int = 0):
        self.model = model
        self.n_permutations = n_permutations
        self.leader_groups = leader_groups
        self.seed = seed

    def _design(self, panel: AdoptionPanel):
        """Person-period rows of the model's design without leader exposure, in cells."""
        m = self.model or DiscreteHazard("indicator")
        quiet = panel.adopt.copy()
        quiet[panel.is_leader] = panel.n_periods  # leaders never expose: the base design
        df = ExposureCox(m.exposure, controls=m.controls, strata=m.strata,
                         group_share=m.group_share, share_window=m.share_window
                         ).design(panel.with_adopt(quiet))
        _people_and_events(df)
        strata = [c for c in df.columns if c.startswith("stratum:")]
        names = [c for c in df.columns
                 if c not in ("id", "start", "stop", "event", "leader_exposure", *strata)
                 and df[c].nunique() > 1]
        s_code, n_s, pat, pat_code, row, t, ev = _person_periods(df, strata, names)
        person = df.id.to_numpy(np.int64)[row]
        gkey = t * n_s + s_code[row]
        has = np.zeros(int(gkey.max()) + 1)
        np.add.at(has, gkey, ev)
        keep = has[gkey] > 0  # baseline groups without adoptions drop out
        ckey = gkey[keep] * len(pat) + pat_code[row][keep]
        ucell, cell = np.unique(ckey, return_inverse=True)
        cell = cell.ravel()
        group = np.unique(ucell // len(pat), return_inverse=True)[1].ravel()
        # rows are ordered by person, then period, from period 0: person p's rows start at off[p]
        first = np.r_[True, person[1:] != person[:-1]]
        off = np.full(len(panel.ids), -1, np.int64)
        off[person[first]] = np.flatnonzero(first)
        length = np.zeros(len(panel.ids), np.int64)
        np.add.at(length, person, 1)
        return {"t": t, "person": person, "keep": keep, "cell": cell, "ev": ev[keep],
                "group": group, "X": pat[ucell % len(pat)], "off": off, "length": length,
                "n_cells": len(ucell), "exposure": m.exposure}

    def _leader_counts(self, panel: AdoptionPanel, d: dict, adopt: np.ndarray) -> np.ndarray:
        """Exposed leader contacts of each kept person-period row under leader times ``adopt``."""
        lt = panel.is_leader[panel.tj] & panel.at_risk[panel.ti] & (adopt[panel.tj] < panel.n_periods)
        ti = panel.ti[lt]
        e = np.maximum(panel.tstart[lt], adopt[panel.tj[lt]] + panel.lag)
        ok = e < d["length"][ti]
        inc = np.zeros(len(d["t"]) + 1)
        np.add.at(inc, d["off"][ti[ok]] + e[ok], 1.0)
        cs = np.cumsum(inc)[:-1]
        before = np.r_[0.0, cs][d["off"][d["person"]]]
        return (cs - before)[d["keep"]]

    def _loglik(self, d: dict, counts: np.ndarray, init) -> float:
        f = {"indicator": lambda c: (c > 0).astype(float), "count": lambda c: c,
             "log1p": np.log1p}[d["exposure"]]
        x = f(counts)
        vals, code = np.unique(x, return_inverse=True)
        if len(vals) < 2:
            return -np.inf, 0.0
        key = d["cell"] * len(vals) + code.ravel()
        ukey, inv = np.unique(key, return_inverse=True)
        n = np.bincount(inv).astype(float)
        y = np.bincount(inv, weights=d["ev"])
        c = ukey // len(vals)
        X = np.column_stack([vals[ukey % len(vals)], d["X"][c]])
        b0 = np.r_[0.0, init[1]]
        r = DiscreteHazard._fit(d["group"][c], X, n, y, np.zeros(len(n)), init=(init[0], b0))
        return r[2], float(r[0][0])

    def fit(self, panel: AdoptionPanel) -> LeaderPermutationTest:
        d = self._design(panel)
        n = np.bincount(d["cell"], minlength=d["n_cells"]).astype(float)
        y = np.bincount(d["cell"], weights=d["ev"], minlength=d["n_cells"])
        b0, _, ll0, _, a0 = DiscreteHazard._fit(d["group"], d["X"], n, y, np.zeros(len(n)))
        init = (a0, b0)

        def stat(adopt):  # the signed root of the likelihood-ratio statistic
            ll, b = self._loglik(d, self._leader_counts(panel, d, adopt), init)
            s = 2 * (ll - ll0) if np.isfinite(ll) else 0.0
            return float(np.sign(b) * np.sqrt(s)) if s > 1e-7 else 0.0

        # pools: leaders somebody at risk can see, within their groups
        seen = np.unique(panel.tj[panel.is_leader[panel.tj] & panel.at_risk[panel.ti]])
        if self.leader_groups is None:
            lab = np.zeros(len(seen), dtype=object)
        else:
            g = dict(self.leader_groups)
            lab = np.array([str(g.get(i, "?")) for i in panel.ids[seen]], dtype=object)
        pools = [seen[lab == v] for v in pd.unique(lab)]
        pools = [p for p in pools if len(p) > 1]
        self.n_leaders_ = int(sum(len(p) for p in pools))
        root = stat(panel.adopt)
        rng = np.random.default_rng(self.seed)
        null = np.full(self.n_permutations, np.nan)
        self.statistic_ = root * root
        self.signed_root_ = root
        if pools:
            for k in range(self.n_permutations):
                adopt = panel.adopt.copy()
                for p in pools:
                    adopt[p] = adopt[rng.permutation(p)]
                null[k] = stat(adopt)
            B = 1 + self.n_permutations
            self.p_value_ = float((1 + np.sum(null ** 2 >= root * root - 1e-9)) / B)
            self.p_greater_ = float((1 + np.sum(null >= root - 1e-9)) / B) if root > 0 else 1.0
        else:
            self.p_value_ = self.p_greater_ = np.nan
        self.null_ = null ** 2
        self.null_signed_root_ = null
        return self


def benjamini_hochberg(p_values: Sequence[float]) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values); NaN stays NaN.

    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.5]).round(3).tolist()
    [0.04, 0.053, 0.053, 0.5]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if not len(ok):
        return out
    q = p[ok]
    order = np.argsort(q)
    m = len(q)
    adj = q[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(adj[::-1])[::-1]
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out
