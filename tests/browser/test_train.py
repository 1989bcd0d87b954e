"""Train in Chromium: the curves grow with nobody clicking, and a reload reattaches to the same run."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from .conftest import OUTPUT, assert_no_exception, start_training, wait_for_app

pytestmark = pytest.mark.browser

# plotly.js keeps the decoded arrays in _fullData (data may hold the base64-packed originals).
_LOSS_X = """(() => {
  const plot = Array.from(document.querySelectorAll('.js-plotly-plot'))
      .find(p => p.layout && p.layout.title && (p.layout.title.text || '').replace(/<[^>]+>/g, '') === 'Loss');
  const trace = plot && plot._fullData && plot._fullData[0];
  return trace && trace.x ? Array.from(trace.x) : [];
})()"""
LOSS_POINTS = "() => " + _LOSS_X + ".length"
LAST_STEP = "() => { const x = " + _LOSS_X + "; return x.length ? Number(x[x.length - 1]) : 0; }"


def _step(page) -> int:
    text = page.locator('[data-testid="stProgress"]').first.inner_text(timeout=10_000)
    m = re.search(r"step ([\d,]+)/", text)
    return int(m.group(1).replace(",", "")) if m else 0


def _wait_until(pred, timeout=30.0, every=0.25):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return True
        time.sleep(every)
    return False


def test_a_run_grows_its_curves_by_itself_and_survives_a_reload(page, app_url):
    start_training(page, app_url, epochs=40, document_network=True)

    expect(page.get_by_text(re.compile(r"Training: step [\d,]+/")).first).to_be_visible(timeout=60_000)
    assert _wait_until(lambda: page.evaluate(LOSS_POINTS) > 0), "the loss curve never got a point"
    first_points, first_step = page.evaluate(LOSS_POINTS), page.evaluate(LAST_STEP)
    # Nobody touches the page: the fragment redraws every second with new steps.
    assert _wait_until(lambda: page.evaluate(LAST_STEP) > first_step + 5, timeout=20), \
        "the curve did not gain points without a click"
    assert page.evaluate(LOSS_POINTS) >= first_points
    page.screenshot(path=str(OUTPUT / "train_running.png"), full_page=False)

    run_id = re.search(r"[?&]run=([0-9a-f]+)", page.url).group(1)
    before = _step(page)
    page.reload()
    expect(page.get_by_text(run_id).first).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"Training: step [\d,]+/")).first).to_be_visible(timeout=30_000)
    assert _wait_until(lambda: _step(page) > before), "after the reload the same run is not seen progressing"
    assert _wait_until(lambda: page.evaluate(LOSS_POINTS) >= first_points), "history lost on reload"
    assert run_id in page.url

    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text(re.compile("Stopped by you")).first).to_be_visible(timeout=15_000)
    expect(page.get_by_role("button", name="Use as active model")).to_be_visible()
    wait_for_app(page)
    assert_no_exception(page)


def _cell_to_click():
    """A confusion cell with images that is NOT the one the page picks first (the largest confusion)."""
    import numpy as np

    from cnn_core.data import datasets as data, splits
    from cnn_core.inference import evaluation
    from cnn_core.models import pretrained

    parts = splits.doc000_split(data.load_bundled())
    held = data.ImageDataset("held", np.concatenate([parts.val.images, parts.test.images]),
                             np.concatenate([parts.val.labels, parts.test.labels]), data.DIGIT_CLASSES)
    cm = evaluation.evaluate(pretrained.load_default(), held).confusion
    off = cm.copy()
    np.fill_diagonal(off, -1)
    first = np.unravel_index(off.argmax(), off.shape)
    others = [(t, p) for t, p in zip(*np.nonzero(off > 0)) if (t, p) != first]
    t, p = others[-1] if others else (3, 3)
    return int(t), int(p), int(cm[t, p])


def test_evaluate_shows_the_confusion_matrix_and_clicking_a_cell_shows_its_images(page, app_url):
    t, p, n = _cell_to_click()
    page.goto(app_url + "/evaluate")
    wait_for_app(page, timeout=60_000)
    expect(page.get_by_text("Confusion matrix").first).to_be_visible(timeout=30_000)
    plot = page.locator(".js-plotly-plot").first
    expect(plot).to_be_visible(timeout=30_000)
    plot.scroll_into_view_if_needed()
    box = plot.locator(".nsewdrag").first.bounding_box()
    x = box["x"] + (p + 0.5) * box["width"] / 10
    y = box["y"] + (t + 0.5) * box["height"] / 10
    page.mouse.move(x, y)
    expect(page.locator(".hoverlayer").get_by_text(f"true {t}, predicted {p}")).to_be_visible(timeout=5_000)
    page.mouse.click(x, y)
    expect(page.get_by_text(re.compile(rf"{n} images?\s*of class\s*{t}\s*predicted as\s*{p}")).first
           ).to_be_visible(timeout=20_000)
    wait_for_app(page)
    images = page.locator('[data-testid="stImage"]')
    assert images.count() >= min(n, 24), "the cell's images are not shown"
    page.screenshot(path=str(OUTPUT / "evaluate_cell.png"), full_page=False)
    assert_no_exception(page)
