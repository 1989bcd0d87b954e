"""Every task has a keyboard path (issue 18): no mouse in these tests, only Tab, arrows, Enter and typing.

The canvas cannot be drawn with keys; the other inputs of the Draw page can be chosen and used. The
Convolution stepper steps with its buttons and its slider; the Train page starts a run and stops it. Each
test also checks that the focused control shows the focus ring (ui/views/accessible_style.py).
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import OUTPUT, assert_no_exception, wait_for_app

pytestmark = pytest.mark.browser

# The focused element, as a test reads it: its tag, type, role, accessible label and visible text.
_FOCUSED = """() => { const e = document.activeElement; if (!e) return null; const lab = e.closest('label');
  return {tag: e.tagName, type: e.type || '', role: e.getAttribute('role') || '',
          label: e.getAttribute('aria-label') || (lab ? lab.innerText : ''), text: (e.innerText || '').trim(),
          checked: !!e.checked, selected: e.getAttribute('aria-selected')}; }"""

# The ring the learner sees: on the focused element itself, or on the label of a hidden radio / checkbox input.
_RING = """() => { const e = document.activeElement; const lab = e.closest('label');
  const s = getComputedStyle(e.matches('input[type=radio], input[type=checkbox]') && lab ? lab : e);
  return s.outlineStyle === 'solid' && parseFloat(s.outlineWidth) >= 2; }"""


def _tab_to(page, wanted, *, key: str = "Tab", limit: int = 80) -> dict:
    """Press ``key`` until the focused element satisfies ``wanted(focused)``; fail after ``limit`` presses."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        focused = page.evaluate(_FOCUSED)
        if focused and wanted(focused):
            return focused
        seen.append(focused and (focused["label"] or focused["text"])[:30])
    pytest.fail(f"not reached with {key} in {limit} presses; focus went through {seen}")


def _button(name: str):
    """A button by its visible name (a Material icon's ligature text may come first: "casino  Pick …")."""
    return lambda f: f["tag"] == "BUTTON" and re.sub(r"^[a-z_]+\s+", "", f["text"]) == name


def test_draw_page_predicts_a_bundled_digit_with_the_keyboard(page, app_url):
    page.goto(app_url + "/draw")
    wait_for_app(page, timeout=60_000)
    expect(page.get_by_role("heading", name="What it sees")).to_be_visible(timeout=30_000)
    _tab_to(page, lambda f: f["type"] == "radio" and f["label"].strip() == "Draw")
    assert page.evaluate(_RING), "the focused input choice shows no focus ring"
    for _ in range(6):                  # arrows move through the radio group and select as they go
        if page.evaluate(_FOCUSED)["label"].strip() == "Random bundled digit":
            break
        page.keyboard.press("ArrowRight")
        wait_for_app(page)
    focused = page.evaluate(_FOCUSED)
    assert focused["label"].strip() == "Random bundled digit" and focused["checked"], focused
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction")
    expect(metric).to_be_visible(timeout=30_000)
    expect(page.get_by_text("True label:").first).to_be_visible()
    shown = page.get_by_text(re.compile(r"Bundled MNIST digit #[\d,]+ of 5,000")).first.inner_text()

    # another digit, by keys: the button is reachable and Enter presses it
    _tab_to(page, _button("Pick another random digit"))
    assert page.evaluate(_RING), "the focused button shows no focus ring"
    for _ in range(3):                  # a random pick may land on the same digit (1 in 5,000): try again
        page.keyboard.press("Enter")
        wait_for_app(page)
        if page.get_by_text(re.compile(r"Bundled MNIST digit #[\d,]+ of 5,000")).first.inner_text() != shown:
            break
    else:
        pytest.fail("Enter on 'Pick another random digit' did not change the digit")
    expect(metric).to_be_visible(timeout=30_000)
    page.screenshot(path=str(OUTPUT / "keyboard_draw.png"))
    assert_no_exception(page)


