"""Class mode under load (issue 17): one class of N students on one server, the teacher's wall open.

The students are the classroom benchmark's simulated browsers (benchmarks/classroom.py: Streamlit's own
websocket protocol, widget ids read from the deltas). Each student joins the class on the Class page
(the join form: code and nickname), opens Draw & Predict, draws a stroke every 2 s and sends every
fifth drawing to the class, as a student does: "Yes, it is a N" (the model's guess, confirmed), then
"Send to the class". A few students press Start on Train instead and watch their run. The teacher opens
the teacher link, then the Class wall, whose live fragment the simulated browser ticks as a browser
does; every tick's "Drawings" count is logged with its time.

Measured:
- stroke → prediction (p50 / p95 / max), every interaction's p95, errors, dropped connections;
- a sent drawing on the wall: from the student's press of Send to the end of the first wall tick
  whose count includes it. The database gives each drawing's order (ids commit in order) and its
  sender; a student's k-th drawing there is that student's k-th press of Send;
- the wall's tick cost: after the class, the teacher alone keeps the wall open on the class's
  drawings (the trainings go on in their worker processes); server CPU seconds per tick answered.

    python -m benchmarks.class_mode [--students 30] [--trainings 3] [--duration 40]
    make bench-classroom        # the classroom scenarios, then this one
Loopback only; bounded in time; the server and its database (a temporary SQLite file, as `make run`
uses by default) are removed at the end.
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmarks.classroom import (ACTION_TIMEOUT_S, ActionError, Server, Stats, STROKE_EVERY_S, Student,
                                  _cpu_rss, _stroke_drawings, warm_up)

SEND_EVERY = 5                 # every fifth stroke is sent to the class: about one drawing per 10 s
TICK_COST_SECONDS = 12.0       # the teacher alone: how long the wall's ticks are measured


class ClassStudent(Student):
    """A simulated browser that also reads the values of metrics (the wall's "Drawings" count)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.metrics: dict[str, str] = {}
        self.texts: list[bytes] = []            # every element of the last runs, serialised (to look for text)
        self.nickname = ""
        self.sends: list[float] = []            # wall-clock time of each press of "Send to the class"

    def _handle(self, kind: str, msg) -> None:
        if kind == "new_session":
            self._fragments = set(msg.metadata.run.fragment_ids)
        elif kind == "script_finished" and getattr(self, "_fragments", None):
            # A fragment's rerun replaces its widgets: the send panel's buttons are keyed by the drawing,
            # so the last drawing's "Send to the class" is not this one's (the base class forgets
            # widgets only after full runs).
            live = {e[1] for e in self._run_elements if e[1]}
            self.widgets = {k: v for k, v in self.widgets.items() if v[2] not in self._fragments or k in live}
            self.values = {k: v for k, v in self.values.items() if k in self.widgets}
        super()._handle(kind, msg)
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            el = msg.delta.new_element
            self.texts.append(el.SerializeToString())
            del self.texts[:-400]
            if el.WhichOneof("type") == "metric":
                self.metrics[el.metric.label] = el.metric.body

    async def join(self, code: str, nickname: str) -> None:
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        await self.open_page("class")
        code_id, nick_id = self._find("text_input", "join code"), self._find("text_input", "nickname")
        if code_id is None or nick_id is None:
            raise ActionError("no join form on the Class page")
        self.values[code_id] = WidgetState(id=code_id, string_value=code)
        self.values[nick_id] = WidgetState(id=nick_id, string_value=nickname)
        await self.press("Join", "join")

    async def send(self) -> None:
        """Confirm the model's guess as the label, then send the drawing to the class."""
        await self.press("Yes, it is a", "confirm")
        t = time.time()
        await self.press("Send to the class", "send")
        self.sends.append(t)

    def shows(self, text: str) -> bool:
        """Whether any element received lately holds ``text`` (markdown, a table's cells, a metric)."""
        needle = text.encode()
        return any(needle in t for t in self.texts)


async def _student(k: int, base: str, stats: Stats, pool, drawings, deadline: float, ramp: float, code: str,
                   trainer: bool, students: list) -> None:
    rng = random.Random(k)
    await asyncio.sleep(ramp * rng.random())
    s = ClassStudent(base, stats, pool, drawings[k % len(drawings)])
    s.nickname = f"bench-{k}"
    students.append(s)
    try:
        await s.first_load()
        await s.join(code, s.nickname)
        if trainer:
            await s.open_page("train")
            await s.press("Start training", "start")
            while time.perf_counter() < deadline:
                await asyncio.sleep(0.2)
            return
        await s.open_page("draw")
        i, due, sent = 0, False, set()
        next_at = time.perf_counter() + rng.uniform(0, STROKE_EVERY_S)
        while True:
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            if time.perf_counter() >= deadline:
                return
            await s.stroke(i)
            shown = i % len(s.drawings)
            due = due or i % SEND_EVERY == SEND_EVERY - 1
            if due and shown not in sent:        # a student sends a drawing once (the page says "Sent" after)
                await s.send()
                sent.add(shown)
                due = False
            i += 1
            next_at = max(next_at + STROKE_EVERY_S, time.perf_counter())
    except ActionError as exc:
        stats.errors[str(exc)] += 1
    except Exception as exc:
        stats.errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
    finally:
        await s.close()


class Teacher(ClassStudent):
    """Opens the teacher link, then the wall; logs (time, count) at the end of every wall tick."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.log: list[tuple[float, int]] = []

    def _record(self, action: str, seconds: float, run) -> None:
        super()._record(action, seconds, run)
        if action == "tick" and "Drawings" in self.metrics:
            self.log.append((time.time(), int(self.metrics["Drawings"].replace(",", ""))))

    async def open_wall(self, key: str) -> None:
        self.query = f"teacher={key}"
        await self.first_load()
        await self.open_page("class")           # the Class page reads the teacher link
        self.query = ""
        await self.open_page("class-wall")
        if "Drawings" not in self.metrics:
            raise ActionError("the Class wall shows no Drawings count")


def wall_latencies(rows, students: list[ClassStudent], log: list[tuple[float, int]]) -> list[float]:
    """Seconds from each press of Send to the end of the first wall tick that counted the drawing.

    ``rows``: the class's drawings from the database; ids commit in order, so the r-th row by id is the
    one a count of r first includes, and a student's k-th row is that student's k-th press of Send."""
    pressed = {s.nickname: s.sends for s in students}
    seen: dict[str, int] = defaultdict(int)
    out = []
    for rank, row in enumerate(sorted(rows, key=lambda r: r.id), start=1):
        k = seen[row.nickname]
        seen[row.nickname] += 1
        times = pressed.get(row.nickname, [])
        if k >= len(times):
            continue
        shown = next((t for t, count in log if count >= rank and t >= times[k]), None)
        if shown is not None:
            out.append(shown - times[k])
    return out


async def _tick_cost(base: str, key: str, pid: int, pool) -> tuple[float, int]:
    """The teacher alone on the wall for TICK_COST_SECONDS: server CPU seconds per tick answered."""
    t = Teacher(base, Stats(), pool, _stroke_drawings(0)[:1])
    try:
        await t.open_wall(key)
        await asyncio.sleep(2.0)              # the first ticks load every drawing: a page open, not a tick
        c0, n0 = _cpu_rss(pid)[0], len(t.stats.times["tick"])
        await asyncio.sleep(TICK_COST_SECONDS)
        c1, n1 = _cpu_rss(pid)[0], len(t.stats.times["tick"])
    finally:
        await t.close()
    return (c1 - c0) / max(n1 - n0, 1), n1 - n0


async def _scenario(srv: Server, store, room, n: int, trainings: int, duration: float, seed: int) -> dict:
    stats, students = Stats(), []
    drawings = [_stroke_drawings(seed + k) for k in range(min(n, 8))]
    ramp = min(5.0, duration / 4)
    deadline = time.perf_counter() + ramp + duration
    trainers = set(range(0, n, max(1, n // trainings))[:trainings]) if trainings else set()
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        teacher = Teacher(srv.url, Stats(), pool, _stroke_drawings(0)[:1])
        await teacher.open_wall(room.teacher_key)
        tasks = [_student(k, srv.url, stats, pool, drawings, deadline, ramp, room.code, k in trainers, students)
                 for k in range(n)]
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), ramp + duration + ACTION_TIMEOUT_S + 30)
        except asyncio.TimeoutError:
            stats.errors["scenario overran its time bound"] += 1
        await asyncio.sleep(3.0)                 # the last drawings reach the wall
        await teacher.close()
        rows = store.drawings(room.code, teacher_key=room.teacher_key, include_hidden=True, limit=100_000)
        latencies = wall_latencies(rows, students, teacher.log)
        tick_cpu, ticks = await _tick_cost(srv.url, room.teacher_key, srv.proc.pid, pool)
    return {"stats": stats, "rows": len(rows), "sends": sum(len(s.sends) for s in students),
            "latencies": latencies, "wall_ticks": len(teacher.log), "tick_cpu_s": tick_cpu, "tick_count": ticks,
            "teacher_errors": dict(teacher.stats.errors)}


def scenario(n: int = 30, trainings: int = 3, duration: float = 40.0, seed: int = 0) -> dict:
    from cnn_core.classroom import ClassStore

    with tempfile.TemporaryDirectory(prefix="cnnx-class-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'classes.db'}"
        store = ClassStore(url)
        room = store.create_class("Benchmark class", labels=[str(d) for d in range(10)])
        with Server(env={"CNN_EXPLORER_DATABASE_URL": url}) as srv:
            asyncio.run(warm_up(srv.url))
            r = asyncio.run(_scenario(srv, store, room, n, trainings, duration, seed))
        store.close()
    stats = r["stats"]
    pct = {a: (len(v), *np.percentile(v, [50, 95]), max(v)) for a, v in stats.times.items() if v}
    every = [t for a in ("page", "stroke", "start", "join", "confirm", "send") for t in stats.times.get(a, [])]
    lat = r["latencies"]
    return {"students": n, "trainings": trainings, "duration_s": duration, "actions": pct,
            "any_p95": float(np.percentile(every, 95)) if every else float("nan"),
            "errors": dict(stats.errors), "dropped": stats.dropped, "predictions": stats.predictions,
            "sends": r["sends"], "stored": r["rows"], "on_wall": len(lat),
            "wall_p50": float(np.percentile(lat, 50)) if lat else float("nan"),
            "wall_p95": float(np.percentile(lat, 95)) if lat else float("nan"),
            "wall_max": max(lat) if lat else float("nan"), "wall_ticks": r["wall_ticks"],
            "tick_cpu_ms": 1000 * r["tick_cpu_s"], "tick_count": r["tick_count"],
            "teacher_errors": r["teacher_errors"]}


def report(r: dict) -> list[str]:
    a = r["actions"]

    def f(action: str) -> str:
        if action not in a:
            return "—"
        n, p50, p95, mx = a[action]
        return f"{p50:.2f} / {p95:.2f} / {mx:.2f} s ({n})"

    return [f"- Class mode (`python -m benchmarks.class_mode --students {r['students']} --trainings {r['trainings']} "
            f"--duration {r['duration_s']:.0f}`): one class, a stroke every {STROKE_EVERY_S:.0f} s, every "
            f"{SEND_EVERY}th drawing sent, the teacher's wall open; {os.cpu_count()} cores, the simulated browsers "
            "on the same machine. Times p50 / p95 / max (count).",
            "",
            "| students | trainings | stroke → prediction | send | join | any interaction p95 | sent → on the wall "
            "p50 / p95 / max | drawings sent / stored / seen on the wall | wall tick, server CPU | errors | dropped |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
            f"| {r['students']} | {r['trainings']} | {f('stroke')} | {f('send')} | {f('join')} | {r['any_p95']:.2f} s | "
            f"{r['wall_p50']:.2f} / {r['wall_p95']:.2f} / {r['wall_max']:.2f} s | {r['sends']} / {r['stored']} / "
            f"{r['on_wall']} | {r['tick_cpu_ms']:.1f} ms ({r['tick_count']} ticks, teacher alone) | "
            f"{sum(r['errors'].values()) + sum(r['teacher_errors'].values())} | {r['dropped']} |",
            *[f"  - error ×{c}: {m}" for m, c in list({**r['errors'], **r['teacher_errors']}.items())[:6]]]


def run(quick: bool = False) -> list[str]:
    return report(scenario(5, 0, 8.0) if quick else scenario(30, 3, 40.0))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--trainings", type=int, default=3)
    ap.add_argument("--duration", type=float, default=40.0)
    args = ap.parse_args(argv)
    print("\n".join(report(scenario(args.students, args.trainings, args.duration))))


if __name__ == "__main__":
    main()
