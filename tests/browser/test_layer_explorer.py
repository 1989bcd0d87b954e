"""The Layer Explorer in Chromium: a closed layer draws its feature maps when the learner opens it."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_exception, wait_for_app

pytestmark = pytest.mark.browser


def test_opening_a_layer_draws_its_maps(page, app_url):
    page.goto(app_url + "/layer-explorer")
    wait_for_app(page)
    layer5 = page.locator('[data-testid="stExpander"]').filter(has_text="5. Conv2D")
    expect(layer5).to_be_visible(timeout=30_000)
    expect(page.locator(".st-key-lx_fig_maps_0 .main-svg").first).to_be_visible(timeout=30_000)
    assert layer5.locator(".js-plotly-plot").count() == 0
    layer5.locator("summary").click()
    expect(layer5.locator(".st-key-lx_fig_maps_4 .main-svg").first).to_be_visible(timeout=30_000)
    expect(layer5.get_by_text("64 maps of 14×14")).to_be_visible()
    wait_for_app(page)
    assert_no_exception(page)
