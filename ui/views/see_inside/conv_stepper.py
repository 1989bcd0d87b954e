"""The Convolution page's stepper: slide the window by hand or with Play, and see the window, the
products, the feature map so far and the written-out sum of the current position.

The controls change the position only in callbacks (they run before the slider exists in the run;
changing a slider's value after it is drawn is an error in Streamlit). Play advances one position
per fragment tick; it can skip positions whose window sees only zeros (``stepping.busy_positions``).
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnn_core.lessons import convolution as conv
from cnn_core.lessons import stepping
from cnn_core.lessons.formatting import fmt, fmt_factor
from ui.app import errors
from ui.views import chart_alt
from ui.views.see_inside import lesson_plots as lp

K = "conv_"
SLIDER, PLAYING, TICK, SPEED, SKIP = K + "slider", K + "playing", K + "tick", K + "speed", K + "skip"
TO_INK = K + "to_ink"   # set when the page opens on a new drawing: start at the first window that sees ink
CH_SCALES = ["Reds", "Greens", "Blues"]
# px: input, products and map side by side, with the written-out sum below them, all on a 1280×800 screen
# (at 280 the sum ended at 846 px, below the fold; the page top moved down 16 px since, hence 210).
GRID_H = 210


def playing() -> bool:
    return bool(st.session_state.get(PLAYING))


def play_interval() -> float | None:
    """Seconds between Play's steps, None when paused (the fragment then does not tick)."""
    return stepping.PLAY_SPEEDS.get(st.session_state.get(SPEED, "normal"), 0.8) if playing() else None


def _busy(setup) -> np.ndarray | None:
    return stepping.busy_positions(setup) if st.session_state.get(SKIP, True) else None


@errors.guarded
def _step(delta: int, n: int, busy) -> None:
    """Previous / Next (every position, ``busy`` None): a hand on the controls pauses Play."""
    st.session_state[PLAYING] = False
    st.session_state[SLIDER] = stepping.next_position(st.session_state.get(SLIDER, 1), n, busy, delta)


@errors.guarded
def _toggle_play(n: int, busy) -> None:
    if playing():
        st.session_state[PLAYING] = False
        return
    pos = st.session_state.get(SLIDER, 1)
    if pos >= stepping.last_position(n, busy):               # at the end: from the start
        st.session_state[SLIDER] = stepping.first_position(n, busy)
    elif busy is not None and not busy[pos - 1]:             # on a window of zeros: to the next busy one
        st.session_state[SLIDER] = stepping.next_position(pos, n, busy)
    st.session_state[PLAYING] = True


def _advance(n: int, busy) -> None:
    """One tick of Play; at the end Play stops (a full rerun, so the page stops ticking)."""
    pos = st.session_state.get(SLIDER, 1)
    if pos >= stepping.last_position(n, busy):
        st.session_state[PLAYING] = False
        st.rerun()
    st.session_state[SLIDER] = stepping.next_position(pos, n, busy)


def controls(setup) -> None:
    """Speed and skipping, outside the fragment: changing them reruns the page, which sets the tick rate."""
    st.session_state.setdefault(SPEED, "normal")
    st.select_slider("Play speed", list(stepping.PLAY_SPEEDS), key=SPEED, persist_state="session")
    if setup.positions > 1:
        st.session_state.setdefault(SKIP, True)
        st.checkbox("Play skips windows that see only zeros", key=SKIP, persist_state="session",
                    help="A drawing is mostly black background: Play then stops only where the window touches "
                         "the strokes. Previous / Next and the slider still reach every position.")


def stepper(setup, full: np.ndarray, *, rgb: bool, digits: int, publish=None) -> None:
    """``publish``: called after each run, to put the new position in the page's address."""
    n = setup.positions
    busy = _busy(setup)
    if st.session_state.pop(TO_INK, False):
        st.session_state[SLIDER] = stepping.first_position(n, stepping.busy_positions(setup))
    if st.session_state.get(SLIDER, 1) > n:
        st.session_state[SLIDER] = n
    if playing() and st.session_state.get(TICK):
        _advance(n, busy)
    st.session_state[TICK] = playing()

    b1, b2, b3, b4 = st.container(key="conv_nav").columns([5, 1, 1, 1], vertical_alignment="bottom")
    pos = b1.slider("Window position (step)", 1, n, key=SLIDER) if n > 1 else 1
    b2.button("◀ Previous", key=K + "prev", on_click=_step, args=(-1, n, None), width="stretch")
    b3.button("Next ▶", key=K + "next", on_click=_step, args=(1, n, None), width="stretch")
    if b4.button("Pause" if playing() else "Play", key=K + "play", width="stretch", on_click=_toggle_play,
                 args=(n, busy), icon=":material/pause:" if playing() else ":material/play_arrow:"):
        st.session_state[TICK] = False   # this rerun is not a tick
        st.rerun()   # the whole page: Play's tick rate is set outside this fragment
    _draw_position(setup, full, int(pos) - 1, rgb=rgb, digits=digits, busy=busy)
    if publish is not None:
        publish()


