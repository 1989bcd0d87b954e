"""One error boundary for every page: no traceback ever reaches a learner.

app.py runs each page inside ``boundary``; fragments (which Streamlit reruns on their own, outside
the page run) and widget callbacks (which run before the page) get the same treatment through
``fragment`` and ``guarded``. An unexpected exception becomes one plain sentence with a short
error id on the page, the traceback goes to the server log under that id, and the session stays
usable. Streamlit's control flow (st.rerun, st.stop, st.switch_page) passes through untouched.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import uuid

import streamlit as st
from streamlit.errors import FragmentHandledException
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

log = logging.getLogger("cnn_explorer")
if not log.handlers:   # Streamlit configures only its own loggers; ours goes to the server's stderr
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False

MESSAGE = ("Something went wrong here, and this part of the page was skipped; your drawing and settings are "
           "kept, so change a setting or open another page.")


def report(exc: BaseException, where: str) -> str:
    """Log ``exc`` with its traceback under a new short id, show the plain sentence; return the id."""
    error_id = uuid.uuid4().hex[:8]
    log.error("error id %s in %s: %s", error_id, where, exc, exc_info=exc)
    st.error(f"{MESSAGE} Error id: `{error_id}`.", icon=":material/error:")
    return error_id


@contextlib.contextmanager
def boundary(where: str):
    """Run a block; an unexpected exception is reported (see ``report``) instead of propagating."""
    try:
        yield
    except (ScriptControlException, FragmentHandledException):
        raise   # st.rerun / st.stop / st.switch_page, or a fragment's error Streamlit has already shown
    except Exception as exc:  # noqa: BLE001 - this is the one place that catches everything
        report(exc, where)


def guarded(func):
    """``func`` inside the boundary: for widget callbacks and fragment bodies."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with boundary(getattr(func, "__qualname__", "a callback")):
            return func(*args, **kwargs)
    return wrapper


def fragment(func=None, *, run_every=None):
    """``st.fragment`` whose reruns are inside the boundary too (Streamlit reruns a fragment alone,
    outside the page's boundary, and would otherwise print the traceback in it)."""
    if func is None:
        return lambda f: fragment(f, run_every=run_every)
    return st.fragment(run_every=run_every)(guarded(func))
