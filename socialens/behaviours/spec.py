"""Behaviour specifications: what a person can start doing, parsed from the CLI/API.

A :class:`Behaviour` names one behaviour (``hashtag:#abetterdeal``, ``topic:tax``, ``platform``,
``personal``, ``tone:negative`` or a user predicate); :func:`parse_specs` turns the strings users
type into behaviours. ``top-hashtags:N`` is a *selector*, not a behaviour: it expands to the N
hashtags with the most adopters once the workspace is known (:func:`socialens.behaviours.first_use`
does that).

=================================  ===============================================================
spec                               behaviour
=================================  ===============================================================
``platform``                       joining the platform: the earliest ``created_at`` of the person's
                                   personal accounts, else their first record post
``hashtag:#ABetterDeal``           first record post carrying the hashtag (case-folded, ``#``
                                   optional; the ``post_entities`` of kind ``hashtag``)
``top-hashtags:50``                each of the 50 hashtags used by the most people (in the window)
``topic:tax=tax cut,tax reform``   first post whose text contains one of the keywords (whole words,
                                   case-insensitive)
``topic:tax=/tax (cut|reform)s?/`` the same with a regular expression (between slashes)
``personal``                       first post the sharing model labels ``PERSONAL``
                                   (``personal:mixed`` also counts ``MIXED``)
``tone:negative``                  first clearly negative post: VADER compound <= -0.5
                                   (``tone:positive``: >= 0.5; ``tone:negative=-0.3``: another cut)
=================================  ===============================================================

A user predicate is Python only: ``Behaviour("angry", predicate=_.tone_neg > 0.4)`` with an ibis
deferred expression (or a function of the table) over posts joined with their features.

Examples
--------
>>> [b.name for b in parse_specs(["hashtag:#ABetterDeal", "topic:tax=tax cut,tax reform", "platform"])]
['hashtag:#abetterdeal', 'topic:tax', 'platform']
>>> parse_specs("top-hashtags:5")
[TopHashtags(n=5)]
>>> parse_specs("tone:negative")[0].threshold
-0.5
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from socialens.errors import AnalysisError

__all__ = ["Behaviour", "TopHashtags", "BehaviourError", "parse_spec", "parse_specs", "KINDS",
           "topic_pattern", "DEFAULT_SPECS"]

#: Behaviour kinds.
KINDS = ("platform", "hashtag", "topic", "personal", "tone", "predicate")
#: What analyses use when no behaviour is given.
DEFAULT_SPECS = ("top-hashtags:20",)

_HELP = ("use 'platform', 'hashtag:#tag', 'top-hashtags:N', 'topic:name=word,other words' "
         "(or topic:name=/regex/), 'personal', 'personal:mixed', 'tone:negative', "
         "'tone:positive' or 'tone:negative=-0.3'")


class BehaviourError(AnalysisError):
    """A behaviour specification is not understood, or cannot be computed on this workspace."""


def topic_pattern(keywords: Iterable[str]) -> str:
    """A case-insensitive regular expression matching any keyword as whole words.

    Spaces inside a keyword match any run of white space; the pattern is valid in RE2 (DuckDB)
    and Java (Spark).

    >>> topic_pattern(["tax cut", "reform"])
    '(?i)(\\\\btax\\\\s+cut\\\\b|\\\\breform\\\\b)'
    """
    from socialens.text import normalize_apostrophes

    parts = []
    for k in keywords:
        words = normalize_apostrophes(k).split()
        if words:
            parts.append(r"\b" + r"\s+".join(re.escape(w) for w in words) + r"\b")
    if not parts:
        raise BehaviourError("a topic needs at least one keyword; " + _HELP)
    return "(?i)(" + "|".join(parts) + ")"


@dataclass(frozen=True)
class Behaviour:
    """One behaviour.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    name : str
        The behaviour's name in every output (``hashtag:#tag``, ``topic:tax``, ...).
    value : str, optional
        The hashtag (case-folded, without ``#``), or the topic's regular expression.
    threshold : float, optional
        The tone cut (``tone``).
    labels : tuple of str
        The sharing labels that count (``personal``).
    predicate : ibis deferred or callable, optional
        For ``predicate`` behaviours: a boolean expression over posts joined with their features
        (``_.tone_compound < -0.8``), or a function ``table -> boolean column``.
    """

    kind: str
    name: str
    value: str | None = None
    threshold: float | None = None
    labels: tuple[str, ...] = ()
    predicate: Any = field(default=None, compare=False, hash=False)

    def __init__(self, name: str, *, kind: str | None = None, value: str | None = None,
                 threshold: float | None = None, labels: tuple[str, ...] = (),
                 predicate: Any = None):
        kind = kind or ("predicate" if predicate is not None else None)
        if kind is None:
            raise BehaviourError(f"Behaviour({name!r}) needs a kind or a predicate; or write a "
                                 "spec string: " + _HELP)
        if kind not in KINDS:
            raise BehaviourError(f"unknown behaviour kind {kind!r}; kinds: {', '.join(KINDS)}")
        if kind == "predicate" and predicate is None:
            raise BehaviourError(f"behaviour {name!r}: a predicate behaviour needs predicate=")
        if kind == "predicate" and not name.startswith("predicate:"):
            name = f"predicate:{name}"
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "threshold", threshold)
        object.__setattr__(self, "labels", tuple(labels))
        object.__setattr__(self, "predicate", predicate)

    @property
    def needs_features(self) -> bool:
        """Whether the behaviour reads ``post_features`` (run ``socialens enrich`` first)."""
        return self.kind in ("personal", "tone", "predicate")

    def __repr__(self) -> str:
        return f"Behaviour({self.name!r})"


@dataclass(frozen=True)
class TopHashtags:
    """The selector ``top-hashtags:N``: the N hashtags with the most adopters."""

    n: int


def _hashtag(value: str) -> Behaviour:
    from socialens.text import normalize_hashtag

    tag = normalize_hashtag(value.strip().lstrip("#＃"))
    if not tag:
        raise BehaviourError(f"hashtag:{value!r}: no hashtag given; e.g. hashtag:#ABetterDeal")
    return Behaviour(f"hashtag:#{tag}", kind="hashtag", value=tag)


def parse_spec(spec: str | Behaviour | TopHashtags) -> Behaviour | TopHashtags:
    """Parse one spec string (see the module docstring); behaviours pass through."""
    if isinstance(spec, Behaviour | TopHashtags):
        return spec
    if not isinstance(spec, str):
        raise BehaviourError(f"behaviour {spec!r} is not a string; " + _HELP)
    s = spec.strip()
    head, _, rest = s.partition(":")
    head = head.strip().lower()
    rest = rest.strip()
    if head == "platform" and not rest:
        return Behaviour("platform", kind="platform")
    if head == "hashtag":
        return _hashtag(rest)
    if head in ("top-hashtags", "top_hashtags", "tophashtags"):
        try:
            n = int(rest or "20")
        except ValueError:
            n = 0
        if n <= 0:
            raise BehaviourError(f"{spec!r}: N must be a positive whole number, e.g. top-hashtags:50")
        return TopHashtags(n)
    if head == "topic":
        name, eq, words = rest.partition("=")
        name = name.strip()
        if not eq or not name or not words.strip():
            raise BehaviourError(f"{spec!r}: write topic:name=keyword,other keyword "
                                 "or topic:name=/regex/")
        words = words.strip()
        if len(words) >= 2 and words.startswith("/") and words.endswith("/"):
            pattern = words[1:-1]
            try:
                re.compile(pattern)
            except re.error as exc:
                raise BehaviourError(f"{spec!r}: the regular expression is invalid ({exc})") from None
            pattern = pattern if pattern.startswith("(?i)") else "(?i)" + pattern
        else:
            pattern = topic_pattern(w for w in words.split(","))
        return Behaviour(f"topic:{name}", kind="topic", value=pattern)
    if head == "personal":
        if not rest:
            return Behaviour("personal", kind="personal", labels=("PERSONAL",))
        if rest.lower() == "mixed":
            return Behaviour("personal:mixed", kind="personal", labels=("PERSONAL", "MIXED"))
    if head == "tone":
        state, _, cut = rest.partition("=")
        state = state.strip().lower()
        if state in ("negative", "positive"):
            default = -0.5 if state == "negative" else 0.5
            try:
                t = float(cut) if cut.strip() else default
            except ValueError:
                raise BehaviourError(f"{spec!r}: the cut {cut!r} is not a number") from None
            if not -1 <= t <= 1:
                raise BehaviourError(f"{spec!r}: VADER compound scores are between -1 and 1")
            name = f"tone:{state}" if t == default else f"tone:{state}={t:g}"
            return Behaviour(name, kind="tone", value=state, threshold=t)
    raise BehaviourError(f"behaviour {spec!r} is not understood; " + _HELP)


def parse_specs(specs: str | Behaviour | TopHashtags | Iterable[Any] | None
                ) -> list[Behaviour | TopHashtags]:
    """Parse a spec or a list of specs (duplicates dropped, order kept); None means
    :data:`DEFAULT_SPECS`."""
    if specs is None:
        specs = DEFAULT_SPECS
    if isinstance(specs, str | Behaviour | TopHashtags):
        specs = [specs]
    out: list = []
    for s in specs:
        b = parse_spec(s)
        if b not in out:
            out.append(b)
    if not out:
        raise BehaviourError("no behaviour given; " + _HELP)
    return out

