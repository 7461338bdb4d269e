"""The report's first page: the founding questions answered in words, in order.

Two families of questions, each with one pre-declared primary test per question and Holm's
adjustment *within* the family (docs/methods.md, "The founding answer"):

* **leaders** — were the leaders the first to adopt, the most active, the most followed? (one-sided
  tests of the leaders doing better; validated together in EVALUATION.md, "Founding answers");
* **members** — do members follow their leaders' tone, their personal sharing, their hashtags, and
  does what a leader starts herself get more uptake than what an official or delegate account
  starts (modelling vs delegation)? (each analysis's headline contrast; two-sided t p-values from
  the analysis's own interval, so that a "yes" never sits beside a 95 % interval that covers 0;
  the hashtag question uses the exact one-sided leader-first test).

A separate family because the two ask different things of different people (the leaders'
own use vs members' response to it) and the leaders' family keeps the error rate it was validated
with; each family's chance of any false "yes" is at most 0.05.

One line per question: the question, a verdict word, the number with its interval, the evidence,
where the number comes from (section and table of the report) and how well the method is
calibrated (a method whose calibration is not "calibrated" says so next to its number; the badge
follows from the measured figures by the rule of :mod:`socialens.report.calibration`). "Too few to tell" when the organization is too small for the test ever to reach
p < 0.05 or the analysis itself says the data cannot tell. Every number can be missing: a missing
number is written as such, never formatted as if it were one.
"""

from __future__ import annotations

import math
from math import comb

from socialens.analyses.result import Result
from socialens.report.calibration import CALIBRATION
from socialens.stats.multiple import holm, smallest_adjusted

__all__ = ["founding_answer", "answer_lines", "verdicts", "QUESTIONS", "UNKNOWN", "ALPHA",
           "VERDICTS", "FAMILIES", "SOURCES", "CALIBRATION"]

ALPHA = 0.05
#: How a number that is not known is written.
UNKNOWN = "n/a"
#: question key -> the question in words, in the first page's order
QUESTIONS = {"first": "First to adopt?", "most_active": "Most active?",
             "most_followed": "Most followed?",
             "tone": "Do members follow their tone?",
             "sharing": "Do members follow their personal sharing?",
             "hashtags": "Do members follow their hashtags?",
             "delegation": "Modelling or delegation: does what a leader starts herself spread more?"}
#: the multiplicity families (Holm within each)
FAMILIES = {"leaders": ("first", "most_active", "most_followed"),
            "members": ("tone", "sharing", "hashtags", "delegation")}
#: question -> (report section, where in it the number is)
SOURCES = {
    "first": ("adoption", "Numbers: the leaders' median adoption rank and its p-value; table "
                          "'adopters'"),
    "most_active": ("activity", "Numbers: the rate ratio of leaders vs others (primary)"),
    "most_followed": ("directory", "Numbers: the leaders' median follower rank and its p-value; "
                                   "table 'ranking'"),
    "tone": ("tone", "table 'alignment', joint model, row leader_minus_peer (jackknife interval)"),
    "sharing": ("sharing", "table 'shift', row leader_minus_peer"),
    "hashtags": ("contagion", "Numbers: leader first; table 'behaviours' (first users) and "
                              "'exposure curves' (k = 1)"),
    "delegation": ("delegation", "table 'comparison', row uptake_share (matched by period)"),
}
#: the verdict words, from the strongest
VERDICTS = ("yes", "leaning yes, not significant", "no", "too few to tell", "unknown")
#: how many leaders' ranks the answer lists before "..."
MAX_RANKS_SHOWN = 9


def _n(value, spec: str = "g") -> str:
    return UNKNOWN if value is None else format(value, spec)


