"""``socialens serve``: the directory site as a local web app, with a read-only JSON API.

The pages are the static site's pages at the same paths (``/index.html``, ``/people/<slug>.html``,
``/feeds/all.atom`` ...), rendered from the workspace by the same templates; the API is

* ``GET /api/people`` — the listed people (``q``, ``department``, ``role``, ``platform``,
  ``limit``, ``offset``),
* ``GET /api/accounts`` — their accounts,
* ``GET /api/posts?person=&since=`` — their posts, newest first, read from the workspace per request,
* ``GET /api/analyses/{name}`` — an analysis' summary and parameters (redacted like the report),
* ``GET /openapi.json`` — the OpenAPI spec (no Swagger UI: it would load from a CDN).

The workspace is opened read-only for the app's lifetime. Only people who opted in are served
(unless ``include_all``). With a token (``SOCIALENS_TOKEN``) every route, the spec included, needs
``Authorization: Bearer TOKEN``, a ``socialens_token`` cookie, or ``?token=TOKEN`` (which sets the
cookie, so that a browser can follow the pages' links).
"""

# no `from __future__ import annotations`: FastAPI reads the route annotations at run time

import hmac
import ipaddress
import json
import threading
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from socialens.errors import SocialensError
from socialens.privacy import map_leaders, restrict
from socialens.site.build import (
    ASSETS,
    Renderer,
    asset_text,
    run_analyses,
)
from socialens.site.feeds import subscription_files
from socialens.site.model import SiteError, load_directory, query_posts
from socialens.site.security import CSP

__all__ = ["create_app", "run", "is_loopback", "REPORT_CSP"]

#: The report is one self-contained file with inline styles and SVG charts, and no script.
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'none'")
_COOKIE = "socialens_token"
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


def _safe_json(data: Any) -> bytes:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str,
                      allow_nan=False)
    # harmless in JSON, and keeps a response from ever being read as markup
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")).encode("utf-8")


class _Guard:
    """ASGI middleware: the token check and the security headers of every response."""

    def __init__(self, app, token: str | None, allowed_hosts: list[str] | None):
        self.app = app
        self.token = token
        self.allowed_hosts = {h.lower() for h in allowed_hosts} if allowed_hosts else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.allowed_hosts is not None:
            host = headers.get("host", "").rsplit(":", 1)[0] if not headers.get(
                "host", "").startswith("[") else headers.get("host", "").split("]")[0] + "]"
            if host.lower() not in self.allowed_hosts:
                return await self._deny(send, 400, "unexpected Host header")
        set_cookie = False
        if self.token:
            given = None
            auth = headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                given = auth[7:].strip()
            if given is None and "cookie" in headers:
                c = SimpleCookie()
                try:
                    c.load(headers["cookie"])
                except Exception:  # noqa: BLE001 - a malformed cookie is just no token
                    c = SimpleCookie()
                if _COOKIE in c:
                    given = c[_COOKIE].value
            if given is None:
                q = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
                if q:
                    given, set_cookie = q[0], True
            if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
                return await self._deny(send, 401, "a token is required: send 'Authorization: "
                                        "Bearer TOKEN' or open the page once with ?token=TOKEN")
        path = scope.get("path", "")
        csp = REPORT_CSP if path.startswith("/report/") else CSP

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                h = list(message.get("headers", []))
                h += [(b"content-security-policy", csp.encode()),
                      (b"x-content-type-options", b"nosniff"),
                      (b"referrer-policy", b"no-referrer"),
                      (b"x-frame-options", b"DENY"),
                      (b"cross-origin-opener-policy", b"same-origin"),
                      (b"cache-control", b"no-store" if self.token else b"no-cache")]
                if set_cookie:
                    h.append((b"set-cookie", f"{_COOKIE}={self.token}; HttpOnly; SameSite=Strict; "
                              "Path=/".encode()))
                message = {**message, "headers": h}
            await send(message)

        return await self.app(scope, receive, send_wrapper)

    @staticmethod
    async def _deny(send, status: int, message: str):
        body = _safe_json({"detail": message})
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"x-content-type-options", b"nosniff"), (b"www-authenticate", b"Bearer")]})
        await send({"type": "http.response.body", "body": body})


