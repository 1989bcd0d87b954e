"""The engine, the migrations, and what "the database is away" means to a caller.

SQLite (the default, one server): WAL so the wall's reads never wait for a student's write,
foreign keys on, a busy timeout, and write transactions opened with BEGIN IMMEDIATE so two writers
queue for the lock instead of failing half-way (a deferred transaction that read first cannot take
the write lock once another connection has written). PostgreSQL (several servers):
``pool_pre_ping`` so a connection broken by a restart is replaced instead of failing once more.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event, exc

from cnn_core.classroom.errors import READ_ONLY, UNREACHABLE, ClassStoreUnavailable

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "classroom_alembic_version"
# pg_advisory_xact_lock key: any constant both servers agree on ("CNNclass" as an int64)
ADVISORY_KEY = int.from_bytes(b"CNNclass", "big") & 0x7FFF_FFFF_FFFF_FFFF
ENV_URL = "CNN_EXPLORER_DATABASE_URL"


def default_store_url() -> str:
    """$CNN_EXPLORER_DATABASE_URL, else SQLite in $CNN_EXPLORER_DATA_DIR or <repo>/.cache/classes.db."""
    url = os.environ.get(ENV_URL, "").strip()
    if url:
        return url
    from cnn_core import ASSETS

    folder = Path(os.environ.get("CNN_EXPLORER_DATA_DIR") or ASSETS.parent / ".cache")
    return f"sqlite:///{folder / 'classes.db'}"


def make_engine(url: str, busy_timeout_ms: int = 5000) -> sa.Engine:
    u = sa.make_url(url)
    if u.get_backend_name() == "sqlite":
        return _sqlite_engine(u, busy_timeout_ms)
    return sa.create_engine(u, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_timeout=10,
                            connect_args={"connect_timeout": 5} if u.get_backend_name() == "postgresql" else {})


def _sqlite_engine(u: sa.URL, busy_timeout_ms: int) -> sa.Engine:
    db = u.database or ""
    if db and db != ":memory:" and not db.startswith("file:"):
        Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(u, connect_args={"check_same_thread": False,
                                               "timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None        # we emit BEGIN ourselves (see module docstring)
        cur = dbapi_conn.cursor()
        try:
            cur.execute("PRAGMA journal_mode=WAL")
        except Exception:                        # a read-only file cannot switch modes; reads still work
            pass
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        write = conn.get_execution_options().get("classroom_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


_READ_ONLY_HINTS = ("readonly", "read-only", "read only", "disk is full", "disk full", "no space",
                    "could not extend", "25006", "53100")


@contextlib.contextmanager
def unavailable_as_error():
    """OperationalError / DatabaseError (server down, read-only, full, locked too long) →
    ClassStoreUnavailable with one sentence. Constraint and programming errors are bugs or races the
    store handles itself, so they pass through."""
    try:
        yield
    except (exc.IntegrityError, exc.ProgrammingError):
        raise
    except (exc.DBAPIError, exc.TimeoutError) as e:   # OperationalError, DatabaseError, InterfaceError
        text = str(getattr(e, "orig", e)).lower()
        code = str(getattr(getattr(e, "orig", None), "sqlstate", "") or "")
        ro = any(h in text for h in _READ_ONLY_HINTS) or code in ("25006", "53100")
        raise ClassStoreUnavailable(READ_ONLY if ro else UNREACHABLE) from e


def _alembic_config(conn):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()


def current_revision(conn) -> str | None:
    from alembic.migration import MigrationContext

    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def migrate(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``. A database already there is only read (so a read-only
    copy still opens); otherwise one transaction, serialised between servers: PostgreSQL's
    transaction-scoped advisory lock, SQLite's BEGIN IMMEDIATE."""
    from alembic import command

    target = head_revision() if revision == "head" else revision
    with engine.connect() as conn:
        if current_revision(conn) == target:
            return
    with engine.connect().execution_options(classroom_write=True) as conn:
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_KEY})
            if current_revision(conn) != target:          # the other server may have done it meanwhile
                command.upgrade(_alembic_config(conn), revision)
