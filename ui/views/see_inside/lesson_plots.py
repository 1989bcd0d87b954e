"""Plotly figure builders for the teaching pages (Convolution, Layer Explorer, Softmax, Practice).

Every grid is a heatmap with hover values, rows top-down like an image, square cells. Magnitudes
use colour-blind-safe sequential scales (gray for pixels, Viridis for activations); signed values
(kernels, products, gradients) use RdBu centred on 0.
"""
from __future__ import annotations

import functools

import numpy as np
import plotly.graph_objects as go

from cnn_core.lessons.formatting import fmt
from ui.views import palette
from ui.views.plots import FastFigure, fresh, from_skeleton

Rect = tuple  # (row0, col0, row1, col1, colour[, dash]) in cell units, end-exclusive

WINDOW_COLOUR = palette.ORANGE     # visible on gray, Viridis and RdBu alike
IMAGE_COLOUR = palette.SKY_BLUE    # the unpadded image inside the padding
WINNER_COLOUR = palette.VERMILION

# Viridis with a transparent low end, to lay an attribution over the input image.
_OVERLAY = [[0.0, "rgba(68,1,84,0)"], [0.15, "rgba(59,82,139,0.25)"], [0.4, "rgba(33,145,140,0.55)"],
            [0.7, "rgba(94,201,98,0.75)"], [1.0, "rgba(253,231,37,0.9)"]]


def _ticks(n: int) -> dict:
    """Rows and columns are numbered from 1, like the page's text; every 5th on big grids."""
    step = 1 if n <= 12 else 5
    vals = list(range(0, n, step)) if step == 1 else [0] + list(range(step - 1, n, step))
    return dict(tickmode="array", tickvals=vals, ticktext=[str(v + 1) for v in vals])


@functools.lru_cache(maxsize=256)
def _layout(title: str, height: int, rows: int, cols: int) -> dict:
    """A grid's layout (title, size, numbered square axes, plotly's template), validated once per
    combination and cached as a dict: validating it again for every figure cost about 20 ms."""
    fig = go.Figure(go.Heatmap(z=np.zeros((rows, cols))))
    fig.update_layout(title=dict(text=title, font=dict(size=14)) if title else None, height=height,
                      margin=dict(l=8, r=8, t=36 if title else 8, b=8))
    fig.update_xaxes(showgrid=False, zeroline=False, constrain="domain", **_ticks(cols))
    fig.update_yaxes(showgrid=False, zeroline=False, autorange="reversed", scaleanchor="x", constrain="domain",
                     **_ticks(rows))
    return fig.to_dict()["layout"]


def grid(values, *, title: str = "", colorscale: str | list = "Viridis", zmid: float | None = None,
         zmin: float | None = None, zmax: float | None = None, annotate: bool | None = None, digits: int = 2,
         text=None, rects: list[Rect] = (), height: int = 320, colorbar: bool = False,
         hover_name: str = "value", text_size: int | None = None, marks=None,
         mark_name: str = "winner") -> go.Figure:
    """One grid as a heatmap: hover shows row, column and value; small grids print their values.

    ``text``: per-cell strings printed instead of the values. ``rects``: outlines (window, image area).
    ``marks``: (row, col) cells ringed with an open square (e.g. max-pooling winners).
    Rows and columns are numbered from 1 in ticks and hover.
    """
    z = np.asarray(values, dtype=float)
    rows, cols = z.shape
    if annotate is None:
        annotate = rows * cols <= 100
    if text is None and annotate:
        text = [["" if np.isnan(v) else fmt(v, digits) for v in row] for row in z]
    custom = np.dstack(np.meshgrid(np.arange(cols) + 1, np.arange(rows) + 1))
    hover = f"row %{{customdata[1]}}, column %{{customdata[0]}}<br>{hover_name} %{{z:.4g}}<extra></extra>"
    hm = go.Heatmap(z=z, colorscale=colorscale, zmid=zmid, zmin=zmin, zmax=zmax, customdata=custom,
                    hovertemplate=hover, xgap=1 if cols <= 20 else 0, ygap=1 if rows <= 20 else 0,
                    hoverongaps=False)
    if text is not None:
        hm.update(text=text, texttemplate="%{text}",
                  textfont=dict(size=text_size or (13 if rows * cols <= 30 else 10)))
    if not colorbar:
        hm.update(showscale=False)
    traces = [hm]
    layout = fresh({"layout": _layout(title, height, rows, cols)})["layout"]
    shapes = []  # validated one by one (a layout update per rectangle cost ~40 ms each)
    for r in rects:
        r0, c0, r1, c1, colour = r[:5]
        dash = r[5] if len(r) > 5 else "solid"
        shapes.append(go.layout.Shape(type="rect", x0=c0 - 0.5, x1=c1 - 0.5, y0=r0 - 0.5, y1=r1 - 0.5,
                                      line=dict(color=colour, width=3 if dash == "solid" else 2, dash=dash)
                                      ).to_plotly_json())
    if shapes:
        layout["shapes"] = shapes
    if marks is not None and len(marks):
        m = np.asarray(marks, dtype=int).reshape(-1, 2)
        size = max(6.0, min(22.0, 0.8 * height / max(rows, cols)))
        traces.append(go.Scatter(x=m[:, 1], y=m[:, 0], mode="markers", name=mark_name, showlegend=False,
                                 marker=dict(symbol="square-open", size=size, color=WINNER_COLOUR,
                                             line=dict(width=2.5)),
                                 hovertemplate=f"{mark_name}: row %{{customdata[0]}}, column %{{customdata[1]}}<extra></extra>",
                                 customdata=m + 1))
    # traces validated above, the layout from the cache: the figure itself is not validated again
    return FastFigure(data=traces, layout=layout, _validate=False)


