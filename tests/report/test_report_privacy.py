"""The report through the privacy boundary: issue 18.2 (ingested file names), 18.3 (``--leaders
ids:`` echoed), ``report --pseudonymize`` (CLI and API) and the study key."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup
from typer.testing import CliRunner

import socialens
from socialens.cli import app
from socialens.report import write_report
from tests.site.test_privacy_scan import HIDDEN, VISIBLE, _org, _tokens


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    return _org(tmp_path_factory.mktemp("report_privacy"))


def _text(out) -> str:
    return ((out / "report.html").read_text(encoding="utf-8")
            + (out / "summary.json").read_text(encoding="utf-8"))


def test_ingested_files_are_listed_without_their_paths(org, tmp_path):
    with socialens.open(org, read_only=True) as ws:
        write_report(ws, tmp_path / "r")
        write_report(ws, tmp_path / "p", show_paths=True)
    soup = BeautifulSoup((tmp_path / "r" / "report.html").read_text(), "html.parser")
    table = soup.select_one('table[data-table="ingest_runs"]')
    head = [th.get_text() for th in table.select("thead th")]
    assert head[:3] == ["table", "format", "sha256"] and "file" not in head
    assert len(table.select("tbody tr")) >= 5  # format, counts and sha256 of every file
    assert "zquackhid" not in _text(tmp_path / "r") and "_timeline.json" not in _text(tmp_path / "r")
    # --show-paths: the path, with the hidden handle in it rewritten like every identifier
    soup = BeautifulSoup((tmp_path / "p" / "report.html").read_text(), "html.parser")
    cells = [tr.select("td")[0].get_text() for tr in soup.select(
        'table[data-table="ingest_runs"] tbody tr')]
    assert any(c.startswith("p-") and c.endswith("_timeline.json") for c in cells), cells
    assert "zquackhid" not in _text(tmp_path / "p")
    assert json.loads((tmp_path / "p" / "summary.json").read_text())["privacy"]["show_paths"]


def test_leaders_ids_are_echoed_as_pseudonyms(org, tmp_path):
    with socialens.open(org, read_only=True) as ws:
        write_report(ws, tmp_path / "r", leaders="ids:v1,hx-zeb-01")
    text = _text(tmp_path / "r")
    assert "hx-zeb-01" not in text
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    shown = {a["params"].get("leaders") for a in summary["analyses"].values()
             if "leaders" in a.get("params", {})}
    assert shown and all(s.startswith("ids:v1,p-") for s in shown), shown


def test_cli_report_pseudonymize_names_nobody(org, tmp_path):
    res = CliRunner().invoke(app, ["report", "-w", str(org), "--out", str(tmp_path / "r"),
                                   "--pseudonymize", "--leaders", "ids:v1,hx-zeb-01"])
    assert res.exit_code == 0, res.output
    text = _text(tmp_path / "r").lower()
    assert [t for t in _tokens(HIDDEN + VISIBLE) if t.lower() in text] == []
    privacy = json.loads((tmp_path / "r" / "summary.json").read_text())["privacy"]
    assert privacy["pseudonymize"] and privacy["statement"].startswith("Pseudonymized")
    # the key is never printed nor written into the outputs
    key = org.with_name(org.name + ".study-key").read_text().strip()
    assert key not in res.output and key not in text


def test_cli_key_file_errors_are_messages(org, tmp_path):
    res = CliRunner().invoke(app, ["report", "-w", str(org), "--out", str(tmp_path / "r"),
                                   "--key-file", str(tmp_path / "missing.key")])
    assert res.exit_code == 1
    assert "cannot read the study key" in res.output and "Traceback" not in res.output
