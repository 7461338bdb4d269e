"""``read_texts`` gives exactly what the text layer's functions give, one pass per post."""

from __future__ import annotations

import csv
import gzip
import random
import re
import sys
from pathlib import Path

from socialens.enrich.entities import _TCO_RE, is_media_url
from socialens.enrich.markers import MARKERS, _default_slot_counts, _token_slots
from socialens.enrich.views import read_texts
from socialens.text import (
    URL_RE,
    neutral_mentions,
    readable,
    scan,
    strip_entities,
    tokenize,
    url_domain,
)

DATA = Path(__file__).parent / "data"
PLATFORMS = ["twitter", "x", "mastodon", "bluesky", ""]


def _corpus() -> list[str | None]:
    with gzip.open(DATA / "convokit_excerpt.csv.gz", "rt", encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    with gzip.open(DATA / "vader_tweets_GroundTruth.txt.gz", "rt", encoding="utf-8") as f:
        texts += [line.rstrip("\n").split("\t", 2)[2] for line in f if line.strip()]
    # random texts from the pieces the patterns look at, the odd cases of case folding included
    rnd = random.Random(14)
    pieces = list("aAhHtTpPsS:/.wWcoOmM@#＃＠&;_ -İıiIRr'’ʼé🎉\ufe0f\u20e31(") + [
        "http://", "https://t.co/", "HTTPS://T.CO/", "pic.twitter.com/", "pıc.twitter.com/",
        "www.", "&amp;", "&amp;amp;", "#tag", "@bob", "RT", "RT:", ".@x", "&#39;", "ſ", "K",
        "@a@b.social", "#a#b", "x.@y", "😀", "\u00e9\u0301",
    ]
    texts += ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 30)))
              for _ in range(20000)]
    return [*texts, None, "", " "]


def test_views_are_the_text_layers():
    texts = _corpus()
    platforms = [PLATFORMS[i % len(PLATFORMS)] for i in range(len(texts))]
    tv = read_texts(texts, platforms)
    bad = []
    for i, (t, p) in enumerate(zip(texts, platforms, strict=True)):
        if t is None:
            got = (tv.readable[i], tv.stripped[i], tv.neutral[i], tv.urls[i], tv.hashtags[i],
                   tv.mentions[i])
            if got != (None, None, None, [], [], []):
                bad.append(t)
            continue
        view = readable(t)
        s = scan(t, p)
        expected = (view, strip_entities(view, url=None, mention=" ", hashtag=" "),
                    neutral_mentions(view, "@user"), s.urls, s.hashtags, s.mentions)
        got = (tv.readable[i], tv.stripped[i], tv.neutral[i], tv.urls[i], tv.hashtags[i],
               tv.mentions[i])
        if got != expected:
            bad.append(t)
    assert bad == []


def test_case_folding_facts_the_url_start_relies_on():
    # only U+0130 lower-cases to more than one character
    assert [c for c in range(sys.maxunicode + 1) if len(chr(c).lower()) != 1] == [0x130]
    # of the letters that begin a URL (http, pic., www.), only "i" has partners beyond its
    # ASCII upper case under IGNORECASE: U+0130 and U+0131
    for letter, partners in {"h": [], "p": [], "w": [], "i": [0x130, 0x131]}.items():
        pattern = re.compile(letter, re.IGNORECASE)
        found = [c for c in range(sys.maxunicode + 1)
                 if pattern.fullmatch(chr(c)) and chr(c) not in (letter, letter.upper())]
        assert found == partners, letter


def test_twitter_short_links_add_no_domain_and_no_media():
    rnd = random.Random(3)
    alphabet = "abcxyzABCXYZ0189" + "ſKıİ"  # what [a-z0-9] matches case-insensitively
    urls = []
    for _ in range(3000):
        scheme = rnd.choice(["http://", "https://", "HTTP://", "Https://", "httpſ://"])
        host = rnd.choice(["t.co", "T.CO", "t.Co"])
        ident = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 12)))
        urls.append(f"{scheme}{host}/{ident}")
    # and the t.co links of real texts, as the URL pattern finds them
    urls += [m.group(0) for t in _corpus() if t for m in URL_RE.finditer(t)]
    for u in urls:
        if _TCO_RE.fullmatch(u):
            assert url_domain(u) == "t.co" and not is_media_url(u), u


def test_packed_marker_counts_are_the_token_counts():
    texts = [t for t in _corpus() if t]
    for t in texts:
        view = readable(t)
        stripped = strip_entities(view, url=None, mention=" ", hashtag=" ")
        tokens = tokenize(t)
        shouting = not any(ch.islower() for ch in t)
        expected = [0] * len(MARKERS)
        for tok in tokens:
            if tok == "US" and not shouting:
                continue
            for i in _token_slots(tok):
                expected[i] += 1
        assert _default_slot_counts(t, view, stripped) == (expected, len(tokens)), t
