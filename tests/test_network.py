"""Interaction edges derived from posts, and the time-resolved network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import socialens
from socialens.network import (
    NetworkError,
    derive_interactions,
    edge_kind_counts,
    interaction_edges,
    network_at,
)
from tests.conftest import SHARED_DATA

SAMPLES = SHARED_DATA / "format_samples"


def _write(d: Path, accounts: str, posts: list[dict]) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "accounts.csv").write_text(accounts)
    (d / "posts.jsonl").write_text("\n".join(json.dumps(p) for p in posts) + "\n")
    return d


def _post(pid, acc, day, **kw):
    return {"post_id": f"twitter:{pid}", "account_id": f"twitter:{acc}",
            "created_at": f"2017-01-{day:02d}T10:00:00Z", "text": kw.pop("text", "x"), **kw}


ACCOUNTS = "account_id,handle\ntwitter:1,Ceo\ntwitter:2,ann\ntwitter:3,bob\n"


@pytest.fixture
def net_ws(tmp_path):
    posts = [
        _post(10, 1, 1, mentions=["ANN", "nobody"]),               # mention by handle, any case
        _post(11, 2, 2, reply_to_post_id="twitter:10"),           # reply via the parent's author
        _post(12, 3, 3, reply_to_account_id="twitter:1"),         # reply with the account given
        _post(13, 3, 4, repost_of="twitter:10", mentions=["ann"]),  # repost: no mention edge
        _post(14, 2, 5, quote_of="twitter:10", mentions=["twitter:3"]),  # mention by account id
        _post(15, 1, 6, reply_to_post_id="twitter:10"),           # self-reply: no edge
        _post(16, 1, 7, reply_to_post_id="twitter:999"),          # parent unknown: no edge
        _post(17, 1, 8, mentions=["ceo"]),                        # self-mention: no edge
    ]
    ws = socialens.open(tmp_path / "ws.duckdb")
    res = ws.ingest(_write(tmp_path / "in", ACCOUNTS, posts))
    yield ws, res
    ws.close()


def _edges(ws):
    return sorted(tuple(r) for r in ws.sql(
        "SELECT src, dst, kind, post_id, strftime(observed_at, '%d') FROM edges").values.tolist())


def test_each_kind_by_its_rule(net_ws):
    ws, res = net_ws
    assert _edges(ws) == [
        ("twitter:1", "twitter:2", "mention", "twitter:10", "01"),
        ("twitter:2", "twitter:1", "quote", "twitter:14", "05"),
        ("twitter:2", "twitter:1", "reply", "twitter:11", "02"),
        ("twitter:2", "twitter:3", "mention", "twitter:14", "05"),
        ("twitter:3", "twitter:1", "reply", "twitter:12", "03"),
        ("twitter:3", "twitter:1", "repost", "twitter:13", "04"),
    ]
    assert res.interactions == {"reply": 2, "mention": 2, "repost": 1, "quote": 1}
    assert set(ws.sql("SELECT DISTINCT run_id FROM edges").run_id) == {"interactions:1"}
    assert edge_kind_counts(ws.table("edges"))["reply"] == {"edges": 2, "ties": 2}


def test_derivation_is_idempotent_and_resolves_accounts_loaded_later(net_ws, tmp_path):
    ws, _ = net_ws
    assert derive_interactions(ws) == {"reply": 0, "mention": 0, "repost": 0, "quote": 0}
    before = ws.count("edges")
    again = ws.ingest(tmp_path / "in")  # re-ingest: nothing new
    assert ws.count("edges") == before and again.interactions == {}
    # "@nobody" in post 10 resolves once the account arrives
    d = tmp_path / "later"
    d.mkdir()
    (d / "accounts.csv").write_text("account_id,handle\ntwitter:4,nobody\n")
    res = ws.ingest(d)
    assert res.interactions["mention"] == 1
    assert ws.sql("SELECT src, dst FROM edges WHERE dst = 'twitter:4'").values.tolist() == \
        [["twitter:1", "twitter:4"]]


def test_network_at_is_the_network_before_t(net_ws, tmp_path):
    ws, _ = net_ws
    d = tmp_path / "follows"
    d.mkdir()
    (d / "edges.csv").write_text(
        "src,dst,kind,observed_at\ntwitter:2,twitter:1,follows,2017-06-01T00:00:00Z\n")
    ws.ingest(d)
    e = ws.table("edges")
    got = network_at(e, before="2017-01-04").execute()
    assert sorted(zip(got.src, got.dst, got.kind, strict=True)) == [
        ("twitter:1", "twitter:2", "mention"), ("twitter:2", "twitter:1", "follows"),
        ("twitter:2", "twitter:1", "reply"), ("twitter:3", "twitter:1", "reply")]
    observed = network_at(e, before="2017-01-04", follows="observed").execute()
    assert "follows" not in set(observed.kind)
    window = network_at(e, since="2017-01-03", before="2017-01-06", kinds=["reply", "quote"])
    w = window.execute()
    assert sorted(zip(w.src, w.kind, strict=True)) == [("twitter:2", "quote"), ("twitter:3", "reply")]
    # aggregated: weight and n are sums over the edges of each tie
    both = network_at(e, kinds=["reply", "repost"]).execute()
    tie = both[(both.src == "twitter:3") & (both.kind == "reply")].iloc[0]
    assert (tie.n, tie.weight) == (1, 1.0)
    with pytest.raises(NetworkError, match="unknown edge kind 'replies'.*known kinds: follows"):
        network_at(e, kinds=["replies"])
    with pytest.raises(NetworkError, match="not a time"):
        network_at(e, before="yesterday-ish")


@settings(max_examples=8, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=9), min_size=2, max_size=6, unique=True))
def test_network_grows_with_t(days):
    """The network before t is contained in the network before any later t'."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        posts = [_post(100 + i, 1 + i % 3, day, reply_to_account_id=f"twitter:{1 + (i + 1) % 3}")
                 for i, day in enumerate(days)]
        ws = socialens.open(tmp / "ws.duckdb")
        ws.ingest(_write(tmp / "in", ACCOUNTS, posts))
        e = ws.table("edges")
        sizes = []
        for t in range(1, 11):
            n = network_at(e, before=f"2017-01-{t:02d}").execute().n.sum()
            sizes.append(int(n))
        assert sizes == sorted(sizes) and sizes[-1] == len(days)
        assert sizes[0] == 0
        ws.close()


