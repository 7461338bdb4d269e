"""Named, recorded migrations: the only way the workspace schema is created or changed.

Each migration is a ``(name, sql)`` pair in :data:`MIGRATIONS`, applied in order and recorded in the
``schema_migrations`` table (the sqlite-utils migrations pattern). A migration never changes once it
has shipped; a change to the schema is a new migration appended at the end. The columns are
documented in ``docs/data_format.md`` (a test checks that every column is).
"""

from __future__ import annotations

from importlib import resources

import duckdb

from socialens.errors import SchemaError

__all__ = ["MIGRATIONS", "migrate", "applied_migrations", "pending_migrations"]


def _sql(name: str) -> str:
    return resources.files(__package__).joinpath(f"{name}.sql").read_text(encoding="utf-8")


#: Every migration, in the order it is applied. Append only.
MIGRATIONS: list[tuple[str, str]] = [
    ("0001_initial", _sql("0001_initial")),
    ("0002_post_features", _sql("0002_post_features")),
    ("0003_sim_truth", _sql("0003_sim_truth")),
    ("0004_collect_state", _sql("0004_collect_state")),
    ("0005_ingest_merged", _sql("0005_ingest_merged")),
    ("0006_visibility_interactions", _sql("0006_visibility_interactions")),
    ("0007_collected_as_run_options", _sql("0007_collected_as_run_options")),
    ("0008_forgotten", _sql("0008_forgotten")),
]


def _ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               name VARCHAR PRIMARY KEY,
               applied_at TIMESTAMPTZ NOT NULL,
               socialens_version VARCHAR NOT NULL)"""
    )


def applied_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the migrations recorded in the workspace, in the order they were applied."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()[0]
    if not exists:
        return []
    return [r[0] for r in con.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]


def pending_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of known migrations not yet applied."""
    done = set(applied_migrations(con))
    return [name for name, _ in MIGRATIONS if name not in done]


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply every pending migration, each in its own transaction; return the names applied.

    Raises
    ------
    SchemaError
        If the workspace records a migration this version does not know (it was written by a newer
        SociaLens).
    """
    from socialens import __version__

    known = {name for name, _ in MIGRATIONS}
    unknown = [n for n in applied_migrations(con) if n not in known]
    if unknown:
        raise SchemaError(
            f"this workspace was written by a newer SociaLens (it has migrations {unknown}); "
            "upgrade with `pip install -U socialens`"
        )
    _ensure_table(con)
    applied = []
    for name in pending_migrations(con):
        sql = dict(MIGRATIONS)[name]
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, now(), ?)", [name, __version__]
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
