"""VADER (Hutto & Gilbert 2014) without vaderSentiment's per-call overhead, with identical scores.

:class:`FastVader` computes exactly what ``vaderSentiment``'s
``SentimentIntensityAnalyzer.polarity_scores`` computes (version 3.3.2): the same four keys, the
same floating-point operations in the same order, so the scores are bit-identical (checked on
VADER's 4,200 human-rated tweets, TweetEval's 12,284 test tweets and the 7,020 reference tweets
of the enrichment parity corpus, raw and as tone prepares them: ``tests/enrich/test_vader_fast.py``;
the whole enrichment corpus through ``python -m bench.parity_enrich check``). The data are
vaderSentiment's own: the lexicon, the emoji lexicon and the rule constants (``NEGATE``,
``BOOSTER_DICT``, ``SPECIAL_CASES``, ``B_INCR``, ``C_INCR``, ``N_SCALAR``) are read from the
installed package, never copied; the rules are vaderSentiment 3.3.2's (``pyproject.toml`` allows
``>=3.3.2,<4``: a release that changed them would fail ``tests/enrich/test_vader_fast.py``).

What is removed is work vaderSentiment repeats on every call:

* the emoji translation walks the text one character at a time, concatenating strings; here one
  set test finds whether the text has any emoji at all (most posts have none) and only then runs
  the original loop;
* every word is lower-cased up to a dozen times per call and, in the negation and idiom checks,
  the *whole* post is lower-cased again for every sentiment word (quadratic in the post's length);
  here each distinct token's stripped form, lower case and ALL-CAPS flag are computed once and kept
  in a bounded per-analyzer cache (a token cache, not a text cache);
* ``negated`` copies the 59-word negation list and scans it for each call; here it is a set lookup
  (``w in NEGATE or "n't" in w``, the same predicate on one lower-cased word);
* the idiom check formats five strings per sentiment word; here word tuples are looked up.

Rules that depend on quirks of the original (the contrastive-``but`` loop that finds each score by
value with ``list.index``, ``0.0`` receiving ``-C_INCR`` for ALL CAPS, the ``never so/this``
precedence in the third negation window, the punctuation counted after emoji translation) are kept
as they are, because the goal is vaderSentiment's numbers, not a corrected VADER.

>>> fv = FastVader()
>>> fv.polarity_scores("VADER is VERY SMART, handsome, and FUNNY!!!")
{'neg': 0.0, 'neu': 0.233, 'pos': 0.767, 'compound': 0.9342}
"""

from __future__ import annotations

import math
import string
from collections.abc import Iterable
from functools import lru_cache
from operator import itemgetter

__all__ = ["FastVader", "fast_vader"]

_PUNCT = string.punctuation
_CACHE_LIMIT = 500_000
_LOWER, _UPPER = itemgetter(1), itemgetter(2)


