"""Stepping a convolution window by hand or by Play: which positions are worth a stop, and where next.

A 28×28 drawing has 784 window positions and most of them see only the black background; Play can
skip those (``busy_positions``) so that a class watches the strokes, not ten minutes of zeros.
Positions are 1-based here, as the page's slider shows them.
"""
from __future__ import annotations

import numpy as np

from cnn_core.lessons.convolution import ConvSetup

PLAY_SPEEDS = {"slow": 1.5, "normal": 0.8, "fast": 0.3}   # seconds per step


def busy_positions(setup: ConvSetup) -> np.ndarray:
    """bool (positions,): True where the window sees at least one non-zero input value."""
    oh, ow = setup.out_hw
    f, s = setup.f, setup.stride
    nz = np.any(setup.padded != 0, axis=0)                 # (H + 2p, W + 2p)
    # a summed-area table answers "any non-zero in this f×f window" for every window at once
    sat = np.pad(nz.astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    r0 = np.arange(oh)[:, None] * s
    c0 = np.arange(ow)[None, :] * s
    counts = sat[r0 + f, c0 + f] - sat[r0, c0 + f] - sat[r0 + f, c0] + sat[r0, c0]
    return (counts > 0).ravel()


def next_position(pos: int, n: int, busy: np.ndarray | None = None, delta: int = 1) -> int:
    """The position ``delta`` steps on from ``pos`` (1…n), clamped; with ``busy``, only busy positions
    count as steps (the last / first busy one when none is left that way; ``pos`` if none is busy)."""
    pos = int(min(max(pos, 1), n))
    if busy is None or not np.any(busy):
        return int(min(max(pos + delta, 1), n))
    idx = np.flatnonzero(busy) + 1                          # busy positions, 1-based
    if delta > 0:
        ahead = idx[idx > pos]
        return int(ahead[min(delta, len(ahead)) - 1]) if len(ahead) else pos
    behind = idx[idx < pos]
    return int(behind[max(len(behind) + delta, 0)]) if len(behind) else pos


def first_position(n: int, busy: np.ndarray | None = None) -> int:
    """Where Play starts: position 1, or the first busy position when skipping."""
    if busy is None or not np.any(busy):
        return 1
    return int(np.flatnonzero(busy)[0] + 1)


def last_position(n: int, busy: np.ndarray | None = None) -> int:
    """Where Play stops: position n, or the last busy position when skipping."""
    if busy is None or not np.any(busy):
        return n
    return int(np.flatnonzero(busy)[-1] + 1)
