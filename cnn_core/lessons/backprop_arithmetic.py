"""The arithmetic of backpropagation for one cell or one weight, written out with the numbers of a
``backprop.trace`` step (document 000's formulas):

    dense       ∂L/∂W[i, k] = δ_i · y_k        ∂L/∂b_i = δ_i        ∂L/∂y_k = Σ_i δ_i · W[i, k]
    max pool    the window's gradient goes to its largest cell only (the first, in row-major order)
    avg pool    each of the k² cells gets δ / k²
    ReLU        ∂L/∂x = δ · [x > 0]      sigmoid  δ · σ(1 − σ)      tanh  δ · (1 − tanh²)
    batch norm  (eval) ∂L/∂x = δ · γ / √(running var + ε)
    conv        ∂L/∂W[f, c, a, b] = Σ_(i,j) δ[f, i, j] · x_pad[c, i·s + a, j·s + b]
                ∂L/∂b_f = Σ_(i,j) δ[f, i, j]
                ∂L/∂x[c, r, q] = Σ_f Σ_(a,b) δ[f, i, j] · W[f, c, a, b]  over i·s + a = r + p, j·s + b = q + p
                (the incoming gradient convolved, in full, with the flipped kernel)
    update      W ← W − η · ∂L/∂W

Every function returns a ``Written``: the value (equal to the vectorised gradient of the trace, a
test checks it) and the text. Long sums show their largest terms and "… and N more terms".
Arguments are 0-based indices, as in NumPy and torch; ``base=1`` writes them 1-based in the text,
to match a page whose rows and columns are numbered from 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn_core.lessons.backprop import BackpropError, Step
from cnn_core.lessons.formatting import MINUS, fmt_sig, fmt_sig_factor

MAX_TERMS = 6


@dataclass(frozen=True)
class Term:
    where: str          # "δ(3, 4)·x(4, 5)"
    a: float
    b: float

    @property
    def product(self) -> float:
        return self.a * self.b


@dataclass(frozen=True)
class Written:
    value: float
    text: str
    terms: tuple[Term, ...] = ()     # every term of a sum, largest first (empty for one product)

    @property
    def nonzero_terms(self) -> int:
        return sum(1 for t in self.terms if t.product != 0)


def _sum(lhs: str, terms: list[Term], max_terms: int = MAX_TERMS) -> Written:
    """'lhs = a·b + c·d + … and N more terms = value', the largest |products| first."""
    terms = sorted(terms, key=lambda t: -abs(t.product))
    value = float(np.sum([t.product for t in terms])) if terms else 0.0
    zeros = sum(1 for t in terms if t.product == 0)
    shown = [t for t in terms[:max_terms] if t.product != 0]
    if not shown:
        return Written(value, f"{lhs} = 0 (all {len(terms)} terms are 0)", tuple(terms))
    body = " + ".join(f"{fmt_sig_factor(t.a)}·{fmt_sig_factor(t.b)}" for t in shown)
    rest = len(terms) - len(shown)
    if rest:
        body += f" + … and {rest} more term{'s' if rest > 1 else ''}"
        if zeros:
            body += f" ({zeros} of them 0)" if zeros < rest else " (all 0)"
    return Written(value, f"{lhs} = {body} = {fmt_sig(value)}", tuple(terms))


def _need(step: Step, *kinds: str) -> None:
    if step.kind not in kinds:
        raise BackpropError(f"Layer {step.index + 1} is {step.name}, not {' or '.join(kinds)}.")


def _n(*values: int, base: int = 0) -> str:
    """Indices as the text writes them: '3, 0, 1' (0-based) or '4, 1, 2' with base=1."""
    return ", ".join(str(int(v) + base) for v in values)


def _idx(index, shape, what: str) -> tuple[int, ...]:
    index = tuple(int(v) for v in np.atleast_1d(index))
    if len(index) != len(shape) or not all(0 <= v < n for v, n in zip(index, shape)):
        raise BackpropError(f"{what} {index} is outside the shape {tuple(shape)}.")
    return index


# ---- dense -----------------------------------------------------------------------------------

def dense_weight_grad(step: Step, i: int, k: int, base: int = 0) -> Written:
    """∂L/∂W[i, k] = δ_i · y_k: the unit's incoming gradient times the input it multiplies."""
    _need(step, "dense")
    i, k = _idx((i, k), step.params["W"].shape, "Weight")
    d, y = float(step.grad_output[i]), float(step.input[k])
    return Written(d * y, f"∂L/∂W[{_n(i, k, base=base)}] = δ_{i + base} · y_{k + base} = {fmt_sig_factor(d)} · {fmt_sig_factor(y)} "
                          f"= {fmt_sig(d * y)}")


def dense_bias_grad(step: Step, i: int, base: int = 0) -> Written:
    _need(step, "dense")
    (i,) = _idx((i,), step.params["b"].shape, "Bias")
    d = float(step.grad_output[i])
    return Written(d, f"∂L/∂b_{i + base} = δ_{i + base} = {fmt_sig(d)}")


