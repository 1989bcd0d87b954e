"""Text alternatives for heatmaps: what a screen reader reads instead of a picture of coloured squares.

A Plotly chart is an SVG of cells and tick labels: read aloud it is a stream of numbers with no shape. Each main
heatmap therefore carries a description in words (``heatmap_summary``: its size, where the ink or the large
values are, the extremes and where they sit; the numbers themselves for a small grid), in the page but not on
screen, right after the chart; and small grids get a "Show as table" switch, so anyone can read the exact
values cell by cell (a data frame is a real table: a screen reader moves through it by row and column).
Rows and columns are numbered from 1, as on the charts' axes and in their hover text.
"""
from __future__ import annotations

import html

import numpy as np
import pandas as pd
import streamlit as st

from cnn_core.lessons.formatting import fmt

TABLE_MAX = 28          # grids up to 28×28 (an MNIST input) get the table switch
LIST_CELLS = 25         # grids up to 25 cells (5×5) have every value in the description
INK = 0.1               # "ink": pixels above 10 % of the brightest, so faint anti-aliasing does not widen the box


def _span(idx: np.ndarray) -> str:
    lo, hi = int(idx.min()) + 1, int(idx.max()) + 1
    return str(lo) if lo == hi else f"{lo}–{hi}"


def _at(a: np.ndarray, flat: int) -> str:
    r, c = np.unravel_index(flat, a.shape)
    return f"row {r + 1}, column {c + 1}"


def heatmap_summary(arr, name: str, *, kind: str = "values", digits: int = 3) -> str:
    """One or two sentences that say what a 2-D heatmap shows, e.g. "28×28 input; ink in rows 5–23,
    columns 8–21 (143 of 784 pixels); brightest 1 at row 9, column 14."

    ``kind``: "image" for pixels where ink is bright (0 black, 1 or 255 white): where the ink is;
    "values" for anything else (kernels, feature maps, counts): the range and where the extremes are.
    NaN cells are cells not computed yet (the Convolution page's map so far). Grids of at most 25 cells
    list every value, row by row.
    """
    a = np.asarray(arr, dtype=float)
    if a.ndim != 2:
        raise ValueError(f"heatmap_summary needs a 2-D array, got shape {a.shape}")
    h, w = a.shape
    head = f"{h}×{w} {name}"
    done = ~np.isnan(a)
    if not done.any():
        return f"{head}; no values yet."
    parts = [head]
    if not done.all():
        parts.append(f"{int(done.sum())} of {a.size} cells computed so far")
    vals = np.where(done, a, np.nan)
    top, low = int(np.nanargmax(vals)), int(np.nanargmin(vals))
    if kind == "image":
        peak = float(vals.flat[top])
        inked = vals > INK * peak if peak > 0 else np.zeros_like(done)
        if not inked.any():
            parts.append("blank (no ink)")
        else:
            rows, cols = np.flatnonzero(inked.any(axis=1)), np.flatnonzero(inked.any(axis=0))
            parts.append(f"ink in rows {_span(rows)}, columns {_span(cols)} ({int(inked.sum())} of {a.size} pixels)")
            bright = fmt(peak, digits)
            parts.append(f"brightest {bright + '.0' if peak <= 1 and '.' not in bright else bright} at {_at(a, top)}")
    else:
        lo, hi = float(vals.flat[low]), float(vals.flat[top])
        if lo == hi:
            parts.append(f"every value {fmt(hi, digits)}")
        else:
            parts.append(f"values from {fmt(lo, digits)} to {fmt(hi, digits)}")
            parts.append(f"largest {fmt(hi, digits)} at {_at(a, top)}, smallest {fmt(lo, digits)} at {_at(a, low)}")
    text = "; ".join(parts) + "."
    if a.size <= LIST_CELLS:
        rows_text = "; ".join(f"row {i + 1}: " + ", ".join("not yet" if np.isnan(v) else fmt(v, digits) for v in row)
                              for i, row in enumerate(a))
        text += f" Values by row: {rows_text}."
    return text


def confusion_summary(cm, class_names) -> str:
    """A confusion matrix in words: how many are on the diagonal, and the largest confusions."""
    m = np.asarray(cm, dtype=float)
    names = [str(c) for c in class_names]
    total, right = float(m.sum()), float(np.trace(m))
    text = (f"{len(names)}×{len(names)} confusion matrix, true class in rows, predicted class in columns; "
            f"{right:,.0f} of {total:,.0f} images on the diagonal (correct, {right / total:.1%})" if total else
            f"{len(names)}×{len(names)} confusion matrix with no images")
    off = m.copy()
    np.fill_diagonal(off, 0)
    order = [i for i in np.argsort(-off, axis=None, kind="stable")[:3] if off.flat[i] > 0]
    if order:
        worst = ", ".join(f"{off.flat[i]:,.0f} of class {names[i // len(names)]} predicted as {names[i % len(names)]}"
                          for i in order)
        text += f"; largest confusions: {worst}"
    return text + "."


