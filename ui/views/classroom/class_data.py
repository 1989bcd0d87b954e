"""“Our class's drawings” as a data set on Train and Evaluate (for a session in a class).

Train gets only the class's training part (``store.dataset(code, part="train")``) and uses the held-out
fifth as its test set, so no run ever trains on the drawings the leaderboard scores with. The loaded
data sets are kept per session and read again only when the class's drawings changed.
"""
from __future__ import annotations

import streamlit as st

from cnn_core.lessons.formatting import count_of

from cnn_core.data import catalog
from cnn_core.data import datasets as data
from ui.app import classroom_state as cs
from ui.app import state

MIN_TRAIN = 10          # fewer drawings cannot be split into training and validation parts


def _version(code: str) -> tuple:
    """Changes whenever a drawing is added, hidden, shown, withdrawn or deleted."""
    s = cs.store()
    return (code, s.class_info(code).revision, tuple(sorted(s.label_counts(code).items())))


def parts(code: str) -> tuple | None:
    """(train part, held-out fifth, everything) of the class's visible drawings, or None after one sentence."""
    key = cs.reader_key()
    with cs.attempt() as out:
        version = _version(code)
        got = state.memo("class_dataset", version, lambda: tuple(
            cs.store().dataset(code, part=p, teacher_key=key) for p in ("train", "test", "all")))
    return got if out.ok else None


def train_options() -> list[str]:
    """The class data sets this session can train on (none outside a class)."""
    labels = cs.class_labels()
    if labels is None:
        return []
    return list(catalog.CLASS_KEYS) if labels == data.DIGIT_CLASSES else ["class"]


def load_for_training(key: str):
    """(dataset, official test set or None) for the Train page, or None after saying why not."""
    code = cs.active_code()
    if code is None:
        st.info("Join a class (or start one) on the Class page to train on its drawings.")
        return None
    got = parts(code)
    if got is None:
        return None
    train, test, _ = got
    if len(train) < MIN_TRAIN:
        st.info(f"The class has {count_of(len(train), 'drawing')} to train on (and {len(test)} held out); send at least "
                f"{MIN_TRAIN}, a few of each label, from Draw & Predict.", icon=":material/hourglass_empty:")
        return None
    try:
        ds, official = catalog.class_dataset(key, train, test)
    except data.DataError as exc:
        st.error(str(exc))
        return None
    st.caption(f"The class's held-out fifth ({count_of(len(test), 'drawing')}, chosen by a hash of each drawing) is the test "
               "split here and the leaderboard's test set: no run ever trains on it."
               + (f" Training part: {len(train)} class drawings + {len(ds) - len(train):,} bundled digits."
                  if key == "class+bundled" else ""))
    return ds, official


def eval_options(bundle) -> dict:
    """Evaluate's choices for the class's drawings: label → zero-argument loader (when the model fits)."""
    code, labels = cs.active_code(), cs.class_labels()
    if code is None or [str(n) for n in bundle.class_names] != labels \
            or tuple(bundle.spec.get("input_shape", ())) != (1, 28, 28):
        return {}

    def load(i: int):
        got = parts(code)
        if got is None:
            raise data.DataError(cs.UNREACHABLE)
        return got[i]
    return {"our class's held-out drawings (the fifth never trained on)": lambda: load(1),
            "all our class's drawings": lambda: load(2)}
