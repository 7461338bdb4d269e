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


def _view(did, rkey, text, parent=None):
    rec = {"$type": "app.bsky.feed.post", "createdAt": "2024-01-02T03:04:05Z", "text": text}
    if parent:
        rec["reply"] = {"parent": {"uri": parent}, "root": {"uri": parent}}
    return {"uri": f"at://{did}/app.bsky.feed.post/{rkey}", "cid": "c", "record": rec,
            "author": {"did": did, "handle": f"{rkey}.example"}, "indexedAt": "2024-01-02T03:04:06Z"}


def test_post_thread(ws, tmp_path):
    import json

    root = _view("did:plc:a", "r1", "root")
    post = _view("did:plc:b", "p1", "reply", parent=root["uri"])
    answer = _view("did:plc:a", "a1", "answer", parent=post["uri"])
    doc = {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": post,
                      "parent": {"$type": "app.bsky.feed.defs#threadViewPost", "post": root},
                      "replies": [{"post": answer, "replies": []},
                                  {"$type": "app.bsky.feed.defs#notFoundPost", "uri": "at://x"}]}}
    p = tmp_path / "thread.json"
    p.write_text(json.dumps(doc))
    r = ws.ingest(p)
    assert (r.files[0].format, r.files[0].n_read, r.files[0].n_loaded) == ("bluesky", 3, 3)
    got = ws.sql("SELECT text, reply_to_post_id FROM posts ORDER BY text").values.tolist()
    assert got == [["answer", f"bluesky:{post['uri']}"], ["reply", f"bluesky:{root['uri']}"],
                   ["root", None]]


def test_from_sdk_dump_matches_the_lexicon_shape():
    from socialens.ingest.bluesky import from_sdk_dump, map_post_view

    view = _view("did:plc:a", "r1", "hi")
    view["likeCount"] = 3
    dump = {"uri": view["uri"], "cid": "c", "indexed_at": view["indexedAt"], "like_count": 3,
            "record": {"py_type": "app.bsky.feed.post", "created_at": "2024-01-02T03:04:05Z",
                       "text": "hi"},
            "author": {"did": "did:plc:a", "handle": "r1.example", "py_type": "x#profileViewBasic"},
            "py_type": "app.bsky.feed.defs#postView"}
    assert map_post_view(from_sdk_dump(dump)) == map_post_view(view)
