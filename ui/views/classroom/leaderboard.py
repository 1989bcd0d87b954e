"""The class leaderboard (every submitted model scored by the server on the held-out fifth of the class's
drawings), with the default model's row for comparison; and the Train page's "Submit" button."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnn_core.lessons.formatting import count_of

from cnn_core.classroom import scoring
from cnn_core.classroom.errors import ClassModelError
from cnn_core.models.specs import count_params
from ui.app import classroom_state as cs
from ui.app import errors, state
from ui.views.train.train_charts import fmt_pct

MSG = "_class_board_msg"


def _pct(v) -> str:
    return "—" if v is None else f"{v * 100:.0f} %"


def _settings_text(s: dict) -> str:
    if not isinstance(s, dict):
        return ""
    order = ("describe", "dataset", "engine", "optimizer", "lr", "batch_size", "epochs")
    parts = [str(s[k]) if k == "describe" else f"{k} {s[k]}" for k in order if s.get(k) not in (None, "")]
    return "; ".join(parts)[:200]


def default_model_score(code: str, teacher_key: str | None):
    """The default model's score on the class's held-out drawings (None when it cannot be scored)."""
    with cs.attempt(show=False) as out:
        test = cs.store().dataset(code, part="test", teacher_key=teacher_key)
    if not out.ok:
        return None, None
    bundle = state.default_bundle()
    try:
        cols = scoring.label_columns([str(n) for n in bundle.class_names], list(test.class_names))
    except ClassModelError as exc:
        return None, str(exc)
    ids = test.meta.get("drawing_ids", np.zeros(0))
    key = (code, len(test), int(np.sum(ids)))
    return state.memo("class_board_default", key, lambda: scoring.score(bundle.model, cols, test)), None


@errors.guarded
def _hide(entry_id: int, hidden: bool) -> None:
    t = cs.teacher()
    if t is None:
        return
    with cs.attempt(show=False, teacher_call=True) as out:
        cs.store().hide_entry(t["key"], entry_id, hidden=hidden)
    st.session_state[MSG] = ("ok", "Hidden from the class." if hidden else "Shown again.") if out.ok \
        else ("error", out.error)


def leaderboard(code: str, teacher: dict | None = None) -> None:
    msg = st.session_state.pop(MSG, None)
    if msg:
        (st.success if msg[0] == "ok" else st.error)(msg[1])
    key = teacher["key"] if teacher else None
    with cs.attempt(student_call=teacher is None, teacher_call=teacher is not None) as out:
        rows = cs.store().leaderboard(code, teacher_key=key, include_hidden=teacher is not None)
    if not out.ok:
        return
    base, why = default_model_score(code, key)
    table = []
    if base is not None:
        bundle = state.default_bundle()
        table.append({"rank": "—", "who": "default model (for comparison)", "accuracy": _pct(base.accuracy),
                      "per label": " · ".join(f"{k}: {_pct(v)}" for k, v in base.per_label.items()),
                      "parameters": f"{count_params(bundle.spec):,}", "settings": "trained on MNIST, not on the class",
                      "held-out drawings": base.n_test, "time": ""})
    for r in rows:
        table.append({"rank": str(r.rank), "who": r.nickname, "accuracy": _pct(r.accuracy),
                      "per label": " · ".join(f"{k}: {_pct(v)}" for k, v in r.per_label.items()),
                      "parameters": f"{r.n_params:,}", "settings": _settings_text(r.settings),
                      "held-out drawings": r.n_test, "time": r.created.strftime("%H:%M")})
        if teacher is not None:
            table[-1]["hidden"] = "hidden" if r.hidden else ""
    st.markdown("**Leaderboard**: every model scored by the server on the held-out fifth of the class's drawings")
    if not rows:
        st.caption("No model submitted yet. Train one on the Train page (on “Our class's drawings”, alone or "
                   "with the bundled digits), then press “Submit to the class leaderboard” under the finished run.")
    if table:
        st.dataframe(table, hide_index=True, width="stretch", key="class_board_table")
    st.caption("A model that is right on MNIST can be wrong on our class's 7s: the default model's row shows how a "
               "model trained only on MNIST does on the drawings of this room. The held-out fifth is chosen by a "
               "hash of each drawing and never trained on.")
    if why:
        st.caption(why)
    if teacher is not None and rows:
        with st.expander("Hide or show an entry"):
            for r in rows:
                c1, c2 = st.columns([4, 1], vertical_alignment="center")
                c1.text(f"{r.rank}. {r.nickname}: {_pct(r.accuracy)}{' (hidden)' if r.hidden else ''}")
                c2.button("Show" if r.hidden else "Hide", key=f"class_entry_{r.id}", on_click=_hide,
                          args=(r.id, not r.hidden))


def submit_button(run, bundle) -> None:
    """Under a finished run on the Train page: send its model to the class leaderboard (class members only)."""
    m = cs.member()
    if m is None:
        return
    done = st.session_state.setdefault("_class_submitted", {})
    if run.id in done:
        st.success(f"Submitted to the class leaderboard: {done[run.id]}.", icon=":material/leaderboard:")
        return
    if st.button("Submit to the class leaderboard", key=f"class_submit_{run.id}", icon=":material/leaderboard:",
                 help="The server scores the model on the held-out fifth of the class's drawings."):
        cfg = run.config
        settings = {"describe": cfg.describe(), "dataset": run.dataset_info.get("name", ""),
                    "engine": cfg.engine, "optimizer": cfg.optimizer, "lr": cfg.lr, "batch_size": cfg.batch_size,
                    "epochs": cfg.epochs, "run_id": run.id}
        with cs.attempt(student_call=True) as out:
            with st.spinner("Scoring on the class's held-out drawings…"):
                row = cs.store().submit_model(m.token, bundle, settings=settings)
        if out.ok:
            done[run.id] = (f"{fmt_pct(row.accuracy)} on {count_of(row.n_test, 'held-out drawing')}" if row.accuracy is not None
                            else "scored once the class has held-out drawings")
            st.rerun()
