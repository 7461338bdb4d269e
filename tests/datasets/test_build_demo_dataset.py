"""The bundled "us-congress" demo dataset and its builder (scripts/build_demo_dataset.py).

The checks of the shipped files always run; the rebuild check needs ``../shared/data`` and is
skipped without it.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from socialens.datasets import US_CONGRESS_DIR

REPO = Path(__file__).resolve().parents[2]
BUILDER = REPO / "scripts" / "build_demo_dataset.py"
SHARED_CANDIDATES = (REPO.parent / "shared" / "data", Path("/work/shared/data"))

DATA_FILES = ("people.csv.gz", "roles.csv.gz", "accounts.csv.gz", "snapshots.csv.gz",
              "posts.jsonl.gz", "edges.csv.gz")
LICENCE_FILES = ("LICENSE-congress-legislators", "LICENSE-congresstweets-accounts",
                 "LICENSE-congresstweets-automator", "LICENSE-twitterreport",
                 "LICENSE-CongressionalTwitterNetwork")
REQUIRED = {
    "people.csv.gz": {"person_id", "name", "department", "opt_in"},
    "roles.csv.gz": {"person_id", "title", "level", "is_leader", "start_at", "end_at"},
    "accounts.csv.gz": {"account_id", "platform", "person_id", "handle", "kind", "created_at"},
    "snapshots.csv.gz": {"account_id", "observed_at", "followers", "following", "posts_count",
                         "listed_count"},
    "edges.csv.gz": {"src", "dst", "kind", "weight", "window_start", "window_end"},
}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
# the party leaders of the 115th Congress (Speaker, floor leaders and whips of both chambers)
LEADERS_2017 = {"C001056", "D000563", "H000874", "M000355", "M001165", "P000197", "R000570",
                "S000148", "S001176"}


def shared_dir() -> Path | None:
    for candidate in SHARED_CANDIDATES:
        if (candidate / "SOURCES.md").is_file():
            return candidate
    return None


def read_csv(name: str) -> tuple[list[str], list[dict]]:
    with gzip.open(US_CONGRESS_DIR / name, "rt", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def read_posts() -> list[dict]:
    with gzip.open(US_CONGRESS_DIR / "posts.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def tables() -> dict[str, list[dict]]:
    out = {name: read_csv(name)[1] for name in REQUIRED}
    out["posts.jsonl.gz"] = read_posts()
    return out


def active(roles: list[dict], day: str, level: str) -> list[dict]:
    return [r for r in roles if r["level"] == level and r["start_at"] <= day
            and (r["end_at"] == "" or day < r["end_at"])]


# -- the rebuild ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_rebuild_reproduces_the_shipped_files_byte_for_byte(tmp_path):
    shared = shared_dir()
    if shared is None:
        pytest.skip("../shared/data is not available")
    done = subprocess.run([sys.executable, str(BUILDER), "--shared", str(shared), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    built = sorted(p.name for p in tmp_path.iterdir())
    shipped = sorted(p.name for p in US_CONGRESS_DIR.iterdir())
    assert built == shipped
    for name in built:
        assert (tmp_path / name).read_bytes() == (US_CONGRESS_DIR / name).read_bytes(), name


def test_builder_fails_with_a_message_on_a_wrong_shared_folder(tmp_path):
    done = subprocess.run([sys.executable, str(BUILDER), "--shared", str(tmp_path), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "not the shared data folder" in done.stderr and "--shared" in done.stderr


# -- the shipped files ---------------------------------------------------------------------------


def test_all_files_and_licences_are_shipped():
    names = {p.name for p in US_CONGRESS_DIR.iterdir()}
    assert names == {*DATA_FILES, *LICENCE_FILES, "SOURCES.md"}
    total = sum((US_CONGRESS_DIR / n).stat().st_size for n in names)
    assert total < 8_000_000


def test_gzip_files_are_deterministic():
    for name in DATA_FILES:
        header = (US_CONGRESS_DIR / name).read_bytes()[:10]
        assert header[:2] == b"\x1f\x8b"
        assert int.from_bytes(header[4:8], "little") == 0, f"{name}: gzip mtime is not 0"
        assert header[3] & 0x08 == 0, f"{name}: gzip header stores a file name"


def test_sources_md_lists_the_sha256_of_every_file():
    text = (US_CONGRESS_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for name in DATA_FILES:
        digest = hashlib.sha256((US_CONGRESS_DIR / name).read_bytes()).hexdigest()
        assert f"| `{name}` |" in text and digest in text, name
    assert "/work/" not in text  # no absolute paths, so the file does not depend on the machine


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_required_columns_present(name):
    columns, rows = read_csv(name)
    assert REQUIRED[name] <= set(columns)
    assert rows


def test_rows_are_sorted_and_keys_unique(tables):
    people = [r["person_id"] for r in tables["people.csv.gz"]]
    accounts = [r["account_id"] for r in tables["accounts.csv.gz"]]
    posts = [p["post_id"] for p in tables["posts.jsonl.gz"]]
    for keys in (people, accounts, posts):
        assert keys == sorted(keys)
        assert len(set(keys)) == len(keys)
    roles = [(r["person_id"], r["title"], r["start_at"]) for r in tables["roles.csv.gz"]]
    assert len(set(roles)) == len(roles)
    snaps = [(r["account_id"], r["observed_at"]) for r in tables["snapshots.csv.gz"]]
    assert snaps == sorted(snaps) and len(set(snaps)) == len(snaps)
    edges = [(r["kind"], r["src"], r["dst"]) for r in tables["edges.csv.gz"]]
    assert edges == sorted(edges) and len(set(edges)) == len(edges)


def test_references_resolve(tables):
    people = {r["person_id"] for r in tables["people.csv.gz"]}
    accounts = {r["account_id"] for r in tables["accounts.csv.gz"]}
    assert {r["person_id"] for r in tables["roles.csv.gz"]} <= people
    assert {r["person_id"] for r in tables["accounts.csv.gz"]} - {""} <= people
    assert {r["account_id"] for r in tables["snapshots.csv.gz"]} <= accounts
    assert {p["account_id"] for p in tables["posts.jsonl.gz"]} <= accounts
    replied = {p["reply_to_account_id"] for p in tables["posts.jsonl.gz"] if "reply_to_account_id" in p}
    assert replied <= accounts
    assert {r[c] for r in tables["edges.csv.gz"] for c in ("src", "dst")} <= accounts


def test_ids_are_namespaced_numeric_twitter_ids(tables):
    for r in tables["accounts.csv.gz"]:
        assert re.fullmatch(r"twitter:\d+", r["account_id"]), r["account_id"]
        assert r["platform"] == "twitter"
        assert r["kind"] in {"personal", "official", "delegate"}
        assert (r["kind"] == "official") == (r["entity_type"] != "")
        assert (r["kind"] == "delegate") == r["kind_evidence"].startswith("press office: ")
        if r["kind"] == "official":
            assert r["person_id"] == ""
        if r["kind"] == "delegate":
            assert r["person_id"] != ""
    for p in tables["posts.jsonl.gz"]:
        assert re.fullmatch(r"twitter:sen2015-[0-9a-f]{16}", p["post_id"])


def test_people(tables):
    people = tables["people.csv.gz"]
    assert len(people) == 769
    assert all(r["opt_in"] == "true" and r["person_id"] == r["bioguide"] for r in people)
    assert all(r["name"] and r["department"] for r in people)


def test_party_leaders_active_on_check_dates(tables):
    roles = tables["roles.csv.gz"]
    on_2017 = active(roles, "2017-07-01", "0")
    assert len(on_2017) == 9
    assert {r["person_id"] for r in on_2017} == LEADERS_2017
    assert all(r["is_leader"] == "true" for r in on_2017)
    assert len(active(roles, "2015-07-16", "0")) == 9
    # Boehner's Speakership ends when Ryan's starts, not open-ended
    assert {r["person_id"] for r in active(roles, "2016-01-01", "0") if "Speaker" in r["title"]} == {"R000570"}
    assert len(active(roles, "2022-05-26", "0")) == 24


def test_role_levels_and_dates(tables):
    roles = tables["roles.csv.gz"]
    assert {r["level"] for r in roles} == {"0", "1", "2"}
    for r in roles:
        assert ISO_DATE.match(r["start_at"]) and (r["end_at"] == "" or ISO_DATE.match(r["end_at"]))
        assert r["end_at"] == "" or r["start_at"] < r["end_at"], r
        assert (r["is_leader"] == "true") == (r["level"] == "0")
        if r["level"] == "1":
            assert re.fullmatch(r"(Chair|Co-Chair|Ranking Member) [A-Z]{4}", r["title"]), r["title"]
        if r["level"] == "2":
            assert r["title"] in {"Senator", "Representative"} and r["end_at"]
    # the people serving on each roster date are exactly that roster
    serving_2017 = {r["person_id"] for r in active(roles, "2017-11-29", "2")}
    rosters_2017 = {p["person_id"] for p in tables["people.csv.gz"] if "2017-11-29" in p["rosters"]}
    assert serving_2017 == rosters_2017
    assert len(active(roles, "2017-07-01", "1")) == 86


def test_snapshots(tables):
    snaps = tables["snapshots.csv.gz"]
    assert {r["observed_at"] for r in snaps} == {"2015-07-18T00:00:00Z", "2017-08-10T00:00:00Z"}
    assert sum(r["observed_at"].startswith("2017") for r in snaps) == 1063
    assert sum(r["observed_at"].startswith("2015") for r in snaps) == 89
    for r in snaps:
        for c in ("followers", "following", "posts_count", "listed_count"):
            assert r[c].isdigit()


def test_posts(tables):
    posts = tables["posts.jsonl.gz"]
    assert len(posts) == 17586
    keys = [p["attrs"]["post_key"] for p in posts]
    assert len(set(keys)) == len(keys)
    for p in posts:
        assert ISO_Z.match(p["created_at"])
        assert hashlib.sha1(p["attrs"]["post_key"].encode()).hexdigest()[:16] == p["post_id"][-16:]
        # entities are left to the one text layer at ingest (socialens.text)
        assert not {"hashtags", "mentions", "urls"} & set(p)
        assert "repost_of" not in p
    assert sum("retweet_of_screen_name" in p["attrs"] for p in posts) == sum(
        p["text"].startswith("RT @") for p in posts)


def test_post_times_are_utc_per_the_tweet_ids(tables):
    """The twitterreport times carry the Los Angeles offset; the shipped times must not."""
    worst = 0.0
    for p in tables["posts.jsonl.gz"]:
        ms = (int(p["attrs"]["source_id"]) >> 22) + 1288834974657
        from_id = datetime.fromtimestamp(ms / 1000, tz=UTC)
        created = datetime.strptime(p["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        worst = max(worst, abs((created - from_id).total_seconds()))
    assert worst < 5


def test_edges(tables):
    edges = tables["edges.csv.gz"]
    by_kind: dict[str, list[dict]] = {}
    for e in edges:
        by_kind.setdefault(e["kind"], []).append(e)
    assert set(by_kind) == {"interaction", "reply"}
    assert len(by_kind["interaction"]) == 13289
    assert {(e["window_start"], e["window_end"]) for e in by_kind["interaction"]} == {("2022-02-09", "2022-06-09")}
    assert all(0 < float(e["weight"]) <= 1 for e in by_kind["interaction"])
    assert all(e["src"] != e["dst"] for e in edges)
    nodes = {e[c] for e in by_kind["interaction"] for c in ("src", "dst")}
    assert len(nodes) <= 475
    replies = sum(int(e["weight"]) for e in by_kind["reply"])
    posts = [p for p in read_posts() if "reply_to_account_id" in p and p["reply_to_account_id"] != p["account_id"]]
    assert replies == len(posts)


def test_csv_is_plain_utf8_with_unix_newlines():
    for name in REQUIRED:
        data = gzip.decompress((US_CONGRESS_DIR / name).read_bytes())
        text = data.decode("utf-8")
        assert not text.startswith("\ufeff")
        header = next(csv.reader(io.StringIO(text.split("\n", 1)[0])))
        assert header[0] in {"person_id", "account_id", "src"}


# -- accounts as of the directory's date (issue 9) -----------------------------------------------

SNAPSHOT_2017 = "2017-08-10T00:00:00Z"
# the smallest user id that encodes 2016-01-01 as a snowflake (scripts/build_demo_dataset.py)
SNOWFLAKE_MIN_USER_ID = (1451606400000 - 1288834974657) << 22


def accounts_by_handle(tables) -> dict[str, dict]:
    return {r["handle"].lower(): r for r in tables["accounts.csv.gz"]}


def test_2017_handles_come_from_the_dated_handle_history(tables):
    from socialens.analyses.directory import handle_at

    acc = accounts_by_handle(tables)
    expected = {"vp": "SenKamalaHarris", "speakerpelosi": "NancyPelosi",
                "leadermcconnell": "SenateMajLdr"}
    for handle, in_2017 in expected.items():
        r = acc[handle]
        assert handle_at(r["handle"], r["handle_history"], SNAPSHOT_2017) == in_2017
        assert handle_at(r["handle"], r["handle_history"], "2023-07-01") == r["handle"]
    assert acc["vp"]["handle_history"] == "2017-08-10=SenKamalaHarris;2023-06-30=VP"
    # every account has dated observations in date order, no two in a row with the same handle
    for r in tables["accounts.csv.gz"]:
        obs = [part.split("=") for part in r["handle_history"].split(";")]
        assert obs and all(ISO_DATE.match(day) and h for day, h in obs), r["account_id"]
        assert [day for day, _ in obs] == sorted(day for day, _ in obs)
        assert all(a[1].lower() != b[1].lower() for a, b in zip(obs, obs[1:], strict=False))


def test_press_offices_are_delegate_accounts(tables):
    acc = accounts_by_handle(tables)
    press = acc["mcconnellpress"]
    assert press["kind"] == "delegate" and press["person_id"] == "M000355"
    assert press["kind_evidence"] == "press office: list-members-2017 screen_name 'McConnellPress'"
    assert acc["sensasse"]["kind"] == "delegate"  # "The press office account of U.S. Sen. Sasse"
    assert acc["senatorcollins"]["kind"] == "delegate"  # "All tweets originate from the Press Office"
    # a bio pointing to the press office elsewhere, or a name that merely contains "press", is not
    for handle in ("bensasse", "marcorubio", "ronwyden", "chuckgrassley", "leadermcconnell",
                   "speakerpelosi"):
        assert acc[handle]["kind"] == "personal", handle
    delegates = [r for r in tables["accounts.csv.gz"] if r["kind"] == "delegate"]
    assert len(delegates) == 20
    # McConnell's only officially listed account in 2017 is his press office: no personal one
    listed_2017 = [r for r in tables["accounts.csv.gz"] if r["person_id"] == "M000355"
                   and "2017-11-29" in r["official_listing_rosters"]]
    assert [r["kind"] for r in listed_2017] == ["delegate"]


def test_creation_time_of_snowflake_user_ids(tables):
    rows = tables["accounts.csv.gz"]
    by_source = {}
    for r in rows:
        by_source.setdefault(r["created_at_source"], []).append(r)
    assert len(by_source["snowflake"]) == 311
    for r in rows:
        n = int(r["account_id"].split(":")[1])
        if n >= SNOWFLAKE_MIN_USER_ID:
            assert r["created_at"], r["account_id"]  # every snowflake id gives a creation time
            t = datetime.fromtimestamp(((n >> 22) + 1288834974657) / 1000, tz=UTC)
            got = datetime.strptime(r["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            assert abs((got - t).total_seconds()) < 2, r["account_id"]
        elif r["created_at_source"] == "snowflake":
            raise AssertionError(f"{r['account_id']}: a sequential id read as a snowflake")
    acc = accounts_by_handle(tables)
    for handle in ("basedmikelee", "jackreed2020"):
        assert acc[handle]["created_at_source"] == "snowflake"
        assert acc[handle]["created_at"] > SNAPSHOT_2017  # so the 2017 directory leaves it out
