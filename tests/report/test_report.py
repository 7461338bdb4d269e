"""The report: self-contained, escaped, opt-in respected (parsed-HTML checks)."""

import json
import re

import pytest
from bs4 import BeautifulSoup
from typer.testing import CliRunner

from socialens.cli import app
from socialens.report import write_report
from tests.conftest import FIXTURES

XSS = '<script>window.__pwned=1</script><img src=x onerror="alert(1)">'


def test_report_is_self_contained_and_complete(tiny_ws, tmp_path):
    paths = write_report(tiny_ws, tmp_path / "out")
    html = paths["html"].read_text()
    soup = BeautifulSoup(html, "html.parser")
    # one line per question: the question, a verdict word, then the evidence
    lines = [li.strong.get_text() + " " + li.select_one(".verdict").get_text() + " : "
             + li.select_one("p.evidence").get_text() for li in soup.select("#founding-answer li")]
    # in the first page's order; tone and sharing need `socialens enrich`: unknown, with why
    assert [x.split("?")[0] for x in lines[:3]] == ["First to adopt", "Most active",
                                                    "Most followed"]
    assert lines[3].startswith("Do members follow their tone? unknown : the tone analysis is "
                               "not available on this workspace: no post has a tone score")
    assert len(lines) == 7
    # 2 leaders of 7: p = 1/21 is the smallest attainable, 3/21 after Holm over 3 questions
    assert lines[0].startswith("First to adopt? too few to tell : the 2 leaders' median "
                               "account-creation rank is 1.5 of 7 (ranks 1, 2)")
    assert "smallest attainable p at this size 0.048" in lines[0]
    for sec in ("directory", "adoption", "activity", "provenance"):
        assert soup.find("section", id=sec), sec
    assert len(soup.find_all("svg")) >= 3
    # offline: nothing is loaded from elsewhere
    assert not soup.find_all("script")
    assert not [t for t in soup.find_all(["link", "img", "iframe"]) if t.get("src") or t.get("href")]
    assert "http://" not in html.split("<svg")[0] and "https://" not in html.split("<svg")[0]
    summary = json.loads(paths["json"].read_text())
    assert {"directory", "adoption", "activity"} <= set(summary["analyses"])
    assert summary["analyses"]["directory"]["params"]["leaders"] == "is_leader"
    assert summary["verdicts"]["first"]["verdict"] == "too few to tell"


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
    assert re.search(r"Person [0-9a-f]{8}", text)  # under a keyed pseudonym (socialens.privacy)
    full = write_report(tiny_ws, tmp_path / "all", include_all=True)
    assert "Sid Three" in full["html"].read_text() and "Tony H" in full["html"].read_text()


def test_verdict_table_says_what_its_numbers_are(tiny_ws, tmp_path):
    soup = BeautifulSoup(write_report(tiny_ws, tmp_path / "out")["html"].read_text(), "html.parser")
    rows = {tr["data-question"]: [td.get_text(" ", strip=True) for td in tr.find_all("td")]
            for tr in soup.select("table.verdicts tbody tr")}
    assert rows["most_followed"][2] == "rank 2 of 7 (2 leaders)"
    assert rows["most_followed"][3] == "rank 5 of 7"
    assert rows["most_active"][2].startswith("6.13 posts/week")
    assert rows["most_active"][3] == "1.02 posts/week (4 others)"


def test_numbers_and_parameters_are_in_words(tiny_ws, tmp_path):
    html = write_report(tiny_ws, tmp_path / "out")["html"].read_text()
    soup = BeautifulSoup(html, "html.parser")
    numbers = soup.select_one("#directory details.numbers")
    labels = [th.get_text() for th in numbers.find_all("th")]
    assert "p-value of the leaders' median rank" in labels and "members listed" in labels
    assert {"the leaders", "Mann–Whitney U", "alternative hypothesis"} <= set(labels)
    assert "who counts as leader" not in labels and "leaders higher" in numbers.get_text()
    text = numbers.get_text(" ")
    assert "0.095" in text and "0.09523" not in text  # 2/21 to two significant digits
    assert "{" not in text and '"' not in text  # no JSON
    params = soup.select_one("#directory details.params").get_text(" ")
    assert "roles read at" in params and "people whose role has the leader flag" in params
    assert "who counts as leader" in params
    headers = " ".join(th.get_text() for th in soup.select("table th"))
    assert not re.search(r"\b(as_of|is_leader|opt_in|person_id|p_value)\b", headers)
    # no long raw floats anywhere in the report text (0.006060606060606061 was printed)
    assert not re.search(r"\d\.\d{6,}", soup.get_text(" "))


def test_empty_simulation_truth_tables_are_not_listed(tiny_ws, tmp_path):
    soup = BeautifulSoup(write_report(tiny_ws, tmp_path / "out")["html"].read_text(), "html.parser")
    prov = soup.select_one("#provenance").get_text(" ")
    assert "sim truth" not in prov and "sim_truth" not in prov and "posts 507" in prov


