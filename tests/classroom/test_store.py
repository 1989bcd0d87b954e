"""The contract's calls on both back-ends: a class from start to end, as teacher and students see it."""
import numpy as np
import pytest

from cnn_core.classroom import ClassAccessError, ClassInfo, DrawingRow, JoinAttempts, ClassLimitError
from cnn_core.classroom import access
from tests.classroom.conftest import scribble


def test_a_class_from_start_to_end(store):
    room = store.create_class("7B")
    assert room.labels == [str(d) for d in range(10)] and room.joining_open
    assert len(room.code) == 7 and room.code[3] == "-"
    assert (room.expires - store.now()).total_seconds() == pytest.approx(12 * 3600, abs=5)
    info = store.class_info(room.code.lower().replace("-", " "))
    assert isinstance(info, ClassInfo) and info.name == "7B" and info.n_students == 0
    assert store.teacher_class(room.teacher_key).class_id == room.class_id

    ada = store.join(room.code, "Ada")
    anon = store.join(room.code)
    assert (ada.nickname, anon.nickname) == ("Ada", "Student 2")
    assert store.membership(ada.token).student_id == ada.student_id
    assert store.class_info(room.code).n_students == 2

    probs = np.full(10, 0.1)
    d1 = store.add_drawing(ada.token, scribble(1), label="7", prediction=7, probs=probs, model_name="default")
    d2 = store.add_drawing(anon.token, scribble(2), label="3", prediction=5, probs=probs)
    d3 = store.add_drawing(ada.token, scribble(3), label="1")
    rows = store.drawings(room.code)
    assert [r.id for r in rows] == [d1.id, d2.id, d3.id]
    r1, r2, r3 = rows
    assert isinstance(r1, DrawingRow) and (r1.nickname, r1.label, r1.prediction, r1.ok) == ("Ada", "7", "7", True)
    assert (r2.prediction, r2.ok) == ("5", False) and (r3.prediction, r3.ok, r3.probs) == (None, None, None)
    assert r1.probs == pytest.approx(list(probs)) and r1.model_name == "default"
    assert store.drawings(room.code, since_id=d1.id) == rows[1:]
    assert store.drawings(room.code, since_id=d3.id) == []
    assert store.label_counts(room.code) == {**{str(d): 0 for d in range(10)}, "7": 1, "3": 1, "1": 1}
    assert [r.id for r in store.my_drawings(ada.token)] == [d1.id, d3.id]
    assert store.students(room.teacher_key) == [(ada.student_id, "Ada", 2), (anon.student_id, "Student 2", 1)]

    store.end_class(room.teacher_key)
    for call in (lambda: store.membership(ada.token), lambda: store.teacher_class(room.teacher_key),
                 lambda: store.add_drawing(ada.token, scribble(4), label="7")):
        with pytest.raises(ClassAccessError, match="^This class has ended"):
            call()
    with pytest.raises(ClassAccessError, match="No class has the code .*the class has ended"):
        store.join(room.code)


def test_images_come_back_bit_identical(store):
    room = store.create_class("x")
    me = store.join(room.code)
    img = scribble(5)
    thumb = _png(56, 56)
    d = store.add_drawing(me.token, img, label="2", thumbnail_png=thumb)
    u8, got_thumb = store.drawing_images(room.code, [d.id])[d.id]
    assert u8.dtype == np.uint8 and u8.shape == (28, 28)
    assert np.array_equal(u8, np.clip(np.rint(img * 255), 0, 255).astype(np.uint8))
    assert got_thumb == thumb
    d2 = store.add_drawing(me.token, u8, label="2")          # uint8 input is taken as it is
    assert np.array_equal(store.drawing_images(room.code, [d2.id])[d2.id][0], u8)
    assert store.drawing_images(room.code, [d2.id])[d2.id][1] is None


def _png(w, h):
    import io
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (w, h), 128).save(buf, format="PNG")
    return buf.getvalue()


def test_withdraw_own_only_and_never_seen_again(store):
    room = store.create_class("x")
    a, b = store.join(room.code, "A"), store.join(room.code, "B")
    da = store.add_drawing(a.token, scribble(1), label="1")
    db = store.add_drawing(b.token, scribble(2), label="2")
    with pytest.raises(ClassAccessError, match="only withdraw your own"):
        store.withdraw(a.token, db.id)
    assert [r.id for r in store.drawings(room.code)] == [da.id, db.id]
    rev = store.revision(room.code)
    store.withdraw(a.token, da.id)
    assert store.revision(room.code) > rev                 # the wall knows to reload
    assert [r.id for r in store.drawings(room.code, teacher_key=room.teacher_key, include_hidden=True)] == [db.id]
    assert store.my_drawings(a.token) == []
    assert store.drawing_images(room.code, [da.id], teacher_key=room.teacher_key) == {}


