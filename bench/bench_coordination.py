"""Coordination speed against ConvoKit 5.0.0's ``Coordination`` (issue 12, "Speed").

Corpus: the recipe of ``coordination_reference/README.md`` §2 (seed 2012) at ``--replies``
(default 100,000: 40,009 conversations, 140,009 utterances of 87 Senate speakers), rebuilt here by
:func:`build_corpus` (checked byte for byte against the shipped 5,000-reply corpus). Measured in one
run, interleaved (ConvoKit, SociaLens from raw texts, SociaLens enriched; ``--repeats`` times), wall
and CPU seconds (median and range):

* **ConvoKit**: ``Coordination().fit(corpus)`` + ``transform(corpus)`` + one
  ``summarize(corpus, everyone, everyone, summary_report=True)``, in its own venv
  (``bench/convokit_env.sh``; a worker process that loads the ``Corpus`` once, untimed, as the
  reference README's timings do);
* **SociaLens from raw texts** (marker detection included): from a workspace holding the ingested
  posts (texts and ``reply_to_post_id``) and no enrichment: ConvoKit's markers of every post
  (:func:`socialens.analyses.coordination.convokit_markers`, set-based), the reply join and
  aggregation (``pair_counts``), per-speaker and pairwise scores (``transform``'s output) and the
  summary;
* **SociaLens on an enriched workspace**: the same from ``post_features`` (``enrich
  --markers-mode convokit``).

Ingest and the product's whole enrichment (language, tone, markers, sharing, entities) are timed
once, for information. Scores are checked identical: the summary report (Agg1-3 and the per-marker
means) and every pairwise score against ConvoKit's, and the counts of both SociaLens paths against
each other. Appends a section to BENCHMARKS.md (``--no-write``: do not) and prints one JSON object
(last line).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from eval.common import require  # noqa: E402
from eval.coordination_parity import write_canonical  # noqa: E402

CONVOKIT_VENV = Path(os.environ.get("CONVOKIT_VENV", "/tmp/convokit-venv"))

_WORKER = textwrap.dedent('''
    """ConvoKit worker: load the corpus once, then time fit + transform + one summarize per line
    read on stdin; write one JSON line per run."""
    import json, sys, time
    import pandas as pd
    from convokit import Coordination, Corpus, Speaker, Utterance

    path, speakers_csv, pairs_out = sys.argv[1], sys.argv[2], sys.argv[3]
    u = pd.read_csv(path, dtype=str, keep_default_na=False)
    sp = pd.read_csv(speakers_csv, dtype=str)
    spk = {s: Speaker(id=s) for s in sp.speaker}            # one shared Speaker per id (README §7)
    root = {}
    utts = []
    for uid, s, rt, ts, text in zip(u.id, u.speaker, u.reply_to, u.timestamp, u.text):
        root[uid] = root[rt] if rt else uid
        utts.append(Utterance(id=uid, speaker=spk[s], text=text, reply_to=rt or None,
                              conversation_id=root[uid], timestamp=int(ts)))
    corpus = Corpus(utterances=utts)
    for s, r in zip(sp.speaker, sp.role):
        corpus.get_speaker(s).meta["role"] = r
    print("@@" + json.dumps({"ready": True}), flush=True)
    everyone = lambda s: True
    first = True
    for line in sys.stdin:
        t = {}
        w0, c0 = time.perf_counter(), time.process_time()
        coord = Coordination()
        coord.fit(corpus)
        w1, c1 = time.perf_counter(), time.process_time()
        coord.transform(corpus)
        w2, c2 = time.perf_counter(), time.process_time()
        rep = coord.summarize(corpus, everyone, everyone, summary_report=True)
        w3, c3 = time.perf_counter(), time.process_time()
        t = {"fit": [w1 - w0, c1 - c0], "transform": [w2 - w1, c2 - c1],
             "summarize": [w3 - w2, c3 - c2], "total": [w3 - w0, c3 - c0]}
        out = {"times": t}
        if first:
            out["report"] = {k: (v if not isinstance(v, dict) else dict(v)) for k, v in rep.items()}
            rows = []
            for s in corpus.iter_speakers():
                for tgt, ms in (s.meta.get("coord") or {}).items():
                    rows.append({"speaker": s.id, "target": tgt, **ms})
            pd.DataFrame(rows).to_csv(pairs_out, index=False)
            first = False
        print("@@" + json.dumps(out, default=float), flush=True)
''')


def build_corpus(n_replies: int, seed: int = 2012) -> pd.DataFrame:
    """The coordination reference corpus of ``n_replies`` replies (README §2): real Senate tweets
    in a synthetic chain structure. Columns ``id, speaker, reply_to, timestamp, text``."""
    src = require("senate_2015_twitterreport")
    tw = pd.read_csv(src / "senate_tweets.csv.gz", dtype=str, keep_default_na=False)
    mem = pd.read_csv(src / "members_2015.csv", dtype=str, keep_default_na=False)
    role = {s: r for s, r in zip(mem.tw_screen_name, mem.role, strict=True) if r}
    tw["source_row"] = np.arange(len(tw))
    ok = ~tw.text.str.startswith("RT @") & tw.screen_name.map(lambda s: s in role)
    el = tw[ok]
    counts = el.screen_name.value_counts()
    speakers = sorted(s for s, c in counts.items() if c >= 50)
    rng = random.Random(seed)
    decks, pos = {}, {}
    for s in speakers:
        d = el[el.screen_name == s].sort_values(["created_at", "source_row"])
        cards = list(d.text)
        rng.shuffle(cards)
        decks[s], pos[s] = cards, 0

    def card(s):
        if pos[s] == len(decks[s]):
            rng.shuffle(decks[s])
            pos[s] = 0
        pos[s] += 1
        return decks[s][pos[s] - 1]

    rows, replies, conv = [], 0, 0
    while replies < n_replies:
        length = min(rng.randint(1, 4), n_replies - replies)
        prev = rng.choice(speakers)
        parent = f"u{len(rows):07d}"
        rows.append((parent, prev, "", 1420070400 + 600 * conv, card(prev)))
        for k in range(1, length + 1):
            s = rng.choice(speakers)
            while s == prev:
                s = rng.choice(speakers)
            uid = f"u{len(rows):07d}"
            rows.append((uid, s, parent, 1420070400 + 600 * conv + 60 * k, card(s)))
            parent, prev = uid, s
        replies += length
        conv += 1
    return pd.DataFrame(rows, columns=["id", "speaker", "reply_to", "timestamp", "text"]).astype(
        {"timestamp": str})


def _read(proc) -> dict:
    """The next result line of the ConvoKit worker (ConvoKit prints its own messages too)."""
    while True:
        line = proc.stdout.readline()
        if not line:
            sys.exit(f"the ConvoKit worker stopped (exit code {proc.poll()}); see its stderr above")
        if line.startswith("@@"):
            return json.loads(line[2:])


def _stats(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def _report_diff(ours: dict, ck: dict) -> float:
    worst = 0.0
    for k in ("agg1", "agg2", "agg3"):
        worst = max(worst, abs(ours[k] - ck[k]))
    for k in ("marker_agg1", "marker_agg2"):
        for m, v in ours[k].items():
            if v is not None:
                worst = max(worst, abs(v - ck[k][m]))
    return worst


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replies", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="do not append to BENCHMARKS.md")
    a = ap.parse_args(argv)
    import ibis

    import socialens
    from socialens.analyses.coordination import (
        MARKERS,
        aggregate,
        convokit_markers,
        pair_counts,
        scores,
    )
    from socialens.enrich import enrich, feature_version

    if not (CONVOKIT_VENV / "bin" / "python").exists():
        print(f"bench_coordination skipped: no ConvoKit venv at {CONVOKIT_VENV}; run `bash "
              "bench/convokit_env.sh` first (or set CONVOKIT_VENV)", file=sys.stderr)
        return
    base = require("coordination_reference")
    small = build_corpus(5000)
    shipped = pd.read_csv(base / "corpus" / "utterances.csv.gz", dtype=str, keep_default_na=False)
    if not small.equals(shipped):
        sys.exit("build_corpus(5000) differs from the shipped reference corpus: recipe broken")
    t = time.perf_counter()
    u = build_corpus(a.replies) if a.replies != 5000 else small
    out: dict = {"n_utterances": len(u), "n_replies": int((u.reply_to != "").sum()),
                 "n_distinct_texts": int(u.text.nunique()), "build_s": time.perf_counter() - t,
                 "repeats": a.repeats, "cpus": os.cpu_count(),
                 "load_avg_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        with gzip.open(d / "utterances.csv.gz", "wt", encoding="utf-8", newline="") as f:
            u.to_csv(f, index=False, quoting=csv.QUOTE_MINIMAL)
        (d / "worker.py").write_text(_WORKER)
        home = CONVOKIT_VENV / "home"
        home.mkdir(exist_ok=True)
        ck = subprocess.Popen(
            [str(CONVOKIT_VENV / "bin" / "python"), str(d / "worker.py"),
             str(d / "utterances.csv.gz"), str(base / "corpus" / "speakers.csv"),
             str(d / "ck_pairs.csv")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "HOME": str(home), "PYTHONHASHSEED": "0"})
        write_canonical(base, d / "canonical", u)
        raw = socialens.open(d / "raw.duckdb")
        out["ingest_s"], _, _ = _timed(lambda: raw.ingest(d / "canonical"))
        raw.close()
        shutil.copyfile(d / "raw.duckdb", d / "enriched.duckdb")    # the same ingested posts
        raw = socialens.open(d / "raw.duckdb")
        ws = socialens.open(d / "enriched.duckdb")
        out["enrich_s"], out["enrich_cpu_s"], _ = _timed(
            lambda: enrich(ws, markers_mode="convokit", sharing_method="baseline"))
        fv = feature_version("convokit")
        ready = _read(ck)
        assert ready.get("ready"), ready

        def score(counts):
            per = scores(counts, focus="speakers")
            pairs = scores(counts, focus="pairs")
            return counts, per, pairs, aggregate(per)

        def from_raw():
            return score(pair_counts(raw, features=convokit_markers(raw.table("posts"))))

        def from_enriched():
            return score(pair_counts(ws, feature_version=fv))

        # sensitivity: the recipe reuses its 14,440 tweets, and detection runs once per distinct
        # text; with every text made distinct (a suffix that holds no marker) it runs on all
        posts_raw = raw.table("posts").select("post_id", "text").to_pyarrow().to_pandas()
        posts_raw["text"] = posts_raw.text + " u" + posts_raw.post_id.str[-7:]
        distinct_posts = ibis.memtable(posts_raw)

        def from_raw_no_repeats():
            return score(pair_counts(raw, features=convokit_markers(distinct_posts)))

        times = {"convokit": [], "raw_texts": [], "enriched": [], "raw_texts_no_repeats": []}
        ck_first, res_raw, res_enr, res_nr = None, None, None, None
        try:
            for _ in range(a.repeats):
                ck.stdin.write("run\n")
                ck.stdin.flush()
                r = _read(ck)
                ck_first = ck_first or r
                times["convokit"].append(r["times"])
                w, c, res_raw = _timed(from_raw)
                times["raw_texts"].append({"total": [w, c]})
                w, c, res_enr = _timed(from_enriched)
                times["enriched"].append({"total": [w, c]})
                w, c, res_nr = _timed(from_raw_no_repeats)
                times["raw_texts_no_repeats"].append({"total": [w, c]})
        finally:
            ck.stdin.close()
            ck.wait(timeout=60)
            raw.close()
            ws.close()
        ck_pairs = pd.read_csv(d / "ck_pairs.csv")
    out["load_avg_end"] = os.getloadavg()[0]
    # identical scores
    c_raw, _, pairs_raw, rep_raw = res_raw
    c_enr, _, pairs_enr, rep_enr = res_enr
    out["counts_raw_equal_enriched"] = bool(c_raw.equals(c_enr))
    out["counts_no_repeats_equal"] = bool(res_nr[0].equals(c_enr))
    ck_rep = ck_first["report"]
    out["max_abs_diff_summary_vs_convokit"] = max(_report_diff(rep_raw, ck_rep),
                                                  _report_diff(rep_enr, ck_rep))
    ours = pairs_enr.reset_index()
    ours = ours.rename(columns={"level_0": "speaker", "level_1": "target"})
    m = ours.merge(ck_pairs, on=["speaker", "target"], how="outer", suffixes=("", "_ck"),
                   indicator=True)
    out["pairwise_keys"] = {"socialens": len(ours), "convokit": len(ck_pairs),
                            "both": int((m._merge == "both").sum())}
    diffs = [np.nanmax(np.abs(m[k] - m[f"{k}_ck"])) for k in MARKERS]
    same_nan = all(bool((m[k].isna() == m[f"{k}_ck"].isna()).all()) for k in MARKERS)
    out["max_abs_diff_pairwise_vs_convokit"] = float(max(diffs))
    out["pairwise_same_scored_cells"] = same_nan
    out["agg"] = {k: rep_enr[k] for k in ("agg1", "agg2", "agg3")}
    n = out["n_replies"]
    for k, v in times.items():
        out[f"{k}_wall_s"] = _stats([x["total"][0] for x in v])
        out[f"{k}_cpu_s"] = _stats([x["total"][1] for x in v])
    for ph in ("fit", "transform", "summarize"):
        out[f"convokit_{ph}_wall_s"] = _stats([x[ph][0] for x in times["convokit"]])
    ck_w = [x["total"][0] for x in times["convokit"]]
    ck_c = [x["total"][1] for x in times["convokit"]]
    for k in ("raw_texts", "enriched", "raw_texts_no_repeats"):
        w = [x["total"][0] for x in times[k]]
        c = [x["total"][1] for x in times[k]]
        rw = [a_ / b_ for a_, b_ in zip(ck_w, w, strict=True)]
        rc = [a_ / b_ for a_, b_ in zip(ck_c, c, strict=True)]
        out[f"speedup_{k}_wall"] = {"median_of_medians": statistics.median(ck_w) / statistics.median(w),
                                     "per_repeat_min": min(rw), "per_repeat_max": max(rw)}
        out[f"speedup_{k}_cpu"] = {"median_of_medians": statistics.median(ck_c) / statistics.median(c),
                                    "per_repeat_min": min(rc), "per_repeat_max": max(rc)}
        out[f"{k}_replies_per_s"] = n / statistics.median(w)
    out["convokit_replies_per_s"] = n / statistics.median(ck_w)
    out["measured_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if not a.no_write:
        _write_markdown(out)
    sys.stdout.write(json.dumps(out, sort_keys=True, default=float) + "\n")


def _write_markdown(o: dict) -> None:
    def f(s):
        return f"{s['median']:.3g} ({s['min']:.3g}–{s['max']:.3g})"

    rw, rc = o["speedup_raw_texts_wall"], o["speedup_raw_texts_cpu"]
    ew, ec = o["speedup_enriched_wall"], o["speedup_enriched_cpu"]
    nw, nc = o["speedup_raw_texts_no_repeats_wall"], o["speedup_raw_texts_no_repeats_cpu"]
    text = f"""
