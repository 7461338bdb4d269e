"""Documentation is checked: every workspace column is documented, every command and analysis too."""

import re
from pathlib import Path

from typer.testing import CliRunner

from socialens.analyses import REGISTRY
from socialens.cli import app

ROOT = Path(__file__).resolve().parents[1]


def test_every_workspace_column_is_documented(ws):
    doc = (ROOT / "docs" / "data_format.md").read_text()
    missing = []
    for table in ws.table_names():
        if not re.search(rf"^### `{table}`", doc, re.M):
            missing.append(table)
            continue
        section = doc.split(f"### `{table}`", 1)[1].split("\n### ", 1)[0]
        for (col,) in ws.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
        ).fetchall():
            if f"{col}" not in section:
                missing.append(f"{table}.{col}")
    assert not missing, f"undocumented in docs/data_format.md: {missing}"


def test_every_analysis_is_in_methods():
    doc = (ROOT / "docs" / "methods.md").read_text()
    for name in REGISTRY:
        assert re.search(rf"^##+ .*`{name}`", doc, re.M), f"docs/methods.md lacks a section on {name}"


def test_every_command_is_in_cli_reference():
    doc = (ROOT / "docs" / "cli.md").read_text()
    commands = [c.name or c.callback.__name__ for c in app.registered_commands]
    for name in commands:
        assert f"socialens {name}" in doc, f"docs/cli.md lacks `socialens {name}`"


def test_cli_reference_is_current():
    from scripts.gen_cli_docs import render

    assert (ROOT / "docs" / "cli.md").read_text() == render(), (
        "docs/cli.md is stale; regenerate it with `python scripts/gen_cli_docs.py`"
    )


def test_readme_starts_with_the_two_commands():
    lines = [ln.strip() for ln in (ROOT / "README.md").read_text().splitlines()]
    code = [ln for ln in lines if ln.startswith("make ")]
    assert code[:2] == ["make demo", "make test"]


def test_help_runs():
    assert CliRunner().invoke(app, ["--help"]).exit_code == 0
