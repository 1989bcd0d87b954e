"""Issue 18 ("Bugs found on the walk"): the ones only a browser shows (a note that stays, clipped text,
overlapping boxes), measured at the projector size, 1280×800."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.app.test_plots import short_timeline  # noqa: F401  (a fixture: one short recorded run)
from tests.browser.conftest import OUTPUT, assert_no_exception, wait_for_app


def _page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"])
    pg = ctx.new_page()
    pg.errors = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    return ctx, pg


def test_link_copied_goes_once_a_setting_changes_and_the_button_stays_last(browser, app_url):
    """Bug 10: "Link copied" stayed after the settings (and so the address) had changed."""
    ctx, page = _page(browser)
    page.goto(app_url + "/evaluate")
    wait_for_app(page, timeout=60_000)
    button = page.get_by_role("button", name="Copy link to this view")
    expect(button).to_be_visible(timeout=30_000)
    # Still the last thing in the sidebar, below the page's own sidebar content (it is drawn first).
    model_note = page.locator("[data-testid='stSidebarUserContent']").get_by_text("Active model")
    assert model_note.bounding_box()["y"] < button.bounding_box()["y"]
    button.click()
    expect(page.get_by_text("Link copied")).to_be_visible(timeout=10_000)
    page.get_by_text("row-normalised").click()                  # a setting: the address changes
    wait_for_app(page)
    expect(page.get_by_text("Link copied")).to_have_count(0, timeout=10_000)
    expect(page.get_by_text("Opens this page with these settings")).to_be_visible()
    assert_no_exception(page)
    ctx.close()


def _text_sizes(page, chart_key: str) -> list[float]:
    """Font sizes (px, as drawn) of the cell texts in a plotly chart."""
    return page.evaluate("""(key) => Array.from(document.querySelectorAll(`.st-key-${key} svg text`))
        .filter(t => t.textContent.trim() && !t.closest('.infolayer') && !t.closest('.xtick') && !t.closest('.ytick'))
        .map(t => parseFloat(getComputedStyle(t).fontSize) * (t.getScreenCTM() ? t.getScreenCTM().a : 1))""", chart_key)


def _settled_box(page, locator, rounds: int = 40) -> dict:
    """The element's box once two readings 0.25 s apart agree (a rerun's stale elements are gone)."""
    last = None
    for _ in range(rounds):
        box = locator.bounding_box()
        if box is not None and box == last:
            return box
        last = box
        page.wait_for_timeout(250)
    raise AssertionError(f"the element kept moving for {rounds * 0.25:.0f} s (last box {last})")


def test_the_convolution_sum_is_on_the_first_screen_and_5x5_products_are_readable(browser, app_url):
    """Bug 9: at 1280×800 the written-out sum was below the fold (the README says it fits), and a 5×5 kernel's
    products were written at about 8 px."""
    ctx, page = _page(browser)
    page.goto(app_url + "/convolution?conv_slider=1")           # a link: the settings are folded away
    wait_for_app(page, timeout=60_000)
    total = page.locator("[data-testid='conv-sum']")
    expect(total).to_be_visible(timeout=30_000)
    expect(page.locator(".st-key-conv_fig_prod svg").first).to_be_visible(timeout=30_000)
    box = _settled_box(page, total)     # what the learner sees once the page has drawn, not a frame before
    assert box["y"] + box["height"] <= 800, f"the sum ends at {box['y'] + box['height']:.0f} px"
    page.get_by_text("Settings: input, kernel, stride and padding").click()
    page.get_by_text("Type it in").click()
    wait_for_app(page)
    size = page.get_by_label("Kernel size")
    expect(size).to_be_visible(timeout=30_000)
    size.click()
    page.get_by_role("option", name="5", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_text("Step 1 of")).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1500)       # plotly draws the new grid after the script has run
    sizes = _text_sizes(page, "conv_fig_prod")
    assert len(sizes) >= 25 and min(sizes) >= 11, sizes[:5]
    assert_no_exception(page)
    ctx.close()


def _overlap(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def test_the_grid_editors_toolbar_leaves_the_columns_buttons_free(browser, app_url):
    """Bug 11: hovering the typed grid, the data editor's toolbar covered the Columns box's − and +."""
    ctx, page = _page(browser)
    page.goto(app_url + "/convolution?conv_source=Type+your+own+grid")
    wait_for_app(page, timeout=60_000)
    page.get_by_text("Settings: input, kernel, stride and padding").click()
    editor = page.locator(".st-key-conv_grid_5x5")
    expect(editor).to_be_visible(timeout=30_000)
    editor.hover()
    toolbar = editor.locator("[data-testid='stElementToolbar']")
    expect(toolbar).to_be_visible(timeout=10_000)
    steps = page.locator(".st-key-conv_cols button")
    assert steps.count() == 2
    for i in range(2):
        assert not _overlap(toolbar.bounding_box(), steps.nth(i).bounding_box())
    assert_no_exception(page)
    ctx.close()


def _clipped_tables(page) -> list[str]:
    """Tables whose content does not fit their box (a scroll bar or the edge hides a column), and data
    grids that scroll sideways."""
    return page.evaluate("""() => [
        ...Array.from(document.querySelectorAll('[data-testid="stDataFrame"] .dvn-scroller')),
        ...Array.from(document.querySelectorAll('[data-testid="stTable"]'))]
        .filter(s => s.offsetParent && s.scrollWidth > s.clientWidth + 1)
        .map(s => s.scrollWidth + '>' + s.clientWidth)""")


def _layer_cells(page) -> list[dict]:
    """The layer table's cells: text and whether the text overflows its cell."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid="stTable"] td'))
        .filter(td => td.offsetParent)
        .map(td => ({text: td.innerText, cut: td.scrollWidth > td.clientWidth + 1}))""")


def test_the_layer_tables_names_and_parameters_fit_on_home_and_train(browser, app_url):
    """Bug 11: the parameters column was cut off on Home and in Train's model summary, and long layer
    names ("Conv2d(…)") were cut at the layer column's edge."""
    ctx, page = _page(browser)
    page.goto(app_url + "/")
    wait_for_app(page, timeout=60_000)
    page.get_by_text("Layer by layer: output shapes and parameters").click()
    expect(page.locator("[data-testid='stTable']").first).to_be_visible(timeout=30_000)
    page.wait_for_timeout(500)
    assert not _clipped_tables(page)
    cells = _layer_cells(page)
    assert cells and not [c for c in cells if c["cut"]]
    assert any("," in c["text"] for c in cells)                 # parameters with a thousands separator
    page.locator("[data-testid='stTable']").first.scroll_into_view_if_needed()
    page.screenshot(path=str(OUTPUT / "layer_table_home.png"))
    page.goto(app_url + "/train")
    wait_for_app(page, timeout=60_000)
    page.get_by_role("tab", name="2 · Architecture").click()
    expect(page.locator("[data-testid='stTable']").first).to_be_visible(timeout=30_000)
    page.wait_for_timeout(500)
    assert not _clipped_tables(page)
    assert not [c for c in _layer_cells(page) if c["cut"]]
    page.screenshot(path=str(OUTPUT / "layer_table_train.png"))
    assert_no_exception(page)
    ctx.close()


