"""The sidebar's class box on every page: which class, who you are, Leave; for the teacher, the way to
the Class page and the wall, and "Show this to the class" (pushes this page's shareable link)."""
from __future__ import annotations

import streamlit as st

from ui.app import classroom_state as cs
from ui.app import errors, links
from ui.app.text import literal, shorten
from ui.views.classroom import nav

PUSH_MSG = "_class_push_msg"
CLASS_PAGES = ("class", "class-wall")

# A short description of a page's settings for the push's title, from the parameters its link carries.
_DESCRIBE = {
    "convolution": lambda q: (q["conv_preset"] if "kernel" in q["conv_preset"].lower() else f"{q['conv_preset']} kernel")
    if q.get("conv_preset") and q.get("conv_ksrc", "Preset") == "Preset" else "",
    "softmax": lambda q: q.get("sm_example", ""),
    "practice": lambda q: q.get("pr_kind", "") if q.get("pr_kind") not in (None, "Any") else "",
    "train": lambda q: f"preset {q['tr_preset']}" if q.get("tr_arch_mode") == "preset" and q.get("tr_preset") else "",
    "evaluate": lambda q: q.get("ev_data", ""),
}


def push_title(url_path: str, title: str, query: dict) -> str:
    try:
        extra = _DESCRIBE.get(url_path, lambda q: "")(query)
    except (KeyError, TypeError):
        extra = ""
    return shorten(f"{title}, {extra}" if extra else title, 110)


@errors.guarded
def _push(url_path: str, title: str) -> None:
    t = cs.teacher()
    if t is None:
        return
    # Not the teacher's run or sweep id: a run's page has Pause and Stop, and thirty students attached to
    # the teacher's demo run could stop it. The class gets the page with the teacher's settings.
    url = links.shareable_path(url_path, drop=links.KEEP)
    shown = push_title(url_path, title, st.query_params.to_dict())
    with cs.attempt(show=False, teacher_call=True) as out:
        cs.store().push(t["key"], url, title=shown)
        cs.forget_push(t["code"])     # this server's students see it at their next tick
    st.session_state[PUSH_MSG] = ("ok", f"Sent to the class: {shown}.") if out.ok else ("error", out.error)


@errors.guarded
def _leave() -> None:
    m = cs.member()
    if m is not None:
        with cs.attempt(show=False):
            cs.store().leave(m.token)
    # Leaving works even while the database is away: this session forgets the class either way.
    was_teacher = cs.teacher() is not None
    cs.drop_class()
    st.session_state[cs.NOTE] = ("You left the class on this device; the class goes on, and your teacher link "
                                 "opens it again." if was_teacher else
                                 "You left the class. Your drawings stay with it unless you withdrew them.")


def _check_membership() -> None:
    """A removed student or an ended class is noticed on the next page run, not only on the next send."""
    m = cs.member()
    if m is None or cs.is_down():
        return
    with cs.attempt(show=False, student_call=True):
        cs.store().membership(m.token)


def class_sidebar(page, pages: dict) -> None:
    """The class box for this session (nothing outside a class). ``page``: the page on screen."""
    _check_membership()
    cs.remember()                  # a reload brings the class back (and forgets it once it is gone)
    t, m = cs.teacher(), cs.member()
    if t is None and m is None:
        return
    with st.sidebar, st.container(border=True, key="class_box"):
        if t is not None:
            st.markdown(f":material/school: **You teach** {literal(t['name'])}")
            st.caption(f"Join code **{t['code']}**")
            c1, c2 = st.columns(2)
            if "class" in pages:
                nav.page_link(where=c1, page=pages["class"], label="Class", icon=":material/groups:")
            if "class-wall" in pages:
                nav.page_link(where=c2, page=pages["class-wall"], label="Wall", icon=":material/view_module:")
            if page.url_path not in CLASS_PAGES:
                st.button("Show this to the class", key="class_push", icon=":material/cast_for_education:",
                          on_click=_push, args=(page.url_path, page.title), type="primary",
                          help="Every student sees a banner with a button that opens this page with these settings.")
            msg = st.session_state.pop(PUSH_MSG, None)
            if msg:
                (st.success if msg[0] == "ok" else st.error)(literal(msg[1]) if msg[0] == "ok" else msg[1])
        if m is not None and t is None:
            st.markdown(f":material/groups: **Class** {literal(m.class_name)}")
            st.caption(f"You are {literal(m.nickname)} · code {m.code}")
        st.button("Leave the class", key="class_leave", icon=":material/logout:", on_click=_leave,
                  help="Only this browser leaves; the class goes on." if t else "Your drawings stay with the class "
                       "unless you withdraw them on the Class page.")
