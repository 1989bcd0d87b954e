"""Class mode's machinery: the one ClassStore per server process, and who this session is in a class.

The store is cached per database URL (``default_store_url()``: $CNN_EXPLORER_DATABASE_URL, so a
test's temporary database gets its own store). A student's token and a teacher's key live in this
session's state only; they reach the address bar only in the two links meant to carry them (the
teacher link ``/class?teacher=KEY`` and the join link ``/class?join=CODE``), and the Class page takes
them out of the address as soon as it has read them (``links.SECRET_PARAMS``).

Every call to the store goes through ``attempt``: a refusal or an unreachable database becomes one
sentence on the page, never a traceback, and a class that has ended or a student who was removed
drops the membership with one clear note. While the database is away, the ticking fragments (wall,
banner) leave it alone for a few seconds instead of waiting on it every tick.
"""
from __future__ import annotations

import contextlib
import threading
import time
import uuid
from dataclasses import dataclass

import streamlit as st

from cnn_core.classroom import (ClassAccessError, ClassLimitError, ClassStore, ClassStoreUnavailable, JoinAttempts,
                                default_store_url)

MEMBER = "class_member"          # cnn_core.classroom.Membership of this session, or absent
TEACHER = "class_teacher"        # {"key", "code", "name", "labels"}: the class this session teaches
NEW_CLASS = "class_new"          # the NewClass just created: its teacher link is shown once
NOTE = "class_note"              # one sentence to show once: "This class has ended." …
SESSION_ID = "_class_session"    # a random id per browser session (join attempts are counted by it)
PENDING = "class_pending"        # drawings not sent yet because the database was away
BACKOFF_S = 5.0                  # how long ticking views leave an unreachable database alone

UNREACHABLE = ("The class database is not reachable right now; the rest of the app works as usual, "
               "and class mode comes back by itself when the database does.")

_down: dict[str, float] = {}     # url -> monotonic time before which ticks do not try again
_down_lock = threading.Lock()


@st.cache_resource(show_spinner=False)
def _store_for(url: str) -> ClassStore:
    try:
        return ClassStore(url)
    except ClassStoreUnavailable:
        raise
    except Exception as exc:    # noqa: BLE001 - a bad path or URL: the same one sentence, not a traceback
        raise ClassStoreUnavailable(UNREACHABLE) from exc


def store() -> ClassStore:
    """This process's ClassStore for the configured database (raises ClassStoreUnavailable)."""
    return _store_for(default_store_url())


def reachable() -> bool:
    """Does the database answer now? (The store opens without one and says so only on a call; the
    cheapest public read is the purge check, one indexed row.)"""
    try:
        store().purge_expired()
    except ClassStoreUnavailable:
        mark_down()
        return False
    mark_up()
    return True


@st.cache_resource(show_spinner=False)
def join_attempts() -> JoinAttempts:
    return JoinAttempts(max_failures=8, window_s=60)


def session_id() -> str:
    """Who wrong join codes are counted against: the browser (its id cookie survives a reload, so reloading
    does not reset the count), else this session."""
    from ui.app import state

    return st.session_state.setdefault(SESSION_ID, state.browser() or uuid.uuid4().hex)


REMEMBERED = "_class_remembered"   # the class state last given to the browser memory


def remember() -> None:
    """Keep this browser's class (membership, teacher key) across a reload: in the server's per-browser
    memory (ui/app/browser_memory.py), never in the address. Cheap when nothing changed."""
    from ui.app import browser_memory, state

    now = (st.session_state.get(MEMBER), st.session_state.get(TEACHER))
    if st.session_state.get(REMEMBERED, (None, None)) == now:
        return
    st.session_state[REMEMBERED] = now
    browser = state.browser()
    if browser:
        browser_memory.shared().save_class(browser, {"member": now[0], "teacher": now[1]} if any(now) else None)


def restore(classroom: dict | None) -> bool:
    """After a reload: this browser's class back in the session (True when there was one). The sidebar's
    membership check on the same run drops it, with its note, if the class ended meanwhile."""
    if not classroom or not (classroom.get("member") or classroom.get("teacher")):
        return False
    for key, value in ((MEMBER, classroom.get("member")), (TEACHER, classroom.get("teacher"))):
        if value is not None:
            st.session_state[key] = value
    st.session_state[REMEMBERED] = (classroom.get("member"), classroom.get("teacher"))
    return True


def mark_down() -> None:
    with _down_lock:
        _down[default_store_url()] = time.monotonic() + BACKOFF_S


def is_down() -> bool:
    """True for a few seconds after the database was found away (ticks skip it meanwhile)."""
    with _down_lock:
        return _down.get(default_store_url(), 0.0) > time.monotonic()


