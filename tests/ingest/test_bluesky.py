from tests.ingest.conftest import reasons


def test_author_feed(ws, load):
    r = load("bsky_author_feed.json", "bluesky")
    f = r.files[0]
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (5, 3, 2)
    rs = " | ".join(reasons(r))
    assert "AT-URI" in rs and "createdAt" in rs
    p = ws.sql("SELECT * FROM posts").set_index("post_id")
    first = p.loc["bluesky:at://did:plc:ceo111/app.bsky.feed.post/3kabc1"]
    assert first.like_count == 5 and first.lang == "en"
    assert first.url == "https://bsky.app/profile/ceo.acme.example/post/3kabc1"
    repost = p.loc["bluesky:repost:did:plc:ceo111:at://did:plc:coo222/app.bsky.feed.post/3kabc2"]
    assert repost.account_id == "bluesky:did:plc:ceo111"
    assert repost.repost_of == "bluesky:at://did:plc:coo222/app.bsky.feed.post/3kabc2"
    assert "bluesky:at://did:plc:coo222/app.bsky.feed.post/3kabc2" in p.index  # the original
    reply = p.loc["bluesky:at://did:plc:ceo111/app.bsky.feed.post/3kabc3"]
    assert reply.reply_to_post_id == "bluesky:at://did:plc:coo222/app.bsky.feed.post/3kabc2"
    assert reply.reply_to_account_id == "bluesky:did:plc:coo222"
    assert reply.quote_of == "bluesky:at://did:plc:xyz999/app.bsky.feed.post/3kq"
    assert reply.text.startswith("שלום")
    e = ws.sql("SELECT kind, value FROM post_entities WHERE post_id LIKE '%3kabc1' ORDER BY 1")
    assert e.values.tolist() == [["hashtag", "bluesky"], ["mention", "bluesky:did:plc:coo222"],
                                 ["url", "https://acme.example"]]


def test_collected_profiles_and_follows(ws, load):
    r = load("bsky_collected.jsonl", "bluesky")
    f = r.files[0]
    assert f.target == "accounts"
    assert (f.n_read, f.n_loaded, f.n_duplicate, f.n_quarantined) == (4, 2, 1, 1)
    assert "did" in reasons(r)[0]
    s = ws.sql("SELECT * FROM account_snapshots WHERE account_id='bluesky:did:plc:ceo111'")
    assert s.followers.tolist() == [1200] and str(s.observed_at[0]) == "2024-03-02 12:00:00+00:00"
    e = ws.sql("SELECT src, dst, kind FROM edges")
    assert e.values.tolist() == [["bluesky:did:plc:ceo111", "bluesky:did:plc:coo222", "follows"]]
