"""Reach: coverage, centrality and the permutation test on a literal organization with answers
computed by hand, the graph functions on literal graphs, and a small null calibration."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialens.analyses import REGISTRY, run_all
from socialens.analyses.reach import centrality, coverage, permutation_test, reach
from socialens.errors import AnalysisError

# Six members at 2020-06-01: the CEO L (leader) and A, B, C, D, E; E has no account.
# Follows: A→L, B→L, C→A, D→C, L→A. A mention D→L in March 2020 and an `interaction` aggregate
# written in the influence direction (L → B: "B interacted with L").
PEOPLE = "person_id,name\nL,Lee\nA,Ann\nB,Bo\nC,Cy\nD,Di\nE,Ed\n"
ROLES = ("person_id,title,level,is_leader,start_at,end_at\n"
         "L,CEO,0,true,2010-01-01,\n"
         + "".join(f"{p},Staff,1,false,2010-01-01,\n" for p in "ABCDE"))
ACCOUNTS = ("account_id,person_id,platform,handle,kind\n"
            + "".join(f"x:{p},{p},x,{p.lower()}h,personal\n" for p in "LABCD")
            + "x:corp,,x,corp,official\n")
EDGES = ("src,dst,kind,weight,observed_at,window_start,window_end\n"
         "x:A,x:L,follows,1,2020-01-01T00:00:00Z,,\n"
         "x:B,x:L,follows,1,2020-01-01T00:00:00Z,,\n"
         "x:C,x:A,follows,1,2020-01-01T00:00:00Z,,\n"
         "x:D,x:C,follows,1,2020-01-01T00:00:00Z,,\n"
         "x:L,x:A,follows,1,2020-01-01T00:00:00Z,,\n"
         "x:corp,x:L,follows,1,2020-01-01T00:00:00Z,,\n"
         "x:D,x:L,mention,3,2020-03-10T00:00:00Z,,\n"
         "x:L,x:B,interaction,0.5,,2020-02-01,2020-05-01\n")
SNAPSHOTS = ("account_id,observed_at,followers,following,posts_count\n"
             "x:L,2020-01-01T00:00:00Z,1000,10,50\n")
AS_OF = "2020-06-01"


@pytest.fixture
def org(ws, tmp_path):
    d = tmp_path / "org"
    d.mkdir()
    for name, text in [("people.csv", PEOPLE), ("roles.csv", ROLES), ("accounts.csv", ACCOUNTS),
                       ("edges.csv", EDGES), ("snapshots.csv", SNAPSHOTS)]:
        (d / name).write_text(text)
    ws.ingest(d)
    return ws


def _lead(r):
    return r.tables["leaders"].set_index("person_id").loc["L"]


def test_follow_coverage_and_centrality_by_hand(org):
    r = reach(org, as_of=AS_OF, kinds=("follows",))
    lead = _lead(r)
    # others: A B C D E (5). 1 hop: A, B. 2 hops: + C (C→A→L); L→A is the leader itself.
    assert (lead.reach_1hop, lead.reach_2hop) == (2, 3)
    assert lead.share_1hop == pytest.approx(2 / 5) and lead.share_2hop == pytest.approx(3 / 5)
    assert lead.followers == 1000 and lead.returned == 1 and lead.share_returned == 0.5
    assert "40 % of members follow Lee (CEO)" in r.headline
    assert "a company-wide email reaches 100 %, their posts 40 % directly and 60 %" in r.headline
    c = r.tables["centrality"].set_index("person_id")
    assert set(c.index) == set("LABCD")                       # E has no account, no ties
    assert c.in_degree.to_dict() == {"L": 2, "A": 2, "B": 0, "C": 1, "D": 0}
    # directed betweenness: C on D→A, D→L; A on C→L, D→L; L on B→A; normalized by 4·3
    assert c.betweenness.to_dict() == pytest.approx(
        {"L": 1 / 12, "A": 2 / 12, "B": 0, "C": 2 / 12, "D": 0})
    assert c.pagerank.sum() == pytest.approx(1)
    s = r.summary
    # ties A→L, B→L, C→A, D→C, L→A: 2 of 5 reciprocated; of the members' ties to L, 1 of 2
    assert s["reciprocity"] == pytest.approx(0.4) and s["leader_tie_reciprocity"] == 0.5
    assert s["n_members"] == 6 and s["n_in_network"] == 5 and s["n_ties"] == 5
    # exact test with 5 assignments: L's in-degree 2 is matched by A's → p = 2/5
    t = r.tables["leaders_vs_others"].set_index("metric")
    assert s["permutation"]["exact"] and s["permutation"]["n_assignments"] == 5
    assert t.loc["in_degree", "p_value"] == pytest.approx(0.4)
    assert s["leaders_share_of_attention"] == pytest.approx(2 / 5)     # in-strength 2 of 5
    assert set(r.figures) == {"coverage", "network"}


def test_pagerank_and_eigenvector_match_networkx():
    nx = pytest.importorskip("networkx")
    src, dst, w = [1, 2, 3, 4, 0, 2], [0, 0, 1, 3, 1, 4], [1.0, 2.0, 0.5, 1.0, 3.0, 1.5]
    c = centrality(5, src, dst, w)
    g = nx.DiGraph()
    g.add_nodes_from(range(5))
    g.add_weighted_edges_from(zip(src, dst, w, strict=True))
    pr = nx.pagerank(g, alpha=0.85, weight="weight", tol=1e-10, max_iter=1000)
    assert c.pagerank.tolist() == pytest.approx([pr[i] for i in range(5)], abs=1e-6)
    u = nx.Graph()
    u.add_nodes_from(range(5))
    for a, b, x in zip(src, dst, w, strict=True):
        u.add_edge(a, b, weight=u.get_edge_data(a, b, {"weight": 0})["weight"] + x)
    ev = nx.eigenvector_centrality_numpy(u, weight="weight")
    top = max(ev.values())
    assert c.eigenvector.tolist() == pytest.approx([ev[i] / top for i in range(5)], abs=1e-6)
    assert c.in_strength.tolist() == [3.0, 3.5, 0.0, 1.0, 1.5]


def test_window_and_kinds(org):
    # the March mention adds D→L: L reached by A, B, D
    r = reach(org, as_of=AS_OF, kinds=("follows", "mention"), window_start="2020-03-01")
    assert _lead(r).reach_1hop == 3
    assert "follow or interact with" in r.headline
    r = reach(org, as_of=AS_OF, kinds=("follows", "mention"), window_end="2020-03-01")
    assert _lead(r).reach_1hop == 2


def test_weights(org):
    # weighted in-strength: the mention's weight 3 plus the two follows
    r = reach(org, as_of=AS_OF, kinds=("follows", "mention"))
    assert r.tables["centrality"].set_index("person_id").in_strength["L"] == 5
    r = reach(org, as_of=AS_OF, kinds=("follows", "mention"), weighted=False)
    assert r.tables["centrality"].set_index("person_id").in_strength["L"] == 3


def test_reversed_direction(org):
    # the influence-direction aggregate L → B means B attended to L
    r = reach(org, as_of=AS_OF, kinds=("interaction",), reversed_kinds=("interaction",))
    assert _lead(r).reach_1hop == 1 and "interact with Lee" in r.headline
    assert _lead(reach(org, as_of=AS_OF, kinds=("interaction",))).reach_1hop == 0  # L → B as is


def test_old_follower_counts_are_not_shown(org):
    # old follower counts are not passed off as current ones
    r = reach(org, as_of="2021-06-01", kinds=("follows",))
    assert np.isnan(_lead(r).followers)


def test_errors_say_what_to_do(org):
    with pytest.raises(AnalysisError, match="unknown edge kind"):
        reach(org, kinds=("likes",))
    with pytest.raises(AnalysisError, match="nobody holds a role"):
        reach(org, as_of="2009-01-01", kinds=("follows",))
    with pytest.raises(AnalysisError, match="no member is a leader"):
        reach(org, as_of=AS_OF, leaders="level<0", kinds=("follows",))
    with pytest.raises(AnalysisError, match="no mention ties between members"):
        reach(org, as_of=AS_OF, kinds=("mention",), window_end="2020-02-01")


def test_registered_and_run_by_name(org):
    assert REGISTRY["reach"] is reach
    res = run_all(org, names=["reach"], as_of=AS_OF)
    assert res["reach"].params["as_of"].startswith("2020-06-01")


def test_coverage_two_steps():
    # 3 → 2 → 1 → 0 and 4 → 0: target 0 reached by 1 and 4 directly, 2 in two steps, not 3
    c = coverage(5, [3, 2, 1, 4], [2, 1, 0, 0], [0, 1])
    assert c.values.tolist() == [[0, 2, 3], [1, 1, 2]]


def test_permutation_test_exact_and_monte_carlo_agree():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(20, 2))
    g = np.zeros(20, dtype=bool)
    g[[0, 4, 7, 11, 15]] = True
    x[g, 0] += 0.7
    exact = permutation_test(x, g, n_permutations=math.comb(20, 5))
    assert exact["exact"] and exact["n_assignments"] == 15504
    mc = permutation_test(x, g, n_permutations=5000, seed=1)
    assert not mc["exact"]
    assert mc["p_value"] == pytest.approx(exact["p_value"], abs=0.03)
    again = permutation_test(x, g, n_permutations=5000, seed=1)
    assert again["p_value"].tolist() == mc["p_value"].tolist()     # seeded


def test_permutation_test_is_calibrated_on_exchangeable_data():
    """Under random labels the one-sided p-value is uniform: P(p <= 0.1) ≈ 0.1."""
    rng = np.random.default_rng(0)
    ps = []
    for _ in range(300):
        x = rng.exponential(size=(30, 1))
        g = np.zeros(30, dtype=bool)
        g[rng.choice(30, 4, replace=False)] = True
        ps.append(permutation_test(x, g, n_permutations=199, seed=int(rng.integers(1e9)))
                  ["p_value"][0])
    assert abs(np.mean(np.array(ps) <= 0.1) - 0.1) < 0.06


@pytest.mark.slow
def test_null_calibration_small():
    """Through the product (simulate → ingest → reach): a few null organizations run and give
    p-values; the false-positive rate itself is measured by eval/reach_calibration.py."""
    from eval.reach_calibration import run

    res = run(4, quick=True)
    assert res["n_seeds"] == 4 and 0 <= res["rejection_rate"] <= 1
    assert set(res["rejection_rate_by_metric"]) == {"in_degree", "in_strength", "pagerank",
                                                     "betweenness", "eigenvector"}


def test_leaders_who_have_not_opted_in_are_redacted_in_the_report(org):
    from socialens.privacy import public_only

    org.con.execute("UPDATE people SET opt_in = false WHERE person_id = 'L'")
    r = reach(org, as_of=AS_OF, kinds=("follows",))
    assert not any("Lee" in n for n in r.notes)           # named sentences: opted-in only
    with public_only(org):  # the privacy boundary: hidden people are pseudonyms in the tables
        red = reach(org, as_of=AS_OF, kinds=("follows",))
    assert "Lee" not in red.headline and "Lee" not in red.to_json()
    for chart in red.figures.values():
        assert "Lee" not in chart.to_json()


@given(st.integers(3, 12).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=40),
    st.permutations(range(n)))))
@settings(max_examples=40, deadline=None)
def test_coverage_and_centrality_properties(case):
    """Two steps reach at least as far as one; relabelling the people relabels the results."""
    n, ties, perm = case
    ties = sorted(set((a, b) for a, b in ties if a != b))
    src = np.array([a for a, _ in ties], dtype=int)
    dst = np.array([b for _, b in ties], dtype=int)
    cov = coverage(n, src, dst, np.arange(n))
    assert (cov.reach_2hop >= cov.reach_1hop).all() and (cov.reach_2hop <= n - 1).all()
    p = np.array(perm)
    c, cp = centrality(n, src, dst), centrality(n, p[src], p[dst])
    for m in ("in_degree", "pagerank", "betweenness"):
        assert cp[m].to_numpy()[p] == pytest.approx(c[m].to_numpy(), abs=1e-7)
    assert c.pagerank.sum() == pytest.approx(1)


def test_cli_kinds_choose_the_network(org, tmp_path):
    """`--kinds` reaches reach (and interactions) from the CLI; a typo lists the known kinds."""
    from typer.testing import CliRunner

    from socialens.cli import app

    path = org.path
    org.close()
    run = CliRunner().invoke

    def summary(*args):
        out = tmp_path / "s.json"
        r = run(app, ["analyze", "-w", str(path), "-a", "reach", "--as-of", AS_OF,
                      "--json", str(out), *args])
        assert r.exit_code == 0, r.output
        return json.loads(out.read_text())["analyses"]["reach"]

    follows = summary("--kinds", "follows")
    assert follows["params"]["kinds"] == ["follows"]
    assert follows["summary"]["n_ties"] == 5 and follows["summary"]["median_leader_share_1hop"] == 0.4
    both = summary("--kinds", "follows, mention")
    assert both["params"]["kinds"] == ["follows", "mention"]
    assert both["summary"]["median_leader_share_1hop"] == 0.6       # D's mention of L counts
    flipped = summary("--kinds", "interaction", "--reversed-kinds", "interaction")
    assert flipped["params"]["reversed_kinds"] == ["interaction"]
    assert flipped["summary"]["n_ties"] == 1 and flipped["summary"]["median_leader_share_1hop"] == 0.2
    r = run(app, ["analyze", "-w", str(path), "-a", "reach", "--kinds", "follows,likes"])
    assert r.exit_code == 1
    assert "unknown edge kind likes" in r.output and "known kinds: follows, reply" in r.output


def _random_graph(n, m, seed):
    rng = np.random.default_rng(seed)
    pairs = np.unique(np.c_[rng.integers(0, n, m), rng.integers(0, n, m)], axis=0)
    return pairs[pairs[:, 0] != pairs[:, 1]]


def test_betweenness_is_exact_up_to_the_source_budget_and_unbiased_above():
    """Up to ``betweenness_sources`` nodes it is igraph's exact betweenness; above, the
    Brandes–Pich estimate (sampled sources × n / K) averages to the exact value: over 200 seeds
    the total is within 0.3 % and each of the five most central nodes within 4 % (about 3
    standard errors of a 200-seed mean), and a single estimate is not the exact value."""
    from socialens.analyses.reach import betweenness_method

    n = 300
    pairs = _random_graph(n, 2400, 0)
    exact = centrality(n, pairs[:, 0], pairs[:, 1], betweenness_sources=None).betweenness
    assert centrality(n, pairs[:, 0], pairs[:, 1], betweenness_sources=n).betweenness.equals(exact)
    assert betweenness_method(n, n) == "exact"
    assert betweenness_method(n, 100) == "estimated from 100 of 300 sources"
    est = np.array([centrality(n, pairs[:, 0], pairs[:, 1], betweenness_sources=100,
                               seed=s).betweenness.to_numpy() for s in range(200)])
    a = exact.to_numpy()
    assert not np.allclose(est[0], a)
    assert abs(est.sum(axis=1).mean() / a.sum() - 1) < 0.003
    top = np.argsort(-a)[:5]
    assert np.all(np.abs(est[:, top].mean(axis=0) / a[top] - 1) < 0.04)


def test_reach_says_how_betweenness_was_computed(org):
    r = reach(org, as_of=AS_OF, kinds=("follows",))
    assert r.summary["betweenness_method"] == "exact"
    assert r.params["betweenness_sources"] == 1000
    assert any("Betweenness: exact." in n for n in r.notes)
    r2 = reach(org, as_of=AS_OF, kinds=("follows",), betweenness_sources=2)
    assert r2.summary["betweenness_method"].startswith("estimated from 2 of ")
    assert any("Brandes & Pich 2007" in n for n in r2.notes)
    with pytest.raises(AnalysisError, match="betweenness_sources must be at least 2"):
        reach(org, as_of=AS_OF, betweenness_sources=1)
