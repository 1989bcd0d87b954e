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
