"""The privacy boundary: non-public posts never reach a report, the site, serve or an export."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import socialens
from socialens.privacy import hidden_counts, is_restricted, lift, public_only, restrict
from tests.conftest import SHARED_DATA

OUTBOX = SHARED_DATA / "format_samples" / "mastodon" / "masto-archive_outbox.json"
ACTOR = "mastodon:indieweb.social/@dealingwith"


def _literal_ws(tmp_path: Path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "people.csv").write_text("person_id,name,opt_in\np1,Ada Boss,true\np2,Bo Member,true\n")
    (d / "roles.csv").write_text("person_id,title,level,start_at\np1,CEO,0,2020-01-01T00:00:00Z\n")
    (d / "accounts.csv").write_text(
        "account_id,person_id,handle\nmastodon:x.social/@ada,p1,ada@x.social\n"
        "mastodon:x.social/@bo,p2,bo@x.social\n")
    posts = [
        ("1", "@ada", "public", "Hello everyone, public news", None),
        ("2", "@ada", "direct", "SECRET-DM psst @bo", ["mastodon:x.social/@bo"]),
        ("3", "@ada", "followers", "FOLLOWERS-ONLY note", None),
        ("4", "@bo", "unlisted", "UNLISTED-POST quiet", None),
        ("5", "@bo", "unknown", "UNKNOWN-AUDIENCE post", None),
        ("6", "@bo", "public", "public reply to ada", None),
    ]
    rows = []
    for pid, acc, vis, text, mentions in posts:
        r = {"post_id": f"mastodon:x.social/{pid}", "account_id": f"mastodon:x.social/{acc}",
             "created_at": f"2023-01-0{pid}T10:00:00Z", "text": text, "visibility": vis}
        if mentions:
            r["mentions"] = mentions
        if pid == "6":
            r["reply_to_post_id"] = "mastodon:x.social/1"
        rows.append(r)
    (d / "posts.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ws = socialens.open(tmp_path / "ws.duckdb")
    ws.ingest(d)
    return ws


def test_restrict_keeps_public_posts_and_their_rows_only(tmp_path):
    ws = _literal_ws(tmp_path)
    assert ws.count("posts") == 6
    assert dict(ws.sql("SELECT kind, count(*) n FROM edges GROUP BY 1").values) == \
        {"mention": 1, "reply": 1}
    assert hidden_counts(ws) == {"direct": 1, "followers": 1, "unlisted": 1, "unknown": 1}
    with public_only(ws):
        assert is_restricted(ws)
        assert sorted(ws.sql("SELECT post_id FROM posts").post_id) == \
            ["mastodon:x.social/1", "mastodon:x.social/6"]
        assert ws.count("posts") == 2
        # the DM's mention edge is hidden with the DM; the public reply stays
        assert ws.sql("SELECT kind FROM edges").kind.tolist() == ["reply"]
        assert ws.table("posts").count().execute() == 2  # ibis sees the same boundary
        assert set(ws.table_names()) >= {"posts", "edges"}
    assert not is_restricted(ws) and ws.count("posts") == 6
    restrict(ws)
    with public_only(ws):  # a caller's own restriction is kept after the block
        pass
    assert is_restricted(ws)
    lift(ws)
    assert ws.count("posts") == 6
    ws.close()


def test_cursor_needs_its_own_restriction(tmp_path):
    ws = _literal_ws(tmp_path)
    restrict(ws)
    cur = ws.con.cursor()
    assert cur.execute("SELECT count(*) FROM posts").fetchone()[0] == 6  # a new connection
    restrict(cur)
    assert cur.execute("SELECT count(*) FROM posts").fetchone()[0] == 2
    ws.close()


def _scan(out: Path, needles: list[str]) -> list[tuple[str, str]]:
    found = []
    for f in out.rglob("*"):
        if f.is_file():
            data = f.read_bytes().decode("utf-8", "replace")
            found += [(str(f.relative_to(out)), n) for n in needles if n in data]
    return found


def test_literal_org_no_private_text_in_any_output(tmp_path):
    from socialens.export import export_all
    from socialens.report import write_report
    from socialens.site.build import publish

    ws = _literal_ws(tmp_path)
    out = tmp_path / "out"
    publish(ws, out / "site")
    write_report(ws, out / "report")
    export_all(ws, out / "export")
    secrets = ["SECRET-DM", "FOLLOWERS-ONLY", "UNLISTED-POST", "UNKNOWN-AUDIENCE"]
    assert _scan(out, secrets) == []
    assert _scan(out / "site", ["Hello everyone, public news"])  # public posts are published
    assert ws.count("posts") == 6  # nothing was removed from the workspace
    ws.close()


@pytest.mark.skipif(not OUTBOX.exists(), reason="needs ../shared/data/format_samples")
def test_real_outbox_no_non_public_post_in_any_published_file(tmp_path):
    """The real Mastodon archive outbox (35 DMs, 40 followers-only posts): publish the site, the
    report and the exports, then look for every non-public post's id and text in every file."""
    from socialens.export import export_all
    from socialens.site.build import publish

    d = tmp_path / "roster"
    d.mkdir()
    (d / "people.csv").write_text("person_id,name,opt_in\np1,Daniel,true\n")
    (d / "roles.csv").write_text("person_id,title,level,start_at\np1,CEO,0,2010-01-01T00:00:00Z\n")
    (d / "accounts.csv").write_text(f"account_id,person_id\n{ACTOR},p1\n")
    ws = socialens.open(tmp_path / "ws.duckdb")
    ws.ingest(d)
    ws.ingest(OUTBOX)
    vis = dict(ws.sql("SELECT coalesce(visibility, 'unknown'), count(*) FROM posts GROUP BY 1").values)
    assert vis == {"public": 1495, "unlisted": 16, "followers": 40, "direct": 35}
    private = ws.sql("""SELECT post_id, text FROM posts WHERE visibility <> 'public'""")
    assert len(private) == 91
    out = tmp_path / "out"
    res = publish(ws, out / "site")
    assert res.n_people == 1
    export_all(ws, out / "export")
    # needles: the native status id (it is in post ids and URLs) and a distinctive stretch of text
    needles = [pid.rsplit("/", 1)[-1] for pid in private.post_id]
    texts = [t.strip()[:60] for t in private.text if isinstance(t, str) and len(t.strip()) >= 25]
    assert len(texts) >= 60
    found = _scan(out, needles + texts)
    assert found == [], found[:5]
    # and the boundary is not vacuous: public posts are in the feed and the exports
    public_id = ws.sql("SELECT post_id FROM posts WHERE visibility = 'public' "
                       "ORDER BY created_at DESC LIMIT 1").post_id[0].rsplit("/", 1)[-1]
    assert _scan(out / "site", [public_id]) and _scan(out / "export", [public_id])
    ws.close()


