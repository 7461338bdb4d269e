"""Tone: VADER through our text preparation, on VADER's own ground truth and on TweetEval.

* ``vader_groundtruth/tweets_GroundTruth.txt``: 4,200 tweets with the mean of 20 human ratings
  (Hutto & Gilbert 2014). Metric: Pearson r between ``tone_compound`` and the human mean; also for
  plain ``vaderSentiment`` on the raw text, to show the preparation does not damage it.
* ``tweeteval/tweeteval_sentiment/test_*.txt``: 12,284 tweets, gold negative/neutral/positive
  (Rosenthal et al. 2017 via Barbieri et al. 2020). Metric: accuracy and macro-F1 of ``tone_label``.

Language gating is not applied here (``tone_scores`` is called directly); the share of posts the
runner would flag as not English is reported separately.
"""

from __future__ import annotations

from eval.common import emit, pearson, prf, require
from socialens.enrich.language import detect_languages
from socialens.enrich.tone import analyzer, tone_scores

NAME = "tone"
TITLE = "Tone (VADER ground truth, TweetEval sentiment)"
MIN_R = 0.87


def vader_groundtruth(path=None):
    """The 4,200 tweets and their mean human ratings; ``path`` may be a gzipped copy."""
    import gzip
    from pathlib import Path

    path = Path(path) if path else require("vader_groundtruth", "tweets_GroundTruth.txt")
    text = (gzip.open(path, "rt", encoding="utf-8").read() if path.suffix == ".gz"
            else path.read_text("utf-8"))
    rows = [ln.rstrip("\r\n").split("\t") for ln in text.splitlines() if ln]
    return [r[2] for r in rows], [float(r[1]) for r in rows]


def tweeteval():
    d = require("tweeteval", "tweeteval_sentiment")
    texts = (d / "test_text.txt").read_text("utf-8").split("\n")
    labels = (d / "test_labels.txt").read_text("utf-8").split()
    names = dict(ln.split("\t") for ln in (d / "mapping.txt").read_text("utf-8").splitlines() if ln)
    texts = texts[: len(labels)]
    return texts, [names[v] for v in labels]


def run_vader(path=None) -> dict:
    texts, human = vader_groundtruth(path)
    ours = tone_scores(texts)["tone_compound"]
    sia = analyzer()
    plain = [sia.polarity_scores(t)["compound"] for t in texts]
    flagged = sum(not e for e in detect_languages(texts)["is_english"])
    return {"n": len(texts), "pearson_r": round(pearson(ours, human), 4),
            "pearson_r_plain_vader": round(pearson(plain, human), 4),
            "flagged_not_english": flagged}


def run_tweeteval() -> dict:
    texts, gold = tweeteval()
    pred = tone_scores(texts)["tone_label"]
    m = prf(gold, pred, ["negative", "neutral", "positive"])
    flagged = sum(not e for e in detect_languages(texts)["is_english"])
    return {"n": len(texts), "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
            "per_class": {k: m[k] for k in ("negative", "neutral", "positive")},
            "flagged_not_english": flagged}


def run() -> dict:
    return {"vader_groundtruth": run_vader(), "tweeteval_sentiment_test": run_tweeteval()}


def to_markdown(r: dict) -> str:
    v, t = r["vader_groundtruth"], r["tweeteval_sentiment_test"]
    lines = [
        f"- VADER ground truth ({v['n']} tweets): Pearson r = **{v['pearson_r']:.4f}** between "
        f"`tone_compound` and the human mean (required ≥ {MIN_R}; plain vaderSentiment on the raw "
        f"text: {v['pearson_r_plain_vader']:.4f}; the 2014 paper reports 0.881 with older code). "
        f"{v['flagged_not_english']} tweets would be flagged not English.",
        f"- TweetEval sentiment test ({t['n']} tweets), 3 classes with thresholds ±0.05: accuracy "
        f"**{t['accuracy']:.4f}**, macro-F1 **{t['macro_f1']:.4f}**. "
        f"{t['flagged_not_english']} tweets would be flagged not English.",
        "",
        "| TweetEval class | precision | recall | F1 | support |",
        "|---|---:|---:|---:|---:|",
    ]
    for k, c in t["per_class"].items():
        lines.append(f"| {k} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | "
                     f"{c['support']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    emit(run())
