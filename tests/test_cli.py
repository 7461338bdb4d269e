"""The CLI: exit codes *and* messages."""

import json

import pytest
from typer.testing import CliRunner

from socialens.cli import app

runner = CliRunner()


def run(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def test_init_and_ingest_print_counts(tmp_path, tiny_dir):
    w = tmp_path / "w.duckdb"
    r = run("init", "-w", w)
    assert r.exit_code == 0 and "0001_initial" in r.output
    r = run("ingest", tiny_dir, "-w", w)
    assert r.exit_code == 0, r.output
    assert "posts.jsonl" in r.output and "507" in r.output
    r = run("ingest", tiny_dir, "-w", w, "--json")
    data = json.loads(r.output)
    assert data["totals"]["duplicate"] == data["totals"]["read"] and r.exit_code == 0


def test_ingest_with_bad_records_exits_zero_and_reports(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "people.csv").write_text("person_id,name\np1,Ann\n,Nobody\n")
    r = run("ingest", folder, "-w", tmp_path / "w.duckdb")
    assert r.exit_code == 0
    assert "person_id is missing" in r.output and "quarantine" in r.output


def test_ingest_where_nothing_loads_exits_one(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "posts.jsonl").write_text('{"post_id": "twitter:1", "account_id": "twitter:9", '
                                        '"created_at": "2020-01-01T00:00:00Z"}\n')
    r = run("ingest", folder, "-w", tmp_path / "w.duckdb")
    assert r.exit_code == 1
    assert "nothing could be loaded" in r.output
    assert "unknown account_id 'twitter:9'" in r.output


def test_missing_path_and_bad_timezone(tmp_path, tiny_dir):
    r = run("ingest", tmp_path / "nope", "-w", tmp_path / "w.duckdb")
    assert r.exit_code == 1 and "does not exist" in r.output
    assert "Traceback" not in r.output
    r = run("ingest", tiny_dir, "-w", tmp_path / "w.duckdb", "--timezone", "Nowhere/City")
    assert r.exit_code == 1 and "IANA" in r.output


def test_workspace_from_environment(tmp_path, tiny_dir):
    w = tmp_path / "env.duckdb"
    r = run("ingest", tiny_dir, env={"SOCIALENS_WORKSPACE": str(w)})
    assert r.exit_code == 0 and w.exists()


def test_analyze_and_report(tmp_path, tiny_dir):
    w = tmp_path / "w.duckdb"
    run("ingest", tiny_dir, "-w", w)
    r = run("analyze", "-w", w, "--json", tmp_path / "s.json")
    assert r.exit_code == 0, r.output
    assert "directory" in r.output and "leaders' median follower rank is 2" in r.output
    assert set(json.loads((tmp_path / "s.json").read_text())["analyses"]) == {
        "directory", "adoption", "activity", "interactions", "reach", "contagion", "delegation",
        "leaders"}
    r = run("report", "-w", w, "--out", tmp_path / "rep", "--leaders", "level<=1")
    assert r.exit_code == 0 and (tmp_path / "rep" / "report.html").exists()
    s = json.loads((tmp_path / "rep" / "summary.json").read_text())
    assert s["analyses"]["directory"]["params"]["leaders"] == "level<=1"


@pytest.mark.parametrize("args,message", [
    (["--leaders", "bosses"], "not understood"),
    (["--snapshot", "last tuesday"], "--snapshot"),
    (["-a", "horoscope"], "unknown analysis"),
])
def test_analyze_errors_are_messages(tmp_path, tiny_dir, args, message):
    w = tmp_path / "w.duckdb"
    run("ingest", tiny_dir, "-w", w)
    r = run("analyze", "-w", w, *args)
    assert r.exit_code == 1 and message in r.output and "Traceback" not in r.output


def test_analyze_without_workspace(tmp_path):
    r = run("analyze", "-w", tmp_path / "none.duckdb")
    assert r.exit_code == 1 and "socialens init" in r.output


# -- everyday commands: --version, status, quarantine, sql ---------------------------------------
@pytest.fixture
def tiny_file(tmp_path, tiny_dir):
    """A closed workspace file with the tiny organization and one quarantined record."""
    import socialens

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "people.csv").write_text("person_id,name\nz1,Zed\n,Nobody\n,Nobody again\n")
    w = tmp_path / "w.duckdb"
    with socialens.open(w) as ws:
        ws.ingest(tiny_dir)
        ws.ingest(bad)
    return w


