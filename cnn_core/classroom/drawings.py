"""The drawings of a class: sending, the wall's incremental read, withdrawing, moderation, and the
class data set (with its fixed held-out fifth). Mixed into ClassStore."""
from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import sqlalchemy as sa

from cnn_core import limits
from cnn_core.classroom import images, validate
from cnn_core.classroom.errors import ClassAccessError, ClassLimitError
from cnn_core.classroom.rows import DrawingRow
from cnn_core.classroom.schema import drawings, students

MAX_MODEL_NAME_CHARS = 80
MAX_IDS_PER_CALL = 500
_ROW_COLS = [c for c in drawings.c if c.name not in ("image_png", "thumbnail_png")]


def _probs(probs, n_labels: int) -> str | None:
    if probs is None:
        return None
    arr = np.asarray(probs, dtype=np.float64).ravel() if np.size(probs) <= 10 else None
    if arr is None or arr.size != n_labels or not np.all(np.isfinite(arr)) or np.any((arr < 0) | (arr > 1)):
        raise ClassLimitError(f"The probabilities must be {n_labels} numbers between 0 and 1, one per label.")
    return json.dumps([round(float(v), 6) for v in arr])


class DrawingsMixin:
    # --- sending -------------------------------------------------------------------------------
    def add_drawing(self, token: str, image28, label: str, thumbnail_png: bytes | None = None,
                    prediction: int | None = None, probs=None, model_name: str = "") -> DrawingRow:
        """Store one drawing of the student holding ``token``. Sizes are checked before anything
        is decoded or stored; ``prediction`` is an index into the class's labels (or None)."""
        u8 = images.to_uint8(image28)
        thumb = images.check_thumbnail(thumbnail_png)
        model_name = validate.text(model_name, "The model name", MAX_MODEL_NAME_CHARS, required=False)
        png, held = images.encode_png(u8), images.heldout(u8)
        with self._write() as conn:
            # Locking the class row serialises this class's inserts until commit. That keeps the caps
            # exact, and it means ids are committed in increasing order, so a wall reading "id > cursor"
            # never skips a row that commits late with a smaller id (PostgreSQL's sequence alone
            # hands out ids before commit, in no commit order).
            me, room = self._student(conn, token, lock_class=True)
            labels = self._labels(room)
            if str(label) not in labels:
                raise ClassLimitError(f"The label {str(label)[:40]!r} is not one of this class's labels.")
            if prediction is not None:
                if isinstance(prediction, bool) or not isinstance(prediction, (int, np.integer)) \
                        or not 0 <= int(prediction) < len(labels):
                    raise ClassLimitError(f"The prediction must be the index of one of the {len(labels)} labels.")
                prediction = int(prediction)
            probs_json = _probs(probs, len(labels))
            now = self.now()
            recent = conn.execute(sa.select(sa.func.count()).select_from(drawings).where(
                drawings.c.student_id == me.id, drawings.c.created > now - timedelta(seconds=60))).scalar_one()
            if recent >= limits.MAX_DRAWINGS_PER_MINUTE:
                raise ClassLimitError(f"You sent {recent} drawings in the last minute; the cap is "
                                      f"{limits.MAX_DRAWINGS_PER_MINUTE} a minute, so wait a moment.")
            total = conn.execute(sa.select(sa.func.count()).select_from(drawings)
                                 .where(drawings.c.class_id == room.id)).scalar_one()
            if total >= limits.MAX_DRAWINGS_PER_CLASS:
                raise ClassLimitError(f"This class already has {total} drawings; the cap is "
                                      f"{limits.MAX_DRAWINGS_PER_CLASS}.")
            res = conn.execute(sa.insert(drawings).values(
                class_id=room.id, student_id=me.id, label=str(label), prediction=prediction, probs=probs_json,
                model_name=model_name, image_png=png, thumbnail_png=thumb, created=now, hidden=False,
                heldout=held))
            did = int(res.inserted_primary_key[0])
            row = conn.execute(self._rows_query().where(drawings.c.id == did)).first()
            return self._row(row, labels)

    # --- reading -------------------------------------------------------------------------------
    @staticmethod
    def _rows_query():
        return (sa.select(*_ROW_COLS, students.c.nickname)
                .join_from(drawings, students, students.c.id == drawings.c.student_id))

    def _row(self, r, labels: list[str]) -> DrawingRow:
        pred = labels[r.prediction] if r.prediction is not None and 0 <= r.prediction < len(labels) else None
        return DrawingRow(int(r.id), int(r.student_id), r.nickname, r.label, pred,
                          None if pred is None else pred == r.label,
                          None if r.probs is None else list(json.loads(r.probs)), self._utc(r.created),
                          bool(r.hidden), bool(r.heldout), r.model_name)

    @staticmethod
    def _utc(dt):
        from cnn_core.classroom.store import utc

        return utc(dt)

    def _room_for_read(self, conn, code, teacher_key):
        """The class of ``code``, and whether the caller is its teacher (a wrong key is refused)."""
        room = self._by_code(conn, code)
        if teacher_key is not None:
            self._teacher(conn, teacher_key, code=code)
        return room, teacher_key is not None

    def drawings(self, code: str, since_id: int = 0, teacher_key: str | None = None,
                 include_hidden: bool = False, limit: int = 500) -> list[DrawingRow]:
        """Drawings with id > since_id in id order (the (class_id, id) index: only new rows are read).
        Hidden ones only for the teacher with include_hidden; withdrawn ones no longer exist."""
        with self._read() as conn:
            room, teacher = self._room_for_read(conn, code, teacher_key)
            q = self._rows_query().where(drawings.c.class_id == room.id, drawings.c.id > int(since_id))
            if not (teacher and include_hidden):
                q = q.where(drawings.c.hidden == sa.false())
            q = q.order_by(drawings.c.id).limit(max(1, min(int(limit), 5000)))
            labels = self._labels(room)
            return [self._row(r, labels) for r in conn.execute(q)]

    def drawing_images(self, code: str, ids, teacher_key: str | None = None) -> dict:
        """{id: (uint8 (28, 28), thumbnail PNG bytes or None)} for visible drawings (all, for the teacher)."""
        ids = [int(i) for i in list(ids)[:MAX_IDS_PER_CALL]]
        if not ids:
            return {}
        with self._read() as conn:
            room, teacher = self._room_for_read(conn, code, teacher_key)
            q = sa.select(drawings.c.id, drawings.c.image_png, drawings.c.thumbnail_png).where(
                drawings.c.class_id == room.id, drawings.c.id.in_(ids))
            if not teacher:
                q = q.where(drawings.c.hidden == sa.false())
            rows = conn.execute(q).all()
        return {int(r.id): (images.decode_png28(bytes(r.image_png)),
                            None if r.thumbnail_png is None else bytes(r.thumbnail_png)) for r in rows}

    def my_drawings(self, token: str) -> list[DrawingRow]:
        """The student's own drawings, hidden ones included (marked), so they can withdraw them."""
        with self._read() as conn:
            me, room = self._student(conn, token)
            q = self._rows_query().where(drawings.c.student_id == me.id).order_by(drawings.c.id)
            labels = self._labels(room)
            return [self._row(r, labels) for r in conn.execute(q)]

    def label_counts(self, code: str) -> dict[str, int]:
        """Visible drawings per label, every label present (0 when none)."""
        with self._read() as conn:
            room = self._by_code(conn, code)
            rows = conn.execute(sa.select(drawings.c.label, sa.func.count()).where(
                drawings.c.class_id == room.id, drawings.c.hidden == sa.false()).group_by(drawings.c.label))
            counts = dict.fromkeys(self._labels(room), 0)
            counts.update({r[0]: int(r[1]) for r in rows if r[0] in counts})
            return counts

    def revision(self, code: str) -> int:
        """A counter bumped whenever a drawing the wall already shows is hidden, shown or removed:
        a wall reading only new ids rereads everything when it changes."""
        return self.class_info(code).revision

    # --- withdrawing and moderation ------------------------------------------------------------
    def withdraw(self, token: str, drawing_id: int) -> None:
        """The student deletes one of their own drawings (another student's: ClassAccessError)."""
        with self._write() as conn:
            me, room = self._student(conn, token)
            res = conn.execute(sa.delete(drawings).where(drawings.c.id == int(drawing_id),
                                                         drawings.c.student_id == me.id))
            if res.rowcount == 0:
                raise ClassAccessError("You can only withdraw your own drawings.")
            self._bump(conn, room.id)

    def hide(self, teacher_key: str, drawing_id: int, hidden: bool = True) -> None:
        with self._write() as conn:
            room = self._teacher(conn, teacher_key)
            res = conn.execute(sa.update(drawings).where(drawings.c.id == int(drawing_id),
                                                         drawings.c.class_id == room.id).values(hidden=bool(hidden)))
            if res.rowcount == 0:
                raise ClassAccessError("That drawing is not in your class (it may have been withdrawn).")
            self._bump(conn, room.id)

    def delete_drawing(self, teacher_key: str, drawing_id: int) -> None:
        with self._write() as conn:
            room = self._teacher(conn, teacher_key)
            res = conn.execute(sa.delete(drawings).where(drawings.c.id == int(drawing_id),
                                                         drawings.c.class_id == room.id))
            if res.rowcount == 0:
                raise ClassAccessError("That drawing is not in your class (it may have been withdrawn).")
            self._bump(conn, room.id)

    # --- the class data set --------------------------------------------------------------------
    def dataset(self, code: str, part: str = "all", teacher_key: str | None = None):
        """The visible drawings as an ImageDataset (class_names = the class's labels).

        part "train" never holds a held-out drawing, "test" only those; "all" carries the held-out
        mask in ``meta["heldout"]`` and the drawing ids in ``meta["drawing_ids"]``."""
        from cnn_core.data.datasets import ImageDataset

        if part not in ("all", "train", "test"):
            raise ValueError(f"part must be 'all', 'train' or 'test', not {part!r}")
        with self._read() as conn:
            room, _ = self._room_for_read(conn, code, teacher_key)
            rows = self._dataset_rows(conn, room.id, part)
            labels = self._labels(room)
        return self._as_dataset(ImageDataset, room, labels, rows, part)

    @staticmethod
    def _dataset_rows(conn, class_id: int, part: str):
        q = sa.select(drawings.c.id, drawings.c.label, drawings.c.image_png, drawings.c.heldout).where(
            drawings.c.class_id == class_id, drawings.c.hidden == sa.false())
        if part == "train":
            q = q.where(drawings.c.heldout == sa.false())
        elif part == "test":
            q = q.where(drawings.c.heldout == sa.true())
        return conn.execute(q.order_by(drawings.c.id)).all()

    @staticmethod
    def _as_dataset(ImageDataset, room, labels, rows, part):
        index = {name: i for i, name in enumerate(labels)}
        rows = [r for r in rows if r.label in index]
        imgs = np.zeros((len(rows), 1, 28, 28), np.uint8)
        for i, r in enumerate(rows):
            imgs[i, 0] = images.decode_png28(bytes(r.image_png))
        meta = {"drawing_ids": np.array([r.id for r in rows], np.int64), "class_id": int(room.id), "part": part,
                "heldout": np.array([bool(r.heldout) for r in rows], bool)}
        return ImageDataset(f"Class {room.name} ({part}, {len(rows):,})", imgs,
                            np.array([index[r.label] for r in rows], np.int64), list(labels),
                            source="drawings of the class", meta=meta)

