"""Reading records from files, streaming, with their line numbers and raw text.

Readers never raise for a bad record: they yield a :class:`SourceRecord` whose ``error`` says what is
wrong, so the loader can quarantine it and go on. Files may be gzip-compressed.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from socialens.errors import InputFileError

__all__ = ["SourceRecord", "open_binary", "file_sha256", "iter_csv", "iter_jsonl", "iter_json_array"]

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(slots=True)
class SourceRecord:
    """One record as read: ``data`` when it parsed, else ``error`` (a reason for quarantine)."""

    line: int
    raw: str
    data: Any = None
    error: str | None = None


def open_binary(path: Path) -> IO[bytes]:
    """Open a file for binary reading, transparently gunzipping ``.gz`` files."""
    try:
        if path.suffix == ".gz":
            return gzip.open(path, "rb")
        return open(path, "rb")
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from exc


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
    for i, ch in enumerate(text):
        if "\udc80" <= ch <= "\udcff":
            return f"byte 0x{ord(ch) - 0xDC00:02x} at character {i + 1}"
    return None


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
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield SourceRecord(
                        lineno, line, error=f"broken JSON at column {exc.colno}: {exc.msg}"
                    )
                    continue
                yield SourceRecord(lineno, line, data=data)
        except (OSError, EOFError) as exc:
            yield SourceRecord(lineno + 1, "", error=f"the file is truncated or corrupt: {exc}")


def iter_json_array(path: Path, *, pointer: tuple[str, ...] = ()) -> Iterator[SourceRecord]:
    """Records of a JSON document holding an array (optionally at a key path); line = 1-based index.

    Whole-document JSON cannot be streamed without a streaming parser; readers of large files
    should prefer JSON Lines.
    """
    with open_binary(path) as f:
        try:
            doc = json.loads(f.read().decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputFileError(f"{path}: not a valid UTF-8 JSON document: {exc}") from exc
    for key in pointer:
        if not isinstance(doc, dict) or key not in doc:
            raise InputFileError(f"{path}: expected a JSON object with key {key!r}")
        doc = doc[key]
    if not isinstance(doc, list):
        raise InputFileError(f"{path}: expected a JSON array of records")
    for i, item in enumerate(doc, start=1):
        yield SourceRecord(i, json.dumps(item, ensure_ascii=False)[:10000], data=item)
