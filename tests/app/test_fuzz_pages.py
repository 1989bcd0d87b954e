"""A seeded fuzz test of every page: every widget, in random order, set to edge values; no exception
element and no error-boundary message may ever appear.

Each page gets its own seeded random sequence, so a failure names the page, the seed and the step,
and ``FUZZ_SEED=<seed> FUZZ_STEPS=<n> pytest tests/app/test_fuzz_pages.py`` replays it. Buttons that
start background training (Start training / Start sweep) are left out: they would leave threads
training after the test; their refusals are tested on their own pages.
"""
from __future__ import annotations

import math
import os
import random
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))
STEPS = int(os.environ.get("FUZZ_STEPS", "12"))
SEED = int(os.environ.get("FUZZ_SEED", "2026"))
SKIP_KEYS = {"tr_start", "sw_start"}
TEXTS = ["", "   ", "0", "-1", "1, 2, 3", "3.2, 1.3, 0.2, 0.8", "1e309", "-99999999999", "nan", "NaN, inf",
         "∑ 😀 ß", "a, b, c, d", "1,,2", "0.5; 0.25", "x" * 2000, "١٢٣"]
WIDGETS = ["button", "checkbox", "toggle", "radio", "selectbox", "multiselect", "select_slider", "slider",
           "number_input", "text_input", "text_area"]


def _widgets(at):
    out = []
    for kind in WIDGETS:
        for w in getattr(at, kind):
            if getattr(w, "disabled", False) or getattr(w, "key", None) in SKIP_KEYS:
                continue
            out.append((kind, w))
    return out


def _edge(kind, w, rng: random.Random):
    """(description, action) for one widget: an edge value for its kind."""
    if kind == "button":
        return "click", lambda: w.click()
    if kind in ("checkbox", "toggle"):
        return "flip", lambda: w.set_value(not w.value)
    if kind in ("radio", "selectbox"):
        opts = list(w.options)
        if not opts:
            return "none", lambda: None
        i = rng.randrange(len(opts))
        return f"option {i} ({opts[i]!r})", lambda: _choose_label(w, opts[i])
    if kind == "multiselect":
        opts = list(w.options)
        pick = rng.choice([[], opts, rng.sample(opts, k=min(len(opts), 2))])
        return f"{pick!r}", lambda: _send_labels(w, pick)
    if kind == "select_slider":
        opts = list(w.options)
        i = rng.choice([0, len(opts) - 1, rng.randrange(len(opts))])
        return f"option {i} ({opts[i]!r})", lambda: _send_labels(w, [opts[i]])
    if kind in ("slider", "number_input"):
        lo, hi = w.min, w.max
        cands = [v for v in (lo, hi) if v is not None]
        if lo is None or hi is None:
            cands += [0, -1e12, 1e12, 7]
        v = rng.choice(cands)
        if isinstance(w.value, int) and not isinstance(v, int) and math.isfinite(v) and float(v).is_integer():
            v = int(v)
        if isinstance(w.value, tuple):
            return f"range {v}", lambda: w.set_range(v, v)
        return f"{v!r}", lambda: w.set_value(v)
    if kind in ("text_input", "text_area"):
        t = rng.choice(TEXTS)
        return f"{t[:30]!r}", lambda: w.input(t)
    raise AssertionError(kind)


def _choose_label(w, label: str) -> None:
    """Choose an option of a radio / select box by its shown label, as a click does.

    AppTest lists the labels (format_func applied) but wants the underlying value, which a test
    that walks every widget does not know; the widget state sent is the label, as the browser's."""
    cls = type(w)
    w.__class__ = type(f"ByLabel{cls.__name__}", (cls,),
                       {"index": property(lambda self: self.options.index(self._value))})
    w._value = label


def _send_labels(w, labels: list[str]) -> None:
    """Send these shown labels as the widget's state (multiselect, select slider), as the browser does."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    def state(self):
        ws = WidgetState()
        ws.id = self.id
        ws.string_array_value.data[:] = labels
        return ws

    cls = type(w)
    w.__class__ = type(f"ByLabel{cls.__name__}", (cls,), {"_widget_state": property(state)})
    w._value = list(labels)


def _drawing() -> np.ndarray:
    img = np.zeros((28, 28), np.float32)
    img[6:22, 13:16] = 1.0
    img[6:9, 8:20] = 1.0
    return img


@pytest.mark.parametrize("page", PAGES)
def test_no_widget_sequence_breaks_the_page(open_page, page):
    rng = random.Random(f"{SEED}:{page}")
    at = open_page(f"pages/{page}", run=False, timeout=90)
    if rng.random() < 0.5:
        at.session_state["current_input"] = _drawing()
        at.session_state["current_input_source"] = "your drawing"
    at.run()
    history = ["open"]
    for step in range(STEPS):
        where = f"{page}, seed {SEED}, step {step}: " + " → ".join(history[-6:])
        assert not at.exception, f"{where}\n{at.exception[0].message}"
        assert not [e for e in at.error if "Error id:" in e.value], where
        widgets = _widgets(at)
        if not widgets:
            break
        kind, w = rng.choice(widgets)
        desc, act = _edge(kind, w, rng)
        history.append(f"{kind} {getattr(w, 'key', None) or getattr(w, 'label', '')!s}={desc}")
        act()
        at.run()
    where = f"{page}, seed {SEED}, end: " + " → ".join(history[-6:])
    assert not at.exception, f"{where}\n{at.exception[0].message}"
    assert not [e for e in at.error if "Error id:" in e.value], where
