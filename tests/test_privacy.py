"""The privacy boundary: non-public posts never reach a report, the site, serve or an export."""

from __future__ import annotations

import json
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