def _verdict(p_adj: float | None, better: bool | None, reachable: bool | None) -> str:
    """``reachable`` False: even the most extreme data could not give an adjusted p < ALPHA."""
    if p_adj is None or better is None:
        return "unknown"
    if reachable is False:
        return "too few to tell"
    if p_adj < ALPHA and better:
        return "yes"
    if better:
        return "leaning yes, not significant"
    return "no"


def _rank_primary(s: dict, kind: str, n_key: str, lead_key: str) -> dict:
    lead, others = s[f"leaders_median_{kind}_rank"], s.get(f"others_median_{kind}_rank")
    prim = s.get("primary") or {
        "p_value": s.get("p_value_median_rank"), "min_p_value": s.get("min_p_value_median_rank"),
        "better": None if lead is None or others is None else lead < others,
        "statistic": f"the leaders' median {kind} rank, exact against random assignment"}
    return {
        "leaders_median_rank": lead,
        "leaders_ranks": s.get(f"leaders_{kind}_ranks"),
        "others_median_rank": others,
        "of": s[n_key], "n_leaders": s[lead_key],
        "p_value": prim.get("p_value"), "min_p_value": prim.get("min_p_value"),
        "better": prim.get("better"), "statistic": prim.get("statistic"),
        "date_source": prim.get("date_source"),
        "unit": "rank",
    }


def _activity_primary(act: Result) -> dict | None:
    prim = act.summary.get("primary")
    if prim and prim.get("p_value") is not None:
        return {**{k: prim.get(k) for k in ("p_value", "min_p_value", "min_p_note", "better",
                                            "statistic", "evidence", "estimate", "ci")},
                "leaders_median": prim.get("leaders_median"),
                "others_median": prim.get("others_median"),
                "n_leaders": prim.get("n_leaders"), "n_others": prim.get("n_others"),
                "measure": prim.get("measure", "posts per week"), "unit": "posts/week"}
    for part in ("window", "lifetime"):
        s = act.summary.get(part) or {}
        rr = s.get("rate_ratio_leaders_vs_others")
        if rr and rr.get("p_value") is not None:  # the rate model (docs/methods.md, Activity)
            lo, hi = rr.get("ci") or [None, None]
            est = rr.get("estimate")
            model = {"negative_binomial": "negative-binomial", "poisson": "Poisson"}.get(
                rr.get("model"), str(rr.get("model")))
            return {
                "p_value": rr["p_value"], "min_p_value": None,
                "min_p_note": "model-based p-value: no floor at this size",
                "better": None if est is None else est > 1,
                "statistic": f"rate ratio of {part} posts per week ({model} regression with a "
                             "log-exposure offset), one-sided",
                "evidence": (f"leaders post {_n(est, '.2f')} times as often as others ({part}; "
                             f"rate ratio 95 % CI {_n(lo, '.2f')}–{_n(hi, '.2f')}, {model} "
                             f"regression with a log-exposure offset; {rr['n_group']} leaders vs "
                             f"{rr['n_others']} others)"),
                "estimate": est, "ci": [lo, hi], "measure": f"{part} posts per week",
                "leaders_median": rr.get("median_group"), "others_median": rr.get("median_others"),
                "n_leaders": rr.get("n_group"), "n_others": rr.get("n_others"),
                "unit": "posts/week",
            }
        gc = s.get("posts_per_week_leaders_vs_others")
        if gc and gc.get("p_value") is not None:  # before the rate model: Mann–Whitney
            lead, others = gc["median_group"], gc["median_others"]
            return {
                "p_value": gc["p_value"],
                "min_p_value": 1 / comb(gc["n_group"] + gc["n_others"], gc["n_group"]),
                "better": None if lead is None or others is None else lead > others,
                "statistic": "Mann–Whitney test of posts per week",
                "measure": f"{part} posts per week",
                "leaders_median": lead, "others_median": others,
                "n_leaders": gc["n_group"], "n_others": gc["n_others"],
                "rank_biserial": gc["rank_biserial"], "unit": "posts/week",
            }
    return None


