"""Language identification, offline and cheap, so that non-English posts are flagged, not scored.

The identifier is py3langid (a maintained fork of langid.py, Lui & Baldwin 2012; its naive Bayes
model over byte n-grams for 97 languages ships inside the wheel). It reads the text with URLs,
@mentions and #hashtags removed and HTML entities decoded. Its normalised probability is
calibrated by text length, so short posts get low confidence.

Decision rule (measured in ``docs/methods.md``):

* the source's language tag wins when the post has one (``posts.lang``, e.g. Twitter's ``lang``),
  except ``und``/empty;
* otherwise a post is *not English* only when the identifier says another language with
  confidence ``>= MIN_CONFIDENCE`` and the text has at least ``MIN_LETTERS`` letters; short or
  uncertain posts are treated as English (the platforms studied are overwhelmingly English and a
  false "not English" would silently drop a post from tone and sharing analyses).

Examples
--------
>>> r = detect_languages(["Gracias a todos los emprendedores y las empresas pequeñas",
...                       "Glad to join my colleagues for a hearing on the bill", "Thanks!"])
>>> r["lang"], r["is_english"]
(['es', 'en', None], [False, True, True])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from socialens.text import readable, strip_entities

__all__ = ["ENGLISH_LIKE", "MIN_CONFIDENCE", "MIN_LETTERS", "identifier", "detect_languages", "normalize_tag"]

#: Minimum normalised probability of a non-English language to flag a post as not English.
MIN_CONFIDENCE = 0.5
#: Labels read as English: py3langid's Nigerian Pidgin model (``pcm``) claims many short,
#: informal English tweets (20 of 28 flags on TweetEval's English test set before this rule).
ENGLISH_LIKE = frozenset({"en", "pcm"})
#: Minimum number of letters (after removing URLs, mentions, hashtags) to run the identifier.
MIN_LETTERS = 15


@lru_cache(maxsize=1)
def identifier():
    """The py3langid identifier with normalised probabilities (loaded once, about 0.5 s)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=1)
def _automaton() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """py3langid's model as arrays: next state, row offsets, feature of a state, and the
    per-feature log-probabilities as float32 (shipped as float16; 57 MB once converted).

    numpy casts the float16 rows to float32 before its float32 matrix product anyway, so the
    products are the same; converting once saves the cast of every post's rows.
    """
    ident = identifier()
    return (
        np.frombuffer(ident.tk_nextmove, dtype=np.uint32),
        np.asarray(ident._rowbase, dtype=np.int64),
        np.asarray(ident.tk_output, dtype=np.int32),
        np.asarray(ident.nb_ptc, dtype=np.float32),
    )


_CHUNK_BYTES = 1 << 21  # rows x longest text of one chunk of the automaton walk


