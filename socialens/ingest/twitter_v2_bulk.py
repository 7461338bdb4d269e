"""twarc2 / X API v2 JSONL tweet pages loaded set-based: DuckDB maps the pages, SQL keeps the books.

This is the production path for JSON Lines files of tweet pages (``{"data": [...], "includes":
{...}}`` per line, as ``twarc2 search``/``timeline``/``tweets`` write them, or one filter-stream
tweet ``{"data": {...}}`` per line); the per-record path (:func:`socialens.ingest.twitter_v2.map_tweet`
through :class:`~socialens.ingest.loader.Loader`) is the reference it is tested against
(``tests/ingest/test_twitter_v2_bulk.py``), and decides every line listed below.

* **Staging.** The (gunzipped) file is split into lines as
  :mod:`~socialens.ingest.canonical_bulk` does (line numbers kept, BOM and ``\\r`` dropped, blank
  lines skipped, a line that is not UTF-8 quarantined with the reader's reason). Each page line is
  typed once with DuckDB's ``json_structure`` (the merged type of every path over all the page's
  tweets and includes); a page whose structure is one the mapping reads exactly (every field it
  reads of the expected JSON type or null) is parsed once with ``from_json`` into typed columns
  and unnested into one row per tweet, per included user and per included tweet.
* **Mapping, in SQL**: ``map_tweet``'s rules for the common case: the post row (ids, the time in
  the form ``YYYY-MM-DDThh:mm:ss[.fff|.ffffff](Z|±hh:mm)``, counters as ``parse_int`` takes them,
  ``attrs`` written as the Loader writes a JSON column), the author's account (or the bare
  ``incomplete`` account of an author missing from the includes) and counter snapshot at the
  page's ``__twarc.retrieved_at``, the referenced tweets of the includes (embedded posts) with
  their authors, and the mentioned users of the includes; in the order ``map_tweet`` lists them,
  so the Loader's "first row of a key in a batch wins" picks the same rows. Texts holding a
  ``&`` are decoded with :func:`~socialens.text.decode_entities` (Python, once per distinct
  text); each distinct entity item is normalised once in Python
  (``canonical_bulk._entity_values``, the per-record normalisers) and joined back.
* **The Loader's rules, set-based**: the same batches of
  :data:`~socialens.ingest.loader.BATCH_SIZE` good records, the same de-duplication inside a
  batch (a record's own post row wins over an embedded copy), accounts merged into existing rows
  (NULL columns filled) as the Loader merges them, unknown references quarantined or skipped,
  the same secondary-row counters, quarantine flushes, ``ingest_runs`` row and progress
  callbacks, one committed transaction per batch.

What goes through the per-record path, and why:

* *A line the SQL cannot decide exactly* goes through the reader's parse and
  :func:`~socialens.ingest.twitter_v2.line_records` (``map_tweet`` and the Loader's row checks)
  *alone*, and its records join the staged rows in file order; the rest of the file stays
  set-based. Such lines: JSON DuckDB's parser refuses or reads differently from Python's (broken
  lines, a bare ``nan``/``inf`` in any case, a lone surrogate escape, a trailing comma, a
  repeated key in any object of the line, nesting deeper than
  :data:`~socialens.ingest.sources.MAX_DEPTH`), a page
  without ``data`` (errors-only pages, flattened tweets), a ``_socialens`` stamp, any field the
  mapping reads with another JSON type (numbers as strings, floats, empty objects, ...), a
  ``note_tweet`` or an embedded ``author``, a tweet that would be quarantined (no ``author_id``,
  no ``created_at``), ids that are not decimal digits, times in another form, referenced tweets
  repeating a type, a string the mapping writes into ``attrs`` that holds a control character
  other than ``\\b\\f\\n\\r\\t``.
* *Whole files* go record by record (:func:`load_pages` returns None, nothing written) for a
  workspace with forgotten people (``socialens forget``), a user page or a follow page among the
  lines (accounts as records, follow edges), an empty file, a damaged ``.gz`` or a staging error.

The page's ``errors`` entries are counted apart (``FileReport.api_errors``) with the reader's
kinds, as the per-record path counts them.

Cost (BENCHMARKS.md, 200,000 tweets replicated from the real twarc2 search page): about 3× DuckDB's
own ``read_json`` of the file, in CPU, and no less CPU than the per-record path on this file; near
half of it is reading the JSON exactly as Python does (``json_structure``, the typed
``from_json``, ``json_keys(raw, '$.**')`` for repeated keys: each a parse of the page), a quarter
the indexed inserts. Its DuckDB stages use every core; the per-record path uses one.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from socialens.ingest import canonical_bulk as cb

if TYPE_CHECKING:
    from socialens.ingest.loader import FileReport, Loader

__all__ = ["ENABLED", "STATS", "load_pages"]

#: off by default: on the 2-core machine it measured no faster than the per-record path (CPU
#: 4.93 s against 4.75 s per 20,000 tweets, BENCHMARKS.md) and its staging holds every parsed
#: tweet of a file in DuckDB, where the per-record path streams; set True to use it (the parity
#: test runs both ways)
ENABLED = False
#: how many files went which way (``bulk`` or ``fallback: <why>``) and how many lines were
#: decided in Python (``lines decided in Python``), for tests and benchmarks
STATS: Counter = Counter()

#: bytes of page lines per Arrow record batch handed to DuckDB (its unit of parallel work)
SCAN_BYTES = 4 << 20

_q = cb._q
_WS = cb._WS


class _Undecidable(Exception):
    """The file must go record by record (the message says why)."""


def _fallback(why: str) -> None:
    STATS[f"fallback: {why}"] += 1
    return None


# -- the structures the SQL reads exactly -------------------------------------------------------
_S, _I, _B = "str", "int", "bool"
_ALLOWED = {_S: {"VARCHAR", "NULL"}, _I: {"UBIGINT", "BIGINT", "HUGEINT", "NULL"},
            _B: {"BOOLEAN", "NULL"}}
_ABSENT = "absent"


def _obj(**fields):
    return ("obj", fields)


def _arr(elem):
    return ("arr", elem)


_ENTITIES = _obj(hashtags=_arr(_obj(tag=_S)), mentions=_arr(_obj(username=_S, id=_S)),
                 urls=_arr(_obj(unwound_url=_S, expanded_url=_S, url=_S)))
_TWEET = _obj(
    id=_S, text=_S, author_id=_S, created_at=_S, lang=_S, in_reply_to_user_id=_S, source=_S,
    conversation_id=_S, possibly_sensitive=_B, author=_ABSENT, note_tweet=_ABSENT,
    referenced_tweets=_arr(_obj(type=_S, id=_S)), edit_history_tweet_ids=_arr(_S),
    entities=_ENTITIES,
    public_metrics=_obj(like_count=_I, retweet_count=_I, reply_count=_I, quote_count=_I,
                        impression_count=_I, bookmark_count=_I))
_USER = _obj(
    id=_S, username=_S, name=_S, description=_S, url=_S, location=_S, verified_type=_S,
    pinned_tweet_id=_S, profile_image_url=_S, created_at=_S, verified=_B, protected=_B,
    public_metrics=_obj(followers_count=_I, following_count=_I, tweet_count=_I, listed_count=_I),
    entities=_obj(url=_obj(urls=_arr(_obj(expanded_url=_S, url=_S)))))
_INCLUDES = _obj(users=_arr(_USER), tweets=_arr(_TWEET))
_TWARC = _obj(retrieved_at=_S)


def _fits(struct: Any, spec: Any) -> bool:
    """Whether a ``json_structure`` (parsed) is one the SQL reads exactly under ``spec``: every
    field the spec names has its type or is null; containers may be null; other fields are not
    read. ``"JSON"`` (conflicting types, an empty object) never fits."""
    if spec == _ABSENT:
        return struct == "NULL"
    if isinstance(spec, str):
        return isinstance(struct, str) and struct in _ALLOWED[spec]
    if struct == "NULL":
        return True
    kind, inner = spec
    if kind == "arr":
        return isinstance(struct, list) and len(struct) == 1 and _fits(struct[0], inner)
    if not isinstance(struct, dict):
        return False
    return all(_fits(struct[k], s) for k, s in inner.items() if k in struct)


def _page_fits(text: str) -> str | None:
    """``'list'``/``'one'`` (``data`` an array of tweets or one tweet) when a page's structure
    fits, else None."""
    try:
        s = json.loads(text)
    except ValueError:
        return None
    if not isinstance(s, dict) or "data" not in s or "_socialens" in s:
        return None
    if "includes" in s and not _fits(s["includes"], _INCLUDES):
        return None
    if "__twarc" in s and not _fits(s["__twarc"], _TWARC):
        return None
    d = s["data"]

    def tweets(x):  # a tweet that no element could make a list object (the reader's test)
        return isinstance(x, dict) and "name" not in x and _fits(x, _TWEET)
    if isinstance(d, list):
        if len(d) != 1 or not (d[0] == "NULL" or tweets(d[0])):
            return None
        return "list"
    if tweets(d):
        return "one"
    return None


# -- SQL pieces ---------------------------------------------------------------------------------
def _schema(spec: Any) -> str:
    if isinstance(spec, str):
        return {_S: '"VARCHAR"', _I: '"HUGEINT"', _B: '"BOOLEAN"', _ABSENT: '"JSON"'}[spec]
    kind, inner = spec
    if kind == "arr":
        return f"[{_schema(inner)}]"
    return "{" + ", ".join(f'"{k}": {_schema(v)}' for k, v in inner.items()) + "}"


_clean = cb.clean_sql


_CTRL = r"[\x00-\x1f\\\"]"
_ODD_CTRL = r"[\x00-\x07\x0b\x0e-\x1f]"


def _jstr(v: str) -> str:
    """Python's ``json.dumps(v, ensure_ascii=False)`` of a text without odd control characters."""
    esc = v
    for a, b in (("\\", "\\\\"), ('"', '\\"'), ("chr(10)", "\\n"), ("chr(13)", "\\r"),
                 ("chr(9)", "\\t"), ("chr(8)", "\\b"), ("chr(12)", "\\f")):
        src = a if a.startswith("chr(") else _q(a)
        esc = f"replace({esc}, {src}, {_q(b)})"
    return (f"CASE WHEN regexp_matches({v}, '{_CTRL}') THEN '\"' || {esc} || '\"' "
            f"ELSE '\"' || {v} || '\"' END")


