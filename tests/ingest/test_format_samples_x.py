"""Every X/Twitter-family file of ``../shared/data/format_samples/`` (twitter_v1, twitter_v2, each
twitter_archive folder, congresstweets), ingested as a user would: per-file counts, per-table counts,
and values checked against the sample's own raw JSON/CSV, read here independently of the readers.

The counts are pinned (any change in what a reader does shows up here); the spot values are
computed from the raw records, so they say *what* each count is made of.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

import socialens
from socialens.ingest import detect_format
from tests.conftest import SHARED_DATA

SAMPLES = SHARED_DATA / "format_samples"
FAMILIES = ("twitter_v1", "twitter_v2", "twitter_archive", "congresstweets")

pytestmark = pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/data/format_samples is absent")

#: file (relative to format_samples) -> (format, target, read, loaded, duplicate, quarantined,
#: api_errors) for every file that the path's ingest loads, and the table counts afterwards
#: (accounts, account_snapshots, posts, post_entities). Archive folders list one entry per .js file.
EXPECTED: dict[str, dict] = {
    # -- X API v1.1 ---------------------------------------------------------------------------
    "twitter_v1/python-twitter_streaming_extended_tweet.json": {
        "files": [("twitter_v1", "posts", 1, 1, 0, 0, 0)], "tables": (1, 1, 1, 2)},
    "twitter_v1/python-twitter_streaming_lines.json": {
        "files": [("twitter_v1", "posts", 72, 71, 1, 0, 0)], "tables": (79, 79, 79, 309)},
    "twitter_v1/tweepy_followers_list_TweepyDev.json": {
        "files": [("twitter_v1", "accounts", 2, 2, 0, 0, 0)], "tables": (2, 0, 2, 2)},
    "twitter_v1/tweepy_lists_members_Official-Twitter-Accounts.json": {
        "files": [("twitter_v1", "accounts", 20, 20, 0, 0, 0)], "tables": (20, 0, 20, 29)},
    "twitter_v1/tweepy_search_tweets_q_tweepy.json": {
        "files": [("twitter_v1", "posts", 15, 15, 0, 0, 0)], "tables": (14, 0, 21, 29)},
    "twitter_v1/tweepy_statuses_retweets.json": {
        "files": [("twitter_v1", "posts", 15, 15, 0, 0, 0)], "tables": (15, 0, 16, 47)},
    "twitter_v1/tweepy_user_timeline_Twitter.json": {
        "files": [("twitter_v1", "posts", 20, 20, 0, 0, 0)], "tables": (1, 0, 20, 19)},
    "twitter_v1/tweepy_users_lookup.json": {
        "files": [("twitter_v1", "accounts", 2, 2, 0, 0, 0)], "tables": (2, 0, 2, 3)},
    # -- X API v2 -----------------------------------------------------------------------------
    "twitter_v2/edited.jsonl": {
        "files": [("twitter_v2", "posts", 1, 1, 0, 0, 0)], "tables": (1, 1, 1, 1)},
    "twitter_v2/flat.jsonl": {
        "files": [("twitter_v2", "posts", 100, 100, 0, 0, 0)], "tables": (96, 96, 100, 142)},
    "twitter_v2/lists.jsonl": {
        "files": [("twitter_v2", "posts", 6, 0, 0, 6, 0)], "tables": (0, 0, 0, 0)},
    "twitter_v2/noflat.jsonl": {
        # 2 tweets of data[] are also in an earlier tweet's includes: a record's own row wins
        "files": [("twitter_v2", "posts", 100, 100, 0, 0, 1)], "tables": (153, 153, 164, 226)},
    "twitter_v2/quoted_edit.jsonl": {
        "files": [("twitter_v2", "posts", 1, 1, 0, 0, 0)], "tables": (2, 2, 3, 5)},
    "twitter_v2/streaming_output_with_error.jsonl": {
        "files": [("twitter_v2", "posts", 8, 7, 0, 1, 0)], "tables": (11, 11, 11, 13)},
    "twitter_v2/twarc-csv_0.7.2_of_noflat.csv": {
        "files": [("twitter_v2", "posts", 100, 100, 0, 0, 0)], "tables": (96, 96, 100, 132)},
    "twitter_v2/twarc-csv_0.7.2_of_users.csv": {
        "files": [("twitter_v2", "accounts", 91, 91, 0, 0, 0)], "tables": (91, 91, 0, 0)},
    "twitter_v2/tweepy_v2_home_timeline.json": {
        "files": [("twitter_v2", "posts", 98, 0, 0, 98, 0)], "tables": (0, 0, 0, 0)},
    "twitter_v2/tweepy_v2_list_tweets.json": {
        "files": [("twitter_v2", "posts", 97, 0, 0, 97, 0)], "tables": (0, 0, 0, 0)},
    "twitter_v2/tweepy_v2_users_783214_following.json": {
        "files": [("twitter_v2", "accounts", 35, 35, 0, 0, 0)], "tables": (35, 0, 0, 0)},
    "twitter_v2/users.jsonl": {
        "files": [("twitter_v2", "accounts", 96, 91, 5, 0, 8)], "tables": (91, 91, 52, 103)},
    "twitter_v2/withheld.jsonl": {
        "files": [("twitter_v2", "posts", 215, 215, 0, 0, 5)], "tables": (147, 140, 284, 603)},
    # -- the account archive --------------------------------------------------------------------
    "twitter_archive/andreruffert+twitter": {
        "files": [("twitter_archive", "accounts", 1, 1, 0, 0, 0),
                  ("twitter_archive", "posts", 1986, 1986, 0, 0, 0),
                  ("twitter_archive", "edges", 420, 420, 0, 0, 0),
                  ("twitter_archive", "edges", 295, 295, 0, 0, 0)],
        "tables": (650, 0, 1986, 3343)},
    "twitter_archive/milahu+twitter-milahu104": {
        "files": [("twitter_archive", "accounts", 1, 1, 0, 0, 0),
                  ("twitter_archive", "posts", 2045, 2045, 0, 0, 0),
                  ("twitter_archive", "edges", 61, 61, 0, 0, 0),
                  ("twitter_archive", "edges", 167, 167, 0, 0, 0)],
        "tables": (223, 0, 2045, 3383)},
    # -- congresstweets ---------------------------------------------------------------------------
    "congresstweets/2017-06-01.excerpt.json": {
        "files": [("congresstweets", "posts", 5, 5, 0, 0, 0)], "tables": (5, 0, 5, 12)},
    "congresstweets/2017-07-10.excerpt.json": {
        "files": [("congresstweets", "posts", 8, 8, 0, 0, 0)], "tables": (8, 0, 8, 11)},
    "congresstweets/2023-06-30.excerpt.json": {
        "files": [("congresstweets", "posts", 8, 8, 0, 0, 0)], "tables": (8, 0, 8, 22)},
}


def _sample_paths() -> list[str]:
    if not SAMPLES.exists():
        return []
    out = []
    for fam in FAMILIES:
        for p in sorted((SAMPLES / fam).iterdir()):
            out.append(f"{fam}/{p.name}")
    return out


def test_every_sample_is_covered():
    """A sample added to the folders must be added here too (and so gets checked)."""
    assert sorted(_sample_paths()) == sorted(EXPECTED)


# -- helpers -----------------------------------------------------------------------------------
def _ts(value: str) -> pd.Timestamp:
    """A raw time (v1.1 ``Wed Dec 23 17:12:08 +0000 2020`` or ISO 8601) as a UTC Timestamp."""
    try:
        dt = datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return pd.Timestamp(dt.astimezone(UTC))


def _tw(native) -> str | None:
    return None if native in (None, "") else f"twitter:{native}"


def _posts(ws) -> pd.DataFrame:
    return ws.sql("SELECT * FROM posts").set_index("post_id")


def _none(v):
    return None if v is None or (isinstance(v, float) and pd.isna(v)) else v


def _snapshots(ws) -> dict[tuple[str, pd.Timestamp], int]:
    s = ws.sql("SELECT account_id, observed_at, followers FROM account_snapshots")
    return {(a, pd.Timestamp(o)): f for a, o, f in s.values.tolist()}


def _entities(ws, post_id: str) -> set[tuple[str, str]]:
    e = ws.sql(f"SELECT kind, value FROM post_entities WHERE post_id = '{post_id}'")
    return set(map(tuple, e.values.tolist()))


def _raw_json(rel: str):
    return json.loads((SAMPLES / rel).read_text(encoding="utf-8"))


def _raw_lines(rel: str) -> list:
    out = []
    for line in (SAMPLES / rel).read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            out.append(None)
    return out


def _check_v1_statuses(ws, statuses: list[dict], *, stamped: bool = False) -> None:
    """Each raw v1.1 status → its post: time, reply, quote, repost, audience; counters only when
    the raw file says when it was retrieved (a stream's ``timestamp_ms``)."""
    p = _posts(ws)
    snaps = _snapshots(ws)
    for s in statuses:
        post = p.loc[f"twitter:{s['id_str']}"]
        assert post.created_at == _ts(s["created_at"])
        assert post.account_id == f"twitter:{s['user']['id_str']}"
        assert _none(post.reply_to_post_id) == _tw(s.get("in_reply_to_status_id_str"))
        assert _none(post.reply_to_account_id) == _tw(s.get("in_reply_to_user_id_str"))
        assert _none(post.quote_of) == _tw(s.get("quoted_status_id_str"))
        rt = s.get("retweeted_status")
        assert _none(post.repost_of) == (_tw(rt["id_str"]) if rt else None)
        assert post.visibility == ("followers" if s["user"].get("protected") else "public")
        if stamped:
            seen = pd.Timestamp(int(s["timestamp_ms"]), unit="ms", tz="UTC")
            assert snaps[(post.account_id, seen)] == s["user"]["followers_count"]
    if not stamped:
        assert snaps == {}, "counters of an unstamped page must not be dated"


def _check_v2_pages(ws, pages: list[dict]) -> None:
    """Each tweet of twarc2 pages → its post (time, text, references, audience) and its author's
    counters observed at the page's ``__twarc.retrieved_at``."""
    p = _posts(ws)
    snaps = _snapshots(ws)
    for page in pages:
        if page is None:
            continue
        users = {u["id"]: u for u in (page.get("includes") or {}).get("users", [])}
        seen = _ts(page["__twarc"]["retrieved_at"])
        data = page["data"] if isinstance(page["data"], list) else [page["data"]]
        for t in data:
            post = p.loc[f"twitter:{t['id']}"]
            assert post.created_at == _ts(t["created_at"])
            assert post.account_id == f"twitter:{t['author_id']}"
            refs = {r["type"]: _tw(r["id"]) for r in t.get("referenced_tweets") or []}
            assert _none(post.reply_to_post_id) == refs.get("replied_to")
            assert _none(post.quote_of) == refs.get("quoted")
            assert _none(post.repost_of) == refs.get("retweeted")
            assert _none(post.reply_to_account_id) == _tw(t.get("in_reply_to_user_id"))
            author = users.get(t["author_id"])
            if author:
                assert post.visibility == ("followers" if author.get("protected") else "public")
                key = (f"twitter:{t['author_id']}", seen)
                assert snaps[key] == author["public_metrics"]["followers_count"]


def _ingest(ws, rel: str):
    path = SAMPLES / rel
    result = ws.ingest(path)
    exp = EXPECTED[rel]
    got = [(f.format, f.target, f.n_read, f.n_loaded, f.n_duplicate, f.n_quarantined,
            sum(f.api_errors.values())) for f in result.files]
    assert got == exp["files"], [f.as_dict() for f in result.files]
    assert all(f.balanced for f in result.files)
    tables = tuple(ws.count(t) for t in ("accounts", "account_snapshots", "posts", "post_entities"))
    assert tables == exp["tables"]
    return result


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """``ingested(rel)`` → ``(workspace, result)``: each sample ingested once (and its counts
    checked) in its own workspace, shared by the tests of this module, which only read it."""
    cache: dict[str, tuple] = {}

    def get(rel: str):
        if rel not in cache:
            w = socialens.open(tmp_path_factory.mktemp("sample") / "ws.duckdb")
            cache[rel] = (w, _ingest(w, rel))
        return cache[rel]

    yield get
    for w, _ in cache.values():
        w.close()


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_counts(ingested, rel):
    """Detected as the expected format; read = loaded + duplicate + quarantined; pinned counts."""
    assert detect_format(SAMPLES / rel) == EXPECTED[rel]["files"][0][0]
    ingested(rel)


# -- X API v1.1 ---------------------------------------------------------------------------------
def test_v1_user_timeline_not_back_dated(ingested):
    """20 tweets of @Twitter: each post as in the raw page; the author's counters (seen when the
    page was fetched, which the page does not say) are not dated at the 20 tweet times."""
    rel = "twitter_v1/tweepy_user_timeline_Twitter.json"
    ws, _ = ingested(rel)
    raw = _raw_json(rel)
    _check_v1_statuses(ws, raw)
    acc = ws.sql("SELECT * FROM accounts").iloc[0]
    assert (acc.account_id, acc.handle) == (f"twitter:{raw[0]['user']['id_str']}", raw[0]["user"]["screen_name"])
    plain = next(s for s in raw if "&" not in s["text"] and "http" not in s["text"])
    assert _posts(ws).loc[f"twitter:{plain['id_str']}"].text == plain["text"]


def test_v1_streaming_counters_at_delivery(ingested):
    rel = "twitter_v1/python-twitter_streaming_lines.json"
    ws, _ = ingested(rel)
    _check_v1_statuses(ws, [s for s in _raw_lines(rel) if s], stamped=True)


def test_v1_extended_tweet(ingested):
    rel = "twitter_v1/python-twitter_streaming_extended_tweet.json"
    ws, _ = ingested(rel)
    raw = _raw_json(rel)
    _check_v1_statuses(ws, [raw], stamped=True)
    post = _posts(ws).loc[f"twitter:{raw['id_str']}"]
    assert post.text == raw["extended_tweet"]["full_text"].replace("&amp;", "&")
    tags = {h["text"].casefold() for h in raw["extended_tweet"]["entities"]["hashtags"]}
    assert {v for k, v in _entities(ws, post.name) if k == "hashtag"} == tags


def test_v1_search_page_and_retweets(ingested):
    rel = "twitter_v1/tweepy_search_tweets_q_tweepy.json"
    ws, _ = ingested(rel)
    _check_v1_statuses(ws, _raw_json(rel)["statuses"])


def test_v1_statuses_retweets(ingested):
    rel = "twitter_v1/tweepy_statuses_retweets.json"
    ws, _ = ingested(rel)
    raw = _raw_json(rel)
    _check_v1_statuses(ws, raw)
    assert {s["retweeted_status"]["id_str"] for s in raw} == {
        r.split(":")[1] for r in _posts(ws).repost_of.dropna()}


@pytest.mark.parametrize("rel", ["twitter_v1/tweepy_followers_list_TweepyDev.json",
                                 "twitter_v1/tweepy_lists_members_Official-Twitter-Accounts.json",
                                 "twitter_v1/tweepy_users_lookup.json"])
def test_v1_user_pages(ingested, rel):
    """Users pages: one account per user (handle, creation time); the embedded latest status is
    a post, followers-only when the user is protected; no retrieval stamp, so no snapshot."""
    ws, _ = ingested(rel)
    raw = _raw_json(rel)
    users = raw["users"] if isinstance(raw, dict) else raw
    acc = ws.sql("SELECT * FROM accounts").set_index("account_id")
    p = _posts(ws)
    for u in users:
        a = acc.loc[f"twitter:{u['id_str']}"]
        assert a.handle == u["screen_name"]
        assert pd.Timestamp(a.created_at) == _ts(u["created_at"])
        if u.get("status"):
            post = p.loc[f"twitter:{u['status']['id_str']}"]
            assert post.created_at == _ts(u["status"]["created_at"])
            assert post.visibility == ("followers" if u["protected"] else "public")
    assert ws.count("account_snapshots") == 0
    if "TweepyDev" in rel:  # Harmon758 is protected in the raw page
        assert {u["screen_name"] for u in users if u["protected"]} == {"Harmon758"}
        assert (p.visibility == "followers").sum() == 1


# -- X API v2 -----------------------------------------------------------------------------------
def test_v2_noflat_pages(ingested):
    rel = "twitter_v2/noflat.jsonl"
    ws, r = ingested(rel)
    _check_v2_pages(ws, _raw_lines(rel))
    # the page's one error (a mentioned user that is suspended) is counted apart, not quarantined
    assert dict(r.files[0].api_errors) == {"user: Forbidden (entities.mentions.username)": 1}
    # data[] tweets are records of the collection; includes.tweets arrived embedded in them
    page = _raw_lines(rel)[0]
    data_ids = {f"twitter:{t['id']}" for t in page["data"]}
    how = dict(ws.sql("SELECT post_id, collected_as FROM posts").values.tolist())
    assert {k for k, v in how.items() if v == "record"} == data_ids
    assert {k for k, v in how.items() if v == "embedded"} == \
        {f"twitter:{t['id']}" for t in page["includes"]["tweets"]} - data_ids


def test_v2_flat(ingested):
    rel = "twitter_v2/flat.jsonl"
    ws, _ = ingested(rel)
    p = _posts(ws)
    snaps = _snapshots(ws)
    for t in _raw_lines(rel):
        post = p.loc[f"twitter:{t['id']}"]
        assert post.created_at == _ts(t["created_at"])
        refs = {x["type"]: _tw(x["id"]) for x in t.get("referenced_tweets") or []}
        assert _none(post.quote_of) == refs.get("quoted")
        assert _none(post.repost_of) == refs.get("retweeted")
        key = (f"twitter:{t['author']['id']}", _ts(t["__twarc"]["retrieved_at"]))
        assert snaps[key] == t["author"]["public_metrics"]["followers_count"]


@pytest.mark.parametrize("rel", ["twitter_v2/edited.jsonl", "twitter_v2/quoted_edit.jsonl",
                                 "twitter_v2/streaming_output_with_error.jsonl"])
def test_v2_small_pages(ingested, rel):
    ws, r = ingested(rel)
    _check_v2_pages(ws, _raw_lines(rel))
    if "streaming" in rel:
        assert "broken JSON" in " ".join(r.files[0].reasons)
    if rel.endswith("/edited.jsonl"):
        t = _raw_lines(rel)[0]["data"][0]
        assert json.loads(_posts(ws).loc[f"twitter:{t['id']}"]["attrs"])["edit_history_tweet_ids"] == \
            t["edit_history_tweet_ids"]


def test_v2_withheld_api_errors_apart(ingested):
    rel = "twitter_v2/withheld.jsonl"
    ws, r = ingested(rel)
    pages = _raw_lines(rel)
    _check_v2_pages(ws, pages)
    errors = [e for pg in pages for e in pg.get("errors") or []]
    assert sum(r.files[0].api_errors.values()) == len(errors) == 5
    assert r.files[0].api_errors["tweet: Not Found Error (referenced_tweets.id)"] == 2
    assert r.files[0].n_quarantined == 0


def test_v2_users_page(ingested):
    """96 users (5 repeated), 8 API errors (7 pinned tweets, 1 user) counted apart, the 52
    pinned tweets as posts, counters at the page's retrieval time."""
    rel = "twitter_v2/users.jsonl"
    ws, r = ingested(rel)
    page = _raw_lines(rel)[0]
    f = r.files[0]
    assert f.api_errors == {"tweet: Not Found Error (pinned_tweet_id)": 6,
                            "tweet: Authorization Error (pinned_tweet_id)": 1,
                            "user: Not Found Error (ids)": 1}
    assert sum(f.api_errors.values()) == len(page["errors"])
    seen = _ts(page["__twarc"]["retrieved_at"])
    snaps = _snapshots(ws)
    for u in page["data"]:
        assert snaps[(f"twitter:{u['id']}", seen)] == u["public_metrics"]["followers_count"]
    p = _posts(ws)
    pinned = page["includes"]["tweets"]
    assert sorted(p.index) == sorted(f"twitter:{t['id']}" for t in pinned)
    for t in pinned:
        assert p.loc[f"twitter:{t['id']}"].created_at == _ts(t["created_at"])
    protected = [u for u in page["data"] if u.get("protected")]
    assert [u["username"] for u in protected] == ["charredbrisket"]
    a = ws.sql(f"SELECT attrs FROM accounts WHERE account_id = 'twitter:{protected[0]['id']}'")
    assert json.loads(a["attrs"][0])["protected"] is True


def test_v2_following_page_without_stamp(ingested):
    rel = "twitter_v2/tweepy_v2_users_783214_following.json"
    ws, _ = ingested(rel)
    raw = _raw_json(rel)
    handles = dict(ws.sql("SELECT account_id, handle FROM accounts").values.tolist())
    assert handles == {f"twitter:{u['id']}": u["username"] for u in raw["data"]}
    assert ws.count("account_snapshots") == 0  # a saved response body: no retrieval time


@pytest.mark.parametrize("rel", ["twitter_v2/tweepy_v2_home_timeline.json",
                                 "twitter_v2/tweepy_v2_list_tweets.json"])
def test_v2_tweets_without_author_say_why(ingested, rel):
    """Collected without ``author_id``: no post can name its account; every tweet is quarantined
    with the reason and the fix."""
    ws, r = ingested(rel)
    assert "author_id" not in json.dumps(_raw_json(rel)["data"])
    assert list(r.files[0].reasons) == [
        "the tweet has no author_id; collect with tweet.fields=author_id (twarc2 does by default)"]


def test_v2_lists_say_what_to_do(ingested):
    _, r = ingested("twitter_v2/lists.jsonl")
    assert all("is an X list" in k and "twarc2 lists members" in k for k in r.files[0].reasons)


def test_twarc_csv_tweets(ingested):
    """twarc-csv of noflat.jsonl: every row loads (12 were quarantined with AttributeError), the
    entities written as lists of strings are read (0 of them were), values as in the CSV."""
    rel = "twitter_v2/twarc-csv_0.7.2_of_noflat.csv"
    ws, _ = ingested(rel)
    with open(SAMPLES / rel, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    p = _posts(ws)
    snaps = _snapshots(ws)
    n_ents = 0
    for row in rows:
        pid = f"twitter:{row['id']}"
        post = p.loc[pid]
        assert post.created_at == _ts(row["created_at"])
        assert _none(post.quote_of) == _tw(row["referenced_tweets.quoted.id"])
        assert _none(post.reply_to_post_id) == _tw(row["referenced_tweets.replied_to.id"])
        assert _none(post.repost_of) == _tw(row["referenced_tweets.retweeted.id"])
        key = (f"twitter:{row['author_id']}", _ts(row["__twarc.retrieved_at"]))
        assert snaps[key] == int(row["author.public_metrics.followers_count"])
        want = set()
        for col, kind, strip in (("entities.hashtags", "hashtag", "#"), ("entities.mentions", "mention", "@"),
                                 ("entities.urls", "url", "")):
            for v in json.loads(row[col] or "[]"):
                want.add((kind, v.lstrip(strip).casefold() if strip else v))
        assert _entities(ws, pid) == want
        n_ents += len(want)
    assert n_ents == ws.count("post_entities") == 132
    with_url = next(r for r in rows if r["author.entities.url.urls"])
    url = ws.sql(f"SELECT url FROM accounts WHERE account_id = 'twitter:{with_url['author_id']}'").url[0]
    assert url == json.loads(with_url["author.entities.url.urls"])[0]


def test_twarc_csv_users(ingested):
    """The users CSV is detected and each row is an account with a snapshot at retrieval time,
    with the same numbers as the users.jsonl it was made from."""
    rel = "twitter_v2/twarc-csv_0.7.2_of_users.csv"
    ws, _ = ingested(rel)
    with open(SAMPLES / rel, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    snaps = _snapshots(ws)
    acc = ws.sql("SELECT * FROM accounts").set_index("account_id")
    for row in rows:
        aid = f"twitter:{row['id']}"
        assert acc.loc[aid].handle == row["username"]
        assert snaps[(aid, _ts(row["__twarc.retrieved_at"]))] == int(row["public_metrics.followers_count"])
    page = _raw_lines("twitter_v2/users.jsonl")[0]
    assert {f"twitter:{u['id']}" for u in page["data"]} == set(acc.index)


# -- the account archive ------------------------------------------------------------------------
def _read_js(path: Path):
    text = path.read_text(encoding="utf-8")
    return json.loads(text[text.index("=") + 1:])


_STATUS_LINK = re.compile(r"^https?://(?:www\.)?(?:twitter|x)\.com/\w+/status/(\d+)$")


@pytest.mark.parametrize("folder,quote,n_quotes", [
    ("andreruffert+twitter", ("1486721823299407877", "1486023451584638980"), 89),
    ("milahu+twitter-milahu104", ("2029905358261502168", "2027739112069878026"), 39),
])
def test_archive(ingested, folder, quote, n_quotes):
    rel = f"twitter_archive/{folder}"
    ws, _ = ingested(rel)
    data = SAMPLES / rel / "data"
    owner = _read_js(data / "account.js")[0]["account"]
    tweets = [x["tweet"] for x in _read_js(data / "tweets.js")]
    p = _posts(ws)
    for t in tweets:
        post = p.loc[f"twitter:{t['id_str']}"]
        assert post.account_id == f"twitter:{owner['accountId']}"
        assert post.created_at == _ts(t["created_at"])
        assert _none(post.reply_to_post_id) == _tw(t.get("in_reply_to_status_id_str"))
        assert post.like_count == int(t["favorite_count"])
    # a quote: the text ends with the quoted status's link
    qid, quoted = quote
    t = next(x for x in tweets if x["id_str"] == qid)
    assert _STATUS_LINK.match(t["entities"]["urls"][-1]["expanded_url"]).group(1) == quoted
    assert p.loc[f"twitter:{qid}"].quote_of == f"twitter:{quoted}"
    # every quote_of is a status linked at the end of a non-retweet
    quotes = p.quote_of.dropna()
    assert len(quotes) == n_quotes
    by_id = {x["id_str"]: x for x in tweets}
    for pid, q in quotes.items():
        t = by_id[pid.split(":")[1]]
        assert not t["full_text"].startswith("RT @")
        assert any(u["expanded_url"].endswith(q.split(":")[1]) for u in t["entities"]["urls"])
    n_follow = len(_read_js(data / "follower.js")) + len(_read_js(data / "following.js"))
    assert ws.sql("SELECT count(*) n FROM edges WHERE kind = 'follows'").n[0] == n_follow
    assert ws.count("account_snapshots") == 0  # an archive holds no counters


# -- congresstweets -------------------------------------------------------------------------------
def test_congresstweets_before_user_id(ingested):
    """The early files name authors by handle only: detected, loaded onto handle-keyed accounts."""
    rel = "congresstweets/2017-06-01.excerpt.json"
    raw = _raw_json(rel)
    assert not any("user_id" in r for r in raw)
    ws, _ = ingested(rel)
    p = _posts(ws)
    for r in raw:
        post = p.loc[f"twitter:{r['id']}"]
        assert post.account_id == f"twitter:@{r['screen_name'].lower()}"
        assert post.created_at == _ts(r["time"])
    handles = ws.sql("SELECT handle FROM accounts ORDER BY 1").handle.tolist()
    assert handles == sorted(r["screen_name"] for r in raw)
    rt = next(r for r in raw if r["text"].startswith("RT @"))
    assert p.loc[f"twitter:{rt['id']}"].repost_of == f"twitter:{rt['link'].rsplit('/', 1)[1]}"
    qt = next(r for r in raw if " QT @" in r["text"])  # t.co link: the quoted status is unknown
    assert _none(p.loc[f"twitter:{qt['id']}"].quote_of) is None


def test_congresstweets_2023_quote_and_entities(ingested):
    rel = "congresstweets/2023-06-30.excerpt.json"
    raw = _raw_json(rel)
    ws, _ = ingested(rel)
    p = _posts(ws)
    for r in raw:
        post = p.loc[f"twitter:{r['id']}"]
        assert post.account_id == f"twitter:{r['user_id']}"
        assert post.created_at == _ts(r["time"])
    qt = next(r for r in raw if " QT @" in r["text"])
    link = re.search(r"twitter\.com/\w+/status/(\d+) QT @", qt["text"]).group(1)
    assert p.loc[f"twitter:{qt['id']}"].quote_of == f"twitter:{link}"
    amp = next(r for r in raw if "&amp;" in r["text"])
    assert "&amp;" not in p.loc[f"twitter:{amp['id']}"].text
    rts = [r for r in raw if r["text"].startswith("RT @")]
    assert sorted(p.repost_of.dropna()) == sorted(f"twitter:{r['link'].rsplit('/', 1)[1]}" for r in rts)


def test_congresstweets_2017_07(ingested):
    rel = "congresstweets/2017-07-10.excerpt.json"
    raw = _raw_json(rel)
    ws, _ = ingested(rel)
    p = _posts(ws)
    for r in raw:
        assert p.loc[f"twitter:{r['id']}"].account_id == f"twitter:{r['user_id']}"


def test_cli_shows_api_errors(tmp_path):
    """``socialens ingest`` prints the API errors apart from the quarantine."""
    from typer.testing import CliRunner

    from socialens.cli import app

    res = CliRunner().invoke(app, ["ingest", str(SAMPLES / "twitter_v2" / "users.jsonl"),
                                   "-w", str(tmp_path / "ws.duckdb")])
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if "API errors in users.jsonl" in x)
    assert ": 8 (6 × tweet: Not Found Error (pinned_tweet_id);" in line
    row = next(x for x in res.output.splitlines() if x.strip().startswith("users.jsonl"))
    assert [c.strip() for c in row.replace("┃", "│").split("│")][2:] == ["96", "91", "5", "0"]
