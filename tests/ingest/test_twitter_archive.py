from tests.ingest.conftest import reasons


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
