"""The Layer Explorer's overview (the whole network on one input) and its drill-downs (Streamlit).

``overview_section`` draws the overview, turns a click on a map, unit or class into a selection
(kept in ``st.session_state``, mirrored by two selectors for keyboards and tests), and shows how the
selected neuron was computed with the model's own numbers (cnn_core.inference.neurons).
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import streamlit as st
import torch.nn as nn
from streamlit.errors import StreamlitPageNotFoundError

from cnn_core.inference import introspection as intro
from cnn_core.inference import neurons as N
from cnn_core.inference.conv_arithmetic import conv_contributions_from
from cnn_core.inference.overview import Overview, build_overview
from ui.views.see_inside import lesson_plots as lp
from ui.views.see_inside import neuron_plots as npl
from ui.views.see_inside import overview_plots as op

CONV_HANDOFF = "conv_from_explorer"  # {image, kernel, bias, stride, padding, about, token}: read by the Convolution page
CONV_PAGE = "pages/2_Convolution.py"
MAX_PARTS = 6  # input channels drawn in the conv drill-down (all of them are in the table)
_tokens = itertools.count(1)


def _keys(p: str) -> tuple[str, str, str]:
    return p + "ov_fig", p + "ov_col", p + "ov_item"


def _on_click(p: str) -> None:
    fig_key, col_key, item_key = _keys(p)
    event = st.session_state.get(fig_key) or {}
    points = (event.get("selection") or {}).get("points") or []
    for pt in points:
        cd = pt.get("customdata")
        if isinstance(cd, dict):  # a typed-array row can come back as {"0": …, "1": …}
            cd = [cd[k] for k in sorted(cd, key=int)]
        if cd is not None and len(cd) >= 2:
            st.session_state[col_key], st.session_state[item_key] = int(cd[0]), int(cd[1]) + 1
            return  # an empty selection (a second click on the same map) keeps the last one


def _count(ov: Overview, key: int) -> int:
    col = ov.column(key)
    return int(col.shape[0])


def _selection(ov: Overview, p: str, settle: bool = True) -> tuple[int, int] | None:
    """(column key, map or unit) chosen, or None. ``settle`` (before the selectors exist) also clears a
    choice that does not fit this model and clamps the map number to the layer."""
    _, col_key, item_key = _keys(p)
    keys = [c.key for c in ov.columns]
    key = st.session_state.get(col_key)
    if key not in keys:  # nothing chosen yet, or another model's layer
        if settle:
            st.session_state[col_key] = None
        return None
    item = int(min(max(int(st.session_state.get(item_key) or 1), 1), _count(ov, key)))
    if settle:
        st.session_state[item_key] = item
    return key, item - 1


def _feeds(tmodel, result, ov: Overview, sel) -> dict[int, float] | None:
    """What the selected neuron reads, with each input's share, for highlighting edges."""
    if sel is None or tmodel is None:
        return None
    col = ov.column(sel[0])
    try:
        if col.kind == "conv2d":
            share = conv_contributions_from(tmodel, result, sel[0], sel[1]).share()
            return {i: float(s) for i, s in enumerate(share)}
        if col.kind == "dense":
            d = N.dense_neuron_from(tmodel, result, sel[0], sel[1])
            top = d.top(5)
            c = np.abs(d.contributions[top])
            return {int(i): float(v / (c.max() or 1)) for i, v in zip(top, c)}
    except intro.IntrospectionError:
        return None
    return None


def overview_section(model, result: intro.Introspection, spec: dict, p: str, described: str = "") -> None:
    """The overview figure, the selectors and the drill-down for the selected neuron."""
    fig_key, col_key, item_key = _keys(p)
    ov_pre = build_overview(result)
    sel = _selection(ov_pre, p)
    ov = build_overview(result, pinned=sel) if sel else ov_pre
    try:
        tmodel = intro.as_torch(model, spec)
        if not isinstance(tmodel, nn.Sequential):
            tmodel = None
    except intro.IntrospectionError:
        tmodel = None
    fig = op.overview_figure(ov, selected=sel, feeds=_feeds(tmodel, result, ov, sel))
    st.plotly_chart(fig, key=fig_key, on_select=lambda: _on_click(p), selection_mode="points",
                    config={"displayModeBar": False})
    st.caption(f"The active model on {described or 'the current input'}, left to right: each column a layer "
               "(one colour scale per layer; hover for values), lines show which maps feed which. "
               f"**Click any map, unit or class** to see how it was computed. {ov.sampled}")
    labels = {c.key: f"{'input' if c.key < 0 else c.key + 1}: {c.label} ({' × '.join(map(str, c.shape))})"
              for c in ov.columns}
    s1, s2, _ = st.columns([2.2, 1, 2])
    s1.selectbox("Explain", list(labels), format_func=labels.get, key=col_key,
                 placeholder="click a map above, or choose a layer")
    if st.session_state.get(col_key) is not None:
        n = _count(ov, st.session_state[col_key])
        if ov.is_classes(st.session_state[col_key]):     # units that are classes go by the class's name
            names = ov.class_names
            s2.selectbox("Class", list(range(1, n + 1)), key=item_key, format_func=lambda u: str(names[u - 1]))
        else:
            what = {"dense": "Unit", "flatten": "Unit"}.get(ov.column(st.session_state[col_key]).kind, "Map")
            s2.number_input(f"{what} (1–{n})", 1, n, key=item_key)
    sel = _selection(ov, p, settle=False)
    if sel is None:
        return
    with st.container(border=True):
        try:
            _drilldown(tmodel, result, ov, sel, p)
        except intro.IntrospectionError as exc:
            st.error(str(exc))