def test_version():
    from socialens import __version__

    r = run("--version")
    assert r.exit_code == 0 and r.output == f"socialens {__version__}\n"


def test_status_lists_tables_runs_quarantine_enrichment_and_migrations(tiny_file):
    r = run("status", "-w", tiny_file)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert any(ln.split() == ["posts", "│", "507"] for ln in lines), r.output
    assert any(ln.split() == ["quarantine", "│", "2"] for ln in lines)
    assert "0006_visibility_interactions" in r.output
    from socialens.enrich.runner import FEATURE_VERSION

    assert (f"enrichment: 0 of 507 posts have features at version {FEATURE_VERSION}; "
            "507 pending") in r.output
    assert "posts.jsonl" in r.output and "people.csv" in r.output  # ingest runs
    assert "quarantine: 2 records by reason" in r.output
    assert "person_id is missing; every record needs one │ 2" in r.output
    data = json.loads(run("status", "-w", tiny_file, "--json").output)
    assert data["tables"]["posts"] == 507 and data["tables"]["people"] == 9
    assert len(data["runs"]) == 7 and data["enrichment"]["pending"] == 507
    assert data["quarantine"] == [{"target": "people", "field": "person_id",
                                   "reason": "person_id is missing; every record needs one",
                                   "n": 2}]


def test_quarantine_lists_file_line_target_field_reason(tiny_file):
    r = run("quarantine", "-w", tiny_file)
    assert r.exit_code == 0, r.output
    rows = [ln for ln in r.output.splitlines() if "person_id is missing" in ln]
    assert len(rows) == 2 and "quarantine: 2 of 2 records" in r.output
    cells = [c.strip() for c in rows[0].split("│")]
    assert cells[1].endswith("bad/people.csv") and cells[2:5] == ["3", "people", "person_id"]
    r = run("quarantine", "-w", tiny_file, "--run", "latest", "--limit", "1", "--json", "--raw")
    data = json.loads(r.output)
    assert r.exit_code == 0 and data["total"] == 2 and data["shown"] == 1
    assert data["rows"][0]["line"] == 3 and data["rows"][0]["raw"] == ",Nobody"
    r = run("quarantine", "-w", tiny_file, "--limit", "1")
    assert "1 of 2 records (--limit 1; --limit 0 for all)" in r.output
    r = run("quarantine", "-w", tiny_file, "--run", "nope")
    assert r.exit_code == 1 and "no ingest run 'nope'" in r.output and "--run latest" in r.output


def test_sql_table_csv_json_and_read_only_by_default(tiny_file):
    q = "SELECT person_id, name FROM people WHERE person_id IN ('ceo', 'coo') ORDER BY 1"
    r = run("sql", q, "-w", tiny_file)
    assert r.exit_code == 0, r.output
    assert [ln.split() for ln in r.output.splitlines()[2:]] == [
        ["ceo", "│", "Tony", "H"], ["coo", "│", "Alfred", "L"], ["2", "rows"]]
    r = run("sql", q, "-w", tiny_file, "--csv")
    assert r.exit_code == 0 and r.output == "person_id,name\nceo,Tony H\ncoo,Alfred L\n"
    r = run("sql", "SELECT count(*) AS n, TIMESTAMPTZ '2020-01-02 03:04:05+00' AS t", "-w",
            tiny_file, "--json")
    assert json.loads(r.output) == [{"n": 1, "t": "2020-01-02T03:04:05+00:00"}]
    r = run("sql", "DELETE FROM people", "-w", tiny_file)
    assert r.exit_code == 1 and "read-only" in r.output and "--write" in r.output
    r = run("sql", "DELETE FROM people WHERE person_id = 'z1'", "-w", tiny_file, "--write")
    assert r.exit_code == 0, r.output
    r = run("sql", "SELECT count(*) AS n FROM people", "-w", tiny_file, "--csv")
    assert r.output == "n\n8\n"
    r = run("sql", "SELEC 1", "-w", tiny_file)
    assert r.exit_code == 1 and "syntax error" in r.output and "Traceback" not in r.output


