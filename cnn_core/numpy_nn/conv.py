"""2-D convolution (cross-correlation, as in torch): a naive loop reference and the fast path.

Shapes: x (N, C_in, H, W), weight W (C_out, C_in, k, k), bias b (C_out,),
out (N, C_out, H_out, W_out) with H_out = ⌊(H + 2p − k)/s⌋ + 1.

    out[n, f, i, j] = b[f] + Σ_c Σ_a Σ_b W[f, c, a, b] · x_pad[n, c, i·s + a, j·s + b]

Gradients (chain rule, with δ = dL/dout):

    dL/db[f]       = Σ_n Σ_i Σ_j δ[n, f, i, j]
    dL/dW[f, c, a, b] = Σ_n Σ_i Σ_j δ[n, f, i, j] · x_pad[n, c, i·s + a, j·s + b]
    dL/dx_pad[n, c, i·s + a, j·s + b] += Σ_f δ[n, f, i, j] · W[f, c, a, b]

The fast path writes the same sums as matrix products over *columns*: ``im2col`` lays every
k×k×C_in patch out as one column, so the forward pass is one matrix multiply
(C_out, C_in·k·k) @ (C_in·k·k, H_out·W_out) per image. The columns are built from k·k strided
slices -- slice (a, b) holds every input pixel that meets kernel tap (a, b) -- so there is no
Python loop over pixels or images, only over the k·k taps. ``col2im`` scatters column
gradients back the same way: k·k strided slice-adds, no ``np.add.at``.

Torch twin: ``torch.nn.Conv2d(C_in, C_out, k, stride=s, padding=p)``; weights copy unchanged.
"""
from __future__ import annotations

import numpy as np

from cnn_core.lessons.geometry import output_size
from cnn_core.numpy_nn.init import initial_weight
from cnn_core.numpy_nn.layer import Layer


def _out_hw(h: int, w: int, k: int, stride: int, padding: int) -> tuple[int, int]:
    """(H_out, W_out) = ⌊(n + 2p − k)/s⌋ + 1 per axis (cnn_core.lessons.geometry)."""
    return (output_size(n=h, f=k, padding=padding, stride=stride),
            output_size(n=w, f=k, padding=padding, stride=stride))


def pad_images(x: np.ndarray, padding: int) -> np.ndarray:
    """Zero-pad the two spatial axes of (N, C, H, W) by ``padding`` on every side."""
    if padding == 0:
        return x
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=x.dtype)
    xp[:, :, padding:padding + h, padding:padding + w] = x
    return xp


def _taps(k: int, stride: int, h_out: int, w_out: int):
    """For each kernel tap (a, b): the strided slice of the padded input that it touches."""
    for a in range(k):
        for b in range(k):
            yield a, b, (slice(a, a + stride * (h_out - 1) + 1, stride),
                         slice(b, b + stride * (w_out - 1) + 1, stride))