def _f(v) -> float | None:
    """A finite float, else None (NaN, None, strings)."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _t_p(est: float | None, se: float | None, df: float | None) -> float | None:
    """Two-sided p of ``est / se`` against t(df)."""
    from scipy import stats

    if est is None or se is None or df is None or not se > 0 or not df > 0:
        return None
    return float(2 * stats.t.sf(abs(est) / se, df))


def _se_from_ci(lo, hi, df, confidence: float = 0.95) -> float | None:
    """The standard error of an ``estimate ± t(df) × se`` interval."""
    from scipy import stats

    if lo is None or hi is None or df is None or not df > 0:
        return None
    return (hi - lo) / (2 * float(stats.t.ppf(0.5 + confidence / 2, df)))


def _member(question: str, **kw) -> dict:
    src = SOURCES[question]
    return {"family": "members", "estimate": None, "ci": None, "p_value": None,
            "min_p_value": None, "better": None, "reason": None,
            "section": src[0], "source": src[1], "calibration": dict(CALIBRATION[question]), **kw}


def _tone_primary(r: Result) -> dict:
    """α_L − α_P of the tone alignment fit, its jackknife interval with t(G − 1), G = topics."""
    s = r.summary
    d = s.get("alignment_leader_minus_peer") or {}
    est, lo, hi = _f(d.get("estimate")), _f(d.get("ci_low")), _f(d.get("ci_high"))
    g = s.get("n_topics") or 0
    se = None
    tab = r.tables.get("alignment")
    if tab is not None and len(tab) and {"model", "term", "jack_se"} <= set(tab.columns):
        row = tab[(tab.model == "joint") & (tab.term == "leader_minus_peer")]
        if len(row):  # the jackknife columns, whatever interval the headline chose
            row = row.iloc[0]
            lo, hi = _f(row.get("jack_ci_low")), _f(row.get("jack_ci_high"))
            se, g = _f(row.get("jack_se")), int(row.get("n_topics") or g)
    elif s.get("interval") == "jackknife":
        se = _se_from_ci(lo, hi, g - 1, s.get("confidence", 0.95))
    x = _member("tone", estimate=est, ci=None if lo is None else [lo, hi],
                leader=s.get("alignment_leader"), peer=s.get("alignment_peer"),
                n_topics=g, n_posts=s.get("n_matched_posts"),
                n_members=s.get("n_matched_members"), unit="share of the way",
                statistic="tone alignment: leader coefficient minus peer placebo (α_L − α_P), "
                          "delete-one-topic jackknife, two-sided t(topics − 1)")
    if est is None or lo is None or g < 3:
        x["reason"] = (f"{s.get('n_matched_posts', 0)} member posts on {g} topics follow both a "
                       "leader's and a peer's post; at least 3 topics are needed for an interval")
        return x
    x.update(p_value=_t_p(est, se, g - 1), better=est > 0)
    return x


def _sharing_primary(r: Result) -> dict:
    """θ_L − θ_P of the sharing shift, its cluster jackknife interval with t(G − 1)."""
    s = r.summary
    d = s.get("shift_leader_minus_peer") or {}
    est, lo, hi = _f(d.get("estimate")), _f(d.get("ci_low")), _f(d.get("ci_high"))
    g = int(d.get("n_clusters") or 0)
    x = _member("sharing", estimate=est, ci=None if lo is None else [lo, hi],
                leader=s.get("shift_leader"), peer=s.get("shift_peer"), n_clusters=g,
                n_members=d.get("n_members"), cluster=s.get("cluster"),
                unit="points of personal share",
                statistic="members' change in personal share after a leader's first personal "
                          "post minus after a peer's (θ_L − θ_P), delete-one-cluster jackknife, "
                          "two-sided t(clusters − 1)")
    sl, sp = s.get("shift_leader") or {}, s.get("shift_peer") or {}
    if not (d.get("enough") and sl.get("enough", True) and sp.get("enough", True)) or lo is None:
        x["reason"] = (f"{sl.get('n_members', 0)} members around a leader's first personal post "
                       f"and {sp.get('n_members', 0)} around a peer's, in {g} "
                       f"{s.get('cluster', 'department')} clusters; the analysis needs "
                       f"{r.params.get('min_members', 10)} members per arm and "
                       f"{r.params.get('min_clusters', 5)} clusters")
        return x
    se = _se_from_ci(lo, hi, g - 1, s.get("confidence", 0.95))
    tab = r.tables.get("shift")
    if tab is not None and "se" in tab.columns and "term" in tab.columns:
        row = tab[tab.term == "leader_minus_peer"]
        if len(row) and _f(row.iloc[0].se) is not None:
            se = _f(row.iloc[0].se)
    x.update(p_value=_t_p(est, se, g - 1), better=est > 0)
    return x


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> list[float] | None:
    if not n:
        return None
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return [max(0.0, c - h), min(1.0, c + h)]


def _hashtags_primary(r: Result) -> dict:
    """The contagion analysis's leader-first test: in how many behaviours was a leader the first
    member user, against a random first user (exact Poisson-binomial, one-sided)."""
    s = r.summary
    lf = s.get("leader_first") or {}
    m = int(lf.get("n_behaviours") or 0)
    k = lf.get("leader_first")
    what = "hashtags"
    tab = r.tables.get("behaviours")
    min_p = None
    if tab is not None and len(tab) and {"tied", "chance_leader_first"} <= set(tab.columns):
        tested = tab[~tab.tied.astype(bool)]
        if str(tested.behaviour.iloc[0] if len(tested) else "hashtag:").startswith("hashtag:"):
            what = "hashtags"
        else:
            what = "behaviours"
        # the most extreme data: a leader first in every hashtag that has a leader user
        ch = tested.chance_leader_first.astype(float)
        min_p = float(ch[ch > 0].prod()) if len(tested) else None
    x = _member("hashtags", estimate=None if not m else k / m, ci=_wilson(k, m) if m else None,
                leader_first=k, n_behaviours=m, expected=lf.get("expected_leader_first"),
                expected_rate=lf.get("expected_leader_first_rate"), what=what,
                min_p_value=min_p, unit="share of hashtags a leader used first",
                p_adopt_after_one_leader=s.get("p_adopt_after_one_leader"),
                p_adopt_after_one_peer=s.get("p_adopt_after_one_peer"),
                statistic="leader-first count against a random first user among each "
                          "hashtag's users, exact Poisson-binomial, one-sided")
    if not m or k is None or lf.get("p_value") is None:
        x["reason"] = "no hashtag had two member users or more"
        return x
    x.update(p_value=float(lf["p_value"]), better=k > (lf.get("expected_leader_first") or 0))
    return x


def _delegation_primary(r: Result) -> dict:
    """The matched difference in uptake share, leader-seeded minus delegated; its p-value from the
    analysis's own t interval (recomputed with its standard error and Satterthwaite df)."""
    s = r.summary
    ci = s.get("delta_ci")
    est = _f(s.get("delta"))
    x = _member("delegation", estimate=est, ci=list(ci) if ci else None,
                leader_share=s.get("leader_share"), delegated_share=s.get("delegated_share"),
                n_leader=s.get("n_leader"), n_delegated=s.get("n_delegated"),
                n_strata=s.get("n_strata"), horizon_days=s.get("horizon_days"),
                unit="points of members' uptake share",
                statistic="difference in mean uptake share, leader's own account minus "
                          "official/delegate accounts, within calendar periods; two-sided t "
                          "(Satterthwaite)")
    if s.get("status") != "estimated" or est is None or not ci:
        x["reason"] = (s.get("reason") or
                       f"{s.get('n_leader', 0)} behaviours started by a leader's own account and "
                       f"{s.get('n_delegated', 0)} by an official or delegate account in the same "
                       f"periods, fewer than the {r.params.get('min_per_arm', 3)} each needed")
        return x
    p = _f(s.get("delta_p_value"))  # the analysis's own test, by its interval's method
    tab = r.tables.get("behaviours")
    if tab is not None and len(tab):
        from socialens.analyses.delegation import ARMS, matched_difference

        comp = tab[tab.followed_up.astype(bool) & (tab.at_risk > 0)
                   & tab.seeder_kind.isin(ARMS["leader"] + ARMS["delegated"])]
        md = matched_difference(comp.uptake_share.astype(float).to_numpy(),
                                comp.seeder_kind.isin(ARMS["leader"]).astype(int).to_numpy(),
                                comp.period.to_numpy(), interval="t",
                                min_per_arm=int(r.params.get("min_per_arm", 3)))
        if p is None and md.get("estimate") is not None and abs(md["estimate"] - est) < 1e-12:
            p = _t_p(est, _f(md.get("se")), _f(md.get("df")))  # a result without delta_p_value
        kept = comp[comp.period.astype(str).isin(list((md.get("weights") or {}).keys()))]
        lead = kept.seeder_kind.isin(ARMS["leader"])
        x.update(n_leader_accounts=int(kept[lead].seeder_account_id.nunique()),
                 n_delegated_accounts=int(kept[~lead].seeder_account_id.nunique()))
    if p is None:  # an older result without a table: normal approximation from the interval
        from scipy import stats

        se = (ci[1] - ci[0]) / (2 * 1.959963984540054)
        p = float(2 * stats.norm.sf(abs(est) / se)) if se > 0 else None
    x.update(p_value=p, better=est > 0)
    return x


