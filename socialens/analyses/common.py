"""Shared building blocks: the roster at a time, leader selection, snapshot choice, adoption dates.

Set-based work is written as ibis expressions over the workspace tables, so that it runs unchanged
on DuckDB (the embedded default) and on other ibis backends (e.g. Spark) later; only the small
aggregated results are materialized as pandas DataFrames for the statistics.

Who is a leader is always asked *at a time* (``as_of``), and every default that depends on the data
(the snapshot, the window) is resolved here and recorded in the Result's params.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis import _

from socialens.errors import AnalysisError, RecordError
from socialens.ingest.values import parse_time
from socialens.workspace import Workspace

__all__ = [
    "shared_reads",
    "roster_groups",
    "to_time",
    "roster_at",
    "select_leaders",
    "LeaderRule",
    "latest_snapshot_time",
    "snapshot_after_data",
    "snapshots_at",
    "adoption_dates",
    "person_dates",
    "post_time_range",
    "personal_accounts",
    "post_stats",
    "record_posts",
]


#: the reads kept by :func:`shared_reads` (None outside it)
_SHARED: ContextVar[dict | None] = ContextVar("socialens_shared_reads", default=None)


@contextmanager
def shared_reads() -> Iterator[None]:
    """Within this block, the small reads every analysis starts with (the roster at a time, the
    snapshot times, the adoption dates, the post time range) are computed once per workspace and
    arguments and shared: :func:`~socialens.analyses.run_all` runs the analyses inside one, since
    they only read. On Spark each of those reads is a job (about a second each on ``local[2]``),
    and 11 analyses asked for the same roster 19 times. Callers get their own copy of a
    DataFrame. Nested blocks share the outer one's reads.
    """
    token = _SHARED.set({}) if _SHARED.get() is None else None
    try:
        yield
    finally:
        if token is not None:
            _SHARED.reset(token)


def _shared(fn):
    """Keep ``fn(ws, *args, **kwargs)``'s result for the rest of the :func:`shared_reads` block."""
    @functools.wraps(fn)
    def wrapper(ws, *args, **kwargs):
        memo = _SHARED.get()
        if memo is None:
            return fn(ws, *args, **kwargs)
        key = (fn.__name__, id(ws), args, tuple(sorted(kwargs.items())))
        try:
            hash(key)
        except TypeError:  # an argument that cannot be a key: not shared
            return fn(ws, *args, **kwargs)
        if key not in memo:
            memo[key] = (ws, fn(ws, *args, **kwargs))  # ws kept alive: its id stays its own
        value = memo[key][1]
        return value.copy(deep=True) if isinstance(value, pd.DataFrame) else copy.copy(value)
    return wrapper


