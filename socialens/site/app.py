"""``socialens serve``: the directory site as a local web app, with a read-only JSON API.

The pages are the static site's pages at the same paths (``/index.html``, ``/people/<slug>.html``,
``/feeds/all.atom`` ...), rendered from the workspace by the same templates; the API is

* ``GET /api/people`` — the listed people (``q``, ``department``, ``role``, ``platform``,
  ``limit``, ``offset``),
* ``GET /api/accounts`` — their accounts,
* ``GET /api/posts?person=&since=`` — their posts, newest first (from the copy's posts, read
  through the privacy views once per copy: :mod:`socialens.site.served_posts`),
* ``GET /api/analyses/{name}`` — an analysis' summary and parameters (redacted like the report),
* ``GET /openapi.json`` — the OpenAPI spec (no Swagger UI: it would load from a CDN).

Every parameter is validated in the route's signature (bounds, lengths, a time range); anything
outside gives 422 with a message naming the parameter, never a 500.

The app never holds the workspace itself: it reads the newest *serve copy* that writers publish
beside it (:mod:`socialens.serve_copy`) and swaps in newer ones without a restart, so ``ingest``,
``collect`` and ``enrich`` run while it serves; each request is answered from one copy. Only people
who opted in are served (unless ``include_all``). With a token (``SOCIALENS_TOKEN``) every route, the spec included, needs
``Authorization: Bearer TOKEN`` or the ``socialens_token`` cookie; ``?token=TOKEN`` (once, in a
browser) is exchanged for that cookie (HttpOnly, SameSite=Strict) and answered with a redirect to
the same URL without the token. ``token`` query parameters never reach a log: they are removed from
the request before the app (or the server's access log) sees it, and :func:`make_server` installs a
log filter that removes them, and the token itself, from uvicorn's log records.

No handler blocks the event loop: pages and API answers made from a copy are kept for as long as
the copy is served (a copy never changes), the loop only sends kept ones, and anything else (a
first render, a DuckDB query on a cursor of the request's own, the analyses) runs in a worker
thread. A newer copy's main pages are rendered in the thread that loads it, before the swap.

With ``public=True`` the app serves only what ``socialens publish`` writes (the pages, assets,
feeds, OPML, exports and the report): no ``/api/...`` and no ``/openapi.json``.
"""

# no `from __future__ import annotations`: FastAPI reads the route annotations at run time

import hashlib
import hmac
import ipaddress
import itertools
import json
import logging
import threading
from collections import OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, unquote_plus

from socialens.errors import SocialensError
from socialens.privacy import map_leaders, restrict
from socialens.site.build import (
    ASSETS,
    Renderer,
    asset_text,
    leader_card,
    run_analyses,
)
from socialens.site.feeds import subscription_files
from socialens.site.model import SiteError, load_directory
from socialens.site.security import CSP, parse_host, strip_query_param
from socialens.site.served_posts import ServedPosts, query_posts

__all__ = ["create_app", "run", "make_server", "bind_policy", "is_loopback", "REPORT_CSP",
           "LOOPBACK_HOSTS", "SINCE_RANGE", "MAX_OFFSET", "API_CACHE_BYTES"]

#: The report is one self-contained file with inline styles and SVG charts, and no script.
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'none'")
_COOKIE = "socialens_token"
_TOKEN_PARAM = "token"
#: ``Host`` names accepted when ``serve`` is bound to loopback (against DNS rebinding).
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
#: Times accepted by ``since`` (UTC): from 1900-01-01 up to, not including, 3000-01-01.
SINCE_RANGE = (datetime(1900, 1, 1, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC))
#: Largest ``offset`` accepted by the API (far below DuckDB's int64 limit).
MAX_OFFSET = 1_000_000_000
#: Longest text parameter (search words, department, role, platform, person id).
MAX_TEXT = 200
#: Bytes of encoded API answers ``serve`` keeps per copy (least recently used dropped first).
API_CACHE_BYTES = 64 * 2**20
_PUBLIC_PERSON = ("rank", "slug", "person_id", "name", "title", "department", "leader",
                  "followers", "following", "posts", "adopted_at", "internal_followers",
                  "observed_at")


