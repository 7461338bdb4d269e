"""Format detection: folders read file by file, formats not supported yet, forced formats."""

from __future__ import annotations

import shutil
import zipfile

import pytest
from typer.testing import CliRunner

from socialens.cli import app
from socialens.errors import InputFileError
from tests.ingest.conftest import PLATFORM_FIXTURES


@pytest.fixture
def mixed(tmp_path):
    d = tmp_path / "mixed"
    (d / "sub").mkdir(parents=True)
    shutil.copy(PLATFORM_FIXTURES / "bsky_author_feed.json", d / "feed.json")
    shutil.copy(PLATFORM_FIXTURES / "mastodon_statuses.json", d / "sub" / "toots.json")
    (d / "notes.txt").write_text("just notes\n")
    (d / "Shares.csv").write_text("Date,ShareLink,ShareCommentary,SharedUrl,MediaUrl,Visibility\n")
    (d / ".DS_Store").write_text("x")
    return d


def test_mixed_folder_is_read_file_by_file(ws, mixed):
    r = ws.ingest(mixed)
    assert sorted((f.format, f.path.rsplit("/", 1)[-1]) for f in r.files) == [
        ("bluesky", "feed.json"), ("mastodon", "toots.json")]
    skipped = {s.path.rsplit("/", 1)[-1]: s.reason for s in r.skipped}
    assert set(skipped) == {"notes.txt", "Shares.csv"}
    assert "LinkedIn" in skipped["Shares.csv"] and "not supported yet" in skipped["Shares.csv"]
    assert "--map" in skipped["notes.txt"]
    assert r.as_dict()["skipped"][0]["path"].endswith(("notes.txt", "Shares.csv"))


def test_cli_names_the_files_not_read(tmp_path, mixed):
    r = CliRunner().invoke(app, ["ingest", str(mixed), "-w", str(tmp_path / "w.duckdb")])
    assert r.exit_code == 0, r.output
    assert "not read:" in r.output and "notes.txt" in r.output and "Shares.csv" in r.output


def test_folder_with_nothing_readable(ws, tmp_path):
    (tmp_path / "a.txt").write_text("x")
    with zipfile.ZipFile(tmp_path / "slack.zip", "w") as z:
        z.writestr("channels.json", "[]")
        z.writestr("users.json", "[]")
    with pytest.raises(InputFileError) as exc:
        ws.ingest(tmp_path)
    msg = str(exc.value)
    assert "none of its files" in msg and "a.txt" in msg and "slack.zip" in msg
    assert "Slack" in msg and "not supported yet" in msg


def test_unknown_file_mentions_map(ws, tmp_path):
    p = tmp_path / "posts.csv"
    p.write_text("Text,Date\nhi,2020-01-01\n")
    with pytest.raises(InputFileError, match=r"cannot tell the format of .*posts\.csv.*--map"):
        ws.ingest(p)


def test_forced_canonical_on_other_files_is_a_clear_error(ws, tmp_path, mixed):
    with pytest.raises(InputFileError, match="is not a canonical folder"):
        ws.ingest(mixed, format="canonical")
    with pytest.raises(InputFileError, match="feed.json is not a canonical file"):
        ws.ingest(mixed / "feed.json", format="canonical")


def test_forced_format_on_a_folder_applies_to_each_file(ws, tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    shutil.copy(PLATFORM_FIXTURES / "bsky_author_feed.json", d / "a.data")
    r = ws.ingest(d, format="bluesky")
    assert [f.format for f in r.files] == ["bluesky"] and r.files[0].n_loaded == 3
