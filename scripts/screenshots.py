"""Screenshot every page in headless Chromium, in the light and the dark theme, at 1280×800.

    .venv/bin/python scripts/screenshots.py [--pages draw convolution] [--dark] [--expand]
                                            [--out DIR]

Starts the app on a free port, opens each page, draws a digit on the Draw page, waits for the
script to finish and for every Plotly chart on screen to be drawn, and writes
DIR/<page>-<theme>.png (the first screen), then scrolls the page's own scroll container (Streamlit
scrolls inside the app, not the document, so a full-page shot stops at 800 px) one screen at a time
and writes DIR/<page>-<theme>-2.png, -3.png, ... down to the bottom. Pages are reached through the
sidebar's links, so the digit drawn on the Draw page is the shared input of the later pages, as for
a person. --expand opens every collapsed expander first. Default DIR: test-output/screens. Used to
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

PAGES = ["", "draw", "convolution", "layer-explorer", "softmax", "practice", "backpropagation", "train", "evaluate",
         "sweep"]


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


# The element that scrolls the main area (stMain itself or an ancestor / descendant, by version).
_SCROLLER = """() => {
  const cands = [document.querySelector('[data-testid="stMain"]'),
                 ...document.querySelectorAll('[data-testid="stMain"] *'),
                 document.querySelector('[data-testid="stAppViewContainer"]'),
                 document.scrollingElement];
  for (const el of cands) {
    if (!el) continue;
    const st = getComputedStyle(el);
    if (el.scrollHeight > el.clientHeight + 4 && /(auto|scroll)/.test(st.overflowY)) {
      el.setAttribute('data-screens-scroller', '1');
      return true;
    }
  }
  return false;
}"""

# Every Plotly chart that intersects the viewport has drawn its SVG (they render lazily, behind a
# grey skeleton while Plotly's bundle loads).
_CHARTS_DRAWN = """() => {
  const vh = window.innerHeight;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  for (const el of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    const r = el.getBoundingClientRect();
    if (r.bottom < 0 || r.top > vh || r.height === 0) continue;
    if (!el.querySelector('.main-svg')) return false;
  }
  return true;
}"""


def settle(page) -> None:
    """Wait for the script run to end, then for the charts on screen to be drawn."""
    wait_for_app(page, timeout=60_000)
    # the status widget appears only a moment after a run starts; the app's own state attribute is exact
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_load_state("networkidle")
    try:
        page.wait_for_function(_CHARTS_DRAWN, timeout=20_000)
    except Exception:  # a chart that never draws is itself worth seeing in the shot
        print("  (a chart on screen did not finish drawing within 20 s)")
    page.wait_for_timeout(700)   # Plotly's own transitions and fonts


def open_page(page, base: str, name: str, first: bool) -> None:
    """Through the sidebar link when the app is already open (keeps the session and its drawing)."""
    if first:
        page.goto(f"{base}/{name}", wait_until="networkidle", timeout=60_000)
    else:
        link = page.locator(f'[data-testid="stSidebarNav"] a[href$="/{name}"]').first
        if name and link.count():
            link.click()
        elif not name and page.locator('[data-testid="stSidebarNav"] a').count():
            page.locator('[data-testid="stSidebarNav"] a').first.click()
        else:
            page.goto(f"{base}/{name}", wait_until="networkidle", timeout=60_000)
    page.wait_for_timeout(300)
    settle(page)


def expand_all(page) -> None:
    for summary in page.locator('[data-testid="stExpander"] details:not([open]) > summary').all():
        summary.click()
        page.wait_for_timeout(150)
    wait_for_app(page, timeout=60_000)


def shoot_screens(page, stem: Path, max_screens: int = 12) -> list[Path]:
    """The first screen as STEM.png, then one shot per further screen, STEM-2.png, STEM-3.png, ..."""
    paths = [stem.with_suffix(".png")]
    page.screenshot(path=str(paths[0]))
    if not page.evaluate(_SCROLLER):
        return paths
    scroller = page.locator("[data-screens-scroller]")
    for k in range(2, max_screens + 1):
        moved = scroller.evaluate("""el => { const before = el.scrollTop;
            el.scrollTop = before + el.clientHeight - 60; return el.scrollTop - before; }""")
        if moved <= 0:
            break
        settle(page)
        paths.append(stem.parent / f"{stem.name}-{k}.png")
        page.screenshot(path=str(paths[-1]))
    scroller.evaluate("el => { el.scrollTop = 0; el.removeAttribute('data-screens-scroller'); }")
    return paths


def main() -> None:
    import subprocess

    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import _free_port

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", nargs="*", default=PAGES)
    ap.add_argument("--dark", action="store_true", help="also take the dark theme")
    ap.add_argument("--expand", action="store_true", help="open every collapsed expander before the shots")
    ap.add_argument("--out", default=str(ROOT / "test-output" / "screens"))
    ap.add_argument("--readme", action="store_true", help="copy the Draw page shot to assets/screenshot.png")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ui.app.serve", "--server.headless", "true",
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
                for i, name in enumerate(args.pages):
                    open_page(page, f"http://127.0.0.1:{port}", name, first=i == 0)
                    if name == "draw":
                        draw_seven(page)
                    if args.expand:
                        expand_all(page)
                    settle(page)
                    stem = out / f"{name or 'Home'}-{theme}"
                    for old in out.glob(f"{stem.name}-*.png"):   # screens of a longer earlier run
                        old.unlink()
                    for path in shoot_screens(page, stem):
                        print(path)
                    if args.readme and name == "draw" and theme == "light":
                        page.screenshot(path=str(ROOT / "assets" / "screenshot.png"))
                ctx.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
