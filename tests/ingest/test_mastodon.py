from tests.ingest.conftest import reasons


def test_rest_statuses(ws, load):
    r = load("mastodon_statuses.json", "mastodon")
    f = r.files[0]
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (4, 3, 1)
    assert "neither a Mastodon Status" in reasons(r)[0]
    p = ws.sql("SELECT * FROM posts").set_index("post_id")
    first = p.loc["mastodon:mastodon.social/109876543210000001"]
    assert first.text == "Hello #Fediverse and @bo & friends 🎉\n\nSecond paragraph\nnew line"
    assert first.account_id == "mastodon:mastodon.social/@ada"
    assert first.like_count == 7 and "edited_at" in first["attrs"]
    reply = p.loc["mastodon:mastodon.social/109876543210000002"]
    assert reply.reply_to_post_id == "mastodon:mastodon.social/109876543210000000"
    assert reply.reply_to_account_id == "mastodon:hachyderm.io/@bo"
    boost = p.loc["mastodon:mastodon.social/109876543210000003"]
    assert boost.repost_of == "mastodon:mastodon.social/109876543210000777"
    assert "mastodon:mastodon.social/109876543210000777" in p.index
    e = ws.sql("SELECT kind, value FROM post_entities WHERE post_id LIKE '%0001' ORDER BY 1")
    assert e.values.tolist() == [["hashtag", "fediverse"], ["mention", "mastodon:hachyderm.io/@bo"]]
    snap = ws.sql("SELECT followers FROM account_snapshots")
    assert len(snap) == 0  # no retrieval stamp on a raw API response: no snapshot


def test_outbox(ws, load):
    r = load("mastodon_outbox.json", "mastodon")
    f = r.files[0]
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (4, 3, 1)
    assert "'Follow' is not a post" in reasons(r)[0]
    p = ws.sql("SELECT * FROM posts").set_index("post_id")
    assert p.loc["mastodon:mastodon.social/109876543210000001"].text == "Hello #Fediverse"
    assert p.loc["mastodon:mastodon.social/109876543210000003"].repost_of == "mastodon:hachyderm.io/1"
    rep = p.loc["mastodon:mastodon.social/109876543210000005"]
    assert rep.reply_to_post_id == "mastodon:hachyderm.io/1"
    assert rep.reply_to_account_id == "mastodon:hachyderm.io/@bo"


def test_rest_and_outbox_share_ids(ws):
    from tests.ingest.conftest import PLATFORM_FIXTURES

    ws.ingest(PLATFORM_FIXTURES / "mastodon_statuses.json")
    r = ws.ingest(PLATFORM_FIXTURES / "mastodon_outbox.json")
    assert r.files[0].n_duplicate == 2  # the same statuses, whichever way they were exported