def to_time(value, name: str) -> datetime | None:
    """Parse a user-supplied time parameter (ISO 8601; naive means UTC) or raise AnalysisError."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    try:
        return parse_time(value, name, "UTC")
    except RecordError as exc:
        raise AnalysisError(f"--{name.replace('_', '-')}: {exc.reason}") from None


class _PersonIds(frozenset):
    """The ids in ``roster.attrs["person_ids"]``: a frozenset that is not copied. pandas deep-copies
    a frame's ``attrs`` into every frame derived from it (each column selection, merge, filter);
    a plain frozenset of 20,000 ids made that copy a third of ``directory``'s time at 10^6 posts
    (BENCHMARKS.md). It is immutable, so sharing it is safe."""

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


@_shared
def roster_at(ws: Workspace, as_of: datetime) -> pd.DataFrame:
    """People of the organization at ``as_of`` with their top role.

    A person belongs to the organization at ``as_of`` when they hold a role then; a workspace
    without any roles treats everyone in ``people`` as a member (with no level).

    Returns columns ``person_id, name, department, opt_in, level, title, is_leader``; ``level`` is
    the lowest (most senior) level held, ``title`` the title of that role, ``is_leader`` true when
    any role held has the leader flag. ``attrs["person_ids"]`` holds the id of everyone in
    ``people`` (members at ``as_of`` or not).
    """
    people = ws.table("people").select("person_id", "name", "department", "opt_in")
    roles = ws.table("roles")
    known = _PersonIds(people.person_id.to_pandas())
    if roles.count().execute() == 0:
        df = people.order_by("person_id").to_pandas()
        df["level"] = pd.NA
        df["title"] = None
        df["is_leader"] = False
        df.attrs["person_ids"] = known
        return df
    held = roles.filter(roles.start_at <= as_of, roles.end_at.isnull() | (roles.end_at > as_of))
    by_person = ibis.window(group_by=held.person_id)
    order = ibis.window(group_by=held.person_id,
                        order_by=[held.level, ibis.desc(held.is_leader), held.title])
    top = (held.mutate(any_leader=held.is_leader.any().over(by_person),
                       rn=ibis.row_number().over(order))
               .filter(_.rn == 0)
               .select("person_id", "level", "title", is_leader=_.any_leader))
    expr = people.join(top, "person_id").order_by("person_id")
    df = expr.to_pandas()[["person_id", "name", "department", "opt_in", "level", "title",
                           "is_leader"]]
    df.attrs["person_ids"] = known  # everyone in `people`, for LeaderRule's unknown-id check
    return df


@dataclass(frozen=True)
class LeaderRule:
    """A parsed leader selection: ``is_leader``, ``level<=N`` / ``level==N`` / ``level<N``, or
    ``ids:a,b,c``."""

    text: str

    _LEVEL = re.compile(r"^level\s*(<=|==|=|<)\s*(\d+)$")

    def __post_init__(self):
        t = self.text.strip()
        if t != "is_leader" and not self._LEVEL.match(t) and not t.startswith("ids:"):
            raise AnalysisError(
                f"leaders={self.text!r} is not understood; use 'is_leader', 'level<=1' or "
                "'ids:person1,person2'"
            )

    def mask(self, roster: pd.DataFrame) -> pd.Series:
        t = self.text.strip()
        if t == "is_leader":
            return roster["is_leader"].fillna(False).astype(bool)
        if t.startswith("ids:"):
            ids = {s.strip() for s in t[4:].split(",") if s.strip()}
            known = roster.attrs.get("person_ids") or frozenset(roster["person_id"])
            unknown = sorted(ids - set(known))
            if unknown or not ids:
                some = ", ".join(sorted(known)[:8]) + (", ..." if len(known) > 8 else "")
                raise AnalysisError(
                    f"leaders={self.text!r}: "
                    + (f"no person {', '.join(map(repr, unknown))} in the workspace"
                       if unknown else "no ids given")
                    + f"; person ids are e.g. {some or '(none: load a roster first)'}"
                )
            return roster["person_id"].isin(ids)
        op, n = self._LEVEL.match(t).groups()
        lvl = pd.to_numeric(roster["level"], errors="coerce")
        n = int(n)
        res = {"<=": lvl <= n, "<": lvl < n, "==": lvl == n, "=": lvl == n}[op]
        return res.fillna(False).astype(bool)


def select_leaders(roster: pd.DataFrame, rule: str) -> pd.Series:
    """Boolean mask over ``roster`` rows for the leader rule (see :class:`LeaderRule`)."""
    return LeaderRule(rule).mask(roster)


def roster_groups(ws: Workspace, at: datetime, leaders: str
                  ) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """The roster at ``at`` with a ``leader`` column, and two groupings of its people (Series
    indexed by ``person_id``): by role ("leaders" / "members") and by level ("level 0", ...,
    "no level")."""
    import numpy as np

    roster = roster_at(ws, at)
    if roster.empty:
        raise AnalysisError(f"nobody holds a role at {at.isoformat()}; choose another --as-of")
    roster["leader"] = select_leaders(roster, leaders).to_numpy()
    roster = roster.assign(person_id=roster.person_id.astype(str))
    lvl = pd.to_numeric(roster.level, errors="coerce")
    by_level = pd.Series(np.where(lvl.notna(), "level " + lvl.fillna(-1).astype(int).astype(str),
                                  "no level"), index=roster.person_id)
    by_role = pd.Series(np.where(roster.leader, "leaders", "members"), index=roster.person_id)
    return roster, by_role, by_level


@_shared
def latest_snapshot_time(ws: Workspace, before: datetime | None = None) -> datetime | None:
    """Time of the latest account snapshot (at or before ``before`` when given)."""
    s = ws.table("account_snapshots")
    if before is not None:
        s = s.filter(s.observed_at <= before)
    return _time(s.observed_at.max().execute())


def snapshot_after_data(ws: Workspace, snapshot) -> str | None:
    """A warning when ``snapshot`` is later than the latest account snapshot (which is then what
    the analyses use), else None."""
    asked = to_time(snapshot, "snapshot")
    latest = latest_snapshot_time(ws)
    if asked is None or latest is None or asked <= latest:
        return None
    return (f"--snapshot {asked.isoformat()} is after the data: the latest snapshot is at "
            f"{latest.isoformat()}, and that is the one used")


@_shared
def snapshots_at(ws: Workspace, snapshot: datetime, tolerance_days: float = 120) -> pd.DataFrame:
    """For each account, its latest snapshot at or before ``snapshot`` and not older than
    ``tolerance_days`` (so a 2015 count is not passed off as a 2017 one)."""
    s = ws.table("account_snapshots")
    s = s.filter(s.observed_at <= snapshot,
                 s.observed_at >= snapshot - timedelta(days=float(tolerance_days)))
    latest = ibis.window(group_by=s.account_id, order_by=ibis.desc(s.observed_at))
    expr = (s.mutate(rn=ibis.row_number().over(latest)).filter(_.rn == 0)
              .select("account_id", "observed_at", "followers", "following", "posts_count",
                      "listed_count"))
    return expr.to_pandas()


_ATTR_FILTER = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def personal_accounts(ws: Workspace, platform: str | None = None,
                      account_filter: str | None = None) -> ir.Table:
    """The personal accounts of members (``kind = 'personal'``, ``person_id`` set), optionally on
    one platform and matching ``account_filter`` = ``key=value`` on the account's ``attrs`` (e.g.
    ``official_listing=true``, the demo's choice: each member's officially listed account)."""
    a = ws.table("accounts")
    a = a.filter(a.person_id.notnull(), a.kind == "personal")
    if platform:
        known = sorted(ws.table("accounts").platform.to_pandas().dropna().unique())
        if platform not in known:
            raise AnalysisError(
                f"platform={platform!r}: no accounts on it in this workspace; platforms here: "
                f"{', '.join(known) or '(none: no accounts loaded)'}"
            )
        a = a.filter(a.platform == platform)
    if account_filter:
        m = _ATTR_FILTER.match(account_filter.strip())
        if not m:
            raise AnalysisError(
                f"account_filter={account_filter!r} is not understood; write key=value, e.g. "
                "official_listing=true"
            )
        key, value = m.group(1), m.group(2).strip()
        _check_account_filter(ws, account_filter, key, value)
        v = a.attrs[key]  # a JSON string, or a JSON scalar (true, 3) compared by its text
        a = a.filter((v.str == value) | (v.cast("string") == value))
    return a


def _check_account_filter(ws: Workspace, text: str, key: str, value: str) -> None:
    """Raise AnalysisError naming the known keys (or values) when no account matches."""
    # the accounts table is small (one row per account): its attrs are read and parsed here
    raw = ws.table("accounts")["attrs"].to_pandas().dropna()  # ibis gives JSON parsed
    objects = [o for o in (json.loads(a) if isinstance(a, str) else a for a in raw)
               if isinstance(o, dict)]
    values = sorted({v if isinstance(v, str) else json.dumps(v) for o in objects
                     if (v := o.get(key)) is not None})[:21]
    if value in values:
        return
    if values:
        shown = ", ".join(values[:20]) + (", ..." if len(values) > 20 else "")
        raise AnalysisError(f"account_filter={text!r}: no account has {key}={value}; values of "
                            f"{key} in this workspace: {shown}")
    keys = sorted({k for o in objects for k in o})
    raise AnalysisError(f"account_filter={text!r}: no account has the attribute {key!r}; account "
                        f"attributes in this workspace: {', '.join(keys) or '(none)'}")


def record_posts(ws: Workspace) -> ir.Table:
    """The ``posts`` that were collected as records (primary posts): a profile's embedded "latest
    status", a quoted or reposted original or twarc ``includes`` are left out. Coverage ("who has
    posts"), default windows and posting rates count these only."""
    p = ws.table("posts")
    return p.filter(p.collected_as.isnull() | (p.collected_as == "record"))


