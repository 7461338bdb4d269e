"""Reading records from files, streaming, with their line numbers and raw text.

Readers never raise for a bad record: they yield a :class:`SourceRecord` whose ``error`` says what is
wrong, so the loader can quarantine it and go on. Files may be gzip-compressed; a ``.gz`` file that
is not gzip, is cut short or has trailing junk is an :class:`OSError` naming the file while
streaming (the records before the damage load, the damage is quarantined) and an
:class:`~socialens.errors.InputFileError` for a file that is read whole (:func:`read_all`).

JSON is parsed with :func:`loads`, which bounds the nesting: a value nested more than
:data:`MAX_DEPTH` levels deep is cut off and replaced by the marker :data:`TOO_DEEP`, and
:func:`deep_field` names the field where that happened, so such a record is quarantined with that
reason instead of exhausting the stack of the parser or of the code after it.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from socialens.errors import InputFileError, RecordError

__all__ = ["SourceRecord", "open_binary", "read_all", "file_sha256", "iter_csv", "iter_jsonl",
           "iter_json_array", "loads", "deep_field", "MAX_DEPTH", "TOO_DEEP"]

#: The deepest nesting of JSON arrays/objects read; deeper values are cut off (:func:`loads`).
#: Real payloads stay far below (an X v1.1 retweet of a quote is about 10 levels deep).
MAX_DEPTH = 200
#: What a value nested deeper than :data:`MAX_DEPTH` is replaced by.
TOO_DEEP = "\u0000socialens: nested too deep\u0000"
_BAD_BYTE = re.compile("[\udc80-\udcff]")

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(slots=True)
class SourceRecord:
    """One record as read: ``data`` when it parsed, else ``error`` (a reason for quarantine)."""

    line: int
    raw: str
    data: Any = None
    error: str | None = None


class _Gunzip(gzip.GzipFile):
    """A gzip file whose damage (not gzip, truncated, corrupt data, trailing junk) is an
    :class:`OSError` that names the file, whichever way it is read."""

    def _damaged(self, exc: BaseException) -> OSError:
        what = "is cut short" if isinstance(exc, EOFError) else (
            "has trailing data that is not gzip" if self._read_some else "is not gzip-compressed"
        ) if isinstance(exc, gzip.BadGzipFile) else f"holds corrupt compressed data ({exc})"
        return gzip.BadGzipFile(f"{self._path}: the file {what}; name it without .gz if it is "
                                "not compressed, else compress it again")

    def _guard(self, fn, *args):
        try:
            out = fn(*args)
        except (OSError, EOFError, zlib.error) as exc:
            raise self._damaged(exc) from exc
        if out:
            self._read_some = True
        return out

    def read(self, size=-1):
        return self._guard(super().read, size)

    def read1(self, size=-1):
        return self._guard(super().read1, size)

    def readline(self, size=-1):
        return self._guard(super().readline, size)

    def readinto(self, b):
        return self._guard(super().readinto, b)

    def peek(self, n):
        return self._guard(super().peek, n)


def open_binary(path: Path) -> IO[bytes]:
    """Open a file for binary reading, transparently gunzipping ``.gz`` files."""
    try:
        if path.suffix == ".gz":
            f = _Gunzip(path, "rb")
            f._path, f._read_some = path, False
            return f
        return open(path, "rb")
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from exc


def read_all(path: Path) -> bytes:
    """The whole (gunzipped) content of a file; damage is an :class:`InputFileError` naming it."""
    try:
        with open_binary(path) as f:
            return f.read()
    except OSError as exc:
        raise InputFileError(str(exc) if str(path) in str(exc) else
                             f"cannot read {path}: {exc.strerror or exc}") from exc


def _depths(data: bytes):
    """(byte positions of the brackets outside strings, +1/-1 for each, nesting depth after each)
    of UTF-8 JSON text; sparse and vectorized (the bytes of ``"``, ``\\`` and brackets never occur
    inside a multi-byte UTF-8 character)."""
    import numpy as np

    b = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(b == 34)
    if len(quotes):
        after_bs = quotes[(quotes > 0) & (b[np.maximum(quotes - 1, 0)] == 92)]
        if len(after_bs):  # escaped unless an even run of backslashes precedes it
            bs = np.flatnonzero(b == 92)
            first = np.ones(len(bs), dtype=bool)
            first[1:] = bs[1:] != bs[:-1] + 1
            run_start = np.maximum.accumulate(np.where(first, bs, 0))
            run = after_bs - run_start[np.searchsorted(bs, after_bs - 1)]
            quotes = np.setdiff1d(quotes, after_bs[run % 2 == 1], assume_unique=True)
    brackets = np.flatnonzero((b == 91) | (b == 123) | (b == 93) | (b == 125))
    outside = np.searchsorted(quotes, brackets) % 2 == 0
    brackets = brackets[outside]
    step = np.where((b[brackets] == 91) | (b[brackets] == 123), 1, -1)
    return brackets, step, np.cumsum(step)


def _max_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text (0 when it cannot exceed
    :data:`MAX_DEPTH`: fewer brackets than that)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0
    _, _, d = _depths(text.encode("utf-8", "surrogatepass"))
    return int(d.max()) if len(d) else 0


def loads(text: str) -> tuple[Any, bool]:
    """``(value, cut)``: ``json.loads(text)`` with every array or object nested more than
    :data:`MAX_DEPTH` levels deep replaced by :data:`TOO_DEEP` (``cut`` says whether one was).

    Raises :class:`json.JSONDecodeError` as ``json.loads`` does.

    >>> value, cut = loads('{"a": ' + "[" * 300 + "]" * 300 + ', "b": 1}')
    >>> value["b"], cut, deep_field(value)
    (1, True, 'a')
    """
    if _max_depth(text) <= MAX_DEPTH:
        return json.loads(text), False
    data = text.encode("utf-8", "surrogatepass")
    pos, step, d = _depths(data)
    starts = pos[(step == 1) & (d == MAX_DEPTH + 1)]
    ends = pos[(step == -1) & (d == MAX_DEPTH)]
    marker = json.dumps(TOO_DEEP).encode()
    parts, last, j = [], 0, 0
    for s in starts:
        if s < last:
            continue
        while j < len(ends) and ends[j] < s:
            j += 1
        e = int(ends[j]) + 1 if j < len(ends) else len(data)
        parts.append(data[last:s])
        parts.append(marker)
        last = e
    parts.append(data[last:])
    return json.loads(b"".join(parts).decode("utf-8", "surrogatepass")), True


def deep_field(value: Any) -> str | None:
    """The object keys leading to the first value cut off by :func:`loads`, dotted
    (``'entities.urls'``; list positions left out), ``''`` when the whole value was or no key
    leads there, None when nothing was."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        v, path = stack.pop()
        if isinstance(v, str) and v == TOO_DEEP:
            return ".".join(path[:6])
        if isinstance(v, dict):
            stack.extend((x, path + (str(k),)) for k, x in reversed(v.items()))
        elif isinstance(v, list):
            stack.extend((x, path) for x in reversed(v))
    return None