def _web_deps():
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise SiteError(
            f"`socialens serve` needs the web extra ({exc.name} is missing): "
            "pip install 'socialens[web]'") from None


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_policy(host: str, *, token: str | None, public: bool = False,
                include_all: bool = False) -> list[str] | None:
    """The ``Host`` names to accept when serving on ``host``, or a :class:`SiteError` when the
    combination would expose the workspace.

    On loopback: the loopback names (:data:`LOOPBACK_HOSTS`, and ``host`` itself, e.g.
    ``127.0.0.2``). On any other address: no allow list, but only with a token, or with
    ``public`` (the directory is meant to be public; the app then serves only what ``publish``
    writes). ``public`` with ``include_all`` is always refused.
    """
    if public and include_all:
        raise SiteError("--public serves the published directory, which lists only people who "
                        "opted in; it cannot be combined with --include-all")
    if is_loopback(host):
        names = list(LOOPBACK_HOSTS)
        bound = parse_host(f"[{host}]" if ":" in host and not host.startswith("[") else host)
        if bound is not None and bound[0] not in names:  # e.g. 127.0.0.2
            names.append(bound[0])
        return names
    if not token and not public:
        raise SiteError(
            f"refusing to serve on {host} without a token: anyone on the network could read the "
            "directory, the report and the API. Set SOCIALENS_TOKEN to require a token, or pass "
            "--public if this directory is meant to be public (then only what `socialens "
            "publish` writes is served: no /api, no /openapi.json), or bind to 127.0.0.1")
    return None


def _cookie_value(token: str) -> str:
    """What the cookie carries: derived from the token, so that the cookie store never holds the
    token itself."""
    return hmac.new(token.encode(), b"socialens-serve-cookie", hashlib.sha256).hexdigest()


class _RedactingFilter(logging.Filter):
    """Removes ``token`` query parameters, and the token itself, from log records."""

    def __init__(self, token: str | None):
        super().__init__()
        self.secrets = [s for s in {token, quote(token or "", safe="")} if s]

    def _clean(self, v):
        if not isinstance(v, str):
            return v
        if "?" in v:
            path, _, query = v.partition("?")
            query = strip_query_param(query, _TOKEN_PARAM)
            v = path + ("?" + query if query else "")
        for secret in self.secrets:
            v = v.replace(secret, "[token]")
        return v

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: self._clean(a) for k, a in record.args.items()}
        record.msg = self._clean(record.msg)
        return True


def _install_log_filter(token: str | None) -> None:
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        for f in [f for f in logger.filters if isinstance(f, _RedactingFilter)]:
            logger.removeFilter(f)
        logger.addFilter(_RedactingFilter(token))


def _safe_json(data: Any) -> bytes:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str,
                      allow_nan=False)
    # harmless in JSON, and keeps a response from ever being read as markup
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")).encode("utf-8")


#: the state a request is answered from, bound once per request by :class:`_Bind`
_CURRENT: ContextVar = ContextVar("socialens_serve_state", default=None)


class _Bind:
    """ASGI middleware: binds the newest served state to the request, so that every response is
    made from one copy of the workspace from start to end (a newer copy swapped in meanwhile is
    used by the next request)."""

    def __init__(self, app, live):
        self.app = app
        self.live = live

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        token = _CURRENT.set((self.live, self.live.current()))
        try:
            return await self.app(scope, receive, send)
        finally:
            _CURRENT.reset(token)


class _Served:
    """``state`` in the routes: the state bound to the request being answered (outside a request,
    the newest one)."""

    def __init__(self, live):
        object.__setattr__(self, "live", live)

    def bound(self):
        """The state itself (bound to the request; to pass on to a worker thread)."""
        bound = _CURRENT.get()
        return bound[1] if bound is not None and bound[0] is self.live else self.live.current()

    def __getattr__(self, name):
        return getattr(self.bound(), name)


