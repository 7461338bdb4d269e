"""`socialens serve` as an attacker probes it (issue 17): tokens never reach a log, the Host
header is parsed strictly, a public bind needs a token or --public (and then serves only the
published site), and out-of-range parameters get 422 with a message, never a 500."""

from __future__ import annotations

import http.client
import logging
import socket
import threading
import time
import warnings
from pathlib import Path
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

import socialens
from eval.web_fuzz import REPO, header_problems
from socialens.cli import app as cli_app
from socialens.site import SiteError
from socialens.site.app import LOOPBACK_HOSTS, bind_policy, create_app, make_server
from socialens.site.security import parse_host, strip_query_param
from tests.conftest import TINY_ORG

with warnings.catch_warnings():  # starlette's notice about its httpx client, at import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TOKEN = "s3cr3t-T0ken_value"


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sec_ws") / "ws.duckdb"
    with socialens.open(path) as w:
        w.ingest(TINY_ORG)
    return path


@pytest.fixture(scope="module")
def client(tiny_path):
    with TestClient(create_app(tiny_path, allowed_hosts=LOOPBACK_HOSTS),
                    base_url="http://127.0.0.1:8000", raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def token_app(tiny_path):
    return create_app(tiny_path, token=TOKEN, allowed_hosts=LOOPBACK_HOSTS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- 1. the token never reaches a log ---------------------------------------------------------
def test_query_token_is_exchanged_for_a_cookie_and_a_clean_url(token_app):
    with TestClient(token_app, base_url="http://127.0.0.1:8000", follow_redirects=False) as c:
        r = c.get(f"/people/x.html?a=1&token={TOKEN}&b=2")
        assert r.status_code == 303 and r.headers["location"] == "/people/x.html?a=1&b=2"
        cookie = r.headers["set-cookie"]
        for attr in ("HttpOnly", "SameSite=Strict", "Path=/"):
            assert attr in cookie, cookie
        assert TOKEN not in cookie and TOKEN not in r.text  # the cookie carries a derived value
        assert r.headers["cache-control"] == "no-store"
        # the cookie alone opens every page afterwards
        assert c.get("/index.html").status_code == 200
        assert c.get("/api/people").status_code == 200
    with TestClient(token_app, base_url="http://127.0.0.1:8000", follow_redirects=False) as c:
        r = c.get("/index.html?token=wrong")
        assert r.status_code == 401 and "set-cookie" not in r.headers
        assert c.get("/index.html").status_code == 401  # no cookie was set
        c.cookies.set("socialens_token", TOKEN)  # the token itself is not the cookie's value
        assert c.get("/index.html").status_code == 401
        c.cookies.clear()
        r = c.get("/index.html?token=" + TOKEN)
        assert r.status_code == 303 and r.headers["location"] == "/index.html"
        assert c.get("/index.html").status_code == 200
    with TestClient(token_app, base_url="http://127.0.0.1:8000") as c:  # as a browser does
        r = c.get(f"/index.html?token={TOKEN}")
        assert r.status_code == 200 and str(r.url) == "http://127.0.0.1:8000/index.html"


def _asgi(app, raw_path: bytes, query: bytes = b"", headers=((b"host", b"127.0.0.1"),)):
    """One request straight through the ASGI app (no client normalizing the URL); the messages
    sent back."""
    import asyncio
    from urllib.parse import unquote

    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": unquote(raw_path.decode()),
             "raw_path": raw_path, "query_string": query, "headers": list(headers),
             "scheme": "http", "http_version": "1.1", "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 8000), "root_path": ""}
    asyncio.run(app(scope, receive, send))
    return sent


def test_the_redirect_never_leaves_the_site(token_app):
    # //evil.example/... as a Location would be protocol-relative: another site
    start = _asgi(token_app, b"//evil.example/index.html", f"token={TOKEN}".encode())[0]
    headers = dict(start["headers"])
    assert start["status"] == 303 and headers[b"location"] == b"/evil.example/index.html"
    start = _asgi(token_app, b"/%0d%0aSet-Cookie:x=1", f"token={TOKEN}".encode())[0]
    assert dict(start["headers"])[b"location"] == b"/%0d%0aSet-Cookie:x=1"  # stays encoded


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


_REQUESTS = [  # (target, extra headers, expected status)
    (f"/index.html?token={TOKEN}", {}, 303),                  # accepted: exchanged
    (f"/index.html?q=x&token={TOKEN}&limit=1", {}, 303),
    ("/index.html?token=s3cr3t-T0ken_valuX", {}, 401),        # rejected (a typo of the token)
    (f"/nope.html?token={TOKEN}", {}, 303),                   # an unknown page
    (f"/api/people?limit=0&token={TOKEN}", {}, 303),
    (f"/index.html?%74oken={TOKEN}", {}, 303),                # percent-encoded name
    (f"/index.html?TOKEN={TOKEN}", {}, 401),                  # not the parameter, still hidden
    (f"/index.html?token={TOKEN}", {"Host": "evil.example"}, 400),
    ("/index.html", {"Authorization": f"Bearer {TOKEN}"}, 200),
    ("/api/people?limit=2", {"Authorization": f"Bearer {TOKEN}"}, 200),
]


@pytest.mark.parametrize("how", ["uvicorn", "make_server"])
def test_the_token_never_reaches_the_server_log(tiny_path, how):
    """uvicorn's access log (and error log) of accepted and rejected requests, in process.
    ``uvicorn``: a plain uvicorn server (the app alone removes the token from the request);
    ``make_server``: as ``socialens serve`` runs it (plus a log filter)."""
    import uvicorn
    from uvicorn.logging import AccessFormatter

    from socialens.site import app as app_module

    app = create_app(tiny_path, token=TOKEN, allowed_hosts=LOOPBACK_HOSTS)
    port = _free_port()
    loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.access", "uvicorn.error")]
    if how == "uvicorn":
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="info", lifespan="off"))
        for lg in loggers:  # no filter of ours: the request itself carries no token
            for f in [f for f in lg.filters if isinstance(f, app_module._RedactingFilter)]:
                lg.removeFilter(f)
    else:
        server = make_server(app, host="127.0.0.1", port=port, log_level="info")
        server.config.lifespan = "off"
    capture = _Capture()
    for lg in loggers:
        lg.addHandler(capture)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        requests = list(_REQUESTS)
        if how == "make_server":  # the token typed where no parameter is: scrubbed by the filter
            requests.append((f"/{TOKEN}", {}, 401))
        for target, headers, status in requests:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", target, headers={"Host": f"127.0.0.1:{port}", **headers})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            assert resp.status == status, target
    finally:
        server.should_exit = True
        thread.join(10)
        for lg in loggers:
            lg.removeHandler(capture)
            for f in [f for f in lg.filters if isinstance(f, app_module._RedactingFilter)]:
                lg.removeFilter(f)
    access = [r for r in capture.records if r.name == "uvicorn.access"]
    assert len(access) == len(requests)  # every request was logged ...
    fmt = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False)
    lines = [fmt.format(r) for r in access]
    assert any('"GET /index.html?q=x&limit=1 HTTP/1.1" 303' in line for line in lines), lines
    assert any('"GET /index.html HTTP/1.1" 401' in line for line in lines), lines
    for r in capture.records:  # ... and no record holds the token, however it is read
        for text in (r.getMessage(), repr(r.args), str(r.msg)):
            assert TOKEN not in text and "T0ken" not in text, text
    for line in lines:
        assert TOKEN not in line and "T0ken" not in line, line


