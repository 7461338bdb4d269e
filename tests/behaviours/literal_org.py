"""A literal organization for the behaviour and exposure tests.

People: ``ceo`` (leader), ``cfo`` (leader), ``ann``, ``bob``, ``cat`` (members; ann reports to the
ceo). Follows: ann -> ceo, bob -> ceo, bob -> ann, cat -> bob. Posts (2020-01-DD):

* 01 ceo ``#Deal`` launch        * 02 ann ``#deal`` (+ reply to ceo's post)
* 03 bob ``#DEAL`` and a tax cut * 05 cat ``#other`` mention @bob
* 06 cfo ``#deal`` (embedded copy: not a record, does not count)
"""

from __future__ import annotations

import json

import pytest

import socialens

POSTS = [
    ("x:101", "x:ceo", "2020-01-01T10:00:00Z", "Launching #Deal today", {}),
    ("x:102", "x:ann", "2020-01-02T10:00:00Z", "Love the #deal", {"reply_to_post_id": "x:101"}),
    ("x:103", "x:bob", "2020-01-03T10:00:00Z", "#DEAL means a Tax  Cut for us", {}),
    ("x:104", "x:bob", "2020-01-04T10:00:00Z", "again #deal", {}),
    ("x:105", "x:cat", "2020-01-05T10:00:00Z", "hi @bob #other", {"mentions": ["bob"]}),
    ("x:106", "x:cfo", "2019-12-01T10:00:00Z", "old #deal", {}),
]


def make_org(tmp_path):
    """Write and ingest the literal organization under ``tmp_path``; returns the workspace."""
    d = tmp_path / "org"
    d.mkdir()
    (d / "people.csv").write_text(
        "person_id,name,manager_id\nceo,Chief,\ncfo,Finance,ceo\nann,Ann,ceo\nbob,Bob,ann\n"
        "cat,Cat,ann\n")
    (d / "roles.csv").write_text(
        "person_id,title,level,is_leader,start_at\nceo,CEO,0,true,2019-01-01\n"
        "cfo,CFO,1,true,2019-01-01\nann,Staff,2,false,2019-01-01\nbob,Staff,2,false,2019-01-01\n"
        "cat,Staff,2,false,2019-01-01\n")
    (d / "accounts.csv").write_text(
        "account_id,person_id,handle,kind,created_at\n"
        "x:ceo,ceo,ceo,personal,2019-06-01T00:00:00Z\nx:cfo,cfo,cfo,personal,\n"
        "x:ann,ann,ann,personal,\nx:bob,bob,bob,personal,2019-07-01T00:00:00Z\n"
        "x:cat,cat,cat,personal,\nx:org,,org,official,2018-01-01T00:00:00Z\n")
    (d / "edges.csv").write_text(
        "src,dst,kind,observed_at\nx:ann,x:ceo,follows,2020-02-01\nx:bob,x:ceo,follows,2020-02-01\n"
        "x:bob,x:ann,follows,2020-02-01\nx:cat,x:bob,follows,2020-02-01\n"
        "x:cat,x:org,follows,2020-02-01\n")
    rows = [{"post_id": pid, "account_id": a, "created_at": t, "text": text, **extra}
            for pid, a, t, text, extra in POSTS]
    (d / "posts.jsonl").write_text("\n".join(map(json.dumps, rows)) + "\n")
    ws = socialens.open(tmp_path / "org.duckdb")
    ws.ingest(d)
    ws.con.execute("UPDATE posts SET collected_as = 'embedded' WHERE post_id = 'x:106'")
    return ws


@pytest.fixture(scope="session")
def org(tmp_path_factory):
    """The literal organization, ingested once (tests only read it)."""
    ws = make_org(tmp_path_factory.mktemp("behaviours"))
    yield ws
    ws.close()
