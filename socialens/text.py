"""The text layer: the one place that reads post text.

Every part of SociaLens that needs something from a post's text (ingest readers storing
``posts.text`` and ``post_entities``, the enrichment features, the ConvoKit export) calls this
module; no other module parses post text. It owns:

* **decoding**: HTML character references (``&amp;``, ``&#39;``, ``&lt;3``) are decoded to a fixed
  point, so decoding is idempotent and a double-escaped scrape (``&amp;amp;``) reads like the
  original; HTML fragments (Mastodon statuses, feed entries) become visible text
  (:func:`html_to_text`);
* **URLs**: a link starts at ``http://``/``https://`` or ``pic.twitter.com/`` *anywhere*, also
  glued to the previous word (scrapes lose the space before a link: ``#taxreformpic.twitter.com/a``,
  ``#HonorOurHeroeshttps://t.co/x``), or at ``www.`` at the start of a word; it ends at white
  space, a quote (straight or curly), an ellipsis or the start of the next glued link, without
  trailing sentence punctuation. URLs are found and removed **before** hashtags and mentions are
  read, so a glued link never becomes part of a hashtag;
* **hashtags and mentions**, following Twitter's twitter-text conventions (see
  ``docs/methods.md``, "Text layer"), with one normalisation used for text and for the entity
  lists that sources give (:func:`normalize_hashtag`, :func:`normalize_mention`);
* **tokenization**, with one apostrophe rule (curly and modifier apostrophes read as ``'``).

It never lower-cases the text itself, strips punctuation or removes emoji: VADER reads case,
punctuation, emoji and emoticons.

Examples
--------
>>> decode_entities("Mom &amp;amp; Dad &lt;3")
'Mom & Dad <3'
>>> text_entities("Proud of them #HonorOurHeroeshttps://t.co/AbC &amp; .@SenAlexander", "twitter")
[('hashtag', 'honorourheroes'), ('mention', 'senalexander'), ('url', 'https://t.co/AbC')]
>>> text_entities("Our plan #taxreformpic.twitter.com/abc1")
[('hashtag', 'taxreform'), ('url', 'pic.twitter.com/abc1')]
>>> tokenize("Don’t read #hashtags, @mentions or http://t.co/x &amp; años")
["Don't", 'read', 'or', 'años']
"""

from __future__ import annotations

import html
import html.entities
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = [
    "URL_RE",
    "HASHTAG_RE",
    "MENTION_RE",
    "TWITTER_MENTION_RE",
    "TWITTER_PLATFORMS",
    "APOSTROPHES",
    "decode_entities",
    "html_to_text",
    "find_urls",
    "strip_urls",
    "readable",
    "strip_entities",
    "neutral_mentions",
    "Scan",
    "scan",
    "scan_many",
    "scan_value",
    "text_entities",
    "entity_rows",
    "normalize_hashtag",
    "normalize_mention",
    "normalize_url",
    "normalize_apostrophes",
    "tokenize",
    "url_domain",
    "words",
]

# ---------------------------------------------------------------------------------------------
# HTML entities

_HTML5 = html.entities.html5
# A character reference with its semicolon: decimal, hexadecimal or named. References without the
# semicolon (``&copy``, ``&notice``) are left alone: HTML5 decodes some of them, which turns
# "AT&T&notice" into "AT&T¬ice"; the platforms always write the semicolon.
_CHARREF = re.compile(r"&(?:#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[A-Za-z][A-Za-z0-9]{1,31});")


def _charref(m: re.Match) -> str:
    s = m.group(0)
    if s[1] == "#":
        return html.unescape(s)  # HTML5's rules for invalid and replaced code points
    return _HTML5.get(s[1:], s)


