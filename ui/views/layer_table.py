"""The layer-by-layer table (#, layer, output shape, parameters) on Home and in Train's model summary.

Sized to fit a half-width column at 1280×800: left to Streamlit, the columns took their header and
widest cell each and the parameters column was cut off at the edge (behind a horizontal scroll bar).
Parameters carry a thousands separator, like every other count in the app ("100,416", not "100416").
"""
from __future__ import annotations

import streamlit as st

COLUMNS = {
    "#": st.column_config.NumberColumn("#", width=34, help="Layers counted from 1, as everywhere in the app."),
    "layer": st.column_config.TextColumn("layer", width=160),
    "output shape": st.column_config.TextColumn("output shape", width=82),
    "parameters": st.column_config.NumberColumn("parameters", width=80, format="localized"),
}


def layer_table(rows: list[dict], key: str | None = None) -> None:
    st.dataframe(rows, hide_index=True, width="stretch", column_config=COLUMNS, key=key)
