"""socialens.forget: a person removed everywhere, counted exactly, with no trace left."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import socialens
from socialens import serve_copy
from socialens.cli import app
from socialens.forget import (
    TOMBSTONE,
    ForgetError,
    forget,
    id_hash,
    site_traces,
    trace_scan,
)
from socialens.ingest.loader import FORGOTTEN_REASON

# the CEO of the tiny organization: person "ceo", account twitter:1, handle tonyh, "Tony H";
# 195 posts of their own (each with a hashtag and a mention entity), 312 posts of others that
# mention @tonyh (312 mention entities, 312 derived mention edges), 3 follows edges all touching
# twitter:1, 2 snapshots, 1 role
CEO_IDS, CEO_HANDLES, CEO_NAMES = ["ceo", "twitter:1"], ["tonyh"], ["Tony H"]

CEO_DELETED = {
    "post_features": 0, "post_entities": 390 + 312, "edges": 3 + 312, "posts": 195,
    "account_snapshots": 2, "collect_state": 0, "accounts": 1, "roles": 1, "people": 1,
    "sim_truth_people": 0, "sim_truth_ties": 0, "sim_truth_campaigns": 0,
    "sim_truth_campaign_uses": 0, "sim_truth_posts": 0, "quarantine": 0,
}


def _data_counts(ws) -> dict[str, int]:
    return {t: n for t, n in ws.counts().items() if not t.startswith("ibis_")}


def test_forget_ceo_exact_counts_and_no_trace(tiny_ws):
    assert trace_scan(tiny_ws, CEO_IDS, CEO_HANDLES, CEO_NAMES)  # there is something to find
    before = _data_counts(tiny_ws)
    res = forget(tiny_ws, "ceo")
    assert res.person_id == "ceo" and res.account_ids == ["twitter:1"]
    assert res.handles == ["tonyh"]
    assert res.deleted == CEO_DELETED
    assert res.rewritten["posts.text"] == 312
    assert res.rewritten["posts.reply_to_account_id"] == 0
    assert res.tombstones == 3 and res.compacted
    after = _data_counts(tiny_ws)
    for t, n in CEO_DELETED.items():
        if t in before:
            assert after[t] == before[t] - n, t
    assert after["forgotten"] == 3
    assert trace_scan(tiny_ws, CEO_IDS, CEO_HANDLES, CEO_NAMES) == {}
    texts = tiny_ws.sql("SELECT text FROM posts")["text"]
    assert texts.str.contains(TOMBSTONE, regex=False).sum() == 312
    # the tombstones are hashes, never the identifiers
    stored = set(tiny_ws.sql("SELECT id_hash FROM forgotten")["id_hash"])
    assert stored == {id_hash("ceo"), id_hash("twitter:1"), id_hash("tonyh")}
    # the workspace is still usable through the same handle (reopened on the compacted file)
    assert tiny_ws.count("people") == 7


def test_dry_run_counts_the_same_and_changes_nothing(tiny_ws):
    before = _data_counts(tiny_ws)
    res = forget(tiny_ws, "ceo", dry_run=True)
    assert res.deleted == CEO_DELETED and res.rewritten["posts.text"] == 312
    assert _data_counts(tiny_ws) == before
    assert "would remove" in res.summary()


@pytest.mark.parametrize("who", ["tonyh", "@TonyH", "twitter:1"])
def test_forget_by_handle_or_account_resolves_to_the_person(tiny_ws, who):
    res = forget(tiny_ws, who, compact=False)
    assert res.person_id == "ceo" and res.deleted["people"] == 1 and res.deleted["roles"] == 1


def test_forget_an_outsider_account_alone(tiny_ws):
    res = forget(tiny_ws, "twitter:100", compact=False)
    assert res.person_id is None and res.account_ids == ["twitter:100"]
    assert res.deleted["accounts"] == 1 and res.deleted["account_snapshots"] == 1
    assert "people" not in res.deleted and res.deleted["posts"] == 0
    assert trace_scan(tiny_ws, ["twitter:100"], ["acme"], ["Acme Inc"]) == {}


def test_unknown_person_is_a_clear_error(tiny_ws):
    with pytest.raises(ForgetError, match="nobody called 'nobody'.*SELECT person_id"):
        forget(tiny_ws, "nobody")


def test_features_of_rewritten_posts_are_dropped_for_re_enrichment(tiny_ws):
    from socialens.enrich import enrich

    enrich(tiny_ws)
    assert tiny_ws.count("post_features") == 507
    res = forget(tiny_ws, "ceo")
    assert res.deleted["post_features"] == 195
    assert res.rewritten["post_features (dropped for re-enrichment)"] == 312
    # enrich also records the resolved mention (kind mention_account): 195 own + 312 others'
    assert res.deleted["post_entities"] == 702 + 195 + 312
    assert tiny_ws.count("post_features") == 0
    assert trace_scan(tiny_ws, CEO_IDS, CEO_HANDLES, CEO_NAMES) == {}
    enrich(tiny_ws)
    assert tiny_ws.count("post_features") == 312


def test_quarantined_raw_records_that_name_them_are_deleted(ws, tiny_dir, tmp_path):
    ws.ingest(tiny_dir)
    bad = tmp_path / "posts.jsonl"
    bad.write_text(
        '{"post_id": "twitter:9001", "account_id": "twitter:1", "created_at": "no date"}\n'
        '{"post_id": "twitter:9002", "account_id": "twitter:4", "created_at": "no date", '
        '"text": "hi @TonyH"}\n'
        '{"post_id": "twitter:9003", "account_id": "twitter:4", "created_at": "no date"}\n')
    ws.ingest(bad)
    assert ws.count("quarantine") == 3
    res = forget(ws, "ceo")
    assert res.deleted["quarantine"] == 2
    assert ws.sql("SELECT raw FROM quarantine")["raw"].str.contains("twitter:9003").all()


def test_compaction_removes_the_bytes_checkpoint_leaves(tmp_path, tiny_dir):
    """DuckDB keeps deleted rows' bytes in the file after CHECKPOINT; the rewrite does not."""
    for compact in (False, True):
        p = tmp_path / f"c{compact}.duckdb"
        with socialens.open(p) as w:
            w.ingest(tiny_dir)
            forget(w, "ceo", compact=compact)
        data = p.read_bytes()
        if compact:
            assert data.count(b"tonyh") == 0 and data.count(b"Tony H") == 0
        else:
            assert data.count(b"tonyh") > 0  # measured: 7 copies remain after CHECKPOINT