def decode_entities(text: str | None) -> str | None:
    """Decode HTML character references to a fixed point (idempotent); other text is unchanged.

    Twitter's v1.1/v2 texts escape ``&``, ``<`` and ``>``; many scrapes keep ``&amp;`` and
    ``&#39;``, some escape twice (``&amp;amp;``). Decoding repeats until nothing changes, so
    ``decode_entities(decode_entities(t)) == decode_entities(t)``. A reference must end with ``;``.

    >>> decode_entities("R&amp;D &#39;24 &lt;3 &amp;amp; AT&T &copy &bogus;")
    "R&D '24 <3 & AT&T &copy &bogus;"
    """
    if not text or "&" not in text:
        return text
    while True:
        new = _CHARREF.sub(_charref, text)
        if new == text:
            return new
        text = new
        if "&" not in text:
            return text


class _TextExtractor(HTMLParser):
    _BLOCK = {"p", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "tr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self._BLOCK and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n\n")
        # Mastodon wraps the hidden part of long URLs in <span class="invisible">: keep the text
        # (it is part of the URL), which is what a reader copying the link would get.

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


_BLANKS = re.compile(r"\n{3,}")


def html_to_text(value: str | None) -> str | None:
    """Visible text of an HTML fragment: paragraphs separated by a blank line, ``<br>`` kept.

    >>> html_to_text('<p>Hi <a href="https://x.org/@a" class="u-url mention">@<span>a</span></a> &amp; all</p><p>#Tag</p>')
    'Hi @a & all\\n\\n#Tag'
    """
    if value is None:
        return None
    if "<" not in value and "&" not in value:
        return value
    p = _TextExtractor()
    p.feed(value)
    p.close()
    text = "".join(p.parts)
    return _BLANKS.sub("\n\n", text).strip()


# ---------------------------------------------------------------------------------------------
# URLs

# A URL starts at a scheme or ``pic.twitter.com/`` anywhere (also glued to the previous word), or
# at ``www.`` + a domain label + ``.`` at the start of a word; it runs to white space, a quote, an
# ellipsis, an angle bracket or the start of the next glued URL.
_URL_STOP = "\\s<>\"'\u2018\u2019\u201c\u201d\u00ab\u00bb\u2026"
_URL_START = r"(?:https?://|pic\.twitter\.com/|(?<![\w.@-])www\.(?=[a-z0-9-]+\.))"
# Twitter's own short links (``t.co/<id>``, ``pic.twitter.com/<id>``) have alphanumeric ids, so they
# end at the first other character (twitter-text): ``https://t.co/Ab1#svpol`` is a link and a tag.
URL_RE = re.compile(
    r"(?:https?://t\.co|pic\.twitter\.com)/(?:(?!https?://|pic\.twitter\.com/)[a-z0-9])+"
    r"(?:[.,;:!?*)\]}-]+(?![^" + _URL_STOP + r"]))?"  # sentence punctuation up to a space goes too
    r"|" + _URL_START + r"(?:(?!https?://|pic\.twitter\.com/)[^" + _URL_STOP + r"])+",
    re.IGNORECASE,
)
#: Trailing characters that end a sentence rather than a URL.
_URL_TRAIL = ".,;:!?*-]}"


def _trim_url(url: str) -> str:
    """``url`` without trailing sentence punctuation; a ``)`` closing a ``(`` of the URL stays."""
    while url:
        c = url[-1]
        if c == ")":
            if url.count("(") >= url.count(")"):
                break
        elif c not in _URL_TRAIL:
            break
        url = url[:-1]
    return url


def _has_url(text: str) -> bool:
    low = text.lower()
    return "http" in low or "www." in low or "pic.twitter.com/" in low


def find_urls(text: str) -> list[str]:
    """The URLs in (decoded) ``text``, in order, trailing punctuation removed.

    >>> find_urls('“https://t.co/x” and www.senate.gov. #Tagpic.twitter.com/Ab1 (see http://x.org/a_(b))')
    ['https://t.co/x', 'www.senate.gov', 'pic.twitter.com/Ab1', 'http://x.org/a_(b)']
    """
    if not _has_url(text):
        return []
    return _urls_and_rest(text)[0]


def _urls_and_rest(text: str) -> tuple[list[str], str]:
    """:func:`find_urls` and ``URL_RE.sub(" ", text)`` from one pass of the URL pattern."""
    out = []
    pieces = []
    end = 0
    for m in URL_RE.finditer(text):
        pieces.append(text[end:m.start()])
        end = m.end()
        u = _trim_url(m.group(0))
        if u and u.lower() not in ("http://", "https://", "www."):
            out.append(u)
    pieces.append(text[end:])
    return out, " ".join(pieces)


