"""Generator tests: posting, tone and personal sharing shifts, reply coordination as planted.

These read the simulator's truth tables (planned tones, planted labels, the recorded copied
marker) and can only fail if the generator is wrong; they are named ``test_generator_*``. Through
the product (simulate → ingest → enrich → analysis, against ``sim_truth_*``): coordination in
``eval/coordination_calibration.py`` and ``tests/analyses/test_coordination.py``, tone alignment in
``eval/tone_calibration.py``. The personal-sharing shift has no analysis yet, so no
through-product check (EVALUATION.md).
"""

from __future__ import annotations

import numpy as np

from socialens.simulate.texts import MARKERS, text_bank


def _member_originals(result):
    posts = result.truth("posts")
    people = result.truth("people").set_index("person_id")
    o = posts[(posts.kind == "original") & posts.person_id.notna()]
    o = o[~o.person_id.map(people.is_leader).astype(bool)]
    return o.join(people[["tone_baseline", "tone_target", "personal_baseline", "personal_target"]],
                  on="person_id")


def shift_estimate(o, value, base, target):
    """OLS through the origin of (value - baseline) on (target - baseline)·exposed."""
    x = (o[target] - o[base]) * o.exposed_to_leader
    y = o[value] - o[base]
    return float((x * y).sum() / (x * x).sum())


def test_generator_plants_the_tone_shift(texts_sim):
    o = _member_originals(texts_sim)
    planted = texts_sim.config.tone_shift
    assert abs(shift_estimate(o, "tone_planned", "tone_baseline", "tone_target") - planted) < 0.05
    # from the text's VADER score (the bank's granularity and clipping at ±1 cost some precision)
    est = shift_estimate(o, "fragment_compound", "tone_baseline", "tone_target")
    assert abs(est - planted) < 0.15, est


def test_generator_plants_the_personal_shift(texts_sim):
    o = _member_originals(texts_sim).assign(p=lambda d: d.personal.astype(float))
    est = shift_estimate(o, "p", "personal_baseline", "personal_target")
    assert abs(est - texts_sim.config.personal_shift) < 0.1, est


def test_generator_null_has_no_shift(texts_null):
    o = _member_originals(texts_null).assign(p=lambda d: d.personal.astype(float))
    assert abs(shift_estimate(o, "tone_planned", "tone_baseline", "tone_target")) < 0.05
    assert abs(shift_estimate(o, "p", "personal_baseline", "personal_target")) < 0.1


def coordination(result):
    """Danescu-Niculescu-Mizil et al. (2012) coordination of repliers towards leaders and peers,
    averaged over the 8 markers: P(marker in reply | marker in post) - P(marker in reply)."""
    bank = text_bank()
    posts = result.truth("posts").set_index("post_id")
    import pandas as pd

    replies = pd.read_json(result.files / "posts.jsonl", lines=True)
    replies = replies[replies.reply_to_post_id.notna()]
    replies = replies[posts.loc[replies.post_id, "kind"].to_numpy() == "reply"]
    r_frag = posts.loc[replies.post_id, "fragment_id"].to_numpy()
    p_frag = posts.loc[replies.reply_to_post_id, "fragment_id"].to_numpy()
    to_leader = posts.loc[replies.post_id, "reply_to_leader"].to_numpy(dtype=bool)
    out = {}
    for name, sel in (("leader", to_leader), ("peer", ~to_leader)):
        rm, pm = bank.markers[r_frag[sel]], bank.markers[p_frag[sel]]
        c = [rm[pm[:, k], k].mean() - rm[:, k].mean() for k in range(len(MARKERS))]
        out[name] = float(np.nanmean(c))
    return out


def test_generator_plants_coordination_towards_leaders(texts_sim):
    c = coordination(texts_sim)
    # one marker category is copied per coordinated reply, so the 8-marker average is diluted
    assert c["leader"] > c["peer"] + 0.015, c
    assert c["leader"] > 0.02
    # the per-reply truth: share of replies that copied a marker, among those answering a post
    # that has one, is the planted probability
    posts = texts_sim.truth("posts")
    rep = posts[posts.kind == "reply"]
    for to_leader, planted in ((True, texts_sim.config.coordination_leader),
                               (False, texts_sim.config.coordination_peer)):
        r = rep[rep.reply_to_leader == to_leader]
        share = r.coordinated_marker.notna().mean()
        assert share <= planted + 3 * np.sqrt(planted * (1 - planted) / len(r)) + 0.01
        assert share >= 0.8 * planted - 3 * np.sqrt(planted * (1 - planted) / len(r))


def test_generator_null_has_no_coordination(texts_null):
    c = coordination(texts_null)
    assert abs(c["leader"]) < 0.06 and abs(c["peer"]) < 0.03, c  # fewer replies to leaders


def test_generator_rates_are_heavy_tailed_and_leaders_post_more(texts_sim):
    p = texts_sim.truth("people")
    on = p[p.adopted_at.notna()]
    members = on[~on.is_leader].post_rate
    assert members.quantile(0.99) / members.median() > 5  # log-normal, sigma 1
    assert on[on.is_leader].post_rate.median() > 3 * members.median()