class _Guard:
    """ASGI middleware: the ``Host`` check, the token check and the security headers of every
    response."""

    def __init__(self, app, token: str | None, allowed_hosts: list[str] | None):
        self.app = app
        self.token = token
        self.allowed_hosts = None
        if allowed_hosts:
            parsed = [parse_host(h) for h in allowed_hosts]
            if any(p is None for p in parsed):
                raise SiteError(f"allowed_hosts: not a host name or address: {allowed_hosts}")
            self.allowed_hosts = {p[0] for p in parsed}

    def _authorized(self, headers: dict[str, str], query_token: str | None) -> tuple[bool, bool]:
        """(authorized, the query token is the valid one)."""
        token = self.token.encode()
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and hmac.compare_digest(auth[7:].strip().encode(),
                                                                      token):
            ok = True
        else:
            ok = False
            if "cookie" in headers:
                c = SimpleCookie()
                try:
                    c.load(headers["cookie"])
                except Exception:  # noqa: BLE001 - a malformed cookie is just no token
                    c = SimpleCookie()
                if _COOKIE in c:
                    ok = hmac.compare_digest(c[_COOKIE].value.encode(),
                                             _cookie_value(self.token).encode())
        by_query = query_token is not None and hmac.compare_digest(query_token.encode(), token)
        return ok or by_query, by_query

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        hosts = [v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"host"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        # the token never travels further than this: not to the app, not to the access log
        # (uvicorn logs the scope's query string, which is changed in place)
        query = scope.get("query_string", b"").decode("latin-1")
        query_token = None
        had_token_param = any(unquote_plus(part.split("=", 1)[0]).lower() == _TOKEN_PARAM
                              for part in query.split("&") if part)
        if had_token_param:
            values = parse_qs(query).get(_TOKEN_PARAM)
            query_token = values[0] if values else None
            query = strip_query_param(query, _TOKEN_PARAM)
            scope["query_string"] = query.encode("latin-1")
        parsed = parse_host(hosts[0]) if len(hosts) == 1 else None
        if parsed is None or (self.allowed_hosts is not None
                              and parsed[0] not in self.allowed_hosts):
            return await self._deny(send, 400, "unexpected Host header")
        set_cookie = False
        if self.token:
            ok, set_cookie = self._authorized(headers, query_token)
            if not ok:
                return await self._deny(send, 401, "a token is required: send 'Authorization: "
                                        "Bearer TOKEN' or open the page once with ?token=TOKEN")
        if had_token_param and self.token:
            return await self._redirect(send, scope, query, set_cookie)
        path = scope.get("path", "")
        csp = REPORT_CSP if path == "/report/report.html" else CSP

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": list(message.get("headers", []))
                           + self._security_headers(csp)}
            await send(message)

        return await self.app(scope, receive, send_wrapper)

    def _security_headers(self, csp: str, cache: bytes | None = None) -> list[tuple[bytes, bytes]]:
        return [(b"content-security-policy", csp.encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"referrer-policy", b"no-referrer"),
                (b"x-frame-options", b"DENY"),
                (b"cross-origin-opener-policy", b"same-origin"),
                (b"cache-control", cache or (b"no-store" if self.token else b"no-cache"))]

    async def _redirect(self, send, scope, query: str, set_cookie: bool):
        """303 to the same URL without the token (the address bar, history and any later log
        never show it), setting the cookie when the token came in the query."""
        raw = scope.get("raw_path") or quote(scope.get("path", "/")).encode()
        path = "/" + raw.decode("latin-1").lstrip("/")  # never "//host": no open redirect
        location = path + ("?" + query if query else "")
        headers = [(b"location", location.encode("latin-1")), (b"content-length", b"0"),
                   *self._security_headers(CSP)]
        if set_cookie:
            secure = "; Secure" if scope.get("scheme") == "https" else ""
            headers.append((b"set-cookie", f"{_COOKIE}={_cookie_value(self.token)}; HttpOnly; "
                            f"SameSite=Strict; Path=/{secure}".encode()))
        await send({"type": "http.response.start", "status": 303, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _deny(self, send, status: int, message: str):
        body = _safe_json({"detail": message})
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b"Bearer"), *self._security_headers(CSP, b"no-store")]})
        await send({"type": "http.response.body", "body": body})


