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


# --- the overview (issue 13) ---------------------------------------------------------------------

def _map_centre(page, fig_key: str, column_key: int, nth: int = 0) -> tuple[float, float]:
    """Page pixel of the nth drawn map of overview column ``column_key`` (a spec layer index), from
    plotly's own axes: where a person would click it."""
    return tuple(page.evaluate(
        """([sel, key, nth]) => {
            const gd = document.querySelector(sel);
            const t = gd._fullData.find(d => d.name === 'maps');  // decoded arrays
            const cd = t.customdata;  // [column key, map] per point, maybe a typed array
            const n = t.x.length, pts = [];
            for (let i = 0; i < n; i++) {
                const row = cd[i], k = (row != null && row.length !== undefined) ? row[0] : cd[2 * i];
                if (k === key) pts.push(i);
            }
            const i = pts[nth];
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
            return [box.left + xa._offset + xa.l2p(t.x[i]), box.top + ya._offset + ya.l2p(t.y[i])];
        }""", [f".st-key-{fig_key} .js-plotly-plot", column_key, nth]))


def test_draw_then_click_a_map_of_the_second_conv_layer_shows_its_channel_sums_and_total(page, app_url):
    from .test_draw import _open_draw_page, _stroke

    canvas = _open_draw_page(page, app_url)
    _stroke(page, canvas.bounding_box(), [(0.22, 0.2), (0.78, 0.2), (0.45, 0.86)])   # a 7
    value = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").locator('[data-testid="stMetricValue"]')
    expect(value).to_have_text("7", timeout=30_000)
    wait_for_app(page)
    page.get_by_role("link", name="Layer Explorer").first.click()
    wait_for_app(page)
    fig = page.locator(".st-key-lx_ov_fig .js-plotly-plot")
    expect(fig).to_be_visible(timeout=30_000)
    assert fig.bounding_box()["y"] < 800, "the overview is the first thing on screen at 1280×800"
    expect(page.get_by_text("Your drawing").first).to_be_visible()
    page.screenshot(path="test-output/browser/layer_explorer_overview.png")
    # the default model's second conv layer is spec layer 4 (conv, BN, ReLU, pool, conv)
    x, y = _map_centre(page, "lx_ov_fig", 4, nth=1)
    page.mouse.move(x, y)
    expect(page.locator(".hoverlayer").get_by_text("click: how it was made")).to_be_visible(timeout=10_000)
    page.mouse.click(x, y)
    expect(page.get_by_text("Channel sums").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("of layer 5 (Conv2D(64").first).to_be_visible()
    total = page.locator('[data-testid="neuron-total"]')
    expect(total).to_contain_text("bias")
    assert total.inner_text().count("+") + total.inner_text().count("−") >= 32, "32 channel sums, then the bias"
    wait_for_app(page)
    page.screenshot(path="test-output/browser/layer_explorer_selected.png")
    page.locator(".st-key-lx_dd_conv").scroll_into_view_if_needed()
    page.screenshot(path="test-output/browser/layer_explorer_conv_parts.png")
    total.scroll_into_view_if_needed()
    page.screenshot(path="test-output/browser/layer_explorer_conv_total.png")
    assert_no_exception(page)
    # the same neuron on the Convolution page: the input channel and its kernel slice, stepped there
    page.get_by_role("button", name="Open in the Convolution page").click()
    expect(page.get_by_text("Input: From the Layer Explorer: layer 5").first).to_be_visible(timeout=30_000)
    assert "/convolution" in page.url
    wait_for_app(page)
    expect(page.locator('[data-testid="conv-sum"]')).to_be_visible()
    page.screenshot(path="test-output/browser/convolution_from_layer_explorer.png")
    assert_no_exception(page)
