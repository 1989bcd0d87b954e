"""How one neuron (one map, one unit) of a real model was computed, with the model's own numbers.

Each function takes the model, the input image and a spec layer index, runs the model once
(``introspection.record_layers``) and returns the pieces that add up to that layer's real output:

- ``conv_arithmetic.conv_contributions``: output channel = Σ over input channels (input map ∗ its
  kernel slice) + bias (the notes' Figure 7.5, three RGB channel sums plus a bias, for any C_in);
- ``activation_neuron``: before / after, with the cells ReLU set to 0;
- ``pool_neuron``: the windows and, for max pooling, the winners;
- ``batchnorm_neuron``: eval-mode scale γ/√(σ²+ε) and shift β − μ·scale;
- ``dense_neuron``: weight × activation for every input, the largest first, their sum plus bias;
- ``softmax_neuron``: e^z_i / Σ e^z_j.

Every ``*_from`` variant takes an ``Introspection`` the caller already has (the Layer Explorer
runs the model once per rerun), so a drill-down costs no second forward pass.
The arithmetic runs in float64 on the float32 activations the model really produced.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from cnn_core.inference.introspection import (Introspection, IntrospectionError, LayerOutput, as_torch,
                                              prepare_input, record_layers)
from cnn_core.inference.predict import on_single_thread

MINUS = "−"


def fmt(x: float, digits: int = 3) -> str:
    """A number as the page writes it: fixed digits, a real minus sign, no '-0.000'."""
    s = f"{float(x):.{digits}f}"
    if float(s) == 0:
        s = s.lstrip("-")
    return s.replace("-", MINUS)


def _factor(x: float, digits: int = 3) -> str:
    s = fmt(x, digits)
    return f"({s})" if s.startswith(MINUS) else s


def _plus(terms: list[str]) -> str:
    out = terms[0] if terms else "0"
    for t in terms[1:]:
        out += f" {MINUS} {t[1:]}" if t.startswith(MINUS) else f" + {t}"
    return out


# ---------------------------------------------------------------------------------------------
# Running the model once
# ---------------------------------------------------------------------------------------------

def _modules(model) -> list[nn.Module]:
    if not isinstance(model, nn.Sequential):
        raise IntrospectionError("Per-neuron arithmetic needs a model built from a spec (an nn.Sequential).")
    return list(model)


def _input_shape_of(model: nn.Sequential, image) -> tuple[int, int, int]:
    a = np.asarray(image)
    h, w = a.shape[-2:]
    for m in model:
        c = getattr(m, "in_channels", None) or (m.num_features if isinstance(m, nn.BatchNorm2d) else None)
        if c:
            return int(c), int(h), int(w)
    return (1 if a.ndim == 2 else int(a.shape[0])), int(h), int(w)


def run_model(model, image, spec: dict | None = None) -> tuple[nn.Sequential, Introspection]:
    """(the eval-mode torch twin, every layer's output) for one image (H, W) or (C, H, W) in [0, 1]."""
    tmodel = as_torch(model, spec)
    if tmodel.training:
        import copy

        tmodel = copy.deepcopy(tmodel).eval()
    _modules(tmodel)
    shape = spec.get("input_shape") if spec else _input_shape_of(tmodel, image)
    x, _ = prepare_input(image, shape)
    layers, logits = on_single_thread(record_layers, tmodel, x, spec)
    lg = logits[0].detach().double()
    probs = torch.softmax(lg, dim=0).numpy()
    return tmodel, Introspection(x[0].numpy(), layers, lg.numpy(), probs, [str(i) for i in range(probs.size)])


def layer_input(result: Introspection, layer_index: int) -> np.ndarray:
    """What layer ``layer_index`` received: the model input for layer 0, else the previous layer's output."""
    return result.input if layer_index == 0 else result.layers[layer_index - 1].output


def _module(model: nn.Sequential, result: Introspection, layer_index: int, types, what: str) -> tuple[nn.Module, LayerOutput]:
    mods = _modules(model)
    if not 0 <= layer_index < len(mods):
        raise IntrospectionError(f"The model has layers 1 to {len(mods)}; there is no layer {layer_index + 1}.")
    m = mods[layer_index]
    if not isinstance(m, types):
        raise IntrospectionError(f"Layer {layer_index + 1} is a {type(m).__name__}, not {what}.")
    return m, result.layers[layer_index]


def _check_channel(channel: int, n: int, what: str = "channel") -> int:
    if not 0 <= int(channel) < n:
        raise IntrospectionError(f"That layer has {what}s 1 to {n}; there is no {what} {int(channel) + 1}.")
    return int(channel)


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


# ---------------------------------------------------------------------------------------------
# Channel-wise layers: activation, pooling, batch norm
# ---------------------------------------------------------------------------------------------

@dataclass
class ActivationNeuron:
    kind: str               # 'relu', 'sigmoid', 'tanh'
    before: np.ndarray      # (H, W) or (N,)
    after: np.ndarray

    @property
    def zeroed(self) -> np.ndarray:
        """Cells ReLU set to 0 (they were negative); all False for other activations."""
        return (self.before < 0) & (self.after == 0) if self.kind == "relu" else np.zeros(self.before.shape, bool)

    def written(self, index, digits: int = 3) -> str:
        x, y = float(self.before[index]), float(self.after[index])
        if self.kind == "relu":
            return f"max(0, {fmt(x, digits)}) = {fmt(y, digits)}"
        if self.kind == "sigmoid":
            return f"1 / (1 + e^{_factor(-x, digits)}) = {fmt(y, digits)}"
        return f"tanh({fmt(x, digits)}) = {fmt(y, digits)}"


_ACTS = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}


