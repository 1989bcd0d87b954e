"""The Train page's learning timeline and run comparison (issue 12, "Watch it learn").

The timeline's figures are built in ``ui.views.train.timeline_plots``; the comparison's here. After a run, ``point_figure(animate=True)`` is one plotly figure with a frame per recorded point, its
own slider and Play button: scrubbing and playing happen in the browser, nothing reruns on the
server. While a run trains, a 2-second fragment shows one point at a time (a Streamlit slider that
follows the newest point), which keeps what is sent each tick small.
"""
from __future__ import annotations

import threading

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnn_core.training import compare, registry, smooth
from cnn_core.training.recorder import Timeline, timeline
from ui.views.train.timeline_plots import COLOURS, gradient_figure, point_figure

HISTORY_KEY = "train_run_history"     # ids of the runs this session started, oldest first


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
             caption="probe", clamp=True, alt="the probe: the input image whose path through the network "
                                               "the timeline follows")
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
    st.header("Watch it learn")
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


def run_outcome(snap) -> str:
    """How a run ended, in the learner's words: "diverged", "stopped by you after epoch 3 of 10"…"""
    after = f" after epoch {snap.epoch} of {snap.epochs}"
    if snap.stop_reason == "diverged":
        return "diverged"
    if snap.stop_reason == "early_stopping":
        return "early stopping" + after
    if snap.state == "stopped":
        return "stopped by you" + after
    return snap.state


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.2f} %"


def compare_table(snaps: list, labels: list[str], rows: list[dict], diff: list[str]) -> list[dict]:
    """One row per run compared: what differs, how it ended, its accuracies ("—" where it has none,
    e.g. a run that diverged before its first epoch ended)."""
    return [{"run": label, **{k: r[k] for k in diff}, "state": run_outcome(s),
             "val. accuracy": _pct(s.val_acc), "test accuracy": _pct(s.test_acc)}
            for label, r, s in zip(labels, rows, snaps)]


def compare_section() -> None:
    """Overlay earlier runs of this session, with a table of what differs in their settings."""
    runs = [registry().get(r) for r in st.session_state.get(HISTORY_KEY, [])]
    snaps = [r.snapshot() for r in runs if r is not None]
    snaps = [s for s in snaps if s.step > 0]
    if len(snaps) < 2:
        return
    st.header("Compare runs")
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
    st.markdown("**What differs**" + ("" if diff else ": nothing, every setting and the seed are the same"))
    st.dataframe(compare_table(chosen, labels, rows, diff), hide_index=True, width="stretch")
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