def _drilldown(tmodel, result, ov: Overview, sel: tuple[int, int], p: str) -> None:
    key, item = sel
    col = ov.column(key)
    if col.kind == "softmax":
        return _softmax(result, item, p)
    if col.kind == "input":
        st.markdown(f"**The input, channel {item + 1}**: what the model sees, values 0 (black) to 1 (white).")
        st.plotly_chart(lp.grid(result.input[item], colorscale="gray", zmin=0, zmax=1, height=300, annotate=False),
                        key=p + "dd_input")
        return
    if tmodel is None:
        st.info("Taking a neuron apart needs a model built from a spec; this one is not.")
        return
    {"conv2d": _conv, "batchnorm2d": _batchnorm, "relu": _activation, "sigmoid": _activation, "tanh": _activation,
     "maxpool2d": _pool, "avgpool2d": _pool, "dense": _dense, "flatten": _flatten}.get(col.kind, _other)(
        tmodel, result, ov, key, item, p)


def _other(tmodel, result, ov, key, item, p) -> None:
    st.info(f"{ov.column(key).label} has no arithmetic to take apart here.")


def _cell_picker(shape: tuple[int, int], default: tuple[int, int], p: str, ident: str, label: str) -> tuple[int, int]:
    """A window-position slider with Previous / Next, row-major like the Convolution page."""
    h, w = shape
    k = f"{p}dd_pos_{ident}"
    st.session_state.setdefault(k, default[0] * w + default[1] + 1)
    n = h * w

    def step(d):
        st.session_state[k] = int(min(max(st.session_state[k] + d, 1), n))

    b1, b2, b3 = st.columns([6, 1, 1], vertical_alignment="bottom")
    pos = b1.slider(label, 1, n, key=k) if n > 1 else 1
    b2.button("◀ Previous", key=k + "_prev", on_click=step, args=(-1,), width="stretch")
    b3.button("Next ▶", key=k + "_next", on_click=step, args=(1,), width="stretch")
    return divmod(int(pos) - 1, w)


def _conv(tmodel, result, ov, key, ch, p) -> None:
    cc = conv_contributions_from(tmodel, result, key, ch)
    c_in = cc.partials.shape[0]
    kh, kw = cc.kernel.shape[1:]
    order = np.argsort(-cc.share(), kind="stable")
    shown = np.sort(order[:MAX_PARTS])
    st.markdown(f"**How map {ch + 1} of layer {key + 1} ({ov.column(key).label}) was made.** Its kernel is "
                f"{c_in} slice{'s' if c_in > 1 else ''} of {kh}×{kw}, one per input channel: each input channel is convolved with its own "
                f"slice, and the {c_in} partial maps plus the bias {N.fmt(cc.bias)} add up to the output map.")
    H, W = cc.output.shape
    default = np.unravel_index(int(np.argmax(cc.output)), cc.output.shape)
    r, c = _cell_picker((H, W), default, p, f"conv_{key}_{ch}", "Output cell (window position, row by row)")
    st.plotly_chart(npl.conv_parts(cc, shown, (r, c), grey_input=key == 0), key=p + "dd_conv")
    if c_in > len(shown):
        st.caption(f"Drawn: the {len(shown)} input channels with the largest share of Σ|partial| "
                   f"({', '.join(str(i + 1) for i in shown)}); every channel is in the table below.")
    cell = cc.cell(r, c)
    (ph, pw), (r0, c0) = cc.padding, cell.origin
    top, left = r0 - ph, c0 - pw
    on_pad = top < 0 or left < 0 or top + kh > cc.input.shape[1] or left + kw > cc.input.shape[2]
    st.markdown(f"**Output cell row {r + 1}, column {c + 1}**: the window covers rows {top + 1}–{top + kh}, "
                f"columns {left + 1}–{left + kw} of the input" + (" (rows and columns outside 1–"
                f"{cc.input.shape[1]} are the zero padding)" if on_pad else "") + ".")
    rows = sorted(range(c_in), key=lambda i: -abs(cell.subtotals[i]))
    st.markdown("**Channel sums** (each input channel's products, added up), largest first:")
    st.dataframe(pd.DataFrame({"input channel": [i + 1 for i in rows],
                               "sum": [float(cell.subtotals[i]) for i in rows],
                               "products": [cell.written_channel(i) for i in rows]}),
                 hide_index=True, width="stretch", height=min(260, 38 + 35 * c_in),
                 column_config={"sum": st.column_config.NumberColumn(format="%.4f")})
    st.markdown("**Total**: the channel sums, then the bias")
    st.markdown(f"<div data-testid='neuron-total' style='font-size:1.02rem'>{cell.written_total()}</div>",
                unsafe_allow_html=True)
    st.caption(f"The model's own value at this cell: {N.fmt(cell.output, 6)} (the sum above, computed in float64, "
               f"differs by {abs(cell.total - cell.output):.1e}).")
    _open_in_convolution(cc, ov.column(key).label, key, ch, shown, p)