def test_draw_page_upload_and_photo_inputs_are_labelled_and_reachable(page, app_url):
    """The canvas needs a pointer; a picture from a file is the keyboard's way in (the file dialog opens
    from the focused Upload button)."""
    page.goto(app_url + "/draw")
    wait_for_app(page, timeout=60_000)
    _tab_to(page, lambda f: f["type"] == "radio" and f["label"].strip() == "Draw")
    page.keyboard.press("ArrowRight")
    wait_for_app(page)
    assert page.evaluate(_FOCUSED)["label"].strip() == "Upload a picture"
    uploader = page.locator('[data-testid="stFileUploader"]')
    expect(uploader).to_be_visible(timeout=30_000)
    expect(uploader.get_by_text(re.compile("A picture of one digit"))).to_be_visible()
    focused = _tab_to(page, _button("Upload"))
    assert focused["text"].endswith("Upload")
    assert_no_exception(page)


def test_convolution_steps_with_the_keyboard(page, app_url):
    page.goto(app_url + "/convolution")
    wait_for_app(page, timeout=60_000)
    expect(page.get_by_text("Step 1 of 25")).to_be_visible(timeout=30_000)
    _tab_to(page, _button("Next ▶"))
    assert page.evaluate(_RING), "the focused Next button shows no focus ring"
    page.keyboard.press("Enter")
    expect(page.get_by_text("Step 2 of 25")).to_be_visible(timeout=20_000)
    wait_for_app(page)
    page.keyboard.press("Space")        # still focused after the rerun: Space presses it too
    expect(page.get_by_text("Step 3 of 25")).to_be_visible(timeout=20_000)
    wait_for_app(page)

    _tab_to(page, lambda f: f["type"] == "range" and f["label"] == "Window position (step)", key="Shift+Tab")
    assert page.evaluate(_RING), "the focused slider shows no focus ring"
    page.keyboard.press("ArrowRight")
    expect(page.get_by_text("Step 4 of 25")).to_be_visible(timeout=20_000)
    wait_for_app(page)
    page.keyboard.press("End")
    expect(page.get_by_text("Step 25 of 25")).to_be_visible(timeout=20_000)
    wait_for_app(page)

    _tab_to(page, _button("◀ Previous"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Step 24 of 25")).to_be_visible(timeout=20_000)
    wait_for_app(page)
    page.screenshot(path=str(OUTPUT / "keyboard_convolution.png"))
    assert_no_exception(page)


def test_train_starts_and_stops_a_run_with_the_keyboard(page, app_url):
    page.goto(app_url + "/train")
    wait_for_app(page, timeout=60_000)
    expect(page.get_by_role("button", name="Start training")).to_be_visible(timeout=30_000)
    _tab_to(page, lambda f: f["role"] == "tab" and f["selected"] == "true")
    for _ in range(4):                  # arrows move along the tabs
        if page.evaluate(_FOCUSED)["text"] == "3 · Training":
            break
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(page.get_by_role("tab", name="3 · Training")).to_have_attribute("aria-selected", "true")
    _tab_to(page, lambda f: f["label"] == "epochs")
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("40")            # long enough to still be running when Stop is pressed
    page.keyboard.press("Enter")
    wait_for_app(page)
    expect(page.get_by_label("epochs", exact=True)).to_have_value("40")

    _tab_to(page, _button("Start training"))
    assert page.evaluate(_RING), "the focused Start button shows no focus ring"
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile(r"Training: step [\d,]+/")).first).to_be_visible(timeout=60_000)

    page.locator("body").focus()        # from the top of the page, as a learner coming back to it would
    _tab_to(page, _button("Pause"))
    _tab_to(page, _button("Stop"))
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile("Stopped by you")).first).to_be_visible(timeout=30_000)
    page.screenshot(path=str(OUTPUT / "keyboard_train.png"))
    assert_no_exception(page)
