"""The report: self-contained, escaped, opt-in respected (parsed-HTML checks)."""

import json

from bs4 import BeautifulSoup

from socialens.report import write_report

XSS = '<script>window.__pwned=1</script><img src=x onerror="alert(1)">'


def test_report_is_self_contained_and_complete(tiny_ws, tmp_path):
    paths = write_report(tiny_ws, tmp_path / "out")
    html = paths["html"].read_text()
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find(id="founding-answer").get_text().startswith("Most followed?")
    for sec in ("directory", "adoption", "activity", "provenance"):
        assert soup.find("section", id=sec), sec
    assert len(soup.find_all("svg")) >= 3
    # offline: nothing is loaded from elsewhere
    assert not soup.find_all("script")
    assert not [t for t in soup.find_all(["link", "img", "iframe"]) if t.get("src") or t.get("href")]
    assert "http://" not in html.split("<svg")[0] and "https://" not in html.split("<svg")[0]
    summary = json.loads(paths["json"].read_text())
    assert set(summary["analyses"]) == {"directory", "adoption", "activity"}
    assert summary["analyses"]["directory"]["params"]["leaders"] == "is_leader"
    assert summary["verdicts"]["first"]["verdict"] == "yes"


def test_everything_from_data_is_escaped(tiny_ws, tmp_path):
    tiny_ws.con.execute("UPDATE people SET name = ?, department = ? WHERE person_id = 'ceo'", [XSS, XSS])
    tiny_ws.con.execute("UPDATE roles SET title = ? WHERE person_id = 'ceo'", [XSS])
    html = write_report(tiny_ws, tmp_path / "out")["html"].read_text()
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find_all("script")
    assert not soup.find_all(attrs={"onerror": True})
    assert XSS in soup.get_text()  # shown as text


def test_people_who_did_not_opt_in_are_not_named(tiny_ws, tmp_path):
    # make the hidden person prominent: first adopter, top of the directory, a unique title
    tiny_ws.con.execute("UPDATE people SET opt_in = false WHERE person_id IN ('s3', 'ceo')")
    tiny_ws.con.execute("UPDATE roles SET title = 'Chief Secret Officer' WHERE person_id = 'ceo'")
    tiny_ws.con.execute("UPDATE people SET department = 'Skunkworks' WHERE person_id = 'ceo'")
    paths = write_report(tiny_ws, tmp_path / "out")
    text = paths["html"].read_text() + paths["json"].read_text()
    for secret in ("Sid Three", "sidthree", "Tony H", "tonyh", "Chief Secret Officer", "Skunkworks"):
        assert secret not in text, secret
    assert "(not listed)" in text
    full = write_report(tiny_ws, tmp_path / "all", include_all=True)
    assert "Sid Three" in full["html"].read_text() and "Tony H" in full["html"].read_text()