#: seconds from the Unix epoch (a Thursday) back to the Monday that starts its ISO week, and a week
_MONDAY_BEFORE_EPOCH, _WEEK_SECONDS = 3 * 86400, 7 * 86400


def week_index(t: ir.TimestampValue) -> ir.IntegerValue:
    """The ISO week (Monday 00:00 UTC to Monday) a UTC time falls in, as a number: the same
    partition of time as ``t.truncate("W")``, for counting distinct weeks. ``truncate("W")`` is
    DuckDB's ``date_trunc('week', ...)`` on a time-zone-aware column, which goes through the
    calendar for each row: counting an account's distinct weeks over 10^7 posts took 10 s with
    it and 4 s with this arithmetic (BENCHMARKS.md, issue 14 item 4)."""
    return ((t.epoch_seconds() + _MONDAY_BEFORE_EPOCH) / _WEEK_SECONDS).floor()


def post_stats(ws: Workspace, start: datetime | None = None, end: datetime | None = None,
               *, records_only: bool = False) -> ir.Table:
    """Per account: number of posts, first and last post time, weeks with a post (in the window
    when given); ``records_only`` counts primary posts only (:func:`record_posts`)."""
    p = record_posts(ws) if records_only else ws.table("posts")
    if start is not None:
        p = p.filter(p.created_at >= start)
    if end is not None:
        p = p.filter(p.created_at <= end)
    return p.group_by("account_id").aggregate(
        n_posts=p.count(), first_post=p.created_at.min(), last_post_at=p.created_at.max(),
        weeks_with_posts=week_index(p.created_at).nunique(),
    )


