"""Decoding an uploaded zip of class folders on a shared server: a progress bar with an ETA, at most
``limits.MAX_ZIP_LOADS`` decodes at once on the whole server (the others wait, and say so), and a
load whose tab has closed ends at the next progress update.

Every progress update sends a message to the page, and Streamlit checks for a stop request on every
message a script sends: when the tab that started the load goes away, Streamlit asks the session's
script to stop, so the next update raises its stop exception and the half-decoded images are
dropped. Nothing decodes for nobody beyond one step of the progress bar (1 % of the images).
"""
from __future__ import annotations

import threading
import time

import streamlit as st

from cnn_core import limits
from cnn_core.data.datasets import ImageDataset
from cnn_core.data.folders import load_zip
from ui.views.train.train_charts import fmt_seconds
from cnn_core.lessons.formatting import count_of

_SLOTS: threading.BoundedSemaphore | None = None
_SLOTS_LOCK = threading.Lock()
WAIT_POLL_S = 0.25


def _slots() -> threading.BoundedSemaphore:
    global _SLOTS
    with _SLOTS_LOCK:
        if _SLOTS is None:
            _SLOTS = threading.BoundedSemaphore(max(1, limits.MAX_ZIP_LOADS))
        return _SLOTS


def status(name: str, done: int, total: int, elapsed: float) -> str:
    """'Decoding digits.zip: 1,200 of 5,000 images · elapsed 3 s · ETA 10 s'."""
    eta = elapsed / done * (total - done) if done else None
    return (f"Decoding {name}: {done:,} of {total:,} images · elapsed {fmt_seconds(elapsed)} · "
            f"ETA {fmt_seconds(eta)}")


def load_upload(up, **kwargs) -> ImageDataset:
    """``folders.load_zip`` of an ``st.file_uploader`` file, with a progress bar that is removed at
    the end. Raises ``FolderDatasetError`` (and Streamlit's stop when the session has gone)."""
    name = getattr(up, "name", "the archive")
    bar = st.progress(0.0, text=f"Reading {name}…")
    slots = _slots()
    try:
        while not slots.acquire(timeout=WAIT_POLL_S):
            # another student's archive is being decoded: wait (this update is also the stop check)
            bar.progress(0.0, text=f"Waiting for the server: it decodes {count_of(limits.MAX_ZIP_LOADS, 'uploaded archive')} "
                                   f"at a time, and yours ({name}) is next in line…")
        try:
            t0 = time.monotonic()

            def progress(done: int, total: int) -> None:
                bar.progress(done / max(1, total), text=status(name, done, total, time.monotonic() - t0))

            return load_zip(up.getvalue(), progress=progress, **kwargs)
        finally:
            slots.release()
    finally:
        bar.empty()
