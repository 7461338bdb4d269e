"""Canonical ``posts.jsonl`` loaded set-based: DuckDB parses and validates, SQL routes bad rows.

This is the production path for canonical posts files; the per-record path
(:func:`socialens.ingest.canonical.map_post` through :class:`~socialens.ingest.loader.Loader`) is the
reference it is tested against, and decides only what is listed below.

* **Staging.** The (gunzipped) file is split on ``\\n`` in numpy and handed to DuckDB as one Arrow
  string array per 32 MB chunk, so every physical line keeps its number; blank lines are skipped
  and a byte order mark on line 1 is dropped as :func:`~socialens.ingest.sources.iter_jsonl` does;
  a line that is not UTF-8 is quarantined with the reader's reason and text. Each line is parsed
  once (``from_json`` into the 19 canonical fields as JSON texts; a field's JSON type comes from
  its first character) and ``map_post``'s rules are SQL predicates applied in its order, so the
  first rule a record breaks gives its quarantine reason, with the same text.
* **The Loader's rules, set-based**, decided for the whole file at once: the same batches of
  :data:`~socialens.ingest.loader.BATCH_SIZE` good records, the same de-duplication inside a
  batch, unknown ``account_id`` quarantined, existing posts counted as duplicates.
* **Texts, attrs and entities** for the whole file at once: HTML character references decoded in
  the texts that hold a ``&``; ``attrs`` written as the Loader writes a JSON column; a list the
  record gives is kept, a list it leaves out is found in the text with
  :func:`~socialens.text.scan_many` (the text layer's patterns as C-level maps), once per distinct
  text and mention rule, its matches joined back to every record with that text; each distinct
  item normalised once (:func:`_entity_values`: ``scan_value`` and
  :func:`~socialens.text.entity_rows`' normalisers) and joined back in SQL.
* **Writing**: rows are inserted per batch, one committed transaction each, with the same
  ``ingest_runs`` row and progress callbacks, so an interrupted run looks as the per-record
  path's does (the kill-point tests stop between and inside those transactions). DuckDB's
  automatic checkpoints wait until the last batch is committed (then one ``CHECKPOINT`` if the
  write-ahead log has passed the workspace's threshold; the committed batches are in the log
  meanwhile), and ``post_entities`` rows go in by a plain ``INSERT`` when the table holds no
  rows of the posts being loaded (looked for only when the file brings at least 1/8 as many
  rows as the table holds; else, or if there are such rows, ``INSERT OR IGNORE`` as the
  Loader).
* **Cost** (10^6 posts of the benchmark file, BENCHMARKS.md): staging SQL, the indexed inserts
  and their commits are most of it; the inserts into ``posts`` and ``post_entities`` (primary
  keys, ``posts_account_time``) with one commit per batch cost more than DuckDB's ``read_json``
  of the whole file, so the schema and the commit policy, not this module, now bound it.

What stays in Python, and why:

* *Records the SQL cannot decide exactly* (status ``undecidable``): a lone surrogate escape (or
  surrogate escapes beside an escaped backslash), duplicate keys (Python keeps the last), a
  trailing comma or a bare ``nan``/``inf``/``infinity`` (any case) that DuckDB's parser accepts
  and Python's refuses, nesting deeper than
  :data:`~socialens.ingest.sources.MAX_DEPTH` (or over 200 brackets), a value whose Python
  ``str()`` SQL does not reproduce (floats, odd types in id or count fields), a time in an ISO 8601
  form other than ``YYYY-MM-DD[T ]hh:mm:ss[.f{1,6}][Z|±hh:mm]`` or a date, a naive time with
  ``--timezone`` (zone rules: Python's ``zoneinfo`` decides folds and gaps). Each such record goes
  through the reader's parse, ``map_post`` and the Loader's row check *alone*, and fills in its
  staged row; the rest of the file stays set-based (:func:`_decide_in_python`).
* *Lines DuckDB's parser refuses*: their reason text ("broken JSON at column …") is Python's.
* *Whole files* go record by record (:func:`load_posts` returns None, nothing written) only for a
  workspace with forgotten people (``socialens forget``: the tombstone match is the per-record
  path's), an empty file, a damaged ``.gz`` (the reader reports where it breaks) or a staging
  error.

The parity test (``tests/ingest/test_canonical_bulk.py``) ingests tiny_org, one record per rule,
each undecidable kind, the real format samples' texts and a fuzzed corpus both ways and requires
identical tables, quarantine reasons and reports; it also checks ``scan_many``/``scan_value``
against :func:`~socialens.text.scan` on random and real texts.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from socialens.ingest.values import VISIBILITIES

if TYPE_CHECKING:
    from socialens.ingest.loader import FileReport, Loader

__all__ = ["ENABLED", "STATS", "load_posts"]

#: set to False to force the per-record path (the parity test's reference)
ENABLED = True
#: how many files went which way (``bulk`` or ``fallback: <why>``), for tests and benchmarks
STATS: Counter = Counter()

CHUNK = 32 << 20
#: rows per Arrow record batch handed to the staging query (its unit of parallel work)
SCAN_ROWS = 8192
#: DuckDB's ``checkpoint_threshold`` while the batches are written (see ``_Bulk._defer_checkpoints``)
DEFERRED_CHECKPOINT = "4GB"

FIELDS = ("post_id", "account_id", "text", "attrs", "hashtags", "mentions", "urls", "created_at",
          "lang", "reply_to_post_id", "reply_to_account_id", "quote_of", "repost_of", "url",
          "visibility", "like_count", "repost_count", "reply_count", "quote_count")
_IDS = ("reply_to_post_id", "reply_to_account_id", "quote_of", "repost_of")
_INTS = ("like_count", "repost_count", "reply_count", "quote_count")
_LISTS = ("hashtags", "mentions", "urls")

# Python's white space (str.isspace, str.strip and re's \s agree: 29 code points), as an RE2 class
_WS = (r"[\x{9}-\x{d}\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
       r"\x{202f}\x{205f}\x{3000}]")
_NOT_WS = "[^" + _WS[1:]


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _t(k: str) -> str:
    return f"t_{k}"


def _e(k: str) -> str:
    """The field's JSON text (NULL when absent or null), from the one parse of the line."""
    return f'CAST(js."{k}" AS VARCHAR)'


def _s(k: str) -> str:
    return f"s_{k}"


