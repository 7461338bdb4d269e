"""The canonical interchange format: loading, quarantine, idempotence, round-trip."""

import gzip
import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import socialens
from socialens.errors import InputFileError
from socialens.ingest import ingest_paths


def write(folder, name, text, encoding="utf-8"):
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return p


PEOPLE = "person_id,name,department,opt_in\np1,Ann,Exec,true\np2,Bob,Sales,false\n"
ACCOUNTS = "account_id,person_id,handle,created_at\ntwitter:1,p1,ann,2008-01-01T00:00:00Z\ntwitter:2,p2,bob,\n"


def test_tiny_org_loads_everything(ws, tiny_dir):
    res = ws.ingest(tiny_dir)
    t = res.totals
    assert t["quarantined"] == 0 and t["duplicate"] == 0 and t["loaded"] == t["read"]
    assert ws.count("people") == 8 and ws.count("roles") == 9 and ws.count("accounts") == 8
    assert ws.count("posts") == 507
    # the 3 follows of edges.csv, plus the mention edges derived from the posts
    assert ws.sql("SELECT count(*) n FROM edges WHERE post_id IS NULL").n[0] == 3
    assert res.interactions == {"reply": 0, "mention": 312, "repost": 0, "quote": 0}
    assert ws.count("edges") == 3 + 312
    # every row carries its provenance
    prov = ws.sql("SELECT DISTINCT p.run_id, r.source_path, r.sha256 FROM posts p "
                  "JOIN ingest_runs r USING (run_id)")
    assert len(prov) == 1 and prov.source_path[0].endswith("posts.jsonl")
    assert len(prov.sha256[0]) == 64
    # extra columns are kept in attrs
    attrs = ws.sql("SELECT attrs FROM people WHERE person_id = 'ceo'")["attrs"][0]
    assert json.loads(attrs) == {"office": "Las Vegas"}
    # entities normalized
    ents = set(map(tuple, ws.sql("SELECT DISTINCT kind, value FROM post_entities").values))
    assert ents == {("hashtag", "zappos"), ("mention", "tonyh")}


def test_reingest_changes_nothing(ws, tiny_dir):
    ws.ingest(tiny_dir)
    before = {t: ws.df(t).drop(columns=[], errors="ignore") for t in ws.table_names()}
    res = ws.ingest(tiny_dir)
    assert res.totals["loaded"] == 0
    assert res.totals["duplicate"] == res.totals["read"]
    assert not any(f.recorded for f in res.files)
    for t, df in before.items():
        assert ws.df(t).equals(df), t


def test_bad_records_are_quarantined_and_the_rest_loads(ws, tmp_path):
    folder = tmp_path / "bad"
    write(folder, "people.csv", PEOPLE)
    write(folder, "accounts.csv", ACCOUNTS)
    write(folder, "posts.jsonl", "\n".join([
        '{"post_id": "twitter:10", "account_id": "twitter:1", "created_at": "2009-01-01T10:00:00Z", "text": "ok"}',
        '{"post_id": "twitter:11", "account_id": "twitter:1", "created_at": "2009-01-01T10:00:00Z", broken',
        '{"post_id": "twitter:12", "account_id": "twitter:999", "created_at": "2009-01-01T10:00:00Z"}',
        '{"post_id": "twitter:13", "account_id": "twitter:2", "created_at": "not a time"}',
        '{"account_id": "twitter:2", "created_at": "2009-01-01T10:00:00Z"}',
        '{"post_id": "twitter:10", "account_id": "twitter:1", "created_at": "2009-01-01T10:00:00Z", "text": "dup"}',
        '{"post_id": "twitter:14", "account_id": "twitter:2", "created_at": "2009-01-02T10:00:00Z", "text": "ok too"}',
    ]) + "\n")
    res = ws.ingest(folder)
    posts = [f for f in res.files if f.target == "posts"][0]
    assert (posts.n_read, posts.n_loaded, posts.n_duplicate, posts.n_quarantined) == (7, 2, 1, 4)
    q = ws.sql("SELECT line, field, reason FROM quarantine WHERE target = 'posts' ORDER BY line")
    assert list(q.line) == [2, 3, 4, 5]
    reasons = list(q.reason)
    assert "broken JSON" in reasons[0]
    assert "unknown account_id 'twitter:999'" in reasons[1]
    assert "cannot parse time 'not a time'" in reasons[2] and q.field[2] == "created_at"
    assert "post_id is missing" in reasons[3]
    # re-running the same ingest adds nothing, not even to quarantine
    n_q, n_runs = ws.count("quarantine"), ws.count("ingest_runs")
    res2 = ws.ingest(folder)
    assert res2.totals["loaded"] == 0 and res2.totals["quarantined"] == 4
    assert ws.count("quarantine") == n_q and ws.count("ingest_runs") == n_runs
    for f in res.files + res2.files:
        assert f.balanced


