"""Issue 18 ("Bugs found on the walk"): the ones only a browser shows (a note that stays, clipped text,
overlapping boxes), measured at the projector size, 1280×800."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import assert_no_exception, wait_for_app


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