def too_deep_error(value: Any) -> RecordError | None:
    """The quarantine reason of a value that :func:`loads` had to cut, naming the field."""
    where = deep_field(value)
    if where is None:
        return None
    field = where.split(".", 1)[0] or None
    return RecordError(
        f"{'field ' + repr(where) if where else 'the record'} is nested more than {MAX_DEPTH} "
        "levels deep; SociaLens reads at most that many levels of arrays and objects", field)


def file_sha256(path: Path) -> str:
    """sha256 of the file's bytes as stored (compressed bytes for ``.gz``)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _printable(raw: str) -> str:
    """Raw text for the quarantine table: undecodable bytes shown as U+FFFD."""
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _bad_byte(text: str) -> str | None:
    if text.isascii():
        return None
    m = _BAD_BYTE.search(text)
    return f"byte 0x{ord(m.group()) - 0xDC00:02x} at character {m.start() + 1}" if m else None


def iter_csv(path: Path) -> tuple[list[str], Iterator[SourceRecord]]:
    """The header of a CSV file and an iterator over its records as ``{column: value}`` dicts.

    The reported line is the physical line where the record starts (1-based, header = line 1).
    """
    raw = open_binary(path)
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        raw.close()
        return [], iter(())
    except (csv.Error, OSError, EOFError) as exc:
        raw.close()
        raise InputFileError(f"{path}: cannot read the CSV header: {exc}") from exc
    header = [h.strip() for h in header]
    if any(_bad_byte(h) for h in header):
        raw.close()
        raise InputFileError(f"{path}: the header is not valid UTF-8; re-save the file as UTF-8")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raw.close()
        raise InputFileError(f"{path}: duplicate column names {dupes} in the header; rename them")

    def records() -> Iterator[SourceRecord]:
        start = reader.line_num + 1
        try:
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield SourceRecord(start, "", error=f"malformed CSV: {exc}")
                    start = reader.line_num + 1
                    continue
                line, start = start, reader.line_num + 1
                if not row or row == [""]:
                    continue  # blank line: not a record
                rawtext = ",".join(row)
                bad = next((b for b in map(_bad_byte, row) if b), None)
                if bad:
                    yield SourceRecord(
                        line, _printable(rawtext),
                        error=f"not valid UTF-8 ({bad}); re-save the file as UTF-8",
                    )
                elif len(row) != len(header):
                    yield SourceRecord(
                        line, rawtext,
                        error=f"the row has {len(row)} fields but the header has {len(header)}; "
                        "quote fields that contain commas",
                    )
                else:
                    yield SourceRecord(line, rawtext, data=dict(zip(header, row, strict=True)))
        except (OSError, EOFError) as exc:
            yield SourceRecord(start, "", error=f"the file is truncated or corrupt: {exc}")
        finally:
            raw.close()

    return header, records()


def iter_jsonl(path: Path) -> Iterator[SourceRecord]:
    """Records of a JSON Lines file: one JSON value per line; blank lines are skipped."""
    with open_binary(path) as f:
        lineno = 0
        try:
            for lineno, bline in enumerate(f, start=1):  # noqa: B007
                if not bline.strip():
                    continue
                try:
                    line = bline.decode("utf-8-sig" if lineno == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    yield SourceRecord(
                        lineno, bline.decode("utf-8", "replace").rstrip("\r\n"),
                        error=f"not valid UTF-8 (byte 0x{bline[exc.start]:02x} at byte "
                        f"{exc.start + 1}); re-save the file as UTF-8",
                    )
                    continue
                line = line.rstrip("\r\n")
                try:
                    data, cut = loads(line)
                except json.JSONDecodeError as exc:
                    yield SourceRecord(
                        lineno, line, error=f"broken JSON at column {exc.colno}: {exc.msg}"
                    )
                    continue
                if cut:
                    yield SourceRecord(lineno, line, error=too_deep_error(data))
                    continue
                yield SourceRecord(lineno, line, data=data)
        except (OSError, EOFError) as exc:
            yield SourceRecord(lineno + 1, "", error=f"the file is truncated or corrupt: {exc}")


def iter_json_array(path: Path, *, pointer: tuple[str, ...] = ()) -> Iterator[SourceRecord]:
    """Records of a JSON document holding an array (optionally at a key path); line = 1-based index.

    Whole-document JSON cannot be streamed without a streaming parser; readers of large files
    should prefer JSON Lines.
    """
    doc, cut = load_document(path)
    for key in pointer:
        if not isinstance(doc, dict) or key not in doc:
            raise InputFileError(f"{path}: expected a JSON object with key {key!r}")
        doc = doc[key]
    if not isinstance(doc, list):
        raise InputFileError(f"{path}: expected a JSON array of records")
    for i, item in enumerate(doc, start=1):
        raw = json.dumps(item, ensure_ascii=False)[:10000]
        deep = too_deep_error(item) if cut else None
        yield SourceRecord(i, raw, data=None if deep else item, error=deep)


def load_document(path: Path, text: str | None = None) -> tuple[Any, bool]:
    """A whole JSON document (:func:`loads`); an :class:`InputFileError` naming the file when
    it cannot be read or is not valid UTF-8 JSON (with the line and column)."""
    if text is None:
        data = read_all(path)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[:exc.start].count(b"\n") + 1
            raise InputFileError(
                f"{path}: not valid UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); re-save "
                "the file as UTF-8") from exc
    try:
        return loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path}: not a valid JSON document: {exc.msg} at line {exc.lineno} "
                             f"column {exc.colno}") from exc
