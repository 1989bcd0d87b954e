"""Training-lab figures (Train, Evaluate, Sweep pages): plain functions, snapshot → plotly Figure,
so tests can call them; and the number formats their labels use. Colours from ui.views.palette."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from cnn_core.training import smooth
from ui.views import plots
from ui.views.palette import BLUE, GREEN, ORANGE, VERMILION

MAX_POINTS = 1500            # per curve sent to the browser each second


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


def _loss_skeleton(has_loss: bool, few: bool, smoothing: float, has_val: bool, diverged: bool, small: bool) -> go.Figure:
    """The loss chart's structure, validated once per combination (data as placeholders)."""
    fig = go.Figure()
    if has_loss:
        # A handful of steps (a run that diverged at step 2) as markers: one point drew no line at all.
        fig.add_trace(go.Scatter(x=[0], y=[0], name="loss per step", mode="lines+markers" if few else "lines",
                                 line=dict(color=BLUE, width=1), opacity=0.8 if few else 0.35,
                                 hovertemplate="step %{x}: %{y:.4f}<extra>per step</extra>"))
        fig.add_trace(go.Scatter(x=[0], y=[0], name=f"smoothed (EMA {smoothing:g})", mode="lines",
                                 line=dict(color=BLUE, width=2.5),
                                 hovertemplate="step %{x}: %{y:.4f}<extra>smoothed</extra>"))
    if has_val:
        fig.add_trace(go.Scatter(x=[0], y=[0], name="validation (end of epoch)", mode="lines+markers",
                                 line=dict(color=ORANGE, width=2, dash="dot"), marker=dict(size=8, symbol="diamond"),
                                 customdata=[0], hovertemplate="epoch %{customdata}: %{y:.4f}<extra>validation</extra>"))
    if diverged:
        # The exploding value is kept off the curve (it would flatten every other step); say where it went.
        fig.add_annotation(xref="paper", yref="paper", x=1, y=1, xanchor="right", yanchor="top", showarrow=False,
                           text="diverged", font=dict(color=VERMILION, size=13))
    fig.update_xaxes(title="step (one mini-batch)", rangemode="tozero")
    fig.update_yaxes(title="cross-entropy loss", rangemode="tozero")
    if small:
        # Plotly's autorange put a lone point on the top edge (under the note); give it headroom.
        fig.update_xaxes(range=[0, 1], dtick=1)
        fig.update_yaxes(range=[0, 1])
    return _layout(fig, "Loss")


def loss_figure(snap, smoothing: float = 0.9) -> go.Figure:
    """Loss of every step (faint), its moving average, and the validation loss after each epoch.

    Redrawn every second while a run trains: the structure comes from a validated skeleton
    (``plots.from_skeleton``), the curves are put in without validating them again."""
    loss = np.asarray(snap.step_loss, dtype=float)
    rows = [r for r in snap.epochs_log if r.get("val_loss") is not None]
    diverged = snap.stop_reason == "diverged"
    small = 0 < len(loss) <= 20 and not rows
    spec = plots.from_skeleton(_loss_skeleton, bool(len(loss)), len(loss) <= 20, float(smoothing), bool(rows),
                               diverged, small)
    traces = iter(spec["data"])
    if len(loss):
        x, raw, sm = _thin(np.arange(1, len(loss) + 1), loss, smooth(loss, smoothing))
        next(traces).update(x=x, y=raw)
        next(traces).update(x=x, y=sm)
    if rows:
        per_epoch = max(1, snap.total_steps // max(1, snap.epochs))
        next(traces).update(x=[r["epoch"] * per_epoch for r in rows], y=[r["val_loss"] for r in rows],
                            customdata=[r["epoch"] for r in rows])
    if diverged:
        spec["layout"]["annotations"][0]["text"] = f"diverged after step {snap.step:,}: the next loss is off the chart"
    if small:
        spec["layout"]["xaxis"]["range"] = [0, len(loss) + 1]
        spec["layout"]["yaxis"]["range"] = [0, 1.3 * float(loss.max())]
    return plots._unvalidated(spec)


def _accuracy_skeleton(has_train: bool, has_val: bool, unit_ticks: bool) -> go.Figure:
    fig = go.Figure()
    if has_train:
        fig.add_trace(go.Scatter(x=[0], y=[0], name="train (running, per epoch)",
                                 mode="lines+markers", line=dict(color=BLUE, width=2), marker=dict(size=8),
                                 hovertemplate="epoch %{x}: %{y:.2%}<extra>train</extra>"))
    if has_val:
        fig.add_trace(go.Scatter(x=[0], y=[0], name="validation",
                                 mode="lines+markers", line=dict(color=ORANGE, width=2, dash="dot"),
                                 marker=dict(size=9, symbol="diamond"),
                                 hovertemplate="epoch %{x}: %{y:.2%}<extra>validation</extra>"))
    fig.update_xaxes(title="epoch", range=[0, 1], dtick=1 if unit_ticks else None)
    fig.update_yaxes(title="accuracy", tickformat=".0%", range=[0, 1.0])
    return _layout(fig, "Accuracy per epoch")


def accuracy_figure(snap) -> go.Figure:
    """Accuracy after every epoch on the training batches (running) and the validation split."""
    rows = list(snap.epochs_log)
    ep = [r["epoch"] for r in rows]
    train = [(r["epoch"], r["train_acc"]) for r in rows if r.get("train_acc") is not None]
    val = [(r["epoch"], r["val_acc"]) for r in rows if r.get("val_acc") is not None]
    # A run that ended early (stopped, diverged, early stopping) is drawn over the epochs it did, not the planned
    # ones: sixteen epochs of a planned 200 were squeezed into the first 8 % of the chart.
    last = max(ep, default=1) if snap.ended else max(snap.epochs, max(ep, default=1))
    spec = plots.from_skeleton(_accuracy_skeleton, bool(train), bool(val), last <= 20)
    for trace, points in zip(spec["data"], [p for p in (train, val) if p]):
        trace.update(x=[e for e, _ in points], y=[a for _, a in points])
    lo = min([a for _, a in train + val], default=0.0)
    spec["layout"]["xaxis"]["range"] = [0.5, last + 0.5]
    spec["layout"]["yaxis"]["range"] = [max(0.0, min(lo, 0.9) - 0.05), 1.0]
    return plots._unvalidated(spec)


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
