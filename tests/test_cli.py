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
        "directory", "adoption", "activity"}
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
