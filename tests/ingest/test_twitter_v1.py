import pytest

from tests.conftest import SHARED_DATA
from tests.ingest.conftest import reasons


def test_statuses_jsonl(ws, load):
    r = load("v1_statuses.jsonl", "twitter_v1")
    f = r.files[0]
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (3, 2, 1)
    assert "no user" in reasons(r)[0]
    p = ws.sql("SELECT * FROM posts").set_index("post_id")
    rt = p.loc["twitter:886800940346609664"]
    assert rt.repost_of == "twitter:886716829468696576"
    assert "&amp;" not in rt.text and "& more" in rt.text
    assert "Twitter for Android" in rt["attrs"]
    assert "twitter:886716829468696576" in p.index  # the retweeted original, a secondary post
    reply = p.loc["twitter:886900000000000001"]
    assert reply.reply_to_post_id == "twitter:886716829468696576"
    assert reply.reply_to_account_id == "twitter:30354991"
    assert reply.quote_of == "twitter:886000000000000000"
    # the embedded user's counters, observed at the status time (no retrieval stamp)
    s = ws.sql("SELECT * FROM account_snapshots WHERE account_id = 'twitter:878301212025782272' "
               "ORDER BY observed_at")
    assert s.followers.tolist() == [26, 27]


def test_list_members_page(ws, load):
    r = load("v1_list_members.json", "twitter_v1")
    f = r.files[0]
    assert f.target == "accounts"
    assert (f.n_read, f.n_loaded, f.n_duplicate, f.n_quarantined) == (4, 2, 1, 1)
    a = ws.sql("SELECT * FROM accounts").set_index("account_id")
    assert a.loc["twitter:30354991"].url == "https://harris.senate.gov"
    s = ws.sql("SELECT * FROM account_snapshots ORDER BY account_id")
    # observed at the newest embedded status of the page (no retrieval stamp in v1.1 pages)
    assert set(s.observed_at.astype(str)) == {"2017-07-16 22:39:01+00:00"}
    assert ws.count("posts") == 1


@pytest.mark.skipif(not (SHARED_DATA / "congresstweets_accounts").exists(), reason="no shared data")
def test_real_list_members_2017(ws):
    path = SHARED_DATA / "congresstweets_accounts" / "list-members-2017.json.gz"
    r = ws.ingest(path)
    f = r.files[0]
    assert f.format == "twitter_v1" and f.balanced
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (1063, 1063, 0)
    assert ws.count("accounts") == 1063
    assert ws.count("account_snapshots") == 1063
    assert ws.count("posts") == 1057  # the users' embedded latest statuses
    obs = ws.sql("SELECT DISTINCT observed_at FROM account_snapshots").observed_at.astype(str).tolist()
    assert obs == ["2017-08-09 19:09:34+00:00"]
