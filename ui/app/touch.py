"""Phones, tablets and touch screens, for every page at once (app.py calls ``install`` before each page).

Charts let the finger scroll. Plotly's drag layer listens to ``touchstart`` (not passively) and calls
``preventDefault`` on it whenever the layout has a drag mode, so a one-finger swipe that starts on a
chart pans or zooms the chart and the page never scrolls: on a phone, where charts fill the width, a
learner got stuck on a long page. No plotly setting changes that for touch alone (``dragmode=False``
would also take zoom from the mouse; ``scrollZoom`` is about the wheel; ``staticPlot`` drops hover
values). So one capturing listener hands every touch that starts on a chart's drag layer to the
browser: it never reaches plotly, and the browser does what it does anywhere else: one finger scrolls,
two fingers zoom the page (and the chart with it), and a tap becomes the mouse events a tap always
becomes, so plotly shows the hover value of the cell under the finger. Mouse and trackpad are not
touch events: drag-to-zoom, double-click to reset and hover stay as they were on desktops. The
listener is passive: it cannot delay scrolling.

The drawing canvas owns its touches: its drawing layer already has ``touch-action: none`` (Fabric.js
sets it) and its ``touchstart`` calls ``preventDefault``, so a stroke draws and never scrolls. What
made an iPad scroll instead was the page's columns clipping the canvas, so part of what looks like
the canvas was the page: pages/1_Draw_and_Predict.py stacks its columns when they are too narrow.

Touch targets: radio options are at least 24 px high (WCAG 2.2, 2.5.8), and 44 px on touch screens
(a coarse pointer), where a finger needs them; wrapped rows of them sit closer, the targets being tall.

Phones (640 px wide or less, where Streamlit stacks columns): page titles are 2rem, not 2.75rem, so a
title such as "Backpropagation" fits the width and the Draw page's canvas and its answer fit on an
iPhone 13's 664 px screen together.
"""
from __future__ import annotations

import streamlit as st

SCRIPT = """<script>
(() => {
  if (window.__cnnExplorerTouch) return;     // once per browser tab: app.py runs on every rerun
  window.__cnnExplorerTouch = true;
  window.addEventListener("touchstart", (event) => {
    const target = event.target;
    if (target instanceof Element && target.closest(".js-plotly-plot .draglayer")) event.stopPropagation();
  }, {capture: true, passive: true});
})();
</script>"""

CSS = """<style>
.st-key-touch_machinery { display: none; }
[data-testid="stRadioOption"] { min-height: 24px; align-items: center; }
@media (pointer: coarse) {
  [data-testid="stRadioOption"] { min-height: 44px; }
  [data-testid="stRadioGroup"][aria-orientation="horizontal"] { row-gap: 4px; }
}
@media (max-width: 640px) {
  h1 { font-size: 2rem !important; padding: 0 0 0.5rem !important; }
}
</style>"""


def install() -> None:
    """The touch listener and the touch-target CSS. Neither takes space on the page."""
    st.html(CSS)      # style only: Streamlit puts it in the event container, outside the page's flow
    with st.container(key="touch_machinery"):
        st.html(SCRIPT, unsafe_allow_javascript=True)
