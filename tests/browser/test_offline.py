"""Fully offline: no page asks any host but the app's own, on load or on a rerun.

Every request the browser makes is routed through the test: one for 127.0.0.1 / localhost goes on,
anything else is aborted (as a closed network would) and recorded. The page's own markup is checked
too, for links to outside hosts that the browser may fetch outside Playwright's routing (the tab
icon, for one, is fetched by the browser itself in some Chromium builds).
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import assert_no_exception, wait_for_app

pytestmark = pytest.mark.browser

LOCAL = {"127.0.0.1", "localhost"}
# Every page, by the url_path app.py gives it ("" is Home), with text that shows it has drawn.
PAGES = {"": "CNN Explorer", "draw": "Draw & Predict", "convolution": "Convolution", "layer-explorer": "Layer Explorer",
         "softmax": "Softmax and cross-entropy", "practice": "Practice", "backpropagation": "Backpropagation",
         "train": "Train a CNN", "evaluate": "Evaluate the active model", "sweep": "Hyper-parameter sweep",
         "class": "Class", "class-wall": "Class wall"}

OUTSIDE_URLS_IN_MARKUP = """() => {
  const urls = [];
  const add = (v) => { if (v) urls.push(v); };
  document.querySelectorAll('link[href]').forEach(e => add(e.href));
  document.querySelectorAll('script[src], img[src], iframe[src], source[src], video[src], audio[src]')
    .forEach(e => add(e.src));
  for (const sheet of document.styleSheets) {
    let rules = [];
    try { rules = [...sheet.cssRules]; } catch (e) { add(sheet.href); continue; }
    for (const r of rules) for (const m of (r.cssText || '').matchAll(/url\\(["']?([^"')]+)/g)) add(m[1]);
  }
  return urls.filter(u => /^(https?:)?\\/\\//.test(u)).filter(u => !/^(https?:)?\\/\\/(127\\.0\\.0\\.1|localhost)[:/]/.test(u));
}"""


@pytest.fixture
def offline_page(browser):
    """A page whose every non-local request is aborted and recorded in page.outside."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    outside: list[str] = []

    def route(r):
        if urlsplit(r.request.url).hostname in LOCAL:
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort("internetdisconnected")

    context.route("**/*", route)
    page = context.new_page()
    page.outside = outside
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("websocket", lambda ws: None if urlsplit(ws.url).hostname in LOCAL else outside.append(ws.url))
    page.on("console", lambda m: outside.append(f"console: {m.text}")
            if m.type == "error" and "ERR_" in m.text and "internetdisconnected" not in m.text.lower() else None)
    yield page
    context.close()


@pytest.mark.parametrize("path", list(PAGES))
def test_no_page_asks_another_host(offline_page, app_url, path):
    page = offline_page
    page.goto(f"{app_url}/{path}")
    wait_for_app(page, timeout=60_000)
    expect(page.get_by_role("heading", level=1).first).to_contain_text(PAGES[path], timeout=60_000)
    wait_for_app(page, timeout=60_000)
    assert page.outside == [], f"/{path} asked other hosts: {page.outside}"
    assert page.evaluate(OUTSIDE_URLS_IN_MARKUP) == [], f"/{path} links to another host"
    # A rerun, as when the learner changes anything: the tab icon used to be fetched again on every one.
    page.get_by_role("link", name="Draw & Predict").first.click()
    wait_for_app(page, timeout=60_000)
    page.get_by_text("Random bundled digit").click()
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="Prediction")).to_be_visible(timeout=30_000)
    wait_for_app(page)
    assert page.outside == [], f"after /{path}, a rerun asked other hosts: {page.outside}"
    assert page.evaluate(OUTSIDE_URLS_IN_MARKUP) == [], f"after /{path}, a rerun links to another host"
    assert_no_exception(page)