class FastVader:
    """A drop-in ``polarity_scores`` plus a batch :meth:`scores` returning four lists."""

    def __init__(self) -> None:
        from vaderSentiment import vaderSentiment as vs

        sia = vs.SentimentIntensityAnalyzer()
        self.lexicon: dict[str, float] = sia.lexicon
        self.emojis: dict[str, str] = sia.emojis
        self._booster: dict[str, float] = dict(vs.BOOSTER_DICT)
        self._negate = frozenset(vs.NEGATE)
        self._special = {tuple(k.split(" ")): v for k, v in vs.SPECIAL_CASES.items()}
        self._booster_ngrams = {
            tuple(k.split(" ")): v for k, v in vs.BOOSTER_DICT.items() if " " in k
        }
        self._c_incr = vs.C_INCR
        self._n_scalar = vs.N_SCALAR
        # single characters only: the original tests ``chr in self.emojis`` one character at a time
        self._emoji_chars = frozenset(k for k in self.emojis if len(k) == 1)
        self._tokens: dict[str, tuple[str, str, bool, float | None]] = {}

    # -- text -> words ------------------------------------------------------------------------
    def _no_emoji(self, text: str) -> str:
        """vaderSentiment's emoji translation (the original loop), run only when there is one."""
        if text.isascii() or self._emoji_chars.isdisjoint(text):
            return text
        emojis = self.emojis
        parts = []
        prev_space = True
        for ch in text:
            if ch in emojis:
                if not prev_space:
                    parts.append(" ")
                parts.append(emojis[ch])
                prev_space = False
            else:
                parts.append(ch)
                prev_space = ch == " "
        return "".join(parts).strip()

    def _token(self, tok: str) -> tuple[str, str, bool, float | None]:
        """``(word, lower, is_upper, valence)`` of a whitespace token; ``valence`` is the lexicon's
        value when the scoring loop must look at the word (not a booster), else ``None``."""
        info = self._tokens.get(tok)
        if info is None:
            stripped = tok.strip(_PUNCT)
            word = tok if len(stripped) <= 2 else stripped
            lower = word.lower()
            valence = None if lower in self._booster else self.lexicon.get(lower)
            info = (word, lower, word.isupper(), valence)
            if len(self._tokens) >= _CACHE_LIMIT:
                self._tokens.clear()
            self._tokens[tok] = info
        return info

    # -- scoring ------------------------------------------------------------------------------
    def polarity_scores(self, text: str) -> dict[str, float]:
        """``{"neg", "neu", "pos", "compound"}``, identical to vaderSentiment's."""
        neg, neu, pos, compound = self._score(text)
        return {"neg": neg, "neu": neu, "pos": pos, "compound": compound}

    def scores(self, texts: Iterable[str]) -> tuple[list, list, list, list]:
        """``(compound, pos, neu, neg)`` lists for ``texts``."""
        cs, ps, us, ns = [], [], [], []
        score = self._score
        for t in texts:
            neg, neu, pos, compound = score(t)
            cs.append(compound)
            ps.append(pos)
            us.append(neu)
            ns.append(neg)
        return cs, ps, us, ns

    def _score(self, text: str) -> tuple[float, float, float, float]:
        text = self._no_emoji(text)
        words = text.split()
        infos = list(map(self._tokens.get, words))
        if None in infos:
            infos = [self._token(t) if x is None else x for t, x in zip(words, infos, strict=True)]
        n = len(infos)
        if n == 0:
            return 0.0, 0.0, 0.0, 0.0
        lowers = list(map(_LOWER, infos))
        n_upper = sum(map(_UPPER, infos))
        is_cap_diff = 0 < n - n_upper < n
        # words that are neither boosters nor out of the lexicon score 0 (an int, as in the original)
        sentiments: list = [0] * n
        scored = [i for i, x in enumerate(infos) if x[3] is not None]
        for i in scored:
            if i < n - 1 and lowers[i] == "kind" and lowers[i + 1] == "of":
                continue
            sentiments[i] = self._valence(i, lowers[i], infos, lowers, n, is_cap_diff)
        if "but" in lowers:
            sentiments = _but_check(lowers.index("but"), sentiments)
        return _score_valence([sentiments[i] for i in scored], n, text)

    def _valence(self, i, lw, infos, lowers, n, is_cap_diff):
        lexicon = self.lexicon
        booster = self._booster
        c_incr = self._c_incr
        n_scalar = self._n_scalar
        valence = lexicon[lw]
        if lw == "no" and i != n - 1 and lowers[i + 1] in lexicon:
            valence = 0.0
        if (i > 0 and lowers[i - 1] == "no") or (i > 1 and lowers[i - 2] == "no") or (
            i > 2 and lowers[i - 3] == "no" and lowers[i - 1] in ("or", "nor")
        ):
            valence = lexicon[lw] * n_scalar
        if infos[i][2] and is_cap_diff:
            if valence > 0:
                valence += c_incr
            else:
                valence -= c_incr
        negate = self._negate
        for start_i in range(3):
            if i > start_i:
                prev = lowers[i - (start_i + 1)]
                if prev in lexicon:
                    continue
                # scalar_inc_dec
                s = 0.0
                if prev in booster:
                    s = booster[prev]
                    if valence < 0:
                        s *= -1
                    if infos[i - (start_i + 1)][2] and is_cap_diff:
                        if valence > 0:
                            s += c_incr
                        else:
                            s -= c_incr
                if start_i == 1 and s != 0:
                    s = s * 0.95
                if start_i == 2 and s != 0:
                    s = s * 0.9
                valence = valence + s
                # _negation_check
                if start_i == 0:
                    if prev in negate or "n't" in prev:
                        valence = valence * n_scalar
                elif start_i == 1:
                    if lowers[i - 2] == "never" and (lowers[i - 1] == "so" or lowers[i - 1] == "this"):
                        valence = valence * 1.25
                    elif lowers[i - 2] == "without" and lowers[i - 1] == "doubt":
                        pass
                    elif prev in negate or "n't" in prev:
                        valence = valence * n_scalar
                else:
                    if (lowers[i - 3] == "never" and (lowers[i - 2] == "so" or lowers[i - 2] == "this")
                            or (lowers[i - 1] == "so" or lowers[i - 1] == "this")):
                        valence = valence * 1.25
                    elif lowers[i - 3] == "without" and (
                        lowers[i - 2] == "doubt" or lowers[i - 1] == "doubt"
                    ):
                        pass
                    elif prev in negate or "n't" in prev:
                        valence = valence * n_scalar
                    valence = self._idioms(valence, lowers, i, n)
        # _least_check
        if i > 1 and lowers[i - 1] not in lexicon and lowers[i - 1] == "least":
            if lowers[i - 2] != "at" and lowers[i - 2] != "very":
                valence = valence * n_scalar
        elif i > 0 and lowers[i - 1] not in lexicon and lowers[i - 1] == "least":
            valence = valence * n_scalar
        return valence

    def _idioms(self, valence, w, i, n):
        """``_special_idioms_check`` (called with ``i >= 3``) on word tuples."""
        special = self._special
        for seq in ((w[i - 1], w[i]), (w[i - 2], w[i - 1], w[i]), (w[i - 2], w[i - 1]),
                    (w[i - 3], w[i - 2], w[i - 1]), (w[i - 3], w[i - 2])):
            if seq in special:
                valence = special[seq]
                break
        if n - 1 > i:
            seq = (w[i], w[i + 1])
            if seq in special:
                valence = special[seq]
        if n - 1 > i + 1:
            seq = (w[i], w[i + 1], w[i + 2])
            if seq in special:
                valence = special[seq]
        ngrams = self._booster_ngrams
        for seq in ((w[i - 3], w[i - 2], w[i - 1]), (w[i - 3], w[i - 2]), (w[i - 2], w[i - 1])):
            if seq in ngrams:
                valence = valence + ngrams[seq]
        return valence

