"""Backpropagation on one example, with every number kept: the four stages of document 001
(forward, loss, backward, update) through a ``numpy_nn.Sequential``.

``trace(model, image, label)`` runs the forward pass, the softmax cross-entropy loss and the backward
pass for that one image and returns every layer's input, output, incoming gradient ∂L/∂output,
outgoing gradient ∂L/∂input and parameter gradients. It works on a float64 copy of the model, so the
model itself (float32 in the app) is not touched and the numbers agree with torch's autograd to
~1e-12. The loss is document 000's chain rule collapsed: L = −ln p_y and ∂L/∂z = p − y.

Proof that the numbers are right, as functions a page can call: ``autograd_check`` (the same
gradients from torch's autograd, max abs difference) and ``numerical_check`` (central differences
for one chosen weight, relative error). ``apply_step`` is the update W ← W − η·∂L/∂W.
The arithmetic for single cells (one weight's sum, one pooling window) is in ``backprop_arithmetic``.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from cnn_core.numpy_nn.losses import softmax, softmax_cross_entropy
from cnn_core.numpy_nn.sequential import Sequential
from cnn_core.numpy_nn.threads import blas_threads

MODES = ("eval", "train")


class BackpropError(ValueError):
    """An input, label or choice the trace cannot use; the message is meant for the learner."""


@dataclass
class Step:
    """One layer of the trace, for the one example (no batch axis): input (C, H, W) or (F,)."""
    index: int
    name: str                    # "Conv2D(8, 3×3, stride 1, pad 0)"
    kind: str                    # the spec's layer type: "conv2d", "relu", "maxpool2d", "dense", ...
    layer: object                # the float64 layer the numbers came from (read its params / settings)
    input: np.ndarray
    output: np.ndarray
    grad_output: np.ndarray      # ∂L/∂output, what comes in from the loss side
    grad_input: np.ndarray       # ∂L/∂input, what this layer sends on towards the image
    grads: dict[str, np.ndarray] = field(default_factory=dict)   # ∂L/∂param, keys as layer.params

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self.layer.params


@dataclass
class Trace:
    """Forward and backward of one example: ``steps[i]`` is layer i; ``steps[0].grad_input`` is ∂L/∂image."""
    image: np.ndarray            # (C, H, W) as the model saw it
    label: int
    mode: str
    logits: np.ndarray           # z (K,)
    probs: np.ndarray            # p = softmax(z)
    loss: float                  # L = −ln p_label, nats
    grad_logits: np.ndarray      # ∂L/∂z = p − y
    steps: list[Step]

    @property
    def one_hot(self) -> np.ndarray:
        y = np.zeros_like(self.probs)
        y[self.label] = 1.0
        return y

    @property
    def grad_image(self) -> np.ndarray:
        return self.steps[0].grad_input

    def param_grads(self) -> dict[tuple[int, str], np.ndarray]:
        """{(layer index, "W"): ∂L/∂W, ...} for every parameter of the model."""
        return {(s.index, k): g for s in self.steps for k, g in s.grads.items()}


def _kinds(model: Sequential) -> list[str]:
    spec_layers = (model.spec or {}).get("layers") or []
    if len(spec_layers) == len(model.layers):
        return [str(l["type"]) for l in spec_layers]
    names = {"Conv2D": "conv2d", "MaxPool2D": "maxpool2d", "AvgPool2D": "avgpool2d", "BatchNorm2D": "batchnorm2d",
             "Dense": "dense", "Dropout": "dropout", "Flatten": "flatten", "ReLU": "relu", "Sigmoid": "sigmoid",
             "Tanh": "tanh"}
    return [names.get(type(l).__name__, type(l).__name__.lower()) for l in model.layers]


def _names(model: Sequential, kinds: list[str]) -> list[str]:
    from cnn_core.models.specs import describe_layer

    spec_layers = (model.spec or {}).get("layers") or []
    if len(spec_layers) == len(model.layers):
        return [describe_layer(l) for l in spec_layers]
    return [repr(l) for l in model.layers]


def float64_copy(model: Sequential) -> Sequential:
    """A deep float64 copy (weights, running statistics, mode); the original is not touched."""
    twin = copy.deepcopy(model)
    twin.astype(np.float64)
    return twin


def _as_image(model: Sequential, image) -> np.ndarray:
    x = np.asarray(image, dtype=np.float64)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise BackpropError(f"The image must be (H, W) or (C, H, W); got shape {x.shape}.")
    want = tuple((model.spec or {}).get("input_shape") or x.shape)
    if x.shape != want:
        raise BackpropError(f"This network takes {'×'.join(map(str, want))} inputs; the image is "
                            f"{'×'.join(map(str, x.shape))}.")
    if not np.all(np.isfinite(x)):
        raise BackpropError("The image contains a value that is not a number.")
    return x


def _num_classes(model: Sequential) -> int | None:
    n = (model.spec or {}).get("num_classes")
    return int(n) if n is not None else None


def trace(model: Sequential, image, label: int, mode: str | None = "eval") -> Trace:
    """Forward, loss and backward of one example; every number kept (see the module docstring).

    ``mode``: "eval" (default: batch norm uses its running statistics, dropout is off), "train"
    (batch statistics of this one image, dropout masks drawn), or None for the model's current mode.
    The model is not changed (a float64 copy does the work).
    """
    if mode is None:
        mode = "train" if model.training else "eval"
    if mode not in MODES:
        raise BackpropError(f"mode must be 'eval' or 'train', not {mode!r}.")
    x = _as_image(model, image)
    k = _num_classes(model)
    if not isinstance(label, (int, np.integer)) or (k is not None and not 0 <= int(label) < k):
        raise BackpropError(f"The true label must be a class number 0…{(k or 1) - 1}, not {label!r}.")
    net = float64_copy(model).train(mode == "train")
    kinds, names = _kinds(net), _names(net, _kinds(net))
    logits, acts = net.forward(x[None], return_activations=True)
    if not 0 <= int(label) < logits.shape[1]:
        raise BackpropError(f"The true label must be a class number 0…{logits.shape[1] - 1}, not {label}.")
    loss, dlogits = softmax_cross_entropy(logits, np.array([int(label)]))
    inputs = [x[None]] + acts[:-1]
    d = dlogits
    steps: list[Step] = []
    with blas_threads(net.blas_threads):          # as Sequential's own passes: see numpy_nn/threads.py
        for i in range(len(net.layers) - 1, -1, -1):
            layer = net.layers[i]
            d_in = layer.backward(d, need_dx=True)
            steps.append(Step(i, names[i], kinds[i], layer, inputs[i][0], acts[i][0], d[0], d_in[0],
                              {key: g.copy() for key, g in layer.grads.items()}))
            d = d_in
    steps.reverse()
    return Trace(x, int(label), mode, logits[0], softmax(logits[0]), float(loss), dlogits[0], steps)


def loss_of(model: Sequential, image, label: int, mode: str = "eval") -> tuple[float, np.ndarray]:
    """(L, p) of one example without keeping the steps: the 'after' numbers of an update."""
    x = _as_image(model, image)
    net = float64_copy(model).train(mode == "train")
    logits = net.forward(x[None])
    loss, _ = softmax_cross_entropy(logits, np.array([int(label)]))
    return float(loss), softmax(logits[0])


# ---------------------------------------------------------------------------------------------
# Update: W ← W − η·∂L/∂W
# ---------------------------------------------------------------------------------------------

def apply_step(model: Sequential, tr: Trace, lr: float) -> None:
    """One plain SGD step on ``model`` in place, with the gradients of ``tr`` (every parameter)."""
    lr = float(lr)
    if not math.isfinite(lr) or lr <= 0:
        raise BackpropError("The learning rate η must be a positive number.")
    for (i, key), g in tr.param_grads().items():
        p = model.layers[i].params[key]
        if p.shape != g.shape:
            raise BackpropError("These gradients belong to a different network.")
        model.layers[i].params[key] = (p - lr * g).astype(p.dtype)


# ---------------------------------------------------------------------------------------------
# Proof: torch's autograd, and central differences
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AutogradCheck:
    loss_diff: float             # |L − L_torch|
    max_param_diff: float        # max over every parameter gradient entry
    max_input_diff: float        # max over ∂L/∂image
    compared: int                # how many numbers were compared

    @property
    def max_abs_diff(self) -> float:
        return max(self.loss_diff, self.max_param_diff, self.max_input_diff)


def autograd_gradients(model: Sequential, image, label: int, mode: str = "eval"):
    """(loss, {(i, key): grad}, ∂L/∂image) from torch's autograd on a float64 twin of ``model``."""
    import torch

    from cnn_core.numpy_nn.from_spec import to_torch

    if model.spec is None:
        raise BackpropError("The autograd check needs a model built from a spec.")
    net = float64_copy(model).train(mode == "train")
    tm = to_torch(net, net.spec)
    x = torch.tensor(_as_image(model, image)[None], dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(tm(x), torch.tensor([int(label)]))
    loss.backward()
    grads = {}
    for i, layer in enumerate(net.layers):
        module = tm[i]
        for key, suffix in layer.torch_names.items():
            if key in layer.params:
                grads[(i, key)] = getattr(module, suffix).grad.numpy().copy()
    return loss.item(), grads, x.grad[0].numpy().copy()


def autograd_check(model: Sequential, image, label: int, tr: Trace | None = None) -> AutogradCheck:
    """How far the trace's numbers are from torch's autograd (float64, same weights, same mode)."""
    tr = tr if tr is not None else trace(model, image, label)
    if tr.mode == "train" and any(s.kind == "dropout" and s.layer.p > 0 for s in tr.steps):
        raise BackpropError("Dropout draws different random masks in torch; compare in eval mode.")
    loss, grads, gx = autograd_gradients(model, image, label, tr.mode)
    ours = tr.param_grads()
    pdiff = max((float(np.abs(ours[k] - g).max()) for k, g in grads.items()), default=0.0)
    return AutogradCheck(abs(loss - tr.loss), pdiff, float(np.abs(gx - tr.grad_image).max()),
                         1 + sum(g.size for g in grads.values()) + gx.size)


@dataclass(frozen=True)
class NumericalCheck:
    layer: int
    key: str
    index: tuple[int, ...]
    analytic: float              # from the backward pass
    numerical: float             # (L(w + ε) − L(w − ε)) / 2ε
    eps: float
    loss_plus: float
    loss_minus: float

    @property
    def rel_error(self) -> float:
        """|a − n| / max(|a|, |n|); 0 when both are below 1e-12 (a weight with no influence)."""
        scale = max(abs(self.analytic), abs(self.numerical))
        return 0.0 if scale < 1e-12 else abs(self.analytic - self.numerical) / scale


def numerical_check(model: Sequential, image, label: int, layer: int, key: str, index,
                    eps: float = 1e-6, tr: Trace | None = None) -> NumericalCheck:
    """Central differences for one parameter entry, against the trace's gradient (same mode)."""
    tr = tr if tr is not None else trace(model, image, label)
    if tr.mode == "train" and any(s.kind == "dropout" and s.layer.p > 0 for s in tr.steps):
        raise BackpropError("Dropout draws new random masks on every pass; check gradients in eval mode.")
    if not 0 <= layer < len(model.layers) or key not in model.layers[layer].params:
        raise BackpropError(f"Layer {layer} has no parameter {key!r}.")
    index = tuple(int(v) for v in np.atleast_1d(index))
    shape = model.layers[layer].params[key].shape
    if len(index) != len(shape) or not all(0 <= v < n for v, n in zip(index, shape)):
        raise BackpropError(f"Index {index} is outside the parameter's shape {shape}.")
    net = float64_copy(model).train(tr.mode == "train")
    x = _as_image(model, image)[None]
    p = net.layers[layer].params[key]
    w0 = p[index]
    losses = []
    for w in (w0 + eps, w0 - eps):
        p[index] = w
        losses.append(float(softmax_cross_entropy(net.forward(x), np.array([int(label)]))[0]))
    p[index] = w0
    return NumericalCheck(layer, key, index, float(tr.steps[layer].grads[key][index]),
                          (losses[0] - losses[1]) / (2 * eps), eps, losses[0], losses[1])
