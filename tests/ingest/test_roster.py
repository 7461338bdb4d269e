import pytest

from tests.conftest import SHARED_DATA
from tests.ingest.conftest import reasons


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
    assert all("no twitter_id" in x for x in reasons(r2))
