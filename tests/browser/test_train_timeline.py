"""Train in Chromium: after a short run the learning timeline is there, and its slider moves the kernels."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import OUTPUT, assert_no_exception, start_training, wait_for_app

pytestmark = pytest.mark.browser

# The animated figure is the plot with frames; its first trace is the kernel mosaic.
_ANIM = """(() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .find(p => p._transitionData && p._transitionData._frames && p._transitionData._frames.length))()"""
KERNELS = "() => { const p = " + _ANIM + "; return p ? p._fullData[0].z.map(r => Array.from(r)) : null; }"
TITLE = "() => { const p = " + _ANIM + "; return p ? p.layout.title.text : ''; }"
AT_END = "() => { const p = " + _ANIM + "; const s = p && p.layout.sliders[0]; return !!s && s.active === s.steps.length - 1; }"


def _wait(page, js, pred, timeout=15_000):
    page.wait_for_function(f"() => ({pred})(({js})())", timeout=timeout)


def test_a_short_run_then_the_timeline_slider_moves_the_kernels(page, app_url):
    start_training(page, app_url, epochs=1, document_network=True)

    expect(page.get_by_text("Watch it learn").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Finished after 1 epoch,").first).to_be_visible(timeout=120_000)
    wait_for_app(page)
    _wait(page, AT_END, "ok => ok", timeout=30_000)
    assert "probe is predicted" in page.evaluate(TITLE)
    plot = page.locator(".js-plotly-plot", has=page.locator(".slider-container")).first
    plot.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUTPUT / "train_timeline_end.png"))
    trained = page.evaluate(KERNELS)
    assert trained and len(trained) >= 3

    # Drag the slider to its start: the initial (random) kernels.
    rail = plot.locator(".slider-rail-rect").first.bounding_box()
    page.mouse.click(rail["x"] + 2, rail["y"] + rail["height"] / 2)
    _wait(page, TITLE, "t => t.startsWith('initial weights')")
    initial = page.evaluate(KERNELS)
    diff = max(abs(a - b) for ra, rb in zip(initial, trained) for a, b in zip(ra, rb)
               if a is not None and b is not None)
    assert diff > 0.01, "the slider did not change the kernels"
    page.screenshot(path=str(OUTPUT / "train_timeline_start.png"))

    # Play runs through the frames in the browser.
    plot.get_by_text("▶ Play").click()
    _wait(page, TITLE, "t => !t.startsWith('initial weights')", timeout=10_000)
    grad = page.locator(".js-plotly-plot", has=page.get_by_text("Weight-gradient norm per layer")).first
    grad.scroll_into_view_if_needed()
    expect(grad).to_be_visible()
    page.screenshot(path=str(OUTPUT / "train_timeline_gradients.png"))

    # The same settings and seed again: Compare runs overlays both and says their curves are identical.
    page.get_by_text("Settings for a new run").click()
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("Compare runs").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Finished after 1 epoch,").first).to_be_visible(timeout=120_000)
    note = page.get_by_text("have the same settings and seed: their loss curves are identical").first
    expect(note).to_be_visible(timeout=30_000)
    note.scroll_into_view_if_needed()
    page.screenshot(path=str(OUTPUT / "train_compare.png"))
    assert_no_exception(page)
