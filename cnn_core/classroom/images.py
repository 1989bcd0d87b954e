"""Drawings as PNG bytes (never pickles), with every size checked before anything is decoded.

The 28×28 model input is stored as an 8-bit grayscale PNG, so it comes back bit-identical and its
hash (which decides the held-out fifth) is the same on every server. A thumbnail is whatever small
PNG the UI made; its byte size and the width/height in its header are checked first, because a
few kilobytes of PNG can declare a picture of gigabytes.
"""
from __future__ import annotations

import hashlib
import io
import struct

import numpy as np

from cnn_core import limits
from cnn_core.classroom.errors import ClassLimitError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SIDE = 28
HELDOUT_EVERY = 5          # one drawing in five is held out for testing


def to_uint8(image28) -> np.ndarray:
    """(28, 28) float in [0, 1] or uint8 → uint8 (28, 28). Checks the shape before converting."""
    shape = tuple(np.shape(image28))
    if shape != (SIDE, SIDE):
        raise ClassLimitError(f"A drawing must be the 28×28 model input; this one is {'×'.join(map(str, shape)) or 'empty'}.")
    arr = np.asarray(image28)
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    if arr.dtype.kind not in "fiub":
        raise ClassLimitError("A drawing must hold numbers between 0 and 1.")
    f = arr.astype(np.float64)
    if not np.all(np.isfinite(f)):
        raise ClassLimitError("A drawing must hold numbers between 0 and 1 (it has NaN or infinite values).")
    return np.clip(np.rint(f * 255.0), 0, 255).astype(np.uint8)


def heldout(image_u8: np.ndarray) -> bool:
    """True for a fixed fifth of all drawings: decided by the image alone, so it never changes."""
    digest = hashlib.sha256(np.ascontiguousarray(image_u8, dtype=np.uint8).tobytes()).digest()
    return int.from_bytes(digest, "big") % HELDOUT_EVERY == 0


def encode_png(image_u8: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image_u8, dtype=np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def decode_png28(data: bytes) -> np.ndarray:
    """A stored model input back to uint8 (28, 28)."""
    width, height = png_size(data)
    if (width, height) != (SIDE, SIDE):
        raise ValueError(f"stored drawing is {width}×{height}, not 28×28")
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("L"), dtype=np.uint8)


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the PNG's IHDR chunk, without decoding; ValueError if it is no PNG."""
    if len(data) < 24 or data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    return struct.unpack(">II", data[16:24])


def check_thumbnail(data) -> bytes | None:
    """The thumbnail's bytes if they are a small PNG; ClassLimitError saying which cap otherwise."""
    if data is None:
        return None
    data = bytes(data)
    cap = limits.MAX_THUMBNAIL_KB * 1024
    if len(data) > cap:
        raise ClassLimitError(f"The thumbnail is {limits.fmt_bytes(len(data))}; the cap is "
                              f"{limits.fmt_bytes(cap)} {limits.over(len(data), cap)}.")
    try:
        width, height = png_size(data)
    except ValueError:
        raise ClassLimitError("The thumbnail must be a PNG image.") from None
    side = limits.MAX_THUMBNAIL_SIDE
    if width > side or height > side or width < 1 or height < 1:
        raise ClassLimitError(f"The thumbnail is {width}×{height} pixels; the cap is {side}×{side}.")
    from PIL import Image, UnidentifiedImageError

    try:        # small by now: decode it fully once, so a damaged file is refused here, not on the wall
        with Image.open(io.BytesIO(data)) as im:
            im.load()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ClassLimitError("The thumbnail is not a readable PNG image.") from None
    return data
