"""socialens collect mastodon against a fake Mastodon server (pytest-httpserver): no network."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from socialens.collect import collect
from socialens.collect.state import StateStore
from tests.collect.conftest import T0, FakeMastodon, raw_lines, write_roster

H = FakeMastodon.HOST
ADA, BO, CY = f"mastodon:{H}/@ada", f"mastodon:{H}/@bo", f"mastodon:{H}/@cy"
TOKEN = "s3cr3t-t0ken-value-9f8e7d"


@pytest.fixture
def org(masto, tmp_path):
    ada = masto.add_account("ada", "Ada CEO", followers=900, following=3)
    bo = masto.add_account("bo", "Bo COO")
    masto.add_account("cy", "Cy Dev")
    masto.add_account("zed", "Zed (suspended)")
    masto.accounts["zed"]["suspended"] = True
    masto.gone["gone"] = 410
    for i in range(5):
        masto.add_status("ada", f"<p>Ada post {i} <a href=\"https://{H}/tags/acme\">#acme</a></p>",
                         T0 + timedelta(hours=i), tags=["acme"])
    masto.add_status("bo", "<p>Bo hello</p>", T0)
    masto.add_status("ada", "", T0 + timedelta(hours=6), reblog_of=(bo, 0))
    masto.following[ada] = ["bo", "cy", "zed"]
    masto.following[bo] = ["ada"]
    return write_roster(tmp_path / "roster.csv", [
        {"person_id": "p1", "name": "Ada", "title": "CEO", "level": "0", "start": "2020-01-01",
         "mastodon": f"@ada@{H}"},
        {"person_id": "p2", "name": "Bo", "mastodon": f"@bo@{H}"},
        {"person_id": "p3", "name": "Cy", "mastodon": f"@cy@{H}"},
        {"person_id": "p4", "name": "Zed", "mastodon": f"@zed@{H}"},
        {"person_id": "p5", "name": "Gone", "mastodon": f"@gone@{H}"},
    ])


def run(ws, masto, sleeps, **kw):
    kw.setdefault("seed", 1)
    return collect(ws, "mastodon", base_url=masto.url, out=ws.path.parent / "raw",
                   sleep=sleeps.append, **kw)


def test_first_collection(ws, masto, org, sleeps):
    rep = run(ws, masto, sleeps, roster=org)
    assert rep.complete
    status = {a.account: a.status for a in rep.accounts}
    assert status == {ADA: "ok", BO: "ok", CY: "ok", f"mastodon:{H}/@zed": "unavailable",
                      f"mastodon:{H}/@gone": "unavailable"}
    notes = {a.account: a.note for a in rep.unavailable}
    assert "suspended" in notes[f"mastodon:{H}/@zed"]
    assert "410" in notes[f"mastodon:{H}/@gone"]
    # 5 lookups; statuses: ada 6 / 2 = 3 pages (+1 empty page after the last Link), bo 1 (+1), cy 1
    assert masto.calls["lookup"] == 5
    assert masto.calls["statuses"] == 4 + 2 + 1
    assert masto.calls["following"] == 2 + 1 + 1
    posts = ws.sql("SELECT * FROM posts").set_index("post_id")
    ada = posts[posts.account_id == ADA]
    assert len(ada) == 6 and ada.repost_of.notna().sum() == 1
    assert (ada.text.dropna().str.startswith("Ada post")).all()
    # the lookup and every page that embeds the account (statuses, following) observe its counters
    snap = ws.sql(f"SELECT * FROM account_snapshots WHERE account_id='{ADA}'")
    assert set(snap.followers) == {900} and set(snap.posts_count) == {6}
    assert snap.observed_at.max() - snap.observed_at.min() < timedelta(minutes=1)
    # accounts keep their roster person; follows edges among the roster
    assert ws.sql(f"SELECT person_id FROM accounts WHERE account_id='{ADA}'").person_id[0] == "p1"
    e = ws.sql("SELECT src, dst FROM edges WHERE kind='follows' ORDER BY 1, 2").values.tolist()
    assert e == [[ADA, BO], [ADA, CY], [ADA, f"mastodon:{H}/@zed"], [BO, ADA]]
    assert rep.ingest_totals["quarantined"] == 0


def test_second_run_fetches_only_newer_statuses(ws, masto, org, sleeps):
    run(ws, masto, sleeps, roster=org)
    masto.calls.clear()
    masto.seen.clear()
    masto.add_status("ada", "<p>Ada new</p>", T0 + timedelta(days=1))
    rep = run(ws, masto, sleeps, follows=False)
    assert rep.complete
    ada_reqs = [a for ep, a, _ in masto.seen if ep == "statuses" and a.get("since_id")]
    assert ada_reqs and all(a["since_id"] for a in ada_reqs)
    # ada: the new status (1 page, then an empty page); bo: 1 empty page; cy: 1 empty page
    assert masto.calls["statuses"] == 2 + 1 + 1
    assert ws.sql(f"SELECT count(*) n FROM posts WHERE account_id='{ADA}'").n[0] == 7


def test_token_is_sent_but_never_written_or_logged(ws, masto, org, sleeps, monkeypatch, caplog):
    monkeypatch.setenv("SOCIALENS_MASTODON_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)
    masto.fail("statuses", [(503, {})])
    rep = run(ws, masto, sleeps, roster=org)
    assert all(h.get("Authorization") == f"Bearer {TOKEN}" for _, _, h in masto.seen)
    raw_dir = Path(rep.run_dir)
    for p in raw_dir.iterdir():
        assert TOKEN not in p.read_text(), p
    assert TOKEN not in caplog.text
    assert all(TOKEN not in line["_socialens"]["url"] for line in raw_lines(rep))
    assert TOKEN not in str(rep.as_dict())


def test_resume_after_retries_are_exhausted(ws, masto, org, sleeps):
    # the second statuses request (ada's second page) fails 3 times: max_retries=2 is spent
    masto.fail("statuses", [])
    calls = {"n": 0}
    original = masto.get_statuses

    def flaky(request):
        calls["n"] += 1
        if request.args.get("max_id") and calls["n"] < 50:
            from werkzeug.wrappers import Response

            return Response('{"error": "boom"}', status=502, content_type="application/json")
        return original(request)

    masto.get_statuses = flaky
    import re

    masto.server.clear()
    masto.route("/api/v1/accounts/lookup", "lookup", masto.lookup)
    masto.server.expect_request(re.compile(r"^/api/v1/accounts/\d+/statuses$")) \
        .respond_with_handler(masto._wrap("statuses", flaky))
    masto.server.expect_request(re.compile(r"^/api/v1/accounts/\d+/following$")) \
        .respond_with_handler(masto._wrap("following", masto.get_following))
    rep = run(ws, masto, sleeps, roster=org, max_retries=2)
    assert not rep.complete and "502" in rep.stopped
    assert ws.sql(f"SELECT count(*) n FROM posts WHERE account_id='{ADA}'").n[0] == 2
    st = StateStore(ws, "mastodon").get(ADA)
    assert st.cursor is not None and st.status == "error"
    calls["n"] = 1000
    rep2 = run(ws, masto, sleeps)
    assert rep2.complete
    assert ws.sql(f"SELECT count(*) n FROM posts WHERE account_id='{ADA}'").n[0] == 6
    st = StateStore(ws, "mastodon").get(ADA)
    assert st.cursor is None and st.status == "ok"
    assert st.newest_post_id == max((s["id"] for s in masto.statuses["100"]), key=int)


def test_rate_limit_reset_in_mastodon_format(ws, masto, org, sleeps):
    now = 1_800_000_000.0
    from datetime import UTC, datetime

    reset = datetime.fromtimestamp(now + 90, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    masto.fail("lookup", [(429, {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                                 "X-RateLimit-Reset": reset})])
    rep = run(ws, masto, sleeps, roster=org, clock=lambda: now)
    assert rep.complete and sleeps == [90.0]
