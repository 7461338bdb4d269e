"""Fuzzing every route of ``socialens serve`` with schemathesis, in process (no port, no network).

The app's own OpenAPI spec (``/openapi.json``: the ``/api/...`` routes, whose response models are
documented for this) is extended with the page routes it leaves out of the spec (``/``, the
pages, ``/people/{name}``, ``/assets/{name}``, ``/feeds/...``, ``/exports/{name}``, the OPML and
the report; :func:`page_paths`), so that every route is fuzzed. Each operation gets
schemathesis' positive cases (valid by the spec) and negative cases (invalid: wrong types, out of
range, too long, missing), plus explicit cases with the real names (every person's page, asset,
feed, export and analysis), so that 200 answers are checked too, not only 404s. Every response is
checked with schemathesis' ``not_a_server_error``, ``status_code_conformance``,
``content_type_conformance`` and ``response_schema_conformance``, and by this module for: the
security headers (a CSP whose scripts are ``'self'`` only or none, ``frame-ancestors 'none'``,
``nosniff``, ``no-referrer``), and no traceback, source path or workspace path in the body.

Three variants of the app: ``open`` (loopback, no token), ``token`` (every case sent with
``Authorization: Bearer``, and sent again without it, which must give 401) and ``public`` (only
what ``publish`` writes; its spec is the page routes alone, the app has none).

``python -m eval.web_fuzz`` runs :data:`N_EXAMPLES` examples per operation and generation mode
on the tiny organization and on the XSS organization of the site tests (hostile names, bios and
posts), with a random seed that is reported, and prints one JSON line;
``tests/site/test_web_fuzz.py`` runs a few examples of each, derandomized.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
NAME = "web_fuzz"
TITLE = "Web app fuzz (schemathesis)"
#: examples per operation and generation mode (positive, negative) in the long run
N_EXAMPLES = int(os.environ.get("WEB_FUZZ_EXAMPLES", "300"))
VARIANTS = ("open", "token", "public")
TOKEN = "fuzz-T0ken-4f9c2e"
HOST = "127.0.0.1"
#: what no response may contain (besides the workspace's own path)
LEAK_MARKERS = ("Traceback (most recent call last)", 'File "/', "site-packages", str(REPO))

__all__ = ["page_paths", "load_schema", "fuzz_app", "run", "to_markdown", "VARIANTS", "TOKEN"]


def _problem() -> dict:
    return {"description": "Not found", "content": {"application/json": {"schema": {
        "type": "object", "required": ["detail"], "additionalProperties": False,
        "properties": {"detail": {"type": "string"}}}}}}


def _ok(*media: str) -> dict:
    return {"description": "The file", "content": {
        m: {"schema": {} if m.startswith("application/json") else {"type": "string"}}
        for m in media}}


def page_paths() -> dict[str, Any]:
    """OpenAPI paths of the page routes (``include_in_schema=False`` in the app)."""
    name = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
    html = "text/html; charset=utf-8"
    atom = "application/atom+xml; charset=utf-8"
    paths: dict[str, Any] = {
        "/": {"get": {"responses": {"307": {"description": "To /index.html"}}}},
        "/subscriptions.opml": {"get": {"responses": {"200": _ok("text/x-opml; charset=utf-8")}}},
    }
    for page in ("/index.html", "/feed.html", "/subscribe.html", "/report/report.html"):
        paths[page] = {"get": {"responses": {"200": _ok(html)}}}
    for route, media in (("/people/{name}", [html]),
                         ("/assets/{name}", ["text/css; charset=utf-8",
                                             "text/javascript; charset=utf-8"]),
                         ("/feeds/{name}", [atom]), ("/feeds/people/{name}", [atom]),
                         ("/exports/{name}", ["text/csv; charset=utf-8",
                                              "application/json; charset=utf-8"])):
        paths[route] = {"get": {"parameters": name,
                                "responses": {"200": _ok(*media), "404": _problem()}}}
    return paths


def _headers(variant: str) -> dict[str, str]:
    h = {"Host": HOST}
    if variant == "token":
        h["Authorization"] = f"Bearer {TOKEN}"
    return h


def _client(app, variant: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    return TestClient(app, base_url=f"http://{HOST}", headers=_headers(variant),
                      raise_server_exceptions=False)


def load_schema(app, variant: str):
    """The schemathesis schema of ``app``: its spec plus :func:`page_paths`."""
    import schemathesis

    if variant == "public":
        from socialens import __version__

        raw = {"openapi": "3.1.0", "paths": {},
               "info": {"title": "SociaLens published directory", "version": __version__}}
    else:
        with _client(app, variant) as c:
            r = c.get("/openapi.json")
        if r.status_code != 200:
            raise RuntimeError(f"/openapi.json gave {r.status_code}: {r.text[:200]}")
        raw = r.json()
    raw["paths"].update(page_paths())
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = app
    return schema


def _known_values(app) -> dict[str, list[str]]:
    """The real values of each path parameter (explicit cases that reach the 200 answers)."""
    from socialens.analyses import REGISTRY
    from socialens.site.build import ASSETS

    state = app.app.state.socialens
    files = sorted(state.files())
    return {
        "/people/{name}": [p["slug"] + ".html" for p in state.d.people],
        "/assets/{name}": sorted(ASSETS),
        "/feeds/{name}": [f.split("/", 1)[1] for f in files
                          if f.startswith("feeds/") and f.count("/") == 1],
        "/feeds/people/{name}": [f.rsplit("/", 1)[1] for f in files
                                 if f.startswith("feeds/people/")],
        "/exports/{name}": [f.split("/", 1)[1] for f in files if f.startswith("exports/")],
        "/api/analyses/{name}": list(REGISTRY),
    }


def _script_sources(csp: str) -> list[str] | None:
    """The sources scripts may come from under ``csp`` (``script-src``, else ``default-src``)."""
    directives = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            directives.setdefault(words[0].lower(), words[1:])
    return directives.get("script-src", directives.get("default-src"))


def header_problems(headers) -> list[str]:
    """What is missing or unsafe in a response's security headers."""
    out = []
    csp = headers.get("content-security-policy") or ""
    scripts = _script_sources(csp)
    if scripts is None:
        out.append("no CSP script policy")
    elif not (scripts == ["'none'"] or scripts == ["'self'"]):
        out.append(f"scripts allowed from {scripts}")
    if "frame-ancestors 'none'" not in csp:
        out.append("no frame-ancestors 'none'")
    if headers.get("x-content-type-options") != "nosniff":
        out.append("no X-Content-Type-Options: nosniff")
    if headers.get("referrer-policy") != "no-referrer":
        out.append("no Referrer-Policy: no-referrer")
    return out


