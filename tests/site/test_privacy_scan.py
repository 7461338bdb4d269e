"""Issue 13.6 / 18: scan EVERY published file (report, site, exports) and the serve API for every
name, handle, id and rare title of people who did not opt in; with --pseudonymize, for every
roster name and handle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import socialens

HIDDEN = [  # opt_in = false
    {"pid": "hx-zeb-01", "name": "Zebulon Quackenbush", "handle": "zquackhid",
     "account": "twitter:770000111", "title": "Chief Quantum Officer"},
    {"pid": "hx-ola-02", "name": "Olathea Fernsworth", "handle": "olafern@masto.example",
     "account": "mastodon:masto.example/@olafern", "title": "Staff"},
]
VISIBLE = [
    {"pid": "v1", "name": "Ada Vortigern", "handle": "adavis", "account": "twitter:1001",
     "title": "CEO"},
    {"pid": "v2", "name": "Bo Shownwell", "handle": "boshown", "account": "twitter:1002",
     "title": "Staff"},
    {"pid": "v3", "name": "Cy Listerfield", "handle": "cylisted", "account": "twitter:1003",
     "title": "Staff"},
]


def _org(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    people = ["person_id,name,department,opt_in"]
    roles = ["person_id,title,level,is_leader,start_at"]
    accounts = ["account_id,person_id,platform,handle,display_name,created_at"]
    snaps = ["account_id,observed_at,followers,following,posts_count"]
    for k, p in enumerate(VISIBLE + HIDDEN):
        hidden = p in HIDDEN
        people.append(f"{p['pid']},{p['name']},{'Lab' if k % 2 else 'Ops'},{str(not hidden).lower()}")
        lvl = 0 if p["title"] in ("CEO", "Chief Quantum Officer") else 2
        roles.append(f"{p['pid']},{p['title']},{lvl},{str(lvl == 0).lower()},2015-01-01T00:00:00Z")
        plat = p["account"].split(":")[0]
        accounts.append(f"{p['account']},{p['pid']},{plat},{p['handle']},{p['name']},"
                        f"201{k}-01-01T00:00:00Z")
        snaps.append(f"{p['account']},2020-01-01T00:00:00Z,{1000 * (k + 1)},10,5")
    (d / "people.csv").write_text("\n".join(people) + "\n")
    (d / "roles.csv").write_text("\n".join(roles) + "\n")
    (d / "accounts.csv").write_text("\n".join(accounts) + "\n")
    (d / "snapshots.csv").write_text("\n".join(snaps) + "\n")
    rows = []
    n = 0
    for k, p in enumerate(VISIBLE + HIDDEN):
        for j in range(4):
            n += 1
            text = f"post {j} #Launch{j}"
            if p in VISIBLE and j == 0:  # listed colleagues mention the hidden people
                text = ("Great talk by @zquackhid and @olafern@masto.example, thanks "
                        "Zebulon Quackenbush! Quackenbush rocks https://twitter.com/zquackhid")
            acc = p["account"]
            pid = f"{acc.split(':')[0]}:{9000 + n}" if acc.startswith("twitter") else \
                f"mastodon:masto.example/{9000 + n}"
            rows.append({"post_id": pid, "account_id": acc, "visibility": "public",
                         "created_at": f"2019-0{1 + j}-{10 + k}T10:00:00Z", "text": text})
    (d / "posts.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (d / "edges.csv").write_text(
        "src,dst,kind,weight,observed_at\n"
        "twitter:770000111,twitter:1001,follows,1,2020-01-01T00:00:00Z\n"
        "twitter:1002,twitter:770000111,follows,1,2020-01-01T00:00:00Z\n"
        "mastodon:masto.example/@olafern,twitter:1001,follows,1,2020-01-01T00:00:00Z\n")
    ws = socialens.open(tmp_path / "ws.duckdb")
    ws.ingest(d)
    # a timeline file named after a hidden person's handle (issue 18.2)
    ws.con.execute("UPDATE ingest_runs SET source_path = '/data/zquackhid_timeline.json' "
                   "WHERE target = 'posts'")
    ws.close()
    return tmp_path / "ws.duckdb"


def _tokens(people) -> list[str]:
    out = []
    for p in people:
        # a first name alone is not rewritten (docs/site.md): the full name and the surname are
        out += [p["name"], p["name"].split()[-1], p["handle"], p["handle"].split("@")[0], p["pid"],
                p["account"], p["account"].split(":", 1)[1]]
        if p["title"] == "Chief Quantum Officer":
            out.append(p["title"])
    return sorted({t for t in out if len(t) >= 4} - {"Staff"})


def _has(token: str, low: str) -> bool:
    """``token`` in ``low`` as a whole run: a numeric id like 1001 inside a random pseudonym hex
    (``a-3f1001c2``) is a coincidence, not a leak (it made this test flaky)."""
    import re

    return re.search(rf"(?<![0-9a-z]){re.escape(token.lower())}(?![0-9a-z])", low) is not None


def _scan(root: Path, needles: list[str]) -> list[tuple[str, str]]:
    found, n = [], 0
    for f in sorted(root.rglob("*")):
        if f.is_file():
            n += 1
            text = f.read_bytes().decode("utf-8", "replace")
            low = text.lower()
            found += [(str(f.relative_to(root)), t) for t in needles if _has(t, low)]
    assert n > 20, n  # the scan is not vacuous
    return found


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    return _org(tmp_path_factory.mktemp("privacy_scan"))


def _outputs(ws_path: Path, out: Path, **consent):
    from socialens.export import export_all
    from socialens.report import write_report
    from socialens.site.build import publish

    with socialens.open(ws_path, read_only=True) as ws:
        write_report(ws, out / "report", leaders="ids:v1,hx-zeb-01", **consent)
        publish(ws, out / "site", leaders="ids:v1,hx-zeb-01", **consent)
        export_all(ws, out / "export", **consent)


def test_no_hidden_person_in_any_output_file(org, tmp_path):
    _outputs(org, tmp_path)
    assert _scan(tmp_path, _tokens(HIDDEN)) == []
    # ... and not vacuous: the listed people and the mentions are there, as pseudonyms
    report = (tmp_path / "report" / "report.html").read_text()
    assert "Ada Vortigern" in report
    feed = (tmp_path / "site" / "feed.html").read_text()
    assert "Great talk by @p-" in feed and "thanks Person " in feed
    people = (tmp_path / "export" / "tables" / "people.csv").read_text()
    assert people.count("Person ") == 2 and "Ada Vortigern" in people
    # the network keeps the hidden people's ties, under pseudonymous ids
    gexf = (tmp_path / "export" / "network.gexf").read_text()
    assert gexf.count("twitter:a-") >= 2
    # the --leaders ids: echo shows the pseudonym (issue 18.3)
    summary = (tmp_path / "report" / "summary.json").read_text()
    assert "ids:v1,p-" in summary


def test_pseudonymize_names_nobody_in_any_output_file(org, tmp_path):
    _outputs(org, tmp_path, pseudonymize=True)
    assert _scan(tmp_path, _tokens(HIDDEN + VISIBLE)) == []
    people = (tmp_path / "export" / "tables" / "people.csv").read_text()
    assert people.count("Person ") == len(HIDDEN + VISIBLE)


def test_the_same_key_gives_the_same_pseudonyms(org, tmp_path):
    _outputs(org, tmp_path / "a")
    _outputs(org, tmp_path / "b")
    a = (tmp_path / "a" / "export" / "tables" / "people.csv").read_text()
    assert a == (tmp_path / "b" / "export" / "tables" / "people.csv").read_text()
    key = tmp_path / "other.key"
    key.write_text("another-study-key-0123456789")
    _outputs(org, tmp_path / "c", key_file=key)
    c = (tmp_path / "c" / "export" / "tables" / "people.csv").read_text()
    assert c != a and c.count("Person ") == 2


def test_serve_api_names_no_hidden_person(org):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from socialens.site.app import create_app

    client = TestClient(create_app(org, leaders="ids:v1,hx-zeb-01"))
    routes = ["/api/people", "/api/accounts", "/api/posts", "/index.html", "/feed.html",
              "/feeds/all.atom", "/subscriptions.opml", "/report/report.html"]
    from socialens.analyses import REGISTRY

    routes += [f"/api/analyses/{n}" for n in REGISTRY]
    bodies = []
    for r in routes:
        res = client.get(r)
        assert res.status_code in (200, 409), (r, res.status_code)
        bodies.append((r, res.text.lower()))
    assert any("@p-" in b for _, b in bodies)  # the mention is there, as a pseudonym
    found = [(r, t) for r, b in bodies for t in _tokens(HIDDEN) if _has(t, b)]
    assert found == []


def test_cli_export_and_publish_pseudonymize(org, tmp_path):
    from typer.testing import CliRunner

    from socialens.cli import app

    r = CliRunner().invoke(app, ["export", "-w", str(org), "--out", str(tmp_path / "x"),
                                 "--pseudonymize"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["publish", "-w", str(org), "--out", str(tmp_path / "s"),
                                 "--pseudonymize", "--no-report"])
    assert r.exit_code == 0, r.output
    assert _scan(tmp_path, _tokens(HIDDEN + VISIBLE)) == []
    # the listed people are there, under pseudonyms and without profile links
    index = (tmp_path / "s" / "index.html").read_text()
    assert index.count("Person ") >= len(VISIBLE) and "twitter.com/p-" not in index