def test_quarantined_raw_records_are_withheld(tmp_path):
    ws = _literal_ws(tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "posts.jsonl").write_text('{"post_id": "mastodon:x.social/9", "text": "PRIVATE-RAW"}\n')
    ws.ingest(bad)
    assert "PRIVATE-RAW" in ws.sql("SELECT raw FROM quarantine").raw[0]
    with public_only(ws):
        q = ws.sql("SELECT reason, raw FROM quarantine")
        assert len(q) == 1 and q.raw.isna().all() and "account_id" in q.reason[0]
    ws.close()


# -- consent: keyed pseudonyms in the tables (issue 13.6) -------------------------------------
def _consent_ws(tmp_path: Path):
    d = tmp_path / "cin"
    d.mkdir()
    (d / "people.csv").write_text("person_id,name,department,opt_in\n"
                                  "p1,Ada Boss,Exec,true\np2,Bo Quillfeather,Vault,false\n"
                                  "p3,Cy Third,Exec,true\n")
    (d / "roles.csv").write_text("person_id,title,level,start_at\n"
                                 "p1,CEO,0,2020-01-01T00:00:00Z\np2,Keeper of Vaults,1,2020-01-01T00:00:00Z\n"
                                 "p3,Staff,2,2020-01-01T00:00:00Z\n")
    (d / "accounts.csv").write_text(
        "account_id,person_id,handle,display_name,bio\n"
        "mastodon:x.social/@ada,p1,ada@x.social,Ada Boss,works with @bo@x.social\n"
        "mastodon:x.social/@bo,p2,bo@x.social,Bo Quillfeather,my bio\n"
        "mastodon:x.social/@cy,p3,cy@x.social,Cy,\n")
    rows = [("1", "@ada", "Thanks @bo@x.social and @bo! Bo Quillfeather rocks, Quillfeather too",
             ["mastodon:x.social/@bo"]),
            ("2", "@bo", "my own public post", None),
            ("3", "@cy", "replying to bo", None)]
    out = []
    for pid, acc, text, mentions in rows:
        r = {"post_id": f"mastodon:x.social/{pid}", "account_id": f"mastodon:x.social/{acc}",
             "created_at": f"2023-01-0{pid}T10:00:00Z", "text": text, "visibility": "public"}
        if mentions:
            r["mentions"] = mentions
        if pid == "3":
            r["reply_to_post_id"] = "mastodon:x.social/2"
        out.append(r)
    (d / "posts.jsonl").write_text("\n".join(json.dumps(r) for r in out) + "\n")
    ws = socialens.open(tmp_path / "c.duckdb")
    ws.ingest(d)
    return ws


