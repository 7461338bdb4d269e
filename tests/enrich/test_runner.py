"""The incremental runner: integration from canonical files, idempotence, batch invariance."""

import json

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import socialens
from socialens.enrich import FEATURE_VERSION, enrich, enrich_batch, feature_version
from socialens.enrich.runner import FEATURE_SCHEMA
from socialens.errors import EnrichError

POSTS = [
    {"post_id": "twitter:1", "account_id": "twitter:10", "created_at": "2015-07-01T10:00:00Z",
     "text": "So proud of my daughter today! Happy birthday Wendy :) #Family"},
    {"post_id": "twitter:2", "account_id": "twitter:10", "created_at": "2015-07-01T11:00:00Z",
     "text": "Voted against the bill. It's a terrible deal for @SenOther's state "
             "#HonorOurHeroeshttps://t.co/AbC", "urls": ["https://www.senate.gov/x"]},
    {"post_id": "twitter:3", "account_id": "twitter:11", "created_at": "2015-07-02T09:00:00Z",
     "text": "El eliminar a #Cuba de la lista de estados patrocinadores del terrorismo seria otro "
             "gran paso en falso."},
    {"post_id": "twitter:4", "account_id": "twitter:11", "created_at": "2015-07-02T09:30:00Z",
     "text": None},
    {"post_id": "twitter:5", "account_id": "twitter:11", "created_at": "2015-07-02T10:30:00Z",
     "text": "Good luck @Cavs! #GoCavs pic.twitter.com/xyz", "mentions": ["Cavs"]},
]


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "canon"
    d.mkdir()
    (d / "people.csv").write_text("person_id,name\np1,Ann\np2,Bob\n")
    (d / "accounts.csv").write_text(
        "account_id,person_id,handle\ntwitter:10,p1,SenAnn\ntwitter:11,p2,SenOther\n"
    )
    (d / "posts.jsonl").write_text("\n".join(json.dumps(p) for p in POSTS) + "\n")
    return d


@pytest.fixture
def ws(tmp_path, folder):
    w = socialens.open(tmp_path / "w.duckdb")
    w.ingest(folder)
    yield w
    w.close()


def test_integration_from_canonical_folder(ws):
    progress = []
    r = enrich(ws, batch_size=2, on_progress=lambda done, total: progress.append((done, total)))
    assert r.enriched == 5 and r.skipped_already_done == 0
    assert progress[-1] == (5, 5) and len(progress) == 3
    f = ws.sql("SELECT * FROM post_features ORDER BY post_id").set_index("post_id")
    assert list(f.columns) == [c.name for c in FEATURE_SCHEMA if c.name != "post_id"]
    assert (f.feature_version == FEATURE_VERSION).all()
    assert f.loc["twitter:1", "sharing_label"] == "PERSONAL"
    assert f.loc["twitter:1", "tone_label"] == "positive"
    assert f.loc["twitter:2", "tone_label"] == "negative"
    assert f.loc["twitter:2", "sharing_label"] == "PROFESSIONAL"
    # Spanish: flagged, not scored as English; markers still counted
    assert not f.loc["twitter:3", "is_english"] and f.loc["twitter:3", "lang"] == "es"
    assert f.isna().loc["twitter:3", "tone_compound"] and f.isna().loc["twitter:3", "sharing_label"]
    # empty text: no scores, no crash
    assert f.isna().loc["twitter:4", "n_tokens"] and f.isna().loc["twitter:4", "tone_label"]
    assert bool(f.loc["twitter:5", "has_media"])
    assert r.non_english == 1
    assert r.by_sharing_label["PERSONAL"] >= 1

    e = set(map(tuple, ws.sql("SELECT post_id, kind, value FROM post_entities").values.tolist()))
    assert ("twitter:2", "hashtag", "honorourheroes") in e
    assert ("twitter:2", "mention_account", "twitter:11") in e
    assert ("twitter:2", "domain", "senate.gov") in e  # from the ingested expanded URL
    assert ("twitter:5", "media", "pic.twitter.com/xyz") in e
    runs = ws.sql("SELECT DISTINCT run_id FROM post_entities WHERE kind = 'domain'").run_id
    assert list(runs) == [f"enrich:{FEATURE_VERSION}"]


def test_idempotent_and_incremental(ws, tmp_path):
    enrich(ws)
    n_ent = ws.count("post_entities")
    again = enrich(ws)
    assert again.enriched == 0 and again.skipped_already_done == 5
    assert ws.count("post_features") == 5 and ws.count("post_entities") == n_ent
    # a new post is enriched alone
    more = tmp_path / "more"
    more.mkdir()
    (more / "posts.jsonl").write_text(json.dumps(
        {"post_id": "twitter:6", "account_id": "twitter:10",
         "created_at": "2015-07-03T10:00:00Z", "text": "Great hearing today."}) + "\n")
    ws.ingest(more)
    r = enrich(ws)
    assert r.enriched == 1 and r.skipped_already_done == 5


def test_convokit_mode_is_its_own_version(ws):
    enrich(ws)
    r = enrich(ws, markers_mode="convokit")
    assert r.enriched == 5 and r.feature_version == feature_version("convokit") == f"{FEATURE_VERSION}+convokit"
    rows = ws.sql("SELECT DISTINCT markers_mode FROM post_features ORDER BY 1").markers_mode
    assert list(rows) == ["convokit", "default"]


def test_bad_arguments(ws, tmp_path):
    with pytest.raises(EnrichError, match="markers mode"):
        enrich(ws, markers_mode="nope")
    with pytest.raises(EnrichError, match="batch_size"):
        enrich(ws, batch_size=0)
    ws.close()
    ro = socialens.open(tmp_path / "w.duckdb", read_only=True)
    try:
        with pytest.raises(EnrichError, match="read-only"):
            enrich(ro)
    finally:
        ro.close()