class _State:
    """The open workspace, the directory read from it, and caches of rendered pages."""

    def __init__(self, workspace, include_all: bool, title: str | None, params: dict):
        from socialens.workspace import open_workspace

        self.ws = open_workspace(workspace, read_only=True)
        # only public posts, non-opted-in people under pseudonyms (unless include_all), whatever
        # is read below or by any cursor (socialens.privacy)
        restrict(self.ws, not include_all)
        self.include_all = include_all
        params = {**params, "leaders": map_leaders(self.ws, params.get("leaders"))}
        self.params = params
        self.d = load_directory(self.ws, include_all=include_all, title=title, **params)
        self.ids = [p["person_id"] for p in self.d.people]
        self._local = threading.local()
        self._lock = threading.Lock()
        self._results: dict | None = None
        self.unavailable: dict[str, str] = {}
        self._pages: dict[str, bytes] = {}
        self._files: dict[str, bytes] | None = None
        self.renderer = Renderer(self.d, has_report=True)

    def cursor(self):
        cur = getattr(self._local, "cur", None)
        if cur is None:
            cur = self._local.cur = self.ws.con.cursor()
            restrict(cur, not self.include_all)  # temporary views belong to one connection
            cur.execute("SET TimeZone = 'UTC'")
        return cur

    def results(self) -> dict:
        with self._lock:
            if self._results is None:
                self.unavailable = {}
                res = run_analyses(self.ws, self.params, [], unavailable=self.unavailable)
                self._results = res  # computed on the restricted tables
            return self._results

    def page(self, key: str, make) -> bytes:
        page = self._pages.get(key)
        if page is None:
            page = self._pages[key] = make().encode("utf-8")
        return page

    def files(self) -> dict[str, bytes]:
        if self._files is None:
            self._files = subscription_files(self.d)
        return self._files