class _State:
    """One served state: an open read-only copy of the workspace (:mod:`socialens.serve_copy`),
    the directory read from it, the posts the API answers from, and caches of rendered pages.

    A copy never changes, so everything derived from it is kept for the state's life and goes
    with it when a newer copy is swapped in. Everything here may be called from several threads
    at once (FastAPI's worker threads): DuckDB is read through one cursor per thread
    (:meth:`cursor`; a DuckDB connection is not thread-safe, its cursors are), the workspace
    handle itself (the analyses, the report) by one thread at a time (``_ws_lock``), and a page
    is rendered once however many requests ask for it at the same time (one lock per page).
    """

    def __init__(self, ws, include_all: bool, title: str | None, params: dict):
        from socialens.privacy import study_key

        self.ws = ws
        # the copy's pseudonyms come from the workspace's study key, not one beside the copy
        self.key = None
        if not include_all and ws.con.execute(
                "SELECT count(*) FROM people WHERE NOT coalesce(opt_in, false)").fetchone()[0]:
            self.key = study_key(ws.path)
        # only public posts, non-opted-in people under pseudonyms (unless include_all), whatever
        # is read below or by any cursor (socialens.privacy)
        restrict(self.ws, not include_all, key=self.key)
        self.include_all = include_all
        params = {**params, "leaders": map_leaders(self.ws, params.get("leaders"))}
        self.params = params
        self.d = load_directory(self.ws, include_all=include_all, title=title, **params)
        self.ids = [p["person_id"] for p in self.d.people]
        #: the listed people's posts, read through the privacy views once (socialens.site.served_posts)
        self.posts = ServedPosts(self.ws.con, self.ids)
        self._cursors: list = []  # given back by borrowed_cursor
        self._lock = threading.Lock()  # starts the analyses' thread once
        self._ws_lock = threading.RLock()  # the workspace handle: one thread at a time
        self._results: dict | None = None
        self._background: threading.Thread | None = None
        self.results_error: str | None = None
        self.unavailable: dict[str, str] = {}
        self._pages: dict[str, bytes] = {}
        self._page_locks: dict[str, threading.Lock] = {}
        self._page_locks_lock = threading.Lock()
        #: how many times each page was rendered (tests: served from the cache after the first)
        self.renders: dict[str, int] = {}
        self._files: dict[str, bytes] | None = None
        self._answers: OrderedDict[tuple, bytes] = OrderedDict()
        self._answers_bytes = 0
        self._answers_lock = threading.Lock()
        self.renderer = Renderer(self.d, has_report=True)
        # what the API filters and returns, computed once (the API handlers do no more than
        # filter these lists)
        self.platforms = {p["person_id"]: sorted({a["platform"]
                                                  for a in self.d.accounts.get(p["person_id"], [])})
                          for p in self.d.people}
        self.person_items = [{**{k: p[k] for k in _PUBLIC_PERSON},
                              "platforms": self.platforms[p["person_id"]]} for p in self.d.people]
        self.search_text = [" ".join(str(x) for x in (
            p["name"], p["title"], p["department"],
            *(a["handle"] for a in self.d.accounts.get(p["person_id"], []))) if x).lower()
            for p in self.d.people]
        self.account_items = [{**a, "person_id": p["person_id"]} for p in self.d.people
                              for a in self.d.accounts.get(p["person_id"], [])]

    def cursor(self):
        """A new cursor of the copy, with the privacy views and UTC times (requests borrow one
        through :meth:`borrowed_cursor`)."""
        cur = self.ws.con.cursor()
        restrict(cur, not self.include_all, key=self.key)  # views belong to one connection
        cur.execute("SET TimeZone = 'UTC'")
        return cur

    @contextmanager
    def borrowed_cursor(self):
        """A cursor of the copy for one request, used by one thread at a time and then given
        back: as many cursors as requests query at once (each costs the privacy views, ~45 ms
        on the demo), not one per worker thread (FastAPI's pool has up to 40)."""
        try:
            cur = self._cursors.pop()  # list.pop/append are atomic
        except IndexError:
            cur = self.cursor()
        try:
            yield cur
        finally:
            self._cursors.append(cur)

    def warm(self) -> "_State":
        """Render the directory, feed and subscribe pages and the subscription files now (a copy
        being swapped in is warmed in the loading thread, so that no request waits for them)."""
        self.page("index", self.renderer.directory)
        self.page("feed", self.renderer.feed)
        self.page("subscribe", self.renderer.subscribe)
        self.files()
        return self

    def results(self) -> dict:
        with self._ws_lock:
            if self._results is None:
                self.unavailable = {}
                res = run_analyses(self.ws, self.params, [], unavailable=self.unavailable)
                self._results = res  # computed on the restricted tables
            return self._results

    def results_if_ready(self) -> dict | None:
        """The analyses' results when they have been computed; otherwise None, after starting
        their computation in a background thread (once), so that a page never waits for them."""
        if self._results is not None or self.results_error is not None:
            return self._results
        with self._lock:
            if self._background is None:
                self._background = threading.Thread(target=self._compute_results, daemon=True,
                                                    name="socialens-analyses")
                self._background.start()
        return None

    def _compute_results(self) -> None:
        try:
            self.results()
        except Exception as exc:  # noqa: BLE001 - said on the pages that wait for it, and logged
            self.results_error = f"{type(exc).__name__}: {exc}"
            logging.getLogger("socialens.serve").warning("the analyses failed: %s",
                                                         self.results_error)

    def person_page(self, p: dict) -> bytes:
        """A person's page; a leader's carries the report card once the analyses are computed
        (until then a note says so, and the page is not kept)."""
        key = "p:" + p["slug"]
        if not p["leader"] or key in self._pages:
            return self.page(key, lambda: self.renderer.person(p))
        results = self.results_if_ready()
        if results is None:
            note = ("The report card is being computed; reload this page in a minute."
                    if self.results_error is None else
                    "The report card could not be computed (the server's log says why).")
            return self.renderer.person(p, card_note=note).encode("utf-8")
        card = leader_card(results, p["person_id"])
        return self.page(key, lambda: self.renderer.person(p, card=card))

    def cached_answer(self, key: tuple) -> bytes | None:
        """The API's encoded answer under ``key`` if it is kept (cheap: safe on the event loop)."""
        with self._answers_lock:
            body = self._answers.get(key)
            if body is not None:
                self._answers.move_to_end(key)
            return body

    def answer(self, key: tuple, make) -> bytes:
        """The API's answer under ``key``: ``make()`` encoded, kept for the next requests (the
        least recently used dropped once they hold more than :data:`API_CACHE_BYTES`). Errors
        (``HTTPException`` included) are not kept."""
        body = self.cached_answer(key)
        if body is not None:
            return body
        body = _safe_json(make())
        with self._answers_lock:
            if key not in self._answers:
                self._answers[key] = body
                self._answers_bytes += len(body)
                while self._answers_bytes > API_CACHE_BYTES and len(self._answers) > 1:
                    _, dropped = self._answers.popitem(last=False)
                    self._answers_bytes -= len(dropped)
        return body

    def cached(self, key: str) -> bytes | None:
        """The page under ``key`` if it has been rendered (cheap: safe on the event loop)."""
        return self._pages.get(key)

    def page(self, key: str, make) -> bytes:
        """The page under ``key``, rendered by ``make()`` the first time (in the calling thread;
        concurrent first requests wait for one render)."""
        page = self._pages.get(key)
        if page is not None:
            return page
        with self._page_locks_lock:
            lock = self._page_locks.setdefault(key, threading.Lock())
        with lock:
            page = self._pages.get(key)
            if page is None:
                page = make().encode("utf-8")
                self.renders[key] = self.renders.get(key, 0) + 1
                self._pages[key] = page
        return page

    def cached_files(self) -> dict[str, bytes] | None:
        """The subscription files if they have been made (cheap: safe on the event loop)."""
        return self._files

    def files(self) -> dict[str, bytes]:
        if self._files is None:
            with self._page_locks_lock:
                lock = self._page_locks.setdefault(":files", threading.Lock())
            with lock:
                if self._files is None:
                    self._files = subscription_files(self.d)
        return self._files


