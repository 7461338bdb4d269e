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


def test_shipped_model_known_answers_and_provenance():
    m = shipped_model()
    assert m.classes_ == list(LABELS)
    assert m.provenance_["trained_on"].startswith("shared/data/sharing_labels/dev.csv")
    r = classify_sharing(PERSONAL + PROFESSIONAL)
    assert r["sharing_label"][:3] == ["PERSONAL"] * 3
    assert r["sharing_label"][3] == "PROFESSIONAL"
    assert all(s > 0.5 for s in r["personal_score"][:3])
    assert r["personal_score"][3] < 0.5


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
