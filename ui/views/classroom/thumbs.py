"""Drawings as small pictures with a caption that is text, right/wrong marked by icon and word (not by
colour alone); shared by the student's own grid, the wall and moderation."""
from __future__ import annotations

import numpy as np

from ui.app.text import literal


def picture(images: dict, drawing_id: int):
    """The thumbnail PNG the student made, else the 28×28 input enlarged, else None."""
    got = images.get(drawing_id)
    if got is None:
        return None
    img28, thumb = got
    if thumb:
        return thumb
    return np.kron(np.asarray(img28, np.uint8), np.ones((3, 3), np.uint8))


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