def strip_urls(text: str, replacement: str = " ") -> str:
    """``text`` with every URL replaced by ``replacement`` (a space by default)."""
    if not _has_url(text):
        return text
    return URL_RE.sub(replacement, text)


def readable(text: str) -> str:
    """``text`` decoded and with every URL replaced by a space: the view that tone, language
    identification and the sharing classifier start from (computed once per post).

    >>> readable("Mom &amp; Dad http://t.co/x")
    'Mom & Dad  '
    """
    return strip_urls(decode_entities(text), " ")


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


# ---------------------------------------------------------------------------------------------
# hashtags and mentions


def _mark_class() -> str:
    """A regex class body of the combining marks (Unicode categories Mn, Mc, Me) of the BMP:
    Python's ``\\w`` does not contain them, twitter-text's hashtags do (Indic, Thai, Hebrew
    points, decomposed accents)."""
    ranges: list[list[int]] = []
    for cp in range(0x300, 0x10000):
        if unicodedata.category(chr(cp))[0] == "M":
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    return "".join(
        f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges
    )


_MARKS = _mark_class()
# #hashtag (twitter-text): after a character that is not a letter, mark, digit, ``_`` or ``&``
# (``&#39;`` is no hashtag); letters, marks, digits, ``_`` and the zero-width (non-)joiner, at
# least one letter or mark (``#1`` is none); not followed by ``://``. An emoji's variation selector
# (U+FE0E/U+FE0F, a mark) may precede it (``❤️#tag``). Deviation: hashtags glued
# together (``#DrainTheSwamp#NewGOP``, as scrapes that lose the space before a link write them) are
# each a hashtag, where twitter-text finds none. HASHTAG_RE matches such a run of glued tags.
_TAG_CHAR = rf"[\w{_MARKS}\u200c\u200d]"
HASHTAG_RE = re.compile(
    rf"(?:(?<![\w{_MARKS}&])|(?<=[\uFE0E\uFE0F]))(?:[#\uFF03]{_TAG_CHAR}*+)+(?!://)"
)
_TAG_PIECE = re.compile(rf"[#\uFF03]({_TAG_CHAR}*+)")
_TAG_LETTER = re.compile(rf"[^\W\d_]|[{_MARKS}]")


def _tags(run: str) -> list[str]:
    """The hashtags of a run matched by :data:`HASHTAG_RE` (as written)."""
    if run.count("#") + run.count("\uff03") == 1:
        tag = run[1:]
        return [tag] if tag and tag[0] not in "\ufe0f\u20e3" and _TAG_LETTER.search(tag) else []
    return [t for t in _TAG_PIECE.findall(run)
            if t and t[0] not in "\ufe0f\u20e3" and _TAG_LETTER.search(t)]


def _strip_tags(m: re.Match, replacement: str) -> str:
    return replacement if _tags(m.group(0)) else m.group(0)


# @mention: the ``@`` (or full-width ``＠``) follows a character that is not an ASCII letter, digit
# or one of ``_!#$%&*@＠`` (twitter-text; ``.@Sen`` is a mention, ``me@mail.org`` is not), or
# follows ``RT``/``RT:`` at the start of a word.
_AT_BEFORE = (
    r"(?:(?<![A-Za-z0-9_!#$%&*@\uFF20])"
    r"|(?<=[Rr][Tt])(?<![\w+~.\-][Rr][Tt])|(?<=[Rr][Tt]:)(?<![\w+~.\-][Rr][Tt]:))"
)
# ... and is not followed by another handle character, ``@``, a Latin letter with a diacritic
# (``@aliceìnheiro`` is none) or ``://`` (twitter-text).
_AT_AFTER = r"(?![A-Za-z0-9_@\uFF20\u00C0-\u024F]|://)"
#: Twitter/X handles: 1-20 of ``A-Za-z0-9_`` (twitter-text's limit; handles are <= 15 since 2009);
#: a longer run is no handle (not its first 20 characters).
TWITTER_MENTION_RE = re.compile(_AT_BEFORE + r"[@\uFF20]([A-Za-z0-9_]{1,20})" + _AT_AFTER)
#: Other platforms: a user name, optionally ``@instance.host`` (Mastodon) or ``.domain.parts``
#: (Bluesky ``@name.bsky.social``); trailing ``.``/``-`` are not part of it.
MENTION_RE = re.compile(
    _AT_BEFORE + r"[@\uFF20]((?>[A-Za-z0-9_]+(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
    r"|(?:\.[A-Za-z0-9-]+)*)))" + _AT_AFTER
)
#: Platforms whose mentions follow Twitter's handle rules.
TWITTER_PLATFORMS = frozenset({"twitter", "x"})


