import json

import pytest

from tests.conftest import SHARED_DATA
from tests.ingest.conftest import PLATFORM_FIXTURES, reasons


def test_csv_roster(ws, load):
    r = load("roster.csv", "roster")
    f = r.files[0]
    assert (f.n_read, f.n_loaded, f.n_quarantined) == (5, 3, 2)
    rs = " | ".join(reasons(r))
    assert "person_id is missing" in rs and "@user@host" in rs
    a = ws.sql("SELECT account_id, person_id FROM accounts ORDER BY 1").values.tolist()
    assert a == [["blog:https://ada.example/feed.xml", "p1"], ["blog:https://bo.example/atom.xml", "p2"],
                 ["bluesky:did:plc:ceo111", "p1"], ["mastodon:mastodon.social/@ada", "p1"],
                 ["twitter:1001", "p1"], ["twitter:1002", "p2"]]
    people = ws.sql("SELECT * FROM people").set_index("person_id")
    assert '"twitter": "cy_handle_only"' in people.loc["p3"]["attrs"]
    assert '"employee_no": "E1"' in people.loc["p1"]["attrs"]
    roles = ws.sql("SELECT person_id, title, level, is_leader FROM roles ORDER BY 1").values.tolist()
    assert roles == [["p1", "CEO", 0, True], ["p2", "COO", 0, True], ["p3", "Rep", 2, False]]


def test_yaml_roster(ws, load):
    r = load("roster.yaml", "roster")
    assert (r.files[0].n_loaded, r.files[0].n_quarantined) == (2, 1)
    assert ws.sql("SELECT account_id FROM accounts ORDER BY 1").account_id.tolist() == [
        "mastodon:hachyderm.io/@fay", "twitter:1001"]


@pytest.mark.skipif(not (SHARED_DATA / "congress_legislators").exists(), reason="no shared data")
def test_congress_legislators_2017(ws):
    d = SHARED_DATA / "congress_legislators" / "2017-11-29"
    r1 = ws.ingest(d / "legislators-current.yaml.gz")
    r2 = ws.ingest(d / "legislators-social-media.yaml.gz")
    f1, f2 = r1.files[0], r2.files[0]
    assert f1.format == f2.format == "roster" and f1.balanced and f2.balanced
    assert f1.n_loaded == ws.count("people") == 540
    leaders = ws.sql("SELECT count(DISTINCT person_id) n FROM roles WHERE is_leader AND end_at IS NULL")
    assert leaders.n[0] == 9  # Speaker, floor leaders and whips (see SOURCES.md)
    assert f2.n_loaded == 528 and f2.n_quarantined == 8
    assert all("no Twitter id or handle" in x for x in reasons(r2))


CONGRESS = SHARED_DATA / "congress_legislators"
needs_congress = pytest.mark.skipif(not CONGRESS.exists(), reason="no shared data")


@pytest.mark.slow
@needs_congress
def test_congress_folder_reads_committee_leaders(ws):
    """The folder is read file by file, legislators first; committee chairs and ranking members
    become level-1 roles by the demo's rule (86 on 2017-11-29, as in the bundled demo). With
    --public every legislator is opted in as a public official."""
    r = ws.ingest(CONGRESS / "2017-11-29", public=True)
    got = ws.sql("SELECT count(*) FILTER (WHERE opt_in AND (attrs->>'public') = 'roster') n, "
                 "count(*) FILTER (WHERE (attrs->>'state') IS NOT NULL) s FROM people")
    assert (got.n[0], got.s[0]) == (540, 540)  # the legislator attrs are kept
    assert [x.rsplit("/", 1)[-1] for x in r.public] == ["legislators-current.yaml.gz"]
    names = [f.path.rsplit("/", 1)[-1] for f in r.files]
    assert names == ["legislators-current.yaml.gz", "legislators-social-media.yaml.gz",
                     "committee-membership-current.yaml.gz"]
    m = r.files[2]
    assert (m.target, m.n_read, m.n_loaded, m.n_quarantined) == ("roles", 86, 86, 0)
    assert [s.path.rsplit("/", 1)[-1] for s in r.skipped] == ["committees-current.yaml.gz"]
    assert "committee list" in r.skipped[0].reason
    fin = ws.sql("SELECT r.person_id, p.name, r.level, r.is_leader, r.start_at, r.end_at, r.attrs "
                 "FROM roles r JOIN people p USING (person_id) "
                 "WHERE title = 'Chair, Senate Committee on Finance'")
    assert fin.values[:, :4].tolist() == [["H000338", "Orrin G. Hatch", 1, False]]
    assert (str(fin.start_at[0]), str(fin.end_at[0])) == ("2017-01-03 00:00:00+00:00",
                                                          "2019-01-03 00:00:00+00:00")
    assert '"source_title": "Chairman"' in fin["attrs"][0] and '"congress": 115' in fin["attrs"][0]
    ranking = ws.sql("SELECT person_id FROM roles WHERE title = "
                     "'Ranking Member, Senate Committee on Finance'").person_id.tolist()
    assert ranking == ["W000779"]
    # the same rule as scripts/build_demo_dataset.py: the bundled demo's 2017 committee roles
    import csv
    import gzip
    from pathlib import Path

    import socialens

    shipped = Path(socialens.__file__).parent / "datasets" / "us_congress" / "roles.csv.gz"
    with gzip.open(shipped, "rt") as f:
        want = {(row["person_id"], row["committee"], row["source_title"]) for row in csv.DictReader(f)
                if row["source"] == "committee-membership-current 2017-11-29"}
    got = {tuple(x) for x in ws.sql(
        "SELECT person_id, attrs->>'committee', attrs->>'source_title' FROM roles WHERE level = 1"
    ).values.tolist()}
    assert got == want


