"""The founding question answered in words: were the leaders first, most active, most followed?"""

from __future__ import annotations

from socialens.analyses.result import Result

__all__ = ["founding_answer", "verdicts"]

ALPHA = 0.05


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
    if not ci or ci[0] is None:
        return ""
    return f" (95 % CI {ci[0]:g}–{ci[1]:g})"


def _rank_verdict(s: dict, kind: str, n_key: str, lead_key: str) -> dict:
    lead, others = s[f"leaders_median_{kind}_rank"], s.get(f"others_median_{kind}_rank")
    return {
        "verdict": _verdict(s["p_value_median_rank"], others is not None and lead < others),
        "leaders_median_rank": lead,
        "leaders_median_rank_ci": s.get(f"leaders_median_{kind}_rank_ci"),
        "others_median_rank": others,
        "of": s[n_key], "n_leaders": s[lead_key],
        "p_value": s["p_value_median_rank"],
    }


def verdicts(results: dict[str, Result]) -> dict[str, dict]:
    """Per question (``most_followed``, ``first``, ``most_active``): verdict, the numbers behind
    it and the p-value against random assignment."""
    out: dict[str, dict] = {}
    # (question, analysis, leaders' median rank key, others' key, population key, leaders key)
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
                out["most_active"] = {
                    "verdict": _verdict(gc["p_value"], gc["median_group"] > gc["median_others"]),
                    "measure": f"{part} posts per week",
                    "leaders_median": gc["median_group"], "others_median": gc["median_others"],
                    "n_leaders": gc["n_group"], "n_others": gc["n_others"],
                    "p_value": gc["p_value"], "rank_biserial": gc["rank_biserial"],
                }
                break
    return out


def founding_answer(results: dict[str, Result]) -> str:
    """One paragraph: were the leaders the first, the most active and the most followed?"""
    v = verdicts(results)
    if not v:
        return "Not enough data to answer whether leaders were first, most active or most followed."
    parts = []
    if "most_followed" in v:
        x = v["most_followed"]
        parts.append(
            f"Most followed? {x['verdict'].upper()}: the {x['n_leaders']} leaders' median follower "
            f"rank is {x['leaders_median_rank']:g}{_ci(x)} of {x['of']} (others {x['others_median_rank']:g}; "
            f"p = {x['p_value']:.2g} against random assignment)."
        )
    if "first" in v:
        x = v["first"]
        parts.append(
            f"First to adopt? {x['verdict'].upper()}: their median account-creation rank is "
            f"{x['leaders_median_rank']:g}{_ci(x)} of {x['of']} (others {x['others_median_rank']:g}; "
            f"p = {x['p_value']:.2g})."
        )
    if "most_active" in v:
        x = v["most_active"]
        parts.append(
            f"Most active? {x['verdict'].upper()}: median {x['leaders_median']:.2f} vs "
            f"{x['others_median']:.2f} {x['measure']} for {x['n_leaders']} leaders vs "
            f"{x['n_others']} others (Mann–Whitney p = {x['p_value']:.2g})."
        )
    return " ".join(parts)
