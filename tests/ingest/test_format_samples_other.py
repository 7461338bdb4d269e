"""Every 4CAT, Bluesky, feed and Mastodon sample of ../shared/data/format_samples, ingested.

Per file: the counts (read / loaded / duplicate / quarantined) and spot values read from the
sample's own raw JSON / CSV / XML in the test. The ``missing/`` formats (LinkedIn, Slack) must fail
with a message naming the file and saying the format is not supported yet. X/Twitter samples are in
``test_format_samples_x.py``.
"""

from __future__ import annotations

import csv
import html
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlparse

import pytest

import socialens
from socialens.errors import InputFileError
from socialens.ingest import detect_format
from tests.conftest import SHARED_DATA

SAMPLES = SHARED_DATA / "format_samples"
pytestmark = pytest.mark.skipif(not SAMPLES.exists(), reason="no shared data (format_samples)")

#: file → (format, read, loaded, duplicate, quarantined)
EXPECTED = {
    "fourcat/4cat-bsky_of_telsky_getAuthorFeed.csv": ("fourcat", 30, 30, 0, 0),
    "fourcat/4cat-bsky_of_telsky_getAuthorFeed.ndjson": ("fourcat", 30, 30, 0, 0),
    "fourcat/4cat-twitterv2_of_twarc-csv_noflat.csv": ("fourcat", 99, 99, 0, 0),
    # 4CAT stores X items as tweet objects with author_user: the v2 reader reads them
    "fourcat/4cat-twitterv2_of_twarc-csv_noflat.ndjson": ("twitter_v2", 99, 99, 0, 0),
    "bluesky/atproto_get_follows.json": ("bluesky", 6, 6, 0, 0),
    "bluesky/atproto_thread_view_post_with_embed_media.json": ("bluesky", 1, 1, 0, 0),
    "bluesky/telsky_getAuthorFeed.json": ("bluesky", 30, 30, 0, 0),
    # the feed names itself only by relative links (feed.xml, ./): no account can be named
    "feeds/honolulu-crash-feed_feed.xml": ("feeds", 3, 0, 0, 3),
    "feeds/iranzo_hugo_blog_index.xml": ("feeds", 131, 131, 0, 0),
    "feeds/iranzo_octopress_atom.xml": ("feeds", 13, 13, 0, 0),
    "mastodon/masto-archive_actor.json": ("mastodon", 1, 1, 0, 0),
    "mastodon/masto-archive_outbox.json": ("mastodon", 1586, 1586, 0, 0),
    "mastodon/mastodonpy_account.json": ("mastodon", 1, 1, 0, 0),
    "mastodon/mastodonpy_account_statuses_pinned.json": ("mastodon", 1, 1, 0, 0),
    "mastodon/mastodonpy_status_card.json": ("mastodon", 1, 1, 0, 0),
    "mastodon/mastodonpy_status_reblog.json": ("mastodon", 1, 1, 0, 0),
    "mastodon/mastodonpy_status_with_quote.json": ("mastodon", 1, 1, 0, 0),
    "mastodon/mastodonpy_timelines_home.json": ("mastodon", 13, 13, 0, 0),
    "mastodon/mastodonpy_timelines_public.json": ("mastodon", 8, 8, 0, 0),
}
NOT_READ: set[str] = set()  # every sample of these folders is read


def _ingest(tmp_path_factory, *names: str):
    ws = socialens.open(tmp_path_factory.mktemp("ws") / "ws.duckdb")
    result = ws.ingest(*(SAMPLES / n for n in names))
    return ws, result


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """``loaded(name)``: a workspace with that one sample ingested, and the result (cached)."""
    cache: dict[str, tuple] = {}
    opened = []

    def get(name: str):
        if name not in cache:
            cache[name] = _ingest(tmp_path_factory, name)
            opened.append(cache[name][0])
        return cache[name]

    yield get
    for ws in opened:
        ws.close()


def _posts(ws, where: str = "TRUE"):
    return ws.sql(f"SELECT * FROM posts WHERE {where}").set_index("post_id")


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_every_sample_is_listed():
    on_disk = {str(p.relative_to(SAMPLES)) for d in ("fourcat", "bluesky", "feeds", "mastodon")
               for p in (SAMPLES / d).iterdir() if p.is_file()}
    assert on_disk == set(EXPECTED) | NOT_READ


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts(loaded, name):
    fmt, *counts = EXPECTED[name]
    assert detect_format(SAMPLES / name) == fmt
    ws, result = loaded(name)
    (f,) = result.files
    assert f.balanced
    assert [f.n_read, f.n_loaded, f.n_duplicate, f.n_quarantined] == counts, f.as_dict()