## Coordination vs ConvoKit 5.0.0 — {o['measured_at']}

`nice -n 5 .venv/bin/python bench/bench_coordination.py --replies {o['n_replies']} --repeats {o['repeats']}`
(ConvoKit venv: `bash bench/convokit_env.sh`). Corpus: the reference README's recipe, {o['n_replies']:,}
replies, {o['n_utterances']:,} utterances ({o['n_distinct_texts']:,} distinct texts); {o['repeats']}
interleaved repeats in one run, median (range); load average {o['load_avg_start']:.1f} at the start,
{o['load_avg_end']:.1f} at the end ({o['cpus']} cores, shared).

| | wall s | CPU s | replies/s (wall) | speed-up wall | speed-up CPU |
|---|---:|---:|---:|---:|---:|
| ConvoKit fit + transform + one summarize | {f(o['convokit_wall_s'])} | {f(o['convokit_cpu_s'])} | {o['convokit_replies_per_s']:,.0f} | 1 | 1 |
| SociaLens from raw texts (marker detection included) | {f(o['raw_texts_wall_s'])} | {f(o['raw_texts_cpu_s'])} | {o['raw_texts_replies_per_s']:,.0f} | **{rw['median_of_medians']:.0f}×** ({rw['per_repeat_min']:.0f}–{rw['per_repeat_max']:.0f}) | {rc['median_of_medians']:.0f}× ({rc['per_repeat_min']:.0f}–{rc['per_repeat_max']:.0f}) |
| SociaLens on an enriched workspace | {f(o['enriched_wall_s'])} | {f(o['enriched_cpu_s'])} | {o['enriched_replies_per_s']:,.0f} | **{ew['median_of_medians']:.0f}×** ({ew['per_repeat_min']:.0f}–{ew['per_repeat_max']:.0f}) | {ec['median_of_medians']:.0f}× ({ec['per_repeat_min']:.0f}–{ec['per_repeat_max']:.0f}) |
| SociaLens from raw texts, every text made distinct (sensitivity) | {f(o['raw_texts_no_repeats_wall_s'])} | {f(o['raw_texts_no_repeats_cpu_s'])} | {o['raw_texts_no_repeats_replies_per_s']:,.0f} | {nw['median_of_medians']:.0f}× ({nw['per_repeat_min']:.0f}–{nw['per_repeat_max']:.0f}) | {nc['median_of_medians']:.0f}× ({nc['per_repeat_min']:.0f}–{nc['per_repeat_max']:.0f}) |

