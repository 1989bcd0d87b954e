"""Caps that keep one user from exhausting a shared server, all in one place.

Every spec (an uploaded checkpoint, the Train page's builder, the command line, each cell of a
sweep grid) is checked against the model caps by ``specs.layer_infos`` *before* anything is
allocated: shapes and parameter counts are computed arithmetically from the spec. Uploads, runs
and sweeps have their own caps below. Each cap can be raised (or lowered) by an environment
variable named ``CNN_EXPLORER_<NAME>``, e.g. ``CNN_EXPLORER_MAX_PARAMS=200000000 make run`` on a
teacher's bigger server. Code reads them as ``limits.NAME`` at call time, so tests can patch them.

A refusal is one sentence naming the cap and how far over it is, e.g. "This network has 3.1 billion
parameters; the cap is 25 million (126× over)."
"""
from __future__ import annotations

import os

ENV_PREFIX = "CNN_EXPLORER_"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(float(raw))
    except (ValueError, OverflowError):
        return default
    return value if value >= 1 else default


# --- models (any spec) --------------------------------------------------------------------------
MAX_PARAMS = _env_int("MAX_PARAMS", 25_000_000)                # 100 MB of float32 weights
MAX_ACTIVATION_MB = _env_int("MAX_ACTIVATION_MB", 32)          # every layer's output for one image, float32
MAX_INPUT_SIDE = _env_int("MAX_INPUT_SIDE", 512)               # pixels, height and width
MAX_INPUT_CHANNELS = _env_int("MAX_INPUT_CHANNELS", 4)
MAX_LAYERS = _env_int("MAX_LAYERS", 200)
# --- training: one batch's forward activations (× ~3 with gradients) ---------------------------
MAX_BATCH_ACTIVATION_MB = _env_int("MAX_BATCH_ACTIVATION_MB", 2048)
# --- uploads ------------------------------------------------------------------------------------
MAX_CHECKPOINT_MB = _env_int("MAX_CHECKPOINT_MB", 100)         # a .safetensors checkpoint
MAX_CHECKPOINT_HEADER_KB = _env_int("MAX_CHECKPOINT_HEADER_KB", 1024)  # its JSON header (spec + meta)
MAX_ZIP_MB = _env_int("MAX_ZIP_MB", 100)                       # a zip of class folders
MAX_ZIP_EXPANDED_MB = _env_int("MAX_ZIP_EXPANDED_MB", 300)     # its entries' uncompressed sizes, summed
MAX_ZIP_DECODED_MB = _env_int("MAX_ZIP_DECODED_MB", 256)       # its images decoded (RGB, at the chosen size)
MAX_ZIP_LOADS = _env_int("MAX_ZIP_LOADS", 2)                    # zips decoded at once, whole server
MAX_IMAGE_MB = _env_int("MAX_IMAGE_MB", 20)                    # a picture on the Draw page
MAX_IMAGE_PIXELS = _env_int("MAX_IMAGE_PIXELS", 40_000_000)    # about 7,700 × 5,200; decoded RGBA 160 MB
# Streamlit refuses anything larger than server.maxUploadSize (.streamlit/config.toml, 100 MB)
# first; raise STREAMLIT_SERVER_MAX_UPLOAD_SIZE along with these two.
# --- runs and sweeps ----------------------------------------------------------------------------
MAX_QUEUED_RUNS = _env_int("MAX_QUEUED_RUNS", 30)              # waiting for a free slot, whole server
MAX_RUNS_PER_SESSION = _env_int("MAX_RUNS_PER_SESSION", 2)     # running or queued, per browser session
MAX_SWEEP_CELLS = _env_int("MAX_SWEEP_CELLS", 25)              # runs in one sweep grid
# A queued run (or a sweep waiting in the queue) that no page has shown for this long is dropped:
# its session left, and it would train for nobody while holding a place in the queue.
ABANDONED_QUEUE_S = _env_int("ABANDONED_QUEUE_S", 300)


class LimitError(ValueError):
    """A request beyond a cap; the message is one sentence meant for the user."""


_UNITS = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))


def fmt_count(n: float) -> str:
    """3_100_000_000 → '3.1 billion', 25_000_000 → '25 million', 950_000 → '950,000'."""
    for size, word in _UNITS:
        if n >= size:
            v = n / size
            return f"{v:.1f} {word}" if v < 100 and v != int(v) else f"{v:,.0f} {word}"
    return f"{int(n):,}"


def fmt_bytes(n: float) -> str:
    """Binary units: 33_554_432 → '32 MB', 9.3e9 → '8.7 GB'."""
    for size, unit in ((2 ** 40, "TB"), (2 ** 30, "GB"), (2 ** 20, "MB"), (2 ** 10, "KB")):
        if n >= size:
            v = n / size
            return f"{v:.1f} {unit}" if v < 100 and v != int(v) else f"{v:,.0f} {unit}"
    return f"{int(n)} bytes"


def over(value: float, cap: float) -> str:
    """'(126× over)' — how far beyond the cap, never rounded down to 1×."""
    r = value / cap
    return f"({r:.2f}× over)" if r < 2 else f"({r:.1f}× over)" if r < 10 else f"({r:,.0f}× over)"


def check(value: float, cap: float, what: str, fmt=fmt_count, error=LimitError) -> None:
    """Raise ``error`` with '{what} {value}; the cap is {cap} (N× over).' when value > cap."""
    if value > cap:
        raise error(f"{what} {fmt(value)}; the cap is {fmt(cap)} {over(value, cap)}.")


# --- class mode (cnn_core.classroom) -------------------------------------------------------------
# One shared database serves every class on the server (or on several servers): these keep one
# class, or one student, from filling it. Refusals raise classroom.ClassLimitError (a LimitError).
MAX_STUDENTS_PER_CLASS = _env_int("MAX_STUDENTS_PER_CLASS", 60)     # students in the class at once
MAX_DRAWINGS_PER_MINUTE = _env_int("MAX_DRAWINGS_PER_MINUTE", 12)   # per student, last 60 s
MAX_DRAWINGS_PER_CLASS = _env_int("MAX_DRAWINGS_PER_CLASS", 3000)   # kept drawings, whole class
MAX_CLASSES = _env_int("MAX_CLASSES", 200)                          # live classes on the server
MAX_NICKNAME_CHARS = _env_int("MAX_NICKNAME_CHARS", 24)
MAX_CLASS_NAME_CHARS = _env_int("MAX_CLASS_NAME_CHARS", 40)
MAX_LABEL_CHARS = _env_int("MAX_LABEL_CHARS", 20)
MAX_CLASS_HOURS = _env_int("MAX_CLASS_HOURS", 72)                   # a class's lifetime
MAX_LEADERBOARD_ENTRIES = _env_int("MAX_LEADERBOARD_ENTRIES", 100)  # per class
# A drawing's thumbnail: the PNG's bytes, and the width and height its header declares (checked
# before it is decoded, so a tiny file declaring a huge image is refused without allocating it).
MAX_THUMBNAIL_KB = _env_int("MAX_THUMBNAIL_KB", 64)
MAX_THUMBNAIL_SIDE = _env_int("MAX_THUMBNAIL_SIDE", 280)
