"""ClassStore: one class database (SQLite or PostgreSQL) shared by every session of a server, or
by several servers. Classes, students, moderation, pushed views; drawings and the leaderboard are
in ``drawings.py`` and ``board.py``.

Every public call is one short transaction that checks who is asking (a teacher key, a student
token, or a join code) against the database, so an ended class, an expired one or a removed
student stops working at once on every server. Every statement is SQLAlchemy Core with bound
parameters. A database that is away raises ClassStoreUnavailable and leaves no state behind: the
next call simply tries again.
"""
from __future__ import annotations

import contextlib
import json
import threading
import time
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from cnn_core import limits
from cnn_core.classroom import access, validate
from cnn_core.classroom.board import BoardMixin
from cnn_core.classroom.database import default_store_url, make_engine, migrate, unavailable_as_error
from cnn_core.classroom.drawings import DrawingsMixin
from cnn_core.classroom.errors import (ENDED, LEFT, NOT_TEACHER, REMOVED, WRONG_KEY, ClassAccessError,
                                       ClassLimitError, ClassStoreUnavailable)
from cnn_core.classroom.rows import ClassInfo, Membership, NewClass, PushRow
from cnn_core.classroom.schema import ALL_TABLES, classes, drawings, pushes, students

DIGITS = [str(d) for d in range(10)]
DEFAULT_HOURS = 12
PUSHES_KEPT = 20            # students only ever need the latest; older pushes are pruned


def utc(dt: datetime) -> datetime:
    """SQLite returns naive datetimes (stored as UTC); PostgreSQL aware ones. Always aware UTC."""
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


