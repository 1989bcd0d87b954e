"""Phones, tablets and a Chromebook, with real touch events (tests/browser/conftest.py: touch_stroke,
touch_swipe, touch_tap send them through the DevTools protocol, as a finger would).

- After a touch stroke on the Draw page, the answer (digit and probability) is on screen together with
  the canvas, on every profile.
- A stroke that starts on the canvas draws and never scrolls the page; a swipe beside it scrolls.
- A one-finger swipe that starts on a chart (Draw's 28×28 input, the Convolution grid, Evaluate's
  confusion matrix) scrolls the page by about the swipe's length; a tap on a chart shows its hover value
  and a tap on the confusion matrix picks the cell; a mouse still hovers and drag-zooms.
- Radio options are tall enough to tap.
- Take a photo works with a camera (Chromium's fake one).
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import (assert_no_exception, device_context, scroll_by, scroll_y, touch_stroke, touch_swipe, touch_tap,
                       wait_for_app)

pytestmark = pytest.mark.browser

CANVAS = '[data-testid="stBidiComponentIsolated"] canvas.upper-canvas'
SEVEN = [(0.22, 0.2), (0.78, 0.2), (0.45, 0.86)]
PHONES = ["iPhone 13", "Pixel 7"]
ALL_DEVICES = PHONES + ["iPad (gen 7)", "Chromebook"]


@pytest.fixture
def on_device(browser, request):
    """open(device, path) -> a page on that device profile, the app loaded at path; JS errors collected."""
    contexts = []

    def open_(device: str, path: str):
        context = device_context(browser, device)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.goto(request.getfixturevalue("app_url") + path)
        wait_for_app(page, timeout=60_000)
        return page

    yield open_
    for context in contexts:
        context.close()


def _in_viewport(page, box) -> bool:
    vp = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= vp["height"] \
        and box["x"] >= 0 and box["x"] + box["width"] <= vp["width"]


def _hit(page, x: float, y: float) -> str:
    """What a finger at (x, y) touches: the element there, looking into the canvas's shadow root."""
    return page.evaluate("""([x, y]) => { let e = document.elementFromPoint(x, y);
        while (e && e.shadowRoot) { const inner = e.shadowRoot.elementFromPoint(x, y); if (!inner || inner === e) break; e = inner; }
        return e ? e.tagName.toLowerCase() + '.' + [...e.classList].join('.') : ''; }""", [x, y])


def _visible_answer(page):
    """The prediction a learner can see: the compact one under the input on narrow screens, else the
    "What it says" metric."""
    compact = page.locator(".st-key-draw_answer")
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction")
    expect(compact.or_(metric).filter(visible=True).first).to_be_visible(timeout=30_000)
    return compact if compact.is_visible() else metric


def _draw_page(on_device, device):
    page = on_device(device, "/draw")
    canvas = page.locator(CANVAS)
    expect(canvas).to_be_visible(timeout=30_000)
    return page, canvas


@pytest.mark.parametrize("device", ALL_DEVICES)
def test_the_answer_is_on_screen_with_the_canvas_after_a_touch_stroke(on_device, device):
    page, canvas = _draw_page(on_device, device)
    canvas.scroll_into_view_if_needed()           # what a learner does first; nothing moves if it is in view
    touch_stroke(page, canvas, SEVEN)
    answer = _visible_answer(page)
    expect(answer).to_contain_text(re.compile(r"7"), timeout=30_000)
    wait_for_app(page)
    expect(answer).to_contain_text(re.compile(r"\d+\.\d %"))
    box, abox = canvas.bounding_box(), answer.bounding_box()
    assert _in_viewport(page, box), f"the canvas is not wholly on screen on {device}: {box}"
    assert _in_viewport(page, abox), (f"on {device} the answer is off screen: {abox}, viewport "
                                      f"{page.viewport_size}, canvas {box}")
    assert_no_exception(page)


@pytest.mark.parametrize("device", ALL_DEVICES)
def test_only_one_answer_is_shown(on_device, device):
    """Narrow screens show the compact answer under the input; wide ones only the "What it says" column."""
    page, canvas = _draw_page(on_device, device)
    canvas.scroll_into_view_if_needed()
    touch_stroke(page, canvas, SEVEN)
    _visible_answer(page)
    wait_for_app(page)
    stacked = page.locator('[data-testid="stColumn"]').filter(has=page.locator(CANVAS)).bounding_box()["width"] \
        > 0.6 * page.locator('[data-testid="stMainBlockContainer"]').bounding_box()["width"]
    assert page.locator(".st-key-draw_answer").is_visible() == stacked, "the compact answer goes with stacked columns"


