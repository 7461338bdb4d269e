"""Parity of the set-based twarc2 page path (socialens.ingest.twitter_v2_bulk) with the per-record
reference (twitter_v2.map_tweet through the Loader): every twarc2 JSONL sample of
``../shared/data/format_samples/twitter_v2`` and hand-made edge cases are ingested both ways into
fresh workspaces, and every table (posts, accounts, snapshots, post entities, derived edges,
quarantine with its reasons, ingest runs) and every file report must be identical; what the SQL
cannot decide goes through the per-record path, line by line or file by file, invisibly."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import pytest

import socialens
from socialens.ingest import twitter_v2_bulk as tb
from tests.ingest.parity import ingest_one_way
from tests.ingest.parity import tables as _tables

#: the product's setting, restored after every switch
DEFAULT = tb.ENABLED

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "format_samples"
V2 = SAMPLES / "twitter_v2"

needs_samples = pytest.mark.skipif(not V2.exists(), reason="needs ../shared/data/format_samples")


@pytest.fixture(autouse=True)
def _loud():
    """A staging error is a test failure here, not a silent fallback."""
    tb.CATCH = False
    yield
    tb.CATCH = True




def _ingest(tmp: Path, paths: list[Path], bulk: bool):
    return ingest_one_way(tb, tmp, paths, bulk, format="twitter_v2")


def _parity(tmp: Path, paths: list[Path]) -> tuple[dict, dict]:
    """Both ways; the tables of the bulk run and which way each file went."""
    before = dict(tb.STATS)
    got = _ingest(tmp, paths, True)
    used = {k: v - before.get(k, 0) for k, v in tb.STATS.items() if v != before.get(k, 0)}
    ref = _ingest(tmp, paths, False)
    for name in got[0]:
        assert got[0][name] == ref[0][name], name
    assert got[1] == ref[1]
    return got[0], used


def _write(tmp: Path, lines: list[str] | bytes, name: str = "pages.jsonl") -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    data = lines if isinstance(lines, bytes) else (
        "\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    path = tmp / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


def _sample_page() -> dict:
    return json.loads((V2 / "noflat.jsonl").read_text(encoding="utf-8").splitlines()[0])


# -- the real samples ------------------------------------------------------------------------------
TWARC2 = ("noflat.jsonl", "edited.jsonl", "quoted_edit.jsonl", "withheld.jsonl",
          "streaming_output_with_error.jsonl", "flat.jsonl", "lists.jsonl")


@needs_samples
@pytest.mark.parametrize("name", TWARC2)
def test_each_twarc2_sample_is_identical_both_ways(tmp_path, name):
    tables, used = _parity(tmp_path, [V2 / name])
    assert tables["runs"]


@needs_samples
def test_the_search_page_is_mapped_in_sql(tmp_path):
    tables, used = _parity(tmp_path, [V2 / "noflat.jsonl"])
    assert used.get("bulk") == 1
    assert not used.get("lines decided in Python")
    assert tables["runs"][0][3:8] == [100, 100, 0, 0, 0]


@needs_samples
def test_all_samples_into_one_workspace_are_identical(tmp_path):
    """Later files meet the accounts and posts of earlier ones (merges, duplicates, embedded
    posts that arrive as records)."""
    paths = [V2 / n for n in ("withheld.jsonl", "noflat.jsonl", "quoted_edit.jsonl",
                              "edited.jsonl", "streaming_output_with_error.jsonl", "flat.jsonl")]
    _parity(tmp_path, paths + paths[:2])


# -- edge cases ------------------------------------------------------------------------------------
def _tweet(tid: str, author: str, **kw) -> dict:
    t = {"id": tid, "author_id": author, "created_at": "2021-04-09T18:03:33.000Z",
         "text": f"tweet {tid} #Tag @bob https://t.co/x", "lang": "en",
         "public_metrics": {"retweet_count": 1, "reply_count": 2, "like_count": 3,
                            "quote_count": 0},
         "entities": {"hashtags": [{"start": 6, "end": 10, "tag": "Tag"}],
                      "mentions": [{"start": 11, "end": 15, "username": "bob", "id": "2"}],
                      "urls": [{"url": "https://t.co/x", "expanded_url": "https://x.org/a"}]},
         "edit_history_tweet_ids": [tid], "conversation_id": tid, "source": "Twitter Web App"}
    t.update(kw)
    return {k: v for k, v in t.items() if v is not ...}


def _user(uid: str, name: str, **kw) -> dict:
    u = {"id": uid, "username": name, "name": name.title(), "description": f"I am {name}",
         "created_at": "2010-03-03T12:49:24.000Z", "verified": False, "protected": False,
         "location": "NC", "public_metrics": {"followers_count": 5, "following_count": 6,
                                              "tweet_count": 7, "listed_count": 0}}
    u.update(kw)
    return {k: v for k, v in u.items() if v is not ...}


def _page(tweets, users=(), itweets=(), retrieved="2021-04-09T18:05:00+00:00", **kw) -> str:
    page = {"data": list(tweets), "includes": {"users": list(users), "tweets": list(itweets)},
            "meta": {"result_count": len(tweets)}}
    if retrieved is not None:
        page["__twarc"] = {"url": "https://api.twitter.com/2/tweets/search/recent",
                           "version": "2.0.0", "retrieved_at": retrieved}
    page.update(kw)
    return json.dumps(page)


ALICE, BOB = _user("1", "alice"), _user("2", "bob")


def test_missing_fields_and_unknown_authors_are_identical(tmp_path):
    lines = [
        _page([_tweet("10", "1"), _tweet("11", "3"),  # author 3 is not in the includes
               _tweet("12", "1", author_id=...), _tweet("13", "2", created_at=...),
               _tweet("14", "2", created_at="yesterday"), _tweet("15", "2", text=...),
               _tweet("16", "2", lang="und", public_metrics=...), _tweet("17", "1", entities=...)],
              [ALICE, BOB]),
        _page([_tweet("20", "3")], [_user("3", "carol")]),  # carol arrives: the bare row merges
        _page([_tweet("21", "4", referenced_tweets=[{"type": "quoted", "id": "30"},
                                                    {"type": "replied_to", "id": "31"}],
                      in_reply_to_user_id="5")],
              [_user("5", "dan", protected=True, url="https://dan.org")],
              [_tweet("30", "5"), _tweet("31", "6", created_at=...)]),
    ]
    tables, used = _parity(tmp_path, [_write(tmp_path / "in", lines)])
    assert used.get("bulk") == 1
    assert used.get("lines decided in Python") == 1  # the first page: its quarantined tweets


def test_duplicate_tweets_across_pages_are_identical(tmp_path):
    t = _tweet("10", "1", referenced_tweets=[{"type": "retweeted", "id": "11"}])
    lines = [
        _page([t, t], [ALICE, BOB], [_tweet("11", "2")]),  # repeated inside a page
        _page([_tweet("11", "2"), t], [BOB]),  # the embedded original arrives as a record
        _page([_tweet("12", "2", referenced_tweets=[{"type": "quoted", "id": "13"}])], [BOB],
              [_tweet("13", "1")]),
        _page([_tweet("13", "1")], [ALICE], retrieved=None),
        _page([], []),
    ]
    tables, used = _parity(tmp_path, [_write(tmp_path / "in", lines)])
    assert used == {"bulk": 1}


@pytest.mark.parametrize("name", ["pages.jsonl", "pages.jsonl.gz"])
def test_broken_lines_bad_utf8_bom_crlf_and_gz_are_identical(tmp_path, name):
    good = _page([_tweet("10", "1")], [ALICE]).encode()
    data = (b"\xef\xbb\xbf" + good + b"\r\n\n  \n" + b'{"data": [{"id": "11"' + b"\n"
            + _page([_tweet("12", "2", text="caf\u00e9 \xff")], [BOB]).encode()
            .replace("\u00e9".encode(), b"\xe9") + b"\n"
            + b"[1, 2]\n" + b'"a string"\n' + b'{"data": [{"id": "13", "text": NaN}]}\n'
            + _page([_tweet("14", "2")], [BOB]).encode())
    tables, used = _parity(tmp_path, [_write(tmp_path / "in", data, name)])
    assert used.get("bulk") == 1


def test_a_damaged_gz_goes_record_by_record(tmp_path):
    path = tmp_path / "in" / "pages.jsonl.gz"
    path.parent.mkdir()
    path.write_bytes(gzip.compress((_page([_tweet("10", "1")], [ALICE]) + "\n").encode())[:-12])
    tables, used = _parity(tmp_path, [path])
    assert "bulk" not in used


def _odd_values() -> list[tuple[str, dict]]:
    """Tweets/users/pages with values the SQL must map exactly or leave to Python."""
    return [
        ("escapes", {"t": {"text": "a \"quote\" \\ back\nslash &amp; &lt;b&gt; \u2028",
                           "source": "<a href=\"x\">\tApp\\</a>",
                           "conversation_id": "\u00e9\b\f\r"}}),
        ("emoji", {"t": {"text": "smile \U0001F600 &amp;"}, "u": {"location": "\U0001F30D"}}),
        ("odd control character", {"t": {"source": "App\u0007"}}),
        ("location escapes", {"u": {"location": "Z\u00fcrich \"CH\" \\ \n", "url": "",
                                    "verified_type": "blue",
                                    "entities": {"url": {"urls": [{"expanded_url": "https://e.x",
                                                                   "url": "https://t.co/e"}]}}}}),
        ("url fallbacks", {"u": {"entities": {"url": {"urls": []}}, "url": "https://u.x"}}),
        ("url first string", {"u": {"entities": {"url": {"urls": ["https://s.x"]}}}}),
        ("user times", {"u": {"created_at": "2010-03-03T12:49:24Z"}}),
        ("bad user time", {"u": {"created_at": "not a time"}}),
        ("empty user time", {"u": {"created_at": ""}}),
        ("handles", {"u": {"username": " @@al ice\u3000"}}),
        ("empty handle", {"u": {"username": "@", "name": "  ", "description": ""}}),
        ("numbers as strings", {"t": {"public_metrics": {"like_count": "3"}}}),
        ("negative and huge counters", {"t": {"public_metrics": {
            "like_count": -1, "retweet_count": 9223372036854775808, "reply_count": 0,
            "impression_count": 12, "bookmark_count": -4}},
            "u": {"public_metrics": {"followers_count": -3, "following_count": None}}}),
        ("float counter", {"t": {"public_metrics": {"like_count": 1.5}}}),
        ("no counters", {"u": {"public_metrics": {}}}),
        ("sensitive and edited", {"t": {"possibly_sensitive": True,
                                        "edit_history_tweet_ids": ["9", "10"]}}),
        ("numeric id", {"t": {"id": 10}}),
        ("spaced id", {"t": {"id": " 10 "}}),
        ("time offsets", {"t": {"created_at": "2021-04-09T23:03:33.123456+05:30"}}),
        ("time without zone", {"t": {"created_at": "2021-04-09T18:03:33"}}),
        ("time year 1", {"t": {"created_at": "0001-01-01T00:00:00+01:00"}}),
        ("time feb 30", {"t": {"created_at": "2021-02-30T00:00:00Z"}}),
        ("lang", {"t": {"lang": " zxx "}}),
        ("empty entities", {"t": {"entities": {}}}),
        ("entity strings", {"t": {"entities": {"hashtags": ["#a"]}}}),
        ("entity nulls", {"t": {"entities": {"hashtags": [None, {"tag": ""}, {"tag": "B\u00e4r"}],
                                             "urls": [{"url": "https://t.co/y", "unwound_url":
                                                       "https://unwound.org/p?q=1#f"}],
                                             "mentions": [{"username": "Carol", "id": "3"},
                                                          {"username": "bob", "id": "2"},
                                                          {"username": "bob", "id": "2"}]}}}),
        ("a note tweet", {"t": {"note_tweet": {"text": "long &amp; longer"}}}),
        ("an embedded author", {"t": {"author": {"id": "1", "username": "alice"}}}),
        ("repeated reference type", {"t": {"referenced_tweets": [
            {"type": "quoted", "id": "30"}, {"type": "quoted", "id": "31"}]}}),
        ("other reference type", {"t": {"referenced_tweets": [{"type": "mystery", "id": "30"}]}}),
        ("reply to", {"t": {"in_reply_to_user_id": ""}}),
        ("protected author", {"u": {"protected": True, "verified": True}}),
        ("protected as text", {"u": {"protected": "true"}}),
        ("included users repeat", {"page": {"includes": {"users": [
            _user("1", "first"), _user("1", "second"), None]}}}),
        ("no includes", {"page": {"includes": None}}),
        ("no twarc stamp", {"page": {"__twarc": None}}),
        ("stamp with a Z", {"page": {"__twarc": {"retrieved_at": "2021-04-09T18:05:00.5Z"}}}),
        ("stamp not a time", {"page": {"__twarc": {"retrieved_at": "soon"}}}),
        ("socialens stamp", {"page": {"_socialens": {"retrieved_at": "2021-04-09T18:05:00Z"}}}),
        ("errors", {"page": {"errors": [{"resource_type": "tweet", "title": "Not Found Error",
                                         "parameter": "referenced_tweets.id", "value": "9"},
                                        "odd"]}}),
        ("one tweet as data", {"page": {"data": _tweet("40", "1")}}),
        ("data null", {"page": {"data": None}}),
        ("a null tweet", {"page": {"data": [_tweet("40", "1"), None]}}),
        ("a user as data", {"page": {"data": [_user("7", "gus")]}}),
    ]


@pytest.mark.parametrize("case", _odd_values(), ids=lambda c: c[0])
def test_odd_values_are_identical(tmp_path, case):
    _, change = case
    t = _tweet("10", "1", referenced_tweets=[{"type": "quoted", "id": "30"}])
    t.update(change.get("t", {}))
    u = {**ALICE, **change.get("u", {})}
    page = json.loads(_page([t, _tweet("11", "2")], [u, BOB, _user("3", "carol")],
                            [_tweet("30", "1")]))
    for k, v in change.get("page", {}).items():
        if k in page and isinstance(page[k], dict) and isinstance(v, dict) and k != "includes":
            page[k] = {**page[k], **v}
        else:
            page[k] = v
    lines = [json.dumps(page, ensure_ascii=bool(len(case[0]) % 2)),
             _page([_tweet("12", "1")], [ALICE])]
    _parity(tmp_path, [_write(tmp_path / "in", lines)])


@pytest.mark.parametrize("text", [
    '{"data": [{"id": "10", "id": "11", "author_id": "1", "text": "x", '
    '"created_at": "2021-04-09T18:03:33.000Z"}]}',  # Python keeps the last id
    '{"data": [{"id": "10", "author_id": "1", "text": "x", "created_at": '
    '"2021-04-09T18:03:33.000Z", "public_metrics": {"like_count": 1, "like_count": 2}}]}',
    '{"data": [{"id": "10", "author_id": "1", "text": "x\\ud800", "created_at": '
    '"2021-04-09T18:03:33.000Z"}]}',  # a lone surrogate
    '{"data": [{"id": "10", "author_id": "1", "text": "x", "created_at": '
    '"2021-04-09T18:03:33.000Z",}]}',  # a trailing comma
    '{"data": [{"id": "10", "author_id": "1", "text": "x", "created_at": '
    '"2021-04-09T18:03:33.000Z", "unread": nan}]}',  # DuckDB reads nan, Python refuses it
    '{"data": [{"id": "10", "author_id": "1", "text": "x", "created_at": '
    '"2021-04-09T18:03:33.000Z", "unread": {"a": 1, "a": 2}}]}',
    '{"data": [], "data": [{"id": "10", "author_id": "1", "text": "x", "created_at": '
    '"2021-04-09T18:03:33.000Z"}]}',  # a repeated top-level key
    '{"data": [{"id": "10", "author_id": "1", "text": "x", "created_at": '
    '"2021-04-09T18:03:33.000Z"}], "includes": {"users": [{"id": "1", "username": "a", '
    '"username": "b"}]}}',
    '{"data": [{"id": "10", "author_id": "1", "text": "x", "created_at": '
    '"2021-04-09T18:03:33.000Z", "deep": ' + "[" * 210 + "]" * 210 + "}]}",
])
def test_json_the_engines_read_differently_goes_to_python(tmp_path, text):
    lines = [_page([_tweet("1", "1")], [ALICE]), text, _page([_tweet("2", "1")], [ALICE])]
    tables, used = _parity(tmp_path, [_write(tmp_path / "in", lines)])
    assert used.get("bulk") == 1
    assert used.get("lines decided in Python") == 1


def test_small_batches_give_identical_tables(tmp_path, monkeypatch):
    """Batch boundaries inside pages: the first row of a key in a batch wins, merges and
    duplicates across batches, quarantine flushed with its batch."""
    from socialens.ingest import loader

    monkeypatch.setattr(loader, "BATCH_SIZE", 3)
    lines = []
    for p in range(6):
        tweets = [_tweet(str(100 + 10 * p + i), str(1 + (i + p) % 4),
                         referenced_tweets=[{"type": "quoted", "id": str(100 + 10 * p + i + 1)}])
                  for i in range(5)]
        if p % 2:
            tweets.append(_tweet("999", "1", created_at=...))
        users = [ALICE, BOB] if p % 3 else [BOB, _user("3", "carol"), _user("4", "dan")]
        lines.append(_page(tweets, users, [_tweet(str(100 + 10 * p + 5), "2")]))
    _parity(tmp_path, [_write(tmp_path / "in", lines)])


def test_reingest_counts_duplicates_identically(tmp_path):
    lines = [_page([_tweet("10", "1"), _tweet("11", "3")], [ALICE])]
    path = _write(tmp_path / "in", lines)
    _parity(tmp_path, [path, path])


@needs_samples
def test_mutated_sample_pages_are_identical(tmp_path):
    """The real search page, cut into pages of 10 tweets, each with a few values replaced,
    deleted or retyped at random places (seed 20261203, declared before the first run)."""
    import random

    rng = random.Random(20261203)
    page = _sample_page()
    repl = [None, "", "x", "12", 0, -1, 1.5, True, [], {}, [None], "2021-01-01T00:00:00Z",
            "&amp; \u0007 \"q\"", "\u00e9\\", 2**64, ...]

    def paths(v, at=()):
        yield at
        if isinstance(v, dict):
            for k, x in v.items():
                yield from paths(x, (*at, k))
        elif isinstance(v, list):
            for i, x in enumerate(v):
                yield from paths(x, (*at, i))

    lines = []
    for n in range(80):
        p = copy.deepcopy(page)
        lo = (n * 10) % 100
        p["data"] = p["data"][lo:lo + 10]
        if n % 4 == 0:  # some pages stay as they are
            lines.append(json.dumps(p))
            continue
        spots = [a for a in paths(p) if a and a[0] in ("data", "includes", "__twarc")]
        for _ in range(rng.randint(1, 3)):
            at = rng.choice(spots)
            node = p
            try:
                for k in at[:-1]:
                    node = node[k]
                v = rng.choice(repl)
                if v is ...:
                    del node[at[-1]]
                else:
                    node[at[-1]] = v
            except (KeyError, IndexError, TypeError):
                pass
        lines.append(json.dumps(p, ensure_ascii=bool(n % 2)))
    tables, used = _parity(tmp_path, [_write(tmp_path / "in", lines)])
    assert used.get("bulk") == 1
    assert used.get("lines decided in Python", 0) < 60


def test_a_user_page_among_tweet_pages_sends_the_file_record_by_record(tmp_path):
    following = json.dumps({"data": [_user("7", "gus"), _user("8", "hal")], "__twarc": {
        "url": "https://api.twitter.com/2/users/1/following", "retrieved_at":
        "2021-04-09T18:05:00+00:00"}})
    lines = [_page([_tweet("10", "1")], [ALICE]), following]
    tables, used = _parity(tmp_path, [_write(tmp_path / "in", lines)])
    assert used.get("fallback: a user page") == 1 and "bulk" not in used


def test_a_workspace_with_forgotten_people_goes_record_by_record(tmp_path):
    lines = [_page([_tweet("10", "1"), _tweet("11", "2")], [ALICE, BOB])]
    path = _write(tmp_path / "in", lines)
    for bulk in (True, False):
        tb.ENABLED = bulk
        folder = tmp_path / ("bulk" if bulk else "ref")
        folder.mkdir()
        with socialens.open(folder / "ws.duckdb") as ws:
            ws.ingest(path, format="twitter_v2")
            from socialens.forget import forget

            forget(ws, "twitter:2")
    tb.ENABLED = DEFAULT
    before = dict(tb.STATS)
    got = []
    for name in ("bulk", "ref"):
        tb.ENABLED = name == "bulk"
        with socialens.open(tmp_path / name / "ws.duckdb") as ws:
            res = ws.ingest(path, format="twitter_v2")
            got.append(([{**f.as_dict(), "run_id": None} for f in res.files], _tables(ws)))
    tb.ENABLED = DEFAULT
    assert got[0] == got[1]
    assert tb.STATS["fallback: forgotten people"] == before.get("fallback: forgotten people", 0) + 1
