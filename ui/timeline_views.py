"""The Train page's learning timeline and run comparison (issue 12, "Watch it learn").

Figure builders are plain functions (timeline / snapshots → plotly Figure) so tests can call
them. After a run, ``point_figure(animate=True)`` is one plotly figure with a frame per recorded point, its
own slider and Play button: scrubbing and playing happen in the browser, nothing reruns on the
server. While a run trains, a 2-second fragment shows one point at a time (a Streamlit slider that
follows the newest point), which keeps what is sent each tick small.
"""
from __future__ import annotations

import math
import threading

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from cnn_core.training import compare, registry, smooth
from cnn_core.training.recorder import Timeline, timeline
from ui import palette, plots

HISTORY_KEY = "train_run_history"     # ids of the runs this session started, oldest first
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
    fig.update_yaxes(range=[0, 1], tickformat=".0%", row=1, col=3)
    fig.update_xaxes(type="category", row=1, col=3)
    fig.update_layout(height=380 if animate else 330, margin=dict(l=10, r=10, t=70, b=10), showlegend=False,
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


# ---------------------------------------------------------------------------------------------
# the timeline section of the Train page

CAPTION = ("The probe is **{src}**. Kernels and maps share one colour scale centred on 0 (red negative, blue "
           "positive); hover for values. At first the kernels are random noise; as the network learns, many turn "
           "into edge and stroke detectors (a row of blue beside a row of red), and their maps light up along the "
           "strokes of the probe. The gradient plot shows how strongly each layer is being pushed: sigmoid networks "
           "(document 004) get gradients in their first layer far smaller than in the dense layers (each sigmoid "
           "multiplies the gradient by at most 0.25), ReLU networks much less so.")


def _intro(tl: Timeline) -> None:
    c1, c2 = st.columns([1, 9], vertical_alignment="center")
    img = np.clip(tl.header.probe.astype(np.float32), 0, 1)
    c1.image(np.repeat(np.repeat(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0), 3, 0), 3, 1),
             caption="probe", clamp=True)
    extra = " Only the first input channel of each kernel is shown." if img.shape[0] > 1 else ""
    c2.caption(CAPTION.format(src=tl.header.probe_source) + extra)


def _gradients(tl: Timeline, key: str, marker_step: int | None = None) -> None:
    c1, c2 = st.columns(2)
    c1.plotly_chart(gradient_figure(tl, marker_step=marker_step), key=f"tl_grad_{key}", width="stretch")
    c2.plotly_chart(gradient_figure(tl, ratio=True, marker_step=marker_step), key=f"tl_ratio_{key}", width="stretch")


@st.fragment(run_every="2s")
def _live_timeline(run_id: str) -> None:
    run = registry().get(run_id)
    snap = run.snapshot() if run is not None else None
    if snap is None or snap.ended:
        st.rerun()
        return
    tl = timeline(snap.extra)
    if tl is None or not len(tl):
        st.caption("The timeline's first picture is taken before the first step…")
        return
    _intro(tl)
    key, newest = f"tl_live_{run_id}", len(tl) - 1
    # Follow the newest point unless the learner has moved the slider back.
    if st.session_state.get(key) is None or st.session_state.get(key + "_max") == st.session_state.get(key):
        st.session_state[key] = newest
    st.session_state[key + "_max"] = newest
    i = st.select_slider("recorded point (follows the newest while it trains; Play opens when the run ends)",
                         options=list(range(len(tl))), key=key,
                         format_func=lambda j: f"step {tl.points[j].step:,}")
    st.plotly_chart(point_figure(tl, i), key=f"tl_point_live_{run_id}", width="stretch")
    _gradients(tl, "live", tl.points[i].step)


_ANIMATED: dict[tuple[str, int], go.Figure] = {}     # (run id, points) → figure, newest last
_ANIMATED_KEEP = 8
_ANIMATED_LOCK = threading.Lock()


