"""Tone: VADER scores, text preparation that keeps what VADER reads, validation on real data."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialens.enrich.tone import prepare_for_vader, tone_label, tone_scores
from tests.conftest import SHARED_DATA


def test_known_answers():
    s = tone_scores(["I love this!", "This is terrible.", "The hearing is at 10am.", None])
    assert s["tone_label"] == ["positive", "negative", "neutral", None]
    assert s["tone_compound"][0] > 0.5 and s["tone_compound"][1] < -0.4
    assert s["tone_compound"][3] is None


def test_preparation_keeps_case_punctuation_emoji_and_emoticons():
    t = "GREAT news!!! 😀 :) &lt;3 @love http://t.co/bad"
    p = prepare_for_vader(t)
    assert "GREAT" in p and "!!!" in p and "😀" in p and ":)" in p and "<3" in p
    assert "@user" in p and "@love" not in p and "http" not in p
    # emphasis survives: caps and exclamation marks raise the score as in VADER
    assert tone_scores(["GREAT!!!"])["tone_compound"][0] > tone_scores(["great"])["tone_compound"][0]


def test_mention_handle_is_not_scored_as_a_word():
    assert tone_scores(["@HappyLove voted today"])["tone_compound"][0] == 0.0


def test_glued_url_is_removed():
    assert "https" not in prepare_for_vader("#HonorOurHeroeshttps://t.co/abc")


def test_label_thresholds():
    assert tone_label(0.05) == "positive"
    assert tone_label(0.0499) == "neutral"
    assert tone_label(-0.05) == "negative"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=5))
def test_scores_in_range(texts):
    s = tone_scores(texts)
    for c, p, n, u in zip(s["tone_compound"], s["tone_pos"], s["tone_neg"], s["tone_neu"],
                          strict=True):
        assert -1.0 <= c <= 1.0
        for v in (p, n, u):
            assert 0.0 <= v <= 1.0
        assert p + n + u == pytest.approx(1.0, abs=0.01) or p + n + u == 0


def test_vader_groundtruth_correlation_at_least_087():
    """Hutto & Gilbert (2014)'s 4,200 human-rated tweets: r >= 0.87 (current VADER: ~0.872).

    Runs on the shared data when present, else on the copy shipped with the tests (MIT, see
    tests/enrich/data/LICENSE-vaderSentiment.txt), so it always runs."""
    from pathlib import Path

    from eval.tone import run_vader

    shared = SHARED_DATA / "vader_groundtruth" / "tweets_GroundTruth.txt"
    copy = Path(__file__).parent / "data" / "vader_tweets_GroundTruth.txt.gz"
    r = run_vader(shared if shared.exists() else copy)
    assert r["n"] == 4200
    assert r["pearson_r"] >= 0.87
    assert not math.isnan(r["pearson_r"])
    assert r["pearson_r"] >= r["pearson_r_plain_vader"] - 0.002