def leaks(body: bytes, extra: tuple[str, ...] = ()) -> list[str]:
    text = body.decode("utf-8", "replace")
    return [m for m in (*LEAK_MARKERS, *extra) if m and m in text]


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_first_line(e) for e in exc.exceptions)
    title = getattr(exc, "title", None)
    text = str(exc).strip()
    detail = text.splitlines()[0] if text else type(exc).__name__
    return f"{title}: {detail}" if title else detail


def _can_be_invalid(operation: dict) -> bool:
    """Whether an operation has a parameter that some value breaks (not, e.g., only a path
    parameter that may be any string: hypothesis would look in vain for a negative case)."""
    for p in operation.get("parameters", []):
        sch = p.get("schema", {})
        if not (p.get("in") == "path" and sch.get("type") == "string"
                and set(sch) <= {"type", "title", "description"}):
            return True
    return False


def fuzz_app(app, variant: str, *, max_examples: int, seed: int | None = None,
             secrets: tuple[str, ...] = (), explicit: bool = True) -> dict:
    """Every operation of ``app`` fuzzed; counts of cases, statuses and failures (each failure:
    the check, the operation, the status and the first line of the message)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis.errors import Unsatisfiable
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.result import Ok
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = {"server_error": not_a_server_error, "status_code": status_code_conformance,
              "content_type": content_type_conformance, "schema": response_schema_conformance}
    schema = load_schema(app, variant)
    headers = _headers(variant)
    known = _known_values(app) if explicit else {}
    statuses: Counter = Counter()
    failures: Counter = Counter()
    examples: dict[str, str] = {}
    n = {"cases": 0, "explicit": 0}

    def fail(kind: str, label: str, status: int, message: str) -> None:
        failures[kind] += 1
        examples.setdefault(f"{kind} {label} {status}", message[:300])

    def check(case, label: str) -> None:
        n["cases"] += 1
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # noqa: BLE001 - the app raised: served as a 500 (Starlette
            # re-raises after the response, and the in-process transport passes it on)
            statuses[500] += 1
            fail("server_error", label, 500, f"{type(exc).__name__}: {exc}")
            return
        statuses[response.status_code] += 1
        for kind, chk in checks.items():
            try:
                case.validate_response(response, checks=[chk])
            except (AssertionError, BaseExceptionGroup) as exc:
                fail(kind, label, response.status_code, _first_line(exc))
        got = {k.lower(): v[0] if isinstance(v, list) else v for k, v in response.headers.items()}
        for problem in header_problems(got):
            fail("headers", label, response.status_code, problem)
        for marker in leaks(response.content, secrets):
            fail("leak", label, response.status_code, marker)
        if variant == "token":  # the same request without the token
            bare = case.call(headers={"Host": HOST})
            if bare.status_code != 401 or leaks(bare.content, secrets):
                fail("unauthenticated", label, bare.status_code, "answered without the token")

    def _fuzz(strategy, body) -> None:
        @settings(max_examples=max_examples, derandomize=seed is None, database=None,
                  deadline=None, suppress_health_check=list(HealthCheck), print_blob=False)
        @given(case=strategy)
        def test(case):
            body(case)

        (hypothesis_seed(seed)(test) if seed is not None else test)()

    operations = 0
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            fail("schema_load", "?", 0, str(result.err())[:300])
            continue
        op = result.ok()
        operations += 1
        label = op.label
        for value in known.get(op.path, []):
            n["explicit"] += 1
            check(op.Case(path_parameters={"name": value}), label)
        modes = [GenerationMode.POSITIVE]
        if _can_be_invalid(schema.raw_schema["paths"][op.path][op.method.lower()]):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            try:
                _fuzz(op.as_strategy(generation_mode=mode), lambda case, lb=label: check(case, lb))
            except Unsatisfiable:  # e.g. no invalid value of an unconstrained string exists
                pass
    return {"variant": variant, "operations": operations, "cases": n["cases"],
            "explicit_cases": n["explicit"], "statuses": dict(sorted(statuses.items())),
            "failures": dict(failures), "examples": examples}


def _tiny_org() -> Path:
    return REPO / "tests" / "fixtures" / "tiny_org"


def _xss_org(tmp: Path) -> Path:
    sys.path.insert(0, str(REPO))
    from tests.site.xss_data import make_org

    return make_org(tmp / "xss_org")


def run(max_examples: int = N_EXAMPLES, seed: int | None = None) -> dict:
    """The long run: both organizations x the three variants."""
    import socialens
    from socialens.site.app import LOOPBACK_HOSTS, create_app

    seed = int.from_bytes(os.urandom(4), "big") if seed is None else seed
    t0 = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="web_fuzz-") as d:
        tmp = Path(d)
        for org_name, org in (("tiny_org", _tiny_org()), ("xss_org", _xss_org(tmp))):
            ws = tmp / f"{org_name}.duckdb"
            with socialens.open(ws) as w:
                w.ingest(org)
            for variant in VARIANTS:
                app = create_app(ws, token=TOKEN if variant == "token" else None,
                                 allowed_hosts=LOOPBACK_HOSTS, public=variant == "public")
                t1 = time.perf_counter()
                r = fuzz_app(app, variant, max_examples=max_examples, seed=seed,
                             secrets=(str(tmp), TOKEN))
                r.update(org=org_name, seconds=round(time.perf_counter() - t1, 1))
                rows.append(r)
                print(json.dumps({k: r[k] for k in ("org", "variant", "cases", "failures",
                                                     "seconds")}), file=sys.stderr)
    failures: Counter = Counter()
    for r in rows:
        failures.update(r["failures"])
    return {"max_examples": max_examples, "seed": seed,
            "operations": sum(r["operations"] for r in rows),
            "cases": sum(r["cases"] for r in rows),
            "server_errors": failures["server_error"],
            "schema_violations": failures["schema"],
            "status_code_violations": failures["status_code"],
            "content_type_violations": failures["content_type"],
            "header_failures": failures["headers"], "leaks": failures["leak"],
            "unauthenticated_answers": failures["unauthenticated"],
            "seconds": round(time.perf_counter() - t0, 1), "runs": rows}


def to_markdown(r: dict) -> str:
    lines = [
        f"schemathesis {_version()}, in process (ASGI, no port); up to {r['max_examples']} "
        f"examples per operation and mode (positive; negative where a parameter has an invalid "
        f"value) plus explicit cases with every real page, feed, export and analysis name; "
        f"seed {r['seed']} (drawn at random, reported).",
        "",
        f"**{r['cases']:,} cases** on {r['operations']} operations: **{r['server_errors']} server "
        f"errors**, {r['schema_violations']} response schema violations, "
        f"{r['status_code_violations']} undocumented status codes, "
        f"{r['content_type_violations']} undocumented content types, {r['header_failures']} "
        f"responses with missing or unsafe security headers, {r['leaks']} bodies with a "
        f"traceback, source or workspace path, {r['unauthenticated_answers']} answers without "
        f"the token (token variant: each case sent again without it).",
        "",
        "| organization | variant | operations | cases | statuses | failures | s |",
        "|---|---|---:|---:|---|---|---:|",
    ]
    for row in r["runs"]:
        st = ", ".join(f"{k}: {v}" for k, v in row["statuses"].items())
        fails = ", ".join(f"{k}: {v}" for k, v in row["failures"].items()) or "0"
        lines.append(f"| {row['org']} | {row['variant']} | {row['operations']} | "
                     f"{row['cases']:,} | {st} | {fails} | {row['seconds']} |")
    examples = [f"- {k}: {v}" for row in r["runs"] for k, v in row["examples"].items()]
    if examples:
        lines += ["", "Failures (first of each kind):", *examples[:20]]
    lines += ["", "Variants: `open` = loopback without a token; `token` = `SOCIALENS_TOKEN` set, "
              "every case with `Authorization: Bearer`, and again without (must be 401); "
              "`public` = `serve --public` (only what `publish` writes). The spec fuzzed is the "
              "app's `/openapi.json` plus the page routes it leaves out "
              "(`eval.web_fuzz.page_paths`). The test suite runs the same with 10 examples, "
              "derandomized (`tests/site/test_web_fuzz.py`)."]
    return "\n".join(lines)


def _version() -> str:
    from importlib.metadata import version

    return version("schemathesis")


if __name__ == "__main__":
    result = run()
    print(json.dumps(result))
