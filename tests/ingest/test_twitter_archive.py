from tests.ingest.conftest import PLATFORM_FIXTURES, reasons


def test_archive_folder(ws, load):
    r = load("twitter_archive", "twitter_archive")
    by = {f.path.rsplit("/", 1)[-1]: f for f in r.files}
    assert list(by) == ["account.js", "tweets.js", "follower.js", "following.js"]
    assert by["account.js"].n_loaded == 1
    t = by["tweets.js"]
    assert (t.n_read, t.n_loaded, t.n_quarantined) == (3, 2, 1)
    assert by["follower.js"].n_quarantined == 1 and by["follower.js"].n_loaded == 1
    assert by["following.js"].n_loaded == 2
    p = ws.sql("SELECT * FROM posts").set_index("post_id")
    first = p.loc["twitter:1501000000000000001"]
    assert first.like_count == 12 and first.account_id == "twitter:1001"
    rt = p.loc["twitter:1501000000000000009"]
    assert '"reposted_handle": "acme_coo"' in rt["attrs"] and "1501000000000000008" in rt["attrs"]
    e = ws.sql("SELECT src, dst, observed_at FROM edges ORDER BY src, dst")
    assert e[["src", "dst"]].values.tolist() == [
        ["twitter:1001", "twitter:1002"], ["twitter:1001", "twitter:1009"], ["twitter:1002", "twitter:1001"]]
    assert set(e.observed_at.astype(str)) == {"2022-03-10 00:00:00+00:00"}
    assert "created_at" in " ".join(reasons(r))


def test_quote_of_from_the_status_link(ws, tmp_path):
    """Archives keep no quoted_status_id: a tweet ending with a status link is a quote of it; a
    retweet, a link in mid-text and a link to the tweet itself are not."""
    import json
    import shutil

    d = tmp_path / "archive" / "data"
    d.mkdir(parents=True)
    shutil.copy(PLATFORM_FIXTURES / "twitter_archive" / "data" / "account.js", d / "account.js")

    def tweet(tid, text, expanded):
        url = "https://t.co/" + tid[-4:]
        text = text.replace("LINK", url)
        return {"tweet": {"id_str": tid, "id": tid, "created_at": "Thu Jan 27 15:24:39 +0000 2022",
                          "full_text": text, "favorite_count": "0", "retweet_count": "0",
                          "entities": {"hashtags": [], "user_mentions": [], "urls": [
                              {"url": url, "expanded_url": expanded,
                               "indices": [str(text.index(url)), str(text.index(url) + len(url))]}]}}}
    items = [
        tweet("1600000000000000001", "So true LINK", "https://x.com/bo/status/1500000000000000001"),
        tweet("1600000000000000002", "RT @bo: see LINK", "https://twitter.com/cy/status/1500000000000000002"),
        tweet("1600000000000000003", "read LINK later", "https://twitter.com/cy/status/1500000000000000003"),
        tweet("1600000000000000004", "pic LINK", "https://twitter.com/acme_ceo/status/1600000000000000004/photo/1"),
        tweet("1600000000000000005", "blog LINK", "https://acme.example/post"),
    ]
    (d / "tweets.js").write_text("window.YTD.tweets.part0 = " + json.dumps(items))
    ws.ingest(tmp_path / "archive")
    q = dict(ws.sql("SELECT post_id, quote_of FROM posts").values.tolist())
    assert q["twitter:1600000000000000001"] == "twitter:1500000000000000001"
    assert [q[f"twitter:160000000000000000{i}"] for i in (2, 3, 4, 5)] == [None] * 4
