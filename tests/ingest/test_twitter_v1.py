import json

import pytest

from tests.conftest import SHARED_DATA
from tests.ingest.conftest import reasons

USER = {"id": 1001, "id_str": "1001", "screen_name": "acme_ceo", "name": "Ada", "followers_count": 500,
        "friends_count": 10, "statuses_count": 40, "listed_count": 2, "protected": False,
        "created_at": "Tue Apr 21 00:00:00 +0000 2009"}


def status(sid: str, created: str, user: dict, **kw) -> dict:
    return {"id_str": sid, "created_at": created, "text": f"tweet {sid}", "user": user,
            "entities": {"hashtags": [], "user_mentions": [], "urls": []}, **kw}


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
    # no retrieval stamp: the counters are not dated at the statuses' own times (back-dated)
    assert ws.count("account_snapshots") == 0
    assert ws.sql("SELECT count(*) n FROM accounts WHERE account_id = 'twitter:878301212025782272'").n[0] == 1


def test_list_members_page(ws, load):
    r = load("v1_list_members.json", "twitter_v1")
    f = r.files[0]
    assert f.target == "accounts"
    assert (f.n_read, f.n_loaded, f.n_duplicate, f.n_quarantined) == (4, 2, 1, 1)
    a = ws.sql("SELECT * FROM accounts").set_index("account_id")
    assert a.loc["twitter:30354991"].url == "https://harris.senate.gov"
    s = ws.sql("SELECT * FROM account_snapshots ORDER BY account_id")
    # no retrieval stamp in the page: no snapshot (the newest status is not when it was fetched)
    assert s.empty
    assert ws.count("posts") == 1


@pytest.mark.skipif(not (SHARED_DATA / "congresstweets_accounts").exists(), reason="no shared data")
def test_real_list_members_2017(ws):
    path = SHARED_DATA / "congresstweets_accounts" / "list-members-2017.json.gz"
    r = ws.ingest(path)
    f = r.files[0]
    assert f.format == "twitter_v1" and f.balanced
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (1063, 1063, 0)
    assert ws.count("accounts") == 1063
    assert ws.count("account_snapshots") == 0  # the page has no retrieval stamp
    assert ws.count("posts") == 1057  # the users' embedded latest statuses


def test_timeline_counters_only_at_the_retrieval_stamp(ws, tmp_path):
    """A timeline's author counters are one observation, at the page's retrieval time, not one
    per tweet at each tweet's time."""
    tweets = [status(f"9{i}", f"Mon Jul {10 + i} 12:00:00 +0000 2017", USER) for i in range(3)]
    unstamped = tmp_path / "timeline.json"
    unstamped.write_text(json.dumps(tweets))
    r = ws.ingest(unstamped)
    assert (r.files[0].n_read, r.files[0].n_loaded) == (3, 3)
    assert ws.count("account_snapshots") == 0
    stamped = tmp_path / "pages.jsonl"
    page = {"statuses": [status(f"8{i}", f"Mon Jul {10 + i} 12:00:00 +0000 2017", USER)
                         for i in range(3)],
            "__twarc": {"url": "https://api.twitter.com/1.1/search/tweets.json",
                        "retrieved_at": "2017-08-01T09:30:00+00:00", "version": "1.12.1"}}
    stamped.write_text(json.dumps(page) + "\n")
    ws.ingest(stamped)
    s = ws.sql("SELECT observed_at, followers FROM account_snapshots")
    assert s.followers.tolist() == [500]
    assert s.observed_at.astype(str).tolist() == ["2017-08-01 09:30:00+00:00"]


def test_streamed_status_counters_at_delivery(ws, tmp_path):
    """A streamed status (``timestamp_ms``) and the retweeted author inside it are rendered when
    the stream delivered it: both counters are observed then, not at the original's time."""
    orig_user = {**USER, "id": 2002, "id_str": "2002", "screen_name": "orig", "followers_count": 9000}
    rt = status("71", "Wed Mar 07 10:00:00 +0000 2018", {**USER, "followers_count": 501},
                retweeted_status=status("70", "Mon Jan 01 00:00:00 +0000 2018", orig_user),
                timestamp_ms="1520416800000")
    f = tmp_path / "stream.jsonl"
    f.write_text(json.dumps(rt) + "\n")
    ws.ingest(f)
    s = ws.sql("SELECT account_id, observed_at, followers FROM account_snapshots ORDER BY 1")
    assert s.account_id.tolist() == ["twitter:1001", "twitter:2002"]
    assert s.followers.tolist() == [501, 9000]
    assert set(s.observed_at.astype(str)) == {"2018-03-07 10:00:00+00:00"}


def test_protected_author_posts_are_followers_only(ws, tmp_path):
    locked = {**USER, "id": 3003, "id_str": "3003", "screen_name": "locked", "protected": True}
    f = tmp_path / "timeline.json"
    f.write_text(json.dumps([status("61", "Mon Jul 10 12:00:00 +0000 2017", locked),
                             status("62", "Mon Jul 10 13:00:00 +0000 2017", USER)]))
    ws.ingest(f)
    v = dict(ws.sql("SELECT post_id, visibility FROM posts").values.tolist())
    assert v == {"twitter:61": "followers", "twitter:62": "public"}
