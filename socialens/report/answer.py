"""The founding question answered in words: were the leaders first, most active, most followed?

One line per question: the question, a verdict word, then the evidence. Every number can be
missing (no non-leader adopted, no leader listed...): a missing number is written as such, never
formatted as if it were one.
"""

from __future__ import annotations

from socialens.analyses.result import Result

__all__ = ["founding_answer", "answer_lines", "verdicts", "QUESTIONS", "UNKNOWN"]

ALPHA = 0.05
#: How a number that is not known is written.
UNKNOWN = "n/a"
#: question key -> the question in words
QUESTIONS = {"most_followed": "Most followed?", "first": "First to adopt?",
             "most_active": "Most active?"}


def _n(value, spec: str = "g") -> str:
    return UNKNOWN if value is None else format(value, spec)


def _verdict(p: float | None, better: bool | None) -> str:
    if p is None or better is None:
        return "unknown"
    if p < ALPHA and better:
        return "yes"
    if better:
        return "leaning yes, not significant"
    return "no"


def _ci(x: dict) -> str:
    ci = x.get("leaders_median_rank_ci")
    if not ci or ci[0] is None or ci[1] is None:
        return ""
    return f" (95 % CI {ci[0]:g}–{ci[1]:g})"


def _rank_verdict(s: dict, kind: str, n_key: str, lead_key: str) -> dict:
    lead, others = s[f"leaders_median_{kind}_rank"], s.get(f"others_median_{kind}_rank")
    better = None if lead is None or others is None else lead < others
    return {
        "verdict": _verdict(s.get("p_value_median_rank"), better),
        "leaders_median_rank": lead,
        "leaders_median_rank_ci": s.get(f"leaders_median_{kind}_rank_ci"),
        "others_median_rank": others,
        "of": s[n_key], "n_leaders": s[lead_key],
        "p_value": s.get("p_value_median_rank"),
        "unit": "rank",
    }


def verdicts(results: dict[str, Result]) -> dict[str, dict]:
    """Per question (``most_followed``, ``first``, ``most_active``): verdict, the numbers behind
    it and the p-value against random assignment. ``unit`` says what the leaders' and others'
    numbers are: ``rank`` (median rank, 1 = best, out of ``of``) or ``posts/week`` (median)."""
    out: dict[str, dict] = {}
    # (question, analysis, rank kind, population key, leaders key)
    for question, name, kind, n_key, lead_key in (
        ("most_followed", "directory", "follower", "n_listed", "n_leaders_listed"),
        ("first", "adoption", "adoption", "n_adopted", "n_leaders_adopted"),
    ):
        r = results.get(name)
        if r and f"leaders_median_{kind}_rank" in r.summary:
            out[question] = _rank_verdict(r.summary, kind, n_key, lead_key)
    act = results.get("activity")
    if act:
        for part in ("window", "lifetime"):
            s = act.summary.get(part)
            if s and s["posts_per_week_leaders_vs_others"].get("p_value") is not None:
                gc = s["posts_per_week_leaders_vs_others"]
                lead, others = gc["median_group"], gc["median_others"]
                better = None if lead is None or others is None else lead > others
                out["most_active"] = {
                    "verdict": _verdict(gc["p_value"], better),
                    "measure": f"{part} posts per week",
                    "leaders_median": lead, "others_median": others,
                    "n_leaders": gc["n_group"], "n_others": gc["n_others"],
                    "p_value": gc["p_value"], "rank_biserial": gc["rank_biserial"],
                    "unit": "posts/week",
                }
                break
    return out


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
            f"{_n(x['leaders_median_rank'])}{_ci(x)} of {x['of']} ({others}; "
            f"p = {_n(x['p_value'], '.2g')} against random assignment).")})
    if "first" in v:
        x = v["first"]
        others = (f"others {_n(x['others_median_rank'])}" if x["others_median_rank"] is not None
                  else "no other member had adopted, so there is nobody to compare with")
        lines.append({"question": "first", "verdict": x["verdict"], "evidence": (
            f"the {x['n_leaders']} leaders' median account-creation rank is "
            f"{_n(x['leaders_median_rank'])}{_ci(x)} of {x['of']} ({others}; "
            f"p = {_n(x['p_value'], '.2g')}).")})
    if "most_active" in v:
        x = v["most_active"]
        lines.append({"question": "most_active", "verdict": x["verdict"], "evidence": (
            f"median {_n(x['leaders_median'], '.2f')} vs {_n(x['others_median'], '.2f')} "
            f"{x['measure']} for {x['n_leaders']} leaders vs {x['n_others']} others "
            f"(Mann–Whitney p = {_n(x['p_value'], '.2g')}).")})
    return lines


def founding_answer(results: dict[str, Result]) -> str:
    """The answer in words, one line per question: ``Most followed? YES: <evidence>``."""
    lines = answer_lines(results)
    if not lines:
        return "Not enough data to answer whether leaders were first, most active or most followed."
    return "\n".join(f"{QUESTIONS[x['question']]} {x['verdict'].upper()}: {x['evidence']}"
                     for x in lines)
