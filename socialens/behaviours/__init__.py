"""Behaviours and exposure: the one mechanism under every "do members follow their leaders?" analysis.

A **behaviour** is anything a person can start doing (joining the platform, a hashtag, a topic,
sharing something personal, a tone); :func:`first_use` turns posts into ``first_use(person,
behaviour, at)`` events. An **exposure network** (:func:`exposure_ties`: follows, replies, mentions,
reposts, quotes, reporting lines) says who could see whom, and :func:`leader_ids` gives the leader
set. :func:`exposure_counts` combines them: per person and behaviour, how many leaders and peers they
had seen show it first. All of it is lazy ibis (DuckDB today, Spark unchanged).

The measures built on it are in :mod:`socialens.analyses.contagion` (leader-first rate, lags,
exposure curves, who-used-it-first); the influence tests in :mod:`socialens.behaviours.influence`.
"""

from __future__ import annotations

from socialens.behaviours.events import (
    behaviour_posts,
    first_use,
    first_use_posts,
    person_accounts,
    record_posts,
)
from socialens.behaviours.exposure import (
    DEFAULT_EXPOSURE_KINDS,
    EXPOSURE_KINDS,
    exposure_counts,
    exposure_events,
    exposure_ties,
    leader_ids,
    leader_table,
)
from socialens.behaviours.sequence import adoption_sequence
from socialens.behaviours.spec import (
    DEFAULT_SPECS,
    Behaviour,
    BehaviourError,
    TopHashtags,
    parse_spec,
    parse_specs,
)

__all__ = [
    "Behaviour",
    "BehaviourError",
    "TopHashtags",
    "DEFAULT_SPECS",
    "DEFAULT_EXPOSURE_KINDS",
    "EXPOSURE_KINDS",
    "parse_spec",
    "parse_specs",
    "first_use",
    "first_use_posts",
    "behaviour_posts",
    "person_accounts",
    "record_posts",
    "exposure_ties",
    "exposure_counts",
    "exposure_events",
    "adoption_sequence",
    "leader_ids",
    "leader_table",
]
