"""Exposure: who could see whom, and how many leaders and peers a person had seen adopt.

:func:`exposure_ties` maps the workspace's ``edges`` (and optionally reporting lines) from accounts to
people; the **direction** is the direction of attention: a person is exposed to the people they
follow, reply to, mention, repost or quote, and to their manager. :func:`exposure_counts` counts,
per person and behaviour, the contacts who had shown the behaviour before the person did (or before
the end of the window for people who never did), split into leaders and peers, with a lag and an
optional half-life decay. Everything is a lazy ibis expression (joins, aggregates, no ASOF joins,
no SQL strings), so it runs unchanged on DuckDB and Spark.

Examples
--------
>>> import socialens, tempfile, json
>>> from pathlib import Path
>>> d = Path(tempfile.mkdtemp())
>>> _ = (d / "people.csv").write_text("person_id,name\\nann,Ann\\nbob,Bob\\n")
>>> _ = (d / "accounts.csv").write_text("account_id,person_id,handle\\nx:1,ann,ann\\nx:2,bob,bob\\n")
>>> _ = (d / "edges.csv").write_text("src,dst,kind,observed_at\\nx:2,x:1,follows,2020-02-01\\n")
>>> ws = socialens.open(d / "org.duckdb")
>>> _ = ws.ingest(d)
>>> exposure_ties(ws, ["follows"]).execute().values.tolist()
[['bob', 'ann', NaT]]
>>> ws.close()
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from socialens.behaviours.events import person_accounts
from socialens.behaviours.spec import BehaviourError

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

    from socialens.workspace import Workspace

__all__ = ["EXPOSURE_KINDS", "DEFAULT_EXPOSURE_KINDS", "exposure_ties", "leader_ids",
           "exposure_counts", "exposure_events", "leader_table"]

#: Kinds of exposure: the edge kinds of the workspace plus ``manager`` (reporting lines from
#: ``people.attrs.manager_id``: a person is exposed to their manager) and ``leaders_above`` (a
#: person is exposed to every leader above them in the reporting chain: the network of the
#: influence tests' calibration for joining the platform, with ``manager``).
EXPOSURE_KINDS = ("follows", "reply", "mention", "repost", "quote", "interaction", "manager",
                  "leaders_above")
#: The default exposure network.
DEFAULT_EXPOSURE_KINDS = ("follows", "reply", "mention")
_TIMED = ("reply", "mention", "repost", "quote")


def _kinds(kinds: Iterable[str] | str | None) -> list[str]:
    if kinds is None:
        return list(DEFAULT_EXPOSURE_KINDS)
    if isinstance(kinds, str):
        kinds = kinds.split(",")
    out = [k.strip().lower() for k in kinds if k and k.strip()]
    bad = [k for k in out if k not in EXPOSURE_KINDS]
    if bad or not out:
        raise BehaviourError(
            f"unknown exposure kind {', '.join(map(repr, bad)) or '(none given)'}; "
            f"choose from {', '.join(EXPOSURE_KINDS)} (e.g. follows,reply,mention)")
    return list(dict.fromkeys(out))


def exposure_ties(ws: Workspace, kinds: Iterable[str] | str = DEFAULT_EXPOSURE_KINDS, *,
                  before=None, follows: str = "always",
                  leaders: Iterable[str] | None = None) -> ir.Table:
    """The exposure network between people: who could see whose behaviour, from when.

    Parameters
    ----------
    ws : Workspace
    kinds : iterable of str
        Any of :data:`EXPOSURE_KINDS` (default ``follows, reply, mention``). A tie of an account to
        another account becomes a tie between their owners (personal accounts only; ties between two
        accounts of one person are dropped).
    before : time, optional
        Keep only ties made before this time (replies, mentions, reposts, quotes by their post's
        time; loaded ``interaction`` aggregates by their window start). Follows and reporting lines
        are states and are always kept.
    follows : {"always", "observed"}
        ``"always"`` (default): a follow tie held from the start (``start_at`` NULL), as
        :func:`socialens.network.network_at` assumes; ``"observed"``: from its first observation
        (conservative: a tie seen first at a snapshot may be older).
    leaders : iterable of str, optional
        The leaders' person ids, for ``leaders_above`` (required with it).

    Returns
    -------
    ibis table
        ``person_id: string`` (the exposed person: the follower, the one who replies or mentions),
        ``source_person_id: string`` (whom they could see), ``start_at: timestamp`` (the first time
        the tie existed: the earliest reply/mention/... post; NULL = from the start, for follows and
        reporting lines). One row per ordered pair of people, over all the kinds asked.
    """
    import ibis

    from socialens.analyses.common import to_time

    kinds = _kinds(kinds)
    if follows not in ("always", "observed"):
        raise BehaviourError(f"follows={follows!r}; use 'always' or 'observed'")
    t1 = to_time(before, "before")
    edge_kinds = [k for k in kinds if k not in ("manager", "leaders_above")]
    parts = []
    ts_type = ws.table("edges").observed_at.type()
    if edge_kinds:
        e = ws.table("edges")
        e = e.filter(e.kind.isin(edge_kinds))
        start = ibis.cases(
            (e.kind.isin(_TIMED), e.observed_at.coalesce(e.window_start)),
            (e.kind == "interaction", e.window_start),
            else_=(e.observed_at if follows == "observed" else ibis.null().cast(ts_type)),
        )
        e = e.mutate(_start=start)
        if t1 is not None:
            e = e.filter(e._start.isnull() | (e._start < t1) | (e.kind == "follows"))
        acc = person_accounts(ws)
        src = acc.select(s_acc="account_id", s_person="person_id")
        dst = acc.select(d_acc="account_id", d_person="person_id")
        j = e.join(src, e.src == src.s_acc).join(dst, e.dst == dst.d_acc)
        parts.append(j.select(person_id=j.s_person, source_person_id=j.d_person,
                              start_at=j._start.cast(ts_type)))
    if "manager" in kinds:
        people = ws.table("people")
        mgr = people.mutate(_mgr=people.attrs["manager_id"].str)
        mgr = mgr.filter(mgr._mgr.notnull())
        known = people.select(m_id="person_id")
        mgr = mgr.join(known, mgr._mgr == known.m_id)
        parts.append(mgr.select(person_id=mgr.person_id, source_person_id=mgr._mgr,
                                start_at=ibis.null().cast(ts_type)))
    if "leaders_above" in kinds:
        if leaders is None:
            raise BehaviourError("exposure kind leaders_above needs the leaders (leaders=...)")
        above = _leaders_above(ws, {str(x) for x in leaders})
        parts.append(ibis.memtable(above, schema={"person_id": "string",
                                                  "source_person_id": "string"})
                     .mutate(start_at=ibis.null().cast(ts_type)))
    ties = parts[0]
    for p in parts[1:]:
        ties = ties.union(p, distinct=False)
    ties = ties.filter(ties.person_id != ties.source_person_id)
    agg = ties.group_by(["person_id", "source_person_id"]).aggregate(
        _n=ties.count(), _timed=ties.start_at.count(), _min=ties.start_at.min())
    return agg.select(
        person_id=agg.person_id.cast("string"), source_person_id=agg.source_person_id.cast("string"),
        start_at=ibis.ifelse(agg._timed < agg._n, ibis.null().cast(ts_type), agg._min))


def managers_above(person: str, manager_of: dict[str, str]) -> Iterator[str]:
    """Everyone above ``person`` in the reporting chain, nearest first (``manager_of``: person →
    manager; the walk stops at the top or where the chain runs into a cycle)."""
    m, seen = manager_of.get(person), {person}
    while isinstance(m, str) and m not in seen:
        seen.add(m)
        yield m
        m = manager_of.get(m)


def _leaders_above(ws: Workspace, leaders: set[str]):
    """``person_id, source_person_id``: each person and every leader above them in the
    reporting chain (``people.attrs.manager_id`` followed up)."""
    import pandas as pd

    people = ws.table("people")
    df = people.select("person_id", manager_id=people.attrs["manager_id"].str).to_pandas()
    mgr = {str(p): m for p, m in zip(df.person_id, df.manager_id, strict=True)
           if isinstance(m, str)}
    rows = [(p, m) for p in sorted(mgr) for m in managers_above(p, mgr) if m in leaders]
    return pd.DataFrame(rows, columns=["person_id", "source_person_id"])


def leader_ids(ws: Workspace, leaders: str = "is_leader", as_of=None) -> set[str]:
    """The person ids of the leaders at ``as_of`` under a leader rule.

    Parameters
    ----------
    leaders : str
        ``is_leader``, ``level<=N`` or ``ids:a,b`` (see :class:`socialens.analyses.common.LeaderRule`).
    as_of : time, optional
        When roles are read (default: the last post, else now).
    """
    import pandas as pd

    from socialens.analyses.common import post_time_range, roster_at, select_leaders, to_time

    t = to_time(as_of, "as_of") or post_time_range(ws)[1] or pd.Timestamp.now("UTC").to_pydatetime()
    roster = roster_at(ws, t)
    if roster.empty:
        return set()
    return set(roster.person_id[select_leaders(roster, leaders).to_numpy()])


def leader_table(leaders: Iterable[str] | ir.Table, name: str = "leader_id") -> ir.Table:
    """Leaders as a one-column ibis table (a memtable from a set of ids)."""
    import ibis
    import pandas as pd

    if hasattr(leaders, "columns"):
        col = leaders.columns[0]
        return leaders.select(**{name: leaders[col].cast("string")})
    ids = sorted(set(leaders))
    return ibis.memtable(pd.DataFrame({name: pd.Series(ids, dtype="object")}),
                         schema={name: "string"})


def exposure_events(uses: ir.Table, ties: ir.Table, leaders: Iterable[str] | ir.Table, *,
                    end=None, lag_days: float = 0.0, decay_days: float | None = None,
                    population: ir.Table | None = None) -> ir.Table:
    """The exposures behind :func:`exposure_counts`, one row per person, behaviour and exposing
    contact: ``person_id, behaviour, source_person_id, exposed_at, adopted_at`` (the person's first
    use, NULL if none), ``source_is_leader``, ``weight`` (1, or the decay weight). Same
    parameters as :func:`exposure_counts`."""
    import ibis

    from socialens.analyses.common import to_time

    t_end = to_time(end, "end")
    lt = leader_table(leaders)
    ts_type = uses.at.type()
    src = uses.select(source_person_id=uses.person_id, behaviour=uses.behaviour, src_at=uses.at)
    own = uses.select(o_person=uses.person_id, o_behaviour=uses.behaviour, own_at=uses.at)
    e = ties.join(src, ties.source_person_id == src.source_person_id)
    e = e.select(person_id=e.person_id, source_person_id=e.source_person_id,
                 behaviour=e.behaviour, src_at=e.src_at, start_at=e.start_at)
    if population is not None:
        e = e.semi_join(population, e.person_id == population.person_id)
    shifted = (e.src_at + ibis.interval(seconds=int(round(lag_days * 86400)))
               if lag_days else e.src_at)
    e = e.mutate(exp_at=ibis.ifelse(e.start_at.notnull() & (e.start_at > shifted),
                                    e.start_at, shifted))
    e = e.left_join(own, (e.person_id == own.o_person) & (e.behaviour == own.o_behaviour))
    ref = e.own_at if t_end is None else e.own_at.coalesce(ibis.literal(t_end, ts_type))
    e = e.filter(ref.isnull() | (e.exp_at < ref))
    e = e.left_join(lt, e.source_person_id == lt.leader_id)
    is_l = e.leader_id.notnull()
    if decay_days:
        ref = e.own_at if t_end is None else e.own_at.coalesce(
            ibis.literal(t_end, ts_type))
        age = (ref.epoch_seconds() - e.exp_at.epoch_seconds()).cast("float64") / 86400.0
        w = ibis.ifelse(ref.isnull(), 1.0, ibis.literal(0.5) ** (age / float(decay_days)))
    else:
        w = ibis.literal(1.0)
    return e.select(person_id=e.person_id, behaviour=e.behaviour,
                    source_person_id=e.source_person_id, exposed_at=e.exp_at,
                    adopted_at=e.own_at, source_is_leader=is_l, weight=w.cast("float64"))


def exposure_counts(uses: ir.Table, ties: ir.Table, leaders: Iterable[str] | ir.Table, *,
                    end=None, lag_days: float = 0.0, decay_days: float | None = None,
                    population: ir.Table | None = None) -> ir.Table:
    """Per person and behaviour: how many leaders and peers they had seen show it first.

    A contact ``j`` of person ``i`` (a row ``i -> j`` of ``ties``) **exposes** ``i`` to behaviour
    ``b`` at ``e = max(t_j + lag, start_at)``, where ``t_j`` is ``j``'s first use; the exposure
    counts when ``e < t_i`` (``i``'s first use) or, when ``i`` never showed ``b``, ``e < end``.

    Parameters
    ----------
    uses : ibis table
        :func:`~socialens.behaviours.first_use` rows (``person_id, behaviour, at``).
    ties : ibis table
        :func:`exposure_ties` rows.
    leaders : set of str or ibis table
        Leader person ids (:func:`leader_ids`); everyone else is a peer.
    end : time, optional
        End of observation for people who never showed a behaviour (default: no end).
    lag_days : float
        An exposure counts only ``lag_days`` after the contact's first use.
    decay_days : float, optional
        Half-life: ``w_leaders``/``w_peers`` weigh each exposure by ``0.5 ** (age / decay_days)``,
        its age at the person's first use (or at ``end``). Without it they equal the counts.
    population : ibis table, optional
        ``person_id`` column: keep only these exposed people (e.g. the members).

    Returns
    -------
    ibis table
        ``person_id, behaviour, adopted_at`` (NULL: not adopted), ``n_leaders, n_peers`` (distinct
        contacts), ``w_leaders, w_peers`` (decayed), ``first_leader_at, first_peer_at`` (earliest
        exposure of each kind). One row per person and behaviour with an adoption or an exposure;
        everyone else has zero exposure and did not adopt.
    """
    import ibis

    ts_type = uses.at.type()
    e = exposure_events(uses, ties, leaders, end=end, lag_days=lag_days, decay_days=decay_days,
                        population=population)
    e = e.mutate(_l=e.source_is_leader, _w=e.weight, own_at=e.adopted_at, exp_at=e.exposed_at)
    null_ts = ibis.null().cast(ts_type)
    agg = e.group_by(["person_id", "behaviour"]).aggregate(
        adopted_at=e.own_at.max(),
        n_leaders=e._l.cast("int64").sum(),
        n_peers=(~e._l).cast("int64").sum(),
        w_leaders=ibis.ifelse(e._l, e._w, 0.0).sum(),
        w_peers=ibis.ifelse(e._l, 0.0, e._w).sum(),
        first_leader_at=ibis.ifelse(e._l, e.exp_at, null_ts).min(),
        first_peer_at=ibis.ifelse(e._l, null_ts, e.exp_at).min(),
    )
    adopters = uses
    if population is not None:
        adopters = adopters.semi_join(population, adopters.person_id == population.person_id)
    unexposed = adopters.anti_join(
        agg, (adopters.person_id == agg.person_id) & (adopters.behaviour == agg.behaviour))
    zero = unexposed.select(
        person_id=unexposed.person_id, behaviour=unexposed.behaviour, adopted_at=unexposed.at,
        n_leaders=ibis.literal(0, "int64"), n_peers=ibis.literal(0, "int64"),
        w_leaders=ibis.literal(0.0, "float64"), w_peers=ibis.literal(0.0, "float64"),
        first_leader_at=null_ts, first_peer_at=null_ts)
    return agg.union(zero, distinct=False)

