from tests.ingest.conftest import reasons


def test_twarc2_pages(ws, load):
    r = load("twarc2_pages.jsonl", "twitter_v2")
    f = r.files[0]
    assert f.target == "posts"
    # 4 tweets + 1 not-found error on page 1; 2 tweets on page 2; a broken line; a non-object line
    assert (f.n_read, f.n_loaded, f.n_duplicate, f.n_quarantined) == (9, 4, 1, 4)
    rs = " | ".join(reasons(r))
    assert "Not Found Error" in rs and "created_at" in rs and "broken JSON" in rs
    p = ws.sql("SELECT * FROM posts ORDER BY post_id").set_index("post_id")
    reply = p.loc["twitter:1501000000000000002"]
    assert reply.reply_to_post_id == "twitter:1501000000000000001"
    assert reply.reply_to_account_id == "twitter:1001"
    assert "مبروك" in reply.text
    assert "1500999999999999990" in reply["attrs"]  # edited: the history is kept
    assert p.loc["twitter:1501000000000000003"].repost_of == "twitter:1501000000000000001"
    long = p.loc["twitter:1501000000000000004"]
    assert long.quote_of == "twitter:1400000000000000009" and "LONGTEXT" in long.text
    # the quoted original from includes.tweets, by an author without a user expansion
    assert "twitter:1400000000000000009" in p.index
    acc = ws.sql("SELECT * FROM accounts").set_index("account_id")
    assert acc.loc["twitter:1001"].handle == "acme_ceo"
    assert '"incomplete": true' in acc.loc["twitter:1004"]["attrs"]  # missing user expansion
    snap = ws.sql("SELECT * FROM account_snapshots WHERE account_id = 'twitter:1001'")
    assert snap.followers.tolist() == [5000]
    assert str(snap.observed_at[0]) == "2022-03-09 10:00:00+00:00"
    ents = set(map(tuple, ws.sql(
        "SELECT kind, value FROM post_entities WHERE post_id = 'twitter:1501000000000000001'"
    ).values.tolist()))
    assert ents == {("hashtag", "launch"), ("mention", "acme_coo"), ("url", "https://acme.example/launch")}
    assert ("hashtag", "longform") in set(map(tuple, ws.sql(
        "SELECT kind, value FROM post_entities WHERE post_id = 'twitter:1501000000000000004'"
    ).values.tolist()))


def test_twarc_csv(ws, load):
    r = load("twarc_csv.csv", "twitter_v2")
    f = r.files[0]
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (3, 2, 1)
    assert "created_at" in reasons(r)[0]
    p = ws.sql("SELECT * FROM posts").set_index("post_id")
    assert p.loc["twitter:1501000000000000002"].reply_to_post_id == "twitter:1501000000000000001"
    assert p.loc["twitter:1501000000000000006"].text == "Multi-line\ntext with #Hashtag"
    assert ws.sql("SELECT followers FROM account_snapshots WHERE account_id='twitter:1001'").followers[0] == 5001
    assert ws.sql("SELECT value FROM post_entities WHERE kind='hashtag'").value.tolist() == ["hashtag"]
