"""Class mode: a class that draws, moderates, trains and compares models together.

Plain library (no streamlit): ``ClassStore`` over SQLAlchemy Core, SQLite by default and
PostgreSQL for several app servers, with its schema versioned by Alembic (``migrations/``). README.md
beside this file lists the calls.
"""
from cnn_core.classroom.access import JoinAttempts, normalise_code
from cnn_core.classroom.database import default_store_url
from cnn_core.classroom.errors import ClassAccessError, ClassLimitError, ClassModelError, ClassStoreUnavailable
from cnn_core.classroom.rows import ClassInfo, DrawingRow, LeaderboardRow, Membership, NewClass, PushRow
from cnn_core.classroom.store import ClassStore

__all__ = ["ClassStore", "ClassAccessError", "ClassLimitError", "ClassModelError", "ClassStoreUnavailable",
           "ClassInfo", "Membership", "DrawingRow", "PushRow", "LeaderboardRow", "NewClass", "JoinAttempts",
           "default_store_url", "normalise_code"]
