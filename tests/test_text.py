"""The text layer (socialens.text): known answers on real text, and ingest == enrichment."""

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialens.enrich.entities import extract_entities
from socialens.enrich.markers import marker_counts
from socialens.enrich.sharing import model_tokens
from socialens.ingest import canonical
from socialens.ingest._platform import post_row
from socialens.text import (
    decode_entities,
    entity_rows,
    find_urls,
    html_to_text,
    normalize_hashtag,
    normalize_mention,
    readable,
    scan,
    text_entities,
    tokenize,
)
from tests.conftest import SHARED_DATA

T0 = datetime(2017, 7, 10, tzinfo=UTC)
TEXT_KINDS = ("hashtag", "mention", "url")


def kinds(pairs, kind):
    return sorted(v for k, v in pairs if k == kind)


# -- known answers: literal examples from real posts (demo dataset, TweetEval, VADER's tweets) --
def test_glued_urls_are_split_off_before_hashtags():
    # the cases: a link glued to the hashtag before it
    assert text_entities("Our plan #taxreformpic.twitter.com/abc") == [
        ("hashtag", "taxreform"), ("url", "pic.twitter.com/abc")]
    assert text_entities("Proud of them #HonorOurHeroeshttps://t.co/x") == [
        ("hashtag", "honorourheroes"), ("url", "https://t.co/x")]
    # two links glued together are two links
    assert find_urls("see https://t.co/abcpic.twitter.com/xyz") == [
        "https://t.co/abc", "pic.twitter.com/xyz"]
    # TweetEval test_text: a scraper turned "#fcblive pic.twitter.com/..." into this
    s = scan("Evening practice #http://fcblivepic.twitter.com/O9Cm428JGJ Evening practice #fcblive")
    assert s.hashtags == ["fcblive"]
    assert s.urls == ["http://fcblive", "pic.twitter.com/O9Cm428JGJ"]


def test_urls_glued_after_punctuation_and_in_quotes():
    # demo posts (Senate tweets)
    assert find_urls('It will take your life"http://t.co/il0Wp8v0zM') == ["http://t.co/il0Wp8v0zM"]
    assert find_urls("#akleg http://t.co/a5ISIogVlj”") == ["http://t.co/a5ISIogVlj"]
    assert find_urls("“https://t.co/x”") == ["https://t.co/x"]
    assert find_urls("More:http://t.co/4ehoeiZkiJ Full rpt:http://t.co/caHT4DnPG9") == [
        "http://t.co/4ehoeiZkiJ", "http://t.co/caHT4DnPG9"]
    assert find_urls(decode_entities("in military--&gt;http://t.co/mF0lZHHnj2")) == [
        "http://t.co/mF0lZHHnj2"]
    assert find_urls("my website (http://t.co/jyxGHVJ).") == ["http://t.co/jyxGHVJ"]
    assert find_urls("http://en.wikipedia.org/wiki/Primer_(film)") == [
        "http://en.wikipedia.org/wiki/Primer_(film)"]  # twitter-text: balanced parentheses stay
    assert find_urls("I like http://t.co/pbY2NfTZ's site") == ["http://t.co/pbY2NfTZ"]


def test_www_links():
    assert find_urls("Register at www.vote.org. Thanks") == ["www.vote.org"]
    assert find_urls("Awww.Thanks so much") == []  # not a link: no domain after www.
    assert find_urls("mail me@www.example.org") == []


def test_mentions_follow_twitter_text():
    s = scan(".@ProfJulieHill Correct! RT@SenatorEnzi #1 Cheyenne; #2 Casper, #5 Encampment #Wyo125",
             "twitter")
    assert s.mentions == ["profjuliehill", "senatorenzi"]  # ".@x" and "RT@x" are mentions
    assert s.hashtags == ["wyo125"]  # all-digit "#1" is not a hashtag
    assert scan("跟@RepRickLarson庆祝第十届中美工作小组年会 http://t.co/x2mqGKS6Hd", "twitter").mentions == [
        "repricklarson"]
    assert scan(".@ventureforamerica Welcome", "twitter").mentions == ["ventureforamerica"]
    assert scan("impact of@RobPortman's bill, Email seniors@schatz.senate.gov", "twitter").mentions == []
    # a run longer than 20 characters is no Twitter handle (and not its first 20 characters)
    assert scan("@" + "a" * 25 + " hi", "twitter").mentions == []
    assert scan("x.@Sen and @Sen_2.", "twitter").mentions == ["sen", "sen_2"]


def test_mentions_on_other_platforms_keep_domains():
    assert scan("hi @alice.bsky.social.", "bluesky").mentions == ["alice.bsky.social"]
    assert scan("cc @bob@mastodon.social", "mastodon").mentions == ["bob@mastodon.social"]
    assert scan("cc @bob@mastodon.social", "twitter").mentions == []  # twitter-text: not a handle
    assert scan("@SenAlexander.Thanks", "twitter").mentions == ["senalexander"]