def _open_in_convolution(cc, label, key, ch, shown, p) -> None:
    c_in = cc.partials.shape[0]
    o1, o2 = st.columns([1, 2], vertical_alignment="bottom")
    ic = int(o1.selectbox("Input channel to step through", list(range(c_in)), index=int(shown[0]),
                          format_func=lambda i: f"channel {i + 1}", key=f"{p}dd_open_{key}_{ch}")) if c_in > 1 else 0
    if o2.button("Open in the Convolution page", key=p + "dd_open", icon=":material/grid_on:"):
        st.session_state[CONV_HANDOFF] = {
            "image": cc.input[ic].astype(float), "kernel": cc.kernel[ic].astype(float),
            "bias": float(cc.bias) if c_in == 1 else 0.0, "stride": int(cc.stride[0]), "padding": int(cc.padding[0]),
            "about": (f"layer {key + 1} ({label}), map {ch + 1}: input channel {ic + 1} and its kernel slice"
                      + ("" if c_in == 1 else f"; the layer adds the other {c_in - 1} channels and the bias "
                                              f"{N.fmt(cc.bias)} after")),
            "token": next(_tokens)}
        try:
            st.switch_page(CONV_PAGE)
        except StreamlitPageNotFoundError:  # this page running on its own (a test): the hand-off still waits there
            st.info("The map and kernel slice are waiting on the Convolution page: open it from the sidebar.")


def _batchnorm(tmodel, result, ov, key, ch, p) -> None:
    bn = N.batchnorm_neuron_from(tmodel, result, key, ch)
    st.markdown(f"**Batch norm, map {ch + 1}**: at inference it is a fixed scale and shift per channel, from the "
                f"learned γ, β and the running mean μ and variance σ² of training:")
    st.markdown(bn.written_scale())
    r, c = np.unravel_index(int(np.argmax(np.abs(bn.output))), bn.output.shape)
    g1, g2 = st.columns(2)
    g1.plotly_chart(lp.grid(bn.input, title="Before", height=300, rects=[(r, c, r + 1, c + 1, lp.WINDOW_COLOUR)],
                            **_scale(bn.input)), key=p + "dd_bn_in")
    g2.plotly_chart(lp.grid(bn.output, title="After: x·scale + shift", height=300,
                            rects=[(r, c, r + 1, c + 1, lp.WINDOW_COLOUR)], **_scale(bn.output)), key=p + "dd_bn_out")
    st.markdown(f"Cell row {r + 1}, column {c + 1}: {bn.written(r, c)}")


def _scale(a) -> dict:
    a = np.asarray(a)
    if a.size and float(a.min()) < 0:
        lo, hi = lp.signed_limits(a)
        return dict(colorscale="RdBu", zmid=0, zmin=lo, zmax=hi)
    return dict(colorscale="Viridis", zmin=0, zmax=max(float(a.max()), 1e-6))


