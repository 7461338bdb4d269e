"""Verdicts: one primary test per question, Holm across the questions, 'too few to tell'."""

import pytest

from socialens.analyses.result import Result
from socialens.report.answer import founding_answer, verdicts
from socialens.stats import median_rank_pvalue, min_median_rank_pvalue


def _ranked(name, kind, n_key, lead_key, ranks, N):
    med = sorted(ranks)[len(ranks) // 2] if len(ranks) % 2 else sum(sorted(ranks)[
        len(ranks) // 2 - 1: len(ranks) // 2 + 1]) / 2
    p = median_rank_pvalue(med, len(ranks), N)
    summary = {f"leaders_median_{kind}_rank": med, f"others_median_{kind}_rank": (N + 1) / 2 + 1,
               f"leaders_{kind}_ranks": sorted(ranks), n_key: N, lead_key: len(ranks),
               "p_value_median_rank": p,
               "primary": {"p_value": p, "min_p_value": min_median_rank_pvalue(len(ranks), N),
                           "better": True, "statistic": "median rank"}}
    return Result(name=name, title=name, params={}, summary=summary)


def _directory(ranks, N):
    return _ranked("directory", "follower", "n_listed", "n_leaders_listed", ranks, N)


def _adoption(ranks, N):
    return _ranked("adoption", "adoption", "n_adopted", "n_leaders_adopted", ranks, N)


def test_three_leaders_among_eleven_are_too_few_to_tell():
    """Ranks 1-3 of 11 give p = 0.055, the smallest attainable: it was 'leaning yes'."""
    v = verdicts({"directory": _directory([1, 2, 3], 11)})["most_followed"]
    assert v["p_value"] == pytest.approx(9 / 165) and v["min_p_value"] == pytest.approx(9 / 165)
    assert v["verdict"] == "too few to tell"
    assert "smallest attainable p at this size 0.055" in founding_answer(
        {"directory": _directory([1, 2, 3], 11)})


def test_holm_across_the_questions():
    # alone p = 0.03 would be a yes; with a second question (p = 0.5) Holm doubles it
    d = _directory([1, 2, 3, 40, 60], 200)
    alone = verdicts({"directory": d})["most_followed"]
    assert alone["p_value"] < 0.05 and alone["verdict"] == "yes"
    a = _adoption([100, 110, 120, 130, 150], 200)
    both = verdicts({"directory": d, "adoption": a})
    assert both["most_followed"]["p_value_adjusted"] == pytest.approx(
        min(1, 2 * both["most_followed"]["p_value"]))
    assert both["first"]["p_value_adjusted"] == pytest.approx(max(
        both["first"]["p_value"], both["most_followed"]["p_value_adjusted"]))
    assert both["most_followed"]["n_questions"] == 2


def test_a_strong_answer_stays_yes_and_lists_the_ranks():
    text = founding_answer({"directory": _directory([1, 3, 5, 8, 13, 21, 34, 55, 89], 515)})
    assert text.startswith("Most followed? YES: the 9 leaders' median follower rank is 13 of 515 "
                           "(ranks 1, 3, 5, 8, 13, 21, 34, 55, 89)")
    assert "95 % CI" not in text


def test_activity_rate_ratio_is_the_primary_for_most_active():
    act = Result(name="activity", title="a", params={}, summary={"window": {
        "rate_ratio_leaders_vs_others": {"estimate": 2.5, "ci": [1.2, 5.1], "p_value": 0.004,
                                         "model": "negative_binomial", "n_group": 5,
                                         "n_others": 80}}})
    v = verdicts({"activity": act})["most_active"]
    assert v["verdict"] == "yes" and v["min_p_value"] is None
    assert "2.50 times as often" in founding_answer({"activity": act})
