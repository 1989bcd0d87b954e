"""Figures for the Layer Explorer's drill-downs: how one map or unit of the real model was computed.

``conv_parts`` is the notes' Figure 7.5 generalised: each input channel (top row) convolved with
its own kernel slice (middle row) gives a partial map (bottom row); the partial maps plus the bias
add up to the output map (right). Panels are heatmaps placed on one pair of axes (cheaper than
subplots), each with hover values; the current window and output cell are outlined in orange.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnn_core.inference.conv_arithmetic import ConvContributions
from cnn_core.inference.neurons import DenseNeuron, fmt
from ui.views.see_inside.lesson_plots import WINDOW_COLOUR, signed_limits

PANEL_GAP = 0.45


def _panel(z, x0: float, y0: float, size: float, *, name: str, scale: dict, hover_name: str = "value") -> go.Heatmap:
    z = np.asarray(z, dtype=np.float64)
    h, w = z.shape
    cell = size / max(h, w)
    rows, cols = np.meshgrid(np.arange(1, h + 1), np.arange(1, w + 1), indexing="ij")
    return go.Heatmap(z=z, x=x0 + np.arange(w + 1) * cell, y=y0 + np.arange(h + 1) * cell, showscale=False,
                      customdata=np.dstack([rows, cols]), name=name,
                      hovertemplate=f"{name}<br>row %{{customdata[0]}}, column %{{customdata[1]}}<br>"
                                    f"{hover_name} %{{z:.4g}}<extra></extra>", **scale)


def _rect(x0, y0, size, shape, r0, c0, r1, c1, colour=WINDOW_COLOUR, width=2.5) -> dict:
    h, w = shape
    cell = size / max(h, w)
    return dict(type="rect", x0=x0 + c0 * cell, x1=x0 + c1 * cell, y0=y0 + r0 * cell, y1=y0 + r1 * cell,
                line=dict(color=colour, width=width))


def _text(x, y, text, size=13, **kw) -> dict:
    return dict(x=x, y=y, text=text, showarrow=False, font=dict(size=size), **kw)


def _signed(*arrays) -> dict:
    lo, hi = signed_limits(*arrays)
    return dict(colorscale="RdBu", zmid=0.0, zmin=lo, zmax=hi)


def _magnitude(a, grey: bool = False) -> dict:
    a = np.asarray(a)
    if a.size and float(a.min()) < 0:
        return _signed(a)
    return dict(colorscale="gray" if grey else "Viridis", zmin=0.0, zmax=max(float(a.max()), 1e-6))


def conv_parts(cc: ConvContributions, channels, cell: tuple[int, int], *, grey_input: bool = False,
               width_px: int = 800) -> go.Figure:
    """Input channels × kernel slices = partial maps; Σ partials + bias = output, for the shown channels."""
    channels = [int(c) for c in channels]
    r, c = cell
    kh, kw = cc.kernel.shape[1:]
    ph, pw = cc.padding
    r0, c0 = r * cc.stride[0] - ph, c * cc.stride[1] - pw   # window in unpadded input cells
    in_scale = _magnitude(cc.input, grey_input)
    k_scale = _signed(cc.kernel[channels])
    p_scale = _signed(cc.partials[channels])
    traces, shapes, notes = [], [], []
    pitch = 1 + PANEL_GAP
    ksize = 0.62
    for j, ch in enumerate(channels):
        x = j * pitch
        traces.append(_panel(cc.input[ch], x, 0, 1, name=f"input channel {ch + 1}", scale=in_scale))
        shapes.append(_rect(x, 0, 1, cc.input.shape[1:], r0, c0, r0 + kh, c0 + kw))
        traces.append(_panel(cc.kernel[ch], x + (1 - ksize) / 2, 1.32, ksize, name=f"kernel slice {ch + 1}",
                             scale=k_scale, hover_name="weight"))
        traces.append(_panel(cc.partials[ch], x, 2.3, 1, name=f"partial map {ch + 1}", scale=p_scale))
        shapes.append(_rect(x, 2.3, 1, cc.output.shape, r, c, r + 1, c + 1))
        notes += [_text(x + 0.5, -0.08, f"channel {ch + 1}", 12, yanchor="bottom"),
                  _text(x + 0.5, 1.16, "∗", 16), _text(x + 0.5, 2.12, "=", 16),
                  _text(x + 0.5, 3.38, f"{fmt(cc.partials[ch, r, c])}", 11, yanchor="top")]
        if j:
            notes.append(_text(x - PANEL_GAP / 2, 2.8, "+", 16))
    n = len(channels)
    hidden = cc.partials.shape[0] - n
    xe = n * pitch - PANEL_GAP
    if hidden:
        notes.append(_text(xe + 0.45, 2.8, f"+ {hidden}<br>more", 11))
        xe += 0.9
    notes.append(_text(xe + 0.55, 2.8, f"+ bias<br>{fmt(cc.bias)}<br>=", 12))
    xo = xe + 1.15
    traces.append(_panel(cc.output, xo, 2.3, 1, name="output map (the model's own)", scale=_signed(cc.output)))
    shapes.append(_rect(xo, 2.3, 1, cc.output.shape, r, c, r + 1, c + 1, width=3))
    notes += [_text(xo + 0.5, 2.22, "output map", 12, yanchor="bottom"),
              _text(xo + 0.5, 3.38, f"{fmt(cc.output[r, c])}", 11, yanchor="top")]
    fig = go.Figure(traces)
    height = int(min(460, max(240, (width_px - 16) / (xo + 1.2) * 4.0 + 16)))  # square cells, little margin
    fig.update_layout(height=height, margin=dict(l=8, r=8, t=8, b=8), shapes=shapes, annotations=notes,
                      plot_bgcolor="rgba(0,0,0,0)", dragmode=False)
    fig.update_xaxes(visible=False, range=[-0.1, xo + 1.1], fixedrange=True, constrain="domain")
    fig.update_yaxes(visible=False, range=[3.65, -0.35], fixedrange=True, scaleanchor="x", constrain="domain")
    return fig


def dense_waterfall(d: DenseNeuron, k: int = 8, input_labels=None, height: int = 320) -> go.Figure:
    """The unit's value built up: its k largest weight × activation terms, the rest, the bias, the total."""
    idx = d.top(k)
    contrib = d.contributions
    rest = float(contrib.sum() - contrib[idx].sum())
    name = (lambda i: str(input_labels[i])) if input_labels is not None else (lambda i: f"input {i + 1}")
    x = [name(i) for i in idx] + ([f"{d.inputs.size - idx.size} others"] if d.inputs.size > idx.size else []) \
        + ["bias", "output"]
    y = list(contrib[idx]) + ([rest] if d.inputs.size > idx.size else []) + [d.bias, d.total]
    text = [f"{fmt(d.weights[i])}·{fmt(d.inputs[i])}" for i in idx] + \
           ([fmt(rest)] if d.inputs.size > idx.size else []) + [fmt(d.bias), fmt(d.total)]
    fig = go.Figure(go.Waterfall(x=x, y=y, measure=["relative"] * (len(y) - 1) + ["total"], text=text,
                                 textposition="outside", cliponaxis=False,
                                 increasing=dict(marker=dict(color="#0072b2")),
                                 decreasing=dict(marker=dict(color="#d55e00")),
                                 totals=dict(marker=dict(color=WINDOW_COLOUR)),
                                 hovertemplate="%{x}<br>adds %{y:.4g}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=8, r=8, t=24, b=8), showlegend=False,
                      yaxis=dict(title="running sum"), xaxis=dict(type="category"))
    return fig
