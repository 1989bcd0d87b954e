"""Draw & Predict's class panel: say what the drawing is, send it to the class, send again later.

Renders nothing unless this session has joined a class. The label is the student's answer, not the
model's: for a digit class the model's guess is offered as one button ("Yes, it is a 7") and becomes
the label only when pressed. A drawing that cannot be sent because the database is away is kept in
the session (``classroom_state.PENDING``) with a "Send again" button, so nothing is lost.
"""
from __future__ import annotations

import io

import numpy as np
import streamlit as st

from cnn_core.lessons.formatting import count_of
from PIL import Image

from cnn_core.classroom import scoring
from cnn_core.classroom.errors import ClassModelError
from ui.app import classroom_state as cs
from ui.app import state
from ui.app.text import literal

THUMB_PX = 96
SENT = "_class_sent"            # digests of drawings already sent from this session (last few)


def thumbnail_png(picture_rgba: np.ndarray | None, image28: np.ndarray) -> bytes:
    """The picture as the student made it, at most THUMB_PX a side (the 28×28 input when there is none)."""
    if picture_rgba is not None and np.ndim(picture_rgba) == 3:
        im = Image.fromarray(np.asarray(picture_rgba, np.uint8)).convert("RGB")
    else:
        a = np.clip(np.rint(np.asarray(image28, np.float64) * 255), 0, 255).astype(np.uint8)
        im = Image.fromarray(a, mode="L").resize((84, 84), Image.NEAREST)
    im.thumbnail((THUMB_PX, THUMB_PX), Image.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def class_prediction(pred, bundle, labels: list[str]) -> tuple[int | None, list[float] | None]:
    """The model's guess as an index into the class's labels (None when it is not one of them), and its
    probability for each label (None when the model has no output for some label)."""
    if pred is None:
        return None, None
    names = [str(n) for n in bundle.class_names]
    guess = names[int(pred.label)] if 0 <= int(pred.label) < len(names) else None
    index = labels.index(guess) if guess in labels else None
    try:
        cols = scoring.label_columns(names, labels)
    except ClassModelError:
        return index, None
    return index, [float(np.clip(pred.probs[c], 0.0, 1.0)) for c in cols]


def _deliver(m, item: dict) -> cs.Outcome:
    with cs.attempt(show=False, student_call=True) as out:
        row = cs.store().add_drawing(m.token, item["image28"], label=item["label"],
                                     thumbnail_png=item["thumbnail_png"], prediction=item["prediction"],
                                     probs=item["probs"], model_name=item["model_name"])
        out.row = row
    return out


def _pending(m) -> None:
    """Drawings kept while the database was away, with the button that sends them."""
    pending = st.session_state.get(cs.PENDING) or []
    if not pending:
        return
    st.warning(f"{count_of(len(pending), 'drawing')} not sent yet: the class database was not reachable. They are kept "
               "here; send them again when it is back.", icon=":material/cloud_off:")
    if st.button("Send again", key="class_send_again", icon=":material/send:"):
        left = []
        for item in pending:
            out = _deliver(m, item)
            if out.ok:
                continue
            if out.gone:
                st.error(st.session_state.get(cs.NOTE) or out.error)
                st.session_state.pop(cs.PENDING, None)
                return
            left.append(item)
            error = out.error
        st.session_state[cs.PENDING] = left
        if left:
            st.error(error)
        else:
            st.success(f"Sent {count_of(len(pending), 'drawing')} to the class.", icon=":material/check_circle:")


def _choose_label(labels: list[str], guess_index: int | None, d: str) -> str | None:
    key = f"class_label_{d}"
    if guess_index is not None and labels == [str(i) for i in range(10)]:
        guess = labels[guess_index]
        st.button(f"Yes, it is a {guess}", key=f"class_yes_{d}", icon=":material/check:",
                  on_click=lambda: st.session_state.__setitem__(key, guess),
                  help="Use the model's guess as the label: only if that is what you drew.")
    return st.selectbox("What is it?" if guess_index is None else "Or choose what it is", labels, index=None,
                        key=key, placeholder="Choose the label", format_func=str)


def send_panel(image28, picture_rgba, pred, bundle, source_text: str = "") -> None:
    """The "Send to your class" box under the input (Draw & Predict); nothing outside a class."""
    m = cs.member()
    if m is None:
        return
    with st.container(border=True, key="class_send"):
        st.markdown(f":material/groups: **Send to your class** · {literal(m.class_name)}")
        if image28 is None:
            st.caption("Draw something (or upload or pick one), then say what it is and send it to the class.")
        else:
            _send_controls(m, image28, picture_rgba, pred, bundle, source_text)
        _pending(m)


def _send_controls(m, image28, picture_rgba, pred, bundle, source_text: str) -> None:
    d = state.digest(image28)[:12]
    sent = st.session_state.setdefault(SENT, [])
    if d in sent:
        st.success("Sent: it is on the class wall. Draw another one to send it too.", icon=":material/check_circle:")
        return
    guess_index, probs = class_prediction(pred, bundle, list(m.labels))
    label = _choose_label(list(m.labels), guess_index, d)
    if st.button("Send to the class", key=f"class_send_{d}", type="primary", icon=":material/send:",
                 disabled=label is None, help=None if label else "Choose what it is first."):
        item = {"image28": np.asarray(image28, np.float32), "label": label,
                "thumbnail_png": thumbnail_png(picture_rgba, image28), "prediction": guess_index,
                "probs": probs, "model_name": bundle.name, "source": source_text}
        out = _deliver(m, item)
        if out.ok:
            sent.append(d)
            del sent[:-20]
            st.success(f"Sent as {literal(label)}: it is on the class wall. You can withdraw it on the Class page.",
                       icon=":material/check_circle:")
        elif out.gone:
            st.error(st.session_state.get(cs.NOTE) or out.error, icon=":material/block:")
        elif out.away:
            st.session_state.setdefault(cs.PENDING, []).append(item)
        else:
            st.error(out.error, icon=":material/block:")
    st.caption("Your teacher sees it with your nickname; the class's data set gets it too.")
