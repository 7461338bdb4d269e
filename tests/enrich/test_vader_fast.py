"""FastVader gives vaderSentiment's polarity_scores bit for bit (all four keys, same float bits)."""

import gzip
import struct
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialens.enrich.tone import prepare_for_vader
from socialens.enrich.vader_fast import FastVader
from tests.conftest import SHARED_DATA

DATA = Path(__file__).parent / "data"
KEYS = ("neg", "neu", "pos", "compound")


def _make_pair():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer(), FastVader()


_PAIR = _make_pair()


@pytest.fixture(scope="module")
def pair():
    return _PAIR


def _bits(d: dict) -> tuple:
    return tuple((type(d[k]).__name__, struct.pack("<d", d[k])) for k in KEYS)


def mismatches(pair, texts) -> list[tuple[str, dict, dict]]:
    sia, fv = pair
    out = []
    for t in texts:
        a, b = sia.polarity_scores(t), fv.polarity_scores(t)
        if list(a) != list(b) or _bits(a) != _bits(b):
            out.append((t, a, b))
    return out


TRICKY = [
    "", "   ", "!!!", ":)", ":-( :D", "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today only kinda sux! But I'll get by, lol", "good but good but bad", "but", "good but",
    "Make sure you :) or :D today!", "Catch utf-8 emoji such as 💘 and 💋 and 😁",
    "😁😁😁!!", "x😁y 😁 z", "Not bad at all", "Sentiment analysis has never been this good!",
    "Sentiment analysis has never so good", "never so very good", "never this good at all",
    "Most automated sentiment analysis tools are shit.", "With VADER, sentiment analysis is the shit!",
    "On the other hand, VADER is quite bad ass", "VADER is such a badass!",
    "Without a doubt, excellent idea.", "without any doubt good", "without doubt good",
    "Roger Dodger is at least compelling as a variation on the theme.",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "very least good", "least good", "no good", "no no no", "no way good", "no, or good",
    "no problem or nor good", "it is kind of good", "kind of", "kind", "sort of good really",
    "just enough good", "the bomb is a kiss of death to die for", "bus stop yeah right",
    "GOOD good", "GOOD GOOD", "NOT good", "VERY good", "very GOOD", "EXTREMELY bad news",
    "isn't good", "aint bad", "don't hate", "rarely good seldom bad", "despite the great day",
    "What?? Really??? Good????", "good?!?!?!", "bad!!!!!", "a b c d e f good",
    "good good good good good good good good good good good good good good good good",
    "'good' \"bad\" (great) [awful]", "--good-- ..ok..", "kind-of good", "sort-of bad",
    "I LOVE this :) <3", "@user the vote is at noon", "1/2 naked",
    "Great news @user!!  & more :)", "\u00a0good\u2003bad\u3000great", "Ǆ good ǅ",
    "#sad #happy", "🙂 🙁", "☹ sad ☺ happy", "✌️ peace", "🇺🇸 proud",
]


def test_tricky_cases(pair):
    assert mismatches(pair, TRICKY) == []


def test_documented_example():
    # the doctest value, also what vaderSentiment's own README shows for this sentence
    assert FastVader().polarity_scores("VADER is VERY SMART, handsome, and FUNNY!!!") == {
        "neg": 0.0, "neu": 0.233, "pos": 0.767, "compound": 0.9342}


def test_vader_human_rated_tweets(pair):
    """All 4,200 tweets of Hutto & Gilbert's ground truth (shipped with the tests), as they are
    and as tone scoring prepares them."""
    with gzip.open(DATA / "vader_tweets_GroundTruth.txt.gz", "rt", encoding="utf-8") as f:
        texts = [line.rstrip("\n").split("\t", 2)[2] for line in f if line.strip()]
    assert len(texts) == 4200
    assert mismatches(pair, texts) == []
    assert mismatches(pair, [prepare_for_vader(t) for t in texts]) == []


def test_tweeteval_sentiment_test_set(pair):
    path = SHARED_DATA / "tweeteval" / "tweeteval_sentiment" / "test_text.txt"
    if not path.exists():
        pytest.skip(f"{path} not present (the shared data folder)")
    texts = path.read_text(encoding="utf-8").splitlines()
    assert len(texts) == 12284
    assert mismatches(pair, texts) == []
    assert mismatches(pair, [prepare_for_vader(t) for t in texts]) == []


def test_enrich_parity_corpus(pair):
    """The real Senate tweets of the enrichment parity corpus (the shipped excerpt without the
    shared data)."""
    ref = SHARED_DATA / "coordination_reference" / "corpus" / "utterances.csv.gz"
    src = ref if ref.exists() else DATA / "convokit_excerpt.csv.gz"
    texts = list(pd.read_csv(src, dtype=str, keep_default_na=False).text)
    assert len(texts) >= 500
    assert mismatches(pair, texts) == []
    assert mismatches(pair, [prepare_for_vader(t) for t in texts]) == []


def test_batch_scores_match_single_calls(pair):
    _, fv = pair
    c, p, u, n = fv.scores(TRICKY)
    assert [(x, y, z, w) for x, y, z, w in zip(n, u, p, c, strict=True)] == [
        tuple(fv.polarity_scores(t)[k] for k in KEYS) for t in TRICKY]


def test_token_cache_is_bounded(monkeypatch):
    import socialens.enrich.vader_fast as vf

    monkeypatch.setattr(vf, "_CACHE_LIMIT", 10)
    fv = vf.FastVader()
    for i in range(50):
        fv.polarity_scores(f"good w{i} w{i}x")
    assert len(fv._tokens) <= 10
    assert fv.polarity_scores("good") == {"neg": 0.0, "neu": 0.0, "pos": 1.0, "compound": 0.4404}


_WORDS = ["good", "GOOD", "bad", "BAD", "not", "no", "never", "so", "this", "without", "doubt",
          "but", "BUT", "kind", "of", "sort", "very", "VERY", "least", "at", "the", "shit", "bomb",
          "bad", "ass", "isn't", "can't", "nor", "or", "kinda", "extremely", ":)", ":(", "<3",
          "lol", "😁", "💔", "!", "?", "!!", "??", "love", "hate", "great", "terrible", "ok",
          "die", "for", "to", "yeah", "right", "just", "enough", "x", "y", "I", "A"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=14), st.sampled_from(["", "!", "?", "...", ","]))
def test_random_sentences(words, glue):
    text = (glue + " ").join(words)
    sia, fv = _PAIR
    a, b = sia.polarity_scores(text), fv.polarity_scores(text)
    assert _bits(a) == _bits(b), text

