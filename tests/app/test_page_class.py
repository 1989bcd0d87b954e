"""Class mode in AppTest: start a class, join with a right or wrong code, send from Draw & Predict, the
wall, moderation, what a student cannot see, user text shown literally, rate limits, an ended class."""
from __future__ import annotations

import pytest

from cnn_core.classroom import ClassStore
from tests.app.classroom_helpers import (CLASS_PAGE, WALL_PAGE, class_db, join, send_bundled_digit,  # noqa: F401
                                         start_class, texts)


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


def test_starting_a_class_shows_the_code_large_the_join_link_its_qr_and_the_teacher_link_once(teacher, class_db):
    t = teacher.session_state["class_teacher"]
    assert len(t["code"]) == 7 and t["code"][3] == "-"
    codes = [c.value for c in teacher.code]
    assert f"/class?join={t['code']}" in codes
    assert f"/class?teacher={t['key']}" in codes                     # shown once, right after starting
    assert "Keep this link: it is how you get back in" in texts(teacher)
    assert t["code"] in [m.value for m in teacher.markdown]            # the big code block
    assert ClassStore(class_db).teacher_class(t["key"]).name == "7B"
    teacher.button(key="class_hide_teacher_link").click().run()
    assert f"/class?teacher={t['key']}" not in [c.value for c in teacher.code]
    assert f"/class?join={t['code']}" in [c.value for c in teacher.code]


def test_join_with_the_right_code_shows_the_class_in_the_sidebar_and_leave_is_one_click(student):
    assert student.session_state["class_member"].nickname == "Ada"
    side = " ".join(m.value for m in student.sidebar.markdown) + " ".join(c.value for c in student.sidebar.caption)
    assert "7B" in side and "Ada" in side
    student.button(key="class_leave").click().run()
    assert "class_member" not in student.session_state
    assert "You left the class" in texts(student)
    assert student.button(key="FormSubmitter:class_join-Join")      # back to join / start


def test_a_wrong_code_gets_one_clear_sentence(open_page, class_db):
    at = open_page("app.py")
    join(at, "ZZZ-ZZZ")
    assert "class_member" not in at.session_state
    assert [e.value for e in at.error] == ["No class has the code ZZZ-ZZZ: check it, or the class has ended."]


def test_a_join_link_fills_the_code_and_leaves_the_address(open_page, teacher):
    code = teacher.session_state["class_teacher"]["code"]
    at = open_page(CLASS_PAGE, run=False)
    at.query_params["join"] = code
    at.run()
    assert at.text_input(key="class_join_code").value == code
    assert "join" not in at.query_params


def test_guessing_codes_is_rate_limited(open_page, class_db):
    at = open_page("app.py")
    for i in range(8):
        join(at, f"ABC-DE{'23456789'[i]}")
    join(at, "ABC-DEF")
    assert any("Too many wrong codes" in e.value for e in at.error)


def test_a_drawing_sent_from_draw_and_predict_reaches_the_wall(teacher, student):
    send_bundled_digit(student)
    assert any("Sent as" in s.value for s in student.success)
    row = student.session_state["class_member"]
    teacher.switch_page(WALL_PAGE).run()
    assert not teacher.exception
    assert next(m for m in teacher.metric if m.label == "Drawings").value == "1"
    caps = [c.value for c in teacher.caption]
    assert any("Ada" in c and ("✓ right" in c or "✗ model said" in c) for c in caps)
    assert row.code == teacher.session_state["class_teacher"]["code"]


def test_the_wall_shows_a_new_drawing_on_the_next_tick_without_a_reload(teacher, student):
    teacher.switch_page(WALL_PAGE).run()
    assert next(m for m in teacher.metric if m.label == "Drawings").value == "0"
    send_bundled_digit(student)
    send_bundled_digit(student, label="3")
    teacher.run()          # AppTest does not tick fragments by itself: this stands for the 1.5 s tick
    assert next(m for m in teacher.metric if m.label == "Drawings").value == "2"
    assert next(m for m in teacher.metric if m.label == "3").value >= "1"


