"""Starting a class, joining one, and the teacher's join card (large code, join link, QR, teacher link).

The two links that carry a secret are read here once and taken out of the address at once:
``?teacher=KEY`` (the teacher link) and ``?join=CODE`` (the join link / QR code).
"""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import segno
import streamlit as st

from cnn_core.lessons.formatting import count_of

from cnn_core import limits
from cnn_core.classroom import normalise_code
from ui.app import classroom_state as cs
from ui.app.text import literal

DIGITS = [str(d) for d in range(10)]
JOIN_CODE = "class_join_code"
NICK = "class_join_nick"
SHAPES_EXAMPLE = "circle, triangle, square, star, heart"
_BIG_CSS = """<style>
.st-key-class_code_big p {font-size: clamp(2.4rem, 5.6vw, 6rem); font-weight: 800; letter-spacing: .1em;
  line-height: 1.05; margin: 0; white-space: nowrap; font-family: ui-monospace, SFMono-Regular, Menlo, monospace}
</style>"""


def base_url() -> str:
    """scheme://host[:port] of this app as the browser reached it ("" when unknown, as in AppTest)."""
    try:
        url = st.context.url or ""
    except Exception:   # noqa: BLE001 - no browser context (a bare script run)
        url = ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def join_link(code: str) -> str:
    return f"{base_url()}/class?{urlencode({'join': code})}"


def teacher_link(key: str) -> str:
    return f"{base_url()}/class?{urlencode({'teacher': key})}"


def qr_png(text: str, scale: int = 8) -> bytes:
    """The QR code of ``text`` as PNG bytes, made here (segno): nothing is fetched from anywhere."""
    import io

    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=scale, border=2, dark="#000000", light="#ffffff")
    return buf.getvalue()


def read_links() -> None:
    """Take a teacher key or a join code out of the address (once) and into this session."""
    key = st.query_params.get("teacher")
    code = st.query_params.get("join")
    for k in ("teacher", "join", "token"):
        if k in st.query_params:
            del st.query_params[k]
    if key:
        with cs.attempt() as out:
            info = cs.store().teacher_class(key)
        if out.ok:
            cs.set_teacher(key, info)
            st.session_state.pop(cs.NOTE, None)
    if code:
        st.session_state[JOIN_CODE] = normalise_code(code)[:12]


def _labels_from(kind: str, text: str) -> list[str]:
    if kind == "digits":
        return DIGITS
    return [p.strip() for p in text.replace(";", ",").replace("\n", ",").split(",") if p.strip()]


def start_form() -> None:
    with st.form("class_start", border=True):
        st.markdown("**Start a class**")
        name = st.text_input("Class name", key="class_new_name", max_chars=limits.MAX_CLASS_NAME_CHARS,
                             placeholder="e.g. 7B, Tuesday lab, just me")
        kind = st.radio("Labels", ["digits", "custom"], horizontal=True, key="class_new_kind",
                        format_func={"digits": "Digits 0–9", "custom": "My own labels (2–10)"}.get)
        custom = st.text_input("Your labels, separated by commas (for “My own labels”)", key="class_new_labels",
                               placeholder=SHAPES_EXAMPLE)
        hours = st.number_input("Lives for (hours)", 1, limits.MAX_CLASS_HOURS, 12, key="class_new_hours",
                                help="Everything of the class is deleted when it ends or this time runs out.")
        draw_too = st.checkbox("I will send drawings too (a class of one, or to show an example)",
                               key="class_new_draw_too")
        submitted = st.form_submit_button("Start the class", type="primary", icon=":material/play_arrow:")
    if not submitted:
        return
    labels = _labels_from(kind, custom)
    with cs.attempt() as out:
        room = cs.store().create_class(name, labels=labels, lifetime_hours=float(hours))
        me = cs.store().join(room.code, "Teacher") if draw_too else None
    if out.ok:
        cs.drop_class()
        st.session_state[cs.NEW_CLASS] = room
        st.session_state[cs.TEACHER] = {"key": room.teacher_key, "code": room.code, "name": room.name,
                                        "labels": list(room.labels)}
        if me is not None:
            st.session_state[cs.MEMBER] = me
        st.rerun()


def join_form() -> None:
    with st.form("class_join", border=True):
        st.markdown("**Join a class**")
        code = st.text_input("Join code (on the board, e.g. K7M-Q2P)", key=JOIN_CODE, max_chars=12)
        nick = st.text_input("Nickname (optional; no real names needed)", key=NICK,
                             max_chars=limits.MAX_NICKNAME_CHARS, placeholder="Student 12")
        submitted = st.form_submit_button("Join", type="primary", icon=":material/login:")
    st.caption("No account, no e-mail: the class keeps only your nickname and what you send, and deletes "
               "everything when it ends.")
    if not submitted:
        return
    if not (code or "").strip():
        st.error("Type the join code your teacher shows (six letters and digits, like K7M-Q2P).")
        return
    with cs.attempt() as out:
        me = cs.store().join(code, nick or None, attempts=cs.join_attempts(), session_id=cs.session_id())
    if out.ok:
        st.session_state[cs.MEMBER] = me
        st.session_state.pop(cs.NOTE, None)
        st.rerun()


def big_code(code: str) -> None:
    st.html(_BIG_CSS)
    with st.container(key="class_code_big"):
        st.markdown(code)       # our own alphabet: letters, digits and a dash


def join_card(t: dict) -> None:
    """What the projector shows so that students can join: the code, large; the link and its QR code."""
    left, right = st.columns([3, 2], vertical_alignment="center")
    link = join_link(t["code"])
    with left:
        st.caption("Join code: open this app, choose Class, and type")
        big_code(t["code"])
        st.caption("or open the join link (or scan the QR code):")
        st.code(link, language=None)
    with right:
        st.image(qr_png(link), caption="Scan to join", width=260,
                 alt="QR code of the link to join this class")


def teacher_link_once() -> None:
    """The teacher link with the secret key, shown to the teacher once, right after the class starts."""
    room = st.session_state.get(cs.NEW_CLASS)
    if room is None:
        return
    with st.container(border=True, key="class_teacher_link"):
        st.warning("Keep this link: it is how you get back in after a reload or from another machine. "
                   "Do not show it to the class: it opens the teacher's controls.", icon=":material/key:")
        st.code(teacher_link(room.teacher_key), language=None)
        st.button("I have kept it: hide the link", key="class_hide_teacher_link",
                  on_click=lambda: st.session_state.pop(cs.NEW_CLASS, None))


def class_heading(name: str, info=None) -> None:
    st.header(f"Class {literal(name)}")
    if info is not None:
        left = info.expires.strftime("%H:%M UTC")
        st.caption(f"{count_of(info.n_students, 'student')} · labels: {literal(', '.join(info.labels))} · "
                   f"joining {'open' if info.joining_open else 'closed'} · ends at {left}, when everything "
                   "of it is deleted")
