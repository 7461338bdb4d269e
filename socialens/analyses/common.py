"""Shared building blocks: the roster at a time, leader selection, snapshot choice, adoption dates.

Who is a leader is always asked *at a time* (``as_of``), and every default that depends on the data
(the snapshot, the window) is resolved here and recorded in the Result's params.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from socialens.errors import AnalysisError
from socialens.ingest.values import parse_time
from socialens.errors import RecordError
from socialens.workspace import Workspace

__all__ = [
    "to_time",
    "roster_at",
    "select_leaders",
    "LeaderRule",
    "latest_snapshot_time",
    "snapshots_at",
    "adoption_dates",
    "post_time_range",
    "account_condition",
]


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


def roster_at(ws: Workspace, as_of: datetime) -> pd.DataFrame:
    """People of the organization at ``as_of`` with their top role.

    A person belongs to the organization at ``as_of`` when they hold a role then; a workspace
    without any roles treats everyone in ``people`` as a member (with no level).

    Returns columns ``person_id, name, department, opt_in, level, title, is_leader``; ``level`` is
    the lowest (most senior) level held, ``title`` the title of that role, ``is_leader`` true when
    any role held has the leader flag.
    """
    n_roles = ws.con.execute("SELECT count(*) FROM roles").fetchone()[0]
    if n_roles == 0:
        df = ws.sql("SELECT person_id, name, department, opt_in FROM people ORDER BY person_id")
        df["level"] = pd.NA
        df["title"] = None
        df["is_leader"] = False
        return df
    return ws.sql(
        """
        WITH held AS (
          SELECT * FROM roles WHERE start_at <= $t AND (end_at IS NULL OR $t < end_at)
        ), ranked AS (
          SELECT person_id, level, title,
                 bool_or(is_leader) OVER (PARTITION BY person_id) AS is_leader,
                 row_number() OVER (PARTITION BY person_id ORDER BY level, is_leader DESC, title) AS rn
          FROM held
        )
        SELECT p.person_id, p.name, p.department, p.opt_in, r.level, r.title, r.is_leader
        FROM ranked r JOIN people p USING (person_id)
        WHERE r.rn = 1
        ORDER BY p.person_id
        """,
        {"t": as_of},
    )


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
            return roster["person_id"].isin(ids)
        op, n = self._LEVEL.match(t).groups()
        lvl = pd.to_numeric(roster["level"], errors="coerce")
        n = int(n)
        res = {"<=": lvl <= n, "<": lvl < n, "==": lvl == n, "=": lvl == n}[op]
        return res.fillna(False).astype(bool)


def select_leaders(roster: pd.DataFrame, rule: str) -> pd.Series:
    """Boolean mask over ``roster`` rows for the leader rule (see :class:`LeaderRule`)."""
    return LeaderRule(rule).mask(roster)


def latest_snapshot_time(ws: Workspace, before: datetime | None = None) -> datetime | None:
    """Time of the latest account snapshot (at or before ``before`` when given)."""
    if before is None:
        row = ws.con.execute("SELECT max(observed_at) FROM account_snapshots").fetchone()
    else:
        row = ws.con.execute(
            "SELECT max(observed_at) FROM account_snapshots WHERE observed_at <= ?", [before]
        ).fetchone()
    return row[0] if row and row[0] is not None else None


def snapshots_at(ws: Workspace, snapshot: datetime, tolerance_days: float = 120) -> pd.DataFrame:
    """For each account, its latest snapshot at or before ``snapshot`` and not older than
    ``tolerance_days`` (so a 2015 count is not passed off as a 2017 one)."""
    return ws.sql(
        """
        SELECT * EXCLUDE (rn) FROM (
          SELECT s.account_id, s.observed_at, s.followers, s.following, s.posts_count,
                 s.listed_count,
                 row_number() OVER (PARTITION BY s.account_id ORDER BY s.observed_at DESC) AS rn
          FROM account_snapshots s
          WHERE s.observed_at <= $t AND s.observed_at >= $t - to_days(CAST($d AS INTEGER))
        ) WHERE rn = 1
        """,
        {"t": snapshot, "d": int(tolerance_days)},
    )


_ATTR_FILTER = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def account_condition(platform: str | None = None, account_filter: str | None = None,
                      alias: str = "a") -> tuple[str, dict]:
    """SQL ``AND ...`` restricting accounts (alias ``a``) to a platform and/or an attribute.

    ``account_filter`` is ``key=value`` on the account's ``attrs`` JSON, e.g.
    ``official_listing=true`` (the demo: each member's officially listed account).
    """
    sql, params = "", {}
    if platform:
        sql += f" AND {alias}.platform = $platform"
        params["platform"] = platform
    if account_filter:
        m = _ATTR_FILTER.match(account_filter.strip())
        if not m:
            raise AnalysisError(
                f"account_filter={account_filter!r} is not understood; write key=value, e.g. "
                "official_listing=true"
            )
        sql += f" AND json_extract_string({alias}.attrs, '$.{m.group(1)}') = $attr_value"
        params["attr_value"] = m.group(2).strip()
    return sql, params


def adoption_dates(ws: Workspace, platform: str | None = None,
                   account_filter: str | None = None) -> pd.DataFrame:
    """Per person: the adoption date = earliest creation of their personal accounts, else their
    first post. Columns ``person_id, adopted_at, adoption_source, first_account_id``."""
    plat, pp = account_condition(platform, account_filter)
    return ws.sql(
        f"""
        WITH acc AS (
          SELECT a.person_id, a.account_id, a.created_at,
                 (SELECT min(p.created_at) FROM posts p WHERE p.account_id = a.account_id) AS first_post
          FROM accounts a
          WHERE a.person_id IS NOT NULL AND a.kind = 'personal' {plat}
        ), per AS (
          SELECT person_id,
                 min(created_at) AS created_min,
                 arg_min(account_id, created_at) AS first_created_account,
                 min(first_post) AS first_post,
                 arg_min(account_id, first_post) AS first_post_account
          FROM acc GROUP BY person_id
        )
        SELECT person_id,
               coalesce(created_min, first_post) AS adopted_at,
               CASE WHEN created_min IS NOT NULL THEN 'account_created'
                    WHEN first_post IS NOT NULL THEN 'first_post' END AS adoption_source,
               CASE WHEN created_min IS NOT NULL THEN first_created_account
                    ELSE first_post_account END AS first_account_id
        FROM per
        WHERE coalesce(created_min, first_post) IS NOT NULL
        """,
        pp or None,
    )


def post_time_range(ws: Workspace) -> tuple[datetime | None, datetime | None]:
    row = ws.con.execute("SELECT min(created_at), max(created_at) FROM posts").fetchone()
    return row[0], row[1]


def now_utc() -> datetime:
    return datetime.now(UTC)


ONE_WEEK = timedelta(days=7)
