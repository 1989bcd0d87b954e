"""The learning timeline's figures (issue 12): plain functions, timeline → plotly Figure, so tests
can call them. ``point_figure`` shows the first layer's kernels, their maps on the probe and its
class probabilities at one recorded point (with ``animate``, a frame per point, a slider and Play:
scrubbing happens in the browser); ``gradient_figure`` the weight-gradient norms or update ratios
of every layer. While a run trains they are redrawn every two seconds, so both come from skeletons
validated once (``plots.from_skeleton``) with the pictures put in unvalidated.
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnn_core.training.recorder import Timeline
from ui.views import palette, plots

# Okabe–Ito (colour-blind safe), one per run or layer.
COLOURS = [palette.BLUE, palette.ORANGE, palette.GREEN, palette.VERMILION, "#CC79A7", palette.SKY_BLUE, "#F0E442",
           palette.GREY]
DIVERGING = palette.SIGNED_SCALE     # as on every page: red negative, white 0, blue positive (zmid=0)
ANIMATED_MAPS = 8                    # feature maps per frame in the animated figure (bytes sent once)


# ---------------------------------------------------------------------------------------------
# mosaics: many small images in one heatmap (one trace per frame instead of one per kernel)


def mosaic(images: np.ndarray, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """(z, index) for (K, h, w) images laid out ``cols`` per row with a 1-cell NaN gap; ``index``
    holds [k, row, col] of every cell (−1 in the gaps) for the hover text."""
    k, h, w = images.shape
    rows = max(1, math.ceil(k / cols))
    z = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan, dtype=np.float32)
    idx = np.full(z.shape + (3,), -1, dtype=np.int16)
    rr, cc = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    for i in range(k):
        r0, c0 = (i // cols) * (h + 1), (i % cols) * (w + 1)
        z[r0:r0 + h, c0:c0 + w] = images[i]
        idx[r0:r0 + h, c0:c0 + w] = np.stack([np.full_like(rr, i + 1), rr, cc], axis=-1)
    return z, idx


def _kernel_images(tl: Timeline, i: int) -> np.ndarray:
    return tl.points[i].kernels[:, 0].astype(np.float32)          # input channel 1 (the only one for grey)


def _map_images(tl: Timeline, i: int, n: int | None = None) -> np.ndarray:
    return tl.points[i].maps[:n].astype(np.float32)


def _limit(values) -> float:
    """A symmetric colour range for signed values: the 99.5th percentile of |v| (never 0)."""
    v = np.abs(np.concatenate([np.ravel(a) for a in values]))
    v = v[np.isfinite(v)]
    return float(np.percentile(v, 99.5)) if v.size and np.percentile(v, 99.5) > 0 else 1.0


def _title(tl: Timeline, i: int) -> str:
    p = tl.points[i]
    top = int(np.argmax(p.probs))
    when = "initial weights" if p.step == 0 else f"step {p.step:,} (epoch {p.epoch:.2f}{', end' if p.epoch_end else ''})"
    return f"{when} · the probe is predicted <b>{tl.header.class_names[top]}</b> (p = {p.probs[top]:.2f})"


def _point_skeleton(kernels_shown: int, kernels_total: int, maps_shown: int, names: tuple[str, ...],
                    animate: bool) -> go.Figure:
    """point_figure's structure for one network and probe, validated once (data as placeholders)."""
    fig = make_subplots(rows=1, cols=3, column_widths=[0.34, 0.36, 0.30], horizontal_spacing=0.09,
                        subplot_titles=(f"first-layer kernels ({kernels_shown} of {kernels_total})",
                                        f"their feature maps on the probe ({maps_shown} shown)",
                                        "probe: class probabilities"))
    fig.add_trace(go.Heatmap(z=[[0.0]], customdata=[[[0, 0, 0]]], zmid=0, zmin=-1, zmax=1, colorscale=DIVERGING,
                             colorbar=dict(x=_right(fig, 1), len=0.8, thickness=10, title=dict(text="weight", side="right")),
                             hovertemplate="kernel %{customdata[0]}, row %{customdata[1]}, col %{customdata[2]}: "
                                           "%{z:.4f}<extra></extra>", hoverongaps=False, name="kernels"), 1, 1)
    fig.add_trace(go.Heatmap(z=[[0.0]], customdata=[[[0, 0, 0]]], zmid=0, zmin=-1, zmax=1, colorscale=DIVERGING,
                             colorbar=dict(x=_right(fig, 2), len=0.8, thickness=10, title=dict(text="output", side="right")),
                             hovertemplate="map %{customdata[0]}, y %{customdata[1]}, x %{customdata[2]}: "
                                           "%{z:.3f}<extra></extra>", hoverongaps=False, name="maps"), 1, 2)
    fig.add_trace(go.Bar(x=list(names), y=[0.0] * len(names), marker_color=[palette.MUTED] * len(names),
                         name="probabilities", hovertemplate="class %{x}: p = %{y:.3f}<extra></extra>"), 1, 3)
    for col in (1, 2):
        fig.update_xaxes(visible=False, constrain="domain", row=1, col=col)
        fig.update_yaxes(visible=False, autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}",
                         constrain="domain", row=1, col=col)
    # The probability axis reads on the right: on the left its tick labels collided with the feature maps'
    # colour bar, which sits in the gap between the two plots.
    fig.update_yaxes(range=[0, 1], tickformat=".0%", side="right", row=1, col=3)
    fig.update_xaxes(type="category", row=1, col=3)
    fig.update_layout(height=380 if animate else 330, margin=dict(l=10, r=44, t=70, b=10), showlegend=False,
                      title=dict(text="", x=0, font=dict(size=14)))
    return fig


