"""Entities found in post text: hashtags, mentions (resolved to accounts), URLs, domains, media.

Ingest stores the entities a source lists explicitly (``posts.jsonl`` ``hashtags``, ``mentions``,
``urls``). Many sources (scrapes, the congresstweets archive) give only the text, so enrichment
finds them in the text as well, with the same normalisation as ingest, and adds them with
insert-or-ignore on the ``post_entities`` key ``(post_id, kind, value)``:

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

URLs glued to the previous word (``#HonorOurHeroeshttps://t.co/x``, a real quirk of Twitter
scrapes) are split off before hashtags and mentions are read.

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

from socialens.enrich.text import HASHTAG_RE, MENTION_RE, URL_RE, unescape, url_domain

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
_URL_TRAIL = ".,;:!?)]}*"


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
    """
    n = len(texts)
    platforms = platforms if platforms is not None else [""] * n
    handles = handles or {}
    known_urls = known_urls if known_urls is not None else [None] * n
    known_mentions = known_mentions if known_mentions is not None else [None] * n
    out = Entities()
    for text, platform, kurls, kments in zip(
        texts, platforms, known_urls, known_mentions, strict=True
    ):
        ents: set[tuple[str, str]] = set()
        urls: list[str] = []
        mentions: list[str] = []
        if text:
            t = unescape(text)
            if "http" in t.lower() or "www." in t.lower() or "pic.twitter" in t:
                for m in URL_RE.finditer(t):
                    u = m.group(0).rstrip(_URL_TRAIL)
                    if u:
                        urls.append(u)
                        ents.add(("url", u))
                t = URL_RE.sub(" ", t)
            if "#" in t or "\uff03" in t:
                for m in HASHTAG_RE.finditer(t):
                    ents.add(("hashtag", m.group(1).casefold()))
            if "@" in t:
                for m in MENTION_RE.finditer(t):
                    h = m.group(1).rstrip(".-").lower()
                    if platform in ("twitter", "x"):  # Twitter handles have no dots or @
                        h = h.split(".", 1)[0].split("@", 1)[0]
                    if h:
                        mentions.append(h)
                        ents.add(("mention", h))
        expanded = list(kurls or ())
        for u in urls + expanded:
            d = url_domain(u)
            if d and d not in SHORTENERS and not d.endswith("pic.twitter.com"):
                ents.add(("domain", d))
            if is_media_url(u):
                ents.add(("media", u))
        for h in mentions + [m for m in (kments or ()) if m]:
            if _ID_RE.match(h):
                ents.add(("mention_account", h))
                continue
            acc = handles.get((platform, h.lower()))
            if acc is not None:
                ents.add(("mention_account", acc))
        out.rows.append(ents)
        out.has_media.append(any(k == "media" for k, _ in ents))
    return out
