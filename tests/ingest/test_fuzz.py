"""Fuzzing the readers: mutated records never raise, and every record is accounted for.

The strategies and the checks are those of the long run, ``eval/fuzz_ingest.py`` (10,000+ mutated
records per format, ``python -m eval.fuzz_ingest``); here each format gets a few derandomized
examples, seeded from the reader fixtures (always present) and, when the shared data is there,
from the real samples in ``format_samples/``. Below them, one literal regression test per crash
the long run found, asserting the reason each bad record is quarantined with.
"""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from eval import fuzz_ingest as fz
from socialens.ingest.sources import MAX_DEPTH

SMALL = settings(max_examples=2, derandomize=True, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                        HealthCheck.large_base_example,
                                        HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def fuzz_ws(tmp_path_factory):
    import socialens

    folder = tmp_path_factory.mktemp("fuzz")
    ws = socialens.open(folder / "ws.duckdb")
    yield ws, folder
    ws.close()


def _check(fuzz_ws, case):
    ws, folder = fuzz_ws
    n = len(list(folder.iterdir()))
    out = fz.run_case(ws, case, folder / f"case{n}")
    assert out.uncaught == [], out.uncaught
    assert out.problems == [], out.problems
    assert out.unaccounted == 0
    return out


@pytest.mark.parametrize("fmt", fz.FORMATS)
def test_mutated_records_are_loaded_duplicate_or_quarantined(fuzz_ws, fmt):
    @SMALL
    @given(case=fz.cases(fmt, samples=False, size=1 << 20, depth=100_000, max_records=6))
    def check(case):
        _check(fuzz_ws, case)

    check()


@pytest.mark.parametrize("fmt", [f for f in fz.FORMATS if f not in ("canonical", "roster")])
def test_mutated_real_samples(fuzz_ws, fmt):
    sets = fz.sample_parts().get(fmt)
    if not sets:
        pytest.skip("the real samples (../shared/data/format_samples) are not here")

    @settings(SMALL, max_examples=1)
    @given(case=fz.cases(fmt, samples=True, size=1 << 16, depth=100_000, max_records=6))
    def check(case):
        _check(fuzz_ws, case)

    check()


# -- one literal test per crash signature -----------------------------------------------------
POST = {"post_id": "twitter:1", "account_id": "twitter:9", "created_at": "2023-01-01T00:00:00Z",
        "text": "hi"}


def _canonical(tmp_path, posts: list[str], roles: str | None = None, accounts: bool = True):
    folder = tmp_path / "org"
    folder.mkdir()
    (folder / "people.csv").write_text("person_id,name\np1,Ada\n")
    if accounts:
        (folder / "accounts.csv").write_text("account_id,person_id\ntwitter:9,p1\n")
    if roles is not None:
        (folder / "roles.csv").write_text(roles)
    (folder / "posts.jsonl").write_bytes("\n".join(posts).encode("utf-8", "surrogatepass") + b"\n")
    return folder


def _quarantine(ws):
    return ws.sql("SELECT line, field, reason FROM quarantine ORDER BY source_path, line").values.tolist()


def test_deep_nesting_is_quarantined_naming_the_field(ws, tmp_path):
    deep = json.dumps({**POST, "post_id": "twitter:2", "attrs": "X"}).replace(
        '"X"', "[" * 100_000 + "]" * 100_000)
    folder = _canonical(tmp_path, [json.dumps(POST), deep])
    f = ws.ingest(folder).files[-1]
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (2, 1, 1)
    [(line, field, reason)] = _quarantine(ws)
    assert (line, field) == (2, "attrs")
    assert f"nested more than {MAX_DEPTH} levels deep" in reason and "'attrs'" in reason


def test_deep_nesting_in_a_json_document_loses_only_that_record(ws, tmp_path):
    day = [{"id": str(i), "screen_name": "rep", "user_id": "7", "time": "2017-07-10T10:00:00-04:00",
            "link": f"https://twitter.com/rep/status/{i}", "text": "t", "source": "w"}
           for i in range(3)]
    text = json.dumps(day).replace('"source": "w"}]', '"source": ' + "{\"a\":" * 50_000 + "1"
                                   + "}" * 50_000 + "}]")
    path = tmp_path / "2017-07-10.json"
    path.write_text(text)
    f = ws.ingest(path, format="congresstweets").files[0]
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (3, 2, 1)
    assert _quarantine(ws)[0][:2] == [3, "source"]


def test_times_outside_the_years_1_to_9999_are_quarantined(ws, tmp_path):
    posts = [json.dumps({**POST, "post_id": f"twitter:{i}", "created_at": t})
             for i, t in enumerate(["0000-01-01T00:00:00Z", "99999-01-01T00:00:00Z",
                                    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])]
    f = ws.ingest(_canonical(tmp_path, posts)).files[-1]
    assert (f.n_read, f.n_quarantined) == (4, 4)
    rows = _quarantine(ws)
    assert {r[1] for r in rows} == {"created_at"}
    assert "outside the years 1-9999 in UTC" in rows[2][2]


def test_twitter_times_outside_the_range_are_quarantined(ws, tmp_path):
    status = {"id_str": "5", "text": "x", "created_at": "Fri Dec 31 23:59:59 -1400 9999",
              "user": {"id_str": "9", "screen_name": "a", "followers_count": 1}}
    path = tmp_path / "statuses.jsonl"
    path.write_text(json.dumps(status) + "\n")
    f = ws.ingest(path, format="twitter_v1").files[0]
    assert (f.n_read, f.n_quarantined) == (1, 1)
    assert _quarantine(ws)[0][1] == "created_at"


def test_lone_surrogates_are_replaced(ws, tmp_path):
    posts = [json.dumps({**POST, "text": "a\ud800b"}),  # the JSON escape \ud800
             json.dumps({**POST, "post_id": "twitter:2", "text": "#x\udfff"}),
             '{"post_id": "twitter:3", "account_id": "twitter:9", "created_at": "2023-01-01T00:00:00Z", '
             '"text": "raw \ud800"}']  # written as the bytes ED A0 80: not UTF-8
    f = ws.ingest(_canonical(tmp_path, posts)).files[-1]
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (3, 2, 1)
    texts = dict(ws.sql("SELECT post_id, text FROM posts").values.tolist())
    assert texts == {"twitter:1": "a\ufffdb", "twitter:2": "#x\ufffd"}
    assert "not valid UTF-8 (byte 0xed" in _quarantine(ws)[0][2]


def test_wrong_types_and_overflow_are_quarantined(ws, tmp_path):
    roles = "person_id,title,level,start_at\np1,CEO,99999999999,2020-01-01\np1,COO,1, \n"
    posts = [json.dumps({**POST, "like_count": 2**64}), json.dumps({**POST, "post_id": "twitter:2",
                                                                    "text": 5})]
    r = ws.ingest(_canonical(tmp_path, posts, roles=roles))
    by = {f.target: f for f in r.files}
    assert by["roles"].n_quarantined == 2 and by["posts"].n_quarantined == 2
    reasons = {(ln, fl): rs for ln, fl, rs in _quarantine(ws)}
    assert "level: 99999999999 is out of range" in reasons[(2, "level")]
    assert "start_at is missing" in reasons[(3, "start_at")]
    assert "like_count" in reasons[(1, "like_count")]
    assert reasons[(2, "text")] == "text must be a string"


def test_an_empty_role_start_in_a_roster_is_no_role(ws, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("person_id,name,title,start,twitter_id\np1,Ada,CEO, ,1001\n")
    f = ws.ingest(path).files[0]
    assert (f.n_read, f.n_loaded) == (1, 1)
    assert ws.count("roles") == 0


def test_yaml_rosters_with_year_0_or_bad_bytes(ws, tmp_path):
    path = tmp_path / "roster.yaml"
    path.write_text("people:\n  - person_id: p1\n    name: Ada\n    title: CEO\n    start: 0000-01-01\n"
                    "    twitter: ada\n  - person_id: p2\n    name: Bo\n    twitter: bo\n")
    f = ws.ingest(path).files[0]
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (2, 1, 1)
    assert _quarantine(ws)[0][1] == "start_at"
    bad = tmp_path / "bad" / "roster.yaml"
    bad.parent.mkdir()
    bad.write_bytes(b"people:\n  - person_id: p3\n    name: \xff\n    twitter: x\n")
    with pytest.raises(Exception, match=r"roster.yaml: not valid UTF-8 \(byte 0xff on line 3\)"):
        ws.ingest(bad, format="roster")


@pytest.mark.parametrize("damage", ["not gzip", "trailing junk", "truncated"])
def test_broken_gzip_names_the_file(ws, tmp_path, damage):
    lines = "".join(json.dumps({**POST, "post_id": f"twitter:{i}"}) + "\n" for i in range(2000))
    gz = gzip.compress(lines.encode(), mtime=0)
    data = {"not gzip": lines.encode(), "trailing junk": gz + b"junk",
            "truncated": gz[: len(gz) // 2]}[damage]
    folder = _canonical(tmp_path, [])
    (folder / "posts.jsonl").unlink()
    (folder / "posts.jsonl.gz").write_bytes(data)
    f = ws.ingest(folder).files[-1]
    assert f.balanced
    assert f.n_quarantined == 1
    [(_, _, reason)] = _quarantine(ws)
    assert "posts.jsonl.gz: the file" in reason
    assert {"not gzip": "is not gzip-compressed", "trailing junk": "has trailing data",
            "truncated": "is cut short"}[damage] in reason
    assert f.n_loaded == {"not gzip": 0, "trailing junk": 2000, "truncated": f.n_loaded}[damage]
    # a gzip file read whole is a clear error naming it
    day = tmp_path / "2017-07-10.json.gz"
    day.write_bytes(b"[]" if damage == "not gzip" else gz[:20])
    with pytest.raises(Exception, match="2017-07-10.json.gz"):
        ws.ingest(day, format="congresstweets")


def test_feed_character_references_out_of_range(ws, tmp_path):
    path = tmp_path / "feed.xml"
    path.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>B</title>'
        "<link>https://b.example/</link>"
        "<item><title>a&#1114112;b&#xD800;c&#0;</title><guid>https://b.example/1</guid>"
        "<pubDate>Tue, 10 Jan 2023 12:00:00 +0000</pubDate></item>"
        "<item><title>year 0</title><guid>https://b.example/2</guid>"
        "<pubDate>Tue, 10 Jan 0000 12:00:00 +0000</pubDate></item></channel></rss>")
    f = ws.ingest(path).files[0]
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (2, 1, 1)
    assert ws.sql("SELECT text FROM posts").values.tolist() == [["a\ufffdb\ufffdc\ufffd"]]
    assert _quarantine(ws)[0][1] == "published"


def test_page_level_values_of_the_wrong_type(ws, tmp_path):
    tweet = {"id": "1", "text": "t", "author_id": "9", "created_at": "2022-03-08T14:00:00.000Z",
             "edit_history_tweet_ids": ["1"]}
    pages = tmp_path / "pages.jsonl"
    pages.write_text(json.dumps({"data": [tweet], "includes": 5}) + "\n"
                     + json.dumps({"data": [{**tweet, "id": "2"}], "includes": {"users": 5}}) + "\n")
    f = ws.ingest(pages, format="twitter_v2").files[0]
    assert (f.n_read, f.n_loaded) == (2, 2)  # expansions of the wrong shape expand nothing
    outbox = tmp_path / "outbox.json"
    outbox.write_text(json.dumps({"type": "OrderedCollection", "orderedItems": 5}))
    f = ws.ingest(outbox, format="mastodon").files[0]
    assert (f.n_read, f.n_quarantined) == (1, 1)
    assert "expected an activity object, got int" in next(iter(f.reasons))


def test_ingest_runs_are_finished_and_balanced(ws, tmp_path):
    posts = [json.dumps(POST), "{broken", json.dumps(POST), json.dumps({**POST, "post_id": "x"})]
    ws.ingest(_canonical(tmp_path, posts))
    runs = ws.sql("SELECT finished_at IS NOT NULL, n_read, n_loaded, n_duplicate, n_quarantined "
                  "FROM ingest_runs WHERE target = 'posts'").values.tolist()
    assert runs == [[True, 4, 1, 1, 2]]


# -- the CLI on the worst files ------------------------------------------------------------------
def test_cli_ingest_of_the_worst_files_has_no_traceback(tmp_path):
    from socialens.cli import app

    deep = json.dumps({**POST, "attrs": "X"}).replace('"X"', "[" * 100_000 + "]" * 100_000)
    folder = _canonical(tmp_path, [deep, json.dumps({**POST, "post_id": "twitter:2",
                                                      "created_at": "0000-01-01T00:00:00Z"}),
                                   json.dumps({**POST, "post_id": "twitter:3", "text": "\ud800"})])
    bad_gz = tmp_path / "2017-07-10.json.gz"
    bad_gz.write_bytes(b"not gzip at all")
    bad_yaml = tmp_path / "roster.yaml"
    bad_yaml.write_bytes(b"people:\n  - person_id: p3\n    name: \xff\n    twitter: x\n")
    runner = CliRunner()
    env = {"COLUMNS": "400"}
    ws = str(tmp_path / "ws.duckdb")
    assert runner.invoke(app, ["init", "-w", ws], env=env).exit_code == 0
    ok = runner.invoke(app, ["ingest", str(folder), "-w", ws], env=env)
    assert ok.exit_code == 0, ok.output
    assert "Traceback" not in ok.output
    assert "field 'attrs' is nested more than 200 levels deep" in ok.output
    assert "created_at: cannot parse time '0000-01-01T00:00:00Z'" in ok.output
    for path, fmt, message in [(bad_gz, "congresstweets", "is not gzip-compressed"),
                               (bad_yaml, "roster", "not valid UTF-8 (byte 0xff on line 3)")]:
        res = runner.invoke(app, ["ingest", str(path), "-w", ws, "--format", fmt], env=env)
        assert res.exit_code != 0
        assert message in res.output and path.name in res.output
        assert "Traceback" not in res.output
        assert res.exception is None or isinstance(res.exception, SystemExit)
