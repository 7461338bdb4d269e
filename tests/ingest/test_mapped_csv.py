"""Ad-hoc files of posts read with a column mapping (``--map``)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from socialens.cli import app
from socialens.errors import InputFileError
from socialens.ingest.mapped_csv import ColumnMap, parse_map

SCRAPED = ("Text,Date,Favorites,Retweets,Tweet ID\n"
           '"Tax reform now! #MAGA @foo",2017-12-20 17:00:00,100,20,943529010016456704\n'
           "Second one,2017-12-21 12:00:00,5,1,943800000000000000\n")
MAP = {"text": "Text", "created_at": "Date", "post_id": "Tweet ID", "like_count": "Favorites",
       "repost_count": "Retweets"}


@pytest.fixture
def scraped(tmp_path):
    p = tmp_path / "realDonaldTrump.csv"
    p.write_text(SCRAPED)
    return p


def test_scraped_csv(ws, scraped):
    r = ws.ingest(scraped, mapping=MAP, account_from_filename=True, platform="twitter",
                  timezone="UTC")
    f = r.files[0]
    assert (f.format, f.n_read, f.n_loaded) == ("mapped", 2, 2)
    p = ws.sql("SELECT * FROM posts ORDER BY created_at").iloc[0]
    assert p.post_id == "twitter:943529010016456704"
    assert p.account_id == "twitter:realDonaldTrump"
    assert str(p.created_at) == "2017-12-20 17:00:00+00:00"
    assert (p.text, p.like_count, p.repost_count, p.visibility) == (
        "Tax reform now! #MAGA @foo", 100, 20, "public")
    assert ws.sql("SELECT handle FROM accounts").handle.tolist() == ["realDonaldTrump"]
    e = ws.sql("SELECT kind, value FROM post_entities ORDER BY 1").values.tolist()
    assert e == [["hashtag", "maga"], ["mention", "foo"]]
    again = ws.ingest(scraped, mapping=MAP, account_from_filename=True, platform="twitter",
                      timezone="UTC")
    assert again.files[0].n_duplicate == 2


def test_naive_times_need_a_zone(ws, scraped):
    r = ws.ingest(scraped, mapping=MAP, account="25073877", platform="twitter")
    assert r.files[0].n_quarantined == 2
    assert "--timezone" in next(iter(r.files[0].reasons))


def test_without_post_id_the_id_is_a_stable_hash(ws, tmp_path):
    p = tmp_path / "posts.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in [
        {"body": "a", "when": 1513789200, "who": "ada"},
        {"body": "b", "when": "2017-12-21T12:00:00Z", "who": "ada"}]) + "\n")
    m = {"text": "body", "created_at": "when", "handle": "who"}
    r = ws.ingest(p, mapping=m)
    assert r.files[0].n_loaded == 2
    ids = ws.sql("SELECT post_id, account_id, created_at FROM posts ORDER BY 3").values.tolist()
    assert ids[0][0].startswith("custom:h") and ids[0][1] == "custom:ada"
    assert str(ids[0][2]) == "2017-12-20 17:00:00+00:00"  # Unix seconds
    assert ws.ingest(p, mapping=m).files[0].n_duplicate == 2


def test_parse_map():
    assert parse_map('text=Text,created_at=Date,post_id="Tweet ID"') == {
        "text": "Text", "created_at": "Date", "post_id": "Tweet ID"}
    for bad in ("text", "text=", "text=a,text=b", ""):
        with pytest.raises(InputFileError):
            parse_map(bad)


@pytest.mark.parametrize("kw, says", [
    ({"columns": {"txt": "Text", "created_at": "Date"}, "account": "x"}, "unknown field 'txt'"),
    ({"columns": {"text": "Text"}, "account": "x"}, "created_at"),
    ({"columns": {"created_at": "Date"}}, "who wrote the posts"),
    ({"columns": {"created_at": "Date", "handle": "h"}, "account": "x"}, "given twice"),
    ({"columns": {"created_at": "Date"}, "account": "x", "platform": "Twit ter"}, "--platform"),
])
def test_bad_maps(kw, says):
    with pytest.raises(InputFileError, match=says):
        ColumnMap(**kw)


def test_missing_column_names_the_file(ws, scraped):
    with pytest.raises(InputFileError, match=r"realDonaldTrump\.csv: no column 'Body'"):
        ws.ingest(scraped, mapping={"text": "Body", "created_at": "Date"}, account="x")


def test_options_only_with_map(ws, scraped):
    with pytest.raises(InputFileError, match="go with --map"):
        ws.ingest(scraped, account_from_filename=True)


def test_cli(tmp_path, scraped):
    w = str(tmp_path / "w.duckdb")
    runner = CliRunner()
    r = runner.invoke(app, ["ingest", str(scraped), "-w", w])
    assert r.exit_code == 1 and "cannot tell the format" in r.output and "--map" in r.output
    r = runner.invoke(app, ["ingest", str(scraped), "-w", w, "--format", "canonical"])
    assert r.exit_code == 1
    assert "is not a canonical file" in r.output and "KeyError" not in r.output
    r = runner.invoke(app, ["ingest", str(scraped), "-w", w, "--map",
                            'text=Text,created_at=Date,post_id="Tweet ID"',
                            "--account-from-filename", "--platform", "twitter", "--timezone", "UTC"])
    assert r.exit_code == 0, r.output
    assert "realDonaldTrump.csv" in r.output and "│    2 │      2 │" in r.output
    r = runner.invoke(app, ["ingest", str(scraped), "-w", w, "--map", "text=Nope,created_at=Date",
                            "--account", "x"])
    assert r.exit_code == 1 and "no column 'Nope'" in r.output and "Traceback" not in r.output
