"""Drawings as small pictures with a caption that is text, right/wrong marked by icon and word (not by
colour alone); shared by the student's own grid, the wall and moderation."""
from __future__ import annotations

import base64
import functools
import io

import numpy as np
from PIL import Image

from ui.app.text import literal


@functools.lru_cache(maxsize=4096)
def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@functools.lru_cache(maxsize=4096)
def _enlarged_png(img28: bytes) -> bytes:
    a = np.frombuffer(img28, np.uint8).reshape(28, 28)
    buf = io.BytesIO()
    Image.fromarray(np.kron(a, np.ones((3, 3), np.uint8)), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def picture(images: dict, drawing_id: int) -> str | None:
    """The thumbnail the student made (else the 28×28 input enlarged) as a data: URL, else None.

    A data: URL goes to the browser as it is: st.image given bytes or an array opens it with PIL, maybe
    re-encodes it and files it in the media manager on every run, which made up most of a wall tick's
    server time (40 pictures every 1.5 s); encoded once per drawing here, a tick costs a string."""
    got = images.get(drawing_id)
    if got is None:
        return None
    img28, thumb = got
    if thumb:
        return _data_url(bytes(thumb))
    return _data_url(_enlarged_png(np.ascontiguousarray(img28, np.uint8).tobytes()))


def verdict(row) -> str:
    """"✓ right" / "✗ wrong: 1" / "" (no guess among the labels), as markdown-safe text."""
    if row.ok is None:
        return ""
    return "✓ right" if row.ok else f"✗ model said {literal(row.prediction)}"


def caption(row, who: bool = True) -> str:
    parts = [f"**{literal(row.label)}**", verdict(row)]
    if who:
        parts.append(literal(row.nickname))
    if row.hidden:
        parts.append("hidden")
    return " · ".join(p for p in parts if p)