_texts = st.lists(st.one_of(st.none(), st.text(max_size=60),
                            st.sampled_from([p["text"] for p in POSTS])), min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_texts, st.randoms(use_true_random=False), st.integers(1, 4))
def test_batch_function_is_row_wise(texts, rnd, split):
    """Permuting rows or splitting them into batches does not change any row's features."""
    ids = [f"twitter:{i}" for i in range(len(texts))]
    batch = pa.RecordBatch.from_pydict({"post_id": ids, "text": texts})
    f, _ = enrich_batch(batch)
    base = {r["post_id"]: r for r in f.to_pylist()}
    order = list(range(len(texts)))
    rnd.shuffle(order)
    rows = []
    for start in range(0, len(order), split):
        part = order[start:start + split]
        b = pa.RecordBatch.from_pydict({"post_id": [ids[i] for i in part],
                                        "text": [texts[i] for i in part]})
        fb, _ = enrich_batch(b, computed_at=f.column("computed_at")[0].as_py())
        rows += fb.to_pylist()
    assert {r["post_id"]: r for r in rows} == base
    for r in rows:
        if r["tone_compound"] is not None:
            assert -1 <= r["tone_compound"] <= 1
        if r["personal_score"] is not None:
            assert 0 <= r["personal_score"] <= 1


def test_cli_enrich(ws, tmp_path):
    from typer.testing import CliRunner

    from socialens.cli import app

    path = str(ws.path)
    ws.close()
    runner = CliRunner()
    r = runner.invoke(app, ["enrich", "-w", path])
    assert r.exit_code == 0, r.output
    assert "enriched 5 posts" in r.output
    r = runner.invoke(app, ["enrich", "-w", path, "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["skipped_already_done"] == 5
    r = runner.invoke(app, ["enrich", "-w", path, "--markers-mode", "liwc"])
    assert r.exit_code == 1
    assert "unknown markers mode 'liwc'" in r.output


def test_parallel_workers_give_identical_features(tmp_path, tiny_dir):
    import socialens
    from socialens.enrich import enrich

    frames = []
    for workers in (1, 2):
        with socialens.open(tmp_path / f"w{workers}.duckdb") as w:
            w.ingest(tiny_dir)
            res = enrich(w, batch_size=100, workers=workers)
            assert res.enriched == 507
            frames.append(w.sql("SELECT * EXCLUDE (computed_at) FROM post_features ORDER BY post_id"))
    assert frames[0].equals(frames[1])


def _entities_by_insert_or_ignore(ws, version: str) -> tuple[set, int]:
    """The ``post_entities`` rows the runner must end with, computed the plain way: every batch's
    entities inserted with insert-or-ignore into a copy of the table as it is now."""
    stored = set(ws.con.execute("SELECT post_id, kind, value FROM post_entities").fetchall())
    todo = ws.con.execute(
        "SELECT p.post_id, p.text FROM posts p WHERE NOT EXISTS (SELECT 1 FROM post_features f "
        "WHERE f.post_id = p.post_id AND f.feature_version = ?) ORDER BY p.post_id", [version]
    ).fetchall()
    known = ws.con.execute(
        "SELECT post_id, list(value) FILTER (WHERE kind = 'url') AS u, "
        "list(value) FILTER (WHERE kind = 'mention') AS m FROM post_entities GROUP BY post_id"
    ).fetchall()
    urls = {p: u for p, u, _ in known}
    mentions = {p: m for p, _, m in known}
    ids = [p for p, _ in todo]
    batch = pa.RecordBatch.from_pydict({
        "post_id": ids, "text": [t for _, t in todo],
        "known_urls": [urls.get(p) for p in ids], "known_mentions": [mentions.get(p) for p in ids],
    })
    handles = {(pl, h.lower()): a for a, pl, h in ws.con.execute(
        "SELECT account_id, platform, handle FROM accounts WHERE handle IS NOT NULL").fetchall()}
    _, ents = enrich_batch(batch, handles=handles)
    new = set(zip(*[ents.column(c).to_pylist() for c in ("post_id", "kind", "value")],
                  strict=True))
    return stored | new, len(new - stored)


def test_entities_appended_or_merged_give_the_same_table(tmp_path, folder):
    # batches of 1 and 2: some hold only posts without stored entities (appended), others posts
    # whose hashtags, mentions and URLs ingest stored (merged with insert-or-ignore)
    for batch_size in (1, 2):
        w = socialens.open(tmp_path / f"e{batch_size}.duckdb")
        w.ingest(folder)
        w.con.execute("INSERT INTO posts (post_id, account_id, created_at, text) VALUES "
                      "('twitter:6', 'twitter:10', TIMESTAMPTZ '2015-07-03', "
                      "'Thanks @SenOther https://t.co/q1 pic.twitter.com/Zz #Go'), "
                      "('twitter:7', 'twitter:10', TIMESTAMPTZ '2015-07-03', 'no entities')")
        w.con.execute("DELETE FROM post_entities WHERE post_id = 'twitter:1'")
        expected, added = _entities_by_insert_or_ignore(w, FEATURE_VERSION)
        r = enrich(w, batch_size=batch_size)
        rows = set(w.con.execute("SELECT post_id, kind, value FROM post_entities").fetchall())
        assert rows == expected and r.entities_added == added > 0
        # another feature version: every entity is stored already
        again = enrich(w, batch_size=batch_size, markers_mode="convokit")
        assert again.entities_added == 0
        assert set(w.con.execute("SELECT post_id, kind, value FROM post_entities").fetchall()) \
            == expected
        w.close()
