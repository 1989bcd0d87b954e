"""Output sizes and padding: the one place the library computes them.

Convolution (documents 000 and 001):  n_out = ⌊(n + 2p − f)/s⌋ + 1
Pooling (document 000):               n_out = ⌊(n − k)/s⌋ + 1        (the stride defaults to k)

Padding is a whole number, 'valid' (0) or 'same' ((f − 1)/2, which keeps the size at stride 1).
'same' with an even kernel would need uneven padding (torch pads one side more); the lessons, the
spec builder, the Train page and the command line all refuse it with the same sentence.

Every function takes keyword arguments only, so an argument order cannot be mixed up:
``output_size(n=28, f=3, padding="same", stride=1)``. This module imports nothing from the rest of
the library, so the engine, the specs and the lessons can all use it.
"""
from __future__ import annotations


class LessonError(ValueError):
    """Settings a lesson cannot use; the message is meant for the learner."""


class GeometryError(LessonError):
    """A kernel, window, padding or stride that gives no output; the message says what to change."""


def resolve_padding(padding: int | str, *, f: int) -> int:
    """'valid' → 0; 'same' → (f − 1)/2 for an odd kernel (output size = input size at stride 1);
    a whole number (or its text) as is. Raises GeometryError for an even kernel with 'same'."""
    if isinstance(padding, str):
        name = padding.strip().lower()
        if name == "valid":
            return 0
        if name == "same":
            if int(f) % 2 == 0:
                raise GeometryError(f"'same' padding needs an odd kernel size; a {f}×{f} kernel would need "
                                    "uneven padding. Choose a number for the padding instead.")
            return (int(f) - 1) // 2
        try:
            padding = int(name)
        except ValueError:
            raise GeometryError(f"Padding must be 'valid', 'same' or a whole number, not {padding!r}.") from None
    p = int(padding)
    if p < 0:
        raise GeometryError("Padding cannot be negative.")
    return p


def _raw_output_size(n: int, f: int, p: int, s: int) -> int:
    return (n + 2 * p - f) // s + 1


def output_size(*, n: int, f: int, padding: int | str = 0, stride: int = 1) -> int:
    """⌊(n + 2p − f)/s⌋ + 1 along one axis; raises GeometryError when the kernel does not fit."""
    p = resolve_padding(padding, f=f)
    if stride < 1:
        raise GeometryError("Stride must be at least 1.")
    if f < 1:
        raise GeometryError("The kernel must be at least 1×1.")
    if f > n + 2 * p:
        raise GeometryError(f"The {f}×{f} kernel does not fit in the input of size {n} padded by {p} "
                            f"({n + 2 * p}); use a smaller kernel or more padding.")
    return _raw_output_size(int(n), int(f), p, int(stride))


def output_size_formula(*, n: int, f: int, padding: int | str = 0, stride: int = 1, steps: bool = True) -> str:
    """The formula with the numbers substituted.

    steps=True: '⌊(28 + 2·1 − 3)/1⌋ + 1 = ⌊27/1⌋ + 1 = 28'; steps=False: '⌊(28 + 2·1 − 3)/1⌋ + 1 = 28'.
    Written out even when the result is below 1 (an error message shows why a kernel does not fit).
    """
    p = resolve_padding(padding, f=f)
    out = _raw_output_size(int(n), int(f), p, int(stride))
    head = f"⌊({n} + 2·{p} − {f})/{stride}⌋ + 1"
    if not steps:
        return f"{head} = {out}"
    num = str(n + 2 * p - f).replace("-", "−")
    return f"{head} = ⌊{num}/{stride}⌋ + 1 = {out}"


def pool_output_size(*, n: int, k: int, stride: int | None = None) -> int:
    """⌊(n − k)/s⌋ + 1 (document 000's pooling formula; the stride defaults to the window)."""
    s = k if stride is None else stride
    if k < 1 or s < 1:
        raise GeometryError("Pooling window and stride must be at least 1.")
    if k > n:
        raise GeometryError(f"The {k}×{k} pooling window is larger than the {n}×{n} map.")
    return (int(n) - int(k)) // int(s) + 1


def pool_output_formula(*, n: int, k: int, stride: int | None = None) -> str:
    """'⌊(26 − 2)/2⌋ + 1 = 13'; written out even when the result is below 1."""
    s = k if stride is None else stride
    return f"⌊({n} − {k})/{s}⌋ + 1 = {(int(n) - int(k)) // int(s) + 1}"


def conv_output_shape(in_hw: tuple[int, int], *, f: int, filters: int = 1, padding: int | str = 0,
                      stride: int = 1) -> tuple[int, int, int]:
    """(F, H_out, W_out) of a conv layer with F filters: a (6, 8) image, 2×2 filters → (F, 5, 7)."""
    h, w = in_hw
    return (int(filters), output_size(n=h, f=f, padding=padding, stride=stride),
            output_size(n=w, f=f, padding=padding, stride=stride))
