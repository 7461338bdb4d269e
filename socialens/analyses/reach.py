"""Reach: how much of the organization each leader's posts reach, and how central leaders are.

The founding study's first channel: a leader's posts are "a great, informal way to communicate
with a large group of people who can subscribe to read" instead of another company-wide email.
A company-wide email reaches every member (100 %, forced); a post reaches the members who follow
the leader or interact with them. From the time-resolved network
(:func:`socialens.network.network_at`, the chosen edge kinds in the window), mapped from accounts
to the people of the organization at ``as_of`` through their personal accounts, this analysis
reports:

* per leader, **coverage**: the share of the other members with a tie *to* the leader (they
  follow, reply to, mention, repost, quote or interact with them; 1 hop) and the share within two
  steps (they attend to someone who attends to the leader, so a repost or a conversation can pass
  the post on; 2 hops), set against the email's 100 % and against the leader's external followers
  (the latest follower snapshot at or before ``as_of``);
* **centrality** of everyone in the network: in-degree, weighted in-strength, PageRank (Brin &
  Page 1998), betweenness (Freeman 1979) and eigenvector centrality (Bonacich 1987), computed with
  igraph; leaders against others by a **permutation test** (random assignment of the leader label
  among the people in the network, seeded; exact enumeration when there are at most
  ``n_permutations`` assignments);
* **reciprocity** of leader ties (the share of members' ties to a leader the leader returns,
  against the network's reciprocity) and the **concentration of attention** (Gini coefficient and
  top-10 % share of the in-strength; the leaders' share of all attention against their share of
  the people).

Direction: a tie ``src → dst`` means ``src`` attends to ``dst`` (``src`` follows, answers, names,
reposts or quotes ``dst``), the convention of every derived edge kind. Aggregated networks that
point the other way (the Fink et al. influence network: ``B → A`` when A retweeted or mentioned B)
are read with ``reversed_kinds``.

The edge and roster preparation is ibis (any backend); the graph statistics are computed in
Python on the aggregated person-to-person ties. See ``docs/methods.md``, "Reach".
"""

from __future__ import annotations

import itertools
import math
import random
import warnings
from datetime import datetime

import altair as alt
import ibis
import numpy as np
import pandas as pd

from socialens.analyses.common import post_time_range, roster_at, select_leaders, to_time
from socialens.analyses.result import Result
from socialens.analyses.signature import analysis_function
from socialens.errors import AnalysisError
from socialens.network import NETWORK_KINDS, network_at
from socialens.stats.concentration import gini, top_share
from socialens.stats.multiple import holm
from socialens.workspace import Workspace

__all__ = ["reach", "coverage", "centrality", "permutation_test", "METRICS",
           "SNAPSHOT_TOLERANCE_DAYS", "BETWEENNESS_SOURCES", "betweenness_method"]

_KINDS = ("follows", "reply", "mention", "repost", "quote", "interaction")
#: centrality measures, in the order of the tables; ``pagerank`` is the primary one
METRICS = ("in_degree", "in_strength", "pagerank", "betweenness", "eigenvector")
_METRIC_WORDS = {"in_degree": "members attending to them", "in_strength": "weighted attention",
                 "pagerank": "PageRank", "betweenness": "betweenness",
                 "eigenvector": "eigenvector centrality"}
#: at most this many people are drawn in the network figure (leaders and their neighbours first)
MAX_NETWORK_NODES = 600
MAX_NETWORK_EDGES = 1200


# --------------------------------------------------------------------------------------------
# the pure graph statistics (tested on literal graphs)


def _adjacency(n: int, src: np.ndarray, dst: np.ndarray):
    from scipy import sparse

    a = sparse.csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    a.data[:] = 1
    return a


def coverage(n: int, src, dst, targets) -> pd.DataFrame:
    """Who reaches each target in one and in two steps of attention.

    Parameters
    ----------
    n : int
        Number of people (nodes ``0 .. n-1``).
    src, dst : array of int
        Ties ``src → dst`` ("src attends to dst"); self-ties are ignored.
    targets : array of int
        The nodes whose coverage is wanted.

    Returns
    -------
    DataFrame
        ``node, reach_1hop, reach_2hop``: the numbers of *other* nodes with a tie to the target,
        and with a path of at most two ties to it.

    Examples
    --------
    >>> coverage(4, [1, 2, 3], [0, 0, 2], [0, 2]).values.tolist()
    [[0, 2, 3], [2, 1, 1]]
    """
    src, dst = np.asarray(src, dtype=int), np.asarray(dst, dtype=int)
    keep = src != dst
    a = _adjacency(n, src[keep], dst[keep])
    targets = np.asarray(targets, dtype=int)
    col = a[:, targets]                         # n × k: who attends to the target
    two = (col + a @ col).tocsc()               # one or two steps
    rows = []
    for j, t in enumerate(targets):
        one = set(col[:, j].nonzero()[0]) - {t}
        both = set(two[:, j].nonzero()[0]) - {t}
        rows.append({"node": int(t), "reach_1hop": len(one), "reach_2hop": len(both)})
    return pd.DataFrame(rows, columns=["node", "reach_1hop", "reach_2hop"])


