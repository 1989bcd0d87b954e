"""The three ways a class-mode call is refused; every message is one sentence meant for the user."""
from __future__ import annotations

from cnn_core.limits import LimitError


class ClassAccessError(PermissionError):
    """Wrong code or key, a student doing a teacher's action, another class, an ended or expired class."""


class ClassModelError(ClassAccessError):
    """A submitted model that cannot be scored on this class (its labels or input do not fit)."""


class ClassLimitError(LimitError):
    """A cap of ``cnn_core.limits`` (class mode section) or a malformed value (a label, a name)."""


class ClassStoreUnavailable(RuntimeError):
    """The database is away, read-only or full; nothing half-written, the call can simply be retried."""


ENDED = "This class has ended."
REMOVED = "The teacher removed you from this class."
LEFT = "You left this class; join again with the code."
WRONG_KEY = "This class has ended, or this teacher link is not valid."
NOT_TEACHER = "Only the teacher can do that."
UNREACHABLE = ("The class database is not reachable right now; nothing you already sent is lost, "
               "try again in a moment.")
READ_ONLY = "The class database is read-only or full right now, so nothing was saved; try again in a moment."
