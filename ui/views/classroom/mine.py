"""A student's own contributions: a small grid of what they sent, each with Withdraw."""
from __future__ import annotations

import streamlit as st

from cnn_core.lessons.formatting import count_of

from ui.app import classroom_state as cs
from ui.app import errors
from ui.views.classroom import thumbs
from ui.views.classroom import nav

PER_ROW = 6
WITHDRAWN = "_class_withdrawn_msg"


@errors.guarded
def _withdraw(drawing_id: int) -> None:
    m = cs.member()
    if m is None:
        return
    with cs.attempt(show=False, student_call=True) as out:
        cs.store().withdraw(m.token, drawing_id)
    st.session_state[WITHDRAWN] = ("ok", "Withdrawn: it is gone from the wall and the class's data set.") \
        if out.ok else ("error", out.error)


def my_drawings() -> None:
    m = cs.member()
    if m is None:
        return
    st.markdown("**Your drawings**")
    msg = st.session_state.pop(WITHDRAWN, None)
    if msg:
        (st.success if msg[0] == "ok" else st.error)(msg[1])
    with cs.attempt(student_call=True) as out:
        rows = cs.store().my_drawings(m.token)
        images = cs.store().drawing_images(m.code, [r.id for r in rows if not r.hidden][-60:])
    if not out.ok:
        return
    if not rows:
        st.caption("Nothing sent yet: draw on Draw & Predict and press “Send to the class” under the canvas.")
        nav.page_link("pages/1_Draw_and_Predict.py", label="Draw & Predict", icon=":material/draw:")
        return
    st.caption(f"You sent {count_of(len(rows), 'drawing')}. Withdraw any of them: it leaves the wall, the class's data set "
               "and the leaderboard's test set at once.")
    shown = rows[-60:][::-1]
    for start in range(0, len(shown), PER_ROW):
        cols = st.columns(PER_ROW)
        for col, row in zip(cols, shown[start:start + PER_ROW]):
            with col:
                pic = thumbs.picture(images, row.id)
                if pic is not None:
                    st.image(pic, width=84, alt=f"your drawing, labelled {row.label}")
                st.caption(thumbs.caption(row, who=False))
                st.button("Withdraw", key=f"class_withdraw_{row.id}", on_click=_withdraw, args=(row.id,),
                          icon=":material/undo:")