def test_reingest_quarantines_them_without_keeping_the_record(tiny_ws, tiny_dir, tmp_path):
    forget(tiny_ws, "ceo")
    res = tiny_ws.ingest(tiny_dir)
    by_target = {f.target: f for f in res.files}
    assert by_target["posts"].n_quarantined == 195 and by_target["posts"].n_loaded == 0
    assert by_target["people"].n_quarantined == 1 and by_target["accounts"].n_quarantined == 1
    assert by_target["account_snapshots"].n_quarantined == 2
    assert by_target["edges"].n_quarantined == 3
    assert all(f.balanced for f in res.files)
    q = tiny_ws.sql("SELECT reason, raw FROM quarantine")
    assert len(q) == 203 and (q["reason"] == FORGOTTEN_REASON).all() and (q["raw"] == "").all()
    assert tiny_ws.count("people") == 7 and tiny_ws.count("posts") == 312
    assert trace_scan(tiny_ws, CEO_IDS, CEO_HANDLES, CEO_NAMES) == {}
    # a new post of someone else that mentions them: loaded, the mention scrubbed after loading
    new = tmp_path / "posts.jsonl"
    new.write_text('{"post_id": "twitter:9100", "account_id": "twitter:4", "created_at": '
                   '"2009-02-01T00:00:00Z", "text": "thanks @tonyh!", "mentions": ["tonyh"]}\n')
    res = tiny_ws.ingest(new)
    assert res.files[0].n_loaded == 1
    assert res.forgotten["posts.text"] == 1 and res.forgotten["post_entities"] == 1
    assert tiny_ws.sql("SELECT text FROM posts WHERE post_id = 'twitter:9100'")["text"][0] == (
        f"thanks {TOMBSTONE}!")
    assert trace_scan(tiny_ws, CEO_IDS, CEO_HANDLES, CEO_NAMES) == {}


def test_serve_copies_made_before_are_removed(tmp_path, tiny_dir):
    p = tmp_path / "org.duckdb"
    serve_copy.copy_dir(p).mkdir()
    with socialens.open(p) as w:
        w.ingest(tiny_dir)
    old = serve_copy.generations(p)
    assert old and b"tonyh" in old[-1][1].read_bytes()
    with socialens.open(p) as w:
        res = forget(w, "tonyh")
    assert res.serve_copies_removed == len(old)
    gens = serve_copy.generations(p)
    assert len(gens) == 1 and gens[0][1] not in [g[1] for g in old]
    assert b"tonyh" not in gens[0][1].read_bytes()


def test_site_rebuilt_without_them(tiny_ws, tmp_path):
    from socialens.forget import _needles
    from socialens.site.build import publish

    site = tmp_path / "site"
    publish(tiny_ws, site, report=False)
    needles = _needles("ceo", ["twitter:1"], ["tonyh"], ["Tony H"])
    before = site_traces(site, needles)
    assert "people/ceo.html" in " ".join(before) or any("people/" in f for f in before)
    res = forget(tiny_ws, "ceo", sites=[site])
    assert res.sites[str(site)]["before"] == len(before) > 0
    assert res.sites[str(site)]["after"] == 0 and site_traces(site, needles) == []
    with pytest.raises(ForgetError, match="not a folder built by `socialens publish`"):
        forget(tiny_ws, "coo", sites=[tmp_path])


def test_cli_forget(tmp_path, tiny_dir):
    runner = CliRunner()
    w = tmp_path / "w.duckdb"
    assert runner.invoke(app, ["ingest", str(tiny_dir), "-w", str(w)]).exit_code == 0
    r = runner.invoke(app, ["forget", "nobody", "-w", str(w)])
    assert r.exit_code == 1 and "nobody called 'nobody'" in r.output
    r = runner.invoke(app, ["forget", "ceo", "-w", str(w), "--dry-run"])
    assert r.exit_code == 0 and "would remove 'ceo'" in r.output and "posts: 195 row(s)" in r.output
    r = runner.invoke(app, ["forget", "ceo", "-w", str(w), "--json"])
    assert r.exit_code == 0
    out = json.loads(r.output)
    assert out["deleted"] == CEO_DELETED and out["tombstones"] == 3 and out["compacted"]
    r = runner.invoke(app, ["forget", "ceo", "-w", str(w)])
    assert r.exit_code == 1 and "nobody called 'ceo'" in r.output
