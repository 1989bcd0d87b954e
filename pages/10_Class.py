"""Class: start a class or join one; the join card, your drawings, the leaderboard, the teacher's controls."""
import streamlit as st

from ui.app import classroom_state as cs
from ui.app import state
from ui.views.classroom import leaderboard, mine, moderation
from ui.views.classroom import start_join as sj
from ui.app.text import literal
from ui.views.classroom import nav

state.sidebar_active_model()
st.title("Class")
st.caption("A class draws together: everyone sends drawings from Draw & Predict, the wall shows them as they "
           "arrive, and the class's drawings become a data set to train and compare models on.")

if not cs.reachable():
    st.error(cs.UNREACHABLE, icon=":material/cloud_off:")
    st.stop()
sj.read_links()
t, m = cs.teacher(), cs.member()

if t is not None:
    with cs.attempt(teacher_call=True) as out:
        info = cs.store().teacher_class(t["key"])
    if out.gone:
        st.rerun()
    sj.class_heading(t["name"], info if out.ok else None)
    sj.teacher_link_once()
    sj.join_card(t)
    c1, c2 = st.columns(2)
    nav.page_link("pages/11_Class_Wall.py", "Open the class wall (for the projector)", ":material/view_module:", where=c1)
    if m is None and c2.button("Send drawings too", key="class_teacher_join", icon=":material/draw:",
                               help="Join your own class as “Teacher”: for a class of one, or to show an example."):
        with cs.attempt() as out:
            st.session_state[cs.MEMBER] = cs.store().join(t["code"], "Teacher")
        if out.ok:
            st.rerun()
    tabs = st.tabs(["Moderation", "Leaderboard", "Your drawings"] if m else ["Moderation", "Leaderboard"])
    with tabs[0]:
        moderation.moderation(t, info if out.ok else None)
    with tabs[1]:
        leaderboard.leaderboard(t["code"], teacher=t)
    if m:
        with tabs[2]:
            mine.my_drawings()
elif m is not None:
    with cs.attempt(student_call=True) as out:
        info = cs.store().class_info(m.code)
    if out.gone:
        st.rerun()
    sj.class_heading(m.class_name, info if out.ok else None)
    st.caption(f"You are {literal(m.nickname)}. Draw on Draw & Predict and send what you drew; your teacher's "
               "wall shows it at once.")
    nav.page_link("pages/1_Draw_and_Predict.py", label="Draw & Predict: draw and send", icon=":material/draw:")
    tab_mine, tab_board = st.tabs(["Your drawings", "Leaderboard"])
    with tab_mine:
        mine.my_drawings()
    with tab_board:
        leaderboard.leaderboard(m.code)
else:
    left, right = st.columns(2, gap="large")
    with left:
        sj.join_form()
    with right:
        sj.start_form()
        st.caption("A class of one works too: start a class for yourself, tick “I will send drawings too”, "
                   "and build your own data set.")