def test_strip_query_param():
    assert strip_query_param(f"a=1&token={TOKEN}&b=2", "token") == "a=1&b=2"
    assert strip_query_param(f"%74oken={TOKEN}&TOKEN=x&token", "token") == ""
    assert strip_query_param("tokens=1&my_token=2", "token") == "tokens=1&my_token=2"


# -- 2. the Host header -------------------------------------------------------------------------
ACCEPTED_HOSTS = ["127.0.0.1", "127.0.0.1:8000", "localhost", "LOCALHOST:8000", "[::1]",
                  "[::1]:8000", "[0:0:0:0:0:0:0:1]:8000"]
REJECTED_HOSTS = [
    "evil.example", "evil.example:8000", "localhost.evil.example", "127.0.0.1.nip.io",
    "127.0.0.1:80@evil.example", "127.0.0.1@evil.example", "localhost:8000@evil.example",
    "[::1]:8000@evil.example", "user:pw@127.0.0.1", "::1", "[::1", "::1]", "[::1]:",
    "[::1]:99999", "[::1]x", "[::2]:8000", "[::ffff:127.0.0.1]", "[fe80::1%25eth0]",
    "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:8000:8000", "127.0.0.1/x",
    "127.0.0.1?x", "127.0.0.1#x", "127.0.0.1 evil.example", "127.0.0.1,evil.example", "",
    "localhost.", "127.1", "http://127.0.0.1",
]


