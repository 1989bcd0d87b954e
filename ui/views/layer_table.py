"""The layer-by-layer table (#, layer, output shape, parameters) on Home and in Train's model summary.

A static table (``st.table``), not the interactive data grid: it wraps a long layer name over two
lines where the grid cut it off at the column's edge (or hid the parameters column behind a
horizontal scroll bar), and a screen reader reads it as a plain HTML table, row by row. Its cells
would render markdown, so the layer names go in escaped (``literal``). Parameters carry a thousands
separator, like every other count in the app ("100,416", not "100416").
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.app.text import literal

NUMBER = literal("#")      # the header too is markdown: a bare "#" became an empty <h1> in an empty header


def frame(rows: list[dict]) -> pd.DataFrame:
    """The rows as shown: layer names escaped, counts as text with separators."""
    return pd.DataFrame([{NUMBER: str(int(r["#"])), "layer": literal(r["layer"]), "output shape": _shape(r["output shape"]),
                          "parameters": f"{int(r['parameters']):,}"} for r in rows],
                        columns=[NUMBER, "layer", "output shape", "parameters"])


def _shape(shape) -> str:
    """"32 × 28 × 28" kept on one line (no-break spaces): a narrow column wrapped it after a ×."""
    return str(shape).replace(" ", "\u00a0")


def layer_table(rows: list[dict], key: str | None = None) -> None:
    """``key`` names the table's container (for the page's CSS and the tests)."""
    with st.container(key=key or None):
        st.table(frame(rows), hide_index=True, border="horizontal")