def point_figure(tl: Timeline, i: int | None = None, animate: bool = False) -> go.Figure:
    """Kernels, the probe's feature maps and its probabilities at point ``i`` (default: the newest);
    with ``animate``, a frame per point plus a slider and Play button, starting at point ``i``.

    Redrawn every two seconds while a run trains: the structure comes from a validated skeleton
    (``plots.from_skeleton``) and the pictures are put in without validating them again."""
    n = len(tl.points)
    i = n - 1 if i is None else int(i)
    n_maps = ANIMATED_MAPS if animate else None
    # The same grid for both: kernel j sits where its map j sits.
    k_cols = m_cols = min(4, max(1, tl.points[0].kernels.shape[0]))
    frames_k = [_kernel_images(tl, j) for j in range(n)] if animate else [_kernel_images(tl, i)]
    frames_m = [_map_images(tl, j, n_maps) for j in range(n)] if animate else [_map_images(tl, i)]
    k_lim, m_lim = _limit(frames_k), _limit(frames_m)
    kz, kidx = mosaic(_kernel_images(tl, i), k_cols)
    mz, midx = mosaic(_map_images(tl, i, n_maps), m_cols)
    names = tuple(str(c) for c in tl.header.class_names)
    spec = plots.from_skeleton(_point_skeleton, int(tl.points[0].kernels.shape[0]), int(tl.header.kernels_total),
                               int(midx[..., 0].max()), names, bool(animate))
    kernels, maps, bars = spec["data"]
    kernels.update(z=kz, customdata=kidx, zmin=-k_lim, zmax=k_lim)
    maps.update(z=mz, customdata=midx, zmin=-m_lim, zmax=m_lim)
    bars.update(y=tl.points[i].probs)
    bars["marker"]["color"] = _bar_colours(tl, i)
    spec["layout"]["title"]["text"] = _title(tl, i)
    fig = plots._unvalidated(spec)
    if animate:
        _animate(fig, tl, frames_k, frames_m, k_cols, m_cols, i)
    return fig


def _right(fig: go.Figure, col: int) -> float:
    """Where subplot ``col``'s colour bar goes: just right of its domain, in the gap before the next."""
    return fig.layout["xaxis" if col == 1 else f"xaxis{col}"].domain[1] + 0.005


