"""Documentation is checked: every workspace column is documented, every command and analysis too."""

import re
from pathlib import Path

from typer.testing import CliRunner

from socialens.analyses import OPT_IN, REGISTRY
from socialens.cli import app

ROOT = Path(__file__).resolve().parents[1]


def documented_columns(section: str) -> set[str]:
    """Column names in the first cell of each row of a section's ``| column | ...`` table
    (a cell may name several, ``run_id, source_line``; bold, code and ``(alias x)`` are dropped)."""
    names: set[str] = set()
    rows = False
    for line in section.splitlines():
        if re.match(r"^\|\s*column\s*\|", line):
            rows = True
            continue
        if rows and not line.startswith("|"):
            break
        if rows and not line.startswith("|---"):
            for part in line.split("|")[1].split(","):
                part = re.sub(r"\(.*?\)", "", part).strip().strip("*`").strip()
                if part:
                    names.add(part)
    return names


def test_documented_columns_are_read_from_the_table_cells():
    section = ("| column | type | meaning |\n|---|---|---|\n| **post_id** | VARCHAR | id |\n"
               "| run_id, source_line | | provenance; see text and lang |\n\ntext after")
    assert documented_columns(section) == {"post_id", "run_id", "source_line"}


def test_every_workspace_column_is_documented(ws):
    doc = (ROOT / "docs" / "data_format.md").read_text()
    missing, stale = [], []
    for table in ws.table_names():
        if not re.search(rf"^### `{table}`", doc, re.M):
            missing.append(table)
            continue
        section = doc.split(f"### `{table}`", 1)[1].split("\n### ", 1)[0]
        documented = documented_columns(section)
        columns = {col for (col,) in ws.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
        ).fetchall()}
        missing += [f"{table}.{c}" for c in sorted(columns - documented)]
        stale += [f"{table}.{c}" for c in sorted(documented - columns)]
    assert not missing, f"undocumented in docs/data_format.md: {missing}"
    assert not stale, f"documented in docs/data_format.md but not in the workspace: {stale}"


def test_every_analysis_is_in_methods():
    doc = (ROOT / "docs" / "methods.md").read_text()
    for name in [*REGISTRY, *OPT_IN]:
        assert re.search(rf"^##+ .*`{name}`", doc, re.M), f"docs/methods.md lacks a section on {name}"


def _commands() -> dict:
    import typer.main

    return typer.main.get_command(app).commands


def test_every_command_is_in_cli_reference():
    doc = (ROOT / "docs" / "cli.md").read_text()
    headings = set(re.findall(r"^## `socialens (\S+)`$", doc, re.M))
    names = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    assert names == set(_commands()) and len(names) >= 14
    assert names <= headings, f"docs/cli.md lacks a section on {sorted(names - headings)}"
    assert headings <= names, f"docs/cli.md documents removed commands {sorted(headings - names)}"
    for name, cmd in _commands().items():
        section = doc.split(f"## `socialens {name}`", 1)[1].split("\n## ", 1)[0]
        for opt in (o for o in cmd.params if o.param_type_name == "option"):
            assert f"`{opt.opts[0]}`" in section, f"docs/cli.md: {name} lacks {opt.opts[0]}"


def test_cli_reference_is_current():
    from scripts.gen_cli_docs import render

    assert (ROOT / "docs" / "cli.md").read_text() == render(), (
        "docs/cli.md is stale; regenerate it with `python scripts/gen_cli_docs.py`"
    )


def test_readme_starts_with_the_two_commands():
    lines = [ln.strip() for ln in (ROOT / "README.md").read_text().splitlines()]
    code = [ln for ln in lines if ln.startswith("make ")]
    assert code[:2] == ["make demo", "make test"]


def _summary(cmd) -> str:
    lines = (cmd.help or "").strip().splitlines()
    assert lines, f"`socialens {cmd.name}` has no help text (its docstring)"
    return lines[0]


def test_help_lists_every_command_with_its_summary():
    r = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0
    assert "Usage: socialens [OPTIONS] COMMAND" in r.output and "--version" in r.output
    for name, cmd in _commands().items():
        first = _summary(cmd)
        assert re.search(rf"^\W*{re.escape(name)} +{re.escape(first[:40])}", r.output, re.M), (
            f"`socialens --help` does not list {name} with its summary {first!r}")


def test_each_command_help_shows_its_summary_and_options():
    for name, cmd in _commands().items():
        r = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "200"})
        assert r.exit_code == 0, name
        assert f"Usage: socialens {name}" in r.output
        assert _summary(cmd)[:60] in r.output, name
        for opt in (o for o in cmd.params if o.param_type_name == "option"):
            assert opt.opts[0] in r.output, f"`socialens {name} --help` lacks {opt.opts[0]}"
