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

from collections.abc import Iterator, Sequence
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
_GATHER_BYTES = 1 << 22  # model rows gathered for one stacked product


def _feature_visits(
    encoded: Sequence[bytes],
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """py3langid's ``visit_counts`` for many texts at once (same features, ~20x faster).

    The automaton is walked one byte position at a time for a chunk of texts together (texts
    sorted by length, so the texts still running are a prefix of the chunk; bytes and states are
    stored position-major so that each step reads and writes contiguous memory). Yields, per
    chunk, ``(rows, bounds, feature_ids, counts)``: text ``rows[j]``'s features are
    ``feature_ids[bounds[j]:bounds[j + 1]]`` with their ``counts`` (float32), in order of first
    occurrence, the order of the ``collections.Counter`` py3langid builds, so the scores computed
    from them are bit-identical. Texts without bytes are in no chunk.
    """
    nextmove, rowbase, output, _ = _automaton()
    n_out = len(output)
    n = len(encoded)
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=n)
    order = np.argsort(-lengths, kind="stable")
    start = 0
    while start < n and lengths[order[start]] > 0:
        width = int(lengths[order[start]])
        stop = min(n, start + max(1, _CHUNK_BYTES // width))
        rows = order[start:stop]
        lens = lengths[rows]
        m = len(rows)
        data = np.zeros((m, width), dtype=np.uint8)
        data[np.arange(width) < lens[:, None]] = np.frombuffer(
            b"".join(encoded[i] for i in rows), dtype=np.uint8
        )
        data = np.ascontiguousarray(data.T)
        features = np.full((width, m), -1, dtype=np.int32)
        state = np.zeros(m, dtype=np.int64)
        running = m
        for pos in range(width):
            while lens[running - 1] <= pos:
                running -= 1
            s = nextmove[rowbase[state[:running]] + data[pos, :running]]
            state[:running] = s
            features[pos, :running] = output[s]
        # the (row, feature) hits in row order, then position order
        flat = features.T.ravel()
        hit = np.flatnonzero(flat >= 0)
        fid = flat[hit]
        row = hit // width
        keys = row * n_out + fid
        # first occurrence and count of each (row, feature): a stable sort groups equal keys
        # with their first hit first
        by_key = np.argsort(keys, kind="stable")
        sorted_keys = keys[by_key]
        group = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        count_at = np.zeros(len(keys), dtype=np.int64)
        count_at[by_key[group]] = np.diff(np.r_[group, len(keys)])
        first = np.flatnonzero(count_at)  # in hit order: by row, then by first occurrence
        bounds = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(np.bincount(row[first], minlength=m), out=bounds[1:])
        yield rows, bounds, fid[first].astype(np.intp), count_at[first].astype(np.float32)
        start = stop


def _classify_many(texts: Sequence[str]) -> list[tuple[str, float]]:
    """``identifier().classify(text)`` for each text, bit for bit, with the automaton batched.

    The rest is py3langid 0.4's ``_sparse_score`` and ``_decide`` (normalised probabilities,
    aliased labels folded) on the same numbers; ``tests/enrich/test_language.py`` checks the
    identity. Each text's score is still its own vector-matrix product (``log1p(counts) @
    table[ids]``, as py3langid computes it: numpy's ``matmul`` makes one BLAS ``gemv`` call per
    text, also for a stack of them), because one sparse product for a chunk would add the same
    terms in another order (other float32 roundings); but the texts with the same number of
    features go through one stacked ``matmul`` call, and the logarithms and the class priors are
    applied to a whole chunk at once (element-wise, the same operations).
    """
    ident = identifier()
    table = _automaton()[3]
    encoded = [ident._encode(t) for t in texts]
    if not encoded:
        return []
    n_classes = len(ident.nb_classes)
    scores = np.zeros((len(encoded), n_classes), dtype=np.float32)
    for rows, bounds, feature_ids, counts in _feature_visits(encoded):
        logs = np.log1p(counts)
        sizes = np.diff(bounds)
        scored = np.flatnonzero(sizes)
        # texts with the same number of features k together: (r, 1, k) @ (r, k, classes) is r
        # vector-matrix products in one call, each the product py3langid computes for its text
        by_size = scored[np.argsort(sizes[scored], kind="stable")]
        ks = sizes[by_size]
        cuts = (np.flatnonzero(np.diff(ks)) + 1).tolist()
        for g0, g1 in zip([0, *cuts], [*cuts, len(by_size)], strict=True):
            k = int(ks[g0])
            step = max(1, _GATHER_BYTES // (k * n_classes * 4))
            for s0 in range(g0, g1, step):
                group = by_size[s0:min(g1, s0 + step)]
                at = (bounds[group][:, None] + np.arange(k)).ravel()
                rows_of = table.take(feature_ids[at], axis=0).reshape(len(group), k, n_classes)
                scores[rows[group]] = np.matmul(logs[at].reshape(len(group), 1, k), rows_of)[:, 0]
        scores[rows[scored]] += ident.nb_pc
    # the rest row-wise on the whole matrix: the same float32 operations, element by element (the
    # length factor is rounded to float32 as ``scores *= python_float`` does)
    # (float64 square roots and quotients, as ``1.0 / math.sqrt(n)``, then rounded to float32)
    lengths = np.fromiter(map(len, encoded), dtype=np.float64, count=len(encoded))
    scale = (1.0 / np.sqrt(np.maximum(lengths, 1.0))).astype(np.float32)
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
