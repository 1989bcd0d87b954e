"""The database goes away: one sentence, nothing already stored lost, and the store recovers by itself."""
import sqlite3

import pytest

from cnn_core.classroom import ClassStore, ClassStoreUnavailable
from tests.classroom.conftest import scribble


def _one_sentence(exc) -> str:
    msg = str(exc.value)
    assert msg.endswith(".") and msg.count(". ") == 0 and "\n" not in msg
    return msg


def test_postgresql_stopped_mid_class(pg_server, clock):
    url = pg_server.create_database("stopped_mid_class")
    store = ClassStore(url, clock=clock)
    try:
        room = store.create_class("x")
        me = store.join(room.code, "Ada")
        first = store.add_drawing(me.token, scribble(1), label="1")
        pg_server.stop()
        try:
            with pytest.raises(ClassStoreUnavailable) as e:
                store.add_drawing(me.token, scribble(2), label="2")
            assert "not reachable" in _one_sentence(e)
            with pytest.raises(ClassStoreUnavailable):
                store.drawings(room.code)
            with pytest.raises(ClassStoreUnavailable):
                store.latest_push(room.code)
        finally:
            pg_server.start()
        again = store.add_drawing(me.token, scribble(2), label="2")        # the same store, no reopening
        assert [r.id for r in store.drawings(room.code)] == [first.id, again.id]
        assert store.membership(me.token).nickname == "Ada"
    finally:
        store.close()
        pg_server.drop_database("stopped_mid_class")


def test_postgresql_away_when_the_store_opens(pg_server, clock):
    """A server started while the database is down opens, refuses calls, and migrates once it is back."""
    url = pg_server.create_database("away_at_open")
    pg_server.stop()
    try:
        store = ClassStore(url, clock=clock)
        with pytest.raises(ClassStoreUnavailable):
            store.create_class("x")
    finally:
        pg_server.start()
    try:
        room = store.create_class("x")
        assert store.class_info(room.code).name == "x"
    finally:
        store.close()
        pg_server.drop_database("away_at_open")


def test_read_only_sqlite(tmp_path, clock):
    path = tmp_path / "classes.db"
    writer = ClassStore(f"sqlite:///{path}", clock=clock)
    room = writer.create_class("x")
    me = writer.join(room.code)
    d = writer.add_drawing(me.token, scribble(1), label="1")
    writer.close()
    ro = ClassStore(f"sqlite:///file:{path}?mode=ro&uri=true", clock=clock)
    try:
        assert [r.id for r in ro.drawings(room.code)] == [d.id]        # reads still work
        for call in (lambda: ro.add_drawing(me.token, scribble(2), label="1"),
                     lambda: ro.create_class("y"), lambda: ro.hide(room.teacher_key, d.id)):
            with pytest.raises(ClassStoreUnavailable) as e:
                call()
            assert "read-only or full" in _one_sentence(e)
        assert [r.hidden for r in ro.drawings(room.code, teacher_key=room.teacher_key, include_hidden=True)] == [False]
    finally:
        ro.close()


def test_sqlite_locked_by_another_process(tmp_path, clock):
    """Another program holds the write lock past the busy timeout: refused, then fine once released."""
    path = tmp_path / "classes.db"
    store = ClassStore(f"sqlite:///{path}", clock=clock, busy_timeout_ms=200)
    try:
        room = store.create_class("x")
        me = store.join(room.code)
        first = store.add_drawing(me.token, scribble(1), label="1")
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(ClassStoreUnavailable):
                store.add_drawing(me.token, scribble(2), label="1")
            assert [r.id for r in store.drawings(room.code)] == [first.id]   # WAL: readers are not blocked
        finally:
            other.execute("ROLLBACK")
            other.close()
        again = store.add_drawing(me.token, scribble(2), label="1")
        assert [r.id for r in store.drawings(room.code)] == [first.id, again.id]
    finally:
        store.close()


def test_sqlite_file_is_created_with_its_folder(tmp_path):
    path = tmp_path / "a" / "b" / "classes.db"
    store = ClassStore(f"sqlite:///{path}")
    try:
        store.create_class("x")
        assert path.exists()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        store.close()


def test_default_store_url(monkeypatch, tmp_path):
    from cnn_core.classroom import default_store_url

    monkeypatch.delenv("CNN_EXPLORER_DATABASE_URL", raising=False)
    monkeypatch.setenv("CNN_EXPLORER_DATA_DIR", str(tmp_path))
    assert default_store_url() == f"sqlite:///{tmp_path / 'classes.db'}"
    monkeypatch.delenv("CNN_EXPLORER_DATA_DIR")
    assert default_store_url().endswith("/.cache/classes.db")
    monkeypatch.setenv("CNN_EXPLORER_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert default_store_url() == "postgresql+psycopg://u@h/db"