def _animated(run_id: str, tl: Timeline) -> go.Figure:
    """The ended run's animated figure (about 2 MB, 0.1 s to build), built once per server for all
    the sessions that show it: an ended run's timeline never changes. Figures are only read."""
    key = (run_id, len(tl))
    with _ANIMATED_LOCK:
        fig = _ANIMATED.pop(key, None)
    if fig is None:
        fig = point_figure(tl, len(tl) - 1, animate=True)
    with _ANIMATED_LOCK:
        _ANIMATED[key] = fig
        while len(_ANIMATED) > _ANIMATED_KEEP:
            _ANIMATED.pop(next(iter(_ANIMATED)))
    return fig


def timeline_section(run_id: str | None) -> None:
    """The learning timeline of a run: live while it trains, with a slider and Play once it ends."""
    run = registry().get(run_id)
    if run is None:
        return
    st.subheader("Watch it learn")
    snap = run.snapshot()
    if not snap.ended:
        _live_timeline(run.id)
        return
    tl = timeline(snap.extra)
    if tl is None or not len(tl):
        st.caption("This run recorded no timeline.")
        return
    _intro(tl)
    st.plotly_chart(_animated(run.id, tl), key=f"tl_anim_{run.id}", width="stretch")
    st.caption(f"{len(tl)} recorded points: before the first step, about 50 evenly spaced steps and every epoch end "
               f"(at most 64 in all; about {tl.nbytes / 2 ** 20:.1f} MB kept with the run). Press ▶ Play or drag "
               "the slider.")
    _gradients(tl, "ended")


# ---------------------------------------------------------------------------------------------
# comparing runs of this session


def remember_run(run_id: str) -> None:
    """Add a run this session started to the ones it can compare."""
    history = st.session_state.setdefault(HISTORY_KEY, [])
    if run_id not in history:
        history.append(run_id)


def compare_figures(snaps: list, labels: list[str]) -> tuple[go.Figure, go.Figure]:
    """Smoothed training loss against epochs, and validation accuracy per epoch, one colour per run."""
    loss, acc = go.Figure(), go.Figure()
    for n, (s, label) in enumerate(zip(snaps, labels)):
        colour = COLOURS[n % len(COLOURS)]
        y = np.asarray(s.step_loss, dtype=float)
        if len(y):
            per = max(1, s.total_steps // max(1, s.epochs))
            x = np.arange(1, len(y) + 1) / per
            loss.add_trace(go.Scatter(x=x, y=smooth(y), name=label, mode="lines", line=dict(color=colour, width=2),
                                      hovertemplate=f"{label}<br>epoch %{{x:.2f}}: %{{y:.4f}}<extra></extra>"))
        rows = [r for r in s.epochs_log if r.get("val_acc") is not None]
        acc.add_trace(go.Scatter(x=[r["epoch"] for r in rows], y=[r["val_acc"] for r in rows], name=label,
                                 mode="lines+markers", line=dict(color=colour, width=2),
                                 hovertemplate=f"{label}<br>epoch %{{x}}: %{{y:.2%}}<extra></extra>"))
    loss.update_xaxes(title="epoch")
    loss.update_yaxes(title="training loss (smoothed)", rangemode="tozero")
    acc.update_xaxes(title="epoch", dtick=1 if max((s.epochs for s in snaps), default=1) <= 20 else None)
    acc.update_yaxes(title="validation accuracy", tickformat=".0%")
    for fig, title in ((loss, "Loss of the runs compared"), (acc, "Validation accuracy of the runs compared")):
        fig.update_layout(title=dict(text=title, x=0, font=dict(size=15)), height=340, hovermode="closest",
                          margin=dict(l=10, r=10, t=40, b=10),
                          legend=dict(orientation="h", yanchor="top", y=-0.3, xanchor="left", x=0))
    return loss, acc


def compare_gradients_figure(snaps: list, labels: list[str]) -> go.Figure:
    """‖∂L/∂W‖ of the first (solid) and last (dotted) layer of each run against epochs, log scale:
    the gap between the two lines is how much the gradient shrinks on its way back."""
    fig = go.Figure()
    for n, (s, label) in enumerate(zip(snaps, labels)):
        tl = timeline(s.extra)
        if tl is None or len(tl) < 2 or not tl.header.layers:
            continue
        g, x = tl.grad_norms()[1:], np.array([p.epoch for p in tl.points[1:]])
        for j, dash in ((0, "solid"), (len(tl.header.layers) - 1, "dot")):
            ok = np.isfinite(g[:, j]) & (g[:, j] > 0)
            name = f"{label}: {tl.header.layers[j]}"
            fig.add_trace(go.Scatter(x=x[ok], y=g[ok, j], name=name, mode="lines",
                                     line=dict(color=COLOURS[n % len(COLOURS)], width=2, dash=dash),
                                     hovertemplate=f"{name}<br>epoch %{{x:.2f}}: %{{y:.3g}}<extra></extra>"))
    fig.update_xaxes(title="epoch", rangemode="tozero")
    fig.update_yaxes(type="log", title="‖∂L/∂W‖", exponentformat="power", dtick="D2")
    fig.update_layout(title=dict(text="Gradient norm: first layer (solid) and last layer (dotted)", x=0,
                                 font=dict(size=15)), height=340, hovermode="closest",
                      margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.3, xanchor="left", x=0))
    return fig


