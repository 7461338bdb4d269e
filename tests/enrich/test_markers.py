"""Style markers: ConvoKit parity (shipped excerpt + full reference when present), default fixes."""

import gzip
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialens.enrich.markers import (
    MARKER_COLUMNS,
    MARKERS,
    ConvoKitAnnotator,
    load_patterns,
    marker_counts,
    marker_sets,
    token_categories,
    tokenize,
)
from socialens.errors import EnrichError
from tests.conftest import SHARED_DATA

DATA = Path(__file__).parent / "data"
REF = SHARED_DATA / "coordination_reference"


def _reference(df: pd.DataFrame) -> list[set[str]]:
    return [{c for c in MARKERS if str(r[c]) == "1"} for _, r in df.iterrows()]


def test_pattern_file_is_convokits():
    import hashlib
    from importlib import resources

    raw = resources.files("socialens.enrich").joinpath("data", "coord-liwc-patterns.txt").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == (
        "55a53ebc232c67f1b186e6bd3bf8763daf0ebd78edd1fdcb8ac264e9c5b21652"
    )
    counts = {c: len(v) for c, v in load_patterns().items()}
    assert counts == {"article": 4, "auxverb": 149, "conj": 28, "adverb": 68, "ppron": 73,
                      "ipron": 46, "preps": 60, "quant": 89}


def test_convokit_parity_on_shipped_excerpt():
    df = pd.read_csv(DATA / "convokit_excerpt.csv.gz", dtype=str, keep_default_na=False)
    assert len(df) == 500
    assert marker_sets(list(df.text), "convokit") == _reference(df)


def test_convokit_parity_on_tokenization_probes():
    p = pd.read_csv(DATA / "tokenization_probes.csv", dtype=str, keep_default_na=False)
    for text, cats in zip(p.input_text, p.convokit_categories, strict=True):
        want = set(cats.split(";")) if cats else set()
        assert marker_sets([text], "convokit")[0] == want, text


@pytest.mark.skipif(not REF.exists(), reason="no shared data")
def test_convokit_parity_on_full_reference_corpus():
    """Identical per-utterance marker sets on all 7,020 utterances of the reference corpus."""
    u = pd.read_csv(REF / "corpus" / "utterances.csv.gz", dtype=str, keep_default_na=False)
    with gzip.open(REF / "convokit_outputs" / "utterance_markers.csv.gz", "rt") as f:
        m = pd.read_csv(f, dtype=str).set_index("id").loc[u.id]
    got = marker_sets(list(u.text), "convokit")
    assert got == _reference(m)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("don’t", {"auxverb"}),  # ConvoKit: nothing (curly apostrophe splits)
        ("y’all", {"ppron"}),  # ConvoKit: quant (from "all")
        ("http://t.co/a", set()),  # ConvoKit: article
        ("#the @the", set()),  # ConvoKit: article
        ("años", set()),  # ConvoKit: article ("a")
        ("Doña Ana", set()),  # ConvoKit: auxverb ("do")
        ("&amp;", set()),
        ("the US Senate", {"article"}),  # ConvoKit: article + ppron
        ("LET US KNOW", {"auxverb", "ppron"}),  # shouting: "US" is the pronoun
        ("it's", {"auxverb", "ipron"}),
        ("everything's fine", {"ipron"}),
    ],
)
def test_default_mode_fixes(text, expected):
    assert marker_sets([text])[0] == expected


def test_default_counts_tokens():
    c = marker_counts(["The cat and the dog, a bird."])
    assert c["m_article"] == [3]
    assert c["m_conj"] == [1]
    assert c["n_tokens"] == [7]
    assert set(c) == set(MARKER_COLUMNS.values()) | {"n_tokens"}


def test_convokit_counts_are_presence():
    c = marker_counts(["the the the"], mode="convokit")
    assert c["m_article"] == [1]


def test_tokenize_and_token_categories():
    assert tokenize("I’m at #home with @mom: https://x.y/z") == ["I'm", "at", "with"]
    assert token_categories("thingamajig") == frozenset({"ipron"})


def test_unknown_mode_is_an_error():
    with pytest.raises(EnrichError, match="markers mode"):
        marker_sets(["x"], mode="liwc")


def test_annotator_is_reusable():
    a = ConvoKitAnnotator()
    assert a.categories("so") == {"adverb", "conj"}
    assert a.categories("so") == {"adverb", "conj"}


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=120))
def test_presence_agrees_with_counts(text):
    for mode in ("default", "convokit"):
        sets = marker_sets([text], mode)[0]
        counts = marker_counts([text], mode)
        assert sets == {c for c in MARKERS if counts[MARKER_COLUMNS[c]][0] > 0}
        assert all(counts[MARKER_COLUMNS[c]][0] >= 0 for c in MARKERS)