def mark_up() -> None:
    with _down_lock:
        _down.pop(default_store_url(), None)


# --- the newest push of a class, shared by this process's sessions -----------------------------------
# Every student's banner asks for it every 1.5 s: thirty students were twenty database reads a second for one
# row that changes a few times a lesson. The sessions of one process now share one read per PUSH_TTL_S per class;
# a push made through this process is seen at once (``forget_push``), one made through another server within
# PUSH_TTL_S more (the banner's 2 s promise: a 1.5 s tick plus this).
PUSH_TTL_S = 0.25
_pushes: dict[tuple[str, str], tuple[float, object]] = {}     # (database URL, code) -> (monotonic time, PushRow | None)
_pushes_lock = threading.Lock()
_clock = time.monotonic


def newest_push(code: str):
    """The class's newest push (a PushRow) or None, read at most once per PUSH_TTL_S by this process. Raises
    what the store raises (an ended class, the database away); those are not kept."""
    key, now = (default_store_url(), code), _clock()
    with _pushes_lock:
        hit = _pushes.get(key)
    if hit is not None and now - hit[0] < PUSH_TTL_S:
        return hit[1]
    row = store().latest_push(code, since_id=0)
    with _pushes_lock:
        if len(_pushes) > 1000:        # classes long ended: bounded
            _pushes.clear()
        _pushes[key] = (now, row)
    return row


def forget_push(code: str) -> None:
    """After a push through this process: the next banner tick reads the database."""
    with _pushes_lock:
        _pushes.pop((default_store_url(), code), None)


# --- who this session is ---------------------------------------------------------------------------

def member():
    """This session's Membership, or None."""
    return st.session_state.get(MEMBER)


def teacher() -> dict | None:
    """{"key", "code", "name", "labels"} of the class this session teaches, or None."""
    return st.session_state.get(TEACHER)


def active_code() -> str | None:
    """The class this session belongs to, as teacher or student."""
    t, m = teacher(), member()
    return t["code"] if t else (m.code if m else None)


def class_labels() -> list[str] | None:
    t, m = teacher(), member()
    return list(t["labels"]) if t else (list(m.labels) if m else None)


def reader_key() -> str | None:
    """The teacher key when this session teaches the class it is in (sees hidden drawings)."""
    t = teacher()
    return t["key"] if t else None


def set_teacher(key: str, info) -> None:
    st.session_state[TEACHER] = {"key": key, "code": info.code, "name": info.name, "labels": list(info.labels)}


def drop_class(note: str | None = None) -> None:
    """Forget this session's class (ended, left, removed), keeping one note to show."""
    for k in (MEMBER, TEACHER, NEW_CLASS):
        st.session_state.pop(k, None)
    for k in [k for k in st.session_state if isinstance(k, str) and k.startswith("_class_wall")]:
        st.session_state.pop(k, None)
    if note:
        st.session_state[NOTE] = note


def take_note() -> str | None:
    return st.session_state.pop(NOTE, None)


# --- calling the store ---------------------------------------------------------------------------

@dataclass
class Outcome:
    ok: bool = True
    error: str | None = None
    gone: bool = False           # the class ended / the student was removed: the session left it
    away: bool = False           # the database was not reachable (nothing was stored)
    row: object = None           # what the block chose to keep (e.g. the stored drawing)


ENDED_NOTE = "This class has ended: the teacher ended it, or its time ran out."
_GONE_HINTS = ("has ended", "removed you", "you left", "not valid")


@contextlib.contextmanager
def attempt(show: bool = True, where=None, student_call: bool = False, teacher_call: bool = False):
    """Run a block of store calls; a refusal becomes one sentence (``st.error`` in ``where``, unless
    ``show`` is False) and ``outcome.ok`` False. ``student_call`` / ``teacher_call``: a refusal saying
    the class is gone forgets this session's class, as a student or as the teacher."""
    out = Outcome()
    try:
        yield out
        mark_up()
    except ClassStoreUnavailable as exc:
        mark_down()
        out.ok, out.away, out.error = False, True, str(exc) or UNREACHABLE
    except ClassAccessError as exc:
        out.ok, out.error = False, str(exc)
        if (student_call or teacher_call) and any(h in out.error.lower() for h in _GONE_HINTS):
            out.gone = True
            # the class's code no longer opens anything once it ended: say so in the words a student expects
            drop_class(ENDED_NOTE if "no class has the code" in out.error.lower() else out.error)
    except ClassLimitError as exc:
        out.ok, out.error = False, str(exc)
    if not out.ok and show:
        (where or st).error(out.error, icon=":material/cloud_off:" if "database" in out.error else
                            ":material/block:")