def im2col(x: np.ndarray, k: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """(N, C, H, W) -> columns (N, C·k·k, H_out·W_out); column l of image n is the patch under
    output pixel l, ordered (c, a, b) like the flattened weight W[f].reshape(-1)."""
    n, c, h, w = x.shape
    h_out, w_out = _out_hw(h, w, k, stride, padding)
    xp = pad_images(x, padding)
    cols = np.empty((n, c, k, k, h_out, w_out), dtype=x.dtype)
    for a, b, (rows, cs) in _taps(k, stride, h_out, w_out):
        cols[:, :, a, b] = xp[:, :, rows, cs]
    return cols.reshape(n, c * k * k, h_out * w_out)


def col2im(dcols: np.ndarray, x_shape: tuple, k: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The adjoint of ``im2col``: (N, C·k·k, H_out·W_out) column gradients -> dx (N, C, H, W).
    Overlapping patches add up: one strided slice-add per kernel tap."""
    n, c, h, w = x_shape
    h_out, w_out = _out_hw(h, w, k, stride, padding)
    d = dcols.reshape(n, c, k, k, h_out, w_out)
    dxp = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=dcols.dtype)
    for a, b, (rows, cs) in _taps(k, stride, h_out, w_out):
        dxp[:, :, rows, cs] += d[:, :, a, b]
    if padding:
        return dxp[:, :, padding:padding + h, padding:padding + w]
    return dxp


def conv2d_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0):
    """Fast forward: returns (out (N, C_out, H_out, W_out), cols) -- cols are kept for the backward pass."""
    n, _, h, w = x.shape
    f, _, k, _ = W.shape
    cols = im2col(x, k, stride, padding)
    out = np.matmul(W.reshape(f, -1), cols)          # (N, C_out, H_out·W_out), already NCHW order
    out += b[:, None]
    return out.reshape(n, f, *_out_hw(h, w, k, stride, padding)), cols


def weight_grad(d: np.ndarray, cols: np.ndarray, one_product: bool | None = None) -> np.ndarray:
    """dL/dW as (C_out, C_in·k·k) = Σ_n δ_n · cols_nᵀ, from δ (N, C_out, L) and cols (N, C_in·k·k, L).

    Two ways to the same sum, chosen by which moves less memory: per-image products summed
    (an (N, C_out, C_in·k·k) temporary: small while C_out ≤ L, as in a first layer), or one product
    over all N·L positions (copies of δ and cols laid out (·, N·L): better for deep layers, where
    many channels meet few pixels -- seed-002's 128-channel layers on 7×7 maps).
    """
    n, f, l = d.shape
    if one_product is None:
        one_product = f > l
    if not one_product:
        return np.matmul(d, cols.transpose(0, 2, 1)).sum(axis=0)
    d_all = d.transpose(1, 0, 2).reshape(f, n * l)
    cols_all = cols.transpose(1, 0, 2).reshape(cols.shape[1], n * l)
    return d_all @ cols_all.T


def conv2d_backward(dout: np.ndarray, cols: np.ndarray, x_shape: tuple, W: np.ndarray, stride: int = 1,
                    padding: int = 0, need_dx: bool = True):
    """Fast backward from the saved columns: returns (dx or None, dW, db)."""
    n, f = dout.shape[:2]
    d = dout.reshape(n, f, -1)                       # δ as (N, C_out, H_out·W_out)
    dW = weight_grad(d, cols).reshape(W.shape)
    db = d.sum(axis=2).sum(axis=0)
    dx = None
    if need_dx:
        dx = col2im(np.matmul(W.reshape(f, -1).T, d), x_shape, W.shape[2], stride, padding)
    return dx, dW, db


def conv2d_forward_naive(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0):
    """Loop reference, written as documents 000 and 004 write it: slide the kernel over every
    output pixel and sum the element-wise product. Slow on purpose; the tests hold the fast
    path to it."""
    n_img, _, h, w = x.shape
    n_f, _, k, _ = W.shape
    xp = pad_images(x, padding)
    h_out, w_out = _out_hw(h, w, k, stride, padding)
    out = np.zeros((n_img, n_f, h_out, w_out), dtype=np.result_type(x, W))
    for n in range(n_img):
        for f in range(n_f):
            for i in range(h_out):
                for j in range(w_out):
                    patch = xp[n, :, i * stride:i * stride + k, j * stride:j * stride + k]
                    out[n, f, i, j] = np.sum(patch * W[f]) + b[f]
    return out


def conv2d_backward_naive(dout: np.ndarray, x: np.ndarray, W: np.ndarray, stride: int = 1, padding: int = 0):
    """Loop reference for the gradients: returns (dx, dW, db). Each output pixel sends
    δ·patch to its kernel and δ·kernel back to its patch."""
    n_img, _, h, w = x.shape
    n_f, _, k, _ = W.shape
    xp = pad_images(x, padding)
    dxp = np.zeros_like(xp)
    dW = np.zeros_like(W)
    db = np.zeros(n_f, dtype=dout.dtype)
    for n in range(n_img):
        for f in range(n_f):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    rows = slice(i * stride, i * stride + k)
                    cs = slice(j * stride, j * stride + k)
                    g = dout[n, f, i, j]
                    dW[f] += g * xp[n, :, rows, cs]
                    dxp[n, :, rows, cs] += g * W[f]
                    db[f] += g
    return dxp[:, :, padding:padding + h, padding:padding + w], dW, db


class Conv2D(Layer):
    """Multi-channel 2-D convolution, any stride and zero padding. Twin: ``torch.nn.Conv2d``.

    params: W (C_out, C_in, k, k), b (C_out,). ``init``: "he" (default; zero bias, as document
    000), "xavier", or "torch" (torch's default uniform weights and bias).
    """

    torch_names = {"W": "weight", "b": "bias"}

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 init: str = "he", rng: np.random.Generator | None = None, dtype=np.float32):
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride, self.padding = int(kernel_size), int(stride), int(padding)
        shape = (self.out_channels, self.in_channels, self.kernel_size, self.kernel_size)
        rng = rng if rng is not None else np.random.default_rng()
        self.params["W"] = initial_weight(init, shape, rng, dtype)
        if init == "torch":
            bound = 1.0 / np.sqrt(self.in_channels * self.kernel_size ** 2)
            self.params["b"] = rng.uniform(-bound, bound, self.out_channels).astype(dtype)
        else:
            self.params["b"] = np.zeros(self.out_channels, dtype=dtype)
        self._cols = None
        self._x_shape = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cols = conv2d_forward(x, self.params["W"], self.params["b"], self.stride, self.padding)
        self._x_shape = x.shape
        return out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        dx, dW, db = conv2d_backward(dout, self._cols, self._x_shape, self.params["W"], self.stride,
                                     self.padding, need_dx)
        self.grads = {"W": dW, "b": db}
        return dx

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")
