"""``socialens collect``: exit codes and messages (the library does the work)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from socialens.cli import app
from tests.collect.conftest import write_roster

runner = CliRunner()


def _org(bsky, tmp_path):
    bsky.add_account("did:plc:ceo111", "ceo.acme.example", "Ada CEO")
    return write_roster(tmp_path / "roster.csv", [
        {"person_id": "p1", "name": "Ada", "bluesky_did": "did:plc:ceo111"}])


def test_collect_prints_the_report(bsky, tmp_path):
    roster = _org(bsky, tmp_path)
    ws = tmp_path / "org.duckdb"
    r = runner.invoke(app, ["collect", "bluesky", "-w", str(ws), "--roster", roster,
                            "--base-url", bsky.url])
    assert r.exit_code == 0, r.output
    assert "bluesky:did:plc:ceo111" in r.output and "requests 3, retries 0" in r.output
    assert (tmp_path / "org.raw" / "bluesky").is_dir()
    r = runner.invoke(app, ["collect", "bluesky", "-w", str(ws), "--base-url", bsky.url, "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["complete"] is True


def test_unknown_platform_exits_1_with_the_choices(tmp_path):
    r = runner.invoke(app, ["collect", "myspace", "-w", str(tmp_path / "ws.duckdb")])
    assert r.exit_code == 1 and "bluesky, mastodon, rss, x" in r.output


def test_a_stopped_run_exits_1_and_says_how_to_continue(bsky, tmp_path):
    roster = _org(bsky, tmp_path)
    bsky.fail("getProfile", [(503, {})] * 2)
    r = runner.invoke(app, ["collect", "bluesky", "-w", str(tmp_path / "ws.duckdb"), "--roster",
                            roster, "--base-url", bsky.url, "--max-retries", "1"])
    assert r.exit_code == 1
    assert "stopped early" in r.output and "run the collection again" in r.output
