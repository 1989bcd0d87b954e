"""The very first visitor of a fresh server may arrive through a shared link (/convolution, not /).

Streamlit starts in its old pages-folder mode when a ``pages/`` folder sits beside app.py and
leaves it only once ``st.navigation`` has run; a first session that opened a deep link got a
"Page not found" dialog. This test starts its own server so that it really is the first session.
"""
from __future__ import annotations

import subprocess
import sys
import time
import urllib.request

import pytest

from tests.browser.conftest import OUTPUT, ROOT, _free_port, assert_no_exception, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture
def fresh_server():
    port = _free_port()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    log = open(OUTPUT / "streamlit-first-link.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.serve", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                break
        except OSError:
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_first_session_of_a_fresh_server_opens_a_shared_link(fresh_server, page):
    page.goto(fresh_server + "/convolution")
    wait_for_app(page, timeout=60_000)
    page.wait_for_timeout(500)
    body = page.inner_text("body")
    assert "Page not found" not in body
    assert page.url.rstrip("/").endswith("/convolution")
    assert page.locator("h1").first.inner_text().strip().startswith("Convolution")
    assert_no_exception(page)
