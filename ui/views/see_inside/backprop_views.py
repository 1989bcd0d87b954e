"""The Backpropagation page's pieces: the learner's model copy, figure builders for gradient maps,
and the per-layer panels that write one cell's or one weight's arithmetic out.

Gradients are signed, so every gradient map uses RdBu centred on 0 (colour-blind safe) with
hover values; activations use Viridis as on the Layer Explorer.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from cnn_core.lessons import backprop as bp, backprop_arithmetic as ba
from cnn_core.lessons.formatting import fmt_sig
from ui.views import chart_alt
from ui.views.see_inside import lesson_plots as lp

K = "bp_"
MODEL, SIGNATURE, VERSION, HISTORY, LAST = K + "model", K + "model_sig", K + "version", K + "history", K + "last"

WHAT_IT_DOES = {
    "conv2d": "The kernel gradient is the layer's input correlated with the incoming gradient map: "
              "∂L/∂W[f, c, a, b] = Σ δ[f, i, j]·x[c, i·s + a, j·s + b]. The bias gradient is the sum of the map. "
              "The gradient sent on, ∂L/∂x, is the incoming map convolved in full with the flipped kernel.",
    "maxpool2d": "Max pooling has no weights. Each pooled cell's gradient goes back to the one input cell "
                 "that won its window (the largest value); every other cell of the window gets 0.",
    "avgpool2d": "Average pooling has no weights. Each pooled cell's gradient is shared equally: 1/k² of it "
                 "to every cell of its window.",
    "relu": "ReLU passes the gradient where its input was positive and blocks it (0) elsewhere: ∂L/∂x = δ·[x > 0].",
    "sigmoid": "Sigmoid scales the gradient by its slope σ(1 − σ), at most 0.25: deep sigmoid networks pass "
               "back ever smaller gradients.",
    "tanh": "Tanh scales the gradient by its slope 1 − tanh², at most 1.",
    "flatten": "Flatten only reshapes: the vector's gradient is laid back out as maps, cell for cell.",
    "dense": "Every weight's gradient is the unit's incoming gradient times the input it multiplies, "
             "∂L/∂W[i, k] = δ_i·y_k; ∂L/∂b_i = δ_i; each input collects Σ_i δ_i·W[i, k] from every unit.",
    "batchnorm2d": "In evaluation mode batch norm is a fixed scale and shift per channel, so the gradient is "
                   "scaled by γ/√(running var + ε); γ and β get Σ δ·x̂ and Σ δ.",
    "dropout": "Dropout is off outside training: the gradient passes through unchanged.",
}


# ---- the learner's model ----------------------------------------------------------------------

def learner_model(signature: tuple, build) -> "bp.Sequential":
    """This learner's own copy of the model (``build()`` makes it); a new signature starts afresh."""
    ss = st.session_state
    if ss.get(SIGNATURE) != signature or ss.get(MODEL) is None:
        ss[MODEL], ss[SIGNATURE], ss[VERSION], ss[HISTORY], ss[LAST] = build(), signature, 0, [], None
    return ss[MODEL]


def reset_model() -> None:
    st.session_state[SIGNATURE] = None


def take_step(image, label: int, lr: float, mode: str = "eval") -> None:
    """The 'Apply one step' callback: SGD on the learner's copy; before/after kept for the page."""
    ss = st.session_state
    model = ss[MODEL]
    before = bp.trace(model, image, label, mode)
    kernels = {s.index: s.params["W"].copy() for s in before.steps if s.kind == "conv2d"}
    bp.apply_step(model, before, lr)
    loss, probs = bp.loss_of(model, image, label, mode)
    ss[VERSION] += 1
    if not ss[HISTORY]:
        ss[HISTORY].append({"step": 0, "loss": before.loss, "p_true": float(before.probs[label])})
    ss[HISTORY].append({"step": ss[VERSION], "loss": loss, "p_true": float(probs[label])})
    ss[LAST] = {"lr": lr, "label": label, "loss_before": before.loss, "loss_after": loss,
                "probs_before": before.probs, "probs_after": probs, "kernels_before": kernels,
                "kernels_after": {i: model.layers[i].params["W"].copy() for i in kernels}}


