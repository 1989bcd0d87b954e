"""Two app servers on one PostgreSQL are one class (issue 17): a student on server A sends a drawing and
the teacher's wall on server B counts it; a push from B reaches the student on A; the leaderboard is the
same on both. Real servers started as `make run` starts them, spoken to over Streamlit's websocket
protocol by the classroom benchmark's simulated browsers (benchmarks/class_mode.py)."""
import asyncio
import concurrent.futures
import time

import pytest

from benchmarks.class_mode import ClassStudent, Teacher
from benchmarks.classroom import Server, Stats, _stroke_drawings
from cnn_core.classroom import ClassStore
from cnn_core.models.pretrained import load_default_bundle
from tests.own_loop import run_coroutine
from tests.pg_server import pg_database, pg_server  # noqa: F401

pytestmark = pytest.mark.slow


async def _until(condition, seconds: float = 20.0) -> bool:
    """Wait (the simulated browsers tick their live fragments meanwhile) until ``condition()`` holds."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        if condition():
            return True
        await asyncio.sleep(0.2)
    return condition()


async def _class_across(a: Server, b: Server, store: ClassStore, room) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        student = ClassStudent(a.url, Stats(), pool, _stroke_drawings(3))
        teacher = Teacher(b.url, Stats(), pool, _stroke_drawings(0)[:1])
        try:
            await teacher.open_wall(room.teacher_key)
            assert teacher.metrics["Drawings"] == "0"
            await student.first_load()
            await student.join(room.code, "Ada on A")
            await student.open_page("draw")
            await student.stroke(0)
            await student.send()
            # the drawing, sent through server A, counted by the wall that server B serves
            assert await _until(lambda: teacher.metrics.get("Drawings") == "1"), teacher.metrics
            assert teacher.shows("Ada on A")

            # a push from B: the student on A sees the banner on whatever page they are on, and opens it
            await student.open_page("softmax")
            await teacher.open_page("convolution")
            await teacher.press("Show this to the class", "push")
            assert await _until(lambda: student.shows("Your teacher is showing")), "no banner on server A"
            await student.press("Open", "open push")
            assert student.page_hash == student.pages["convolution"]

            # the leaderboard: one entry, scored by the store, shown by both servers
            other = store.join(room.code, "Bea")
            store.submit_model(other.token, load_default_bundle(), settings={"optimiser": "adam", "lr": 0.002})
            student.texts.clear()
            teacher.texts.clear()
            await student.open_page("class")
            await teacher.open_page("class")
            assert student.shows("Bea") and teacher.shows("Bea")
            assert student.stats.errors == {} and teacher.stats.errors == {}
        finally:
            await student.close()
            await teacher.close()


def test_a_class_spread_over_two_servers(pg_database):
    store = ClassStore(pg_database)
    room = store.create_class("7B", labels=[str(d) for d in range(10)])
    env = {"CNN_EXPLORER_DATABASE_URL": pg_database}
    with Server(env=env) as a, Server(env=env) as b:
        run_coroutine(_class_across(a, b, store, room))
    rows = store.drawings(room.code)
    assert [(r.nickname, r.label) for r in rows] == [("Ada on A", rows[0].label)] and rows[0].label in room.labels
    store.close()