_MEMBER_PRIMARIES = (("tone", "tone", _tone_primary), ("sharing", "sharing", _sharing_primary),
                     ("hashtags", "contagion", _hashtags_primary),
                     ("delegation", "delegation", _delegation_primary))


def _adjust(out: dict[str, dict], family: tuple[str, ...]) -> None:
    """Holm within ``family``; the verdict of every question in it."""
    qs = [q for q in family if q in out]
    adjusted = holm({q: out[q]["p_value"] for q in qs})
    m = sum(p is not None for p in adjusted.values())
    for q in qs:
        x = out[q]
        best = smallest_adjusted(x.get("min_p_value"), m)
        x["p_value_adjusted"] = adjusted[q]
        x["n_questions"] = m
        x["smallest_adjusted_p"] = best
        if x.get("reason"):  # the analysis says the data cannot tell
            x["verdict"] = "too few to tell"
            continue
        x["verdict"] = _verdict(adjusted[q], x.get("better"),
                                None if best is None else best < ALPHA)


#: question -> the analysis whose result answers it
ANALYSIS = {"first": "adoption", "most_active": "activity", "most_followed": "directory",
            "tone": "tone", "sharing": "sharing", "hashtags": "contagion",
            "delegation": "delegation"}


def _unanswered(q: str, results: dict, unavailable: dict) -> dict:
    name = ANALYSIS[q]
    if name in unavailable:
        why = f"the {name} analysis is not available on this workspace: {unavailable[name]}"
    elif name in results:
        why = f"the {name} analysis has no primary test result to answer it"
    else:
        why = f"the {name} analysis was not run"
    fam = "leaders" if q in FAMILIES["leaders"] else "members"
    return {"family": fam, "verdict": "unknown", "reason": why, "p_value": None,
            "p_value_adjusted": None, "estimate": None, "ci": None, "answered": False,
            "section": SOURCES[q][0], "source": SOURCES[q][1],
            "calibration": dict(CALIBRATION[q])}


