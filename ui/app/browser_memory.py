"""What a reload must not forget, per browser: the last drawing, the current input, the active model.

A reload (F5) starts a new Streamlit session. ``ui/app/state.py`` saves here, under the browser's
id (``ui/app/browser_id.py``), whenever the active model or the current input changes, and restores
from here once at the start of a new session. Plain Python (no Streamlit), one store per server
process, in memory: a server restart forgets everything, and each replica knows only its own
browsers (docs/deployment.md).

Bounded on every axis: at most ``max_browsers`` browsers (the least recently saved is forgotten
first), each for ``ttl_s`` after its last save; a drawing's strokes (JSON) up to ``max_strokes_bytes``
and its picture kept zlib-compressed (a 280×280 canvas is mostly black: ~313 KB → a few KB); models
up to ``max_model_bytes`` in all (beyond it the least recently saved browsers lose their model and
keep their drawing). A model is kept by reference, not copied: pages never mutate a ModelBundle (a
page that edits one edits a copy), and while the session lives the same object is in memory anyway.
"""
from __future__ import annotations

import json
import threading
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

MAX_BROWSERS = 200
TTL_S = 12 * 3600
MAX_STROKES_BYTES = 2 ** 20
MAX_PICTURE_BYTES = 4 * 2 ** 20          # the picture as an array (a 280×280 RGBA canvas is 306 KB)
MAX_MODEL_BYTES = 512 * 2 ** 20


@dataclass
class Recalled:
    """What a new session gets back (copies: the caller may keep and change them)."""
    drawing: dict | None = None           # the Draw page's saved drawing: {"key", "json", "picture"}
    canvas_n: int = 0                     # the Draw page's canvas counter when the drawing was made
    image: np.ndarray | None = None       # the current input, float32 (28, 28)
    source: str = ""                      # its description ("your drawing", "bundled digit #12 (label 7)")
    bundle: object | None = None          # the active ModelBundle (None: the default model)

    @property
    def empty(self) -> bool:
        return self.drawing is None and self.image is None and self.bundle is None


@dataclass
class _Entry:
    saved: float
    drawing: tuple | None = None          # (key, strokes JSON text, picture shape, dtype, zlib bytes)
    canvas_n: int = 0
    image: np.ndarray | None = None
    source: str = ""
    bundle: object | None = None
    model_bytes: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.drawing is None and self.image is None and self.bundle is None


def model_nbytes(bundle) -> int:
    """Bytes of a bundle's parameters and buffers (what keeping it alive costs)."""
    model = getattr(bundle, "model", None)
    try:
        return int(sum(t.numel() * t.element_size() for t in model.state_dict().values()))
    except Exception:  # not a torch module (a NumPy model): count the spec's float32 parameters instead
        from cnn_core.models.specs import count_params

        return 4 * int(count_params(bundle.spec))


class BrowserMemory:
    """Per-browser memory, bounded, thread-safe (sessions run in their own threads)."""

    def __init__(self, max_browsers: int = MAX_BROWSERS, ttl_s: float = TTL_S,
                 max_strokes_bytes: int = MAX_STROKES_BYTES, max_picture_bytes: int = MAX_PICTURE_BYTES,
                 max_model_bytes: int = MAX_MODEL_BYTES, clock=time.monotonic):
        self.max_browsers, self.ttl_s = max_browsers, ttl_s
        self.max_strokes_bytes, self.max_picture_bytes = max_strokes_bytes, max_picture_bytes
        self.max_model_bytes = max_model_bytes
        self.clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._entries)

    @property
    def model_bytes(self) -> int:
        return sum(e.model_bytes for e in self._entries.values())

    # -- saving -----------------------------------------------------------------------------------
    def save_input(self, browser: str, image: np.ndarray | None, source: str = "") -> None:
        img = None if image is None else np.array(image, dtype=np.float32)
        if img is not None and img.nbytes > self.max_picture_bytes:
            img = None
        self._update(browser, image=img, source=str(source)[:500] if img is not None else "")

    def save_drawing(self, browser: str, drawing: dict | None, canvas_n: int = 0) -> None:
        """The Draw page's saved drawing ({"key", "json", "picture"}), or None once it is cleared. A
        drawing whose strokes or picture are over the caps is not kept (the input still is)."""
        packed = None
        if drawing is not None:
            try:
                strokes = json.dumps(drawing.get("json"))
                pic = np.ascontiguousarray(drawing["picture"])
            except (TypeError, ValueError, KeyError):
                strokes, pic = None, None
            if strokes is not None and len(strokes) <= self.max_strokes_bytes and pic.nbytes <= self.max_picture_bytes:
                packed = (str(drawing.get("key", "")), strokes, pic.shape, pic.dtype.str, zlib.compress(pic.tobytes(), 3))
        self._update(browser, drawing=packed, canvas_n=int(canvas_n))

    def save_model(self, browser: str, bundle) -> None:
        """The active model (None: the default, which needs no keeping)."""
        self._update(browser, bundle=bundle, model_bytes=0 if bundle is None else model_nbytes(bundle))

    def forget(self, browser: str) -> None:
        with self._lock:
            self._entries.pop(browser, None)

    def _update(self, browser: str, **values) -> None:
        if not browser:
            return
        with self._lock:
            entry = self._entries.pop(browser, None) or _Entry(saved=0.0)
            for k, v in values.items():
                setattr(entry, k, v)
            entry.saved = self.clock()
            if entry.model_bytes > self.max_model_bytes:       # one model alone over the budget: not kept
                entry.bundle, entry.model_bytes = None, 0
            if not entry.empty:
                self._entries[browser] = entry                  # newest last
            self._expire()
            while len(self._entries) > self.max_browsers:
                self._entries.popitem(last=False)
            for old in self._entries.values():                  # oldest first lose their model
                if self.model_bytes <= self.max_model_bytes:
                    break
                old.bundle, old.model_bytes = None, 0

    def _expire(self) -> None:
        now = self.clock()
        while self._entries:
            key, oldest = next(iter(self._entries.items()))
            if now - oldest.saved <= self.ttl_s:
                break
            del self._entries[key]

    # -- restoring --------------------------------------------------------------------------------
    def recall(self, browser: str | None) -> Recalled | None:
        """What this browser left, or None (unknown, expired, or nothing kept)."""
        if not browser:
            return None
        with self._lock:
            self._expire()
            entry = self._entries.get(browser)
            if entry is None or entry.empty:
                return None
            drawing = None
            if entry.drawing is not None:
                key, strokes, shape, dtype, packed = entry.drawing
                picture = np.frombuffer(zlib.decompress(packed), dtype=np.dtype(dtype)).reshape(shape).copy()
                drawing = {"key": key, "json": json.loads(strokes), "picture": picture}
            return Recalled(drawing=drawing, canvas_n=entry.canvas_n,
                            image=None if entry.image is None else entry.image.copy(),
                            source=entry.source, bundle=entry.bundle)


_shared: BrowserMemory | None = None
_shared_lock = threading.Lock()


def shared() -> BrowserMemory:
    """This server process's memory (one for all sessions)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = BrowserMemory()
        return _shared
