"""Parsing and normalizing single field values; every function raises :class:`RecordError`.

These are the "validate and normalize once" primitives shared by every reader.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from socialens.errors import InputFileError, RecordError
from socialens.text import normalize_hashtag, normalize_mention  # re-exported: one normaliser

__all__ = [
    "check_timezone",
    "parse_time",
    "to_utc",
    "parse_bool",
    "parse_int",
    "parse_float",
    "clean_str",
    "normalize_hashtag",
    "normalize_mention",
    "platform_of",
    "ACCOUNT_KINDS",
    "EDGE_KINDS",
    "VISIBILITIES",
]

ACCOUNT_KINDS = ("personal", "official", "delegate")
EDGE_KINDS = ("follows", "reply", "mention", "repost", "quote", "interaction")
#: A post's audience (``posts.visibility``); NULL means unknown. Only ``public`` is published.
VISIBILITIES = ("public", "unlisted", "followers", "direct")

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ID_PART = re.compile(r"^[a-z][a-z0-9_-]*:\S+$")


@lru_cache(maxsize=64)
def check_timezone(name: str) -> ZoneInfo:
    """The :class:`ZoneInfo` for an IANA name, or an :class:`InputFileError` saying how to fix it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputFileError(
            f"unknown time zone {name!r}; use an IANA name such as 'UTC' or 'America/New_York'"
        ) from exc


def clean_str(value: object) -> str | None:
    """Strip a string; empty and None become None."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    value = value.strip()
    return value or None


def parse_time(value: object, field: str, timezone: str | None = None) -> datetime | None:
    """Parse an ISO 8601 time (or date) into an aware UTC datetime; empty gives None.

    >>> parse_time("2017-07-10T14:03:00Z", "created_at")
    datetime.datetime(2017, 7, 10, 14, 3, tzinfo=datetime.timezone.utc)
    >>> parse_time("2017-07-10 10:03:00", "created_at", "America/New_York").hour
    14
    >>> parse_time("2017-01-03", "start_at")
    datetime.datetime(2017, 1, 3, 0, 0, tzinfo=datetime.timezone.utc)
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    else:
        text = str(value).strip()
        if not text:
            return None
        if _DATE_ONLY.match(text):
            try:
                d = date.fromisoformat(text)
            except ValueError as exc:
                raise RecordError(f"{field}: {text!r} is not a valid date ({exc})", field) from exc
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        try:
            dt = datetime.fromisoformat(text)
        except (ValueError, OverflowError) as exc:
            raise RecordError(
                f"{field}: cannot parse time {text[:40]!r}; write ISO 8601 such as "
                "2017-07-10T14:03:00Z",
                field,
            ) from exc
    if dt.tzinfo is None:
        if timezone is None:
            raise RecordError(
                f"{field}: time {str(value)[:40]!r} has no UTC offset; add one "
                "(e.g. 2017-07-10T14:03:00Z) or say which zone it is in with --timezone",
                field,
            )
        dt = dt.replace(tzinfo=check_timezone(timezone))
    return to_utc(dt, field, value)


def to_utc(dt: datetime, field: str, value: object = None) -> datetime:
    """An aware time in UTC, or a :class:`RecordError` when UTC leaves the years 1-9999 (an
    offset on 0001-01-01 or 9999-12-31: Python's datetime, Arrow and DuckDB agree on no such
    time).

    >>> to_utc(datetime.fromisoformat("0001-01-01T00:00:00+14:00"), "created_at")
    Traceback (most recent call last):
    ...
    socialens.errors.RecordError: created_at: '0001-01-01 00:00:00+14:00' is outside the years 1-9999 in UTC
    """
    try:
        return dt.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise RecordError(
            f"{field}: {str(value if value is not None else dt)[:40]!r} is outside the years "
            "1-9999 in UTC", field) from exc


def parse_bool(value: object, field: str, default: bool | None = None) -> bool | None:
    """Parse true/false/1/0/yes/no; empty gives ``default``."""
    if value is None or isinstance(value, bool):
        return default if value is None else value
    text = str(value).strip().lower()
    if not text:
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RecordError(f"{field}: {value!r} is not a boolean; use true or false", field)


def parse_int(value: object, field: str, *, minimum: int | None = 0) -> int | None:
    """Parse an integer (``12``, ``12.0``); empty gives None.

    >>> parse_int("29071.0", "followers")
    29071
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordError(f"{field}: {value!r} is not an integer", field)
    if isinstance(value, int):
        n = value
    else:
        text = str(value).strip()
        if not text or text.upper() in {"NA", "NAN", "NULL", "NONE"}:
            return None
        try:
            f = float(text)
        except ValueError as exc:
            raise RecordError(f"{field}: {text[:40]!r} is not an integer", field) from exc
        if f != f or f in (float("inf"), float("-inf")) or not f.is_integer():
            raise RecordError(f"{field}: {text[:40]!r} is not an integer", field)
        n = int(f)
    if minimum is not None and n < minimum:
        raise RecordError(f"{field}: {n} is below the minimum {minimum}", field)
    if abs(n) > 2**63 - 1:
        raise RecordError(f"{field}: {n} is too large", field)
    return n


def parse_float(value: object, field: str, default: float | None = None) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        f = float(value)
    except (TypeError, ValueError) as exc:
        raise RecordError(f"{field}: {str(value)[:40]!r} is not a number", field) from exc
    if f != f or f in (float("inf"), float("-inf")):
        raise RecordError(f"{field}: {value!r} is not a finite number", field)
    return f


def platform_of(account_or_post_id: str, field: str) -> str:
    """The platform prefix of a ``platform:native_id`` identifier."""
    if not _ID_PART.match(account_or_post_id):
        raise RecordError(
            f"{field}: {account_or_post_id[:60]!r} is not of the form platform:native_id "
            "(e.g. twitter:30354991); prefix the native id with its platform",
            field,
        )
    return account_or_post_id.split(":", 1)[0]