def label_cells(fig: go.Figure, cells, *, hover: str = "{label}", size: int = 16) -> go.Figure:
    """Write a label (e.g. 'X') in grid cells (row, col, label), in the theme's text colour, with its own hover."""
    if cells:
        rows, cols, labels = zip(*cells)
        fig.add_trace(go.Scatter(x=list(cols), y=list(rows), mode="text", text=list(labels), showlegend=False,
                                 textfont=dict(size=size), hoverinfo="text",
                                 hovertext=[hover.format(label=lab) for lab in labels]))
    return fig


def signed_limits(*arrays) -> tuple[float, float]:
    """A symmetric colour range around 0 that covers every array."""
    m = max((float(np.nanmax(np.abs(a))) for a in arrays if np.size(a) and np.isfinite(a).any()), default=1.0)
    m = m or 1.0
    return -m, m


def _scale_key(colorscale):
    return tuple(tuple(stop) for stop in colorscale) if isinstance(colorscale, (list, tuple)) else colorscale


def _mosaic_skeleton(title: str, colorscale, has_zmin: bool, has_zmax: bool, has_zmid: bool, labelled: bool,
                     hover_name: str, height: int) -> go.Figure:
    """mosaic's structure for one set of options, validated once (data as placeholders)."""
    who = "%{customdata[0]}" if labelled else "map %{customdata[0]}"
    scale = [list(stop) for stop in colorscale] if isinstance(colorscale, tuple) else colorscale
    hm = go.Heatmap(z=[[0.0]], colorscale=scale, zmin=0.0 if has_zmin else None, zmax=1.0 if has_zmax else None,
                    zmid=0.0 if has_zmid else None, customdata=[[[0, 0, 0]]],
                    hovertemplate=f"{who}<br>row %{{customdata[1]}}, column %{{customdata[2]}}"
                                  f"<br>{hover_name} %{{z:.4g}}<extra></extra>", hoverongaps=False,
                    colorbar=dict(thickness=12, len=0.9))
    fig = go.Figure(hm)
    fig.update_layout(title=dict(text=title, font=dict(size=14)) if title else None, height=height,
                      margin=dict(l=8, r=8, t=36 if title else 8, b=8),
                      plot_bgcolor="rgba(0,0,0,0)")
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    return fig


