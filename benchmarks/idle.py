"""Idle CPU of the server started as `make run` starts it, after one visit of every page (issue 10's file watcher).

Starts the app with the Makefile's `run` command (benchmarks/classroom.py's Server), lets one
simulated student open it, draw a stroke, open every page and leave, waits 3 s, then reads the server's CPU time
from /proc over 10 s. With `make run`'s .venv inside the app folder, Streamlit's default file
watcher rescanned forever at a full core; `.streamlit/config.toml` turns it off (`make dev`
polls the app's own modules instead). Compare with
``STREAMLIT_SERVER_FILE_WATCHER_TYPE=auto python -m benchmarks.idle``.

    python -m benchmarks idle                   # this checkout
    python -m benchmarks.idle --root /path/to/app --watcher auto none
"""
from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

from benchmarks.classroom import ROOT, Server, Stats, Student, _cpu_rss, _stroke_drawings

WINDOW_S = 10.0
PAGES = ("draw", "convolution", "layer", "softmax", "practice", "train", "evaluate", "sweep", "home")


async def visit(base: str) -> None:
    """One person opens the app, draws a stroke and looks at every page (every import happens)."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        s = Student(base, Stats(), pool, _stroke_drawings(0)[:1])
        try:
            await s.first_load()
            await s.open_page("draw")
            await s.stroke(0)
            for page in PAGES[1:]:
                await s.open_page(page)
        finally:
            await s.close()


def idle_cpu(root: Path = ROOT, watcher: str | None = None, window: float = WINDOW_S) -> dict:
    """{"cpu_pct": % of one core over ``window`` s, "rss_mb", "venv_inside"} of an idle server."""
    env = {"STREAMLIT_SERVER_FILE_WATCHER_TYPE": watcher} if watcher else {}
    with Server(env=env, root=root) as srv:
        v0, _ = _cpu_rss(srv.proc.pid)
        asyncio.run(visit(srv.url))
        v1, _ = _cpu_rss(srv.proc.pid)
        time.sleep(3.0)
        cpu0, _ = _cpu_rss(srv.proc.pid)
        t0 = time.perf_counter()
        time.sleep(window)
        cpu1, rss = _cpu_rss(srv.proc.pid)
        elapsed = time.perf_counter() - t0
        overflows = srv.log.getvalue().count(b"Inotify queue overflowed")
    return {"cpu_pct": 100 * (cpu1 - cpu0) / elapsed, "rss_mb": rss, "venv_inside": (Path(root) / ".venv").is_dir(),
            "visit_cpu_s": v1 - v0, "overflows": overflows}


def _line(root: Path, watcher: str | None, r: dict) -> str:
    how = f"STREAMLIT_SERVER_FILE_WATCHER_TYPE={watcher}" if watcher else "config.toml default"
    return (f"- idle server ({how}; .venv inside the app folder: {'yes' if r['venv_inside'] else 'no'}): "
            f"{r['cpu_pct']:.1f} % of one core over {WINDOW_S:g} s after one visit of every page (the visit itself: "
            f"{r['visit_cpu_s']:.1f} s CPU, {r['overflows']} watcher queue overflows logged), RSS {r['rss_mb']:.0f} MB")


def run(quick: bool = False):
    r = idle_cpu()
    yield _line(ROOT, None, r)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=ROOT, help="the app folder (where `make run` would run)")
    ap.add_argument("--watcher", nargs="*", default=[None], help="file watcher types to compare (default: config)")
    args = ap.parse_args(argv)
    for w in args.watcher:
        print(_line(args.root, w, idle_cpu(args.root.resolve(), w)), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