def test_hidden_drawings_only_for_the_teacher(store):
    room = store.create_class("x")
    a = store.join(room.code)
    d1 = store.add_drawing(a.token, scribble(1), label="1")
    d2 = store.add_drawing(a.token, scribble(2), label="2")
    store.hide(room.teacher_key, d1.id)
    assert [r.id for r in store.drawings(room.code)] == [d2.id]
    assert [r.id for r in store.drawings(room.code, teacher_key=room.teacher_key)] == [d2.id]
    full = store.drawings(room.code, teacher_key=room.teacher_key, include_hidden=True)
    assert [(r.id, r.hidden) for r in full] == [(d1.id, True), (d2.id, False)]
    assert store.drawings(room.code, include_hidden=True) == store.drawings(room.code)   # no key, no hidden
    assert list(store.drawing_images(room.code, [d1.id, d2.id])) == [d2.id]
    assert sorted(store.drawing_images(room.code, [d1.id, d2.id], teacher_key=room.teacher_key)) == [d1.id, d2.id]
    assert store.label_counts(room.code)["1"] == 0
    assert [r.hidden for r in store.my_drawings(a.token)] == [True, False]   # the author sees it marked
    store.hide(room.teacher_key, d1.id, hidden=False)
    assert [r.id for r in store.drawings(room.code)] == [d1.id, d2.id]
    store.delete_drawing(room.teacher_key, d1.id)
    assert [r.id for r in store.drawings(room.code, teacher_key=room.teacher_key, include_hidden=True)] == [d2.id]


def test_remove_student_deletes_their_drawings_and_stops_the_token(store):
    room = store.create_class("x")
    a, b = store.join(room.code, "A"), store.join(room.code, "B")
    store.add_drawing(a.token, scribble(1), label="1")
    db = store.add_drawing(b.token, scribble(2), label="2")
    store.remove_student(room.teacher_key, a.student_id)
    with pytest.raises(ClassAccessError, match="The teacher removed you from this class."):
        store.membership(a.token)
    with pytest.raises(ClassAccessError, match="removed you"):
        store.add_drawing(a.token, scribble(3), label="1")
    assert [r.id for r in store.drawings(room.code, teacher_key=room.teacher_key, include_hidden=True)] == [db.id]
    assert store.students(room.teacher_key) == [(b.student_id, "B", 1)]
    assert store.class_info(room.code).n_students == 1


def test_leave_keeps_drawings_and_stops_the_token(store):
    room = store.create_class("x")
    a = store.join(room.code, "A")
    d = store.add_drawing(a.token, scribble(1), label="1")
    store.leave(a.token)
    with pytest.raises(ClassAccessError, match="You left this class"):
        store.membership(a.token)
    assert [r.id for r in store.drawings(room.code)] == [d.id]
    assert store.class_info(room.code).n_students == 0


def test_closed_joining(store):
    room = store.create_class("x")
    store.set_joining(room.teacher_key, open=False)
    assert not store.class_info(room.code).joining_open
    with pytest.raises(ClassAccessError, match="closed joining"):
        store.join(room.code)
    store.set_joining(room.teacher_key, open=True)
    assert store.join(room.code).nickname == "Student 1"


def test_custom_labels_and_predictions(store):
    room = store.create_class("Pets", labels=["cat", "dog", "fish"])
    me = store.join(room.code)
    d = store.add_drawing(me.token, scribble(1), label="dog", prediction=2, probs=[0.2, 0.3, 0.5])
    assert (d.label, d.prediction, d.ok) == ("dog", "fish", False)
    with pytest.raises(ClassLimitError, match="not one of this class's labels"):
        store.add_drawing(me.token, scribble(2), label="7")
    with pytest.raises(ClassLimitError, match="index of one of the 3 labels"):
        store.add_drawing(me.token, scribble(2), label="cat", prediction=3)
    with pytest.raises(ClassLimitError, match="3 numbers between 0 and 1"):
        store.add_drawing(me.token, scribble(2), label="cat", probs=[0.1] * 10)
    ds = store.dataset(room.code)
    assert ds.class_names == ["cat", "dog", "fish"] and ds.labels.tolist() == [1]


@pytest.mark.parametrize("nick", ["<img src=x onerror=alert(1)>", "'); DROP TABLE drawings;--",
                                  "Zoë 🦊 \"quoted\"", "%s %(x)s {0} :name ?"])