# what DuckDB's parser reads differently from Python's (the parity tests'): a surrogate
# escape that is not one of a high-low pair, an escaped backslash beside surrogate escapes, a
# trailing comma; and a bare nan/inf/infinity in any case, which DuckDB reads as a number and
# Python refuses (Python's NaN and Infinity are caught too: a few more lines for Python; one
# pattern per leading character, as RE2 scans fast from a literal)
PARSER_ODD = r"""(CASE WHEN NOT contains(raw, '\u') THEN false
                 WHEN NOT regexp_matches(raw, '\\u[dD][89a-fA-F]') THEN false
                 ELSE contains(raw, '\\')
             OR len(regexp_extract_all(raw, '\\u[dD][89abAB][0-9a-fA-F]{2}'))
                <> len(regexp_extract_all(raw, '\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}'))
             OR len(regexp_extract_all(raw, '\\u[dD][c-fC-F][0-9a-fA-F]{2}'))
                <> len(regexp_extract_all(raw, '\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}')) END)
             OR (CASE WHEN contains(raw, ',') THEN regexp_matches(raw, ',[ \t\n\r]*[\]}]')
                      ELSE false END)
             OR regexp_matches(raw, ':[ \t\n\r]*[-+]?[nNiI][aAnN][nNfF]([iI][nN][iI][tT][yY])?[ \t\n\r]*[,}\]]') OR regexp_matches(raw, ',[ \t\n\r]*[-+]?[nNiI][aAnN][nNfF]([iI][nN][iI][tT][yY])?[ \t\n\r]*[,}\]]') OR regexp_matches(raw, '\[[ \t\n\r]*[-+]?[nNiI][aAnN][nNfF]([iI][nN][iI][tT][yY])?[ \t\n\r]*[,}\]]')"""


def _clean(k: str) -> str:
    """clean_str of a string value: Python's strip, empty -> NULL."""
    return clean_sql(_s(k))


def clean_sql(v: str) -> str:
    """clean_str of the text expression ``v``: Python's strip, empty -> NULL."""
    return (f"nullif(CASE WHEN {v}[1] BETWEEN '!' AND '~' AND {v}[-1] BETWEEN '!' AND '~' "
            f"THEN {v} ELSE regexp_replace({v}, '^{_WS}+|{_WS}+$', '', 'g') END, '')")


def _int_text(k: str) -> str:
    """Python's str() of a JSON integer."""
    return f"CAST(TRY_CAST({_s(k)} AS HUGEINT) AS VARCHAR)"


def _trivial_repr(expr: str) -> str:
    """repr(x) is "'" + x + "'": printable ASCII without a quote or a backslash."""
    return f"regexp_full_match({expr}, '[ -&(-\\[\\]-~]*')"


def _repr(expr: str) -> str:
    return f"('''' || {expr} || '''')"


_INT = "('BIGINT', 'UBIGINT')"
_TIME = (r"^(\d{4})-\d{2}-\d{2}[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?"
         r"(Z|([+-])(\d{2}):(\d{2}))?$")
_DATE = r"^(\d{4})-\d{2}-\d{2}$"


def _steps(tz: str | None) -> list[tuple[str, str, str, str | None]]:
    """``map_post``'s checks in its order: (undecidable, fails, reason, field) SQL expressions;
    the first step that is undecidable or fails decides the row."""
    steps: list[tuple[str, str, str, str | None]] = []
    for k in ("post_id", "account_id"):
        steps.append((f"{_t(k)} NOT IN ('VARCHAR', 'NULL', 'BIGINT', 'UBIGINT')",
                      f"v_{k} IS NULL", _q(f"{k} is missing; every record needs one"), k))
        if k == "post_id":
            bad = f"NOT regexp_full_match(v_post_id, '[a-z][a-z0-9_-]*:{_NOT_WS}+')"
            steps.append((f"{bad} AND NOT {_trivial_repr('left(v_post_id, 60)')}", bad,
                          f"'post_id: ' || {_repr('left(v_post_id, 60)')} || "
                          + _q(" is not of the form platform:native_id (e.g. twitter:30354991); "
                               "prefix the native id with its platform"), "post_id"))
    steps.append(("false", "t_text NOT IN ('VARCHAR', 'NULL')", _q("text must be a string"),
                  "text"))
    steps.append(("false", "t_attrs NOT IN ('OBJECT', 'NULL')", _q("attrs must be a JSON object"),
                  "attrs"))
    for k in _LISTS:
        t, s = _t(k), _s(k)
        e = _e(k)
        # a falsy value is no list; a non-empty list must hold only strings (one CASE, so
        # json_type's second parse runs only on the non-empty arrays)
        falsy = (f"CASE {t} WHEN 'VARCHAR' THEN "
                 f"{s} = '' WHEN 'BOOLEAN' THEN {s} = 'false' WHEN 'OBJECT' THEN "
                 f"len(json_keys({e})) = 0 "
                 f"WHEN 'DOUBLE' THEN TRY_CAST({s} AS DOUBLE) = 0 "
                 f"WHEN 'BIGINT' THEN {s} = '0' WHEN 'UBIGINT' THEN {s} = '0' ELSE false END")
        strings = f"list_bool_and(list_transform(json_type({e}, '$[*]'), x -> x = 'VARCHAR'))"
        steps.append(("false", f"CASE {t} WHEN 'NULL' THEN false WHEN 'ARRAY' THEN CASE WHEN "
                      f"json_array_length({e}) = 0 THEN false ELSE NOT {strings} END "
                      f"ELSE NOT ({falsy}) END", _q(f"{k} must be a list of strings"), k))
    steps.append((f"{_t('created_at')} NOT IN ('VARCHAR', 'NULL', 'BIGINT', 'UBIGINT')",
                  "v_created_at IS NULL", _q("created_at is missing; every record needs one"),
                  "created_at"))
    # parse_time: only the forms whose meaning SQL reproduces exactly; the rest is undecidable
    no_offset = "tm.z = ''"
    ok_time = ("(regexp_full_match(v_created_at, '" + _DATE[1:-1] + "') AND "
               "TRY_CAST(v_created_at AS DATE) IS NOT NULL AND left(v_created_at, 4) <> '0000')"
               " OR (tm.y <> '' AND TRY_CAST(left(v_created_at, 10) AS DATE) IS NOT NULL AND "
               "tm.y NOT IN ('0000', '0001', '9999') AND tm.h < '24' AND tm.m < '60' AND "
               "tm.s < '60' AND (tm.z IN ('', 'Z') OR (tm.oh < '24' AND tm.om < '60'))"
               + (f" AND NOT {no_offset}" if tz is not None else "") + ")")
    naive = f"tm.y <> '' AND {no_offset}" if tz is None else "false"
    steps.append((f"NOT ({ok_time})", naive,
                  f"'created_at: time ' || {_repr('left(v_created_at, 40)')} || "
                  + _q(" has no UTC offset; add one (e.g. 2017-07-10T14:03:00Z) or say which zone "
                       "it is in with --timezone"), "created_at"))
    steps.append(("t_lang NOT IN ('VARCHAR', 'NULL')", "false", "NULL", None))
    for k in _IDS:
        steps.append((f"{_t(k)} NOT IN ('VARCHAR', 'NULL', 'BIGINT', 'UBIGINT')",
                      f"{_t(k)} IN {_INT}",
                      _q(f"{k} must be a 'platform:id' string, not the number ") + " || "
                      + _int_text(k), k))
    steps.append(("t_url NOT IN ('VARCHAR', 'NULL')", "false", "NULL", None))
    vis = "lower(v_visibility)"
    allowed = ", ".join(map(_q, (*VISIBILITIES, "unknown")))
    bad_vis = f"t_visibility = 'VARCHAR' AND v_visibility IS NOT NULL AND {vis} NOT IN ({allowed})"
    steps.append((f"t_visibility NOT IN ('VARCHAR', 'NULL') OR (t_visibility = 'VARCHAR' AND "
                  f"NOT (v_visibility IS NULL OR (v_visibility ~ '^[ -~]*$' AND "
                  f"{_trivial_repr(vis)})))", bad_vis,
                  f"'visibility ' || {_repr(vis)} || "
                  + _q(f" is not one of {', '.join(VISIBILITIES)} or unknown"), "visibility"))
    for k in _INTS:
        t, s = _t(k), _s(k)
        steps.append((f"{t} NOT IN ('NULL', 'BOOLEAN', 'BIGINT', 'UBIGINT') AND NOT ({t} = "
                       f"'VARCHAR' AND {s} = '')",
                      f"{t} = 'BOOLEAN' OR ({t} = 'BIGINT' AND TRY_CAST({s} AS HUGEINT) < 0) OR "
                      f"({t} = 'UBIGINT' AND TRY_CAST({s} AS HUGEINT) > 9223372036854775807)",
                      f"{_q(k + ': ')} || CASE WHEN {t} = 'BOOLEAN' THEN "
                      f"CASE {s} WHEN 'true' THEN 'True' ELSE 'False' END || ' is not an integer' "
                      f"WHEN TRY_CAST({s} AS HUGEINT) < 0 THEN {_int_text(k)} || ' is below the "
                      f"minimum 0' ELSE {_int_text(k)} || ' is too large' END", k))
    return steps


