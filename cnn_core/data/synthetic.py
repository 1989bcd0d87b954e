"""Digits drawn as pen strokes, the way a person draws them on the Draw page's canvas.

Used by tests and benchmarks to feed ``preprocess.canvas_to_mnist`` realistic canvas images
(280×280 RGBA, white ink on black, round pen) without a browser. Each digit is a list of strokes;
each stroke is a polyline in unit coordinates (x right, y down, both in [0, 1]).
"""
from __future__ import annotations

import math

import numpy as np


def _arc(cx, cy, rx, ry, a0, a1, n=24):
    """Points on an ellipse from angle a0 to a1 (degrees, 0 = right, 90 = down)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(a0, a1, n)]


DIGIT_STROKES: dict[int, list[list[tuple[float, float]]]] = {
    0: [_arc(0.5, 0.5, 0.26, 0.38, -90, 275, 40)],
    1: [[(0.42, 0.22), (0.53, 0.12), (0.53, 0.88)]],
    2: [_arc(0.5, 0.32, 0.24, 0.2, 200, 370, 20) + [(0.68, 0.48), (0.26, 0.86), (0.76, 0.86)]],
    3: [_arc(0.48, 0.31, 0.22, 0.19, 210, 450, 24) + _arc(0.48, 0.68, 0.25, 0.19, 270, 510, 24)[1:]],
    4: [[(0.58, 0.12), (0.24, 0.62), (0.8, 0.62)], [(0.62, 0.36), (0.62, 0.9)]],
    5: [[(0.74, 0.14), (0.33, 0.14), (0.29, 0.46)] + _arc(0.48, 0.64, 0.25, 0.22, 230, 490, 24)[1:]],
    6: [[(0.66, 0.12), (0.48, 0.3), (0.3, 0.56)] + _arc(0.5, 0.68, 0.2, 0.19, 180, 540, 32)],
    7: [[(0.24, 0.16), (0.76, 0.16), (0.42, 0.88)]],
    8: [_arc(0.5, 0.3, 0.19, 0.17, 90, 450, 28), _arc(0.5, 0.67, 0.23, 0.2, -90, 270, 32)],
    9: [_arc(0.48, 0.33, 0.2, 0.19, 0, 360, 32) + [(0.68, 0.33), (0.66, 0.88)]],
}


def draw_strokes(strokes, size: int = 280, pen: float = 20.0, box: tuple[float, float, float, float] = (0, 0, 1, 1),
                 ink=(255, 255, 255), background=(0, 0, 0)) -> np.ndarray:
    """Render strokes onto a size×size RGBA uint8 canvas, like streamlit-drawable-canvas does.

    ``box`` = (left, top, right, bottom) in unit coordinates: where the unit square of the
    strokes lands on the canvas (a small box in a corner draws a tiny digit there).
    ``background=None`` leaves the background transparent (only the ink is painted).
    """
    from PIL import Image, ImageDraw

    bg = (0, 0, 0, 0) if background is None else (*background, 255)
    img = Image.new("RGBA", (size, size), bg)
    d = ImageDraw.Draw(img)
    l, t, r, b = box
    col = (*ink, 255)
    rad = pen / 2
    for stroke in strokes:
        pts = [((l + x * (r - l)) * size, (t + y * (b - t)) * size) for x, y in stroke]
        d.line(pts, fill=col, width=max(1, int(round(pen))), joint="curve")
        for x, y in (pts[0], pts[-1]):  # round caps, as the canvas's pen has
            d.ellipse((x - rad, y - rad, x + rad, y + rad), fill=col)
    return np.asarray(img, dtype=np.uint8).copy()


def draw_digit(digit: int, **kwargs) -> np.ndarray:
    """One of the ten template digits on a canvas; see ``draw_strokes`` for the options."""
    return draw_strokes(DIGIT_STROKES[int(digit)], **kwargs)
