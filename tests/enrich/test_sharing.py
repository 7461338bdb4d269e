"""Personal vs professional: baseline rules, the shipped model, estimator conventions."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialens.enrich.sharing import (
    CUES,
    LABELS,
    BaselineSharingClassifier,
    SharingModel,
    classify_sharing,
    shipped_model,
)
from socialens.errors import EnrichError
from tests.conftest import SHARED_DATA

PERSONAL = [
    "Happy birthday to my wife Kris!",
    "Good luck to the @Cavs tonight! #GoCavs",
    "Grandkids are just the best. Loved chatting with my wonderful grandson today.",
]
PROFESSIONAL = [
    "Voted today for the highway bill. It will create jobs in our state.",
    "Our kids deserve better schools: my amendment invests in our children.",
    "Thoughts and prayers with the families of the victims.",
]


def test_baseline_known_answers():
    clf = BaselineSharingClassifier()
    assert clf.predict(PERSONAL) == ["PERSONAL"] * 3
    assert clf.predict(PROFESSIONAL) == ["PROFESSIONAL"] * 3
    assert clf.predict(["Proud of my daughter, who testified at the Senate hearing on the bill"]) \
        == ["MIXED"]


# Known answers for the shipped model: posts written for this test, none of them in the model's
# training data (shared/data/sharing_labels/dev.csv; checked below). PERSONAL above quotes two
# training posts, so it cannot show that the model generalizes.
HELD_OUT_PERSONAL = [
    "Happy anniversary to my husband Dan, 30 years and still my best friend!",
    "Taking my granddaughter fishing at the lake this weekend. She caught the biggest one!",
    "So proud of my son on his graduation day. Love you, buddy!",
    "Go Bears! Watching the game with the whole family tonight.",
]
HELD_OUT_PROFESSIONAL = [
    "I introduced a bill today to lower prescription drug costs for seniors.",
    "The committee will hold a hearing on the farm bill next Tuesday.",
    "My office is hosting a job fair for veterans on Friday. Details on our website.",
    "Voted against the budget resolution: it adds $2 trillion to the deficit.",
    "Met with county officials to discuss funding for rural broadband.",
]


def test_shipped_model_known_answers_and_provenance():
    m = shipped_model()
    assert m.classes_ == list(LABELS)
    assert m.provenance_["trained_on"].startswith("shared/data/sharing_labels/dev.csv")
    n = len(HELD_OUT_PERSONAL)
    r = classify_sharing(HELD_OUT_PERSONAL + HELD_OUT_PROFESSIONAL)
    assert r["sharing_label"] == ["PERSONAL"] * n + ["PROFESSIONAL"] * len(HELD_OUT_PROFESSIONAL)
    assert all(s > 0.5 for s in r["personal_score"][:n])
    assert all(s < 0.5 for s in r["personal_score"][n:])


@pytest.mark.skipif(not (SHARED_DATA / "sharing_labels").exists(), reason="no shared data")
def test_known_answer_posts_are_not_training_posts():
    import pandas as pd

    d = pd.read_csv(SHARED_DATA / "sharing_labels" / "dev.csv", dtype=str, keep_default_na=False)
    train = [" ".join(t.lower().split()) for t in d.text]
    for text in HELD_OUT_PERSONAL + HELD_OUT_PROFESSIONAL:
        start = " ".join(text.lower().split())[:25]
        assert not any(start in t for t in train), f"{text!r} is in the training data"


def test_none_passes_through():
    assert classify_sharing([None]) == {"personal_score": [None], "sharing_label": [None]}


def test_unknown_method():
    with pytest.raises(EnrichError, match="sharing method"):
        classify_sharing(["x"], method="llm")


def test_fit_follows_estimator_conventions():
    texts = PERSONAL * 3 + PROFESSIONAL * 3 + ["my wife at the hearing on the bill"] * 2
    labels = ["PERSONAL"] * 9 + ["PROFESSIONAL"] * 9 + ["MIXED"] * 2
    m = SharingModel(C=0.5)
    assert not hasattr(m, "coef_")
    assert m.fit(texts, labels) is m
    assert m.coef_.shape == (len(CUES) + len(m.vocabulary_), 3)
    again = SharingModel.from_dict(json.loads(json.dumps(m.to_dict())))
    assert again.predict(texts) == m.predict(texts)


def test_model_file_must_match_cue_groups():
    d = shipped_model().to_dict()
    d["cue_groups"] = d["cue_groups"][:-1]
    with pytest.raises(EnrichError, match="cue groups"):
        SharingModel.from_dict(d)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=100), min_size=1, max_size=4))
def test_scores_in_range_and_labels_valid(texts):
    for method in ("model", "baseline"):
        r = classify_sharing(texts, method)
        assert all(0.0 <= s <= 1.0 for s in r["personal_score"])
        assert all(lab in LABELS for lab in r["sharing_label"])


@pytest.mark.skipif(not (SHARED_DATA / "sharing_labels").exists(), reason="no shared data")
def test_baseline_on_dev_is_as_documented():
    """Fast check of the documented baseline numbers (the CV of the model runs in `make eval`)."""
    import pandas as pd

    from eval.common import prf

    d = pd.read_csv(SHARED_DATA / "sharing_labels" / "dev.csv", dtype=str, keep_default_na=False)
    m = prf(list(d.label), BaselineSharingClassifier().predict(list(d.text)), LABELS)
    assert m["PROFESSIONAL"]["f1"] >= 0.9
    assert m["PERSONAL"]["f1"] >= 0.6