def memo(name: str, key: tuple, compute):
    """One cached value per name for this learner, recomputed when ``key`` changes."""
    slot = st.session_state.setdefault(K + "memo_" + name, {})
    if slot.get("key") != key:
        slot["key"], slot["value"] = key, compute()
    return slot["value"]


# ---- figures ----------------------------------------------------------------------------------

def signed_maps(a: np.ndarray, *, title: str, name: str = "∂L/∂value", height: int | None = None,
                max_maps: int = 32, labels: list[str] | None = None) -> go.Figure:
    """Gradient maps (C, H, W) in one mosaic, or a vector as bars; RdBu centred on 0, hover values.
    ``labels``: the class names, for the last layer's vector (its units are the classes)."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 1:
        return _with_alt(lp.vector(a, title=title, name=name, height=height or 220, labels=labels), a, title, labels)
    lo, hi = lp.signed_limits(a[:max_maps])
    shown = f" (first {max_maps} of {a.shape[0]})" if a.shape[0] > max_maps else ""
    return _with_alt(lp.mosaic(a[:max_maps], title=title + shown, colorscale="RdBu", zmin=lo, zmax=hi, zmid=0,
                               labels=[f"channel {c + 1}" for c in range(min(a.shape[0], max_maps))], hover_name=name,
                               height=height), a, title)


def activation_maps(a: np.ndarray, *, title: str, height: int = 200, max_maps: int = 16,
                    labels: list[str] | None = None) -> go.Figure:
    """A layer's output: maps as a mosaic, a vector as bars (``labels``: the class names, for the logits)."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 1:
        return _with_alt(lp.vector(a, title=title, height=height, labels=labels), a, f"{title}, output", labels)
    # The count goes on a second, smaller line: after the layer's name it was cut off ("(first 16 of")
    # in a quarter-width column at 1280×800.
    more = f"<br><sup>first {max_maps} of {a.shape[0]} maps</sup>" if a.shape[0] > max_maps else ""
    return _with_alt(lp.mosaic(a[:max_maps], title=title + more, height=height, hover_name="activation"), a,
                     f"{title}, output")


def one_map(a: np.ndarray, *, title: str, rects=(), marks=None, signed: bool = True, name: str = "∂L/∂value",
            height: int = 300, colorscale: str = "Viridis") -> go.Figure:
    """One map with hover values: signed (RdBu centred on 0) or a magnitude (``colorscale``; gray for pixels)."""
    a = np.asarray(a, dtype=float)
    if signed:
        lo, hi = lp.signed_limits(a)
        return _with_alt(lp.grid(a, title=title, colorscale="RdBu", zmid=0, zmin=lo, zmax=hi, rects=list(rects),
                                 marks=marks, hover_name=name, height=height, annotate=a.size <= 49, digits=3), a, title)
    return _with_alt(lp.grid(a, title=title, rects=list(rects), marks=marks, hover_name=name, height=height,
                             annotate=a.size <= 49, digits=3, colorscale=colorscale), a, title,
                     kind="image" if name == "pixel" else "values")


# The words for each chart made by one_map / signed_maps / activation_maps, until chart() draws it (by the figure's id; a few at most).
_ALT: dict[int, str] = {}


def _with_alt(fig: go.Figure, a: np.ndarray, title: str, labels=None, kind: str = "values") -> go.Figure:
    if len(_ALT) > 64:           # figures made and never drawn: forget them
        _ALT.clear()
    _ALT[id(fig)] = chart_alt.array_summary(a, title, labels, kind=kind)
    return fig


def chart(where, fig: go.Figure, key: str) -> None:
    """``where.plotly_chart(fig)`` followed by its text alternative for screen readers (ui/views/chart_alt.py)."""
    where.plotly_chart(fig, key=key)
    text = _ALT.pop(id(fig), None)
    if text:
        chart_alt.describe(text, where)