@pytest.mark.parametrize("device", PHONES + ["iPad (gen 7)"])
def test_a_stroke_on_the_canvas_draws_and_never_scrolls(on_device, device):
    """The stroke starts near the canvas's right edge (where, on the iPad, the page's columns used to cut
    the canvas off, so the finger touched the page and scrolled it 263 px) and runs down to the left."""
    page, canvas = _draw_page(on_device, device)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    for fx, fy in [(0.9, 0.12), (0.5, 0.5), (0.1, 0.9)]:
        x, y = box["x"] + fx * box["width"], box["y"] + fy * box["height"]
        assert "upper-canvas" in _hit(page, x, y), f"({fx}, {fy}) of the canvas is covered on {device}"
    before = scroll_y(page)
    touch_stroke(page, canvas, [(0.9, 0.12), (0.55, 0.5), (0.2, 0.9)])
    _visible_answer(page)
    wait_for_app(page)
    assert scroll_y(page) == before, "a stroke on the canvas scrolled the page"
    assert_no_exception(page)


@pytest.mark.parametrize("device", ["iPhone 13", "iPad (gen 7)"])
def test_a_swipe_beside_the_canvas_scrolls(on_device, device):
    """Only the canvas owns its touches: the page around it still scrolls under a finger."""
    page, canvas = _draw_page(on_device, device)
    box = canvas.bounding_box()
    x = min(box["x"] + box["width"] + 30, page.viewport_size["width"] - 10)   # right of the canvas, or the title
    y = box["y"] + 100 if x > box["x"] + box["width"] else 60
    before = scroll_y(page)
    touch_swipe(page, x, y, x, y - 150)
    assert scroll_y(page) - before > 100, "a swipe beside the canvas did not scroll the page"


def _swipe_over_chart(page, chart) -> tuple[float, float]:
    """Swipe 200 px up from the middle of ``chart``'s plot area; (scrolled, swiped) in px."""
    drag = chart.locator(".nsewdrag").first
    wait_for_app(page)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"], [data-stale=\"true\"]')")
    drag.scroll_into_view_if_needed()
    scroll_by(page, -120)     # room below the chart for the swipe to start on it
    scroll_y(page)
    box = drag.bounding_box()
    x, y = box["x"] + box["width"] / 2, min(box["y"] + box["height"] / 2, page.viewport_size["height"] - 20)
    assert "nsewdrag" in _hit(page, x, y), "the swipe must start on the chart's plot area"
    before = scroll_y(page)
    touch_swipe(page, x, y, x, y - 200)
    return scroll_y(page) - before, 200.0


def _assert_scrolled(scrolled, swiped, what):
    # A little of the swipe goes into the touch slop (the first ~10 px, before the browser calls it a scroll).
    assert 0.6 * swiped <= scrolled <= 1.3 * swiped, f"a one-finger swipe over {what} scrolled the page {scrolled:.0f} px, not ~{swiped:.0f}"


@pytest.mark.parametrize("device", PHONES)
def test_a_swipe_over_the_draw_input_heatmap_scrolls_the_page(on_device, device):
    page, canvas = _draw_page(on_device, device)
    canvas.scroll_into_view_if_needed()
    touch_stroke(page, canvas, SEVEN)
    chart = page.locator(".st-key-draw_input_heatmap .js-plotly-plot")
    expect(chart).to_be_visible(timeout=30_000)
    wait_for_app(page)
    _assert_scrolled(*_swipe_over_chart(page, chart), "the 28×28 input")
    assert_no_exception(page)


@pytest.mark.parametrize("device", PHONES)
def test_a_swipe_over_the_convolution_grid_scrolls_the_page(on_device, device):
    page = on_device(device, "/convolution")
    chart = page.locator(".st-key-conv_fig_in .js-plotly-plot")     # the stepper's input grid
    expect(chart).to_be_visible(timeout=30_000)
    _assert_scrolled(*_swipe_over_chart(page, chart), "the convolution grid")
    assert_no_exception(page)


def _confusion_matrix(on_device, device):
    page = on_device(device, "/evaluate")
    chart = page.locator(".st-key-ev_cm .js-plotly-plot")
    expect(chart).to_be_visible(timeout=60_000)
    wait_for_app(page)
    return page, chart


@pytest.mark.parametrize("device", PHONES)
def test_a_swipe_over_the_confusion_matrix_scrolls_the_page(on_device, device):
    page, chart = _confusion_matrix(on_device, device)
    _assert_scrolled(*_swipe_over_chart(page, chart), "the confusion matrix")
    assert_no_exception(page)


