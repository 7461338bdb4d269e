"""What the directory site shows, read once from the workspace: the listed people, their accounts,
roles, counters over time and recent posts, and the aggregated feed.

This is the single place where the listing rule is applied: unless ``include_all`` is set, only
people with ``opt_in = true`` are listed, and every account, post and counter that is read belongs
to one of them. What the tables themselves hold is the privacy boundary's
(:mod:`socialens.privacy`, applied by ``publish`` and ``serve`` before this module reads them):
public posts only, and everyone else — a colleague's post mentioning a hidden person, an internal
follower count — under keyed pseudonyms; with ``pseudonymize`` the listed people too (their
profile links are then left out: a pseudonym links nowhere). The static site (:mod:`socialens.site.build`), the subscription files
(:mod:`socialens.site.feeds`) and the web app (:mod:`socialens.site.app`) all render a
:class:`Directory`, so none of them can show someone the others would not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pandas as pd

from socialens.analyses.common import roster_at, select_leaders, to_time
from socialens.analyses.directory import directory_table, handle_at
from socialens.analyses.result import to_jsonable
from socialens.errors import AnalysisError, SocialensError
from socialens.privacy import is_pseudonym
from socialens.site.security import safe_url, slug
from socialens.workspace import Workspace

__all__ = ["SiteError", "Directory", "load_directory", "account_url", "post_url", "SORT_KEYS"]

#: Orders the directory can be sorted by: key → (label, column).
SORT_KEYS = {
    "followers": ("followers", "followers"),
    "posts": ("posts", "posts"),
    "adopted": ("adoption date", "adopted_at"),
    "internal": ("followers inside the organization", "internal_followers"),
}


class SiteError(SocialensError, ValueError):
    """The site cannot be built or served with these parameters."""


@dataclass
class Directory:
    """Everything the site shows. ``people`` is ranked (rank 1 = most followers)."""

    people: list[dict]
    accounts: dict[str, list[dict]]
    roles: dict[str, list[dict]]
    snapshots: dict[str, list[dict]]
    recent_posts: dict[str, list[dict]]
    feed: list[dict]
    params: dict[str, Any]
    include_all: bool = False
    title: str = "Who is on social media"
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    n_not_listed: int = 0

    def __post_init__(self) -> None:
        self.by_slug = {p["slug"]: p for p in self.people}
        self.by_id = {p["person_id"]: p for p in self.people}

    @property
    def departments(self) -> list[str]:
        return sorted({p["department"] for p in self.people if p["department"]})

    @property
    def titles(self) -> list[str]:
        return sorted({p["title"] for p in self.people if p["title"]})

    @property
    def platforms(self) -> list[str]:
        return sorted({a["platform"] for accs in self.accounts.values() for a in accs})

    @property
    def leaders(self) -> list[dict]:
        return [p for p in self.people if p["leader"]]

    def all_accounts(self) -> list[dict]:
        return [a for p in self.people for a in self.accounts.get(p["person_id"], [])]


def account_url(platform: str | None, handle: str | None, account_id: str | None,
                url: str | None = None) -> str | None:
    """The profile link of an account: its ``url`` when it is http(s), else one derived from the
    platform and handle (X/Twitter, Bluesky, Mastodon), else None."""
    explicit = safe_url(url)
    if explicit:
        return explicit
    if is_pseudonym(handle):  # never guess a profile from a pseudonym
        return None
    native = (account_id or "").split(":", 1)[1] if ":" in (account_id or "") else ""
    h = (handle or "").lstrip("@")
    if platform == "twitter" and h:
        return safe_url(f"https://twitter.com/{quote(h, safe='')}")
    if platform == "bluesky" and (h or native):
        return safe_url(f"https://bsky.app/profile/{quote(h or native, safe=':.')}")
    if platform == "mastodon" and h:
        user, _, host = h.partition("@")
        host = host or native.split("/", 1)[0]
        if host:
            return safe_url(f"https://{host}/@{quote(user, safe='')}")
    return None


def post_url(platform: str | None, handle: str | None, post_id: str, url: str | None) -> str | None:
    """A post's link: its ``url`` when it is http(s), else an X/Twitter status URL when the native
    id is numeric, else None."""
    explicit = safe_url(url)
    if explicit:
        return explicit
    native = post_id.split(":", 1)[1] if ":" in post_id else ""
    if platform == "twitter" and handle and native.isdigit():
        return safe_url(f"https://twitter.com/{quote(handle, safe='')}/status/{native}")
    return None


def _iso(v) -> str | None:
    v = to_jsonable(v)
    return v if isinstance(v, str) else None


def _num(v) -> int | None:
    v = to_jsonable(v)
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def load_directory(
    ws: Workspace,
    *,
    include_all: bool = False,
    snapshot=None,
    as_of=None,
    leaders: str = "is_leader",
    platform: str | None = None,
    account_filter: str | None = None,
    n_recent: int = 20,
    n_feed: int = 200,
    title: str | None = None,
) -> Directory:
    """Read the directory from the workspace.

    Parameters
    ----------
    include_all : bool
        Also list people who did not opt in (for an internal-only build). Default: only
        ``opt_in = true``.
    snapshot, as_of, leaders, platform, account_filter
        As in :func:`socialens.analyses.directory.directory_table`: the follower snapshot, the
        time roles are read, the leader rule, and which accounts rank people.
    n_recent : int
        Recent posts kept per person.
    n_feed : int
        Posts in the aggregated feed.
    """
    try:
        table, params = directory_table(ws, snapshot=snapshot, as_of=as_of, leaders=leaders,
                                        platform=platform, account_filter=account_filter)
    except AnalysisError as exc:
        if "no account snapshots" not in str(exc):
            raise SiteError(str(exc)) from None
        table, params = _unranked_table(ws, as_of, leaders)
    members = _members_without_counts(ws, table, params, leaders)
    if len(members):
        members = members.reindex(columns=table.columns)
        table = (pd.concat([table.astype(object), members.astype(object)], ignore_index=True)
                 if len(table) else members)
    listed_mask = table["opt_in"].map(lambda v: False if pd.isna(v) else bool(v)).astype(bool)
    n_not_listed = int((~listed_mask).sum())
    if not include_all:
        table = table[listed_mask]
    table = table.reset_index(drop=True)
    ids = [str(x) for x in table["person_id"]]

    accounts = _accounts(ws, ids, params.get("snapshot") or params.get("as_of"))
    internal = _internal_followers(ws, ids)
    posts = _recent_posts(ws, ids, n_recent)
    counts = _post_counts(ws, ids)
    people = []
    for r in table.itertuples(index=False):
        pid = str(r.person_id)
        recent = posts.get(pid, [])
        people.append({
            "person_id": pid,
            "slug": slug(pid),
            "name": r.name if isinstance(r.name, str) and r.name else pid,
            "department": r.department if isinstance(r.department, str) else None,
            "title": r.title if isinstance(r.title, str) else None,
            "level": _num(r.level),
            "leader": bool(r.leader),
            "opt_in": bool(r.opt_in) if not pd.isna(r.opt_in) else False,
            "followers": _num(r.followers),
            "following": _num(r.following),
            "posts": counts.get(pid),  # None: no post of theirs was collected
            "posts_count": _num(r.posts_count),
            "adopted_at": _iso(r.adopted_at),
            "internal_followers": (internal.get(pid, 0) if internal is not None else None),
            "observed_at": _iso(r.observed_at),
            "latest_post": recent[0] if recent else None,
        })
    people.sort(key=lambda p: (p["followers"] is None, -(p["followers"] or 0), p["person_id"]))
    for i, p in enumerate(people, start=1):
        p["rank"] = i if p["followers"] is not None else None
    shown = dict(to_jsonable(params))
    if str(shown.get("leaders", "")).startswith("ids:"):
        shown["leaders"] = f"ids: ({len(str(shown['leaders'])[4:].split(','))} people)"
    return Directory(
        people=people,
        accounts=accounts,
        roles=_roles(ws, ids),
        snapshots=_snapshots(ws, [a["account_id"] for accs in accounts.values() for a in accs]),
        recent_posts=posts,
        feed=_feed(ws, ids, n_feed),
        params=shown,
        include_all=include_all,
        title=title or "Who is on social media",
        n_not_listed=n_not_listed,
    )


def _unranked_table(ws: Workspace, as_of, leaders: str) -> tuple[pd.DataFrame, dict]:
    t = to_time(as_of, "as_of") or datetime.now(UTC)
    roster = roster_at(ws, t)
    roster["leader"] = select_leaders(roster, leaders).to_numpy()
    empty = roster.iloc[0:0].copy()
    for col in ("followers", "following", "posts_count", "observed_at", "adopted_at"):
        empty[col] = pd.Series(dtype=object)
    return empty, {"snapshot": None, "as_of": t, "leaders": leaders, "roster": roster}


def _members_without_counts(ws: Workspace, table: pd.DataFrame, params: dict,
                            leaders: str) -> pd.DataFrame:
    """Members at ``as_of`` with a personal account but no follower count in the snapshot: they
    are listed after the ranked people, unranked."""
    roster = params.pop("roster", None)
    if roster is None:
        roster = roster_at(ws, params["as_of"])
        roster["leader"] = select_leaders(roster, leaders).to_numpy()
    have = ws.sql("SELECT DISTINCT person_id FROM accounts WHERE person_id IS NOT NULL "
                  "AND kind IN ('personal', 'delegate')")["person_id"]
    extra = roster[roster["person_id"].isin(set(have)) & ~roster["person_id"].isin(
        set(table["person_id"]))].copy()
    if extra.empty:
        return extra
    adopt = ws.sql("SELECT person_id, min(created_at) AS adopted_at FROM accounts "
                   "WHERE person_id IS NOT NULL AND kind = 'personal' GROUP BY person_id")
    extra = extra.merge(adopt, on="person_id", how="left")
    for col in ("followers", "following", "posts_count", "observed_at"):
        extra[col] = None
    return extra


def _id_list(ids: list[str]) -> dict:
    return {"ids": ids}


def _accounts(ws: Workspace, ids: list[str], at=None) -> dict[str, list[dict]]:
    """The personal and delegate accounts of ``ids``, leaving out accounts created after ``at``
    (the directory's date)."""
    df = ws.sql(
        """
        WITH last AS (
          SELECT account_id, arg_max(followers, observed_at) AS followers,
                 max(observed_at) AS observed_at
          FROM account_snapshots WHERE followers IS NOT NULL GROUP BY account_id
        )
        SELECT a.account_id, a.person_id, a.platform, a.handle, a.kind, a.created_at,
               a.display_name, a.bio, a.url, l.followers, l.observed_at,
               json_extract_string(a.attrs, '$.handle_history') AS handle_history
        FROM accounts a LEFT JOIN last l USING (account_id)
        WHERE a.person_id IN (SELECT unnest($ids)) AND a.kind IN ('personal', 'delegate')
          AND ($at IS NULL OR a.created_at IS NULL OR a.created_at <= CAST($at AS TIMESTAMPTZ))
        ORDER BY a.person_id, l.followers DESC NULLS LAST, a.account_id
        """, {"ids": ids, "at": _iso(at)})
    out: dict[str, list[dict]] = {}
    for r in df.itertuples(index=False):
        handle = handle_at(r.handle if isinstance(r.handle, str) else None, r.handle_history, at)
        out.setdefault(r.person_id, []).append({
            "account_id": r.account_id,
            "platform": r.platform,
            "handle": handle,  # as of the directory's date
            "kind": r.kind,
            "created_at": _iso(r.created_at),
            "display_name": r.display_name if isinstance(r.display_name, str) else None,
            "bio": r.bio if isinstance(r.bio, str) else None,
            "url": account_url(r.platform, handle,
                               r.account_id, r.url if isinstance(r.url, str) else None),
            "followers": _num(r.followers),
            "observed_at": _iso(r.observed_at),
            "slug": slug(r.account_id),
        })
    return out


def _internal_followers(ws: Workspace, ids: list[str]) -> dict[str, int] | None:
    """Distinct other members of the organization with a ``follows`` tie to any of the person's
    accounts; None (unknown, not 0) when no member's follows were observed at all."""
    observed = ws.con.execute(
        """SELECT count(*) FROM edges e JOIN accounts s ON s.account_id = e.src
           WHERE e.kind = 'follows' AND s.person_id IS NOT NULL""").fetchone()[0]
    if not observed:
        return None
    df = ws.sql(
        """
        SELECT d.person_id, count(DISTINCT s.person_id) AS n
        FROM edges e
        JOIN accounts s ON s.account_id = e.src
        JOIN accounts d ON d.account_id = e.dst
        WHERE e.kind = 'follows' AND s.person_id IS NOT NULL AND d.person_id IS NOT NULL
          AND s.person_id <> d.person_id AND d.person_id IN (SELECT unnest($ids))
        GROUP BY d.person_id
        """, _id_list(ids))
    return {r.person_id: int(r.n) for r in df.itertuples(index=False)}


_POST_COLUMNS = """p.post_id, p.account_id, a.person_id, a.platform, a.handle, p.created_at,
                   p.text, p.url, p.reply_to_post_id, p.quote_of, p.repost_of, p.like_count,
                   p.repost_count"""


def _post_rows(df: pd.DataFrame) -> list[dict]:
    rows = []
    for r in df.itertuples(index=False):
        handle = r.handle if isinstance(r.handle, str) else None
        kind = ("repost" if isinstance(r.repost_of, str) else "reply"
                if isinstance(r.reply_to_post_id, str) else "quote"
                if isinstance(r.quote_of, str) else "post")
        rows.append({
            "post_id": r.post_id,
            "account_id": r.account_id,
            "person_id": r.person_id,
            "slug": slug(r.person_id),
            "platform": r.platform,
            "handle": handle,
            "created_at": _iso(r.created_at),
            "text": r.text if isinstance(r.text, str) else "",
            "url": post_url(r.platform, handle, r.post_id, r.url if isinstance(r.url, str) else None),
            "kind": kind,
            "like_count": _num(r.like_count),
            "repost_count": _num(r.repost_count),
        })
    return rows


def _recent_posts(ws: Workspace, ids: list[str], n: int) -> dict[str, list[dict]]:
    df = ws.sql(
        f"""
        SELECT * EXCLUDE (rn) FROM (
          SELECT {_POST_COLUMNS},
                 row_number() OVER (PARTITION BY a.person_id
                                    ORDER BY p.created_at DESC, p.post_id) AS rn
          FROM posts p JOIN accounts a USING (account_id)
          WHERE a.person_id IN (SELECT unnest($ids)) AND a.kind IN ('personal', 'delegate')
        ) WHERE rn <= $n
        ORDER BY person_id, created_at DESC, post_id
        """, {"ids": ids, "n": int(n)})
    out: dict[str, list[dict]] = {}
    for row in _post_rows(df):
        out.setdefault(row["person_id"], []).append(row)
    return out


def _post_counts(ws: Workspace, ids: list[str]) -> dict[str, int]:
    df = ws.sql(
        """SELECT a.person_id, count(*) AS n FROM posts p JOIN accounts a USING (account_id)
           WHERE a.person_id IN (SELECT unnest($ids)) AND a.kind IN ('personal', 'delegate')
           GROUP BY a.person_id""", _id_list(ids))
    return {r.person_id: int(r.n) for r in df.itertuples(index=False)}


def _feed(ws: Workspace, ids: list[str], n: int) -> list[dict]:
    df = ws.sql(
        f"""SELECT {_POST_COLUMNS} FROM posts p JOIN accounts a USING (account_id)
            WHERE a.person_id IN (SELECT unnest($ids)) AND a.kind IN ('personal', 'delegate')
            ORDER BY p.created_at DESC, p.post_id LIMIT $n""", {"ids": ids, "n": int(n)})
    return _post_rows(df)


def query_posts(ws_or_con, ids: list[str], *, person: str | None = None, since=None,
                limit: int = 100, offset: int = 0) -> list[dict]:
    """Posts of the listed people (newest first), optionally of one person and since a time.

    ``ws_or_con`` is a Workspace or a DuckDB connection (the web app passes one cursor per
    thread)."""
    con = ws_or_con.con if isinstance(ws_or_con, Workspace) else ws_or_con
    where = "a.kind IN ('personal', 'delegate')"
    params: dict[str, Any] = {"n": int(limit), "o": int(offset)}
    if person is not None:
        if person not in ids:
            return []
        where += " AND a.person_id = $person"
        params["person"] = person
    else:
        where += " AND a.person_id IN (SELECT unnest($ids))"
        params["ids"] = ids
    if since is not None:
        where += " AND p.created_at >= $since"
        params["since"] = since
    df = con.execute(
        f"""SELECT {_POST_COLUMNS} FROM posts p JOIN accounts a USING (account_id)
            WHERE {where} ORDER BY p.created_at DESC, p.post_id LIMIT $n OFFSET $o""",
        params).df()
    return _post_rows(df)


def _roles(ws: Workspace, ids: list[str]) -> dict[str, list[dict]]:
    df = ws.sql(
        """SELECT person_id, title, level, is_leader, start_at, end_at FROM roles
           WHERE person_id IN (SELECT unnest($ids)) ORDER BY person_id, start_at DESC, title""",
        _id_list(ids))
    out: dict[str, list[dict]] = {}
    for r in df.itertuples(index=False):
        out.setdefault(r.person_id, []).append({
            "title": r.title, "level": _num(r.level), "is_leader": bool(r.is_leader),
            "start_at": _iso(r.start_at), "end_at": _iso(r.end_at)})
    return out


def _snapshots(ws: Workspace, account_ids: list[str]) -> dict[str, list[dict]]:
    df = ws.sql(
        """SELECT account_id, observed_at, followers, following, posts_count
           FROM account_snapshots WHERE account_id IN (SELECT unnest($ids))
           ORDER BY account_id, observed_at""", {"ids": account_ids})
    out: dict[str, list[dict]] = {}
    for r in df.itertuples(index=False):
        out.setdefault(r.account_id, []).append({
            "observed_at": _iso(r.observed_at), "followers": _num(r.followers),
            "following": _num(r.following), "posts_count": _num(r.posts_count)})
    return out