def _draw_position(setup, full, k: int, *, rgb: bool, digits: int, busy) -> None:
    n, f, p = setup.positions, setup.f, setup.padding
    h, w = setup.in_hw
    r, c = setup.position(k)
    cell = conv.conv_cell(setup, r, c)
    r0, c0 = cell.origin
    win = (r0, c0, r0 + f, c0 + f, lp.WINDOW_COLOUR)
    image_area = (p, p, p + h, p + w, lp.IMAGE_COLOUR, "dot") if p else None
    quiet = "" if busy is None or busy[k] else " It sees only zeros."
    st.markdown(f"**Step {k + 1} of {n}**: output row {r + 1}, column {c + 1}; the window covers rows "
                f"{r0 + 1}–{r0 + f}, columns {c0 + 1}–{c0 + f} of the {'padded ' if p else ''}input.{quiet}")
    lo, hi = float(np.min(setup.padded)), float(np.max(setup.padded))
    out_lim = lp.signed_limits(full)
    prod_lim = lp.signed_limits(cell.products)
    so_far = conv.partial_map(full, k)
    if not rgb:
        g1, g2, g3 = st.columns([1.15, 1, 1.15])
        chart_alt.show_heatmap(
            lp.grid(setup.padded[0], title=f"Input{' (zero-padded by ' + str(p) + ')' if p else ''}",
                    colorscale="gray", zmin=lo, zmax=hi, digits=digits,
                    rects=[x for x in (image_area, win) if x], height=GRID_H, text_size=11),
            setup.padded[0], key=K + "fig_in", name="input" + (f", zero-padded by {p}" if p else "")
            + f"; the window covers rows {r0 + 1}–{r0 + f}, columns {c0 + 1}–{c0 + f}", where=g1, table=False,
            digits=digits)
        # Up to 3×3 each cell writes "x·w = product"; a bigger kernel leaves room for the product only (written
        # out in full it was squeezed to about 8 px): the factors are in the input's window and the kernel.
        if f <= 3:
            txt = [[f"{fmt_factor(x, digits)}·{fmt_factor(wt, digits)}<br>= {fmt(pr, digits)}"
                    for x, wt, pr in zip(xr, wr, prr)]
                   for xr, wr, prr in zip(cell.window[0], cell.kernel[0], cell.products[0])]
        else:
            txt = [[fmt(pr, 2) for pr in prr] for prr in cell.products[0]]
        chart_alt.show_heatmap(
            lp.grid(cell.products[0], title="Products: input · kernel", colorscale="RdBu", zmid=0,
                    zmin=prod_lim[0], zmax=prod_lim[1], text=txt, height=GRID_H, hover_name="product",
                    text_size=12),
            cell.products[0], key=K + "fig_prod", name="products of the window and the kernel", where=g2,
            table=False, digits=digits)
        chart_alt.show_heatmap(
            lp.grid(so_far, title="Feature map so far", colorscale="RdBu", zmid=0,
                    zmin=out_lim[0], zmax=out_lim[1], digits=digits,
                    rects=[(r, c, r + 1, c + 1, lp.WINDOW_COLOUR)], height=GRID_H),
            so_far, key=K + "fig_out", name=f"feature map so far (this step writes row {r + 1}, column {c + 1})",
            where=g3, table=False, digits=digits)
        with st.container(border=True, gap="small"):
            st.markdown("**The sum, written out** (bias last):")
            st.markdown(f"<div data-testid='conv-sum' style='font-size:1.05rem'>{cell.written_sum(include_bias=True)}</div>",
                        unsafe_allow_html=True)
        # one switch for the three grids: three switches under the charts pushed the sum off a 1280×800 screen
        chart_alt.table_toggle({"Input": setup.padded[0], "Products": cell.products[0], "Feature map so far": so_far},
                               key=K + "grids", digits=digits, label="Show the grids as tables")
        return
    cols = st.columns(3)
    for ch, name in enumerate(["R", "G", "B"]):
        with cols[ch]:
            st.plotly_chart(lp.grid(setup.padded[ch], title=f"{name} channel{' (padded)' if p else ''}",
                                    colorscale=CH_SCALES[ch], zmin=lo, zmax=hi,
                                    rects=[x for x in (image_area, win) if x], height=260),
                            key=f"{K}fig_in{ch}")
            txt = [[f"{fmt_factor(x)}·{fmt_factor(wt)}" for x, wt in zip(xr, wr)]
                   for xr, wr in zip(cell.window[ch], cell.kernel[ch])]
            st.plotly_chart(lp.grid(cell.products[ch], title=f"{name} products, sum {fmt(cell.channel_sums[ch])}",
                                    colorscale="RdBu", zmid=0, zmin=prod_lim[0], zmax=prod_lim[1], text=txt,
                                    height=230, hover_name="product"),
                            key=f"{K}fig_prod{ch}")
            st.caption(f"{name}: {cell.written_sum(channel=ch)}")
    s1, s2 = st.columns([2, 1])
    with s1, st.container(border=True):
        st.markdown("**Three channel sums + bias = one output value**:")
        st.markdown(f"<div data-testid='conv-sum' style='font-size:1.1rem'>{cell.written_channel_sum()}</div>",
                    unsafe_allow_html=True)
        st.caption("The kernel is as deep as the input, so the three channels collapse into one feature map.")
    s2.plotly_chart(lp.grid(so_far, title="Feature map so far", colorscale="RdBu", zmid=0,
                            zmin=out_lim[0], zmax=out_lim[1], rects=[(r, c, r + 1, c + 1, lp.WINDOW_COLOUR)],
                            height=260), key=K + "fig_out")