def test_expression_is_engine_neutral(net_ws):
    """The derivation is an ibis expression over tables; it compiles for another SQL engine
    (PySpark itself is the Spark issue's: its compiler needs pyspark installed)."""
    import ibis

    ws, _ = net_ws
    expr = interaction_edges(ws.table("posts"), ws.table("post_entities"), ws.table("accounts"))
    sql = ibis.to_sql(expr, dialect="postgres")
    assert "reply" in sql and "mention" in sql
    assert len(expr.execute()) == 6


@pytest.mark.skipif(not SAMPLES.exists(), reason="needs ../shared/data/format_samples")
def test_real_twarc_page_edges_match_its_raw_json(tmp_path):
    """noflat.jsonl (twarc2, 100 tweets + includes): every reply/repost/quote/mention edge that the
    raw JSON implies between accounts of the page, and nothing else."""
    path = SAMPLES / "twitter_v2" / "noflat.jsonl"
    ws = socialens.open(tmp_path / "ws.duckdb")
    ws.ingest(path)
    page = json.loads(path.read_text().splitlines()[0])
    tweets = {t["id"]: t for t in page["includes"].get("tweets", [])}
    tweets.update({t["id"]: t for t in page["data"]})
    loaded = set(ws.sql("SELECT post_id FROM posts").post_id)
    tweets = {k: t for k, t in tweets.items() if f"twitter:{k}" in loaded}
    users = {f"twitter:{u['id']}" for u in page["includes"]["users"]} | \
        {f"twitter:{t['author_id']}" for t in tweets.values()}
    users &= set(ws.sql("SELECT account_id FROM accounts").account_id)
    handles = {u["username"].lower(): f"twitter:{u['id']}" for u in page["includes"]["users"]}
    author = {k: f"twitter:{t['author_id']}" for k, t in tweets.items()}
    want = set()
    for k, t in tweets.items():
        src = author[k]
        refs = {r["type"]: r["id"] for r in t.get("referenced_tweets", [])}
        targets = []
        if "replied_to" in refs or t.get("in_reply_to_user_id"):
            dst = (f"twitter:{t['in_reply_to_user_id']}" if t.get("in_reply_to_user_id")
                   else author.get(refs["replied_to"]))
            targets.append(("reply", dst))
        if "retweeted" in refs:
            targets.append(("repost", author.get(refs["retweeted"])))
        if "quoted" in refs:
            targets.append(("quote", author.get(refs["quoted"])))
        if "retweeted" not in refs:
            for m in t.get("entities", {}).get("mentions", []):
                targets.append(("mention", handles.get(m["username"].lower())))
        for kind, dst in targets:
            if dst is not None and dst != src and dst in users:
                want.add((src, dst, kind, f"twitter:{k}"))
    got = {tuple(r) for r in ws.sql("SELECT src, dst, kind, post_id FROM edges").values.tolist()}
    assert got == want
    kinds = {k for *_, k, _ in got}
    assert kinds == {"reply", "mention", "repost", "quote"}
    assert len(got) > 100
    ws.close()


