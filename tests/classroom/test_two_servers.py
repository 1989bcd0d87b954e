"""Two app servers on one database are one class: each sees what the other stored, at once."""
import threading

import pytest

from cnn_core.classroom import ClassAccessError
from tests.classroom.conftest import scribble


def test_two_stores_share_drawings_pushes_and_moderation(make_store):
    one, two = make_store(), make_store()
    room = one.create_class("shared")
    me = two.join(room.code, "Ada")
    d = two.add_drawing(me.token, scribble(1), label="1")
    assert [r.id for r in one.drawings(room.code)] == [d.id]
    p = one.push(room.teacher_key, "/convolution", "Convolution")
    assert two.latest_push(room.code).id == p.id
    one.hide(room.teacher_key, d.id)
    assert two.drawings(room.code) == []
    one.remove_student(room.teacher_key, me.student_id)
    with pytest.raises(ClassAccessError, match="removed you"):
        two.add_drawing(me.token, scribble(2), label="1")
    one.end_class(room.teacher_key)
    with pytest.raises(ClassAccessError, match="has ended"):
        two.teacher_class(room.teacher_key)


def test_concurrent_students_on_two_servers(make_store):
    """Eight students on two servers send at once: every drawing stored once, and a wall reading by
    cursor sees each exactly once."""
    one, two = make_store(), make_store()
    room = one.create_class("busy")
    members = [(one if i % 2 else two).join(room.code, f"S{i}") for i in range(8)]
    errors, seen = [], []
    done = threading.Event()

    def student(i, m):
        store = one if i % 2 else two
        try:
            for k in range(6):
                store.add_drawing(m.token, scribble(100 * i + k), label=str(k))
        except Exception as exc:    # noqa: BLE001 (reported below)
            errors.append(exc)

    def wall():
        cursor = 0
        while True:
            last = done.is_set()
            rows = one.drawings(room.code, since_id=cursor, teacher_key=room.teacher_key)
            seen.extend(r.id for r in rows)
            cursor = rows[-1].id if rows else cursor
            if last:
                return

    w = threading.Thread(target=wall)
    w.start()
    threads = [threading.Thread(target=student, args=(i, m)) for i, m in enumerate(members)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    done.set()
    w.join(60)
    assert errors == []
    all_ids = [r.id for r in two.drawings(room.code)]
    assert len(all_ids) == 48 and len(set(all_ids)) == 48
    assert sorted(seen) == all_ids and len(seen) == len(set(seen))
    assert sorted(n for _, _, n in one.students(room.teacher_key)) == [6] * 8
