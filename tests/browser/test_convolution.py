"""The Convolution page in Chromium: step the window and watch the sum and the map change."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import OUTPUT, assert_no_exception, wait_for_app

pytestmark = pytest.mark.browser


MAP_CELLS = ".st-key-conv_fig_out .heatmap-label text"


def map_texts(page) -> list[str]:
    """The numbers printed in the 'Feature map so far' heatmap (cells not reached yet print nothing)."""
    return page.locator(MAP_CELLS).all_text_contents()


def test_step_the_window_forward(page, app_url):
    page.goto(app_url + "/convolution")
    wait_for_app(page)
    total = page.locator("[data-testid='conv-sum']")
    expect(total).to_contain_text("105·5 + 102·(−1)", timeout=30_000)
    expect(total).to_contain_text("= 320")
    expect(page.get_by_text("Step 1 of 25")).to_be_visible()
    expect(page.locator(MAP_CELLS)).to_have_count(1, timeout=15_000)
    assert map_texts(page) == ["320"]
    page.locator(".st-key-conv_fig_in").screenshot(path=str(OUTPUT / "convolution_window_step1.png"))

    page.get_by_role("button", name="Next ▶").click()
    expect(total).to_contain_text("= 206", timeout=15_000)
    expect(total).to_contain_text("102·5")
    expect(page.get_by_text("Step 2 of 25")).to_be_visible()
    expect(page.locator(MAP_CELLS)).to_have_count(2, timeout=15_000)
    assert map_texts(page) == ["320", "206"]

    page.get_by_role("button", name="Next ▶").click()
    expect(total).to_contain_text("= 198", timeout=15_000)
    wait_for_app(page)
    page.locator(".st-key-conv_fig_in").screenshot(path=str(OUTPUT / "convolution_window_step3.png"))
    assert_no_exception(page)


def test_play_advances_by_itself(page, app_url):
    page.goto(app_url + "/convolution")
    wait_for_app(page)
    expect(page.get_by_text("Step 1 of 25")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Play").click()
    # nobody clicks: the fragment moves the window on its own
    expect(page.get_by_text("Step 3 of 25")).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Pause").click()
    wait_for_app(page)
    assert_no_exception(page)