def person_dates(ws: Workspace, platform: str | None = None,
                 account_filter: str | None = None) -> ir.Table:
    """Per person with a personal account: ``account_created`` (the earliest creation time of
    their personal accounts, null when none is known) with ``account_created_id``, and
    ``first_post`` (their first collected post) with ``first_post_id``. The one place adoption
    dates come from (:func:`adoption_dates`, ``analyses.adoption``)."""
    acc = personal_accounts(ws, platform, account_filter)
    fp = post_stats(ws)
    acc = acc.left_join(fp, "account_id").select(acc.person_id, acc.account_id, acc.created_at,
                                                 fp.first_post)
    return acc.group_by("person_id").aggregate(
        account_created=acc.created_at.min(),
        account_created_id=acc.account_id.argmin(acc.created_at),
        first_post=acc.first_post.min(),
        first_post_id=acc.account_id.argmin(acc.first_post),
    )


@_shared
def adoption_dates(ws: Workspace, platform: str | None = None,
                   account_filter: str | None = None) -> pd.DataFrame:
    """Per person: the adoption date = earliest creation of their personal accounts, else their
    first post. Columns ``person_id, adopted_at, adoption_source, first_account_id``."""
    per = person_dates(ws, platform, account_filter)
    out = per.mutate(
        adopted_at=ibis.coalesce(per.account_created, per.first_post),
        adoption_source=ibis.cases((per.account_created.notnull(), "account_created"),
                                   (per.first_post.notnull(), "first_post")),
        first_account_id=ibis.ifelse(per.account_created.notnull(), per.account_created_id,
                                     per.first_post_id),
    )
    out = out.filter(out.adopted_at.notnull()).order_by("person_id")
    return out.select("person_id", "adopted_at", "adoption_source", "first_account_id").to_pandas()


@_shared
def post_time_range(ws: Workspace, *, records_only: bool = False
                    ) -> tuple[datetime | None, datetime | None]:
    """First and last post time (of primary posts only with ``records_only``)."""
    p = record_posts(ws) if records_only else ws.table("posts")
    row = p.aggregate(first=p.created_at.min(), last=p.created_at.max()).execute().iloc[0]
    return _time(row["first"]), _time(row["last"])


def _time(value) -> datetime | None:
    """A timestamp read from a table as an aware ``datetime`` (None when missing)."""
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).to_pydatetime()