def _activation(tmodel, result, ov, key, ch, p) -> None:
    a = N.activation_neuron_from(tmodel, result, key, ch if ov.column(key).is_maps else None)
    if a.before.ndim == 1:  # after a dense layer: one unit
        st.markdown(f"**{ov.column(key).label}, unit {ch + 1}**: {a.written(ch)}")
        return
    zeroed = np.argwhere(a.zeroed)
    g1, g2 = st.columns(2)
    g1.plotly_chart(lp.grid(a.before, title="Before", height=300, marks=zeroed if len(zeroed) <= 400 else None,
                            mark_name="set to 0", **_scale(a.before)), key=p + "dd_act_in")
    g2.plotly_chart(lp.grid(a.after, title=f"After {ov.column(key).label}", height=300, **_scale(a.after)),
                    key=p + "dd_act_out")
    if a.kind == "relu":
        ex = tuple(zeroed[0]) if len(zeroed) else np.unravel_index(int(np.argmax(a.before)), a.before.shape)
        st.markdown(f"**ReLU, map {ch + 1}**: max(0, x) set {len(zeroed)} of {a.before.size} values to 0 (the negative "
                    f"ones{', ringed' if 0 < len(zeroed) <= 400 else ''}); the rest pass unchanged. "
                    f"Row {ex[0] + 1}, column {ex[1] + 1}: {a.written(ex)}.")
    else:
        ex = np.unravel_index(int(np.argmax(np.abs(a.before))), a.before.shape)
        st.markdown(f"**{ov.column(key).label}, map {ch + 1}**: every value squashed on its own. "
                    f"Row {ex[0] + 1}, column {ex[1] + 1}: {a.written(ex)}.")


def _pool(tmodel, result, ov, key, ch, p) -> None:
    pn = N.pool_neuron_from(tmodel, result, key, ch)
    H, W = pn.output.shape
    default = np.unravel_index(int(np.argmax(pn.output)), pn.output.shape)
    st.markdown(f"**{'Max' if pn.kind == 'max' else 'Average'} pooling, map {ch + 1}**: {pn.size}×{pn.size} windows, "
                f"stride {pn.stride}; each output cell is the {'largest value' if pn.kind == 'max' else 'mean'} "
                "of its window" + (" (the winners are ringed; windows of equal values have none)." if pn.kind == "max" else "."))
    r, c = _cell_picker((H, W), default, p, f"pool_{key}_{ch}", "Output cell (window, row by row)")
    r0, c0, r1, c1 = pn.window(r, c)
    marks = None
    if pn.kind == "max" and H * W <= 400:  # ring real contests only: a window of equal values (all 0) has none
        contested = [(i, j) for i in range(H) for j in range(W) if np.ptp(pn.values(i, j)) > 0]
        marks = [tuple(pn.winners[i, j]) for i, j in contested] or None
    g1, g2 = st.columns(2)
    g1.plotly_chart(lp.grid(pn.input, title="Input map", height=320, rects=[(r0, c0, r1, c1, lp.WINDOW_COLOUR)],
                            marks=marks, **_scale(pn.input)), key=p + "dd_pool_in")
    g2.plotly_chart(lp.grid(pn.output, title="Pooled", height=320, rects=[(r, c, r + 1, c + 1, lp.WINDOW_COLOUR)],
                            **_scale(pn.output)), key=p + "dd_pool_out")
    st.markdown(f"Output row {r + 1}, column {c + 1}: {pn.written(r, c)}")


def _flatten(tmodel, result, ov, key, unit, p) -> None:
    prev = result.layers[key - 1].output if key else result.input
    if prev.ndim == 3:
        c, rest = divmod(unit, prev.shape[1] * prev.shape[2])
        r, col = divmod(rest, prev.shape[2])
        st.markdown(f"**Flatten, unit {unit + 1}** is map {c + 1}, row {r + 1}, column {col + 1} of the layer before "
                    f"(value {N.fmt(prev[c, r, col])}): the maps are laid out one after another, row by row. "
                    "Nothing is computed; position becomes an index.")
    else:
        st.markdown(f"**Flatten, unit {unit + 1}**: value {N.fmt(prev.ravel()[unit])}, passed on unchanged.")


def _dense(tmodel, result, ov, key, unit, p) -> None:
    d = N.dense_neuron_from(tmodel, result, key, unit)
    last = key == len(result.layers) - 1
    who = f"the logit of class {result.class_names[unit]}" if last else f"unit {unit + 1}"
    st.markdown(f"**Dense layer {key + 1}, {who}**: every one of its {d.inputs.size:,} inputs times its weight, "
                "added up, plus a bias. The largest terms (weight × activation), the rest together, the bias:")
    st.plotly_chart(npl.dense_waterfall(d), key=p + "dd_dense")
    st.markdown(f"<div data-testid='neuron-total'>{d.written(5)}</div>", unsafe_allow_html=True)


def _softmax(result, i, p) -> None:
    s = N.softmax_neuron_from(result, i)
    names = result.class_names
    from ui.views import plots

    st.markdown(f"**Softmax, class {names[i]}**: e to the power of each logit, divided by their sum "
                "(the largest logit m is subtracted first: same ratio, no overflow). As on the Softmax page:")
    st.plotly_chart(plots.prob_bars(result.probabilities, names, height=240, highlight=i), key=p + "dd_softmax_bars")
    st.markdown(f"p({names[i]}) = {s.written()}")
