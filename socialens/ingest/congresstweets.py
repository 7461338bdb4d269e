"""congresstweets daily JSON: the tweets of the US Congress, one file per day.

Each file is a JSON array of flat records ``{id, screen_name, user_id, time, link, text, source}``
(alexlitel/congresstweets). The collector rewrote retweets and quotes into the text:

* a retweet reads ``RT @original_author original text`` and its ``link`` points to the *original*
  status, so ``repost_of`` is the status id in the link (when it differs from ``id``);
* a quote reads ``own text QT @quoted_author quoted text``; the quoted handle is kept in
  ``attrs.quoted_handle`` (and as a mention). Later files (2018 on) expanded the quote's link, so
  when the own text ends with a status link (``https://twitter.com/<handle>/status/<id> QT
  @<handle>``) that status is ``quote_of``; a ``t.co`` link (the early files) names no status, and
  ``quote_of`` stays empty.

Hashtags, mentions and URLs are parsed from the text. The author account (``twitter:user_id``,
handle ``screen_name``) is a secondary row; there are no counters, so no snapshot. The early files
(until about July 2017) have no ``user_id``: their authors are known by handle only, and become
accounts ``twitter:@<screen_name, lower-cased>`` with ``attrs.id_unknown``, which are not merged with
the numeric-id account of the same handle (a handle can change owner; join on ``accounts.handle``
to compare). A daily file is a single JSON document (a few MB) and is parsed whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from socialens.errors import RecordError
from socialens.ingest._platform import (
    Rows,
    account_row,
    as_id,
    first_json_value,
    is_jsonl_path,
    iso_time,
    mapped,
    need,
    post_row,
)
from socialens.ingest.sources import iter_json_array

__all__ = ["detect", "tasks", "map_record"]

PLATFORM = "twitter"
_KEYS = {"id", "screen_name", "time", "link", "text"}  # user_id: only from about July 2017
_RT = re.compile(r"^RT @(\w{1,30}):?\s")
_QT = re.compile(r"\sQT @(\w{1,30})\b")
_STATUS = re.compile(r"/status(?:es)?/(\d+)")
_HANDLE = re.compile(r"^\w{1,50}$")
_QUOTED_LINK = re.compile(
    r"https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/\w{1,30}/status(?:es)?/(\d+)\S*\s+QT @\w", re.I)


def detect(path: Path) -> bool:
    v = first_json_value(path)
    return is_jsonl_path(path) and isinstance(v, list) and bool(v) and isinstance(v[0], dict) \
        and _KEYS <= set(v[0])


def map_record(r: Any) -> Rows:
    """One congresstweets record → post + author account."""
    if not isinstance(r, dict):
        raise RecordError(f"expected a JSON object, got {type(r).__name__}")
    tid = as_id(need(r, "id", "tweet"), "id")
    handle = r.get("screen_name")
    if r.get("user_id") not in (None, ""):
        uid = as_id(r["user_id"], "user_id")
        author = account_row(PLATFORM, uid, handle=handle)
    elif isinstance(handle, str) and _HANDLE.match(handle.strip().lstrip("@")):
        name = handle.strip().lstrip("@")
        author = account_row(PLATFORM, f"@{name.lower()}", handle=name, attrs={"id_unknown": True})
    else:
        raise RecordError("the tweet has neither user_id nor a screen_name, so its author is unknown",
                          "user_id")
    text = r.get("text")  # decoded, and its entities found, by post_row
    created = iso_time(need(r, "time", "tweet"), "time")
    link = r.get("link") or ""
    repost_of = quote_of = None
    attrs: dict[str, Any] = {"source": r.get("source")}
    m = _RT.match(text or "")
    if m:
        attrs["reposted_handle"] = m.group(1)
        s = _STATUS.search(link)
        if s and s.group(1) != tid:
            repost_of = f"{PLATFORM}:{s.group(1)}"
    else:
        q = _QT.search(text or "")
        if q:
            attrs["quoted_handle"] = q.group(1)
            link_m = _QUOTED_LINK.search(text or "", 0, q.end())
            if link_m and link_m.group(1) != tid:
                quote_of = f"{PLATFORM}:{link_m.group(1)}"
    return [
        post_row(PLATFORM, tid, author[1]["account_id"], created, text=text, repost_of=repost_of,
                 quote_of=quote_of,
                 url=f"https://twitter.com/{handle}/status/{tid}" if handle else link,
                 attrs=attrs),
        author,
    ]


def tasks(path: Path, timezone: str | None) -> Iterator[tuple[Path, str, Iterator]]:
    yield path, "posts", mapped(iter_json_array(path), map_record, what="congresstweets record")