@pytest.mark.parametrize("host", ACCEPTED_HOSTS)
def test_loopback_host_forms_are_accepted(client, host):
    assert client.get("/api/people?limit=1", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", REJECTED_HOSTS)
def test_every_other_host_form_is_rejected(client, host):
    r = client.get("/api/people?limit=1", headers={"Host": host})
    assert r.status_code == 400 and r.json() == {"detail": "unexpected Host header"}, host


def test_two_host_headers_are_rejected(tiny_path):
    app = create_app(tiny_path, allowed_hosts=LOOPBACK_HOSTS)
    assert _asgi(app, b"/api/people")[0]["status"] == 200
    sent = _asgi(app, b"/api/people", headers=[(b"host", b"127.0.0.1"), (b"host", b"evil.example")])
    assert sent[0]["status"] == 400
    assert _asgi(app, b"/api/people", headers=[])[0]["status"] == 400  # no Host at all


def test_without_an_allow_list_malformed_hosts_are_still_rejected(tiny_path):
    with TestClient(create_app(tiny_path, public=True)) as c:
        assert c.get("/index.html", headers={"Host": "directory.example.org"}).status_code == 200
        assert c.get("/index.html", headers={"Host": "10.0.0.5:8000"}).status_code == 200
        for bad in ("127.0.0.1:80@evil.example", "a b", "[::1", ""):
            assert c.get("/index.html", headers={"Host": bad}).status_code == 400, bad


def test_parse_host():
    assert parse_host("Example.ORG:443") == ("example.org", 443)
    assert parse_host("[::1]:8000") == ("[::1]", 8000)
    assert parse_host("127.0.0.1:80@evil.example") is None
    assert parse_host("x" * 301) is None and parse_host(None) is None


# -- 3. a public bind ---------------------------------------------------------------------------
def test_bind_policy():
    assert bind_policy("127.0.0.1", token=None) == LOOPBACK_HOSTS
    assert bind_policy("::1", token=None, public=True) == LOOPBACK_HOSTS
    assert bind_policy("0:0::1", token=None) == LOOPBACK_HOSTS
    assert bind_policy("127.0.0.2", token=None) == [*LOOPBACK_HOSTS, "127.0.0.2"]
    for host in ("0.0.0.0", "::", "192.168.1.5", "directory.example.org"):
        with pytest.raises(SiteError, match=f"refusing to serve on {host} without a token"):
            bind_policy(host, token=None)
        assert bind_policy(host, token="t") is None
        assert bind_policy(host, token=None, public=True) is None
    with pytest.raises(SiteError, match="cannot be combined with --include-all"):
        bind_policy("0.0.0.0", token="t", public=True, include_all=True)


@pytest.fixture
def no_serving(monkeypatch):
    """``serve`` up to the point where it would start listening; the app it would serve."""
    from socialens.site import app as app_module

    started = []
    monkeypatch.setattr(app_module, "run", lambda application, **kw: started.append(
        (application, kw)))
    monkeypatch.delenv("SOCIALENS_TOKEN", raising=False)
    return started


def test_serve_refuses_a_public_bind_without_a_token(tiny_path, no_serving, monkeypatch):
    runner = CliRunner()
    for host in ("0.0.0.0", "::"):
        r = runner.invoke(cli_app, ["serve", "-w", str(tiny_path), "--host", host,
                                    "--port", str(_free_port())])
        assert r.exit_code == 1, r.output
        assert f"refusing to serve on {host} without a token" in r.output
        assert "SOCIALENS_TOKEN" in r.output and "--public" in r.output
        assert "serving on" not in r.output
    assert no_serving == []
    r = runner.invoke(cli_app, ["serve", "-w", str(tiny_path), "--host", "0.0.0.0",
                                "--public", "--include-all", "--port", str(_free_port())])
    assert r.exit_code == 1 and "cannot be combined with --include-all" in r.output
    monkeypatch.setenv("SOCIALENS_TOKEN", "t0ken")
    r = runner.invoke(cli_app, ["serve", "-w", str(tiny_path), "--host", "0.0.0.0",
                                "--port", str(_free_port())])
    assert r.exit_code == 0, r.output
    assert "reachable from other machines" in r.output and len(no_serving) == 1
    assert no_serving[0][0].token == "t0ken"


#: Routes of the public app: exactly the files `publish` writes (pages, assets, feeds, OPML,
#: exports, report), plus the redirect from / to /index.html.
PUBLIC_ROUTES = {"/", "/index.html", "/feed.html", "/subscribe.html", "/people/{name}",
                 "/assets/{name}", "/feeds/{name}", "/feeds/people/{name}", "/subscriptions.opml",
                 "/exports/{name}", "/report/report.html"}


def test_public_serves_only_what_publish_writes(tiny_path, no_serving, tmp_path):
    r = CliRunner().invoke(cli_app, ["serve", "-w", str(tiny_path), "--host", "0.0.0.0",
                                     "--public", "--port", str(_free_port())])
    assert r.exit_code == 0, r.output
    assert "public: only the published site, no API" in r.output
    application = no_serving[0][0]
    assert application.token is None and application.allowed_hosts is None
    assert {route.path for route in application.app.routes} == PUBLIC_ROUTES
    from socialens.site import publish

    site = tmp_path / "site"
    with socialens.open(tiny_path, read_only=True) as w:
        publish(w, site, report=False)
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*")
                   if p.is_file() and p.name != ".socialens-site")
    assert len(files) > 10
    with TestClient(application, base_url="http://192.0.2.1:8000") as c:
        for rel in files:  # every published file is served ...
            assert c.get("/" + rel).status_code == 200, rel
        for path in ("/api/people", "/api/people?limit=1000", "/api/accounts", "/api/posts",
                     "/api/analyses/directory", "/openapi.json", "/docs", "/redoc",
                     "/docs/oauth2-redirect", "/report/summary.json", "/.socialens-site"):
            assert c.get(path).status_code == 404, path  # ... and nothing else


