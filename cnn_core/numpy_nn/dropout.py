"""Inverted dropout. Twin: ``torch.nn.Dropout(p)``.

Training: each element is kept with probability 1 − p and scaled by 1/(1 − p), so the expected
output equals the input and evaluation needs no rescaling; dL/dx = δ · mask / (1 − p).
Evaluation: the identity. The random numbers differ from torch's, so the tests compare with
the mask made explicit.
"""
from __future__ import annotations

import numpy as np

from cnn_core.numpy_nn.layer import Layer


class Dropout(Layer):
    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout probability must be in [0, 1), got {p}.")
        self.p = float(p)
        self.rng = rng if rng is not None else np.random.default_rng()
        self._scale = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0.0:
            self._scale = None
            return x
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.p
        self._scale = keep * np.asarray(1.0 / (1.0 - self.p), dtype=x.dtype)
        return x * self._scale

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        if not need_dx:
            return None
        return dout if self._scale is None else dout * self._scale

    def extra_repr(self) -> str:
        return f"p={self.p}"