def _odd_ctrl(v: str) -> str:
    return f"coalesce(regexp_matches({v}, '{_ODD_CTRL}'), false)"


_TIME = (r"^(\d{4})-\d{2}-\d{2}T(\d{2}):(\d{2}):(\d{2})(\.\d{3}|\.\d{6})?"
         r"(Z|[+-](\d{2}):(\d{2}))$")


def _time_ok(v: str) -> str:
    """``iso_time`` reads ``v`` as SQL does: the strict form, a real date, no edge years."""
    m = f"regexp_extract({v}, '{_TIME}', ['y', 'h', 'mi', 's', 'f', 'z', 'oh', 'om'])"
    return (f"(list_transform([{m}], x -> x.y <> '' AND x.y NOT IN ('0000', '0001', '9999') "
            f"AND x.h < '24' AND x.mi < '60' AND x.s < '60' AND (x.z = 'Z' OR (x.oh < '24' "
            f"AND x.om < '60')))[1] AND TRY_CAST(left({v}, 10) AS DATE) IS NOT NULL)")


def _digits(v: str) -> str:
    return f"regexp_full_match({v}, '[0-9]+')"


def _pint(v: str) -> str:
    """parse_int of a JSON integer for a counter: None when negative or too large."""
    return f"CASE WHEN {v} >= 0 AND {v} <= 9223372036854775807 THEN TRY_CAST({v} AS BIGINT) END"


def _present(v: str) -> str:
    """A value ``_clean_attrs`` keeps (not None, not '')."""
    return f"({v} IS NOT NULL AND {v} <> '')"


_LINES = """
    SELECT _line, CASE WHEN _line = 1 AND starts_with(line, chr(65279)) THEN
                         rtrim(substr(line, 2), chr(13))
                       WHEN suffix(line, chr(13)) THEN rtrim(line, chr(13))
                       ELSE line END AS raw
    FROM _tv_chunk
    WHERE CASE WHEN ascii(line) NOT IN (0, 9, 10, 11, 12, 13, 32) THEN true
               ELSE trim(line, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)) <> ''
          END"""

_ODD = cb.PARSER_ODD


_CLASSIFY = f"""
    WITH l AS ({_LINES})
    SELECT _line, NULL AS ok, CASE WHEN ascii(raw) = 123 AND NOT ({_ODD})
                                   THEN TRY(json_structure(raw)) END AS structure
    FROM l"""


#: the page lines in which an object below the top repeats a key (Python keeps the last value
#: of a repeated key, DuckDB the first): every object's keys (``$.**``), one row each
_REPEATED = f"""
    WITH l AS ({_LINES}),
    a AS (SELECT l._line, l.raw FROM l SEMI JOIN _tv_fit s USING (_line))
    SELECT DISTINCT _line FROM (SELECT _line, unnest(json_keys(raw, '$.**')) AS x FROM a)
    WHERE len(x) > 1 AND len(x) <> list_unique(x)"""


def _pages_sql(shape: str) -> str:
    """Per page line of ``shape`` (``list``: ``data`` an array, ``one``: one tweet): its tweets,
    included users and tweets (typed), the stamp, the errors, and whether the SQL may read it:
    the top object repeats no key and the stamp is a time it reads exactly (repeated keys
    further down: :data:`_REPEATED`)."""
    tweet = _schema(_TWEET)
    schema = ("{" + f'"data": {f"[{tweet}]" if shape == "list" else tweet}, '
              f'"includes": {{"users": [{_schema(_USER)}], "tweets": [{tweet}]}}, '
              '"__twarc": {"retrieved_at": "VARCHAR"}, "errors": "JSON"}')
    data = "pg.data" if shape == "list" else "[pg.data]"
    return f"""
    WITH l AS ({_LINES}),
    a AS (SELECT l._line, l.raw FROM l JOIN _tv_fit s USING (_line) WHERE s.shape = '{shape}'),
    p AS (SELECT _line, from_json(raw, '{schema}') AS pg, json_keys(raw) AS k0 FROM a)
    SELECT _line, {data} AS tweets, pg.includes.users AS users, pg.includes.tweets AS itweets,
           pg.__twarc.retrieved_at AS retrieved_at,
           CASE WHEN json_type(pg.errors) = 'ARRAY' THEN pg.errors END AS errors,
           len(k0) = len(list_distinct(k0))
           AND (pg.__twarc.retrieved_at IS NULL OR pg.__twarc.retrieved_at = ''
                OR coalesce({_time_ok('pg.__twarc.retrieved_at')}, false)) AS ok
    FROM p"""


