"""Streamlit pieces of the training lab (Train, Evaluate, Sweep pages).

Figure builders are plain functions (snapshot → plotly Figure) so tests can call them; the
live panels are ``st.fragment(run_every=...)`` functions that only READ snapshots of runs kept in
``cnn_core.training.registry()``: the training threads never call Streamlit.
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnn_core.models import checkpoints
from cnn_core.training import registry, smooth
from ui import state

RUN_PARAM = "run"            # ?run=<id> in the URL: a refresh or a second tab reattaches
SWEEP_PARAM = "sweep"
RUN_KEY = "train_run_id"     # the same ids in session state: survives page switches (which drop query params)
SWEEP_KEY = "sweep_id"
EVAL_DATA_KEY = "eval_data"  # {"run_id": ..., "test": ImageDataset, "val": ImageDataset} of the active model

# Okabe–Ito: distinguishable with every common colour-vision deficiency.
BLUE, ORANGE, GREEN, VERMILION, GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#999999"
MAX_POINTS = 1500            # per curve sent to the browser each second


# ---------------------------------------------------------------------------------------------
# formatting


def fmt_seconds(s: float | None) -> str:
    if s is None or not math.isfinite(s):
        return "—"
    s = int(round(s))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


def fmt_lr(lr: float) -> str:
    return f"{lr:g}"


def fmt_pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.2f} %"


def _thin(x: np.ndarray, *ys: np.ndarray):
    """Every k-th point so that at most MAX_POINTS go to the browser (the last point always kept)."""
    n = len(x)
    if n <= MAX_POINTS:
        return (x, *ys)
    idx = np.unique(np.r_[np.linspace(0, n - 1, MAX_POINTS).astype(int), n - 1])
    return (x[idx], *(y[idx] for y in ys))


def _layout(fig: go.Figure, title: str, height: int = 320) -> go.Figure:
    # Legend under the axis: above the plot it collides with plotly's toolbar at this width.
    fig.update_layout(title=dict(text=title, x=0, font=dict(size=15)), height=height + 40,
                      margin=dict(l=10, r=10, t=40, b=10), hovermode="x unified",
                      legend=dict(orientation="h", yanchor="top", y=-0.3, xanchor="left", x=0))
    return fig


# ---------------------------------------------------------------------------------------------
# figure builders


def loss_figure(snap, smoothing: float = 0.9) -> go.Figure:
    """Loss of every step (faint), its moving average, and the validation loss after each epoch."""
    loss = np.asarray(snap.step_loss, dtype=float)
    steps = np.arange(1, len(loss) + 1)
    fig = go.Figure()
    if len(loss):
        sm = smooth(loss, smoothing)
        x, raw, sm = _thin(steps, loss, sm)
        # A handful of steps (a run that diverged at step 2) as markers: one point drew no line at all.
        fig.add_trace(go.Scatter(x=x, y=raw, name="loss per step", mode="lines" if len(loss) > 20 else "lines+markers",
                                 line=dict(color=BLUE, width=1), opacity=0.35 if len(loss) > 20 else 0.8,
                                 hovertemplate="step %{x}: %{y:.4f}<extra>per step</extra>"))
        fig.add_trace(go.Scatter(x=x, y=sm, name=f"smoothed (EMA {smoothing:g})", mode="lines",
                                 line=dict(color=BLUE, width=2.5),
                                 hovertemplate="step %{x}: %{y:.4f}<extra>smoothed</extra>"))
    rows = [r for r in snap.epochs_log if r.get("val_loss") is not None]
    if rows:
        per_epoch = max(1, snap.total_steps // max(1, snap.epochs))
        fig.add_trace(go.Scatter(x=[r["epoch"] * per_epoch for r in rows], y=[r["val_loss"] for r in rows],
                                 name="validation (end of epoch)", mode="lines+markers",
                                 line=dict(color=ORANGE, width=2, dash="dot"), marker=dict(size=8, symbol="diamond"),
                                 customdata=[r["epoch"] for r in rows],
                                 hovertemplate="epoch %{customdata}: %{y:.4f}<extra>validation</extra>"))
    if snap.stop_reason == "diverged":
        # The exploding value is kept off the curve (it would flatten every other step); say where it went.
        fig.add_annotation(xref="paper", yref="paper", x=1, y=1, xanchor="right", yanchor="top", showarrow=False,
                           text=f"diverged after step {snap.step:,}: the next loss is off the chart",
                           font=dict(color=VERMILION, size=13))
    fig.update_xaxes(title="step (one mini-batch)", rangemode="tozero")
    fig.update_yaxes(title="cross-entropy loss", rangemode="tozero")
    if 0 < len(loss) <= 20 and not rows:
        # Plotly's autorange put a lone point on the top edge (under the note); give it headroom.
        fig.update_xaxes(range=[0, len(loss) + 1], dtick=1)
        fig.update_yaxes(range=[0, 1.3 * float(loss.max())])
    return _layout(fig, "Loss")


def accuracy_figure(snap) -> go.Figure:
    """Accuracy after every epoch on the training batches (running) and the validation split."""
    rows = list(snap.epochs_log)
    ep = [r["epoch"] for r in rows]
    fig = go.Figure()
    train = [(r["epoch"], r["train_acc"]) for r in rows if r.get("train_acc") is not None]
    if train:
        fig.add_trace(go.Scatter(x=[e for e, _ in train], y=[a for _, a in train], name="train (running, per epoch)",
                                 mode="lines+markers", line=dict(color=BLUE, width=2), marker=dict(size=8),
                                 hovertemplate="epoch %{x}: %{y:.2%}<extra>train</extra>"))
    val = [(r["epoch"], r["val_acc"]) for r in rows if r.get("val_acc") is not None]
    if val:
        fig.add_trace(go.Scatter(x=[e for e, _ in val], y=[a for _, a in val], name="validation",
                                 mode="lines+markers", line=dict(color=ORANGE, width=2, dash="dot"),
                                 marker=dict(size=9, symbol="diamond"),
                                 hovertemplate="epoch %{x}: %{y:.2%}<extra>validation</extra>"))
    lo = min([a for _, a in train + val], default=0.0)
    fig.update_xaxes(title="epoch", range=[0.5, max(snap.epochs, max(ep, default=1)) + 0.5], dtick=1 if snap.epochs <= 20 else None)
    fig.update_yaxes(title="accuracy", tickformat=".0%", range=[max(0.0, min(lo, 0.9) - 0.05), 1.0])
    return _layout(fig, "Accuracy per epoch")


def label_histogram(parts, class_names: list[str]) -> go.Figure:
    """Images per class in each split (document 000 shows this before training)."""
    fig = go.Figure()
    for ds, name, colour in ((parts.train, "train", BLUE), (parts.val, "validation", ORANGE), (parts.test, "test", GREEN)):
        if ds is None or len(ds) == 0:
            continue
        counts = np.bincount(ds.labels, minlength=len(class_names))
        fig.add_trace(go.Bar(x=list(class_names), y=counts, name=f"{name} ({len(ds):,})", marker_color=colour,
                             hovertemplate="class %{x}: %{y} images<extra>" + name + "</extra>"))
    fig.update_layout(barmode="group")
    fig.update_xaxes(title="class", type="category")
    fig.update_yaxes(title="images")
    return _layout(fig, "Label distribution", height=280)


def confusion_figure(cm: np.ndarray, class_names: list[str], normalised: bool = False,
                     selected: tuple[int, int] | None = None) -> go.Figure:
    """Rows: true class, columns: predicted. Cividis (colour-blind safe); every cell shows its
    count; clicking a cell selects the invisible marker at its centre."""
    counts = np.asarray(cm)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape, float), where=totals > 0)
    z = share if normalised else counts
    names = [str(c) for c in class_names]
    text = [[f"{share[i, j]:.0%}" if normalised else str(counts[i, j]) for j in range(len(names))]
            for i in range(len(names))]
    hover = "true %{y}, predicted %{x}<br>%{customdata[0]} images (%{customdata[1]:.1%} of class %{y})<extra></extra>"
    custom = np.dstack([counts, share])
    fig = go.Figure(go.Heatmap(z=z, x=names, y=names, colorscale="Cividis", text=text, texttemplate="%{text}",
                               customdata=custom, hovertemplate=hover, zmin=0, zmax=1 if normalised else None,
                               colorbar=dict(title=dict(text="share of row" if normalised else "images", side="right"),
                                             tickformat=".0%" if normalised else None)))
    ii, jj = np.meshgrid(range(len(names)), range(len(names)), indexing="ij")
    fig.add_trace(go.Scatter(x=[names[j] for j in jj.ravel()], y=[names[i] for i in ii.ravel()], mode="markers",
                             marker=dict(size=max(12, 360 // max(1, len(names))), opacity=0.01, color="#000000", symbol="square"),
                             customdata=np.c_[ii.ravel(), jj.ravel(), counts.ravel(), share.ravel()],
                             hovertemplate="true %{y}, predicted %{x}<br>%{customdata[2]} images "
                                           "(%{customdata[3]:.1%} of class %{y})<br>click to see them<extra></extra>",
                             showlegend=False, name="cells"))
    k = len(names)
    if selected is not None:
        r, c = selected
        fig.add_shape(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5, xref="x", yref="y",
                      line=dict(color=VERMILION, width=3))
    # Fixed ranges: autorange would pad the axes for the big invisible markers.
    fig.update_xaxes(title="predicted class", type="category", side="bottom", range=[-0.5, k - 0.5], showgrid=False)
    fig.update_yaxes(title="true class", type="category", range=[k - 0.5, -0.5], showgrid=False)
    fig.update_layout(height=max(320, 34 * k + 90), margin=dict(l=10, r=10, t=10, b=10),
                      clickmode="event+select", dragmode=False, hovermode="closest")
    return fig


AXES_LABELS = {"kernels": "kernels (first conv layer)", "lr": "learning rate", "dropout": "dropout p",
               "batch_size": "batch size", "dense_width": "dense width"}


def sweep_heatmap(ssnap) -> go.Figure:
    """Validation accuracy of every cell of the grid; the best cell framed."""
    axes = list(ssnap.axes)
    if len(axes) == 1:
        rows_axis, cols_axis = None, axes[0]
        row_vals, col_vals = [""], ssnap.axes[cols_axis]
    else:
        rows_axis, cols_axis = axes
        row_vals, col_vals = ssnap.axes[rows_axis], ssnap.axes[cols_axis]
    z = np.full((len(row_vals), len(col_vals)), np.nan)
    text = [["" for _ in col_vals] for _ in row_vals]
    for cell in ssnap.cells:
        p = cell["params"]
        r = row_vals.index(p[rows_axis]) if rows_axis else 0
        c = col_vals.index(p[cols_axis])
        if cell["val_acc"] is not None:
            z[r, c] = cell["val_acc"]
            text[r][c] = f"{cell['val_acc']:.1%}" + ("" if cell["state"] == "finished" else " …")
        else:
            text[r][c] = {"waiting": "waiting", "queued": "queued", "running": "training…", "paused": "paused",
                          "skipped": "skipped"}.get(cell["state"], "diverged" if "diverged" in cell["message"] else cell["state"])
    fmt = lambda v: f"{v:g}" if isinstance(v, float) else str(v)  # noqa: E731
    xs, ys = [fmt(v) for v in col_vals], [fmt(v) for v in row_vals]
    fig = go.Figure(go.Heatmap(z=z, x=xs, y=ys, colorscale="Viridis", text=text, texttemplate="%{text}",
                               hovertemplate=(f"{rows_axis} %{{y}}, " if rows_axis else "") + f"{cols_axis} %{{x}}"
                                             "<br>validation accuracy %{z:.2%}<extra></extra>",
                               colorbar=dict(title="val. acc.", tickformat=".0%")))
    best = ssnap.best
    if best is not None:
        p = ssnap.cells[best]["params"]
        r = row_vals.index(p[rows_axis]) if rows_axis else 0
        c = col_vals.index(p[cols_axis])
        fig.add_shape(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5, xref="x", yref="y",
                      line=dict(color=VERMILION, width=5))
        # Positions as category indices (like the shape): "16" or "0.01" would be read as numbers.
        fig.add_annotation(x=c, y=r, xref="x", yref="y", text="<b>best</b>", showarrow=False, yshift=-22,
                           font=dict(color=VERMILION, size=13))
    fig.update_xaxes(title=AXES_LABELS.get(cols_axis, cols_axis), type="category", range=[-0.5, len(col_vals) - 0.5])
    fig.update_yaxes(title=AXES_LABELS.get(rows_axis, rows_axis or ""), type="category",
                     range=[len(row_vals) - 0.5, -0.5], showticklabels=bool(rows_axis))
    fig.update_layout(height=110 + 80 * len(row_vals), margin=dict(l=10, r=10, t=20, b=10))
    return fig


def upscale(img: np.ndarray, factor: int = 3) -> np.ndarray:
    """uint8 (C, H, W) → (H·f, W·f[, 3]) with crisp pixels for st.image."""
    a = np.asarray(img)
    a = a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
    return np.repeat(np.repeat(a, factor, axis=0), factor, axis=1)


def image_grid(images: np.ndarray, captions: list[str], per_row: int = 8, factor: int = 3) -> None:
    """A row-wise grid of small images with captions."""
    for start in range(0, len(images), per_row):
        cols = st.columns(per_row)
        for col, img, cap in zip(cols, images[start:start + per_row], captions[start:start + per_row]):
            col.image(upscale(img, factor), caption=cap, clamp=True)


# ---------------------------------------------------------------------------------------------
# the run panel


def status_line(snap) -> str:
    if snap.state == "queued" and not snap.queue_position and snap.message:
        return snap.message            # queued by a Ray cluster, not by this server
    if snap.state == "queued":
        return (f"Queued: position {snap.queue_position} in line (at most {registry().max_concurrent} runs train at "
                "once on this server). It starts by itself.")
    if snap.state in ("running", "paused") and snap.step == 0:
        return "Preparing the model…" if snap.state == "running" else "Paused before the first step."
    done = f"step {snap.step:,}/{snap.total_steps:,}, epoch {min(snap.epoch + 1, snap.epochs)}/{snap.epochs}"
    if snap.state == "running":
        return f"Training: {done} · {snap.images_per_s:,.0f} images/s · elapsed {fmt_seconds(snap.elapsed_s)} · ETA {fmt_seconds(snap.eta_s)}"
    if snap.state == "paused":
        return f"Paused at {done} · elapsed {fmt_seconds(snap.elapsed_s)}. Resume to continue."
    return f"{snap.state.capitalize()} after {snap.epoch} epoch(s), {snap.step:,} steps, {fmt_seconds(snap.elapsed_s)}."


def _metrics_row(snap) -> None:
    last = snap.epochs_log[-1] if snap.epochs_log else {}
    c = st.columns(4)
    c[0].metric("train loss (epoch)", "—" if not last else f"{last['train_loss']:.4f}")
    c[1].metric("validation loss", "—" if last.get("val_loss") is None else f"{last['val_loss']:.4f}")
    c[2].metric("validation accuracy", fmt_pct(last.get("val_acc")))
    c[3].metric("test accuracy" if snap.test_acc is not None else "throughput",
                fmt_pct(snap.test_acc) if snap.test_acc is not None else f"{snap.images_per_s:,.0f} img/s")


def _charts(snap, key: str) -> None:
    c1, c2 = st.columns(2)
    c1.plotly_chart(loss_figure(snap), key=f"loss_{key}", width="stretch")
    c2.plotly_chart(accuracy_figure(snap), key=f"acc_{key}", width="stretch")


def _controls(run, snap) -> None:
    c = st.columns([1, 1, 4])
    if snap.state == "paused":
        if c[0].button("Resume", key=f"resume_{run.id}", type="primary"):
            run.resume()
            st.rerun(scope="fragment")
    elif snap.state in ("running", "queued"):
        if c[0].button("Pause", key=f"pause_{run.id}", disabled=snap.state == "queued"):
            run.pause()
            st.rerun(scope="fragment")
    if c[1].button("Stop", key=f"stop_{run.id}"):
        run.stop(wait=1.5)
        st.rerun()


@st.fragment(run_every="1s")
def live_run_panel(run_id: str) -> None:
    """Redrawn every second while the run trains; a full rerun once it ends."""
    run = registry().get(run_id)
    if run is None:
        st.rerun()
        return
    snap = run.snapshot()
    if snap.ended:
        st.rerun()        # the whole page, so that the finished-run actions appear
        return
    st.progress(snap.progress, text=status_line(snap))
    if snap.extra.get("unreachable"):
        st.warning(f"{snap.extra['unreachable']} Showing what the run had done by then.")
    _controls(run, snap)
    _metrics_row(snap)
    _charts(snap, "live")


def ended_run_panel(run) -> None:
    snap = run.snapshot()
    if snap.stop_reason == "diverged":
        st.error(snap.message)
    elif snap.state == "failed":
        st.error(snap.message)
    elif snap.stop_reason == "early_stopping":
        st.info(snap.message)
    elif snap.state == "stopped":
        st.warning(snap.message)
    else:
        st.success(status_line(snap))
    _metrics_row(snap)
    _charts(snap, "ended")
    bundle = run.bundle() if snap.stop_reason != "diverged" else None
    if bundle is None:
        if snap.state != "failed" and snap.stop_reason != "diverged":
            st.caption("No weights to keep: the run stopped before its first step.")
        return
    active = state.active_bundle()
    is_active = active.meta.get("run_id") == run.id
    c = st.columns([1.3, 1.3, 3])
    if c[0].button("Use as active model", key=f"use_{run.id}", type="primary", disabled=is_active,
                   help="Every page (Draw, Layer Explorer, Evaluate…) then uses this model."):
        state.set_active_bundle(bundle)
        st.session_state[EVAL_DATA_KEY] = {"run_id": run.id, "test": run.test_ds, "val": run.val_ds}
        st.rerun()
    c[1].download_button("Download (.safetensors)", data=checkpoints.to_bytes(bundle),
                         file_name=f"{bundle.spec.get('name', 'model')}-{run.id}.safetensors",
                         mime="application/octet-stream", key=f"dl_{run.id}",
                         help="Weights plus the JSON spec in the file's metadata; load it again below.")
    if is_active:
        c[2].success("This run is the active model on every page.")
    else:
        c[2].caption(f"Held-out accuracy {fmt_pct(bundle.meta.get('accuracy'))} on the {bundle.meta.get('accuracy_note')}.")


def run_panel(run_id: str | None) -> None:
    """Attach to a run by id: live while it trains, results once it ends."""
    run = registry().get(run_id)
    if run is None:
        if run_id:
            st.info("That run is no longer on this server (the server restarted or it was cleared). Start a new one.")
        return
    st.markdown(f"**Run `{run.id}`** · {run.config.describe()} · data: {run.dataset_info.get('name', '')}")
    if run.snapshot().ended:
        ended_run_panel(run)
    else:
        live_run_panel(run.id)


def attached_id(param: str, key: str) -> str | None:
    """The run / sweep id to show: the URL's query parameter first (refresh, second tab), else this session's."""
    qid = st.query_params.get(param)
    if qid:
        st.session_state[key] = qid
        return qid
    sid = st.session_state.get(key)
    if sid:
        st.query_params[param] = sid
    return sid


def keep_widget_state(name: str, keys, prefixes: tuple[str, ...] = ()) -> None:
    """Keep this page's settings across page switches.

    Streamlit forgets a keyed widget's value as soon as a page that does not draw it runs, so
    Train → Evaluate → Train reset every knob to its default. Call this at the top of the page: it
    puts back the values stashed by the page's last run, then stashes the current ones (a key that
    doesn't start with "_" of a widget is cleared; a plain session key is not). Only value widgets:
    buttons and uploaders cannot be set through session state.
    """
    stash_key = f"_kept_{name}"
    ss = st.session_state
    for k, v in ss.get(stash_key, {}).items():
        if k not in ss:
            ss[k] = v
    keys = set(keys)
    ss[stash_key] = {k: ss[k] for k in list(ss)
                     if isinstance(k, str) and (k in keys or (prefixes and k.startswith(prefixes)))}


def attach(param: str, key: str, value: str) -> None:
    st.session_state[key] = value
    st.query_params[param] = value


# ---------------------------------------------------------------------------------------------
# sweeps


def sweep_records(ssnap) -> list[dict]:
    rows = []
    for i, c in enumerate(ssnap.cells):
        row = {k: (f"{v:g}" if isinstance(v, float) else v) for k, v in c["params"].items()}
        row.update({"state": c["state"] if "diverged" not in c["message"] else "diverged",
                    "epochs": c["epoch"],
                    "val. accuracy": None if c["val_acc"] is None else round(100 * c["val_acc"], 2),
                    "val. loss": None if c["val_loss"] is None else round(c["val_loss"], 4),
                    "time": fmt_seconds(c["seconds"]) if c["seconds"] else "",
                    "best": "★" if i == ssnap.best and ssnap.done else ""})
        rows.append(row)
    return rows


def _sweep_body(sweep, ssnap, key: str) -> None:
    st.plotly_chart(sweep_heatmap(ssnap), key=f"sweep_hm_{key}", width="stretch")
    st.dataframe(sweep_records(ssnap), hide_index=True, width="stretch",
                 column_config={"val. accuracy": st.column_config.NumberColumn(format="%.2f %%")})


@st.fragment(run_every="1s")
def live_sweep_panel(sweep_id: str) -> None:
    sweep = registry().get_sweep(sweep_id)
    if sweep is None:
        st.rerun()
        return
    ssnap = sweep.snapshot()
    if ssnap.state != "running":
        st.rerun()
        return
    n = len(ssnap.cells)
    line = f"{ssnap.done} of {n} runs done"
    if ssnap.current is not None:
        run = sweep.run(ssnap.current)
        if run is not None:
            rs = run.snapshot()
            frac = (ssnap.done + rs.progress) / n
            line += f" · now {', '.join(f'{k} {v:g}' for k, v in ssnap.cells[ssnap.current]['params'].items())}: {status_line(rs)}"
        else:
            frac = ssnap.done / n
    else:
        frac = ssnap.done / n
    st.progress(min(1.0, frac), text=line)
    if st.button("Stop the sweep", key=f"sweep_stop_{sweep_id}"):
        sweep.stop(wait=1.5)
        st.rerun()
    _sweep_body(sweep, ssnap, "live")


def sweep_panel(sweep_id: str | None) -> None:
    sweep = registry().get_sweep(sweep_id)
    if sweep is None:
        if sweep_id:
            st.info("That sweep is no longer on this server (the server restarted). Start a new one.")
        return
    ssnap = sweep.snapshot()
    if ssnap.state == "running":
        live_sweep_panel(sweep.id)
        return
    if ssnap.state == "failed":
        st.error(ssnap.message)
    elif ssnap.state == "stopped":
        st.warning(f"Stopped by you after {ssnap.done} of {len(ssnap.cells)} runs.")
    else:
        st.success(f"All {len(ssnap.cells)} runs done.")
    _sweep_body(sweep, ssnap, "ended")
    best = ssnap.best
    if best is not None:
        cell = ssnap.cells[best]
        label = ", ".join(f"{k} = {v:g}" for k, v in cell["params"].items())
        st.markdown(f"**Best: {label}**, validation accuracy {fmt_pct(cell['val_acc'])}.")
        run = sweep.run(best)
        bundle = run.bundle() if run is not None else None
        if bundle is not None and st.button("Use the best run as active model", key=f"sweep_use_{sweep.id}"):
            state.set_active_bundle(bundle)
            st.session_state[EVAL_DATA_KEY] = {"run_id": run.id, "test": run.test_ds, "val": run.val_ds}
            st.success(f"{bundle.name} is now the active model on every page.")