def test_hashtags_follow_twitter_text():
    s = scan("#MedicaidCuts &amp; #ÉTÉ2015 but not &#39; or #1 or a#b ##Two #tag1#tag2 #__ #_x")
    assert s.hashtags == ["medicaidcuts", "été2015", "two", "tag1", "tag2", "_x"]
    # glued tags are each a tag (TweetEval test_text; twitter-text finds none), and a tag glued to
    # a t.co link is split off it (t.co ids are alphanumeric)
    assert scan("enjoyable read.  #DrainTheSwamp#NewGOP ").hashtags == ["draintheswamp", "newgop"]
    assert scan("obsessed with right now😊🙏🏼❤️️#AshleyGraham").hashtags == ["ashleygraham"]
    s = scan("to UAEhttps://t.co/XynY7O7d1i#svpol… ")
    assert s.urls == ["https://t.co/XynY7O7d1i"] and s.hashtags == ["svpol"]
    # combining marks are part of a hashtag (Python's \\w has none of them)
    assert scan("#ผู้เริ่ม #महात्मा #१२३४").hashtags == ["ผู้เริ่ม", "महात्मा"]
    assert normalize_hashtag("#Cafe\u0301") == normalize_hashtag("café") == "café"


def test_entities_decoded_once_to_a_fixed_point():
    # VADER's tweets_GroundTruth.txt, line 3444
    text = "@anonymous @anonymous pic.twitter.com/ZPXFEqji &lt;--very cool! #happy"
    assert decode_entities(text) == "@anonymous @anonymous pic.twitter.com/ZPXFEqji <--very cool! #happy"
    assert decode_entities("Q&amp;amp;A") == "Q&A"  # double-escaped scrapes
    assert decode_entities("AT&T &notice &copy &bogus;") == "AT&T &notice &copy &bogus;"
    assert decode_entities("&#128512; &#x1F600;") == "\U0001f600 \U0001f600"
    assert html_to_text("<p>Hi &amp; <br>bye</p>") == "Hi & \nbye"


def test_source_lists_and_text_share_one_normaliser():
    from_text = text_entities("#TaxReform @SenAlexander https://t.co/x", "twitter")
    listed = entity_rows(["TaxReform"], ["SenAlexander"], ["https://t.co/x"])
    assert from_text == listed
    assert normalize_mention("＠Sen") == "sen" and normalize_mention("twitter:1") == "twitter:1"


def test_one_apostrophe_rule_for_markers_and_sharing():
    for apostrophe in "'’‘ʼ＇":
        text = f"Y{apostrophe}all don{apostrophe}t know #GoTeam"
        assert tokenize(text) == ["Y'all", "don't", "know"]
        assert model_tokens(text) == {"y'all", "don't", "know", "#goteam"}
    assert marker_counts(["it’s"])["m_ipron"] == marker_counts(["it's"])["m_ipron"] == [1]


def test_readable_view():
    assert readable("Mom &amp; Dad #Tagpic.twitter.com/a http://t.co/x") == "Mom & Dad #Tag   "


# -- ingest stores decoded text and the same entities enrichment finds -----------------------
def test_post_row_decodes_and_extracts_when_the_source_lists_none():
    _, row = post_row("twitter", "1", "twitter:9", T0,
                      text="Tax &amp; jobs #taxreformpic.twitter.com/abc .@Sen")
    assert row["text"] == "Tax & jobs #taxreformpic.twitter.com/abc .@Sen"
    assert row["_entities"] == [("hashtag", "taxreform"), ("mention", "sen"),
                                ("url", "pic.twitter.com/abc")]
    _, listed = post_row("twitter", "2", "twitter:9", T0, text="#a &amp; b", ents=[("hashtag", "x")])
    assert listed["_entities"] == [("hashtag", "x")] and listed["text"] == "#a & b"


def test_canonical_post_keeps_given_lists_and_reads_missing_ones_from_text():
    rec = {"post_id": "twitter:1", "account_id": "twitter:9", "created_at": "2017-07-10T00:00:00Z",
           "text": "Tax &amp; jobs #TaxReformpic.twitter.com/abc @Sen", "hashtags": ["Jobs"]}
    row = canonical.map_post(rec)[0][1]
    assert row["text"] == "Tax & jobs #TaxReformpic.twitter.com/abc @Sen"
    assert row["_entities"] == [("hashtag", "jobs"), ("mention", "sen"),
                                ("url", "pic.twitter.com/abc")]
    rec["mentions"], rec["urls"] = [], []
    assert canonical.map_post(rec)[0][1]["_entities"] == [("hashtag", "jobs")]


PIECES = st.sampled_from([
    "a", "B", "é", "\u0301", "1", "_", " ", "\n", ".", ",", ":", "/", "'", "’", "“", "”", "(", ")",
    "#", "＃", "@", "＠", "&", ";", "&amp;", "&amp;amp;", "&#39;", "&lt;", "https://", "http://",
    "pic.twitter.com/", "www.", "t.co/", "RT", "x.", "Sen", "tag", "bsky.social", "…", "ผู้",
])
TEXTS = st.one_of(st.text(max_size=80), st.lists(PIECES, max_size=30).map("".join))
PLATFORMS = st.sampled_from(["twitter", "bluesky", "mastodon", "blog"])


