"""Style markers: parity with ConvoKit 5.0.0 and the effect of the default mode's fixes.

Data: ``coordination_reference/`` (7,020 real Senate tweets; ConvoKit's per-utterance marker sets
and tokenization probes). ``convokit`` mode must give identical marker sets for every utterance and
probe; for the default mode the number of utterances whose presence of each marker differs from
ConvoKit is reported, with the cause of each kind of difference in docs/methods.md.
"""

from __future__ import annotations

import pandas as pd

from eval.common import emit, require
from socialens.enrich.markers import MARKERS, marker_sets

NAME = "markers"
TITLE = "Style markers (ConvoKit 5.0.0 parity on the coordination reference corpus)"


def reference():
    base = require("coordination_reference")
    u = pd.read_csv(base / "corpus" / "utterances.csv.gz", dtype=str, keep_default_na=False)
    m = pd.read_csv(base / "convokit_outputs" / "utterance_markers.csv.gz", dtype=str)
    m = m.set_index("id").loc[u.id]
    ref = [{c for c in MARKERS if row[c] == "1"} for _, row in m.iterrows()]
    probes = pd.read_csv(base / "convokit_reference" / "tokenization_probes.csv", dtype=str,
                         keep_default_na=False)
    return list(u.id), list(u.text), ref, probes


def run() -> dict:
    ids, texts, ref, probes = reference()
    ck = marker_sets(texts, "convokit")
    de = marker_sets(texts, "default")
    mismatched = [i for i, a, b in zip(ids, ck, ref, strict=True) if a != b]
    probe_bad = []
    for text, cats in zip(probes.input_text, probes.convokit_categories, strict=True):
        want = set(cats.split(";")) if cats else set()
        if marker_sets([text], "convokit")[0] != want:
            probe_bad.append(text)
    diff = {c: sum((c in a) != (c in b) for a, b in zip(de, ref, strict=True)) for c in MARKERS}
    rate_ref = {c: round(sum(c in s for s in ref) / len(ref), 4) for c in MARKERS}
    rate_def = {c: round(sum(c in s for s in de) / len(de), 4) for c in MARKERS}
    return {
        "n_utterances": len(ids),
        "convokit_mode_identical": len(ids) - len(mismatched),
        "convokit_mode_mismatched": len(mismatched),
        "probes": len(probes),
        "probes_mismatched": len(probe_bad),
        "default_mode_utterances_differing": sum(a != b for a, b in zip(de, ref, strict=True)),
        "default_mode_differences_by_marker": diff,
        "presence_rate_convokit": rate_ref,
        "presence_rate_default": rate_def,
    }


def to_markdown(r: dict) -> str:
    lines = [
        f"- `convokit` mode: **{r['convokit_mode_identical']} of {r['n_utterances']}** utterances "
        f"have marker sets identical to ConvoKit's `utterance_markers.csv.gz` "
        f"({r['convokit_mode_mismatched']} differ); {r['probes'] - r['probes_mismatched']} of "
        f"{r['probes']} tokenization probes identical.",
        f"- default mode: {r['default_mode_utterances_differing']} utterances differ from ConvoKit "
        "in at least one marker (causes in docs/methods.md):",
        "",
        "| marker | utterances differing | presence ConvoKit | presence default |",
        "|---|---:|---:|---:|",
    ]
    for c, n in r["default_mode_differences_by_marker"].items():
        lines.append(f"| {c} | {n} | {r['presence_rate_convokit'][c]:.4f} | "
                     f"{r['presence_rate_default'][c]:.4f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    emit(run())
