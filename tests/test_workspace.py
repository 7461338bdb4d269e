import duckdb
import pytest

import socialens
from socialens.errors import SchemaError, WorkspaceError
from socialens.workspace import TABLES
from tests.conftest import WorkspaceHolder


def test_open_creates_every_table(ws):
    names = set(ws.table_names())
    assert set(TABLES) <= names
    assert ws.migrations[0] == "0001_initial"
    assert all(ws.count(t) == 0 for t in TABLES)


def test_open_writes_nothing_outside_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = set(tmp_path.iterdir())
    with socialens.open(tmp_path / "a.duckdb"):
        pass
    created = set(tmp_path.iterdir()) - before
    assert {p.name for p in created} <= {"a.duckdb", "a.duckdb.wal"}


def test_reopen_is_idempotent(tmp_path):
    p = tmp_path / "w.duckdb"
    with socialens.open(p) as w:
        first = w.migrations
    with socialens.open(p) as w:
        assert w.migrations == first


def test_read_only_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(WorkspaceError, match="socialens init"):
        socialens.open(tmp_path / "nope.duckdb", read_only=True)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(WorkspaceError, match="does not exist"):
        socialens.open(tmp_path / "no" / "such" / "w.duckdb")


def test_not_a_duckdb_file(tmp_path):
    p = tmp_path / "w.duckdb"
    p.write_text("hello, I am not a database")
    with pytest.raises(WorkspaceError, match="cannot open"):
        socialens.open(p)


def test_newer_workspace_is_refused(tmp_path):
    p = tmp_path / "w.duckdb"
    with socialens.open(p) as w:
        w.con.execute("INSERT INTO schema_migrations VALUES ('9999_future', now(), '9')")
    with pytest.raises(SchemaError, match="newer SociaLens"):
        socialens.open(p)


def test_default_path_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SOCIALENS_WORKSPACE", str(tmp_path / "env.duckdb"))
    with socialens.open() as w:
        assert w.path == tmp_path / "env.duckdb"


def test_transaction_rolls_back(ws):
    with pytest.raises(RuntimeError):
        with ws.transaction() as con:
            con.execute("INSERT INTO people (person_id) VALUES ('x')")
            raise RuntimeError("boom")
    assert ws.count("people") == 0


def test_ibis_table_and_unknown_table(tiny_ws):
    assert tiny_ws.table("people").count().execute() == 8
    with pytest.raises(WorkspaceError, match="no table"):
        tiny_ws.df("nonsense")


def test_kept_table_expressions_follow_the_catalog(ws):
    """ws.table keeps its expressions only while the catalog is unchanged: a table created,
    altered, dropped or shadowed by a temporary view after the first call is seen at once."""
    ws.con.execute("CREATE TABLE extra (a INTEGER)")
    t = ws.table("extra")
    assert ws.table("extra") is t  # kept
    assert t.columns == ("a",)
    ws.con.execute("ALTER TABLE extra ADD COLUMN b VARCHAR")
    assert ws.table("extra").columns == ("a", "b")
    ws.con.execute("CREATE TEMP VIEW extra AS SELECT 1 AS c")  # a temp view shadows the table
    assert ws.table("extra").columns == ("c",)
    ws.con.execute("DROP VIEW extra")
    ws.con.execute("DROP TABLE extra")
    with pytest.raises(WorkspaceError, match="no table 'extra'"):
        ws.table("extra")


def test_to_pandas_is_ibis_own_conversion(ws):
    """Workspace.ibis converts query results faster than ibis's DuckDB backend, to the same
    frames: every column type, with and without nulls, dtypes included."""
    import ibis
    import pandas as pd

    ws.con.execute("""CREATE TABLE kinds AS SELECT * FROM (VALUES
        ('a', 1, 1.5, true, TIMESTAMPTZ '2020-01-02 03:04:05.123456+00', DATE '2020-01-02',
         '{"k": 1}'::JSON, [1, 2], 'x'),
        (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'y'),
        ('c', 3, -2.0, false, TIMESTAMPTZ '1970-01-01 00:00:00+00', DATE '1999-12-31',
         '[1]'::JSON, [], 'z'))
        AS t(s, i, f, b, ts, d, j, l, key)""")
    t = ws.table("kinds")
    plain = ibis.duckdb.from_connection(ws.con).table("kinds")
    for expr, ref in [(t, plain), (t.filter(t.key != "y"), plain.filter(plain.key != "y")),
                      (t.filter(t.key == "y"), plain.filter(plain.key == "y")),
                      (t.filter(t.key == "none"), plain.filter(plain.key == "none")),
                      (t.group_by("key").aggregate(n=t.i.count(), first=t.ts.min()),
                       plain.group_by("key").aggregate(n=plain.i.count(), first=plain.ts.min()))]:
        ours = expr.order_by("key").to_pandas()
        theirs = ref.order_by("key").to_pandas()
        pd.testing.assert_frame_equal(ours, theirs)
    assert t.count().execute() == plain.count().execute() == 3
    pd.testing.assert_series_equal(t.order_by("key").ts.to_pandas(),
                                   plain.order_by("key").ts.to_pandas())
    assert str(t.ts.to_pandas().dtype) == "datetime64[ns, UTC]"  # as ibis gives it, with a null


def test_times_are_utc(tiny_ws):
    df = tiny_ws.df("accounts")
    assert str(df["created_at"].dt.tz) == "UTC"
    assert isinstance(tiny_ws.con, duckdb.DuckDBPyConnection)




def _workspace_file(tmp_path):
    p = tmp_path / "w.duckdb"
    socialens.open(p).close()
    return p


def test_locked_by_a_writer_names_the_process_and_what_to_do(tmp_path):
    p = _workspace_file(tmp_path)
    with WorkspaceHolder(p, "rw") as holder:
        # DuckDB allows no read-only open while another process holds the write lock
        with pytest.raises(WorkspaceError) as info:
            socialens.open(p, read_only=True)
        msg = str(info.value)
        assert f"(PID {holder.proc.pid})" in msg
        assert "not even read-only" in msg
        assert "ws.close()" in msg and f"socialens.open({str(p)!r}, read_only=True)" in msg
        assert "IO Error" not in msg  # DuckDB's raw message is not passed on
        with pytest.raises(WorkspaceError, match=rf"PID {holder.proc.pid}\).*one process can write"):
            socialens.open(p)


def test_read_only_holder_lets_read_only_opens_through(tmp_path):
    p = _workspace_file(tmp_path)
    with WorkspaceHolder(p, "ro") as holder:
        with socialens.open(p, read_only=True) as w:
            assert w.count("people") == 0
        with pytest.raises(WorkspaceError, match=rf"open read-only in another process, .*"
                                                 rf"PID {holder.proc.pid}"):
            socialens.open(p)


def test_same_process_other_mode_is_explained(tmp_path):
    p = _workspace_file(tmp_path)
    with socialens.open(p):
        with pytest.raises(WorkspaceError, match="already has it open in the other mode"):
            socialens.open(p, read_only=True)


def test_ibis_in_memory_tables_are_not_workspace_tables(tiny_ws):
    """An analysis's ``ibis.memtable`` is registered as a temporary view; it must not show up
    among the workspace's tables (report counts, exports, lakes)."""
    import ibis
    import pandas as pd

    before = tiny_ws.table_names()
    tiny_ws.ibis.execute(ibis.memtable(pd.DataFrame({"a": [1]})))
    assert tiny_ws.ibis.list_tables(like="ibis_")  # it is there ...
    assert tiny_ws.table_names() == before          # ... but not one of the workspace's
    assert not [n for n in tiny_ws.counts() if n.startswith("ibis_")]