def dense_input_grad(step: Step, k: int, max_terms: int = MAX_TERMS, base: int = 0) -> Written:
    """∂L/∂y_k = Σ_i δ_i · W[i, k]: input k feeds every unit, so its gradient sums over them."""
    _need(step, "dense")
    (k,) = _idx((k,), step.input.shape, "Input")
    W = step.params["W"]
    terms = [Term(f"δ_{i + base}·W[{_n(i, k, base=base)}]", float(step.grad_output[i]), float(W[i, k]))
             for i in range(W.shape[0])]
    return _sum(f"∂L/∂y_{k + base} = Σ_i δ_i·W[i, {k + base}]", terms, max_terms)


# ---- pooling ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PoolWindow:
    kind: str                       # "max" or "avg"
    channel: int
    out: tuple[int, int]            # the pooled cell (i, j)
    origin: tuple[int, int]         # the window's top-left cell in the input map
    window: np.ndarray              # (k, k) input values
    winner: tuple[int, int] | None  # input (row, col) of the maximum; None for average pooling
    grad: float                     # δ of the pooled cell
    routed: np.ndarray              # (k, k): what each window cell receives from this window
    text: str


def pool_window(step: Step, channel: int, i: int, j: int, base: int = 0) -> PoolWindow:
    """Where one pooled cell's gradient goes: its window, the winner, δ there and 0 elsewhere."""
    _need(step, "maxpool2d", "avgpool2d")
    channel, i, j = _idx((channel, i, j), step.output.shape, "Pooled cell")
    k, s = step.layer.kernel_size, step.layer.stride
    r0, c0 = i * s, j * s
    window = step.input[channel, r0:r0 + k, c0:c0 + k]
    d = float(step.grad_output[channel, i, j])
    if step.kind == "maxpool2d":
        a, b = divmod(int(np.argmax(window)), k)          # first maximum, row-major, as torch
        routed = np.zeros((k, k))
        routed[a, b] = d
        text = (f"max over rows {r0 + base}–{r0 + k - 1 + base}, columns {c0 + base}–{c0 + k - 1 + base} = "
                f"{fmt_sig(window[a, b])} at ({_n(r0 + a, c0 + b, base=base)}): that cell gets δ = {fmt_sig(d)}, "
                f"the other {k * k - 1} get 0")
        return PoolWindow("max", channel, (i, j), (r0, c0), window.copy(), (r0 + a, c0 + b), d, routed, text)
    routed = np.full((k, k), d / (k * k))
    text = (f"average of rows {r0 + base}–{r0 + k - 1 + base}, columns {c0 + base}–{c0 + k - 1 + base}: each of "
            f"the {k * k} cells gets "
            f"δ/{k * k} = {fmt_sig(d)}/{k * k} = {fmt_sig(d / (k * k))}")
    return PoolWindow("avg", channel, (i, j), (r0, c0), window.copy(), None, d, routed, text)


# ---- element-wise layers, flatten and batch norm --------------------------------------------

def cell(step: Step, index, base: int = 0) -> Written:
    """∂L/∂x for one input cell of an element-wise layer (ReLU, sigmoid, tanh, dropout, batch norm
    in eval mode) or of Flatten (a reshape)."""
    index = _idx(index, step.input.shape, "Cell")
    x, d_in = float(step.input[index]), float(step.grad_input[index])
    where = _n(*index, base=base)
    lhs = f"∂L/∂x[{where}]"
    if step.kind == "flatten":
        n = int(np.ravel_multi_index(index, step.input.shape))
        return Written(d_in, f"Flatten only reshapes: x[{where}] is entry {n + base} of the vector, so "
                             f"{lhs} = ∂L/∂v[{n + base}] = {fmt_sig(d_in)}")
    d = float(step.grad_output[index])
    y = float(step.output[index])
    if step.kind == "relu":
        if x > 0:
            return Written(d, f"x = {fmt_sig(x)} > 0, so ReLU lets the gradient through: {lhs} = δ = {fmt_sig(d)}")
        return Written(0.0, f"x = {fmt_sig(x)} ≤ 0, so ReLU blocks the gradient: {lhs} = δ · 0 = 0")
    if step.kind == "sigmoid":
        slope = y * (1 - y)
        return Written(d * slope, f"σ(x) = {fmt_sig(y)}; {lhs} = δ · σ(1 {MINUS} σ) = {fmt_sig_factor(d)} · "
                                  f"{fmt_sig_factor(y)} · {fmt_sig_factor(1 - y)} = {fmt_sig(d * slope)}")
    if step.kind == "tanh":
        slope = 1 - y * y
        return Written(d * slope, f"tanh(x) = {fmt_sig(y)}; {lhs} = δ · (1 {MINUS} tanh²) = {fmt_sig_factor(d)} · "
                                  f"{fmt_sig_factor(slope)} = {fmt_sig(d * slope)}")
    if step.kind == "dropout":
        if not step.layer.training or step.layer.p == 0:
            return Written(d, f"Dropout is off outside training: {lhs} = δ = {fmt_sig(d)}")
        scale = d_in / d if d else float("nan")
        return Written(d_in, f"{lhs} = δ · mask / (1 {MINUS} p) = {fmt_sig(d_in)}"
                             + ("" if d == 0 else f" (this cell was {'kept' if scale else 'dropped'})"))
    if step.kind == "batchnorm2d":
        c = index[0]
        gamma = float(step.params["gamma"][c])
        if step.layer.training:
            return Written(d_in, f"In training mode batch norm's mean and variance depend on every cell of "
                                 f"channel {c + base}, so {lhs} = {fmt_sig(d_in)} mixes the whole map.")
        var = float(step.layer.buffers["running_var"][c])
        scale = gamma / np.sqrt(var + step.layer.eps)
        return Written(d * scale, f"{lhs} = δ · γ / √(running var + ε) = {fmt_sig_factor(d)} · "
                                  f"{fmt_sig_factor(gamma)} / √({fmt_sig(var)} + {step.layer.eps:g}) "
                                  f"= {fmt_sig(d * scale)}")
    raise BackpropError(f"Layer {step.index + 1} ({step.name}) is not an element-wise layer.")


