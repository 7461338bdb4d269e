"""congresstweets daily JSON: the tweets of the US Congress, one file per day.

Each file is a JSON array of flat records ``{id, screen_name, user_id, time, link, text, source}``
(alexlitel/congresstweets). The collector rewrote retweets and quotes into the text:

* a retweet reads ``RT @original_author original text`` and its ``link`` points to the *original*
  status, so ``repost_of`` is the status id in the link (when it differs from ``id``);
* a quote reads ``own text QT @quoted_author quoted text``; the quoted status id is not kept, so
  ``quote_of`` stays empty and the quoted handle is kept in ``attrs.quoted_handle`` (and as a
  mention).

Hashtags, mentions and URLs are parsed from the text. The author account (``twitter:user_id``,
handle ``screen_name``) is a secondary row; there are no counters, so no snapshot. A daily file is
a single JSON document (a few MB) and is parsed whole.
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
    text_entities,
    unescape,
)
from socialens.ingest.sources import iter_json_array

__all__ = ["detect", "tasks", "map_record"]

PLATFORM = "twitter"
_KEYS = {"id", "screen_name", "user_id", "time", "link", "text"}
_RT = re.compile(r"^RT @(\w{1,30}):?\s")
_QT = re.compile(r"\sQT @(\w{1,30})\b")
_STATUS = re.compile(r"/status(?:es)?/(\d+)")


def detect(path: Path) -> bool:
    v = first_json_value(path)
    return is_jsonl_path(path) and isinstance(v, list) and bool(v) and isinstance(v[0], dict) \
        and _KEYS <= set(v[0])


def map_record(r: Any) -> Rows:
    """One congresstweets record → post + author account."""
    if not isinstance(r, dict):
        raise RecordError(f"expected a JSON object, got {type(r).__name__}")
    tid = as_id(need(r, "id", "tweet"), "id")
    uid = as_id(need(r, "user_id", "tweet"), "user_id")
    text = unescape(r.get("text"))
    created = iso_time(need(r, "time", "tweet"), "time")
    link = r.get("link") or ""
    repost_of = None
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
    handle = r.get("screen_name")
    return [
        post_row(PLATFORM, tid, f"{PLATFORM}:{uid}", created, text=text, repost_of=repost_of,
                 url=f"https://twitter.com/{handle}/status/{tid}" if handle else link,
                 attrs=attrs, ents=text_entities(text)),
        account_row(PLATFORM, uid, handle=handle),
    ]


def tasks(path: Path, timezone: str | None) -> Iterator[tuple[Path, str, Iterator]]:
    yield path, "posts", mapped(iter_json_array(path), map_record, what="congresstweets record")
