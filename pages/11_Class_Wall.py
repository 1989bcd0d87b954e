"""Class wall: the teacher's projector page; every drawing as it arrives, counts, models, confusions."""
import streamlit as st

from ui.app import classroom_state as cs
from ui.app import state
from ui.app.text import literal
from ui.views.classroom import wall, wall_stats
from ui.views.classroom import nav

state.sidebar_active_model()
t = cs.teacher()
if t is None:
    st.title("Class wall")
    st.info("The wall is the teacher's page. Start a class (or open your teacher link) on the Class page; "
            "students see their own drawings there.", icon=":material/school:")
    nav.page_link("pages/10_Class.py", label="Class", icon=":material/groups:")
    st.stop()
if not cs.reachable():
    st.title("Class wall")
    st.error(cs.UNREACHABLE, icon=":material/cloud_off:")
    st.stop()

st.title(f"Class wall · {literal(t['name'])}")
wall.live_wall()
wall_stats.analysis()