# -- 4. out-of-range parameters -----------------------------------------------------------------
HUGE = "9" * 30  # past int64
BAD_INTS = ["-1", HUGE, "-" + HUGE, str(2**63), "abc", "", "1.5", "1e3", "0x10", "<script>"]


def _assert_422(r, name):
    assert r.status_code == 422, (name, r.status_code, r.text)
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail.startswith(f"{name}: "), detail
    assert "<" not in r.text and ">" not in r.text  # the input is never echoed unescaped


@pytest.mark.parametrize("route,limit_max", [("/api/people", 1000), ("/api/accounts", 5000),
                                             ("/api/posts", 1000)])
def test_limit_and_offset_out_of_range_give_422(client, route, limit_max):
    for value in [*BAD_INTS, "0", str(limit_max + 1)]:
        _assert_422(client.get(f"{route}?limit={value}"), "limit")
    for value in [*BAD_INTS, "1000000001"]:
        _assert_422(client.get(f"{route}?offset={value}"), "offset")
    assert client.get(f"{route}?limit={limit_max}&offset=1000000000").status_code == 200


@pytest.mark.parametrize("route,names", [
    ("/api/people", ["q", "department", "role", "platform"]),
    ("/api/accounts", ["platform"]),
    ("/api/posts", ["person"]),
])
def test_text_parameters_too_long_give_422_and_empty_filters_filter_nothing(client, route, names):
    everything = client.get(route).json()
    for name in names:
        _assert_422(client.get(route, params={name: "x" * 201}), name)
        if name != "person":
            assert client.get(route, params={name: ""}).json() == everything, name
    if "person" in names:
        _assert_422(client.get(route, params={"person": ""}), "person")
        assert client.get(route, params={"person": "-1"}).status_code == 404
        assert client.get(route, params={"person": HUGE}).status_code == 404


def test_since_out_of_range_gives_422(client):
    for value in ("9999-12-31T23:59:59-01:00",  # year 10000 in UTC: OverflowError before
                  "0001-01-01T00:00:00+01:00", "1899-12-31T23:59:59Z", "3000-01-01", "9999-12-31",
                  "99999-01-01", "-1", HUGE, "yesterday", "", "2017-13-01", "2017-02-30",
                  "x" * 65):
        _assert_422(client.get("/api/posts", params={"since": value}), "since")
    assert client.get("/api/posts", params={"since": "1900-01-01"}).status_code == 200
    assert client.get("/api/posts", params={"since": "2999-12-31T23:59:59Z"}).json()["items"] == []
    assert len(client.get("/api/posts", params={"since": "2000-01-01"}).json()["items"]) > 0