@settings(max_examples=300, deadline=None)
@given(TEXTS, PLATFORMS)
def test_ingest_and_enrichment_find_the_same_entities(text, platform):
    """What ingest stores for a post without entity lists equals what enrichment finds in the
    stored text, kind by kind; canonical posts without lists too; and raw text reads the same."""
    _, row = post_row(platform, "1", f"{platform}:9", T0, text=text)
    ingest = set(row["_entities"])
    enriched = {e for e in extract_entities([row["text"]], platforms=[platform]).rows[0]
                if e[0] in TEXT_KINDS}
    assert ingest == enriched
    assert {e for e in extract_entities([text], platforms=[platform]).rows[0]
            if e[0] in TEXT_KINDS} == enriched
    rec = {"post_id": f"{platform}:1", "account_id": f"{platform}:9",
           "created_at": "2017-07-10T00:00:00Z", "text": text}
    assert set(canonical.map_post(rec)[0][1]["_entities"]) == ingest


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_decoding_is_idempotent(text):
    once = decode_entities(text)
    assert decode_entities(once) == once
    assert text_entities(once) == text_entities(text)


WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZé_0123456789",
                min_size=1, max_size=15).filter(lambda w: any(c.isalpha() for c in w))
LINKS = st.builds(lambda p, b: p + b,
                  st.sampled_from(["https://t.co/", "http://t.co/", "pic.twitter.com/",
                                   "HTTPS://bit.ly/", "https://www.senate.gov/"]),
                  st.text(alphabet="abcdefXYZ0123456789", min_size=1, max_size=10))


@settings(max_examples=300, deadline=None)
@given(WORDS, LINKS, st.sampled_from([" ", ". ", "\n", "” "]))
def test_a_glued_link_never_becomes_part_of_a_hashtag(word, link, after):
    s = scan(f"Today #{word}{link}{after}end", "twitter")
    assert s.hashtags == [normalize_hashtag(word)]
    assert s.urls == [link]
    for tag in s.hashtags:
        assert "http" not in tag[len(word):] and "pic" not in tag[len(word):]


@settings(max_examples=200, deadline=None)
@given(TEXTS, PLATFORMS)
def test_no_hashtag_or_mention_holds_a_link(text, platform):
    s = scan(text, platform)
    for value in s.hashtags + s.mentions:
        assert "://" not in value and "pic.twitter.com/" not in value
    assert all(t.startswith(("#", "@")) or "#" not in t for t in tokenize(text, tags=True))


@pytest.mark.parametrize("text", ["", None])
def test_empty(text):
    assert text_entities(text) == [] and scan(text).urls == []


def test_post_row_adds_the_kinds_a_source_does_not_list():
    # a feed lists categories, not mentions; Mastodon lists tags and mentions, not links
    _, row = post_row("blog", "1", "blog:f", T0, text="Thanks @ada.example for #Rust: https://x.org/a.",
                      ents=[("hashtag", "news")], text_kinds=("hashtag", "mention", "url"))
    assert row["_entities"] == [("hashtag", "news"), ("hashtag", "rust"),
                                ("mention", "ada.example"), ("url", "https://x.org/a")]
    _, row = post_row("mastodon", "1", "mastodon:a", T0, text="#Tag https://x.org @a",
                      ents=[("mention", "mastodon:b")], text_kinds=("url",))
    assert row["_entities"] == [("mention", "mastodon:b"), ("url", "https://x.org")]


SAMPLES = SHARED_DATA / "format_samples"


@pytest.mark.skipif(not SAMPLES.exists(), reason="no shared data")
@pytest.mark.parametrize("sample", ["congresstweets", "feeds"])
def test_real_samples_store_decoded_text_and_the_entities_enrichment_finds(ws, sample):
    """Sources without entity lists: every stored text is decoded, and ingest's hashtags,
    mentions and URLs are those enrichment finds in the stored text (feeds: at least those)."""
    for f in sorted((SAMPLES / sample).iterdir()):
        ws.ingest(f)
    posts = ws.sql("SELECT post_id, text FROM posts WHERE text IS NOT NULL")
    assert len(posts) > 0
    assert not posts.text.str.contains(r"&(?:amp|lt|gt|quot|#\d+);", regex=True).any()
    stored = ws.sql("SELECT post_id, kind, value FROM post_entities")
    by_post = {pid: set() for pid in posts.post_id}
    for pid, kind, value in stored.itertuples(index=False):
        by_post.setdefault(pid, set()).add((kind, value))
    platforms = [p.split(":", 1)[0] for p in posts.post_id]
    found = extract_entities(list(posts.text), platforms=platforms).rows
    for pid, ents in zip(posts.post_id, found, strict=True):
        from_text = {e for e in ents if e[0] in TEXT_KINDS}
        if sample == "congresstweets":
            assert by_post[pid] == from_text, pid
        else:
            assert from_text <= by_post[pid], pid
