"""Max and average pooling: a naive loop reference and the fast path (no padding, like the specs).

Shapes: x (N, C, H, W) -> out (N, C, H_out, W_out), H_out = ⌊(H − k)/s⌋ + 1; stride defaults to k.

    max:      out[n, c, i, j] = max_{a,b < k} x[n, c, i·s + a, j·s + b]
    average:  out[n, c, i, j] = (1/k²) Σ_{a,b < k} x[n, c, i·s + a, j·s + b]

Gradients: average pooling sends δ/k² to every pixel of the window; max pooling sends δ to the
window's maximum only (pixels in several windows add up). **Ties**: when several pixels share
the maximum, the *first in row-major order* (top-left-most) takes the whole gradient -- what
torch's CPU kernel does, and what ``np.argmax`` returns in the loop reference. (Document 004's
loop instead copies δ to every tied pixel, which over-counts the gradient.) Ties are common, not
a corner case: a blank background gives a constant convolution output (the bias), so whole
windows tie after a ReLU.

The fast path loops only over the k·k window offsets: offset (a, b) is one strided slice of x
holding that pixel of every window, so the max is k² − 1 element-wise ``np.maximum`` calls.

Torch twins: ``torch.nn.MaxPool2d(k, s)``, ``torch.nn.AvgPool2d(k, s)``.
"""
from __future__ import annotations

import numpy as np

from cnn_core.lessons.geometry import pool_output_size
from cnn_core.numpy_nn.layer import Layer


def _window_slices(x_shape: tuple, k: int, stride: int):
    """[(a, b, index)]: for each window offset, the strided slice of x it reads, row-major order."""
    h_out, w_out = (pool_output_size(n=x_shape[2], k=k, stride=stride),
                    pool_output_size(n=x_shape[3], k=k, stride=stride))
    return [(a, b, (slice(None), slice(None), slice(a, a + stride * (h_out - 1) + 1, stride),
                    slice(b, b + stride * (w_out - 1) + 1, stride)))
            for a in range(k) for b in range(k)]


def _grad_buffer(x_shape: tuple, k: int, stride: int, dtype) -> tuple[np.ndarray, bool]:
    """dx and whether the windows overlap. When the windows tile x exactly, every pixel is
    written once and the buffer need not be zeroed."""
    overlap = stride < k
    tiles = stride == k and x_shape[2] % k == 0 and x_shape[3] % k == 0
    return (np.empty if tiles else np.zeros)(x_shape, dtype=dtype), overlap


def maxpool2d_forward(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    windows = _window_slices(x.shape, k, stride)
    out = x[windows[0][2]].copy()
    for _, _, idx in windows[1:]:
        np.maximum(out, x[idx], out=out)
    return out


def maxpool2d_backward(dout: np.ndarray, x: np.ndarray, out: np.ndarray, k: int, stride: int) -> np.ndarray:
    """δ goes to the first pixel (row-major) of each window that equals the window's maximum."""
    dx, overlap = _grad_buffer(x.shape, k, stride, dout.dtype)
    free = None                                    # windows whose maximum is not yet claimed
    windows = _window_slices(x.shape, k, stride)
    for t, (_, _, idx) in enumerate(windows):
        hit = x[idx] == out
        if free is None:
            free = ~hit
        else:
            hit &= free
            if t < len(windows) - 1:
                free ^= hit
        if overlap:
            dx[idx] += dout * hit
        else:
            np.multiply(dout, hit, out=dx[idx])
    return dx


def avgpool2d_forward(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    windows = _window_slices(x.shape, k, stride)
    out = x[windows[0][2]].copy()
    for _, _, idx in windows[1:]:
        out += x[idx]
    out *= 1.0 / (k * k)
    return out


def avgpool2d_backward(dout: np.ndarray, x_shape: tuple, k: int, stride: int) -> np.ndarray:
    dx, overlap = _grad_buffer(x_shape, k, stride, dout.dtype)
    share = dout * (1.0 / (k * k))
    for _, _, idx in _window_slices(x_shape, k, stride):
        if overlap:
            dx[idx] += share
        else:
            dx[idx] = share
    return dx


def maxpool2d_forward_naive(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    """Loop reference: visit every window and take its maximum (documents 000 / 004)."""
    n_img, n_ch, h, w = x.shape
    out = np.zeros((n_img, n_ch, pool_output_size(n=h, k=k, stride=stride), pool_output_size(n=w, k=k, stride=stride)),
                   dtype=x.dtype)
    for n in range(n_img):
        for c in range(n_ch):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    out[n, c, i, j] = x[n, c, i * stride:i * stride + k, j * stride:j * stride + k].max()
    return out


def maxpool2d_backward_naive(dout: np.ndarray, x: np.ndarray, k: int, stride: int) -> np.ndarray:
    """Loop reference: δ to ``np.argmax`` of each window, i.e. the first maximum in row-major order."""
    dx = np.zeros(x.shape, dtype=dout.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[n, c, i * stride:i * stride + k, j * stride:j * stride + k]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + a, j * stride + b] += dout[n, c, i, j]
    return dx


def avgpool2d_forward_naive(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    n_img, n_ch, h, w = x.shape
    out = np.zeros((n_img, n_ch, pool_output_size(n=h, k=k, stride=stride), pool_output_size(n=w, k=k, stride=stride)),
                   dtype=x.dtype)
    for n in range(n_img):
        for c in range(n_ch):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    out[n, c, i, j] = x[n, c, i * stride:i * stride + k, j * stride:j * stride + k].mean()
    return out


def avgpool2d_backward_naive(dout: np.ndarray, x_shape: tuple, k: int, stride: int) -> np.ndarray:
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for n in range(x_shape[0]):
        for c in range(x_shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    dx[n, c, i * stride:i * stride + k, j * stride:j * stride + k] += dout[n, c, i, j] / (k * k)
    return dx


class _Pool2D(Layer):
    def __init__(self, kernel_size: int = 2, stride: int | None = None):
        super().__init__()
        self.kernel_size = int(kernel_size)
        self.stride = int(stride) if stride is not None else self.kernel_size
        if self.kernel_size < 1 or self.stride < 1:
            raise ValueError("Pooling window and stride must be ≥ 1.")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class MaxPool2D(_Pool2D):
    """Max pooling; ties go to the first maximum in row-major order. Twin: ``torch.nn.MaxPool2d``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        self._out = maxpool2d_forward(x, self.kernel_size, self.stride)
        return self._out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        if not need_dx:
            return None
        return maxpool2d_backward(dout, self._x, self._out, self.kernel_size, self.stride)


class AvgPool2D(_Pool2D):
    """Average pooling. Twin: ``torch.nn.AvgPool2d``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x_shape = x.shape
        return avgpool2d_forward(x, self.kernel_size, self.stride)

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        if not need_dx:
            return None
        return avgpool2d_backward(dout, self._x_shape, self.kernel_size, self.stride)