def test_path_parameters_never_fail(client):
    for path in ("/api/analyses/" + "x" * 5000, "/api/analyses/-1", "/api/analyses/" + HUGE,
                 "/people/" + "x" * 5000 + ".html", "/people/-1.html", "/assets/" + HUGE,
                 "/feeds/" + "x" * 5000, "/exports/-1", "/api/analyses/%3Cscript%3E"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "<" not in r.text


def test_no_parameter_gives_a_500(client):
    """Every API route x every parameter x hostile values: 200, 404 or 422, never 500."""
    params = {"/api/people": ["q", "department", "role", "platform", "limit", "offset"],
              "/api/accounts": ["platform", "limit", "offset"],
              "/api/posts": ["person", "since", "limit", "offset"]}
    values = [*BAD_INTS, "\x00", "%00", "' OR 1=1 --", "\u202e", "9" * 500, "null", "NaN",
              "inf", "2017-01-01T00:00:00+99:00", "1e309"]
    for route, names in params.items():
        for name in names:
            for value in values:
                r = client.get(route, params={name: value})
                assert r.status_code in (200, 404, 422), (route, name, value, r.status_code)


# -- 5. the attacker's review of issue 15 (item 4) ----------------------------------------------
# docs/site.md "Security review" lists each point and the test that checks it.

LEAKS = ("Traceback", 'File "', "site-packages", str(REPO))


def _no_leak(r, *extra: str) -> None:
    for marker in (*LEAKS, *extra):
        assert marker not in r.text, (marker, r.status_code, r.text[:300])


def test_serve_binds_loopback_by_default(tiny_path, no_serving):
    r = CliRunner().invoke(cli_app, ["serve", "-w", str(tiny_path), "--port", str(_free_port())])
    assert r.exit_code == 0, r.output
    application, kw = no_serving[0]
    assert kw["host"] == "127.0.0.1" and "reachable from other machines" not in r.output
    assert application.token is None
    assert application.allowed_hosts == {"127.0.0.1", "localhost", "[::1]"}  # DNS rebinding


#: (headers, query, expected status) with the token app; the cookie value is derived.
TOKEN_FORMS = [
    ({}, "", 401),                                                   # missing
    ({"Authorization": f"Bearer {TOKEN}"}, "", 200),                 # header
    ({"Authorization": f"bearer   {TOKEN}  "}, "", 200),             # scheme in any case
    ({"Authorization": "Bearer wrong"}, "", 401),                    # wrong
    ({"Authorization": f"Bearer {TOKEN[:-1]}"}, "", 401),            # a prefix
    ({"Authorization": f"Bearer {TOKEN}x"}, "", 401),                # longer
    ({"Authorization": "Bearer "}, "", 401),                         # empty
    ({"Authorization": TOKEN}, "", 401),                             # no scheme
    ({"Authorization": f"Basic {TOKEN}"}, "", 401),                  # another scheme
    ({"Authorization": f"Bearer {TOKEN.upper()}"}, "", 401),         # case matters
    ({"X-Token": TOKEN}, "", 401),                                   # another header
    ({"Cookie": f"socialens_token={TOKEN}"}, "", 401),               # the token as cookie
    ({"Cookie": "socialens_token=" + "0" * 64}, "", 401),            # a forged cookie
    ({"Cookie": 'socialens_token="\\x00; =;;'}, "", 401),            # a malformed cookie
    ({}, f"token={TOKEN}", 303),                                     # query: exchanged
    ({}, "token=wrong", 401),
    ({}, f"access_token={TOKEN}", 401),                              # another parameter
    ({}, f"token={TOKEN}&token=wrong", 303),                         # the first one counts
    ({}, f"token=wrong&token={TOKEN}", 401),
    ({"Authorization": f"Bearer {TOKEN}"}, "token=wrong", 303),      # header ok, query dropped
]


@pytest.mark.parametrize("headers,query,status", TOKEN_FORMS)
def test_token_forms(token_app, headers, query, status):
    with TestClient(token_app, base_url="http://127.0.0.1:8000", follow_redirects=False) as c:
        for path in ("/api/people", "/index.html", "/openapi.json", "/no-such-route"):
            r = c.get(path + ("?" + query if query else ""), headers=headers)
            want = 404 if status == 200 and path == "/no-such-route" else status
            assert r.status_code == want, (path, headers, query, r.status_code)
            assert TOKEN not in r.text and "Tony" not in r.text or r.status_code == 200
            if status == 401:  # nothing about the routes: an unknown path looks the same
                assert r.json()["detail"].startswith("a token is required")
            if r.status_code == 303:
                assert "token" not in r.headers["location"]
                assert ("set-cookie" in r.headers) == query.startswith(f"token={TOKEN}")


def test_every_token_check_is_constant_time(token_app, monkeypatch):
    """The header, the cookie and the query token are each compared with
    ``hmac.compare_digest`` (on bytes), never with ``==``."""
    import hmac
    import inspect

    from socialens.site import app as app_module

    calls = []
    real = hmac.compare_digest

    def recording(a, b):
        calls.append((type(a), type(b)))
        return real(a, b)

    monkeypatch.setattr(app_module.hmac, "compare_digest", recording)
    with TestClient(token_app, base_url="http://127.0.0.1:8000", follow_redirects=False) as c:
        for kw in ({"headers": {"Authorization": "Bearer nope"}},
                   {"headers": {"Cookie": "socialens_token=nope"}},
                   {"params": {"token": "nope"}}):
            calls.clear()
            assert c.get("/api/people", **kw).status_code == 401
            assert calls and all(t == (bytes, bytes) for t in calls), (kw, calls)
    source = inspect.getsource(app_module._Guard._authorized)
    assert "==" not in source and "!=" not in source and source.count("compare_digest") == 3


TRAVERSALS = ["../../pyproject.toml", "..%2f..%2fpyproject.toml", "%2e%2e/%2e%2e/pyproject.toml",
              "%2e%2e%2f%2e%2e%2fpyproject.toml", "%252e%252e%252fpyproject.toml",
              "..%5c..%5cpyproject.toml", "..\\..\\pyproject.toml", "....//....//pyproject.toml",
              "/etc/passwd", "%2fetc%2fpasswd", "//etc/passwd", "..%00/etc/passwd",
              "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "site.css/../../app.py",
              "..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd", "%2e%2e", ".", "..", "%00",
              "file:///etc/passwd", "C:%5cWindows%5cwin.ini"]
PATH_ROUTES = ["/people/", "/assets/", "/feeds/", "/feeds/people/", "/exports/",
               "/api/analyses/", "/report/", "/"]


@pytest.mark.parametrize("public", [False, True])
def test_path_traversal_on_every_path_route(tiny_path, public):
    """Straight through ASGI (no client normalizing ``..``): every encoding of a way out on
    every route with a path part gives 404, and no file's content. The app never opens a file a
    request names: pages are rendered from the workspace, assets and feeds looked up by name."""
    app = create_app(tiny_path, allowed_hosts=LOOPBACK_HOSTS, public=public)
    for route in PATH_ROUTES:
        for t in TRAVERSALS:
            raw = (route + t).encode("latin-1")
            sent = _asgi(app, raw)
            status = sent[0]["status"]
            body = b"".join(m.get("body", b"") for m in sent[1:])
            assert status in (404, 307) if raw == b"/" else status == 404, (raw, status)
            for needle in (b"root:", b"[project]", b"def create_app", b"[fonts]"):
                assert needle not in body, (raw, needle)


def test_a_symlink_in_the_site_folder_never_lets_publish_write_outside(tiny_path, tmp_path):
    """A previous site whose folders and files were replaced by symlinks to the outside:
    publishing again replaces the links, never what they point to."""
    from socialens.site import publish

    site, outside = tmp_path / "site", tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("untouched")
    (outside / "index.html").write_text("outside index")
    with socialens.open(tiny_path, read_only=True) as w:
        publish(w, site, report=False)
        import shutil

        shutil.rmtree(site / "people")
        (site / "people").symlink_to(outside, target_is_directory=True)
        (site / "index.html").unlink()
        (site / "index.html").symlink_to(outside / "index.html")
        (site / "escape").symlink_to("/")
        publish(w, site, report=False)
    assert sorted(p.name for p in outside.iterdir()) == ["index.html", "keep.txt"]
    assert (outside / "index.html").read_text() == "outside index"
    assert (outside / "keep.txt").read_text() == "untouched"
    assert not (site / "people").is_symlink() and (site / "people").is_dir()
    assert not (site / "index.html").is_symlink() and "<html" in (site / "index.html").read_text()
    assert not (site / "escape").exists()  # the old site is gone with its links


@pytest.fixture(scope="module")
def page_urls(client):
    slug = client.get("/api/people?limit=1").json()["items"][0]["slug"]
    return ["/", "/index.html", "/feed.html", "/subscribe.html", f"/people/{slug}.html",
            "/assets/site.js", "/assets/site.css", "/feeds/all.atom", f"/feeds/people/{slug}.atom",
            "/subscriptions.opml", "/exports/mastodon-lists.csv", "/report/report.html",
            "/api/people", "/api/analyses/directory", "/openapi.json"]


@pytest.mark.parametrize("variant", ["open", "token", "public"])
def test_security_headers_on_every_page_kind_and_every_error(tiny_path, client, page_urls,
                                                             variant):
    """A CSP whose scripts are 'self' only (the report: none at all), frame-ancestors 'none',
    nosniff and no-referrer on every answer: pages, files, API, redirects and every error
    (400 Host, 401, 404, 405, 422). (The analyses, behind the report, run once: on the module's
    app.)"""
    app = client.app if variant == "open" else create_app(
        tiny_path, token=TOKEN if variant == "token" else None, allowed_hosts=LOOPBACK_HOSTS,
        public=variant == "public")
    auth = {"Authorization": f"Bearer {TOKEN}"} if variant == "token" else {}
    api = variant != "public"
    urls = page_urls if variant == "open" else [u for u in page_urls if "report" not in u
                                                and "analyses" not in u]
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False,
                    headers=auth) as c:
        answers = []
        for url in urls:
            r = c.get(url)
            assert r.status_code == (307 if url == "/" else 200 if api or "api" not in url
                                     and "openapi" not in url else 404), url
            answers.append(r)
        answers += [c.get("/no-such-page.html"), c.post("/index.html"), c.delete("/api/people"),
                    c.get("/api/people?limit=0"), c.get("/index.html", headers={"Host": "e.x"})]
        if variant == "token":
            answers += [c.get("/index.html", headers={"Authorization": "Bearer no"}),
                        c.get(f"/index.html?token={TOKEN}")]
        for r in answers:
            assert header_problems(r.headers) == [], (r.request.url, r.status_code)
            scripts = r.headers["content-security-policy"]
            assert "unsafe-inline" not in scripts.split("script-src")[-1].split(";")[0]
            assert "unsafe-eval" not in scripts
        if variant == "open":
            report = next(r for r in answers if r.request.url.path == "/report/report.html")
            assert "script-src" not in report.headers["content-security-policy"]
            assert "default-src 'none'" in report.headers["content-security-policy"]


