"""Through the product: simulate -> ingest -> first_use / leader-first, against sim_truth_*."""

from __future__ import annotations

import numpy as np
import pytest

from eval.contagion_descriptive import one


@pytest.mark.slow
def test_campaign_first_users_and_leader_first_recovered_exactly(tmp_path):
    r = one("default", 110_500, 150, "default", {}, tmp_path, np.random.default_rng(0))
    assert r["campaigns"] > 5
    assert r["first_exact"] == r["campaigns"] and r["all_exact"] == r["campaigns"]
    assert r["leader_first"] == r["leader_first_truth"]