# -- workspace locks -----------------------------------------------------------------------------
def test_read_only_commands_and_a_notebook_holding_the_workspace(tiny_file):
    from tests.conftest import WorkspaceHolder

    with WorkspaceHolder(tiny_file, "ro"):  # a notebook that opened it with read_only=True
        r = run("status", "-w", tiny_file)
        assert r.exit_code == 0 and "507" in r.output
        r = run("analyze", "-w", tiny_file, "-a", "directory")
        assert r.exit_code == 0, r.output
    with WorkspaceHolder(tiny_file, "rw") as holder:  # a notebook that opened it read-write
        r = run("analyze", "-w", tiny_file)
        assert r.exit_code == 1 and "Traceback" not in r.output
        assert f"PID {holder.proc.pid}" in r.output and "ws.close()" in r.output
        assert "read_only=True" in r.output and "not even read-only" in r.output


# -- messages ------------------------------------------------------------------------------------
@pytest.mark.parametrize("args,messages", [
    (["--platform", "twiter"], ["platform='twiter'", "platforms here: twitter"]),
    (["--account-filter", "offical=yes"],
     ["no account has the attribute 'offical'", "attributes in this workspace: office"]),
    (["--account-filter", "office=Mars"], ["values of office in this workspace: HQ, Remote"]),
    (["--leaders", "ids:ceo,p99,p98"], ["no person 'p98', 'p99' in the workspace", "ceo, coo"]),
])
def test_unknown_values_are_named_with_the_known_ones(tiny_file, args, messages):
    import socialens

    with socialens.open(tiny_file) as ws:
        ws.con.execute("""UPDATE accounts SET attrs = CASE WHEN account_id = 'twitter:1'
                          THEN '{"office": "HQ"}' ELSE '{"office": "Remote"}' END""")
    r = run("analyze", "-w", tiny_file, "-a", "directory", *args)
    assert r.exit_code == 1, r.output
    assert all(m in r.output for m in messages), r.output
    assert "Traceback" not in r.output


def test_account_filter_matches_json_scalars_by_their_text(tiny_file):
    import socialens

    with socialens.open(tiny_file) as ws:
        ws.con.execute("""UPDATE accounts SET attrs = '{"listed": true}'""")
    r = run("analyze", "-w", tiny_file, "-a", "directory", "--account-filter", "listed=true")
    assert r.exit_code == 0 and "leaders' median follower rank is 2" in r.output


def test_snapshot_after_the_data_warns(tiny_file):
    r = run("analyze", "-w", tiny_file, "-a", "directory", "--snapshot", "2030-01-01")
    assert r.exit_code == 0, r.output
    assert ("Warning: --snapshot 2030-01-01T00:00:00+00:00 is after the data: the latest "
            "snapshot is at 2009-01-01T00:00:00+00:00") in r.output
    r = run("analyze", "-w", tiny_file, "-a", "directory", "--snapshot", "2009-01-01")
    assert r.exit_code == 0 and "Warning" not in r.output


def test_serve_on_a_busy_port_fails_before_serving(tiny_file):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = run("serve", "-w", tiny_file, "--port", port)
    assert r.exit_code == 1, r.output
    assert f"cannot listen on 127.0.0.1:{port}: already in use" in r.output
    assert "choose another --port" in r.output and "serving on" not in r.output


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _needs_workspace() -> list[str]:
    import typer.main

    from socialens.cli import CREATES_WORKSPACE

    commands = typer.main.get_command(app).commands
    names = sorted(n for n, c in commands.items()
                   if any("--workspace" in p.opts for p in c.params) and n not in CREATES_WORKSPACE)
    assert {"enrich", "analyze", "status", "sql", "serve"} <= set(names)
    return names