def activation_neuron_from(model, result: Introspection, layer_index: int, channel: int | None = None) -> ActivationNeuron:
    m, out = _module(model, result, layer_index, tuple(_ACTS), "an activation")
    before, after = layer_input(result, layer_index), out.output
    if after.ndim == 3:
        c = _check_channel(0 if channel is None else channel, after.shape[0])
        before, after = before[c], after[c]
    return ActivationNeuron(_ACTS[type(m)], np.asarray(before, np.float64), np.asarray(after, np.float64))


@dataclass
class PoolNeuron:
    kind: str               # 'max' or 'avg'
    input: np.ndarray       # (H, W)
    output: np.ndarray      # (H_out, W_out), the model's own values
    size: int
    stride: int

    def window(self, row: int, col: int) -> tuple[int, int, int, int]:
        """(row0, col0, row1, col1), end-exclusive, in input cells."""
        r0, c0 = row * self.stride, col * self.stride
        return r0, c0, r0 + self.size, c0 + self.size

    def values(self, row: int, col: int) -> np.ndarray:
        r0, c0, r1, c1 = self.window(row, col)
        return self.input[r0:r1, c0:c1]

    @property
    def winners(self) -> np.ndarray:
        """(H_out, W_out, 2) the input cell (row, col) each max window passes on (the first of equals, as torch)."""
        ho, wo = self.output.shape
        out = np.zeros((ho, wo, 2), int)
        for i in range(ho):
            for j in range(wo):
                v = self.values(i, j)
                r, c = np.unravel_index(int(np.argmax(v)), v.shape)
                out[i, j] = (i * self.stride + r, j * self.stride + c)
        return out

    def written(self, row: int, col: int, digits: int = 3) -> str:
        v = [fmt(x, digits) for x in self.values(row, col).ravel()]
        y = fmt(self.output[row, col], digits)
        if self.kind == "max":
            return f"max({', '.join(v)}) = {y}"
        return f"({_plus(v)}) / {len(v)} = {y}"


def pool_neuron_from(model, result: Introspection, layer_index: int, channel: int) -> PoolNeuron:
    m, out = _module(model, result, layer_index, (nn.MaxPool2d, nn.AvgPool2d), "a pooling layer")
    if _pair(m.padding) != (0, 0) or getattr(m, "ceil_mode", False) or _pair(getattr(m, "dilation", 1)) != (1, 1):
        raise IntrospectionError("Only plain pooling (no padding, dilation or ceil mode) is taken apart.")
    c = _check_channel(channel, out.output.shape[0])
    k, s = _pair(m.kernel_size), _pair(m.stride)
    if k[0] != k[1] or s[0] != s[1]:
        raise IntrospectionError("Only square pooling windows are taken apart.")
    return PoolNeuron("max" if isinstance(m, nn.MaxPool2d) else "avg",
                      np.asarray(layer_input(result, layer_index)[c], np.float64),
                      np.asarray(out.output[c], np.float64), k[0], s[0])


@dataclass
class BatchNormNeuron:
    input: np.ndarray       # (H, W)
    output: np.ndarray      # (H, W)
    gamma: float
    beta: float
    mean: float             # running mean μ
    var: float              # running variance σ²
    eps: float

    @property
    def scale(self) -> float:
        return self.gamma / float(np.sqrt(self.var + self.eps))

    @property
    def shift(self) -> float:
        return self.beta - self.mean * self.scale

    def written_scale(self, digits: int = 4) -> str:
        return (f"scale = γ / √(σ² + ε) = {fmt(self.gamma, digits)} / √({fmt(self.var, digits)} + {self.eps:g}) "
                f"= {fmt(self.scale, digits)}; shift = β − μ·scale = {fmt(self.beta, digits)} − "
                f"{_factor(self.mean, digits)}·{_factor(self.scale, digits)} = {fmt(self.shift, digits)}")

    def written(self, row: int, col: int, digits: int = 3) -> str:
        x = float(self.input[row, col])
        return (f"{_factor(x, digits)}·{_factor(self.scale, digits)} + {_factor(self.shift, digits)} "
                f"= {fmt(self.output[row, col], digits)}")