def test_wrong_encoding_is_quarantined_per_record(ws, tmp_path):
    folder = tmp_path / "enc"
    write(folder, "people.csv", "person_id,name\np1,Zoë\np2,".encode() + "Zoë\n".encode("latin-1")
          + b"p3,Ann\n")
    res = ws.ingest(folder)
    f = res.files[0]
    assert (f.n_loaded, f.n_quarantined) == (2, 1)
    row = ws.sql("SELECT line, reason, raw FROM quarantine").iloc[0]
    assert row.line == 3 and "not valid UTF-8" in row.reason and "\ufffd" in row.raw
    assert ws.sql("SELECT name FROM people WHERE person_id = 'p1'").name[0] == "Zoë"


def test_naive_times_need_a_timezone(ws, tmp_path):
    folder = tmp_path / "tz"
    write(folder, "people.csv", PEOPLE)
    write(folder, "accounts.csv", "account_id,person_id,created_at\ntwitter:1,p1,2009-01-01 09:00:00\n")
    res = ws.ingest(folder)
    assert res.files[1].n_quarantined == 1
    assert "--timezone" in ws.sql("SELECT reason FROM quarantine").reason[0]
    res = ws.ingest(folder, timezone="America/New_York")
    assert res.files[1].n_loaded == 1
    created = ws.sql("SELECT created_at FROM accounts").created_at[0]
    assert created.to_pydatetime() == datetime(2009, 1, 1, 14, tzinfo=UTC)


def test_unknown_timezone_is_refused(ws, tiny_dir):
    with pytest.raises(InputFileError, match="IANA"):
        ws.ingest(tiny_dir, timezone="Mars/Olympus")


def test_unknown_file_and_missing_path(ws, tmp_path):
    p = write(tmp_path, "stuff.txt", "hello")
    with pytest.raises(InputFileError, match="cannot tell the format"):
        ws.ingest(p)
    with pytest.raises(InputFileError, match="does not exist"):
        ws.ingest(tmp_path / "missing")


def test_missing_required_column_quarantines_each_row(ws, tmp_path):
    folder = tmp_path / "cols"
    write(folder, "people.csv", "id,name\np1,Ann\np2,Bob\n")
    res = ws.ingest(folder)
    assert res.files[0].n_quarantined == 2 and not res.ok
    assert "no column person_id" in ws.sql("SELECT reason FROM quarantine").reason[0]


def test_gzip_and_bom(ws, tmp_path):
    folder = tmp_path / "gz"
    folder.mkdir()
    with gzip.open(folder / "people.csv.gz", "wb") as f:
        f.write(b"\xef\xbb\xbf" + PEOPLE.encode())
    res = ws.ingest(folder)
    assert res.totals["loaded"] == 2
    assert set(ws.df("people").columns) >= {"person_id"}


def test_csv_row_with_too_many_fields(ws, tmp_path):
    folder = tmp_path / "f"
    write(folder, "people.csv", "person_id,name\np1,Ann\np2,Bob,extra\n")
    res = ws.ingest(folder)
    assert res.files[0].n_quarantined == 1
    assert "3 fields but the header has 2" in ws.sql("SELECT reason FROM quarantine").reason[0]


def test_role_dates_validated(ws, tmp_path):
    folder = tmp_path / "r"
    write(folder, "people.csv", PEOPLE)
    write(folder, "roles.csv", "person_id,title,level,start,end\np1,CEO,0,2010-01-01,2009-01-01\n"
          "p1,CEO,0,2010-01-01,\np2,Staff,x,2010-01-01,\n")
    res = ws.ingest(folder)
    roles = res.files[1]
    assert (roles.n_loaded, roles.n_quarantined) == (1, 2)
    assert ws.sql("SELECT is_leader FROM roles").is_leader[0]  # level 0 → leader by default


