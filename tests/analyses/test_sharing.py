"""Sharing: the personal mix by role, level and quarter, the exposure times of members to leaders'
and peers' first personal posts, the before/after changes, the cluster jackknife, the too-few path,
and a run through the product (simulate → ingest → enrich → sharing)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import socialens
from socialens.analyses.sharing import sharing, shift_estimates
from socialens.errors import AnalysisError

# (post_id, author, day of 2020-01, personal_score, sharing_label)
POSTS = [
    ("x:1", "ldr", 1, 0.1, "PROFESSIONAL"), ("x:2", "ldr", 10, 0.9, "PERSONAL"),
    ("x:3", "bob", 5, 0.8, "PERSONAL"),
    ("x:4", "ann", 1, 0.1, "PROFESSIONAL"), ("x:5", "ann", 2, 0.2, "PROFESSIONAL"),
    ("x:6", "ann", 3, 0.3, "PROFESSIONAL"), ("x:7", "ann", 6, 0.2, "PROFESSIONAL"),
    ("x:8", "ann", 7, 0.2, "PROFESSIONAL"), ("x:9", "ann", 11, 0.5, "PERSONAL"),
    ("x:10", "ann", 12, 0.4, "PROFESSIONAL"), ("x:11", "ann", 13, 0.6, "PERSONAL"),
]


def _workspace(tmp_path):
    from socialens.enrich import enrich

    d = tmp_path / "org"
    d.mkdir()
    (d / "people.csv").write_text("person_id,name,department\nldr,Lee,Exec\nann,Ann,Sales\n"
                                  "bob,Bob,Sales\n")
    (d / "roles.csv").write_text(
        "person_id,title,level,is_leader,start_at\nldr,CEO,0,true,2019-01-01\n"
        "ann,Staff,2,false,2019-01-01\nbob,Staff,2,false,2019-01-01\n")
    (d / "accounts.csv").write_text("account_id,person_id,handle,kind\n" + "".join(
        f"x:{p},{p},{p},personal\n" for p in ("ldr", "ann", "bob")))
    # ann follows the leader and bob; bob follows nobody
    (d / "edges.csv").write_text("src,dst,kind,observed_at\nx:ann,x:ldr,follows,2020-03-01\n"
                                 "x:ann,x:bob,follows,2020-03-01\n")
    rows = []
    for pid, who, day, *_ in POSTS:
        t = pd.Timestamp("2020-01-01T10:00:00Z") + pd.Timedelta(days=day - 1)
        rows.append({"post_id": pid, "account_id": f"x:{who}",
                     "created_at": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "text": f"post {pid}"})
    (d / "posts.jsonl").write_text("\n".join(map(json.dumps, rows)) + "\n")
    ws = socialens.open(tmp_path / "org.duckdb")
    ws.ingest(d)
    enrich(ws, sharing_method="baseline")
    for pid, _, _, score, lab in POSTS:  # literal scores and labels, for known answers
        ws.con.execute("UPDATE post_features SET personal_score = ?, sharing_label = ? "
                       "WHERE post_id = ?", [score, lab, pid])
    return ws


@pytest.fixture(scope="module")
def lit(tmp_path_factory):
    ws = _workspace(tmp_path_factory.mktemp("sharing"))
    yield ws
    ws.close()


def test_mix_pools_scores_by_role_level_and_quarter(lit):
    r = sharing(lit, n_boot=200)
    mix = r.tables["mix"].set_index(["kind", "group"])
    assert mix.loc[("role", "leaders")].personal_share == pytest.approx(0.5)   # (0.1 + 0.9) / 2
    memb = mix.loc[("role", "members")]
    assert memb.n_people == 2 and memb.n_posts == 9
    assert memb.personal_share == pytest.approx((2.5 + 0.8) / 9)
    assert memb.ci_low <= memb.personal_share <= memb.ci_high
    assert mix.loc[("level", "level 2")].personal_share == pytest.approx(3.3 / 9)
    ot = r.tables["over_time"]
    assert len(ot) == 2 and set(ot.group) == {"leaders", "members"}
    assert pd.Timestamp(ot.period.iloc[0]).month == 1          # all in 2020 Q1
    people = r.tables["people"].set_index("person_id")
    assert people.loc["ann", "personal_share"] == pytest.approx(2.5 / 8)
    assert r.summary["personal_share_leaders"] == pytest.approx(0.5)


def test_before_after_changes_and_too_few_to_tell(lit):
    r = sharing(lit, min_posts=2, n_boot=0)
    m = r.tables["members"].set_index("person_id")
    # ann: the leader's first personal post is day 10, bob's (a peer) day 5
    assert m.loc["ann", "leader_n_before"] == 5 and m.loc["ann", "leader_n_after"] == 3
    assert m.loc["ann", "leader_before"] == pytest.approx(0.2)
    assert m.loc["ann", "leader_after"] == pytest.approx(0.5)
    assert m.loc["ann", "peer_before"] == pytest.approx(0.2)
    assert m.loc["ann", "peer_after"] == pytest.approx(1.9 / 5)
    assert "bob" not in m.index or pd.isna(m.loc["bob", "leader_at"])  # bob follows nobody
    sh = r.tables["shift"].set_index("term")
    assert sh.loc["leader", "estimate"] == pytest.approx(0.3)
    assert sh.loc["peer", "estimate"] == pytest.approx(0.18)
    assert sh.loc["leader_minus_peer", "estimate"] == pytest.approx(0.12)
    # one member in one department: no interval, and the headline says so
    assert not sh.enough.any() and sh.ci_low.isna().all()
    assert "Too few to tell" in r.headline and r.summary["verdict"] == "too few to tell"
    # with the default min_posts = 3 ann (5 posts before, 3 after the leader's) still enters
    r3 = sharing(lit, n_boot=0)
    assert r3.tables["shift"].set_index("term").loc["leader", "n_members"] == 1


def test_jackknife_known_answer():
    ch = pd.DataFrame({"leader_n_before": [3] * 3, "leader_sum_before": [0.3] * 3,
                       "leader_n_after": [3] * 3, "leader_sum_after": [0.6, 0.9, 1.2],
                       "peer_n_before": [3] * 3, "peer_sum_before": [0.3] * 3,
                       "peer_n_after": [3] * 3, "peer_sum_after": [0.3] * 3})
    e = shift_estimates(ch, pd.Series(["a", "b", "c"]), min_members=1, min_clusters=3)
    e = e.set_index("term")
    # Δ_L = 0.1, 0.2, 0.3; delete-one means 0.25, 0.2, 0.15; Δ_P = 0
    se = np.sqrt(2 / 3 * (0.05 ** 2 * 2))
    q = stats.t.ppf(0.975, 2)
    for term in ("leader", "leader_minus_peer"):
        assert e.loc[term, "estimate"] == pytest.approx(0.2)
        assert e.loc[term, "se"] == pytest.approx(se)
        assert e.loc[term, "ci_low"] == pytest.approx(0.2 - q * se)
        assert e.loc[term, "ci_high"] == pytest.approx(0.2 + q * se)
    assert e.loc["peer", "estimate"] == pytest.approx(0.0) and e.loc["peer", "se"] == 0.0
    assert e.loc["leader", "mean_before"] == pytest.approx(0.1)
    # too few clusters: estimate kept, no interval
    few = shift_estimates(ch, pd.Series(["a", "a", "b"]), min_members=1, min_clusters=3)
    assert few.ci_low.isna().all() and not few.enough.any()


def test_bad_input_says_what_to_do(lit, tmp_path):
    with pytest.raises(AnalysisError, match="cluster="):
        sharing(lit, cluster="team")
    with pytest.raises(AnalysisError, match="period="):
        sharing(lit, period="week")
    with pytest.raises(AnalysisError, match="min_posts"):
        sharing(lit, min_posts=0)
    ws = socialens.open(tmp_path / "empty.duckdb")
    try:
        with pytest.raises(AnalysisError, match="no posts"):
            sharing(ws)
    finally:
        ws.close()


def test_cli_runs_sharing(tmp_path):
    from typer.testing import CliRunner

    from socialens.cli import app

    ws = _workspace(tmp_path)
    path = str(ws.path)
    ws.close()
    res = CliRunner().invoke(app, ["analyze", "-w", path, "-a", "sharing"])
    assert res.exit_code == 0, res.output
    assert "Leaders' posts are 50 % personal" in res.output and "Too few to tell" in res.output


def test_through_the_product_finds_the_planted_shift(tmp_path):
    """A small simulated organization (default: personal_shift 0.3, leaders adopting during the
    window, so members who joined before them have posts before their first personal posts): the
    leader arm rises, and by more than the peer arm. One fixed seed; the
    coverage over seeds is `python -m eval.sharing_calibration` (EVALUATION.md)."""
    from socialens.enrich import enrich
    from socialens.simulate import simulate

    settings = dict(people=400, days=730, reply_share=0.0, n_campaigns=0, post_rate_median=0.12,
                    leader_baseline_hr=1.0, adopted_at_start_leaders=0, base_hazard=0.001,
                    n_delegates=0)
    r = simulate(seed=3, preset="default", out=tmp_path / "ws.duckdb", **settings)
    ws = socialens.open(r.workspace)
    try:
        enrich(ws)
        res = sharing(ws, n_boot=100)
    finally:
        ws.close()
    s = res.summary
    assert s["shift_leader"]["n_members"] >= 10, s
    assert s["shift_leader"]["estimate"] > 0.02, s
    assert s["shift_leader_minus_peer"]["estimate"] > 0, s
    assert s["personal_share_leaders"] > s["personal_share_members"]
    assert {"personal_by_level", "personal_shift"} <= set(res.figures)