def _mention_re(platform: str | None) -> re.Pattern:
    return TWITTER_MENTION_RE if platform in TWITTER_PLATFORMS else MENTION_RE


def normalize_hashtag(tag: str) -> str:
    """``#MedicaidCuts`` -> ``medicaidcuts``: without ``#``, NFC, Unicode case-folded.

    >>> normalize_hashtag("#ÉtéFun"), normalize_hashtag("＃Cafe\\u0301")
    ('étéfun', 'café')
    """
    tag = tag.strip().lstrip("#\uFF03")
    if not tag.isascii():
        tag = unicodedata.normalize("NFC", tag)
    return tag.casefold()


_ID_PART = re.compile(r"^[a-z][a-z0-9_-]*:\S+$")


def normalize_mention(handle: str) -> str:
    """``@SenAlexander`` -> ``senalexander``; account ids (``twitter:123``) are kept as they are.

    >>> normalize_mention("@SenAlexander"), normalize_mention("twitter:123")
    ('senalexander', 'twitter:123')
    """
    handle = handle.strip()
    if _ID_PART.match(handle):
        return handle
    return handle.lstrip("@\uFF20").lower()


def normalize_url(url: str) -> str:
    """A URL as stored: surrounding white space removed (the URL is otherwise kept as written)."""
    return url.strip()


@dataclass
class Scan:
    """What :func:`scan` finds in one text: URLs, hashtags and mentions (normalised), in order."""

    urls: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)


def scan(text: str | None, platform: str | None = None) -> Scan:
    """URLs, hashtags and mentions of a post's text: the one extraction rule of SociaLens.

    The text is decoded, URLs are found and replaced by a space, then hashtags and mentions are
    read from what is left. ``platform`` (the ``post_id`` prefix) chooses the mention rule:
    Twitter handles on ``twitter``/``x``, names with domain parts elsewhere.

    >>> s = scan("RT@SenatorEnzi: “https://t.co/x” #Tag1#Tag2 ##Two x.@Sen a@b.org", "twitter")
    >>> s.urls, s.hashtags, s.mentions
    (['https://t.co/x'], ['tag1', 'tag2', 'two'], ['senatorenzi', 'sen'])
    """
    out = Scan()
    if not text:
        return out
    t = decode_entities(text)
    if _has_url(t):
        out.urls, t = _urls_and_rest(t)
    if "#" in t or "\uff03" in t:
        for m in HASHTAG_RE.finditer(t):
            out.hashtags.extend(normalize_hashtag(tag) for tag in _tags(m.group(0)))
    if "@" in t or "\uff20" in t:
        generic = platform not in TWITTER_PLATFORMS
        for m in _mention_re(platform).finditer(t):
            h = m.group(1)
            if generic:
                h = h.rstrip(".-")
            if h:
                out.mentions.append(h.lower())
    return out


