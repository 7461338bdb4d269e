"""Influence or correlation? Hazard ratios of leader and peer exposure with a permutation test of
the leader ratio, per behaviour; the shuffle and edge-reversal tests of contacts' timing beside
them (estimators in :mod:`socialens.behaviours.influence`).

The influence verdict is the hazard model's test of the leader ratio, with inference clustered by
department (the robust likelihood-ratio test, F(1, G − 1)): calibrated through simulated
organizations (EVALUATION.md). The leader-permutation test (leaders' adoption periods permuted
within their level) stays beside it, and is the verdict when the roster has no departments.
The shuffle and edge-reversal tests stay in the table as what they are — tests of whether
adoption depends on contacts' *timing* — and are not an influence verdict: shocks shared by a
department make them reject without any influence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from socialens.analyses.common import post_time_range, roster_at, to_time
from socialens.analyses.result import Result, num
from socialens.analyses.signature import analysis_function
from socialens.behaviours import DEFAULT_EXPOSURE_KINDS, exposure_ties, first_use, leader_ids
from socialens.behaviours.influence import (
    AdoptionPanel,
    DiscreteHazard,
    EdgeReversalTest,
    LeaderPermutationTest,
    ShuffleTest,
    benjamini_hochberg,
)
from socialens.errors import AnalysisError
from socialens.workspace import Workspace

__all__ = ["contagion_tests"]


@analysis_function
def contagion_tests(
    ws: Workspace,
    *,
    behaviours=None,
    as_of=None,
    window_start=None,
    window_end=None,
    leaders: str = "is_leader",
    exposure: tuple[str, ...] = DEFAULT_EXPOSURE_KINDS,
    lag_days: float = 1.0,
    exposure_measure: str = "indicator",
    controls: tuple[str, ...] = ("department",),
    cluster: str | None = "department",
    n_permutations: int = 199,
    seed: int = 0,
) -> Result:
    """Do members start a behaviour once a leader they can see has shown it — more than shared
    timing and homophily explain?

    Parameters
    ----------
    behaviours : str or list, optional
        Behaviour specs (see :mod:`socialens.behaviours.spec`); default ``top-hashtags:20``.
    as_of : time, optional
        When roles (leaders, controls) are read; default the last post.
    window_start, window_end : time, optional
        The observation window (default: the first and last post).
    leaders : str
        Leader rule (``is_leader``, ``level<=N``, ``ids:a,b``).
    exposure : tuple of str
        Exposure network kinds (:data:`socialens.behaviours.EXPOSURE_KINDS`).
    lag_days : float
        Time unit and lag: time is cut into periods of this many days (at least 1), and a contact
        counts from the period after the one in which they adopted.
    exposure_measure : {"indicator", "count", "log1p"}
        How exposure enters the hazard model.
    controls : tuple of str
        Person-level controls of the hazard model, from the roster: ``level``, ``department``.
        With ``department`` (the default, the calibrated model) the model also controls for the
        lagged share of one's department who had already shown the behaviour (common shocks,
        contagion through unobserved ties), and the shuffle test permutes within departments.
        A control the roster does not hold for at least two groups is dropped, with a note.
    cluster : {"department", None}
        Inference clustered by department (default): members of a department share shocks and
        unobserved ties, so their adoptions are not independent; intervals and the leader
        ratio's p-value are cluster-robust (docs/methods.md, Influence tests). ``None``:
        model-based intervals, and the permutation test as the p-value.
    n_permutations : int
        Permutations per test (leader permutations, shuffles, direction flips).
    seed : int
        Seed of the permutation tests.
    """
    period = max(float(lag_days), 1.0)
    t0, t1 = post_time_range(ws)
    start = to_time(window_start, "window_start") or t0
    end = to_time(window_end, "window_end") or t1
    if start is None or end is None or end <= start:
        raise AnalysisError("no observation window: the workspace has no posts; give "
                            "--window-start and --window-end")
    as_of_t = to_time(as_of, "as_of") or end
    lead = leader_ids(ws, leaders, as_of=as_of_t)
    roster = roster_at(ws, as_of_t)
    if roster.empty:
        raise AnalysisError("no roster: the influence tests need the people of the organization")
    controls = tuple(controls)
    bad = [c for c in controls if c not in ("level", "department")]
    if bad:
        raise AnalysisError(f"unknown control(s) {bad}; choose from level, department")
    if cluster not in (None, "department"):
        raise AnalysisError(f"cluster={cluster!r}: choose department or None")
    members = roster[~roster.person_id.isin(lead)].sort_values("person_id", kind="stable")
    notes = []
    groups = {c: members[c].dropna().nunique() for c in ("level", "department")}
    for c in [c for c in controls if groups[c] < 2]:
        notes.append(f"control {c} dropped: the roster gives fewer than two {c}s for the members")
    controls = tuple(c for c in controls if groups[c] >= 2)
    if cluster and groups[cluster] < 2:
        notes.append("inference not clustered: the roster gives fewer than two departments, so "
                     "the intervals are model-based and the permutation test gives the p-value")
        cluster = None
    population = members[["person_id", *dict.fromkeys([*controls, *([cluster] if cluster else [])])]]
    if cluster:
        population = population.assign(**{cluster: population[cluster].fillna("(none)")})
    # leaders are exchanged only with leaders of their level (the CEO keeps their time)
    ranked = roster[roster.person_id.isin(lead)]
    levels = dict(zip(ranked.person_id, ranked.level.astype(str), strict=True))
    # rows in one order whatever the engine returns: the permutations draw by position
    uses = first_use(ws, behaviours).to_pandas().sort_values(
        ["behaviour", "person_id", "at"], kind="stable", ignore_index=True)
    before = uses[uses["at"] < pd.Timestamp(start)]
    ties = exposure_ties(ws, list(exposure), leaders=lead).to_pandas()
    ties = ties.sort_values(list(ties.columns), kind="stable", ignore_index=True)
    rows = []
    for b, g in uses.groupby("behaviour", sort=True):
        pop = population[~population.person_id.isin(before[before.behaviour == b].person_id)]
        panel = AdoptionPanel.from_tables(g[["person_id", "at"]], ties, population=pop,
                                          leaders=lead, start=start, end=end,
                                          period=pd.Timedelta(days=period), lag=1,
                                          controls=list(population.columns[1:]))
        row = {"behaviour": b, "n_at_risk": panel.n_at_risk, "n_adopted": panel.n_events}
        dept = "department" in controls
        model = DiscreteHazard(exposure_measure, controls=controls,
                               group_share="department" if dept else None, cluster=cluster)
        try:
            cox = model.fit(panel)
            for k in ("leader", "peer"):
                hr, lo, hi = cox.interval(f"{k}_exposure")
                row.update({f"hr_{k}": hr, f"hr_{k}_ci": [lo, hi]})
            if np.isfinite(row["hr_leader"]):
                # the permutations refit the same model (its clustering plays no part there)
                perm = LeaderPermutationTest(model, n_permutations, leader_groups=levels,
                                             seed=seed).fit(panel)
                row["p_leader_perm"] = perm.p_value_
                row["p_leader"] = (float(cox.summary_.set_index("covariate")
                                         .p_value["leader_exposure"]) if cluster
                                   else perm.p_value_)
                if cluster:
                    row["n_clusters"] = cox.n_clusters_
        except AnalysisError as exc:
            notes.append(f"{b}: hazard model not fitted: {exc}")
        sh = ShuffleTest(n_permutations, seed=seed,
                         strata="department" if dept else None).fit(panel)
        er = EdgeReversalTest(n_permutations, seed=seed).fit(panel)
        row.update(alpha_leader=sh.alpha_["leader"], alpha_peer=sh.alpha_["peer"],
                   p_shuffle_leader=sh.p_values_["leader"], p_shuffle_peer=sh.p_values_["peer"],
                   p_reversal_leader=er.p_values_["leader"], p_reversal_peer=er.p_values_["peer"])
        rows.append(row)
    if not rows:
        raise AnalysisError("no behaviour was shown by anyone in the window; choose other "
                            "behaviours (--behaviour) or a wider window")
    table = pd.DataFrame(rows)
    for col in ("p_leader", "p_leader_perm"):
        if col not in table:
            table[col] = np.nan
    for col in ("p_leader", "p_leader_perm", "p_shuffle_leader", "p_shuffle_peer",
                "p_reversal_leader", "p_reversal_peer"):
        table[col.replace("p_", "q_", 1)] = benjamini_hochberg(table[col].to_numpy())
    platform_only = any(str(b) == "platform" for b in table.behaviour)
    if platform_only and not {"manager", "leaders_above"} & set(exposure):
        notes.append("joining the platform: follows, replies and mentions exist only between "
                     "people already on it, so nobody off the platform is ever 'exposed' and the "
                     "hazard ratios are inflated; use the reporting lines (exposure manager,leaders_above: "
                     "one's manager and every leader above, the calibrated network) for this "
                     "behaviour")
    perm_note = ("a permutation test: the likelihood-ratio statistic against the same statistic "
                 "with the leaders' adoption times permuted among leaders of the same level "
                 f"({n_permutations} permutations, seed {seed})")
    interval, p_leader = (
        ("robust profile-likelihood intervals clustered by department (the likelihood-ratio "
         "statistic scaled by model-based over cluster-robust variance, never narrower than the "
         "model-based interval, against F(1, G − 1) for G departments; ",
         f"the test this interval inverts; p_leader_perm beside it is {perm_note}")
        if cluster else ("profile-likelihood intervals (", perm_note))
    notes.append("hazard ratios: discrete-time proportional-hazards model (one baseline per "
                 f"period), 95 % {interval}open-ended when the data cannot bound the ratio, e.g. "
                 "everyone saw a leader at the same time); the leader ratio's p-value (p_leader) "
                 f"is {p_leader}; Benjamini–Hochberg q-values across behaviours; docs/methods.md, "
                 "Influence tests. Calibration through simulated organizations: EVALUATION.md.")
    notes.append("the shuffle and edge-reversal columns (Anagnostopoulos, Kumar & Mahdian 2008) "
                 "test whether adoption depends on contacts' timing, not influence: they reject "
                 "under shocks a department shares (a training week, a campaign) without any "
                 "influence (EVALUATION.md), so they are no influence verdict")
    summary = {"n_behaviours": len(table), "n_leaders": len(lead),
               "behaviours": table.to_dict(orient="records")}
    params = {"behaviours": behaviours, "as_of": as_of_t, "window_start": start,
              "window_end": end, "leaders": leaders, "exposure": list(exposure),
              "lag_days": period, "exposure_measure": exposure_measure,
              "controls": list(controls), "cluster": cluster,
              "n_permutations": n_permutations, "seed": seed}
    return Result("contagion_tests", "Do members follow their leaders? Influence tests", params,
                  summary, {"influence_tests": table}, headline=_headline(table, cluster),
                  notes=notes)


def _headline(table: pd.DataFrame, cluster: str | None = None) -> str:
    r = table.sort_values("n_adopted", ascending=False).iloc[0]
    hr, ci = r.get("hr_leader"), r.get("hr_leader_ci")
    if hr is None or (isinstance(hr, float) and np.isnan(hr)):
        first = f"For {r.behaviour}, the leader effect could not be estimated"
    elif not (ci[0] > 0 or np.isfinite(ci[1])):
        first = (f"For {r.behaviour}, the data cannot bound the leader effect (95 % interval "
                 "open at both ends: members saw leaders at the same times)")
    else:
        upper = num(ci[1], '.2f') if np.isfinite(ci[1]) else "no upper bound"
        first = (f"Members were {num(hr, '.2f')} times as likely to start {r.behaviour} once a "
                 f"leader they can see had shown it (95 % CI {num(ci[0], '.2f')}–{upper})")
    q = r.get("q_leader", np.nan)
    # (cannot tell, more than, no evidence): the clustered test's words, or the permutation test's
    words = (("the test cannot tell (no leader exposure to test)",
              "the test clustered by department says this is more than what members of a "
              "department share", "the test clustered by department finds no evidence of leader "
              "influence beyond what members of a department share") if cluster else
             ("the permutation test cannot tell (no leader exposure to test, or no two leaders "
              "of a level to exchange)", "the permutation test says this is more than chance in "
              "when the leaders started", "the permutation test finds no evidence of leader "
              "influence"))
    if q is None or np.isnan(q):
        verdict = words[0]
    else:
        verdict = f"{words[1] if q <= 0.05 else words[2]} (q = {num(q, '.3f')})"
    more = f" ({len(table)} behaviours tested; table)" if len(table) > 1 else ""
    return f"{first}; {verdict}{more}."
