from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def open_page(monkeypatch):
    """``open_page("app_pages/2_Convolution.py")``: an AppTest of app.py or a page, run from the repo root.

    ``run=False`` returns it before the first run, for tests that set state or query params first.
    """
    from streamlit.testing.v1 import AppTest

    monkeypatch.chdir(ROOT)

    def _open(path, run: bool = True, timeout: int = 60):
        at = AppTest.from_file(str(ROOT / path), default_timeout=timeout)
        return at.run() if run else at

    return _open
