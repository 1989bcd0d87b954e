"""Numbers written the way the notes write them: integers bare, a few decimals otherwise, and the
typographic minus sign '−' (U+2212) instead of a hyphen."""
from __future__ import annotations

import math

MINUS = "−"  # U+2212, the minus sign the notes print


def fmt(x: float, digits: int = 3) -> str:
    """A number as the notes write it: integers bare, others to ``digits`` decimals, '−' for minus."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if abs(x) >= 1e15:  # beyond this the integer form is a wall of digits, most of them float noise
        return f"{x:.4g}".replace("-", MINUS)
    r = round(x, digits)
    if r == 0:
        r = 0.0  # no "−0"
    if abs(r - round(r)) < 10 ** -(digits + 3):
        s = str(int(round(r)))
    else:
        s = f"{r:.{digits}f}".rstrip("0").rstrip(".")
    return s.replace("-", MINUS)


def fmt_factor(x: float, digits: int = 3) -> str:
    """A factor inside a product: negatives in parentheses, '0·(−1)'."""
    s = fmt(x, digits)
    return f"({s})" if s.startswith(MINUS) else s