def bars_summary(probs, class_names, *, top: int = 3) -> str:
    """Probability bars in words: the ``top`` classes with their share, and what the rest add up to."""
    p = np.asarray(probs, dtype=float)
    names = [str(c) for c in class_names]
    order = np.argsort(-p, kind="stable")
    shown = ", ".join(f"{names[i]} {p[i] * 100:.1f} %" for i in order[:top])
    rest = float(p[order[top:]].sum())
    tail = f"; the other {len(p) - top} classes together {rest * 100:.1f} %" if len(p) > top else ""
    return f"Probabilities of the {len(p)} classes, largest first: {shown}{tail}."


def maps_summary(maps, name: str = "feature maps", digits: int = 3) -> str:
    """A stack of maps (C, H, W) in words: how many, their size and range, the most active map and where its peak
    is, and the maps that are 0 everywhere (a ReLU that switched a whole map off), e.g. "8 feature maps of
    26×26; values from 0 to 2.31; the largest, 2.31, in map 3 at row 9, column 14; maps 2 and 7 are 0 everywhere."
    Maps are numbered from 1, as in the mosaic's titles."""
    a = np.asarray(maps, dtype=float)
    if a.ndim != 3:
        raise ValueError(f"maps_summary needs maps of shape (C, H, W), got shape {a.shape}")
    c, h, w = a.shape
    head = f"{c} {name} of {h}×{w}"
    if a.size == 0:
        return head + "."
    lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        return f"{head}; every value {fmt(hi, digits)}."
    top = int(np.argmax(a))
    m, r, col = np.unravel_index(top, a.shape)
    parts = [head, f"values from {fmt(lo, digits)} to {fmt(hi, digits)}",
             f"the largest, {fmt(hi, digits)}, in map {m + 1} at row {r + 1}, column {col + 1}"]
    flat = [j + 1 for j in range(c) if not np.any(a[j])]
    if flat and len(flat) < c:
        shown = flat if len(flat) <= 8 else flat[:8]
        names = ", ".join(map(str, shown[:-1])) + f" and {shown[-1]}" if len(shown) > 1 else str(shown[0])
        more = f" (and {len(flat) - 8} more)" if len(flat) > 8 else ""
        parts.append(f"{'map' if len(flat) == 1 else 'maps'} {names}{more} {'is' if len(flat) == 1 else 'are'} "
                     "0 everywhere")
    return "; ".join(parts) + "."


def vector_summary(values, name: str = "activations", labels=None, digits: int = 3) -> str:
    """A vector (a dense layer's output, the logits) in words: its length and range, where the extremes are
    (by class name when ``labels`` are given, else unit numbers from 1), and how many units are 0."""
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        return f"0 {name}."
    at = (lambda i: f"for {labels[i]}") if labels is not None else (lambda i: f"at unit {i + 1}")
    hi, lo = int(np.argmax(v)), int(np.argmin(v))
    text = f"{v.size:,} {name}"
    if v[hi] == v[lo]:
        return f"{text}; every value {fmt(float(v[hi]), digits)}."
    text += (f"; largest {fmt(float(v[hi]), digits)} {at(hi)}, smallest {fmt(float(v[lo]), digits)} {at(lo)}")
    zeros = int(np.count_nonzero(v == 0))
    if zeros:
        text += f"; {zeros:,} of {v.size:,} are 0"
    return text + "."


def _recent(points, fmt_value, last: int = 6) -> str:
    shown = points[-last:]
    lead = f"the last {len(shown)} of {len(points)}: " if len(points) > last else ""
    return lead + ", ".join(f"epoch {e}: {fmt_value(v)}" for e, v in shown)