def batchnorm_neuron_from(model, result: Introspection, layer_index: int, channel: int) -> BatchNormNeuron:
    m, out = _module(model, result, layer_index, nn.BatchNorm2d, "batch norm")
    c = _check_channel(channel, m.num_features)
    g = float(m.weight.detach()[c]) if m.weight is not None else 1.0
    b = float(m.bias.detach()[c]) if m.bias is not None else 0.0
    if m.running_mean is None:
        raise IntrospectionError("This batch-norm layer keeps no running statistics, so it has no fixed scale.")
    return BatchNormNeuron(np.asarray(layer_input(result, layer_index)[c], np.float64),
                           np.asarray(out.output[c], np.float64), g, b, float(m.running_mean[c]),
                           float(m.running_var[c]), float(m.eps))


# ---------------------------------------------------------------------------------------------
# Dense unit and softmax
# ---------------------------------------------------------------------------------------------

@dataclass
class DenseNeuron:
    unit: int
    inputs: np.ndarray      # (N_in,) the activations it reads
    weights: np.ndarray     # (N_in,) its row of the weight matrix
    bias: float
    output: float           # the model's own value

    @property
    def contributions(self) -> np.ndarray:
        return self.inputs * self.weights

    def top(self, k: int = 10) -> np.ndarray:
        """Indices of the k inputs with the largest |weight × activation|, largest first."""
        c = np.abs(self.contributions)
        return np.argsort(-c, kind="stable")[:k]

    @property
    def total(self) -> float:
        return float(self.contributions.sum() + self.bias)

    def written(self, k: int = 5, digits: int = 3) -> str:
        """'w·x + … (top k) + the other N−k terms (Σ 0.123) + bias 0.01 = 1.234'."""
        idx = self.top(k)
        terms = [f"{_factor(self.weights[i], digits)}·{_factor(self.inputs[i], digits)}" for i in idx]
        rest = self.contributions.sum() - self.contributions[idx].sum()
        n_rest = self.inputs.size - idx.size
        s = " + ".join(terms)
        if n_rest:
            s += f" + {n_rest:,} more terms (together {fmt(rest, digits)})"
        return s + f" + bias {_factor(self.bias, digits)} = {fmt(self.total, digits)}"


def dense_neuron_from(model, result: Introspection, layer_index: int, unit: int) -> DenseNeuron:
    m, out = _module(model, result, layer_index, nn.Linear, "a dense layer")
    u = _check_channel(unit, m.out_features, "unit")
    b = float(m.bias.detach()[u]) if m.bias is not None else 0.0
    return DenseNeuron(u, np.asarray(layer_input(result, layer_index), np.float64).ravel(),
                       m.weight.detach()[u].double().numpy(), b, float(out.output[u]))


def dense_neuron(model, image, layer_index: int, unit: int, spec: dict | None = None) -> DenseNeuron:
    tmodel, result = run_model(model, image, spec)
    return dense_neuron_from(tmodel, result, layer_index, unit)


@dataclass
class SoftmaxNeuron:
    index: int
    logits: np.ndarray
    probabilities: np.ndarray

    @property
    def exps(self) -> np.ndarray:
        return np.exp(self.logits - self.logits.max())

    def written(self, digits: int = 3) -> str:
        """p_i = e^(z_i − m) / Σ_j e^(z_j − m), m the largest logit (the same ratio, no overflow)."""
        e = self.exps
        m = float(self.logits.max())
        shift = f" − {fmt(m, digits)}" if m >= 0 else f" + {fmt(-m, digits)}"
        return (f"e^({fmt(self.logits[self.index], digits)}{shift}) / ({_plus([fmt(v, digits) for v in e])}) "
                f"= {fmt(e[self.index], digits)} / {fmt(e.sum(), digits)} = {fmt(self.probabilities[self.index], digits)}")


def softmax_neuron_from(result: Introspection, index: int) -> SoftmaxNeuron:
    i = _check_channel(index, result.logits.size, "class")
    return SoftmaxNeuron(i, np.asarray(result.logits, np.float64), np.asarray(result.probabilities, np.float64))
