"""Optimisers for the NumPy engine, written to match torch.optim step for step.

Usage (what ``cnn_core.training`` calls)::

    opt = SGD(model, lr=0.01, momentum=0.9)        # or Adam(model, lr=1e-3)
    loss = model.train_step(x, y, softmax_cross_entropy, opt)   # forward, backward, opt.step()

``model`` is a ``Sequential``, one layer, or a list of layers. ``step()`` reads every layer's
``grads`` (which the last backward overwrote) and updates ``params`` in place, looking each
array up by key at every step, so weights loaded into ``params`` later are still the ones
updated. ``lr`` is a plain attribute: change it between steps for a schedule.

SGD (torch.optim.SGD, no dampening, no Nesterov):
    g ← g + λ w;   v ← μ v + g  (v = g at the first step);   w ← w − lr · v
Adam (torch.optim.Adam, Kingma & Ba 2015):
    m ← β₁ m + (1 − β₁) g;   v ← β₂ v + (1 − β₂) g²;   t ← t + 1
    w ← w − (lr / (1 − β₁ᵗ)) · m / (sqrt(v) / sqrt(1 − β₂ᵗ) + ε)
"""
from __future__ import annotations

import math

import numpy as np

from cnn_core.numpy_nn.layer import Layer


def parameter_slots(model) -> list[tuple[Layer, str]]:
    """[(layer, key)] for every learnable array of a Sequential, one layer, or a list of layers."""
    layers = getattr(model, "layers", None)
    if layers is None:
        layers = model if isinstance(model, (list, tuple)) else [model]
    return [(layer, key) for layer in layers for key in layer.params]


class Optimizer:
    def __init__(self, model, lr: float):
        if lr <= 0:
            raise ValueError(f"Learning rate must be positive, got {lr}.")
        self.lr = float(lr)
        self.slots = parameter_slots(model)
        self.state: list[dict] = [{} for _ in self.slots]
        self.steps = 0

    def _pairs(self):
        for (layer, key), state in zip(self.slots, self.state):
            grad = layer.grads.get(key)
            if grad is None:
                continue                       # the layer took no backward pass yet (e.g. frozen)
            yield layer.params[key], grad, state

    def step(self) -> None:
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Not needed (backward overwrites ``grads``); kept so torch-style loops read the same."""
        for layer, _ in self.slots:
            layer.grads = {}


class SGD(Optimizer):
    def __init__(self, model, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(model, lr)
        self.momentum, self.weight_decay = float(momentum), float(weight_decay)

    def step(self) -> None:
        self.steps += 1
        for w, g, state in self._pairs():
            if self.weight_decay:
                g = g + self.weight_decay * w
            if self.momentum:
                v = state.get("velocity")
                if v is None:
                    v = state["velocity"] = g.copy()
                else:
                    v *= self.momentum
                    v += g
                g = v
            w -= self.lr * g


class Adam(Optimizer):
    def __init__(self, model, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(model, lr)
        self.betas, self.eps, self.weight_decay = (float(betas[0]), float(betas[1])), float(eps), float(weight_decay)

    def step(self) -> None:
        self.steps += 1
        b1, b2 = self.betas
        for w, g, state in self._pairs():
            if self.weight_decay:
                g = g + self.weight_decay * w
            if "m" not in state:
                state["m"], state["v"], state["t"] = np.zeros_like(w), np.zeros_like(w), 0
            m, v = state["m"], state["v"]
            state["t"] += 1
            t = state["t"]
            m += (1 - b1) * (g - m)
            v *= b2
            v += (1 - b2) * (g * g)
            step_size = self.lr / (1 - b1 ** t)
            denom = np.sqrt(v)
            denom /= math.sqrt(1 - b2 ** t)
            denom += self.eps
            w -= step_size * (m / denom)
