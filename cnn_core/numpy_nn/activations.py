"""Element-wise activations, each forward beside its derivative. Torch twins: nn.ReLU,
nn.Sigmoid, nn.Tanh.

    ReLU     y = max(x, 0)             dy/dx = 1 if x > 0 else 0  (0 at x = 0, as torch and document 000)
    Sigmoid  y = 1 / (1 + e^(−x))      dy/dx = y (1 − y)
    Tanh     y = tanh x                dy/dx = 1 − y²

The derivatives are written in terms of the saved output y. (Document 004's sigmoid backward
applies the sigmoid to its own output a second time, σ(σ(x)), which is a bug; here σ'(x) = y(1 − y).)
"""
from __future__ import annotations

import numpy as np

from cnn_core.numpy_nn.layer import Layer


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = (1 + tanh(x/2)) / 2: the same function as 1/(1 + e^(−x)), but with no overflow for
    large negative x."""
    y = np.tanh(x * 0.5)
    y += 1
    y *= 0.5
    return y


class ReLU(Layer):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = relu(x)
        return self._y

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        if not need_dx:
            return None
        return dout * (self._y > 0)


class Sigmoid(Layer):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = sigmoid(x)
        return self._y

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        if not need_dx:
            return None
        y = self._y
        return dout * y * (1 - y)


class Tanh(Layer):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = np.tanh(x)
        return self._y

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        if not need_dx:
            return None
        y = self._y
        return dout * (1 - y * y)
