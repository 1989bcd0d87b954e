"""Shared plotly figure builders: images as heatmaps with hover values, probability bars.

Colour-blind-safe by default: grey for pixel images (black = 0, white = 1, as the model sees
them), 'Viridis' for other magnitudes, 'RdBu' centred on 0 (zmid=0) for signed values. Charts
use Streamlit's theme, so they read in light and dark mode. Teaching-page grids with windows
and annotations live in ui/views/see_inside/lesson_plots.py.

Figures are built from a validated skeleton cached per shape and options, with the data put in
without plotly's validation again (10× faster, the same JSON).
"""
from __future__ import annotations

import copy
import functools

import numpy as np
import plotly.graph_objects as go

from ui.views import palette

HIGHLIGHT = palette.BLUE   # the predicted / chosen class
MUTED = palette.MUTED


def _containers(obj, skip: str | None = None):
    """A copy of the dicts and lists in ``obj``; the values in them (arrays, strings, numbers) are
    shared, and so is the subtree under the key ``skip``."""
    if isinstance(obj, dict):
        return {k: v if k == skip else _containers(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_containers(v) for v in obj]
    return obj


class FastFigure(go.Figure):
    """A plotly Figure whose ``to_dict`` (what ``st.plotly_chart`` calls on every chart) copies only
    the dicts and lists, not every value in them, and leaves plotly's template (about 10 KB of
    nested dicts, never changed here) shared: ``copy.deepcopy`` of the whole figure was a tenth of
    a page's run. Arrays are never changed in place by ``to_dict``'s base64 packing (it replaces
    them in the copied containers), so the figure itself is left as it was."""

    def to_dict(self):
        from _plotly_utils.utils import convert_to_base64

        res = {"data": _containers(self._data), "layout": _containers(self._layout, skip="template")}
        frames = _containers([frame._props for frame in self._frame_objs])
        if frames:
            res["frames"] = frames
        convert_to_base64(res)
        return res


def _unvalidated(spec: dict) -> go.Figure:
    """A figure from a spec that plotly already validated once (a cached skeleton with new data):
    plotly's per-property validation cost 20-40 ms per figure, most of a Draw page stroke's run."""
    return FastFigure(spec, _validate=False)


def fresh(skeleton: dict) -> dict:
    """A copy of a cached figure dict that the caller may change, sharing only plotly's default
    template (large, and never changed in place here): copying it too cost ~10 ms per figure."""
    layout = skeleton.get("layout", {})
    template = layout.get("template")
    spec = copy.deepcopy({**skeleton, "layout": {k: v for k, v in layout.items() if k != "template"}})
    if template is not None:
        spec["layout"]["template"] = template
    return spec


@functools.lru_cache(maxsize=512)
def _built(builder, key: tuple) -> dict:
    return builder(*key).to_dict()


def from_skeleton(builder, *key) -> dict:
    """A fresh, changeable copy of the validated figure dict ``builder(*key)`` returns, built once
    per ``key`` (hashable options: the figure's structure). The caller puts its data in (every
    array the builder left as a placeholder) and returns ``_unvalidated(spec)``; tests compare the
    result with plotly's validating constructor."""
    return fresh(_built(builder, key))


def heatmap(img: np.ndarray, *, title: str = "", colorscale: str = "gray", zmin: float | None = 0.0,
            zmax: float | None = 1.0, signed: bool = False, height: int = 340, value_name: str = "value",
            decimals: int = 2, colorbar: bool = True) -> go.Figure:
    """An H×W array as square cells, row 1 at the top, with row / column / value on hover.

    ``signed=True`` switches to 'RdBu' centred on 0 with symmetric limits (kernels, gradients).
    """
    a = np.asarray(img, dtype=float)
    if a.ndim != 2:
        raise ValueError(f"heatmap needs a 2-D array, got shape {a.shape}")
    spec = fresh(_heatmap_skeleton(a.shape, title, colorscale, zmin, zmax, signed, height, value_name, decimals,
                                   colorbar))
    spec["data"][0]["z"] = a
    if signed:
        m = float(np.abs(a).max()) or 1.0
        spec["data"][0].update(zmin=-m, zmax=m)
    return _unvalidated(spec)


@functools.lru_cache(maxsize=256)
def _heatmap_skeleton(shape, title, colorscale, zmin, zmax, signed, height, value_name, decimals, colorbar) -> dict:
    """The validated heatmap figure for one shape and set of options, as a dict; z is filled per call."""
    h, w = shape
    kw: dict = {"colorscale": colorscale, "zmin": zmin, "zmax": zmax}
    if signed:
        kw = {"colorscale": "RdBu", "zmid": 0.0, "zmin": -1.0, "zmax": 1.0}
    fig = go.Figure(go.Heatmap(
        z=np.zeros(shape), x=np.arange(1, w + 1), y=np.arange(1, h + 1), showscale=colorbar, xgap=0, ygap=0,
        hovertemplate=f"row %{{y}}, column %{{x}}<br>{value_name} %{{z:.{decimals}f}}<extra></extra>",
        colorbar=dict(thickness=12, len=0.9), **kw))
    fig.update_layout(height=height, margin=dict(l=6, r=6, t=34 if title else 6, b=6),
                      title=dict(text=title, font=dict(size=14)) if title else None)
    step = 1 if max(h, w) <= 12 else 7
    fig.update_xaxes(showgrid=False, zeroline=False, constrain="domain", side="top",
                     tickmode="array", tickvals=list(range(1, w + 1, step)))
    fig.update_yaxes(showgrid=False, zeroline=False, autorange="reversed", scaleanchor="x", constrain="domain",
                     tickmode="array", tickvals=list(range(1, h + 1, step)))
    spec = fig.to_dict()
    # to_dict packs arrays as base64 ("bdata"); put plain arrays back so fig.data[0].x reads as before
    spec["data"][0].update(x=np.arange(1, w + 1), y=np.arange(1, h + 1))
    del spec["data"][0]["z"]
    assert "bdata" not in repr(spec), "a packed array left in the heatmap skeleton"
    return spec


def prob_bars(probs, class_names, *, title: str = "", height: int = 300, highlight: int | None = None) -> go.Figure:
    """Softmax probabilities as bars, the most likely class (or ``highlight``) in blue, percentages on top
    (of bars of 10 % or more, so neighbouring small ones do not collide); hover gives every exact value."""
    p = np.asarray(probs, dtype=float)
    names = tuple(str(c) for c in class_names)
    if len(names) != len(p):
        raise ValueError(f"{len(p)} probabilities but {len(names)} class names")
    best = int(np.argmax(p)) if highlight is None else int(highlight)
    spec = fresh(_bars_skeleton(names, title, height))
    bar = spec["data"][0]
    bar.update(y=p, text=[f"{v * 100:.1f} %" if v >= 0.1 else "" for v in p])
    bar["marker"]["color"] = [HIGHLIGHT if i == best else MUTED for i in range(len(p))]
    return _unvalidated(spec)


@functools.lru_cache(maxsize=64)
def _bars_skeleton(names: tuple[str, ...], title: str, height: int) -> dict:
    """The validated bar chart for these classes and options, as a dict; bars, colours and labels per call."""
    fig = go.Figure(go.Bar(
        x=list(names), y=np.zeros(len(names)), marker_color=[MUTED] * len(names), text=[""] * len(names),
        textposition="outside", cliponaxis=False, textfont=dict(size=12), constraintext="none",
        hovertemplate="class %{x}<br>probability %{y:.4f}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=6, r=22, t=34 if title else 18, b=6), showlegend=False,
                      title=dict(text=title, font=dict(size=14)) if title else None)
    # every class named under its bar: plotly thins category ticks on a narrow chart otherwise
    fig.update_xaxes(type="category", title=None, tickmode="array", tickvals=list(names), ticktext=list(names))
    # no "100%" tick: the label of a bar near 100 % sits at that height and they overlapped
    fig.update_yaxes(range=[0, 1.12], tickformat=".0%", title="probability", tickmode="array",
                     tickvals=[0, 0.25, 0.5, 0.75])
    spec = fig.to_dict()
    del spec["data"][0]["y"], spec["data"][0]["text"]
    assert "bdata" not in repr(spec), "a packed array left in the bar chart skeleton"
    return spec
