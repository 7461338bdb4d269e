"""The loader: records vs embedded copies of posts, and the options recorded with each run."""

from __future__ import annotations

import json

import socialens

USERS = [{"id": "1", "username": "ceo", "name": "C"}, {"id": "2", "username": "ann", "name": "A"}]


def _tweet(tid, author, text, **kw):
    return {"id": tid, "author_id": author, "text": text, "created_at": "2022-03-08T14:00:00.000Z",
            "edit_history_tweet_ids": [tid], **kw}


def _page(data, includes_tweets):
    return json.dumps({"data": data, "includes": {"users": USERS, "tweets": includes_tweets},
                       "__twarc": {"url": "https://api.twitter.com/2/tweets/search/recent",
                                   "version": "2.14.0",
                                   "retrieved_at": "2022-03-09T10:00:00+00:00"}})


def _how(ws):
    return dict(ws.sql("SELECT post_id, collected_as FROM posts").values.tolist())


def test_a_record_wins_over_an_embedded_copy_in_the_same_file(tmp_path):
    quoted = _tweet("20", "1", "the original")
    quoting = _tweet("21", "2", "look", referenced_tweets=[{"type": "quoted", "id": "20"}])
    # the original is embedded in the first page and a record of the second page
    path = tmp_path / "pages.jsonl"
    path.write_text(_page([quoting], [quoted]) + "\n" + _page([quoted], []) + "\n")
    ws = socialens.open(tmp_path / "ws.duckdb")
    f = ws.ingest(path).files[0]
    assert (f.n_read, f.n_loaded, f.n_duplicate) == (2, 2, 0)  # both records are loaded
    assert _how(ws) == {"twitter:20": "record", "twitter:21": "record"}
    ws.close()


def test_an_embedded_post_becomes_a_record_when_its_record_arrives_later(tmp_path):
    quoted = _tweet("20", "1", "the original")
    quoting = _tweet("21", "2", "look", referenced_tweets=[{"type": "quoted", "id": "20"}])
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(_page([quoting], [quoted]) + "\n")
    b.write_text(_page([quoted], []) + "\n")
    ws = socialens.open(tmp_path / "ws.duckdb")
    ws.ingest(a)
    assert _how(ws) == {"twitter:20": "embedded", "twitter:21": "record"}
    f = ws.ingest(b).files[0]
    assert (f.n_read, f.n_loaded, f.n_duplicate) == (1, 0, 1)
    assert _how(ws) == {"twitter:20": "record", "twitter:21": "record"}
    # and an embedded copy arriving after the record changes nothing
    ws.ingest(a)
    assert _how(ws)["twitter:20"] == "record"
    ws.close()


def test_runs_record_their_options(tmp_path):
    csv = tmp_path / "scraped.csv"
    csv.write_text("Text,Date,Tweet ID\nhello,2017-01-01T10:00:00Z,5\n")
    ws = socialens.open(tmp_path / "ws.duckdb")
    ws.ingest(csv, mapping={"text": "Text", "created_at": "Date", "post_id": "Tweet ID"},
              platform="twitter", account="twitter:77")
    opts = ws.sql("SELECT options FROM ingest_runs WHERE format = 'mapped'").options
    assert len(opts) >= 1 and all(json.loads(o)["map"]["text"] == "Text" for o in opts)
    roster = tmp_path / "roster.csv"
    roster.write_text("person_id,name,department,title,level,start,twitter\n"
                      "p1,Ada,Exec,CEO,0,2020-01-01,ada\n")
    ws.ingest(roster, public=True)
    got = ws.sql("SELECT options FROM ingest_runs WHERE format = 'roster'").options.tolist()
    assert got and all(json.loads(o) == {"public": True} for o in got)
    # declaring the same roster public again still leaves a record of the declaration
    n = len(got)
    ws.ingest(roster, public=True)
    assert len(ws.sql("SELECT 1 FROM ingest_runs WHERE format = 'roster'")) > n
    ws.close()
