"""Coordination: parity with ConvoKit 5.0.0's ``Coordination`` on its reference outputs.

Data: ``coordination_reference/`` (7,020 real Senate tweets in a synthetic reply structure, with
ConvoKit's per-speaker, per-target, pairwise and summary outputs). The corpus is loaded *through the
product*: written as canonical files (one person and one personal account per speaker, one post per
utterance, ``reply_to_post_id`` from ``reply_to``), ingested, enriched with the ``convokit`` markers
mode, then scored with :mod:`socialens.analyses.coordination`. Prints the largest absolute
difference from ConvoKit's numbers (JSON, last line); every count must match exactly.
"""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from eval.common import emit, require
from socialens.analyses.coordination import MARKERS, aggregate, pair_counts, scores

NAME = "coordination_parity"
TITLE = "Coordination (ConvoKit 5.0.0 parity on the coordination reference corpus)"

ROLE_LEVEL = {"party_leader": 0, "committee_leader": 1, "rank_and_file": 2}


def write_canonical(base: Path, out: Path, utterances: pd.DataFrame | None = None) -> None:
    """The reference corpus as canonical files in ``out`` (people, roles, accounts, posts)."""
    u = utterances if utterances is not None else pd.read_csv(
        base / "corpus" / "utterances.csv.gz", dtype=str, keep_default_na=False)
    sp = pd.read_csv(base / "corpus" / "speakers.csv", dtype=str)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "people.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["person_id", "name"])
        w.writerows([s, s] for s in sp.speaker)
    with open(out / "roles.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["person_id", "title", "level", "is_leader", "start_at"])
        w.writerows([s, r, ROLE_LEVEL[r], r == "party_leader", "2000-01-01"]
                    for s, r in zip(sp.speaker, sp.role, strict=True))
    with open(out / "accounts.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["account_id", "person_id", "handle", "kind"])
        w.writerows([f"twitter:{s}", s, s, "personal"] for s in sp.speaker)
    ts = pd.to_datetime(u.timestamp.astype("int64"), unit="s", utc=True)
    with open(out / "posts.jsonl", "w", encoding="utf-8") as f:
        for pid, spk, rt, t, text in zip(u.id, u.speaker, u.reply_to, ts, u.text, strict=True):
            rec = {"post_id": f"twitter:{pid}", "account_id": f"twitter:{spk}",
                   "created_at": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "text": text,
                   "lang": "en"}
            if rt:
                rec["reply_to_post_id"] = f"twitter:{rt}"
                rec["reply_to_account_id"] = None
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def load_counts(base: Path, tmp: Path):
    """Ingest + enrich (convokit mode) the reference corpus; its pair counts and speaker roles."""
    import socialens
    from socialens.enrich import enrich, feature_version

    write_canonical(base, tmp / "canonical")
    ws = socialens.open(tmp / "ws.duckdb")
    try:
        ws.ingest(tmp / "canonical")
        enrich(ws, markers_mode="convokit", sharing_method="baseline")
        counts = pair_counts(ws, feature_version=feature_version("convokit"))
    finally:
        ws.close()
    counts["speaker"] = counts.speaker.astype(str)
    counts["target"] = counts.target.astype(str)
    return counts


def _diff(ours: pd.DataFrame, ref: pd.DataFrame, key: list[str]) -> tuple[float, int, int]:
    """Largest |difference| over the 8 markers, keys missing on either side, cells whose
    presence differs."""
    ref = ref.set_index(key)
    a = ours.reindex(ref.index)[list(MARKERS)].to_numpy(float)
    b = ref[list(MARKERS)].to_numpy(float)
    missing = len(set(ours.index) ^ set(ref.index))
    presence = int((np.isnan(a) != np.isnan(b)).sum())
    both = ~np.isnan(a) & ~np.isnan(b)
    return (float(np.abs(a[both] - b[both]).max()) if both.any() else 0.0), missing, presence


def run() -> dict:
    base = require("coordination_reference")
    ref = base / "convokit_outputs"
    with tempfile.TemporaryDirectory() as d:
        counts = load_counts(base, Path(d))
    roles = pd.read_csv(base / "corpus" / "speakers.csv", dtype=str)
    group = {r: set(roles.speaker[roles.role == r]) for r in ROLE_LEVEL}
    out: dict = {"n_replies": int(counts.n.sum()), "n_pairs": len(counts)}
    worst, problems = 0.0, []

    def check(name, ours, reff, key):
        nonlocal worst
        d, missing, presence = _diff(ours, reff, key)
        out[name] = {"max_abs_diff": d, "keys": len(reff), "keys_missing": missing,
                     "cells_presence_differing": presence}
        worst = max(worst, d)
        if missing or presence:
            problems.append(name)

    sp = scores(counts, focus="speakers")
    check("per_speaker", sp, pd.read_csv(ref / "per_speaker_scores.csv"), ["speaker"])
    mean_ref = pd.read_csv(ref / "per_speaker_scores.csv").set_index("speaker").mean_over_markers
    dm = float((sp[list(MARKERS)].mean(axis=1).reindex(mean_ref.index) - mean_ref).abs().max())
    out["per_speaker"]["mean_over_markers_max_abs_diff"] = dm
    worst = max(worst, dm)
    tg = scores(counts, focus="targets")
    check("per_target", tg, pd.read_csv(ref / "per_target_scores.csv"), ["target"])
    check("pairwise", scores(counts, focus="pairs"),
          pd.read_csv(ref / "pairwise_scores_transform.csv", dtype={"speaker": str,
                                                                      "target": str}),
          ["speaker", "target"])
    check("pairwise_target_thresh1", scores(counts, focus="pairs", target_thresh=1),
          pd.read_csv(ref / "pairwise_scores_transform_target_thresh1.csv"),
          ["speaker", "target"])
    rep = pd.read_csv(ref / "summary_reports.csv", keep_default_na=False)
    sdiff, count_bad, n_values = 0.0, 0, 0
    for _call, g in rep.groupby("call_id"):
        r0 = g.iloc[0]
        sel = lambda name: None if name == "everyone" else group[name]  # noqa: E731
        ag = aggregate(scores(counts, focus=r0.focus, speakers=sel(r0.speaker_group),
                              targets=sel(r0.target_group), target_thresh=int(r0.target_thresh),
                              speaker_thresh=int(r0.speaker_thresh)))
        for q, m, v in zip(g.quantity, g.marker, g.value, strict=True):
            ours = ag["marker_agg2" if q == "marker_agg3" else q]
            if m:
                ours = ours[m]
            want = None if v == "" else float(v)
            n_values += 1
            if (ours is None) != (want is None):
                count_bad += 1
            elif want is not None:
                if q.startswith("count"):
                    count_bad += int(ours != int(want))
                else:
                    sdiff = max(sdiff, abs(ours - want))
    out["summary_reports"] = {"calls": int(rep.call_id.nunique()), "values": n_values,
                              "max_abs_diff": sdiff, "values_mismatched": count_bad}
    if count_bad:
        problems.append("summary_reports")
    worst = max(worst, sdiff)
    out["problems"] = problems
    out["max_abs_diff"] = worst
    out["parity_1e-9"] = bool(worst <= 1e-9 and not problems)
    return out


def to_markdown(r: dict) -> str:
    return (f"- largest absolute difference from ConvoKit 5.0.0 over per-speaker, per-target, "
            f"pairwise and {r['summary_reports']['values']} summary values: "
            f"**{r['max_abs_diff']:.2e}** ({'no' if not r['problems'] else r['problems']} "
            "mismatched keys or counts)")


if __name__ == "__main__":
    emit(run())
