"""Who talks to whom: the interaction network around the leaders, described.

The ties of :func:`socialens.network.network_at` in a window (replies, mentions, reposts, quotes
derived from posts; observed follows), mapped from accounts to the people of the organization at
``as_of``. For every kind: how many ties there were, how many members sent one to a leader (of the
members who posted in the window: ties are made by posts, so a member whose posts were not
collected is unknown, not silent), and
what share of the ties members sent went to leaders, set against the leaders' share of the members
who sent any tie of that kind (the share leaders would get if attention were spread evenly).

This is description: it says how much of the organization *reached* its leaders in the window,
not whether leaders are more central than chance would make them (that is the reach analysis,
with its permutation tests). Counts are exact; there is nothing to estimate.
"""

from __future__ import annotations

import pandas as pd

from socialens.analyses.common import post_time_range, roster_at, select_leaders, to_time
from socialens.analyses.result import Result
from socialens.analyses.signature import analysis_function
from socialens.errors import AnalysisError
from socialens.network import NETWORK_KINDS, network_at
from socialens.workspace import Workspace

__all__ = ["interactions"]

_KINDS = ("reply", "mention", "repost", "quote", "interaction", "follows")


@analysis_function
def interactions(
    ws: Workspace,
    *,
    as_of=None,
    window_start=None,
    window_end=None,
    leaders: str = "is_leader",
    kinds: tuple[str, ...] = _KINDS,
) -> Result:
    """The interaction network of the window, by kind, towards the leaders.

    Parameters
    ----------
    as_of : time, optional
        Time at which membership and roles are read (default: ``window_end``, else the last post).
    window_start, window_end : time, optional
        The window ``[window_start, window_end)`` of the ties (default: the whole time range of the
        posts). Follows are states: counted whatever their observation time.
    leaders : str
        Leader rule.
    kinds : tuple of str
        Edge kinds described.
    """
    t0, t1 = to_time(window_start, "window_start"), to_time(window_end, "window_end")
    first, last = post_time_range(ws)
    end = t1 or (last + pd.Timedelta(seconds=1) if last is not None else None)
    t = to_time(as_of, "as_of") or t1 or last
    if t is None:
        raise AnalysisError("the workspace has no posts; there is no interaction network to show")
    bad = [k for k in kinds if k not in NETWORK_KINDS]
    if bad:
        raise AnalysisError(f"unknown edge kind {bad}; known kinds: {', '.join(NETWORK_KINDS)}")
    roster = roster_at(ws, t)
    if roster.empty:
        raise AnalysisError(f"nobody holds a role at {t.isoformat()}; choose another --as-of")
    roster["leader"] = select_leaders(roster, leaders).to_numpy()
    acc = ws.table("accounts")
    owners = acc.filter(acc.person_id.notnull() & (acc.kind == "personal")).select(
        "account_id", "person_id").to_pandas()
    owners = owners[owners.person_id.isin(roster.person_id)]
    ties = network_at(ws.table("edges"), since=t0, before=end, kinds=list(kinds)).to_pandas()
    if ties.empty:
        raise AnalysisError(
            "the workspace has no interaction or follow ties in the window; ingest posts with "
            "replies or mentions, or follows (see docs/data_format.md, 'Interaction edges')")
    person = dict(zip(owners.account_id, owners.person_id, strict=True))
    lead = set(roster.person_id[roster.leader])
    ties["src_person"] = ties.src.map(person)
    ties["dst_person"] = ties.dst.map(person)
    ties["to_leader"] = ties.dst_person.isin(lead)
    from_members = ties[ties.src_person.notna() & ties.src_person.ne(ties.dst_person)]
    # the denominator: members who could have made a tie from a post, i.e. who posted in the
    # window (a member whose posts were not collected is unknown, not silent)
    posts = ws.table("posts")
    if t0 is not None:
        posts = posts.filter(posts.created_at >= t0)
    if end is not None:
        posts = posts.filter(posts.created_at < end)
    posting = set(posts.select("account_id").distinct().to_pandas().account_id)
    active = set(owners.person_id[owners.account_id.isin(posting)])
    n_members = len(active)
    rows, per_leader = [], []
    for kind in kinds:
        k = ties[ties.kind == kind]
        m = from_members[from_members.kind == kind]
        senders = m.src_person.nunique()
        to_l = m[m.to_leader]
        lead_senders = set(m.src_person[m.src_person.isin(lead)])
        rows.append({
            "kind": kind, "edges": int(k.n.sum()), "ties": len(k),
            "member_ties": len(m), "members_sending": int(senders),
            "members_reaching_a_leader": int(to_l.src_person.nunique()),
            "share_of_members_reaching_a_leader": (to_l.src_person.nunique() / n_members
                                                   if n_members else None),
            "leader_share_of_member_ties": len(to_l) / len(m) if len(m) else None,
            "leader_share_of_senders": (len(lead_senders) / senders if senders else None),
        })
        for pid, g in to_l.groupby("dst_person"):
            per_leader.append({"person_id": pid, "kind": kind, "ties_from_members": len(g),
                               "members": int(g.src_person.nunique()),
                               "edges_from_members": int(g.n.sum())})
        outside = k[k.src_person.isna() & k.to_leader]
        for pid, g in outside.groupby("dst_person"):
            per_leader.append({"person_id": pid, "kind": f"{kind} (outsiders)",
                               "ties_from_members": 0, "members": 0,
                               "edges_from_members": 0, "ties_from_outsiders": len(g)})
    by_kind = pd.DataFrame(rows)
    leaders_tbl = pd.DataFrame(per_leader, columns=[
        "person_id", "kind", "ties_from_members", "members", "edges_from_members",
        "ties_from_outsiders"])
    names = roster.set_index("person_id")[["name", "title"]]
    leaders_tbl = leaders_tbl.join(names, on="person_id")
    summary = {
        "n_members_posting": n_members, "n_leaders": len(lead),
        "window_start": t0 or first, "window_end": end,
        "kinds": {r["kind"]: {key: r[key] for key in (
            "edges", "ties", "members_sending", "members_reaching_a_leader",
            "share_of_members_reaching_a_leader", "leader_share_of_member_ties",
            "leader_share_of_senders")} for r in rows},
    }
    talk = [r for r in rows if r["kind"] in ("reply", "mention") and r["member_ties"]]
    if talk:
        parts = [f"{r['members_reaching_a_leader']} of the {n_members} members who posted "
                 f"{'replied to' if r['kind'] == 'reply' else 'mentioned'} a leader"
                 for r in talk]
        best = max(talk, key=lambda r: r["member_ties"])
        headline = (
            "; ".join(parts) + f". Leaders received {best['leader_share_of_member_ties']:.0%} of "
            f"members' {best['kind']} ties (they are {best['leader_share_of_senders']:.0%} of the "
            f"members who sent any).")
    else:
        headline = ("No member replied to or mentioned anyone in the window; "
                    f"{int(by_kind.ties.sum())} ties of other kinds.")
    return Result(
        name="interactions",
        title="Interactions: who replies to, mentions and reposts whom",
        params={"as_of": t, "window_start": t0, "window_end": t1, "leaders": leaders,
                "kinds": list(kinds)},
        summary=summary,
        tables={"by_kind": by_kind, "leaders": leaders_tbl},
        headline=headline,
        notes=[
            "Ties are derived from posts (a reply, mention, repost or quote of another account of "
            "the workspace) and counted once per (sender, receiver, kind) in the window; follows "
            "are states, counted whatever their observation time.",
            "Only public posts make ties in published output. Descriptive: whether leaders get "
            "more attention than chance is the reach analysis.",
        ],
    )
