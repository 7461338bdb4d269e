"""Migrations are named, recorded, applied once, in order, and catch up old workspaces."""

from importlib import resources

import duckdb

import socialens
from socialens.schema import MIGRATIONS, applied_migrations, pending_migrations


def test_migrations_are_unique_ordered_and_all_listed():
    names = [n for n, _ in MIGRATIONS]
    assert names == sorted(names) and len(set(names)) == len(names)
    files = {p.name[:-4] for p in resources.files("socialens.schema").iterdir()
             if p.name.endswith(".sql")}
    assert files == set(names), "every .sql file must be a listed migration and vice versa"


def test_partial_history_gets_the_missing_ones(tmp_path):
    path = tmp_path / "partial.duckdb"
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    con.execute("""CREATE TABLE schema_migrations (name VARCHAR PRIMARY KEY,
                   applied_at TIMESTAMPTZ NOT NULL, socialens_version VARCHAR NOT NULL)""")
    first_name, first_sql = MIGRATIONS[0]
    con.execute(first_sql)
    con.execute("INSERT INTO schema_migrations VALUES (?, now(), 'old')", [first_name])
    assert applied_migrations(con) == [first_name]
    con.close()
    with socialens.open(path) as ws:
        assert ws.migrations == [n for n, _ in MIGRATIONS]
        assert ws.count("people") == 0
    con = duckdb.connect(str(path))
    assert pending_migrations(con) == []
    con.close()
