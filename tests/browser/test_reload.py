"""A reload keeps your work (issue 18): draw a digit, press F5, and the drawing and its prediction are
back; another browser gets none of it; the browser's id is an HttpOnly cookie that no shared link carries."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ui.app import browser_id
from .conftest import OUTPUT, assert_no_exception, wait_for_app

pytestmark = pytest.mark.browser

CANVAS = '[data-testid="stBidiComponentIsolated"] canvas.upper-canvas'
NOTE = "Restored your drawing from before the reload"      # the default model needs no restoring


def _context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"])
    pg = ctx.new_page()
    pg.errors = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    return ctx, pg


def _open_draw(page, app_url):
    page.goto(app_url + "/draw")
    wait_for_app(page, timeout=60_000)
    canvas = page.locator(CANVAS)
    expect(canvas).to_be_visible(timeout=30_000)
    return canvas


def _stroke(page, box, points):
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def _value(page):
    return page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").locator(
        '[data-testid="stMetricValue"]')


LOWER = '[data-testid="stBidiComponentIsolated"] canvas.dc-canvas.lower-canvas'   # the strokes (the background has its own)
COUNT_INK = """c => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++;
    return n;
}"""


def _ink(page) -> int:
    """How many pixels of the visible canvas are lit (the strokes are white on black)."""
    return page.locator(LOWER).evaluate(COUNT_INK)


def _wait_for_ink(page, at_least: int, timeout_ms: int = 30_000) -> int:
    """The canvas draws the restored strokes a moment after it mounts: wait until they are there."""
    canvas = page.locator(LOWER).element_handle(timeout=timeout_ms)
    page.wait_for_function(f"([c, n]) => ({COUNT_INK})(c) >= n", arg=[canvas, at_least], timeout=timeout_ms)
    return _ink(page)


def test_a_reload_brings_back_the_drawing_and_its_prediction(browser, app_url):
    ctx, page = _context(browser)
    canvas = _open_draw(page, app_url)
    _stroke(page, canvas.bounding_box(), [(0.22, 0.2), (0.78, 0.2), (0.45, 0.86)])     # a 7
    expect(_value(page)).to_have_text("7", timeout=30_000)
    wait_for_app(page)
    ink_before = _ink(page)
    assert ink_before > 500
    cookies = {c["name"]: c for c in ctx.cookies()}
    cookie = cookies[browser_id.COOKIE]
    assert browser_id.is_valid(cookie["value"]) and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert cookie["expires"] == -1                                  # a session cookie: ends with the browser
    assert page.evaluate("document.cookie").find(browser_id.COOKIE) == -1   # page scripts cannot read it

    page.get_by_role("button", name="Copy link to this view").click()
    expect(page.get_by_text("Link copied")).to_be_visible(timeout=10_000)
    link = page.evaluate("navigator.clipboard.readText()")
    assert link and cookie["value"] not in link and browser_id.COOKIE not in link
    assert cookie["value"] not in page.url

    page.reload()                                                   # F5
    wait_for_app(page, timeout=60_000)
    expect(page.get_by_text(NOTE).first).to_be_visible(timeout=30_000)
    expect(_value(page)).to_have_text("7", timeout=30_000)          # the same prediction, with no new stroke
    expect(page.locator(CANVAS)).to_be_visible(timeout=30_000)
    ink_after = _wait_for_ink(page, int(0.95 * ink_before))
    assert abs(ink_after - ink_before) <= 0.05 * ink_before, (ink_before, ink_after)   # the strokes are drawn again
    assert {c["name"]: c["value"] for c in ctx.cookies()}[browser_id.COOKIE] == cookie["value"]   # same id
    assert_no_exception(page)
    page.screenshot(path=str(OUTPUT / "test_reload_after_f5.png"), full_page=True)

    ctx2, other = _context(browser)                                 # another browser
    _open_draw(other, app_url)
    wait_for_app(other)
    expect(other.get_by_text("Draw a digit on the black canvas").first).to_be_visible(timeout=30_000)
    assert other.get_by_text(NOTE).count() == 0
    assert _value(other).count() == 0
    other_id = {c["name"]: c["value"] for c in ctx2.cookies()}[browser_id.COOKIE]
    assert other_id != cookie["value"]
    assert_no_exception(other)
    ctx2.close()

    ctx3, shared = _context(browser)                                # the copied link, in a third browser
    shared.goto(link)
    wait_for_app(shared, timeout=60_000)
    expect(shared.locator(CANVAS)).to_be_visible(timeout=30_000)
    assert shared.get_by_text(NOTE).count() == 0 and _value(shared).count() == 0
    ctx3.close()
    ctx.close()


def test_a_browser_with_no_drawing_gets_no_note(browser, app_url):
    ctx, page = _context(browser)
    _open_draw(page, app_url)
    page.reload()
    wait_for_app(page, timeout=60_000)
    expect(page.get_by_text("Draw a digit on the black canvas").first).to_be_visible(timeout=30_000)
    assert page.get_by_text(NOTE).count() == 0
    assert_no_exception(page)
    ctx.close()


def test_a_canvas_emptied_with_the_toolbars_bin_stays_empty_after_another_page(browser, app_url):
    """The bin above the canvas ("Reset canvas & history") forgot the strokes, but the page kept the last
    drawing and put it back when the learner came back from another page."""
    ctx, page = _context(browser)
    canvas = _open_draw(page, app_url)
    _stroke(page, canvas.bounding_box(), [(0.22, 0.2), (0.78, 0.2), (0.45, 0.86)])     # a 7
    expect(_value(page)).to_have_text("7", timeout=30_000)
    wait_for_app(page)
    page.get_by_role("button", name="Reset canvas & history").click()
    expect(page.get_by_text("The canvas is empty").first).to_be_visible(timeout=30_000)
    wait_for_app(page)
    page.get_by_role("link", name="Convolution").first.click()
    wait_for_app(page, timeout=60_000)
    page.get_by_role("link", name="Draw & Predict").first.click()
    wait_for_app(page, timeout=60_000)
    expect(page.locator(CANVAS)).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Draw a digit on the black canvas").first).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1000)                 # a restored drawing is drawn a moment after the canvas mounts
    assert _ink(page) == 0 and _value(page).count() == 0
    assert_no_exception(page)
    ctx.close()
