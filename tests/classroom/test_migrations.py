"""The schema is versioned: an empty database and one left by revision 0001 both open at head."""
import threading
from datetime import timedelta

import numpy as np
import sqlalchemy as sa

from cnn_core.classroom import ClassStore, access, database, images
from cnn_core.models.pretrained import load_default_bundle


def _revision(url):
    engine = database.make_engine(url)
    try:
        with engine.connect() as conn:
            return database.current_revision(conn)
    finally:
        engine.dispose()


def test_an_empty_database_migrates_to_head(make_store, store_url):
    store = make_store()
    assert _revision(store_url) == database.head_revision() == "0002"
    tables = set(sa.inspect(store.engine).get_table_names())
    assert {"classes", "students", "drawings", "pushes", "leaderboard_entries",
            database.VERSION_TABLE} <= tables
    make_store()                                       # opening again is a no-op
    assert _revision(store_url) == "0002"


def _images_both_parts():
    """Two 28×28 images: one held out, one not (by their hash)."""
    rng = np.random.default_rng(1)
    found = {}
    while len(found) < 2:
        u8 = rng.integers(0, 256, (28, 28), dtype=np.uint8)
        found.setdefault(images.heldout(u8), u8)
    return found[True], found[False]


def test_a_database_from_revision_0001_keeps_its_rows_and_gains_the_new_features(make_store, store_url, clock):
    engine = database.make_engine(store_url)
    database.migrate(engine, "0001")
    t = sa.table  # the 0001 columns only, as the older release wrote them
    classes_v1 = t("classes", *[sa.column(c) for c in ("code", "name", "labels", "teacher_hash", "created",
                                                       "expires", "joining_open")])
    key, token = "teacher-key-from-0001", "token-from-0001"
    held, kept = _images_both_parts()
    now = clock()
    with engine.begin() as conn:
        conn.execute(sa.insert(classes_v1).values(
            code="ABCDEF", name="Old class", labels='["0","1","2","3","4","5","6","7","8","9"]',
            teacher_hash=access.secret_hash(key), created=now, expires=now + timedelta(hours=6), joining_open=True))
        cid = conn.execute(sa.text("SELECT id FROM classes")).scalar_one()
        conn.execute(sa.text("INSERT INTO students (class_id, token_hash, nickname, status, created) "
                             "VALUES (:c, :h, :n, 'active', :t)").bindparams(sa.bindparam("t", type_=sa.DateTime(True))),
                     {"c": cid, "h": access.secret_hash(token), "n": "Old Ada", "t": now})
        sid = conn.execute(sa.text("SELECT id FROM students")).scalar_one()
        ins = sa.text("INSERT INTO drawings (class_id, student_id, label, prediction, probs, model_name, image_png, "
                      "thumbnail_png, created, hidden) VALUES (:c, :s, :l, :p, NULL, 'default', :img, NULL, :t, :h)"
                      ).bindparams(sa.bindparam("img", type_=sa.LargeBinary), sa.bindparam("t", type_=sa.DateTime(True)),
                                   sa.bindparam("h", type_=sa.Boolean))
        for label, img in (("3", held), ("5", kept)):
            conn.execute(ins, {"c": cid, "s": sid, "l": label, "p": 3, "img": images.encode_png(img), "t": now,
                               "h": False})
    engine.dispose()
    assert _revision(store_url) == "0001"

    store = make_store()
    assert _revision(store_url) == "0002"
    me = store.membership(token)
    assert (me.nickname, me.code, me.class_name) == ("Old Ada", "ABC-DEF", "Old class")
    assert store.teacher_class(key).name == "Old class"
    rows = store.drawings("abc def")
    assert [(r.label, r.prediction, r.heldout) for r in rows] == [("3", "3", True), ("5", "3", False)]
    u8 = store.drawing_images("ABC-DEF", [rows[0].id])[rows[0].id][0]
    assert np.array_equal(u8, held)
    # the new features work on the old class
    assert store.push(key, "/draw").id == store.latest_push("ABC-DEF").id
    assert len(store.dataset("ABC-DEF", part="train")) == 1
    entry = store.submit_model(token, load_default_bundle())
    assert entry.n_test == 1
    new = store.add_drawing(token, np.zeros((28, 28), np.float32), label="0")
    assert new.id > rows[-1].id


def test_two_servers_opening_a_fresh_database_at_once(store_url, clock):
    """Both run the migration check at the same moment; the lock lets one migrate, the other wait."""
    stores, errors = [], []
    barrier = threading.Barrier(3)

    def open_store():
        try:
            barrier.wait()
            stores.append(ClassStore(store_url, clock=clock))
            stores[-1].create_class("x")
        except Exception as exc:     # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    try:
        assert errors == [] and len(stores) == 3
        assert _revision(store_url) == "0002"
    finally:
        for s in stores:
            s.close()


def test_migrations_are_packaged():
    from pathlib import Path

    import cnn_core.classroom.migrations as m
    import cnn_core.classroom.migrations.versions as v

    folder = Path(m.__file__).parent
    assert (folder / "env.py").exists() and (folder / "script.py.mako").exists()
    assert sorted(p.name for p in Path(v.__file__).parent.glob("0*.py")) == [
        "0001_classes.py", "0002_pushes_leaderboard.py"]
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '"cnn_core.classroom.migrations" = ["script.py.mako"]' in text
