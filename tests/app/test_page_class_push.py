"""Class mode in AppTest: the teacher pushes a view; each student gets a banner and opens it with one click;
the teacher link brings the teacher back and leaves the address; shared links never carry a secret."""
from __future__ import annotations

import pytest

from ui.app.text import literal
from tests.app.classroom_helpers import CLASS_PAGE, class_db, join, start_class, texts  # noqa: F401

CONV = "pages/2_Convolution.py"


@pytest.fixture
def teacher(open_page, class_db):
    at = open_page("app.py", timeout=60)
    start_class(at)
    return at


@pytest.fixture
def student(open_page, teacher):
    at = open_page("app.py", timeout=60)
    join(at, teacher.session_state["class_teacher"]["code"], "Ada")
    return at


def _banner(at):
    return [m.value for m in at.markdown if "Your teacher is showing" in m.value]


def test_a_pushed_view_shows_a_banner_that_opens_the_page_with_its_settings(teacher, student):
    teacher.switch_page(CONV).run()
    teacher.selectbox(key="conv_preset").select("Sobel x").run()
    teacher.button(key="class_push").click().run()
    assert not teacher.exception
    assert any("Sent to the class" in s.value and "Sobel x" in s.value for s in teacher.sidebar.success)
    student.run()                      # stands for the banner's 1.5 s tick
    assert _banner(student) and literal("Convolution, Sobel x kernel") in _banner(student)[0]
    assert student.session_state["_page_now"] == "class"     # still where they were: nobody is moved by force
    open_button = next(b for b in student.button if (b.key or "").startswith("class_push_open_"))
    open_button.click().run()
    assert not student.exception
    assert student.session_state["_page_now"] == "convolution"
    assert student.selectbox(key="conv_preset").value == "Sobel x"
    assert not _banner(student)        # opened: gone, nobody else navigated


def test_a_banner_can_be_dismissed_and_the_teacher_gets_none(teacher, student):
    teacher.switch_page(CONV).run()
    teacher.button(key="class_push").click().run()
    assert not _banner(teacher)
    student.run()
    next(b for b in student.button if (b.key or "").startswith("class_push_dismiss_")).click().run()
    assert not _banner(student)
    student.run()
    assert not _banner(student)


def test_pushed_links_never_carry_the_teacher_key(teacher, student, class_db):
    from cnn_core.classroom import ClassStore

    t = teacher.session_state["class_teacher"]
    teacher.query_params["teacher"] = t["key"]       # even if the address still had it
    teacher.switch_page(CONV).run()
    teacher.button(key="class_push").click().run()
    push = ClassStore(class_db).latest_push(t["code"])
    assert push.url.startswith("/convolution") and t["key"] not in push.url and "teacher=" not in push.url


def test_the_teacher_link_brings_the_teacher_back_and_leaves_the_address(open_page, teacher):
    t = teacher.session_state["class_teacher"]
    again = open_page(CLASS_PAGE, run=False)       # a reload, or another machine: a new session
    again.query_params["teacher"] = t["key"]
    again.run()
    assert not again.exception
    assert again.session_state["class_teacher"]["code"] == t["code"]
    assert "teacher" not in again.query_params
    assert f"/class?teacher={t['key']}" not in [c.value for c in again.code]      # shown once only, at the start
    assert again.button(key="class_end")


def test_a_wrong_teacher_link_says_so_in_one_sentence(open_page, class_db):
    at = open_page(CLASS_PAGE, run=False)
    at.query_params["teacher"] = "not-a-key"
    at.run()
    assert [e.value for e in at.error] == ["This class has ended, or this teacher link is not valid."]
    assert "class_teacher" not in at.session_state


def test_the_copy_link_button_strips_class_secrets():
    from ui.app import links

    assert set(links.SECRET_PARAMS) >= {"teacher", "join"}
    assert 'url.searchParams.delete(k)' in links._SHARE_HTML and '"teacher", "join"' in links._SHARE_HTML


def test_a_pushed_train_page_carries_the_settings_but_not_the_teachers_run(teacher, class_db):
    from cnn_core.classroom import ClassStore

    t = teacher.session_state["class_teacher"]
    teacher.switch_page("pages/6_Train.py").run()
    teacher.number_input(key="tr_epochs").set_value(3).run()
    teacher.query_params["run"] = "r123"             # as if the teacher's own run were on screen
    teacher.button(key="class_push").click().run()
    push = ClassStore(class_db).latest_push(t["code"])
    assert push.url.startswith("/train?") and "tr_epochs=3" in push.url and "run=" not in push.url


def test_the_sessions_of_one_server_share_one_read_of_the_newest_push(class_db, monkeypatch):
    """Thirty banners ticking every 1.5 s were twenty reads a second of one row; one per PUSH_TTL_S now, and a
    push through this server is seen at the next tick."""
    from ui.app import classroom_state as cs

    room = cs.store().create_class("7B", labels=[str(d) for d in range(10)])
    reads = []
    real = cs.store().latest_push
    monkeypatch.setattr(cs.store(), "latest_push", lambda code, since_id=0: reads.append(code) or real(code, since_id))
    clock = [1000.0]
    monkeypatch.setattr(cs, "_clock", lambda: clock[0])
    assert [cs.newest_push(room.code) for _ in range(30)] == [None] * 30 and len(reads) == 1
    cs.store().push(room.teacher_key, "/convolution?preset=sobel_x", title="Convolution")
    assert cs.newest_push(room.code) is None and len(reads) == 1       # another server's push: not yet …
    clock[0] += cs.PUSH_TTL_S
    assert cs.newest_push(room.code).url == "/convolution?preset=sobel_x" and len(reads) == 2   # … within 0.25 s
    second = cs.store().push(room.teacher_key, "/softmax", title="Softmax")
    cs.forget_push(room.code)                                          # a push through this server: at once
    assert cs.newest_push(room.code).id == second.id and len(reads) == 3
