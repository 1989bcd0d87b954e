"""Each cap of limits.py's class-mode section, refused with one sentence that names it."""
import io

import numpy as np
import pytest

from cnn_core import limits
from cnn_core.classroom import ClassLimitError
from cnn_core.limits import LimitError
from tests.classroom.conftest import scribble


def _png(w, h, noise=False):
    from PIL import Image

    # random RGB pixels do not compress: 250×250 of them is about 190 KB
    arr = (np.random.default_rng(0).random((h, w, 3)) * 255).astype(np.uint8) if noise else np.zeros((h, w, 3), np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr, mode="RGB").save(buf, format="PNG")
    return buf.getvalue()


def _one_sentence(msg: str) -> bool:
    return msg.endswith(".") and msg.count(". ") == 0


def test_class_limit_error_is_a_limit_error():
    assert issubclass(ClassLimitError, LimitError)


def test_students_per_class(store, monkeypatch):
    monkeypatch.setattr(limits, "MAX_STUDENTS_PER_CLASS", 2)
    room = store.create_class("x")
    store.join(room.code)
    leaver = store.join(room.code)
    with pytest.raises(ClassLimitError, match="the cap is 2 students") as e:
        store.join(room.code)
    assert _one_sentence(str(e.value))
    store.leave(leaver.token)                   # a place frees up
    store.join(room.code)


def test_drawings_per_student_per_minute(store, clock, monkeypatch):
    monkeypatch.setattr(limits, "MAX_DRAWINGS_PER_MINUTE", 3)
    room = store.create_class("x")
    a, b = store.join(room.code), store.join(room.code)
    for i in range(3):
        store.add_drawing(a.token, scribble(i), label="1")
    with pytest.raises(ClassLimitError, match="the cap is 3 a minute"):
        store.add_drawing(a.token, scribble(9), label="1")
    store.add_drawing(b.token, scribble(10), label="1")          # per student
    clock.advance(seconds=61)
    store.add_drawing(a.token, scribble(11), label="1")
    assert len(store.drawings(room.code)) == 5


def test_drawings_per_class(store, monkeypatch):
    monkeypatch.setattr(limits, "MAX_DRAWINGS_PER_CLASS", 2)
    room = store.create_class("x")
    a = store.join(room.code)
    store.add_drawing(a.token, scribble(1), label="1")
    store.add_drawing(a.token, scribble(2), label="1")
    with pytest.raises(ClassLimitError, match="the cap is 2"):
        store.add_drawing(a.token, scribble(3), label="1")
    other = store.create_class("y")
    store.add_drawing(store.join(other.code).token, scribble(4), label="1")   # per class


def test_classes_per_server(store, monkeypatch):
    monkeypatch.setattr(limits, "MAX_CLASSES", 2)
    store.create_class("a")
    b = store.create_class("b")
    with pytest.raises(ClassLimitError, match="the cap is 2"):
        store.create_class("c")
    store.end_class(b.teacher_key)
    store.create_class("c")


@pytest.mark.parametrize("field,cap_name", [("name", "MAX_CLASS_NAME_CHARS"), ("nickname", "MAX_NICKNAME_CHARS"),
                                            ("label", "MAX_LABEL_CHARS")])
def test_text_lengths(store, monkeypatch, field, cap_name):
    monkeypatch.setattr(limits, cap_name, 5)
    ok, long = "abcde", "abcdef"
    if field == "name":
        store.create_class(ok)
        call = lambda: store.create_class(long)
    elif field == "nickname":
        room = store.create_class("x")
        store.join(room.code, ok)
        call = lambda: store.join(room.code, long)
    else:
        store.create_class("x", labels=[ok, "b"])
        call = lambda: store.create_class("x", labels=[long, "b"])
    with pytest.raises(ClassLimitError, match="6 characters; the cap is 5"):
        call()


def test_nickname_control_characters_refused(store):
    room = store.create_class("x")
    for bad in ("a\nb", "a\x00b", "\x1b[31m"):
        with pytest.raises(ClassLimitError, match="control characters"):
            store.join(room.code, bad)