def loss_table(tr: bp.Trace, class_names: list[str]) -> pd.DataFrame:
    """p, the one-hot y and ∂L/∂z = p − y for every class, to 4 decimals with the minus sign."""
    four = lambda v: f"{v:.4f}".replace("-", "−")  # noqa: E731
    return pd.DataFrame({"class": [str(c) for c in class_names], "p (softmax)": [four(v) for v in tr.probs],
                         "y (one-hot)": tr.one_hot.astype(int), "∂L/∂z = p − y": [four(v) for v in tr.grad_logits]})


def before_after_bars(before, after, class_names) -> go.Figure:
    names = [str(c) for c in class_names]
    fig = go.Figure([go.Bar(name="before", x=names, y=before, marker_color=lp.IMAGE_COLOUR,
                            hovertemplate="%{x}: p = %{y:.4f} before<extra></extra>"),
                     go.Bar(name="after", x=names, y=after, marker_color=lp.WINNER_COLOUR,
                            hovertemplate="%{x}: p = %{y:.4f} after<extra></extra>")])
    fig.update_layout(barmode="group", height=260, margin=dict(l=8, r=8, t=30, b=8), yaxis=dict(title="probability"),
                      xaxis=dict(type="category"), title=dict(text="Probabilities before and after", font=dict(size=14)),
                      legend=dict(orientation="h", y=1.12, x=1, xanchor="right"))
    return fig


def loss_curve(history: list[dict]) -> go.Figure:
    steps = [h["step"] for h in history]
    fig = go.Figure(go.Scatter(x=steps, y=[h["loss"] for h in history], mode="lines+markers",
                               hovertemplate="after step %{x}: L = %{y:.4f} nats<extra></extra>"))
    fig.update_layout(height=240, margin=dict(l=8, r=8, t=30, b=8), title=dict(text="Loss on this input", font=dict(size=14)),
                      xaxis=dict(title="steps applied", dtick=1), yaxis=dict(title="L (nats)", rangemode="tozero"))
    return fig


def kernels_before_after(before: np.ndarray, after: np.ndarray, max_kernels: int = 16) -> tuple[go.Figure, go.Figure]:
    """Each kernel's first input channel before and after (one shared RdBu scale), and the change on
    its own scale: a step of η = 0.001 moves weights by ~10⁻⁴, invisible on the weights' scale."""
    b, a = before[:max_kernels, 0], after[:max_kernels, 0]
    n = b.shape[0]
    lo, hi = lp.signed_limits(b, a)
    both = lp.mosaic(np.concatenate([b, a]), cols=n, colorscale="RdBu", zmin=lo, zmax=hi, zmid=0, hover_name="weight",
                     labels=[f"kernel {i + 1} {w}" for w in ("before", "after") for i in range(n)],
                     title="Kernels before (top) and after (bottom) the step", height=100 + 60 * 2)
    lo, hi = lp.signed_limits(a - b)
    change = lp.mosaic(a - b, cols=n, colorscale="RdBu", zmin=lo, zmax=hi, zmid=0, hover_name="change",
                       labels=[f"kernel {i + 1} change" for i in range(n)],
                       title="The change, after − before = −η·∂L/∂W (its own scale)", height=100 + 60)
    return both, change


# ---- written arithmetic, per layer kind ---------------------------------------------------------

def _scale(step: bp.Step) -> str:
    """Pixels in grey (the image itself, as everywhere in the app), activations in Viridis."""
    return "gray" if step.index == 0 else "Viridis"


def short_name(step: bp.Step) -> str:
    """'1. Conv2D → 8×26×26': fits a quarter of the page."""
    kind = step.name.split("(")[0]
    return f"{step.index + 1}. {kind} → {'×'.join(map(str, step.output.shape))}"


def _pick(label: str, n: int, key: str, default: int = 1, col=None) -> int:
    """A 1-based picker shown to the learner, returned 0-based."""
    where = col if col is not None else st
    default = min(max(default, 1), n)
    return int(where.number_input(f"{label} (1–{n})", 1, n, default, key=key)) - 1


def written_box(text: str, testid: str = "bp-sum") -> None:
    st.markdown(f"<div data-testid='{testid}' style='font-size:1.02rem;line-height:1.6'>{text}</div>",
                unsafe_allow_html=True)