def _stage_sql(tz: str | None) -> str:
    # each field's JSON type from the first character of its JSON text (ascii(): its code point;
    # json_type only for a number) and its value (a string without escapes is the text between
    # the quotes)
    types = ", ".join(
        f"CASE WHEN {_e(k)} IS NULL THEN 'NULL' ELSE CASE ascii({_e(k)}) WHEN 34 THEN "
        f"'VARCHAR' WHEN 123 THEN 'OBJECT' WHEN 91 THEN 'ARRAY' WHEN 116 THEN 'BOOLEAN' "
        f"WHEN 102 THEN 'BOOLEAN' WHEN 110 THEN 'NULL' ELSE json_type({_e(k)}) END END "
        f"AS {_t(k)}, CASE WHEN ascii({_e(k)}) <> 34 THEN {_e(k)} "
        f"WHEN contains({_e(k)}, '\\') THEN {_e(k)} ->> '$' ELSE {_e(k)}[2:-2] END AS {_s(k)}"
        for k in FIELDS)
    struct = "{" + ", ".join(f'"{k}": "JSON"' for k in FIELDS) + "}"
    values = []
    for k in ("post_id", "account_id", "created_at"):
        values.append(f"CASE {_t(k)} WHEN 'VARCHAR' THEN {_clean(k)} WHEN 'NULL' THEN NULL "
                      f"ELSE {_int_text(k)} END AS v_{k}")
    values.append(f"CASE t_visibility WHEN 'VARCHAR' THEN {_clean('visibility')} END "
                  "AS v_visibility")
    steps = _steps(tz)
    # each row's deciding step, computed once: 0 = passes all, -1 = undecidable, k = fails step k
    step = ["WHEN t_top <> 'OBJECT' THEN 1"]
    reason = ["WHEN 1 THEN 'expected a JSON object, got ' || CASE t_top "
              "WHEN 'ARRAY' THEN 'list' WHEN 'VARCHAR' THEN 'str' WHEN 'BIGINT' THEN 'int' "
              "WHEN 'UBIGINT' THEN 'int' WHEN 'DOUBLE' THEN 'float' WHEN 'BOOLEAN' THEN 'bool' "
              "ELSE 'NoneType' END"]
    fld = []
    for n, (undecidable, fails, why, f) in enumerate(steps, start=2):
        if undecidable != "false":
            step.append(f"WHEN {undecidable} THEN -1")
        if fails != "false":
            step.append(f"WHEN {fails} THEN {n}")
            reason.append(f"WHEN {n} THEN {why}")
            fld.append(f"WHEN {n} THEN {_q(f) if f else 'NULL'}")
    decide = ["WHEN NOT ok THEN 'json'", "WHEN step = -1 THEN 'undecidable'",
              "WHEN step > 0 THEN 'bad'"]
    ts = ("CASE WHEN length(v_created_at) = 10 THEN CAST(TRY_CAST(v_created_at AS DATE) AS "
          "TIMESTAMP) AT TIME ZONE 'UTC' ELSE TRY_CAST(v_created_at AS TIMESTAMPTZ) END")
    ids = ", ".join(f"CASE {_t(k)} WHEN 'VARCHAR' THEN {_clean(k)} END AS {k}" for k in _IDS)
    ints = ", ".join(f"CASE WHEN {_t(k)} IN {_INT} THEN TRY_CAST({_s(k)} AS BIGINT) END AS {k}"
                     for k in _INTS)
    lists = ", ".join(
        f"CASE WHEN {_t(k)} = 'NULL' THEN NULL WHEN {_t(k)} = 'ARRAY' THEN "
        f"from_json({_e(k)}, '[\"VARCHAR\"]') ELSE []::VARCHAR[] END AS l_{k}"
        for k in _LISTS)
    return f"""
    WITH lines AS (
        SELECT _line, CASE WHEN _line = 1 AND starts_with(line, chr(65279)) THEN
                             rtrim(substr(line, 2), chr(13))
                           WHEN suffix(line, chr(13)) THEN rtrim(line, chr(13))
                           ELSE line END AS raw
        FROM _cb_lines
        -- blank lines (bytes.strip()) are not records; most lines start with a non-blank
        -- (CASE evaluates its branches lazily, AND and OR in a projection both sides)
        WHERE CASE WHEN ascii(line) NOT IN (0, 9, 10, 11, 12, 13, 32) THEN true
                   ELSE trim(line, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13))
                        <> '' END),
    parsed AS (
        SELECT _line, raw, json_valid(raw) AS ok,
               -- what DuckDB's parser reads differently from Python's, or Python's loads() cuts
               -- (a surrogate escape that is not one of a high-low pair; an escaped backslash
               -- beside surrogate escapes is not looked into)
               {PARSER_ODD}
                 OR (CASE WHEN strlen(raw) > 200 THEN
                     strlen(raw) - strlen(replace(replace(raw, '[', ''), '{{', '')) > 200
                     ELSE false END)
                 AS odd
        FROM lines),
    valid AS (SELECT *, CASE WHEN ok THEN raw END AS j FROM parsed),
    topped AS (SELECT *, CASE WHEN j IS NULL THEN 'NULL' WHEN ascii(j) = 123 THEN 'OBJECT'
                              ELSE coalesce(json_type(j), 'NULL') END AS t_top FROM valid),
    objects AS (SELECT *, CASE WHEN t_top = 'OBJECT' AND NOT odd THEN j END AS o FROM topped),
    keyed AS (SELECT *, from_json(o, '{struct}') AS js, json_keys(o) AS k FROM objects),
    -- a repeated key (Python keeps the last value); a record with the keys of the chunk's first
    -- object, in their order, repeats none (a cheap list comparison before list_distinct)
    fields AS (SELECT *, CASE WHEN k = {_KEYS} THEN false
                              ELSE len(k) <> len(list_distinct(k)) END AS dupkeys FROM keyed),
    typed AS (SELECT *, {types} FROM fields),
    valued AS (SELECT *, {", ".join(values)} FROM typed),
    timed AS (SELECT *, regexp_extract(v_created_at, '{_TIME}',
                  ['y', 'h', 'm', 's', 'f', 'z', 'sign', 'oh', 'om']) AS tm FROM valued),
    stepped AS (SELECT *, CASE {" ".join(step)} ELSE 0 END AS step FROM timed),
    decided AS (
        SELECT *, CASE WHEN odd OR dupkeys THEN 'undecidable' {" ".join(decide)} ELSE 'ok' END
                  AS status,
               CASE step {" ".join(reason)} END AS reason,
               CASE step {" ".join(fld)} END AS field
        FROM stepped)
    SELECT _line, raw, status, reason, field,
           CASE WHEN status = 'ok' THEN v_post_id END AS post_id,
           CASE WHEN status = 'ok' THEN split_part(v_post_id, ':', 1) END AS platform,
           CASE WHEN status = 'ok' THEN v_account_id END AS account_id,
           CASE WHEN status = 'ok' THEN {ts} END AS created_at,
           CASE WHEN status = 'ok' AND t_text = 'VARCHAR' THEN s_text END AS text,
           CASE WHEN status = 'ok' AND t_lang = 'VARCHAR' THEN {_clean('lang')} END AS lang,
           {ids},
           CASE WHEN status = 'ok' AND t_url = 'VARCHAR' THEN {_clean('url')} END AS url,
           CASE WHEN status <> 'ok' THEN NULL WHEN NOT list_contains(k, 'visibility') THEN 'public'
                WHEN v_visibility IS NULL OR lower(v_visibility) = 'unknown' THEN NULL
                ELSE lower(v_visibility) END AS visibility,
           {ints},
           status = 'ok' AND t_attrs = 'OBJECT' AND len(json_keys(js."attrs")) > 0 AS has_attrs,
           NULL::VARCHAR AS py_attrs,
           NULL::STRUCT(kind VARCHAR, value VARCHAR)[] AS py_ents,
           {lists}
    FROM decided
    """


