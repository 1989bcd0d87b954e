"""Numbers written the way the notes write them: integers bare, a few decimals otherwise, and the
typographic minus sign '−' (U+2212) instead of a hyphen; and the one way things are numbered.

Numbering, the same on every page, in every chart, picker and error message:

- Layers, maps (channels, kernels), units, rows, columns and weight indices are counted from 1, as
  people count: layer 1 is the first layer after the input, map 1 its first map, ``W[1, 1, 2, 2]``
  the centre weight of a 3×3 kernel. Code keeps 0-based indices and adds 1 where it writes them
  (``count_from_one``); pickers show 1…n.
- Classes go by their names, never by their position: the digit classes are named "0" … "9", so
  "class 7" is the unit that scores a 7, which is the 8th output. Where a unit is a class (the last
  layer's logits, the softmax), it is named as the class (``unit_name``), never as "unit 8".
"""
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


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def fmt_sig(x: float, sig: int = 4) -> str:
    """A number to ``sig`` significant digits, for gradients that are mostly tiny: '0.01234',
    '−0.5', '3.142×10⁻⁵' (a power of ten below 0.0001 or from 10⁶ up), '0'."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    exp = math.floor(math.log10(abs(x)))
    if -4 <= exp < 6:
        decimals = max(sig - 1 - exp, 0)
        s = f"{x:.{decimals}f}"
        if "." in s:
            s = s.rstrip("0").rstrip(".")
        return s.replace("-", MINUS)
    mant = f"{x / 10 ** exp:.{sig - 1}f}".rstrip("0").rstrip(".")
    if mant in ("10", "-10"):           # 9.9996e-5 rounds up to 10×10⁻⁵
        mant, exp = mant[:-1], exp + 1
    return f"{mant}×10{str(exp).translate(_SUPERSCRIPT)}".replace("-", MINUS)


def fmt_sig_factor(x: float, sig: int = 4) -> str:
    """fmt_sig for a factor inside a product: negatives in parentheses."""
    s = fmt_sig(x, sig)
    return f"({s})" if s.startswith(MINUS) else s


def count_from_one(index: int) -> int:
    """A 0-based index as the learner reads it (layer, map, unit, row, column, weight index)."""
    return int(index) + 1


def unit_name(index: int, class_names=None) -> str:
    """'class 7' for an output unit (``class_names`` given: the last layer), else 'unit 8' (from 1)."""
    if class_names is not None:
        return f"class {class_names[int(index)]}"
    return f"unit {count_from_one(index)}"


def count_of(n: int, noun: str) -> str:
    """'1 step', '2,195 steps', '0 images': the count with a thousands separator and the noun in the right
    number (never a bracketed plural). Regular plurals only ('conv block' → 'conv blocks')."""
    n = int(n)
    return f"{n:,} {noun if n == 1 else noun + 's'}"
