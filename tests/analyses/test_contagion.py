"""The contagion analysis: leader-first rate, lags, exposure curves, first users."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from socialens.analyses import REGISTRY
from socialens.analyses.contagion import (
    contagion,
    curve_shape,
    exposure_curve,
    leader_first,
    poisson_binomial_sf,
)
from socialens.behaviours import adoption_sequence
from tests.behaviours.literal_org import org  # noqa: F401 - a fixture


def test_poisson_binomial_matches_binomial_and_brute_force():
    from scipy import stats

    assert poisson_binomial_sf(3, [0.3] * 10) == pytest.approx(stats.binom.sf(2, 10, 0.3))
    p = [0.1, 0.5, 0.8]
    brute = sum(np.prod([q if b else 1 - q for q, b in zip(p, bits, strict=True)])
                for bits in np.ndindex(2, 2, 2) if sum(bits) >= 2)
    assert poisson_binomial_sf(2, p) == pytest.approx(brute)


def test_leader_first_counts_and_expectation():
    t = pd.Timestamp("2020-01-01", tz="UTC")
    d = pd.Timedelta(days=1)
    uses = pd.DataFrame({
        "person_id": ["L", "a", "b", "a", "L", "c", "x"],
        "behaviour": ["h1", "h1", "h1", "h2", "h2", "h2", "h3"],
        "at": [t, t + d, t + 2 * d, t, t + d, t + 3 * d, t]})
    tbl, s = leader_first(uses, {"L"})
    assert tbl.behaviour.tolist() == ["h1", "h2"]           # h3 has one user
    assert tbl.first_is_leader.tolist() == [True, False]
    assert s["leader_first"] == 1 and s["expected_leader_first"] == pytest.approx(2 / 3)
    assert s["p_value"] == pytest.approx(1 - (2 / 3) ** 2)  # P(X >= 1) with p = 1/3, 1/3


def test_exposure_curve_romero_definition():
    # pairs: adopted at k=1, k=2; not adopted with k=2, k=1, k=1
    k = pd.Series([1, 2, 2, 1, 1])
    adopted = pd.Series([True, True, False, False, False])
    c = exposure_curve(k, adopted, min_at_risk=1)
    assert c[["k", "at_risk", "adopted"]].values.tolist() == [[1, 5, 1], [2, 2, 1]]
    assert c.p.tolist() == [0.2, 0.5]
    assert curve_shape(c) == {"stickiness": 0.5, "persistence": 0.7, "k_max": 2, "k_at_max": 2}


def test_contagion_on_the_literal_org(org):  # noqa: F811
    r = contagion(org, behaviours=["hashtag:#deal", "hashtag:#other"], exposure=("follows",))
    lf = r.summary["leader_first"]
    # #deal: the ceo first of 3 users (1 leader): expected 1/3; #other has one user
    assert lf["n_behaviours"] == 1 and lf["leader_first"] == 1
    assert lf["expected_leader_first"] == pytest.approx(1 / 3)
    assert lf["p_value"] == pytest.approx(1 / 3)
    # ann 1 day after seeing the ceo, bob 2 days after; bob 1 day after seeing ann
    assert r.summary["lags"]["after_leader"]["median_days"] == pytest.approx(1.5)
    assert r.summary["lags"]["after_peer"]["median_days"] == pytest.approx(1.0)
    seq = r.tables["first_users"]
    deal = seq[seq.behaviour == "hashtag:#deal"]
    assert deal.person_id.tolist() == ["ceo", "ann", "bob"]
    assert deal[["leaders_seen", "peers_seen"]].values.tolist() == [[0, 0], [1, 0], [1, 1]]
    assert "leader was the first member to use 1 of 1 hashtags" in r.headline
    assert REGISTRY["contagion"] is contagion


def test_adoption_sequence_names_what_each_adopter_saw(org):  # noqa: F811
    seq = adoption_sequence(org, "hashtag:#Deal", exposure=["follows"])
    assert seq.seen_first.tolist() == ["", "Chief (leader)", "Chief (leader), Ann"]
    assert seq.days_after_first.tolist() == [0.0, 1.0, 2.0]


def test_first_use_cli_prints_the_sequence_and_fails_cleanly(tmp_path):
    from typer.testing import CliRunner

    from socialens.cli import app
    from tests.behaviours.literal_org import make_org

    ws = make_org(tmp_path)
    path = str(ws.path)
    ws.close()  # the CLI opens the file itself
    runner = CliRunner()
    res = runner.invoke(app, ["first-use", "-b", "hashtag:#deal", "-w", path,
                              "--exposure", "follows"])
    assert res.exit_code == 0, res.output
    assert "hashtag:#deal: 3 adopters" in res.output and "Chief (leader)" in res.output
    res = runner.invoke(app, ["first-use", "-b", "hashtag:#nothing", "-w", path])
    assert res.exit_code == 1 and "nobody in the workspace showed" in res.output
    assert "Traceback" not in res.output


def test_contagion_is_unavailable_when_nobody_followed(org):  # noqa: F811
    from socialens.errors import AnalysisError

    with pytest.raises(AnalysisError, match="no behaviour was shown by 2 members or more"):
        contagion(org, behaviours="hashtag:#other")
