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
