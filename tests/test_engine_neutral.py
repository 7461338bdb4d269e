"""``analyses/`` and ``behaviours/`` stay engine-neutral: they read ibis tables (``ws.table(...)``)
and never reach the DuckDB connection, so the same code can run on another ibis backend.

The check walks the syntax tree of every module (docstrings and comments are not code), and is
itself tested on snippets that must and must not be flagged.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "socialens"
NEUTRAL = ("analyses", "behaviours")
#: attributes that reach a backend connection or its SQL dialect (``ws.con``, ``ws.sql(...)``,
#: ``backend.raw_sql(...)``, ``ws.ibis`` — the backend object itself, ``ws.df``/``ws.count``/
#: ``ws.counts`` — pandas straight from SQL; ``ws.count`` cannot be told from ibis's
#: ``t.count()`` by syntax, so it is not checked)
FORBIDDEN_ATTRIBUTES = {"con", "sql", "raw_sql", "ibis", "df", "counts", "transaction"}
FORBIDDEN_MODULES = {"duckdb", "pyspark", "sqlite3"}


def violations(source: str, filename: str = "<snippet>") -> list[str]:
    """``file:line: what`` for each use of a forbidden attribute or module in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            # ``ibis.memtable`` etc. are the ibis *module*, not a backend: only ``x.ibis`` where x
            # is not the module name counts
            if node.attr == "ibis" and isinstance(node.value, ast.Name) and node.value.id == "ibis":
                continue
            found.append(f"{filename}:{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Import):
            found += [f"{filename}:{node.lineno}: import {a.name}" for a in node.names
                      if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module \
                and node.module.split(".")[0] in FORBIDDEN_MODULES:
            found.append(f"{filename}:{node.lineno}: from {node.module} import")
    return found


@pytest.mark.parametrize("snippet", [
    "ws.con.execute('SELECT 1')",
    "ws.sql('SELECT * FROM posts')",
    "ws.ibis.raw_sql('PRAGMA x')",
    "import duckdb",
    "from duckdb import connect",
    "import pyspark.sql",
    "with ws.transaction() as con: pass",
    "ws.df('posts')",
])
def test_the_check_flags_connection_access(snippet):
    assert violations(snippet) != []


@pytest.mark.parametrize("snippet", [
    "ws.table('posts').filter(lambda t: t.kind == 'post').execute()",
    "import ibis\nibis.memtable(df)",
    "t.count().execute()",
    "'''ws.con.execute() in a docstring'''",
    "# ws.sql('x') in a comment",
])
def test_the_check_passes_ibis_expressions(snippet):
    assert violations(snippet) == []


@pytest.mark.parametrize("folder", NEUTRAL)
def test_no_module_reaches_the_connection(folder):
    files = sorted((PACKAGE / folder).rglob("*.py"))
    assert files, f"no modules found under socialens/{folder}"
    found = [v for f in files
             for v in violations(f.read_text(encoding="utf-8"), str(f.relative_to(PACKAGE)))]
    assert found == [], ("analyses and behaviours must use ibis tables (ws.table(name)), not the "
                         "connection:\n" + "\n".join(found))