def test_mastodon_archive_actor(loaded):
    ws, result = loaded("mastodon/masto-archive_actor.json")
    actor = json.loads((SAMPLES / "mastodon/masto-archive_actor.json").read_text())
    (f,) = result.files
    assert (f.target, f.n_read, f.n_loaded) == ("accounts", 1, 1)
    a = ws.sql("SELECT * FROM accounts").iloc[0]
    # the same id and handle as the outbox's activities give the actor, so the files join
    assert a.account_id == "mastodon:indieweb.social/@dealingwith"
    assert a.handle == f"{actor['preferredUsername']}@indieweb.social"
    assert a.display_name == actor["name"] and a.url == actor["url"]
    assert a.bio == "ennui. far too much more info at link below"  # summary's HTML as text
    assert a.created_at.isoformat() == "2022-11-07T00:00:00+00:00"


# -- 4CAT -------------------------------------------------------------------------------------
def _csv(name: str) -> list[dict]:
    with open(SAMPLES / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (SAMPLES / name).read_text().splitlines() if line.strip()]


def test_fourcat_bluesky_csv_values(loaded):
    ws, _ = loaded("fourcat/4cat-bsky_of_telsky_getAuthorFeed.csv")
    posts = _posts(ws)
    rows = _csv("fourcat/4cat-bsky_of_telsky_getAuthorFeed.csv")
    assert len(posts) == len(rows) == 30
    for r in rows:
        p = posts.loc[f"bluesky:{r['id']}"]
        assert p.account_id == f"bluesky:{r['author_id']}"
        assert p.created_at == _utc(r["created_at"])
        assert int(p.created_at.timestamp()) == int(r["timestamp"])  # the integer timestamp agrees
        assert p.text == r["body"] and p.url == r["link"]
        assert (p.like_count, p.repost_count, p.reply_count, p.quote_count) == tuple(
            int(r[k]) for k in ("like_count", "repost_count", "reply_count", "quote_count"))
    handles = dict(ws.sql("SELECT account_id, handle FROM accounts").values.tolist())
    assert all(handles[f"bluesky:{r['author_id']}"] == r["author"] for r in rows)
    # the one reply in its author's own thread gets its parent; the link names the author by handle
    reply = next(r for r in rows if r["replied_to_user"] == r["author"])
    rkey = reply["replied_to_post"].rsplit("/", 1)[-1]
    assert posts.loc[f"bluesky:{reply['id']}"].reply_to_post_id == \
        f"bluesky:at://{reply['author_id']}/app.bsky.feed.post/{rkey}"


def test_fourcat_bluesky_ndjson_values(loaded):
    ws, _ = loaded("fourcat/4cat-bsky_of_telsky_getAuthorFeed.ndjson")
    posts = _posts(ws)
    for item in _jsonl("fourcat/4cat-bsky_of_telsky_getAuthorFeed.ndjson"):
        p = posts.loc[f"bluesky:{item['uri']}"]
        assert p.account_id == f"bluesky:{item['author']['did']}"
        assert p.text == item["record"]["text"]
        assert p.created_at == _utc(item["record"]["created_at"])
        assert p.like_count == item["like_count"]


def _native_originals(ws) -> set[str]:
    return set(ws.sql("SELECT post_id FROM posts WHERE repost_of IS NULL").post_id)


def test_fourcat_bluesky_joins_the_native_file(loaded):
    """The 4CAT exports of a getAuthorFeed give the native reader's post and account ids."""
    native, _ = loaded("bluesky/telsky_getAuthorFeed.json")
    feed = json.loads((SAMPLES / "bluesky/telsky_getAuthorFeed.json").read_text())["feed"]
    originals = {f"bluesky:{it['post']['uri']}" for it in feed}
    assert _native_originals(native) == originals
    native_accounts = set(native.sql("SELECT account_id FROM accounts").account_id)
    cols = "post_id, account_id, created_at, text, like_count, repost_count, reply_count, quote_count"
    want = native.sql(f"SELECT {cols} FROM posts WHERE repost_of IS NULL ORDER BY 1")
    for name in ("fourcat/4cat-bsky_of_telsky_getAuthorFeed.csv",
                 "fourcat/4cat-bsky_of_telsky_getAuthorFeed.ndjson"):
        ws, _ = loaded(name)
        assert set(ws.sql("SELECT post_id FROM posts").post_id) == originals, name
        authors = set(ws.sql("SELECT account_id FROM posts").account_id)
        assert authors <= native_accounts, name
        got = ws.sql(f"SELECT {cols} FROM posts ORDER BY 1")
        if name.endswith(".ndjson"):  # the CSV's integer timestamps and created_at keep ms too
            assert got.equals(want), name
        else:
            assert got.drop(columns="text").equals(want.drop(columns="text"))
    nd, _ = loaded("fourcat/4cat-bsky_of_telsky_getAuthorFeed.ndjson")
    same = ["post_id", "quote_of", "reply_to_post_id", "reply_to_account_id"]
    q = "SELECT post_id, quote_of, reply_to_post_id, reply_to_account_id FROM posts"
    assert nd.sql(f"{q} ORDER BY 1")[same].equals(
        native.sql(f"{q} WHERE repost_of IS NULL ORDER BY 1")[same])


