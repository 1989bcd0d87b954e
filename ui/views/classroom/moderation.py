"""The teacher's controls: hide / show / delete drawings, remove a student (and their drawings), close or
open joining, end the class (after a confirmation). Only drawn for a session holding the teacher key;
the store checks the key again on every call."""
from __future__ import annotations

import streamlit as st

from cnn_core.lessons.formatting import count_of

from ui.app import classroom_state as cs
from ui.app import errors
from ui.app.text import literal
from ui.views.classroom import thumbs

PER_ROW = 6
SHOWN = 36
MSG = "_class_mod_msg"
CONFIRM_END = "_class_confirm_end"


@errors.guarded
def act(what: str, *args) -> None:
    t = cs.teacher()
    if t is None:
        return
    s = cs.store()
    calls = {"hide": lambda i: s.hide(t["key"], i, hidden=True), "show": lambda i: s.hide(t["key"], i, hidden=False),
             "delete": lambda i: s.delete_drawing(t["key"], i), "remove": lambda i: s.remove_student(t["key"], i),
             "close": lambda: s.set_joining(t["key"], open=False), "open": lambda: s.set_joining(t["key"], open=True)}
    done = {"hide": "Hidden: no student sees it now, and it is out of the data set.", "show": "Shown again.",
            "delete": "Deleted.", "remove": "Removed: the student and their drawings are gone; their device is out "
            "of the class.", "close": "Joining is closed: nobody new can join.", "open": "Joining is open again."}
    with cs.attempt(show=False, teacher_call=True) as out:
        calls[what](*args)
    st.session_state[MSG] = ("ok", done[what]) if out.ok else ("error", out.error)


@errors.guarded
def _end() -> None:
    t = cs.teacher()
    if t is None:
        return
    with cs.attempt(show=False, teacher_call=True) as out:
        cs.store().end_class(t["key"])
    if out.ok:
        cs.drop_class("The class has ended: its drawings, students, pushes and leaderboard are deleted.")
    else:
        st.session_state[MSG] = ("error", out.error)


def message(toast: bool = False) -> None:
    """The last action's outcome, once. ``toast``: on the live wall, whose next tick (1.5 s) would wipe a
    message drawn in the page before anyone read it."""
    msg = st.session_state.pop(MSG, None)
    if msg and toast:
        st.toast(msg[1], icon=":material/check_circle:" if msg[0] == "ok" else ":material/error:")
    elif msg:
        (st.success if msg[0] == "ok" else st.error)(msg[1])


def drawings_grid(t: dict) -> None:
    """The newest drawings, hidden ones included, each with Hide/Show and Delete."""
    with cs.attempt(teacher_call=True) as out:
        rows = cs.store().drawings(t["code"], teacher_key=t["key"], include_hidden=True, limit=5000)
    if not out.ok:
        return
    if not rows:
        st.caption("No drawings yet.")
        return
    n_hidden = sum(r.hidden for r in rows)
    st.caption(f"{count_of(len(rows), 'drawing')}, {n_hidden} hidden. Hidden drawings are out of the wall, the students' "
               "view and the class's data set; delete removes one for good. The newest first.")
    shown = rows[::-1][:SHOWN]
    with cs.attempt(teacher_call=True) as out:
        images = cs.store().drawing_images(t["code"], [r.id for r in shown], teacher_key=t["key"])
    for start in range(0, len(shown), PER_ROW):
        cols = st.columns(PER_ROW)
        for col, row in zip(cols, shown[start:start + PER_ROW]):
            with col:
                pic = thumbs.picture(images, row.id)
                if pic is not None:
                    st.image(pic, width=84, alt=f"drawing #{row.id}, labelled {row.label}")
                st.caption(f"#{row.id} · " + thumbs.caption(row))
                c1, c2 = st.columns(2)
                if row.hidden:
                    c1.button("Show", key=f"class_show_{row.id}", on_click=act, args=("show", row.id))
                else:
                    c1.button("Hide", key=f"class_hide_{row.id}", on_click=act, args=("hide", row.id))
                c2.button("Delete", key=f"class_del_{row.id}", on_click=act, args=("delete", row.id))


def students_panel(t: dict, info) -> None:
    with cs.attempt(teacher_call=True) as out:
        people = cs.store().students(t["key"])
    if not out.ok:
        return
    if info is not None:
        if info.joining_open:
            st.button("Close joining", key="class_close", icon=":material/lock:", on_click=act, args=("close",),
                      help="Nobody new can join; everyone in the class stays.")
        else:
            st.button("Open joining", key="class_open", icon=":material/lock_open:", on_click=act, args=("open",))
    if not people:
        st.caption("Nobody has joined yet.")
        return
    for sid, nick, n in people:
        c1, c2 = st.columns([4, 1], vertical_alignment="center")
        c1.markdown(f"{literal(nick)} · {count_of(n, 'drawing')}")
        c2.button("Remove", key=f"class_remove_{sid}", on_click=act, args=("remove", sid),
                  help="Deletes this student's drawings and leaderboard entries; their device leaves the class.")


def end_class_control() -> None:
    if not st.session_state.get(CONFIRM_END):
        st.button("End the class…", key="class_end", icon=":material/stop_circle:",
                  on_click=lambda: st.session_state.__setitem__(CONFIRM_END, True))
        return
    st.warning("Ending the class deletes every drawing, student, pushed view and leaderboard entry now, for "
               "everyone. It cannot be undone.", icon=":material/warning:")
    c1, c2 = st.columns(2)
    c1.button("Yes, end the class", key="class_end_yes", type="primary", on_click=_end)
    c2.button("Cancel", key="class_end_no", on_click=lambda: st.session_state.pop(CONFIRM_END, None))


def moderation(t: dict, info) -> None:
    message()
    tab_d, tab_s, tab_end = st.tabs(["Drawings", "Students", "End the class"])
    with tab_d:
        drawings_grid(t)
    with tab_s:
        students_panel(t, info)
    with tab_end:
        end_class_control()