def test_backpropagations_forward_titles_fit_their_charts(browser, app_url):
    """Bug 11: "… (first 16 of" — a forward chart's title ran past its quarter-width chart."""
    ctx, page = _page(browser)
    page.goto(app_url + "/backpropagation?bp_net=active")
    wait_for_app(page, timeout=60_000)
    expect(page.locator(".st-key-bp_fwd_0 .gtitle")).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1500)
    over = page.evaluate("""() => Array.from(document.querySelectorAll('[class*="st-key-bp_fwd_"] .js-plotly-plot'))
        .map(p => { const r = p.getBoundingClientRect(), t = p.querySelector('.gtitle');
                    const b = t ? t.getBoundingClientRect() : r;
                    return b.right > r.right + 1 ? t.textContent : null; }).filter(x => x)""")
    assert not over, over
    assert_no_exception(page)
    ctx.close()


def test_watch_it_learns_colour_bar_labels_leave_the_probability_axis_free(browser, short_timeline, tmp_path):
    """Bug 11: the feature maps' colour bar labels collided with the probability axis's tick labels. The figure
    is drawn by the plotly.js that ships with plotly (offline), at the width it gets at 1280×800."""
    from ui.views.train.timeline_plots import point_figure

    fig = point_figure(short_timeline)
    html = tmp_path / "fig.html"
    html.write_text(fig.to_html(include_plotlyjs=True, full_html=True, default_width="820px"))
    ctx, page = _page(browser)
    page.goto(html.as_uri())
    page.wait_for_selector(".colorbar", timeout=30_000)
    boxes = page.evaluate("""() => {
        const rect = el => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
        const bars = Array.from(document.querySelectorAll('.colorbar')).map(c => Array.from(
            c.querySelectorAll('text')).filter(t => t.textContent.trim()).map(rect)).flat();
        const ticks = Array.from(document.querySelectorAll('.ytick text, .y3tick text')).filter(
            t => t.closest('.subplot.xy3') || t.closest('[class*="y3"]')).map(rect);
        return {bars, ticks};
    }""")
    assert boxes["bars"] and boxes["ticks"], boxes
    hits = [(b, t) for b in boxes["bars"] for t in boxes["ticks"]
            if not (b[2] <= t[0] or t[2] <= b[0] or b[3] <= t[1] or t[3] <= b[1])]
    assert not hits, hits[:3]
    ctx.close()