def test_cli_exports_the_network_before_t_with_kinds(net_ws, tmp_path):
    import networkx as nx
    from typer.testing import CliRunner

    from socialens.cli import app

    ws, _ = net_ws
    path = ws.path
    ws.close()
    runner = CliRunner()
    out = tmp_path / "x"
    r = runner.invoke(app, ["export", "-w", str(path), "--out", str(out), "--networks", "gexf",
                            "--no-convokit", "--kinds", "reply,mention", "--before", "2017-01-03"])
    assert r.exit_code == 0, r.output
    g = nx.read_gexf(out / "network.gexf")
    assert sorted((u, v, d["kind"]) for u, v, d in g.edges(data=True)) == [
        ("twitter:1", "twitter:2", "mention"), ("twitter:2", "twitter:1", "reply")]
    r = runner.invoke(app, ["export", "-w", str(path), "--out", str(out), "--kinds", "replies"])
    assert r.exit_code == 1 and "unknown edge kind 'replies'" in r.output
    assert "Traceback" not in r.output


def test_simulated_replies_recovered_through_the_product(tmp_path):
    """simulate → ingest (which derives the edges) → compare with sim_truth_posts: every simulated
    reply is one reply edge from its author to the author of the post answered, and the edges to
    leaders are exactly the replies the simulator planted as answering a leader."""
    res = socialens.simulate(300, seed=3, out=tmp_path / "sim.duckdb")
    ws = socialens.open(res.workspace)
    truth = ws.sql("""SELECT t.post_id, t.reply_to_leader, p.account_id AS src,
                             q.account_id AS dst
                      FROM sim_truth_posts t JOIN posts p USING (post_id)
                      JOIN posts q ON q.post_id = p.reply_to_post_id
                      WHERE t.kind IN ('reply', 'reply_back')""")
    assert len(truth) > 100
    got = ws.sql("SELECT post_id, src, dst FROM edges WHERE kind = 'reply'")
    assert sorted(map(tuple, got.values.tolist())) == \
        sorted(map(tuple, truth[["post_id", "src", "dst"]].values.tolist()))
    leaders = set(ws.sql("""SELECT account_id FROM sim_truth_people
                            WHERE is_leader AND account_id IS NOT NULL""").account_id)
    to_leader = set(got.post_id[got.dst.isin(leaders)])
    assert to_leader == set(truth.post_id[truth.reply_to_leader.astype(bool)])
    ws.close()
