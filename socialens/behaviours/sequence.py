"""Who used it first, and who followed: the adoption sequence of a behaviour with each adopter's
exposure at the moment they adopted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from socialens.behaviours.events import first_use_posts
from socialens.behaviours.exposure import (
    DEFAULT_EXPOSURE_KINDS,
    exposure_events,
    exposure_ties,
    leader_ids,
)
from socialens.behaviours.spec import BehaviourError

if TYPE_CHECKING:  # pragma: no cover
    from socialens.workspace import Workspace

__all__ = ["adoption_sequence", "SEQUENCE_COLUMNS", "sequence_from"]

SEQUENCE_COLUMNS = ["behaviour", "order", "person_id", "name", "leader", "at",
                    "days_after_first", "leaders_seen", "peers_seen", "seen_first", "post_id"]
_SHOWN = 3


def sequence_from(uses: pd.DataFrame, events: pd.DataFrame, names: dict[str, str],
                  lead: set[str], contact_names: dict[str, str] | None = None) -> pd.DataFrame:
    """The sequence table from materialized first uses (``person_id, behaviour, at, post_id``) and
    exposure events of adopters (:func:`~socialens.behaviours.exposure.exposure_events`);
    ``contact_names`` (default ``names``) names the contacts in ``seen_first``."""
    contact_names = names if contact_names is None else contact_names
    if uses.empty:
        return pd.DataFrame(columns=SEQUENCE_COLUMNS)
    u = uses.sort_values(["behaviour", "at", "person_id"]).copy()
    u["order"] = u.groupby("behaviour").cumcount() + 1
    first = u.groupby("behaviour")["at"].transform("min")
    u["days_after_first"] = (u["at"] - first).dt.total_seconds() / 86400.0
    u["name"] = u.person_id.map(names)
    u["leader"] = u.person_id.isin(lead)
    ev = events[events.adopted_at.notna()] if not events.empty else events
    if ev.empty:
        u["leaders_seen"] = 0
        u["peers_seen"] = 0
        u["seen_first"] = ""
    else:
        ev = ev.sort_values(["source_is_leader", "exposed_at"], ascending=[False, True])
        g = ev.groupby(["behaviour", "person_id"])
        cnt = g.source_is_leader.agg(leaders_seen="sum", total="size")
        cnt["peers_seen"] = cnt.pop("total") - cnt.leaders_seen

        def shown(df: pd.DataFrame) -> str:
            who = [f"{contact_names.get(p) or p}{' (leader)' if ld else ''}"
                   for p, ld in zip(df.source_person_id, df.source_is_leader, strict=True)]
            more = len(who) - _SHOWN
            return ", ".join(who[:_SHOWN]) + (f" and {more} more" if more > 0 else "")

        cnt["seen_first"] = g[["source_person_id", "source_is_leader"]].apply(shown)
        u = u.join(cnt, on=["behaviour", "person_id"])
        u["leaders_seen"] = u.leaders_seen.fillna(0).astype(int)
        u["peers_seen"] = u.peers_seen.fillna(0).astype(int)
        u["seen_first"] = u.seen_first.fillna("")
    return u[SEQUENCE_COLUMNS].reset_index(drop=True)


def adoption_sequence(
    ws: Workspace,
    behaviour: Any,
    *,
    leaders: str = "is_leader",
    as_of=None,
    exposure=DEFAULT_EXPOSURE_KINDS,
    lag_days: float = 0.0,
    window_start=None,
    window_end=None,
) -> pd.DataFrame:
    """Who showed a behaviour first, and who followed, with what each adopter had seen.

    Parameters
    ----------
    behaviour : str, Behaviour or list
        Behaviour spec(s), e.g. ``"hashtag:#ABetterDeal"`` (see :func:`~socialens.behaviours.first_use`).
    leaders, as_of : str, time
        Leader rule and when roles are read (:func:`~socialens.behaviours.leader_ids`).
    exposure : iterable of str
        Exposure network kinds (:func:`~socialens.behaviours.exposure_ties`).
    lag_days : float
        A contact's use is seen ``lag_days`` after it.
    window_start, window_end : time, optional
        As in :func:`~socialens.behaviours.first_use`.

    Returns
    -------
    DataFrame
        One row per adopter, in order: ``behaviour, order`` (1 = first), ``person_id, name, leader,
        at, days_after_first``, ``leaders_seen`` / ``peers_seen`` (contacts who had shown it
        before this person did), ``seen_first`` (up to three of them, leaders first) and the
        ``post_id`` of the first use (NULL for ``platform`` dated by account creation).

    Raises
    ------
    BehaviourError
        Nobody showed the behaviour, or a spec is not understood.
    """
    uses_t = first_use_posts(ws, behaviour, window_start=window_start, window_end=window_end)
    uses = uses_t.execute()
    if uses.empty:
        raise BehaviourError(
            f"nobody in the workspace showed {behaviour!r}"
            + (" in the window" if window_start or window_end else "")
            + "; check the spelling (hashtags are matched case-insensitively, without '#') or "
            "list the most used ones with --behaviour top-hashtags:20")
    lead = leader_ids(ws, leaders, as_of)
    ties = exposure_ties(ws, exposure, leaders=lead)
    ev = exposure_events(uses_t.drop("post_id"), ties, lead).execute()
    people = ws.table("people").select("person_id", "name").execute()
    names = dict(zip(people.person_id, people.name, strict=True))
    return sequence_from(uses, ev, names, lead)
