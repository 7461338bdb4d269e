"""Personal vs professional: baseline and model, cross-validated on the DEV labels.

Data: ``sharing_labels/dev.csv`` (400 Senate posts 2012–2015, labelled with the codebook in that
folder's README). Protocol: stratified 5-fold cross-validation, repeated with 5 seeds; the model is
refitted inside every fold (vocabulary included), so no post is scored by a model that saw it.
The lexicon baseline has nothing to fit; its numbers are on all 400 posts (and are optimistic:
its cue lists were written while reading this set). The hidden test set is never touched.

``python -m eval.sharing --write-model`` also fits the model on all 400 posts and writes
``socialens/enrich/data/sharing_model.json`` with its provenance.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from eval.common import REPO, emit, prf, require
from socialens.enrich.sharing import LABELS, BaselineSharingClassifier, SharingModel

NAME = "sharing"
TITLE = "Personal vs professional (sharing_labels DEV, cross-validated)"
N_FOLDS, SEEDS = 5, (0, 1, 2, 3, 4)
MODEL_PATH = REPO / "socialens" / "enrich" / "data" / "sharing_model.json"


def stratified_folds(labels, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(labels), dtype=int)
    for lab in LABELS:
        idx = np.array([i for i, v in enumerate(labels) if v == lab])
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % k
    return fold


def auc(y_bin, score) -> float:
    """ROC AUC via the Mann-Whitney statistic (ties count one half)."""
    s = pd.Series(score).rank().to_numpy()
    pos = np.asarray(y_bin, bool)
    n1, n0 = pos.sum(), (~pos).sum()
    return float((s[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def load():
    path = require("sharing_labels", "dev.csv")
    d = pd.read_csv(path, dtype=str, keep_default_na=False)
    return path, list(d.text), list(d.label)


def run() -> dict:
    _, texts, labels = load()
    y_bin = [lab != "PROFESSIONAL" for lab in labels]
    base = BaselineSharingClassifier()
    b_pred = base.predict(texts)
    out = {"n": len(texts), "baseline": prf(labels, b_pred, LABELS)}
    out["baseline"]["auc_personal_or_mixed"] = round(auc(y_bin, base.score(texts)), 4)
    reps = []
    for seed in SEEDS:
        fold = stratified_folds(labels, N_FOLDS, seed)
        pred = [None] * len(texts)
        score = np.zeros(len(texts))
        for k in range(N_FOLDS):
            tr = [i for i in range(len(texts)) if fold[i] != k]
            te = [i for i in range(len(texts)) if fold[i] == k]
            m = SharingModel().fit([texts[i] for i in tr], [labels[i] for i in tr])
            sub = [texts[i] for i in te]
            for i, p, s in zip(te, m.predict(sub), m.score(sub), strict=True):
                pred[i], score[i] = p, s
        r = prf(labels, pred, LABELS)
        r["auc_personal_or_mixed"] = round(auc(y_bin, score), 4)
        reps.append(r)
    model = {}
    for lab in LABELS:
        model[lab] = {
            k: round(float(np.mean([r[lab][k] for r in reps])), 4)
            for k in ("precision", "recall", "f1")
        }
        model[lab]["support"] = reps[0][lab]["support"]
    for k in ("macro_f1", "accuracy", "auc_personal_or_mixed"):
        vals = [r[k] for r in reps]
        model[k] = round(float(np.mean(vals)), 4)
        model[k + "_range"] = [round(min(vals), 4), round(max(vals), 4)]
    out["model_cv"] = model
    out["protocol"] = f"stratified {N_FOLDS}-fold CV x {len(SEEDS)} seeds; model refitted per fold"
    return out


def write_model() -> None:
    path, texts, labels = load()
    m = SharingModel().fit(texts, labels)
    prov = {
        "trained_on": "shared/data/sharing_labels/dev.csv (400 posts, all of DEV)",
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "fitted_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "codebook": "shared/data/sharing_labels/README.md, rules R1-R18",
        "evaluation": "eval/sharing.py (cross-validated numbers in EVALUATION.md)",
        "licence": "coefficients: MIT (this project); texts: Senate tweets via gvegayon/twitterreport (MIT)",
    }
    MODEL_PATH.write_text(json.dumps(m.to_dict(prov), indent=1, sort_keys=False) + "\n",
                          encoding="utf-8")
    print(f"wrote {MODEL_PATH} ({len(m.vocabulary_)} tokens)")


def to_markdown(r: dict) -> str:
    lines = [f"{r['n']} posts; {r['protocol']}. Baseline: lexicon + rules on all posts "
             "(nothing fitted; its cue lists were written while reading this set, so optimistic).",
             "", "| classifier | class | precision | recall | F1 | support |",
             "|---|---|---:|---:|---:|---:|"]
    for key, name in (("baseline", "baseline"), ("model_cv", "model (CV mean)")):
        for lab in LABELS:
            c = r[key][lab]
            lines.append(f"| {name} | {lab} | {c['precision']:.3f} | {c['recall']:.3f} | "
                         f"{c['f1']:.3f} | {c['support']} |")
    lines += ["", f"Macro-F1: baseline {r['baseline']['macro_f1']:.3f}, model "
              f"{r['model_cv']['macro_f1']:.3f} (range over seeds "
              f"{r['model_cv']['macro_f1_range'][0]:.3f}–{r['model_cv']['macro_f1_range'][1]:.3f}). "
              f"Accuracy: baseline {r['baseline']['accuracy']:.3f}, model "
              f"{r['model_cv']['accuracy']:.3f}. ROC AUC of personal_score for PERSONAL+MIXED vs "
              f"PROFESSIONAL: baseline {r['baseline']['auc_personal_or_mixed']:.3f}, model "
              f"{r['model_cv']['auc_personal_or_mixed']:.3f}."]
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m eval.sharing")
    ap.add_argument("--write-model", action="store_true",
                    help="fit on all of DEV and write the shipped model file")
    args = ap.parse_args(argv)
    if args.write_model:
        write_model()
    emit(run())


if __name__ == "__main__":
    main()
