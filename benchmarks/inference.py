"""Canvas-to-probabilities latency and the app's start-up time (issue 3).

Latency: realistic 280×280 RGBA canvases (the ten template digits, thin to thick pens, large and
small, anywhere on the canvas) through ``predict.predict_canvas`` with the default model:
preprocessing + forward pass + softmax, timed per call. Target: p95 under 20 ms.

Start-up: ``python -m ui.app.serve`` (as `make run` starts the app) in a subprocess, timed until /_stcore/health answers, and,
when Debian's Chromium is installed, until the home page and the Draw page have rendered in a
headless browser (Streamlit's "running" indicator gone).
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TARGET_P95_MS = 20.0


def _canvases(n_variants: int = 60, seed: int = 0) -> list[np.ndarray]:
    from cnn_core.data.synthetic import draw_digit

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_variants):
        side = rng.uniform(0.3, 0.9)
        left, top = rng.uniform(0, 1 - side, size=2)
        out.append(draw_digit(i % 10, pen=float(rng.choice([6, 12, 20, 30, 45])),
                              box=(left, top, left + side, top + side)))
    return out


def latency(runs: int = 300, single_thread: bool = True) -> dict:
    import torch

    from cnn_core.inference import predict
    from cnn_core.models import pretrained

    model = pretrained.load_default()
    canvases = _canvases()
    for c in canvases[:10]:                      # warm-up: allocator, torch's first-call setup
        predict.predict_canvas(model, c, single_thread)
    pre, mod, tot = [], [], []
    for i in range(runs):
        t0 = time.perf_counter()
        _, p = predict.predict_canvas(model, canvases[i % len(canvases)], single_thread)
        tot.append(time.perf_counter() - t0)
        pre.append(p.preprocess_seconds)
        mod.append(p.model_seconds)
    ms = {k: np.asarray(v) * 1000 for k, v in (("total", tot), ("preprocess", pre), ("model", mod))}
    return {"runs": runs, "threads": 1 if single_thread else torch.get_num_threads(),
            **{f"{k}_p{q}": float(np.percentile(v, q)) for k, v in ms.items() for q in (50, 95)}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def startup(browser: bool = True, timeout: float = 90.0) -> dict:
    """Seconds from spawning `python -m ui.app.serve` (make run) to health 'ok', and (with Chromium, started
    beforehand so its own launch is not counted) to the home page rendered, then the Draw page."""
    path = _chromium() if browser else None
    if path is None:
        return _startup(None, timeout)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            return _startup(b.new_page(viewport={"width": 1280, "height": 800}), timeout)
        finally:
            b.close()


def _startup(page, timeout: float) -> dict:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.app.serve", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result: dict = {}
    try:
        while time.perf_counter() - t0 < timeout:
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                    result["health_s"] = time.perf_counter() - t0
                    break
            except OSError:
                time.sleep(0.05)
            if proc.poll() is not None:
                raise RuntimeError("streamlit exited during start-up")
        else:
            raise RuntimeError(f"streamlit did not answer /_stcore/health within {timeout:.0f} s")
        if page is not None:
            result.update(_render_times(page, url, t0))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return result


def _render_times(page, url: str, t0: float) -> dict:
    done = "() => document.querySelector('[data-testid=\"stApp\"]') && " \
           "!document.querySelector('[data-testid=\"stStatusWidget\"]') && " \
           "document.querySelector('[data-testid=\"stMetric\"], [data-testid=\"stAlert\"]')"
    out = {}
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_function(done, timeout=60_000)
    out["home_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    page.goto(url + "/draw", wait_until="domcontentloaded")
    page.wait_for_function(done, timeout=60_000)
    page.locator('[data-testid="stBidiComponentIsolated"] canvas.upper-canvas').wait_for(timeout=30_000)
    out["draw_page_s"] = time.perf_counter() - t1
    return out


def run(quick: bool = False) -> list[str]:
    runs = 60 if quick else 300
    lat = latency(runs)                          # what the Draw page does: the one-thread worker
    multi = latency(runs, single_thread=False)   # the forward pass with torch's default threads
    lines = [
        f"- Canvas → probabilities (280×280 RGBA strokes, preprocessing + default model, {lat['runs']} runs, "
        f"forward pass on predict's 1-thread worker): p50 {lat['total_p50']:.1f} ms, p95 {lat['total_p95']:.1f} ms "
        f"(target p95 < {TARGET_P95_MS:.0f} ms: {TARGET_P95_MS / lat['total_p95']:.1f}× headroom).",
        f"  - preprocessing p50 {lat['preprocess_p50']:.1f} ms / p95 {lat['preprocess_p95']:.1f} ms; "
        f"model p50 {lat['model_p50']:.1f} ms / p95 {lat['model_p95']:.1f} ms "
        f"(preprocessing is {lat['preprocess_p50'] / lat['total_p50'] * 100:.0f} % of the median).",
        f"  - same with torch's {multi['threads']} threads: p50 {multi['total_p50']:.1f} ms, p95 "
        f"{multi['total_p95']:.1f} ms (p95 ratio {multi['threads']} threads / 1 thread = "
        f"{multi['total_p95'] / lat['total_p95']:.2f}; while other work keeps the cores busy the second thread "
        "waits for a core, which is why the page uses one).",
    ]
    starts = [startup() for _ in range(1 if quick else 3)]
    med = {k: float(np.median([r[k] for r in starts if k in r])) for k in starts[0]}
    line = (f"- App start-up (`python -m ui.app.serve`, as make run, → /_stcore/health ok), median of {len(starts)}: "
            f"{med['health_s']:.2f} s")
    if "home_s" in med:
        line += (f"; home page rendered in Chromium {med['home_s']:.2f} s after the launch (first script run: "
                 f"imports, default model, data); Draw page with its canvas ready {med['draw_page_s']:.2f} s "
                 "after opening it (a new session).")
    else:
        line += " (Chromium not installed: page render times not measured)."
    lines.append(line)
    return lines