class ClassStore(DrawingsMixin, BoardMixin):
    """Thread-safe; one per process. ``clock`` (returns an aware datetime) is for tests."""

    def __init__(self, url: str | None = None, clock=None, busy_timeout_ms: int = 5000,
                 purge_every_s: float = 60.0):
        self.url = url or default_store_url()
        self._engine = make_engine(self.url, busy_timeout_ms)
        self._clock = clock
        self._purge_every_s = purge_every_s
        self._lock = threading.Lock()
        self._ready = False
        self._last_purge = float("-inf")
        BoardMixin.__init__(self)
        try:                      # migrate now; if the database is away, the first call retries
            self._ensure_ready()
        except ClassStoreUnavailable:
            pass

    # --- plumbing ------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the pooled connections (tests drop their database afterwards)."""
        self._engine.dispose()

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def now(self) -> datetime:
        return utc(self._clock()) if self._clock else datetime.now(timezone.utc)

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                with unavailable_as_error():
                    migrate(self._engine)
                self._ready = True

    def _maybe_purge(self) -> None:
        """Delete expired classes at most once every ``purge_every_s`` (on any call)."""
        t = time.monotonic()
        with self._lock:
            if t - self._last_purge < self._purge_every_s:
                return
            self._last_purge = t
        try:
            self.purge_expired()
        except ClassStoreUnavailable:       # a read-only database still serves reads
            pass

    @contextlib.contextmanager
    def _read(self):
        self._maybe_purge()
        with self._read_plain() as conn:
            yield conn

    @contextlib.contextmanager
    def _read_plain(self):
        with unavailable_as_error():
            self._ensure_ready()
            with self._engine.connect() as conn:
                yield conn

    @contextlib.contextmanager
    def _write(self, purge: bool = True):
        if purge:
            self._maybe_purge()
        with unavailable_as_error():
            self._ensure_ready()
            with self._engine.connect().execution_options(classroom_write=True) as conn, conn.begin():
                yield conn

    # --- who is asking -------------------------------------------------------------------------
    def _live(self, row) -> None:
        if row is None or utc(row.expires) <= self.now():
            raise ClassAccessError(ENDED)

    def _by_code(self, conn, code: str, lock: bool = False):
        raw = access.code_key(code)
        shown = access.display_code(raw) or "(empty)"
        row = None
        if access.is_valid_code(raw):
            q = sa.select(classes).where(classes.c.code == raw)
            row = conn.execute(q.with_for_update() if lock else q).first()
        if row is None:
            raise ClassAccessError(f"No class has the code {shown}: check it, or the class has ended.")
        self._live(row)
        return row

    def _teacher(self, conn, teacher_key: str, lock: bool = False, code: str | None = None):
        """The class this teacher key opens (optionally: and it must be the class with ``code``)."""
        h = access.secret_hash(teacher_key)
        q = sa.select(classes).where(classes.c.teacher_hash == h)
        row = conn.execute(q.with_for_update() if lock else q).first()
        if row is None or not access.same_hash(row.teacher_hash, teacher_key):
            if conn.execute(sa.select(students.c.id).where(students.c.token_hash == h)).first():
                raise ClassAccessError(NOT_TEACHER)
            raise ClassAccessError(WRONG_KEY)
        self._live(row)
        if code is not None and row.code != access.code_key(code):
            raise ClassAccessError("This teacher link belongs to another class.")
        return row

    def _student(self, conn, token: str, lock_class: bool = False):
        """(student row, class row) for a token, or ClassAccessError saying why it stopped working."""
        h = access.secret_hash(token)
        me = conn.execute(sa.select(students).where(students.c.token_hash == h)).first()
        if me is None or not access.same_hash(me.token_hash, token):
            raise ClassAccessError(ENDED)
        if me.status == "removed":
            raise ClassAccessError(REMOVED)
        if me.status == "left":
            raise ClassAccessError(LEFT)
        q = sa.select(classes).where(classes.c.id == me.class_id)
        room = conn.execute(q.with_for_update() if lock_class else q).first()
        self._live(room)
        return me, room

    @staticmethod
    def _bump(conn, class_id: int) -> None:
        """Tell walls that rows they already hold changed (hidden, shown, withdrawn, deleted)."""
        conn.execute(sa.update(classes).where(classes.c.id == class_id)
                     .values(revision=classes.c.revision + 1))

    @staticmethod
    def _labels(room) -> list[str]:
        return list(json.loads(room.labels))

    def _info(self, conn, room) -> ClassInfo:
        n = conn.execute(sa.select(sa.func.count()).select_from(students).where(
            students.c.class_id == room.id, students.c.status == "active")).scalar_one()
        return ClassInfo(room.id, access.display_code(room.code), room.name, self._labels(room),
                         utc(room.created), utc(room.expires), bool(room.joining_open), int(n),
                         int(room.revision or 0))

    # --- classes -------------------------------------------------------------------------------
    def create_class(self, name: str, labels=None, lifetime_hours: float = DEFAULT_HOURS) -> NewClass:
        name = validate.class_name(name)
        labels = validate.labels(DIGITS if labels is None else labels)
        hours = validate.lifetime_hours(lifetime_hours)
        key = access.new_secret()
        for attempt in range(3):        # a code taken by another server at the same instant: retry
            try:
                with self._write(purge=False) as conn:
                    now = self.now()
                    self._purge(conn, now)     # an expired class's code becomes free again
                    n = conn.execute(sa.select(sa.func.count()).select_from(classes)).scalar_one()
                    if n >= limits.MAX_CLASSES:
                        raise ClassLimitError(f"This server already runs {n} classes; the cap is "
                                              f"{limits.MAX_CLASSES}, try again when one has ended.")
                    code = self._free_code(conn)
                    expires = now + timedelta(hours=hours)
                    res = conn.execute(sa.insert(classes).values(
                        code=code, name=name, labels=json.dumps(labels), teacher_hash=access.secret_hash(key),
                        created=now, expires=expires, joining_open=True, revision=0))
                    return NewClass(int(res.inserted_primary_key[0]), access.display_code(code), key, name,
                                    labels, expires, True)
            except sa.exc.IntegrityError:
                if attempt == 2:
                    raise ClassStoreUnavailable("No free class code could be found; try again.") from None
        raise AssertionError("unreachable")

    @staticmethod
    def _free_code(conn) -> str:
        for _ in range(50):
            code = access.new_code()
            if conn.execute(sa.select(classes.c.id).where(classes.c.code == code)).first() is None:
                return code
        raise ClassStoreUnavailable("No free class code could be found; try again.")

    def class_info(self, code: str) -> ClassInfo:
        with self._read() as conn:
            return self._info(conn, self._by_code(conn, code))

    def teacher_class(self, teacher_key: str) -> ClassInfo:
        with self._read() as conn:
            return self._info(conn, self._teacher(conn, teacher_key))

    def set_joining(self, teacher_key: str, open: bool = False) -> None:   # noqa: A002 (the contract's name)
        with self._write() as conn:
            room = self._teacher(conn, teacher_key)
            conn.execute(sa.update(classes).where(classes.c.id == room.id).values(joining_open=bool(open)))

    def end_class(self, teacher_key: str) -> None:
        """Delete every row of the class; its code, key and tokens stop working at once."""
        with self._write() as conn:
            room = self._teacher(conn, teacher_key, lock=True)
            self._delete_classes(conn, [room.id])

    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete the classes past their lifetime, with all their rows; returns how many."""
        when = utc(now) if now else self.now()
        with self._read_plain() as conn:      # usually nothing expired: no write lock taken for that
            if conn.execute(sa.select(classes.c.id).where(classes.c.expires <= when).limit(1)).first() is None:
                return 0
        with self._write(purge=False) as conn:
            return self._purge(conn, when)

    def _purge(self, conn, now: datetime) -> int:
        ids = [r.id for r in conn.execute(sa.select(classes.c.id).where(classes.c.expires <= now))]
        if ids:
            self._delete_classes(conn, ids)
        return len(ids)

    @staticmethod
    def _delete_classes(conn, ids: list[int]) -> None:
        # explicit deletes, children first: the result does not depend on ON DELETE CASCADE being on
        for table in ALL_TABLES:
            col = table.c.id if table is classes else table.c.class_id
            conn.execute(sa.delete(table).where(col.in_(ids)))

    # --- students ------------------------------------------------------------------------------
    def join(self, code: str, nickname: str | None = None, attempts: access.JoinAttempts | None = None,
             session_id: str | None = None) -> Membership:
        """Join with a code. With ``attempts`` and ``session_id``, wrong codes count against the session."""
        nick = validate.nickname(nickname)
        if attempts is not None:
            attempts.check(session_id or "")
        token = access.new_secret()
        with self._write() as conn:
            try:
                room = self._by_code(conn, code, lock=True)
            except ClassAccessError:
                if attempts is not None:
                    attempts.failed(session_id or "")
                raise
            if not room.joining_open:
                raise ClassAccessError("The teacher has closed joining for this class.")
            count = sa.select(sa.func.count()).select_from(students).where(students.c.class_id == room.id)
            n_active = conn.execute(count.where(students.c.status == "active")).scalar_one()
            if n_active >= limits.MAX_STUDENTS_PER_CLASS:
                raise ClassLimitError(f"This class is full: the cap is {limits.MAX_STUDENTS_PER_CLASS} students.")
            if not nick:
                nick = f"Student {conn.execute(count).scalar_one() + 1}"
            res = conn.execute(sa.insert(students).values(
                class_id=room.id, token_hash=access.secret_hash(token), nickname=nick, status="active",
                created=self.now()))
            return self._membership(int(res.inserted_primary_key[0]), token, nick, room)

    def _membership(self, student_id, token, nickname, room) -> Membership:
        return Membership(student_id, token, nickname, room.id, access.display_code(room.code), room.name,
                          self._labels(room), utc(room.expires))

    def membership(self, token: str) -> Membership:
        with self._read() as conn:
            me, room = self._student(conn, token)
            return self._membership(me.id, token, me.nickname, room)

    def leave(self, token: str) -> None:
        with self._write() as conn:
            me, _ = self._student(conn, token)
            conn.execute(sa.update(students).where(students.c.id == me.id).values(status="left"))

    def students(self, teacher_key: str) -> list[tuple[int, str, int]]:
        """(student_id, nickname, n_drawings) of everyone who joined and was not removed, by join order."""
        n = (sa.select(sa.func.count()).select_from(drawings)
             .where(drawings.c.student_id == students.c.id).scalar_subquery())
        with self._read() as conn:
            room = self._teacher(conn, teacher_key)
            rows = conn.execute(sa.select(students.c.id, students.c.nickname, n).where(
                students.c.class_id == room.id, students.c.status != "removed").order_by(students.c.id))
            return [(int(r[0]), r[1], int(r[2])) for r in rows]

    def remove_student(self, teacher_key: str, student_id: int) -> None:
        """Delete the student's drawings and entries; the token stops working (kept as a tombstone
        without the nickname, so the student is told why)."""
        from cnn_core.classroom.schema import entries

        with self._write() as conn:
            room = self._teacher(conn, teacher_key, lock=True)
            me = conn.execute(sa.select(students.c.id).where(
                students.c.id == int(student_id), students.c.class_id == room.id)).first()
            if me is None:
                raise ClassAccessError("That student is not in your class.")
            conn.execute(sa.delete(drawings).where(drawings.c.student_id == me.id))
            conn.execute(sa.delete(entries).where(entries.c.student_id == me.id))
            conn.execute(sa.update(students).where(students.c.id == me.id).values(status="removed", nickname=""))
            self._bump(conn, room.id)

    # --- pushed views --------------------------------------------------------------------------
    def push(self, teacher_key: str, url: str, title: str = "") -> PushRow:
        url, title = validate.push_url(url), validate.push_title(title)
        with self._write() as conn:
            room = self._teacher(conn, teacher_key, lock=True)   # ids in commit order (see add_drawing)
            now = self.now()
            pid = int(conn.execute(sa.insert(pushes).values(class_id=room.id, url=url, title=title,
                                                             created=now)).inserted_primary_key[0])
            kept = (sa.select(pushes.c.id).where(pushes.c.class_id == room.id)
                    .order_by(pushes.c.id.desc()).limit(PUSHES_KEPT))
            conn.execute(sa.delete(pushes).where(pushes.c.class_id == room.id, pushes.c.id.not_in(kept)))
            return PushRow(pid, url, title, now)

    def latest_push(self, code: str, since_id: int = 0) -> PushRow | None:
        """The newest push with id > since_id (one indexed row), or None."""
        with self._read() as conn:
            room = self._by_code(conn, code)
            r = conn.execute(sa.select(pushes).where(pushes.c.class_id == room.id, pushes.c.id > int(since_id))
                             .order_by(pushes.c.id.desc()).limit(1)).first()
            return None if r is None else PushRow(int(r.id), r.url, r.title, utc(r.created))