def _snowflake_second(tweet_id: str) -> int:
    return ((int(tweet_id) >> 22) + 1288834974657) // 1000


def test_fourcat_twitter_csv_values(loaded):
    ws, _ = loaded("fourcat/4cat-twitterv2_of_twarc-csv_noflat.csv")
    posts = _posts(ws)
    rows = _csv("fourcat/4cat-twitterv2_of_twarc-csv_noflat.csv")
    for r in rows:
        p = posts.loc[f"twitter:{r['id']}"]
        assert p.account_id == f"twitter:{r['author_id']}"
        assert p.url == r["link"] and p.like_count == int(r["like_count"])
        assert p.text == html.unescape(r["body"])  # X escapes & < > in tweet text
        # `timestamp` is UTC; the tweet id's snowflake time is the independent check
        assert p.created_at == datetime.fromisoformat(r["timestamp"]).replace(tzinfo=UTC)
        assert int(p.created_at.timestamp()) == _snowflake_second(r["id"])
    tags = {(f"twitter:{r['id']}", t.lower()) for r in rows for t in r["hashtags"].split(",") if t}
    got = set(map(tuple, ws.sql("SELECT post_id, value FROM post_entities WHERE kind = 'hashtag'")
                  .values.tolist()))
    assert tags and got == tags


def test_fourcat_twitter_joins_the_native_file(loaded):
    """The 4CAT exports of a twarc2 page give the native reader's post and account ids."""
    native, _ = loaded("twitter_v2/noflat.jsonl")
    pages = _jsonl("twitter_v2/noflat.jsonl")
    top = {t["id"]: t for page in pages for t in page["data"]}
    # 4CAT's enrich_tweet raised KeyError: 'id' on one tweet and skipped it (SOURCES.md)
    exported = {r["id"] for r in _csv("fourcat/4cat-twitterv2_of_twarc-csv_noflat.csv")}
    assert len(top) == 100 and exported <= set(top)
    skipped = set(top) - exported
    assert len(skipped) == 1
    want = {f"twitter:{i}" for i in exported}
    native_posts = set(native.sql("SELECT post_id FROM posts").post_id)
    native_accounts = set(native.sql("SELECT account_id FROM accounts").account_id)
    assert want <= native_posts
    for name in ("fourcat/4cat-twitterv2_of_twarc-csv_noflat.csv",
                 "fourcat/4cat-twitterv2_of_twarc-csv_noflat.ndjson"):
        ws, _ = loaded(name)
        assert set(ws.sql("SELECT post_id FROM posts").post_id) == want, name
        authors = set(ws.sql("SELECT account_id FROM posts").account_id)
        assert authors == {f"twitter:{top[i]['author_id']}" for i in top if i not in skipped}
        assert authors <= native_accounts
        got = ws.sql("SELECT post_id, account_id, created_at FROM posts ORDER BY 1")
        ref = native.sql("SELECT post_id, account_id, created_at FROM posts ORDER BY 1")
        assert got.equals(ref[ref.post_id.isin(want)].reset_index(drop=True)), name


# -- Bluesky ----------------------------------------------------------------------------------
def _bsky(name: str) -> dict:
    return json.loads((SAMPLES / "bluesky" / name).read_text())


def test_bluesky_follows_values(loaded):
    ws, _ = loaded("bluesky/atproto_get_follows.json")
    raw = _bsky("atproto_get_follows.json")
    subject = f"bluesky:{raw['subject']['did']}"
    edges = ws.sql("SELECT src, dst, kind FROM edges WHERE kind = 'follows'").values.tolist()
    assert sorted(edges) == sorted([subject, f"bluesky:{f['did']}", "follows"] for f in raw["follows"])
    handles = dict(ws.sql("SELECT account_id, handle FROM accounts").values.tolist())
    for prof in [raw["subject"], *raw["follows"]]:
        assert handles[f"bluesky:{prof['did']}"] == prof["handle"]