class _Undecidable(Exception):
    """The file must go record by record (the message says why)."""


def _bad_utf8_lines(data: bytes, first: int):
    """A chunk that is not valid UTF-8, line by line as :func:`~socialens.ingest.sources.iter_jsonl`
    decodes it: ``(texts, bad)``, texts with ``""`` (a blank line, skipped) in place of each line
    that does not decode, bad its ``(line, raw, reason)`` quarantine entries (the reader's text)."""
    texts, bad = [], []
    blines = data.split(b"\n")
    if data.endswith(b"\n"):
        blines.pop()
    for i, b in enumerate(blines):
        try:
            texts.append(b.decode("utf-8"))
            continue
        except UnicodeDecodeError:
            texts.append("")  # not staged: its quarantine entry is added beside
        lineno = first + i
        bline = b + b"\n" if i < len(blines) - 1 or data.endswith(b"\n") else b
        try:
            bline.decode("utf-8-sig" if lineno == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            bad.append((lineno, bline.decode("utf-8", "replace").rstrip("\r\n"),
                        f"not valid UTF-8 (byte 0x{bline[exc.start]:02x} at byte "
                        f"{exc.start + 1}); re-save the file as UTF-8"))
    return texts, bad


def _line_arrays(path: Path):
    """``(first_line_number, lines, bad)`` per chunk of the (gunzipped) file: an Arrow string array
    of its lines without the ``\\n``, and the quarantine entries of lines that are not UTF-8
    (those lines are blank in the array)."""
    from socialens.ingest.sources import open_binary

    line = 1
    rest = b""
    try:
        f = open_binary(path)
    except Exception as exc:  # noqa: BLE001 - the per-record path reports it
        raise _Undecidable("the file cannot be opened") from exc
    with f:
        while True:
            try:
                block = f.read(CHUNK)
            except (OSError, EOFError) as exc:
                raise _Undecidable("a damaged .gz file") from exc
            data = rest + block
            if not data:
                return
            if block:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    rest = data
                    continue
                data, rest = data[:cut], data[cut:]
            else:
                rest = b""
            ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
            n = len(ends) + (not data.endswith(b"\n"))
            flat = data.replace(b"\n", b"")
            off = np.empty(n + 1, dtype=np.int64)
            off[0] = 0
            off[1:len(ends) + 1] = ends - np.arange(len(ends))  # line i ends at ends[i] - i
            off[-1] = len(flat)
            arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(off.tobytes()),
                                                   pa.py_buffer(flat))
            bad: list = []
            try:
                arr.validate(full=True)
            except pa.ArrowInvalid:
                texts, bad = _bad_utf8_lines(data, line)
                arr = pa.array(texts, pa.large_string())
            yield line, arr, bad
            line += n
            if not block:
                return