def mosaic(maps, *, title: str = "", colorscale: str = "Viridis", zmin=None, zmax=None, zmid=None,
           cols: int | None = None, height: int | None = None, labels: list[str] | None = None,
           hover_name: str = "value") -> go.Figure:
    """Many equal-size maps (N, H, W) tiled in one heatmap with one shared colour scale.

    One trace keeps 128 maps fast; hover names the map (``labels``), row, column and value. The
    structure comes from a validated skeleton (``plots.from_skeleton``), the maps are put in
    unvalidated.
    """
    a = np.asarray(maps, dtype=float)
    n, h, w = a.shape
    cols = cols or int(min(n, max(4, np.ceil(np.sqrt(n * 1.6)))))
    rows = int(np.ceil(n / cols))
    gap = 1
    big = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan)
    idx = np.full(big.shape, -1, dtype=int)
    rr = np.full(big.shape, -1, dtype=int)
    cc = np.full(big.shape, -1, dtype=int)
    for i in range(n):
        r0, c0 = (i // cols) * (h + gap), (i % cols) * (w + gap)
        big[r0:r0 + h, c0:c0 + w] = a[i]
        idx[r0:r0 + h, c0:c0 + w] = i
        rr[r0:r0 + h, c0:c0 + w] = np.arange(1, h + 1)[:, None]
        cc[r0:r0 + h, c0:c0 + w] = np.arange(1, w + 1)[None, :]
    if labels is None:
        # small numbers only, and float32 values: plotly ships both as packed binary (the first layer's
        # 32 maps of 28×28 went from 760 kB of JSON to about 250 kB)
        custom = np.dstack([idx + 1, rr, cc]).astype(np.uint8 if max(n, h, w) < 255 else np.int32)
    else:
        custom = np.dstack([np.asarray(list(labels) + [""], dtype=object)[idx], rr, cc])
    if height is None:
        height = int(min(900, max(180, 40 + rows * 520 / max(cols, 1) * (h / w))))
    spec = from_skeleton(_mosaic_skeleton, title, _scale_key(colorscale), zmin is not None, zmax is not None,
                         zmid is not None, labels is not None, hover_name, int(height))
    trace = spec["data"][0]
    trace.update(z=big.astype(np.float32), customdata=custom)
    trace.update({k: float(v) for k, v in (("zmin", zmin), ("zmax", zmax), ("zmid", zmid)) if v is not None})
    return FastFigure(spec, _validate=False)


def _bars_skeleton(names: tuple[str, ...], title: str, height: int, value_name: str, positive: bool) -> go.Figure:
    fig = go.Figure(go.Bar(x=list(names), y=[0.0] * len(names), marker_color=[palette.BLUE] * len(names),
                           text=[""] * len(names), textposition="outside", cliponaxis=False,
                           hovertemplate=f"%{{x}}<br>{value_name} %{{y:.4f}}<extra></extra>"))
    fig.update_layout(title=dict(text=title, font=dict(size=14)) if title else None, height=height,
                      margin=dict(l=8, r=8, t=36 if title else 16, b=8), yaxis=dict(title=value_name),
                      xaxis=dict(type="category", tickmode="array", tickvals=list(names)))
    if positive:
        fig.update_yaxes(range=[0, 1])
    return fig


def prob_bars(probs, class_names, *, title: str = "", highlight: int | None = None, height: int = 300,
              value_name: str = "probability", digits: int = 3) -> go.Figure:
    """Probabilities (or any per-class values) as labelled bars; ``highlight`` in a second colour."""
    p = np.asarray(probs, dtype=float)
    names = tuple(str(c) for c in class_names)
    positive = bool(p.size and p.min() >= 0)
    spec = from_skeleton(_bars_skeleton, names, title, int(height), value_name, positive)
    bar = spec["data"][0]
    bar.update(y=p, text=[f"{v:.{digits}f}" for v in p])
    bar["marker"]["color"] = [WINNER_COLOUR if i == highlight else palette.BLUE for i in range(p.size)]
    if positive:
        top = float(p.max()) if p.size else 1.0
        spec["layout"]["yaxis"]["range"] = [0, max(top * 1.18, 1e-9)]
    return FastFigure(spec, _validate=False)


def _vector_skeleton(title: str, height: int, name: str, what: str, categorical: bool, wide: bool) -> go.Figure:
    fig = go.Figure(go.Bar(x=[0], y=[0.0], marker_color=[palette.BLUE], marker_line_width=0,
                           hovertemplate=f"{what} %{{x}}<br>{name} %{{y:.4g}}<extra></extra>"))
    fig.update_layout(title=dict(text=title, font=dict(size=14)) if title else None, height=height,
                      margin=dict(l=8, r=8, t=36 if title else 8, b=8), bargap=0 if wide else 0.15,
                      xaxis=dict(title=what, type="category" if categorical else "linear"),
                      yaxis=dict(title=name))
    return fig


def vector(values, *, title: str = "", height: int = 220, name: str = "activation",
           labels: list[str] | None = None) -> go.Figure:
    """A 1-D activation vector (flattened or dense) as bars: unit number (or ``labels``) on x."""
    v = np.asarray(values, dtype=float).ravel()
    colours = np.where(v >= 0, palette.BLUE, WINNER_COLOUR)
    x = [str(c) for c in labels] if labels is not None else np.arange(1, v.size + 1)
    what = "class" if labels is not None else "unit"
    spec = from_skeleton(_vector_skeleton, title, int(height), name, what, labels is not None, v.size > 100)
    bar = spec["data"][0]
    bar.update(x=x, y=v)
    bar["marker"]["color"] = colours
    return FastFigure(spec, _validate=False)


def _overlay_skeleton(title: str, height: int, name: str) -> go.Figure:
    fig = go.Figure([
        go.Heatmap(z=[[0.0]], colorscale="gray", showscale=False, hoverinfo="skip"),
        go.Heatmap(z=[[0.0]], colorscale=_OVERLAY, zmin=0, zmax=1, customdata=[[[0, 0, 0]]],
                   colorbar=dict(title=dict(text="relative"), thickness=12),
                   hovertemplate=f"row %{{customdata[1]}}, column %{{customdata[2]}}<br>{name} %{{customdata[0]:.3g}} "
                                 "(%{z:.0%} of max)<extra></extra>"),
    ])
    fig.update_layout(title=dict(text=title, font=dict(size=14)) if title else None, height=height,
                      margin=dict(l=8, r=8, t=36 if title else 8, b=8))
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    return fig


def overlay(image, attribution, *, title: str = "", height: int = 320, name: str = "attribution") -> go.Figure:
    """The input in grey with an attribution map on top (transparent where it is low)."""
    img = np.asarray(image, dtype=float)
    att = np.asarray(attribution, dtype=float)
    top = float(att.max()) or 1.0
    spec = from_skeleton(_overlay_skeleton, title, int(height), name)
    spec["data"][0]["z"] = img
    spec["data"][1].update(z=att / top, customdata=np.dstack(
        [att, *np.meshgrid(np.arange(att.shape[0]) + 1, np.arange(att.shape[1]) + 1, indexing="ij")]))
    return FastFigure(spec, _validate=False)
