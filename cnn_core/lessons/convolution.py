"""Convolution one cell at a time and in full, written out the way the lecture notes do.

Convolution is the deep-learning kind (cross-correlation, no kernel flip), as in
``torch.nn.functional.conv2d``. Shapes: a grey image is (H, W); a multi-channel one (C, H, W); a
kernel (f, f) or (C, f, f). Output sizes and padding come from ``cnn_core.lessons.geometry``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cnn_core.lessons.formatting import fmt, fmt_factor
from cnn_core.lessons.geometry import LessonError, output_size, resolve_padding
from cnn_core.lessons.formatting import count_of

# Hand-typed grids, kernels and biases stay within ±MAX_ABS: far beyond any lesson, and small enough
# that every product and sum is exact enough to write out (1e308 · 5 overflows to inf).
MAX_ABS = 1e6
_TOO_BIG = "Keep every {what} between −1,000,000 and 1,000,000: {val} is too large to step through."


def _as_chw(x) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise LessonError(f"An input must be a grid (H, W) or channels of grids (C, H, W); got shape {a.shape}.")
    if not np.all(np.isfinite(a)):
        raise LessonError("The input contains a value that is not a number; fix the empty or invalid cells.")
    if a.size and np.abs(a).max() > MAX_ABS:
        raise LessonError(_TOO_BIG.format(what="input value", val=fmt(a.flat[np.abs(a).argmax()])))
    return a


def _kernel_for(x: np.ndarray, kernel) -> np.ndarray:
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim == 2:
        k = k[None]
    if k.ndim != 3 or k.shape[1] != k.shape[2]:
        raise LessonError(f"A kernel must be square, (f, f) or (C, f, f); got shape {k.shape}.")
    if k.shape[0] != x.shape[0]:
        raise LessonError(f"The kernel has depth {k.shape[0]} but the input has {count_of(x.shape[0], 'channel')}; "
                          "the kernel's depth must equal the input's depth.")
    if not np.all(np.isfinite(k)):
        raise LessonError("The kernel contains a value that is not a number; fix the empty or invalid cells.")
    if np.abs(k).max() > MAX_ABS:
        raise LessonError(_TOO_BIG.format(what="kernel value", val=fmt(k.flat[np.abs(k).argmax()])))
    return k


def pad(x, p: int) -> np.ndarray:
    """Zero padding of ``p`` on every side of each channel: (C, H, W) → (C, H + 2p, W + 2p)."""
    a = _as_chw(x)
    return np.pad(a, ((0, 0), (p, p), (p, p))) if p else a.copy()


@dataclass(frozen=True)
class ConvSetup:
    """An input, a kernel, a bias, a stride and a padding, checked once."""
    padded: np.ndarray      # (C, H + 2p, W + 2p)
    kernel: np.ndarray      # (C, f, f)
    bias: float
    stride: int
    padding: int
    in_hw: tuple[int, int]
    out_hw: tuple[int, int]

    @property
    def f(self) -> int:
        return int(self.kernel.shape[-1])

    @property
    def positions(self) -> int:
        return self.out_hw[0] * self.out_hw[1]

    def position(self, k: int) -> tuple[int, int]:
        """Output cell (row, col) of step ``k`` (0-based, row by row, as the window slides)."""
        if not 0 <= k < self.positions:
            raise LessonError(f"Position {k} is outside 0…{self.positions - 1}.")
        return divmod(int(k), self.out_hw[1])

    def window_origin(self, row: int, col: int) -> tuple[int, int]:
        """Top-left corner of the receptive field of output (row, col), in padded-input coordinates."""
        return row * self.stride, col * self.stride


def conv_setup(x, kernel, bias: float = 0.0, stride: int = 1, padding: int | str = 0) -> ConvSetup:
    a = _as_chw(x)
    k = _kernel_for(a, kernel)
    f = k.shape[-1]
    p = resolve_padding(padding, f=f)
    stride = int(stride)
    h, w = a.shape[1:]
    oh, ow = output_size(n=h, f=f, padding=p, stride=stride), output_size(n=w, f=f, padding=p, stride=stride)
    if not math.isfinite(float(bias)):
        raise LessonError("The bias must be a number.")
    if abs(float(bias)) > MAX_ABS:
        raise LessonError(_TOO_BIG.format(what="bias", val=fmt(bias)))
    return ConvSetup(pad(a, p), k, float(bias), stride, p, (h, w), (oh, ow))


@dataclass(frozen=True)
class ConvCell:
    """One output value: its receptive field, the products cell by cell, and the sum."""
    row: int
    col: int
    origin: tuple[int, int]  # window's top-left in the padded input
    window: np.ndarray       # (C, f, f) input values under the kernel
    kernel: np.ndarray       # (C, f, f)
    bias: float

    @property
    def products(self) -> np.ndarray:
        return self.window * self.kernel

    @property
    def channel_sums(self) -> np.ndarray:
        """One sum per input channel (the notes' Figure 7.5: three sums, then + bias)."""
        return self.products.reshape(self.products.shape[0], -1).sum(axis=1)

    @property
    def value(self) -> float:
        return float(self.channel_sums.sum() + self.bias)

    def terms(self, channel: int = 0) -> list[str]:
        """'x·w' for each cell of one channel's window, row by row: ['0·0', '0·(−1)', …, '105·5', …]."""
        return [f"{fmt_factor(x)}·{fmt_factor(w)}"
                for x, w in zip(self.window[channel].ravel(), self.kernel[channel].ravel())]

    def written_sum(self, channel: int | None = None, include_bias: bool | None = None,
                    max_terms: int | None = None) -> str:
        """The sum written out like the notes.

        The notes' example: '0·0 + 0·(−1) + 0·0 + 0·(−1) + 105·5 + 102·(−1) + 0·0 + 103·(−1) + 99·0 = 320'.
        ``channel``: one channel's terms and its channel sum (no bias); None: every channel's terms,
        then the bias (shown when non-zero unless ``include_bias`` says otherwise) and the value.
        ``max_terms``: keep the first three and last two terms around '…' when there are more.
        """
        if channel is not None:
            terms, total = self.terms(channel), float(self.channel_sums[channel])
            include_bias = False
        else:
            terms = [t for c in range(self.window.shape[0]) for t in self.terms(c)]
            total = self.value
            if include_bias is None:
                include_bias = self.bias != 0
        if max_terms is not None and len(terms) > max(max_terms, 5):
            terms = terms[:3] + ["…"] + terms[-2:]
        s = " + ".join(terms)
        if include_bias:
            s += f" + {fmt_factor(self.bias)} (bias)"
        return f"{s} = {fmt(total)}"

    def written_channel_sum(self) -> str:
        """'sum over R + sum over G + sum over B + bias': '4 + (−2) + 3 + 1 (bias) = 6'."""
        parts = [fmt_factor(v) for v in self.channel_sums]
        return " + ".join(parts) + f" + {fmt_factor(self.bias)} (bias) = {fmt(self.value)}"


def conv_cell(setup: ConvSetup, row: int, col: int) -> ConvCell:
    oh, ow = setup.out_hw
    if not (0 <= row < oh and 0 <= col < ow):
        raise LessonError(f"Output cell ({row}, {col}) is outside the {oh}×{ow} output.")
    r0, c0 = setup.window_origin(row, col)
    f = setup.f
    window = setup.padded[:, r0:r0 + f, c0:c0 + f]
    return ConvCell(row, col, (r0, c0), window.copy(), setup.kernel, setup.bias)


def conv2d(x, kernel, bias: float = 0.0, stride: int = 1, padding: int | str = 0) -> np.ndarray:
    """The full output map (H_out, W_out) of one kernel: torch's F.conv2d for one output channel."""
    s = conv_setup(x, kernel, bias, stride, padding)
    return conv_map(s)


def conv_map(setup: ConvSetup) -> np.ndarray:
    f, st = setup.f, setup.stride
    win = np.lib.stride_tricks.sliding_window_view(setup.padded, (f, f), axis=(1, 2))  # (C, H', W', f, f)
    win = win[:, ::st, ::st][:, :setup.out_hw[0], :setup.out_hw[1]]
    return np.einsum("chwij,cij->hw", win, setup.kernel) + setup.bias


def partial_map(full: np.ndarray, upto: int) -> np.ndarray:
    """The output map as filled in after steps 0…upto (row-major); later cells are NaN."""
    out = np.full(full.shape, np.nan)
    flat = out.reshape(-1)
    flat[:upto + 1] = full.reshape(-1)[:upto + 1]
    return out


def flatten_column(x) -> np.ndarray:
    """A map (or maps) laid out as one column vector, row by row (torch's Flatten order): 3×3 → 9×1."""
    a = np.asarray(x, dtype=np.float64)
    return a.reshape(-1, 1)


def relu(x) -> np.ndarray:
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)