def verdicts(results: dict[str, Result],
             unavailable: dict[str, str] | None = None) -> dict[str, dict]:
    """Per question, in the first page's order (:data:`QUESTIONS`): the verdict, the numbers
    behind it and its one pre-declared primary test.

    Leaders' family (``first``, ``most_active``, ``most_followed``): the leaders' median adoption
    rank and median follower rank (exact against random assignment, mid-ranks for ties) and the
    activity analysis's declared primary test (``summary["primary"]``), one-sided. Members'
    family (``tone``, ``sharing``, ``hashtags``, ``delegation``): α_L − α_P of tone alignment,
    θ_L − θ_P of the sharing shift, the leader-first test of the contagion analysis and the
    matched uptake difference of the delegation analysis (see the module docstring). The
    p-values are Holm-adjusted **within each family** (``p_value_adjusted``, ``n_questions``);
    "yes" needs the adjusted p below 0.05 with the leaders ahead. ``min_p_value`` is the smallest
    p the test can give at this size; when even that, adjusted, is not below 0.05 — or the
    analysis says the data cannot tell (``reason``) — the verdict is "too few to tell". ``unit``
    says what the numbers are; ``section`` and ``source`` where they are in the report;
    ``calibration`` how well the method did on simulated organizations. Every question is
    listed; one the results cannot answer has verdict "unknown", ``answered`` False and the
    ``reason`` (from ``unavailable``, ``{analysis: reason}``, when given).
    """
    out: dict[str, dict] = {}
    # (question, analysis, rank kind, population key, leaders key)
    for question, name, kind, n_key, lead_key in (
        ("first", "adoption", "adoption", "n_adopted", "n_leaders_adopted"),
        ("most_followed", "directory", "follower", "n_listed", "n_leaders_listed"),
    ):
        r = results.get(name)
        if r and f"leaders_median_{kind}_rank" in r.summary:
            out[question] = _rank_primary(r.summary, kind, n_key, lead_key)
    act = results.get("activity")
    prim = _activity_primary(act) if act else None
    if prim:
        out["most_active"] = prim
    for q in FAMILIES["leaders"]:
        if q in out:
            out[q].update(family="leaders", section=SOURCES[q][0], source=SOURCES[q][1],
                          calibration=dict(CALIBRATION[q]))
    for q, name, fn in _MEMBER_PRIMARIES:
        r = results.get(name)
        if r is not None:
            out[q] = fn(r)
    if "hashtags" in out and "contagion_tests" in results:  # report --influence-tests: beside
        out["hashtags"]["influence"] = results["contagion_tests"].headline  # the primary test
    _adjust(out, FAMILIES["leaders"])
    _adjust(out, FAMILIES["members"])
    for x in out.values():
        x["answered"] = True
    return {q: out[q] if q in out else _unanswered(q, results, dict(unavailable or {}))
            for q in QUESTIONS}