CUT_TEXTS = """(sel) => {
    const out = [];
    for (const root of document.querySelectorAll(sel)) {
        for (const i of root.querySelectorAll('input'))       // a select box shows its value in an input
            if (i.value && i.scrollWidth > i.clientWidth + 1) out.push(i.value.slice(0, 40));
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            if (!n.textContent.trim()) continue;
            const range = document.createRange(); range.selectNodeContents(n);
            const w = range.getBoundingClientRect().width;
            let box = n.parentElement;
            while (box && box !== root && getComputedStyle(box).overflow === 'visible') box = box.parentElement;
            if (box && w > box.clientWidth + 1 && box.clientWidth > 0) out.push(n.textContent.trim().slice(0, 40));
        }
    }
    return out;
}"""


def test_the_sweeps_axis_names_are_not_cut(browser, app_url):
    """Bug 11: a custom grid's axis box read "kernels in t…" (kernels in the first conv layer)."""
    ctx, page = _page(browser)
    page.goto(app_url + "/sweep")
    wait_for_app(page, timeout=60_000)
    page.get_by_text("Custom grid").click()
    wait_for_app(page)
    expect(page.locator(".st-key-sw_ax1")).to_be_visible(timeout=30_000)
    assert not page.evaluate(CUT_TEXTS, ".st-key-sw_ax1, .st-key-sw_ax2")
    assert_no_exception(page)
    ctx.close()


def test_the_optimisers_names_are_not_cut_on_train(browser, app_url):
    """Bug 11: the optimiser box read "Adam (document 002" / "SGD (plain, document 0…" in its quarter column."""
    ctx, page = _page(browser)
    for opt in ("sgd", "adam", "momentum"):
        page.goto(app_url + f"/train?tr_optimizer={opt}")
        wait_for_app(page, timeout=60_000)
        page.get_by_role("tab", name="3 · Training").click()
        expect(page.locator(".st-key-tr_optimizer")).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1500)             # the tab's widgets are laid out once it is shown
        cut = page.evaluate("""(sel) => Array.from(document.querySelectorAll(sel)).filter(
            e => (e.value || e.textContent).trim() && e.scrollWidth > e.clientWidth + 1).map(e => e.value || e.textContent)""",
                            ".st-key-tr_optimizer input, .st-key-tr_optimizer span, .st-key-tr_optimizer p, "
                            ".st-key-tr_engine p")
        assert not cut, (opt, cut)
    assert_no_exception(page)
    ctx.close()


