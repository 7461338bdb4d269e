"""Coordination: the ConvoKit formulas and thresholds, parity with ConvoKit 5.0.0's outputs, the
bootstrap, and recovery of planted coordination through the product."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from socialens.analyses.coordination import (
    AGGREGATIONS,
    INTERVALS,
    MARKERS,
    _Side,
    _weighted_aggs,
    _weighted_aggs3,
    aggregate,
    convokit_markers,
    coordination,
    group_estimates,
    scores,
)
from socialens.errors import AnalysisError
from tests.conftest import SHARED_DATA

REFERENCE = SHARED_DATA / "coordination_reference"


def _counts(rows):
    """Pair counts from (speaker, target, n, {marker: (tally, cond_total, cond_tally)})."""
    out = []
    for s, t, n, cells in rows:
        r = {"speaker": s, "target": t, "n": n}
        for m in MARKERS:
            a, b, c = cells.get(m, (0, 0, 0))
            r |= {f"tally_{m}": a, f"cond_total_{m}": b, f"cond_tally_{m}": c}
        out.append(r)
    return pd.DataFrame(out)


def test_score_is_conditional_minus_base_rate_and_thresholds_follow_convokit():
    # b replied 10 times to a; 4 of a's posts had articles, b used one in 3 of those and 5 overall
    c = _counts([("b", "a", 10, {"article": (5, 4, 3), "conj": (3, 2, 1)})])
    s = scores(c, focus="speakers")
    assert s.loc["b", "article"] == pytest.approx(3 / 4 - 5 / 10)
    assert np.isnan(s.loc["b", "conj"])           # cond_total 2 < target_thresh 3
    assert scores(c, focus="speakers", target_thresh=2).loc["b", "conj"] == pytest.approx(0.2)
    # focus="targets" swaps the thresholds: target_thresh is compared with tally (3 >= 3)
    t = scores(c, focus="targets")
    assert t.loc["a", "conj"] == pytest.approx(1 / 2 - 3 / 10)
    assert np.isnan(scores(c, focus="targets", target_thresh=4).loc["a", "conj"])
    # a key without any scored marker is left out
    assert scores(c, focus="speakers", target_thresh=5).empty


def test_aggregations_match_their_definitions():
    s = pd.DataFrame({m: [0.1, 0.2] for m in MARKERS}, index=["x", "y"])
    s.loc["y", "quant"] = np.nan
    s["n"] = 5
    ag = aggregate(s)
    assert ag["agg1"] == pytest.approx(0.1) and ag["count_agg1"] == 1
    assert ag["agg3"] == pytest.approx((0.1 + 0.2) / 2) and ag["count_agg3"] == 2
    # y's missing quant is filled with the quant mean (0.1): y = (7·0.2 + 0.1)/8
    assert ag["agg2"] == pytest.approx((0.1 + (7 * 0.2 + 0.1) / 8) / 2)
    assert ag["marker_agg2"]["quant"] == pytest.approx(0.1)
    assert ag["marker_agg1"]["article"] == pytest.approx(0.1)


def test_weighted_aggregations_with_unit_and_duplicated_weights():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 8))
    x[rng.random(x.shape) < 0.3] = np.nan
    x[0] = np.nan                                  # a key without scores counts nowhere
    s = pd.DataFrame(x, columns=list(MARKERS))
    ag = aggregate(s[s.notna().any(axis=1)])
    got = _weighted_aggs(x, np.ones((1, 6)))
    for a in AGGREGATIONS:
        want = ag[a]
        assert (np.isnan(got[a][0]) if want is None else got[a][0] == pytest.approx(want))
    # weight 2 on a key = that key twice
    w = np.array([[1, 2, 1, 1, 1, 1]], float)
    dup = s.iloc[[0, 1, 1, 2, 3, 4, 5]]
    assert _weighted_aggs(x, w)["agg3"][0] == pytest.approx(
        aggregate(dup[dup.notna().any(axis=1)])["agg3"])


def _random_counts(seed=3, speakers=12, targets=6, pairs=40, same_people=False):
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(pairs):
        s, t = f"s{rng.integers(speakers)}", f"t{rng.integers(targets)}"
        if same_people:
            t = "s" + t[1:]
            if s == t:
                continue
        n = int(rng.integers(1, 8))
        cells = {}
        for m in MARKERS:
            ct = int(rng.integers(0, n + 1))
            tl = int(rng.integers(0, n + 1))
            ctl = int(rng.integers(max(0, ct + tl - n), min(ct, tl) + 1))
            cells[m] = (tl, ct, ctl)
        rows.append((s, t, n, cells))
    c = _counts(rows)
    return c.groupby(["speaker", "target"], as_index=False).sum()


def test_pair_contributions_add_up_to_every_aggregation():
    """The wild bootstrap's per-pair contributions sum to the estimate exactly (the aggregate is
    linear in the per-speaker scores once the scored cells are fixed)."""
    c = _random_counts()
    th = {"speaker_thresh": 0, "target_thresh": 3, "utterances_thresh": 0}
    s = scores(c, focus="speakers", **th)
    side = _Side(c, list(s.index), sorted(set(c.target)), th)
    for a in AGGREGATIONS:
        want = aggregate(s)[a]
        got = side.contributions(a)
        side.dof = False
        raw = side.contributions(a)
        side.dof = True
        assert raw.sum() == pytest.approx(want, abs=1e-15)
        # the small-sample scaling only stretches each contribution by sqrt(n_b / (n_b - 1))
        assert np.all(np.abs(got) >= np.abs(raw) - 1e-15)
    # unit weights in the replicate-varying aggregation give the plain aggregate
    x = side.scores(None)
    for a in AGGREGATIONS:
        assert _weighted_aggs3(x, np.ones((1, x.shape[1])))[a][0] == pytest.approx(aggregate(s)[a])


def test_wild_interval_is_symmetric_about_the_estimate_and_seeded():
    c = _random_counts(seed=5, speakers=30, targets=30, pairs=600, same_people=True)
    leaders, members = [f"s{i}" for i in range(3)], [f"s{i}" for i in range(3, 30)]
    g1, _ = group_estimates(c, leaders, members, n_boot=400, seed=7, target_thresh=1)
    g2, _ = group_estimates(c, leaders, members, n_boot=400, seed=7, target_thresh=1)
    pd.testing.assert_frame_equal(g1, g2)
    row = g1.set_index("comparison").loc["members_to_leaders"]
    est = row.agg2
    assert row.ci_low < est < row.ci_high
    # Rademacher signs: the replicate distribution is symmetric about the estimate
    assert (row.ci_high - est) == pytest.approx(est - row.ci_low, rel=0.15)
    for interval in INTERVALS:
        g, _ = group_estimates(c, leaders, members, n_boot=200, seed=1, target_thresh=1,
                               interval=interval)
        d = g.set_index("comparison").loc["members_to_leaders_minus_peers"]
        assert d.ci_low < d.agg2 < d.ci_high, interval
    with pytest.raises(AnalysisError, match="interval"):
        group_estimates(c, leaders, members, interval="jackknife")


def test_convokit_markers_set_based_equal_the_trie_on_the_probes(tmp_path):
    """ConvoKit's markers computed set-based (segments split by the engine) equal the trie's on
    ConvoKit's own tokenization probes (apostrophes, curly quotes, non-ASCII letters, URLs)."""
    import ibis

    from socialens.enrich.markers import MARKER_COLUMNS, _convokit

    probes = pd.read_csv(Path(__file__).parents[1] / "enrich" / "data" /
                         "tokenization_probes.csv", dtype=str, keep_default_na=False)
    texts = [*probes.input_text, "", "’'", "Y'all don’t go años", "AND THE US"]
    posts = ibis.memtable({"post_id": [str(i) for i in range(len(texts))], "text": texts})
    got = convokit_markers(posts).to_pandas().set_index("post_id").loc[
        [str(i) for i in range(len(texts))]]
    ann = _convokit()
    for i, t in enumerate(texts):
        want = ann.categories(t)
        have = {m for m in MARKERS if got.iloc[i][MARKER_COLUMNS[m]] > 0}
        assert have == want, t
    # and ConvoKit's recorded answers
    assert (probes.convokit_categories.fillna("") != "").any()


