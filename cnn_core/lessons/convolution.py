"""The numbers the teaching pages show, computed and written out the way the lecture notes do.

Everything here is plain NumPy on small arrays, so a test can check each number by hand or
against PyTorch. Convolution is the deep-learning kind (cross-correlation, no kernel flip), as in
``torch.nn.functional.conv2d``; pooling mirrors ``torch.nn.functional.max_pool2d`` /
``avg_pool2d`` (ties in max pooling go to the first cell in row-major order, as torch does).

Shapes: a grey image is (H, W); a multi-channel one (C, H, W); a kernel (f, f) or (C, f, f).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cnn_core.models.specs import conv_output_size

MINUS = "−"  # U+2212, the minus sign the notes print


class LessonError(ValueError):
    """Settings a lesson cannot use; the message is meant for the learner."""


# ---------------------------------------------------------------------------------------------
# Writing numbers like the notes do
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# Padding and output sizes
# ---------------------------------------------------------------------------------------------

def resolve_padding(padding: int | str, f: int) -> int:
    """'valid' → 0; 'same' → (f − 1)/2 for an odd kernel (output size = input size at stride 1); an int as is."""
    if isinstance(padding, str):
        name = padding.strip().lower()
        if name == "valid":
            return 0
        if name == "same":
            if f % 2 == 0:
                raise LessonError(f"'same' padding needs an odd kernel size; a {f}×{f} kernel would need "
                                  "uneven padding. Choose a number for the padding instead.")
            return (f - 1) // 2
        try:
            padding = int(name)
        except ValueError:
            raise LessonError(f"Padding must be 'valid', 'same' or a whole number, not {padding!r}.") from None
    p = int(padding)
    if p < 0:
        raise LessonError("Padding cannot be negative.")
    return p


def output_size(n: int, f: int, padding: int | str = 0, stride: int = 1) -> int:
    """⌊(n + 2p − f)/s⌋ + 1; raises LessonError when the kernel does not fit."""
    p = resolve_padding(padding, f)
    if stride < 1:
        raise LessonError("Stride must be at least 1.")
    if f < 1:
        raise LessonError("The kernel must be at least 1×1.")
    if f > n + 2 * p:
        raise LessonError(f"The {f}×{f} kernel does not fit in the input of size {n} padded by {p} "
                          f"({n + 2 * p}); use a smaller kernel or more padding.")
    return conv_output_size(n, f, p, stride)


def output_size_formula(n: int, f: int, padding: int | str = 0, stride: int = 1) -> str:
    """The formula with the numbers substituted, step by step: '⌊(28 + 2·1 − 3)/1⌋ + 1 = ⌊27/1⌋ + 1 = 28'."""
    p = resolve_padding(padding, f)
    out = output_size(n, f, p, stride)
    num = n + 2 * p - f
    return f"⌊({n} + 2·{p} − {f})/{stride}⌋ + 1 = ⌊{fmt(num)}/{stride}⌋ + 1 = {out}"


def pool_output_size(n: int, k: int, stride: int | None = None) -> int:
    """⌊(n − k)/s⌋ + 1 (document 000's pooling formula; the stride defaults to the window)."""
    s = k if stride is None else stride
    if k < 1 or s < 1:
        raise LessonError("Pooling window and stride must be at least 1.")
    if k > n:
        raise LessonError(f"The {k}×{k} pooling window is larger than the {n}×{n} map.")
    return (n - k) // s + 1


def pool_output_formula(n: int, k: int, stride: int | None = None) -> str:
    s = k if stride is None else stride
    return f"⌊({n} − {k})/{s}⌋ + 1 = {pool_output_size(n, k, s)}"


def conv_output_shape(in_hw: tuple[int, int], f: int, filters: int = 1, padding: int | str = 0,
                      stride: int = 1) -> tuple[int, int, int]:
    """(F, H_out, W_out) of a conv layer with F filters: a (6, 8) image, 2×2 filters → (F, 5, 7)."""
    h, w = in_hw
    return (int(filters), output_size(h, f, padding, stride), output_size(w, f, padding, stride))


# ---------------------------------------------------------------------------------------------
# Convolution, one cell at a time and in full
# ---------------------------------------------------------------------------------------------

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
        raise LessonError(f"The kernel has depth {k.shape[0]} but the input has {x.shape[0]} channel(s); "
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
    p = resolve_padding(padding, f)
    stride = int(stride)
    h, w = a.shape[1:]
    oh, ow = output_size(h, f, p, stride), output_size(w, f, p, stride)
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


# ---------------------------------------------------------------------------------------------
# Pooling: outputs, winners and where the gradient goes
# ---------------------------------------------------------------------------------------------

def _runs(values: list[int]) -> str:
    """[5] → '5', [3, 6] → '3, 6', [7, 8, 9] → '7–9'."""
    out, start = [], values[0]
    for a, b in zip(values, values[1:] + [None]):
        if b != a + 1:
            out.append(str(start) if start == a else f"{start}–{a}")
            start = b
    return ", ".join(out)


@dataclass(frozen=True)
class PoolResult:
    kind: str                      # "max" or "avg"
    k: int
    stride: int
    input: np.ndarray              # (H, W)
    output: np.ndarray             # (H_out, W_out)
    winners: np.ndarray | None     # (H_out, W_out, 2) input (row, col) of each max; None for avg

    def window(self, i: int, j: int) -> tuple[int, int, int, int]:
        """(row0, col0, row1, col1) of output (i, j)'s window, end-exclusive."""
        r0, c0 = i * self.stride, j * self.stride
        return r0, c0, r0 + self.k, c0 + self.k

    def route_gradient(self, upstream=None) -> np.ndarray:
        """dL/d(input) given dL/d(output) (ones by default).

        Max: each window's gradient goes to its winner only (summed where windows overlap).
        Average: each cell of a window gets 1/k² of it. Matches torch's autograd.
        """
        g = np.ones(self.output.shape) if upstream is None else np.asarray(upstream, dtype=np.float64)
        if g.shape != self.output.shape:
            raise LessonError(f"The upstream gradient must have the output's shape {self.output.shape}.")
        grad = np.zeros(self.input.shape)
        for i in range(self.output.shape[0]):
            for j in range(self.output.shape[1]):
                if self.kind == "max":
                    r, c = self.winners[i, j]
                    grad[r, c] += g[i, j]
                else:
                    r0, c0, r1, c1 = self.window(i, j)
                    grad[r0:r1, c0:c1] += g[i, j] / (self.k * self.k)
        return grad

    def uncovered_note(self) -> str:
        """'' when the windows reach every cell, else which rows / columns no window covers and why:
        the floor in ⌊(n − k)/s⌋ + 1 drops the last ones, a stride larger than the window skips some."""
        oh, ow = self.output.shape
        parts, reasons = [], set()
        for what, n, m in (("row", self.input.shape[0], oh), ("column", self.input.shape[1], ow)):
            covered = np.zeros(n, bool)
            for i in range(m):
                covered[i * self.stride:i * self.stride + self.k] = True
            missed = [int(v) + 1 for v in np.flatnonzero(~covered)]
            if missed:
                parts.append(f"{what}{'s' if len(missed) > 1 else ''} {_runs(missed)}")
                reasons.add("floor" if missed[-1] == n else "stride")
                if any(v < (m - 1) * self.stride + self.k for v in missed):
                    reasons.add("stride")
        if not parts:
            return ""
        text = " and ".join(parts)
        why = " and ".join(r for r in (
            "the floor in the output-size formula drops the last ones" if "floor" in reasons else "",
            f"a stride of {self.stride} jumps over cells a {self.k}×{self.k} window cannot reach"
            if "stride" in reasons else "") if r)
        return (f"{text[0].upper() + text[1:]} {'are' if len(parts) > 1 or 's ' in parts[0][:8] else 'is'} "
                f"in no window ({why}): pooling never looks at them, and they get no gradient.")

    def routing_note(self) -> str:
        if self.kind == "max":
            return ("Backpropagation: each pooled value's gradient flows back only to its winning cell "
                    "(ringed); every other cell of the window gets 0. A cell that wins several "
                    "overlapping windows collects the sum of their gradients.")
        return (f"Backpropagation: each pooled value's gradient is shared equally, 1/{self.k * self.k} "
                f"of it to each of the {self.k}×{self.k} cells of its window.")

    def written(self, i: int, j: int) -> str:
        """'max(3, 3, 2, 0, 0, 1, 3, 1, 2) = 3' or 'avg(…) = 15/9 = 1.667'."""
        r0, c0, r1, c1 = self.window(i, j)
        vals = self.input[r0:r1, c0:c1].ravel()
        inner = ", ".join(fmt(v) for v in vals)
        if self.kind == "max":
            return f"max({inner}) = {fmt(self.output[i, j])}"
        return f"avg({inner}) = {fmt(vals.sum())}/{vals.size} = {fmt(self.output[i, j])}"


def pool2d(x, kind: str = "max", k: int = 2, stride: int | None = None) -> PoolResult:
    """Max or average pooling of one map (H, W) with a k×k window and the given stride (default k)."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise LessonError(f"Pooling here works on one map (H, W); got shape {a.shape}.")
    if kind not in ("max", "avg"):
        raise LessonError("Pooling must be 'max' or 'avg'.")
    s = int(k if stride is None else stride)
    oh, ow = pool_output_size(a.shape[0], k, s), pool_output_size(a.shape[1], k, s)
    out = np.empty((oh, ow))
    winners = np.empty((oh, ow, 2), dtype=np.int64) if kind == "max" else None
    for i in range(oh):
        for j in range(ow):
            w = a[i * s:i * s + k, j * s:j * s + k]
            if kind == "max":
                idx = int(np.argmax(w))  # first maximum in row-major order, like torch
                r, c = divmod(idx, k)
                winners[i, j] = (i * s + r, j * s + c)
                out[i, j] = w[r, c]
            else:
                out[i, j] = w.mean()
    return PoolResult(kind, int(k), s, a, out, winners)


# ---------------------------------------------------------------------------------------------
# Kernels and the notes' example inputs
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KernelPreset:
    name: str
    kernel: np.ndarray
    about: str


def _k(rows, scale: float = 1.0) -> np.ndarray:
    return np.asarray(rows, dtype=np.float64) * scale


KERNEL_PRESETS: dict[str, KernelPreset] = {p.name: p for p in [
    KernelPreset("Identity", _k([[0, 0, 0], [0, 1, 0], [0, 0, 0]]), "copies the input: the output equals the centre pixel"),
    KernelPreset("Box blur", _k(np.ones((3, 3)), 1 / 9), "the mean of the 3×3 neighbourhood"),
    KernelPreset("Gaussian blur", _k([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16), "a weighted mean, the centre counts most"),
    KernelPreset("Sharpen (the notes' kernel)", _k([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
                 "the lecture's kernel: 5 × centre minus the four neighbours (gives 320 in the notes)"),
    KernelPreset("Sobel x", _k([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]), "responds to left-to-right brightness changes (vertical edges)"),
    KernelPreset("Sobel y", _k([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]), "responds to top-to-bottom brightness changes (horizontal edges)"),
    KernelPreset("Laplacian", _k([[0, 1, 0], [1, -4, 1], [0, 1, 0]]), "second derivative: lights up edges in every direction"),
    KernelPreset("Edge: vertical", _k([[1, 0, -1], [1, 0, -1], [1, 0, -1]]), "a vertical-edge detector (low-level feature)"),
    KernelPreset("Edge: horizontal", _k([[1, 1, 1], [0, 0, 0], [-1, -1, -1]]), "a horizontal-edge detector (low-level feature)"),
    KernelPreset("Edge: all directions", _k([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]), "outline detector: zero on flat areas"),
    KernelPreset("Figure 7.3's X kernel", _k([[1, 0, 1], [0, 1, 0], [1, 0, 1]]), "the kernel K of the notes' 5×5 example (Figure 7.3)"),
]}


@dataclass(frozen=True)
class ExampleInput:
    name: str
    image: np.ndarray          # (H, W) or (C, H, W)
    kernel: str | np.ndarray   # a preset name or an explicit kernel
    bias: float
    padding: int | str
    stride: int
    about: str


# The notes (001) show only the window of the padded sharpen example: zeros on the padding, then
# 105, 102 / 103, 99 at the image's top-left. The other pixels below are illustrative.
SHARPEN_320_IMAGE = np.array([[105, 102, 100, 97, 96],
                              [103, 99, 103, 101, 102],
                              [101, 98, 104, 102, 100],
                              [99, 101, 106, 104, 99],
                              [104, 104, 104, 100, 98]], dtype=np.float64)

# Figure 7.3: "a 5×5×1 image with a 3×3×1 kernel gives a 3×3×1 convolved feature". The notes' text
# has no numbers; these are the figure's well-known values (the same figure appears in Saha's 2018
# "comprehensive guide to CNNs" the slides follow), which give [[4, 3, 4], [2, 4, 3], [2, 3, 4]].
FIGURE_7_3_IMAGE = np.array([[1, 1, 1, 0, 0],
                             [0, 1, 1, 1, 0],
                             [0, 0, 1, 1, 1],
                             [0, 0, 1, 1, 0],
                             [0, 1, 1, 0, 0]], dtype=np.float64)

# Figure 7.8: the 5×5 convolved feature the notes pool (3×3, stride 1; and stride 2).
POOLING_5X5 = np.array([[3, 3, 2, 1, 0],
                        [0, 0, 1, 3, 1],
                        [3, 1, 2, 2, 3],
                        [2, 0, 0, 2, 2],
                        [2, 0, 0, 0, 1]], dtype=np.float64)

# Figure 7.5 in spirit: a 5×5×3 input, a 3×3×3 kernel and bias 1 give one output channel. The
# notes give no numbers for it, so these small integers are our own.
RGB_5X5X3 = np.array([
    [[0, 1, 1, 2, 2], [0, 1, 1, 0, 0], [1, 1, 0, 1, 0], [1, 0, 1, 1, 1], [0, 2, 0, 1, 0]],   # R
    [[1, 0, 2, 2, 0], [0, 0, 0, 2, 0], [1, 2, 1, 2, 1], [1, 0, 0, 0, 0], [1, 2, 1, 1, 1]],   # G
    [[2, 1, 2, 0, 0], [1, 0, 0, 1, 0], [0, 2, 1, 0, 1], [0, 1, 2, 2, 2], [2, 1, 0, 0, 1]],   # B
], dtype=np.float64)
RGB_KERNEL_3X3X3 = np.array([
    [[-1, 0, 1], [0, 0, 1], [1, -1, 1]],
    [[-1, 0, 1], [1, -1, 1], [0, 1, 0]],
    [[-1, 1, 1], [1, 1, 0], [0, -1, 0]],
], dtype=np.float64)
RGB_BIAS = 1.0

EXAMPLES: dict[str, ExampleInput] = {e.name: e for e in [
    ExampleInput("Notes: padded sharpen example (320)", SHARPEN_320_IMAGE, "Sharpen (the notes' kernel)", 0.0, 1, 1,
                 "Zero padding 1, the notes' sharpen kernel: the first output cell is 320. The notes show only "
                 "that window (105, 102, 103, 99); the other pixels are illustrative."),
    ExampleInput("Notes: 5×5 image (Figure 7.3)", FIGURE_7_3_IMAGE, "Figure 7.3's X kernel", 0.0, "valid", 1,
                 "A 5×5×1 image and a 3×3×1 kernel, no padding, stride 1 → a 3×3×1 feature map."),
    ExampleInput("Notes: 5×5 map for pooling (Figure 7.8)", POOLING_5X5, "Identity", 0.0, "same", 1,
                 "The 5×5 convolved feature the notes pool 3×3; the identity kernel passes it through unchanged."),
]}


def preset_kernel(name: str) -> np.ndarray:
    if name not in KERNEL_PRESETS:
        raise LessonError(f"Unknown kernel preset {name!r}.")
    return KERNEL_PRESETS[name].kernel.copy()


# ---------------------------------------------------------------------------------------------
# Softmax, cross-entropy, one-hot vectors
# ---------------------------------------------------------------------------------------------

def softmax(logits) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 1 or z.size < 1:
        raise LessonError("Softmax needs a list of at least one logit.")
    if not np.all(np.isfinite(z)):
        raise LessonError("Every logit must be a finite number.")
    e = np.exp(z - z.max())  # shifting by the max changes nothing and avoids overflow
    return e / e.sum()


# Above this, e^z is written with the largest logit subtracted first: e^800 overflows a float, and
# e^30 would print as a 14-digit number that teaches nothing.
_WRITE_EXP_MAX = 1e6


def softmax_written(logits, i: int, digits: int = 3) -> str:
    """'e^3.2 / (e^3.2 + e^1.3 + e^0.2 + e^0.8) = 24.53 / 31.65 = 0.775'.

    Large or very negative logits are written shifted by the largest one, m (which changes nothing):
    'e^(3 − 1000) / (e^(3 − 1000) + e^(1000 − 1000)) = 0 / 1 = 0.000'.
    """
    z = np.asarray(logits, dtype=np.float64)
    p = softmax(z)
    with np.errstate(over="ignore", under="ignore"):
        ez = np.exp(z)
    total = float(ez.sum())
    if np.isfinite(total) and 1 / _WRITE_EXP_MAX <= total and ez.max() <= _WRITE_EXP_MAX:
        denom = " + ".join(f"e^{fmt_factor(v, 2)}" for v in z)
        return (f"e^{fmt_factor(z[i], 2)} / ({denom}) = {fmt(ez[i], 2)} / {fmt(total, 2)} "
                f"= {p[i]:.{digits}f}")  # fixed decimals, as the notes print 0.070
    m = float(z.max())
    es = np.exp(z - m)
    term = (lambda v: f"e^({fmt(v, 2)} {MINUS} {fmt(m, 2)})" if m >= 0 else f"e^({fmt(v, 2)} + {fmt(-m, 2)})")
    denom = " + ".join(term(v) for v in z)
    return f"{term(z[i])} / ({denom}) = {fmt(es[i], 3)} / {fmt(es.sum(), 3)} = {p[i]:.{digits}f}"


def cross_entropy(probs, true_index: int, base: str | float = "e") -> float:
    """−log(p_true): natural log → nats, base 2 → bits. The one-hot target keeps only one term."""
    p = np.asarray(probs, dtype=np.float64)
    if not 0 <= true_index < p.size:
        raise LessonError(f"The true class must be one of the {p.size} classes.")
    q = float(p[true_index])
    if not 0 < q <= 1:
        raise LessonError(f"The predicted probability of the true class must be in (0, 1], got {fmt(q)}; "
                          "the loss of a 0 probability is infinite.")
    return -math.log(q) if base == "e" else -math.log(q, float(base))


def cross_entropy_written(probs, true_index: int) -> tuple[str, str]:
    """('−log2(0.1) = 3.322 bits', '−ln(0.1) = 2.303 nats')."""
    q = float(np.asarray(probs, dtype=np.float64)[true_index])
    return (f"{MINUS}log2({fmt(q, 4)}) = {fmt(cross_entropy(probs, true_index, 2))} bits",
            f"{MINUS}ln({fmt(q, 4)}) = {fmt(cross_entropy(probs, true_index))} nats")


def cross_entropy_logits(logits, true_index: int) -> float:
    """−log softmax(z)[true] in nats, computed as log Σ e^z − z_true (log-sum-exp), so it stays finite
    where the probability itself rounds to 0 (logits 1000 and −1000, say). torch: F.cross_entropy."""
    z = np.asarray(logits, dtype=np.float64)
    softmax(z)  # same checks
    if not 0 <= true_index < z.size:
        raise LessonError(f"The true class must be one of the {z.size} classes.")
    m = float(z.max())
    return m + math.log(float(np.exp(z - m).sum())) - float(z[true_index])


def cross_entropy_logits_written(logits, true_index: int) -> tuple[str, str]:
    """Like cross_entropy_written, from the logits: '−ln(0.7751) = 0.255 nats' while p is visible at
    4 decimals, else the log-sum-exp form '−ln p = ln Σ e^z − z_true = 1000 − (−1000) = 2000 nats'."""
    z = np.asarray(logits, dtype=np.float64)
    p = softmax(z)
    nats = cross_entropy_logits(z, true_index)
    if p[true_index] >= 5e-5:
        return cross_entropy_written(p, true_index)
    m = float(z.max())
    lse = m + math.log(float(np.exp(z - m).sum()))
    zt = fmt_factor(z[true_index])
    return (f"{MINUS}log2 p = (ln Σ e^z {MINUS} z_true)/ln 2 = ({fmt(lse)} {MINUS} {zt})/0.6931 "
            f"= {fmt(nats / math.log(2))} bits",
            f"{MINUS}ln p = ln Σ e^z {MINUS} z_true = {fmt(lse)} {MINUS} {zt} = {fmt(nats)} nats "
            + (f"(p = {p[true_index]:.3g})" if p[true_index] > 0 else
               "(p itself rounds to 0 in floating point; the loss, computed from the logits, does not)"))


def one_hot(index: int, n: int) -> np.ndarray:
    if not 0 <= index < n:
        raise LessonError(f"Class {index} is not one of 0…{n - 1}.")
    y = np.zeros(n)
    y[index] = 1.0
    return y


def one_hot_check(vector) -> tuple[bool, str]:
    """Whether a vector is a valid one-hot label, and why: exactly one 1, every other entry 0."""
    v = np.asarray(vector, dtype=np.float64).ravel()
    if v.size == 0:
        return False, "An empty vector encodes no class."
    bad = [fmt(x) for x in v if x not in (0.0, 1.0)]
    if bad:
        return False, f"A one-hot vector holds only 0s and 1s; this one has {', '.join(bad)}."
    ones = int(v.sum())
    if ones == 1:
        return True, f"Valid: exactly one 1, at position {int(np.argmax(v)) + 1} (index {int(np.argmax(v))})."
    if ones == 0:
        return False, "Invalid: no 1, so no class is named."
    return False, f"Invalid: {ones} ones; a one-hot vector names exactly one class."


def softmax_ce_gradient(probs, true_index: int) -> np.ndarray:
    """dL/dz for softmax followed by cross-entropy (nats): p − y."""
    p = np.asarray(probs, dtype=np.float64)
    return p - one_hot(true_index, p.size)


# Document 001's cross-entropy example: true [1 0 0 0 0], predicted [0.1 0.52 0.3 0.08 0.27], and
# the bits the notes print when each class in turn is taken as the true one, with their mean.
NOTES_FIVE_PROBS = (0.1, 0.52, 0.3, 0.08, 0.27)
NOTES_FIVE_BITS = (3.322, 0.9434, 1.685, 3.644, 1.889)
NOTES_FIVE_MEAN = 2.2967
NOTES_SOFTMAX_LOGITS = (3.2, 1.3, 0.2, 0.8)
NOTES_SOFTMAX_PROBS = (0.775, 0.116, 0.039, 0.070)
NOTES_SOFTMAX_CLASSES = ("dog", "cat", "horse", "cheetah")
NOTES_SOFTMAX_SMALL = (2.0, 1.0, 0.1)


@dataclass(frozen=True)
class FiveClassRow:
    cls: int
    prob: float
    bits: float          # the correct −log2 p
    notes_bits: float    # what the notes print
    agrees: bool         # the notes' value matches to its printed precision


def five_class_table(probs=NOTES_FIVE_PROBS, notes_bits=NOTES_FIVE_BITS) -> list[FiveClassRow]:
    rows = []
    for i, (p, nb) in enumerate(zip(probs, notes_bits)):
        bits = -math.log2(p)
        decimals = len(str(nb).split(".")[1]) if "." in str(nb) else 0
        rows.append(FiveClassRow(i, p, bits, nb, abs(bits - nb) <= 0.5 * 10 ** -decimals + 1e-12))
    return rows


def five_class_mean(probs=NOTES_FIVE_PROBS) -> float:
    """The mean of −log2 p over the five choices of true class: 2.307 (the notes print 2.2967)."""
    return float(np.mean([-math.log2(p) for p in probs]))
