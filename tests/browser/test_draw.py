"""Draw a digit with the mouse in Chromium and see the prediction appear (Draw & Predict page)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import assert_no_exception, wait_for_app

pytestmark = pytest.mark.browser

CANVAS = '[data-testid="stBidiComponentIsolated"] canvas.upper-canvas'


def _open_draw_page(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_role("link", name="Draw & Predict").first.click()   # the sidebar's page list
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r".*/draw$"), timeout=30_000)   # waits: on a busy machine the URL follows late
    canvas = page.locator(CANVAS)
    expect(canvas).to_be_visible(timeout=30_000)
    return canvas


def _stroke(page, box, points):
    """One pen stroke through points given in canvas fractions (0–1), like a person drags the mouse."""
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def test_the_whole_canvas_fits_in_its_column(page, app_url):
    """At 1280×800 with the sidebar open, no part of the 280 px canvas is clipped by its column."""
    canvas = _open_draw_page(page, app_url)
    box = canvas.bounding_box()
    column = page.locator('[data-testid="stColumn"]').filter(has=page.locator(CANVAS)).last.bounding_box()
    assert box["width"] == 280
    assert box["x"] >= column["x"] and box["x"] + box["width"] <= column["x"] + column["width"] + 0.5, (box, column)
    assert_no_exception(page)


def test_drawing_a_seven_shows_the_prediction(page, app_url):
    canvas = _open_draw_page(page, app_url)
    expect(page.get_by_text("Draw a digit on the black canvas").first).to_be_visible()
    assert page.locator('[data-testid="stMetric"]').count() == 0, "no guess before any stroke"

    _stroke(page, canvas.bounding_box(), [(0.22, 0.2), (0.78, 0.2), (0.45, 0.86)])

    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction")
    expect(metric).to_be_visible(timeout=30_000)
    expect(metric.locator('[data-testid="stMetricValue"]')).to_have_text("7", timeout=30_000)
    expect(page.get_by_text("Prediction took").first).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(2, timeout=30_000)   # the 28×28 input and the bars
    wait_for_app(page)
    assert_no_exception(page)


def test_two_strokes_update_the_prediction(page, app_url):
    canvas = _open_draw_page(page, app_url)
    box = canvas.bounding_box()
    _stroke(page, box, [(0.5, 0.12), (0.5, 0.88)])                    # a 1 ...
    value = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").locator(
        '[data-testid="stMetricValue"]')
    expect(value).to_have_text("1", timeout=30_000)
    wait_for_app(page)
    _stroke(page, box, [(0.5, 0.12), (0.25, 0.62), (0.8, 0.62)])      # ... becomes a 4
    expect(value).to_have_text("4", timeout=30_000)
    expect(page.locator(".js-plotly-plot")).to_have_count(2, timeout=30_000)
    wait_for_app(page)
    assert_no_exception(page)


def test_a_bad_upload_gives_one_message_and_the_page_keeps_working(page, app_url, tmp_path):
    _open_draw_page(page, app_url)
    page.get_by_text("Upload a picture").click()
    wait_for_app(page)
    bad = tmp_path / "digit.png"
    bad.write_bytes(b"not really a png" * 50)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(bad))
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="not a picture")
    expect(alert).to_be_visible(timeout=30_000)
    wait_for_app(page)
    assert_no_exception(page)
    page.get_by_text("Random bundled digit").click()
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="Prediction")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("True label:").first).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(2, timeout=30_000)
    wait_for_app(page)
    assert_no_exception(page)
