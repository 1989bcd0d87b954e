"""Numbers written like the notes: bare integers, short decimals, the minus sign '−'."""
import math

from cnn_core.lessons.formatting import fmt, fmt_factor


def test_fmt_writes_numbers_like_the_notes():
    assert [fmt(v) for v in (320.0, -1, 0.1, 1 / 3, -0.0, 2.5)] == ["320", "−1", "0.1", "0.333", "0", "2.5"]
    assert fmt_factor(-1) == "(−1)" and math.isclose(float(fmt(0.07, 2)), 0.07)


def test_fmt_writes_huge_numbers_short():
    assert fmt(1e308) == "1e+308" and fmt(-3e20) == "−3e+20" and fmt(123456789012) == "123456789012"


def test_fmt_sig_keeps_small_gradients_readable():
    from cnn_core.lessons.formatting import fmt_sig, fmt_sig_factor

    assert fmt_sig(0.0123456) == "0.01235" and fmt_sig(-0.5) == "−0.5" and fmt_sig(0) == "0"
    assert fmt_sig(3.14159e-5) == "3.142×10⁻⁵" and fmt_sig(-2e-7) == "−2×10⁻⁷"
    assert fmt_sig(9.99996e-5) == "1×10⁻⁴" and fmt_sig(123.456) == "123.5" and fmt_sig(2.5e7) == "2.5×10⁷"
    assert fmt_sig_factor(-0.25) == "(−0.25)" and fmt_sig_factor(0.25) == "0.25"