def test_exit_status_rule(ws, tmp_path):
    folder = tmp_path / "x"
    write(folder, "posts.jsonl", '{"post_id": "twitter:1"}\n')
    assert not ingest_paths(ws, [folder]).ok


# -- round trip ------------------------------------------------------------------------------
ident = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)
safe_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\x85"),
    max_size=60,
).map(str.strip)
times = st.datetimes(min_value=datetime(2006, 1, 1), max_value=datetime(2030, 1, 1),
                     timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=0))


@st.composite
def orgs(draw):
    pids = draw(st.lists(ident, min_size=1, max_size=6, unique=True))
    people = [{"person_id": p, "name": draw(safe_text) or None, "department": draw(safe_text) or None,
               "opt_in": draw(st.booleans())} for p in pids]
    accounts = [{"account_id": f"twitter:{i}", "person_id": draw(st.sampled_from(pids)),
                 "handle": draw(ident), "created_at": draw(times)} for i in range(draw(st.integers(1, 5)))]
    posts = [{"post_id": f"twitter:p{i}", "account_id": draw(st.sampled_from(accounts))["account_id"],
              "created_at": draw(times), "text": draw(safe_text) or None,
              "like_count": draw(st.none() | st.integers(0, 10**9))}
             for i in range(draw(st.integers(0, 8)))]
    return people, accounts, posts


def _csv(rows, cols):
    import csv
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (v.isoformat() if isinstance(v, datetime) else ("" if v is None else v))
                    for k, v in r.items()})
    return buf.getvalue()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(org=orgs())
def test_round_trip(tmp_path_factory, org):
    people, accounts, posts = org
    folder = tmp_path_factory.mktemp("rt")
    write(folder, "people.csv", _csv(people, ["person_id", "name", "department", "opt_in"]))
    write(folder, "accounts.csv", _csv(accounts, ["account_id", "person_id", "handle", "created_at"]))
    write(folder, "posts.jsonl", "".join(
        json.dumps({**p, "created_at": p["created_at"].isoformat()}) + "\n" for p in posts))
    with socialens.open(folder / "w.duckdb") as w:
        res = w.ingest(folder)
        assert res.totals["quarantined"] == 0
        got = w.sql("SELECT person_id, name, department, opt_in FROM people ORDER BY person_id")
        assert got.to_dict("records") == sorted(people, key=lambda r: r["person_id"])
        got = w.sql("SELECT account_id, person_id, handle, created_at FROM accounts ORDER BY account_id")
        assert [(r["account_id"], r["created_at"].to_pydatetime()) for r in got.to_dict("records")] == \
            sorted((a["account_id"], a["created_at"]) for a in accounts)
        got = w.sql("SELECT post_id, text, like_count, created_at FROM posts ORDER BY post_id")
        exp = sorted(posts, key=lambda p: p["post_id"])
        assert [r["post_id"] for r in got.to_dict("records")] == [p["post_id"] for p in exp]
        assert [None if r != r else r for r in got["text"]] == [p["text"] for p in exp]
        # idempotent
        again = w.ingest(folder)
        assert again.totals["loaded"] == 0 and again.totals["duplicate"] == again.totals["read"]


def test_duplicates_fill_empty_columns_but_never_overwrite(ws, tmp_path):
    roster = tmp_path / "roster"
    write(roster, "people.csv", PEOPLE)
    write(roster, "accounts.csv", "account_id,person_id,handle\ntwitter:1,p1,ann\n")
    platform = tmp_path / "platform"
    write(platform, "accounts.csv", "account_id,handle,created_at,bio,kind\n"
          "twitter:1,ann_renamed,2008-01-01T00:00:00Z,Hello,official\n")
    ws.ingest(roster)
    res = ws.ingest(platform)
    f = res.files[0]
    assert (f.n_duplicate, f.n_merged, f.recorded) == (1, 1, True)
    row = ws.sql("SELECT * FROM accounts").iloc[0]
    assert row.person_id == "p1" and row.handle == "ann" and row.kind == "personal"  # kept
    assert row.bio == "Hello" and row.created_at.year == 2008  # filled
    assert ws.sql("SELECT n_merged FROM ingest_runs ORDER BY started_at DESC LIMIT 1").n_merged[0] == 1
    again = ws.ingest(platform)
    assert again.files[0].n_merged == 0 and not again.files[0].recorded
