"""The web app and its JSON API (in-process, through Starlette's TestClient)."""

from __future__ import annotations

import json
import re
import warnings

import pytest

from socialens.site.app import create_app, is_loopback
from tests.site.xss_data import HIDDEN_PEOPLE, POST_TEXTS, XSS_PAYLOADS

with warnings.catch_warnings():  # starlette's notice about its httpx client, at import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client(xss_ws_path):
    with TestClient(create_app(xss_ws_path)) as c:
        yield c


def _all_text(client) -> str:
    parts = []
    for url in ("/api/people?limit=1000", "/api/accounts", "/api/posts?limit=1000",
                "/index.html", "/feed.html", "/subscribe.html", "/feeds/all.atom",
                "/feeds/leaders.atom", "/subscriptions.opml", "/exports/mastodon-lists.csv",
                "/exports/bluesky-starter-packs.json", "/api/analyses/directory"):
        r = client.get(url)
        assert r.status_code == 200, url
        parts.append(r.text)
    return "\n".join(parts)


def test_api_people_and_filters(client):
    r = client.get("/api/people", params={"limit": 2})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["total"] == 3 + len(XSS_PAYLOADS)
    assert [p["name"] for p in body["items"]] == ["Tony Chief", "Alfred Ops"]
    assert client.get("/api/people", params={"role": "leaders"}).json()["total"] == 2
    assert client.get("/api/people", params={"platform": "bluesky"}).json()["items"][0]["name"] == "Bea Sky"
    assert client.get("/api/people", params={"q": "alfred ops"}).json()["total"] == 1
    assert client.get("/api/people", params={"limit": 0}).status_code == 422


def test_api_posts(client):
    r = client.get("/api/posts", params={"person": "x00", "since": "2008-12-01"})
    items = r.json()["items"]
    assert {p["text"] for p in items} == {XSS_PAYLOADS[0], f"before {XSS_PAYLOADS[0]} after"}
    assert client.get("/api/posts", params={"since": "2100-01-01"}).json()["items"] == []
    assert client.get("/api/posts", params={"since": "yesterday"}).status_code == 422
    # a person who did not opt in looks exactly like one who does not exist
    assert client.get("/api/posts", params={"person": "hid1"}).status_code == 404
    assert client.get("/api/posts", params={"person": "nobody"}).status_code == 404


def test_api_responses_escape_payloads(client):
    r = client.get("/api/posts", params={"limit": 1000})
    raw = r.text
    assert "<" not in raw and ">" not in raw and r.headers["x-content-type-options"] == "nosniff"
    texts = {p["text"] for p in r.json()["items"]}
    assert set(POST_TEXTS) <= texts  # round-trips as data
    for p in r.json()["items"]:
        assert p["url"] is None or p["url"].startswith(("https://", "http://"))
    for a in client.get("/api/accounts").json()["items"]:
        assert a["url"] is None or a["url"].startswith(("https://", "http://"))


def test_nobody_hidden_in_app(client):
    text = _all_text(client)
    for h in HIDDEN_PEOPLE:
        for needle in (h["name"], h["handle"], h["post"], h["account"]):
            assert needle not in text, needle
    assert "Shadowdept" not in text


def test_pages_and_paths(client):
    r = client.get("/")
    assert r.status_code == 200 and "Tony Chief" in r.text
    assert "default-src 'none'" in r.headers["content-security-policy"]
    slug = client.get("/api/people", params={"limit": 1}).json()["items"][0]["slug"]
    assert client.get(f"/people/{slug}.html").status_code == 200
    for bad in ("/people/..%2F..%2Fpyproject.toml", "/people/../../etc/passwd",
                "/assets/..%2Fbuild.py", "/assets/site.css%00.js", "/feeds/..%2F..%2Fapp.py",
                "/exports/../../../etc/passwd", "/people/hid1-x.html", "/api/analyses/..%2Fx",
                "/api/analyses/nope"):
        assert client.get(bad).status_code == 404, bad
    assert client.get("/assets/site.css").headers["content-type"].startswith("text/css")
    spec = client.get("/openapi.json").json()
    assert {"/api/people", "/api/accounts", "/api/posts", "/api/analyses/{name}"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 404  # Swagger UI would load from a CDN


def test_token_protects_every_route(xss_ws_path):
    with TestClient(create_app(xss_ws_path, token="s3cret")) as c:
        for url in ("/", "/index.html", "/api/people", "/openapi.json", "/assets/site.js"):
            assert c.get(url).status_code == 401, url
        assert c.get("/api/people", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/people", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        r = c.get("/index.html?token=s3cret", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/index.html"
        assert "HttpOnly" in r.headers["set-cookie"] and "s3cret" not in r.headers["set-cookie"]
        assert c.get("/feed.html").status_code == 200  # the cookie carries the token on


def test_host_header_allow_list(xss_ws_path):
    app = create_app(xss_ws_path, allowed_hosts=["127.0.0.1", "localhost"])
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        assert c.get("/api/people").status_code == 200
        assert c.get("/api/people", headers={"Host": "evil.example"}).status_code == 400


def test_is_loopback():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")


def test_report_and_analysis_redacted(client):
    r = client.get("/report/report.html")
    assert r.status_code == 200 and "<script" not in r.text.lower()
    assert "style-src 'unsafe-inline'" in r.headers["content-security-policy"]
    body = json.dumps(client.get("/api/analyses/directory").json())
    assert "Zebulon" not in body and "Tony Chief" in body


def test_a_leader_page_never_waits_for_the_analyses_and_then_shows_the_card(xss_ws_path,
                                                                          xss_site):
    """A leader's page starts the analyses in the background and says the card is coming (the
    first leader page used to run every analysis, ~5 s on the demo); once they are done, the page
    carries the same report card as the published site's page. Other people's pages start
    nothing."""
    app = create_app(xss_ws_path)
    state = app.app.state.socialens
    with TestClient(app) as c:
        other = next(p for p in state.d.people if not p["leader"])
        assert "report card" not in c.get(f"/people/{other['slug']}.html").text.lower()
        assert state._background is None and state._results is None  # nothing started
        leader = next(p for p in state.d.people if p["leader"])
        r = c.get(f"/people/{leader['slug']}.html")
        assert r.status_code == 200 and leader["name"] in r.text
        assert "being computed" in r.text or state._results is not None
        state._background.join(timeout=120)
        assert state._results is not None and state.results_error is None
        r = c.get(f"/people/{leader['slug']}.html")
        assert "being computed" not in r.text
        card = re.search(r'<article class="leader-card".*?</article>', r.text, re.S)
        published = (xss_site / "people" / f"{leader['slug']}.html").read_text("utf-8")
        assert card is not None and card.group(0) in published
        assert c.get(f"/people/{leader['slug']}.html").text == r.text  # kept
        assert c.get("/report/report.html").status_code == 200
