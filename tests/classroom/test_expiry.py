"""A class past its lifetime stops working at once and is then deleted, every row of it."""
import pytest
import sqlalchemy as sa

from cnn_core.classroom import ClassAccessError
from cnn_core.classroom.schema import ALL_TABLES, classes
from cnn_core.models.pretrained import load_default_bundle
from tests.classroom.conftest import scribble


def row_counts(store, class_id=None) -> dict[str, int]:
    out = {}
    with store.engine.connect() as conn:
        for t in ALL_TABLES:
            q = sa.select(sa.func.count()).select_from(t)
            if class_id is not None:
                q = q.where((t.c.id if t is classes else t.c.class_id) == class_id)
            out[t.name] = conn.execute(q).scalar_one()
    return out


def _busy_class(store, name="x", hours=1):
    room = store.create_class(name, lifetime_hours=hours)
    me = store.join(room.code, "Ada")
    for i in range(6):
        store.add_drawing(me.token, scribble(i), label=str(i))
    store.push(room.teacher_key, "/draw", "Draw")
    store.submit_model(me.token, load_default_bundle())
    return room, me


def test_expired_class_stops_working_at_once(store, clock):
    room, me = _busy_class(store, hours=2)
    clock.advance(hours=1, minutes=59)
    store.membership(me.token)
    clock.advance(minutes=1)                      # exactly at expiry: ended
    for call in (lambda: store.class_info(room.code), lambda: store.membership(me.token),
                 lambda: store.teacher_class(room.teacher_key), lambda: store.drawings(room.code),
                 lambda: store.add_drawing(me.token, scribble(99), label="1"),
                 lambda: store.hide(room.teacher_key, 1), lambda: store.latest_push(room.code)):
        with pytest.raises(ClassAccessError, match="has ended"):
            call()


def test_purge_deletes_every_row_of_expired_classes_only(make_store, clock):
    store = make_store(purge_every_s=10 ** 9)     # no lazy purge: this test calls it
    old, _ = _busy_class(store, "old", hours=1)
    new, _ = _busy_class(store, "new", hours=5)
    before_new = row_counts(store, new.class_id)
    assert all(row_counts(store, old.class_id).values())
    clock.advance(hours=2)
    assert store.purge_expired() == 1
    assert row_counts(store, old.class_id) == dict.fromkeys(before_new, 0)
    assert row_counts(store, new.class_id) == before_new
    assert store.purge_expired() == 0
    assert store.purge_expired(now=store.now().replace(year=store.now().year + 1)) == 1
    assert row_counts(store) == dict.fromkeys(before_new, 0)


def test_the_store_purges_by_itself(make_store, clock):
    store = make_store(purge_every_s=0)
    room, _ = _busy_class(store, hours=1)
    clock.advance(hours=1, seconds=1)
    other = store.create_class("later")           # any call runs the purge
    store.class_info(other.code)
    assert row_counts(store, room.class_id) == dict.fromkeys(row_counts(store), 0)


def test_lazy_purge_runs_at_most_once_a_minute(make_store, clock, monkeypatch):
    store = make_store()
    calls = []
    original = store.purge_expired
    monkeypatch.setattr(store, "purge_expired", lambda *a, **k: calls.append(1) or original(*a, **k))
    store._last_purge = float("-inf")             # as if the last purge were long ago
    for _ in range(5):
        store.label_counts(store.create_class("y").code)
    assert len(calls) == 1


def test_end_class_deletes_every_row(store):
    room, _ = _busy_class(store)
    keep, _ = _busy_class(store, "keep")
    kept = row_counts(store, keep.class_id)
    store.end_class(room.teacher_key)
    assert row_counts(store, room.class_id) == dict.fromkeys(kept, 0)
    assert row_counts(store, keep.class_id) == kept