def test_bluesky_thread_values(loaded):
    ws, _ = loaded("bluesky/atproto_thread_view_post_with_embed_media.json")
    pv = _bsky("atproto_thread_view_post_with_embed_media.json")["thread"]["post"]
    p = _posts(ws).loc[f"bluesky:{pv['uri']}"]
    assert p.account_id == f"bluesky:{pv['author']['did']}"
    assert p.created_at == _utc(pv["record"]["createdAt"])
    assert p.quote_of == f"bluesky:{pv['record']['embed']['record']['record']['uri']}"


def test_bluesky_author_feed_values(loaded):
    ws, _ = loaded("bluesky/telsky_getAuthorFeed.json")
    feed = _bsky("telsky_getAuthorFeed.json")["feed"]
    reposts = [it for it in feed if (it.get("reason") or {}).get("$type", "").endswith("#reasonRepost")]
    assert len(reposts) == 28
    posts = _posts(ws)
    assert len(posts) == 30 + 28  # the 30 posts and the 28 reposts of them
    for it in reposts:
        rid = f"bluesky:repost:{it['reason']['by']['did']}:{it['post']['uri']}"
        assert posts.loc[rid].repost_of == f"bluesky:{it['post']['uri']}"
        assert posts.loc[rid].created_at == _utc(it["reason"]["indexedAt"])
    for it in feed:
        p = posts.loc[f"bluesky:{it['post']['uri']}"]
        assert p.text == it["post"]["record"]["text"] and p.like_count == it["post"]["likeCount"]


# -- feeds ------------------------------------------------------------------------------------
def _xml(name: str) -> ET.Element:
    return ET.parse(SAMPLES / "feeds" / name).getroot()


def test_feed_relative_self_link_is_quarantined_with_reason(loaded):
    _, result = loaded("feeds/honolulu-crash-feed_feed.xml")
    (reason,) = result.files[0].reasons
    assert "relative links" in reason and "'feed.xml'" in reason


def test_feed_hugo_rss_values(loaded):
    ws, _ = loaded("feeds/iranzo_hugo_blog_index.xml")
    channel = _xml("iranzo_hugo_blog_index.xml").find("channel")
    atom = "{http://www.w3.org/2005/Atom}link"
    self_url = next(lk.get("href") for lk in channel.iter(atom) if lk.get("rel") == "self")
    posts = _posts(ws)
    items = channel.findall("item")
    assert len(items) == len(posts) == 131
    for item in items:
        guid = item.findtext("guid")
        p = posts.loc[f"blog:{guid}"]  # absolute URL guids are not scoped
        assert p.account_id == f"blog:{self_url}"
        assert p.created_at == parsedate_to_datetime(item.findtext("pubDate")).astimezone(UTC)
        assert p.url == item.findtext("link")
        assert p.text.startswith(item.findtext("title").strip())


