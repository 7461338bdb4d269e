"""Coordination throughput (replies/s): from an enriched workspace and from raw texts.

Corpus: the coordination reference corpus (``coordination_reference/``, 5,000 replies), repeated
``--copies`` times with suffixed ids (each copy its own conversations), written as canonical files
and ingested. Phases, each timed ``--repeats`` times (median, min):

* ``markers``: the ``convokit`` marker mode over every text (``marker_sets``), alone;
* ``enrich``: the product's enrichment (``socialens.enrich.enrich``, convokit mode, baseline
  sharing: language, tone, markers, entities), once (it is not repeated: it writes);
* ``score``: from the enriched workspace, ``pair_counts`` (the ibis join and aggregation) plus
  per-speaker scores and one summary (everyone → everyone, ConvoKit's ``summarize``);
* raw texts = ``markers`` + ``score`` (marker detection included, ingest excluded) and
  ``enrich`` + ``score`` (the whole product path after ingest).

The ConvoKit comparison (a separate venv with ``convokit==5.0.0``) is not run here yet; the
reference README's ConvoKit timings (fit + transform + one summarize) are quoted for scale in
BENCHMARKS.md. Prints one JSON object (last line).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from eval.common import require  # noqa: E402
from eval.coordination_parity import write_canonical  # noqa: E402


def _time(fn, repeats: int) -> tuple[float, float, object]:
    ts, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), min(ts), out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args(argv)
    import socialens
    from socialens.analyses.coordination import aggregate, pair_counts, scores
    from socialens.enrich import enrich, feature_version
    from socialens.enrich.markers import marker_sets

    base = require("coordination_reference")
    u = pd.read_csv(base / "corpus" / "utterances.csv.gz", dtype=str, keep_default_na=False)
    parts = []
    for k in range(a.copies):
        c = u.copy()
        c["id"] = c.id + f"_{k}"
        c["reply_to"] = [f"{r}_{k}" if r else "" for r in c.reply_to]
        parts.append(c)
    big = pd.concat(parts, ignore_index=True)
    n_replies = int((big.reply_to != "").sum())
    out: dict = {"copies": a.copies, "n_utterances": len(big), "n_replies": n_replies}
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        write_canonical(base, d / "canonical", big)
        ws = socialens.open(d / "ws.duckdb")
        try:
            t = time.perf_counter()
            ws.ingest(d / "canonical")
            out["ingest_s"] = time.perf_counter() - t
            med, mn, _ = _time(lambda: marker_sets(list(big.text), "convokit"), a.repeats)
            out["markers_s"] = {"median": med, "min": mn}
            t = time.perf_counter()
            enrich(ws, markers_mode="convokit", sharing_method="baseline")
            out["enrich_s"] = time.perf_counter() - t
            fv = feature_version("convokit")

            def score():
                c = pair_counts(ws, feature_version=fv)
                s = scores(c, focus="speakers")
                return aggregate(s)

            med, mn, ag = _time(score, a.repeats)
            out["score_s"] = {"median": med, "min": mn}
            out["agg1_everyone"] = ag["agg1"]
        finally:
            ws.close()
    sc = out["score_s"]["median"]
    out["replies_per_s"] = {
        "enriched_workspace": n_replies / sc,
        "raw_texts_markers_plus_score": n_replies / (out["markers_s"]["median"] + sc),
        "raw_texts_enrich_plus_score": n_replies / (out["enrich_s"] + sc),
    }
    out["convokit_reference_replies_per_s"] = {
        "fit_transform_plus_one_summarize_small": 5000 / (0.944 + 0.737),
        "fit_transform_plus_one_summarize_large": 100000 / (17.05 + 11.95),
        "source": "coordination_reference/README.md §8 (medians, full convokit venv)",
    }
    sys.stdout.write(json.dumps(out, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
