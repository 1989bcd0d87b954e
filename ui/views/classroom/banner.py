"""The push banner at the top of every page: "Your teacher is showing: Convolution, Sobel x kernel — Open".

A fragment that ticks every 1.5 s only for a student in a class, looking for a push newer than the one
it holds (one indexed row, read once per 0.25 s by this server for all its sessions: classroom_state.newest_push). Nobody is taken anywhere by force: the banner offers Open
(the same tab, the same session, the page with the pushed settings) and Dismiss. The same spot
shows the one note that a class has ended or the student was removed, until dismissed.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import streamlit as st

from ui.app import classroom_state as cs
from ui.app import errors
from ui.app.text import literal

LATEST = "_class_push_latest"        # the newest PushRow this session has seen
DISMISSED = "_class_push_dismissed"  # the id of the push dismissed or opened
TICK_S = 1.5
# The banner floats over the top of the page, so a student scrolled down to the canvas sees it too. The
# background follows the theme (st.context.theme), so the text stays readable in light and dark.
_CSS = """<style>
.st-key-class_push_banner, .st-key-class_note_box {position: fixed; top: 3.6rem; right: 1.2rem; z-index: 999;
  width: min(40rem, calc(100vw - 2.4rem)); background: %s; box-shadow: 0 .3rem 1.2rem rgba(0,0,0,.35); border-radius: .6rem}
</style>"""


def _background() -> str:
    try:
        dark = (st.context.theme.type or "light") == "dark"
    except Exception:    # noqa: BLE001 - no browser context (a bare script run)
        dark = False
    return "#1f2430" if dark else "#ffffff"


def _dismiss(push_id: int) -> None:
    st.session_state[DISMISSED] = push_id


def _note() -> None:
    note = st.session_state.get(cs.NOTE)
    if not note:
        return
    st.html(_CSS % _background())       # floats like the banner: seen wherever the student has scrolled to
    with st.container(border=True, key="class_note_box"):
        c1, c2 = st.columns([6, 1], vertical_alignment="center")
        c1.warning(note, icon=":material/info:")
        c2.button("Dismiss", key="class_note_ok", on_click=lambda: st.session_state.pop(cs.NOTE, None))


def push_target(url: str, pages: dict):
    """(st.Page, query params) for a pushed same-site link, or (None, {}) for a page this app lacks."""
    parts = urlsplit(url)
    page = pages.get(parts.path.strip("/"))
    return page, dict(parse_qsl(parts.query, keep_blank_values=False))


@errors.fragment(run_every=TICK_S)
def _live_banner(pages: dict) -> None:
    m = cs.member()
    if m is None:
        return
    latest = st.session_state.get(LATEST)
    if not cs.is_down():
        with cs.attempt(show=False, student_call=True) as out:
            new = cs.newest_push(m.code)        # shared by this server's sessions (classroom_state)
            if new is not None and (latest is None or new.id > latest.id):
                st.session_state[LATEST] = latest = new
        if out.gone:
            st.rerun()           # the whole page: the note replaces the class box and this banner
    if latest is None or st.session_state.get(DISMISSED) == latest.id:
        return
    page, params = push_target(latest.url, pages)
    if page is None:
        return
    st.html(_CSS % _background())
    with st.container(border=True, key="class_push_banner"):
        c1, c2, c3 = st.columns([6, 1.2, 1.2], vertical_alignment="center")
        c1.markdown(f":material/cast_for_education: **Your teacher is showing:** {literal(latest.title or page.title)}")
        if c2.button("Open", key=f"class_push_open_{latest.id}", type="primary", icon=":material/open_in_browser:"):
            _dismiss(latest.id)
            st.session_state["_page_now"] = None     # the page reads the pushed settings as a fresh landing
            st.switch_page(page, query_params=params)
        c3.button("Dismiss", key=f"class_push_dismiss_{latest.id}", on_click=_dismiss, args=(latest.id,))


def push_banner(pages: dict) -> None:
    """The banner (and the class-ended note) for this session; ``pages``: url_path → st.Page."""
    _note()
    if cs.member() is not None and cs.teacher() is None:
        _live_banner(pages)