def test_people_who_did_not_opt_in_are_keyed_pseudonyms_in_every_table(tmp_path, monkeypatch):
    from socialens.privacy import map_leaders

    monkeypatch.setenv("SOCIALENS_STUDY_KEY", "a-test-study-key-0123456789")
    ws = _consent_ws(tmp_path)
    raw_join = ws.sql("SELECT count(*) n FROM posts JOIN accounts USING (account_id) "
                      "JOIN people USING (person_id)").n[0]
    with public_only(ws):
        people = ws.sql("SELECT * FROM people ORDER BY name")
        bo = people[~people.opt_in].iloc[0]
        assert re.fullmatch(r"p-[0-9a-f]{8}", bo.person_id) and bo["name"] == f"Person {bo.person_id[2:]}"
        assert bo.department.startswith("Department ")  # nobody in 'Vault' opted in
        assert set(people[people.opt_in].name) == {"Ada Boss", "Cy Third"}
        roles = dict(ws.sql("SELECT person_id, title FROM roles").values)
        assert roles[bo.person_id].startswith("Role ") and roles["p1"] == "CEO"
        acc = ws.sql("SELECT * FROM accounts WHERE person_id = ?", [bo.person_id]).iloc[0]
        assert acc.handle == bo.person_id and acc.account_id.startswith("mastodon:a-")
        assert acc.bio is None and acc.url is None and acc.display_name == bo["name"]
        ada = ws.sql("SELECT bio FROM accounts WHERE person_id = 'p1'").bio[0]
        assert ada == f"works with @{bo.person_id}"
        text = ws.sql("SELECT text FROM posts WHERE account_id LIKE '%@ada'").text[0]
        assert text == (f"Thanks @{bo.person_id} and @{bo.person_id}! {bo['name']} rocks, "
                        f"{bo['name']} too")
        ids = ws.sql("SELECT post_id, reply_to_post_id FROM posts ORDER BY created_at")
        assert ids.post_id[1].startswith("mastodon:x-") and ids.reply_to_post_id[2] == ids.post_id[1]
        assert ws.sql("SELECT value FROM post_entities WHERE kind = 'mention'").value.tolist() \
            == [acc.account_id]
        edges = ws.sql("SELECT src, dst FROM edges")
        assert "mastodon:x.social/@bo" not in set(edges.src) | set(edges.dst)
        assert acc.account_id in set(edges.dst)
        # the joins still hold: every post finds its account and person
        assert ws.sql("SELECT count(*) n FROM posts JOIN accounts USING (account_id) "
                      "JOIN people USING (person_id)").n[0] == raw_join
        assert map_leaders(ws, "ids:p1,p2") == f"ids:p1,{bo.person_id}"
        assert map_leaders(ws, "is_leader") == "is_leader"
    # lifted: the stored tables as they are
    assert "Bo Quillfeather" in set(ws.sql("SELECT name FROM people").name)
    # stable within a study: the same key gives the same pseudonym
    with public_only(ws):
        assert ws.sql("SELECT person_id FROM people WHERE NOT opt_in").person_id[0] == bo.person_id
    monkeypatch.setenv("SOCIALENS_STUDY_KEY", "another-study-key-0123456789")
    with public_only(ws):
        assert ws.sql("SELECT person_id FROM people WHERE NOT opt_in").person_id[0] != bo.person_id
    ws.close()


