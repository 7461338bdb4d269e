"""Text preparation shared by the enrichment modules.

Post text arrives as the platform gave it: HTML entities left encoded by many scrapes (``&amp;``,
``&lt;3``), URLs (sometimes glued to the previous word: ``#HonorOurHeroeshttps://t.co/x``),
@mentions and #hashtags. Each feature needs a different view of the same text, so this module
only *finds* those parts; it never lower-cases, strips punctuation or removes emoji, because VADER
reads case, punctuation, emoji and emoticons.

Examples
--------
>>> unescape("Mom &amp; Dad &lt;3")
'Mom & Dad <3'
>>> iter_urls("#HonorOurHeroeshttps://t.co/AbC. Next")
['https://t.co/AbC']
>>> strip_entities("Thanks @RoyBlunt for #TheDay http://t.co/x", mention="@user")
'Thanks @user for #TheDay  '
"""

from __future__ import annotations

import html
import re

__all__ = [
    "URL_RE",
    "MENTION_RE",
    "HASHTAG_RE",
    "unescape",
    "readable",
    "find_urls",
    "iter_urls",
    "strip_urls",
    "strip_entities",
    "url_domain",
]

# A URL starts at a scheme or "www." anywhere, also glued to the previous word (scrapes lose the
# space before a link), and runs to whitespace. Trailing sentence punctuation and the ellipsis of
# truncated tweets are not part of it. ``pic.twitter.com/...`` is Twitter's media link.
_URL_BODY = r"[^\s<>\"'\u2026\u201c\u201d]+"
URL_RE = re.compile(
    r"(?:https?://|(?<![\w.])www\.|(?<![\w./])pic\.twitter\.com/)" + _URL_BODY, re.IGNORECASE
)
_URL_TRAIL = ".,;:!?)]}*"

# @handle (Twitter: letters, digits, underscore), optionally followed by a domain part
# (Bluesky ``@name.bsky.social``, Mastodon ``@name@instance.social``). Not preceded by a word
# character, so e-mail addresses are not mentions.
MENTION_RE = re.compile(
    r"(?<![\w@])@([A-Za-z0-9_]+(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|(?:\.[A-Za-z0-9-]+)*))"
)

# #hashtag: word characters (Unicode), at least one that is not a digit; not inside a word and not
# an HTML numeric entity (``&#39;``).
HASHTAG_RE = re.compile(r"(?<![\w&#])[#\uFF03](\w*[^\W\d]\w*)")


def unescape(text: str) -> str:
    """Decode HTML entities (``&amp;`` -> ``&``, ``&lt;3`` -> ``<3``); other text is unchanged."""
    if "&" not in text:
        return text
    return html.unescape(text)


def find_urls(text: str) -> list[re.Match]:
    """URL matches in ``text``, with trailing punctuation trimmed (see :data:`URL_RE`)."""
    return list(URL_RE.finditer(text))


def _clean_url(url: str) -> str:
    url = url.rstrip(_URL_TRAIL)
    return url


def iter_urls(text: str) -> list[str]:
    """The URLs in ``text`` as strings, trailing punctuation removed."""
    out = []
    for m in URL_RE.finditer(text):
        u = _clean_url(m.group(0))
        if u:
            out.append(u)
    return out


def strip_urls(text: str, replacement: str = " ") -> str:
    """``text`` with every URL replaced by ``replacement`` (a space by default)."""
    if "http" not in text.lower() and "www." not in text.lower() and "pic.twitter" not in text:
        return text
    return URL_RE.sub(replacement, text)


def readable(text: str) -> str:
    """``text`` with HTML entities decoded and every URL replaced by a space: the view that tone,
    language identification and the sharing classifier start from (computed once per post).

    >>> readable("Mom &amp; Dad http://t.co/x")
    'Mom & Dad  '
    """
    return strip_urls(unescape(text), " ")


def strip_entities(
    text: str, *, url: str | None = " ", mention: str | None = " ", hashtag: str | None = None
) -> str:
    """Replace URLs, mentions and (optionally) hashtags.

    Parameters
    ----------
    text : str
    url : str or None
        Replacement of each URL; ``None`` keeps URLs (or says they are already removed).
    mention : str or None
        Replacement of each @mention; ``None`` keeps mentions.
    hashtag : str or None
        Replacement of each #hashtag; ``None`` keeps hashtags.
    """
    if url is not None:
        text = strip_urls(text, url)
    if mention is not None and "@" in text:
        text = MENTION_RE.sub(mention, text)
    if hashtag is not None and ("#" in text or "\uFF03" in text):
        text = HASHTAG_RE.sub(hashtag, text)
    return text


def url_domain(url: str) -> str | None:
    """The host of ``url``, lower-case, without ``www.`` and port; ``None`` if there is none.

    >>> url_domain("https://WWW.Senate.gov:443/path?q=1")
    'senate.gov'
    >>> url_domain("pic.twitter.com/abc")
    'pic.twitter.com'
    """
    u = url.strip()
    low = u.lower()
    if "://" in low:
        u = u.split("://", 1)[1]
    host = re.split(r"[/?#]", u, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1].split(":", 1)[0].lower().strip(".")
    if host.startswith("www."):
        host = host[4:]
    if not host or "." not in host:
        return None
    return host
