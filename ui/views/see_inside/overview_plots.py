"""The network overview as one plotly figure: columns of small maps, bars of units, edges, softmax bars.

One heatmap trace per column (so each layer has its own colour scale: grey for the input, Viridis
for values ≥ 0, RdBu centred on 0 for signed ones), placed with explicit cell edges so maps of any
size line up on one grid. Heatmaps are not clickable in plotly, so an invisible scatter point sits
on every map and every unit: it carries the hover text (map number, min, max, mean) and, as
``customdata`` [column key, map or unit], the click that opens the drill-down.
"""
from __future__ import annotations

import functools

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from cnn_core.inference.overview import Column, Overview
from cnn_core.lessons.formatting import unit_name
from ui.views.see_inside.lesson_plots import WINDOW_COLOUR
from ui.views.plots import FastFigure

PITCH = 1.25        # vertical distance between maps (a map is 1 unit tall)
GAP = 0.6           # horizontal room for edges between columns
STRIP = 0.34        # width of a vector column
SOFT_W = 2.9        # width of the softmax column (names + bars)
VEC_PITCH = 1.25    # a vector column and the gap after it
SOFT_NAMES = 0.75   # room for class names before the softmax bars
EDGE = "rgba(140,140,140,{a})"
SELECT = WINDOW_COLOUR  # Okabe-Ito orange: the chosen map and what feeds it


def _fmt(v: float) -> str:
    return f"{v:.3g}".replace("-", "−")


@functools.lru_cache(maxsize=8)
def _colours(name: str) -> tuple:
    # spelled out: the figure skips validation, which is what turns plotly.py's names into colours
    # (plotly.js reads 'RdBu' as its own blue–grey–red scale and does not know 'gray')
    return tuple(tuple(stop) for stop in get_colorscale(name))


def _scale(col: Column) -> dict:
    if col.kind == "input":
        return dict(colorscale=_colours("gray"), zmin=0.0, zmax=max(1.0, col.hi))
    if col.signed:
        return dict(colorscale=_colours("RdBu"), zmid=0.0, zmin=col.lo, zmax=col.hi)
    return dict(colorscale=_colours("Viridis"), zmin=col.lo, zmax=col.hi)


def _width(col: Column) -> float:
    return 1.0 if col.is_maps else (SOFT_W if col.kind == "softmax" else STRIP)


class _Layout:
    """Where every column, map and unit sits (x to the right, y down)."""

    def __init__(self, ov: Overview):
        self.rows = max([len(c.channels) for c in ov.columns if c.is_maps] + [4])
        self.height = self.rows * PITCH - (PITCH - 1)
        self.x = {}
        x = 0.0
        for c in ov.columns:
            self.x[c.key] = x
            x += max(_width(c) + GAP, VEC_PITCH)  # a thin strip still needs room for its title
        self.right = x - GAP

    def map_top(self, col: Column, slot: int) -> float:
        n = len(col.channels)
        offset = (self.height - (n * PITCH - (PITCH - 1))) / 2
        return offset + slot * PITCH

    def unit_y(self, col: Column, unit: float) -> float:
        return self.height * (unit + 0.5) / col.vector.size

    def slot_of(self, col: Column, ch: int) -> int | None:
        hits = np.flatnonzero(col.channels == ch)
        return int(hits[0]) if hits.size else None

    def left(self, col: Column) -> float:
        return self.x[col.key]

    def right_edge(self, col: Column) -> float:
        return self.x[col.key] + _width(col)


def _map_trace(col: Column, lay: _Layout) -> dict:
    n, h, w = col.maps.shape
    z = np.full((n * h + n - 1, w), np.nan, dtype=np.float32)
    ys = []
    for s in range(n):
        z[s * (h + 1): s * (h + 1) + h] = col.maps[s]
        ys.append(lay.map_top(col, s) + np.arange(h + 1) / h)
    x0 = lay.left(col)
    return dict(type="heatmap", z=z, x=x0 + np.arange(w + 1) / w, y=np.concatenate(ys), showscale=False, hoverinfo="skip",
                      **_scale(col))


def _strip_trace(col: Column, lay: _Layout) -> dict:
    v = col.vector.astype(np.float32)
    x0 = lay.left(col)
    return dict(type="heatmap", z=v[:, None], x=[x0, x0 + STRIP], y=np.linspace(0, lay.height, v.size + 1), showscale=False,
                      hoverinfo="skip", **_scale(col))


