"""End-to-end tests in headless Chromium (Debian's, driven by Playwright): the directory from disk
and from ``serve``, search, filters, sorting, paging, a person page, and no script executed from
any of the seeded XSS payloads on any page. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import pytest

from tests.site.conftest import ARTIFACTS
from tests.site.xss_data import XSS_PAYLOADS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

N_PEOPLE = 3 + len(XSS_PAYLOADS)


@pytest.fixture
def page(browser):
    """A fresh page that records dialogs, page errors and whether any payload ran."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.fired = []
    pg.on("dialog", lambda d: (pg.fired.append(f"dialog {d.type}: {d.message}"), d.dismiss()))
    pg.on("pageerror", lambda e: pg.fired.append(f"error: {e}"))
    pg.on("console", lambda m: m.type == "error" and "Content Security Policy" not in m.text
          and pg.fired.append(f"console: {m.text}"))
    # a payload that got through would set this flag (or open a dialog)
    pg.add_init_script("window.__xss = 0;")
    yield pg
    ctx.close()


def _assert_clean(pg, where: str) -> None:
    pg.wait_for_timeout(50)  # let onerror/onload/autofocus handlers have their chance
    assert pg.evaluate("window.__xss") == 0, where
    assert not [f for f in pg.fired if not f.startswith("console")], (where, pg.fired)


def _exercise_directory(pg, base: str, tag: str) -> None:
    pg.goto(f"{base}/index.html")
    status = pg.locator("#status")
    # site.js ran: the controls are shown and the first page of 50 is rendered from the JSON
    pg.wait_for_selector("#controls:not([hidden])")
    assert status.inner_text().startswith(f"Showing 1–50 of {N_PEOPLE}")
    rows = pg.locator("#directory tbody tr")
    assert rows.count() == 50
    assert rows.nth(0).locator("td").nth(1).inner_text().startswith("Tony Chief")
    assert "leader" in rows.nth(0).get_attribute("class")
    pg.screenshot(path=str(ARTIFACTS / f"directory-{tag}.png"), full_page=False)
    # paging with the keyboard
    pg.locator("#next").focus()
    pg.keyboard.press("Enter")
    assert rows.count() == N_PEOPLE - 50 and "Page 2 of 2" in pg.locator("#pageinfo").inner_text()
    # search
    pg.fill("#q", "alfred")
    assert rows.count() == 1 and "Alfred Ops" in rows.nth(0).inner_text()
    assert "of 1 (filtered from" in status.inner_text()
    pg.fill("#q", "<script>")
    n_script = sum("<script>" in (p + " ").lower() or "<script>" in f"h{p}".lower()
                   for p in XSS_PAYLOADS)
    assert rows.count() > 0 and rows.count() <= n_script + 10
    pg.fill("#q", "")
    # filters: role, department, platform
    pg.select_option("#f-role", "__leaders")
    assert rows.count() == 2
    pg.select_option("#f-role", "")
    pg.select_option("#f-platform", "bluesky")
    assert rows.count() == 1 and "Bea Sky" in rows.nth(0).inner_text()
    pg.select_option("#f-platform", "mastodon")
    assert rows.count() == 1 and "Alfred Ops" in rows.nth(0).inner_text()
    pg.select_option("#f-platform", "")
    pg.select_option("#f-dept", "Exec")
    assert rows.count() == 2
    pg.select_option("#f-dept", "")
    # sort by posts: every XSS person has 2 posts, the leaders 1
    pg.select_option("#f-sort", "posts")
    assert rows.nth(0).locator("td").nth(6).inner_text() == "2"
    pg.select_option("#f-sort", "followers")
    pg.screenshot(path=str(ARTIFACTS / f"directory-filtered-{tag}.png"))
    # open a person page
    pg.fill("#q", "tony")
    pg.locator("#directory tbody tr a", has_text="Tony Chief").click()
    pg.wait_for_selector("h1")
    assert pg.locator("h1").inner_text().startswith("Tony Chief")
    assert "Hello from the CEO" in pg.locator(".posts").inner_text()
    assert pg.locator("dl.facts").inner_text().count("CEO") >= 1
    pg.screenshot(path=str(ARTIFACTS / f"person-{tag}.png"), full_page=True)
    _assert_clean(pg, tag)


def test_directory_from_disk(page, xss_site):
    _exercise_directory(page, xss_site.as_uri(), "disk")


def test_directory_from_serve(page, served):
    _exercise_directory(page, served, "serve")


