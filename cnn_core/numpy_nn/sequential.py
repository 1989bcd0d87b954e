"""A stack of NumPy layers: forward (optionally keeping every activation), backward, training
steps, prediction, and torch-compatible state dicts.

Layer i of a ``Sequential`` built from a spec is module i of ``specs.build_torch(spec)``, and
``state_dict()`` uses torch's keys ("{i}.weight", "{i}.bias", "{i}.running_mean", ...), so a
state dict loads unchanged into either engine.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from cnn_core.numpy_nn.layer import Layer
from cnn_core.numpy_nn.losses import LOSSES, softmax, softmax_cross_entropy
from cnn_core.numpy_nn.threads import blas_threads


class StateDictError(ValueError):
    """A state dict that does not fit the model; the message says which key and why."""


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):               # a torch tensor, without importing torch here
        value = value.detach().cpu().numpy()
    return np.asarray(value)


class Sequential:
    """``Sequential([Conv2D(1, 8, 3), ReLU(), MaxPool2D(2), Flatten(), Dense(1352, 10)])``.

    Starts in training mode, like a torch module. Returns logits; ``predict`` adds the softmax.
    ``blas_threads``: BLAS threads during the passes (1: see ``threads.py`` for why; None: BLAS's default).
    """

    def __init__(self, layers: list[Layer], spec: dict | None = None, blas_threads: int | None = 1):
        self.layers = list(layers)
        self.spec = spec
        self.training = True
        self.blas_threads = blas_threads

    # ---- the passes -------------------------------------------------------------------------
    def forward(self, x: np.ndarray, return_activations: bool = False):
        """Logits (N, K); with ``return_activations`` also the list of every layer's output
        (activation i is the output of layer i; the last one is the logits)."""
        activations = []
        with blas_threads(self.blas_threads):
            for layer in self.layers:
                x = layer.forward(x)
                if return_activations:
                    activations.append(x)
        return (x, activations) if return_activations else x

    def __call__(self, x: np.ndarray, return_activations: bool = False):
        return self.forward(x, return_activations)

    def backward(self, dlogits: np.ndarray, input_grad: bool = False) -> np.ndarray | None:
        """Backpropagate dL/dlogits through every layer, filling each layer's ``grads``.
        Returns dL/dx of the input when ``input_grad`` (e.g. for saliency maps), else None --
        and then layers below the first learnable one are skipped, as torch skips them."""
        first = 0 if input_grad else next((i for i, l in enumerate(self.layers) if l.params), len(self.layers))
        d = dlogits
        with blas_threads(self.blas_threads):
            for i in range(len(self.layers) - 1, first - 1, -1):
                d = self.layers[i].backward(d, need_dx=input_grad or i > first)
        return d if input_grad else None

    def train_step(self, x: np.ndarray, y: np.ndarray, loss: Callable | str = softmax_cross_entropy,
                   optimizer=None) -> float:
        """One step: forward, loss, backward, ``optimizer.step()``; returns the batch loss.
        ``loss`` is a function (logits, y) -> (loss, dlogits) or a name in LOSSES."""
        loss_fn = LOSSES[loss] if isinstance(loss, str) else loss
        with blas_threads(self.blas_threads):
            value, dlogits = loss_fn(self.forward(x), y)
            self.backward(dlogits)
            if optimizer is not None:
                optimizer.step()
        return value

    def predict(self, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Class probabilities (N, K) in evaluation mode (the mode is restored afterwards).
        The input is cast to the model's dtype."""
        was_training = self.training
        self.eval()
        try:
            x = np.asarray(x, dtype=self.dtype)
            return np.concatenate([softmax(self.forward(x[i:i + batch_size]))
                                   for i in range(0, max(len(x), 1), batch_size)])
        finally:
            self.train(was_training)

    # ---- modes and dtype ----------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Sequential":
        self.training = bool(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def eval(self) -> "Sequential":
        return self.train(False)

    @property
    def dtype(self):
        for layer in self.layers:
            for value in layer.params.values():
                return value.dtype
        return np.dtype(np.float32)

    def astype(self, dtype) -> "Sequential":
        for layer in self.layers:
            layer.astype(dtype)
        return self

    @property
    def num_params(self) -> int:
        return sum(layer.num_params for layer in self.layers)

    # ---- state dicts (torch keys) -----------------------------------------------------------
    def _entries(self):
        for i, layer in enumerate(self.layers):
            for store in (layer.params, layer.buffers):
                for key in store:
                    yield f"{i}.{layer.torch_names[key]}", store, key

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer under torch's keys, in torch's order."""
        return {name: store[key].copy() for name, store, key in self._entries()}

    def load_state_dict(self, state: dict, strict: bool = True) -> None:
        """Load arrays or torch tensors (cast to this model's dtype). ``strict``: the keys must
        match exactly; shapes must always match."""
        entries = list(self._entries())
        if strict:
            missing = [n for n, _, _ in entries if n not in state]
            unexpected = [k for k in state if k not in {n for n, _, _ in entries}]
            if missing or unexpected:
                raise StateDictError(f"State dict does not fit this model: missing {missing}, unexpected {unexpected}.")
        for name, store, key in entries:
            if name not in state:
                continue
            value = _to_numpy(state[name])
            if value.shape != store[key].shape:
                raise StateDictError(f"{name}: shape {tuple(value.shape)} in the state dict, "
                                     f"{tuple(store[key].shape)} in the model.")
            store[key] = value.astype(store[key].dtype, copy=True)

    # ---- container conveniences -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self) -> str:
        body = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{body}\n)"