@pytest.mark.parametrize("command", _needs_workspace())
def test_commands_that_need_a_workspace_do_not_create_one(tmp_path, command):
    w = tmp_path / "typo.duckdb"
    extra = {"export": ["--out", tmp_path / "o"], "report": ["--out", tmp_path / "o"],
             "publish": ["--out", tmp_path / "o"], "sql": ["SELECT 1", "--write"],
             "serve": ["--port", _free_port()], "forget": ["ceo"]}.get(command, [])
    r = run(command, "-w", w, *extra)
    assert r.exit_code == 1, r.output
    assert f"no workspace at {w}; create one with `socialens init -w {w}`" in r.output
    assert not w.exists()


def test_user_text_with_brackets_is_printed_not_parsed_as_markup(tmp_path, tiny_file):
    odd = tmp_path / "[" / "bold]x[red].duckdb"  # its path holds the closing tag [/bold]
    assert "[/bold]" in str(odd)
    r = run("analyze", "-w", odd)
    assert r.exit_code == 1 and f"no workspace at {odd}" in r.output
    assert "Traceback" not in r.output and "MarkupError" not in repr(r.exception)
    r = run("sql", "SELECT '[/x] [bold]y' AS v", "-w", tiny_file)
    assert r.exit_code == 0 and "[/x] [bold]y" in r.output
    odd.parent.mkdir()
    r = run("init", "-w", odd)
    assert r.exit_code == 0 and f"workspace {odd} ready" in r.output


def test_analyze_json_creates_the_folder(tiny_file, tmp_path):
    target = tmp_path / "missing" / "dir" / "s.json"
    r = run("analyze", "-w", tiny_file, "-a", "directory", "--json", target)
    assert r.exit_code == 0, r.output
    assert set(json.loads(target.read_text())["analyses"]) == {"directory"}
    r = run("analyze", "-w", tiny_file, "-a", "directory", "--json", tmp_path)
    assert r.exit_code == 1 and "is a folder; give a file name" in r.output


def test_publish_without_base_url_warns_about_opml(tiny_file, tmp_path):
    r = run("publish", "-w", tiny_file, "--out", tmp_path / "site", "--no-report")
    assert r.exit_code == 0, r.output
    assert "feed links in subscriptions.opml point into the site with relative URLs" in r.output
    r = run("publish", "-w", tiny_file, "--out", tmp_path / "site", "--no-report",
            "--base-url", "https://example.org/dir/")
    assert r.exit_code == 0 and "Warning" not in r.output


def test_influence_test_options_reach_contagion_tests(tiny_file, tmp_path):
    r = run("analyze", "-w", tiny_file, "-a", "contagion_tests", "-b", "platform",
            "--json", tmp_path / "s.json")
    assert r.exit_code == 0, r.output
    params = json.loads((tmp_path / "s.json").read_text())["analyses"]["contagion_tests"]["params"]
    assert params["controls"] == ["department"] and params["cluster"] == "department"
    r = run("analyze", "-w", tiny_file, "-a", "contagion_tests", "-b", "platform",
            "--controls", "none", "--cluster", "none", "--json", tmp_path / "s.json")
    assert r.exit_code == 0 and "the permutation test cannot tell" in r.output, r.output
    params = json.loads((tmp_path / "s.json").read_text())["analyses"]["contagion_tests"]["params"]
    assert params["controls"] == [] and params["cluster"] is None
    r = run("analyze", "-w", tiny_file, "-a", "contagion_tests", "--cluster", "dept")
    assert r.exit_code == 1 and "choose department or none" in r.output
    r = run("analyze", "-w", tiny_file, "-a", "directory", "--controls", "level")
    assert r.exit_code == 1 and "unknown parameter 'controls'" in r.output
    r = run("analyze", "-w", tiny_file, "-a", "contagion_tests", "--exposure", "folows")
    assert r.exit_code == 1 and "known kinds: follows" in r.output
    r = run("report", "-w", tiny_file, "--out", tmp_path / "rep", "--cluster", "none")
    assert r.exit_code == 1 and "add --influence-tests" in r.output
    r = run("report", "-w", tiny_file, "--out", tmp_path / "rep", "--influence-tests",
            "-b", "platform", "--exposure", "manager")
    assert r.exit_code == 0, r.output
    s = json.loads((tmp_path / "rep" / "summary.json").read_text())["analyses"]
    assert s["contagion_tests"]["params"]["exposure"] == ["manager"]