def _tweet_checks(t: str, data: bool) -> str:
    """The values of one tweet the SQL maps exactly (``data``: a record, which must load;
    else an included tweet, which may also be skipped as map_tweet's caller skips it)."""
    refs = f"coalesce({t}.referenced_tweets, [])"
    checks = [
        f"{_digits(f'{t}.id')}",
        f"coalesce({_digits(f'{t}.author_id')}, {'false' if data else 'true'})",
        (f"coalesce({_time_ok(f'{t}.created_at')}, false)" if data else
         f"({t}.created_at IS NULL OR {t}.created_at = '' OR {t}.author_id IS NULL OR "
         f"coalesce({_time_ok(f'{t}.created_at')}, false))"),
        f"({t}.in_reply_to_user_id IS NULL OR {t}.in_reply_to_user_id = '' OR "
        f"{_digits(f'{t}.in_reply_to_user_id')})",
        f"list_bool_and(list_transform({refs}, r -> r IS NOT NULL AND r.type IN "
        f"('replied_to', 'quoted', 'retweeted') AND coalesce({_digits('r.id')}, false))) "
        f"IS NOT false",
        f"len(list_distinct(list_transform({refs}, r -> r.type))) = len({refs})",
        f"list_bool_and(list_transform(coalesce({t}.entities.mentions, []), m -> m.id IS NULL "
        f"OR {_digits('m.id')})) IS NOT false",
        f"list_bool_and(list_transform(coalesce({t}.edit_history_tweet_ids, []), x -> "
        f"x IS NOT NULL AND {_digits('x')})) IS NOT false",
        f"NOT {_odd_ctrl(f'{t}.source')}", f"NOT {_odd_ctrl(f'{t}.conversation_id')}",
    ]
    if data:
        checks.append(f"{t} IS NOT NULL AND {t}.author_id IS NOT NULL AND {t}.author_id <> ''")
    return " AND ".join(f"({c})" for c in checks)


def _user_checks(u: str) -> str:
    checks = [f"{_digits(f'{u}.id')}",
              f"({u}.created_at IS NULL OR {u}.created_at = '' OR "
              f"coalesce({_time_ok(f'{u}.created_at')}, false))"]
    checks += [f"NOT {_odd_ctrl(f'{u}.{k}')}"
               for k in ("location", "verified_type", "pinned_tweet_id", "profile_image_url")]
    return " AND ".join(f"({c})" for c in checks)


# -- staging -------------------------------------------------------------------------------------
def _too_deep(structure: str) -> bool:
    """Whether a line whose ``json_structure`` this is may nest deeper than MAX_DEPTH: the
    structure nests as deep as the value, one level less where an empty object (``"JSON"``)
    ends a path, so one level is added."""
    from socialens.ingest.sources import MAX_DEPTH, _max_depth

    return _max_depth(structure) + 1 > MAX_DEPTH