def _quiet(fn, *args, **kwargs):
    """igraph warns (RuntimeWarning) on disconnected graphs; the values are still defined."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


#: above this many people in the network, betweenness is estimated from this many sampled
#: sources (Brandes & Pich 2007); exact betweenness costs O(n m): 289 s for 20,000 people
BETWEENNESS_SOURCES = 1000


def betweenness_method(n: int, sources: int | None = BETWEENNESS_SOURCES) -> str:
    """How :func:`centrality` computes betweenness for ``n`` nodes: ``"exact"`` or
    ``"estimated from K of n sources"``."""
    if sources is None or n <= int(sources):
        return "exact"
    return f"estimated from {int(sources):,} of {n:,} sources"


def centrality(n: int, src, dst, weight=None, *, damping: float = 0.85,
               betweenness_sources: int | None = BETWEENNESS_SOURCES,
               seed: int = 0) -> pd.DataFrame:
    """Centrality of every node of the directed attention graph, with igraph.

    Parameters
    ----------
    n : int
        Number of nodes.
    src, dst : array of int
        Ties ``src → dst`` (at most one per pair; self-ties are ignored).
    weight : array of float, optional
        Tie strengths (default 1): used by in-strength, PageRank and eigenvector centrality.
    damping : float
        PageRank's damping factor.

    Returns
    -------
    DataFrame
        One row per node: ``in_degree`` (ties received), ``out_degree``, ``in_strength`` (summed
        weight received), ``pagerank`` (directed, weighted; sums to 1), ``betweenness`` (directed,
        unweighted shortest paths, normalized by ``(n-1)(n-2)``), ``eigenvector`` (of the
        undirected graph with summed weights, scaled to a maximum of 1).

    Betweenness is exact up to ``betweenness_sources`` nodes (``None``: always exact). Above, it
    is Brandes & Pich's (2007) source-sampling estimate: the dependencies of ``K`` sources drawn
    uniformly without replacement (``seed``) — igraph's subset betweenness — times ``n / K``, an
    unbiased estimate of the exact value whose relative error shrinks as ``1 / sqrt(K)`` for the
    central nodes (docs/methods.md, *Reach*).

    Examples
    --------
    A star: everyone attends to node 0.

    >>> c = centrality(4, [1, 2, 3], [0, 0, 0])
    >>> c.in_degree.tolist(), c.betweenness.tolist()
    ([3, 0, 0, 0], [0.0, 0.0, 0.0, 0.0])
    """
    import igraph as ig

    src, dst = np.asarray(src, dtype=int), np.asarray(dst, dtype=int)
    w = np.ones(len(src)) if weight is None else np.asarray(weight, dtype=float)
    keep = src != dst
    src, dst, w = src[keep], dst[keep], w[keep]
    g = ig.Graph(n=n, edges=list(zip(src.tolist(), dst.tolist(), strict=True)), directed=True)
    g.es["weight"] = w.tolist()
    out = pd.DataFrame({
        "in_degree": np.asarray(g.indegree(), dtype=int),
        "out_degree": np.asarray(g.outdegree(), dtype=int),
        "in_strength": np.asarray(g.strength(mode="in", weights="weight"), dtype=float),
    })
    if n == 0:
        for m in ("pagerank", "betweenness", "eigenvector"):
            out[m] = []
        return out
    out["pagerank"] = _quiet(g.pagerank, weights="weight", directed=True, damping=damping)
    if betweenness_method(n, betweenness_sources) == "exact":
        bet = np.asarray(_quiet(g.betweenness, directed=True), dtype=float)
    else:
        k = int(betweenness_sources)
        picked = np.sort(np.random.default_rng([seed, 4242]).choice(n, size=k, replace=False))
        bet = np.asarray(_quiet(g.betweenness, directed=True, sources=picked.tolist()),
                         dtype=float) * (n / k)
    norm = (n - 1) * (n - 2)
    out["betweenness"] = bet / norm if norm > 0 else 0.0
    if g.ecount():
        u = g.as_undirected(mode="collapse", combine_edges={"weight": "sum"})
        ev = np.asarray(_quiet(u.eigenvector_centrality, weights="weight", scale=True),
                        dtype=float)
        top = ev.max()
        out["eigenvector"] = ev / top if top > 0 else ev
    else:
        out["eigenvector"] = 0.0
    return out


def permutation_test(values: np.ndarray, is_group: np.ndarray, *, n_permutations: int = 2000,
                     seed: int = 0) -> dict:
    """One-sided permutation test of "the group's mean is higher than at random" per column.

    The group label is assigned at random to ``k`` of the ``n`` units (``k`` = the group's size);
    the statistic is the group's mean of each column. Exact (every one of the ``C(n, k)``
    assignments) when there are at most ``n_permutations`` of them, else Monte Carlo with
    ``p = (1 + #{T_b >= T}) / (1 + B)``.

    Parameters
    ----------
    values : array (n, m)
        The measures, one column each.
    is_group : bool array (n,)
        The group (leaders).

    Returns
    -------
    dict
        ``observed`` (m,), ``p_value`` (m,), ``exact`` (bool), ``n_assignments``.

    Examples
    --------
    >>> r = permutation_test(np.array([[3.0], [2.0], [1.0], [0.0]]), np.array([1, 0, 0, 0], bool))
    >>> r["p_value"].tolist(), r["exact"], r["n_assignments"]
    ([0.25], True, 4)
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    is_group = np.asarray(is_group, dtype=bool)
    n, k = len(is_group), int(is_group.sum())
    if k == 0 or k == n:
        raise AnalysisError("the permutation test needs leaders and others in the network")
    observed = values[is_group].mean(axis=0)
    total = math.comb(n, k)
    tol = 1e-12 * np.maximum(1.0, np.abs(observed))
    if total <= n_permutations:
        combos = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(n), k)),
                             dtype=np.int64, count=total * k).reshape(total, k)
        stats = values[combos].mean(axis=1)                       # total × m
        p = (stats >= observed - tol).sum(axis=0) / total
        return {"observed": observed, "p_value": p, "exact": True, "n_assignments": total}
    rng = np.random.default_rng(seed)
    ge = np.zeros(values.shape[1])
    done = 0
    chunk = max(1, min(2000, 4_000_000 // n))                      # bounded memory
    while done < n_permutations:
        b = min(chunk, n_permutations - done)
        # the k smallest of n uniform draws: a uniformly random k-subset (the same subsets as
        # argsort(...)[:, :k], in O(n) per assignment)
        idx = np.argpartition(rng.random((b, n)), k - 1, axis=1)[:, :k]
        ge += (values[idx].mean(axis=1) >= observed - tol).sum(axis=0)
        done += b
    p = (1 + ge) / (1 + n_permutations)
    return {"observed": observed, "p_value": p, "exact": False, "n_assignments": n_permutations}


# --------------------------------------------------------------------------------------------
# preparation on ibis tables


def _person_ties(ws: Workspace, kinds, t0, end, reversed_kinds) -> pd.DataFrame:
    """Person → person attention ties in the window: ``src, dst, kind, weight, n`` (members'
    personal accounts only, self-ties left out), aggregated per (src, dst, kind)."""
    ties = network_at(ws.table("edges"), since=t0, before=end, kinds=list(kinds))
    if reversed_kinds:
        flip = ties.kind.isin(list(reversed_kinds))
        ties = ties.mutate(a=ibis.ifelse(flip, ties.dst, ties.src),
                           b=ibis.ifelse(flip, ties.src, ties.dst))
        ties = ties.select(src=ties.a, dst=ties.b, kind=ties.kind, weight=ties.weight, n=ties.n)
    acc = ws.table("accounts")
    own = acc.filter(acc.person_id.notnull() & (acc.kind == "personal")).select(
        "account_id", "person_id")
    s = own.select(s_acc=own.account_id, s_person=own.person_id)
    d = own.select(d_acc=own.account_id, d_person=own.person_id)
    j = ties.join(s, ties.src == s.s_acc).join(d, ties.dst == d.d_acc)
    agg = j.group_by([j.s_person, j.d_person, j.kind]).aggregate(
        weight=j.weight.sum(), n=j.n.sum())
    agg = agg.select(src=agg.s_person, dst=agg.d_person, kind=agg.kind, weight=agg.weight,
                     n=agg.n).order_by(["src", "dst", "kind"])
    # self-ties (two accounts of one person) are dropped after the aggregation: as a filter
    # before it, DuckDB 1.4 plans the two joins as a nested loop (9 s instead of 0.1 s at
    # 5,000 people)
    out = agg.to_pandas()
    return out[out.src != out.dst].reset_index(drop=True)


#: follower counts older than this (before ``as_of``) are not shown as the leader's audience
SNAPSHOT_TOLERANCE_DAYS = 365


def _external_followers(ws: Workspace, t: datetime) -> pd.DataFrame:
    """Per person: the largest follower count among their personal accounts in the latest
    snapshot at or before ``t`` and at most :data:`SNAPSHOT_TOLERANCE_DAYS` older
    (``followers``, ``followers_observed_at``)."""
    snap = ws.table("account_snapshots")
    oldest = pd.Timestamp(t) - pd.Timedelta(days=SNAPSHOT_TOLERANCE_DAYS)
    snap = snap.filter(snap.observed_at <= t, snap.observed_at >= oldest.to_pydatetime(),
                       snap.followers.notnull())
    latest = ibis.window(group_by=snap.account_id, order_by=ibis.desc(snap.observed_at))
    snap = snap.mutate(rn=ibis.row_number().over(latest)).filter(lambda s: s.rn == 0)
    acc = ws.table("accounts")
    own = acc.filter(acc.person_id.notnull() & (acc.kind == "personal"))
    j = snap.join(own, "account_id")
    per = j.group_by(j.person_id).aggregate(followers=j.followers.max(),
                                            followers_observed_at=j.observed_at.max())
    return per.to_pandas()


def _edge_time_range(ws: Workspace, kinds) -> tuple[datetime | None, datetime | None]:
    e = ws.table("edges")
    e = e.filter(e.kind.isin(list(kinds)))
    start = e.observed_at.coalesce(e.window_start)
    stop = e.observed_at.coalesce(e.window_end, e.window_start)
    row = e.aggregate(a=start.min(), b=stop.max()).to_pandas().iloc[0]
    conv = [None if pd.isna(v) else pd.Timestamp(v).to_pydatetime() for v in (row.a, row.b)]
    return conv[0], conv[1]


# --------------------------------------------------------------------------------------------
# the analysis


def _pct(x: float) -> str:
    """A share as a whole percentage, the way the report writes it ("68 %")."""
    return f"{100 * x:.0f} %"


def _verb(kinds) -> str:
    kinds = set(kinds)
    if kinds == {"follows"}:
        return "follow"
    return "follow or interact with" if "follows" in kinds else "interact with"


@analysis_function
def reach(
    ws: Workspace,
    *,
    as_of=None,
    window_start=None,
    window_end=None,
    leaders: str = "is_leader",
    kinds: tuple[str, ...] = _KINDS,
    weighted: bool = True,
    reversed_kinds: tuple[str, ...] = (),
    n_permutations: int = 2000,
    seed: int = 0,
    betweenness_sources: int = BETWEENNESS_SOURCES,
) -> Result:
    """Each leader's internal coverage, everyone's centrality, leaders against random.

    Parameters
    ----------
    as_of : time, optional
        Time at which membership and roles are read (default: ``window_end``, else the last post
        or tie).
    window_start, window_end : time, optional
        The window ``[window_start, window_end)`` of the ties (default: all of them). Follows are
        states, counted whatever their observation time.
    leaders : str
        Leader rule (``is_leader``, ``level<=1``, ``ids:a,b``).
    kinds : tuple of str
        Edge kinds that make the attention graph (any of follows, reply, mention, repost, quote,
        interaction); a pair of people with ties of several kinds is one tie whose weight is the
        sum.
    weighted : bool
        Use the ties' weights (summed ``weight`` of the edges) in in-strength, PageRank and
        eigenvector centrality; ``False`` counts every tie as 1.
    reversed_kinds : tuple of str
        Kinds whose ``src → dst`` means ``dst`` attended to ``src`` (Fink et al.'s influence
        direction); they are turned round.
    n_permutations : int
        Random assignments of the leader label in the permutation test (exact enumeration when
        there are at most this many).
    seed : int
        Seed of the permutation test, of the network layout and of the betweenness sources.
    betweenness_sources : int
        Betweenness is exact for networks of at most this many people, and above estimated from
        this many sampled sources (Brandes & Pich 2007; the table's ``betweenness`` column and
        ``summary["betweenness_method"]`` say which).
    """
    kinds = tuple(kinds)
    bad = [k for k in (*kinds, *reversed_kinds) if k not in NETWORK_KINDS]
    if bad or not kinds:
        raise AnalysisError(f"unknown edge kind {bad}; known kinds: {', '.join(NETWORK_KINDS)}")
    if int(n_permutations) < 1:
        raise AnalysisError("n_permutations must be at least 1, e.g. 2000")
    if int(betweenness_sources) < 2:
        raise AnalysisError("betweenness_sources must be at least 2, e.g. 1000")
    t0, t1 = to_time(window_start, "window_start"), to_time(window_end, "window_end")
    _, last_post = post_time_range(ws)
    _, last_tie = _edge_time_range(ws, kinds)
    end = t1
    t = to_time(as_of, "as_of") or t1 or last_post or last_tie
    if t is None:
        raise AnalysisError("the workspace has no posts and no ties; there is no network to "
                            "measure reach in (ingest edges or posts, docs/data_format.md)")
    roster = roster_at(ws, t).reset_index(drop=True)
    if roster.empty:
        raise AnalysisError(f"nobody holds a role at {t.isoformat()}; choose another --as-of")
    roster["leader"] = select_leaders(roster, leaders).to_numpy()
    if not roster.leader.any():
        raise AnalysisError(f"no member is a leader under leaders={leaders!r} at "
                            f"{t.isoformat()}; choose another rule or --as-of")
    ties = _person_ties(ws, kinds, t0, end, tuple(reversed_kinds))
    index = {p: i for i, p in enumerate(roster.person_id)}
    ties = ties[ties.src.isin(index) & ties.dst.isin(index)].reset_index(drop=True)
    if ties.empty:
        raise AnalysisError(
            f"no {'/'.join(kinds)} ties between members in the window; ingest follows or posts "
            "with replies and mentions (docs/data_format.md, 'Interaction edges'), or choose "
            "other --kinds / window")
    n_all = len(roster)
    pair = ties.groupby(["src", "dst"], as_index=False).weight.sum()
    s_idx = pair.src.map(index).to_numpy()
    d_idx = pair.dst.map(index).to_numpy()
    w = pair.weight.to_numpy(dtype=float) if weighted else np.ones(len(pair))
    lead_idx = np.flatnonzero(roster.leader.to_numpy())

    # coverage per leader, of all the other members (an email's denominator)
    cov = coverage(n_all, s_idx, d_idx, lead_idx)
    cov["person_id"] = roster.person_id.to_numpy()[cov.node]
    cov["share_1hop"] = cov.reach_1hop / max(1, n_all - 1)
    cov["share_2hop"] = cov.reach_2hop / max(1, n_all - 1)
    by_kind = (ties[ties.dst.isin(set(roster.person_id[roster.leader]))]
               .groupby(["dst", "kind"]).src.nunique().rename("members").reset_index()
               .rename(columns={"dst": "person_id"}))
    by_kind["share"] = by_kind.members / max(1, n_all - 1)

    # centrality of the people in the network (a tie in or out in the window)
    in_net = np.zeros(n_all, dtype=bool)
    in_net[s_idx] = True
    in_net[d_idx] = True
    net_nodes = np.flatnonzero(in_net)
    local = -np.ones(n_all, dtype=int)
    local[net_nodes] = np.arange(len(net_nodes))
    cen = centrality(len(net_nodes), local[s_idx], local[d_idx], w,
                     betweenness_sources=int(betweenness_sources), seed=seed)
    bet_method = betweenness_method(len(net_nodes), int(betweenness_sources))
    cen.insert(0, "person_id", roster.person_id.to_numpy()[net_nodes])
    cen["_local"] = np.arange(len(net_nodes))
    cen = cen.merge(roster[["person_id", "name", "title", "level", "leader"]], on="person_id")
    n_net = len(cen)
    for m in METRICS:
        cen[f"rank_{m}"] = cen[m].rank(ascending=False, method="min").astype(int)
    cen = cen.sort_values(["rank_pagerank", "person_id"]).reset_index(drop=True)

    # leaders vs others
    is_lead = cen.leader.to_numpy(dtype=bool)
    n_lead_net = int(is_lead.sum())
    tests: list[dict] = []
    perm = None
    if 0 < n_lead_net < n_net:
        perm = permutation_test(cen[list(METRICS)].to_numpy(), is_lead,
                                n_permutations=int(n_permutations), seed=seed)
        adj = holm({m: float(p) for m, p in zip(METRICS, perm["p_value"], strict=True)})
        for j, m in enumerate(METRICS):
            tests.append({
                "metric": m, "leaders_mean": float(perm["observed"][j]),
                "others_mean": float(cen.loc[~is_lead, m].mean()),
                "leaders_median_rank": float(cen.loc[is_lead, f"rank_{m}"].median()),
                "others_median_rank": float(cen.loc[~is_lead, f"rank_{m}"].median()),
                "p_value": float(perm["p_value"][j]), "p_value_holm": adj[m],
            })
    tests_tbl = pd.DataFrame(tests, columns=["metric", "leaders_mean", "others_mean",
                                             "leaders_median_rank", "others_median_rank",
                                             "p_value", "p_value_holm"])

    # reciprocity: does the leader return members' ties?
    tie_set = set(zip(s_idx.tolist(), d_idx.tolist(), strict=True))
    recip_all = (sum((d, s) in tie_set for s, d in tie_set) / len(tie_set)) if tie_set else None
    lead_set = set(lead_idx.tolist())
    to_lead = [(s, d) for s, d in tie_set if d in lead_set and s not in lead_set]
    recip_lead = (sum((d, s) in tie_set for s, d in to_lead) / len(to_lead)) if to_lead else None
    back = pd.Series([d for s, d in to_lead if (d, s) in tie_set], dtype=int).value_counts()
    cov["returned"] = cov.node.map(back).fillna(0).astype(int)

    # concentration of attention
    strength = cen.in_strength.to_numpy()
    total_strength = float(strength.sum())
    lead_attention = (float(strength[is_lead].sum()) / total_strength) if total_strength else None

    # per-leader table
    ext = _external_followers(ws, t)
    per = cov.merge(roster[["person_id", "name", "title"]], on="person_id")
    per = per.merge(cen[["person_id", "in_strength", "pagerank", "rank_pagerank",
                         "rank_in_degree", "rank_betweenness", "rank_eigenvector"]],
                    on="person_id", how="left")
    per = per.merge(ext, on="person_id", how="left")
    per["share_returned"] = np.where(per.reach_1hop > 0, per.returned / per.reach_1hop.clip(1),
                                     np.nan)
    for c in ("rank_pagerank", "rank_in_degree", "rank_betweenness", "rank_eigenvector"):
        per[c] = per[c].astype("Int64")
    per = per.drop(columns=["node"]).sort_values(["reach_1hop", "person_id"],
                                                 ascending=[False, True]).reset_index(drop=True)
    per = per[["person_id", "name", "title", "reach_1hop", "share_1hop", "reach_2hop",
               "share_2hop", "returned", "share_returned", "followers", "followers_observed_at",
               "in_strength", "pagerank", "rank_pagerank", "rank_in_degree",
               "rank_betweenness", "rank_eigenvector"]]
    by_kind = by_kind.merge(roster[["person_id", "name"]], on="person_id")

    verb = _verb(kinds)
    top = per.iloc[0]
    pr_test = next((x for x in tests if x["metric"] == "pagerank"), None)
    summary = {
        "n_members": n_all, "n_in_network": n_net, "n_leaders": int(roster.leader.sum()),
        "n_leaders_in_network": n_lead_net, "n_ties": len(pair),
        "email_reach_share": 1.0,
        "median_leader_share_1hop": float(per.share_1hop.median()),
        "median_leader_share_2hop": float(per.share_2hop.median()),
        "top_leader": {"person_id": top["person_id"], "name": top["name"], "title": top["title"],
                       "share_1hop": float(top.share_1hop), "share_2hop": float(top.share_2hop)},
        "leaders": [{"person_id": r.person_id, "name": r.name, "title": r.title, "share_1hop": float(r.share_1hop),
                     "share_2hop": float(r.share_2hop),
                     "pagerank_rank": None if pd.isna(r.rank_pagerank) else int(r.rank_pagerank)}
                    for r in per.itertuples()],
        "permutation": ({"exact": bool(perm["exact"]), "n_assignments": int(perm["n_assignments"]),
                         **{f"p_value_{x['metric']}": x["p_value"] for x in tests}}
                        if perm is not None else None),
        "leaders_median_pagerank_rank": pr_test["leaders_median_rank"] if pr_test else None,
        "reciprocity": recip_all, "leader_tie_reciprocity": recip_lead,
        "gini_in_strength": gini(strength) if n_net else None,
        "top10_share_in_strength": top_share(strength, 0.1) if n_net else None,
        "leaders_share_of_attention": lead_attention,
        "leaders_share_of_people": n_lead_net / n_net if n_net else None,
        "betweenness_method": bet_method,
    }
    name = top["name"] or top["person_id"]
    head = (f"{_pct(top.share_1hop)} of members {verb} {name}"
            + (f" ({top.title})" if isinstance(top.title, str) and top.title else "")
            + (f", the most reached of the {len(per)} leaders (median leader "
               f"{_pct(per.share_1hop.median())})" if len(per) > 1 else "")
            + f"; a company-wide email reaches 100 %, their posts {_pct(top.share_1hop)} directly "
              f"and {_pct(top.share_2hop)} within two steps.")
    if pr_test:
        p = pr_test["p_value"]
        verdict = ("more central than a random choice of as many people would be"
                   if p < 0.05 else "not more central than a random choice of as many people")
        head += (f" By PageRank, leaders are {verdict} (their median rank "
                 f"{pr_test['leaders_median_rank']:g} of {n_net}; p = {p:.2g}).")
    opted = set(roster.person_id[roster.opt_in.fillna(False).astype(bool)])
    lines = [
        f"{r.name or r.person_id}" + (f" ({r.title})" if isinstance(r.title, str) else "")
        + f": {_pct(r.share_1hop)} of members {verb} them, {_pct(r.share_2hop)} within two "
        "steps; "
        + ("not in the network in the window" if pd.isna(r.rank_pagerank) else
           f"PageRank rank {int(r.rank_pagerank)} of {n_net}")
        + ("" if pd.isna(r.followers) else
           f"; {int(r.followers):,} followers on {pd.Timestamp(r.followers_observed_at):%Y-%m-%d}")
        for r in per.itertuples() if r.person_id in opted
    ]
    if len(lines) < len(per):
        lines.append(f"{len(per) - len(lines)} leader(s) who have not opted in to being named "
                     "are in the tables only.")
    figures = {"coverage": _coverage_chart(per, verb)}
    figures["network"] = _network_chart(cen, local, s_idx, d_idx, w, seed)
    cen = cen.drop(columns=["_local"])
    return Result(
        name="reach",
        title="Reach: how much of the organization follows or interacts with each leader",
        params={"as_of": t, "window_start": t0, "window_end": t1, "leaders": leaders,
                "kinds": list(kinds), "weighted": bool(weighted),
                "reversed_kinds": list(reversed_kinds), "n_permutations": int(n_permutations),
                "seed": seed, "betweenness_sources": int(betweenness_sources)},
        summary=summary,
        tables={"leaders": per, "coverage_by_kind": by_kind, "centrality": cen,
                "leaders_vs_others": tests_tbl},
        figures=figures,
        headline=head,
        notes=lines + [
            "Coverage: the share of the other members (everyone holding a role at the time, "
            "with an account or not: whom an email would reach) with a tie to the leader in the "
            "window (1 hop), or a tie to someone who has one (2 hops). External followers: the "
            "largest follower count of the leader's personal accounts in the latest snapshot at "
            "or before that time and less than a year older (else none is shown).",
            "Centrality is computed over the people with at least one tie in the window; the "
            "permutation test assigns the leader label at random among them "
            "(one-sided: leaders higher; Holm-adjusted over the five measures in the table). "
            f"Betweenness: {bet_method}"
            + ("." if bet_method == "exact" else
               " (Brandes & Pich 2007: an unbiased estimate; exact betweenness costs time in "
               "proportion to people × ties)."),
            "Ties are derived from public posts only in published output; follows are states, "
            "counted whatever their observation time.",
        ],
    )


def _coverage_chart(per: pd.DataFrame, verb: str) -> alt.Chart:
    rows = []
    for i, r in enumerate(per.itertuples()):
        who = f"{r.name or r.person_id}"
        rows.append({"person_id": r.person_id, "name": who, "reach": "directly (1 hop)",
                     "share": r.share_1hop, "order": i})
        rows.append({"person_id": r.person_id, "name": who, "reach": "within two steps",
                     "share": r.share_2hop, "order": i})
    data = pd.DataFrame(rows)
    n_leaders = len(per)
    bars = alt.Chart().mark_bar().encode(
        # sorted by a field, not a list of names (the report redacts data, not the spec)
        y=alt.Y("name:N", sort=alt.EncodingSortField("order", op="min"), title=None),
        x=alt.X("share:Q", title="share of members", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        yOffset=alt.YOffset("reach:N"),
        color=alt.Color("reach:N", title=None,
                        scale=alt.Scale(range=["#c0392b", "#f1948a"])),
        tooltip=["name", "reach", alt.Tooltip("share:Q", format=".0%")],
    )
    email = alt.Chart().mark_rule(strokeDash=[4, 3], color="#34495e").encode(x=alt.datum(1.0))
    return alt.layer(bars, email, data=data).properties(
        width=460, height=max(80, 26 * n_leaders),
        title=f"Members who {verb} each leader (an email reaches 100 %)")


def _layout(n: int, src, dst, seed: int) -> np.ndarray:
    """Fruchterman–Reingold coordinates of the undirected graph, reproducible from ``seed``."""
    import igraph as ig

    g = ig.Graph(n=n, edges=list(zip(list(src), list(dst), strict=True)), directed=False)
    g.simplify()
    ig.set_random_number_generator(random.Random(seed))
    try:
        coords = np.asarray(_quiet(g.layout_fruchterman_reingold, niter=500).coords, dtype=float)
    finally:
        ig.set_random_number_generator(random)
    return coords if len(coords) else np.zeros((0, 2))


def _network_chart(cen: pd.DataFrame, local: np.ndarray, s_idx, d_idx, w, seed: int) -> alt.Chart:
    """The network with leaders highlighted: nodes sized by PageRank, the ties to and from
    leaders drawn; thinned to the leaders and their strongest neighbours when large.

    ``cen`` has a ``_local`` column: each person's node number in the centrality graph."""
    ls, ld = local[s_idx], local[d_idx]
    by_node = cen.set_index("_local").sort_index()
    n = len(by_node)
    is_lead = by_node.leader.to_numpy(dtype=bool)
    lead_nodes = np.flatnonzero(is_lead)
    touch = is_lead[ls] | is_lead[ld]
    keep = np.zeros(n, dtype=bool)
    if n <= MAX_NETWORK_NODES:
        keep[:] = True
    else:
        keep[lead_nodes] = True
        nb = np.setdiff1d(np.unique(np.concatenate([ls[touch], ld[touch]])), lead_nodes)
        pr = by_node.pagerank.to_numpy()
        room = max(0, MAX_NETWORK_NODES - len(lead_nodes))
        keep[nb[np.argsort(-pr[nb], kind="stable")][:room]] = True
    kept = np.flatnonzero(keep)
    sub = -np.ones(n, dtype=int)
    sub[kept] = np.arange(len(kept))
    both = keep[ls] & keep[ld]
    xy = _layout(len(kept), sub[ls[both]], sub[ld[both]], seed)
    nodes = by_node.iloc[kept].copy()
    nodes["x"], nodes["y"] = xy[:, 0], xy[:, 1]
    nodes["who"] = np.where(nodes.leader, "leader", "other")
    nodes["label"] = np.where(nodes.leader, nodes.name.fillna(nodes.person_id), "")
    e_mask = touch & both
    edges = pd.DataFrame({"a": sub[ls[e_mask]], "b": sub[ld[e_mask]],
                          "w": np.asarray(w, dtype=float)[e_mask]})
    if len(edges) > MAX_NETWORK_EDGES:
        edges = edges.sort_values("w", ascending=False, kind="stable").head(MAX_NETWORK_EDGES)
    edges["x"], edges["y"] = xy[edges.a, 0], xy[edges.a, 1]
    edges["x2"], edges["y2"] = xy[edges.b, 0], xy[edges.b, 1]
    title = "The network, leaders highlighted (ties to and from leaders drawn)"
    if len(kept) < n:
        title += f" - {len(kept)} of {n} people: the leaders and their most central neighbours"
    axis = alt.Axis(labels=False, ticks=False, grid=False, domain=False, title=None)
    node_rows = nodes[["person_id", "x", "y", "who", "name", "title", "pagerank", "label"]].assign(
        part="node")
    data = pd.concat([node_rows, edges[["x", "y", "x2", "y2"]].assign(part="tie")],
                     ignore_index=True)
    rules = alt.Chart().transform_filter(alt.datum.part == "tie").mark_rule(
        color="#c0392b", opacity=0.12, strokeWidth=0.6).encode(
        x=alt.X("x:Q", axis=axis), y=alt.Y("y:Q", axis=axis), x2="x2:Q", y2="y2:Q")
    pts = alt.Chart().transform_filter(alt.datum.part == "node").mark_circle(
        stroke="white", strokeWidth=0.5).encode(
        x="x:Q", y="y:Q",
        size=alt.Size("pagerank:Q", legend=None, scale=alt.Scale(range=[12, 400])),
        color=alt.Color("who:N", title=None, scale=alt.Scale(domain=["leader", "other"],
                                                            range=["#c0392b", "#95a5a6"])),
        order=alt.Order("who:N", sort="descending"),
        tooltip=["name", "title", alt.Tooltip("pagerank:Q", format=".4f")])
    text = alt.Chart().transform_filter(
        (alt.datum.part == "node") & (alt.datum.label != "")).mark_text(
        dy=-9, fontSize=9, color="#2c3e50").encode(x="x:Q", y="y:Q", text="label:N")
    return alt.layer(rules, pts, text, data=data).properties(width=560, height=460, title=title)
