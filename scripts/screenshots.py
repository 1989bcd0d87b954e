"""Screenshot every page in headless Chromium, in the light and the dark theme, at 1280×800.

    .venv/bin/python scripts/screenshots.py [--pages Draw_and_Predict Convolution] [--dark] [--out DIR]

Starts the app on a free port, opens each page, draws a digit on the Draw page, waits for the
script to finish, and writes DIR/<page>-<theme>.png (default DIR: test-output/screens). Used to
look at the pages and to refresh assets/screenshot.png (--readme).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM_ARGS, wait_for_app  # noqa: E402

PAGES = ["", "Draw_and_Predict", "Convolution", "Layer_Explorer", "Softmax_and_Loss", "Practice",
         "Train", "Evaluate", "Sweep"]


def draw_seven(page) -> None:
    canvas = page.locator('[data-testid="stBidiComponentIsolated"] canvas.upper-canvas').first
    canvas.wait_for(timeout=20_000)
    box = canvas.bounding_box()
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x0 + 0.3 * w, y0 + 0.25 * h)
    page.mouse.down()
    page.mouse.move(x0 + 0.7 * w, y0 + 0.25 * h, steps=8)
    page.mouse.move(x0 + 0.45 * w, y0 + 0.8 * h, steps=8)
    page.mouse.up()
    page.wait_for_timeout(500)
    wait_for_app(page)


def main() -> None:
    import subprocess

    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import _free_port

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", nargs="*", default=PAGES)
    ap.add_argument("--dark", action="store_true", help="also take the dark theme")
    ap.add_argument("--out", default=str(ROOT / "test-output" / "screens"))
    ap.add_argument("--readme", action="store_true", help="copy the Draw page shot to assets/screenshot.png")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--browser.gatherUsageStats", "false"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("the app did not start within 60 s")
                time.sleep(0.3)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            for theme in (["light", "dark"] if args.dark else ["light"]):
                ctx = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme=theme)
                page = ctx.new_page()
                for name in args.pages:
                    page.goto(f"http://127.0.0.1:{port}/{name}", wait_until="networkidle", timeout=60_000)
                    wait_for_app(page, timeout=60_000)
                    if name == "Draw_and_Predict":
                        draw_seven(page)
                    page.wait_for_load_state("networkidle")
                    page.wait_for_timeout(2500)
                    path = out / f"{name or 'Home'}-{theme}.png"
                    page.screenshot(path=str(path), full_page=True)
                    print(path)
                    if args.readme and name == "Draw_and_Predict" and theme == "light":
                        page.screenshot(path=str(ROOT / "assets" / "screenshot.png"))
                ctx.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