def test_not_available_without_features(tiny_ws):
    with pytest.raises(AnalysisError, match="socialens enrich"):
        coordination(tiny_ws)
    with pytest.raises(AnalysisError, match="aggregation"):
        coordination(tiny_ws, aggregation="mean")


@pytest.mark.slow
@pytest.mark.skipif(not REFERENCE.exists(), reason="shared coordination reference not present")
def test_parity_with_convokit_reference():
    from eval.coordination_parity import run

    r = run()
    assert r["problems"] == []
    assert r["max_abs_diff"] < 1e-9
    assert r["summary_reports"]["values"] == 300 and r["pairwise"]["keys"] == 194
    assert r["pairwise_target_thresh1"]["keys"] == 3598 and r["n_replies"] == 5000


@pytest.mark.slow
def test_planted_coordination_through_the_product(tmp_path):
    """simulate → ingest → enrich → coordination: the planted value is positive and covered; with
    no planted coordination it is exactly 0."""
    from eval.coordination_calibration import one_seed

    small = dict(people=300, days=300, post_rate_median=0.15, reply_share=0.6, n_campaigns=0,
                 n_delegates=0)
    planted = one_seed(1, "strong-leaders", n_boot=200, settings=small, workdir=tmp_path)
    assert planted["planted"] > 0.01
    assert planted["ci_low"] < planted["planted"] < planted["ci_high"]
    assert planted["estimate"] > 0
    null = one_seed(1, "null", n_boot=200, settings=small, workdir=tmp_path)
    assert abs(null["planted"]) < 1e-12
    assert null["ci_low"] < 0 < null["ci_high"]



