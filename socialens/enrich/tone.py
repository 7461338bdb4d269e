"""Tone: VADER sentiment (Hutto & Gilbert 2014) with text preparation that keeps what VADER reads.

VADER scores case (ALL-CAPS emphasis), punctuation (``!!!``), emoji and emoticons, negation and
degree words, so the text is **not** lower-cased, stripped of punctuation or of emoji. Preparation
only does what helps it read a social media post:

* HTML entities are decoded (``&lt;3`` becomes the heart emoticon ``<3``, ``&amp;`` becomes ``&``);
* URLs (also glued to the previous word) are removed: their characters are not words;
* @mentions are replaced by the neutral token ``@user``, so that a handle such as ``@love`` or
  ``@HappyValley`` is not scored as a sentiment word, while the number of words around it stays.

Scores come from :mod:`socialens.enrich.vader_fast`, which computes vaderSentiment's
``polarity_scores`` bit for bit (same lexicon, read from the installed package) without its
per-call overhead; :func:`analyzer` is vaderSentiment's own analyzer, kept as the reference.

The 3-class label uses the thresholds recommended by VADER's authors: ``compound >= 0.05`` is
``positive``, ``compound <= -0.05`` is ``negative``, anything in between ``neutral``.

Examples
--------
>>> s = tone_scores(["I LOVE this :) &lt;3", "@love the vote is at noon"])
>>> [round(x, 3) for x in s["tone_compound"]]
[0.907, 0.0]
>>> s["tone_label"]
['positive', 'neutral']
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from socialens.enrich.vader_fast import fast_vader
from socialens.text import neutral_mentions, readable

__all__ = [
    "POSITIVE_THRESHOLD",
    "NEGATIVE_THRESHOLD",
    "TONE_COLUMNS",
    "prepare_for_vader",
    "tone_label",
    "tone_scores",
    "analyzer",
]

#: compound >= this is ``positive`` (Hutto & Gilbert's recommended threshold).
POSITIVE_THRESHOLD = 0.05
#: compound <= this is ``negative``.
NEGATIVE_THRESHOLD = -0.05

TONE_COLUMNS = ("tone_compound", "tone_pos", "tone_neu", "tone_neg", "tone_label")


@lru_cache(maxsize=1)
def analyzer():
    """The shared VADER analyzer (its lexicon and emoji lexicon ship in the vaderSentiment wheel)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def prepare_for_vader(text: str) -> str:
    """Decode entities, drop URLs, neutralise @mentions; keep case, punctuation and emoji.

    >>> prepare_for_vader("Great news @SenCapito!! http://t.co/x &amp; more :)")
    'Great news @user!!  & more :)'
    """
    return _neutral_mentions(readable(text))


def _neutral_mentions(text: str) -> str:
    return neutral_mentions(text, "@user")


def tone_label(compound: float) -> str:
    """``positive`` / ``neutral`` / ``negative`` from a compound score (thresholds ±0.05)."""
    if compound >= POSITIVE_THRESHOLD:
        return "positive"
    if compound <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def tone_scores(
    texts: Sequence[str | None],
    *,
    readable_texts: Sequence[str | None] | None = None,
    prepared_texts: Sequence[str | None] | None = None,
) -> dict[str, list]:
    """VADER scores for each text.

    Parameters
    ----------
    texts : sequence of str or None
        Post texts as stored. ``None`` gives ``None`` in every column.
    readable_texts : sequence of str or None, optional
        :func:`socialens.text.readable` of each text, when the caller has them already.
    prepared_texts : sequence of str or None, optional
        :func:`prepare_for_vader` of each text (``None`` where a text is ``None``), when the
        caller has them already (then ``readable_texts`` is not read).

    Returns
    -------
    dict
        ``tone_compound`` (−1..1), ``tone_pos``, ``tone_neu``, ``tone_neg`` (proportions, 0..1)
        and ``tone_label``: one list per column, aligned with ``texts``.
    """
    if prepared_texts is None:
        if readable_texts is None:
            readable_texts = [None if t is None else readable(t) for t in texts]
        prepared_texts = [None if t is None else _neutral_mentions(t) for t in readable_texts]
    keep = [i for i, t in enumerate(prepared_texts) if t is not None]
    compound, pos, neu, neg = fast_vader().scores(
        prepared_texts if len(keep) == len(prepared_texts) else [prepared_texts[i] for i in keep]
    )
    labels = list(map(tone_label, compound))
    if len(keep) == len(prepared_texts):
        return {"tone_compound": compound, "tone_pos": pos, "tone_neu": neu, "tone_neg": neg,
                "tone_label": labels}
    out: dict[str, list] = {}
    for name, values in zip(TONE_COLUMNS, (compound, pos, neu, neg, labels), strict=True):
        col = [None] * len(prepared_texts)
        for i, v in zip(keep, values, strict=True):
            col[i] = v
        out[name] = col
    return out
