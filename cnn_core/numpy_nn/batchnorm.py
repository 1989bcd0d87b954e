"""Batch normalisation over the channels of NCHW maps. Twin: ``torch.nn.BatchNorm2d(C)``.

Per channel c, over the m = N·H·W values of the batch:

    μ = mean(x),  σ² = mean((x − μ)²)  (biased),  x̂ = (x − μ)/sqrt(σ² + ε),  y = γ x̂ + β

Training uses the batch statistics and updates the running ones with momentum 0.1, the running
variance from the *unbiased* batch variance σ²·m/(m − 1) (as torch does); evaluation uses the
running statistics. Backward in training mode (all of x̂ depends on every x through μ and σ):

    dβ = Σ δ,  dγ = Σ δ x̂,  dx = γ / (m sqrt(σ² + ε)) · (m δ − dβ − x̂ dγ)

params: gamma, beta (C,); buffers: running_mean, running_var (C,), num_batches_tracked (int64).
"""
from __future__ import annotations

import numpy as np

from cnn_core.numpy_nn.layer import Layer


def _per_channel_sum(a: np.ndarray) -> np.ndarray:
    """Σ over N, H, W of an (N, C, H, W) array; two single-axis sums beat one multi-axis reduce."""
    return a.reshape(a.shape[0], a.shape[1], -1).sum(axis=2).sum(axis=0)


def _bcast(v: np.ndarray) -> np.ndarray:
    return v[:, None, None]


class BatchNorm2D(Layer):
    torch_names = {"gamma": "weight", "beta": "bias", "running_mean": "running_mean",
                   "running_var": "running_var", "num_batches_tracked": "num_batches_tracked"}

    def __init__(self, channels: int, eps: float = 1e-5, momentum: float = 0.1, dtype=np.float32):
        super().__init__()
        self.channels, self.eps, self.momentum = int(channels), float(eps), float(momentum)
        self.params = {"gamma": np.ones(self.channels, dtype=dtype), "beta": np.zeros(self.channels, dtype=dtype)}
        self.buffers = {"running_mean": np.zeros(self.channels, dtype=dtype),
                        "running_var": np.ones(self.channels, dtype=dtype),
                        "num_batches_tracked": np.array(0, dtype=np.int64)}

    def forward(self, x: np.ndarray) -> np.ndarray:
        gamma, beta = self.params["gamma"], self.params["beta"]
        if self.training:
            m = x.size // self.channels
            mean = _per_channel_sum(x) / m
            xc = x - _bcast(mean)
            var = _per_channel_sum(xc * xc) / m
            inv_std = 1.0 / np.sqrt(var + self.eps)
            b = self.buffers
            b["running_mean"] = ((1 - self.momentum) * b["running_mean"] + self.momentum * mean).astype(x.dtype)
            unbiased = var * (m / (m - 1)) if m > 1 else var
            b["running_var"] = ((1 - self.momentum) * b["running_var"] + self.momentum * unbiased).astype(x.dtype)
            b["num_batches_tracked"] = np.array(int(b["num_batches_tracked"]) + 1, dtype=np.int64)
            xhat = xc
            xhat *= _bcast(inv_std)
        else:
            inv_std = 1.0 / np.sqrt(self.buffers["running_var"] + self.eps)
            xhat = (x - _bcast(self.buffers["running_mean"])) * _bcast(inv_std)
        self._xhat, self._inv_std, self._batch_stats = xhat, inv_std, self.training
        return xhat * _bcast(gamma) + _bcast(beta)

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        xhat, inv_std = self._xhat, self._inv_std
        dbeta = _per_channel_sum(dout)
        dgamma = _per_channel_sum(dout * xhat)
        self.grads = {"gamma": dgamma, "beta": dbeta}
        if not need_dx:
            return None
        gamma = self.params["gamma"]
        if not self._batch_stats:               # evaluation: μ and σ are constants
            return dout * _bcast(gamma * inv_std)
        m = dout.size // self.channels
        dx = dout * m
        dx -= _bcast(dbeta)
        dx -= xhat * _bcast(dgamma)
        dx *= _bcast(gamma * inv_std / m)
        return dx

    def extra_repr(self) -> str:
        return f"{self.channels}, eps={self.eps}, momentum={self.momentum}"