def test_the_canvas_toolbar_covers_no_input_option(browser, app_url):
    """Bug 11: the canvas's floating toolbar (upload, undo, redo, pen, bin) sat over the input radio's last
    option ("Random bundled digit") at 1280×800, so a click there hit the toolbar."""
    ctx, page = _page(browser)
    page.goto(app_url + "/draw")
    wait_for_app(page, timeout=60_000)
    canvas = page.locator('[data-testid="stBidiComponentIsolated"] canvas.upper-canvas').first
    expect(canvas).to_be_visible(timeout=30_000)
    box = canvas.bounding_box()                               # draw a 7: the page settles with its answer
    page.mouse.move(box["x"] + 100, box["y"] + 60)
    page.mouse.down()
    page.mouse.move(box["x"] + 180, box["y"] + 60, steps=8)
    page.mouse.move(box["x"] + 120, box["y"] + 230, steps=8)
    page.mouse.up()
    expect(page.get_by_text("What it says")).to_be_visible(timeout=30_000)
    expect(page.locator("[data-testid='stMetric']").filter(has_text="Prediction")).to_be_visible(timeout=30_000)
    canvas.hover()
    toolbar = page.locator('[data-testid="stBidiComponentIsolated"] .dc-toolbar-card').first
    expect(toolbar).to_be_visible(timeout=10_000)
    t = toolbar.bounding_box()
    options = page.locator("[data-testid='stRadio']").first.locator("[role='radiogroup'] label")
    assert options.count() == 4
    for i in range(options.count()):
        o = options.nth(i).bounding_box()
        overlap = (min(t["x"] + t["width"], o["x"] + o["width"]) > max(t["x"], o["x"])
                   and min(t["y"] + t["height"], o["y"] + o["height"]) > max(t["y"], o["y"]))
        assert not overlap, f"the toolbar {t} covers the option {options.nth(i).inner_text()!r} {o}"
    option = page.get_by_text("Random bundled digit")
    option.click()                                            # the click reaches the option, not the toolbar
    expect(page.get_by_role("button", name="Pick another random digit")).to_be_visible(timeout=30_000)
    assert_no_exception(page)
    ctx.close()


FITS = """sel => Array.from(document.querySelectorAll(sel)).filter(b => b.offsetParent).map(b => {
    const text = Array.from(b.querySelectorAll('p, span, div')).filter(e => e.children.length === 0 && e.innerText.trim());
    const cut = text.some(e => e.scrollWidth > e.clientWidth + 1);
    return {label: b.innerText.trim(), width: b.getBoundingClientRect().width, cut};
})"""


def test_the_convolution_steppers_buttons_keep_their_words_on_a_tablet_with_the_sidebar_open(browser, app_url):
    """Bug 11: at 1024 px with the sidebar open the buttons beside the slider read "◀ P…", "Ne…" and the
    Speed menu "S…"; below 760 px of page width they now take a row of their own."""
    ctx = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    page = ctx.new_page()
    page.goto(app_url + "/convolution?conv_slider=1")
    wait_for_app(page, timeout=60_000)
    expect(page.locator(".st-key-conv_nav button").first).to_be_visible(timeout=30_000)
    expect(page.locator("[data-testid='stSidebar']")).to_be_visible()
    buttons = page.evaluate(FITS, ".st-key-conv_nav button, .st-key-conv_size button")
    assert len(buttons) == 4, buttons
    for b in buttons:
        assert b["width"] >= 100 and not b["cut"], b
    assert {b["label"].split("\n")[-1] for b in buttons} >= {"◀ Previous", "Next ▶"}
    ctx.close()