def _feature_visits(encoded: Sequence[bytes]) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """py3langid's ``visit_counts`` for many texts at once (same features, ~20x faster).

    The automaton is walked one byte position at a time for a chunk of texts together (texts
    sorted by length, so the texts still running are a prefix of the chunk). Each result is
    ``(feature ids, counts as float32)`` in order of first occurrence, the order of the
    ``collections.Counter`` py3langid builds, so the scores computed from it are bit-identical;
    ``None`` when a text has no feature.
    """
    nextmove, rowbase, output, _ = _automaton()
    n = len(encoded)
    out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * n
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=n)
    order = np.argsort(-lengths, kind="stable")
    start = 0
    while start < n and lengths[order[start]] > 0:
        width = int(lengths[order[start]])
        stop = min(n, start + max(1, _CHUNK_BYTES // width))
        rows = order[start:stop]
        lens = lengths[rows]
        data = np.zeros((len(rows), width), dtype=np.uint8)
        data[np.arange(width) < lens[:, None]] = np.frombuffer(
            b"".join(encoded[i] for i in rows), dtype=np.uint8
        )
        features = np.full((len(rows), width), -1, dtype=np.int32)
        state = np.zeros(len(rows), dtype=np.int64)
        running = len(rows)
        for pos in range(width):
            while lens[running - 1] <= pos:
                running -= 1
            state[:running] = nextmove[rowbase[state[:running]] + data[:running, pos]]
            features[:running, pos] = output[state[:running]]
        # (row, feature) pairs with their count, ordered by row, then by first occurrence
        row, pos = np.nonzero(features >= 0)
        keys = row.astype(np.int64) * len(output) + features[row, pos]
        pairs, first, counts = np.unique(keys, return_index=True, return_counts=True)
        by_first = np.argsort(first, kind="stable")
        pairs, counts = pairs[by_first], counts[by_first]
        pair_rows = pairs // len(output)
        bounds = (np.flatnonzero(np.diff(pair_rows)) + 1).tolist()
        feature_ids = (pairs % len(output)).astype(np.intp)
        counts = counts.astype(np.float32)
        for a, b in zip([0, *bounds], [*bounds, len(pairs)], strict=True):
            if a < b:
                out[rows[pair_rows[a]]] = (feature_ids[a:b], counts[a:b])
        start = stop
    return out


def _classify_many(texts: Sequence[str]) -> list[tuple[str, float]]:
    """``identifier().classify(text)`` for each text, bit for bit, with the automaton batched.

    The rest is py3langid 0.4's ``_sparse_score`` and ``_decide`` (normalised probabilities,
    aliased labels folded) on the same numbers; ``tests/enrich/test_language.py`` checks the
    identity.
    """
    ident = identifier()
    table = _automaton()[3]
    encoded = [ident._encode(t) for t in texts]
    if not encoded:
        return []
    scores = np.empty((len(encoded), len(ident.nb_classes)), dtype=np.float32)
    for k, visits in enumerate(_feature_visits(encoded)):
        if visits is not None:
            ids, counts = visits
            scores[k] = np.log1p(counts) @ table[ids] + ident.nb_pc
        else:
            scores[k] = 0.0
    # the rest row-wise on the whole matrix: the same float32 operations, element by element (the
    # length factor is rounded to float32 as ``scores *= python_float`` does)
    scale = np.array([1.0 / math.sqrt(len(d) or 1) for d in encoded], dtype=np.float32)
    scores *= scale[:, None]
    np.exp(scores - scores.max(axis=1, keepdims=True), out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    for i, j in ident._alias_pairs:
        scores[:, i] += scores[:, j]
        scores[:, j] = 0.0
    best = scores.argmax(axis=1)
    conf = scores[np.arange(len(encoded)), best].tolist()
    classes = ident.nb_classes
    return [(classes[b], c) for b, c in zip(best.tolist(), conf, strict=True)]


_NOT_ASCII_LETTERS = bytes(b for b in range(128) if not chr(b).isalpha())


def _letters(text: str) -> int:
    """``sum(map(str.isalpha, text))``, without a Python step per character for ASCII text (where
    the letters are exactly ``A-Z a-z``).

    >>> _letters("Go #Ducks, 2015!"), _letters("años ñ")
    (7, 5)
    """
    if text.isascii():
        return len(text.encode("ascii").translate(None, _NOT_ASCII_LETTERS))
    return sum(map(str.isalpha, text))


def normalize_tag(tag: str | None) -> str | None:
    """Primary subtag of a language tag, lower-case; ``None`` for empty and ``und``.

    >>> normalize_tag("en-GB"), normalize_tag("und"), normalize_tag(None)
    ('en', None, None)
    """
    if tag is None:
        return None
    t = str(tag).strip().lower().replace("_", "-").split("-", 1)[0]
    if not t or t in ("und", "zxx", "qme", "qam", "qct", "qht", "qst"):
        return None
    return t


def detect_languages(
    texts: Sequence[str | None],
    source_tags: Sequence[str | None] | None = None,
    *,
    readable_texts: Sequence[str | None] | None = None,
    stripped_texts: Sequence[str | None] | None = None,
) -> dict[str, list]:
    """Language of each text.

    Parameters
    ----------
    texts : sequence of str or None
    source_tags : sequence of str or None, optional
        Language tags given by the source, aligned with ``texts``.
    readable_texts : sequence of str or None, optional
        :func:`socialens.text.readable` of each text, when the caller has them already.
    stripped_texts : sequence of str or None, optional
        ``strip_entities(readable, url=None, mention=" ", hashtag=" ")`` of each text, when the
        caller has them already.

    Returns
    -------
    dict
        ``lang`` (ISO 639-1 code, or None when too short to tell and untagged),
        ``lang_confidence`` (the identifier's probability for ``lang``; None when the source tag
        was used or the identifier was not run) and ``is_english`` (bool).
    """
    tags = source_tags if source_tags is not None else [None] * len(texts)
    if readable_texts is None:
        readable_texts = [None if t is None else readable(t) for t in texts]
    # the texts the identifier reads, classified together: (source tag, text to classify)
    prepared: list[tuple[str | None, str | None]] = []
    stripped = stripped_texts if stripped_texts is not None else [None] * len(texts)
    for text, tag, st in zip(readable_texts, tags, stripped, strict=True):
        src = normalize_tag(tag)
        clean = None
        if src is None and text is not None:
            clean = st if st is not None else strip_entities(
                text, url=None, mention=" ", hashtag=" ")
            if _letters(clean) < MIN_LETTERS:
                clean = None
        prepared.append((src, clean))
    classified = iter(_classify_many([c for _, c in prepared if c is not None]))
    out: dict[str, list] = {"lang": [], "lang_confidence": [], "is_english": []}
    for src, clean in prepared:
        if src is not None:
            out["lang"].append(src)
            out["lang_confidence"].append(None)
            out["is_english"].append(src == "en")
            continue
        if clean is None:  # no text, or too few letters to tell
            out["lang"].append(None)
            out["lang_confidence"].append(None)
            out["is_english"].append(True)
            continue
        lang, conf = next(classified)
        if lang == "zxx":  # "no linguistic content" (emoji, numbers)
            out["lang"].append(None)
            out["lang_confidence"].append(None)
            out["is_english"].append(True)
            continue
        out["lang"].append(lang)
        out["lang_confidence"].append(float(conf))
        out["is_english"].append(lang in ENGLISH_LIKE or conf < MIN_CONFIDENCE)
    return out
