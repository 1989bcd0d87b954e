"""Who may do what: a student token is never a teacher key, a key opens only its own class."""
import pytest

from cnn_core.classroom import ClassAccessError
from tests.classroom.conftest import scribble


@pytest.fixture
def two_classes(store):
    a, b = store.create_class("A"), store.create_class("B")
    sa_, sb = store.join(a.code, "in A"), store.join(b.code, "in B")
    da = store.add_drawing(sa_.token, scribble(1), label="1")
    db = store.add_drawing(sb.token, scribble(2), label="2")
    return a, b, sa_, sb, da, db


def _teacher_actions(store, key, room_b, db, sb):
    return {
        "hide": lambda: store.hide(key, db.id),
        "delete_drawing": lambda: store.delete_drawing(key, db.id),
        "remove_student": lambda: store.remove_student(key, sb.student_id),
        "hidden drawings": lambda: store.drawings(room_b.code, teacher_key=key, include_hidden=True),
        "images": lambda: store.drawing_images(room_b.code, [db.id], teacher_key=key),
        "leaderboard": lambda: store.leaderboard(room_b.code, teacher_key=key, include_hidden=True),
    }


def test_teacher_key_of_class_a_does_nothing_to_class_b(store, two_classes):
    a, b, sa_, sb, da, db = two_classes
    for name, call in _teacher_actions(store, a.teacher_key, b, db, sb).items():
        with pytest.raises(ClassAccessError):
            call()
    store.hide(b.teacher_key, db.id)       # B's own teacher can
    store.hide(b.teacher_key, db.id, hidden=False)
    # class B is untouched: its drawing visible, its student in, its class open
    assert [r.id for r in store.drawings(b.code)] == [db.id]
    assert store.membership(sb.token).nickname == "in B"
    store.end_class(a.teacher_key)
    assert store.class_info(b.code).n_students == 1
    assert [r.id for r in store.drawings(b.code)] == [db.id]


def test_a_student_token_can_do_no_teacher_action(store, two_classes):
    a, b, sa_, sb, da, db = two_classes
    for name, call in _teacher_actions(store, sb.token, b, db, sb).items():
        with pytest.raises(ClassAccessError, match="Only the teacher can do that."):
            call()
    for call in (lambda: store.end_class(sb.token), lambda: store.set_joining(sb.token, open=False),
                 lambda: store.push(sb.token, "/draw"), lambda: store.students(sb.token),
                 lambda: store.teacher_class(sb.token)):
        with pytest.raises(ClassAccessError, match="Only the teacher"):
            call()
    info = store.class_info(b.code)
    assert info.joining_open and info.n_students == 1 and store.latest_push(b.code) is None
    assert [r.hidden for r in store.my_drawings(sb.token)] == [False]


def test_a_student_cannot_touch_another_class(store, two_classes):
    a, b, sa_, sb, da, db = two_classes
    with pytest.raises(ClassAccessError):
        store.withdraw(sa_.token, db.id)
    assert [r.id for r in store.drawings(b.code)] == [db.id]
    assert [r.id for r in store.my_drawings(sa_.token)] == [da.id]     # only their own, in their class


def test_teacher_key_must_match_the_code_it_reads(store, two_classes):
    a, b, *_ = two_classes
    with pytest.raises(ClassAccessError, match="another class"):
        store.drawings(b.code, teacher_key=a.teacher_key, include_hidden=True)


@pytest.mark.parametrize("key", ["", "x", "A" * 32])
def test_wrong_keys_and_tokens(store, two_classes, key):
    with pytest.raises(ClassAccessError, match="teacher link is not valid"):
        store.teacher_class(key)
    with pytest.raises(ClassAccessError):
        store.membership(key)


@pytest.mark.parametrize("code", ["", "ABC", "0O1IL0", "K7M-Q2P-X", "<script>", "'; DROP TABLE classes;--"])
def test_guessed_or_malformed_codes(store, two_classes, code):
    a, b, *_ = two_classes
    if code.replace("-", "") in (a.code.replace("-", ""), b.code.replace("-", "")):
        pytest.skip("the guess happens to be a real code")
    with pytest.raises(ClassAccessError, match="No class has the code"):
        store.join(code)
    with pytest.raises(ClassAccessError):
        store.class_info(code)
    with pytest.raises(ClassAccessError):
        store.drawings(code)
    assert store.class_info(a.code).n_students == 1


def test_the_database_keeps_only_hashes(store, two_classes):
    import sqlalchemy as sa

    a, b, sa_, sb, *_ = two_classes
    with store.engine.connect() as conn:
        dump = " ".join(str(v) for t in ("classes", "students")
                        for row in conn.execute(sa.text(f"SELECT * FROM {t}")) for v in row)
    for secret in (a.teacher_key, b.teacher_key, sa_.token, sb.token):
        assert secret not in dump