def arithmetic_panel(step: bp.Step, key: str, class_names: list[str] | None = None):
    """Widgets to choose a cell or weight of ``step``, its figures and its written arithmetic.
    ``class_names`` for the last layer, whose output units are the classes (picked and shown by name).
    Returns the chosen parameter as (layer index, key, index) when the layer has weights, else None."""
    kind = step.kind
    st.caption(WHAT_IT_DOES.get(kind, ""))
    if kind == "conv2d":
        return _conv_panel(step, key)
    if kind == "dense":
        return _dense_panel(step, key, class_names)
    if kind in ("maxpool2d", "avgpool2d"):
        _pool_panel(step, key)
        return None
    return _cell_panel(step, key)


def _conv_panel(step: bp.Step, key: str):
    W = step.params["W"]
    f_out, c_in, k, _ = W.shape
    cols = st.columns(4)
    f = _pick("kernel", f_out, key + "f", col=cols[0])
    c = _pick("input channel", c_in, key + "c", col=cols[1]) if c_in > 1 else 0
    a = _pick("weight row", k, key + "a", (k + 1) // 2, cols[2])
    b = _pick("weight column", k, key + "b", (k + 1) // 2, cols[3])
    w = ba.conv_weight_grad(step, f, c, a, b, base=1)
    written_box(w.text)
    st.caption(f"{len(w.terms)} terms, one per output position; {w.nonzero_terms} are not 0 (δ is 0 where ReLU "
               "blocked or pooling did not pick the cell, x is 0 on the blank background).")
    s, p = step.layer.stride, step.layer.padding
    ho, wo = step.grad_output.shape[1:]
    x = np.pad(step.input[c], p) if p else step.input[c]
    rect = (a, b, a + s * (ho - 1) + 1, b + s * (wo - 1) + 1, lp.WINDOW_COLOUR)
    g1, g2, g3 = st.columns(3)
    chart(g1, one_map(step.grad_output[f], title=f"Incoming δ = ∂L/∂output, map {f + 1}", name="δ"),
                    key=key + "fig_d")
    chart(g2, one_map(x, title=f"Input channel {c + 1}" + (" (padded)" if p else "") + ": the cells W meets",
                            rects=[rect], signed=False, name="x", colorscale=_scale(step)), key=key + "fig_x")
    chart(g3, one_map(step.grads["W"][f, c], title=f"∂L/∂W for kernel {f + 1}", marks=[(a, b)], name="∂L/∂W"),
                    key=key + "fig_gw")
    written_box(ba.conv_bias_grad(step, f, base=1).text, "bp-bias")
    with st.expander("The gradient sent on to the input: ∂L/∂x for one cell (full convolution with the flipped kernel)"):
        h, wd = step.input.shape[1:]
        r1, r2 = st.columns(2)
        r = _pick("input row", h, key + "xr", h // 2, r1)
        q = _pick("input column", wd, key + "xq", wd // 2, r2)
        written_box(ba.conv_input_grad(step, c, r, q, base=1).text, "bp-input-sum")
        chart(st, signed_maps(step.grad_input, title="∂L/∂input, every channel", name="∂L/∂x", height=260),
                        key=key + "fig_gx")
    return step.index, "W", (f, c, a, b)


def _dense_panel(step: bp.Step, key: str, class_names: list[str] | None = None):
    n_out, n_in = step.params["W"].shape
    c1, c2 = st.columns(2)
    best = int(np.argmax(np.abs(step.grad_output)))
    if class_names is not None and len(class_names) == n_out:    # the logits: a class, by its name
        i = c1.selectbox("class (output)", list(range(n_out)), index=best, key=key + "i",
                         format_func=lambda u: str(class_names[u]),
                         help="Row i of W belongs to this class's logit (W's rows and columns count from 1).")
    else:
        class_names = None
        i = _pick("unit (output)", n_out, key + "i", best + 1, c1)
    k = _pick("input", n_in, key + "k", int(np.argmax(np.abs(step.input))) + 1, c2)
    written_box(ba.dense_weight_grad(step, i, k, base=1).text)
    written_box(ba.dense_bias_grad(step, i, base=1).text, "bp-bias")
    written_box(ba.dense_input_grad(step, k, base=1).text, "bp-input-sum")
    g1, g2 = st.columns(2)
    chart(g1, signed_maps(step.grad_output, title="Incoming δ, one per class" if class_names else
                                "Incoming δ, one per unit", name="δ", labels=class_names), key=key + "fig_d")
    chart(g2, signed_maps(step.grad_input, title="∂L/∂input, sent on", name="∂L/∂y"), key=key + "fig_gx")
    return step.index, "W", (i, k)


def _pool_panel(step: bp.Step, key: str) -> None:
    ch, oh, ow = step.output.shape
    c1, c2, c3 = st.columns(3)
    c = _pick("channel", ch, key + "c", col=c1)
    d = step.grad_output[c]
    best = np.unravel_index(int(np.argmax(np.abs(d))), d.shape)
    i = _pick("pooled row", oh, key + "i", best[0] + 1, c2)
    j = _pick("pooled column", ow, key + "j", best[1] + 1, c3)
    w = ba.pool_window(step, c, i, j, base=1)
    written_box(w.text)
    r0, q0 = w.origin
    k = step.layer.kernel_size
    rect = (r0, q0, r0 + k, q0 + k, lp.WINDOW_COLOUR)
    marks = [w.winner] if w.winner is not None else None
    g1, g2, g3 = st.columns(3)
    chart(g1, one_map(step.input[c], title=f"Input map {c + 1}: the window", rects=[rect], marks=marks,
                            signed=False, name="x", colorscale=_scale(step)), key=key + "fig_x")
    chart(g2, one_map(d, title="Incoming δ (pooled)", rects=[(i, j, i + 1, j + 1, lp.WINDOW_COLOUR)], name="δ"),
                    key=key + "fig_d")
    chart(g3, one_map(step.grad_input[c], title="∂L/∂input: δ at the winners, 0 elsewhere", rects=[rect],
                            marks=marks, name="∂L/∂x"), key=key + "fig_gx")


def _cell_panel(step: bp.Step, key: str):
    shape = step.input.shape
    if len(shape) == 3:
        c1, c2, c3 = st.columns(3)
        c = _pick("channel", shape[0], key + "c", col=c1)
        m = np.abs(step.grad_input[c])
        best = np.unravel_index(int(np.argmax(m)), m.shape)
        r = _pick("row", shape[1], key + "r", best[0] + 1, c2)
        q = _pick("column", shape[2], key + "q", best[1] + 1, c3)
        index = (c, r, q)
    else:
        index = (_pick("unit", shape[0], key + "u", int(np.argmax(np.abs(step.grad_input))) + 1),)
    written_box(ba.cell(step, index, base=1).text)
    if step.kind == "flatten":
        chart(st, signed_maps(step.grad_input, title="∂L/∂input: the vector's gradient laid out as maps",
                                    name="∂L/∂x", height=260), key=key + "fig_gx")
        return None
    g1, g2 = st.columns(2)
    if len(shape) == 3:
        sel = [(index[1], index[2], index[1] + 1, index[2] + 1, lp.WINDOW_COLOUR)]
        chart(g1, one_map(step.grad_output[index[0]], title=f"Incoming δ, channel {index[0] + 1}", rects=sel,
                                name="δ"), key=key + "fig_d")
        chart(g2, one_map(step.grad_input[index[0]], title="∂L/∂input, sent on", rects=sel, name="∂L/∂x"),
                        key=key + "fig_gx")
    else:
        chart(g1, signed_maps(step.grad_output, title="Incoming δ", name="δ"), key=key + "fig_d")
        chart(g2, signed_maps(step.grad_input, title="∂L/∂input, sent on", name="∂L/∂x"), key=key + "fig_gx")
    if step.kind == "batchnorm2d":
        c = index[0] if len(shape) == 3 else 0
        return step.index, "gamma", (c,)
    return None


def fmt_diff(x: float) -> str:
    return "0" if x == 0 else fmt_sig(x, 2)
