"""Flatten (N, C, H, W) -> (N, C·H·W) in C order, exactly as ``torch.nn.Flatten`` does, so a
dense weight trained in either engine reads the features in the same order."""
from __future__ import annotations

import numpy as np

from cnn_core.numpy_nn.layer import Layer


class Flatten(Layer):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        return dout.reshape(self._x_shape) if need_dx else None