def test_user_text_is_stored_verbatim(store, nick, monkeypatch):
    from cnn_core import limits

    monkeypatch.setattr(limits, "MAX_NICKNAME_CHARS", 40)    # the <img ...> nickname has 28 characters
    room = store.create_class(nick[:40], labels=[nick[:20], "b"])
    me = store.join(room.code, nick)
    store.add_drawing(me.token, scribble(1), label=nick[:20])
    assert store.class_info(room.code).name == nick[:40]
    assert store.membership(me.token).nickname == nick
    [row] = store.drawings(room.code)
    assert (row.nickname, row.label) == (nick, nick[:20])
    assert store.students(room.teacher_key)[0][1] == nick


def test_push_and_latest_push(store):
    room = store.create_class("x")
    assert store.latest_push(room.code) is None
    p1 = store.push(room.teacher_key, url="/convolution?kernel=sobel_x", title="Convolution, Sobel x kernel")
    got = store.latest_push(room.code)
    assert (got.id, got.url, got.title) == (p1.id, "/convolution?kernel=sobel_x", "Convolution, Sobel x kernel")
    assert store.latest_push(room.code, since_id=p1.id) is None
    p2 = store.push(room.teacher_key, url="/pooling")
    assert store.latest_push(room.code, since_id=p1.id).id == p2.id
    with pytest.raises(ClassLimitError):
        store.push(room.teacher_key, url="https://evil.example/")
    assert store.latest_push(room.code).id == p2.id
    for i in range(25):                         # old pushes are pruned; the newest stays
        last = store.push(room.teacher_key, url=f"/p{i}")
    assert store.latest_push(room.code).url == last.url == "/p24"


def test_join_attempts_count_wrong_codes(store):
    room = store.create_class("x")
    attempts = JoinAttempts(max_failures=2, window_s=60)
    wrong = "222-222" if room.code != "222-222" else "333-333"
    for _ in range(2):
        with pytest.raises(ClassAccessError, match="No class has the code"):
            store.join(wrong, attempts=attempts, session_id="browser-1")
    with pytest.raises(ClassLimitError, match="Too many wrong codes"):
        store.join(room.code, attempts=attempts, session_id="browser-1")
    assert store.join(room.code, attempts=attempts, session_id="browser-2").class_id == room.class_id


def test_codes_are_unique_among_live_classes(store, monkeypatch):
    seq = iter(["AAAAAA", "AAAAAA", "BBBBBB"])
    monkeypatch.setattr(access, "new_code", lambda: next(seq))
    first = store.create_class("one")
    second = store.create_class("two")
    assert (first.code, second.code) == ("AAA-AAA", "BBB-BBB")


def test_ids_are_never_reused_so_a_cursor_misses_nothing(store):
    """Withdrawing the newest drawing must not let the next one take its id (SQLite would, without
    AUTOINCREMENT), or a wall whose cursor is at that id would never show it."""
    room = store.create_class("x")
    me = store.join(room.code)
    d1 = store.add_drawing(me.token, scribble(1), label="1")
    d2 = store.add_drawing(me.token, scribble(2), label="1")
    cursor = store.drawings(room.code)[-1].id
    store.withdraw(me.token, d2.id)
    d3 = store.add_drawing(me.token, scribble(3), label="1")
    assert d3.id > cursor
    assert [r.id for r in store.drawings(room.code, since_id=cursor)] == [d3.id]
    store.end_class(room.teacher_key)
    assert store.create_class("y").class_id > room.class_id
    assert d1.id < d3.id


def test_wall_cursor_uses_the_index(store):
    """The 2-second wall poll reads drawings of one class after a cursor via the (class_id, id) index."""
    import sqlalchemy as sa

    wall = ("SELECT d.id FROM drawings d JOIN students s ON s.id = d.student_id "
            "WHERE d.class_id = :c AND d.id > :i AND d.hidden = :h ORDER BY d.id LIMIT 500")
    push = "SELECT * FROM pushes WHERE class_id = :c AND id > :i ORDER BY id DESC LIMIT 1"
    params = {"c": 1, "i": 0, "h": False}
    with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            explain = "EXPLAIN QUERY PLAN "
        else:   # tiny tables are scanned whatever the indexes; forbid that to see which index is used
            conn.exec_driver_sql("SET enable_seqscan = off")
            explain = "EXPLAIN "
        for sql, index in ((wall, "ix_drawings_class_id"), (push, "ix_pushes_class_id")):
            plan = " ".join(str(r[-1]) for r in conn.execute(sa.text(explain + sql), params))
            assert index in plan, plan
