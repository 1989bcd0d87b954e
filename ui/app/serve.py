"""``python -m ui.app.serve [streamlit options]``: ``streamlit run app.py [options]``, as ``make run`` starts it.

One difference from a bare ``streamlit run app.py``: Streamlit is told before the first session that
this app declares its pages with ``st.navigation``. With a ``pages/`` folder beside app.py, Streamlit
otherwise starts in its old folder-based mode and leaves it only when some script has called
``st.navigation``, so the first visitor of a fresh server who opened a shared link such as
``/convolution`` got "Page not found" (tests/browser/test_first_link.py). It also installs the
in-memory front-end files (static_cache), the browser-id cookie (browser_id: a reload keeps the
drawing and the active model) and imports the pages' libraries before the first visitor (preload).
"""
from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app.py"


def command(*options: str) -> list[str]:
    """The argv that starts the app with ``options`` (for tests, benchmarks and scripts)."""
    return [sys.executable, "-m", "ui.app.serve", *options]


def main(argv: list[str] | None = None) -> None:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    from ui.app import browser_id, preload, static_cache

    PagesManager.uses_pages_directory = False
    static_cache.install()
    browser_id.install()
    preload.preload()
    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    cli.main()


if __name__ == "__main__":
    main()