def scan_many(texts: list[str], twitter: list[bool]) -> tuple[list, list, list]:
    """:func:`scan`'s matches in many *decoded* texts at once, before normalisation: ``(urls,
    hashtags, mentions)``, each a list with one list of raw matches per text (URL matches
    untrimmed, runs of glued hashtags, mention names), ``twitter[i]`` choosing text i's mention
    rule (``platform in TWITTER_PLATFORMS``). The patterns run as C-level maps over the whole
    column; :func:`scan_value` turns each distinct match into what :func:`scan` gives for it, so
    ``scan(t, p)`` is ``scan_value`` of ``scan_many([t], [p in TWITTER_PLATFORMS])``'s matches
    (tests/ingest/test_canonical_bulk.py checks this on the test corpus and random texts).

    >>> scan_many(["RT@Sen: #A#b http://t.co/x.", "@bob.x-y-"], [True, False])
    ([['http://t.co/x.'], []], [['#A#b'], []], [['Sen'], ['bob.x-y-']])
    """
    rest = list(texts)
    urls: list = [[]] * len(texts)
    hit = [i for i, h in enumerate(map(_has_url, texts)) if h]
    if hit:
        urls = list(urls)
        cut = [texts[i] for i in hit]
        for i, found, left in zip(hit, map(URL_RE.findall, cut),
                                  map(URL_RE.sub, [" "] * len(cut), cut), strict=True):
            urls[i], rest[i] = found, left
    tags: list = [[]] * len(texts)
    for i in [i for i, t in enumerate(rest) if "#" in t or "\uff03" in t]:
        tags[i] = HASHTAG_RE.findall(rest[i])
    mentions: list = [[]] * len(texts)
    at = [i for i, t in enumerate(rest) if "@" in t or "\uff20" in t]
    for i in at:
        mentions[i] = (TWITTER_MENTION_RE if twitter[i] else MENTION_RE).findall(rest[i])
    return urls, tags, mentions


def scan_value(kind: str, match: str, twitter: bool = True) -> list[str]:
    """What :func:`scan` lists for one raw match of :func:`scan_many` (``kind``: ``url``,
    ``hashtag`` or ``mention``): the trimmed URL, the normalised tags of a run, the lower-cased
    name (trailing ``.``/``-`` removed off Twitter); empty when scan lists nothing for it.

    >>> scan_value("hashtag", "#A#b"), scan_value("mention", "bob.x-y-", twitter=False)
    (['a', 'b'], ['bob.x-y'])
    """
    if kind == "url":
        u = _trim_url(match)
        return [u] if u and u.lower() not in ("http://", "https://", "www.") else []
    if kind == "hashtag":
        return [normalize_hashtag(tag) for tag in _tags(match)]
    h = match if twitter else match.rstrip(".-")
    return [h.lower()] if h else []