def test_pseudonymize_everyone_and_include_all_nobody(tmp_path, monkeypatch):
    from socialens.privacy import Consent

    monkeypatch.setenv("SOCIALENS_STUDY_KEY", "a-test-study-key-0123456789")
    ws = _consent_ws(tmp_path)
    with public_only(ws, Consent(pseudonymize=True)):
        names = ws.sql("SELECT name FROM people").name.tolist()
        assert all(n.startswith("Person ") for n in names) and len(names) == 3
        assert not any("@" in h for h in ws.sql("SELECT handle FROM accounts").handle)
    with public_only(ws, False):
        assert "Bo Quillfeather" in set(ws.sql("SELECT name FROM people").name)
        assert ws.sql("SELECT count(*) n FROM posts").n[0] == 3
    ws.close()


def test_the_study_key_file_env_and_generated_key(tmp_path, monkeypatch):
    from socialens.privacy import PrivacyError, key_path, study_key

    monkeypatch.delenv("SOCIALENS_STUDY_KEY", raising=False)
    ws = _consent_ws(tmp_path)
    with public_only(ws):
        stored = ws.sql("SELECT person_id FROM people WHERE NOT opt_in").person_id[0]
    kp = key_path(ws.path)
    assert kp == tmp_path / "c.duckdb.study-key" and kp.exists()
    assert oct(kp.stat().st_mode & 0o777) == "0o600" and len(kp.read_text().strip()) == 64
    assert study_key(ws.path) == kp.read_text().strip().encode()
    with public_only(ws):  # generated once, then reused
        assert ws.sql("SELECT person_id FROM people WHERE NOT opt_in").person_id[0] == stored
    monkeypatch.setenv("SOCIALENS_STUDY_KEY", "env-study-key-0123456789")
    assert study_key(ws.path) == b"env-study-key-0123456789"
    kf = tmp_path / "my.key"
    kf.write_text("file-study-key-0123456789\n")
    assert study_key(ws.path, kf) == b"file-study-key-0123456789"  # --key-file wins
    with pytest.raises(PrivacyError, match="cannot read the study key"):
        study_key(ws.path, tmp_path / "missing.key")
    kf.write_text("short")
    with pytest.raises(PrivacyError, match="shorter than 16"):
        study_key(ws.path, kf)
    monkeypatch.setenv("SOCIALENS_STUDY_KEY", "short")
    with pytest.raises(PrivacyError, match="shorter than 16"):
        study_key(ws.path)
    ws.close()


def test_no_key_is_created_when_nobody_is_hidden(tmp_path, monkeypatch):
    from socialens.privacy import key_path

    monkeypatch.delenv("SOCIALENS_STUDY_KEY", raising=False)
    ws = _literal_ws(tmp_path)  # everyone opted in
    with public_only(ws):
        assert ws.sql("SELECT name FROM people ORDER BY 1").name.tolist() == ["Ada Boss", "Bo Member"]
    assert not key_path(ws.path).exists()
    ws.close()