def _bar_colours(tl: Timeline, i: int) -> list[str]:
    top = int(np.argmax(tl.points[i].probs))
    return [palette.BLUE if c == top else palette.MUTED for c in range(len(tl.header.class_names))]


def _animate(fig: go.Figure, tl: Timeline, frames_k, frames_m, k_cols: int, m_cols: int, start: int) -> None:
    frames, steps = [], []
    for j, p in enumerate(tl.points):
        name = str(j)
        frames.append(go.Frame(name=name, traces=[0, 1, 2], layout=dict(title=dict(text=_title(tl, j))),
                               data=[go.Heatmap(z=mosaic(frames_k[j], k_cols)[0]),
                                     go.Heatmap(z=mosaic(frames_m[j], m_cols)[0]),
                                     go.Bar(y=p.probs, marker_color=_bar_colours(tl, j))]))
        steps.append(dict(method="animate", label=f"{p.step:,}",
                          args=[[name], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                             transition=dict(duration=0))]))
    fig.frames = frames
    fig.update_layout(
        sliders=[dict(active=start, steps=steps, x=0.17, len=0.83, y=-0.02, yanchor="top", pad=dict(t=10),
                      currentvalue=dict(prefix="step ", font=dict(size=13)), font=dict(size=9),
                      minorticklen=0, ticklen=3)],
        updatemenus=[dict(type="buttons", direction="left", x=0, y=-0.02, xanchor="left", yanchor="top",
                          pad=dict(t=28, r=6), showactive=False,
                          buttons=[dict(label="▶ Play", method="animate",
                                        args=[None, dict(frame=dict(duration=350, redraw=True), fromcurrent=True,
                                                         transition=dict(duration=0), mode="immediate")]),
                                   dict(label="❚❚", method="animate",
                                        args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate")])])])
    fig.update_layout(height=470, margin=dict(l=10, r=10, t=70, b=90))


def _gradient_skeleton(layers: tuple[str, ...], ratio: bool, marked: bool) -> go.Figure:
    fig = go.Figure()
    for j, name in enumerate(layers):
        fig.add_trace(go.Scatter(x=[0], y=[1.0], name=name, mode="lines+markers",
                                 line=dict(color=COLOURS[j % len(COLOURS)], width=2), marker=dict(size=5),
                                 hovertemplate=f"{name}, step %{{x}}: %{{y:.3g}}<extra></extra>"))
    if marked:
        fig.add_vline(x=0, line=dict(color="#999999", dash="dot"))
    fig.update_xaxes(title="step", rangemode="tozero")
    fig.update_yaxes(type="log", title="‖ΔW‖ / ‖W‖ (one step)" if ratio else "‖∂L/∂W‖", exponentformat="power", dtick="D2")
    title = "Update size relative to the weights" if ratio else "Weight-gradient norm per layer (log scale)"
    fig.update_layout(title=dict(text=title, x=0, font=dict(size=15)), height=320,
                      margin=dict(l=10, r=10, t=40, b=10), hovermode="x unified",
                      legend=dict(orientation="h", yanchor="top", y=-0.25, xanchor="left", x=0))
    return fig


def gradient_figure(tl: Timeline, ratio: bool = False, marker_step: int | None = None) -> go.Figure:
    """‖∂L/∂W‖ (or ‖ΔW‖/‖W‖) of every conv and dense layer at every recorded step, log scale."""
    values = tl.update_ratios() if ratio else tl.grad_norms()
    steps = tl.steps
    spec = plots.from_skeleton(_gradient_skeleton, tuple(tl.header.layers), bool(ratio), marker_step is not None)
    for j, trace in enumerate(spec["data"]):
        ok = np.isfinite(values[:, j]) & (values[:, j] > 0)
        trace.update(x=steps[ok], y=values[ok, j])
    if marker_step is not None:
        spec["layout"]["shapes"][0].update(x0=marker_step, x1=marker_step)
    return plots._unvalidated(spec)
