"""schemathesis on every route of ``socialens serve``, in process: a few derandomized examples per
operation (``python -m eval.web_fuzz`` runs the long fuzz, whose figures are in EVALUATION.md).

Checked for every response: no 5xx, the status code, content type and body are the ones the spec
documents, the security headers are there, and no traceback, source or workspace path (or the
token) is in the body; with a token, the same request without it gets 401."""

from __future__ import annotations

import pytest

pytest.importorskip("schemathesis")

from eval.web_fuzz import TOKEN, VARIANTS, fuzz_app, load_schema, page_paths  # noqa: E402
from socialens.site import app as app_module  # noqa: E402
from socialens.site.app import LOOPBACK_HOSTS, create_app  # noqa: E402

EXAMPLES = 10


@pytest.fixture(scope="module")
def shared_analyses(xss_ws_path):
    """The analyses computed once for the module's apps (same workspace, same parameters), not
    once per app: they take most of an app's first report or analysis request."""
    real = app_module.run_analyses
    cache: dict = {}

    def once(ws, params, only, unavailable=None):
        key = repr(sorted(params.items()))
        if key not in cache:
            missing: dict = {}
            cache[key] = (real(ws, params, only, unavailable=missing), missing)
        if unavailable is not None:
            unavailable.update(cache[key][1])
        return cache[key][0]

    mp = pytest.MonkeyPatch()
    mp.setattr(app_module, "run_analyses", once)
    yield
    mp.undo()


def _app(path, variant):
    return create_app(path, token=TOKEN if variant == "token" else None,
                      allowed_hosts=LOOPBACK_HOSTS, public=variant == "public")


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_route_fuzzed_without_a_server_error(xss_ws_path, shared_analyses, variant):
    app = _app(xss_ws_path, variant)
    r = fuzz_app(app, variant, max_examples=EXAMPLES, secrets=(str(xss_ws_path.parent), TOKEN))
    assert r["failures"] == {}, r["examples"]
    assert r["operations"] == (11 if variant == "public" else 15)
    statuses = r["statuses"]
    assert not any(s >= 500 for s in statuses), statuses
    assert statuses.get(200, 0) >= r["explicit_cases"] - 3  # every real name is answered
    assert statuses.get(404, 0) > 0
    if variant != "public":
        assert statuses.get(422, 0) > 0  # the negative cases reach the validation
    assert r["cases"] > r["operations"] * EXAMPLES


def test_the_fuzzed_spec_covers_every_route(xss_ws_path):
    """The app's spec plus :func:`page_paths` name every route the app has, so that the fuzz
    reaches all of them (a new page route without an entry there fails here)."""
    for variant in ("open", "public"):
        app = _app(xss_ws_path, variant)
        routes = {r.path for r in app.app.routes} - {"/openapi.json"}
        spec = set(load_schema(app, variant).raw_schema["paths"])
        assert routes == spec, (variant, routes ^ spec)
    assert len(page_paths()) == 11


def test_the_spec_documents_the_answers_the_api_gives(xss_ws_path):
    """The spec used to say 200 answers are strings and 422 answers carry a list (FastAPI's
    default); they are objects, and 422's detail is one string naming the parameter. 404 and 409
    were not documented at all."""
    with __import__("fastapi.testclient").testclient.TestClient(
            _app(xss_ws_path, "open"), base_url="http://127.0.0.1") as c:
        spec = c.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert schemas["Problem"]["properties"] == {"detail": {"type": "string", "title": "Detail"}}
    expected = {"/api/people": {"200", "422"}, "/api/accounts": {"200", "422"},
                "/api/posts": {"200", "404", "422"},
                "/api/analyses/{name}": {"200", "404", "409", "422"}}
    for path, codes in expected.items():
        responses = spec["paths"][path]["get"]["responses"]
        assert set(responses) == codes, path
        for code in codes - {"200"}:
            assert responses[code]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"}
    assert schemas["PeoplePage"]["additionalProperties"] is False
    assert set(schemas["Post"]["properties"]["kind"]["enum"]) == {"post", "repost", "reply",
                                                                  "quote"}


def test_the_fuzz_finds_a_planted_server_error_and_a_planted_schema_violation(
        xss_ws_path, shared_analyses, monkeypatch):
    """Negative control: the same fuzz on an app whose posts query fails for any offset but 0
    and whose posts carry a field the spec does not have reports both."""
    real = app_module.query_posts

    def planted(*args, **kw):
        if kw.get("offset", 0) != 0:
            raise ZeroDivisionError("planted")
        return [{**p, "planted": 1} for p in real(*args, **kw)]

    monkeypatch.setattr(app_module, "query_posts", planted)
    r = fuzz_app(_app(xss_ws_path, "open"), "open", max_examples=EXAMPLES, explicit=False)
    assert r["failures"].get("server_error", 0) > 0, r
    assert r["failures"].get("schema", 0) > 0, r
    assert {k.split(" ", 1)[1].rsplit(" ", 1)[0] for k in r["examples"]} == {"GET /api/posts"}