def entity_rows(
    hashtags: Iterable[str] = (), mentions: Iterable[str] = (), urls: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """Normalised, sorted, de-duplicated ``(kind, value)`` pairs for ``post_entities``.

    Used for the entity lists that sources give (X API entities, Mastodon tags, Bluesky facets)
    and for those found in text, so both mean the same.

    >>> entity_rows(["#Tax", "tax"], ["@Sen"], [" https://x.org "])
    [('hashtag', 'tax'), ('mention', 'sen'), ('url', 'https://x.org')]
    """
    out = set()
    for t in hashtags:
        if isinstance(t, str):
            v = normalize_hashtag(t)
            if v:
                out.add(("hashtag", v))
    for m in mentions:
        if isinstance(m, str):
            v = normalize_mention(m)
            if v:
                out.add(("mention", v))
    for u in urls:
        if isinstance(u, str):
            v = normalize_url(u)
            if v:
                out.add(("url", v))
    return sorted(out)


def text_entities(text: str | None, platform: str | None = None) -> list[tuple[str, str]]:
    """Hashtags, mentions and URLs of a text as ``post_entities`` pairs (see :func:`scan`).

    >>> text_entities("RT @kristinapet Cooking #PublicLands! http://nyti.ms/2u0fb3j")
    [('hashtag', 'publiclands'), ('mention', 'kristinapet'), ('url', 'http://nyti.ms/2u0fb3j')]
    """
    if not text:
        return []
    s = scan(text, platform)
    return entity_rows(s.hashtags, s.mentions, s.urls)


def strip_entities(
    text: str, *, url: str | None = " ", mention: str | None = " ", hashtag: str | None = None
) -> str:
    """Replace URLs, mentions and (optionally) hashtags (the text is not decoded here).

    Mentions are matched with the generic rule (:data:`MENTION_RE`), so every @-name is replaced
    whatever the platform.

    Parameters
    ----------
    text : str
    url : str or None
        Replacement of each URL; ``None`` keeps URLs (or says they are already removed).
    mention : str or None
        Replacement of each @mention; ``None`` keeps mentions.
    hashtag : str or None
        Replacement of each #hashtag; ``None`` keeps hashtags.

    >>> strip_entities("Thanks @RoyBlunt for #TheDay http://t.co/x", mention="@user")
    'Thanks @user for #TheDay  '
    """
    if url is not None:
        text = strip_urls(text, url)
    if mention is not None and ("@" in text or "\uff20" in text):
        text = MENTION_RE.sub(mention, text)
    if hashtag is not None and ("#" in text or "\uff03" in text):
        text = HASHTAG_RE.sub(lambda m: _strip_tags(m, hashtag), text)
    return text


def neutral_mentions(text: str, token: str = "@user") -> str:
    """Every @mention replaced by ``token`` (for VADER: a handle is not a sentiment word)."""
    return strip_entities(text, url=None, mention=token)


# ---------------------------------------------------------------------------------------------
# tokens

#: Apostrophe-like characters read as ``'``: right and left single quotation marks, the modifier
#: letter apostrophe and the full-width apostrophe.
APOSTROPHES = "\u2019\u2018\u02bc\uff07"
_APOSTROPHE_MAP = str.maketrans(dict.fromkeys(APOSTROPHES, "'"))
# A word: Unicode letters/digits/underscore, with inner apostrophes ("don't", "rock'n'roll").
_WORD_RE = re.compile(r"\w+(?:'\w+)*")
_TAGGED_RE = re.compile(r"[#@]?\w+(?:'\w+)*")


def normalize_apostrophes(text: str) -> str:
    """Curly and modifier apostrophes as ``'`` (the one apostrophe rule).

    >>> normalize_apostrophes("don’t ‘quote’ y\u02bcall")
    "don't 'quote' y'all"
    """
    return text.translate(_APOSTROPHE_MAP)


def words(stripped: str) -> list[str]:
    """The word tokens of a prepared text whose entities are already replaced.

    ``tokenize(view, views=True) == words(strip_entities(view, url=None, mention=" ",
    hashtag=" "))`` whenever ``view`` has no apostrophe-like character (:data:`APOSTROPHES`):
    enrichment strips each post once for language identification and the style markers.

    >>> words(strip_entities("Don't read #this, @you", url=None, mention=" ", hashtag=" "))
    ["Don't", 'read']
    """
    return _WORD_RE.findall(stripped)


def tokenize(text: str, *, tags: bool = False, views: bool = False) -> list[str]:
    """Word tokens of a post (case kept): decoded, URLs removed, one apostrophe rule.

    Parameters
    ----------
    text : str
        The post text (or, with ``views=True``, its :func:`readable` view: decoded, no URLs).
    tags : bool
        False (the style markers): @mentions and #hashtags are removed, only words remain.
        True (the sharing classifier): ``#word`` and ``@word`` are kept as tokens with their sign.
    views : bool
        ``text`` is already :func:`readable` (saves decoding and URL removal again).

    A word is a run of Unicode letters, digits and ``_`` with inner apostrophes (``don't``,
    ``y'all``, ``años``).

    >>> tokenize("Don’t read #hashtags, @mentions or http://t.co/x &amp; años")
    ["Don't", 'read', 'or', 'años']
    >>> tokenize("Go #USA! @ussoccer_wnt’s http://t.co/x", tags=True)
    ['Go', '#USA', "@ussoccer_wnt's"]
    """
    if not views:
        text = readable(text)
    if not text.isascii():  # the apostrophe-like characters are not ASCII
        text = text.translate(_APOSTROPHE_MAP)
    if tags:
        return _TAGGED_RE.findall(text)
    text = strip_entities(text, url=None, mention=" ", hashtag=" ")
    return _WORD_RE.findall(text)
