"""Canonical ``posts.jsonl`` loaded set-based: DuckDB parses and validates, SQL routes bad rows.

The per-record path (:func:`socialens.ingest.canonical.map_post` through
:class:`~socialens.ingest.loader.Loader`) spends most of its time in Python for every record. Here
the file is staged into DuckDB once (its lines, split on ``\\n`` in numpy and handed over as one
Arrow string array per 32 MB chunk, so every physical line keeps its number, blank lines are
skipped as :func:`~socialens.ingest.sources.iter_jsonl` skips them, and a ``\\r\\n`` is one line
end), each line is parsed by DuckDB's JSON functions (one ``json_extract`` of the 19 canonical
fields per line) and the rules of ``map_post`` are SQL predicates, applied in ``map_post``'s order,
so the first rule a record breaks gives its quarantine reason, with the same text. Good rows are
then inserted batch by batch exactly as the Loader would (same batches of
:data:`~socialens.ingest.loader.BATCH_SIZE` good records, the same de-duplication inside a batch,
unknown ``account_id`` quarantined, existing posts counted as duplicates, one committed transaction
per batch, the same ``ingest_runs`` row and progress callbacks), so an interrupted run looks the same
too. Only two things run in Python, for the rows that need them: decoding HTML character
references in texts that hold a ``&`` and the entity rule (:func:`socialens.ingest.canonical.post_entities`
— the same function ``map_post`` uses) for the rows that are loaded; and the reason text of a line
that is not JSON, which comes from Python's JSON parser as in the reader.

Whenever a file holds anything the SQL cannot decide exactly as ``map_post`` would (a ``.gz``, a
byte that is not UTF-8, a BOM, a lone surrogate escape, duplicate keys, a trailing comma DuckDB's
parser accepts and Python's does not, a value of a type whose Python ``str`` SQL cannot reproduce, a
time in a form other than ``YYYY-MM-DD[T ]hh:mm:ss[.f{1,6}][Z|±hh:mm]``, a naive time with
``--timezone``, a workspace with forgotten people), the whole FILE goes through the per-record path
instead, before anything is written: :func:`load_posts` returns None. The parity test
(``tests/ingest/test_canonical_bulk.py``) ingests the test corpus and a fuzzed corpus both ways and
requires identical tables and quarantine reasons, and that the choice of path is invisible.
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


def _s(k: str) -> str:
    return f"s_{k}"


def _clean(k: str) -> str:
    """clean_str of a string value: Python's strip, empty -> NULL."""
    v = _s(k)
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
        e = f"e[{FIELDS.index(k) + 1}]"
        falsy = (f"CASE {t} WHEN 'ARRAY' THEN json_array_length({e}) = 0 WHEN 'VARCHAR' THEN "
                 f"{s} = '' WHEN 'BOOLEAN' THEN {s} = 'false' WHEN 'OBJECT' THEN "
                 f"len(json_keys({e})) = 0 "
                 f"WHEN 'DOUBLE' THEN TRY_CAST({s} AS DOUBLE) = 0 "
                 f"WHEN 'BIGINT' THEN {s} = '0' WHEN 'UBIGINT' THEN {s} = '0' ELSE false END")
        strings = f"list_bool_and(list_transform(json_type({e}, '$[*]'), x -> x = 'VARCHAR'))"
        steps.append(("false", f"{t} <> 'NULL' AND NOT ({falsy}) AND NOT ({t} = 'ARRAY' AND "
                      f"{strings})", _q(f"{k} must be a list of strings"), k))
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
    paths = ", ".join(_q("$." + k) for k in FIELDS)
    types = ", ".join(f"coalesce(json_type(e[{i + 1}]), 'NULL') AS {_t(k)}, "
                      f"e[{i + 1}] ->> '$' AS {_s(k)}" for i, k in enumerate(FIELDS))
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
        f"from_json(e[{FIELDS.index(k) + 1}], '[\"VARCHAR\"]') ELSE []::VARCHAR[] END AS l_{k}"
        for k in _LISTS)
    return f"""
    WITH lines AS (
        SELECT _line, rtrim(line, chr(13)) AS raw FROM _cb_lines
        WHERE trim(line, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)) <> ''),
    parsed AS (
        SELECT _line, raw, json_valid(raw) AS ok,
               -- what DuckDB's parser reads differently from Python's, or Python's loads() cuts
               regexp_matches(raw, '\\\\u[dD][89a-fA-F]|,[ \\t\\n\\r]*[\\]}}]')
                 OR (length(raw) > 200 AND
                     length(raw) - length(replace(replace(raw, '[', ''), '{{', '')) > 200)
                 AS odd
        FROM lines),
    valid AS (SELECT *, CASE WHEN ok THEN raw END AS j FROM parsed),
    topped AS (SELECT *, coalesce(json_type(j), 'NULL') AS t_top FROM valid),
    objects AS (SELECT *, CASE WHEN t_top = 'OBJECT' AND NOT odd THEN j END AS o FROM topped),
    keyed AS (SELECT *, json_extract(o, [{paths}]) AS e, json_keys(o) AS k FROM objects),
    fields AS (SELECT *, len(k) <> len(list_distinct(k)) AS dupkeys FROM keyed),
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
           CASE WHEN status <> 'ok' THEN NULL WHEN e[15] IS NULL THEN 'public'
                WHEN v_visibility IS NULL OR lower(v_visibility) = 'unknown' THEN NULL
                ELSE lower(v_visibility) END AS visibility,
           {ints},
           status = 'ok' AND t_attrs = 'OBJECT' AND len(json_keys(e[4])) > 0 AS has_attrs,
           {lists}
    FROM decided
    """


