"""Pooling of one map: outputs, each window's winner, and where the gradient goes.

Mirrors ``torch.nn.functional.max_pool2d`` / ``avg_pool2d``; ties in max pooling go to the first
cell in row-major order, as torch does. Output sizes come from ``cnn_core.lessons.geometry``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn_core.lessons.formatting import fmt
from cnn_core.lessons.geometry import LessonError, pool_output_size


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
    oh, ow = pool_output_size(n=a.shape[0], k=k, stride=s), pool_output_size(n=a.shape[1], k=k, stride=s)
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
