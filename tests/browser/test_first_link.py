"""The very first visitor of a fresh server may arrive through a shared link (/convolution, not /).

Streamlit starts in its old pages-folder mode when a ``pages/`` folder sits beside app.py and
leaves it only once ``st.navigation`` has run; a first session that opened a deep link got a
"Page not found" dialog. This test starts its own server so that it really is the first session.
"""
from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.browser.conftest import assert_no_exception, streamlit_server, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture
def fresh_server():
    with streamlit_server("streamlit-first-link.log") as url:
        yield url


def test_first_session_of_a_fresh_server_opens_a_shared_link(fresh_server, page):
    page.goto(fresh_server + "/convolution")
    wait_for_app(page, timeout=60_000)
    page.wait_for_timeout(500)
    body = page.inner_text("body")
    assert "Page not found" not in body
    assert urlparse(page.url).path.rstrip("/") == "/convolution"
    assert page.locator("h1").first.inner_text().strip().startswith("Convolution")
    assert_no_exception(page)
