"""The error boundary: an unexpected exception on any page becomes one sentence with an error id, the
traceback goes to the server log, the session keeps working, and st.rerun / st.stop pass through."""
from __future__ import annotations

import logging

import pytest
from streamlit.testing.v1 import AppTest

from cnn_core.lessons import exercises
from ui.app import errors


def _boundary_errors(at):
    return [e.value for e in at.error if "Error id:" in e.value]


def test_a_page_that_raises_shows_a_sentence_and_an_id_and_logs_the_traceback(open_page, monkeypatch, caplog):
    def broken(*_a, **_k):
        raise RuntimeError("boom in generate")

    monkeypatch.setattr(exercises, "generate", broken)
    at = open_page("app.py")
    with caplog.at_level(logging.ERROR, logger="cnn_explorer"):
        errors.log.propagate = True          # so that caplog sees the record
        try:
            at.switch_page("pages/5_Practice.py").run()
        finally:
            errors.log.propagate = False
    assert not at.exception                                    # no traceback on the page
    shown = _boundary_errors(at)
    assert len(shown) == 1 and "boom" not in shown[0] and "RuntimeError" not in shown[0]
    error_id = shown[0].split("Error id: `")[1][:8]
    record = next(r for r in caplog.records if error_id in r.getMessage())
    assert record.exc_info and "boom in generate" in str(record.exc_info[1])
    monkeypatch.undo()                                         # the session is still usable
    at.switch_page("pages/5_Practice.py").run()
    assert not at.exception and not _boundary_errors(at) and at.title[0].value == "Practice"


def test_a_failing_callback_is_reported_too(open_page, monkeypatch):
    at = open_page("pages/5_Practice.py")
    monkeypatch.setattr("secrets.randbelow", lambda n: (_ for _ in ()).throw(OSError("no entropy")))
    at.button(key="pr_new").click().run()
    assert not at.exception and len(_boundary_errors(at)) == 1


def _script_with_control_flow():
    import streamlit as st

    from ui.app import errors as e

    with e.boundary("test"):
        if st.session_state.get("stop"):
            st.write("before stop")
            st.stop()
        if not st.session_state.get("reran"):
            st.session_state["reran"] = True
            st.rerun()
        st.write("after rerun")

    @e.fragment
    def frag():
        if st.session_state.get("frag_fail"):
            raise ValueError("inside a fragment")
        st.write("fragment ok")

    frag()


@pytest.mark.parametrize("stop", [False, True])
def test_rerun_and_stop_pass_through_the_boundary(stop):
    at = AppTest.from_function(_script_with_control_flow)
    at.session_state["stop"] = stop
    at.run()
    texts = [m.value for m in at.markdown]
    assert not at.exception and not at.error
    assert texts == (["before stop"] if stop else ["after rerun", "fragment ok"])


def test_a_fragment_that_raises_shows_the_sentence_not_a_traceback():
    at = AppTest.from_function(_script_with_control_flow)
    at.session_state["frag_fail"] = True
    at.run()
    assert not at.exception and len(_boundary_errors(at)) == 1