ConvoKit phases (wall, median): fit {o['convokit_fit_wall_s']['median']:.2f} s, transform
{o['convokit_transform_wall_s']['median']:.2f} s, summarize {o['convokit_summarize_wall_s']['median']:.2f} s.
Speed-ups: ratio of the medians (range: per-repeat ratios). Not timed in the ratios: ingest
{o['ingest_s']:.1f} s; the product's whole enrichment (language, tone, markers, sharing, entities)
{o['enrich_s']:.1f} s wall.
Identical scores: summary report (Agg1–3, per-marker means) max |diff| from ConvoKit's
{o['max_abs_diff_summary_vs_convokit']:.1e}; pairwise (`transform`) {o['pairwise_keys']['both']:,} of
{o['pairwise_keys']['convokit']:,} ConvoKit pairs matched ({o['pairwise_keys']['socialens']:,} ours),
max |diff| {o['max_abs_diff_pairwise_vs_convokit']:.1e}, same scored cells: {o['pairwise_same_scored_cells']};
counts from raw texts equal those from the enriched workspace: {o['counts_raw_equal_enriched']}
(every text made distinct: {o['counts_no_repeats_equal']}). Marker detection from raw texts runs once
per distinct text; the corpus reuses its tweets, hence the sensitivity row, where a suffix without
any marker (` u<id>`) makes all {o['n_utterances']:,} texts distinct.
"""
    with open(REPO / "BENCHMARKS.md", "a", encoding="utf-8") as fh:
        fh.write(text)


if __name__ == "__main__":
    main()
