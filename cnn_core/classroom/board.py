"""The class leaderboard: students submit finished models, the server scores them on the
held-out drawings (a client never sends a score) and rescores them when that set changes.
Mixed into ClassStore."""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from types import SimpleNamespace

import sqlalchemy as sa

from cnn_core import limits
from cnn_core.classroom import scoring
from cnn_core.classroom.errors import ClassAccessError, ClassLimitError, ClassModelError
from cnn_core.classroom.rows import LeaderboardRow
from cnn_core.classroom.schema import drawings, entries

MAX_SETTINGS_CHARS = 8000
MODELS_CACHED = 16           # loaded checkpoints kept for rescoring (entry id -> torch module)
_LIST_COLS = [c for c in entries.c if c.name != "checkpoint"]


class BoardMixin:
    def __init__(self):
        self._models: OrderedDict = OrderedDict()
        self._models_lock = threading.Lock()
        self._rescore_lock = threading.Lock()

    def submit_model(self, token: str, bundle, settings: dict | None = None,
                     model_name: str | None = None) -> LeaderboardRow:
        """Score ``bundle`` (a ModelBundle) on the held-out drawings and add it to the board."""
        from cnn_core.models import checkpoints
        from cnn_core.models.specs import count_params

        try:
            settings_json = json.dumps(settings or {}, sort_keys=True, default=str)
        except (TypeError, ValueError):
            raise ClassLimitError("The run's settings could not be saved (they are not plain values).") from None
        if len(settings_json) > MAX_SETTINGS_CHARS:
            raise ClassLimitError(f"The run's settings take {len(settings_json):,} characters; the cap is "
                                  f"{MAX_SETTINGS_CHARS:,}.")
        me = self.membership(token)                  # fails early for an ended class or removed student
        scoring.check_input(bundle.spec)
        cols = scoring.label_columns(bundle.class_names, me.labels)
        data = checkpoints.to_bytes(bundle)
        cap = limits.MAX_CHECKPOINT_MB * 2 ** 20
        if len(data) > cap:
            raise ClassLimitError(f"The model's checkpoint is {limits.fmt_bytes(len(data))}; the cap is "
                                  f"{limits.fmt_bytes(cap)} {limits.over(len(data), cap)}.")
        try:        # score what was stored, exactly as a later rescoring will load it
            model = checkpoints.from_bytes(data).model
        except checkpoints.CheckpointError as exc:
            raise ClassModelError(str(exc)) from None
        name = (model_name or bundle.name or "model")[:80]
        with self._read() as conn:
            ids, test = self._test_set(conn, me.class_id, me.labels)
        result = scoring.score(model, cols, test)
        with self._write() as conn:
            me2, room = self._student(conn, token, lock_class=True)
            n = conn.execute(sa.select(sa.func.count()).select_from(entries)
                             .where(entries.c.class_id == room.id)).scalar_one()
            if n >= limits.MAX_LEADERBOARD_ENTRIES:
                raise ClassLimitError(f"The leaderboard already has {n} entries; the cap is "
                                      f"{limits.MAX_LEADERBOARD_ENTRIES} a class.")
            now = self.now()
            eid = int(conn.execute(sa.insert(entries).values(
                class_id=room.id, student_id=me2.id, nickname=me2.nickname, model_name=name,
                settings=settings_json, checkpoint=data, n_params=int(count_params(bundle.spec)),
                accuracy=result.accuracy, per_label=json.dumps(result.per_label), n_test=result.n_test,
                test_fingerprint=scoring.fingerprint(ids), created=now, hidden=False)).inserted_primary_key[0])
            self._cache_model(eid, (model, cols))
            row = conn.execute(sa.select(*_LIST_COLS).where(entries.c.id == eid)).first()
        return self._entry(row, 0)

    def leaderboard(self, code: str, teacher_key: str | None = None,
                    include_hidden: bool = False) -> list[LeaderboardRow]:
        """Entries ranked by accuracy, then fewer parameters, then earlier; rescored first when the
        held-out drawings changed since they were scored. Hidden entries only for the teacher."""
        with self._read() as conn:
            room, teacher = self._room_for_read(conn, code, teacher_key)
            labels = self._labels(room)
            rows = conn.execute(sa.select(*_LIST_COLS).where(entries.c.class_id == room.id)).all()
            ids = self._test_ids(conn, room.id)
        current = scoring.fingerprint(ids)
        if any(r.test_fingerprint != current for r in rows):
            rows = self._rescore(room, labels, current)
        if not (teacher and include_hidden):
            rows = [r for r in rows if not r.hidden]
        rows = sorted(rows, key=lambda r: (r.accuracy is None, -(r.accuracy or 0.0), r.n_params, r.id))
        return [self._entry(r, i + 1) for i, r in enumerate(rows)]

    def hide_entry(self, teacher_key: str, entry_id: int, hidden: bool = True) -> None:
        with self._write() as conn:
            room = self._teacher(conn, teacher_key)
            res = conn.execute(sa.update(entries).where(entries.c.id == int(entry_id),
                                                        entries.c.class_id == room.id).values(hidden=bool(hidden)))
            if res.rowcount == 0:
                raise ClassAccessError("That leaderboard entry is not in your class.")

    # --- helpers -------------------------------------------------------------------------------
    @staticmethod
    def _test_ids(conn, class_id: int) -> list[int]:
        return [int(r[0]) for r in conn.execute(sa.select(drawings.c.id).where(
            drawings.c.class_id == class_id, drawings.c.heldout == sa.true(), drawings.c.hidden == sa.false()))]

    def _test_set(self, conn, class_id: int, labels: list[str]):
        """(ids, ImageDataset) of the visible held-out drawings."""
        from cnn_core.data.datasets import ImageDataset

        rows = self._dataset_rows(conn, class_id, "test")
        ds = self._as_dataset(ImageDataset, SimpleNamespace(id=class_id, name=""), labels, rows, "test")
        return [int(r.id) for r in rows], ds

    def _rescore(self, room, labels, current: str):
        from cnn_core.models import checkpoints

        with self._rescore_lock:        # one rescoring at a time in this process
            with self._read() as conn:
                ids, test = self._test_set(conn, room.id, labels)
                stale = conn.execute(sa.select(entries.c.id, entries.c.checkpoint).where(
                    entries.c.class_id == room.id, entries.c.test_fingerprint != scoring.fingerprint(ids))).all()
            fp = scoring.fingerprint(ids)
            updates = []
            for r in stale:
                cached = self._cached_model(int(r.id))
                if cached is None:
                    try:
                        bundle = checkpoints.from_bytes(bytes(r.checkpoint))
                        cached = (bundle.model, scoring.label_columns(bundle.class_names, labels))
                    except (checkpoints.CheckpointError, ClassModelError):
                        # e.g. a cap lowered since it was submitted: shown unscored, not a broken board
                        cached = (None, None)
                    self._cache_model(int(r.id), cached)
                s = (scoring.score(cached[0], cached[1], test) if cached[0] is not None
                     else scoring.Score(None, dict.fromkeys(labels), 0))
                updates.append({"eid": int(r.id), "acc": s.accuracy, "per": json.dumps(s.per_label),
                                "n": s.n_test, "fp": fp})
            with self._write() as conn:
                if updates:
                    conn.execute(sa.update(entries).where(entries.c.id == sa.bindparam("eid")).values(
                        accuracy=sa.bindparam("acc"), per_label=sa.bindparam("per"),
                        n_test=sa.bindparam("n"), test_fingerprint=sa.bindparam("fp")), updates)
                return conn.execute(sa.select(*_LIST_COLS).where(entries.c.class_id == room.id)).all()

    def _cached_model(self, eid: int):
        with self._models_lock:
            if eid in self._models:
                self._models.move_to_end(eid)
                return self._models[eid]
        return None

    def _cache_model(self, eid: int, value) -> None:
        with self._models_lock:
            self._models[eid] = value
            while len(self._models) > MODELS_CACHED:
                self._models.popitem(last=False)

    def _entry(self, r, rank: int) -> LeaderboardRow:
        return LeaderboardRow(int(r.id), rank, r.student_id, r.nickname, r.accuracy, json.loads(r.per_label),
                              int(r.n_test), int(r.n_params), json.loads(r.settings), r.model_name,
                              self._utc(r.created), bool(r.hidden))
