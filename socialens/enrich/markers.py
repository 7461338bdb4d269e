"""Style markers: the 8 function-word categories of linguistic style coordination.

Danescu-Niculescu-Mizil, Lee, Pang & Kleinberg (2012), "Echoes of power", measure coordination on
eight LIWC-derived function-word categories: articles, auxiliary verbs, conjunctions, adverbs,
personal pronouns, impersonal pronouns, prepositions and quantifiers. The word lists are
ConvoKit 5.0.0's ``coord-liwc-patterns.txt`` (MIT, shipped in ``socialens/enrich/data`` with its
licence, sha256 ``55a53ebc...21652``).

Two modes:

``convokit``
    Reproduces ConvoKit's ``Coordination.fit`` annotation exactly, quirks included: it scans
    ``text.lower()`` with a character trie whose word characters are ASCII ``[a-z0-9_]`` only, so
    curly apostrophes split contractions (``don’t`` matches nothing), URLs, hashtags and mentions
    are read as words (``http://t.co/a`` contains the article ``a``), ``&amp;`` is not decoded and
    accented letters split words (``años`` contains ``a``). It yields presence (0/1) per category.
    Use it for parity with published work.

``default``
    The same word lists applied to proper tokens: HTML entities decoded, curly apostrophes
    (U+2019, U+2018, U+02BC) read as ``'``, URLs, @mentions and #hashtags removed, words made of
    Unicode letters, digits and ``_`` with inner apostrophes (``don't``, ``años``, ``y'all``), and
    ``US`` in upper case in a text that is not all upper case read as the country, not the pronoun.
    A token matches a category when the whole token is in its list, when it starts with one of the
    list's open-ended stems (``thing``, ``everybod``...), or (for tokens with an apostrophe) when the
    part before the apostrophe does (``it's`` -> ``it``, ipron). It yields counts: the number of
    tokens that match each category.

Examples
--------
>>> sorted(marker_sets(["I don’t know, it’s the #the https://t.co/a"], mode="convokit")[0])
['article', 'ipron', 'ppron']
>>> marker_counts(["I don’t know, it’s the #the https://t.co/a"])["m_article"]
[1]
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from socialens.errors import EnrichError
from socialens.text import APOSTROPHES, tokenize, words  # the default mode's tokens (re-exported)

__all__ = [
    "MARKERS",
    "MARKER_COLUMNS",
    "MODES",
    "load_patterns",
    "ConvoKitAnnotator",
    "tokenize",
    "token_categories",
    "marker_sets",
    "marker_counts",
]

#: The eight categories, in ConvoKit's order and with its names.
MARKERS = ("article", "auxverb", "conj", "adverb", "ppron", "ipron", "preps", "quant")
#: The ``post_features`` column of each category.
MARKER_COLUMNS = {
    "article": "m_article",
    "auxverb": "m_auxverb",
    "conj": "m_conj",
    "adverb": "m_adverb",
    "ppron": "m_ppron",
    "ipron": "m_ipron",
    "preps": "m_preposition",
    "quant": "m_quant",
}
MODES = ("default", "convokit")

_PATTERN_FILE = "coord-liwc-patterns.txt"


@lru_cache(maxsize=1)
def load_patterns() -> dict[str, list[tuple[str, bool]]]:
    """The shipped pattern file as ``{category: [(word, closed), ...]}``.

    ``closed`` is True for ``\\bword\\b`` (the whole word) and False for ``\\bword`` (any word that
    starts with it). Duplicates are kept, as in the file.
    """
    text = resources.files("socialens.enrich").joinpath("data", _PATTERN_FILE).read_text("utf-8")
    out: dict[str, list[tuple[str, bool]]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        cat, pattern = line.strip().split("\t")
        items = []
        for alt in pattern.split("|"):
            word = alt.removeprefix("\\b")
            closed = word.endswith("\\b")
            items.append((word.removesuffix("\\b"), closed))
        out[cat] = items
    return out


# ---------------------------------------------------------------------------------------------
# convokit mode


class _Node:
    """A trie node: literal character edges, an optional word-boundary edge, categories ending here."""

    __slots__ = ("edges", "boundary", "cats")

    def __init__(self) -> None:
        self.edges: dict[str, _Node] = {}
        self.boundary: _Node | None = None
        self.cats: frozenset[str] | None = None


class ConvoKitAnnotator:
    """ConvoKit 5.0.0's per-utterance marker annotation, re-implemented from its documented behaviour.

    The state machine (checked against ConvoKit's output on 7,020 real tweets and its tokenization
    probes, see ``docs/methods.md``):

    * the text is ``text.lower() + " "``, read one character at a time; word characters are ASCII
      ``a-z``, ``0-9`` and ``_``;
    * a match (re)starts at a word character that follows a non-word character, unless that
      character is an apostrophe and a match is still alive;
    * a live match follows literal characters of the patterns (letters and ``'``); at a non-word
      character right after a word character it may cross a word boundary of a closed pattern;
      otherwise it dies;
    * a category is recorded when a match reaches the end of a pattern, and also when a literal
      non-word character (``'``) is read at a point where a closed pattern could have ended.
    """

    WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")

    def __init__(self, patterns: dict[str, list[tuple[str, bool]]] | None = None):
        self.patterns = patterns if patterns is not None else load_patterns()
        self.root_ = self._build(self.patterns)

    @staticmethod
    def _build(patterns: dict[str, list[tuple[str, bool]]]) -> _Node:
        root = _Node()
        ends: dict[int, set[str]] = {}
        nodes: dict[int, _Node] = {}
        for cat, items in patterns.items():
            for word, closed in items:
                node = root
                for ch in word:
                    node = node.edges.setdefault(ch, _Node())
                if closed:
                    if node.boundary is None:
                        node.boundary = _Node()
                    node = node.boundary
                ends.setdefault(id(node), set()).add(cat)
                nodes[id(node)] = node
        for key, cats in ends.items():
            nodes[key].cats = frozenset(cats)
        return root

    def categories(self, text: str) -> set[str]:
        """The set of categories ConvoKit would assign to ``text``."""
        word = self.WORD_CHARS
        root = self.root_
        found: set[str] = set()
        node: _Node | None = None
        prev = None
        for ch in text.lower() + " ":
            if ch in word and prev not in word and (prev != "'" or node is None):
                node = root
            if node is not None:
                nxt = node.edges.get(ch)
                if nxt is not None:
                    if ch not in word and node.boundary is not None and node.boundary.cats:
                        found |= node.boundary.cats
                    node = nxt
                elif ch not in word and prev in word and node.boundary is not None:
                    node = node.boundary
                else:
                    node = None
                if node is not None and node.cats:
                    found |= node.cats
            prev = ch
        return found


@lru_cache(maxsize=1)
def _convokit() -> ConvoKitAnnotator:
    return ConvoKitAnnotator()


# ---------------------------------------------------------------------------------------------
# default mode

@lru_cache(maxsize=1)
def _lexicon() -> tuple[dict[str, frozenset[str]], dict[int, dict[str, frozenset[str]]]]:
    closed: dict[str, set[str]] = {}
    stems: dict[int, dict[str, set[str]]] = {}
    for cat, items in load_patterns().items():
        for word, is_closed in items:
            if is_closed:
                closed.setdefault(word, set()).add(cat)
            else:
                stems.setdefault(len(word), {}).setdefault(word, set()).add(cat)
    return (
        {w: frozenset(c) for w, c in closed.items()},
        {n: {w: frozenset(c) for w, c in d.items()} for n, d in sorted(stems.items())},
    )


@lru_cache(maxsize=65536)
def token_categories(token: str) -> frozenset[str]:
    """Categories of one lower-case token in the default mode.

    >>> sorted(token_categories("it's"))
    ['auxverb', 'ipron']
    >>> sorted(token_categories("everything's"))
    ['ipron']
    """
    closed, stems = _lexicon()
    cats: set[str] = set()

    def match(w: str) -> None:
        c = closed.get(w)
        if c:
            cats.update(c)
        for n, d in stems.items():
            if n > len(w):
                break
            c = d.get(w[:n])
            if c:
                cats.update(c)

    match(token)
    if "'" in token:
        match(token.split("'", 1)[0])
    return frozenset(cats)


@lru_cache(maxsize=65536)
def _token_slots(token: str) -> tuple[int, ...]:
    """Positions in :data:`MARKERS` of the categories of a token as written (``token.lower()``)."""
    cats = token_categories(token.lower())
    return tuple(i for i, c in enumerate(MARKERS) if c in cats)


def _is_shouting(text: str) -> bool:
    """No lower-case letter in ``text`` (then ``US`` is the pronoun)."""
    if text.isascii():  # ASCII: the lower-case letters are exactly those ``upper()`` changes
        return text.upper() == text
    return not any(ch.islower() for ch in text)


#: Bits per category in a packed count (:func:`_packed`): a text has fewer than 2**32 tokens.
_FIELD = 32
_MASK = (1 << _FIELD) - 1
_PACKED: dict[str, int] = {}
_PACKED_LIMIT = 500_000


def _packed(token: str) -> int:
    """The categories of a token as written, packed: bit field ``i`` (of :data:`_FIELD` bits) is
    1 when the token is in ``MARKERS[i]``; a text's counts are then the sum of its tokens'."""
    v = _PACKED.get(token)
    if v is None:
        v = sum(1 << (_FIELD * i) for i in _token_slots(token))
        if len(_PACKED) >= _PACKED_LIMIT:
            _PACKED.clear()
        _PACKED[token] = v
    return v


def _default_slot_counts(
    text: str, view: str | None = None, stripped: str | None = None
) -> tuple[list[int], int]:
    """Counts per category (in :data:`MARKERS` order) and the number of tokens; ``view`` is
    :func:`socialens.text.readable` of ``text`` and ``stripped`` its entities replaced
    (``strip_entities(view, url=None, mention=" ", hashtag=" ")``), when the caller has them."""
    tokens = _tokens(text, view, stripped)
    total = _packed_total(text, tokens)
    return [(total >> (_FIELD * i)) & _MASK for i in range(len(MARKERS))], len(tokens)


_APOSTROPHE_MAP = str.maketrans(dict.fromkeys(APOSTROPHES, "'"))


def _tokens(text: str, view: str | None, stripped: str | None) -> list[str]:
    """``tokenize(text)``, from the views when the caller has them.

    ``tokenize`` reads apostrophe-like characters as ``'`` *before* it strips mentions and
    hashtags. Stripping first gives the same text unless the view has U+02BC (a letter, so a
    hashtag character): the mention and hashtag patterns treat ``'``, U+2018, U+2019 and U+FF07
    alike (none is a word, handle or hashtag character, or in their look-arounds).
    """
    if view is None or stripped is None:
        return tokenize(text) if view is None else tokenize(view, views=True)
    if view.isascii():
        return words(stripped)  # = tokenize(view, views=True) without stripping again
    if "\u02bc" in view:
        return tokenize(view, views=True)
    return words(stripped.translate(_APOSTROPHE_MAP))


def _packed_total(text: str, tokens: list[str]) -> int:
    """The packed category counts of a text's tokens (``US`` is the pronoun only in a text
    without lower-case letters)."""
    packed = list(map(_PACKED.get, tokens))
    if None in packed:
        packed = [_packed(t) if v is None else v for t, v in zip(tokens, packed, strict=True)]
    total = sum(packed)
    if "US" in tokens and not _is_shouting(text):
        total -= tokens.count("US") * _packed("US")  # the country, not the pronoun
    return total


def _default_counts(text: str) -> tuple[dict[str, int], int]:
    counts, n = _default_slot_counts(text)
    return dict(zip(MARKERS, counts, strict=True)), n


def marker_sets(texts: Sequence[str | None], mode: str = "default") -> list[set[str] | None]:
    """The set of categories present in each text (``None`` for ``None``)."""
    _check_mode(mode)
    out: list[set[str] | None] = []
    if mode == "convokit":
        ann = _convokit()
        for t in texts:
            out.append(None if t is None else ann.categories(t))
    else:
        for t in texts:
            if t is None:
                out.append(None)
            else:
                counts, _ = _default_counts(t)
                out.append({c for c, n in counts.items() if n})
    return out


def marker_counts(
    texts: Sequence[str | None],
    mode: str = "default",
    *,
    readable_texts: Sequence[str | None] | None = None,
    stripped_texts: Sequence[str | None] | None = None,
) -> dict[str, list]:
    """Per-category columns (``m_article`` ... ``m_quant``) and ``n_tokens`` for each text.

    In ``default`` mode a column is the number of tokens in the category; in ``convokit`` mode it
    is 0/1 (ConvoKit records presence only) and ``n_tokens`` is still the default tokenizer's count.
    ``None`` texts give ``None``. ``readable_texts``, optional, are
    :func:`socialens.text.readable` of each text, and ``stripped_texts`` those with entities
    replaced (``strip_entities(view, url=None, mention=" ", hashtag=" ")``), when the caller has
    them already.
    """
    _check_mode(mode)
    cols = list(MARKER_COLUMNS.values())
    ann = _convokit() if mode == "convokit" else None
    views = readable_texts if readable_texts is not None else [None] * len(texts)
    stripped = stripped_texts if stripped_texts is not None else [None] * len(texts)
    totals: list = []
    n_tokens: list = []
    for t, v, st in zip(texts, views, stripped, strict=True):
        if t is None:
            totals.append(None)
            n_tokens.append(None)
            continue
        tokens = _tokens(t, v, st)
        n_tokens.append(len(tokens))
        if ann is None:
            totals.append(_packed_total(t, tokens))
        else:  # presence, packed the same way
            present = ann.categories(t)
            totals.append(sum(1 << (_FIELD * i) for i, c in enumerate(MARKERS) if c in present))
    out = {}
    for i, col in enumerate(cols):
        shift = _FIELD * i
        out[col] = [None if x is None else (x >> shift) & _MASK for x in totals]
    out["n_tokens"] = n_tokens
    return out


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise EnrichError(f"unknown markers mode {mode!r}; use one of {', '.join(MODES)}")