@pytest.mark.slow
def test_null_mechanism_check_rebuilds_the_pair_counts_and_permutes_within_speakers():
    """eval.coordination_null_mechanism: its reply rows give exactly the analysis' pair counts,
    the estimate's mean over within-speaker permutations is near 0, and ``counts_of`` tallies
    replies as ``pair_counts`` does."""
    from eval.coordination_null_mechanism import counts_of, one_seed

    r = one_seed(920000, perms=5)
    assert r["counts_match_pair_counts"] and r["n_replies"] > 50
    assert r["estimate"] is not None and abs(r["perm_mean"]) < 0.05
    assert set(r["assoc_z"]) == set(MARKERS)
    rows = pd.DataFrame({"speaker": ["a", "a", "a", "b"], "target": ["x", "y", "x", "x"],
                         **{f"t_{m}": [1, 0, 1, 1] for m in MARKERS}})
    s = np.array([[1] * 8, [0] * 8, [0] * 8, [1] * 8])
    c = counts_of(rows, s).set_index(["speaker", "target"])
    assert c.loc[("a", "x"), "n"] == 2 and c.loc[("a", "x"), "tally_ppron"] == 1
    assert c.loc[("a", "x"), "cond_total_ppron"] == 2 and c.loc[("a", "y"), "cond_tally_ppron"] == 0


def test_cli_names_it_and_says_why_it_is_not_available(tmp_path, tiny_dir):
    from typer.testing import CliRunner

    from socialens.cli import app

    w = tmp_path / "w.duckdb"
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(tiny_dir), "-w", str(w)]).exit_code == 0
    r = runner.invoke(app, ["analyze", "-w", str(w), "-a", "coordination", "-a", "directory"])
    assert "coordination" in r.output and "not available" in r.output, r.output
    assert "socialens enrich" in r.output
