"""The Twitter/X account archive ("Download an archive of your data"): ``data/*.js`` files.

Each file is JavaScript: ``window.YTD.<name>.part<N> = [ ... ]``; the array is JSON. Read files:

* ``account.js`` — the archive owner: ``{"account": {accountId, username, accountDisplayName,
  createdAt}}`` → the account (``twitter:<accountId>``);
* ``tweets.js`` (older archives: ``tweet.js``; large ones add ``tweets-part1.js``...) —
  ``{"tweet": {...}}`` in the v1.1 status shape without ``user``; the author is the owner from
  ``account.js`` in the same folder. Counts are strings in archives; retweets carry only the
  ``RT @handle:`` prefix (the original's id is not in the archive), kept as
  ``attrs.reposted_handle``. Archives do not keep ``quoted_status_id`` either: a tweet (not a
  retweet) whose text ends with a link to a status (``twitter.com``/``x.com/<handle>/status/<id>``,
  its last URL entity; not a link to a status's photo or video) is a quote, as X renders it, so
  ``quote_of`` is that status;
* ``follower.js`` / ``following.js`` — ``{"follower"|"following": {accountId, userLink}}`` →
  ``follows`` edges to/from the owner (the other account is a bare ``twitter:<id>`` account),
  observed at the archive's ``generationDate`` (``manifest.js``) when present.

Give the archive folder, its ``data`` folder, or one of these files. Each file is parsed whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from socialens.errors import InputFileError, RecordError
from socialens.ingest._platform import (
    Rows,
    account_row,
    head_text,
    mapped,
    maybe_time,
    raw_json,
)
from socialens.ingest.sources import loads, read_all
from socialens.ingest.twitter_v1 import map_status

__all__ = ["detect", "tasks", "read_js", "archive_files"]

PLATFORM = "twitter"
_PREFIX = re.compile(r"^\s*window\.(?:YTD\.[\w.]+|__THAR_CONFIG)\s*=\s*", re.S)
_NAMES = re.compile(r"^(account|tweets?(-part\d+)?|follower|following)\.js$")
_RT = re.compile(r"^RT @(\w{1,30}):")
_STATUS_URL = re.compile(
    r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/(?:\w{1,30}|i/web|i)/status(?:es)?/(\d+)/?(?:[?#]|$)",
    re.I)


def _data_dir(path: Path) -> Path | None:
    if path.is_dir():
        for d in (path / "data", path):
            if (d / "account.js").exists() or (d / "tweets.js").exists() or (d / "tweet.js").exists():
                return d
        return None
    return path.parent


def detect(path: Path) -> bool:
    if path.is_dir():
        return _data_dir(path) is not None
    return bool(_NAMES.match(path.name)) and head_text(path, 200).lstrip().startswith("window.YTD.")


def read_js(path: Path) -> Any:
    """The JSON value assigned in a ``window.YTD... = `` file."""
    text = read_all(path).decode("utf-8-sig", "replace")
    m = _PREFIX.match(text)
    if not m:
        raise InputFileError(f"{path}: does not start with 'window.YTD.<name>.part0 =' ; is it "
                             "a file of a Twitter archive's data folder?")
    try:
        return loads(text[m.end():].rstrip().rstrip(";"))[0]  # too deep: cut, quarantined by mapped
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path}: the array after '=' is not valid JSON: {exc}") from exc


def archive_files(path: Path) -> list[Path]:
    """The readable files of an archive folder, in load order (account first)."""
    d = _data_dir(path)
    if d is None:
        return []
    found = sorted(p for p in d.iterdir() if _NAMES.match(p.name))
    order = {"account": 0, "tweet": 1, "tweets": 1, "follower": 2, "following": 3}
    return sorted(found, key=lambda p: (order.get(p.stem.split("-")[0], 9), p.name))


def _owner(folder: Path) -> dict | None:
    f = folder / "account.js"
    if not f.exists():
        return None
    items = read_js(f)
    if isinstance(items, list) and items and isinstance(items[0], dict) \
            and isinstance(items[0].get("account"), dict):
        return items[0]["account"]
    return None


def _generated(folder: Path) -> datetime | None:
    f = folder / "manifest.js"
    if not f.exists():
        return None
    try:
        doc = read_js(f)
    except InputFileError:
        return None
    info = doc.get("archiveInfo") if isinstance(doc, dict) else None
    return maybe_time(info.get("generationDate")) if isinstance(info, dict) else None


def _owner_row(a: dict) -> tuple[str, dict]:
    return account_row(PLATFORM, str(a["accountId"]), handle=a.get("username"),
                       display_name=a.get("accountDisplayName"),
                       created_at=maybe_time(a.get("createdAt")),
                       attrs={"created_via": a.get("createdVia")})


def _map_account(item: Any) -> Rows:
    a = item.get("account") if isinstance(item, dict) else None
    if not isinstance(a, dict) or not a.get("accountId"):
        raise RecordError("expected {\"account\": {\"accountId\": ...}}", "accountId")
    return [_owner_row(a)]


def _quoted_id(t: dict, text: str) -> str | None:
    """The status a tweet quotes: its last URL entity, when that links to a status and ends the
    text (X shows such a link as the quoted tweet)."""
    urls = [u for u in ((t.get("entities") or {}).get("urls") or []) if isinstance(u, dict)]
    if not urls or not text:
        return None

    def start(u: dict) -> int:
        try:
            return int((u.get("indices") or [0])[0])
        except (TypeError, ValueError):
            return 0
    last = max(urls, key=start)
    m = _STATUS_URL.match(str(last.get("expanded_url") or ""))
    if not m or not last.get("url") or not text.rstrip().endswith(str(last["url"])):
        return None
    own = str(t.get("id_str") or t.get("id") or "")
    return m.group(1) if m.group(1) != own else None


def _map_tweet(item: Any, owner: dict | None) -> Rows:
    t = item.get("tweet") if isinstance(item, dict) and "tweet" in item else item
    if not isinstance(t, dict):
        raise RecordError("expected {\"tweet\": {...}}")
    if owner is None:
        raise RecordError("account.js is missing beside tweets.js, so the author is unknown; "
                          "ingest the whole archive folder", "account")
    author = {"id_str": str(owner["accountId"]), "screen_name": owner.get("username") or "",
              "name": owner.get("accountDisplayName")}
    rows = map_status(t, author=author, nested=True)
    post = rows[0][1]
    m = _RT.match(post.get("text") or "")
    if m:
        post["attrs"] = {**(post.get("attrs") or {}), "reposted_handle": m.group(1)}
    elif post.get("quote_of") is None:
        quoted = _quoted_id(t, str(t.get("full_text") or t.get("text") or ""))
        if quoted:
            post["quote_of"] = f"{PLATFORM}:{quoted}"
    if t.get("edit_info"):
        edits = (t["edit_info"].get("initial") or {}).get("editTweetIds")
        if edits and len(edits) > 1:
            post["attrs"] = {**(post.get("attrs") or {}), "edit_history_tweet_ids": edits}
    return [rows[0], _owner_row(owner)]


def _map_follow(item: Any, key: str, owner: dict | None, observed: datetime | None) -> Rows:
    f = item.get(key) if isinstance(item, dict) else None
    if not isinstance(f, dict) or not f.get("accountId"):
        raise RecordError(f"expected {{\"{key}\": {{\"accountId\": ...}}}}", "accountId")
    if owner is None:
        raise RecordError(f"account.js is missing beside {key}.js, so the owner is unknown", "account")
    other, me = f"{PLATFORM}:{f['accountId']}", f"{PLATFORM}:{owner['accountId']}"
    src, dst = (other, me) if key == "follower" else (me, other)
    return [("edges", {"src": src, "dst": dst, "kind": "follows", "weight": 1.0,
                       "observed_at": observed, "window_start": None, "window_end": None}),
            account_row(PLATFORM, str(f["accountId"]), attrs={"incomplete": True}),
            _owner_row(owner)]


def tasks(path: Path, timezone: str | None) -> Iterator[tuple[Path, str, Iterator]]:
    files = archive_files(path) if path.is_dir() else [path]
    if not files:
        raise InputFileError(f"{path}: no account.js, tweets.js, follower.js or following.js found")
    folder = files[0].parent
    owner = _owner(folder)
    observed = _generated(folder)
    for f in files:
        kind = f.stem.split("-")[0]
        items = read_js(f)
        if not isinstance(items, list):
            raise InputFileError(f"{f}: expected an array after '='")
        its = [(i, raw_json(x), x) for i, x in enumerate(items, start=1)]
        if kind == "account":
            yield f, "accounts", mapped(its, _map_account, what="account entry")
        elif kind in ("tweet", "tweets"):
            yield f, "posts", mapped(its, lambda x: _map_tweet(x, owner), what="archived tweet")
        else:
            yield f, "edges", mapped(its, lambda x, k=kind: _map_follow(x, k, owner, observed),
                                     what=f"{kind} entry")