def _label(snap) -> str:
    return f"{snap.id[:6]} · {snap.name}"


def compare_section() -> None:
    """Overlay earlier runs of this session, with a table of what differs in their settings."""
    runs = [registry().get(r) for r in st.session_state.get(HISTORY_KEY, [])]
    snaps = [r.snapshot() for r in runs if r is not None]
    snaps = [s for s in snaps if s.step > 0]
    if len(snaps) < 2:
        return
    st.subheader("Compare runs")
    by_id = {s.id: s for s in snaps}
    # A new run (or one the server forgot) changes the choices: start again from the latest three.
    if st.session_state.get("_tl_compare_options") != list(by_id) or "tl_compare" not in st.session_state:
        st.session_state["_tl_compare_options"] = list(by_id)
        st.session_state["tl_compare"] = list(by_id)[-3:]
    picked = st.multiselect("runs of this session", list(by_id), key="tl_compare",
                            format_func=lambda rid: _label(by_id[rid]) + f" ({by_id[rid].config['engine']})")
    chosen = [by_id[r] for r in picked if r in by_id]
    if len(chosen) < 2:
        st.caption("Pick two or more runs to compare.")
        return
    labels = [_label(s) for s in chosen]
    loss, acc = compare_figures(chosen, labels)
    c1, c2 = st.columns(2)
    c1.plotly_chart(loss, key="tl_cmp_loss", width="stretch")
    c2.plotly_chart(acc, key="tl_cmp_acc", width="stretch")
    rows = [compare.settings(s.config, s.dataset) for s in chosen]
    diff = compare.differences(rows)
    table = [{"run": label, **{k: r[k] for k in diff}, "state": s.state,
              "val. accuracy": None if s.val_acc is None else round(100 * s.val_acc, 2),
              "test accuracy": None if s.test_acc is None else round(100 * s.test_acc, 2)}
             for label, r, s in zip(labels, rows, chosen)]
    st.markdown("**What differs**" + ("" if diff else ": nothing, every setting and the seed are the same"))
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"val. accuracy": st.column_config.NumberColumn(format="%.2f %%"),
                                "test accuracy": st.column_config.NumberColumn(format="%.2f %%")})
    c1, c2 = st.columns(2)
    c1.plotly_chart(compare_gradients_figure(chosen, labels), key="tl_cmp_grad", width="stretch")
    c2.caption("How far the gradient shrinks between the last layer and the first: with sigmoid activations "
               "(document 004's network) the first layer's gradient is about a hundredth of the dense layers', "
               "so its kernels learn slowly; with ReLU the gap is far smaller. Train the seed-004 preset, then "
               "a ReLU network such as seed-000, and compare them here.")
    for t in compare.twins([s.config for s in chosen], [s.dataset for s in chosen], [s.step_loss for s in chosen]):
        names = " and ".join(labels[j] for j in t.indices)
        if t.identical:
            st.info(f"{names} have the same settings and seed: their loss curves are identical, step for step "
                    f"({t.steps_compared:,} steps compared, largest difference 0). Training here is deterministic: "
                    "the seed fixes the initial weights, the shuffling, the augmentation and the dropout masks.")
        elif t.steps_compared:
            st.warning(f"{names} have the same settings and seed, yet their losses differ by up to {t.max_gap:.2g} "
                       f"over {t.steps_compared:,} steps: floating-point sums done in a different order.")
