"""The interactions analysis: counts by kind towards the leaders, on a literal organization."""

from __future__ import annotations

import json

import pytest

import socialens
from socialens.analyses import interactions, run_all
from socialens.errors import AnalysisError


@pytest.fixture
def org(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "people.csv").write_text("person_id,name,opt_in\nceo,Cy,true\na,Ann,true\nb,Bo,true\n"
                                  "c,Cat,true\n")
    (d / "roles.csv").write_text(
        "person_id,title,level,is_leader,start_at\nceo,CEO,0,true,2016-01-01T00:00:00Z\n"
        "a,Staff,2,false,2016-01-01T00:00:00Z\nb,Staff,2,false,2016-01-01T00:00:00Z\n"
        "c,Staff,2,false,2016-01-01T00:00:00Z\n")
    (d / "accounts.csv").write_text(
        "account_id,person_id,handle,kind\ntwitter:1,ceo,cy,personal\ntwitter:2,a,ann,personal\n"
        "twitter:3,b,bo,personal\ntwitter:4,c,cat,personal\ntwitter:9,,outsider,personal\n"
        "twitter:8,ceo,cy_office,official\n")

    def post(pid, acc, day, **kw):
        return {"post_id": f"twitter:{pid}", "account_id": f"twitter:{acc}",
                "created_at": f"2017-01-{day:02d}T10:00:00Z", "text": "x", **kw}

    posts = [
        post(10, 1, 1),
        post(11, 2, 2, reply_to_post_id="twitter:10"),               # a replies to the CEO
        post(12, 2, 3, reply_to_post_id="twitter:10"),               # again: same tie, 2 edges
        post(13, 3, 4, mentions=["cy", "ann"]),                      # b mentions CEO and a
        post(14, 9, 5, mentions=["cy"]),                             # an outsider mentions CEO
        post(15, 4, 6, mentions=["cy_office"]),                      # c: the official account
        post(16, 3, 20, reply_to_post_id="twitter:10"),              # b replies, late in month
    ]
    (d / "posts.jsonl").write_text("\n".join(json.dumps(p) for p in posts) + "\n")
    ws = socialens.open(tmp_path / "ws.duckdb")
    ws.ingest(d)
    yield ws
    ws.close()


def test_counts_by_kind_towards_leaders(org):
    r = interactions(org, window_end="2017-01-10")
    k = r.summary["kinds"]
    assert k["reply"] == {
        "edges": 2, "ties": 1, "members_sending": 1, "members_reaching_a_leader": 1,
        "share_of_members_reaching_a_leader": 0.25, "leader_share_of_member_ties": 1.0,
        "leader_share_of_senders": 0.0}
    # mentions from members: b->CEO, b->a, c->official (not the CEO's own account)
    assert (k["mention"]["ties"], k["mention"]["members_sending"],
            k["mention"]["members_reaching_a_leader"]) == (4, 2, 1)
    assert k["mention"]["leader_share_of_member_ties"] == pytest.approx(1 / 3)
    assert r.summary["n_members_posting"] == 4 and r.summary["n_leaders"] == 1
    lt = r.tables["leaders"].set_index("kind")
    assert lt.loc["reply", "edges_from_members"] == 2 and lt.loc["reply", "name"] == "Cy"
    assert lt.loc["mention (outsiders)", "ties_from_outsiders"] == 1
    # the CEO, a, b and c posted before 2017-01-10 (the outsider is not a member)
    assert r.headline.startswith("1 of the 4 members who posted replied to a leader; "
                                 "1 of the 4 members who posted mentioned a leader.")


def test_window_and_kinds(org):
    late = interactions(org, window_start="2017-01-10", kinds=("reply",))
    assert late.summary["kinds"]["reply"]["ties"] == 1  # b's late reply only
    assert list(late.tables["by_kind"].kind) == ["reply"]
    with pytest.raises(AnalysisError, match="unknown edge kind"):
        interactions(org, kinds=("replies",))
    with pytest.raises(AnalysisError, match="no interaction or follow ties"):
        interactions(org, window_start="2018-01-01", window_end="2018-02-01")
    with pytest.raises(TypeError, match="kind"):
        interactions(org, kind=("reply",))


def test_runs_in_the_registry_and_renders(org):
    res = run_all(org, names=["interactions"], window_end="2017-01-10")
    r = res["interactions"]
    html = r.to_html()
    assert "Interactions: who replies to, mentions and reposts whom" in html
    assert "1 of the 4 members who posted replied to a leader" in html
    assert r.to_dict()["summary"]["kinds"]["reply"]["edges"] == 2