def test_lifetime(store, monkeypatch):
    monkeypatch.setattr(limits, "MAX_CLASS_HOURS", 24)
    room = store.create_class("x", lifetime_hours=24)
    assert (room.expires - store.now()).total_seconds() == pytest.approx(24 * 3600, abs=5)
    for bad in (25, 0, -1, float("nan"), "soon"):
        with pytest.raises(ClassLimitError):
            store.create_class("x", lifetime_hours=bad)


@pytest.mark.parametrize("shape", [(27, 28), (28, 28, 1), (56, 56), (0,), (2000, 2000)])
def test_the_model_input_must_be_28_by_28(store, shape):
    room = store.create_class("x")
    me = store.join(room.code)
    with pytest.raises(ClassLimitError, match="must be the 28×28 model input"):
        store.add_drawing(me.token, np.zeros(shape, np.float32), label="1")
    assert store.drawings(room.code) == []


def test_thumbnail_caps(store, monkeypatch):
    room = store.create_class("x")
    me = store.join(room.code)
    store.add_drawing(me.token, scribble(1), label="1", thumbnail_png=_png(280, 280))
    with pytest.raises(ClassLimitError, match="281×10 pixels; the cap is 280×280"):
        store.add_drawing(me.token, scribble(2), label="1", thumbnail_png=_png(281, 10))
    big = _png(250, 250, noise=True)
    assert len(big) > 64 * 1024
    with pytest.raises(ClassLimitError, match="the cap is 64 KB"):
        store.add_drawing(me.token, scribble(3), label="1", thumbnail_png=big)
    with pytest.raises(ClassLimitError, match="must be a PNG"):
        store.add_drawing(me.token, scribble(4), label="1", thumbnail_png=b"GIF89a" + b"\0" * 40)
    assert len(store.drawings(room.code)) == 1


def test_thumbnail_header_is_read_before_decoding(store, monkeypatch):
    """A tiny file that declares a 100,000 × 100,000 image is refused without decoding it."""
    import struct
    import zlib

    from PIL import Image

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    bomb = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr
            + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + b"\0" * 32)
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("decoded before the size check"))
    room = store.create_class("x")
    me = store.join(room.code)
    with pytest.raises(ClassLimitError, match="100000×100000 pixels"):
        store.add_drawing(me.token, scribble(1), label="1", thumbnail_png=bomb)


def test_leaderboard_entries_cap(store, monkeypatch):
    from cnn_core.models.pretrained import load_default_bundle

    monkeypatch.setattr(limits, "MAX_LEADERBOARD_ENTRIES", 1)
    room = store.create_class("x")
    me = store.join(room.code)
    store.submit_model(me.token, load_default_bundle())
    with pytest.raises(ClassLimitError, match="the cap is 1 a class"):
        store.submit_model(me.token, load_default_bundle())


def test_caps_are_env_overridable(tmp_path):
    """In a fresh interpreter: reloading limits here would replace LimitError for every later test."""
    import os
    import subprocess
    import sys

    names = ("MAX_STUDENTS_PER_CLASS", "MAX_DRAWINGS_PER_MINUTE", "MAX_DRAWINGS_PER_CLASS", "MAX_CLASSES",
             "MAX_NICKNAME_CHARS", "MAX_CLASS_NAME_CHARS", "MAX_LABEL_CHARS", "MAX_CLASS_HOURS",
             "MAX_LEADERBOARD_ENTRIES", "MAX_THUMBNAIL_KB", "MAX_THUMBNAIL_SIDE")
    env = {**os.environ, **{f"CNN_EXPLORER_{n}": str(i + 7) for i, n in enumerate(names)}}
    out = subprocess.run([sys.executable, "-c", "import sys; from cnn_core import limits; "
                          f"print([getattr(limits, n) for n in {names!r}])"],
                         env=env, capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.strip() == str([i + 7 for i in range(len(names))])
    assert (limits.MAX_STUDENTS_PER_CLASS, limits.MAX_DRAWINGS_PER_MINUTE, limits.MAX_DRAWINGS_PER_CLASS,
            limits.MAX_CLASSES, limits.MAX_NICKNAME_CHARS, limits.MAX_CLASS_NAME_CHARS, limits.MAX_LABEL_CHARS,
            limits.MAX_CLASS_HOURS, limits.MAX_LEADERBOARD_ENTRIES) == (60, 12, 3000, 200, 24, 40, 20, 72, 100)