def test_pages_have_no_inline_script(client, page_urls):
    """What the CSP enforces, in the markup too: every <script> is a same-site file or a JSON
    data block, no event handler attribute, no javascript: link."""
    from bs4 import BeautifulSoup

    for url in page_urls:
        r = client.get(url)
        if not r.headers["content-type"].startswith("text/html"):
            continue
        soup = BeautifulSoup(r.text, "html.parser")
        for s in soup.find_all("script"):
            if s.get("src"):
                assert not s["src"].startswith(("http:", "https:", "//", "data:")), (url, s)
                assert not s.string
            else:
                assert s.get("type") == "application/json", (url, str(s)[:200])
        for tag in soup.find_all(True):
            assert not [a for a in tag.attrs if a.lower().startswith("on")], (url, tag.name)
            for a in ("href", "src", "action"):
                assert not str(tag.get(a, "")).strip().lower().startswith("javascript:"), url


SQLI = ["' OR 1=1 --", "' OR '1'='1", "'; DROP TABLE posts; --", '" OR ""="',
        "1; SELECT * FROM people", "x' UNION SELECT person_id, name FROM people --",
        "%' OR '%'='", "$ids", "ceo' --", "') OR ('1'='1", "1) OR (1=1", "\\'; --",
        "ceo'/**/OR/**/1=1--", "'||(SELECT name FROM people LIMIT 1)||'"]