class _Stage:
    """The file's records and mapped rows, staged: ``_tv_rec`` one row per record in file order
    (quarantined ones with their reason), ``_tv_acc``/``_tv_snap``/``_tv_post``/``_tv_ent`` the
    rows each record brings, ordered within the record as the reader lists them."""

    def __init__(self, loader: Loader, path: Path):
        self.l = loader
        self.con = loader.con
        self.path = path
        self.py_lines: list[tuple[int, str | None, str | None]] = []  # (line, raw, utf8 error)
        self.api_errors: Counter = Counter()
        self.skipped: Counter = Counter()

    # one chunk ---------------------------------------------------------------------------------
    def run(self) -> None:
        con = self.con
        self._create()
        any_line = False
        for start, arr, bad in cb._line_arrays(self.path):
            any_line = any_line or len(arr) > 0 or bool(bad)
            n = len(arr)
            rows = max(1, min(n, SCAN_BYTES // max(1, arr.nbytes // max(1, n))))
            tbl = pa.table({"_line": pa.array(np.arange(start, start + n), pa.int64()),
                            "line": arr})
            tbl = pa.Table.from_batches(tbl.to_batches(max_chunksize=rows))
            con.register("_tv_chunk", tbl)
            try:
                self._chunk(arr, start, bool(bad))
            finally:
                con.unregister("_tv_chunk")
            for line, raw, reason in bad:
                self.py_lines.append((line, raw, reason))
        if not any_line:
            raise _Undecidable("an empty file")
        self._python_lines()
        self._map()

    def _create(self) -> None:
        con = self.con
        for t in _TEMP:
            con.execute(f"DROP TABLE IF EXISTS {t}")
        con.execute(f"""CREATE TEMP TABLE _tv_tw (_line BIGINT, _i BIGINT,
                        t {_sql_type(_TWEET)})""")
        con.execute(f"""CREATE TEMP TABLE _tv_u (_line BIGINT, j BIGINT, u {_sql_type(_USER)})""")
        con.execute(f"""CREATE TEMP TABLE _tv_it (_line BIGINT, j BIGINT,
                        t {_sql_type(_TWEET)})""")
        con.execute("CREATE TEMP TABLE _tv_obs (_line BIGINT, observed_at TIMESTAMPTZ)")

    def _chunk(self, arr: pa.Array, start: int, bad_utf8: bool) -> None:
        con = self.con
        shapes = con.execute(_CLASSIFY).fetchall()
        fit: dict[int, str] = {}
        verdict: dict[str, str | None] = {}
        todo: list[int] = []
        for line, _, structure in shapes:
            if structure is None:
                todo.append(line)
                continue
            if structure not in verdict:
                verdict[structure] = None if _too_deep(structure) else _page_fits(structure)
            shape = verdict[structure]
            if shape is None:
                todo.append(line)
            else:
                fit[line] = shape
        if fit:
            todo += self._parse(fit)
        if todo:
            # the raw text of the lines decided in Python, while the chunk is at hand
            con.register("_tv_want", pa.table({"_line": pa.array(sorted(todo), pa.int64())}))
            try:
                self.py_lines += [(ln, raw, None) for ln, raw in con.execute(
                    f"SELECT _line, raw FROM ({_LINES}) SEMI JOIN _tv_want USING (_line)"
                ).fetchall()]
            finally:
                con.unregister("_tv_want")

    def _parse(self, fit: dict[int, str]) -> list[int]:
        """Parse the lines whose structure fits into ``_tv_tw``/``_tv_u``/``_tv_it``/``_tv_obs``;
        the lines whose values the SQL cannot map exactly are returned instead."""
        con = self.con
        con.register("_tv_fit", pa.table({"_line": pa.array(list(fit), pa.int64()),
                                          "shape": pa.array(list(fit.values()), pa.string())}))
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE _tv_pg AS {_pages_sql('list')}")
            if "one" in fit.values():
                con.execute(f"INSERT INTO _tv_pg {_pages_sql('one')}")
            repeated = [r[0] for r in con.execute(_REPEATED).fetchall()]
        finally:
            con.unregister("_tv_fit")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _tv_ctw AS
            SELECT *, coalesce(t.text IS NOT NULL AND {_tweet_checks('t', True)}, false) AS ok
            FROM (SELECT _line, generate_subscripts(tweets, 1) AS j, unnest(tweets) AS t
                  FROM _tv_pg)""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _tv_cit AS
            SELECT *, t IS NULL OR coalesce({_tweet_checks('t', False)}, false) AS ok
            FROM (SELECT _line, generate_subscripts(itweets, 1) AS j, unnest(itweets) AS t
                  FROM _tv_pg)""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _tv_cu AS
            SELECT *, u IS NULL OR coalesce({_user_checks('u')}, false) AS ok
            FROM (SELECT _line, generate_subscripts(users, 1) AS j, unnest(users) AS u
                  FROM _tv_pg)""")
        bad = con.execute("""
            SELECT _line FROM _tv_pg WHERE NOT ok
            UNION SELECT _line FROM _tv_ctw WHERE NOT ok
            UNION SELECT _line FROM _tv_cit WHERE NOT ok
            UNION SELECT _line FROM _tv_cu WHERE NOT ok""").fetchall()
        bad_lines = sorted({r[0] for r in bad} | set(repeated))
        con.register("_tv_bad", pa.table({"_line": pa.array(bad_lines, pa.int64())}))
        try:
            keep = "WHERE _line NOT IN (SELECT _line FROM _tv_bad)"
            con.execute(f"INSERT INTO _tv_tw SELECT _line, j - 1, t FROM _tv_ctw {keep}")
            con.execute(f"INSERT INTO _tv_u SELECT _line, j, u FROM _tv_cu {keep} "
                        "AND u IS NOT NULL")
            con.execute(f"INSERT INTO _tv_it SELECT _line, j, t FROM _tv_cit {keep} "
                        "AND t IS NOT NULL")
            con.execute(f"""INSERT INTO _tv_obs SELECT _line, CASE WHEN retrieved_at <> ''
                            THEN TRY_CAST(retrieved_at AS TIMESTAMPTZ) END FROM _tv_pg {keep}""")
            errors = con.execute(f"SELECT errors FROM _tv_pg {keep} AND errors IS NOT NULL"
                                 ).fetchall()
        finally:
            con.unregister("_tv_bad")
            for t in ("_tv_pg", "_tv_ctw", "_tv_cit", "_tv_cu"):
                con.execute(f"DROP TABLE IF EXISTS {t}")
        from socialens.ingest.twitter_v2 import _api_error_kind

        for (text,) in errors:
            for e in json.loads(text):
                self.api_errors[_api_error_kind(e)] += 1
        return bad_lines

    # the lines decided in Python ---------------------------------------------------------------
    def _python_lines(self) -> None:
        from socialens.ingest.loader import ApiError, _clean_text
        from socialens.ingest.sources import SourceRecord, loads, too_deep_error
        from socialens.ingest.twitter_v2 import line_records

        ld = self.l
        recs_out: list[tuple] = []  # (_line, _i, good, raw, reason, field)
        rows_out: dict[str, list] = {"accounts": [], "account_snapshots": [], "posts": [],
                                     "ents": []}
        lines = sorted(self.py_lines, key=lambda p: p[0])
        if lines:
            STATS["lines decided in Python"] += len(lines)

        def source(line, raw, err):
            if err is not None:
                return SourceRecord(line, raw, error=err)
            try:
                data, cut = loads(raw)
            except json.JSONDecodeError as exc:
                return SourceRecord(line, raw, error=f"broken JSON at column {exc.colno}: "
                                    f"{exc.msg}")
            except RecursionError as exc:
                raise _Undecidable("JSON Python cannot parse") from exc
            if cut:
                return SourceRecord(line, raw, error=too_deep_error(data))
            return SourceRecord(line, raw, data=data)

        counters: dict[int, int] = Counter()
        for line, raw, rows, error in line_records(source(*p) for p in lines):
            if isinstance(error, ApiError):
                self.api_errors[error.kind] += 1
                continue
            i = counters[line]
            counters[line] += 1
            if error is not None:
                reason = getattr(error, "reason", None) or str(error)
                recs_out.append((line, i, False, raw, reason, getattr(error, "field", None)))
                continue
            if rows[0][0] != "posts":
                raise _Undecidable("a user page")
            bad = ld._invalid(rows[0][0], rows[0][1])
            if bad is not None:
                recs_out.append((line, i, False, raw, bad[0], bad[1]))
                continue
            recs_out.append((line, i, True, raw, None, None))
            for o, (target, row) in enumerate(rows):
                if target not in ("accounts", "account_snapshots", "posts"):
                    raise _Undecidable("follow edges")
                if o and (why := ld._invalid(target, row)) is not None:
                    self.skipped[(target, f"skipped: invalid {why[1]}")] += 1
                    continue
                if target == "posts":
                    for kind, value in dict.fromkeys(row.get("_entities") or ()):
                        rows_out["ents"].append((line, i, o, row["post_id"], kind, value))
                if row.get("attrs") is not None:
                    row = {**row, "attrs": _clean_text(json.dumps(
                        row["attrs"], ensure_ascii=False, sort_keys=True, default=str))}
                rows_out[target].append((line, i, o, o == 0, row))
        con = self.con
        con.register("_tv_arrow", pa.table({
            "_line": pa.array([r[0] for r in recs_out], pa.int64()),
            "_i": pa.array([r[1] for r in recs_out], pa.int64()),
            "good": pa.array([r[2] for r in recs_out], pa.bool_()),
            # the quarantine keeps raw texts with lone surrogates as U+FFFD (Loader)
            "raw": pa.array([None if r[3] is None else _clean_text(r[3]) for r in recs_out],
                            pa.string()),
            "reason": pa.array([r[4] for r in recs_out], pa.string()),
            "field": pa.array([r[5] for r in recs_out], pa.string())}))
        try:
            con.execute("CREATE TEMP TABLE _tv_pyrec AS SELECT * FROM _tv_arrow")
        finally:
            con.unregister("_tv_arrow")
        for target, cols in _COLS.items():
            got = rows_out[target]
            tbl = {"_line": pa.array([r[0] for r in got], pa.int64()),
                   "_i": pa.array([r[1] for r in got], pa.int64()),
                   "ord": pa.array([r[2] for r in got], pa.int64()),
                   "prim": pa.array([r[3] for r in got], pa.bool_())}
            for name, typ in cols:
                tbl[name] = pa.array([r[4].get(name) for r in got], typ)
            con.register("_tv_py", pa.table(tbl))
            try:
                con.execute(f"CREATE TEMP TABLE _tv_py_{target} AS SELECT * FROM _tv_py")
            finally:
                con.unregister("_tv_py")
        e = rows_out["ents"]
        con.register("_tv_py", pa.table({
            "_line": pa.array([r[0] for r in e], pa.int64()),
            "_i": pa.array([r[1] for r in e], pa.int64()),
            "ord": pa.array([r[2] for r in e], pa.int64()),
            "post_id": pa.array([r[3] for r in e], pa.string()),
            "kind": pa.array([r[4] for r in e], pa.string()),
            "value": pa.array([r[5] for r in e], pa.string())}))
        try:
            con.execute("CREATE TEMP TABLE _tv_py_ents AS SELECT * FROM _tv_py")
        finally:
            con.unregister("_tv_py")

    # the mapping of the SQL lines --------------------------------------------------------------
    def _map(self) -> None:
        con = self.con
        # users of each page by id (the last wins, as the reader's dict), mapped once
        con.execute(f"""CREATE TEMP TABLE _tv_user AS
            SELECT u._line, u.u.id AS id, u.u.username AS username,
                   coalesce(u.u.protected, false) AS protected, {_account('u.u')},
                   o.observed_at, {_snapshot('u.u')}
            FROM _tv_u u JOIN _tv_obs o USING (_line)
            QUALIFY row_number() OVER (PARTITION BY u._line, u.u.id ORDER BY u.j DESC) = 1""")
        con.execute("""CREATE TEMP TABLE _tv_itw AS SELECT _line, t FROM _tv_it
            QUALIFY row_number() OVER (PARTITION BY _line, t.id ORDER BY j DESC) = 1""")
        # a tweet's rows: its post (ord 4k), its author's account (4k+1) and snapshot (4k+2),
        # k = 0 for the record, k = 1.. for the referenced tweets in their order; mentioned
        # users at 1000 + 4m + 1/2
        con.execute("""CREATE TEMP TABLE _tv_m AS
            SELECT _line, _i, 0 AS k, true AS prim, t FROM _tv_tw
            UNION ALL
            SELECT r._line, r._i, r.k, false, it.t FROM (
                SELECT _line, _i, unnest(t.referenced_tweets) AS ref,
                       generate_subscripts(t.referenced_tweets, 1) AS k FROM _tv_tw) r
            JOIN _tv_itw it ON it._line = r._line AND it.t.id = r.ref.id
            WHERE it.t.author_id IS NOT NULL AND it.t.author_id <> ''
              AND it.t.created_at IS NOT NULL AND it.t.created_at <> ''""")
        con.execute(f"""CREATE TEMP TABLE _tv_sql_posts AS
            SELECT m._line, m._i, 4 * m.k AS ord, m.prim, {_post('m.t', 'au')}
            FROM _tv_m m LEFT JOIN _tv_user au ON au._line = m._line AND au.id = m.t.author_id""")
        acc = ("au.account_id, au.platform, au.person_id, au.handle, au.kind, au.created_at, "
               "au.display_name, au.bio, au.url, au.attrs")
        snap = ("au.account_id, au.observed_at, au.followers, au.following, au.posts_count, "
                "au.listed_count")
        mentions = """(SELECT _line, _i, unnest(t.entities.mentions) AS mn,
                              generate_subscripts(t.entities.mentions, 1) AS mi FROM _tv_tw) mt
                       JOIN _tv_user au ON au._line = mt._line AND au.id = mt.mn.id"""
        con.execute(f"""CREATE TEMP TABLE _tv_sql_accounts AS
            SELECT m._line, m._i, 4 * m.k + 1 AS ord, false AS prim,
                   CASE WHEN au.id IS NULL THEN 'twitter:' || m.t.author_id
                        ELSE au.account_id END AS account_id,
                   'twitter' AS platform, NULL::VARCHAR AS person_id, au.handle,
                   'personal' AS kind, au.created_at, au.display_name, au.bio, au.url,
                   CASE WHEN au.id IS NULL THEN '{{"incomplete": true}}' ELSE au.attrs END
                     AS attrs
            FROM _tv_m m LEFT JOIN _tv_user au ON au._line = m._line AND au.id = m.t.author_id
            UNION ALL
            SELECT mt._line, mt._i, 1000 + 4 * mt.mi + 1, false, {acc} FROM {mentions}""")
        con.execute(f"""CREATE TEMP TABLE _tv_sql_account_snapshots AS
            SELECT m._line, m._i, 4 * m.k + 2 AS ord, false AS prim, {snap}
            FROM _tv_m m JOIN _tv_user au ON au._line = m._line AND au.id = m.t.author_id
            WHERE au.has_snapshot
            UNION ALL
            SELECT mt._line, mt._i, 1000 + 4 * mt.mi + 2, false, {snap} FROM {mentions}
            WHERE au.has_snapshot""")
        self._texts()
        self._entities()
        # everything together, the records in file order
        for target in _COLS:
            cols = ", ".join(n for n, _ in _COLS[target])
            con.execute(f"""CREATE TEMP TABLE _tv_{target} AS
                SELECT _line, _i, ord, prim, {cols} FROM _tv_sql_{target}
                UNION ALL SELECT _line, _i, ord, prim, {cols} FROM _tv_py_{target}""")
        con.execute("""CREATE TEMP TABLE _tv_rec AS
            SELECT _line, _i, true AS good, NULL::VARCHAR AS raw, NULL::VARCHAR AS reason,
                   NULL::VARCHAR AS field FROM _tv_tw
            UNION ALL SELECT * FROM _tv_pyrec""")
        con.execute("""CREATE TEMP TABLE _tv_ents AS
            SELECT _line, _i, ord, post_id, kind, value FROM _tv_sql_ents
            UNION ALL SELECT * FROM _tv_py_ents""")

    def _texts(self) -> None:
        """Stored texts: HTML character references decoded (only texts with a '&' can change)."""
        from socialens.text import decode_entities

        con = self.con
        texts = [r[0] for r in con.execute(
            "SELECT DISTINCT text FROM _tv_sql_posts WHERE contains(text, '&')").fetchall()]
        pairs = [(t, d) for t in texts if (d := decode_entities(t)) != t]
        if not pairs:
            return
        con.register("_tv_dec", pa.table({"text": pa.array([p[0] for p in pairs], pa.string()),
                                          "decoded": pa.array([p[1] for p in pairs],
                                                              pa.string())}))
        try:
            con.execute("""UPDATE _tv_sql_posts p SET text = d.decoded FROM _tv_dec d
                           WHERE p.text = d.text""")
        finally:
            con.unregister("_tv_dec")

    def _entities(self) -> None:
        """``_tv_sql_ents``: each post row's entities, each distinct item normalised once."""
        con = self.con
        con.execute("""CREATE TEMP TABLE _tv_items AS
            WITH m AS (SELECT _line, _i, 4 * k AS ord, 'twitter:' || t.id AS post_id,
                              t.entities AS e FROM _tv_m),
            h AS (SELECT _line, _i, ord, post_id, unnest(e.hashtags) AS x FROM m),
            n AS (SELECT _line, _i, ord, post_id, unnest(e.mentions) AS x FROM m),
            u AS (SELECT _line, _i, ord, post_id, unnest(e.urls) AS x FROM m)
            SELECT DISTINCT * FROM (
                SELECT _line, _i, ord, post_id, 'h' AS src, nullif(x.tag, '') AS item FROM h
                UNION ALL SELECT _line, _i, ord, post_id, 'm', nullif(x.username, '') FROM n
                UNION ALL SELECT _line, _i, ord, post_id, 'u', coalesce(nullif(x.unwound_url, ''),
                                 nullif(x.expanded_url, ''), nullif(x.url, '')) FROM u)
            WHERE item IS NOT NULL""")
        distinct = con.execute("SELECT DISTINCT src, item FROM _tv_items").fetchall()
        m_src, m_item, m_kind, m_value = [], [], [], []
        for src, item in distinct:
            for kind, value in cb._entity_values(src, item):
                m_src.append(src)
                m_item.append(item)
                m_kind.append(kind)
                m_value.append(value)
        con.register("_tv_emap", pa.table({"src": pa.array(m_src, pa.string()),
                                           "item": pa.array(m_item, pa.string()),
                                           "kind": pa.array(m_kind, pa.string()),
                                           "value": pa.array(m_value, pa.string())}))
        try:
            con.execute("""CREATE TEMP TABLE _tv_sql_ents AS
                SELECT DISTINCT i._line, i._i, i.ord, i.post_id, m.kind, m.value
                FROM _tv_items i JOIN _tv_emap m USING (src, item)""")
        finally:
            con.unregister("_tv_emap")
            con.execute("DROP TABLE IF EXISTS _tv_items")


def _sql_type(spec: Any) -> str:
    if isinstance(spec, str):
        return {_S: "VARCHAR", _I: "HUGEINT", _B: "BOOLEAN", _ABSENT: "JSON"}[spec]
    kind, inner = spec
    if kind == "arr":
        return f"{_sql_type(inner)}[]"
    return "STRUCT(" + ", ".join(f'"{k}" {_sql_type(v)}' for k, v in inner.items()) + ")"


def _time(v: str) -> str:
    return f"CASE WHEN {v} IS NOT NULL AND {v} <> '' THEN TRY_CAST({v} AS TIMESTAMPTZ) END"


def _account(u: str) -> str:
    """map_user's account row of a user struct (account_row, _user_url, attrs as JSON text)."""
    first = f"{u}.entities.url.urls[1]"
    url = (f"coalesce(CASE WHEN {first} IS NOT NULL THEN coalesce(nullif({first}.expanded_url, ''), "
           f"nullif({first}.url, '')) END, nullif({u}.url, ''))")
    attrs = []
    for k in ("location", "pinned_tweet_id", "profile_image_url", "protected", "verified",
              "verified_type"):
        v = f"{u}.{k}"
        if k in ("protected", "verified"):
            attrs.append(f"CASE WHEN {v} IS NOT NULL THEN '\"{k}\": ' || "
                         f"CASE WHEN {v} THEN 'true' ELSE 'false' END END")
        else:
            attrs.append(f"CASE WHEN {_present(v)} THEN '\"{k}\": ' || {_jstr(v)} END")
    handle = _clean(f"{u}.username")
    return (f"'twitter:' || {u}.id AS account_id, 'twitter' AS platform, "
            f"NULL::VARCHAR AS person_id, CASE WHEN {handle} IS NOT NULL THEN "
            f"ltrim({handle}, '@') END AS handle, 'personal' AS kind, "
            f"{_time(f'{u}.created_at')} AS created_at, {_clean(f'{u}.name')} AS display_name, "
            f"{_clean(f'{u}.description')} AS bio, {_clean(url)} AS url, "
            f"'{{' || nullif(concat_ws(', ', {', '.join(attrs)}), '') || '}}' AS attrs")


def _snapshot(u: str) -> str:
    pm = f"{u}.public_metrics"
    vals = [_pint(f"{pm}.{k}") for k in ("followers_count", "following_count", "tweet_count",
                                          "listed_count")]
    names = ("followers", "following", "posts_count", "listed_count")
    return (", ".join(f"{v} AS {n}" for v, n in zip(vals, names, strict=True)) +
            f", o.observed_at IS NOT NULL AND coalesce({', '.join(vals)}) IS NOT NULL "
            f"AS has_snapshot")


def _post(t: str, au: str) -> str:
    """map_tweet's post row of a tweet struct ``t`` with its author ``au`` (a _tv_user row)."""
    refs = f"coalesce({t}.referenced_tweets, [])"

    def ref(kind):
        return (f"list_extract(list_transform(list_filter({refs}, r -> r.type = '{kind}'), "
                f"r -> 'twitter:' || r.id), 1)")
    pm = f"{t}.public_metrics"
    hist = f"coalesce({t}.edit_history_tweet_ids, [])"
    attrs = [
        f"CASE WHEN {pm}.bookmark_count IS NOT NULL THEN '\"bookmark_count\": ' || "
        f"CAST({pm}.bookmark_count AS VARCHAR) END",
        f"CASE WHEN {_present(f'{t}.conversation_id')} THEN '\"conversation_id\": ' || "
        f"{_jstr(f'{t}.conversation_id')} END",
        f"CASE WHEN len({hist}) > 1 THEN '\"edit_history_tweet_ids\": [' || "
        f"array_to_string(list_transform({hist}, x -> '\"' || x || '\"'), ', ') || ']' END",
        f"CASE WHEN {pm}.impression_count IS NOT NULL THEN '\"impression_count\": ' || "
        f"CAST({pm}.impression_count AS VARCHAR) END",
        f"CASE WHEN {t}.possibly_sensitive THEN '\"possibly_sensitive\": true' END",
        f"CASE WHEN {_present(f'{t}.source')} THEN '\"source\": ' || {_jstr(f'{t}.source')} END",
    ]
    lang = _clean(f"{t}.lang")
    reply = f"{t}.in_reply_to_user_id"
    return (f"'twitter:' || {t}.id AS post_id, 'twitter:' || {t}.author_id AS account_id, "
            f"TRY_CAST({t}.created_at AS TIMESTAMPTZ) AS created_at, {t}.text AS text, "
            f"CASE WHEN {lang} IN ('und', 'zxx') THEN NULL ELSE {lang} END AS lang, "
            f"{ref('replied_to')} AS reply_to_post_id, "
            f"CASE WHEN {_present(reply)} THEN 'twitter:' || {reply} END AS reply_to_account_id, "
            f"{ref('quoted')} AS quote_of, {ref('retweeted')} AS repost_of, "
            f"{_pint(f'{pm}.like_count')} AS like_count, "
            f"{_pint(f'{pm}.retweet_count')} AS repost_count, "
            f"{_pint(f'{pm}.reply_count')} AS reply_count, "
            f"{_pint(f'{pm}.quote_count')} AS quote_count, "
            f"'https://twitter.com/' || coalesce(nullif({au}.username, ''), 'i/web') || "
            f"'/status/' || {t}.id AS url, "
            f"'{{' || nullif(concat_ws(', ', {', '.join(attrs)}), '') || '}}' AS attrs, "
            f"CASE WHEN {au}.protected THEN 'followers' ELSE 'public' END AS visibility")


_TS = pa.timestamp("us", tz="UTC")
#: the staged columns of each table's rows (attrs as the Loader's JSON text)
_COLS: dict[str, tuple[tuple[str, pa.DataType], ...]] = {
    "accounts": (("account_id", pa.string()), ("platform", pa.string()),
                 ("person_id", pa.string()), ("handle", pa.string()), ("kind", pa.string()),
                 ("created_at", _TS), ("display_name", pa.string()), ("bio", pa.string()),
                 ("url", pa.string()), ("attrs", pa.string())),
    "account_snapshots": (("account_id", pa.string()), ("observed_at", _TS),
                          ("followers", pa.int64()), ("following", pa.int64()),
                          ("posts_count", pa.int64()), ("listed_count", pa.int64())),
    "posts": (("post_id", pa.string()), ("account_id", pa.string()), ("created_at", _TS),
              ("text", pa.string()), ("lang", pa.string()), ("reply_to_post_id", pa.string()),
              ("reply_to_account_id", pa.string()), ("quote_of", pa.string()),
              ("repost_of", pa.string()), ("like_count", pa.int64()),
              ("repost_count", pa.int64()), ("reply_count", pa.int64()),
              ("quote_count", pa.int64()), ("url", pa.string()), ("attrs", pa.string()),
              ("visibility", pa.string())),
}
_KEYS = {"accounts": ("account_id",), "account_snapshots": ("account_id", "observed_at"),
         "posts": ("post_id",)}
_TEMP = ("_tv_ctw", "_tv_cit", "_tv_cu", "_tv_tw", "_tv_u", "_tv_it", "_tv_obs", "_tv_pg", "_tv_user", "_tv_itw", "_tv_m",
         "_tv_sql_posts", "_tv_sql_accounts", "_tv_sql_account_snapshots", "_tv_sql_ents",
         "_tv_items", "_tv_pyrec", "_tv_py_accounts", "_tv_py_account_snapshots",
         "_tv_py_posts", "_tv_py_ents", "_tv_accounts", "_tv_account_snapshots", "_tv_posts",
         "_tv_rec", "_tv_ents", "_tv_batch", "_tv_k_accounts", "_tv_k_account_snapshots",
         "_tv_k_posts", "_tv_b")


def _drop(con) -> None:
    for t in _TEMP:
        con.execute(f"DROP TABLE IF EXISTS {t}")


# -- writing -------------------------------------------------------------------------------------
class _Write:
    """The Loader's bookkeeping over the staged rows, batch by batch (one transaction each)."""

    def __init__(self, stage: _Stage):
        self.s = stage
        self.l = stage.l
        self.con = stage.con
        self._entities_conflict: bool | None = None

    def run(self) -> FileReport:
        from datetime import UTC, datetime

        from socialens.ingest import loader as loader_mod

        ld, con = self.l, self.con
        size = int(loader_mod.BATCH_SIZE)
        # batch of each record: good records numbered in file order, batch k holds good records
        # [k*size, (k+1)*size); a quarantined record goes with the flush after it
        con.execute(f"""CREATE TEMP TABLE _tv_batch AS
            SELECT _line, _i, good, raw, reason, field,
                   (sum(good::INT) OVER (ORDER BY _line, _i ROWS BETWEEN UNBOUNDED PRECEDING
                                         AND CURRENT ROW) - good::INT) // {size} AS batch
            FROM _tv_rec""")
        for target in _COLS:
            key = ", ".join(_KEYS[target])
            con.execute(f"""CREATE TEMP TABLE _tv_k_{target} AS
                SELECT r.*, b.batch,
                       row_number() OVER (PARTITION BY b.batch, {', '.join('r.' + k for k in _KEYS[target])}
                                          ORDER BY r.prim DESC, r._line, r._i, r.ord) = 1 AS kept
                FROM _tv_{target} r JOIN _tv_batch b USING (_line, _i) WHERE b.good""")
            del key
        n_read, n_good = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE good) FROM _tv_rec").fetchone()
        ld.report.n_read = n_read
        for (target, what), n in self.s.skipped.items():
            ld._secondary(target, what, n)
        for kind, n in self.s.api_errors.items():
            ld.report.api_errors[kind] += n
        counts = dict(con.execute("SELECT batch, count(*) FROM _tv_batch WHERE good GROUP BY batch"
                                  ).fetchall())
        n_batches = n_good // size + 1
        ld._begin(datetime.now(UTC))
        try:
            for b in range(n_batches):
                with ld.ws.transaction():
                    for line, raw, reason, fld in con.execute(
                            """SELECT _line, raw, reason, field FROM _tv_batch
                               WHERE NOT good AND batch = ? ORDER BY _line, _i""", [b]).fetchall():
                        ld._add_quarantine(line, raw, ld.report.target, reason, fld)
                    n = counts.get(b, 0)
                    if n:
                        self._accounts(b)
                        self._snapshots(b)
                        self._posts(b)
                        if ld.on_progress:
                            ld.on_progress(n)
                    ld._flush_quarantine()
                    if b == n_batches - 1:
                        ld._finish()
        except BaseException:
            ld._abandon()
            raise
        return ld.report

    def _count(self, target: str, rows, what: str) -> None:
        """Counters of rows ``(prim, n)``: primary ones as the record's fate, the rest as
        secondary rows of ``target``."""
        ld = self.l
        for prim, n in rows:
            if not n:
                continue
            if prim:
                if what == "duplicate":
                    ld.report.n_duplicate += n
                elif what == "loaded":
                    ld.report.n_loaded += n
                elif what == "merged":
                    ld.report.n_merged += n
            else:
                ld._secondary(target, what, n)

    def _kept(self, target: str, b: int) -> None:
        con = self.con
        self._count(target, con.execute(
            f"SELECT prim, count(*) FROM _tv_k_{target} WHERE batch = ? AND NOT kept GROUP BY prim",
            [b]).fetchall(), "duplicate")
        cols = ", ".join(n for n, _ in _COLS[target])
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _tv_b AS
            SELECT _line, _i, ord, prim, {cols} FROM _tv_k_{target}
            WHERE batch = ? AND kept""", [b])

    def _unknown(self, target: str) -> None:
        """Rows whose account_id names no account: records quarantined, the rest skipped."""
        from socialens.ingest.loader import unknown_ref_reason

        ld, con = self.l, self.con
        missing = ("b.account_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM accounts a "
                   "WHERE a.account_id = b.account_id)")
        bad = con.execute(f"""SELECT b.prim, b._line, b._i, b.account_id, r.raw FROM _tv_b b
                              LEFT JOIN _tv_rec r USING (_line, _i)
                              WHERE {missing} ORDER BY b._line, b._i, b.ord""").fetchall()
        if not bad:
            return
        for prim, line, i, value, raw in bad:
            if prim:
                ld._add_quarantine(line, raw if raw is not None else self._raw(line, i), target,
                                   unknown_ref_reason("account_id", value, "accounts"),
                                   "account_id")
            else:
                ld._secondary(target, "skipped: unknown account_id")
        con.execute(f"DELETE FROM _tv_b b WHERE {missing}")

    def _raw(self, line: int, i: int) -> str:
        """The raw text of record ``i`` of a line (the tweet as the reader writes it)."""
        from socialens.ingest.sources import iter_jsonl
        from socialens.ingest.twitter_v2 import line_records

        for rec in iter_jsonl(self.s.path):
            if rec.line == line:
                got = [r for r in line_records([rec]) if not hasattr(r[3], "kind")]
                return got[i][1]
        return ""  # pragma: no cover - the line was staged, so it is there

    def _accounts(self, b: int) -> None:
        ld, con = self.l, self.con
        self._kept("accounts", b)
        cols = [n for n, _ in _COLS["accounts"]]
        fill = [c for c in cols if c != "account_id"]
        gap = " OR ".join(f'(t."{c}" IS NULL AND s."{c}" IS NOT NULL)' for c in fill)
        self._count("accounts", con.execute(
            f"""SELECT s.prim, count(*) FROM accounts t JOIN _tv_b s USING (account_id)
                WHERE {gap} GROUP BY s.prim""").fetchall(), "merged")
        sets = ", ".join(f'"{c}" = coalesce(t."{c}", s."{c}")' for c in fill
                         if c != "attrs") + ', "attrs" = coalesce(t."attrs", s."attrs"::JSON)'
        con.execute(f"""UPDATE accounts AS t SET {sets} FROM _tv_b s
                        WHERE t.account_id = s.account_id AND ({gap})""")
        self._count("accounts", con.execute(
            """SELECT s.prim, count(*) FROM _tv_b s SEMI JOIN accounts t USING (account_id)
               GROUP BY s.prim""").fetchall(), "duplicate")
        con.execute("DELETE FROM _tv_b s WHERE account_id IN (SELECT account_id FROM accounts)")
        names = ", ".join(cols)
        sel = ", ".join(c if c != "attrs" else "attrs::JSON" for c in cols)
        con.execute(f"""INSERT INTO accounts ({names}, run_id, source_line)
                        SELECT {sel}, ?, _line FROM _tv_b ORDER BY _line, _i, ord""", [ld.run_id])
        self._count("accounts", con.execute(
            "SELECT prim, count(*) FROM _tv_b GROUP BY prim").fetchall(), "loaded")

    def _snapshots(self, b: int) -> None:
        ld, con = self.l, self.con
        self._kept("account_snapshots", b)
        self._unknown("account_snapshots")
        self._count("account_snapshots", con.execute(
            """SELECT s.prim, count(*) FROM _tv_b s SEMI JOIN account_snapshots t
               USING (account_id, observed_at) GROUP BY s.prim""").fetchall(), "duplicate")
        con.execute("""DELETE FROM _tv_b s WHERE EXISTS (SELECT 1 FROM account_snapshots t
                       WHERE t.account_id = s.account_id AND t.observed_at = s.observed_at)""")
        cols = ", ".join(n for n, _ in _COLS["account_snapshots"])
        con.execute(f"""INSERT INTO account_snapshots ({cols}, run_id, source_line)
                        SELECT {cols}, ?, _line FROM _tv_b ORDER BY _line, _i, ord""", [ld.run_id])
        self._count("account_snapshots", con.execute(
            "SELECT prim, count(*) FROM _tv_b GROUP BY prim").fetchall(), "loaded")

    def _posts(self, b: int) -> None:
        ld, con = self.l, self.con
        self._kept("posts", b)
        if con.execute("SELECT count(*) FILTER (WHERE NOT prim) FROM _tv_b").fetchone()[0]:
            ld._embedded = True
        self._unknown("posts")
        self._count("posts", con.execute(
            """SELECT s.prim, count(*) FROM _tv_b s SEMI JOIN posts t USING (post_id)
               GROUP BY s.prim""").fetchall(), "duplicate")
        con.execute("DELETE FROM _tv_b s WHERE post_id IN (SELECT post_id FROM posts)")
        cols = [n for n, _ in _COLS["posts"]]
        names = ", ".join(cols)
        sel = ", ".join(c if c != "attrs" else "attrs::JSON" for c in cols)
        con.execute(f"""INSERT INTO posts ({names}, collected_as, run_id, source_line)
                        SELECT {sel}, CASE WHEN prim THEN 'record' ELSE 'embedded' END, ?, _line
                        FROM _tv_b ORDER BY _line, _i, ord""", [ld.run_id])
        # as Loader._mark_records: posts loaded embedded that now arrive as records
        if ld._embedded is None:
            ld._embedded = con.execute(
                "SELECT count(*) > 0 FROM (SELECT 1 FROM posts WHERE collected_as = 'embedded' "
                "LIMIT 1)").fetchone()[0]
        if ld._embedded:
            con.execute("""UPDATE posts SET collected_as = 'record' WHERE collected_as = 'embedded'
                           AND post_id IN (SELECT post_id FROM _tv_k_posts WHERE batch = ?
                                           AND prim)""", [b])
        self._count("posts", con.execute(
            "SELECT prim, count(*) FROM _tv_b GROUP BY prim").fetchall(), "loaded")
        if self._entities_conflict is None:
            self._entities_conflict = self._conflicts()
        # the Loader's INSERT OR IGNORE only where the table may hold rows of these posts (rows
        # can outlive their post); else a plain INSERT of the same rows (one post row per
        # post_id is loaded, its entities distinct)
        verb = "INSERT OR IGNORE" if self._entities_conflict else "INSERT"
        con.execute(f"""{verb} INTO post_entities
                        SELECT e.post_id, e.kind, e.value, ? FROM _tv_ents e
                        SEMI JOIN _tv_b b USING (_line, _i, ord)""", [ld.run_id])

    def _conflicts(self) -> bool:
        """Whether ``post_entities`` may hold rows of a post of this file (looked for only when
        the file brings at least 1/8 as many rows as the table holds; else assumed)."""
        con = self.con
        n_old = con.execute("SELECT count(*) FROM post_entities").fetchone()[0]
        if n_old == 0:
            return False
        if con.execute("SELECT count(*) FROM _tv_ents").fetchone()[0] * 8 < n_old:
            return True
        return bool(con.execute(
            """SELECT EXISTS (SELECT 1 FROM post_entities e
                              WHERE e.post_id IN (SELECT post_id FROM _tv_posts))""").fetchone()[0])


def load_pages(loader: Loader, path: Path) -> FileReport | None:
    """Load a twarc2 JSONL file of tweet pages set-based into ``loader``'s workspace; None
    (nothing written) when the file must go through the per-record path (module docstring)."""
    if not ENABLED:
        return None
    if loader._forgotten:
        return _fallback("forgotten people")
    if loader.report.target != "posts":
        return _fallback("user pages")
    con = loader.con
    stage = _Stage(loader, path)
    try:
        stage.run()
    except (_Undecidable, cb._Undecidable) as exc:
        _drop(con)
        return _fallback(str(exc))
    except Exception:  # noqa: BLE001 - any surprise in staging: the per-record path decides
        _drop(con)
        if not CATCH:
            raise
        return _fallback("staging failed")
    STATS["bulk"] += 1
    try:
        return _Write(stage).run()
    finally:
        _drop(con)


#: whether a staging error falls back silently (the tests set it False to see the error)
CATCH = True