def _but_check(bi: int, sentiments: list) -> list:
    """vaderSentiment's ``_but_check`` loop as it is (each score found again by value)."""
    for sentiment in sentiments:
        si = sentiments.index(sentiment)
        if si < bi:
            sentiments.pop(si)
            sentiments.insert(si, sentiment * 0.5)
        elif si > bi:
            sentiments.pop(si)
            sentiments.insert(si, sentiment * 1.5)
    return sentiments


@lru_cache(maxsize=1)
def fast_vader() -> FastVader:
    """The shared :class:`FastVader` (one per process)."""
    return FastVader()


def _score_valence(nonzero: list, n: int, text: str):
    """vaderSentiment's ``score_valence`` of ``n`` words; ``nonzero`` are the scores (in order) of
    the words that can be non-zero, the others are all 0.

    ``sum(nonzero)`` is ``sum`` of all the scores: the zeros it leaves out are ``0`` or ``0.0``
    and adding them changes nothing (the running sum starts at the integer 0, so it is never
    ``-0.0``, the one value ``+ 0.0`` would change)."""
    sum_s = float(sum(nonzero))
    ep = text.count("!")
    if ep > 4:
        ep = 4
    punct = ep * 0.292
    qm = text.count("?")
    qm_amp = 0
    if qm > 1:
        qm_amp = qm * 0.18 if qm <= 3 else 0.96
    punct = punct + qm_amp
    if sum_s > 0:
        sum_s += punct
    elif sum_s < 0:
        sum_s -= punct
    compound = sum_s / math.sqrt((sum_s * sum_s) + 15)
    if compound < -1.0:
        compound = -1.0
    elif compound > 1.0:
        compound = 1.0
    pos_sum = 0.0
    neg_sum = 0.0
    neu_count = n
    for s in nonzero:
        if s > 0:
            pos_sum += float(s) + 1
            neu_count -= 1
        elif s < 0:
            neg_sum += float(s) - 1
            neu_count -= 1
    if pos_sum > math.fabs(neg_sum):
        pos_sum += punct
    elif pos_sum < math.fabs(neg_sum):
        neg_sum -= punct
    total = pos_sum + math.fabs(neg_sum) + neu_count
    return (round(math.fabs(neg_sum / total), 3), round(math.fabs(neu_count / total), 3),
            round(math.fabs(pos_sum / total), 3), round(compound, 4))