def _targets(ov: Overview, lay: _Layout) -> dict:
    """One invisible point per map and per unit: hover text and click target."""
    xs, ys, cd, text = [], [], [], []
    for col in ov.columns:
        if col.kind == "softmax":
            continue
        if col.is_maps:
            total = col.shape[0]
            for s, ch in enumerate(col.channels):
                mn, mx, mean = col.stats[s]
                xs.append(lay.left(col) + 0.5)
                ys.append(lay.map_top(col, s) + 0.5)
                cd.append((col.key, int(ch)))
                size = f"{col.shape[1]}×{col.shape[2]}"
                text.append(f"<b>{col.label}</b><br>map {ch + 1} of {total} ({size})<br>min {_fmt(mn)}, "
                            f"max {_fmt(mx)}, mean {_fmt(mean)}<br>click: how it was made")
        else:
            classes = ov.is_classes(col.key)     # the logits: units named by their class (lessons/formatting.py)
            for u, v in enumerate(col.vector):
                xs.append(lay.left(col) + STRIP / 2)
                ys.append(lay.unit_y(col, u))
                cd.append((col.key, u))
                which = (f"logit of {unit_name(u, ov.class_names)}" if classes
                         else f"{unit_name(u)} of {col.vector.size}")
                text.append(f"<b>{col.label}</b><br>{which}: {_fmt(v)}")
    return dict(type="scatter", x=xs, y=ys, mode="markers", customdata=[list(c) for c in cd], hovertext=text,
                      hovertemplate="%{hovertext}<extra></extra>", showlegend=False, name="maps",
                      marker=dict(size=18, symbol="square", color="rgba(0,0,0,0)"),
                      selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1)))


def _softmax(col: Column, names: list[str], lay: _Layout) -> list:
    """Class names, then one bar per class (the most likely in orange), percentages after the bars."""
    p = col.vector
    x0 = lay.left(col) + SOFT_NAMES
    width = SOFT_W - SOFT_NAMES - 0.5
    ys = [lay.unit_y(col, i) for i in range(p.size)]
    best = int(np.argmax(p))
    bars = dict(type="bar", x=np.maximum(p, 0.004) * width, base=x0, y=ys, orientation="h", width=0.7 * lay.height / p.size,
                  marker_color=[SELECT if i == best else "#0072b2" for i in range(p.size)],
                  customdata=[[col.key, i] for i in range(p.size)],
                  hovertext=[f"class {n}: probability {v:.4f}" for n, v in zip(names, p)],
                  hovertemplate="%{hovertext}<extra></extra>", showlegend=False, name="softmax",
                  selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1)))
    labels = dict(type="scatter", x=[x0 - 0.06] * p.size, y=ys, mode="text", text=[str(n)[:10] for n in names],
                        textposition="middle left", textfont=dict(size=11), hoverinfo="skip", showlegend=False)
    pct = dict(type="scatter", x=x0 + np.maximum(p, 0.004) * width + 0.04, y=ys, mode="text",
                     text=[f"{v * 100:.0f}%" if v >= 0.05 else "" for v in p], textposition="middle right",
                     textfont=dict(size=10), hoverinfo="skip", showlegend=False)
    return [bars, labels, pct]


def _anchor(col: Column, lay: _Layout, item: int, side: str) -> tuple[float, float] | None:
    """Where an edge meets a map (its side) or a unit."""
    x = lay.left(col) if side == "in" else lay.right_edge(col)
    if col.is_maps:
        s = lay.slot_of(col, item)
        return None if s is None else (x, lay.map_top(col, s) + 0.5)
    return x, lay.unit_y(col, item)


def _edges(ov: Overview, lay: _Layout) -> list[tuple[tuple, tuple, int, int]]:
    """(from point, to point, from key/item, to key/item) for every edge drawn."""
    out = []
    cols = ov.columns
    for prev, col in zip(cols, cols[1:]):
        pairs = []
        if col.link == "all":
            pairs = [(a, b) for b in col.channels for a in prev.channels]
        elif col.link == "same" and col.is_maps:
            pairs = [(c, c) for c in col.channels if lay.slot_of(prev, c) is not None]
        elif col.link == "flatten":
            per = int(np.prod(prev.shape[1:]))
            for c in prev.channels:
                p0, p1 = _anchor(prev, lay, int(c), "out"), _anchor(col, lay, int(c) * per + per / 2, "in")
                out.append((p0, p1, (prev.key, int(c)), (col.key, int(c) * per)))
            continue
        elif col.link in ("dense", "same"):
            n_in, n_out = prev.vector.size, col.vector.size
            if col.link == "same":
                pairs = [(u, u) for u in range(n_out)] if n_out <= 16 else []
            else:  # a fan from a few inputs to a few units: all-to-all, drawn thinly
                ins = np.unique(np.linspace(0, n_in - 1, min(n_in, 6)).round().astype(int))
                outs = np.unique(np.linspace(0, n_out - 1, min(n_out, 6)).round().astype(int))
                pairs = [(int(a), int(b)) for a in ins for b in outs]
        for a, b in pairs:
            p0, p1 = _anchor(prev, lay, int(a), "out"), _anchor(col, lay, int(b), "in")
            if p0 and p1:
                out.append((p0, p1, (prev.key, int(a)), (col.key, int(b))))
    return out


