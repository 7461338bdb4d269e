"""Parameters, presets, and the `socialens simulate` command."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import socialens
from socialens.cli import app
from socialens.simulate import PRESETS, SimulationError, make_config, simulate


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_runs_small(preset, tmp_path):
    r = simulate(people=250, seed=1, preset=preset, files=tmp_path, n_campaigns=2,
                 post_rate_median=0.005)
    assert r.config.preset == preset
    assert r.rows["people"] == 250
    assert (tmp_path / "posts.jsonl").exists()


def test_unknown_preset_and_parameter_say_what_to_do():
    with pytest.raises(SimulationError, match="presets are"):
        make_config("nope")
    with pytest.raises(SimulationError, match="unknown simulation parameter"):
        make_config("default", hazard=1)
    with pytest.raises(SimulationError, match="tone_shift"):
        make_config("default", tone_shift=2.0)
    with pytest.raises(ValueError):  # SimulationError is also a ValueError
        make_config("default", people=3)


def test_zappos_preset_looks_like_zappos_2009(tmp_path):
    r = simulate(seed=2009, preset="zappos-2009", files=tmp_path, n_campaigns=2)
    p = r.truth("people")
    on = p.adopted_at.notna().sum()
    assert 1550 <= len(p) <= 1650
    assert 300 <= on <= 600, on  # ~430 on average over seeds
    import pandas as pd

    s = pd.read_csv(tmp_path / "snapshots.csv")
    last = s[s.observed_at == s.observed_at.max()].sort_values("followers", ascending=False)
    # followers at the last snapshot: every member on Twitter has a count, and the CEO leads
    on_twitter = set(p.account_id[p.adopted_at.notna()])
    assert len(on_twitter) == on and on_twitter <= set(last.account_id)
    assert last.account_id.iloc[0] == p.account_id.iloc[0]  # the CEO
    assert last.followers.iloc[0] > 5 * last.followers.iloc[1]
    # leaders adopt first: median adoption rank of leaders well ahead of the members'
    rank = p.adopted_at.rank()
    assert rank[p.is_leader].median() < 0.5 * rank[~p.is_leader].median()


def test_config_file_and_top_level_function(tmp_path):
    cfg = tmp_path / "sim.json"
    cfg.write_text(json.dumps({"preset": "null", "people": 200, "spans": [3, 2, 2]}))
    r = socialens.simulate(seed=1, config=cfg, files=tmp_path / "f", n_campaigns=1)
    assert r.config.preset == "null" and r.config.spans == (3, 2, 2)


def test_cli_simulate(tmp_path):
    ws = tmp_path / "org.duckdb"
    res = CliRunner().invoke(app, ["simulate", "--people", "200", "--seed", "3", "--preset", "null",
                                   "--out", str(ws)])
    assert res.exit_code == 0, res.output
    assert "simulated 200 people" in res.output
    w = socialens.open(ws, read_only=True)
    try:
        assert w.count("people") == 200 and w.count("sim_truth_params") > 40
    finally:
        w.close()
    bad = CliRunner().invoke(app, ["simulate", "--preset", "nope", "--out", str(ws)])
    assert bad.exit_code == 1
    assert "presets are" in bad.output