def test_phone_width_and_dark(browser, xss_site):
    ctx = browser.new_context(viewport={"width": 375, "height": 740}, color_scheme="dark",
                              is_mobile=True)
    pg = ctx.new_page()
    pg.goto(f"{xss_site.as_uri()}/index.html")
    pg.wait_for_selector("#controls:not([hidden])")
    # no horizontal scrolling of the page at phone width: the table becomes cards
    assert pg.evaluate("document.documentElement.scrollWidth") <= 375 + 1
    bg = pg.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(15, 20, 25)"
    pg.screenshot(path=str(ARTIFACTS / "directory-phone-dark.png"))
    ctx.close()


def test_detector_sees_an_unescaped_payload(page, tmp_path):
    """Negative control: the flag and the dialog listener do catch a payload that runs."""
    bad = tmp_path / "bad.html"
    bad.write_text("<p>x</p><img src=x onerror=window.__xss=1><script>alert(1)</script>")
    page.goto(bad.as_uri())
    page.wait_for_timeout(50)
    assert page.evaluate("window.__xss") == 1 and any("dialog" in f for f in page.fired)


def test_no_payload_executes_on_any_page(page, xss_site, served):
    pages = sorted(xss_site.rglob("*.html"))
    assert len(pages) >= N_PEOPLE + 4
    for f in pages:
        page.goto(f.as_uri())
        _assert_clean(page, str(f))
    # the directory's client-side rendering of every row, page by page
    page.goto(f"{xss_site.as_uri()}/index.html")
    page.wait_for_selector("#controls:not([hidden])")
    body = page.locator("#directory tbody").inner_text()
    page.locator("#next").click()
    body += page.locator("#directory tbody").inner_text()
    flat = " ".join(body.split())
    assert all(" ".join(f"{p} #{i}".split()) in flat for i, p in enumerate(XSS_PAYLOADS))
    _assert_clean(page, "directory pages")
    # the served pages, the feeds and the API in the browser
    for path in ("/index.html", "/feed.html", "/subscribe.html", "/report/report.html",
                 "/api/people?limit=1000", "/api/posts?limit=1000", "/api/accounts",
                 "/feeds/all.atom", "/subscriptions.opml"):
        page.goto(served + path)
        _assert_clean(page, path)
    for p in page.request.get(served + "/api/people?limit=1000").json()["items"]:
        page.goto(f"{served}/people/{p['slug']}.html")
        _assert_clean(page, p["slug"])
    page.screenshot(path=str(ARTIFACTS / "person-xss.png"), full_page=True)


_OVERFLOW = """() => {
  const w = window.innerWidth, out = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width && r.right > w + 1) {
      let p = e.parentElement, clipped = false;  // inside a scroll container is fine
      while (p && p !== document.body) {
        const o = getComputedStyle(p).overflowX;
        if ((o === 'auto' || o === 'scroll' || o === 'hidden') &&
            p.getBoundingClientRect().right <= w + 1) { clipped = true; break; }
        p = p.parentElement;
      }
      if (!clipped) out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right));
    }
  }
  return {scroll: document.scrollingElement.scrollWidth, inner: w, out: out.slice(0, 10)};
}"""


@pytest.mark.parametrize("width", [390, 1280])
def test_report_and_person_page_fit_the_viewport(browser, xss_site, width):
    """At phone width the report's verdict table and charts were clipped and the person page's
    Accounts table overflowed; on a desktop the opened ranking table ran off the page."""
    ctx = browser.new_context(viewport={"width": width, "height": 800}, is_mobile=width < 500)
    pg = ctx.new_page()
    people = sorted((xss_site / "people").glob("*.html"))
    leader = next(p for p in people if "Tony Chief" in p.read_text(encoding="utf-8"))
    urls = [f"{xss_site.as_uri()}/report/report.html", leader.as_uri()]
    if width < 500:  # every person page (hostile names, bios and handles among them)
        urls += [p.as_uri() for p in people if p != leader]
    for url in urls:
        pg.goto(url)
        pg.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        res = pg.evaluate(_OVERFLOW)
        assert res["scroll"] <= res["inner"], (url, res)
        assert not res["out"], (url, res)
        # the charts are scaled to the page, not cut off
        for w in pg.evaluate("[...document.querySelectorAll('figure.chart svg')]"
                             ".map(s => s.getBoundingClientRect().right)"):
            assert w <= width + 1, (url, w)
        if url in urls[:2]:
            kind = "report" if "report" in url else "person"
            pg.screenshot(path=str(ARTIFACTS / f"fit-{width}-{kind}.png"), full_page=True)
    ctx.close()
