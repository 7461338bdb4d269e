"""Build ``socialens/simulate/data/fragments.csv``: the real, labelled sentences the simulator
assembles post texts from (see ``socialens/simulate/data/FRAGMENTS.md``).

Run from the repository root with the venv (needs ``vaderSentiment``, only at build time)::

    .venv/bin/python scripts/build_sim_fragments.py [../shared/data]

The output is deterministic: the same inputs give the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
import sys
from pathlib import Path

import pandas as pd
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

DATA = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
OUT = Path("socialens/simulate/data")
LABELS = Path("scripts/sim_fragment_labels.csv")  # the originals' labels (FRAGMENTS.md)
N_REPLY = 400  # vader ground-truth tweets kept for replies, stratified by human rating

_URL = re.compile(r"https?://\S+|\bpic\.twitter\.com/\S+")
_SPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    """Remove URLs, strip ``#``/``@`` from tokens (so enrichment finds no spurious entities)."""
    text = _URL.sub(" ", text)
    text = text.replace("#", "").replace("＃", "").replace("@", "")
    text = text.replace("\u2026", "...")
    return _SPACE.sub(" ", text).strip()


def markers(patterns: dict[str, re.Pattern], text: str) -> dict[str, int]:
    low = text.lower()
    return {m: int(bool(p.search(low))) for m, p in patterns.items()}


def main() -> None:
    vader = SentimentIntensityAnalyzer()
    pat_file = DATA / "coordination_reference/convokit_reference/coord-liwc-patterns.txt"
    patterns = {}
    for line in pat_file.read_text(encoding="utf-8").splitlines():
        if line.strip():
            name, rx = line.split("\t", 1)
            patterns[name] = re.compile(rx)
    rows = []
    # originals: Senate 2012-2015 posts that are NOT in the sharing model's training set
    # (sharing_labels/dev.csv), labelled in scripts/sim_fragment_labels.csv (FRAGMENTS.md)
    src = pd.read_csv(DATA / "senate_2015_twitterreport/senate_tweets.csv.gz", dtype=str,
                      keep_default_na=False)
    src["post_key"] = [f"{s}|{c}|{hashlib.sha1(x[:30].encode('utf-8')).hexdigest()[:10]}"
                       for s, c, x in zip(src.screen_name, src.created_at, src.text, strict=True)]
    labels = pd.read_csv(LABELS, dtype=str, keep_default_na=False)
    dev = pd.read_csv(DATA / "sharing_labels/dev.csv", dtype=str, keep_default_na=False)
    orig = labels.merge(src[["post_key", "text"]], on="post_key", how="left")
    if orig.text.isna().any() or len(orig) != len(labels):
        raise SystemExit("scripts/sim_fragment_labels.csv names posts not in senate_tweets.csv.gz")
    seen = orig.post_key.isin(dev.post_key) | orig.text.isin(dev.text)
    if seen.any():
        raise SystemExit(f"{int(seen.sum())} labelled posts are in the sharing training set")
    for r in orig.sort_values("post_key").itertuples():
        t = clean(r.text)
        if len(t) < 15:
            continue
        rows.append({"pool": "original", "source": "senate_2015_twitterreport/senate_tweets.csv.gz",
                     "source_key": r.post_key, "label": r.label, "human_rating": "", "text": t})
    gt = pd.read_csv(DATA / "vader_groundtruth/tweets_GroundTruth.txt", sep="\t", header=None,
                     names=["id", "rating", "text"], dtype={"id": str}, quoting=csv.QUOTE_NONE)
    gt["text"] = gt.text.map(lambda s: clean(str(s)))
    gt = gt[gt.text.str.len().between(15, 200)].copy()
    # stratify by human rating: equal numbers from 8 rating bins, smallest ids first (no RNG)
    gt["bin"] = pd.cut(gt.rating, bins=[-4.01, -2, -1, -0.5, 0, 0.5, 1, 2, 4.01], labels=False)
    gt["idn"] = gt.id.astype(int)
    keep = gt.sort_values("idn").groupby("bin", group_keys=False).head(N_REPLY // 8)
    for r in keep.sort_values("idn").itertuples():
        rows.append({"pool": "reply", "source": "vader_groundtruth/tweets_GroundTruth.txt",
                     "source_key": r.id, "label": "", "human_rating": repr(float(r.rating)),
                     "text": r.text})
    out = []
    for i, r in enumerate(rows):
        r = {"fragment_id": i, **r, "vader_compound": vader.polarity_scores(r["text"])["compound"]}
        r.update(markers(patterns, r["text"]))
        out.append(r)
    df = pd.DataFrame(out)
    cols = ["fragment_id", "pool", "source", "source_key", "label", "human_rating",
            "vader_compound", *patterns, "text"]
    OUT.mkdir(parents=True, exist_ok=True)
    df[cols].to_csv(OUT / "fragments.csv", index=False, lineterminator="\n")
    shutil.copyfile(pat_file, OUT / "coord-liwc-patterns.txt")
    for src, dst in [
        (DATA / "vader_groundtruth/LICENSE.txt", "LICENSE-vader-groundtruth.txt"),
        (DATA / "senate_2015_twitterreport/LICENSE", "LICENSE-twitterreport.txt"),
        (DATA / "coordination_reference/convokit_reference/LICENSE-convokit.md",
         "LICENSE-convokit.md"),
    ]:
        shutil.copyfile(src, OUT / dst)
    print(df.groupby(["pool", "label"]).vader_compound.describe())


if __name__ == "__main__":
    main()
