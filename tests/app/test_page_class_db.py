"""Class mode with the database away: the class pages say so in one sentence, the rest of the app works,
and a drawing that could not be sent is kept and sent with "Send again" once the database is back."""
from __future__ import annotations

import socket

import pytest

from cnn_core.classroom import ClassStore, ClassStoreUnavailable
from ui.app import classroom_state as cs
from tests.app.classroom_helpers import (CLASS_PAGE, DRAW_PAGE, WALL_PAGE, class_db, join, send_bundled_digit,  # noqa: F401
                                         start_class, texts)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]      # nothing listens there once the socket is closed


@pytest.fixture(params=["unwritable sqlite", "closed postgresql"])
def away_db(request, tmp_path, monkeypatch):
    if request.param == "unwritable sqlite":
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder")
        url = f"sqlite:///{blocker / 'classes.db'}"          # its folder cannot be made: a file is in the way
    else:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/postgres"
    monkeypatch.setenv("CNN_EXPLORER_DATABASE_URL", url)
    return url


def test_the_class_page_says_so_in_one_sentence_and_the_rest_of_the_app_works(open_page, away_db):
    at = open_page("app.py")
    at.switch_page(CLASS_PAGE).run()
    assert not at.exception
    assert [e.value for e in at.error] == [cs.UNREACHABLE]
    at.switch_page(DRAW_PAGE).run()
    at.radio(key="draw_source").set_value("Random bundled digit").run()
    assert not at.exception and not at.error
    assert [m for m in at.metric if m.label == "Prediction"]
    at.switch_page("pages/2_Convolution.py").run()
    assert not at.exception and not at.error


def test_an_unsent_drawing_is_kept_and_sent_again_when_the_database_is_back(open_page, class_db, monkeypatch):
    teacher = open_page("app.py")
    code = start_class(teacher)["code"]
    student = open_page("app.py")
    join(student, code, "Ada")

    def away(*args, **kwargs):
        raise ClassStoreUnavailable("The class database is not reachable right now; nothing you already sent is "
                                    "lost, try again in a moment.")

    real = ClassStore.add_drawing
    monkeypatch.setattr(ClassStore, "add_drawing", away)
    send_bundled_digit(student)
    assert any("not sent yet" in w.value for w in student.warning)
    assert len(student.session_state[cs.PENDING]) == 1
    student.switch_page(CLASS_PAGE).run()              # a visit elsewhere loses nothing
    student.switch_page(DRAW_PAGE).run()
    assert len(student.session_state[cs.PENDING]) == 1
    monkeypatch.setattr(ClassStore, "add_drawing", real)
    student.button(key="class_send_again").click().run()
    assert any("Sent 1 drawing" in s.value for s in student.success)
    assert not student.session_state[cs.PENDING]
    teacher.switch_page(WALL_PAGE).run()
    assert next(m for m in teacher.metric if m.label == "Drawings").value == "1"


def test_the_wall_says_so_when_the_database_goes_away_mid_class(open_page, class_db, monkeypatch):
    teacher = open_page("app.py")
    start_class(teacher)
    teacher.switch_page(WALL_PAGE).run()

    def away(*args, **kwargs):
        raise ClassStoreUnavailable("The class database is not reachable right now.")

    monkeypatch.setattr(ClassStore, "class_info", away)
    cs.mark_up()
    teacher.run()
    assert not teacher.exception
    assert cs.UNREACHABLE in [w.value for w in teacher.warning]
    assert next(m for m in teacher.metric if m.label == "Join code")      # the rest of the wall stays
