"""The founding calibration, small version: a handful of simulated organizations through
simulate -> ingest -> directory/adoption, and the runner's JSON (``make eval`` runs 200 seeds)."""

import json
import math

import pytest

from eval import calibration_ranks as cr
from eval import founding_calibration as fc


def test_planted_median_of_a_constant_hazard():
    # without truncation the median of day + uniform time of day is close to log(2) / h
    assert cr.planted_median_days(0.02, 100_000) == pytest.approx(math.log(2) / 0.02, rel=0.01)
    # truncated at the window: the median of those who adopted is earlier
    assert cr.planted_median_days(0.01, 365) < cr.planted_median_days(0.01, 100_000)


def test_runner_flattens_worlds_and_writes_one_json_line(capsys, monkeypatch):
    part = {"coverage": {"x_ci": {"null": {"3": 0.95}, "effect": {"3": 0.94}}},
            "rejection_rate": {"x_test": {"3": 0.05}}, "power": {"x_test": {"3": 0.6}}}
    merged = fc.merge([("x", part)])
    assert merged["coverage"] == {"x_ci (true null)": {"3": 0.95},
                                  "x_ci (planted effect)": {"3": 0.94}}

    class Fake:
        @staticmethod
        def run(seeds, leader_counts, quick):
            return part

    monkeypatch.setitem(__import__("sys").modules, "eval.fake_cal", Fake)
    assert fc.main(["--seeds", "7", "--leaders", "3", "--modules", "fake_cal"]) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["n_seeds"] == 7 and last["rejection_rate"] == {"x_test": {"3": 0.05}}
    assert "⚠" in fc.to_markdown({**last, "rejection_rate": {"x_test": {"3": 0.2}}})


@pytest.mark.slow
def test_a_handful_of_organizations_through_the_product():
    res = cr.run(seeds=1, leader_counts=(9,), quick=True, workers=1)
    cov = res["coverage"]
    # every interval is reported at 9 leaders, with the coverage it states
    for name in ("directory_followers_ratio_ci (true null)",
                 "directory_leaders_median_followers (true null)",
                 "adoption_days_shift_ci (true null)",
                 "adoption_leaders_median_date (planted effect)"):
        assert cov[name]["9"] is not None, name
    st = res["stated_coverage"]
    assert 0.95 <= st["directory_followers_ratio_ci (true null)"]["9"] < 0.96
    assert st["directory_leaders_median_followers (true null)"]["9"] == pytest.approx(
        1 - 2 * 10 / 512, abs=1e-4)
    assert res["ranks_details"]["null_9"]["share_all_leaders_listed"] is not None
    assert set(res["rejection_rate"]) == set(res["power"])