def training_summary(snap) -> str:
    """What a run's loss and accuracy charts show, in words: the training loss from the first step to now
    (its moving average too), and the validation loss and accuracies by epoch (the latest six)."""
    loss = np.asarray(snap.step_loss, dtype=float)
    parts = []
    if loss.size:
        finite = loss[np.isfinite(loss)]
        tail = finite[-50:]
        parts.append(f"Training loss over {loss.size:,} steps: first {fmt(float(loss[0]), 3)}, latest "
                     f"{fmt(float(loss[-1]), 3)}" + (f" (mean of the last {tail.size} steps {fmt(float(tail.mean()), 3)})"
                                                     if tail.size > 1 else ""))
        if snap.stop_reason == "diverged":
            parts[-1] += "; the run diverged: the loss ran off to infinity"
    else:
        parts.append("No training steps yet")
    rows = list(snap.epochs_log)
    val_loss = [(r["epoch"], r["val_loss"]) for r in rows if r.get("val_loss") is not None]
    if val_loss:
        parts.append("validation loss by epoch, " + _recent(val_loss, lambda v: fmt(float(v), 3)))
    for key, what in (("train_acc", "training accuracy"), ("val_acc", "validation accuracy")):
        acc = [(r["epoch"], r[key]) for r in rows if r.get(key) is not None]
        if acc:
            parts.append(f"{what} by epoch, " + _recent(acc, lambda v: f"{float(v) * 100:.1f} %"))
    return "; ".join(parts) + "."


def array_summary(arr, name: str, labels=None, kind: str = "values") -> str:
    """Any chart's array in words, by its shape: a vector (``vector_summary``), a grid (``heatmap_summary``) or a
    stack of maps (``maps_summary``); ``name`` says what the values are ("incoming δ", "∂L/∂W for kernel 2");
    ``kind="image"`` for a grid of pixels (where the ink is)."""
    a = np.asarray(arr, dtype=float)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 1:
        return f"{name}: " + vector_summary(a, "values", labels=labels)
    if a.ndim == 2:
        return f"{name}: " + heatmap_summary(a, "grid", kind=kind)
    if a.ndim == 3:
        return f"{name}: " + maps_summary(a, "maps")
    return f"{name}: {a.size:,} values of shape {' × '.join(map(str, a.shape))}."


def describe(text: str, where=None) -> None:
    """Put ``text`` in the page for screen readers only (escaped: it may hold class names from a user's data)."""
    (where or st).html(f'<p class="cnnx-sr-only">{html.escape(text)}</p>')


def _frame(a: np.ndarray, digits: int, row_labels=None, col_labels=None, row_name: str = "row") -> pd.DataFrame:
    cols = [str(c) for c in col_labels] if col_labels is not None else [str(j + 1) for j in range(a.shape[1])]
    rows = [str(r) for r in row_labels] if row_labels is not None else [str(i + 1) for i in range(a.shape[0])]
    return pd.DataFrame(np.round(a, digits), columns=cols, index=pd.Index(rows, name=row_name))


def table_toggle(grids: dict, *, key: str, where=None, digits: int = 3, label: str = "Show as table",
                 row_labels=None, col_labels=None, row_name: str = "row") -> bool:
    """A switch that shows grids of at most 28×28 as data frames (``grids``: title → 2-D array; a title of ""
    draws no heading), side by side when there are several. Returns whether the tables are shown."""
    shown = {t: np.asarray(g, dtype=float) for t, g in grids.items()}
    shown = {t: g for t, g in shown.items() if g.ndim == 2 and max(g.shape) <= TABLE_MAX}
    if not shown:
        return False
    dg = where or st
    if not dg.toggle(label, key=f"{key}_table",
                     help="The chart's numbers, cell by cell, with rows and columns numbered as on the chart."):
        return False
    cols = dg.columns(len(shown)) if len(shown) > 1 else [dg]
    for col, (title, g) in zip(cols, shown.items()):
        if title:
            col.markdown(f"**{title}**")
        col.dataframe(_frame(g, digits, row_labels, col_labels, row_name), key=f"{key}_df_{len(title)}_{title[:12]}",
                      width="content" if g.shape[1] <= 8 else "stretch", height=min(38 + 35 * g.shape[0], 420))
    return True


def show_heatmap(fig, arr, *, key: str, name: str, kind: str = "values", where=None, table: bool = True,
                 digits: int = 3, **chart_kwargs) -> str:
    """``st.plotly_chart(fig, key=key)`` with its text alternative (and the table switch for small grids).

    ``where``: a column or container to draw in (default: the current one). Returns the description.
    """
    dg = where or st
    dg.plotly_chart(fig, key=key, **chart_kwargs)
    text = heatmap_summary(arr, name, kind=kind, digits=digits)
    describe(text, dg)
    if table:
        table_toggle({"": arr}, key=key, where=dg, digits=digits)
    return text