def create_app(workspace: str | Path | None = None, *, include_all: bool = False,
               token: str | None = None, title: str | None = None,
               allowed_hosts: list[str] | None = None, snapshot=None, as_of=None,
               leaders: str = "is_leader", platform: str | None = None,
               account_filter: str | None = None):
    """The FastAPI application serving the directory of ``workspace`` (opened read-only).

    Parameters
    ----------
    include_all : bool
        Also serve people who did not opt in (internal use; pages carry a banner).
    token : str, optional
        Require this token on every route.
    allowed_hosts : list of str, optional
        Accepted ``Host`` headers (``serve`` passes the loopback names when bound to loopback,
        against DNS rebinding).
    snapshot, as_of, leaders, platform, account_filter
        As for ``socialens publish``.
    """
    _web_deps()
    from fastapi import FastAPI, HTTPException, Query
    from fastapi.responses import RedirectResponse, Response

    class SafeJSON(Response):
        media_type = "application/json"

        def render(self, content: Any) -> bytes:
            return _safe_json(content)

    params = {"snapshot": snapshot, "as_of": as_of, "leaders": leaders, "platform": platform,
              "account_filter": account_filter}
    state = _State(workspace, include_all, title, params)
    from socialens import __version__

    app = FastAPI(title="SociaLens directory API", version=__version__,
                  description="Read-only access to the organization's social media directory. "
                  "Only people who opted in are listed.",
                  docs_url=None, redoc_url=None, default_response_class=SafeJSON)
    app.state.socialens = state

    def html(body: bytes) -> Response:
        return Response(body, media_type="text/html; charset=utf-8")

    # -- pages ------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    async def root():
        return RedirectResponse("/index.html", status_code=307)

    @app.get("/index.html", include_in_schema=False)
    async def directory_page():
        return html(state.page("index", state.renderer.directory))

    @app.get("/feed.html", include_in_schema=False)
    async def feed_page():
        return html(state.page("feed", state.renderer.feed))

    @app.get("/subscribe.html", include_in_schema=False)
    async def subscribe_page():
        return html(state.page("subscribe", state.renderer.subscribe))

    @app.get("/people/{name}", include_in_schema=False)
    def person_page(name: str):
        p = state.d.by_slug.get(name[:-5]) if name.endswith(".html") else None
        if p is None:
            raise HTTPException(404, "no such person in the directory")
        return html(state.page("p:" + p["slug"], lambda: state.renderer.person(p)))

    @app.get("/assets/{name}", include_in_schema=False)
    async def asset(name: str):
        if name not in ASSETS:
            raise HTTPException(404, "no such asset")
        return Response(state.page("a:" + name, lambda: asset_text(name)),
                        media_type=ASSETS[name] + "; charset=utf-8")

    types = {".atom": "application/atom+xml", ".opml": "text/x-opml",
             ".json": "application/json", ".csv": "text/csv"}

    def sub_file(rel: str):
        body = state.files().get(rel)
        if body is None:
            raise HTTPException(404, "no such file")
        return Response(body, media_type=types[Path(rel).suffix] + "; charset=utf-8")

    @app.get("/feeds/{name}", include_in_schema=False)
    def feed_file(name: str):
        return sub_file(f"feeds/{name}")

    @app.get("/feeds/people/{name}", include_in_schema=False)
    def person_feed_file(name: str):
        return sub_file(f"feeds/people/{name}")

    @app.get("/subscriptions.opml", include_in_schema=False)
    def opml_file():
        return sub_file("subscriptions.opml")

    @app.get("/exports/{name}", include_in_schema=False)
    def export_file(name: str):
        return sub_file(f"exports/{name}")

    @app.get("/report/report.html", include_in_schema=False)
    def report_page():
        from socialens.report import render_report

        results = state.results()
        return html(state.page("report", lambda: render_report(
            state.ws, results, title=f"{state.d.title}: research report",
            unavailable=state.unavailable, include_all=state.include_all)))

    # -- API --------------------------------------------------------------------------------
    @app.get("/api/people", summary="Listed people, ranked by followers")
    async def api_people(
        q: Annotated[str | None, Query(description="Words to find in name, role, department, handles")] = None,
        department: str | None = None,
        role: Annotated[str | None, Query(description="A title, or 'leaders'")] = None,
        platform: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict:
        people = state.d.people
        if department:
            people = [p for p in people if p["department"] == department]
        if role:
            people = [p for p in people if (p["leader"] if role == "leaders" else p["title"] == role)]
        if platform:
            people = [p for p in people if any(a["platform"] == platform
                                               for a in state.d.accounts.get(p["person_id"], []))]
        if q:
            terms = q.lower().split()

            def text(p):
                accs = state.d.accounts.get(p["person_id"], [])
                return " ".join(str(x) for x in (p["name"], p["title"], p["department"],
                                                 *(a["handle"] for a in accs)) if x).lower()
            people = [p for p in people if all(t in text(p) for t in terms)]
        items = [{**{k: p[k] for k in _PUBLIC_PERSON},
                  "platforms": sorted({a["platform"] for a in state.d.accounts.get(p["person_id"], [])})}
                 for p in people[offset:offset + limit]]
        return {"total": len(people), "offset": offset, "limit": limit, "items": items}

    @app.get("/api/accounts", summary="Accounts of the listed people")
    async def api_accounts(
        platform: str | None = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict:
        accs = [{**a, "person_id": p["person_id"]} for p in state.d.people
                for a in state.d.accounts.get(p["person_id"], [])
                if platform is None or a["platform"] == platform]
        return {"total": len(accs), "offset": offset, "limit": limit,
                "items": accs[offset:offset + limit]}

    @app.get("/api/posts", summary="Posts of the listed people, newest first")
    def api_posts(
        person: Annotated[str | None, Query(description="person_id")] = None,
        since: Annotated[str | None, Query(description="ISO 8601 time; naive means UTC")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict:
        from socialens.analyses.common import to_time

        if person is not None and person not in state.d.by_id:
            raise HTTPException(404, "no such person in the directory")
        try:
            t = to_time(since, "since") if since else None
        except SocialensError as exc:
            raise HTTPException(422, str(exc)) from None
        items = query_posts(state.cursor(), state.ids, person=person, since=t, limit=limit,
                            offset=offset)
        return {"offset": offset, "limit": limit, "items": items}

    @app.get("/api/analyses/{name}", summary="An analysis: headline, summary and parameters")
    def api_analysis(name: str) -> dict:
        from socialens.analyses import REGISTRY

        if name not in REGISTRY:
            raise HTTPException(404, f"no analysis {name!r}; available: {', '.join(REGISTRY)}")
        r = state.results().get(name)
        if r is None:
            raise HTTPException(409, f"analysis {name!r} cannot run on this workspace")
        return {"name": r.name, "title": r.title, "headline": r.headline, **r.to_dict()}

    return _Guard(app, token, allowed_hosts)


def run(app, *, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info") -> None:
    """Serve ``app`` with uvicorn until interrupted."""
    _web_deps()
    import uvicorn

    try:
        uvicorn.run(app, host=host, port=port, log_level=log_level)
    except OSError as exc:  # pragma: no cover - depends on the machine
        raise SiteError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose "
                        "another --port") from exc
