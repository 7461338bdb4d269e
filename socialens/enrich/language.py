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

from collections.abc import Sequence
from functools import lru_cache

from socialens.enrich.text import strip_entities, unescape

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
    texts: Sequence[str | None], source_tags: Sequence[str | None] | None = None
) -> dict[str, list]:
    """Language of each text.

    Parameters
    ----------
    texts : sequence of str or None
    source_tags : sequence of str or None, optional
        Language tags given by the source, aligned with ``texts``.

    Returns
    -------
    dict
        ``lang`` (ISO 639-1 code, or None when too short to tell and untagged),
        ``lang_confidence`` (the identifier's probability for ``lang``; None when the source tag
        was used or the identifier was not run) and ``is_english`` (bool).
    """
    ident = identifier()
    out: dict[str, list] = {"lang": [], "lang_confidence": [], "is_english": []}
    tags = source_tags if source_tags is not None else [None] * len(texts)
    for text, tag in zip(texts, tags, strict=True):
        src = normalize_tag(tag)
        if src is not None:
            out["lang"].append(src)
            out["lang_confidence"].append(None)
            out["is_english"].append(src == "en")
            continue
        if text is None:
            out["lang"].append(None)
            out["lang_confidence"].append(None)
            out["is_english"].append(True)
            continue
        clean = strip_entities(unescape(text), url=" ", mention=" ", hashtag=" ")
        if sum(ch.isalpha() for ch in clean) < MIN_LETTERS:
            out["lang"].append(None)
            out["lang_confidence"].append(None)
            out["is_english"].append(True)
            continue
        lang, conf = ident.classify(clean)
        if lang == "zxx":  # "no linguistic content" (emoji, numbers)
            out["lang"].append(None)
            out["lang_confidence"].append(None)
            out["is_english"].append(True)
            continue
        out["lang"].append(lang)
        out["lang_confidence"].append(float(conf))
        out["is_english"].append(lang in ENGLISH_LIKE or conf < MIN_CONFIDENCE)
    return out
