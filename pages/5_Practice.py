"""Practice: generated exercises like the lecture's, checked when answered, solved step by step."""
import secrets

import numpy as np
import pandas as pd
import streamlit as st

from cnn_core.lessons import exercises as E
from cnn_core.lessons.formatting import fmt
from ui.views.see_inside import lesson_plots as lp
from ui.app import errors, links


K = "pr_"
ANY = "Any kind"


@errors.guarded
def _new_exercise() -> None:
    st.session_state[K + "seed"] = secrets.randbelow(10**9)
    st.session_state[K + "checked"] = None


def _score() -> dict:
    return st.session_state.setdefault(K + "score", {"right": 0, "tried": 0, "seen": []})


# The settings a link carries: the kind of exercise and its seed (the same exercise for the whole class).
LINK_FIELDS = [links.Field(K + "kind", links.choice([ANY, *E.KINDS.values()])),
               links.Field(K + "seed", links.integer(0, 10**9))]
links.restore("practice", LINK_FIELDS)
if K + "seed" not in st.session_state:
    _new_exercise()

st.title("Practice")
st.caption("Exercises like the notes' — complete a convolution, find X and Y, output sizes, max pooling, "
           "softmax. Work them out on paper, type the answer, check it, then read the worked solution.")

c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
kind_label = c1.selectbox("Kind of exercise", [ANY] + list(E.KINDS.values()), key=K + "kind",
                          on_change=_new_exercise)
c2.button("New exercise", key=K + "new", on_click=_new_exercise, type="primary", width="stretch")
score = _score()
c3.metric("Score", f"{score['right']} / {score['tried']}",
          help="Exercises answered right on the first check, out of exercises checked.")

kind = None if kind_label == ANY else next(k for k, v in E.KINDS.items() if v == kind_label)
seed = int(st.session_state[K + "seed"])
ex = E.generate(kind, seed)
ident = f"{ex.kind}:{seed}"

st.header(ex.title)
st.markdown(ex.prompt)


def _show_grids() -> None:
    g = ex.grids
    if not g:
        return
    if "logits" in g:
        st.dataframe(pd.DataFrame(g["logits"], columns=[f"z{i + 1}" for i in range(g["logits"].shape[1])]),
                     hide_index=True)
        return
    cols = st.columns(3)
    if "image" in g:
        cols[0].plotly_chart(lp.grid(g["image"], title=f"Image {g['image'].shape[0]}×{g['image'].shape[1]}",
                                     colorscale="gray", digits=0, height=280, text_size=15),
                             key=f"{K}img_{ident}")
    if "kernel" in g:
        lim = lp.signed_limits(g["kernel"])
        cols[1].plotly_chart(lp.grid(g["kernel"], title="Kernel", colorscale="RdBu", zmid=0, zmin=lim[0],
                                     zmax=lim[1], digits=0, height=280, text_size=15), key=f"{K}ker_{ident}")
    if "output" in g:
        out = g["output"]
        hidden = np.argwhere(np.isnan(out))
        names = {tuple(rc): n for rc, n in zip(map(tuple, hidden), "XY")}
        # hidden cells stay empty (no colour, no hover value that would hint at the answer), named X / Y
        txt = [["" if (r, c) in names else fmt(out[r, c]) for c in range(out.shape[1])] for r in range(out.shape[0])]
        lim = lp.signed_limits(out)
        fig = lp.grid(out, title="Output", colorscale="RdBu", zmid=0, zmin=lim[0], zmax=lim[1], text=txt,
                      height=280, text_size=15, rects=[(r, c, r + 1, c + 1, lp.WINDOW_COLOUR) for r, c in hidden])
        lp.label_cells(fig, [(r, c, n) for (r, c), n in names.items()], hover="{label}: the value to find")
        cols[2].plotly_chart(fig, key=f"{K}out_{ident}")
    if "map" in g:
        cols[0].plotly_chart(lp.grid(g["map"], title=f"Map {g['map'].shape[0]}×{g['map'].shape[1]}",
                                     colorscale="Viridis", digits=0, height=300, text_size=15),
                             key=f"{K}map_{ident}")


_show_grids()

with st.form(key=f"{K}form_{ident}"):
    multi = len(ex.answer_shape) == 2
    label = f"Your answer — {ex.answer_hint}"
    if multi:
        answer = st.text_area(label, key=f"{K}answer_{ident}", height=110,
                              placeholder="\n".join(" ".join("…" for _ in range(ex.answer_shape[1]))
                                                    for _ in range(ex.answer_shape[0])))
    else:
        answer = st.text_input(label, key=f"{K}answer_{ident}")
    f1, f2 = st.columns([1, 5])
    checked_now = f1.form_submit_button("Check", type="primary")
    gave_up = f2.form_submit_button("Show the solution")

if checked_now:
    try:
        res = ex.check(answer)
    except E.AnswerError as exc:
        st.session_state[K + "checked"] = {"ident": ident, "error": str(exc)}
    else:
        st.session_state[K + "checked"] = {"ident": ident, "correct": res.correct, "message": res.message}
        if ident not in score["seen"]:
            score["seen"].append(ident)
            score["tried"] += 1
            score["right"] += int(res.correct)
        st.rerun()  # the score at the top shows this check
if gave_up:
    st.session_state[K + "checked"] = {"ident": ident, "gave_up": True}
    if ident not in score["seen"]:
        score["seen"].append(ident)
        score["tried"] += 1
    st.rerun()

state = st.session_state.get(K + "checked")
if state and state.get("ident") == ident:
    if "error" in state:
        st.error(state["error"])
    else:
        if state.get("gave_up"):
            st.info("Here is how it goes. Try a new one when you're ready.")
        elif state["correct"]:
            st.success(state["message"])
        else:
            st.error(state["message"] + " Compare with the worked solution below, or fix your answer and check again.")
        with st.expander("Worked solution", expanded=True):
            st.markdown(ex.solution)
            st.caption("Answer: " + ", ".join(fmt(v, 3) for v in ex.expected.ravel()))

links.publish("practice", LINK_FIELDS)