def _pvalues(x: dict, against: str = "") -> str:
    """``p = 0.048<against>, Holm-adjusted over 3 questions 0.14; smallest attainable p at this
    size 0.048``."""
    text = f"p = {_n(x['p_value'], '.2g')}{against}"
    if x.get("n_questions", 1) > 1:
        of = " of members' following" if x.get("family") == "members" else ""
        text += (f", Holm-adjusted over {x['n_questions']} questions{of} "
                 f"{_n(x['p_value_adjusted'], '.2g')}")
    if x.get("min_p_value") is not None:
        mp = x["min_p_value"]
        text += f"; smallest attainable p at this size {'< 1e-300' if mp < 1e-300 else _n(mp, '.2g')}"
    elif x.get("min_p_note"):
        text += f"; {x['min_p_note']}"
    return text


def _ranks(x: dict) -> str:
    ranks = x.get("leaders_ranks")
    if not ranks:
        return ""
    shown = ", ".join(format(r, "g") for r in ranks[:MAX_RANKS_SHOWN])
    return f" (ranks {shown}{', ...' if len(ranks) > MAX_RANKS_SHOWN else ''})"


def _pct(v, spec: str = ".0f", sign: bool = False) -> str:
    """0.137 -> ``14 %`` (``+14 %`` with ``sign``); None -> n/a."""
    if v is None:
        return UNKNOWN
    text = format(100 * v, ("+" if sign else "") + spec) + " %"
    return text.replace("-", "−")


