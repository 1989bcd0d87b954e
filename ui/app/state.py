"""Per-user state shared across pages: the active model and the current input; a per-session memo.

Keys live here so pages never spell them out. Shared read-only objects (the default model) come
from st.cache_resource and are never mutated; a page that edits a model edits a copy.

A reload keeps the learner's work: every change of the active model or the current input (and with
it the Draw page's saved drawing) is also saved under the browser's id (ui/app/browser_memory.py),
and ``restore_after_reload`` (called by app.py) puts it back once at the start of a new session.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import streamlit as st

from cnn_core.models import pretrained
from cnn_core.models.checkpoints import ModelBundle
from ui.app.text import literal
from ui.app import browser_id, browser_memory

ACTIVE_MODEL = "active_model"          # ModelBundle chosen by this user (None: the default)
CURRENT_INPUT = "current_input"        # float32 (28, 28) in [0, 1], the model's input, or None
CURRENT_INPUT_SOURCE = "current_input_source"  # a short description: "your drawing", "bundled digit #12 (label 7)"
EVAL_DATA_KEY = "eval_data"  # {"run_id": ..., "test": ImageDataset, "val": ImageDataset} of the active model
MEMO = "_memo"                         # name → (key, value): the last result of each memoised computation
# The Draw page's own keys, saved and restored with the rest: its last drawing {"key": the canvas key,
# "json": the strokes, "picture": RGBA}, and the counter its canvas key is made of (a new key per "Clear").
DRAW_SAVED = "draw_saved"
DRAW_CANVAS_N = "draw_canvas_n"
BROWSER = "_browser_id"                # this session's browser id (None: unknown, nothing is kept)
RESTORED = "_restored_on"              # after a restore: the page its note is shown on (None: not shown yet)
_SAVED_REF = "_browser_saved_ref"      # the drawing last saved, so an unchanged one is not packed again
RESTORED_NOTE = "_restored_note"       # the note's text: what came back


def restored_note(drawing: bool, model: bool, other_input: bool = False) -> str:
    """E.g. "Restored your drawing and model from before the reload." (other_input: an upload or a bundled digit)."""
    parts = (("drawing", drawing), ("input", other_input and not drawing), ("model", model))
    return f"Restored your {' and '.join(w for w, back in parts if back)} from before the reload."

T = TypeVar("T")


@st.cache_resource(show_spinner=False)
def default_bundle() -> ModelBundle:
    return pretrained.load_default_bundle()


def active_bundle() -> ModelBundle:
    return st.session_state.get(ACTIVE_MODEL) or default_bundle()


def set_active_bundle(bundle: ModelBundle | None) -> None:
    """Make ``bundle`` the active model for every page (None: back to the default)."""
    st.session_state[ACTIVE_MODEL] = bundle
    browser = _browser()
    if browser:
        browser_memory.shared().save_model(browser, bundle)


def current_input() -> np.ndarray | None:
    return st.session_state.get(CURRENT_INPUT)


def set_current_input(image: np.ndarray | None, source: str = "") -> None:
    st.session_state[CURRENT_INPUT] = None if image is None else np.asarray(image, dtype=np.float32)
    st.session_state[CURRENT_INPUT_SOURCE] = source
    browser = _browser()
    if browser:
        memory = browser_memory.shared()
        memory.save_input(browser, st.session_state[CURRENT_INPUT], source)
        drawing = st.session_state.get(DRAW_SAVED)
        if drawing is not st.session_state.get(_SAVED_REF):
            memory.save_drawing(browser, drawing, st.session_state.get(DRAW_CANVAS_N, 0))
            st.session_state[_SAVED_REF] = drawing


def _browser() -> str | None:
    ss = st.session_state
    if BROWSER not in ss:
        ss[BROWSER] = browser_id.current()       # the cookie cannot change within a session
    return ss[BROWSER]


def restore_after_reload() -> bool:
    """Once per session: put back what this browser left before a reload (the active model, the current
    input, the Draw page's drawing) and say so with a toast. True when something came back."""
    ss = st.session_state
    if BROWSER in ss:
        return False
    recalled = browser_memory.shared().recall(_browser())
    if recalled is None:
        return False
    if recalled.bundle is not None:
        ss[ACTIVE_MODEL] = recalled.bundle
    if recalled.image is not None:
        ss[CURRENT_INPUT], ss[CURRENT_INPUT_SOURCE] = recalled.image, recalled.source
    if recalled.drawing is not None:
        ss[DRAW_SAVED], ss[DRAW_CANVAS_N] = recalled.drawing, recalled.canvas_n
        ss[_SAVED_REF] = recalled.drawing
    ss[RESTORED] = None
    ss[RESTORED_NOTE] = restored_note(recalled.drawing is not None, recalled.bundle is not None,
                                      recalled.image is not None)
    st.toast(ss[RESTORED_NOTE] + " Kept for 12 h on this server.", icon=":material/history:")
    return True


def current_input_source() -> str:
    return st.session_state.get(CURRENT_INPUT_SOURCE, "")


def model_caption(bundle: ModelBundle) -> str:
    acc = bundle.meta.get("accuracy")
    acc_txt = f", held-out accuracy {acc * 100:.2f} %" if isinstance(acc, (int, float)) else ""
    text = f"Active model: **{literal(bundle.name)}** ({bundle.meta.get('engine', 'torch')}{acc_txt})"
    if bundle is default_bundle() and pretrained.label_smoothing():
        # Learners asked why a clear digit gets ~90 %, not 100 %: the training target itself was 91 %.
        text += (f". Trained with label smoothing {pretrained.label_smoothing():g}, so even a clear digit gets "
                 f"about {pretrained.confidence_target(len(bundle.class_names)) * 100:.0f} %, not 100 %")
    return text


def sidebar_active_model() -> ModelBundle:
    """Show which model the page uses, with a way back to the default; return it."""
    bundle = active_bundle()
    with st.sidebar:
        st.caption(model_caption(bundle))
        if RESTORED in st.session_state:
            # on the first page that shows the active model after the reload, for as long as it is open
            here = st.session_state.get("_page_now", "")
            if st.session_state[RESTORED] is None:
                st.session_state[RESTORED] = here
            if st.session_state[RESTORED] == here:
                st.caption(":material/history: " + st.session_state[RESTORED_NOTE])
        if st.session_state.get(ACTIVE_MODEL) is not None and st.button("Use the default model", key="_reset_model"):
            set_active_bundle(None)
            bundle = default_bundle()
            st.rerun()
    return bundle


def keep_widget_state(name: str, keys, prefixes: tuple[str, ...] = ()) -> None:
    """Keep this page's settings across page switches.

    Streamlit forgets a keyed widget's value as soon as a page that does not draw it runs, so
    Train → Evaluate → Train reset every knob to its default. Call this at the top of the page: it
    puts back the values stashed by the page's last run, then stashes the current ones (a key that
    doesn't start with "_" of a widget is cleared; a plain session key is not). Only value widgets:
    buttons and uploaders cannot be set through session state.

    Every kept value is also written back through the Session State API on every run. A run that
    does not draw some of the widgets (Train with a refused zip draws no builder) makes the browser
    forget them while the server keeps their values; two such runs in a row and the server sent
    them back without their values, so the builder showed 1 block, no kernels, kernel size 1 while
    the summary described the learner's network. A value written this way always travels with its
    widget. Those widgets must not pass a default of their own (``widget_default``).
    """
    stash_key = f"_kept_{name}"
    ss = st.session_state
    for k, v in ss.get(stash_key, {}).items():
        if k not in ss:
            ss[k] = v
    keys = set(keys)
    kept = {k: ss[k] for k in list(ss) if isinstance(k, str) and (k in keys or (prefixes and k.startswith(prefixes)))}
    for k, v in kept.items():
        ss[k] = v
    ss[stash_key] = kept


HELD = "_held_widgets"                 # widget keys a stopped run skipped (hold_widget_values)


def hold_widget_values(keys) -> None:
    """Call before ``st.stop()`` skips widgets the page draws further down; call
    ``show_held_widget_values()`` where the page goes on, before those widgets are drawn.

    A stopped run keeps the widgets' values on the server but not in the browser, which forgets a
    widget that is no longer drawn; drawn again later, it showed its default while the page used
    the kept value (Evaluate: "counts" and k = 3 beside a row-normalised matrix and a top-5 metric).
    Written back through the Session State API in the run that draws them again, the values travel
    with the widgets. Those widgets must then not pass a default of their own (``widget_default``).
    """
    ss = st.session_state
    ss[HELD] = sorted(set(ss.get(HELD, ())) | {k for k in keys if k in ss})


def show_held_widget_values() -> None:
    ss = st.session_state
    for k in ss.pop(HELD, ()):
        if k in ss:
            ss[k] = ss[k]


def widget_default(key: str, value, arg: str = "value") -> dict:
    """``{arg: value}`` unless ``key`` already has a value (``arg="index"`` for a selectbox): a default
    beside a value set through the Session State API (a link, a kept setting) makes Streamlit log its
    "created with a default value but also had its value set via the Session State API" warning."""
    return {} if key in st.session_state else {arg: value}


def digest(array) -> str:
    """A short content hash of an array (shape, dtype and bytes), for memo keys."""
    a = np.ascontiguousarray(array)
    h = hashlib.blake2b(f"{a.shape}{a.dtype}".encode(), digest_size=16)
    h.update(a.tobytes())
    return h.hexdigest()


def memo(name: str, key: tuple, compute: Callable[[], T]) -> T:
    """This session's last result of ``compute`` for ``name``, computed again only when ``key`` changed.

    A rerun that did not change the inputs (another widget, a page revisit) then costs nothing. Put
    models in the key as objects (compared by identity, and kept alive by the memo), arrays as
    ``digest(a)``. One entry per name, so memory stays bounded.
    """
    store = st.session_state.setdefault(MEMO, {})
    hit = store.get(name)
    if hit is not None and len(hit[0]) == len(key) and all(a is b or (type(a) is type(b) and a == b)
                                                           for a, b in zip(hit[0], key)):
        return hit[1]
    value = compute()
    store[name] = (key, value)
    return value


def keep_valid_choice(key: str, options: list, fallback_key: str | None = None) -> None:
    """Before a selectbox is drawn: make ``st.session_state[key]`` one of ``options``.

    When a selectbox's labels change between runs (new logits, renamed classes), Streamlit hands
    back the old label as a plain string instead of an option. Put back the last valid choice (kept
    under ``fallback_key``) if it still fits, else the first option.
    """
    ss = st.session_state
    if key in ss and ss[key] in options and type(ss[key]) is type(options[0]):
        if fallback_key:
            ss[fallback_key] = ss[key]
        return
    last = ss.get(fallback_key) if fallback_key else None
    ss[key] = last if last in options else options[0]


class KeptUpload:
    """An uploaded file kept in the session (name, bytes, id), read like Streamlit's UploadedFile."""

    def __init__(self, name: str, data: bytes, file_id: str):
        self.name, self._data, self.file_id = name, data, file_id

    def getvalue(self) -> bytes:
        return self._data


def kept_upload(key: str, upload) -> tuple[object | None, bool]:
    """(the file to use, whether it is the kept one). Streamlit empties a file uploader when the learner
    visits another page; the last file uploaded under ``key`` is kept in the session and used until
    another is uploaded. The page says so with a note when it is the kept one."""
    store = f"_kept_upload_{key}"
    if upload is not None:
        st.session_state[store] = (upload.name, upload.getvalue(), getattr(upload, "file_id", upload.name))
        return upload, False
    kept = st.session_state.get(store)
    return (KeptUpload(*kept), True) if kept else (None, False)