def test_membership_without_a_date_is_quarantined_with_the_reason(ws, tmp_path):
    d = tmp_path / "checkout"
    d.mkdir()
    (d / "committee-membership-current.yaml").write_text(
        "SSFI:\n- name: A\n  party: majority\n  rank: 1\n  title: Chairman\n  bioguide: X1\n"
        "- name: B\n  party: majority\n  rank: 2\n  bioguide: X2\n")
    r = ws.ingest(d / "committee-membership-current.yaml")
    f = r.files[0]
    assert (f.format, f.n_read, f.n_quarantined) == ("roster", 1, 1)  # only leaders are records
    assert "folder named by its date" in next(iter(f.reasons))


def test_membership_dated_by_the_legislators_beside_it(ws, tmp_path):
    d = tmp_path / "checkout"
    d.mkdir()
    (d / "legislators-current.yaml").write_text(
        "- id:\n    bioguide: X1\n  name:\n    official_full: Ann A\n  terms:\n"
        "  - type: sen\n    start: '2021-01-03'\n    end: '2027-01-03'\n    state: OH\n")
    (d / "committee-membership-current.yaml").write_text(
        "SSFI:\n- name: Ann A\n  party: majority\n  rank: 1\n  title: Chair\n  bioguide: X1\n")
    r = ws.ingest(d)
    assert [f.n_loaded for f in r.files] == [1, 1]
    role = ws.sql("SELECT title, start_at FROM roles WHERE level = 1").values.tolist()
    assert [role[0][0], str(role[0][1])] == ["Chair, SSFI", "2021-01-03 00:00:00+00:00"]


def _people(ws):
    return ws.sql("SELECT person_id, opt_in, attrs->>'public' AS public FROM people ORDER BY 1")


def test_public_roster_option(ws):
    r = ws.ingest(PLATFORM_FIXTURES / "roster.csv", public=True)
    assert r.public == [str(PLATFORM_FIXTURES / "roster.csv")]
    assert _people(ws).values.tolist() == [["p1", True, "roster"], ["p2", True, "roster"],
                                           ["p3", True, "roster"]]


def test_public_declared_after_a_plain_ingest(ws):
    ws.ingest(PLATFORM_FIXTURES / "roster.csv")
    assert not _people(ws).opt_in.any()
    r = ws.ingest(PLATFORM_FIXTURES / "roster.csv", public=True)
    assert r.files[0].n_loaded == 0  # nothing new, but the declaration applies
    assert _people(ws).opt_in.all() and set(_people(ws).public) == {"roster"}
    ws.ingest(PLATFORM_FIXTURES / "roster.csv")  # a later plain ingest does not revoke it
    assert _people(ws).opt_in.all()


def test_public_roster_yaml_field(ws, tmp_path):
    p = tmp_path / "officials.yaml"
    p.write_text("public: true\npeople:\n  - person_id: m1\n    name: Sen. A\n    twitter_id: '9'\n")
    r = ws.ingest(p)
    assert r.public == [str(p)]
    assert _people(ws).values.tolist() == [["m1", True, "roster"]]
    p.write_text("public: maybe\npeople:\n  - person_id: m1\n    twitter_id: '9'\n")
    from socialens.errors import InputFileError

    with pytest.raises(InputFileError, match="public: \"maybe\" is not true or false"):
        ws.ingest(p)


def test_public_needs_a_roster(ws):
    from socialens.errors import InputFileError

    with pytest.raises(InputFileError, match="none of the paths is a roster"):
        ws.ingest(PLATFORM_FIXTURES / "blog_rss.xml", public=True)


def test_cli_public(tmp_path):
    from typer.testing import CliRunner

    from socialens.cli import app

    r = CliRunner().invoke(app, ["ingest", str(PLATFORM_FIXTURES / "roster.csv"), "--public",
                                 "-w", str(tmp_path / "w.duckdb")])
    assert r.exit_code == 0, r.output
    assert "roster.csv: its people are declared public" in r.output


@needs_congress
def test_2026_handles_without_numeric_id_are_kept(ws):
    """97 entries of the 2026 social-media file list a Twitter handle but no twitter_id: they were
    quarantined (or the handle silently lost beside a Mastodon account, e.g. H001047)."""
    import gzip

    import yaml

    path = CONGRESS / "2026-06-15" / "legislators-social-media.yaml.gz"
    entries = yaml.safe_load(gzip.open(path, "rt", encoding="utf-8"))
    handle_only = {e["id"]["bioguide"]: e["social"]["twitter"] for e in entries
                   if e.get("social", {}).get("twitter") and not e["social"].get("twitter_id")}
    assert len(handle_only) == 97
    ws.ingest(CONGRESS / "2026-06-15")
    got = ws.sql("""SELECT person_id, handle, attrs FROM accounts
                    WHERE account_id LIKE 'twitter:@%'""")
    assert dict(zip(got.person_id, got.handle, strict=True)) == handle_only
    assert all(json.loads(a)["id_unknown"] for a in got.attrs)
    him = set(ws.sql("SELECT account_id FROM accounts WHERE person_id = 'H001047'").account_id)
    assert him == {"twitter:@jahimes", "mastodon:mastodon.social/@repjimhimes"}
