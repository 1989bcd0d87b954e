"""The Backpropagation page in Chromium: draw a digit, open the page, pick a conv weight, read its
gradient written out as a sum and the autograd agreement; then apply one update step."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import OUTPUT, assert_no_exception, wait_for_app
from tests.browser.test_draw import _open_draw_page, _stroke

pytestmark = pytest.mark.browser


def _set_number(page, label: str, value: int) -> None:
    box = page.get_by_label(label)
    box.fill(str(value))
    box.press("Enter")
    wait_for_app(page)


def test_a_drawn_digit_through_backpropagation(page, app_url):
    canvas = _open_draw_page(page, app_url)
    _stroke(page, canvas.bounding_box(), [(0.22, 0.2), (0.78, 0.2), (0.45, 0.86)])     # a 7
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="Prediction")).to_be_visible(timeout=30_000)
    wait_for_app(page)
    page.get_by_role("link", name="Backpropagation").first.click()
    wait_for_app(page, 60_000)
    expect(page.get_by_text("Backpropagation: how a CNN learns")).to_be_visible(timeout=30_000)
    # the drawing is the input, and the label defaults to what the trained model reads: 7
    expect(page.get_by_role("radiogroup", name="Input").get_by_text("Your drawing")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("L = −ln p_y").first).to_be_visible(timeout=30_000)

    _set_number(page, "kernel (1–8)", 3)
    _set_number(page, "weight row (1–3)", 1)
    total = page.locator("[data-testid='bp-sum']").first
    expect(total).to_contain_text("∂L/∂W[3, 1, 1, 2] = Σ over the 26×26 positions", timeout=30_000)
    expect(total).to_contain_text("more terms")
    agree = page.locator("[data-testid='bp-autograd']")
    expect(agree).to_contain_text("the largest difference from the numbers above is")
    numerical = page.locator("[data-testid='bp-numerical']")
    expect(numerical).to_contain_text("∂L/∂W[3, 1, 1, 2] of layer 1")
    expect(numerical).to_contain_text("relative error")
    page.screenshot(path=str(OUTPUT / "backprop_conv_weight.png"), full_page=True)

    page.get_by_role("button", name="Apply one step").click()
    wait_for_app(page, 60_000)
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="Loss on this input")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("has taken 1 step on this input")).to_be_visible()
    assert_no_exception(page)
