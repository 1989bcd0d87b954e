"""Links between class-mode pages that also work when a page runs on its own (AppTest of one page file,
where st.navigation has not declared the others): then the link is left out instead of failing."""
from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException


def page_link(page, label: str, icon: str | None = None, where=None, **kwargs) -> None:
    try:
        (where or st).page_link(page, label=label, icon=icon, **kwargs)
    except StreamlitAPIException:      # StreamlitPageNotFoundError: the page is not declared in this run
        pass