def test_a_tap_on_a_heatmap_shows_its_value(on_device):
    """Hover values on touch: a tap is the mouse events a tap always becomes, and plotly shows the cell."""
    page, chart = _confusion_matrix(on_device, "iPhone 13")
    drag = chart.locator(".nsewdrag").first
    drag.scroll_into_view_if_needed()
    box = drag.bounding_box()
    touch_tap(page, box["x"] + box["width"] * 0.05, box["y"] + box["height"] * 0.05)   # the top-left cell
    label = chart.locator(".hoverlayer .hovertext").first
    expect(label).to_be_visible(timeout=10_000)
    expect(label).to_contain_text("true 0")


@pytest.mark.parametrize("device", PHONES)
def test_radio_options_are_big_enough_to_tap(on_device, device):
    page, _ = _draw_page(on_device, device)
    options = page.locator('.st-key-draw_source [data-testid="stRadioOption"]')
    expect(options.first).to_be_visible()
    heights = [o.bounding_box()["height"] for o in options.all()]
    assert len(heights) == 4 and min(heights) >= 44, f"radio options on {device}: {heights} px high"


def test_radio_options_are_at_least_24px_with_a_mouse(page, app_url):
    page.goto(app_url + "/draw")
    wait_for_app(page)
    options = page.locator('.st-key-draw_source [data-testid="stRadioOption"]')
    expect(options.first).to_be_visible(timeout=30_000)
    heights = [o.bounding_box()["height"] for o in options.all()]
    assert len(heights) == 4 and min(heights) >= 24, heights


def test_take_a_photo_with_a_camera(browser, app_url):
    """Chromium's fake camera (a moving test pattern) stands in for a phone's: the camera input renders,
    takes a picture, and the page answers with a prediction or one clear sentence, never a traceback."""
    from .conftest import CHROMIUM_ARGS, _chromium

    fake = browser.browser_type.launch(executable_path=_chromium(), args=CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"])
    try:
        context = fake.new_context(**{k: v for k, v in browser.devices["Pixel 7"].items()
                                      if k != "default_browser_type"}, permissions=["camera"])
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.goto(app_url + "/draw")
        wait_for_app(page, timeout=60_000)
        page.get_by_text("Take a photo").click()
        widget = page.locator('[data-testid="stCameraInput"]')
        expect(widget).to_be_visible(timeout=30_000)
        shoot = widget.get_by_role("button", name=re.compile("Take photo", re.I))
        expect(shoot).to_be_enabled(timeout=30_000)        # the camera stream is running
        shoot.click()
        answer = page.locator(".st-key-draw_answer").or_(page.locator('[data-testid="stAlert"]'))
        expect(answer.filter(visible=True).first).to_be_visible(timeout=30_000)
        wait_for_app(page)
        assert_no_exception(page)
    finally:
        fake.close()


def test_a_tap_on_the_confusion_matrix_picks_that_cell(on_device):
    """Taps still click: the tapped cell's images are shown, as with a mouse click."""
    page, chart = _confusion_matrix(on_device, "iPhone 13")
    drag = chart.locator(".nsewdrag").first
    drag.scroll_into_view_if_needed()
    box = drag.bounding_box()
    touch_tap(page, box["x"] + box["width"] * 0.95, box["y"] + box["height"] * 0.05)   # true 0, predicted 9
    expect(page.get_by_text(re.compile(r"of class \*?\*?0\*?\*? predicted as \*?\*?9"))).to_be_visible(timeout=30_000)
    wait_for_app(page)
    assert_no_exception(page)


def test_a_mouse_still_hovers_and_zooms_on_charts(page, app_url):
    """The touch hand-off leaves the mouse alone: hover values, and a drag zooms into the heatmap."""
    page.goto(app_url + "/draw")
    wait_for_app(page)
    page.get_by_text("Random bundled digit").click()
    chart = page.locator(".st-key-draw_input_heatmap .js-plotly-plot")
    expect(chart).to_be_visible(timeout=30_000)
    wait_for_app(page)
    box = chart.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(chart.locator(".hoverlayer .hovertext").first).to_contain_text("pixel", timeout=10_000)
    ticks = [t.text_content() for t in chart.locator(".xtick").all()]
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.6, steps=8)
    page.mouse.up()
    page.wait_for_function("""before => JSON.stringify([...document.querySelectorAll(
        '.st-key-draw_input_heatmap .xtick')].map(t => t.textContent)) !== JSON.stringify(before)""",
                           arg=ticks, timeout=10_000)       # zoomed in: other tick labels
