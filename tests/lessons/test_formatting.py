"""Numbers written like the notes: bare integers, short decimals, the minus sign '−'."""
import math

from cnn_core.lessons.formatting import fmt, fmt_factor


def test_fmt_writes_numbers_like_the_notes():
    assert [fmt(v) for v in (320.0, -1, 0.1, 1 / 3, -0.0, 2.5)] == ["320", "−1", "0.1", "0.333", "0", "2.5"]
    assert fmt_factor(-1) == "(−1)" and math.isclose(float(fmt(0.07, 2)), 0.07)


def test_fmt_writes_huge_numbers_short():
    assert fmt(1e308) == "1e+308" and fmt(-3e20) == "−3e+20" and fmt(123456789012) == "123456789012"