def _line_arrays(path: Path):
    """``(first_line_number, lines)`` per chunk of the file: an Arrow string array of its lines
    without the ``\\n`` (None: a chunk that is not valid UTF-8)."""
    line = 1
    rest = b""
    with open(path, "rb") as f:
        while True:
            block = f.read(CHUNK)
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
            try:
                arr.validate(full=True)
            except pa.ArrowInvalid:
                yield line, None
                return
            yield line, arr
            line += n
            if not block:
                return


def _fallback(why: str) -> None:
    STATS[f"fallback: {why}"] += 1
    return None


def _stage(con, path: Path, tz: str | None) -> str | None:
    """Stage the file into ``_cb_stage``; a reason to fall back, or None."""
    sql = _stage_sql(tz)
    con.execute("DROP TABLE IF EXISTS _cb_stage")
    first = True
    for start, arr in _line_arrays(path):
        if arr is None:
            return "not valid UTF-8"
        if start == 1 and len(arr) and arr[0].as_py().startswith("\ufeff"):
            return "a byte order mark"
        tbl = pa.table({"_line": pa.array(np.arange(start, start + len(arr)), pa.int64()),
                        "line": arr})
        con.register("_cb_lines", tbl)
        try:
            if first:
                con.execute(f"CREATE TEMP TABLE _cb_stage AS {sql}")
                first = False
            else:
                con.execute(f"INSERT INTO _cb_stage {sql}")
        finally:
            con.unregister("_cb_lines")
    if first:
        return "an empty file"
    if con.execute("SELECT count(*) FROM _cb_stage WHERE status = 'undecidable'").fetchone()[0]:
        return "a record SQL cannot decide as map_post does"
    from socialens.ingest.sources import loads

    broken = con.execute("SELECT _line, raw FROM _cb_stage WHERE status = 'json'").fetchall()
    reasons = []
    for line, raw in broken:
        try:
            loads(raw)
        except json.JSONDecodeError as exc:
            reasons.append((line, f"broken JSON at column {exc.colno}: {exc.msg}"))
            continue
        except RecursionError:
            return "JSON Python cannot parse"
        return "JSON DuckDB reads differently"
    if reasons:
        con.register("_cb_broken", pa.table({
            "_line": pa.array([r[0] for r in reasons], pa.int64()),
            "reason": pa.array([r[1] for r in reasons], pa.string())}))
        try:
            con.execute("""UPDATE _cb_stage s SET status = 'bad', reason = b.reason, field = NULL
                           FROM _cb_broken b WHERE s._line = b._line""")
        finally:
            con.unregister("_cb_broken")
    return None


def load_posts(loader: Loader, path: Path, tz: str | None) -> FileReport | None:
    """Load a canonical ``posts.jsonl`` set-based into ``loader``'s workspace; None (nothing
    written) when the file must go through the per-record path (see the module docstring)."""
    if not ENABLED:
        return None
    if path.suffix == ".gz":
        return _fallback("a .gz file")
    if loader._forgotten:
        return _fallback("forgotten people")
    con = loader.con
    try:
        why = _stage(con, path, tz)
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
        con.execute("DROP TABLE IF EXISTS _cb_batch")


