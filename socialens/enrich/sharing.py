"""Personal vs professional: does a post share the member's private life?

The labels and their rules are the codebook of ``../shared/data/sharing_labels/README.md``
(rules R1–R18): PROFESSIONAL (job, office, policy; also the residual class), PERSONAL (the member's
own private life: family, pets, sports fandom, food, leisure, own milestones and faith) and MIXED
(clearly both). Two classifiers share one feature set:

``baseline``
    A transparent lexicon + rules classifier. Each cue group below is a list of words or patterns
    taken from the codebook's definitions; a post's personal evidence is the weighted sum of the
    personal cues it contains. Label: PERSONAL when the evidence is >= 1, MIXED when in addition it
    has strong professional cues (>= 2 policy/office words), otherwise PROFESSIONAL. Score:
    ``1 - 2 ** -evidence``.

``model`` (the default)
    A multinomial logistic regression (L2, C = 1, class-balanced weights, L-BFGS) on TF-IDF
    character 2-5-grams of the words (:func:`char_ngrams`; the hand cue lists are not features).
    Trained by ``scripts/train_sharing.py`` on the 400 DEV posts and on 741 short posts written
    from the codebook alone (``data/sharing_codebook_examples.tsv``); a bias on the MIXED logit
    and a Platt calibration of the score are fitted on out-of-fold predictions of the DEV posts.
    Its coefficients ship in ``socialens/enrich/data/sharing_model.json`` with their provenance;
    nothing is downloaded and only numpy/scipy are needed. Score: the calibrated
    P(PERSONAL) + P(MIXED); label: the most probable class after the MIXED bias (so a label and a
    score near 0.5 can disagree).

Both were evaluated with cross-validation on the 400-post DEV set, the whole training recipe
refitted inside every fold (see ``docs/methods.md`` and ``eval/sharing.py``); the hidden test set
was never used.

Examples
--------
>>> r = classify_sharing(["Happy birthday to my wife Kris!", "Voted for the highway bill today."],
...                      method="baseline")
>>> r["sharing_label"]
['PERSONAL', 'PROFESSIONAL']
>>> r["personal_score"]
[0.646447, 0.0]
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

import numpy as np

from socialens.errors import EnrichError
from socialens.text import readable, tokenize

__all__ = [
    "LABELS",
    "CUES",
    "METHODS",
    "cue_counts",
    "model_tokens",
    "char_ngrams",
    "BaselineSharingClassifier",
    "SharingModel",
    "shipped_model",
    "classify_sharing",
]

LABELS = ("PERSONAL", "PROFESSIONAL", "MIXED")
FORMAT = "socialens.sharing_model/2"
METHODS = ("model", "baseline")


def _words(*ws: str) -> str:
    return r"(?<![\w#@])(?:" + "|".join(ws) + r")(?!\w)"


_FAMILY = (
    r"wife|husband|spouse|son|sons|daughter|daughters|kids|children|grandkids|grandchildren|"
    r"grandson|grandsons|granddaughter|granddaughters|grandbaby|family|mom|mother|dad|father|"
    r"parents|brother|brothers|sister|sisters|grandmother|grandfather|grandma|grandpa|niece|"
    r"nephew|nephews|boy|girls|fianc[eé]e?|in-laws|pug|dog|dogs|puppy|pup|cat|cats|birthday|bday|"
    r"anniversary|wedding|church|parish|alma mater"
)
_GENERIC_OUR = r"kids|children|grandchildren|grandkids|families|family|sons|daughters|parents"

#: Cue groups: name -> (pattern, weight towards "personal"; 0 for professional cues).
CUES: dict[str, tuple[re.Pattern, float]] = {
    # R2/R3: the member's own family, pets and milestones: "my wife", "our 31st anniversary",
    # but not "our kids" meaning the next generation.
    "own_family": (
        re.compile(
            r"(?<!\w)my\s+(?:[\w'’-]+\s+){0,2}?(?:" + _FAMILY + r")(?:'s|’s)?(?!\w)"
            r"|(?<!\w)our\s+(?:[\w'’-]+\s+){0,2}?(?!(?:" + _GENERIC_OUR + r")(?!\w))(?:"
            + _FAMILY + r")(?:'s|’s)?(?!\w)",
            re.IGNORECASE,
        ),
        1.0,
    ),
    "family_words": (
        re.compile(
            _words(
                "wife", "husband", "grandkids", "grandson", "granddaughter", "grandma", "grandpa",
                "honeymoon", "puppy", "my boy", "my girl", "son of",
            ),
            re.IGNORECASE,
        ),
        0.5,
    ),
    # R9a: fandom: cheering, wishing luck, games, titles, #GoTeam hashtags (case-sensitive #Go).
    "sports_fandom": (
        re.compile(
            _words(
                "game", "games", "gameday", "game day", "game time", "football", "baseball",
                "basketball", "hockey", "soccer", "softball", "playoffs?", "super bowl",
                "world series", "world cup", "stanley cup", "touchdown", "march ?madness",
                "final four", "elite 8", "sweet 16", "fans?", "rooting", "cheering", "go team",
                "tailgat\\w*", "#?uswnt", "nba ?finals", "ncaa\\w*", "fifa\\w*", "championships?",
                "champions", "champs",
            ),
            re.IGNORECASE,
        ),
        0.6,
    ),
    "go_hashtag": (re.compile(r"#Go[A-Z]\w*|#(?:Beat|Roll)[A-Z]\w*|\bGo #?[A-Z][\w]*!"), 1.0),
    "good_luck": (re.compile(_words("good luck", "best of luck", "luck to"), re.IGNORECASE), 0.4),
    # R11/R16: own food enjoyment, leisure, pop culture.
    "food_leisure": (
        re.compile(
            _words(
                "pie", "bbq", "barbecue", "pizza", "cookies", "cupcakes?", "yumm?y", "delicious",
                "noodles", "ice cream", "dinner with my", "vacation", "hiking", "beach", "movie",
                "concert", "piano", "guitar", "fishing trip", "card game", "foosball", "#tbt",
            ),
            re.IGNORECASE,
        ),
        0.5,
    ),
    # R15: own faith.
    "own_faith": (
        re.compile(_words("mass", "he is risen", "bible", "psalm", "amen"), re.IGNORECASE),
        0.5,
    ),
    # R1: professional evidence (office, policy, legislation).
    "professional": (
        re.compile(
            _words(
                "bill", "bills", "act", "law", "laws", "vote", "voted", "votes", "voting",
                "senate", "congress", "hearing", "committee", "legislation", "amendment",
                "policy", "policies", "federal", "funding", "budget", "tax", "taxes",
                "constituents?", "office", "staff", "meeting", "met with", "roundtable",
                "testify\\w*", "discuss\\w*", "announce\\w*", "confirm\\w*", "support",
                "jobs", "economy", "health ?care", "veterans?", "administration", "president",
                "obama", "statement", "town ?hall", "capitol", "state legislature",
                "equality", "awareness", "#\\w*act\\b", "reasons i'm for", "right to",
            ),
            re.IGNORECASE,
        ),
        0.0,
    ),
}

_PROFESSIONAL_FOR_MIXED = 2


def _readable(text: str | None) -> str:
    """The text both feature sets read: HTML entities decoded, URLs replaced by a space."""
    return readable(text or "")


@lru_cache(maxsize=1)
def _ascii_cues() -> list[tuple[re.Pattern, bool]]:
    """Each cue pattern as run on a text whose cased letters are ASCII: ``(pattern, on_lower)``.

    In such a text (see :func:`_case_is_ascii`), a case-insensitive pattern whose literal letters
    are all lower case matches at exactly the same places in ``text.lower()`` without
    ``IGNORECASE`` (``\\w``, ``\\s``, ``\\b`` and the lookarounds do not depend on case), and
    Python's regex engine skips non-matching alternatives of a case-sensitive pattern much faster
    (2-4x on real posts).
    """
    out = []
    for pattern, _ in CUES.values():
        uncased = re.sub(r"\\.", "", pattern.pattern)
        if pattern.flags & re.IGNORECASE and not re.search("[A-Z]", uncased):
            out.append((re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE), True))
        else:
            out.append((pattern, False))
    return out


_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")


def _case_is_ascii(text: str) -> bool:
    """Whether every character of ``text`` that has a case is ASCII (emoji, curly quotes, dashes
    and letters of caseless scripts have none): then ``text.lower()`` only lower-cases ASCII
    letters, and no character outside ASCII matches a pattern letter case-insensitively (as ``ſ``
    matches ``s`` and the Kelvin sign matches ``k``).

    >>> _case_is_ascii("It’s game day 🏈"), _case_is_ascii("Año nuevo")
    (True, False)
    """
    if text.isascii():
        return True
    return all(c.lower() == c == c.upper() for c in set(_NON_ASCII_RE.findall(text)))


def _cue_counts(readable: Sequence[str]) -> np.ndarray:
    out = np.zeros((len(readable), len(CUES)), dtype=float)
    patterns = [p for p, _ in CUES.values()]
    ascii_patterns = _ascii_cues()
    for i, t in enumerate(readable):
        if _case_is_ascii(t):
            low = t.lower()
            for j, (pattern, on_lower) in enumerate(ascii_patterns):
                out[i, j] = len(pattern.findall(low if on_lower else t))
        else:
            for j, pattern in enumerate(patterns):
                out[i, j] = len(pattern.findall(t))
    return out


def cue_counts(texts: Sequence[str]) -> np.ndarray:
    """Matrix ``(n_texts, n_cue_groups)`` of cue occurrence counts, in :data:`CUES` order."""
    return _cue_counts([_readable(t) for t in texts])


class BaselineSharingClassifier:
    """The lexicon + rules baseline (no fitting; ``fit`` exists for the estimator interface)."""

    def __init__(self, mixed_professional_cues: int = _PROFESSIONAL_FOR_MIXED):
        self.mixed_professional_cues = mixed_professional_cues

    def fit(self, texts=None, labels=None) -> BaselineSharingClassifier:
        return self

    def evidence(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Personal evidence (weighted cue sum) and professional cue count of each text."""
        c = cue_counts(texts)
        weights = np.array([w for _, w in CUES.values()])
        personal = (np.minimum(c, 2) * weights).sum(axis=1)
        professional = c[:, list(CUES).index("professional")]
        return personal, professional

    def predict(self, texts: Sequence[str]) -> list[str]:
        return self.label_score(texts)[0]

    def score(self, texts: Sequence[str]) -> np.ndarray:
        return self.label_score(texts)[1]

    def label_score(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Labels and scores from one pass of the cues."""
        p, q = self.evidence(texts)
        labels = [
            ("MIXED" if qi >= self.mixed_professional_cues else "PERSONAL") if pi >= 1 else
            "PROFESSIONAL"
            for pi, qi in zip(p, q, strict=True)
        ]
        return labels, 1.0 - np.power(2.0, -p)


def model_tokens(text: str) -> set[str]:
    """The word, #hashtag and @mention types of a text, lower-case (URLs removed).

    >>> sorted(model_tokens("Go #USA! @ussoccer_wnt http://t.co/x"))
    ['#usa', '@ussoccer_wnt', 'go']
    """
    return _model_tokens(_readable(text))


def _model_tokens(readable: str) -> set[str]:
    return {w.lower() for w in tokenize(readable, tags=True, views=True)}


_WS_RE = re.compile(r"\s+")


def char_ngrams(readable: str, ngram_range: tuple[int, int] = (2, 5)) -> dict[str, int]:
    """Counts of the character n-grams of each word, lower-case, padded with one space.

    The words are the white-space separated runs of ``readable`` (HTML decoded, URLs removed);
    each word ``w`` is read as ``" w "`` and cut into its n-grams for every ``n`` in the range
    (a word shorter than ``n`` gives itself once). This is scikit-learn's ``char_wb`` analyzer,
    written out so that the shipped model needs only numpy.

    >>> sorted(char_ngrams("Go Go", (2, 3)).items())
    [(' g', 2), (' go', 2), ('go', 2), ('go ', 2), ('o ', 2)]
    """
    lo, hi = ngram_range
    out: dict[str, int] = {}
    get = out.get
    for w in _WS_RE.sub(" ", readable.lower()).split():
        w = f" {w} "
        m = len(w)
        for n in range(lo, hi + 1):
            if m <= n:
                out[w] = get(w, 0) + 1
                break
            for i in range(m - n + 1):
                g = w[i:i + n]
                out[g] = get(g, 0) + 1
    return out


class _WordTable:
    """Distinct words and the vocabulary ids of their n-grams (with repeats), as flat arrays."""

    def __init__(self) -> None:
        import array

        self.index: dict[str, int] = {}
        self._ptr = array.array("q", [0])
        self._flat = array.array("q")
        self._arrays: tuple[np.ndarray, np.ndarray] | None = None

    def id(self, word: str, vocabulary: dict[str, int], ngram_range: tuple[int, int]) -> int:
        i = self.index.get(word)
        if i is not None:
            return i
        self._flat.extend(j for g, k in char_ngrams(word, ngram_range).items()
                          if (j := vocabulary.get(g)) is not None for _ in range(k))
        self._ptr.append(len(self._flat))
        self._arrays = None
        i = self.index[word] = len(self.index)
        return i

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if self._arrays is None:
            self._arrays = (np.array(self._ptr, dtype=np.int64),
                            np.array(self._flat, dtype=np.int64))
        return self._arrays


class SharingModel:
    """Multinomial logistic regression on TF-IDF character n-grams, with a calibrated score.

    Features: the character 2-5-grams of each word (:func:`char_ngrams`) that occur in at least
    ``min_df`` training posts, weighted ``(1 + log tf) * idf`` with the smoothed idf
    ``log((1 + n) / (1 + df)) + 1`` and scaled to unit length per post. The hand-written cue
    lists (:data:`CUES`) are *not* features: they were written while reading the DEV posts.

    Parameters
    ----------
    C : float
        Inverse L2 penalty (scikit-learn's convention: the data term is a weighted sum over posts).
    min_df : int
        An n-gram enters the vocabulary when it occurs in at least this many training posts.
    ngram_range : (int, int)
        Shortest and longest n-gram.
    class_weight : {"balanced", None}
        Weight each class inversely to its (sample-weighted) frequency.

    Learned attributes: ``vocabulary_``, ``idf_``, ``coef_`` (n_features x 3), ``intercept_``,
    ``classes_``; and, set by the training script, ``mixed_bias_`` (added to the MIXED logit
    before the label is chosen; 0 by default) and ``calibration_`` (``(a, b)``: the score is
    ``sigmoid(a * logit(p) + b)`` of the model's P(PERSONAL) + P(MIXED); ``(1, 0)`` by default).
    """

    def __init__(self, C: float = 1.0, min_df: int = 2, ngram_range: tuple[int, int] = (2, 5),
                 class_weight: str | None = "balanced"):
        self.C = C
        self.min_df = min_df
        self.ngram_range = ngram_range
        self.class_weight = class_weight

    # -- features ---------------------------------------------------------------------------
    def _counts(self, readable_texts: Sequence[str]) -> list[dict[str, int]]:
        rng = tuple(self.ngram_range)
        return [char_ngrams(t, rng) for t in readable_texts]

    def _word_table(self) -> _WordTable:
        table = self.__dict__.get("_word_ids")
        if table is None or len(table.index) > 200_000:
            table = self.__dict__["_word_ids"] = _WordTable()
        return table

    def _design(self, texts: Sequence[str], readable_texts: Sequence[str] | None = None):
        """The posts' TF-IDF rows (CSR, unit length), built with numpy from per-word n-gram ids.

        The n-grams of a post are those of its words, so each distinct word is cut once and kept
        (``_WordTable``); a batch's (post, n-gram) pairs are then counted with one sort. The
        arithmetic and the storage order are those of the scipy construction this replaced
        (``csr_matrix`` of ones, ``sum_duplicates``, ``1 + log``, ``multiply(idf)``, row norms by
        ``reduceat``, ``diags(1 / norm) @ X``, whose product stores each row's entries in
        reverse column order), so the scores are bit-identical.
        """
        from scipy import sparse

        if readable_texts is None:
            readable_texts = [_readable(t) for t in texts]
        n = len(readable_texts)
        n_features = len(self.vocabulary_)
        table = self._word_table()
        get = table.index.get
        word_ids: list[int] = []
        n_words = []
        rng = tuple(self.ngram_range)
        for t in readable_texts:
            words = t.lower().split()  # = _WS_RE.sub(" ", ...).split(): both split at isspace()
            ids = list(map(get, words))
            if None in ids:  # words not seen yet (in order: a repeated new word is added once)
                ids = [table.id(w, self.vocabulary_, rng) if i is None else i
                       for w, i in zip(words, ids, strict=True)]
            word_ids.extend(ids)
            n_words.append(len(words))
        ptr, flat = table.arrays()
        wid = np.asarray(word_ids, dtype=np.int64)
        starts, sizes = ptr[wid], ptr[wid + 1] - ptr[wid]
        word_post = np.repeat(np.arange(n, dtype=np.int64), n_words)
        rows = np.repeat(word_post, sizes)
        # positions in ``flat`` of each word's n-gram ids, word after word
        offsets = np.repeat(starts - (np.cumsum(sizes) - sizes), sizes)
        cols = flat[offsets + np.arange(len(offsets), dtype=np.int64)]
        keys = rows * n_features + cols
        keys.sort()
        if len(keys):
            first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            counts = np.diff(np.r_[first, len(keys)])
            keys = keys[first]
        else:
            counts = keys
        r, c = keys // n_features, keys % n_features
        data = (1.0 + np.log(counts.astype(np.float64))) * self.idf_[c]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
        nonempty = np.flatnonzero(np.diff(indptr))
        norms = np.zeros(n)
        if len(nonempty):
            norms[nonempty] = np.add.reduceat(data * data, indptr[nonempty])
        norms = np.sqrt(norms)
        norms[norms == 0] = 1.0
        data = (1.0 / norms)[r] * data
        rev = indptr[r] + indptr[r + 1] - 1 - np.arange(len(data), dtype=np.int64)
        return sparse.csr_matrix(
            (data[rev], c[rev].astype(np.int32), indptr.astype(np.int32)), shape=(n, n_features)
        )

    # -- estimator interface ----------------------------------------------------------------
    def fit(self, texts: Sequence[str], labels: Sequence[str],
            sample_weight: Sequence[float] | None = None) -> SharingModel:
        from scipy.optimize import minimize

        readable_texts = [_readable(t) for t in texts]
        df: dict[str, int] = {}
        for c in self._counts(readable_texts):
            for g in c:
                df[g] = df.get(g, 0) + 1
        vocab = sorted(g for g, n in df.items() if n >= self.min_df)
        self.vocabulary_ = {g: i for i, g in enumerate(vocab)}
        self.__dict__.pop("_word_ids", None)  # the word cache belongs to one vocabulary
        n = len(texts)
        self.idf_ = np.log((1.0 + n) / (1.0 + np.array([df[g] for g in vocab], float))) + 1.0
        self.classes_ = list(LABELS)
        self.mixed_bias_ = 0.0
        self.calibration_ = (1.0, 0.0)
        X = self._design(texts, readable_texts)
        unknown = sorted(set(labels) - set(LABELS))
        if unknown:
            raise EnrichError(f"unknown sharing labels {unknown}; use {', '.join(LABELS)}")
        y = np.array([self.classes_.index(lab) for lab in labels])
        d = X.shape[1]
        k = len(self.classes_)
        Y = np.eye(k)[y]
        sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
        if self.class_weight == "balanced":
            tot = np.bincount(y, weights=sw, minlength=k)
            w_class = np.where(tot > 0, sw.sum() / (k * np.maximum(tot, 1e-12)), 0.0)
            sw = sw * w_class[y]
        XT = X.T.tocsr()

        def loss(theta):
            W = theta[: d * k].reshape(d, k)
            b = theta[d * k:]
            Z = X @ W + b
            Z -= Z.max(axis=1, keepdims=True)
            logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
            f = -(sw * (Y * logp).sum(axis=1)).sum() + 0.5 / self.C * (W * W).sum()
            G = (np.exp(logp) - Y) * sw[:, None]
            gW = XT @ G + W / self.C
            return f, np.concatenate([gW.ravel(), G.sum(axis=0)])

        res = minimize(loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B",
                       options={"maxiter": 3000})
        self.coef_ = res.x[: d * k].reshape(d, k)
        self.intercept_ = res.x[d * k:]
        self.n_iter_ = int(res.nit)
        return self

    def _logits(self, X) -> np.ndarray:
        return np.asarray(X @ self.coef_) + self.intercept_

    @staticmethod
    def _softmax(Z: np.ndarray) -> np.ndarray:
        Z = Z - Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        return P / P.sum(axis=1, keepdims=True)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities of the logistic regression (columns in ``classes_`` order)."""
        return self._softmax(self._logits(self._design(texts)))

    def _label_score(self, X) -> tuple[list[str], np.ndarray]:
        Z = self._logits(X)
        P = self._softmax(Z)
        Zl = Z.copy()
        Zl[:, self.classes_.index("MIXED")] += self.mixed_bias_
        labels = [self.classes_[i] for i in Zl.argmax(axis=1)]
        return labels, self.calibrate(P[:, self.classes_.index("PERSONAL")]
                                      + P[:, self.classes_.index("MIXED")])

    def calibrate(self, p: np.ndarray) -> np.ndarray:
        """The calibrated score of a raw P(PERSONAL) + P(MIXED) (Platt scaling on its logit)."""
        a, b = self.calibration_
        q = np.clip(np.asarray(p, float), 1e-9, 1 - 1e-9)
        return 1.0 / (1.0 + np.exp(-(a * np.log(q / (1 - q)) + b)))

    def predict(self, texts: Sequence[str]) -> list[str]:
        return self._label_score(self._design(texts))[0]

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probability that the post shares private life (PERSONAL or MIXED)."""
        return self._label_score(self._design(texts))[1]

    # -- persistence ------------------------------------------------------------------------
    def to_dict(self, provenance: dict | None = None) -> dict:
        return {
            "format": FORMAT,
            "params": {"C": self.C, "min_df": self.min_df,
                       "ngram_range": list(self.ngram_range), "class_weight": self.class_weight},
            "classes": self.classes_,
            "vocabulary": list(self.vocabulary_),
            "idf": [round(float(v), 6) for v in self.idf_],
            "intercept": [round(float(v), 6) for v in self.intercept_],
            "coef": [[round(float(v), 6) for v in row] for row in self.coef_],
            "mixed_bias": round(float(self.mixed_bias_), 6),
            "calibration": [round(float(v), 6) for v in self.calibration_],
            "provenance": provenance or {},
        }

    @classmethod
    def from_dict(cls, d: dict) -> SharingModel:
        if d.get("format") != FORMAT:
            raise EnrichError(
                f"not a SociaLens sharing model file of this version (format {d.get('format')!r}, "
                f"expected {FORMAT!r}); refit it with `python scripts/train_sharing.py`"
            )
        params = dict(d["params"])
        params["ngram_range"] = tuple(params["ngram_range"])
        m = cls(**params)
        m.classes_ = list(d["classes"])
        m.vocabulary_ = {g: i for i, g in enumerate(d["vocabulary"])}
        m.idf_ = np.array(d["idf"], dtype=float)
        m.coef_ = np.array(d["coef"], dtype=float)
        m.intercept_ = np.array(d["intercept"], dtype=float)
        m.mixed_bias_ = float(d.get("mixed_bias", 0.0))
        m.calibration_ = tuple(float(v) for v in d.get("calibration", (1.0, 0.0)))
        if m.coef_.shape != (len(m.vocabulary_), len(m.classes_)):
            raise EnrichError("corrupt sharing model file: coefficient shape does not match")
        m.provenance_ = d.get("provenance", {})
        return m


@lru_cache(maxsize=1)
def shipped_model() -> SharingModel:
    """The model fitted on the whole DEV set, as shipped in the package."""
    path = resources.files("socialens.enrich").joinpath("data", "sharing_model.json")
    return SharingModel.from_dict(json.loads(path.read_text("utf-8")))


def classify_sharing(
    texts: Sequence[str | None],
    method: str = "model",
    *,
    readable_texts: Sequence[str | None] | None = None,
) -> dict[str, list]:
    """``personal_score`` (0..1) and ``sharing_label`` of each text (``None`` for ``None``).

    ``readable_texts``, optional, are :func:`socialens.text.readable` of each text, when the
    caller has them already.
    """
    if method not in METHODS:
        raise EnrichError(f"unknown sharing method {method!r}; use one of {', '.join(METHODS)}")
    idx = [i for i, t in enumerate(texts) if t is not None]
    score: list = [None] * len(texts)
    label: list = [None] * len(texts)
    if idx:
        sub = [texts[i] for i in idx]
        if method == "model":
            m = shipped_model()
            sub_readable = None if readable_texts is None else [readable_texts[i] for i in idx]
            # computed once: label and score both come from it
            lab, s = m._label_score(m._design(sub, sub_readable))
        else:
            lab, s = BaselineSharingClassifier().label_score(sub)  # the cues once
        for i, v, lab_i in zip(idx, np.asarray(s, dtype=float).tolist(), lab, strict=True):
            score[i] = min(1.0, max(0.0, round(v, 6))) if math.isfinite(v) else None
            label[i] = lab_i
    return {"personal_score": score, "sharing_label": label}