def test_feed_octopress_atom_values(loaded):
    ws, _ = loaded("feeds/iranzo_octopress_atom.xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = _xml("iranzo_octopress_atom.xml")
    posts = _posts(ws)
    for e in root.findall("a:entry", ns):
        p = posts.loc[f"blog:{e.findtext('a:id', namespaces=ns)}"]
        assert p.account_id == "blog:http://iranzo.github.io/atom.xml"
        assert p.created_at == _utc(e.findtext("a:updated", namespaces=ns))  # no <published>


def test_feeds_together_do_not_collide(tmp_path_factory):
    names = ["feeds/iranzo_hugo_blog_index.xml", "feeds/iranzo_octopress_atom.xml"]
    ws, result = _ingest(tmp_path_factory, *names)
    assert [f.n_loaded for f in result.files] == [131, 13]
    assert ws.count("posts") == 144
    ws.close()


# -- Mastodon ---------------------------------------------------------------------------------
def _outbox_visibility(activity: dict) -> str:
    public = "https://www.w3.org/ns/activitystreams#Public"
    to, cc = activity.get("to") or [], activity.get("cc") or []
    if public in to:
        return "public"
    if public in cc:
        return "unlisted"
    if any(str(x).endswith("/followers") for x in to):
        return "followers"
    return "direct"


def test_mastodon_outbox_visibility(loaded):
    ws, _ = loaded("mastodon/masto-archive_outbox.json")
    items = json.loads((SAMPLES / "mastodon/masto-archive_outbox.json").read_text())["orderedItems"]
    assert [sum(i["type"] == t for i in items) for t in ("Create", "Announce")] == [1260, 326]
    counts = dict(ws.sql("SELECT visibility, count(*) FROM posts GROUP BY 1").values.tolist())
    assert counts == {"public": 1495, "unlisted": 16, "followers": 40, "direct": 35}
    posts = _posts(ws)
    for it in items:
        status = re.search(r"/statuses/(\d+)", it["id"]).group(1)
        p = posts.loc[f"mastodon:indieweb.social/{status}"]
        assert p.visibility == _outbox_visibility(it)
        assert p.created_at == _utc(it["published"])
        assert (p.repost_of is not None) == (it["type"] == "Announce")


def _statuses(name: str) -> list[dict]:
    doc = json.loads((SAMPLES / "mastodon" / name).read_text())
    return doc if isinstance(doc, list) else [doc]


@pytest.mark.parametrize("name", ["mastodonpy_account_statuses_pinned.json",
                                  "mastodonpy_status_card.json", "mastodonpy_status_reblog.json",
                                  "mastodonpy_status_with_quote.json",
                                  "mastodonpy_timelines_home.json",
                                  "mastodonpy_timelines_public.json"])
def test_mastodon_statuses_values(loaded, name):
    ws, _ = loaded(f"mastodon/{name}")
    posts = _posts(ws)
    for st in _statuses(name):
        host = urlparse(st["uri"]).hostname
        p = posts.loc[f"mastodon:{host}/{st['id']}"]
        assert p.created_at == _utc(st["created_at"])
        assert p.visibility == {"private": "followers"}.get(st["visibility"], st["visibility"])
        assert (p.repost_of is not None) == (st.get("reblog") is not None)


def test_mastodon_account_values(loaded):
    ws, _ = loaded("mastodon/mastodonpy_account.json")
    raw = json.loads((SAMPLES / "mastodon/mastodonpy_account.json").read_text())
    acc = ws.sql("SELECT * FROM accounts").iloc[0]
    assert acc.handle.split("@")[0] == raw["username"]
    assert acc.created_at == _utc(raw["created_at"])


def test_mixed_folder_reads_file_by_file(tmp_path_factory):
    """A folder of platform files is detected per file; the unreadable one is named."""
    ws = socialens.open(tmp_path_factory.mktemp("ws") / "ws.duckdb")
    result = ws.ingest(SAMPLES / "mastodon")
    read = {str(Path(f.path).relative_to(SAMPLES)) for f in result.files}
    assert read == {n for n in EXPECTED if n.startswith("mastodon/")}
    assert result.skipped == []  # the actor, the outbox and the API pages are all read
    assert all(f.balanced for f in result.files)
    assert result.totals["read"] == sum(EXPECTED[n][1] for n in EXPECTED if n.startswith("mastodon/"))
    # the outbox's posts and the actor document name the same account
    assert ws.sql("SELECT count(*) n FROM posts p LEFT JOIN accounts a USING (account_id) "
                  "WHERE p.post_id LIKE 'mastodon:indieweb.social/%' AND a.display_name IS NULL"
                  ).n[0] == 0
    ws.close()


def test_mixed_folder_names_the_file_it_cannot_read(tmp_path_factory):
    import shutil

    d = tmp_path_factory.mktemp("mixed")
    shutil.copy(SAMPLES / "mastodon" / "mastodonpy_account.json", d)
    (d / "notes.json").write_text('{"hello": "not a post"}')
    ws = socialens.open(tmp_path_factory.mktemp("ws") / "ws.duckdb")
    result = ws.ingest(d)
    assert [Path(f.path).name for f in result.files] == ["mastodonpy_account.json"]
    assert [Path(s.path).name for s in result.skipped] == ["notes.json"]
    assert "notes.json" in result.skipped[0].reason
    ws.close()


# -- formats not supported yet ----------------------------------------------------------------
MISSING = ["missing/linkedin_archive/Shares.csv", "missing/linkedin_archive/Comments.csv",
           "missing/slack_export/testarchive.zip"]


@pytest.mark.parametrize("name", MISSING)
def test_missing_formats_say_not_supported(ws, name):
    with pytest.raises(InputFileError) as exc:
        ws.ingest(SAMPLES / name)
    msg = str(exc.value)
    assert str(SAMPLES / name) in msg and "not supported yet" in msg
    assert ("LinkedIn" if "linkedin" in name else "Slack") in msg


@pytest.mark.parametrize("name", [*MISSING, "missing"])
def test_missing_formats_cli(tmp_path, name):
    from typer.testing import CliRunner

    from socialens.cli import app

    r = CliRunner().invoke(app, ["ingest", str(SAMPLES / name), "-w", str(tmp_path / "w.duckdb")])
    assert r.exit_code == 1
    assert "not supported yet" in r.output and "Traceback" not in r.output
    assert Path(name).name in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