# ---- convolution -----------------------------------------------------------------------------

def _padded(step: Step) -> np.ndarray:
    p = step.layer.padding
    return np.pad(step.input, ((0, 0), (p, p), (p, p))) if p else step.input


def conv_weight_grad(step: Step, f: int, c: int, a: int, b: int, max_terms: int = MAX_TERMS,
                     base: int = 0) -> Written:
    """∂L/∂W[f, c, a, b] = Σ_(i,j) δ[f, i, j] · x_pad[c, i·s + a, j·s + b]: the input correlated with
    the incoming gradient map, one term per output position."""
    _need(step, "conv2d")
    f, c, a, b = _idx((f, c, a, b), step.params["W"].shape, "Weight")
    s = step.layer.stride
    xp = _padded(step)
    delta = step.grad_output[f]
    ho, wo = delta.shape
    xs = xp[c, a:a + s * (ho - 1) + 1:s, b:b + s * (wo - 1) + 1:s]
    p = step.layer.padding
    terms = [Term(f"δ({_n(i, j, base=base)})·x({_n(i * s + a - p, j * s + b - p, base=base)})", float(delta[i, j]),
                  float(xs[i, j])) for i in range(ho) for j in range(wo)]
    return _sum(f"∂L/∂W[{_n(f, c, a, b, base=base)}] = Σ over the {ho}×{wo} positions of δ · the input under "
                "this weight", terms, max_terms)


def conv_bias_grad(step: Step, f: int, base: int = 0) -> Written:
    """∂L/∂b_f = Σ δ[f]: the bias is added at every position, so its gradient is the map's sum."""
    _need(step, "conv2d")
    (f,) = _idx((f,), step.params["b"].shape, "Bias")
    delta = step.grad_output[f]
    v = float(delta.sum())
    return Written(v, f"∂L/∂b_{f + base} = sum of the {delta.shape[0]}×{delta.shape[1]} map δ[{f + base}] = {fmt_sig(v)}")


def conv_input_grad(step: Step, c: int, r: int, q: int, max_terms: int = MAX_TERMS, base: int = 0) -> Written:
    """∂L/∂x[c, r, q]: every output position whose window covers the cell sends δ · (the kernel
    weight over it), summed over the kernels; the same as a full convolution with the flipped kernel."""
    _need(step, "conv2d")
    c, r, q = _idx((c, r, q), step.input.shape, "Input cell")
    W, s, p = step.params["W"], step.layer.stride, step.layer.padding
    k = W.shape[-1]
    ho, wo = step.grad_output.shape[1:]
    terms = []
    for f in range(W.shape[0]):
        for a in range(k):
            i, rem_i = divmod(r + p - a, s)
            if rem_i or not 0 <= i < ho:
                continue
            for b in range(k):
                j, rem_j = divmod(q + p - b, s)
                if rem_j or not 0 <= j < wo:
                    continue
                terms.append(Term(f"δ[{f + base}]({_n(i, j, base=base)})·W[{_n(f, c, a, b, base=base)}]",
                                  float(step.grad_output[f, i, j]),
                                  float(W[f, c, a, b])))
    return _sum(f"∂L/∂x[{_n(c, r, q, base=base)}] = Σ δ·W over the windows covering it", terms, max_terms)


# ---- the update ------------------------------------------------------------------------------

def weight_update(w: float, grad: float, lr: float, name: str = "w") -> Written:
    """W ← W − η · ∂L/∂W for one weight: '0.1234 − 0.01 · 0.0567 = 0.1228'."""
    w, grad, lr = float(w), float(grad), float(lr)
    new = w - lr * grad
    return Written(new, f"{name} ← {name} {MINUS} η · ∂L/∂{name} = {fmt_sig(w, 6)} {MINUS} {fmt_sig(lr)} · "
                        f"{fmt_sig_factor(grad)} = {fmt_sig(new, 6)}")
