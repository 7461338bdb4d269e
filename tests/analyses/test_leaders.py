"""The leader report card: a literal organization whose card numbers are known, the exposure ratio
on a hand-solvable panel, traceability to the component tables, HTML and the privacy boundary."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from bs4 import BeautifulSoup

import socialens
from socialens.analyses import REGISTRY, run_all
from socialens.analyses.leaders import (
    NOT_ENOUGH,
    card_anchor,
    leader_cards,
    leader_exposure_ratios,
    leaders,
)
from socialens.privacy import public_only

WINDOW = {"window_start": "2020-01-01T00:00:00Z", "window_end": "2020-03-01T00:00:00Z"}
PEOPLE = [  # person_id, name, department, opt_in, title, level, is_leader, created, followers
    ("lena", "Lena <i>Lead</i>", "Exec", "true", "CEO", 0, "true", "2019-02-01", 1000),
    ("ann", "Ann Archer", "Sales", "true", "Staff", 1, "false", "2019-03-01", 10),
    ("bob", "Bob Baker", "Sales", "true", "Staff", 1, "false", "2019-04-01", 20),
    ("cy", "Cy Cooper", "Ops", "true", "Staff", 1, "false", "2019-05-01", 30),
    ("hat", "Harriet Zquill", "Ops", "false", "Staff", 1, "false", "2019-06-01", 40),
    ("hugo", "Hugo Vexmoor", "Exec", "false", "COO", 0, "true", "2019-07-01", 500),
]
POSTS = [  # person, day of January 2020 (hour 12), text
    ("lena", 1, "#go team, a great start"), ("ann", 2, "#go yes"), ("bob", 3, "#go"),
    ("hat", 4, "#go here too"), ("hugo", 5, "#go too"), ("hugo", 6, "#new thing"),
    ("ann", 7, "#new"), ("cy", 8, "#new for me"), ("lena", 9, "my family at the lake"),
    ("lena", 15, "our quarterly results are out"), ("lena", 22, "thanks to the team"),
]


def _write_org(d):
    ids = {p[0]: f"x:{k + 1}" for k, p in enumerate(PEOPLE)}
    (d / "people.csv").write_text("person_id,name,department,opt_in\n" + "".join(
        f'{p[0]},"{p[1]}",{p[2]},{p[3]}\n' for p in PEOPLE))
    (d / "roles.csv").write_text("person_id,title,level,is_leader,start_at,end_at\n" + "".join(
        f"{p[0]},{p[4]},{p[5]},{p[6]},2019-01-01,\n" for p in PEOPLE))
    (d / "accounts.csv").write_text(
        "account_id,person_id,platform,handle,kind,created_at\n" + "".join(
            f"{ids[p[0]]},{p[0]},x,{p[0]}handle,personal,{p[7]}T00:00:00Z\n" for p in PEOPLE))
    (d / "snapshots.csv").write_text(
        "account_id,observed_at,followers,following,posts_count\n" + "".join(
            f"{ids[p[0]]},2020-03-01T00:00:00Z,{p[8]},5,10\n" for p in PEOPLE))
    (d / "edges.csv").write_text(
        "src,dst,kind,weight,observed_at\n"
        f"{ids['ann']},{ids['lena']},follows,1,2020-03-01T00:00:00Z\n"
        f"{ids['bob']},{ids['lena']},follows,1,2020-03-01T00:00:00Z\n"
        f"{ids['cy']},{ids['hugo']},follows,1,2020-03-01T00:00:00Z\n")
    rows = [{"post_id": f"x:{100 + k}", "account_id": ids[who],
             "created_at": f"2020-01-{day:02d}T12:00:00Z", "text": text}
            for k, (who, day, text) in enumerate(POSTS)]
    (d / "posts.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    d = tmp_path_factory.mktemp("leaders_org")
    _write_org(d)
    path = d / "org.duckdb"
    with socialens.open(path) as ws:
        ws.ingest(d)
        from socialens.enrich import enrich

        enrich(ws)
    return path


@pytest.fixture(scope="module")
def card(org):
    with socialens.open(org, read_only=True) as ws:
        return leaders(ws, **WINDOW)


def _rows(res, pid):
    c = res.tables["components"]
    return c[c.person_id == pid].set_index("measure")


def test_card_numbers_known_exactly(card):
    assert list(card.tables["cards"].person_id) == ["hugo", "lena"]  # level 0, by id
    lena = _rows(card, "lena")
    assert lena.loc["adoption rank", ["value", "of"]].tolist() == [1.0, 6.0]
    assert lena.loc["external followers", ["value", "rank", "of"]].tolist() == [1000.0, 1.0, 6.0]
    assert lena.loc["external followers", "compared_with"] == 25.0  # members 10, 20, 30, 40
    assert lena.loc["adoption rank", "source"] == "adoption.adopters"
    hugo = _rows(card, "hugo")
    assert hugo.loc["adoption rank", ["value", "of"]].tolist() == [6.0, 6.0]
    assert hugo.loc["external followers", ["value", "rank"]].tolist() == [500.0, 2.0]
    # behaviours started: #go by Lena (then ann, bob, hat of the 4 members), #new by Hugo
    st = card.tables["behaviours_started"].set_index("behaviour")
    assert st.loc["hashtag:#go", ["person_id", "members_after", "n_members"]].tolist() == [
        "lena", 3, 4]
    assert st.loc["hashtag:#go", "share_after"] == 0.75
    assert st.loc["hashtag:#new", ["person_id", "members_after"]].tolist() == ["hugo", 2]
    assert lena.loc["behaviours started (first user in the organization)", "value"] == 1.0
    # coordination needs replies: none here, so "not enough data" with the reason
    coord = lena[lena.component == "coordination"].iloc[0]
    assert coord.status == NOT_ENOUGH and "no replies" in coord.detail
    assert math.isnan(coord.value)
    # the summary quotes the numbers of the rows
    s = card.tables["cards"].set_index("person_id").summary["lena"]
    assert s.startswith("Lena <i>Lead</i>: joined social media 1st of 6; posts ")
    assert "; has 1,000 followers (1st of 6);" in s
    assert "hashtag:#go" not in s and "#go was taken up after them by 3 of 4 members (75 %)" in s
    assert f"take up their hashtags faster: {NOT_ENOUGH}" in s


def test_every_number_is_a_row_of_its_component_table(org, card):
    """Traceability: the value on the card equals the cell of the table it names."""
    with socialens.open(org, read_only=True) as ws:
        comp = run_all(ws, ["activity", "tone", "sharing", "reach"], **WINDOW)
    lena = _rows(card, "lena")
    act = comp["activity"].tables["window_rates"].set_index("person_id").loc["lena"]
    assert lena.loc["posts per week", "value"] == pytest.approx(act.posts_per_week)
    assert lena.loc["posts per week", "rank"] == act["rank"]
    tone = comp["tone"].tables["people"].set_index("person_id").loc["lena"]
    assert lena.loc["mean tone (VADER compound, −1 to +1)", "value"] == pytest.approx(
        tone.mean_tone)
    sh = comp["sharing"].tables["people"].set_index("person_id").loc["lena"]
    assert lena.loc["share of personal posts", "value"] == pytest.approx(sh.personal_share)
    rl = comp["reach"].tables["leaders"].set_index("person_id").loc["lena"]
    assert lena.loc["share of members who pay them attention directly", "value"] == (
        pytest.approx(rl.share_1hop))
    # every row names analysis.table, and a missing one says why
    assert set(card.tables["components"].source.str.split(".").str[0]) <= {
        *REGISTRY, "leaders"}
    bad = card.tables["components"]
    bad = bad[bad.status != "ok"]
    assert bad.value.isna().all() and bad.detail.notna().all()


def test_run_all_reuses_the_results(org):
    with socialens.open(org, read_only=True) as ws:
        res = run_all(ws, ["directory", "adoption", "leaders"], **WINDOW)
    lena = _rows(res["leaders"], "lena")
    assert lena.loc["external followers", "value"] == 1000.0
    assert lena.loc["posts per week", "status"] == NOT_ENOUGH  # activity not in this run
    assert lena.loc["posts per week", "detail"] == "activity was not run"
    assert "leaders" in REGISTRY and list(REGISTRY)[-1] == "leaders"


def _by_hand_data():
    members = [f"m{k}" for k in range(10)]
    ties = pd.DataFrame({"person_id": members[:6], "source_person_id": "L",
                         "start_at": pd.NaT})
    t1 = pd.Timestamp("2020-01-02T06:00:00Z")
    uses = pd.DataFrame({"person_id": ["L", "m0", "m1", "m2", "m6"],
                         "behaviour": "hashtag:#x",
                         "at": [pd.Timestamp("2020-01-01T06:00:00Z")] + [t1] * 4})
    return members, ties, uses


_WINDOW = dict(window_start="2020-01-01T00:00:00Z", window_end="2020-01-04T00:00:00Z")


def test_exposure_ratio_solves_by_hand():
    """One baseline group with adoptions (period 1): the cloglog MLE is closed-form,
    exp(β) = log(1 − 3/6) / log(1 − 1/4) = 2.4094."""
    members, ties, uses = _by_hand_data()
    r = leader_exposure_ratios(None, ["L"], members, ties=ties, uses=uses, min_behaviours=1,
                               **_WINDOW)
    row = r.iloc[0]
    assert row.status == "ok"
    assert row.hazard_ratio == pytest.approx(math.log(0.5) / math.log(0.75), rel=1e-4)
    assert row.ci_low < row.hazard_ratio < row.ci_high and row.ci_low > 0
    assert row.se_inflation == 1.0  # one behaviour: the profile interval as it is
    assert (row.n_at_risk, row.n_adopted, row.n_adopted_exposed, row.n_exposed) == (10, 4, 3, 6)
    # two exposed adoptions are too few: "not enough data", no number
    r = leader_exposure_ratios(None, ["L"], members, ties=ties, min_behaviours=1,
                               uses=uses.iloc[1:].pipe(lambda u: pd.concat([uses.iloc[:1],
                                                                            u.iloc[1:]])),
                               **_WINDOW)
    assert r.iloc[0].status == NOT_ENOUGH and "2 adoptions" in r.iloc[0].reason
    assert math.isnan(r.iloc[0].hazard_ratio)
    # by default a behaviour shown in posts needs 3 behaviours (the interval is clustered by
    # behaviour): one hashtag gives "not enough data"
    r = leader_exposure_ratios(None, ["L"], members, ties=ties, uses=uses, **_WINDOW)
    assert r.iloc[0].status == NOT_ENOUGH and "used 1 of the behaviours" in r.iloc[0].reason
    assert "at least 3" in r.iloc[0].reason and math.isnan(r.iloc[0].hazard_ratio)


def test_exposure_ratio_interval_clustered_by_member_and_behaviour():
    """Three identical copies of the by-hand behaviour: the estimate is the closed form; by
    symmetry each behaviour's score is zero at the MLE (behaviour-clustered variance 0), so the
    widening is the member-clustered ratio, solved here by hand: with ``mu1 = log 2`` (exposed),
    ``mu0 = log 4/3`` (not), weights ``w = n mu^2 / (e^mu - 1)``, ``xbar = w1 / (w1 + w0)``, per
    copy the information ``I = w1 (1 - xbar)`` and the member scores ``±mu1 (1 - xbar)`` (3
    adopters: ``mu1 / (e^mu1 - 1) = log 2``; 3 not) and ``-3 log(4/3) xbar`` (1 adopter),
    ``+log(4/3) xbar`` (3 not); each member's score is 3 times that over the copies, so
    ``se_member / se_model = sqrt(3 sum(s^2) / I)`` (the behaviour-clustered term, 0, loses)."""
    members, ties, one = _by_hand_data()
    uses = pd.concat([one.assign(behaviour=f"hashtag:#{b}") for b in "xyz"], ignore_index=True)
    r = leader_exposure_ratios(None, ["L"], members, ties=ties, uses=uses, **_WINDOW)
    row = r.iloc[0]
    assert row.status == "ok" and row.n_behaviours == 3
    assert row.hazard_ratio == pytest.approx(math.log(0.5) / math.log(0.75), rel=1e-4)
    m1, m0 = math.log(2), math.log(4 / 3)
    w1, w0 = 6 * m1 ** 2 / (math.exp(m1) - 1), 4 * m0 ** 2 / (math.exp(m0) - 1)
    xbar = w1 / (w1 + w0)
    info = w1 * (1 - xbar)
    s2 = 6 * (m1 * (1 - xbar)) ** 2 + (3 * m0 * xbar) ** 2 + 3 * (m0 * xbar) ** 2
    ratio = math.sqrt(3 * s2 / info)
    # in this two-cell model sum(s^2) = I at the MLE, so the ratio is sqrt(3) exactly
    assert ratio == pytest.approx(math.sqrt(3), rel=1e-12)
    assert row.se_inflation == pytest.approx(ratio, rel=1e-4)


def test_html_cards_anchored_and_escaped(card):
    html = card.to_html(figures=False)
    soup = BeautifulSoup(html, "html.parser")
    arts = soup.select("article.leader-card")
    assert [a["id"] for a in arts] == [card_anchor("hugo"), card_anchor("lena")]
    assert [a["href"] for a in soup.select("nav.leader-cards a")] == [
        "#leader-hugo", "#leader-lena"]
    lena = soup.select_one("#leader-lena")
    assert lena.select_one("h3").get_text().startswith("Lena <i>Lead</i>")  # text, not markup
    assert "<i>Lead</i>" not in html and "Lena &lt;i&gt;Lead&lt;/i&gt;" in html
    cells = {tr.th.get_text(): tr.select("td")[0].get_text() for tr in lena.select("table.card tr")
             if tr.th and tr.select("td")}
    assert cells["adoption rank"].startswith("1st of 6")
    assert cells["external followers"].startswith("1,000, rank 1st of 6")
    assert cells["coordination received"].startswith(NOT_ENOUGH)
    sp = lena.select_one("table.card-behaviours tbody tr").get_text(" ")
    assert "hashtag:#go" in sp and "3 of 4 (75 %)" in sp


def test_hidden_people_never_named(org, tmp_path):
    """Through the privacy boundary the hidden leader's card is under a pseudonym, and no hidden
    name or handle is in any card, table or summary; the site shows cards of listed leaders."""
    hidden = ["Hugo", "Vexmoor", "Harriet", "Zquill", "hugohandle", "hathandle"]
    with socialens.open(org, read_only=True) as ws, public_only(ws):
        res = leaders(ws, **WINDOW)
        from socialens.site.build import publish

        publish(ws, tmp_path / "site")
    text = res.to_html(figures=False) + res.to_json() + "".join(
        df.to_csv() for df in res.tables.values())
    for word in hidden:
        assert word not in text
    assert "Lena &lt;i&gt;Lead&lt;/i&gt;" in text
    assert res.tables["cards"].person_id.str.startswith("p-").sum() == 1  # Hugo's pseudonym
    site_text = "".join(p.read_text(encoding="utf-8", errors="replace")
                        for p in (tmp_path / "site").rglob("*") if p.is_file())
    for word in hidden:
        assert word not in site_text
    (lena_page,) = (tmp_path / "site" / "people").glob("lena-*.html")
    page = BeautifulSoup(lena_page.read_text(encoding="utf-8"), "html.parser")
    art = page.select_one("section.report-card article.leader-card")
    assert art is not None and art["id"] == "leader-lena"
    assert "1st of 6" in art.get_text()


def test_from_results_matches_the_standalone_card(org, card):
    with socialens.open(org, read_only=True) as ws:
        comp = run_all(ws, ["directory", "adoption", "contagion"], **WINDOW)
        again = leader_cards(ws, comp, **WINDOW)
    a = card.tables["behaviours_started"].reset_index(drop=True)
    assert again.tables["behaviours_started"].reset_index(drop=True).equals(a)


def test_summary_quotes_the_ratio_only_where_calibrated():
    from socialens.analyses.leaders import RATIO_IN_SUMMARY, _summary

    ratio = {"component": "exposure ratio", "measure": "hazard ratio", "value": 2.1,
             "ci_low": 1.4, "ci_high": 3.0, "status": "ok"}
    assert {"platform", "hashtags"} <= RATIO_IN_SUMMARY and "behaviours" not in RATIO_IN_SUMMARY
    s = _summary("Ann", [ratio], [], "platform", True)
    assert s.endswith("on the platform joined it 2.1× (1.4–3.0) as fast as members who could "
                      "see no leader there.")
    s = _summary("Ann", [ratio], [], "hashtags", True)
    assert s.endswith("use one of their hashtags took it up 2.1× (1.4–3.0) as fast as members "
                      "who could see no leader use it.")
    s = _summary("Ann", [ratio], [], "behaviours", False)
    assert "2.1" not in s and "is not quoted here" in s and "not calibrated" in s
    s = _summary("Ann", [{**ratio, "status": NOT_ENOUGH, "value": None}], [], "hashtags", False)
    assert s.endswith(f"take up their hashtags faster: {NOT_ENOUGH}.")
