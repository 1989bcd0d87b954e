"""Links a teacher can share (issue 11): a Convolution view and a Train view, set up in one browser,
opened from the copied address in a new browser context (no shared session), look the same."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import assert_no_exception, wait_for_app

pytestmark = pytest.mark.browser


def _new_page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"])
    pg = ctx.new_page()
    pg.errors = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    return ctx, pg


def _copied_link(page) -> str:
    """Press the sidebar's "Copy link to this view" and read what it put on the clipboard."""
    page.get_by_role("button", name="Copy link to this view").click()
    expect(page.get_by_text("Link copied")).to_be_visible(timeout=10_000)
    return page.evaluate("navigator.clipboard.readText()")


def test_a_shared_convolution_link_opens_the_same_view(browser, app_url):
    ctx, page = _new_page(browser)
    page.goto(app_url + "/convolution?conv_stride=2&conv_padmode=valid&conv_preset=Sobel+x&conv_slider=3")
    wait_for_app(page)
    expect(page.get_by_text("Step 3 of 4")).to_be_visible(timeout=30_000)   # 5×5, valid, stride 2: 2×2
    page.get_by_role("button", name="Next ▶").click()
    wait_for_app(page)
    expect(page.get_by_text("Step 4 of 4")).to_be_visible(timeout=30_000)
    total = page.locator("[data-testid='conv-sum']")
    first_sum = total.inner_text()
    link = _copied_link(page)
    assert "conv_stride=2" in link and "conv_padmode=valid" in link and "conv_slider=4" in link
    assert_no_exception(page)
    ctx.close()

    ctx2, other = _new_page(browser)
    other.goto(link)
    wait_for_app(other)
    expect(other.locator("[data-testid='conv-sum']")).to_have_text(first_sum, timeout=30_000)
    expect(other.get_by_text("Step 4 of 4")).to_be_visible()
    assert other.get_by_text("cannot use").count() == 0
    assert_no_exception(other)
    ctx2.close()


def test_a_shared_train_link_opens_the_same_settings(browser, app_url):
    ctx, page = _new_page(browser)
    page.goto(app_url + "/train")
    wait_for_app(page)
    page.get_by_role("tab", name="2 · Architecture").click()
    page.get_by_text("A network from the documents").click()
    wait_for_app(page)
    page.get_by_role("tab", name="3 · Training").click()
    page.locator(".st-key-tr_epochs input").fill("3")
    page.locator(".st-key-tr_epochs input").press("Enter")
    wait_for_app(page)
    link = _copied_link(page)
    assert "tr_arch_mode=preset" in link and "tr_optimizer=sgd" in link and "tr_epochs=3" in link
    ctx.close()

    ctx2, other = _new_page(browser)
    other.goto(link)
    wait_for_app(other)
    other.get_by_role("tab", name="3 · Training").click()
    expect(other.locator(".st-key-tr_epochs input")).to_have_value("3", timeout=20_000)
    expect(other.locator(".st-key-tr_optimizer")).to_match_aria_snapshot(
        '- combobox "optimiser": SGD (plain, document 000)')
    other.get_by_role("tab", name="2 · Architecture").click()
    expect(other.get_by_role("combobox", name="Preset")).to_have_value(re.compile(r"^seed-000: "))
    assert_no_exception(other)
    ctx2.close()


def test_a_tampered_link_gives_a_message_and_the_defaults(browser, app_url):
    ctx, page = _new_page(browser)
    page.goto(app_url + "/convolution?conv_stride=99&conv_source=%3Cscript%3E")
    wait_for_app(page)
    expect(page.get_by_text("This link has settings this page cannot use")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Step 1 of 25")).to_be_visible()
    assert_no_exception(page)
    ctx.close()
