"""A reload keeps the learner's work: the per-browser memory (bounded, expiring), the id cookie, and the
restore into a new session (AppTest of app.py, with the browser's id stood in for the cookie)."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from cnn_core.data.synthetic import draw_digit
from cnn_core.models import specs
from cnn_core.models.checkpoints import ModelBundle
from tests.own_loop import run_coroutine
from ui.app import browser_id, browser_memory, state
from ui.app.browser_memory import BrowserMemory

A, B, C, D = ("a" * 43, "b" * 43, "c" * 43, "d" * 43)
NOTE = "Restored your drawing and model from before the reload."


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def _drawing(digit=7, key="draw_canvas_0"):
    strokes = {"version": "4.4.0", "objects": [{"type": "path", "path": [["M", 10, 10], ["L", 200, 250]]}]}
    return {"key": key, "json": strokes, "picture": draw_digit(digit)}


def _bundle(name="tiny", kernels=4):
    spec = specs.preset("seed-000")
    spec = {**spec, "layers": [dict(spec["layers"][0], out_channels=kernels), *spec["layers"][1:]]}
    return ModelBundle(spec, specs.build_torch(spec).eval(), {"name": name})


# -- the store ----------------------------------------------------------------------------------------
def test_what_was_saved_comes_back_exactly():
    mem = BrowserMemory()
    drawing, bundle, image = _drawing(), _bundle(), np.random.default_rng(0).random((28, 28), dtype=np.float32)
    mem.save_drawing(A, drawing, canvas_n=3)
    mem.save_input(A, image, "your drawing")
    mem.save_model(A, bundle)
    got = mem.recall(A)
    assert got.drawing["key"] == "draw_canvas_0" and got.canvas_n == 3
    assert got.drawing["json"] == drawing["json"]
    assert got.drawing["picture"].dtype == np.uint8 and np.array_equal(got.drawing["picture"], drawing["picture"])
    assert np.array_equal(got.image, image) and got.image.dtype == np.float32 and got.source == "your drawing"
    assert got.bundle is bundle                           # kept by reference: the same model, not a copy
    image[0, 0] = 5.0                                     # the caller's array changing later changes nothing kept
    assert mem.recall(A).image[0, 0] != 5.0
    assert mem.recall(B) is None and mem.recall(None) is None and mem.recall("") is None


def test_the_picture_is_kept_compressed():
    mem = BrowserMemory()
    mem.save_drawing(A, _drawing())
    packed = mem._entries[A].drawing[-1]
    assert len(packed) < 280 * 280 * 4 / 10               # a canvas is mostly black


def test_a_cleared_drawing_and_the_default_model_are_forgotten():
    mem = BrowserMemory()
    mem.save_drawing(A, _drawing())
    mem.save_model(A, _bundle())
    mem.save_drawing(A, None)
    mem.save_model(A, None)
    assert mem.recall(A) is None and len(mem) == 0


def test_at_most_max_browsers_the_least_recently_saved_goes_first():
    mem = BrowserMemory(max_browsers=3)
    for b in (A, B, C):
        mem.save_input(b, np.zeros((28, 28)), b[:1])
    mem.save_input(A, np.ones((28, 28)), "a again")       # A is now the most recent
    mem.save_input(D, np.zeros((28, 28)), "d")
    assert len(mem) == 3
    assert mem.recall(B) is None                          # the least recently saved
    assert mem.recall(A).source == "a again" and mem.recall(C) and mem.recall(D)


def test_entries_expire_after_the_ttl_since_their_last_save():
    clock = Clock()
    mem = BrowserMemory(ttl_s=12 * 3600, clock=clock)
    mem.save_input(A, np.zeros((28, 28)), "a")
    mem.save_input(B, np.zeros((28, 28)), "b")
    clock.t += 11 * 3600
    mem.save_input(B, np.ones((28, 28)), "b later")      # a save restarts B's 12 hours
    clock.t += 1.5 * 3600                                 # 12.5 h after A's save, 1.5 h after B's
    assert mem.recall(A) is None
    assert mem.recall(B).source == "b later"
    clock.t += 12 * 3600
    assert mem.recall(B) is None and len(mem) == 0


def test_strokes_over_the_cap_are_not_kept_but_the_input_is():
    mem = BrowserMemory(max_strokes_bytes=1000)
    big = _drawing()
    big["json"] = {"objects": [{"type": "path", "path": [["L", i, i] for i in range(500)]}]}
    mem.save_drawing(A, big)
    mem.save_input(A, np.zeros((28, 28)), "your drawing")
    got = mem.recall(A)
    assert got.drawing is None and got.source == "your drawing"


def test_models_share_a_budget_the_oldest_lose_theirs_first():
    one = browser_memory.model_nbytes(_bundle())
    assert one == 4 * specs.count_params(_bundle().spec)      # float32 parameters
    mem = BrowserMemory(max_model_bytes=int(2.5 * one))
    for b in (A, B, C):
        mem.save_drawing(b, _drawing())
        mem.save_model(b, _bundle(b[:1]))
    assert mem.model_bytes <= 2.5 * one
    assert mem.recall(A).bundle is None and mem.recall(A).drawing is not None      # kept its drawing
    assert mem.recall(B).bundle.name == "b" and mem.recall(C).bundle.name == "c"
    alone = BrowserMemory(max_model_bytes=one - 1)
    alone.save_model(A, _bundle())
    assert alone.recall(A) is None                        # one model over the whole budget is not kept


# -- the id cookie --------------------------------------------------------------------------------------
def _serve(middleware_app, headers):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    run_coroutine(middleware_app({"type": "http", "method": "GET", "path": "/", "headers": headers}, receive, send))
    return dict((k, v) for k, v in sent[0]["headers"] if k == b"set-cookie")


def _app(content_type):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", content_type)]})
        await send({"type": "http.response.body", "body": b"x"})
    return app


def test_the_page_sets_an_unguessable_httponly_cookie_once():
    html = browser_id.BrowserIdCookie(_app(b"text/html; charset=utf-8"))
    first = _serve(html, [])[b"set-cookie"].decode()
    second = _serve(html, [])[b"set-cookie"].decode()
    value = first.split(";")[0].split("=", 1)[1]
    assert first.startswith(browser_id.COOKIE + "=") and browser_id.is_valid(value)
    assert "HttpOnly" in first and "SameSite=Lax" in first and "Path=/" in first
    assert "Max-Age" not in first and "Expires" not in first          # ends when the browser closes
    assert second.split(";")[0] != first.split(";")[0]                 # a new random id each time
    again = [(b"cookie", f"other=1; {browser_id.COOKIE}={value}".encode())]
    assert _serve(html, again) == {}                                   # a browser with an id keeps it
    assert b"set-cookie" in _serve(html, [(b"cookie", f"{browser_id.COOKIE}=guess".encode())])   # not ours: replaced


def test_assets_never_set_the_cookie_but_a_navigation_does():
    js = browser_id.BrowserIdCookie(_app(b"application/javascript"))
    assert _serve(js, []) == {}
    assert b"set-cookie" in _serve(js, [(b"sec-fetch-dest", b"document")])   # e.g. a 304 for a cached page


def test_the_cookie_is_read_back_and_checked():
    assert browser_id.cookie_from_header(f"a=b; {browser_id.COOKIE}={A}") == A
    assert browser_id.cookie_from_header(f"{browser_id.COOKIE}=short") is None
    assert browser_id.cookie_from_header(f"{browser_id.COOKIE}={A[:-1]}!") is None
    assert len(browser_id.new_id()) == 43 and browser_id.is_valid(browser_id.new_id())


# -- restoring into a new session ----------------------------------------------------------------------
def _canvas_state(rgba):
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url}, "backgroundFit": None}


@pytest.fixture
def memory(monkeypatch):
    mem = BrowserMemory()
    monkeypatch.setattr(browser_memory, "_shared", mem)
    return mem


def _new_session(open_page, monkeypatch, browser, check_home=None):
    """A new session of app.py (AppTest lands on Home first), then the Draw page."""
    monkeypatch.setattr(browser_id, "current", lambda: browser)
    at = open_page("app.py")
    if check_home:
        check_home(at)
    return at.switch_page("pages/1_Draw_and_Predict.py").run()


def _prediction(at):
    return next((m.value for m in at.metric if m.label == "Prediction"), None)


def test_a_new_session_of_the_same_browser_gets_the_drawing_and_model_back(open_page, monkeypatch, memory):
    at = _new_session(open_page, monkeypatch, A)
    assert not at.toast                                   # nothing to restore on a first visit
    bundle = _bundle("my run")
    at.session_state[state.ACTIVE_MODEL] = bundle         # the session's active model ...
    memory.save_model(A, bundle)                          # ... saved as set_active_bundle saves it (tested below)
    at.session_state["draw_canvas_0"] = _canvas_state(draw_digit(7))
    at.run()
    guess = _prediction(at)
    assert guess is not None
    kept = memory.recall(A)
    assert kept.source == "your drawing" and kept.drawing is not None and kept.bundle is bundle

    def home_says_so(home):                               # the first page after the reload tells the learner
        captions = [c.value for c in home.sidebar.caption]
        assert any("my run" in c for c in captions) and any(NOTE in c for c in captions)
        assert any(NOTE in t.value for t in home.toast)

    again = _new_session(open_page, monkeypatch, A, home_says_so)   # the reload: a fresh session, same browser
    assert not again.exception
    assert again.session_state[state.ACTIVE_MODEL] is bundle
    assert any("my run" in c.value for c in again.sidebar.caption)
    assert not any(NOTE in c.value for c in again.sidebar.caption)   # said once, on the first page
    assert _prediction(again) == guess                    # the same drawing, predicted by the same model
    assert again.session_state[state.CURRENT_INPUT_SOURCE] == "your drawing"
    assert np.array_equal(again.session_state[state.DRAW_SAVED]["picture"], kept.drawing["picture"])

    other = _new_session(open_page, monkeypatch, B)       # another browser gets none of it
    assert not other.exception and _prediction(other) is None and not other.toast
    assert not any("my run" in c.value for c in other.sidebar.caption)


def test_the_note_says_what_came_back():
    assert state.restored_note(True, True) == NOTE
    assert state.restored_note(True, False) == "Restored your drawing from before the reload."
    assert state.restored_note(False, True) == "Restored your model from before the reload."
    assert state.restored_note(False, True, True) == "Restored your input and model from before the reload."
    assert state.restored_note(True, False, True) == "Restored your drawing from before the reload."


def test_without_a_browser_id_nothing_is_kept(open_page, monkeypatch, memory):
    at = _new_session(open_page, monkeypatch, None)
    at.session_state["draw_canvas_0"] = _canvas_state(draw_digit(3))
    at.run()
    assert _prediction(at) is not None and len(memory) == 0


def test_set_active_bundle_and_set_current_input_save_for_the_browser(memory):
    """The Train page's "Use as active model" calls state.set_active_bundle; the Draw page calls
    state.set_current_input after every prediction: both save for the session's browser."""
    from streamlit.testing.v1 import AppTest

    script = AppTest.from_string(
        "import numpy as np\nimport streamlit as st\nfrom ui.app import state\n"
        "state.set_active_bundle(st.session_state['_bundle'])\n"
        "state.set_current_input(st.session_state['_image'], 'bundled digit #1 (label 0)')\n")
    bundle = _bundle("uploaded")
    script.session_state[state.BROWSER] = C
    script.session_state["_bundle"], script.session_state["_image"] = bundle, np.ones((28, 28))
    script.run()
    assert not script.exception
    kept = memory.recall(C)
    assert kept.bundle is bundle and kept.source == "bundled digit #1 (label 0)" and kept.image.sum() == 784
    script.session_state["_bundle"], script.session_state["_image"] = None, None
    script.run()
    assert memory.recall(C) is None                       # back to the default model, no input: nothing to keep