def create_app(workspace: str | Path | None = None, *, include_all: bool = False,
               token: str | None = None, title: str | None = None,
               allowed_hosts: list[str] | None = None, snapshot=None, as_of=None,
               leaders: str = "is_leader", platform: str | None = None,
               account_filter: str | None = None, public: bool = False):
    """The FastAPI application serving the directory of ``workspace`` (opened read-only).

    Parameters
    ----------
    include_all : bool
        Also serve people who did not opt in (internal use; pages carry a banner).
    token : str, optional
        Require this token on every route.
    allowed_hosts : list of str, optional
        Accepted ``Host`` headers (``serve`` passes the loopback names when bound to loopback,
        against DNS rebinding). Without it any well-formed ``Host`` is accepted; a malformed one
        (user info, a path, an unbracketed IPv6 address ...) always gets 400.
    snapshot, as_of, leaders, platform, account_filter
        As for ``socialens publish``.
    public : bool
        Serve only what ``socialens publish`` writes: the pages, assets, feeds, OPML, exports and
        the report; no ``/api/...``, no ``/openapi.json`` (404). Not with ``include_all``.
    """
    _web_deps()
    from fastapi import FastAPI, HTTPException, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, RedirectResponse, Response
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException as StarletteHTTPException

    if public and include_all:
        raise SiteError("a public app serves the published directory, which lists only people "
                        "who opted in; it cannot include everyone (include_all)")

    class SafeJSON(JSONResponse):  # a JSONResponse, so that the spec documents JSON bodies
        media_type = "application/json"

        def render(self, content: Any) -> bytes:
            return _safe_json(content)

    docs = _response_models()

    params = {"snapshot": snapshot, "as_of": as_of, "leaders": leaders, "platform": platform,
              "account_filter": account_filter}
    from socialens.serve_copy import Follower
    from socialens.workspace import default_workspace_path

    # the app reads the newest serve copy and swaps in newer ones that writers publish, so that
    # ingest/collect/enrich run beside it (socialens.serve_copy)
    loads = itertools.count()

    def load(ws) -> _State:
        loaded = _State(ws, include_all, title, params)
        # a newer copy is loaded in a background thread: render its main pages there too, so
        # that no request after the swap waits for them (the first copy renders on demand)
        return loaded.warm() if next(loads) else loaded

    live = Follower(workspace if workspace is not None else default_workspace_path(), load)
    state = _Served(live)
    from socialens import __version__

    app = FastAPI(title="SociaLens directory API", version=__version__,
                  description="Read-only access to the organization's social media directory. "
                  "Only people who opted in are listed.",
                  docs_url=None, redoc_url=None, default_response_class=SafeJSON,
                  openapi_url=None if public else "/openapi.json")
    app.state.socialens = state
    app.state.socialens_live = live
    app.add_middleware(_Bind, live=live)

    @app.exception_handler(RequestValidationError)
    async def invalid_parameter(request: Request, exc: RequestValidationError):
        # one message naming each parameter, escaped like every response (the default handler
        # echoes the raw input back unescaped)
        problems = []
        for e in exc.errors():
            loc = [str(x) for x in e.get("loc", ()) if x not in ("query", "path")]
            problems.append(f"{'.'.join(loc) or 'request'}: {e.get('msg', 'invalid')}")
        return SafeJSON({"detail": "; ".join(problems)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return SafeJSON({"detail": exc.detail}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        # no traceback, exception text or file path in the response; Starlette re-raises the
        # exception after this response, so the server's log has the traceback
        return SafeJSON({"detail": "internal error (the server's log says why)"},
                        status_code=500)

    def text_param(description: str):
        return Query(description=description, max_length=MAX_TEXT)

    def html(body: bytes) -> Response:
        return Response(body, media_type="text/html; charset=utf-8")

    # -- pages ------------------------------------------------------------------------------
    # Nothing blocks the event loop: a page rendered before is sent from the copy's cache (a
    # dictionary look-up is all an async handler does), any other is rendered in a worker
    # thread; handlers that read DuckDB or filter lists are plain `def` (FastAPI runs them in
    # its threadpool) and return their response encoded, so that no JSON is encoded on the loop
    # either (FastAPI encodes a returned dict on the loop).
    async def cached_page(key: str, make) -> bytes:
        s = state.bound()
        body = s.cached(key)
        if body is None:
            body = await run_in_threadpool(s.page, key, lambda: make(s))
        return body

    @app.get("/", include_in_schema=False)
    async def root():
        return RedirectResponse("/index.html", status_code=307)

    @app.get("/index.html", include_in_schema=False)
    async def directory_page():
        return html(await cached_page("index", lambda s: s.renderer.directory()))

    @app.get("/feed.html", include_in_schema=False)
    async def feed_page():
        return html(await cached_page("feed", lambda s: s.renderer.feed()))

    @app.get("/subscribe.html", include_in_schema=False)
    async def subscribe_page():
        return html(await cached_page("subscribe", lambda s: s.renderer.subscribe()))

    @app.get("/people/{name}", include_in_schema=False)
    async def person_page(name: str):
        s = state.bound()
        p = s.d.by_slug.get(name[:-5]) if name.endswith(".html") else None
        if p is None:
            raise HTTPException(404, "no such person in the directory")
        body = s.cached("p:" + p["slug"])
        if body is None:
            body = await run_in_threadpool(s.person_page, p)
        return html(body)

    @app.get("/assets/{name}", include_in_schema=False)
    async def asset(name: str):
        if name not in ASSETS:
            raise HTTPException(404, "no such asset")
        return Response(await cached_page("a:" + name, lambda s: asset_text(name)),
                        media_type=ASSETS[name] + "; charset=utf-8")

    types = {".atom": "application/atom+xml", ".opml": "text/x-opml",
             ".json": "application/json", ".csv": "text/csv"}

    async def sub_file(rel: str):
        s = state.bound()
        files = s.cached_files()
        if files is None:
            files = await run_in_threadpool(s.files)
        body = files.get(rel)
        if body is None:
            raise HTTPException(404, "no such file")
        return Response(body, media_type=types[Path(rel).suffix] + "; charset=utf-8")

    @app.get("/feeds/{name}", include_in_schema=False)
    async def feed_file(name: str):
        return await sub_file(f"feeds/{name}")

    @app.get("/feeds/people/{name}", include_in_schema=False)
    async def person_feed_file(name: str):
        return await sub_file(f"feeds/people/{name}")

    @app.get("/subscriptions.opml", include_in_schema=False)
    async def opml_file():
        return await sub_file("subscriptions.opml")

    @app.get("/exports/{name}", include_in_schema=False)
    async def export_file(name: str):
        return await sub_file(f"exports/{name}")

    @app.get("/report/report.html", include_in_schema=False)
    def report_page():
        from socialens.report import render_report

        s = state.bound()
        results = s.results()

        def make():
            with s._ws_lock:  # the report reads the copy through its one connection
                return render_report(s.ws, results, title=f"{s.d.title}: research report",
                                     unavailable=s.unavailable, include_all=s.include_all)
        return html(s.page("report", make))

    if public:
        return _Guard(app, token, allowed_hosts)

    # -- API --------------------------------------------------------------------------------
    # An answer is a function of the copy and the parameters, so it is kept per copy like the
    # pages (encoded, least recently used dropped past API_CACHE_BYTES): the loop sends a kept
    # one, a worker thread makes any other (a DuckDB query for /api/posts, the analyses).
    async def answer(key: tuple, make) -> Response:
        s = state.bound()
        body = s.cached_answer(key)
        if body is None:
            body = await run_in_threadpool(s.answer, key, lambda: make(s))
        return Response(body, media_type="application/json")

    Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")]

    @app.get("/api/people", summary="Listed people, ranked by followers",
             response_model=None,
             responses={200: {"model": docs["PeoplePage"]}, 422: docs["422"]})
    async def api_people(
        q: Annotated[str | None, text_param("Words to find in name, role, department, handles "
                                            "(empty: no search)")] = None,
        department: Annotated[str | None, text_param("A department (empty: all)")] = None,
        role: Annotated[str | None, text_param("A title, or 'leaders' (empty: all)")] = None,
        platform: Annotated[str | None, text_param("A platform (empty: all)")] = None,
        limit: Annotated[int, Query(ge=1, le=1000, description="Items to return")] = 100,
        offset: Offset = 0,
    ) -> Response:
        def make(s: _State) -> dict:
            terms = q.lower().split() if q else []
            keep = [i for i, p in enumerate(s.d.people)
                    if (not department or p["department"] == department)
                    and (not role or (p["leader"] if role == "leaders" else p["title"] == role))
                    and (not platform or platform in s.platforms[p["person_id"]])
                    and all(t in s.search_text[i] for t in terms)]
            items = [s.person_items[i] for i in keep[offset:offset + limit]]
            return {"total": len(keep), "offset": offset, "limit": limit, "items": items}
        return await answer(("people", q, department, role, platform, limit, offset), make)

    @app.get("/api/accounts", summary="Accounts of the listed people",
             response_model=None,
             responses={200: {"model": docs["AccountsPage"]}, 422: docs["422"]})
    async def api_accounts(
        platform: Annotated[str | None, text_param("A platform (empty: all)")] = None,
        limit: Annotated[int, Query(ge=1, le=5000, description="Items to return")] = 1000,
        offset: Offset = 0,
    ) -> Response:
        def make(s: _State) -> dict:
            accs = [a for a in s.account_items if a["platform"] == platform] if platform else \
                s.account_items
            return {"total": len(accs), "offset": offset, "limit": limit,
                    "items": accs[offset:offset + limit]}
        return await answer(("accounts", platform, limit, offset), make)

    @app.get("/api/posts", summary="Posts of the listed people, newest first",
             response_model=None,
             responses={200: {"model": docs["PostsPage"]}, 404: docs["404"], 422: docs["422"]})
    async def api_posts(
        person: Annotated[str | None, Query(description="person_id", min_length=1,
                                            max_length=MAX_TEXT)] = None,
        since: Annotated[str | None, Query(
            description="ISO 8601 time; naive means UTC; from 1900-01-01 to 2999-12-31",
            min_length=1, max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=1000, description="Items to return")] = 100,
        offset: Offset = 0,
    ) -> Response:
        from socialens.analyses.common import to_time

        if person is not None and person not in state.bound().d.by_id:
            raise HTTPException(404, "no such person in the directory")
        t = None
        if since is not None:
            try:
                t = to_time(since, "since")
            except SocialensError as exc:
                raise HTTPException(422, str(exc).removeprefix("--since: ")) from None
            except (OverflowError, ValueError):  # e.g. 9999-12-31T23:59-01:00 is year 10000 in UTC
                t = None
            if t is None or not SINCE_RANGE[0] <= t < SINCE_RANGE[1]:
                raise HTTPException(422, f"since: {since!r} is outside 1900-01-01 to 2999-12-31 "
                                    "(UTC)")

        def make(s: _State) -> dict:
            # the copy's posts as query_posts reads them, materialized once (served_posts), on
            # a cursor of this request's own
            with s.borrowed_cursor() as cur:
                items = query_posts(s.posts, cur, person=person, since=t, limit=limit,
                                    offset=offset)
            return {"offset": offset, "limit": limit, "items": items}
        return await answer(("posts", person, t, limit, offset), make)

    @app.get("/api/analyses/{name}", summary="An analysis: headline, summary and parameters",
             response_model=None,
             responses={200: {"model": docs["Analysis"]}, 404: docs["404"], 409: docs["409"],
                        422: docs["422"]})
    async def api_analysis(name: str) -> Response:
        from socialens.analyses import REGISTRY

        if name not in REGISTRY:
            raise HTTPException(404, f"no analysis {name!r}; available: {', '.join(REGISTRY)}")

        def make(s: _State) -> dict:
            r = s.results().get(name)  # the first request computes them (seconds)
            if r is None:
                raise HTTPException(409, f"analysis {name!r} cannot run on this workspace")
            return {"name": r.name, "title": r.title, "headline": r.headline, **r.to_dict()}
        return await answer(("analysis", name), make)

    return _Guard(app, token, allowed_hosts)


def _response_models() -> dict:
    """Models of the API's responses, for the OpenAPI spec only (the routes return plain dicts;
    ``tests/site/test_web_fuzz.py`` checks every response against these with schemathesis)."""
    from typing import Literal

    from pydantic import BaseModel, ConfigDict, create_model

    class Closed(BaseModel):
        model_config = ConfigDict(extra="forbid")

    class Problem(Closed):
        detail: str

    class Person(Closed):
        rank: int | None
        slug: str
        person_id: str
        name: str
        title: str | None
        department: str | None
        leader: bool
        followers: int | None
        following: int | None
        posts: int | None
        adopted_at: str | None
        internal_followers: int | None
        observed_at: str | None
        platforms: list[str]

    class Account(Closed):
        account_id: str
        platform: str
        handle: str | None
        kind: str | None
        created_at: str | None
        display_name: str | None
        bio: str | None
        url: str | None
        followers: int | None
        observed_at: str | None
        slug: str
        person_id: str

    class Post(Closed):
        post_id: str
        account_id: str
        person_id: str
        slug: str
        platform: str
        handle: str | None
        created_at: str | None
        text: str
        url: str | None
        kind: Literal["post", "repost", "reply", "quote"]
        like_count: int | None
        repost_count: int | None

    class Analysis(BaseModel):  # plus the analysis' own summary and parameters
        name: str
        title: str
        headline: str

    def page(name, item, total=True):
        fields = {"offset": (int, ...), "limit": (int, ...), "items": (list[item], ...)}
        if total:
            fields = {"total": (int, ...), **fields}
        return create_model(name, __base__=Closed, **fields)

    return {"PeoplePage": page("PeoplePage", Person), "AccountsPage": page("AccountsPage", Account),
            "PostsPage": page("PostsPage", Post, total=False), "Analysis": Analysis,
            "404": {"model": Problem, "description": "Not in the directory"},
            "409": {"model": Problem, "description": "The analysis cannot run on this workspace"},
            "422": {"model": Problem, "description": "A parameter is invalid (the message names "
                    "it)"}}


def make_server(app, *, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info"):
    """A ``uvicorn.Server`` for ``app`` whose logs never show a token: uvicorn's logging is set
    up, then a filter removes ``token`` query parameters and the app's token from every record
    of the ``uvicorn``, ``uvicorn.access`` and ``uvicorn.error`` loggers."""
    _web_deps()
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level=log_level)  # sets up logging
    _install_log_filter(getattr(app, "token", None))
    return uvicorn.Server(config)


def run(app, *, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info") -> None:
    """Serve ``app`` with uvicorn until interrupted (see :func:`make_server`)."""
    server = make_server(app, host=host, port=port, log_level=log_level)
    try:
        server.run()
    except KeyboardInterrupt:  # pragma: no cover - as uvicorn.run
        return
    except OSError as exc:  # pragma: no cover - depends on the machine
        raise SiteError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose "
                        "another --port") from exc
    if not server.started:  # pragma: no cover - uvicorn logged why (e.g. the port is taken)
        raise SiteError(f"the server on {host}:{port} did not start (see the message above); "
                        "choose another --port")
