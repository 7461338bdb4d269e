import csv
import json
import xml.etree.ElementTree as ET

import networkx as nx
import pyarrow.parquet as pq
import pytest

from socialens.export import ExportError, export_convokit, export_network, export_tables
from tests.ingest.conftest import PLATFORM_FIXTURES


@pytest.fixture
def loaded(ws):
    ws.ingest(PLATFORM_FIXTURES / "roster.csv")
    ws.ingest(PLATFORM_FIXTURES / "twarc2_pages.jsonl")
    ws.ingest(PLATFORM_FIXTURES / "twitter_archive")
    # a handle that needs escaping in XML
    ws.con.execute("UPDATE accounts SET display_name = '<Ada & \"Co\">' WHERE account_id = 'twitter:1001'")
    return ws


def test_tables_csv_and_parquet(loaded, tmp_path):
    paths = export_tables(loaded, tmp_path / "csv")
    by = {p.stem: p for p in paths}
    with open(by["posts"], newline="", encoding="utf-8") as f:
        assert sum(1 for _ in csv.DictReader(f)) == loaded.count("posts")
    paths = export_tables(loaded, tmp_path / "pq", format="parquet", tables=["accounts"])
    assert pq.read_table(paths[0]).num_rows == loaded.count("accounts")
    with pytest.raises(ExportError, match="unknown table format"):
        export_tables(loaded, tmp_path / "x", format="xlsx")
    with pytest.raises(ExportError, match="no table nope"):
        export_tables(loaded, tmp_path / "x", tables=["nope"])


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_network_roundtrip(loaded, tmp_path, fmt):
    # nobody in this roster opted in: include_all names them (the default pseudonymizes them,
    # see tests/test_privacy.py)
    path = export_network(loaded, tmp_path / f"net.{fmt}", as_of="2022-03-10", include_all=True)
    ET.parse(path)  # well-formed XML
    g = nx.read_gexf(path) if fmt == "gexf" else nx.read_graphml(path)
    assert g.has_edge("twitter:1002", "twitter:1001") and g.has_edge("twitter:1001", "twitter:1009")
    ties = loaded.sql("SELECT src, dst, kind, count(*) AS n FROM edges GROUP BY ALL")
    assert g.number_of_edges() == len(ties)  # one edge per (src, dst, kind), n = edges merged
    kinds = {d["kind"] for _, _, d in g.edges(data=True)}
    assert kinds == set(ties.kind) and {"reply", "mention"} <= kinds  # derived from the posts
    n = {(r.src, r.dst, r.kind): r.n for r in ties.itertuples()}
    assert all(int(d["n"]) == n[(u, v, d["kind"])] for u, v, d in g.edges(data=True))
    node = g.nodes["twitter:1001"]
    assert node["person_id"] == "p1" and node["is_leader"] in (True, "true", "True")
    with pytest.raises(ExportError, match="unknown network format"):
        export_network(loaded, tmp_path / "net.dot")


def test_convokit_corpus(loaded, tmp_path):
    out = export_convokit(loaded, tmp_path / "corpus", include_all=True)
    assert sorted(p.name for p in out.iterdir()) == [
        "conversations.json", "corpus.json", "index.json", "speakers.json", "utterances.jsonl"]
    utts = [json.loads(line) for line in (out / "utterances.jsonl").read_text("utf-8").splitlines()]
    by = {u["id"]: u for u in utts}
    assert "twitter:1501000000000000003" not in by  # a retweet: no text of its own
    reply = by["twitter:1501000000000000002"]
    assert reply["reply_to"] == "twitter:1501000000000000001"
    assert reply["conversation_id"] == "twitter:1501000000000000001"
    assert {"id", "speaker", "conversation_id", "reply_to", "timestamp", "text", "meta"} <= set(reply)
    speakers = json.loads((out / "speakers.json").read_text("utf-8"))
    assert {u["speaker"] for u in utts} <= set(speakers)
    assert speakers["twitter:1001"]["meta"]["roles"][0]["title"] == "CEO"
    convs = json.loads((out / "conversations.json").read_text("utf-8"))
    assert {u["conversation_id"] for u in utts} == set(convs)
    index = json.loads((out / "index.json").read_text("utf-8"))
    assert index["version"] == 1 and index["utterances-index"]["like_count"] == ["<class 'int'>"]


def test_cli_export(loaded, tmp_path):
    from typer.testing import CliRunner

    from socialens.cli import app

    path = loaded.path
    loaded.close()
    res = CliRunner().invoke(app, ["export", "-w", str(path), "--out", str(tmp_path / "o"),
                                   "--tables", "parquet", "--networks", "graphml"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "tables" / "posts.parquet").exists()
    assert (tmp_path / "o" / "network.graphml").exists()
    assert (tmp_path / "o" / "convokit" / "utterances.jsonl").exists()
    bad = CliRunner().invoke(app, ["export", "-w", str(path), "--out", str(tmp_path / "p"),
                                   "--tables", "xlsx"])
    assert bad.exit_code == 1 and "unknown table format" in bad.output


def test_convokit_corpus_meta_names_the_corpus_not_a_person(loaded, tmp_path):
    # the last speaker (by account id) belongs to a person, whose name must not name the corpus
    loaded.con.execute("UPDATE accounts SET person_id = 'p1' WHERE account_id = 'twitter:1009'")
    out = export_convokit(loaded, tmp_path / "corpus")
    meta = json.loads((out / "corpus.json").read_text("utf-8"))
    people = set(loaded.sql("SELECT name FROM people WHERE name IS NOT NULL")["name"])
    assert meta["name"] == "ws" and meta["name"] not in people  # the workspace's file stem
    assert meta["workspace"] == "ws.duckdb"  # the file name only, never the absolute path
    assert str(tmp_path) not in (out / "corpus.json").read_text("utf-8")
    named = export_convokit(loaded, tmp_path / "named", name="acme-2022")
    assert json.loads((named / "corpus.json").read_text("utf-8"))["name"] == "acme-2022"


def test_post_features_are_exported(loaded, tmp_path):
    post_id = loaded.sql("SELECT post_id FROM posts WHERE visibility = 'public' ORDER BY 1 LIMIT 1"
                         ).post_id[0]
    loaded.con.execute(
        "INSERT INTO post_features (post_id, feature_version, markers_mode, is_english, "
        "tone_compound, has_media, computed_at) VALUES (?, '1', 'default', true, 0.25, false, "
        "TIMESTAMPTZ '2024-01-01 00:00:00+00')", [post_id])
    by = {p.stem: p for p in export_tables(loaded, tmp_path / "csv", include_all=True)}
    assert "post_features" in by
    with open(by["post_features"], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["post_id"], r["tone_compound"]) for r in rows] == [(post_id, "0.25")]
