"""Verdicts: one primary test per question, Holm within each family, 'too few to tell'; the
first page lists every question in order with its number, interval and source."""

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from scipy import stats

from socialens.analyses.delegation import matched_difference
from socialens.analyses.result import Result
from socialens.report.answer import (
    CALIBRATION,
    QUESTIONS,
    answer_lines,
    founding_answer,
    verdicts,
)
from socialens.stats import median_rank_pvalue, min_median_rank_pvalue
from tests.site.conftest import browser  # noqa: F401  (the Chromium fixture, reused)


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
    line = [x for x in text.splitlines() if x.startswith("Most followed?")][0]
    assert line.startswith("Most followed? YES: the 9 leaders' median follower rank is 13 of 515 "
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


# --- the members' family ----------------------------------------------------------------------

def _tone(est, se, topics, *, n_posts=300):
    q = stats.t.ppf(0.975, topics - 1)
    lo, hi = est - q * se, est + q * se
    row = {"model": "joint", "term": "leader_minus_peer", "estimate": est, "ci_low": lo,
           "ci_high": hi, "jack_se": se, "jack_ci_low": lo, "jack_ci_high": hi,
           "n_topics": topics}
    return Result(name="tone", title="Tone", params={}, summary={
        "interval": "jackknife", "confidence": 0.95, "n_topics": topics,
        "n_matched_posts": n_posts, "n_matched_members": 40,
        "alignment_leader": {"estimate": est + 0.1, "ci_low": None, "ci_high": None},
        "alignment_peer": {"estimate": 0.1, "ci_low": None, "ci_high": None},
        "alignment_leader_minus_peer": {"estimate": est, "ci_low": lo, "ci_high": hi}},
        tables={"alignment": pd.DataFrame([row])})


def _sharing(est, lo, hi, *, enough=True, clusters=6, members=40):
    term = {"estimate": est, "ci_low": lo, "ci_high": hi, "n_members": members,
            "n_clusters": clusters, "enough": enough, "mean_before": None, "mean_after": None}
    return Result(name="sharing", title="Sharing", params={"min_members": 10, "min_clusters": 5},
                  summary={"confidence": 0.95, "cluster": "department", "shift_leader": term,
                           "shift_peer": term, "shift_leader_minus_peer": term})


def _contagion(firsts, chances):
    tab = pd.DataFrame({"behaviour": [f"hashtag:#h{i}" for i in range(len(chances))],
                        "tied": False, "chance_leader_first": chances,
                        "first_is_leader": firsts})
    from socialens.analyses.contagion import poisson_binomial_sf

    k = int(sum(firsts))
    lf = {"n_behaviours": len(chances), "leader_first": k,
          "expected_leader_first": float(sum(chances)),
          "expected_leader_first_rate": float(sum(chances)) / len(chances),
          "p_value": poisson_binomial_sf(k, chances)}
    return Result(name="contagion", title="Contagion", params={},
                  summary={"leader_first": lf, "p_adopt_after_one_leader": 0.2,
                           "p_adopt_after_one_peer": 0.1}, tables={"behaviours": tab})


def _delegation(leader_y, delegated_y):
    y = np.r_[leader_y, delegated_y]
    arm = np.r_[np.ones(len(leader_y)), np.zeros(len(delegated_y))].astype(int)
    period = np.where(np.arange(len(y)) % 2 == 0, "2015Q1", "2015Q2")
    md = matched_difference(y, arm, period, interval="t")  # as its params say
    tab = pd.DataFrame({"behaviour": [f"hashtag:#d{i}" for i in range(len(y))],
                        "seeder_account_id": [f"a{i % 3}" if a else f"o{i % 2}"
                                              for i, a in enumerate(arm)],
                        "period": period, "seeder_kind": np.where(arm == 1, "leader", "delegate"),
                        "uptake_share": y, "at_risk": 100, "followed_up": True})
    summary = {"status": md["status"], "reason": md["reason"], "delta": md["estimate"],
               "delta_ci": None if md["ci_low"] is None else [md["ci_low"], md["ci_high"]],
               "leader_share": md["mean_leader"], "delegated_share": md["mean_delegated"],
               "n_leader": md["n_leader"], "n_delegated": md["n_delegated"],
               "n_strata": md["n_strata"], "horizon_days": 90.0}
    return Result(name="delegation", title="Delegation", params={"interval": "t",
                                                                 "min_per_arm": 3},
                  summary=summary, tables={"behaviours": tab}), md


def test_tone_p_value_is_the_jackknife_t_of_its_interval():
    # +0.30 with se 0.10 on 11 topics: t = 3 on 10 df, p = 0.0133; alone in its family: yes
    v = verdicts({"tone": _tone(0.30, 0.10, 11)})["tone"]
    assert v["p_value"] == pytest.approx(2 * stats.t.sf(3.0, 10))
    assert v["p_value"] == pytest.approx(0.01334, abs=1e-5)
    assert v["family"] == "members" and v["n_questions"] == 1 and v["verdict"] == "yes"
    # the same estimate with twice the se: the interval covers 0 -> leaning yes
    v = verdicts({"tone": _tone(0.30, 0.20, 11)})["tone"]
    assert v["ci"][0] < 0 < v["ci"][1] and v["verdict"] == "leaning yes, not significant"
    assert verdicts({"tone": _tone(-0.30, 0.10, 11)})["tone"]["verdict"] == "no"
    # two topics: no interval worth the name
    v = verdicts({"tone": _tone(0.30, 0.10, 2)})["tone"]
    assert v["verdict"] == "too few to tell" and "at least 3 topics" in v["reason"]


def test_sharing_too_few_when_the_analysis_says_so():
    v = verdicts({"sharing": _sharing(0.05, None, None, enough=False, clusters=2)})["sharing"]
    assert v["verdict"] == "too few to tell" and v["p_value"] is None
    assert "in 2 department clusters" in v["reason"] and "5 clusters" in v["reason"]
    # 0.04 (0.01 to 0.07) on 6 clusters: se = 0.03 / t(0.975, 5), p from t(5)
    v = verdicts({"sharing": _sharing(0.04, 0.01, 0.07)})["sharing"]
    se = 0.03 / stats.t.ppf(0.975, 5)
    assert v["p_value"] == pytest.approx(2 * stats.t.sf(0.04 / se, 5))
    assert v["verdict"] == "yes"


def test_hashtags_leader_first_and_its_floor():
    # 2 hashtags, a leader is one of two users of each: even 2 of 2 gives p = 0.25
    v = verdicts({"contagion": _contagion([True, True], [0.5, 0.5])})["hashtags"]
    assert v["p_value"] == pytest.approx(0.25) and v["min_p_value"] == pytest.approx(0.25)
    assert v["verdict"] == "too few to tell"
    # a hashtag without leader users cannot be led: the floor ignores it
    v = verdicts({"contagion": _contagion([True] * 6 + [False], [0.2] * 6 + [0.0])})["hashtags"]
    assert v["min_p_value"] == pytest.approx(0.2 ** 6) and v["p_value"] == pytest.approx(0.2 ** 6)
    assert v["verdict"] == "yes" and v["estimate"] == pytest.approx(6 / 7)
    assert v["calibration"]["status"] == "not calibrated"


def test_delegation_p_value_from_the_analysis_own_t_and_its_calibration_badge():
    rng = np.random.default_rng(3)
    r, md = _delegation(0.30 + 0.05 * rng.standard_normal(8), 0.20 + 0.05 * rng.standard_normal(12))
    v = verdicts({"delegation": r})["delegation"]
    assert v["estimate"] == pytest.approx(md["estimate"])
    assert v["p_value"] == pytest.approx(2 * stats.t.sf(abs(md["estimate"]) / md["se"], md["df"]))
    assert v["verdict"] == "yes" and v["calibration"] == CALIBRATION["delegation"]
    assert v["n_leader_accounts"] == 3 and v["n_delegated_accounts"] == 2
    text = founding_answer({"delegation": r})
    c = CALIBRATION["delegation"]
    if c["status"] == "calibrated":
        assert "Calibration" not in text
    else:
        assert f"Calibration {c['status']}: {c['note']}" in text
    few, _ = _delegation([0.3, 0.4], [0.2, 0.1, 0.2])
    v = verdicts({"delegation": few})["delegation"]
    assert v["verdict"] == "too few to tell" and "fewer than the 3 each needed" in v["reason"]


def test_the_two_families_are_adjusted_separately():
    d = _directory([1, 2, 3, 40, 60], 200)
    leaders_only = verdicts({"directory": d})["most_followed"]
    both = verdicts({"directory": d, "tone": _tone(0.30, 0.10, 11),
                     "contagion": _contagion([True] * 6 + [False], [0.2] * 6 + [0.0])})
    assert both["most_followed"]["p_value_adjusted"] == leaders_only["p_value_adjusted"]
    assert both["most_followed"]["n_questions"] == 1
    # Holm over tone (p = 0.0133) and hashtags (p = 6.4e-05): the larger is not multiplied
    assert both["tone"]["n_questions"] == 2
    assert both["hashtags"]["p_value_adjusted"] == pytest.approx(2 * 0.2 ** 6)
    assert both["tone"]["p_value_adjusted"] == pytest.approx(both["tone"]["p_value"])


def _all_results():
    rng = np.random.default_rng(3)
    act = Result(name="activity", title="Activity", params={}, summary={"window": {
        "rate_ratio_leaders_vs_others": {"estimate": 2.5, "ci": [1.2, 5.1], "p_value": 0.004,
                                         "model": "negative_binomial", "n_group": 5,
                                         "n_others": 80}}})
    return {"directory": _directory([1, 3, 5, 8, 13, 21, 34, 55, 89], 515),
            "adoption": _adoption([6, 18, 23, 41, 47, 59, 234, 367], 505), "activity": act,
            "tone": _tone(0.30, 0.10, 11), "sharing": _sharing(0.04, 0.01, 0.07),
            "contagion": _contagion([True] * 6 + [False], [0.2] * 6 + [0.0]),
            "delegation": _delegation(0.30 + 0.05 * rng.standard_normal(8),
                                      0.20 + 0.05 * rng.standard_normal(12))[0]}


def test_answer_lines_in_order_with_numbers_and_sources():
    lines = answer_lines(_all_results())
    assert [x["question"] for x in lines] == list(QUESTIONS) == [
        "first", "most_active", "most_followed", "tone", "sharing", "hashtags", "delegation"]
    by = {x["question"]: x for x in lines}
    assert by["first"]["number"] == "median rank 44 of 505"
    assert by["most_active"]["number"] == "rate ratio 2.50"
    assert by["most_active"]["interval"] == "1.20 to 5.10"
    assert by["tone"]["number"] == "+30 % of the way, leader minus peer"
    assert by["sharing"]["number"] == "+4.0 points, leader minus peer"
    assert by["sharing"]["interval"] == "+1.0 points to +7.0 points"
    assert by["hashtags"]["number"] == "6 of 7 hashtags first used by a leader (86 %)"
    assert {x["section"] for x in lines} == {"adoption", "activity", "directory", "tone",
                                             "sharing", "contagion", "delegation"}
    assert by["tone"]["source"].startswith("table 'alignment'")
    assert all(x["verdict"] == "yes" for x in lines)


def test_unanswered_questions_are_listed_as_unknown_with_the_reason():
    lines = answer_lines({"directory": _directory([1, 2, 3, 40, 60], 200)},
                         {"tone": "no post has a tone score: run `socialens enrich` first"})
    assert [x["question"] for x in lines] == list(QUESTIONS)
    by = {x["question"]: x for x in lines}
    assert by["tone"]["verdict"] == "unknown" and "run `socialens enrich`" in by["tone"]["evidence"]
    assert by["sharing"]["evidence"] == "the sharing analysis was not run."
    assert answer_lines({}) == []


def _render(tiny_ws, results, out):
    from socialens.report import render_report

    html = render_report(tiny_ws, results)
    out.write_text(html, encoding="utf-8")
    return BeautifulSoup(html, "html.parser")


def test_first_page_lists_the_questions_in_order_with_numbers(tiny_ws, tmp_path):
    soup = _render(tiny_ws, _all_results(), tmp_path / "report.html")
    items = soup.select("#founding-answer > li")
    assert [li["data-question"] for li in items] == list(QUESTIONS)
    texts = [li.get_text(" ", strip=True) for li in items]
    assert [t.split("?")[0] + "?" for t in texts] == list(QUESTIONS.values())
    first = items[0]
    assert first.select_one("[data-field=number]").get_text() == "median rank 44 of 505"
    tone = items[3]
    assert tone.select_one("[data-field=number]").get_text() == "+30 % of the way, leader minus peer"
    assert tone.select_one("[data-field=interval]").get_text() == "95 % interval +8 % to +52 %"
    for li in items:  # each line links to an existing section and names its table
        href = li.select_one("p.source a")["href"]
        assert soup.find("section", id=href[1:]), href
    deleg = items[6]  # a badge exactly where the calibration is not on target
    assert deleg.select_one(".calibration").get_text() == \
        f"calibration: {CALIBRATION['delegation']['status']}"
    for li, q in zip(items, QUESTIONS, strict=True):
        badge = li.select_one("p.key .calibration")
        assert (badge is None) == (CALIBRATION[q]["status"] == "calibrated"), q
        if badge is not None:
            assert badge["title"] == CALIBRATION[q]["note"]


def test_first_page_fits_a_phone(tiny_ws, tmp_path, browser):  # noqa: F811
    path = tmp_path / "report.html"
    _render(tiny_ws, _all_results(), path)
    ctx = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = ctx.new_page()
    page.goto(path.as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    boxes = page.eval_on_selector_all("#founding-answer > li",
                                      "els => els.map(e => e.getBoundingClientRect().right)")
    assert len(boxes) == 7 and max(boxes) <= 375
    font = page.eval_on_selector("#founding-answer > li", "e => getComputedStyle(e).fontSize")
    assert float(font.rstrip("px")) >= 14
    ctx.close()