def _lines(segments, colour: str, width: float, name: str) -> dict:
    xs, ys = [], []
    for (x0, y0), (x1, y1) in segments:
        xs += [x0, x1, None]
        ys += [y0, y1, None]
    return dict(type="scatter", x=xs, y=ys, mode="lines", line=dict(color=colour, width=width), hoverinfo="skip",
                      showlegend=False, name=name)


def overview_figure(ov: Overview, *, selected: tuple[int, int] | None = None,
                    feeds: dict[int, float] | None = None, width_px: int = 840) -> go.Figure:
    """The overview; ``selected`` (column key, map or unit) is outlined, and the edges into it are
    drawn in orange, thicker for inputs with a larger share ``feeds`` {input map or unit: share}."""
    lay = _Layout(ov)
    traces: list = []
    for col in ov.columns:
        if col.kind == "softmax":
            traces += _softmax(col, ov.class_names, lay)
        elif col.is_maps:
            traces.append(_map_trace(col, lay))
        else:
            traces.append(_strip_trace(col, lay))
    edges = _edges(ov, lay)
    into = [e for e in edges if selected is not None and e[3] == tuple(selected)]
    if selected is not None and feeds:  # dense units: the strongest inputs, wherever they sit
        col = ov.column(selected[0])
        prev = ov.previous(selected[0])
        if prev is not None and not prev.is_maps and not col.is_maps:
            into = [(_anchor(prev, lay, u, "out"), _anchor(col, lay, selected[1], "in"), (prev.key, u), tuple(selected))
                    for u in feeds]
    faded = 0.12 if selected is not None else 0.35
    rest = [(e[0], e[1]) for e in edges if e not in into]
    traces.append(_lines(rest, EDGE.format(a=faded), 0.8, "edges"))
    if into:
        share = {e[2][1]: (feeds or {}).get(e[2][1], 1.0) for e in into}
        top = max(share.values()) or 1.0
        for lo_, hi_, w in ((0.0, 0.34, 1.0), (0.34, 0.67, 2.0), (0.67, 1.01, 3.5)):
            seg = [(e[0], e[1]) for e in into if lo_ <= share[e[2][1]] / top < hi_]
            if seg:
                traces.append(_lines(seg, SELECT, w, "feeds"))
    traces.append(_targets(ov, lay))
    shapes, notes = [], []
    for col in ov.columns:
        x0 = lay.left(col)
        notes.append(dict(x=x0 + _width(col) / 2, y=-0.15,
                          text=f"{col.short}<br><span style='font-size:9px'>{'×'.join(map(str, col.shape))}</span>",
                          showarrow=False, yanchor="bottom", font=dict(size=11), hovertext=col.label))
        if col.is_maps and col.hidden:
            bottom = lay.map_top(col, len(col.channels) - 1) + 1
            notes.append(dict(x=x0 + 0.5, y=bottom + 0.08, text=f"+{col.hidden}<br>more", showarrow=False,
                              yanchor="top", font=dict(size=10)))
    if selected is not None:
        col = ov.column(selected[0])
        if col.is_maps:
            s = lay.slot_of(col, selected[1])
            if s is not None:
                y = lay.map_top(col, s)
                shapes.append(dict(type="rect", x0=lay.left(col) - 0.06, x1=lay.left(col) + 1.06, y0=y - 0.06,
                                   y1=y + 1.06, line=dict(color=SELECT, width=3)))
            prev = ov.previous(selected[0])
            if prev is not None and prev.is_maps:
                for e in into:
                    s2 = lay.slot_of(prev, e[2][1])
                    if s2 is not None:
                        y = lay.map_top(prev, s2)
                        shapes.append(dict(type="rect", x0=lay.left(prev) - 0.04, x1=lay.left(prev) + 1.04,
                                           y0=y - 0.04, y1=y + 1.04, line=dict(color=SELECT, width=1.5)))
        elif col.kind != "softmax":
            y = lay.unit_y(col, selected[1])
            shapes.append(dict(type="rect", x0=lay.left(col) - 0.08, x1=lay.left(col) + STRIP + 0.08,
                               y0=y - 0.12, y1=y + 0.12, line=dict(color=SELECT, width=2.5)))
    x_span = lay.right + 0.8
    y_span = lay.height + 2.5
    px = (width_px - 20) / x_span
    height = int(min(520, max(260, y_span * px + 20)))
    axis = dict(visible=False, fixedrange=True, constrain="domain")
    layout = dict(height=height, margin=dict(l=10, r=10, t=10, b=10), shapes=shapes, annotations=notes,
                  plot_bgcolor="rgba(0,0,0,0)", hovermode="closest", dragmode=False, bargap=0,
                  hoverlabel=dict(font_size=12), xaxis=dict(axis, range=[-0.3, lay.right + 0.5]),
                  yaxis=dict(axis, range=[lay.height + 1.2, -1.3], scaleanchor="x"))
    # thousands of hover strings: plotly's per-property validation took most of the build (~0.3 s);
    # the traces are plain dicts of known-good attributes, so the figure is put together unvalidated
    return FastFigure(data=traces, layout=layout, _validate=False)
