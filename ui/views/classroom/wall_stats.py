"""The wall's second half: how models do on the class's drawings (the default model, the teacher's active
model, the students' own models as they drew), the class's confusion matrix with the drawings behind
each cell, and the drawings the model finds hardest.

It reads the drawings the live wall keeps in the session (no database call of its own) and classifies
each drawing once per model: a tick only classifies the drawings that arrived since the last one.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnn_core.lessons.formatting import count_of

from cnn_core.classroom import scoring
from cnn_core.classroom.errors import ClassModelError
from cnn_core.inference.evaluation import predict_proba
from ui.app import classroom_state as cs
from ui.app import errors, state
from ui.app.text import literal
from ui.views.classroom import wall
from ui.views.train.train_charts import confusion_figure
from ui.views.classroom import nav

TICK_S = 3
PROBS = "_class_wall_probs"        # {model key: {drawing id: probs over the class's labels}}
STUDENTS = "the students' models (as they drew)"
DEFAULT = "the default model"
ACTIVE = "your active model"


def _plotly_safe(names: list[str]) -> list[str]:
    # Plotly reads a few HTML tags in tick labels (<a href>, <b>…): user labels must stay text there too.
    return [n.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for n in names]


def class_probs(model_key: str, bundle, w: dict, labels: list[str]) -> dict | None:
    """{drawing id: probabilities over ``labels``} by ``bundle`` for every drawing of the wall; only new
    drawings are classified. None when the model has no output for some label."""
    try:
        cols = scoring.label_columns([str(n) for n in bundle.class_names], labels)
    except ClassModelError:
        return None
    if tuple(bundle.spec.get("input_shape", ())) != (1, 28, 28):
        return None
    cache = st.session_state.setdefault(PROBS, {})
    mine = cache.get(model_key)
    if mine is None or mine["model"] is not bundle.model or mine["revision"] != w["revision"] or mine["code"] != w["code"]:
        mine = cache[model_key] = {"model": bundle.model, "revision": w["revision"], "code": w["code"], "p": {}}
    todo = [i for i in w["rows"] if i not in mine["p"] and i in w["images"]]
    if todo:
        x = np.stack([w["images"][i][0] for i in todo]).astype(np.float32)[:, None] / 255.0
        p = predict_proba(bundle.model, x)[:, cols]
        p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
        mine["p"].update({i: p[k] for k, i in enumerate(todo)})
    return mine["p"]


def _stored_probs(rows, labels) -> dict:
    return {r.id: np.asarray(r.probs, float) for r in rows if r.probs is not None and len(r.probs) == len(labels)}


def _accuracy(rows, probs: dict | None, labels: list[str]) -> str:
    if probs is None:
        return "—"
    idx = {k: i for i, k in enumerate(labels)}
    hits = [int(np.argmax(probs[r.id])) == idx[r.label] for r in rows if r.id in probs and r.label in idx]
    return "—" if not hits else f"{np.mean(hits):.0%}"


def _cell_pick(names: list[str], n: int):
    """The cell last clicked in the matrix (a click writes the pickers), like Evaluate."""
    points = (st.session_state.get("wall_cm") or {}).get("selection", {}).get("points", [])
    if points:
        p = points[0]
        try:
            if p.get("curve_number") == 1 and p.get("point_index") is not None:
                sel = divmod(int(p["point_index"]), n)
                if st.session_state.get("_wall_last_click") != sel:
                    st.session_state["_wall_last_click"] = sel
                    st.session_state["wall_true"], st.session_state["wall_pred"] = names[sel[0]], names[sel[1]]
        except (ValueError, TypeError, IndexError):
            pass


def _matrix(rows, probs: dict, labels: list[str], w: dict) -> None:
    idx = {k: i for i, k in enumerate(labels)}
    use = [r for r in rows if r.id in probs and r.label in idx]
    if not use:
        st.caption("No drawing this model can be judged on yet.")
        return
    truth = np.array([idx[r.label] for r in use])
    pred = np.array([int(np.argmax(probs[r.id])) for r in use])
    k = len(labels)
    cm = np.zeros((k, k), int)
    np.add.at(cm, (truth, pred), 1)
    shown_names = _plotly_safe(labels)
    _cell_pick(labels, k)
    for key in ("wall_true", "wall_pred"):
        if st.session_state.get(key) not in labels:
            off = cm.copy()
            np.fill_diagonal(off, -1)
            r0, c0 = np.unravel_index(int(off.argmax()), off.shape)
            st.session_state["wall_true"], st.session_state["wall_pred"] = labels[r0], labels[c0]
    left, right = st.columns([3, 2], gap="large")
    with right:
        st.markdown("**Drawings in a cell**")
        st.caption("Click a cell of the matrix, or pick it here.")
        c1, c2 = st.columns(2)
        t = idx[c1.selectbox("true label", labels, key="wall_true", format_func=str)]
        p = idx[c2.selectbox("model said", labels, key="wall_pred", format_func=str)]
        cell = [r for r, a, b in zip(use, truth, pred) if a == t and b == p][::-1][:24]
        st.markdown(f"**{count_of(len(cell), 'drawing')}** labelled **{literal(labels[t])}** that the model calls "
                    f"**{literal(labels[p])}**.")
        wall.grid(cell, w["images"], key="wall_cell_grid", per_row=4)
    with left:
        # Built again only when a count or the chosen cell changed, not on every tick.
        fig = state.memo("wall_cm_figure", (cm.tobytes(), tuple(shown_names), t, p),
                         lambda: confusion_figure(cm, shown_names, False, (t, p)))
        st.plotly_chart(fig, key="wall_cm", on_select="rerun",
                        selection_mode="points", width="stretch")


def _hardest(rows, probs: dict, labels: list[str], w: dict) -> None:
    idx = {k: i for i, k in enumerate(labels)}
    scored = sorted(((float(probs[r.id][idx[r.label]]), r) for r in rows if r.id in probs and r.label in idx),
                    key=lambda pr: pr[0])[:8]
    if not scored:
        return
    st.markdown("**The hardest drawings**: the lowest probability for what the student says it is")
    with st.container(key="wall_hard"):
        cols = st.columns(8)
        for col, (pt, r) in zip(cols, scored):
            with col:
                pic = wall.thumbs.picture(w["images"], r.id)
                if pic is not None:
                    st.image(pic, width=96, alt=f"a drawing labelled {r.label}, p = {pt:.0%}")
                st.caption(f"**{literal(r.label)}**: p = {pt:.0%} · {literal(r.nickname)}")


@errors.fragment(run_every=TICK_S)
def analysis() -> None:
    t = cs.teacher()
    w = st.session_state.get(wall.WALL)
    if t is None or w is None:
        return
    labels = list(t["labels"])
    rows = wall.rows_of(w)
    if not rows:
        return
    default = class_probs("default", state.default_bundle(), w, labels)
    own = st.session_state.get(state.ACTIVE_MODEL)
    active = class_probs("active", own, w, labels) if own is not None else None
    students = _stored_probs(rows, labels)
    st.header("How the models do on our drawings")
    c = st.columns(3)
    c[0].metric("Default model (MNIST)", _accuracy(rows, default, labels),
                help="Trained on MNIST only." if default is not None else
                     "The default model knows only the digits 0–9, not this class's labels.")
    c[1].metric("Your active model", _accuracy(rows, active, labels) if own is not None else "—",
                help=(f"{own.name}" if own is not None else "Train a model (or load one) to compare it here."))
    c[2].metric("The students' models", _accuracy(rows, students or None, labels),
                help="What the model each student had active said when they sent the drawing.")
    choices = [m for m, p in ((DEFAULT, default), (ACTIVE, active), (STUDENTS, students or None)) if p is not None]
    if labels != [str(i) for i in range(10)]:
        nav.page_link("pages/6_Train.py", label="Train a model on our class's drawings", icon=":material/model_training:",
                     query_params={"tr_dataset": "class"})
    if not choices:
        st.info("No model here knows these labels yet: train one on the class's drawings (Train page, data set "
                "“Our class's drawings”), make it your active model, and its confusion matrix appears here.")
        return
    which = st.radio("Confusion matrix of", choices, horizontal=True, key="wall_cm_model")
    probs = {DEFAULT: default, ACTIVE: active, STUDENTS: students}[which]
    st.header("The class's confusion matrix")
    _matrix(rows, probs, labels, w)
    _hardest(rows, probs, labels, w)
