"""Post texts assembled from real, labelled sentences, so that enrichment recovers the planted values.

The bank (``data/fragments.csv``, built by ``scripts/build_sim_fragments.py``; provenance and licences
in ``data/FRAGMENTS.md``) holds

* ``original`` fragments: real Senate tweets labelled PERSONAL or PROFESSIONAL with the team's
  codebook, none of them in ``sharing_labels/dev.csv`` (the shipped sharing model's training set),
  lightly cleaned (URLs removed, ``#``/``@`` stripped so that no spurious entities appear);
* ``reply`` fragments: 400 tweets of VADER's human-rated ground truth, stratified by rating.

Each fragment carries its VADER compound score and the 8 function-word marker categories of the
coordination papers (ConvoKit's pattern file). A post with planned tone ``z`` and label ``L`` gets a
fragment of label ``L`` whose compound is among the nearest to ``z``, so VADER on the text gives back
the planned tone up to the granularity of the bank.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["TextBank", "text_bank", "MARKERS"]

MARKERS = ("article", "auxverb", "conj", "adverb", "ppron", "ipron", "preps", "quant")
_SPREAD = 2  # a fragment is drawn among the 2·_SPREAD + 1 nearest in tone, for variety


class _Pool:
    def __init__(self, ids: np.ndarray, compound: np.ndarray):
        o = np.argsort(compound, kind="stable")
        self.ids = ids[o]
        self.compound = compound[o]

    def choose(self, tone: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        pos = np.searchsorted(self.compound, tone)
        pos = pos + rng.integers(-_SPREAD, _SPREAD + 1, size=len(tone))
        return self.ids[np.clip(pos, 0, len(self.ids) - 1)]


class TextBank:
    """Fragments and the pools drawn from them (see the module docstring)."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.text = frame["text"].to_numpy(dtype=object)
        self.compound = frame["vader_compound"].to_numpy(dtype=float)
        self.markers = frame[list(MARKERS)].to_numpy(dtype=bool)
        ids = frame["fragment_id"].to_numpy(dtype=np.int64)
        orig = (frame["pool"] == "original").to_numpy()
        personal = (frame["label"] == "PERSONAL").to_numpy()
        self.personal = _Pool(ids[orig & personal], self.compound[orig & personal])
        self.professional = _Pool(ids[orig & ~personal], self.compound[orig & ~personal])
        reply = (frame["pool"] == "reply").to_numpy()
        self.reply = _Pool(ids[reply], self.compound[reply])
        self.reply_with = [
            _Pool(ids[reply & self.markers[:, k]], self.compound[reply & self.markers[:, k]])
            for k in range(len(MARKERS))
        ]

    def originals(self, personal: np.ndarray, tone: np.ndarray, rng) -> np.ndarray:
        out = np.empty(len(tone), dtype=np.int64)
        out[personal] = self.personal.choose(tone[personal], rng)
        out[~personal] = self.professional.choose(tone[~personal], rng)
        return out

    def replies(self, tone: np.ndarray, marker: np.ndarray, rng) -> np.ndarray:
        """Reply fragments; where ``marker >= 0`` the fragment holds that marker category."""
        out = self.reply.choose(tone, rng)
        for k in np.unique(marker[marker >= 0]):
            sel = marker == k
            out[sel] = self.reply_with[k].choose(tone[sel], rng)
        return out


@lru_cache(maxsize=1)
def text_bank() -> TextBank:
    """The bundled bank (read once)."""
    with resources.files("socialens.simulate").joinpath("data/fragments.csv").open(
        "r", encoding="utf-8"
    ) as f:
        frame = pd.read_csv(f, dtype={"source_key": str, "label": str}, keep_default_na=False)
    return TextBank(frame)
