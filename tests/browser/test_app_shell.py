"""What every page shares (issue 11): the light / dark switch in the app's menu, and no traceback."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import assert_no_exception, wait_for_app

pytestmark = pytest.mark.browser

_BACKGROUND_LUMA = """() => {
  const c = getComputedStyle(document.querySelector('[data-testid="stApp"]')).backgroundColor;
  const [r, g, b] = c.match(/\\d+(\\.\\d+)?/g).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}"""


def test_the_menu_switches_between_light_and_dark(page, app_url):
    # Also the first visit of a fresh server, through a page's own address (this module runs first): with
    # the page files in pages/, Streamlit's old folder navigation answered it with "Page not found".
    page.goto(app_url + "/softmax")
    wait_for_app(page)
    assert page.get_by_text("Page not found").count() == 0
    page.locator('[data-testid="stMainMenu"]').click()
    page.locator('[data-testid="stMainMenuItem-theme-Dark"]').click()
    page.wait_for_function(_BACKGROUND_LUMA.replace("return (", "return 0.3 > ("), timeout=10_000)
    light = page.locator('[data-testid="stMainMenuItem-theme-Light"]')
    if not light.is_visible():          # the menu may still be open after the first choice
        page.locator('[data-testid="stMainMenu"]').click()
    light.click()
    page.wait_for_function(_BACKGROUND_LUMA.replace("return (", "return 0.7 < ("), timeout=10_000)
    expect(page.get_by_text("Softmax and cross-entropy")).to_be_visible()
    assert_no_exception(page)
