"""Helpers for the class-mode AppTests: a temporary class database per test, start / join / send."""
from __future__ import annotations

import pytest

CLASS_PAGE = "pages/10_Class.py"
WALL_PAGE = "pages/11_Class_Wall.py"
DRAW_PAGE = "pages/1_Draw_and_Predict.py"


@pytest.fixture
def class_db(tmp_path, monkeypatch):
    """A fresh SQLite class database for this test (the app's cached store is per URL)."""
    url = f"sqlite:///{tmp_path / 'classes.db'}"
    monkeypatch.setenv("CNN_EXPLORER_DATABASE_URL", url)
    return url


def texts(at) -> str:
    """Everything the page wrote as text, markdown, caption, message or metric, one string."""
    parts = []
    for group in (at.markdown, at.caption, at.text, at.error, at.warning, at.info, at.success, at.header, at.subheader,
                  at.title, at.code):
        parts += [str(e.value) for e in group]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)


def start_class(at, name="7B", labels: str | None = None, draw_too: bool = False):
    """On app.py: open the Class page and start a class; returns the teacher's session dict."""
    at.switch_page(CLASS_PAGE).run()
    at.text_input(key="class_new_name").input(name)
    if labels is not None:
        at.radio(key="class_new_kind").set_value("custom")
        at.text_input(key="class_new_labels").input(labels)
    if draw_too:
        at.checkbox(key="class_new_draw_too").check()
    at.button(key="FormSubmitter:class_start-Start the class").click().run()
    assert not at.exception
    return at.session_state["class_teacher"]


def join(at, code: str, nick: str = ""):
    at.switch_page(CLASS_PAGE).run()
    at.text_input(key="class_join_code").input(code)
    if nick:
        at.text_input(key="class_join_nick").input(nick)
    at.button(key="FormSubmitter:class_join-Join").click().run()
    assert not at.exception
    return at


def send_bundled_digit(at, label: str | None = None):
    """On Draw & Predict: pick a bundled digit, confirm the model's guess (or choose ``label``), send."""
    at.switch_page(DRAW_PAGE).run()
    at.radio(key="draw_source").set_value("Random bundled digit").run()
    at.button(key="draw_pick").click().run()          # a new digit each time (one already sent says "Sent")
    yes = [b for b in at.button if (b.key or "").startswith("class_yes_")]
    if label is None:
        yes[0].click().run()
    else:
        next(s for s in at.selectbox if (s.key or "").startswith("class_label_")).select(label).run()
    next(b for b in at.button if (b.key or "").startswith("class_send_") and b.key != "class_send_again").click().run()
    assert not at.exception
    return at
