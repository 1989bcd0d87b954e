"""Import, before the server answers anyone, every library a page imports on first use.

Pages import some heavy libraries only where they are needed: Layer Explorer's attributions pull in
captum (and with it matplotlib, 256 modules), Evaluate's report scikit-learn (626 modules), and
Streamlit compiles its emoji pattern the first time a message holds a non-ASCII character, and the
Train page's loss smoothing imports scipy.signal.
Imported during a page run, each took one to three seconds holding the interpreter lock, so the
first student to open such a page froze every other student's page for that long (seen in a
profile of thirty simulated students). ``ui.app.serve`` calls ``preload()`` before the server starts,
so the cost is paid once, at start-up, by nobody in particular.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
import sys
import time

# What pages import lazily (inside functions) or at the top of a page script.
LIBRARIES = (
    "torch", "torchvision", "numpy", "scipy.ndimage", "scipy.signal", "pandas", "PIL.Image",
    "plotly.graph_objects", "plotly.io", "plotly.tools",
    "captum.attr",                 # Layer Explorer: saliency, Grad-CAM
    "sklearn.metrics",             # Evaluate, Sweep: classification report, confusion matrix
    "safetensors.torch", "torchinfo",
    "streamlit.emojis",
)


def _package_modules(name: str) -> list[str]:
    pkg = importlib.import_module(name)
    return [m.name for m in pkgutil.walk_packages(pkg.__path__, prefix=name + ".")]


def preload(extra: tuple[str, ...] = ()) -> dict[str, float]:
    """Import the libraries above and every module of ``cnn_core`` and ``ui``; returns the seconds
    each group took. A module that fails to import is skipped: the page that needs it reports it."""
    took: dict[str, float] = {}
    t0 = time.perf_counter()
    for name in (*LIBRARIES, *extra):
        t = time.perf_counter()
        try:
            importlib.import_module(name)
        except Exception:            # an optional library missing: the page that needs it says so
            continue
        took[name] = time.perf_counter() - t
    emojis = sys.modules.get("streamlit.emojis")     # imported above, unless this Streamlit has none
    pattern = getattr(emojis, "EMOJI_EXTRACTION_REGEX", None)
    if pattern is not None:
        re.compile(pattern)                            # kept in re's cache, which st.info & co. use
    t = time.perf_counter()
    for package in ("cnn_core", "ui"):
        for name in _package_modules(package):
            if name in ("ui.app.serve", "ui.app.preload") or name.endswith("__main__") or ".ray_" in name:
                # not the command lines; Ray only when a cluster is configured
                continue
            try:
                importlib.import_module(name)
            except Exception:
                continue
    took["cnn_core and ui"] = time.perf_counter() - t
    took["total"] = time.perf_counter() - t0
    return took
