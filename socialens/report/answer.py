"""The founding question answered in words: were the leaders first, most active, most followed?

One line per question: the question, a verdict word, then the evidence. The verdict rests on one
pre-declared primary test per question, Holm-adjusted across the questions, and says "too few to
tell" when the organization is too small for that test ever to reach p < 0.05. Every number can be
missing (no non-leader adopted, no leader listed...): a missing number is written as such, never
formatted as if it were one.
"""

from __future__ import annotations

from math import comb

from socialens.analyses.result import Result
from socialens.stats.multiple import holm, smallest_adjusted

__all__ = ["founding_answer", "answer_lines", "verdicts", "QUESTIONS", "UNKNOWN", "ALPHA",
           "VERDICTS"]

ALPHA = 0.05
#: How a number that is not known is written.
UNKNOWN = "n/a"
#: question key -> the question in words
QUESTIONS = {"most_followed": "Most followed?", "first": "First to adopt?",
             "most_active": "Most active?"}
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


def verdicts(results: dict[str, Result]) -> dict[str, dict]:
    """Per question (``most_followed``, ``first``, ``most_active``): the verdict, the numbers
    behind it and its one pre-declared primary test.

    Primary tests: the leaders' median follower rank and median adoption rank (exact against
    random assignment, mid-ranks for ties) and the activity analysis's declared primary test
    (``summary["primary"]``). Their p-values are Holm-adjusted across the questions answered
    (``p_value_adjusted``); "yes" needs the adjusted p below 0.05 with the leaders ahead.
    ``min_p_value`` is the smallest p the test can give at this size; when even that, adjusted,
    is not below 0.05 the verdict is "too few to tell". ``unit`` says what the leaders' and
    others' numbers are: ``rank`` (median rank, 1 = best, out of ``of``) or ``posts/week``.
    """
    out: dict[str, dict] = {}
    # (question, analysis, rank kind, population key, leaders key)
    for question, name, kind, n_key, lead_key in (
        ("most_followed", "directory", "follower", "n_listed", "n_leaders_listed"),
        ("first", "adoption", "adoption", "n_adopted", "n_leaders_adopted"),
    ):
        r = results.get(name)
        if r and f"leaders_median_{kind}_rank" in r.summary:
            out[question] = _rank_primary(r.summary, kind, n_key, lead_key)
    act = results.get("activity")
    prim = _activity_primary(act) if act else None
    if prim:
        out["most_active"] = prim
    adjusted = holm({q: x["p_value"] for q, x in out.items()})
    m = sum(p is not None for p in adjusted.values())
    for q, x in out.items():
        best = smallest_adjusted(x.get("min_p_value"), m)
        x["p_value_adjusted"] = adjusted[q]
        x["n_questions"] = m
        x["smallest_adjusted_p"] = best
        x["verdict"] = _verdict(adjusted[q], x.get("better"),
                                None if best is None else best < ALPHA)
    return out


def _pvalues(x: dict, against: str = "") -> str:
    """``p = 0.048<against>, Holm-adjusted over 3 questions 0.14; smallest attainable p at this
    size 0.048``."""
    text = f"p = {_n(x['p_value'], '.2g')}{against}"
    if x.get("n_questions", 1) > 1:
        text += f", Holm-adjusted over {x['n_questions']} questions {_n(x['p_value_adjusted'], '.2g')}"
    if x.get("min_p_value") is not None:
        text += f"; smallest attainable p at this size {_n(x['min_p_value'], '.2g')}"
    elif x.get("min_p_note"):
        text += f"; {x['min_p_note']}"
    return text


def _ranks(x: dict) -> str:
    ranks = x.get("leaders_ranks")
    if not ranks:
        return ""
    shown = ", ".join(format(r, "g") for r in ranks[:MAX_RANKS_SHOWN])
    return f" (ranks {shown}{', ...' if len(ranks) > MAX_RANKS_SHOWN else ''})"


def answer_lines(results: dict[str, Result]) -> list[dict]:
    """The answer as a short list: ``[{"question", "verdict", "evidence"}]``, one per question
    the results can answer, in the order most followed, first, most active."""
    v = verdicts(results)
    lines = []
    if "most_followed" in v:
        x = v["most_followed"]
        others = (f"others {_n(x['others_median_rank'])}" if x["others_median_rank"] is not None
                  else "no other member is listed to compare with")
        lines.append({"question": "most_followed", "verdict": x["verdict"], "evidence": (
            f"the {x['n_leaders']} leaders' median follower rank is "
            f"{_n(x['leaders_median_rank'])} of {x['of']}{_ranks(x)}; {others}; "
            f"{_pvalues(x, ' against random assignment')}.")})
    if "first" in v:
        x = v["first"]
        others = (f"others {_n(x['others_median_rank'])}" if x["others_median_rank"] is not None
                  else "no other member had adopted, so there is nobody to compare with")
        what = "first-post" if x.get("date_source") == "first_post" else "account-creation"
        lines.append({"question": "first", "verdict": x["verdict"], "evidence": (
            f"the {x['n_leaders']} leaders' median {what} rank is "
            f"{_n(x['leaders_median_rank'])} of {x['of']}{_ranks(x)}; {others}; "
            f"{_pvalues(x, ' against random assignment')}.")})
    if "most_active" in v:
        x = v["most_active"]
        if x.get("evidence"):
            evidence = f"{x['evidence']}; {_pvalues(x)}."
        else:
            evidence = (
                f"median {_n(x['leaders_median'], '.2f')} vs {_n(x['others_median'], '.2f')} "
                f"{x['measure']} for {x['n_leaders']} leaders vs {x['n_others']} others "
                f"(Mann–Whitney {_pvalues(x)}).")
        lines.append({"question": "most_active", "verdict": x["verdict"], "evidence": evidence})
    return lines


def founding_answer(results: dict[str, Result]) -> str:
    """The answer in words, one line per question: ``Most followed? YES: <evidence>``."""
    lines = answer_lines(results)
    if not lines:
        return "Not enough data to answer whether leaders were first, most active or most followed."
    return "\n".join(f"{QUESTIONS[x['question']]} {x['verdict'].upper()}: {x['evidence']}"
                     for x in lines)