def test_hiding_a_drawing_takes_it_off_the_wall_and_the_student_never_sees_teacher_controls(teacher, student):
    send_bundled_digit(student)
    teacher.switch_page(CLASS_PAGE).run()
    hide = next(b for b in teacher.button if (b.key or "").startswith("class_hide_") and b.key != "class_hide_teacher_link")
    hide.click().run()
    assert any("Hidden" in s.value for s in teacher.success)
    teacher.switch_page(WALL_PAGE).run()
    assert next(m for m in teacher.metric if m.label == "Drawings").value == "0"
    student.switch_page(CLASS_PAGE).run()
    keys = {b.key or "" for b in student.button}
    assert not any(k.startswith(("class_hide_", "class_del_", "class_remove_", "class_end", "class_push", "class_close"))
                   for k in keys)
    assert any(k.startswith("class_withdraw_") for k in keys)           # their own drawing, hidden, still theirs
    student.switch_page(WALL_PAGE).run()
    assert "The wall is the teacher's page" in texts(student)
    assert not [m for m in student.metric if m.label == "Drawings"]


def test_a_student_withdraws_their_drawing(teacher, student):
    send_bundled_digit(student)
    student.switch_page(CLASS_PAGE).run()
    next(b for b in student.button if (b.key or "").startswith("class_withdraw_")).click().run()
    assert any("Withdrawn" in s.value for s in student.success)
    teacher.switch_page(WALL_PAGE).run()
    assert next(m for m in teacher.metric if m.label == "Drawings").value == "0"


@pytest.mark.parametrize("nick", ["<img src=x onerror=alert(1)>", "**[click](http://evil)**"])
def test_nicknames_are_shown_as_text_never_markdown_or_html(open_page, teacher, nick, monkeypatch):
    from cnn_core import limits

    at = open_page("app.py")
    join(at, teacher.session_state["class_teacher"]["code"], nick)
    assert at.session_state["class_member"].nickname == nick
    send_bundled_digit(at)
    teacher.switch_page(WALL_PAGE).run()
    at.switch_page(CLASS_PAGE).run()
    for page in (teacher, at):
        md = [e.value for e in [*page.markdown, *page.caption, *page.sidebar.markdown, *page.sidebar.caption]]
        assert not any(nick in v for v in md), "raw user text reached markdown"
    from ui.app.text import literal

    assert any(literal(nick) in c.value for c in teacher.caption)       # escaped: shows exactly as typed
    teacher.switch_page(CLASS_PAGE).run()
    teacher.tabs  # noqa: B018 - the Students tab renders on the page
    assert any(literal(nick) in m.value for m in teacher.markdown)


def test_ending_the_class_asks_first_and_then_a_student_gets_one_clear_message(teacher, student):
    send_bundled_digit(student)
    teacher.switch_page(CLASS_PAGE).run()
    teacher.button(key="class_end").click().run()
    assert any("cannot be undone" in w.value for w in teacher.warning)
    assert "class_teacher" in teacher.session_state                     # not yet
    teacher.button(key="class_end_yes").click().run()
    assert "class_teacher" not in teacher.session_state
    assert "The class has ended" in texts(teacher)
    student.switch_page("pages/1_Draw_and_Predict.py").run()
    assert "class_member" not in student.session_state
    assert texts(student).count("This class has ended") == 1
    assert not [b for b in student.button if (b.key or "").startswith("class_send_")]


def test_removing_a_student_deletes_their_drawings_and_their_next_action_says_why(teacher, student):
    send_bundled_digit(student)
    teacher.switch_page(CLASS_PAGE).run()
    next(b for b in teacher.button if (b.key or "").startswith("class_remove_")).click().run()
    assert any("Removed" in s.value for s in teacher.success)
    teacher.switch_page(WALL_PAGE).run()
    assert next(m for m in teacher.metric if m.label == "Drawings").value == "0"
    student.switch_page(CLASS_PAGE).run()
    assert "class_member" not in student.session_state
    assert "The teacher removed you from this class." in texts(student)


