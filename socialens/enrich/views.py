"""One reading of each post's text for all the features of a batch.

Every feature starts from the same few views of a post, and :mod:`socialens.text` computes each of
them with its own pass of the same patterns: :func:`~socialens.text.readable` (decoded, URLs
replaced), ``strip_entities(view, url=None, mention=" ", hashtag=" ")`` (language identification
and the style markers), the view with mentions as ``@user`` (tone) and
:func:`~socialens.text.scan` (the entities: decodes and cuts the URLs again). :func:`read_texts`
computes all of them at once, with the patterns and rules of :mod:`socialens.text` and nothing
else, so that every value is the one those functions give (``tests/enrich/test_views.py`` checks
this on the test corpora and on random texts):

* the text is decoded once and the URL pattern runs once: its matches are the URLs of
  :func:`~socialens.text.scan` and the rest is :func:`~socialens.text.readable`;
* each pattern is tried only where a match can begin (a URL at ``http``, ``pic.`` or ``www.``
  in any case, a mention at ``@``, a hashtag at ``#``), with ``pattern.match(text, i)``: Python's
  regex engine has no fast scan for case-insensitive or look-behind-led patterns and runs their
  look-behinds at every position otherwise. The look-behinds still see the characters before
  ``i`` (``match(s, i)`` is not ``match(s[i:])``), so the matches are those of ``finditer``;
* the generic mention pattern runs once for both replacements (the same matches replaced by
  ``" "`` and by ``"@user"``) and, off Twitter, for the mentions of the scan too; the hashtag
  pattern runs once when no mention was replaced (the texts it reads are then the same).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from socialens.text import (
    HASHTAG_RE,
    MENTION_RE,
    TWITTER_MENTION_RE,
    TWITTER_PLATFORMS,
    URL_RE,
    _tags,
    _trim_url,
    decode_entities,
    normalize_hashtag,
)

__all__ = ["TextViews", "read_texts"]

#: The only character that lower-cases to two (``İ`` -> ``i̇``): then ``text.lower()``'s indices
#: are not the text's.
_LONG_LOWER = "\u0130"
#: ``i`` also matches these case-insensitively (U+0130, U+0131); no other letter of the URL
#: starts (``http``, ``pic.``, ``www.``) has such a partner (``tests/enrich/test_views.py``).
_DOTLESS_I = "\u0131"
_NOT_URLS = ("http://", "https://", "www.")


@dataclass
class TextViews:
    """The views of each text of a batch (``None`` for a ``None`` text) and its scan.

    ``readable[i]`` is ``readable(texts[i])``, ``stripped[i]`` is ``strip_entities(readable[i],
    url=None, mention=" ", hashtag=" ")``, ``neutral[i]`` is ``neutral_mentions(readable[i],
    "@user")``; ``urls``, ``hashtags``, ``mentions`` are ``scan(texts[i], platforms[i])``'s lists.
    """

    readable: list
    stripped: list
    neutral: list
    urls: list
    hashtags: list
    mentions: list


def _url_start(text: str, low: str, start: int) -> int:
    """The first position from ``start`` where a URL match can begin (``low`` is
    ``text.lower()``, the text has no ``İ``): an ``http``, ``pic.`` or ``www.`` in any case;
    ``len(text)`` when there is none."""
    end = len(text)
    for head in ("http", "pic.", "www."):
        i = low.find(head, start, end)
        if i >= 0:
            end = i
    if _DOTLESS_I in text:
        i = low.find("p\u0131c.", start, end)
        if i >= 0:
            end = i
    return end


def _at(text: str, a: str, b: str, start: int) -> int:
    """The first position from ``start`` of the character ``a`` or ``b``; -1 when neither is
    there."""
    i, j = text.find(a, start), text.find(b, start)
    return i if j < 0 or 0 <= i < j else j


def _matches(match, text: str, a: str, b: str) -> list:
    """``list(pattern.finditer(text))`` for a pattern whose matches begin with the character
    ``a`` or ``b`` (``match`` is its ``.match``): tried only where one of them is. The next match
    of ``finditer`` is the first that begins at or after the end of the previous one, and a
    match of the pattern at a position is the same whether the search starts there or earlier.
    """
    out = []
    if b in text:
        i = _at(text, a, b, 0)
        while i >= 0:
            m = match(text, i)
            if m is None:
                i = _at(text, a, b, i + 1)
            else:
                out.append(m)
                i = _at(text, a, b, m.end())
        return out
    find = text.find  # the usual case: only ``a``
    i = find(a)
    while i >= 0:
        m = match(text, i)
        if m is None:
            i = find(a, i + 1)
        else:
            out.append(m)
            i = find(a, m.end())
    return out


def _url_matches(text: str, low: str) -> list:
    """``list(URL_RE.finditer(text))``, tried only where a URL can begin (see
    :func:`_url_start`)."""
    if _LONG_LOWER in text:
        return list(URL_RE.finditer(text))
    match = URL_RE.match
    out = []
    n = len(text)
    i = _url_start(text, low, 0)
    while i < n:
        m = match(text, i)
        if m is None:
            i = _url_start(text, low, i + 1)
        else:
            out.append(m)
            i = _url_start(text, low, m.end())
    return out


def read_texts(texts: Sequence[str | None], platforms: Sequence[str] | None = None) -> TextViews:
    """The views and the scan of each text (see :class:`TextViews`); ``platforms[i]`` chooses the
    mention rule of text ``i``'s scan as in :func:`socialens.text.scan`."""
    n = len(texts)
    platforms = platforms if platforms is not None else [""] * n
    views: list = []
    stripped: list = []
    neutral: list = []
    all_urls: list = []
    all_tags: list = []
    all_mentions: list = []
    mention_match = MENTION_RE.match
    twitter_match = TWITTER_MENTION_RE.match
    tag_match = HASHTAG_RE.match
    for text, platform in zip(texts, platforms, strict=True):
        if text is None:
            views.append(None)
            stripped.append(None)
            neutral.append(None)
            all_urls.append([])
            all_tags.append([])
            all_mentions.append([])
            continue
        d = decode_entities(text) if "&" in text else text
        # URLs: readable() and scan()'s first step, from one pass of the pattern
        low = d.lower()
        urls: list = []
        if "http" in low or "www." in low or "pic.twitter.com/" in low:  # text._has_url
            pieces = []
            end = 0
            for m in _url_matches(d, low):
                pieces.append(d[end:m.start()])
                end = m.end()
                u = _trim_url(m.group(0))
                if u and u.lower() not in _NOT_URLS:
                    urls.append(u)
            pieces.append(d[end:])
            view = " ".join(pieces)
        else:
            view = d
        # mentions: replaced by " " (stripped) and by "@user" (tone), and the scan's
        mentions: list = []
        at_matches: list = []
        if "@" in view or "\uff20" in view:
            at_matches = _matches(mention_match, view, "@", "\uff20")
            twitter = platform in TWITTER_PLATFORMS
            for m in (_matches(twitter_match, view, "@", "\uff20") if twitter else at_matches):
                h = m.group(1)
                if not twitter:
                    h = h.rstrip(".-")
                if h:
                    mentions.append(h.lower())
        if at_matches:
            pieces = []
            end = 0
            for m in at_matches:
                pieces.append(view[end:m.start()])
                end = m.end()
            pieces.append(view[end:])
            no_mentions = " ".join(pieces)
            neutral.append("@user".join(pieces))
        else:
            no_mentions = view
            neutral.append(view)
        # hashtags: the scan's (of the view) and stripped (of the view without mentions)
        tags: list = []
        if "#" in view or "\uff03" in view:
            tag_matches = _matches(tag_match, view, "#", "\uff03")
            for m in tag_matches:
                tags.extend(normalize_hashtag(tag) for tag in _tags(m.group(0)))
            if at_matches:
                tag_matches = _matches(tag_match, no_mentions, "#", "\uff03")
            pieces = []
            end = 0
            for m in tag_matches:
                if _tags(m.group(0)):
                    pieces.append(no_mentions[end:m.start()])
                    end = m.end()
            pieces.append(no_mentions[end:])
            stripped.append(" ".join(pieces))
        else:
            stripped.append(no_mentions)
        views.append(view)
        all_urls.append(urls)
        all_tags.append(tags)
        all_mentions.append(mentions)
    return TextViews(views, stripped, neutral, all_urls, all_tags, all_mentions)