def test_sql_injection_in_every_parameter_has_no_effect(client):
    """Every parameter x injection strings: 200 that matches nothing (an injected OR would match
    everyone), 404 or 422 - and the workspace's tables are unchanged."""
    cur = client.app.app.state.socialens.cursor()
    tables = ("people", "accounts", "posts", "roles")

    def counts():
        return [cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables]

    before = counts()
    assert client.get("/api/people").json()["total"] > 0
    for s in SQLI:
        for name in ("q", "department", "role", "platform"):
            r = client.get("/api/people", params={name: s})
            assert r.status_code == 200 and r.json()["total"] == 0, (name, s, r.text[:200])
        r = client.get("/api/accounts", params={"platform": s})
        assert r.status_code == 200 and r.json()["total"] == 0, s
        assert client.get("/api/posts", params={"person": s}).status_code == 404, s
        assert client.get("/api/posts", params={"since": s}).status_code == 422, s
        for name in ("limit", "offset"):
            for route in ("/api/people", "/api/accounts", "/api/posts"):
                assert client.get(route, params={name: s}).status_code == 422, (route, name, s)
        for route in ("/api/analyses/", "/people/", "/feeds/", "/feeds/people/", "/exports/"):
            r = client.get(route + quote(s, safe=""))
            assert r.status_code == 404, (route, s)
        assert client.get(f"/people/{quote(s, safe='')}.html").status_code == 404
    assert counts() == before