def test_closed_joining_refuses_a_new_student_in_one_sentence(open_page, teacher):
    teacher.switch_page(CLASS_PAGE).run()
    teacher.button(key="class_close").click().run()
    assert any("Joining is closed" in s.value for s in teacher.success)
    at = open_page("app.py")
    join(at, teacher.session_state["class_teacher"]["code"], "Late")
    assert [e.value for e in at.error] == ["The teacher has closed joining for this class."]
    teacher.button(key="class_open").click().run()
    join(at, teacher.session_state["class_teacher"]["code"], "Late")
    assert at.session_state["class_member"].nickname == "Late"


def test_an_uploaded_picture_is_sent_with_a_small_thumbnail(teacher, student, class_db):
    import io

    from PIL import Image

    from cnn_core.data.synthetic import draw_digit
    buf = io.BytesIO()
    Image.fromarray(draw_digit(3, pen=22, box=(0.15, 0.1, 0.85, 0.9))).save(buf, "PNG")
    student.switch_page("pages/1_Draw_and_Predict.py").run()
    student.radio(key="draw_source").set_value("Upload a picture").run()

    student.session_state["_kept_upload_draw_upload"] = ("three.png", buf.getvalue(), "f1")
    student.run()
    next(s for s in student.selectbox if (s.key or "").startswith("class_label_")).select("3").run()
    next(b for b in student.button if (b.key or "").startswith("class_send_")).click().run()
    assert any("Sent as 3" in s.value for s in student.success)
    store = ClassStore(class_db)
    code = teacher.session_state["class_teacher"]["code"]
    (row,) = store.drawings(code)
    img28, thumb = store.drawing_images(code, [row.id])[row.id]
    w, h = Image.open(io.BytesIO(thumb)).size
    assert max(w, h) <= 96 and row.label == "3" and row.probs is not None and len(row.probs) == 10


def test_a_class_of_one_the_teacher_draws_and_sees_it_on_their_own_wall(open_page, class_db):
    at = open_page("app.py")
    start_class(at, "just me", draw_too=True)
    assert at.session_state["class_member"].nickname == "Teacher"
    send_bundled_digit(at)
    at.switch_page(WALL_PAGE).run()
    assert next(m for m in at.metric if m.label == "Drawings").value == "1"
    at.switch_page(CLASS_PAGE).run()
    assert any((b.key or "").startswith("class_withdraw_") for b in at.button)       # their own drawings too
    assert at.button(key="class_end")


def test_the_teacher_hides_a_drawing_from_the_wall_itself_in_one_click(teacher, student):
    """Someone draws something rude and it is on the projector: the wall's Hide buttons take it off there."""
    send_bundled_digit(student)
    send_bundled_digit(student, label="3")
    teacher.switch_page(WALL_PAGE).run()
    assert not [b for b in teacher.button if (b.key or "").startswith("wall_grid_hide_")]   # off: a clean projector
    teacher.toggle(key="wall_moderate").set_value(True).run()
    hides = [b for b in teacher.button if (b.key or "").startswith("wall_grid_hide_")]
    assert len(hides) == 2
    hides[0].click().run()
    assert not teacher.exception
    assert any("Hidden" in t.value for t in teacher.toast)     # a toast: the wall's next tick keeps it
    assert next(m for m in teacher.metric if m.label == "Drawings").value == "1"
    assert len([b for b in teacher.button if (b.key or "").startswith("wall_grid_hide_")]) == 1
    student.switch_page(CLASS_PAGE).run()
    assert not any((b.key or "").startswith("wall_grid_hide_") for b in student.button)
