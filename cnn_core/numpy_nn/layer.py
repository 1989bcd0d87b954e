"""The base class every NumPy layer shares: ``params`` / ``grads`` dicts and a train/eval flag.

Conventions (the same for every layer, so optimisers and tests need no special cases):

* ``forward(x)`` takes and returns NCHW (or (N, features)) arrays and keeps what ``backward``
  needs on the layer.
* ``backward(dout, need_dx=True)`` returns dL/dx (``None`` when ``need_dx`` is False: the first
  layer of a network skips that work, as torch does for inputs that need no gradient) and
  *overwrites* ``grads`` -- gradients never accumulate across calls.
* ``params[key]`` is the only copy of a weight: assigning a new array there changes the layer.
  Keys: ``"W"``, ``"b"`` (conv, dense); ``"gamma"``, ``"beta"`` (batch norm).
* ``buffers`` hold non-learned state (batch norm's running statistics).
* The dtype follows the input and the weights: float64 in the exactness tests, float32 in the app.
"""
from __future__ import annotations

import numpy as np


class Layer:
    """A layer without parameters; subclasses fill ``params``, ``grads`` and ``buffers``."""

    #: torch state_dict suffix for each params / buffers key (layer i's key is "{i}.{suffix}").
    torch_names: dict[str, str] = {}

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def train(self, mode: bool = True) -> "Layer":
        self.training = bool(mode)
        return self

    def eval(self) -> "Layer":
        return self.train(False)

    def astype(self, dtype) -> "Layer":
        """Cast parameters and floating-point buffers (in place on the layer) and drop gradients."""
        for key, value in self.params.items():
            self.params[key] = value.astype(dtype)
        for key, value in self.buffers.items():
            if np.issubdtype(value.dtype, np.floating):
                self.buffers[key] = value.astype(dtype)
        self.grads = {}
        return self

    @property
    def num_params(self) -> int:
        return int(sum(v.size for v in self.params.values()))

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"