def test_error_pages_carry_no_traceback_or_path(tiny_path, monkeypatch):
    """404, 405, 409/422, 400, 401 and a 500 from an unexpected exception whose message holds a
    path: JSON {"detail": message}, never a traceback, a source or workspace path."""
    from socialens.site import app as app_module

    ws_dir = str(tiny_path.parent)
    app = create_app(tiny_path, allowed_hosts=LOOPBACK_HOSTS)
    with TestClient(app, base_url="http://127.0.0.1:8000", raise_server_exceptions=False) as c:
        for r, status in [(c.get("/nope"), 404), (c.get("/people/nope.html"), 404),
                          (c.get("/api/analyses/nope"), 404), (c.post("/api/people"), 405),
                          (c.put("/index.html"), 405), (c.get("/api/people?limit=x"), 422),
                          (c.get("/api/posts?since=" + "9" * 60), 422),
                          (c.get("/index.html", headers={"Host": "evil.example"}), 400)]:
            assert r.status_code == status, r.request.url
            assert set(r.json()) == {"detail"} and isinstance(r.json()["detail"], str)
            _no_leak(r, ws_dir)

        def broken(*a, **k):
            raise RuntimeError(f"cannot read {tiny_path} (socialens/site/model.py line 1)")

        monkeypatch.setattr(app_module, "query_posts", broken)
        r = c.get("/api/posts")
        assert r.status_code == 500
        assert r.json() == {"detail": "internal error (the server's log says why)"}
        assert header_problems(r.headers) == []
        _no_leak(r, ws_dir, "RuntimeError", "model.py")
    with TestClient(create_app(tiny_path, token=TOKEN), base_url="http://127.0.0.1:8000") as c:
        r = c.get("/api/people")
        assert r.status_code == 401
        _no_leak(r, ws_dir)


MALFORMED_QUERIES = [
    b"q=%zz", b"q=%", b"q=%ff%fe", b"q=\xff\xfe", b"q=%00", b"limit=%00", b"limit=1&limit=x",
    b"limit=1&limit=2&limit=3", b"q=" + b"x" * 100_000, b"&".join(b"p%d=1" % i for i in range(5000)),
    b"=&=&&&", b"q", b"q==", b"%3D=%26", b"limit[]=1", b"limit=1e400", b"offset=-0",
    b"since=2017-01-01T00:00:00%2B99:99", b"since=\xff", b"person=" + b"%" * 300,
]


@pytest.mark.parametrize("route", ["/api/people", "/api/accounts", "/api/posts", "/index.html"])
def test_oversized_and_malformed_query_strings(tiny_path, route):
    """Raw query strings (bad percent-encoding, invalid UTF-8, NULs, 100 KB values, 5,000
    parameters, repeated parameters): 200 or 422, never a 5xx, and the JSON stays JSON."""
    app = create_app(tiny_path, allowed_hosts=LOOPBACK_HOSTS)
    for q in MALFORMED_QUERIES:
        sent = _asgi(app, route.encode(), q)
        status = sent[0]["status"]
        assert status in (200, 404, 422), (route, q[:60], status)
        body = b"".join(m.get("body", b"") for m in sent[1:])
        if route.startswith("/api/"):
            import json

            detail = json.loads(body)
            if status == 422:
                assert isinstance(detail["detail"], str) and len(body) < 20_000
    long_path = _asgi(app, b"/people/" + b"x" * 100_000 + b".html")
    assert long_path[0]["status"] == 404