def test_a_reload_keeps_the_class_a_student_joined_and_the_teacher_key(open_page, monkeypatch, memory, tmp_path):
    """Issue 17: a student who reloads stays in the class, and so does the teacher, without the key or the
    token in any address; another browser is in no class; a class that ended meanwhile is not brought back."""
    from cnn_core.classroom import ClassStore
    from ui.app import classroom_state as cs

    url = f"sqlite:///{tmp_path / 'classes.db'}"
    monkeypatch.setenv("CNN_EXPLORER_DATABASE_URL", url)
    room = ClassStore(url).create_class("7B", labels=[str(d) for d in range(10)])

    monkeypatch.setattr(browser_id, "current", lambda: A)
    student = open_page("app.py")
    student.switch_page("pages/10_Class.py").run()
    student.text_input(key="class_join_code").input(room.code)
    student.text_input(key="class_join_nick").input("Ada")
    student.button(key="FormSubmitter:class_join-Join").click().run()
    assert student.session_state[cs.MEMBER].nickname == "Ada"
    student.run()                                          # a full run: the sidebar hands the class to the memory

    monkeypatch.setattr(browser_id, "current", lambda: B)
    teacher = open_page("app.py")
    teacher.switch_page("pages/10_Class.py")
    teacher.query_params["teacher"] = room.teacher_key
    teacher.run().run()
    assert teacher.session_state[cs.TEACHER]["code"] == room.code

    for browser, key in ((A, cs.MEMBER), (B, cs.TEACHER)):  # the reloads: fresh sessions, same browsers
        monkeypatch.setattr(browser_id, "current", lambda b=browser: b)
        again = open_page("app.py")
        assert not again.exception and key in again.session_state
        assert any("class" in t.value for t in again.toast)
    assert again.session_state[cs.TEACHER]["key"] == room.teacher_key

    monkeypatch.setattr(browser_id, "current", lambda: "C" * 43)   # another browser: in no class
    other = open_page("app.py")
    assert cs.MEMBER not in other.session_state and cs.TEACHER not in other.session_state

    ClassStore(url).end_class(room.teacher_key)            # ended meanwhile: the reload says so, keeps nothing
    monkeypatch.setattr(browser_id, "current", lambda: A)
    ended = open_page("app.py")
    assert cs.MEMBER not in ended.session_state
    assert memory.recall(A) is None or memory.recall(A).classroom is None
