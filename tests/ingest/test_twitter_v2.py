from tests.ingest.conftest import reasons


def test_twarc2_pages(ws, load):
    r = load("twarc2_pages.jsonl", "twitter_v2")
    f = r.files[0]
    assert f.target == "posts"
    # 4 tweets on page 1; 2 tweets on page 2; a broken line; a non-object line
    assert (f.n_read, f.n_loaded, f.n_duplicate, f.n_quarantined) == (8, 4, 1, 3)
    rs = " | ".join(reasons(r))
    assert "created_at" in rs and "broken JSON" in rs
    # the page's not-found error is no record of the collection: counted apart
    assert "Not Found Error" not in rs
    assert dict(f.api_errors) == {"tweet: Not Found Error (ids)": 1}
    assert f.as_dict()["api_errors"] == {"tweet: Not Found Error (ids)": 1}
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


def test_protected_author_and_twarc_csv_strings(ws, tmp_path):
    """A protected author's tweets are followers-only (JSON ``true`` and twarc-csv's ``True``);
    twarc-csv entities written as lists of strings are read."""
    import json

    user = {"id": "7", "username": "locked", "name": "L", "protected": True,
            "public_metrics": {"followers_count": 3}}
    page = {"data": [{"id": "70", "author_id": "7", "text": "hi #Tag", "created_at": "2022-03-09T10:00:00.000Z",
                      "entities": {"hashtags": [{"start": 3, "end": 7, "tag": "Tag"}]}}],
            "includes": {"users": [user]},
            "__twarc": {"url": "https://api.twitter.com/2/tweets/search/recent", "version": "2.10.4",
                        "retrieved_at": "2022-03-09T11:00:00+00:00"}}
    f = tmp_path / "locked.jsonl"
    f.write_text(json.dumps(page) + "\n")
    ws.ingest(f)
    csv_path = tmp_path / "tweets.csv"
    csv_path.write_text(
        "id,author_id,text,created_at,author.id,author.username,author.protected,"
        "entities.hashtags,entities.mentions,entities.urls,author.entities.url.urls,"
        "__twarc.retrieved_at\n"
        '71,8,"Hey @Ann #Go https://t.co/x",2022-03-09T10:00:00.000Z,8,open,False,'
        '"[""#Go""]","[""@Ann""]","[""https://acme.example/""]","[""https://open.example/""]",'
        "2022-03-09T11:00:00+00:00\n")
    r = ws.ingest(csv_path)
    assert (r.files[0].n_read, r.files[0].n_loaded, r.files[0].n_quarantined) == (1, 1, 0)
    v = dict(ws.sql("SELECT post_id, visibility FROM posts").values.tolist())
    assert v == {"twitter:70": "followers", "twitter:71": "public"}
    ents = ws.sql("SELECT kind, value FROM post_entities WHERE post_id = 'twitter:71' ORDER BY 1")
    assert ents.values.tolist() == [["hashtag", "go"], ["mention", "ann"], ["url", "https://acme.example/"]]
    assert ws.sql("SELECT url FROM accounts WHERE account_id = 'twitter:8'").url[0] == "https://open.example/"
