"""Two tabs on one server: one trains (in a worker process), the other draws; both stay live."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import OUTPUT, assert_no_exception, start_training, wait_for_app
from .test_draw import _open_draw_page, _stroke
from .test_train import LAST_STEP, _wait_until

pytestmark = pytest.mark.browser


def test_one_tab_trains_while_another_draws(page, app_url):
    start_training(page, app_url, epochs=40)
    expect(page.get_by_text(re.compile(r"Training: step [\d,]+/")).first).to_be_visible(timeout=60_000)
    assert _wait_until(lambda: page.evaluate(LAST_STEP) > 0), "the loss curve never got a point"

    drawer = page.context.new_page()                      # a second tab: a session of its own
    drawer.errors = []
    drawer.on("pageerror", lambda exc: drawer.errors.append(str(exc)))
    canvas = _open_draw_page(drawer, app_url)
    box = canvas.bounding_box()
    _stroke(drawer, box, [(0.5, 0.12), (0.5, 0.88)])      # a 1 ...
    value = drawer.locator('[data-testid="stMetric"]').filter(has_text="Prediction").locator(
        '[data-testid="stMetricValue"]')
    expect(value).to_have_text("1", timeout=30_000)
    wait_for_app(drawer)
    _stroke(drawer, box, [(0.5, 0.12), (0.25, 0.62), (0.8, 0.62)])   # ... becomes a 4, while the run trains
    expect(value).to_have_text("4", timeout=30_000)
    drawer.screenshot(path=str(OUTPUT / "two_tabs_drawer.png"), full_page=False)
    assert_no_exception(drawer)

    step = page.evaluate(LAST_STEP)                        # the training tab kept going meanwhile
    assert _wait_until(lambda: page.evaluate(LAST_STEP) > step + 5, timeout=30), "the training tab stopped updating"
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text(re.compile("Stopped by you")).first).to_be_visible(timeout=15_000)
    wait_for_app(page)
    assert_no_exception(page)
    drawer.close()