def test_include_all_is_recorded(tiny_ws, tmp_path):
    tiny_ws.con.execute("UPDATE people SET opt_in = false WHERE person_id = 's3'")
    plain = write_report(tiny_ws, tmp_path / "a")
    assert json.loads(plain["json"].read_text())["privacy"]["include_all"] is False
    assert "1 people who did not opt in are not named" in plain["html"].read_text()
    full = write_report(tiny_ws, tmp_path / "b", include_all=True)
    summary = json.loads(full["json"].read_text())
    assert summary["privacy"]["include_all"] is True
    assert summary["privacy"]["n_not_opted_in_named"] == 1
    soup = BeautifulSoup(full["html"].read_text(), "html.parser")
    assert "(--include-all)" in soup.select_one("#privacy").get_text()
    assert "Sid Three" in soup.get_text()


def test_report_cli_include_all(tiny_ws, tmp_path):
    tiny_ws.con.execute("UPDATE people SET opt_in = false WHERE person_id = 's3'")
    path = tiny_ws.path
    tiny_ws.close()
    res = CliRunner().invoke(app, ["report", "-w", str(path), "--out", str(tmp_path / "r"),
                                   "--include-all"])
    assert res.exit_code == 0, res.output
    assert "Sid Three" in (tmp_path / "r" / "report.html").read_text()
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["privacy"]["include_all"]


def test_a_roster_that_declares_people_public_is_named(tiny_ws, tmp_path):
    tiny_ws.con.execute("""UPDATE people SET attrs = json_object('public', 'roster')""")
    paths = write_report(tiny_ws, tmp_path / "out")
    soup = BeautifulSoup(paths["html"].read_text(), "html.parser")
    assert "because the roster declares them public" in soup.select_one("#privacy").get_text()
    assert json.loads(paths["json"].read_text())["privacy"]["n_roster_public"] == 7


def _ceo_and_colleague(tmp_path):
    """A CEO with a Mastodon outbox and one colleague without any account (issue 9)."""
    import socialens

    roster = tmp_path / "roster"
    roster.mkdir()
    (roster / "people.csv").write_text("person_id,name,department,opt_in\n"
                                       "ceo,Ada,Exec,true\ncol,Cy,Sales,true\n", encoding="utf-8")
    (roster / "roles.csv").write_text("person_id,title,level,is_leader,start_at\n"
                                      "ceo,CEO,0,true,2020-01-01\ncol,Staff,2,false,2020-01-01\n",
                                      encoding="utf-8")
    (roster / "accounts.csv").write_text("account_id,person_id,platform,handle,kind\n"
                                         "mastodon:mastodon.social/@ada,ceo,mastodon,"
                                         "ada@mastodon.social,personal\n", encoding="utf-8")
    path = tmp_path / "ws.duckdb"
    with socialens.open(path) as ws:
        ws.ingest(roster)
        ws.ingest(FIXTURES.parent / "ingest" / "fixtures" / "mastodon_outbox.json")
    return path


def test_nobody_else_adopted_and_no_snapshots(tmp_path):
    """Died with `TypeError: unsupported format string passed to NoneType.__format__`; and the
    directory (no follower snapshots) stopped the whole report."""
    import socialens

    path = _ceo_and_colleague(tmp_path)
    with socialens.open(path, read_only=True) as ws:
        paths = write_report(ws, tmp_path / "out")
    summary = json.loads(paths["json"].read_text())
    assert "no account snapshots" in summary["not_available"]["directory"]
    # only the CEO's one public post is reported: no window to measure activity in
    assert set(summary["analyses"]) == {"adoption", "delegation", "leaders"} and "activity" in summary["not_available"]
    first = summary["verdicts"]["first"]
    assert first["verdict"] == "unknown" and first["others_median_rank"] is None
    assert summary["answer"].startswith("First to adopt? UNKNOWN: the 1 leaders' median "
                                        "first-post rank is 1 of 1 (ranks 1); no other "
                                        "member had adopted")
    soup = BeautifulSoup(paths["html"].read_text(), "html.parser")
    assert soup.select_one("section#directory").get_text(" ", strip=True).endswith(
        "Not available: " + summary["not_available"]["directory"])
    others = soup.select_one('table.verdicts tr[data-question="first"]').find_all("td")[3]
    assert others.get_text() == "—" and others.span["title"] == "nobody else to compare with"


@pytest.mark.parametrize("command", ["report", "publish", "analyze"])
def test_cli_on_ceo_and_colleague(tmp_path, command):
    path = _ceo_and_colleague(tmp_path)
    args = [command, "-w", str(path)] + ([] if command == "analyze" else
                                         ["--out", str(tmp_path / "out")])
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    if command == "analyze":
        assert "directory: not available: the workspace has no account snapshots" in res.output
        assert "adoption:" in res.output