def _pts(v, spec: str = ".1f", sign: bool = True) -> str:
    """0.005 -> ``+0.5 points``."""
    if v is None:
        return UNKNOWN
    return (format(100 * v, ("+" if sign else "") + spec) + " points").replace("-", "−")


def _interval(ci, fmt) -> str | None:
    return None if not ci or ci[0] is None or ci[1] is None else f"{fmt(ci[0])} to {fmt(ci[1])}"


def _caveat(x: dict) -> str:
    c = x.get("calibration") or {}
    status = c.get("status")
    if status in (None, "calibrated"):
        return ""
    words = "Not calibrated" if status == "not calibrated" else f"Calibration {status}"
    return f" {words}: {c['note']}."


def _leaders_line(q: str, x: dict) -> dict:
    if q in ("first", "most_followed"):
        kind = "follower" if q == "most_followed" else (
            "first-post" if x.get("date_source") == "first_post" else "account-creation")
        if x["others_median_rank"] is not None:
            others = f"others {_n(x['others_median_rank'])}"
        elif q == "first":
            others = "no other member had adopted, so there is nobody to compare with"
        else:
            others = "no other member is listed to compare with"
        evidence = (f"the {x['n_leaders']} leaders' median {kind} rank is "
                    f"{_n(x['leaders_median_rank'])} of {x['of']}{_ranks(x)}; {others}; "
                    f"{_pvalues(x, ' against random assignment')}.")
        number = f"median rank {_n(x['leaders_median_rank'])} of {x['of']}"
        interval = None  # an exact test of the ranks: its p-value is the uncertainty
    else:
        if x.get("evidence"):
            evidence = f"{x['evidence']}; {_pvalues(x)}."
        else:
            evidence = (
                f"median {_n(x['leaders_median'], '.2f')} vs {_n(x['others_median'], '.2f')} "
                f"{x['measure']} for {x['n_leaders']} leaders vs {x['n_others']} others "
                f"(Mann–Whitney {_pvalues(x)}).")
        if x.get("estimate") is not None:
            number = f"rate ratio {_n(x['estimate'], '.2f')}"
            interval = _interval(x.get("ci"), lambda v: _n(v, ".2f"))
        else:
            number = (f"median {_n(x['leaders_median'], '.2f')} vs "
                      f"{_n(x['others_median'], '.2f')} posts/week")
            interval = None
    return {"number": number, "interval": interval, "evidence": evidence}


