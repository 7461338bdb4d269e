"""Entities found in post text: hashtags, mentions (resolved to accounts), URLs, domains, media.

Ingest stores the entities a source lists explicitly (X API entities, Mastodon tags, Bluesky
facets, ``posts.jsonl`` ``hashtags``/``mentions``/``urls``) and, for a source that gives none (a
scrape, the congresstweets archive, a feed), those found in the text. Enrichment finds them in the
text too, with the same function (:func:`socialens.text.scan`), and adds them with insert-or-ignore
on the ``post_entities`` key ``(post_id, kind, value)``: for a post whose entities ingest read from
its text, enrichment adds no hashtag, mention or URL. It adds the derived kinds:

========================  ======================================================================
kind                      value
========================  ======================================================================
``hashtag``               case-folded, without ``#`` (``#HonorOurHeroes`` -> ``honorourheroes``)
``mention``               handle, lower-case, without ``@``
``mention_account``       the ``account_id`` a mention resolves to: an account of the workspace on
                          the post's platform whose handle matches (case-insensitively)
``url``                   the URL as written, trailing punctuation removed
``domain``                host of each URL (lower-case, no ``www.``), from the expanded URLs the
                          source gave when there are any; links through Twitter's ``t.co``
                          shortener are not expanded (no network access) and give no domain
``media``                 a media link (``pic.twitter.com/...``, ``.../photo/1``, ``.../video/1``,
                          image files)
========================  ======================================================================

URLs glued to the previous word (``#HonorOurHeroeshttps://t.co/x``, ``#taxreformpic.twitter.com/a``,
a real quirk of Twitter scrapes) are split off before hashtags and mentions are read (see
:mod:`socialens.text`).

Examples
--------
>>> e = extract_entities(["#HonorOurHeroeshttps://t.co/Ab1 w/ @RoyBlunt pic.twitter.com/xYz"],
...                      platforms=["twitter"], handles={("twitter", "royblunt"): "twitter:1"})
>>> sorted(e.rows[0])  # doctest: +NORMALIZE_WHITESPACE
[('hashtag', 'honorourheroes'), ('media', 'pic.twitter.com/xYz'), ('mention', 'royblunt'),
 ('mention_account', 'twitter:1'), ('url', 'https://t.co/Ab1'), ('url', 'pic.twitter.com/xYz')]
>>> e.has_media
[True]
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from socialens.text import scan, url_domain

__all__ = ["ENTITY_KINDS", "SHORTENERS", "Entities", "extract_entities", "is_media_url"]

ENTITY_KINDS = ("hashtag", "mention", "mention_account", "url", "domain", "media")
#: Link shorteners whose target cannot be known offline: no ``domain`` row for them.
SHORTENERS = frozenset({"t.co"})

_ID_RE = re.compile(r"^[a-z][a-z0-9_-]*:.+")
_MEDIA_RE = re.compile(
    r"(?:^|//)pic\.twitter\.com/|/(?:photo|video)/\d+/?$|\.(?:jpe?g|png|gif|webp|mp4|mov)(?:[?#]|$)"
    r"|(?:^|//)(?:i\.imgur\.com|pbs\.twimg\.com|video\.twimg\.com|instagram\.com/p/)",
    re.IGNORECASE,
)


#: A link of Twitter's shortener as :mod:`socialens.text` finds it (an alphanumeric id):
#: :func:`url_domain` gives ``t.co`` (in :data:`SHORTENERS`) and :data:`_MEDIA_RE` cannot match
#: (no ``pic.twitter.com/``, no second ``/``, no ``.`` but the host's, no media host), so such a
#: URL adds no row; checked against the general rule in ``tests/enrich/test_entities.py``.
_TCO_RE = re.compile(r"https?://t\.co/[a-z0-9]+", re.IGNORECASE)


def is_media_url(url: str) -> bool:
    """Whether ``url`` points at a photo or video.

    >>> is_media_url("https://twitter.com/x/status/1/photo/1"), is_media_url("http://t.co/a")
    (True, False)
    """
    return bool(_MEDIA_RE.search(url))


@dataclass
class Entities:
    """Entities of a batch: ``rows[i]`` is the set of ``(kind, value)`` of text ``i``."""

    rows: list[set[tuple[str, str]]] = field(default_factory=list)
    has_media: list[bool] = field(default_factory=list)


def extract_entities(
    texts: Sequence[str | None],
    *,
    platforms: Sequence[str] | None = None,
    handles: Mapping[tuple[str, str], str] | None = None,
    known_urls: Sequence[Sequence[str] | None] | None = None,
    known_mentions: Sequence[Sequence[str] | None] | None = None,
    scans: tuple[Sequence[list[str]], Sequence[list[str]], Sequence[list[str]]] | None = None,
) -> Entities:
    """Find the entities of each text.

    Parameters
    ----------
    texts : sequence of str or None
    platforms : sequence of str, optional
        The platform of each post (the prefix of its ``post_id``); used to resolve mentions.
    handles : mapping, optional
        ``{(platform, handle_lower): account_id}`` of the workspace's accounts.
    known_urls, known_mentions : sequences of lists, optional
        URLs and mentions already stored for each post (from ingest): their domains, media flags
        and account resolution are added too.
    scans : (urls, hashtags, mentions), optional
        :func:`socialens.text.scan`'s three lists of each text, when the caller has them already
        (:func:`socialens.enrich.views.read_texts`).
    """
    n = len(texts)
    platforms = platforms if platforms is not None else [""] * n
    handles = handles or {}
    known_urls = known_urls if known_urls is not None else [None] * n
    known_mentions = known_mentions if known_mentions is not None else [None] * n
    if scans is None:
        found = [scan(t, p) if t else None for t, p in zip(texts, platforms, strict=True)]
        scans = ([f.urls if f else [] for f in found], [f.hashtags if f else [] for f in found],
                 [f.mentions if f else [] for f in found])
    out = Entities()
    rows = out.rows
    has_media = out.has_media
    tco = _TCO_RE.fullmatch
    for platform, urls, tags, mentions, kurls, kments in zip(
        platforms, *scans, known_urls, known_mentions, strict=True
    ):
        ents: set[tuple[str, str]] = {("url", u) for u in urls}
        ents.update([("hashtag", h) for h in tags])
        ents.update([("mention", h) for h in mentions])
        media = False
        for u in (urls + list(kurls) if kurls else urls):
            if tco(u):  # Twitter's shortener: no domain, no media (see _TCO_RE)
                continue
            d = url_domain(u)
            if d and d not in SHORTENERS and not d.endswith("pic.twitter.com"):
                ents.add(("domain", d))
            if is_media_url(u):
                ents.add(("media", u))
                media = True
        for h in (mentions + [m for m in kments if m] if kments else mentions):
            if ":" in h and _ID_RE.match(h):  # an account id (the pattern needs a ":")
                ents.add(("mention_account", h))
                continue
            acc = handles.get((platform, h.lower()))
            if acc is not None:
                ents.add(("mention_account", acc))
        rows.append(ents)
        has_media.append(media)
    return out
