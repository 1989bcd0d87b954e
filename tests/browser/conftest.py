"""Shared fixtures for browser tests: the app in a subprocess, Debian's Chromium via Playwright.

Outside CI, a machine without Chromium skips these tests with the reason; under CI=true they
fail instead, so a green CI always means the browser paths ran.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "browser"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _need_browser():
    path = _chromium()
    if path is None:
        msg = "Debian's Chromium is not installed (apt-get install chromium); browser tests cannot run"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + " and CI=true requires them.")
        pytest.skip(msg + ".")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(log_name: str = "streamlit.log"):
    """Start the app as `make run` does (``python -m ui.app.serve``) on a free port; yield its base URL."""
    port = _free_port()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    log = open(OUTPUT / log_name, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.app.serve", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.2)
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited at start; see test-output/browser/{log_name}")
        else:
            pytest.fail(f"streamlit did not start within 60 s; see test-output/browser/{log_name}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def app_url():
    """Start the app once for the session; yield its base URL."""
    _need_browser()
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    path = _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        b.devices = p.devices          # Playwright's device profiles, for device_context
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    """A fresh 1280×800 page (the projector size); JS errors collected in page.errors.

    A screenshot is saved under test-output/browser/<test name>.png at the end.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    yield pg
    try:
        pg.screenshot(path=str(OUTPUT / f"{request.node.name}.png"), full_page=True)
    except Exception:  # the page may already be gone after a failure; the test result says why
        pass
    context.close()


def wait_for_app(page, timeout: int = 30_000) -> None:
    """Wait until Streamlit has finished running the script (no 'Running...' status widget)."""
    # The "Running…" widget can appear a moment after an action; the app's own script-state
    # attribute is exact once set.
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)


def assert_no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, "the page shows a Python traceback"
    assert not page.errors, f"JavaScript errors: {page.errors}"


def start_training(page, app_url: str, epochs: int, document_network: bool = False) -> None:
    """Open the Train page, optionally pick document 000's small network, set the epochs and press
    Start, as a learner does (each test then waits for what it looks at)."""
    from playwright.sync_api import expect

    page.goto(app_url + "/train")
    wait_for_app(page, timeout=60_000)
    if document_network:
        page.get_by_role("tab", name="2 · Architecture").click()
        page.get_by_text("A network from the documents").click()      # seed-000: 8 kernels 3×3, SGD, batch 100
        expect(page.get_by_text("Document 000's from-scratch network").first).to_be_visible(timeout=20_000)
    page.get_by_role("tab", name="3 · Training").click()
    box = page.get_by_label("epochs", exact=True)
    box.fill(str(epochs))
    box.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Start training").click()


# --- Phones and tablets: device profiles and real touch events -------------------------------------------
# Playwright's mouse never produces touch events, and page.touchscreen only taps; these helpers send
# touchStart / touchMove / touchEnd through the Chrome DevTools Protocol, which Chromium handles like a
# finger: it hit-tests, applies touch-action, scrolls, and fires the page's touch listeners.

CHROMEBOOK = {"viewport": {"width": 1366, "height": 768}, "device_scale_factor": 1, "is_mobile": False,
              "has_touch": True}


def device_context(browser, device: str, **overrides):
    """A new context emulating one of Playwright's device profiles ("iPhone 13", "Pixel 7", "iPad (gen 7)")
    in Chromium, or "Chromebook" (1366×768, touch screen). Close it when done."""
    profile = CHROMEBOOK if device == "Chromebook" else browser.devices[device]
    profile = {k: v for k, v in profile.items() if k != "default_browser_type"}   # always Chromium here
    return browser.new_context(**{**profile, **overrides})


def _cdp(page):
    session = getattr(page, "_touch_cdp", None)
    if session is None:
        session = page._touch_cdp = page.context.new_cdp_session(page)
    return session


def touch_path(page, xy, steps: int = 8, hold: int = 3) -> None:
    """One finger down at xy[0], moved through the other points (``steps`` moves per segment, 16 ms
    apart, a 60 Hz touch screen), lifted at the last one. The finger rests there for ``hold`` events
    100 ms apart first, so a swipe ends without a fling (momentum scrolling would make the distance
    scrolled depend on how fast the test's events happened to arrive)."""
    cdp = _cdp(page)
    clock = [time.time()]

    def send(kind, pts, dt):
        clock[0] += dt
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "timestamp": clock[0], "touchPoints": [
            {"x": float(x), "y": float(y), "id": 1} for x, y in pts]})

    send("touchStart", [xy[0]], 0.0)
    last = xy[0]
    for x, y in xy[1:]:
        for i in range(1, steps + 1):
            send("touchMove", [(last[0] + (x - last[0]) * i / steps, last[1] + (y - last[1]) * i / steps)], 0.016)
        last = (x, y)
    for _ in range(hold):
        send("touchMove", [last], 0.1)
    send("touchEnd", [], 0.016)


def touch_stroke(page, locator, points, steps: int = 8) -> None:
    """A one-finger stroke over ``locator`` through points given as fractions (0–1) of its box, like a
    person drawing with a finger (the touch twin of test_draw's mouse ``_stroke``)."""
    box = locator.bounding_box()
    touch_path(page, [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points], steps)


def touch_swipe(page, x0: float, y0: float, x1: float, y1: float, steps: int = 12) -> None:
    """A one-finger swipe from (x0, y0) to (x1, y1) in viewport pixels: upwards (y1 < y0) scrolls down."""
    touch_path(page, [(x0, y0), (x1, y1)], steps)


def touch_tap(page, x: float, y: float) -> None:
    """A one-finger tap at (x, y) in viewport pixels."""
    touch_path(page, [(x, y)], steps=1, hold=0)


# Streamlit's page does not scroll the window: its <main data-testid="stMain"> is the scroll container.
_SCROLL_TOP = "(() => { const m = document.querySelector('[data-testid=\"stMain\"]'); return (m ? m.scrollTop : 0) + window.scrollY; })()"


def scroll_y(page) -> float:
    """How far the page is scrolled (stMain's scrollTop, plus the window's should it ever scroll), once it
    has stopped changing: a touch scroll is applied a frame or two later."""
    page.wait_for_function("""() => new Promise(done => {
        const top = () => %s;
        let last = top(), still = 0;
        const tick = () => { const now = top(); if (now === last) { if (++still >= 5) return done(true); }
                             else { last = now; still = 0; } requestAnimationFrame(tick); };
        requestAnimationFrame(tick); })""" % _SCROLL_TOP)
    return page.evaluate(_SCROLL_TOP)


def scroll_by(page, dy: float) -> None:
    """Scroll the page by dy px (as a script, not a finger), e.g. to make room around an element."""
    page.evaluate("dy => (document.querySelector('[data-testid=\"stMain\"]') || window).scrollBy(0, dy)", dy)