def _members_line(q: str, x: dict) -> dict:
    est, ci = x.get("estimate"), x.get("ci")
    if q == "tone":
        lead, peer = x.get("leader") or {}, x.get("peer") or {}
        number = f"{_pct(est, sign=True)} of the way, leader minus peer"
        interval = _interval(ci, lambda v: _pct(v, sign=True))
        evidence = (f"after a leader posts on a topic, members' next posts on it move "
                    f"{_pct(lead.get('estimate'))} of the way from their usual tone towards hers, "
                    f"after a peer's {_pct(peer.get('estimate'))} ({x.get('n_posts')} member "
                    f"posts on {x.get('n_topics')} topics)")
    elif q == "sharing":
        lead, peer = x.get("leader") or {}, x.get("peer") or {}
        number = f"{_pts(est)}, leader minus peer"
        interval = _interval(ci, _pts)
        evidence = (f"members' personal share changes by {_pts(lead.get('estimate'))} after a "
                    f"leader they are exposed to first posts something personal, "
                    f"{_pts(peer.get('estimate'))} after a peer's ({lead.get('n_members', 0)} and "
                    f"{peer.get('n_members', 0)} members; the classifier's score scale)")
    elif q == "hashtags":
        w = x.get("what", "hashtags")
        number = (f"{_n(x.get('leader_first'))} of {x.get('n_behaviours', 0)} {w} first used "
                  f"by a leader ({_pct(est)})")
        interval = _interval(ci, _pct)
        pl, pp = x.get("p_adopt_after_one_leader"), x.get("p_adopt_after_one_peer")
        evidence = (f"{_n(x.get('expected'), '.1f')} expected if the first user were any of its "
                    f"users at random; of members who saw one leader use one, {_pct(pl)} took "
                    f"it up then, after one peer {_pct(pp)} (description)")
    else:
        number = f"{_pts(est, '.2f')}, leader's own account minus delegated"
        interval = _interval(ci, lambda v: _pts(v, ".2f"))
        evidence = (f"what a leader starts on her own account is taken up by "
                    f"{_pct(x.get('leader_share'), '.2f')} of members within "
                    f"{_n(x.get('horizon_days'))} days, what an official or delegate account "
                    f"starts by {_pct(x.get('delegated_share'), '.2f')} ({x.get('n_leader')} "
                    f"behaviours from {_n(x.get('n_leader_accounts'))} leaders' own accounts vs "
                    f"{x.get('n_delegated')} from {_n(x.get('n_delegated_accounts'))} official or "
                    f"delegate accounts, in {x.get('n_strata')} matched periods)")
    if x.get("reason"):  # no number: a point estimate without its interval would mislead
        evidence = f"the data cannot tell: {x['reason']}." + _caveat(x)
        return {"number": UNKNOWN, "interval": None, "evidence": evidence, "sentence": evidence}
    evidence = f"{evidence}; {_pvalues(x)}." + _caveat(x)
    if x.get("influence"):  # the influence tests' answer, not part of the Holm family
        evidence += f" Influence tests (section below): {x['influence']}"
    iv = f" (95 % interval {interval})" if interval else ""
    # the page shows the number and interval on their own line; the sentence has them inline
    return {"number": number, "interval": interval, "evidence": evidence,
            "sentence": f"{number}{iv}: {evidence}"}


def answer_lines(results: dict[str, Result],
                 unavailable: dict[str, str] | None = None) -> list[dict]:
    """The first page as a list, one entry per question the results can answer, in the order of
    :data:`QUESTIONS`: ``{"question", "family", "verdict", "number", "interval", "evidence",
    "section", "source", "calibration"}`` (members' questions also ``sentence``: the number, its
    interval and the evidence in one line, as :func:`founding_answer` writes it). ``section`` is the id of the report section with the
    method and the table; ``source`` names the table (and row) the number comes from. Questions
    nothing answers are listed as "unknown" with the reason, unless no question is answered at
    all (then the list is empty)."""
    v = verdicts(results, unavailable)
    if not any(x["answered"] for x in v.values()):
        return []
    lines = []
    for q, x in v.items():
        if not x["answered"]:
            parts = {"number": UNKNOWN, "interval": None, "evidence": f"{x['reason']}."}
        else:
            parts = (_leaders_line if x["family"] == "leaders" else _members_line)(q, x)
        lines.append({"question": q, "family": x["family"], "verdict": x["verdict"], **parts,
                      "section": x["section"], "source": x["source"],
                      "calibration": x["calibration"]})
    return lines


def founding_answer(results: dict[str, Result],
                    unavailable: dict[str, str] | None = None) -> str:
    """The answer in words, one line per question: ``First to adopt? YES: <evidence>``."""
    lines = answer_lines(results, unavailable)
    if not lines:
        return ("Not enough data to answer whether leaders were first, most active or most "
                "followed, or whether members follow them.")
    return "\n".join(f"{QUESTIONS[x['question']]} {x['verdict'].upper()}: "
                     f"{x.get('sentence') or x['evidence']}" for x in lines)
