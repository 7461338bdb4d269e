"""Entities from text: hashtags, mentions (resolved), URLs, domains, media; scrape quirks."""

from hypothesis import given, settings
from hypothesis import strategies as st

from socialens.enrich.entities import ENTITY_KINDS, extract_entities, is_media_url
from socialens.text import url_domain


def one(text, **kw):
    return extract_entities([text], **kw).rows[0]


def test_glued_url_after_hashtag():
    e = one("Proud of them #HonorOurHeroeshttps://t.co/AbC123")
    assert ("hashtag", "honorourheroes") in e
    assert ("url", "https://t.co/AbC123") in e
    assert not any(k == "domain" for k, _ in e)  # t.co is not expanded offline


def test_hashtags_case_folded_and_entities_decoded():
    e = one("#MedicaidCuts &amp; #ÉTÉ2015 but not &#39; or #1 or a#b")
    tags = {v for k, v in e if k == "hashtag"}
    assert tags == {"medicaidcuts", "été2015"}


def test_mentions_resolved_to_roster_accounts():
    handles = {("twitter", "senalexander"): "twitter:42"}
    e = one(".@SenAlexander and @someone_else. Mail me at a@b.org", platforms=["twitter"],
            handles=handles)
    assert ("mention", "senalexander") in e and ("mention", "someone_else") in e
    assert ("mention_account", "twitter:42") in e
    assert not any(v == "b.org" for _, v in e)


def test_bluesky_and_mastodon_handles():
    e = one("hi @alice.bsky.social", platforms=["bluesky"],
            handles={("bluesky", "alice.bsky.social"): "bluesky:did:plc:a"})
    assert ("mention_account", "bluesky:did:plc:a") in e
    assert ("mention", "bob@mastodon.social") in one("cc @bob@mastodon.social", platforms=["mastodon"])


def test_domains_from_expanded_urls_and_media():
    e = one("Read this http://t.co/x pic.twitter.com/AbC",
            known_urls=[["https://www.Senate.gov/news?id=1"]])
    assert ("domain", "senate.gov") in e
    assert ("media", "pic.twitter.com/AbC") in e
    assert extract_entities(["pic.twitter.com/AbC"]).has_media == [True]
    assert extract_entities(["no media here"]).has_media == [False]


def test_trailing_punctuation_not_in_url():
    assert ("url", "https://example.org/a") in one("see https://example.org/a).")
    assert url_domain("example") is None


def test_known_mentions_as_account_ids():
    assert ("mention_account", "twitter:7") in one(None, known_mentions=[["twitter:7"]])


def test_media_urls():
    assert is_media_url("https://x.org/photo.JPG")
    assert not is_media_url("https://senate.gov")


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=120))
def test_total_on_any_text(text):
    e = extract_entities([text])
    assert len(e.rows) == 1
    for kind, value in e.rows[0]:
        assert kind in ENTITY_KINDS and value
