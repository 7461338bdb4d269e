"""Every parameter of the organization simulator, with documented defaults, and the named presets.

A :class:`SimConfig` is a plain frozen dataclass: it is stored, field by field, in the workspace
(``sim_truth_params``) so that every planted value of a simulated organization is on record. Change
parameters with :func:`make_config` (a preset plus overrides) or :meth:`SimConfig.replace`.

Time is counted in whole days from ``start`` over ``days`` days; hazards are per day.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from socialens.errors import SocialensError

__all__ = ["SimConfig", "PRESETS", "make_config", "load_config_file", "SimulationError"]


class SimulationError(SocialensError, ValueError):
    """A simulation parameter is invalid (the message names it and the valid range)."""


@dataclass(frozen=True)
class SimConfig:
    """Parameters of one simulated organization. Defaults are the ``default`` preset.

    Organization
    ------------
    people : int
        Number of people (CEO included).
    spans : tuple of int
        Span of control from the top down: the CEO has ``spans[0]`` C-suite reports, each C-suite
        member ``spans[1]`` VPs, each VP ``spans[2]`` managers; everyone else is staff, spread evenly
        over the lowest level of managers. ``len(spans)`` + 2 is the depth of the chart (levels
        0 = CEO … ``len(spans) + 1`` = staff).
    leader_max_level : int
        Roles at level ≤ this are leaders (``is_leader`` in ``roles``). Default 1: CEO and C-suite.
    promotion_rate : float
        Share of staff promoted to manager at a uniformly random day of the window (and of managers
        promoted to the level above, if that level is not a leader level). Promotions never cross into
        the leader levels, so the leader set is fixed over the window.
    start : str
        First day of the window (UTC date).
    days : int
        Length of the observation window in days.
    platform : str
        Platform prefix of account and post ids.

    Follow network ("who watches whom", person → person)
    -----------------------------------------------------
    out_degree : float
        Mean number of peer ties a person starts (Poisson); ties up the hierarchy come on top.
    p_same_department : float
        Share of peer ties inside the person's department (department homophily).
    affinity_bandwidth : float
        Ties inside a department go to colleagues whose latent affinity rank is close: the target's
        rank differs by about ``affinity_bandwidth`` × department size (smaller = stronger homophily
        on the latent trait).
    p_follow_manager, p_follow_department_head, p_follow_ceo : float
        Probability of a tie to one's manager, to one's department's C-suite head, and to the CEO
        (ties up the hierarchy).
    tie_late_share, tie_end_share : float
        Share of ties that form at a random day inside the window (otherwise they exist from day 0),
        and share that end at a random later day (unfollows): the network changes over time.

    Adoption of the platform (discrete-time proportional hazard)
    -------------------------------------------------------------
    base_hazard : float
        Daily hazard of a non-leader with no exposure, no trend, no shock, affinity 0.
    leader_baseline_hr : float
        Multiplier of a leader's baseline hazard (leaders adopt first when > 1).
    hr_leader_exposure : float
        **Planted** hazard ratio of being exposed to (having a tie to) at least one adopted leader.
    hr_peer_exposure : float
        **Planted** hazard ratio of a tie to at least one adopted non-leader.
    trend_log_hr : float
        Confounder: the log baseline hazard rises linearly by this much over the window (shared time
        trend).
    dept_shock_hr, dept_shock_days : float, int
        Confounder: each department has one shock (a training, a campaign) of ``dept_shock_days``
        days at a random time, multiplying everyone's hazard in that department by ``dept_shock_hr``.
    affinity_log_hr : float
        Confounder: hazard × exp(affinity_log_hr × affinity); affinity is a latent trait, shared
        within departments (``affinity_dept_sd``) and individual (sd 1), on which ties are homophilous.
    affinity_dept_sd : float
        Standard deviation of the department component of affinity.
    adopted_at_start_leaders : int
        Number of leaders (highest first) already on the platform on day 0 (seeds).

    Posting
    -------
    post_rate_median : float
        Median posts per day of an adopted member (the rates are log-normal: heavy-tailed).
    post_rate_sigma : float
        sd of log rate.
    leader_rate_multiplier : float
        Leaders' rates are multiplied by this.
    target_posts : int or None
        When set, all rates are rescaled so the expected number of original posts is this (used by the
        benchmark to get organizations of 10^4 … 10^7 posts).
    reply_share : float
        Expected replies per original post (a reply goes to a follower of the author).
    reply_to_leader_boost : float
        Posts by leaders get this many times more replies.

    Behaviours (hashtag campaigns)
    ------------------------------
    n_campaigns : int
        Number of hashtag campaigns.
    campaign_seed_shares : tuple of float
        Shares of campaigns started by (a leader's personal account, the official account, a
        leader's delegate account, an ordinary member).
    p_transmit_leader, p_transmit_peer, p_transmit_official : float
        **Planted** probability that a follower takes up a hashtag after the followed account uses
        it, when that account is a leader's personal account, a non-leader's, or an official/delegate
        account (independent cascade).
    transmit_delay_days : float
        Mean delay (exponential) between exposure and uptake.
    p_follow_official : float
        Probability that an adopted member follows the official account.
    n_delegates : int
        Number of leaders (highest first) who also have a delegate-run account.
    delegate_audience : str
        Who a delegate account's campaign posts reach: ``"official"`` (default: the official
        account's followers, the members with ``follows_official``) or ``"owner"`` (the followers
        of the leader it posts for, as her own account does: with ``p_transmit_leader ==
        p_transmit_official`` the two then spread alike, an exact null for the delegation
        comparison). The follows edges written are the same either way.

    Tone and personal sharing
    -------------------------
    tone_member_mean, tone_member_sd : float
        Members' baseline tone (target VADER compound of their original posts).
    tone_leader : float
        Leaders' tone.
    tone_post_sd : float
        Post-to-post variation around a person's tone.
    tone_shift : float
        **Planted**: after exposure to an adopted leader, a member's tone moves this fraction of the
        way from their baseline to the mean tone of the leaders they follow.
    tone_alignment : float
        **Planted** tone alignment on topics: a member's post with a campaign hashtag made within
        ``tone_alignment_days`` after a leader's post with it has its planned tone moved this
        fraction of the way from the member's own (noisy) tone to the VADER compound of the most
        recent such leader post (peers' posts move nobody). 0 under ``null``.
    tone_alignment_days : float
        How long after a leader's post on a hashtag it still pulls members' tone.
    personal_member_mean : float
        Members' baseline share of personal posts (person-level Beta with this mean).
    personal_leader : float
        Leaders' share of personal posts.
    personal_shift : float
        **Planted**: fraction of the way a member's personal share moves towards their leaders' after
        exposure.

    Coordination (function words in replies)
    -----------------------------------------
    coordination_leader, coordination_peer : float
        **Planted**: probability that a reply to a leader (to a non-leader) copies a function-word
        category of the post it answers (the reply text is drawn among fragments holding that
        marker), on top of the replier's base rate.

    Followers and snapshots
    -----------------------
    external_followers_median : float
        Median followers from outside the organization (log-normal, sigma 1.2).
    external_followers_level_boost : tuple of float
        Multiplier of external followers by level (CEO first); the last value holds for deeper levels.
    snapshot_every_days : int
        Follow edges and account counters are observed every this many days (and at the end).

    Output
    ------
    chunk_posts : int
        Posts generated and written per chunk (bounds memory).
    truth_posts : bool
        Write the per-post truth (``sim_truth_posts``); switch off for 10^8-post runs.
    """

    people: int = 2000
    spans: tuple[int, ...] = (6, 4, 5)
    leader_max_level: int = 1
    promotion_rate: float = 0.05
    start: str = "2008-01-01"
    days: int = 730
    platform: str = "twitter"

    out_degree: float = 8.0
    p_same_department: float = 0.8
    affinity_bandwidth: float = 0.1
    p_follow_manager: float = 0.6
    p_follow_department_head: float = 0.5
    p_follow_ceo: float = 0.7
    tie_late_share: float = 0.1
    tie_end_share: float = 0.05

    base_hazard: float = 0.0006
    leader_baseline_hr: float = 8.0
    hr_leader_exposure: float = 2.0
    hr_peer_exposure: float = 1.5
    trend_log_hr: float = 1.0
    dept_shock_hr: float = 3.0
    dept_shock_days: int = 30
    affinity_log_hr: float = 0.5
    affinity_dept_sd: float = 0.7
    adopted_at_start_leaders: int = 1

    post_rate_median: float = 0.03
    post_rate_sigma: float = 1.0
    leader_rate_multiplier: float = 4.0
    target_posts: int | None = None
    reply_share: float = 0.15
    reply_to_leader_boost: float = 3.0

    n_campaigns: int = 30
    campaign_seed_shares: tuple[float, float, float, float] = (0.3, 0.2, 0.1, 0.4)
    p_transmit_leader: float = 0.15
    p_transmit_peer: float = 0.05
    p_transmit_official: float = 0.05
    transmit_delay_days: float = 3.0
    p_follow_official: float = 0.5
    n_delegates: int = 1
    delegate_audience: str = "official"

    tone_member_mean: float = 0.1
    tone_member_sd: float = 0.25
    tone_leader: float = 0.6
    tone_post_sd: float = 0.3
    tone_shift: float = 0.3
    tone_alignment: float = 0.3
    tone_alignment_days: float = 30.0
    personal_member_mean: float = 0.1
    personal_leader: float = 0.4
    personal_shift: float = 0.3

    coordination_leader: float = 0.3
    coordination_peer: float = 0.1

    external_followers_median: float = 40.0
    external_followers_level_boost: tuple[float, ...] = (300.0, 20.0, 4.0, 1.5, 1.0)
    snapshot_every_days: int = 182

    chunk_posts: int = 200_000
    truth_posts: bool = True

    preset: str = "default"
    description: str = field(default="", compare=False)

    def replace(self, **changes: Any) -> SimConfig:
        """A copy with some parameters changed (validated)."""
        return make_config(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def validate(self) -> SimConfig:
        """Check ranges; raise :class:`SimulationError` naming the parameter."""
        def bad(name, why):
            raise SimulationError(f"simulation parameter {name}={getattr(self, name)!r}: {why}")

        if self.people < 1 + (self.spans[0] if self.spans else 0):
            bad("people", f"need at least {1 + (self.spans[0] if self.spans else 0)} (CEO and C-suite)")
        if any(s < 1 for s in self.spans):
            bad("spans", "every span must be ≥ 1")
        if self.days < 2:
            bad("days", "must be ≥ 2")
        for name in ("promotion_rate", "p_same_department", "p_follow_manager",
                     "p_follow_department_head", "p_follow_ceo", "tie_late_share", "tie_end_share",
                     "p_transmit_leader", "p_transmit_peer", "p_transmit_official",
                     "p_follow_official", "tone_shift", "tone_alignment", "personal_member_mean",
                     "personal_leader", "personal_shift", "coordination_leader", "coordination_peer"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                bad(name, "must be a probability in [0, 1]")
        for name in ("base_hazard", "leader_baseline_hr", "hr_leader_exposure", "hr_peer_exposure",
                     "dept_shock_hr", "post_rate_median", "leader_rate_multiplier",
                     "external_followers_median"):
            if not getattr(self, name) > 0:
                bad(name, "must be > 0")
        for name in ("out_degree", "reply_share", "post_rate_sigma", "tone_member_sd",
                     "tone_post_sd", "affinity_dept_sd", "transmit_delay_days",
                     "tone_alignment_days"):
            if getattr(self, name) < 0:
                bad(name, "must be ≥ 0")
        if len(self.campaign_seed_shares) != 4 or abs(sum(self.campaign_seed_shares) - 1) > 1e-9:
            bad("campaign_seed_shares", "four shares (leader, official, delegate, member) summing to 1")
        if self.delegate_audience not in ("official", "owner"):
            bad("delegate_audience", "'official' or 'owner'")
        if self.chunk_posts < 1000:
            bad("chunk_posts", "must be ≥ 1000")
        if self.target_posts is not None and self.target_posts < 1:
            bad("target_posts", "must be ≥ 1 when given")
        if self.snapshot_every_days < 1:
            bad("snapshot_every_days", "must be ≥ 1")
        return self


_NO_CONFOUNDERS = dict(trend_log_hr=0.0, dept_shock_hr=1.0, affinity_log_hr=0.0)
_NO_EFFECTS = dict(
    hr_leader_exposure=1.0, hr_peer_exposure=1.0, p_transmit_leader=0.05, p_transmit_peer=0.05,
    p_transmit_official=0.05, tone_shift=0.0, tone_alignment=0.0, personal_shift=0.0,
    coordination_leader=0.0, coordination_peer=0.0,
)

#: Leaders exchangeable with the other members for the founding questions (first, most active,
#: most followed): every difference between leaders and others that the org chart plants is off.
_FOUNDING_NULL = dict(
    leader_baseline_hr=1.0, adopted_at_start_leaders=0,       # first: same hazard, no head start
    leader_rate_multiplier=1.0, reply_to_leader_boost=1.0,    # most active: same rate, same replies
    n_campaigns=0, n_delegates=0,                             # (campaigns are seeded by leaders)
    external_followers_level_boost=(1.0,),                    # most followed: same outside audience
    p_follow_manager=0.0, p_follow_department_head=0.0, p_follow_ceo=0.0,  # no hierarchical ties
    p_same_department=0.0,  # the CEO is alone in "Executive": department ties would pass them by
)

#: Named presets: (description, parameter overrides of the defaults). Documented in
#: docs/simulation.md.
PRESETS: dict[str, tuple[str, dict[str, Any]]] = {
    "default": ("moderate planted leader and peer effects, with all three confounders", {}),
    "null": ("no influence of any kind and no confounders: every influence estimator should find "
             "nothing; leaders still adopt first, post more and are more followed by design (for "
             "the founding questions use founding-null)",
             {**_NO_EFFECTS, **_NO_CONFOUNDERS}),
    "founding-null": (
        "leaders are like everyone else: no influence, no confounders, no head start, the same "
        "adoption hazard, posting rate and outside followers, no ties up the hierarchy or into "
        "departments, no leader-seeded campaigns: the first / most active / most followed tests "
        "should reject at their nominal level",
        {**_NO_EFFECTS, **_NO_CONFOUNDERS, **_FOUNDING_NULL}),
    "homophily-only": (
        "no influence, but strong confounders (department shocks, shared trend, homophily on a "
        "latent trait that also drives adoption): naive estimators see 'influence' that is not there",
        {**_NO_EFFECTS, "trend_log_hr": 1.5, "dept_shock_hr": 5.0, "affinity_log_hr": 1.0,
         "affinity_dept_sd": 1.0, "affinity_bandwidth": 0.05}),
    "unconfounded": ("the default planted effects without any confounder: the clean recovery case",
                     {**_NO_CONFOUNDERS}),
    "strong-leaders": (
        "large planted leader effects (adoption HR 4, transmission 0.3, tone and sharing shifts 0.6) "
        "and weak peer effects",
        {"hr_leader_exposure": 4.0, "hr_peer_exposure": 1.2, "p_transmit_leader": 0.3,
         "p_transmit_peer": 0.03, "tone_shift": 0.6, "tone_alignment": 0.6, "personal_shift": 0.6,
         "coordination_leader": 0.5, "coordination_peer": 0.05, "leader_rate_multiplier": 8.0}),
    "zappos-2009": (
        "Zappos in 2009: ~1,600 staff, ~430 on Twitter after two years, the CEO by far the most "
        "followed, the leadership first and most frequent users",
        {"people": 1600, "spans": (7, 3, 4), "start": "2007-06-01", "days": 900,
         "base_hazard": 0.00005, "leader_baseline_hr": 25.0, "adopted_at_start_leaders": 1,
         "hr_leader_exposure": 2.5, "leader_rate_multiplier": 10.0,
         "external_followers_level_boost": (20000.0, 60.0, 5.0, 1.5, 1.0),
         "p_follow_ceo": 0.9}),
    "scale": ("cheap settings for the scale benchmark: sparse ties, few campaigns, no per-post truth",
              {"out_degree": 4.0, "n_campaigns": 10, "truth_posts": False}),
}


def make_config(base: SimConfig | str | None = None, **overrides: Any) -> SimConfig:
    """A validated config: a preset name (or a config) plus parameter overrides.

    >>> make_config("null", people=300).hr_leader_exposure
    1.0
    """
    if base is None:
        base = "default"
    if isinstance(base, str):
        if base not in PRESETS:
            raise SimulationError(
                f"unknown preset {base!r}; presets are {', '.join(PRESETS)} (see docs/simulation.md)"
            )
        desc, values = PRESETS[base]
        base = SimConfig(**{**values, "preset": base, "description": desc})
    names = {f.name for f in dataclasses.fields(SimConfig)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise SimulationError(
            f"unknown simulation parameter(s) {unknown}; see SimConfig in socialens/simulate/config.py"
        )
    fixed = {}
    for k, v in overrides.items():
        if isinstance(getattr(base, k), tuple) and isinstance(v, list):
            v = tuple(v)
        fixed[k] = v
    return dataclasses.replace(base, **fixed).validate()


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Parameter overrides from a JSON or YAML file (a mapping of parameter → value)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SimulationError(f"cannot read the simulation config {p}: {exc}") from exc
    if p.suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SimulationError(f"{p}: not valid JSON ({exc}); write a JSON or YAML mapping") from exc
    if not isinstance(data, dict):
        raise SimulationError(f"{p}: expected a mapping of parameter names to values")
    return data
