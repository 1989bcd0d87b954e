"""Fully connected layer. Twin: ``torch.nn.Linear(in_features, out_features)``.

Shapes: x (N, in), W (out, in) -- torch's layout, so weights copy unchanged -- b (out,).

    y = x Wᵀ + b        dL/dW = δᵀ x        dL/db = Σ_n δ        dL/dx = δ W

(Document 000 writes the same with the transposed weight, x_i = Σ_k w_ki y_k + b_i.)
"""
from __future__ import annotations

import numpy as np

from cnn_core.numpy_nn.init import initial_weight
from cnn_core.numpy_nn.layer import Layer


class Dense(Layer):
    """params: W (out_features, in_features), b (out_features,). ``init`` as for Conv2D."""

    torch_names = {"W": "weight", "b": "bias"}

    def __init__(self, in_features: int, out_features: int, init: str = "he",
                 rng: np.random.Generator | None = None, dtype=np.float32):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        rng = rng if rng is not None else np.random.default_rng()
        self.params["W"] = initial_weight(init, (self.out_features, self.in_features), rng, dtype)
        if init == "torch":
            bound = 1.0 / np.sqrt(self.in_features)
            self.params["b"] = rng.uniform(-bound, bound, self.out_features).astype(dtype)
        else:
            self.params["b"] = np.zeros(self.out_features, dtype=dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        y = x @ self.params["W"].T
        y += self.params["b"]
        return y

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        self.grads = {"W": dout.T @ self._x, "b": dout.sum(axis=0)}
        return dout @ self.params["W"] if need_dx else None

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}"
