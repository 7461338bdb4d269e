"""The static site: layout, escaping of hostile input (parsed-HTML checks; the in-browser check is
in test_browser.py), the opt-in rule, and the CLI."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from typer.testing import CliRunner

import socialens
from socialens.cli import app
from socialens.site import SiteError, publish
from socialens.site.build import MARKER
from tests.site.xss_data import HIDDEN_PEOPLE, POST_TEXTS, XSS_PAYLOADS

OUR_SCRIPTS = {"assets/site.js", "../assets/site.js"}
FORBIDDEN_TAGS = {"iframe", "object", "embed", "base", "math", "img", "video", "audio", "source",
                  "marquee", "textarea", "isindex", "animate", "frame", "frameset", "applet"}


def _html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_layout(xss_site):
    for rel in ("index.html", "feed.html", "subscribe.html", "feeds/all.atom",
                "feeds/leaders.atom", "subscriptions.opml", "exports/bluesky-starter-packs.json",
                "exports/mastodon-lists.csv", "assets/site.css", "assets/site.js",
                "report/report.html", MARKER):
        assert (xss_site / rel).is_file(), rel
    n_people = len(list((xss_site / "people").glob("*.html")))
    assert n_people == 3 + len(XSS_PAYLOADS)
    # nothing refers to another host for assets (no CDN)
    for f in _html_files(xss_site):
        soup = BeautifulSoup(f.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.find_all(["script", "link", "img"]):
            src = tag.get("src") or (tag.get("href") if tag.name == "link" and
                                     "stylesheet" in (tag.get("rel") or []) else None)
            assert not src or not re.match(r"(?i)^(https?:)?//", src), (f, src)


def test_directory_ranked_leaders_highlighted(xss_site):
    soup = BeautifulSoup((xss_site / "index.html").read_text(encoding="utf-8"), "html.parser")
    rows = soup.select("table#directory tbody tr")
    assert rows[0].select_one("td[data-label=Name] a").get_text() == "Tony Chief"
    assert "leader" in rows[0]["class"] and "leader" in rows[1]["class"]
    assert rows[1].select_one("td[data-label=Name] a").get_text() == "Alfred Ops"
    data = json.loads(soup.select_one("script#directory-data").string)
    assert [r["n"] for r in data[:2]] == ["Tony Chief", "Alfred Ops"]
    # the COO and the hidden CEO follow the CEO: a count of members, which names nobody
    assert data[0]["r"] == 1 and data[0]["i"] == 2


def _check_no_active_content(path: Path, html: str) -> None:
    soup = BeautifulSoup(html, "html.parser")
    for s in soup.find_all("script"):
        assert s.get("src") in OUR_SCRIPTS or s.get("type") == "application/json", (path, str(s)[:200])
    assert len(soup.find_all("body")) == 1, path
    for tag in soup.find_all(True):
        assert tag.name not in FORBIDDEN_TAGS, (path, str(tag)[:200])
        if tag.name in ("input", "select"):
            assert tag.get("id") in ("q", "f-role", "f-dept", "f-platform", "f-sort"), path
        if tag.name == "meta":
            assert tag.get("http-equiv") in (None, "Content-Security-Policy"), path
        for attr, value in tag.attrs.items():
            assert not attr.lower().startswith("on"), (path, tag.name, attr)
            if attr in ("href", "src", "action", "formaction", "data"):
                v = value if isinstance(value, str) else " ".join(value)
                assert re.match(r"(?i)^(https?://|[a-z0-9_./#-]*$)", v.strip()), (path, attr, v)
            if tag.name == "a" and re.match(r"(?i)^https?://", str(tag.get("href", ""))):
                assert {"noopener", "nofollow"} <= set(tag.get("rel") or []), (path, str(tag)[:200])


def test_xss_payloads_are_text_in_every_page(xss_site):
    seen = ""
    for f in _html_files(xss_site):
        html = f.read_text(encoding="utf-8")
        _check_no_active_content(f, html)
        soup = BeautifulSoup(html, "html.parser")
        seen += soup.get_text(" ")
        for data in soup.select('script[type="application/json"]'):
            raw = data.string
            assert "<" not in raw and ">" not in raw and "&" not in raw
            assert "\u2028" not in raw and "\u2029" not in raw
            seen += json.dumps(json.loads(raw), ensure_ascii=False)
    missing = [p for p in XSS_PAYLOADS if " ".join(p.split()) not in " ".join(seen.split())
               and p not in seen]
    assert not missing, missing


def test_person_page_shows_payload_as_text(xss_site):
    for i in (0, 24, 33, 35):
        payload = XSS_PAYLOADS[i]
        pages = [f for f in (xss_site / "people").glob(f"x{i:02d}-*.html")]
        assert len(pages) == 1
        soup = BeautifulSoup(pages[0].read_text(encoding="utf-8"), "html.parser")
        assert soup.find("h1").get_text().startswith(f"{payload} #{i}".strip()[:20].strip())
        texts = [t.get_text() for t in soup.select(".post .text")]
        assert payload in texts


def test_feeds_are_well_formed_and_escaped(xss_site):
    ns = {"a": "http://www.w3.org/2005/Atom"}
    contents = []
    for f in sorted((xss_site / "feeds").rglob("*.atom")):
        root = ET.parse(f).getroot()
        for link in root.iter("{http://www.w3.org/2005/Atom}link"):
            href = link.get("href")
            assert re.match(r"(?i)^(https?://|[a-z0-9_./-]+$)", href), (f, href)
        contents += [c.text for c in root.findall("a:entry/a:content", ns)]
    assert set(POST_TEXTS) <= {" ".join(c.split()) if c else c for c in contents} | set(contents)
    opml = ET.parse(xss_site / "subscriptions.opml").getroot()
    for o in opml.iter("outline"):
        for attr in ("xmlUrl", "htmlUrl"):
            if o.get(attr):
                assert re.match(r"(?i)^(https?://|[a-z0-9_./-]+$)", o.get(attr)), o.get(attr)


def test_opt_in_nobody_hidden_appears_anywhere(xss_site):
    needles = [s for h in HIDDEN_PEOPLE for s in (h["name"], h["handle"], h["post"],
                                                  h["account"], h["person_id"] + "-")]
    needles += ["Shadowdept", "SECRETPOSTTEXT", "hiddenquint"]
    files = [f for f in xss_site.rglob("*") if f.is_file()]
    assert len(files) > 60
    for f in files:
        text = f.read_bytes().decode("utf-8")
        for n in needles:
            assert n not in text, (f, n)
    # nor as a page of their own
    assert not list((xss_site / "people").glob("hid*"))
    # the ranks are among the listed people: the CEO is 1 although a hidden person has more
    soup = BeautifulSoup((xss_site / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert soup.select_one("table#directory tbody tr td").get_text() == "1"


def test_include_all_lists_everyone_with_banner(xss_ws_path, tmp_path):
    with socialens.open(xss_ws_path, read_only=True) as w:
        res = publish(w, tmp_path / "internal", include_all=True, report=False)
    html = (tmp_path / "internal" / "index.html").read_text(encoding="utf-8")
    assert "Internal build" in html and "2 people who did not opt in" in html
    assert "Zebulon Hiddenperson" in html
    assert res.n_people == 5 + len(XSS_PAYLOADS) and res.n_not_listed == 2
    assert not (tmp_path / "internal" / "report").exists()


def test_refuses_foreign_folder_and_replaces_own(tiny_ws, tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    with pytest.raises(SiteError, match="not built by"):
        publish(tiny_ws, foreign, report=False)
    assert (foreign / "keep.txt").exists()
    site = tmp_path / "site"
    publish(tiny_ws, site, report=False)
    (site / "people" / "stale.html").write_text("someone who opted out since")
    publish(tiny_ws, site, report=False)
    assert not (site / "people" / "stale.html").exists()


def test_cli_publish(tiny_ws, tmp_path):
    tiny_ws.close()
    runner = CliRunner()
    out = tmp_path / "site"
    res = runner.invoke(app, ["publish", "-w", str(tmp_path / "ws.duckdb"), "--out", str(out),
                              "--no-report"])
    assert res.exit_code == 0, res.output
    assert "6 people" in res.output and (out / "index.html").exists()
    res = runner.invoke(app, ["publish", "-w", str(tmp_path / "ws.duckdb"), "--out", str(out),
                              "--include-all", "--no-report"])
    assert res.exit_code == 0 and "internal" in res.output.lower()
    res = runner.invoke(app, ["publish", "-w", str(tmp_path / "ws.duckdb"), "--out",
                              str(tmp_path / "x"), "--leaders", "boss"])
    assert res.exit_code == 1 and "leaders='boss' is not understood" in res.output


UNKNOWNS_ORG = {
    "people.csv": "person_id,name,department,opt_in\nann,Ann A,Exec,true\nbob,Bob B,Sales,true\n",
    "roles.csv": "person_id,title,level,is_leader,start_at\nann,CEO,0,true,2000-01-01\n"
                 "bob,Staff,2,false,2000-01-01\n",
    "accounts.csv": "account_id,person_id,platform,handle,kind,created_at\n"
                    "x:1,ann,x,ann,personal,2008-01-01T00:00:00Z\n"
                    "x:2,bob,x,bob,personal,2009-01-01T00:00:00Z\n"
                    "x:3,ann,x,ann_later,personal,2012-01-01T00:00:00Z\n",
    "snapshots.csv": "account_id,observed_at,followers\nx:1,2010-01-01T00:00:00Z,900\n"
                     "x:2,2010-01-01T00:00:00Z,50\n",
    "posts.jsonl": '{"post_id": "x:10", "account_id": "x:1", "created_at": '
                   '"2009-12-01T00:00:00Z", "text": "hi"}\n',
}


def test_unknown_is_shown_as_unknown_and_accounts_as_of_the_date(tmp_path):
    """The demo showed 0 internal followers for everyone (no follows observed) and 0 posts for
    members none of whose posts were collected, and listed accounts created after its date."""
    org = tmp_path / "org"
    org.mkdir()
    for name, text in UNKNOWNS_ORG.items():
        (org / name).write_text(text, encoding="utf-8")
    with socialens.open(tmp_path / "ws.duckdb") as w:
        w.ingest(org)
        publish(w, tmp_path / "site", report=False)
    soup = BeautifulSoup((tmp_path / "site" / "index.html").read_text(encoding="utf-8"),
                         "html.parser")
    data = {r["n"]: r for r in json.loads(soup.select_one("script#directory-data").string)}
    assert data["Ann A"]["p"] == 1 and data["Bob B"]["p"] is None
    assert data["Ann A"]["i"] is None and data["Bob B"]["i"] is None  # no follows observed
    bob = next(tr for tr in soup.select("table#directory tbody tr") if "Bob B" in tr.get_text())
    posts = bob.select_one("td[data-label=Posts] span.unknown")
    assert posts.get_text() == "—" and posts["title"] == "no posts collected"
    internal = bob.select_one("td[data-label='Internal followers'] span.unknown")
    assert internal["title"] == "no follows observed"
    # @ann_later was created in 2012, after the 2010 directory: not one of Ann's accounts then
    assert [a[1] for a in data["Ann A"]["acc"]] == ["ann"]
    person = (tmp_path / "site" / "people").glob("ann*.html")
    text = next(person).read_text(encoding="utf-8")
    assert "ann_later" not in text and "unknown: no follows observed" in text


def test_internal_followers_are_counted_once_follows_are_observed(tiny_ws, tmp_path):
    from socialens.site.model import load_directory

    d = load_directory(tiny_ws)
    assert d.by_id["ceo"]["internal_followers"] == 2 and d.by_id["s4"]["internal_followers"] == 0


def test_accounts_show_the_handle_of_the_directory_date(tmp_path):
    from socialens.site.model import load_directory

    org = tmp_path / "org"
    org.mkdir()
    files = dict(UNKNOWNS_ORG)
    files["accounts.csv"] = ("account_id,person_id,platform,handle,kind,created_at,handle_history\n"
                             "x:1,ann,x,SpeakerAnn,personal,2008-01-01T00:00:00Z,"
                             "2009-06-01=AnnA;2019-01-03=SpeakerAnn\n"
                             "x:2,bob,x,bob,personal,2009-01-01T00:00:00Z,\n")
    for name, text in files.items():
        (org / name).write_text(text, encoding="utf-8")
    with socialens.open(tmp_path / "ws.duckdb") as w:
        w.ingest(org)
        d = load_directory(w)
    assert [a["handle"] for a in d.accounts["ann"]] == ["AnnA"]
    assert [a["handle"] for a in d.accounts["bob"]] == ["bob"]


def test_internal_build_report_records_include_all(xss_ws_path, tmp_path):
    with socialens.open(xss_ws_path, read_only=True) as w:
        publish(w, tmp_path / "site", include_all=True)
    summary = json.loads((tmp_path / "site" / "report" / "summary.json").read_text())
    assert summary["privacy"]["include_all"] is True
    assert summary["privacy"]["n_not_opted_in_named"] == len(HIDDEN_PEOPLE)
    html = (tmp_path / "site" / "report" / "report.html").read_text(encoding="utf-8")
    assert "Internal report (--include-all)" in html