class _Bulk:
    """The Loader's bookkeeping over the staged file: what each good record becomes is decided
    for the whole file at once, then rows are inserted in the Loader's batches, one committed
    transaction each."""

    def __init__(self, loader: Loader):
        self.l = loader
        self.con = loader.con

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
                                        AND NOT unknown""")
        bounds = con.execute("""SELECT batch, max(_line), count(*),
                                       count(*) FILTER (WHERE fate = 'duplicate')
                                FROM _cb_good GROUP BY batch ORDER BY batch""").fetchall()
        n_lines = con.execute("SELECT count(*), max(_line) FROM _cb_stage").fetchone()
        ld.report.n_read = n_lines[0]
        ld._begin(datetime.now(UTC))
        try:
            prev = 0
            for i, (batch, last, n, n_dup) in enumerate(bounds):
                final = i == len(bounds) - 1
                upto = n_lines[1] if final else last
                with ld.ws.transaction():
                    self._quarantine_lines(prev, upto)
                    self._batch(batch, prev, last, n, n_dup)
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
            con.execute("DROP TABLE IF EXISTS _cb_good")
        return ld.report

    def _quarantine_lines(self, after: int, upto: int) -> None:
        rows = self.con.execute(
            """SELECT _line, raw, field, reason FROM _cb_stage WHERE status = 'bad'
               AND _line > ? AND _line <= ? ORDER BY _line""", [after, upto]).fetchall()
        for line, raw, fld, reason in rows:
            self.l._add_quarantine(line, raw, self.l.report.target, reason, fld)

    def _batch(self, batch: int, after: int, last: int, n: int, n_dup: int) -> None:
        from socialens.ingest.loader import unknown_ref_reason

        ld, con = self.l, self.con
        ld.report.n_duplicate += n_dup
        unknown = con.execute(
            """SELECT s._line, s.raw, s.account_id FROM _cb_good g JOIN _cb_stage s USING (_line)
               WHERE g.batch = ? AND g.fate = 'unknown' ORDER BY s._line""", [batch]).fetchall()
        for line, raw, value in unknown:
            ld._add_quarantine(line, raw, "posts",
                               unknown_ref_reason("account_id", value, "accounts"), "account_id")
        self._mark_records(after, last)
        con.execute("""CREATE OR REPLACE TEMP TABLE _cb_batch AS
            SELECT s.* FROM _cb_stage s SEMI JOIN
              (SELECT _line FROM _cb_good WHERE batch = ? AND fate = 'load') g USING (_line)
            WHERE s._line > ? AND s._line <= ?""", [batch, after, last])
        loaded = con.execute("SELECT count(*) FROM _cb_batch").fetchone()[0]
        if loaded:
            self._insert(loaded)
        ld.report.n_loaded += loaded
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

    def _insert(self, n: int) -> None:
        from socialens.ingest.canonical import post_entities
        from socialens.ingest.loader import _clean_text
        from socialens.text import decode_entities

        ld, con = self.l, self.con
        # the Python part: decoded texts (only those with a '&'), attrs, entities
        tbl = con.execute(
            """SELECT _line, post_id, platform, text, l_hashtags, l_mentions, l_urls,
                      CASE WHEN has_attrs THEN raw END AS raw
               FROM _cb_batch ORDER BY _line""").to_arrow_table()
        lines = tbl.column("_line").to_pylist()
        post_ids = tbl.column("post_id").to_pylist()
        texts = tbl.column("text").to_pylist()
        platforms = tbl.column("platform").to_pylist()
        given = [tbl.column(f"l_{k}").to_pylist() for k in _LISTS]
        raws = tbl.column("raw").to_pylist()
        t_line, t_text, a_line, a_json = [], [], [], []
        e_post, e_kind, e_value = [], [], []
        loads = json.loads
        for j, text in enumerate(texts):
            if text and "&" in text:
                dec = decode_entities(text)
                if dec != text:
                    t_line.append(lines[j])
                    t_text.append(dec)
                    text = dec
            lists = [g[j] for g in given]
            for kind, value in post_entities(text, platforms[j], lists):
                e_post.append(post_ids[j])
                e_kind.append(kind)
                e_value.append(_clean_text(value))
            if raws[j] is not None:
                attrs = loads(raws[j])["attrs"]
                a_line.append(lines[j])
                a_json.append(_clean_text(json.dumps(attrs, ensure_ascii=False, sort_keys=True,
                                                     default=str)))
        fix = pa.table({"_line": pa.array(t_line + a_line, pa.int64()),
                        "text": pa.array(t_text + [None] * len(a_line), pa.string()),
                        "attrs": pa.array([None] * len(t_line) + a_json, pa.string())})
        con.register("_cb_fix", fix)
        try:
            con.execute(
                """INSERT INTO posts (post_id, account_id, created_at, text, lang,
                     reply_to_post_id, reply_to_account_id, quote_of, repost_of, like_count,
                     repost_count, reply_count, quote_count, url, attrs, visibility,
                     collected_as, run_id, source_line)
                   SELECT b.post_id, b.account_id, b.created_at,
                          coalesce(ft.text, b.text), b.lang, b.reply_to_post_id,
                          b.reply_to_account_id, b.quote_of, b.repost_of, b.like_count,
                          b.repost_count, b.reply_count, b.quote_count, b.url,
                          fa.attrs::JSON, b.visibility, 'record', ?, b._line
                   FROM _cb_batch b
                   LEFT JOIN (SELECT _line, text FROM _cb_fix WHERE text IS NOT NULL) ft
                     ON ft._line = b._line
                   LEFT JOIN (SELECT _line, attrs FROM _cb_fix WHERE attrs IS NOT NULL) fa
                     ON fa._line = b._line
                   ORDER BY b._line""", [ld.run_id])
        finally:
            con.unregister("_cb_fix")
        if e_post:
            ents = pa.table({"post_id": pa.array(e_post, pa.string()),
                             "kind": pa.array(e_kind, pa.string()),
                             "value": pa.array(e_value, pa.string())})
            con.register("_cb_ents", ents)
            try:
                con.execute("INSERT OR IGNORE INTO post_entities SELECT post_id, kind, value, ? "
                            "FROM _cb_ents", [ld.run_id])
            finally:
                con.unregister("_cb_ents")
        del n