_UNITS = {"bytes": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
          "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}


def _size_bytes(setting: str) -> int | None:
    """DuckDB's display of a size setting (``'16.0 MiB'``) in bytes; None if not understood."""
    number, _, unit = setting.strip().partition(" ")
    try:
        return int(float(number) * _UNITS[unit or "bytes"])
    except (ValueError, KeyError):
        return None


def _fallback(why: str) -> None:
    STATS[f"fallback: {why}"] += 1
    return None


#: where :func:`_stage` puts :func:`_keys_literal` of each chunk into the staging query
_KEYS = "__CB_KEYS__"


def _keys_literal(arr: pa.Array) -> str:
    """The keys of the chunk's first JSON object (among its first lines) as a SQL list, in
    their order: a record whose ``json_keys`` equal it has no repeated key (Python's dict keys
    are distinct). NULL when no such line: every record is then checked with list_distinct."""
    for value in arr[:16].to_pylist():
        try:
            data = json.loads(value)
        except (ValueError, RecursionError):
            continue
        if isinstance(data, dict) and all(_plain(k) for k in data):
            return "[" + ", ".join(map(_q, data)) + "]::VARCHAR[]"
    return "NULL::VARCHAR[]"


def _plain(key: str) -> bool:
    """A key that a SQL string literal holds as it is (no NUL, no lone surrogate)."""
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in key


def _stage(con, loader: Loader, path: Path, tz: str | None) -> str | None:
    """Stage the file into ``_cb_stage``; a reason to fall back, or None."""
    sql = _stage_sql(tz)
    con.execute("DROP TABLE IF EXISTS _cb_stage")
    first = True
    bad_utf8: list = []
    for start, arr, bad in _line_arrays(path):
        bad_utf8 += bad
        tbl = pa.table({"_line": pa.array(np.arange(start, start + len(arr)), pa.int64()),
                        "line": arr})
        # record batches (zero-copy slices) DuckDB's threads can share; one array is one task
        tbl = pa.Table.from_batches(tbl.to_batches(max_chunksize=SCAN_ROWS))
        con.register("_cb_lines", tbl)
        try:
            chunk_sql = sql.replace(_KEYS, _keys_literal(arr))
            if first:
                con.execute(f"CREATE TEMP TABLE _cb_stage AS {chunk_sql}")
                first = False
            else:
                con.execute(f"INSERT INTO _cb_stage {chunk_sql}")
        finally:
            con.unregister("_cb_lines")
    if first:
        return "an empty file"
    if bad_utf8:
        con.register("_cb_bad", pa.table({
            "_line": pa.array([r[0] for r in bad_utf8], pa.int64()),
            "raw": pa.array([r[1] for r in bad_utf8], pa.string()),
            "reason": pa.array([r[2] for r in bad_utf8], pa.string())}))
        try:
            con.execute("""INSERT INTO _cb_stage BY NAME
                           SELECT _line, raw, 'bad' AS status, reason FROM _cb_bad""")
        finally:
            con.unregister("_cb_bad")
    _decide_in_python(con, loader, tz)
    return None


#: the staged columns of a good record, as :func:`_decide_in_python` fills them in
_ROW = (("post_id", pa.string()), ("account_id", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")), ("text", pa.string()),
        ("lang", pa.string()), ("reply_to_post_id", pa.string()),
        ("reply_to_account_id", pa.string()), ("quote_of", pa.string()),
        ("repost_of", pa.string()), ("url", pa.string()), ("visibility", pa.string()),
        ("like_count", pa.int64()), ("repost_count", pa.int64()), ("reply_count", pa.int64()),
        ("quote_count", pa.int64()))


def _decide_in_python(con, loader: Loader, tz: str | None) -> None:
    """The records the SQL cannot decide exactly (``undecidable``: a lone surrogate escape,
    duplicate keys, a trailing comma, deep nesting, a value whose Python ``str()`` SQL does not
    reproduce, a time in another ISO 8601 form, a naive time with ``--timezone``) and the lines
    DuckDB's JSON parser refuses (``json``): each goes through the reader's parse, ``map_post``
    and the Loader's row check, one by one, and its staged row is filled in with the outcome
    (its post row and entities, or its quarantine reason). The rest of the file stays set-based."""
    from socialens.errors import RecordError
    from socialens.ingest.canonical import map_post
    from socialens.ingest.sources import loads, too_deep_error

    todo = con.execute("""SELECT _line, raw, status = 'undecidable' FROM _cb_stage
                          WHERE status IN ('undecidable', 'json') ORDER BY _line""").fetchall()
    if not todo:
        return
    if n := sum(t[2] for t in todo):
        STATS["records decided in Python"] += n
    bad: list[tuple[int, str, str | None]] = []
    good: list[tuple[int, dict]] = []
    for line, raw, _ in todo:
        try:
            data, cut = loads(raw)
        except json.JSONDecodeError as exc:
            bad.append((line, f"broken JSON at column {exc.colno}: {exc.msg}", None))
            continue
        except RecursionError as exc:  # the per-record path fails the same way
            raise _Undecidable("JSON Python cannot parse") from exc
        if cut:
            err = too_deep_error(data)
            if err is not None:
                bad.append((line, err.reason, err.field))
                continue
            data = None
        try:
            [(_, row)] = map_post(data, tz)
        except RecordError as exc:
            bad.append((line, exc.reason, exc.field))
            continue
        why = loader._invalid("posts", row)
        if why is not None:
            bad.append((line, why[0], why[1]))
            continue
        good.append((line, row))
    if bad:
        con.register("_cb_broken", pa.table({
            "_line": pa.array([r[0] for r in bad], pa.int64()),
            "reason": pa.array([r[1] for r in bad], pa.string()),
            "field": pa.array([r[2] for r in bad], pa.string())}))
        try:
            con.execute("""UPDATE _cb_stage s SET status = 'bad', reason = b.reason,
                             field = b.field FROM _cb_broken b WHERE s._line = b._line""")
        finally:
            con.unregister("_cb_broken")
    if good:
        from socialens.ingest.loader import _clean_text

        cols = {"_line": pa.array([g[0] for g in good], pa.int64())}
        for name, typ in _ROW:
            cols[name] = pa.array([g[1].get(name) for g in good], typ)
        cols["platform"] = pa.array([g[1]["post_id"].split(":", 1)[0] for g in good])
        cols["py_attrs"] = pa.array(
            [None if g[1].get("attrs") is None else _clean_text(json.dumps(
                g[1]["attrs"], ensure_ascii=False, sort_keys=True, default=str)) for g in good],
            pa.string())
        ent = pa.list_(pa.struct([("kind", pa.string()), ("value", pa.string())]))
        cols["py_ents"] = pa.array([[{"kind": k, "value": v} for k, v in
                                     dict.fromkeys(g[1].get("_entities") or ())]
                                    for g in good], ent)
        con.register("_cb_py", pa.table(cols))
        sets = ", ".join(f"{c} = p.{c}" for c in (*(n for n, _ in _ROW), "platform", "py_attrs",
                                                   "py_ents"))
        try:
            con.execute(f"""UPDATE _cb_stage s SET status = 'ok', reason = NULL, field = NULL,
                              has_attrs = false, l_hashtags = [], l_mentions = [], l_urls = [],
                              {sets}
                            FROM _cb_py p WHERE s._line = p._line""")
        finally:
            con.unregister("_cb_py")


def load_posts(loader: Loader, path: Path, tz: str | None) -> FileReport | None:
    """Load a canonical ``posts.jsonl`` set-based into ``loader``'s workspace; None (nothing
    written) when the file must go through the per-record path (see the module docstring)."""
    if not ENABLED:
        return None
    if loader._forgotten:
        return _fallback("forgotten people")
    con = loader.con
    try:
        why = _stage(con, loader, path, tz)
    except _Undecidable as exc:
        con.execute("DROP TABLE IF EXISTS _cb_stage")
        return _fallback(str(exc))
    except Exception:  # noqa: BLE001 - any surprise in staging: the per-record path decides
        con.execute("DROP TABLE IF EXISTS _cb_stage")
        return _fallback("staging failed")
    if why is not None:
        con.execute("DROP TABLE IF EXISTS _cb_stage")
        return _fallback(why)
    STATS["bulk"] += 1
    try:
        return _Bulk(loader).run()
    finally:
        con.execute("DROP TABLE IF EXISTS _cb_stage")


#: entity sources: (source, kind) of a given list (``hashtags``...) or of matches found in text
_GIVEN = (("h", "hashtag", "hashtags"), ("m", "mention", "mentions"), ("u", "url", "urls"))


def _entity_values(src: str, item: str) -> list[tuple[str, str]]:
    """The ``post_entities`` pairs that one item gives, exactly as :func:`map_post` (through
    :func:`~socialens.ingest.canonical.post_entities` and :func:`~socialens.text.entity_rows`)
    and the Loader store them: ``h``/``m``/``u`` an item of a given list, ``ht`` a hashtag run,
    ``mt``/``mg`` a mention found with the Twitter/other rule, ``ut`` a URL match."""
    from socialens.ingest.loader import _clean_text
    from socialens.text import normalize_hashtag, normalize_mention, normalize_url, scan_value

    if src in ("h", "m", "u"):
        kind, found = {"h": "hashtag", "m": "mention", "u": "url"}[src], [item]
    else:
        kind = {"ht": "hashtag", "mt": "mention", "mg": "mention", "ut": "url"}[src]
        found = scan_value(kind, item, twitter=src != "mg")
    norm = {"hashtag": normalize_hashtag, "mention": normalize_mention, "url": normalize_url}[kind]
    return [(kind, _clean_text(v)) for v in map(norm, found) if v]


class _Bulk:
    """The Loader's bookkeeping over the staged file: what each good record becomes, its stored
    text and attrs and its entities are decided for the whole file at once (set-based, Python
    only over distinct values and the texts that need it), then rows are inserted in the Loader's
    batches, one committed transaction each (the kill-point tests stop between them)."""

    def __init__(self, loader: Loader):
        self.l = loader
        self.con = loader.con
        self._entities_conflict = True  # set by run() once _cb_load exists

    def run(self) -> FileReport:
        from datetime import UTC, datetime

        from socialens.ingest import loader as loader_mod

        ld, con = self.l, self.con
        size = int(loader_mod.BATCH_SIZE)
        # The Loader's rules, set-based. Good records are numbered in file order; batch k holds
        # good records [k*size, (k+1)*size). Inside a batch a repeated post_id is a duplicate
        # (the first wins); a kept record with an unknown account_id is quarantined; of the
        # kept records with a known account, the first of each post_id that is not in posts
        # yet is loaded and every other one is a duplicate.
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _cb_good AS
            WITH g AS (
                SELECT _line, post_id, account_id,
                       (row_number() OVER (ORDER BY _line) - 1) // {size} AS batch
                FROM _cb_stage WHERE status = 'ok'),
            k AS (
                SELECT *, row_number() OVER (PARTITION BY batch, post_id ORDER BY _line) > 1
                          AS dup_in_batch FROM g),
            r AS (
                SELECT k.*, a.account_id IS NULL AS unknown FROM k
                LEFT JOIN (SELECT DISTINCT account_id FROM accounts) a
                  ON a.account_id = k.account_id)
            SELECT r._line, r.batch,
                   CASE WHEN dup_in_batch THEN 'duplicate' WHEN unknown THEN 'unknown'
                        WHEN p.post_id IS NOT NULL THEN 'duplicate'
                        WHEN row_number() OVER (PARTITION BY r.post_id, dup_in_batch OR unknown
                                                ORDER BY r._line) > 1 THEN 'duplicate'
                        ELSE 'load' END AS fate
            FROM r LEFT JOIN posts p ON p.post_id = r.post_id AND NOT dup_in_batch
                                        AND NOT unknown
            ORDER BY r._line""")
        bounds = con.execute("""SELECT batch, max(_line), count(*),
                                       count(*) FILTER (WHERE fate = 'duplicate'),
                                       count(*) FILTER (WHERE fate = 'load'),
                                       count(*) FILTER (WHERE fate = 'unknown')
                                FROM _cb_good GROUP BY batch ORDER BY batch""").fetchall()
        n_lines = con.execute("SELECT count(*), max(_line) FROM _cb_stage").fetchone()
        ld.report.n_read = n_lines[0]
        self._prepare()
        self._entities_conflict = self._conflicts()
        ld._begin(datetime.now(UTC))
        threshold = self._defer_checkpoints()
        try:
            prev = 0
            for i, (batch, last, n, n_dup, n_load, n_unknown) in enumerate(bounds):
                final = i == len(bounds) - 1
                upto = n_lines[1] if final else last
                with ld.ws.transaction():
                    self._quarantine_lines(prev, upto)
                    self._batch(batch, prev, last, n, n_dup, n_load, n_unknown)
                    ld._flush_quarantine()
                    if final:
                        ld._finish()
                prev = upto
            if not bounds:
                with ld.ws.transaction():
                    self._quarantine_lines(0, n_lines[1])
                    ld._flush_quarantine()
                    ld._finish()
        except BaseException:
            ld._abandon()
            raise
        finally:
            self._restore_checkpoints(threshold)
            for t in ("_cb_good", "_cb_load", "_cb_ents"):
                con.execute(f"DROP TABLE IF EXISTS {t}")
        self._checkpoint(threshold)
        return ld.report

    def _conflicts(self) -> bool:
        """Whether the inserts must skip existing rows as the Loader's INSERT OR IGNORE does:
        ``post_entities`` may hold rows of a post about to be loaded (the posts row is new, but
        rows can outlive it). Looking costs a scan of ``post_entities``, worth it only when the
        file brings many rows beside those already there; otherwise INSERT OR IGNORE it is."""
        con = self.con
        n_old = con.execute("SELECT count(*) FROM post_entities").fetchone()[0]
        if n_old == 0:
            return False
        if con.execute("SELECT count(*) FROM _cb_ents").fetchone()[0] * 8 < n_old:
            return True
        return bool(con.execute(
            """SELECT EXISTS (SELECT 1 FROM post_entities e
                              WHERE e.post_id IN (SELECT post_id FROM _cb_load))""").fetchone()[0])

    # -- checkpoints -------------------------------------------------------------------------------
    def _defer_checkpoints(self) -> str | None:
        """Raise DuckDB's ``checkpoint_threshold`` for the batches (the previous value, to restore).

        Every committed batch still goes to the write-ahead log (a kill loses nothing committed;
        the next open replays it), but DuckDB would otherwise checkpoint each time the log passes
        16 MiB, every few batches, each time writing the tables and their primary-key indexes: at
        10^6 posts the commits took 19.5 s CPU that way and 13.6 s with one checkpoint after the
        last batch (:meth:`_checkpoint`; one run each, loaded machine)."""
        try:
            old = self.con.execute("SELECT current_setting('checkpoint_threshold')").fetchone()[0]
            self.con.execute(f"SET checkpoint_threshold = '{DEFERRED_CHECKPOINT}'")
        except Exception:  # noqa: BLE001 - a DuckDB without the setting: checkpoint as it will
            return None
        return old

    def _restore_checkpoints(self, old: str | None) -> None:
        if old is not None:
            self.con.execute(f"SET checkpoint_threshold = {_q(old)}")

    def _checkpoint(self, old: str | None) -> None:
        """The one checkpoint of the loaded batches, if the write-ahead log has passed the
        threshold at which DuckDB would have checkpointed (a small file leaves it to DuckDB, as
        before); skipped if DuckDB refuses it, e.g. while another connection holds a
        transaction (its automatic checkpoint comes later)."""
        import duckdb

        if old is None:  # nothing was deferred
            return
        limit = _size_bytes(old)
        wal = Path(f"{self.l.ws.path}.wal")
        if limit is not None and (not wal.exists() or wal.stat().st_size < limit):
            return
        try:
            self.con.execute("CHECKPOINT")
        except duckdb.Error:
            pass

    # -- the whole file at once -----------------------------------------------------------------
    def _prepare(self) -> None:
        """``_cb_load``: the posts rows to insert (texts decoded, attrs normalised) with their
        batch; ``_cb_ents``: their ``post_entities`` rows."""
        import json as _json

        from socialens.ingest.loader import _clean_text
        from socialens.text import decode_entities

        con = self.con
        # stored texts: HTML character references decoded (only texts with a '&' can change)
        amp = con.execute("""SELECT s._line, s.text FROM _cb_stage s SEMI JOIN
                               (SELECT _line FROM _cb_good WHERE fate = 'load') g USING (_line)
                             WHERE contains(s.text, '&')""").fetchall()
        fixes = {}
        for line, text in amp:
            dec = decode_entities(text)
            if dec != text:
                fixes[line] = [dec, None]
        # attrs as the Loader writes a JSON column (sorted keys, Python's separators)
        for line, raw in con.execute(
                """SELECT s._line, s.raw FROM _cb_stage s SEMI JOIN
                     (SELECT _line FROM _cb_good WHERE fate = 'load') g USING (_line)
                   WHERE s.has_attrs""").fetchall():
            attrs = _json.loads(raw)["attrs"]
            fixes.setdefault(line, [None, None])[1] = _clean_text(
                _json.dumps(attrs, ensure_ascii=False, sort_keys=True, default=str))
        con.register("_cb_fix", pa.table({
            "_line": pa.array(list(fixes), pa.int64()),
            "text": pa.array([v[0] for v in fixes.values()], pa.string()),
            "attrs": pa.array([v[1] for v in fixes.values()], pa.string())}))
        try:
            con.execute("""CREATE OR REPLACE TEMP TABLE _cb_load AS
                SELECT g.batch, s._line, s.post_id, s.account_id, s.created_at,
                       coalesce(f.text, s.text) AS text, s.lang, s.reply_to_post_id,
                       s.reply_to_account_id, s.quote_of, s.repost_of, s.like_count,
                       s.repost_count, s.reply_count, s.quote_count, s.url,
                       coalesce(s.py_attrs, f.attrs) AS attrs, s.visibility, s.platform,
                       s.l_hashtags, s.l_mentions, s.l_urls, s.py_ents
                FROM _cb_stage s JOIN _cb_good g USING (_line) LEFT JOIN _cb_fix f USING (_line)
                WHERE g.fate = 'load' ORDER BY s._line""")
        finally:
            con.unregister("_cb_fix")
        self._entities()

    def _entities(self) -> None:
        """``_cb_ents`` from the given lists and, for a list a record leaves out, from its text
        (:func:`~socialens.text.scan_many` once per distinct text and mention rule, its matches
        joined back to every record with that text; :func:`_entity_values` once per distinct
        item)."""
        from socialens.text import TWITTER_PLATFORMS, scan_many

        con = self.con
        twitter = ", ".join(map(_q, sorted(TWITTER_PLATFORMS)))
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _cb_need AS
            SELECT _line, text, platform IN ({twitter}) AS tw, l_hashtags IS NULL AS nh,
                   l_mentions IS NULL AS nm, l_urls IS NULL AS nu
            FROM _cb_load WHERE (l_hashtags IS NULL OR l_mentions IS NULL OR l_urls IS NULL)
                                AND text <> ''""")
        texts = con.execute("SELECT DISTINCT text, tw FROM _cb_need").to_arrow_table()
        urls, tags, mentions = scan_many(texts.column(0).to_pylist(), texts.column(1).to_pylist())
        items = pa.list_(pa.string())
        con.register("_cb_scan", pa.table({
            "text": texts.column(0), "tw": texts.column(1), "urls": pa.array(urls, items),
            "tags": pa.array(tags, items), "mentions": pa.array(mentions, items)}))
        try:
            given = " UNION ALL ".join(
                f"SELECT _line, '{src}' AS src, unnest(l_{col}) AS item FROM _cb_load "
                f"WHERE l_{col} IS NOT NULL" for src, _, col in _GIVEN)
            con.execute(f"""CREATE OR REPLACE TEMP TABLE _cb_items AS
                WITH found AS (SELECT n.*, s.urls, s.tags, s.mentions
                               FROM _cb_need n JOIN _cb_scan s USING (text, tw))
                SELECT DISTINCT _line, src, item FROM (
                    {given}
                    UNION ALL SELECT _line, 'ut', unnest(urls) FROM found WHERE nu
                    UNION ALL SELECT _line, 'ht', unnest(tags) FROM found WHERE nh
                    UNION ALL SELECT _line, CASE WHEN tw THEN 'mt' ELSE 'mg' END,
                                     unnest(mentions) FROM found WHERE nm)""")
        finally:
            con.unregister("_cb_scan")
            con.execute("DROP TABLE IF EXISTS _cb_need")
        distinct = con.execute("SELECT DISTINCT src, item FROM _cb_items").fetchall()
        m_src, m_item, m_kind, m_value = [], [], [], []
        for src, item in distinct:
            for kind, value in _entity_values(src, item):
                m_src.append(src)
                m_item.append(item)
                m_kind.append(kind)
                m_value.append(value)
        con.register("_cb_emap", pa.table({"src": pa.array(m_src, pa.string()),
                                           "item": pa.array(m_item, pa.string()),
                                           "kind": pa.array(m_kind, pa.string()),
                                           "value": pa.array(m_value, pa.string())}))
        try:
            con.execute("""CREATE OR REPLACE TEMP TABLE _cb_ents AS
                SELECT DISTINCT * FROM (
                    SELECT l.batch, l._line, l.post_id, m.kind, m.value
                    FROM _cb_items i JOIN _cb_emap m USING (src, item)
                    JOIN _cb_load l USING (_line)
                    UNION ALL  -- the records decided in Python: map_post's entities
                    SELECT batch, _line, post_id, e.kind, e.value
                    FROM (SELECT batch, _line, post_id, unnest(py_ents) AS e FROM _cb_load
                          WHERE py_ents IS NOT NULL))
                ORDER BY _line""")
        finally:
            con.unregister("_cb_emap")
            con.execute("DROP TABLE IF EXISTS _cb_items")

    # -- batch by batch -------------------------------------------------------------------------
    def _quarantine_lines(self, after: int, upto: int) -> None:
        rows = self.con.execute(
            """SELECT _line, raw, field, reason FROM _cb_stage WHERE status = 'bad'
               AND _line > ? AND _line <= ? ORDER BY _line""", [after, upto]).fetchall()
        for line, raw, fld, reason in rows:
            self.l._add_quarantine(line, raw, self.l.report.target, reason, fld)

    def _batch(self, batch: int, after: int, last: int, n: int, n_dup: int, n_load: int,
               n_unknown: int) -> None:
        from socialens.ingest.loader import unknown_ref_reason

        ld, con = self.l, self.con
        ld.report.n_duplicate += n_dup
        if n_unknown:
            unknown = con.execute(
                """SELECT s._line, s.raw, s.account_id FROM _cb_good g JOIN _cb_stage s
                   USING (_line) WHERE g.batch = ? AND g.fate = 'unknown' ORDER BY s._line""",
                [batch]).fetchall()
            for line, raw, value in unknown:
                ld._add_quarantine(line, raw, "posts",
                                   unknown_ref_reason("account_id", value, "accounts"),
                                   "account_id")
        self._mark_records(after, last)
        if n_load:
            con.execute(
                """INSERT INTO posts (post_id, account_id, created_at, text, lang,
                     reply_to_post_id, reply_to_account_id, quote_of, repost_of, like_count,
                     repost_count, reply_count, quote_count, url, attrs, visibility,
                     collected_as, run_id, source_line)
                   SELECT post_id, account_id, created_at, text, lang, reply_to_post_id,
                          reply_to_account_id, quote_of, repost_of, like_count, repost_count,
                          reply_count, quote_count, url, attrs::JSON, visibility, 'record', ?,
                          _line
                   FROM _cb_load WHERE batch = ? ORDER BY _line""", [ld.run_id, batch])
            # the Loader's INSERT OR IGNORE only where the table already holds rows of these
            # posts; else a plain INSERT (same rows: _cb_ents is distinct, one post per post_id)
            verb = "INSERT OR IGNORE" if self._entities_conflict else "INSERT"
            con.execute(f"""{verb} INTO post_entities
                            SELECT post_id, kind, value, ? FROM _cb_ents WHERE batch = ?""",
                        [ld.run_id, batch])
        ld.report.n_loaded += n_load
        if ld.on_progress:
            ld.on_progress(n)

    def _mark_records(self, after: int, last: int) -> None:
        """As :meth:`Loader._mark_records`: posts loaded embedded that now arrive as records."""
        ld = self.l
        if ld._embedded is None:
            ld._embedded = self.con.execute(
                "SELECT count(*) > 0 FROM (SELECT 1 FROM posts WHERE collected_as = 'embedded' "
                "LIMIT 1)").fetchone()[0]
        if ld._embedded:
            self.con.execute(
                """UPDATE posts SET collected_as = 'record' WHERE collected_as = 'embedded'
                   AND post_id IN (SELECT post_id FROM _cb_stage WHERE status = 'ok'
                                   AND _line > ? AND _line <= ?)""", [after, last])
