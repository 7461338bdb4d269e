"""Fixtures of the site tests: an organization seeded with XSS payloads and hidden people, its
workspace and its published site (built once per module), and a headless Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import socialens
from tests.site.xss_data import make_org

CHROMIUM = os.environ.get("SOCIALENS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def xss_org(tmp_path_factory) -> Path:
    return make_org(tmp_path_factory.mktemp("xss_org") / "org")


@pytest.fixture(scope="module")
def xss_ws_path(xss_org, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("xss_ws") / "ws.duckdb"
    with socialens.open(path) as w:
        res = w.ingest(xss_org)
        assert res.totals["quarantined"] == 0, res.as_dict()
    return path


@pytest.fixture(scope="module")
def xss_site(xss_ws_path, tmp_path_factory) -> Path:
    from socialens.site import publish

    out = tmp_path_factory.mktemp("xss_site") / "site"
    with socialens.open(xss_ws_path, read_only=True) as w:
        publish(w, out, report=True)
    return out


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is not None


@pytest.fixture(scope="module")
def browser():
    """One headless Debian Chromium per test module, driven by Playwright."""
    if not chromium_available():
        pytest.skip(f"no Chromium at {CHROMIUM} (run `make test`, which installs it)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def served(xss_ws_path):
    """``socialens serve`` of the XSS organization on a free loopback port (uvicorn in a thread);
    yields the base URL."""
    import socket
    import threading
    import time

    import uvicorn

    from socialens.site.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(xss_ws_path, allowed_hosts=["127.0.0.1", "localhost"])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the app did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
