"""The class wall (the teacher's projector page): every drawing as it arrives, within two seconds.

The live part is a fragment that ticks every 1.5 s and asks the store only for drawings newer than
the id it already holds (``since_id``), appending them to what this session keeps (bounded). When a
drawing the wall holds was hidden, withdrawn or deleted, the class's revision counter changes and
the wall reads the class once more from the start. Only visible drawings reach the wall.
"""
from __future__ import annotations

import streamlit as st

from cnn_core.lessons.formatting import count_of

from ui.app import classroom_state as cs
from ui.app import errors
from ui.app.text import literal
from ui.views.classroom import moderation, thumbs

WALL = "_class_wall"          # {"code", "cursor", "revision", "rows": {id: DrawingRow}, "images": {id: (u8, png)}}
TICK_S = 1.5
PAGE = 500                    # rows per read (drawing_images takes at most 500 ids a call)
PAGES_PER_TICK = 6
THUMBS_KEPT = 400             # thumbnails kept in the session (the 28×28 inputs are kept for every drawing)
PER_ROW = 7
SHOWN = 42
ALL = "All"
MODERATE = "wall_moderate"    # the wall's "Hide buttons" switch
_CSS = """<style>
.st-key-wall_counts [data-testid="stMetricValue"] {font-size: 2.6rem; line-height: 1.1}
.st-key-wall_counts [data-testid="stMetricLabel"] p {font-size: 1.15rem; font-weight: 700}
.st-key-wall_head [data-testid="stMetricValue"] {font-size: 3rem}
.st-key-wall_grid [data-testid="stCaptionContainer"] p {font-size: 1.05rem; line-height: 1.3}
</style>"""


def _fresh(code: str) -> dict:
    return {"code": code, "cursor": 0, "revision": None, "rows": {}, "images": {}, "n_students": 0,
            "joining_open": True}


def sync(t: dict) -> dict:
    """Bring this session's copy of the wall up to date: only new rows are read."""
    w = st.session_state.get(WALL)
    if w is None or w["code"] != t["code"]:
        w = st.session_state[WALL] = _fresh(t["code"])
    if cs.is_down():
        w["away"] = True
        return w
    s = cs.store()
    with cs.attempt(show=False, teacher_call=True) as out:
        info = s.class_info(t["code"])
        if info.revision != w["revision"]:
            w.update(_fresh(t["code"]))
            w["revision"] = info.revision
        w["n_students"], w["joining_open"] = info.n_students, info.joining_open
        for _ in range(PAGES_PER_TICK):     # after a reset, a full class (3,000) is read back in one tick
            new = s.drawings(t["code"], since_id=w["cursor"], teacher_key=t["key"], limit=PAGE)
            if not new:
                break
            images = s.drawing_images(t["code"], [r.id for r in new], teacher_key=t["key"])
            for r in new:
                w["rows"][r.id] = r
                if r.id in images:
                    w["images"][r.id] = images[r.id]
            w["cursor"] = new[-1].id
            if len(new) < PAGE:
                break
        _bound(w)
    w["away"] = out.away
    w["gone"] = out.gone
    return w


def _bound(w: dict) -> None:
    """Keep thumbnails only for the newest THUMBS_KEPT drawings (the older ones show their 28×28 input)."""
    ids = sorted(w["images"])
    for i in ids[:-THUMBS_KEPT]:
        img28, _ = w["images"][i]
        w["images"][i] = (img28, None)


def rows_of(w: dict) -> list:
    return list(w["rows"].values())


def _filters(rows, labels: list[str]):
    c1, c2, c3, c4 = st.columns([2, 2, 1.4, 1.4], vertical_alignment="bottom")
    label = c1.selectbox("Label", [ALL, *labels], key="wall_f_label", format_func=str)
    names = sorted({r.nickname for r in rows})
    who = c2.selectbox("Student", [ALL, *names], key="wall_f_who", format_func=str)
    wrong = c3.toggle("Wrong only", key="wall_f_wrong", help="Only the drawings the student's model got wrong.")
    # Someone will draw something rude on a projector: one click here takes it off, without leaving the wall.
    c4.toggle("Hide buttons", key=MODERATE, help="A Hide button under each drawing: one click takes it off the wall, "
              "the students' view and the class's data set (the Class page can show it again).")
    out = [r for r in rows if (label == ALL or r.label == label) and (who == ALL or r.nickname == who)
           and (not wrong or r.ok is False)]
    return out


def _counts(rows, labels: list[str]) -> None:
    counts = {k: 0 for k in labels}
    for r in rows:
        if r.label in counts:
            counts[r.label] += 1
    with st.container(key="wall_counts"):
        per_line = 10 if len(labels) > 5 else len(labels)
        for start in range(0, len(labels), per_line):
            cols = st.columns(per_line)
            for col, k in zip(cols, labels[start:start + per_line]):
                col.metric(literal(k), counts[k])


def grid(rows, images: dict, key: str = "wall_grid", per_row: int = PER_ROW) -> None:
    with st.container(key=key):
        for start in range(0, len(rows), per_row):
            cols = st.columns(per_row)
            for col, r in zip(cols, rows[start:start + per_row]):
                with col:
                    pic = thumbs.picture(images, r.id)
                    if pic is not None:
                        st.image(pic, width=104, alt=f"a drawing labelled {r.label}")
                    st.caption(thumbs.caption(r))
                    if st.session_state.get(MODERATE):
                        st.button("Hide", key=f"{key}_hide_{r.id}", icon=":material/visibility_off:", type="tertiary",
                                  on_click=moderation.act, args=("hide", r.id),
                                  help=f"Hide drawing #{r.id}")


@errors.fragment(run_every=TICK_S)
def live_wall() -> None:
    t = cs.teacher()
    if t is None:
        return
    w = sync(t)
    if w.get("gone"):
        st.rerun()
    labels = list(t["labels"])
    rows = rows_of(w)
    st.html(_CSS)
    if w.get("away"):
        st.warning(cs.UNREACHABLE, icon=":material/cloud_off:")
    with st.container(key="wall_head"):
        c = st.columns([2.2, 1, 1, 1])
        c[0].metric("Join code", t["code"], help="Students open Class and type this code (or scan the QR code on the "
                                                  "Class page).")
        c[1].metric("Drawings", len(rows))
        c[2].metric("Students", w["n_students"])
        right = [r for r in rows if r.ok is not None]
        c[3].metric("Their models right", "—" if not right else f"{sum(r.ok for r in right) / len(right):.0%}",
                    help="Share of the drawings that the model each student had active got right.")
    if not w["joining_open"]:
        st.caption("Joining is closed.")
    moderation.message(toast=True)
    _counts(rows, labels)
    shown = _filters(rows, labels)
    newest = shown[::-1][:SHOWN]
    if not rows:
        st.info("No drawings yet: students draw on Draw & Predict and press “Send to the class”. They appear here "
                "within two seconds.", icon=":material/hourglass_empty:")
    elif not newest:
        st.caption("No drawing matches these filters.")
    else:
        st.caption(f"The newest {len(newest)} of {count_of(len(shown), 'matching drawing')}. ✓ right / ✗ wrong: what the "
                   "student's model said when they sent it.")
        grid(newest, w["images"])
