from tests.ingest.conftest import reasons


def test_csv(ws, load):
    r = load("fourcat_export.csv", "fourcat")
    f = r.files[0]
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (4, 3, 1)
    assert "id is missing" in reasons(r)[0]
    p = ws.sql("SELECT * FROM posts").set_index("post_id")
    a = p.loc["twitter:1600000000000000001"]
    assert a.account_id == "twitter:1001" and str(a.created_at) == "2023-01-01 12:00:00+00:00"
    assert '"extra_col": "x1"' in a["attrs"]
    b = p.loc["twitter:1600000000000000002"]
    assert b.account_id == "twitter:bo" and '"thread_id"' in b["attrs"]
    assert p.loc["4cat:p3"].account_id == "4cat:carol"
    e = ws.sql("SELECT kind, value FROM post_entities ORDER BY 1").values.tolist()
    assert e == [["hashtag", "world"], ["mention", "bo"]]


def test_ndjson(ws, load):
    r = load("fourcat_export.ndjson", "fourcat")
    f = r.files[0]
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (2, 1, 1)
    assert "timestamp" in reasons(r)[0]
    assert ws.sql("SELECT account_id FROM posts").account_id[0] == "bluesky:did:plc:ceo111"


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_link_column_names_the_platform(ws, tmp_path):
    # 4CAT's current exports call the post URL `link` (older ones `url`)
    p = _write(tmp_path, "x.csv", "id,thread_id,timestamp,body,author,author_id,link\n"
               "1380242611781386245,1380242611781386245,2021-04-08 19:34:16,hi,ada,1001,"
               "https://x.com/ada/status/1380242611781386245\n")
    ws.ingest(p)
    post = ws.sql("SELECT post_id, account_id, url FROM posts").iloc[0]
    assert (post.post_id, post.account_id) == ("twitter:1380242611781386245", "twitter:1001")
    assert post.url == "https://x.com/ada/status/1380242611781386245"


def test_timestamp_text_wins_over_a_local_unix_timestamp(ws, tmp_path):
    # 4CAT on a server in Europe/Amsterdam (summer, UTC+2) writes unix_timestamp 2 h early:
    # naive_utc.timestamp() is read in the server's zone. The text timestamp is the UTC time.
    utc = 1617910456  # 2021-04-08 19:34:16 UTC, also what the tweet id's snowflake says
    p = _write(tmp_path, "x.csv", "id,thread_id,timestamp,unix_timestamp,body,author,author_id,link\n"
               f"1380242611781386245,1,2021-04-08 19:34:16,{utc - 7200},hi,ada,1001,"
               "https://x.com/ada/status/1380242611781386245\n")
    ws.ingest(p)
    post = ws.sql("SELECT created_at, attrs FROM posts").iloc[0]
    assert str(post.created_at) == "2021-04-08 19:34:16+00:00"
    assert '"unix_timestamp_skew_s": -7200' in post["attrs"]
    snowflake = ((1380242611781386245 >> 22) + 1288834974657) // 1000
    assert snowflake == utc


def test_bluesky_csv_integer_timestamp_and_did_links(ws, tmp_path):
    did = "did:plc:4djfp3b27soxcfkxhirydi6d"
    uri = f"at://{did}/app.bsky.feed.post/3l7vzp4b3272q"
    p = _write(tmp_path, "b.csv", "id,thread_id,created_at,author,author_id,body,link,mentions,"
               "replied_to_post,quoted_post,languages,timestamp\n"
               f"{uri},{uri},,me.example,{did},hi @x,https://bsky.app/profile/me.example/post/3l7vzp4b3272q,"
               "did:plc:wkoofae5uytcm7bjncmev6n6,https://bsky.app/profile/me.example/post/3l7vzjj3anb2f,"
               "https://bsky.app/profile/other.example/post/3l6srs,N/A,1730647063\n")
    r = ws.ingest(p)
    assert r.files[0].n_loaded == 1
    post = ws.sql("SELECT * FROM posts").iloc[0]
    assert post.post_id == f"bluesky:{uri}" and post.account_id == f"bluesky:{did}"
    assert str(post.created_at) == "2024-11-03 15:17:43+00:00"
    assert post.reply_to_post_id == f"bluesky:at://{did}/app.bsky.feed.post/3l7vzjj3anb2f"
    assert post.reply_to_account_id == f"bluesky:{did}"
    assert post.quote_of is None and "other.example" in post["attrs"]  # a handle gives no DID
    assert post.lang is None
    e = ws.sql("SELECT value FROM post_entities WHERE kind = 'mention'").value.tolist()
    assert e == ["bluesky:did:plc:wkoofae5uytcm7bjncmev6n6"]
