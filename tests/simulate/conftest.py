"""Shared simulated organizations (generated once per session, files only unless a test ingests)."""

from __future__ import annotations

import pytest

from socialens.simulate import simulate

#: settings that keep test organizations quick: few posts, a static network (exposure is monotone)
QUICK = dict(post_rate_median=0.002, tie_late_share=0.0, tie_end_share=0.0)


@pytest.fixture(scope="session")
def unconfounded(tmp_path_factory):
    """Planted effects, no confounders, 6,000 people: the recovery case."""
    d = tmp_path_factory.mktemp("unconfounded")
    return simulate(people=6000, seed=3, preset="unconfounded", files=d, n_campaigns=40, **QUICK)


@pytest.fixture(scope="session")
def null(tmp_path_factory):
    d = tmp_path_factory.mktemp("null")
    return simulate(people=6000, seed=4, preset="null", files=d, n_campaigns=40, **QUICK)


@pytest.fixture(scope="session")
def texts_sim(tmp_path_factory):
    """Enough posts and replies for the tone, sharing and coordination estimators."""
    d = tmp_path_factory.mktemp("texts")
    return simulate(people=1500, seed=5, preset="strong-leaders", files=d, n_campaigns=5,
                    post_rate_median=0.02, reply_share=0.5)


@pytest.fixture(scope="session")
def texts_null(tmp_path_factory):
    d = tmp_path_factory.mktemp("texts_null")
    return simulate(people=1500, seed=6, preset="null", files=d, n_campaigns=5,
                    post_rate_median=0.02, reply_share=0.5)
