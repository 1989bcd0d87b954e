"""Classroom load: N simulated students on one server started as `make run` starts it (issue 10).

Each student is a real Streamlit session spoken to over Streamlit's own websocket protocol, the
way the browser's front end does it: fetch index.html and the static files it names, /_stcore/health
(which sets the XSRF cookie) and /_stcore/host-config; open /_stcore/stream with the `streamlit`
subprotocol (plus the XSRF token); send BackMsg ``rerun_script`` with the widget states; read
ForwardMsgs until ``script_finished``, keeping the browser's message cache (``ref_hash``) and
answering ``auto_rerun`` ticks of fragments (``st.fragment(run_every=...)``) as the browser's timer
does. Widget ids are read from the deltas (element ids), never hard-coded; pages from the
``navigation`` message.

What a student does: opens the app (first load), opens Draw & Predict, then draws a digit stroke
every 2 s (the canvas component's JSON value with the PNG data URL, as streamlit-drawable-canvas's
front end sends it on mouse-up) and now and then opens another page and comes back. With
trainings, one student in ten opens Train and presses Start instead, then watches the live panel.

Reported per action (first load, page, stroke, start, tick): count, p50 / p95 / max; errors (an
exception element, a timeout, a run that finished with an error, a stroke without a prediction),
dropped connections, live-panel ticks answered, and the server's CPU (cores in use, averaged)
and peak RSS, with its child processes (training workers) apart. Loopback only; every scenario
is bounded in time and stops by itself; the server is stopped at the end.

    python -m benchmarks classroom [--quick]          # the standard scenarios (make bench-classroom)
    python -m benchmarks.classroom --students 1 10 30 --duration 40 --trainings both
    python -m benchmarks.classroom --app-dir <another checkout>   # serve an older commit: before/after
    python -m benchmarks.classroom --page-costs       # one session alone: server CPU per page open, per stroke
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import concurrent.futures
import gzip
import http.cookiejar
import io
import json
import os
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
STROKE_EVERY_S = 2.0
ACTION_TIMEOUT_S = 30.0
CANVAS_PX = 280
ACTIONS = ("first load", "page", "stroke", "start", "tick")
OTHER_PAGES = ("convolution", "layer", "softmax", "home")
_PAGE_DOWN_ONE_IN = 8          # every 8th action a student visits another page, then comes back


# ---------------------------------------------------------------- the server, as `make run` starts it

def run_command(port: int, root: Path = ROOT) -> list[str]:
    """`make run`'s streamlit command line, read from the Makefile (so the benchmark follows it),
    with this interpreter for ``$(BIN)/python`` and ``port`` for ``$(PORT)``."""
    text = (root / "Makefile").read_text()
    m = re.search(r"^run:.*\n((?:\t.*\n)+)", text, re.M)
    for line in (m.group(1).splitlines() if m else []):
        if re.search(r"-m ui\.(app\.)?serve\b", line):       # also an older checkout's `ui.serve`
            line = line.strip().replace("$(BIN)/python", shlex.quote(sys.executable))
            line = line.replace("$(PORT)", str(port))
            if "$(" not in line:
                return shlex.split(line)
    return [sys.executable, "-m", "ui.app.serve", "--server.port", str(port),
            "--server.address", "localhost"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    """All descendants of ``pid`` (training workers), from /proc."""
    kids: dict[int, list[int]] = defaultdict(list)
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids[ppid].append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _cpu_rss(pid: int) -> tuple[float, float]:
    """(CPU seconds used so far, RSS in MB) of one process; (0, 0) once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / tick, int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, IndexError, ValueError):
        return 0.0, 0.0


class Server:
    """`make run`'s command in a subprocess (cwd = the repo, its .streamlit/config.toml applies)."""

    def __init__(self, env: dict | None = None, root: Path = ROOT):
        self.root = Path(root)
        self.port = _free_port()
        self.url = f"http://localhost:{self.port}"
        self.log = io.BytesIO()
        self._env = {**os.environ, "PYTHONPATH": str(self.root), **(env or {})}
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        self.proc = subprocess.Popen(run_command(self.port, self.root), cwd=self.root, env=self._env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._drain, daemon=True).start()
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 90:
            if self.proc.poll() is not None:
                raise RuntimeError("the app exited during start-up:\n" + self.log.getvalue().decode()[-2000:])
            try:
                if urllib.request.urlopen(self.url + "/_stcore/health", timeout=1).read() == b"ok":
                    return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("the app did not answer /_stcore/health within 90 s")

    def _drain(self) -> None:
        for chunk in iter(lambda: self.proc.stdout.read1(4096), b""):
            self.log.write(chunk)

    def __exit__(self, *exc) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        kids = _children(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        for pid in kids:                 # a worker that outlived the server: the app's bug, not ours to leave
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


class Sampler(threading.Thread):
    """CPU and RSS of the server and of its child processes, every 0.5 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.stop_evt = pid, threading.Event()
        self.peak_rss = self.peak_child_rss = 0.0
        self.child_cpu: dict[int, float] = {}
        self.start_cpu, _ = _cpu_rss(pid)
        self.end_cpu = self.start_cpu
        self.t0 = self.t1 = time.perf_counter()

    def run(self) -> None:
        while not self.stop_evt.wait(0.5):
            self._sample()

    def _sample(self) -> None:
        cpu, rss = _cpu_rss(self.pid)
        if rss:
            self.end_cpu, self.t1 = cpu, time.perf_counter()
            self.peak_rss = max(self.peak_rss, rss)
        child_rss = 0.0
        for c in _children(self.pid):
            c_cpu, c_rss = _cpu_rss(c)
            if c_rss:
                self.child_cpu[c] = c_cpu
                child_rss += c_rss
        self.peak_child_rss = max(self.peak_child_rss, child_rss)

    def finish(self) -> dict:
        self._sample()
        self.stop_evt.set()
        wall = max(self.t1 - self.t0, 1e-9)
        return {"server_cpu": (self.end_cpu - self.start_cpu) / wall, "server_cpu_s": self.end_cpu - self.start_cpu,
                "server_rss_mb": self.peak_rss,
                "workers": len(self.child_cpu), "workers_cpu": sum(self.child_cpu.values()) / wall,
                "workers_rss_mb": self.peak_child_rss}


# ---------------------------------------------------------------- drawings, as the canvas sends them

def _stroke_drawings(seed: int) -> list[dict]:
    """Canvas states after each stroke of a sequence of digits: the component's value
    ``{"drawing": {"raw": <Fabric.js JSON>, "data": <PNG data URL>}}`` as the front end sends it."""
    from PIL import Image

    from cnn_core.data.synthetic import DIGIT_STROKES, draw_strokes

    rng = np.random.default_rng(seed)
    out = []
    for digit in rng.permutation(10)[:4]:
        side = rng.uniform(0.55, 0.85)
        left, top = rng.uniform(0.05, 0.95 - side, size=2)
        box = (left, top, left + side, top + side)
        pen = int(rng.choice([14, 20, 26]))
        strokes = DIGIT_STROKES[int(digit)]
        for k in range(1, len(strokes) + 1):
            objects = []
            for stroke in strokes[:k]:
                pts = [((box[0] + x * side) * CANVAS_PX, (box[1] + y * side) * CANVAS_PX) for x, y in stroke]
                xs, ys = [p[0] for p in pts], [p[1] for p in pts]
                objects.append({
                    "type": "Path", "version": "6.7.1", "originX": "left", "originY": "top",
                    "left": min(xs) - pen / 2, "top": min(ys) - pen / 2, "width": max(xs) - min(xs),
                    "height": max(ys) - min(ys), "fill": None, "stroke": "#FFFFFF", "strokeWidth": pen,
                    "strokeLineCap": "round", "strokeLineJoin": "round", "scaleX": 1, "scaleY": 1, "angle": 0,
                    "path": [["M", *pts[0]]] + [["Q", *a, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2]
                                                 for a, b in zip(pts[:-1], pts[1:])] + [["L", *pts[-1]]]})
            rgba = draw_strokes(strokes[:k], size=CANVAS_PX, pen=pen, box=box)
            buf = io.BytesIO()
            Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
            url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
            out.append({"drawing": {"raw": {"version": "6.7.1", "objects": objects, "background": "#000000"},
                                    "data": url}})
    return out


# ---------------------------------------------------------------- one student: a browser's protocol

@dataclass
class Stats:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    dropped: int = 0
    predictions: int = 0
    ticks_due: int = 0
    ticks_answered: int = 0
    fragment_strokes: int = 0        # strokes the browser sent as a fragment rerun (st.fragment around the canvas)
    app_messages: Counter = field(default_factory=Counter)
    static_files: int = 0            # front-end files fetched (first visits and on-demand chunks)
    static_bytes: int = 0            # their bytes as sent (gzip where the server compressed)


class ActionError(Exception):
    pass


@dataclass
class Run:
    """What one rerun request brought back."""
    seconds: float
    elements: list[tuple[str, str, str]]       # (element type, id, label) in order
    status: int


_LAZY: dict[str, dict[str, list[str]]] = {}       # main bundle path → {chunk name → its files}


def lazy_chunks(main_path: str, main_js: str) -> dict[str, list[str]]:
    """The chunks the front end loads on demand, read from its main bundle as the browser's module
    loader does: ``import(`./PlotlyChart.<hash>.js`)`` with ``__vite__mapDeps([i, ...])`` naming the
    files it needs first. Returns {"PlotlyChart": [url, dep url, ...], ...}."""
    import posixpath

    if main_path in _LAZY:
        return _LAZY[main_path]
    here = posixpath.dirname(main_path)
    table = re.search(r"m\.f=\[([^\]]*)\]", main_js)
    files = re.findall(r'"([^"]+)"', table.group(1)) if table else []
    out: dict[str, list[str]] = {}
    for m in re.finditer(r"import\(`\./([^`]+)`\),__vite__mapDeps\(\[([\d,]*)\]\)", main_js):
        deps = [files[int(i)] for i in m.group(2).split(",") if i and int(i) < len(files)]
        out[m.group(1).split(".")[0]] = [posixpath.normpath(posixpath.join(here, f)) for f in [m.group(1), *deps]]
    _LAZY[main_path] = out
    return out


def _camel(etype: str) -> str:
    return "".join(part.capitalize() for part in etype.split("_"))


class Student:
    def __init__(self, base: str, stats: Stats, pool: concurrent.futures.Executor, drawings: list[dict]):
        self.base, self.stats, self.pool, self.drawings = base, stats, pool, drawings
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.ws = None
        self.cache: dict[str, object] = {}        # the browser's ForwardMsg cache (hash → msg)
        self.pages: dict[str, str] = {}          # url path → page_script_hash
        self.page_hash = ""
        self.widgets: dict[str, tuple[str, str, str]] = {}   # id → (type, label, fragment id)
        self.values: dict[str, object] = {}      # id → WidgetState the user set (sent with every rerun)
        self.auto: dict[str, float] = {}         # fragment id → run_every interval
        self.fetched: set[str] = set()           # static URLs this "browser" has cached
        self.chunks: dict[str, list[str]] = {}   # element kind → the front-end files it loads on demand
        self.lock = asyncio.Lock()
        self._waiter: asyncio.Future | None = None
        self._run_elements: list = []
        self._reader: asyncio.Task | None = None
        self._ticker: asyncio.Task | None = None
        self.closed = False
        self._full = False
        self._tasks: set[asyncio.Task] = set()
        self.query = ""                          # the address's query string (a teacher link: "teacher=KEY")

    # -- HTTP, in threads (urllib), as the browser's parallel fetches
    def _get(self, path: str) -> bytes:
        req = urllib.request.Request(self.base + path, headers={"Accept-Encoding": "gzip, deflate, br"})
        with self.opener.open(req, timeout=ACTION_TIMEOUT_S) as r:
            body = r.read()
            self.stats.static_files += 1
            self.stats.static_bytes += len(body)
            return gzip.decompress(body) if r.headers.get("Content-Encoding") == "gzip" else body

    def _get_plain(self, path: str) -> bytes:
        with self.opener.open(self.base + path, timeout=ACTION_TIMEOUT_S) as r:
            return r.read()

    async def _fetch_all(self, paths: list[str]) -> None:
        loop = asyncio.get_running_loop()
        new = [p for p in paths if p not in self.fetched]
        self.fetched.update(new)
        await asyncio.gather(*(loop.run_in_executor(self.pool, self._get, p) for p in new))

    async def first_load(self) -> None:
        import websockets

        t0 = time.perf_counter()
        loop = asyncio.get_running_loop()
        html = (await loop.run_in_executor(self.pool, self._get, "/")).decode("utf-8", "replace")
        assets = ["/" + p.lstrip("./") for p in re.findall(r'(?:src|href)="(\./[^"]+)"', html)
                  if not p.endswith(".json")]
        await self._fetch_all(assets + ["/_stcore/health", "/_stcore/host-config"])
        main = next((a for a in assets if re.search(r"/static/js/index\.[^/]*\.js$", a)), None)
        if main is not None:
            if main not in _LAZY:          # the browser's module loader reads its chunk table from the bundle
                lazy_chunks(main, (await loop.run_in_executor(self.pool, self._get_plain, main)).decode("utf-8", "replace"))
            self.chunks = _LAZY[main]
        xsrf = next((c.value for c in self.jar if c.name == "_streamlit_xsrf"), None)
        self.ws = await websockets.connect(
            self.base.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit", xsrf] if xsrf
            else ["streamlit"], origin=self.base, max_size=None, open_timeout=ACTION_TIMEOUT_S,
            additional_headers={"Cookie": "; ".join(f"{c.name}={c.value}" for c in self.jar)})
        self._reader = asyncio.create_task(self._read())
        self._ticker = asyncio.create_task(self._tick())
        run = await self._rerun(page_name="")
        self._record("first load", time.perf_counter() - t0, run)

    # -- the websocket
    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        try:
            async for raw in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                kind = msg.WhichOneof("type")
                if kind == "ref_hash":
                    cached = self.cache.get(msg.ref_hash)
                    if cached is None:
                        self._fail(ActionError("ref_hash of a message never received"))
                        continue
                    path = list(msg.metadata.delta_path)
                    msg = ForwardMsg()
                    msg.CopyFrom(cached)
                    msg.metadata.delta_path[:] = path
                    kind = msg.WhichOneof("type")
                elif msg.metadata.cacheable and msg.hash:
                    self.cache[msg.hash] = msg
                self._handle(kind, msg)
        except Exception as exc:              # the connection went away
            if not self.closed:
                self.stats.dropped += 1
                self._fail(ActionError(f"connection dropped: {exc!r}"[:120]))
        finally:
            if not self.closed:
                self.closed = True
                self._fail(ActionError("connection closed by the server"))

    def _handle(self, kind: str, msg) -> None:
        if kind == "new_session":
            if not list(msg.metadata.run.fragment_ids):          # a full run: the page is rebuilt
                self.page_hash = msg.new_session.page_script_hash or self.page_hash
                self.auto.clear()
                self._full = True
            else:
                self._full = False
            self._run_elements = []
        elif kind == "navigation":
            self.pages = {p.url_pathname or "": p.page_script_hash for p in msg.navigation.app_pages}
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            el = msg.delta.new_element
            etype = el.WhichOneof("type") or ""
            sub = getattr(el, etype, None)
            wid = getattr(sub, "id", "") if sub is not None else ""
            label = getattr(sub, "label", "") if sub is not None else ""
            if etype == "bidi_component":
                label = sub.component_name
                if sub.js_source_path or sub.css_source_path:
                    comp = f"/_stcore/bidi-components/{sub.component_name}/"
                    self._background(self._fetch_all([comp + p for p in (sub.js_source_path, sub.css_source_path)
                                                      if p]))
            elif etype == "exception":
                label = f"{sub.type}: {sub.message}"[:160]
            chunk = self.chunks.get(_camel(etype))
            if chunk and chunk[0] not in self.fetched:     # the front end loads this element's code on first use
                self._background(self._fetch_all(chunk))
            elif etype == "alert" and sub.format == 1:          # st.error
                label = sub.body[:160]
            self._run_elements.append((etype, wid, label))
            if wid:
                self.widgets[wid] = (etype, label, msg.delta.fragment_id)
        elif kind == "auto_rerun":
            self.auto[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                self.auto.pop(fid, None)
        elif kind == "script_finished":
            status = msg.script_finished
            if status == msg.FINISHED_EARLY_FOR_RERUN:            # a rerun follows: keep waiting
                return
            if self._full:                    # forget widgets the page no longer has
                live = {e[1] for e in self._run_elements if e[1]}
                self.widgets = {k: v for k, v in self.widgets.items() if k in live}
                self.values = {k: v for k, v in self.values.items() if k in live}
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_result((status, list(self._run_elements)))

    def _background(self, coro) -> None:
        """Run a fetch beside the websocket, as the browser loads a component's files; a failure is an error."""
        async def guarded():
            try:
                await coro
            except Exception as exc:
                self.stats.errors[f"component file: {type(exc).__name__}: {exc}"[:120]] += 1
        self._tasks.add(task := asyncio.get_running_loop().create_task(guarded()))
        task.add_done_callback(self._tasks.discard)

    def _fail(self, exc: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    async def _rerun(self, *, page_hash: str | None = None, page_name: str | None = None, fragment_id: str = "",
                     auto: bool = False, trigger: str | None = None) -> Run:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        if self.closed:
            raise ActionError("connection closed")
        back = BackMsg()
        cs = back.rerun_script
        cs.query_string = self.query
        cs.page_script_hash = self.page_hash if page_hash is None else page_hash
        if page_name is not None:
            cs.page_name = page_name
        cs.fragment_id = fragment_id
        cs.is_auto_rerun = auto
        cs.cached_message_hashes.extend(self.cache)
        cs.context_info.timezone = "UTC"
        cs.context_info.timezone_offset = 0
        cs.context_info.locale = "en-US"
        cs.context_info.url = self.base + "/" + (f"?{self.query}" if self.query else "")
        cs.context_info.is_embedded = False
        cs.context_info.color_scheme = "light"
        cs.widget_states.widgets.extend(self.values.values())
        if trigger is not None:
            cs.widget_states.widgets.append(WidgetState(id=trigger, trigger_value=True))
        self._waiter = asyncio.get_running_loop().create_future()
        t0 = time.perf_counter()
        await self.ws.send(back.SerializeToString())
        try:
            status, elements = await asyncio.wait_for(self._waiter, ACTION_TIMEOUT_S)
        except asyncio.TimeoutError:
            self.closed = True              # the session's replies can no longer be matched: give up on it
            raise ActionError(f"no script_finished within {ACTION_TIMEOUT_S:.0f} s") from None
        return Run(time.perf_counter() - t0, elements, status)

    def _record(self, action: str, seconds: float, run: Run) -> None:
        self.stats.times[action].append(seconds)
        if run.status == 1:                                  # FINISHED_WITH_COMPILE_ERROR
            self.stats.errors[f"{action}: the script did not compile"] += 1
        for etype, _, label in run.elements:
            if etype == "exception":
                self.stats.errors[f"{action}: exception {label}"] += 1
            elif etype == "alert" and label:
                self.stats.app_messages[label[:90]] += 1

    # -- what a person does
    def _find(self, etype: str, label_part: str) -> str | None:
        for wid, (t, label, _) in self.widgets.items():
            if t == etype and label_part.lower() in label.lower():
                return wid
        return None

    async def open_page(self, keyword: str) -> None:
        if keyword == "home":
            target = self.pages.get("") or next(iter(self.pages.values()), "")
        else:
            target = next((h for p, h in self.pages.items() if keyword in p.lower()), None)
        if target is None:
            raise ActionError(f"no page matching {keyword!r} in the navigation ({sorted(self.pages)})")
        async with self.lock:
            self.values.clear()
            run = await self._rerun(page_hash=target)
        self._record("page", run.seconds, run)
        self.stats.times[f"page {keyword}"].append(run.seconds)

    async def stroke(self, i: int) -> None:
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        wid = self._find("bidi_component", "drawable_canvas")
        if wid is None:
            raise ActionError("no drawing canvas on the Draw page")
        fragment = self.widgets[wid][2]
        async with self.lock:
            self.values[wid] = WidgetState(id=wid, json_value=json.dumps(self.drawings[i % len(self.drawings)]))
            run = await self._rerun(fragment_id=fragment)
        self._record("stroke", run.seconds, run)
        self.stats.fragment_strokes += bool(fragment)
        if any(t == "metric" and label == "Prediction" for t, _, label in run.elements):
            self.stats.predictions += 1
        else:
            self.stats.errors["stroke: no prediction came back"] += 1

    async def press(self, label: str, action: str) -> None:
        wid = self._find("button", label)
        if wid is None:
            raise ActionError(f"no button labelled {label!r}")
        async with self.lock:
            run = await self._rerun(fragment_id=self.widgets[wid][2], trigger=wid)
        self._record(action, run.seconds, run)

    async def _tick(self) -> None:
        """The browser's auto-rerun timers: one tick per interval per live fragment; a tick is
        answered when its fragment run finished before the next one was due."""
        next_due: dict[str, float] = {}
        while not self.closed:
            await asyncio.sleep(0.05)
            now = time.perf_counter()
            for fid, every in list(self.auto.items()):
                due = next_due.setdefault(fid, now + every)
                if now < due:
                    continue
                next_due[fid] = due + every
                self.stats.ticks_due += 1
                if self.lock.locked():
                    continue                  # still busy with the previous one: this tick goes unanswered
                async with self.lock:
                    try:
                        run = await self._rerun(fragment_id=fid, auto=True)
                    except ActionError as exc:
                        self.stats.errors[f"tick: {exc}"] += 1
                        continue
                self._record("tick", run.seconds, run)
                if run.seconds <= every:
                    self.stats.ticks_answered += 1
                next_due[fid] = max(next_due[fid], time.perf_counter())
            for fid in list(next_due):
                if fid not in self.auto:
                    del next_due[fid]

    async def close(self) -> None:
        self.closed = True
        for task in (self._ticker,):
            if task is not None:
                task.cancel()
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            try:
                await asyncio.wait_for(self._reader, 5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass


async def _student(k: int, base: str, stats: Stats, pool, drawings, deadline: float, ramp: float,
                   trainer: bool) -> None:
    rng = random.Random(k)
    await asyncio.sleep(ramp * rng.random())        # a class does not open the app in the same millisecond
    s = Student(base, stats, pool, drawings[k % len(drawings)])
    try:
        await s.first_load()
        if trainer:
            await s.open_page("train")
            await s.press("Start training", "start")
            while time.perf_counter() < deadline:     # watch the live panel (ticks run in the background)
                await asyncio.sleep(0.2)
            return
        await s.open_page("draw")
        i = 0
        next_at = time.perf_counter() + rng.uniform(0, STROKE_EVERY_S)
        while True:
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            if time.perf_counter() >= deadline:
                return
            if i and i % _PAGE_DOWN_ONE_IN == 0:
                await s.open_page(rng.choice(OTHER_PAGES))
                await s.open_page("draw")
            else:
                await s.stroke(i)
            i += 1
            next_at = max(next_at + STROKE_EVERY_S, time.perf_counter())
    except ActionError as exc:
        stats.errors[str(exc)] += 1
    except Exception as exc:                          # a failed fetch or handshake
        stats.errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
    finally:
        await s.close()


async def warm_up(base: str) -> None:
    """The teacher opens the app before class: the first script run imports torch and loads the
    model (seconds, once per server); not part of any student's numbers."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        s = Student(base, Stats(), pool, _stroke_drawings(0)[:1])
        try:
            await s.first_load()
            await s.open_page("draw")
            await s.stroke(0)
        finally:
            await s.close()


async def _scenario(base: str, n: int, trainings: int, duration: float, seed: int) -> Stats:
    stats = Stats()
    drawings = [_stroke_drawings(seed + k) for k in range(min(n, 8))]
    ramp = min(5.0, duration / 4)
    deadline = time.perf_counter() + ramp + duration
    trainers = set(range(0, n, max(1, n // trainings))[:trainings]) if trainings else set()
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        tasks = [_student(k, base, stats, pool, drawings, deadline, ramp, k in trainers) for k in range(n)]
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), ramp + duration + ACTION_TIMEOUT_S + 30)
        except asyncio.TimeoutError:
            stats.errors["scenario overran its time bound"] += 1
    return stats


def scenario(n: int, trainings: int = 0, duration: float = 30.0, seed: int = 0, server: Server | None = None,
             root: Path = ROOT) -> dict:
    """Run ``n`` students (``trainings`` of them pressing Start) for ``duration`` s against a fresh
    server of the app in ``root`` (or against ``server``); return latencies and counts."""
    own = server is None
    srv = Server(root=root) if own else server
    if own:
        srv.__enter__()
        asyncio.run(warm_up(srv.url))
    try:
        sampler = Sampler(srv.proc.pid)
        sampler.start()
        client0, wall0, load0 = time.process_time(), time.perf_counter(), os.getloadavg()[0]
        stats = asyncio.run(_scenario(srv.url, n, trainings, duration, seed))
        usage = sampler.finish()
        usage.update(client_cpu=(time.process_time() - client0) / (time.perf_counter() - wall0),
                     load=(load0, os.getloadavg()[0]))
    finally:
        if own:
            srv.__exit__()
    pct = {a: (len(v), *np.percentile(v, [50, 95]), max(v)) for a, v in stats.times.items() if v}
    every = [t for a in ("page", "stroke", "start") for t in stats.times.get(a, [])]
    runs = sum(len(stats.times.get(a, [])) for a in ACTIONS)      # script runs the server did for the students
    return {"students": n, "trainings": trainings, "duration_s": duration, "actions": pct,
            "any_p95": float(np.percentile(every, 95)) if every else float("nan"),
            "errors": dict(stats.errors), "dropped": stats.dropped, "predictions": stats.predictions,
            "cpu_per_run_ms": 1000 * usage["server_cpu_s"] / max(runs, 1),
            "ticks": (stats.ticks_answered, stats.ticks_due), "fragment_strokes": stats.fragment_strokes,
            "app_messages": dict(stats.app_messages), "static": (stats.static_files, stats.static_bytes), **usage}


async def _page_costs(srv: Server, repeats: int) -> dict[str, tuple[float, float]]:
    """One session alone: server CPU seconds and wall seconds of opening each page (median of
    ``repeats``), and of a stroke on the Draw page. CPU time is steadier than latency on a busy machine."""
    out: dict[str, tuple[float, float]] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        s = Student(srv.url, Stats(), pool, _stroke_drawings(1))
        try:
            await s.first_load()
            for path in sorted(s.pages, key=lambda p: (p != "", p)):
                name = path or "home"
                cpu, wall = [], []
                for _ in range(repeats):
                    c0 = _cpu_rss(srv.proc.pid)[0]
                    await s.open_page(name if path == "" else path.lower())
                    cpu.append(_cpu_rss(srv.proc.pid)[0] - c0)
                    wall.append(s.stats.times["page"][-1])
                    await asyncio.sleep(0.3)
                out[name] = (float(np.median(cpu)), float(np.median(wall)))
            await s.open_page("draw")
            cpu, wall = [], []
            for i in range(max(repeats, 5)):
                c0 = _cpu_rss(srv.proc.pid)[0]
                await s.stroke(i)
                cpu.append(_cpu_rss(srv.proc.pid)[0] - c0)
                wall.append(s.stats.times["stroke"][-1])
                await asyncio.sleep(0.3)
            out["stroke on Draw"] = (float(np.median(cpu)), float(np.median(wall)))
        finally:
            await s.close()
    return out


def page_costs(root: Path = ROOT, repeats: int = 3) -> dict[str, tuple[float, float]]:
    with Server(root=root) as srv:
        asyncio.run(warm_up(srv.url))
        return asyncio.run(_page_costs(srv, repeats))


# ---------------------------------------------------------------- report

def _fmt(pct: dict, action: str) -> str:
    if action not in pct:
        return "—"
    n, p50, p95, mx = pct[action]
    return f"{p50:.2f} / {p95:.2f} / {mx:.2f} s ({n})"


def table(results: list[dict]) -> list[str]:
    lines = ["| students | trainings | stroke → prediction p50 / p95 / max (count) | page open | first load | "
             "Start | any interaction p95 | live ticks answered | errors | dropped | server CPU (cores) / peak RSS |"
             " server CPU per script run | workers CPU / RSS |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        a = r["actions"]
        ticks = f"{r['ticks'][0]} of {r['ticks'][1]}" if r["ticks"][1] else "—"
        workers = f"{r['workers_cpu']:.2f} / {r['workers_rss_mb']:.0f} MB" if r["workers"] else "—"
        lines.append(f"| {r['students']} | {r['trainings']} | {_fmt(a, 'stroke')} | {_fmt(a, 'page')} | "
                     f"{_fmt(a, 'first load')} | {_fmt(a, 'start')} | {r['any_p95']:.2f} s | {ticks} | "
                     f"{sum(r['errors'].values())} | {r['dropped']} | {r['server_cpu']:.2f} / "
                     f"{r['server_rss_mb']:.0f} MB | {r['cpu_per_run_ms']:.0f} ms | {workers} |")
    for r in results:
        pages = ", ".join(f"{a[5:]} {p50:.2f} / {p95:.2f} s" for a, (_, p50, p95, _) in sorted(r["actions"].items())
                          if a.startswith("page "))
        lines.append(f"  - {r['students']} students, {r['trainings']} training: page opens p50 / p95: {pages}; "
                     f"ticks answered {r['ticks'][0]} of {r['ticks'][1]}; "
                     f"{r['fragment_strokes']} of {r['actions'].get('stroke', (0,))[0]} strokes were fragment reruns; "
                     f"{r['static'][0]:,} front-end files fetched ({r['static'][1] / 2 ** 20:,.1f} MB sent); "
                     f"simulated browsers' CPU {r['client_cpu']:.2f} cores; load average "
                     f"{r['load'][0]:.1f} → {r['load'][1]:.1f} on {os.cpu_count()} cores")
        for msg, count in list(r["errors"].items())[:5]:
            lines.append(f"  - error ×{count} ({r['students']} students, {r['trainings']} training): {msg}")
        for msg, count in list(r["app_messages"].items())[:3]:
            lines.append(f"  - the app said ×{count} ({r['students']} students): {msg}")
    return lines


def run(quick: bool = False) -> list[str]:
    """The standard scenarios for `python -m benchmarks classroom`: --quick is N = 1 and 5 for 6 s on
    one server (well under a minute); the full run is N = 1, 10, 30, 60, without and with trainings
    (one in ten), 40 s each, each on a fresh server."""
    if quick:
        with Server() as srv:
            asyncio.run(warm_up(srv.url))
            results = [scenario(n, 0, 6.0, server=srv) for n in (1, 5)]
    else:
        results = []
        for n in (1, 10, 30, 60):
            for t in ((0, n // 10) if n >= 10 else (0,)):
                results.append(scenario(n, t, 40.0))
    head = (f"- Classroom load (`python -m benchmarks classroom{' --quick' if quick else ''}`): students draw a "
            f"stroke every {STROKE_EVERY_S:.0f} s, visit another page every {_PAGE_DOWN_ONE_IN}th action, arrive "
            f"within the first {min(5.0, (6.0 if quick else 40.0) / 4):.1f} s; {os.cpu_count()} cores; the simulated "
            "browsers run on the same machine. Times: p50 / p95 / max (count).")
    return [head, ""] + table(results)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--students", type=int, nargs="+", default=[1, 10, 30], help="class sizes (default 1 10 30)")
    ap.add_argument("--duration", type=float, default=40.0, help="seconds of activity per scenario (default 40)")
    ap.add_argument("--trainings", choices=("none", "both", "only"), default="none",
                    help="without trainings, both, or only with (one student in ten presses Start)")
    ap.add_argument("--app-dir", type=Path, default=ROOT,
                    help="the checkout whose app to serve (default: this one), e.g. an older commit to compare")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    ap.add_argument("--page-costs", action="store_true",
                    help="instead: one session alone, server CPU and wall time of each page open and of a stroke")
    args = ap.parse_args(argv)
    if args.page_costs:
        costs = page_costs(args.app_dir)
        print("| page | server CPU per open | wall |\n|---|---|---|")
        for name, (cpu, wall) in costs.items():
            print(f"| {name} | {cpu * 1000:.0f} ms | {wall * 1000:.0f} ms |")
        return
    results = []
    for n in args.students:
        modes = {"none": (0,), "both": (0, max(1, n // 10)), "only": (max(1, n // 10),)}[args.trainings]
        for t in modes:
            r = scenario(n, t, args.duration, root=args.app_dir)
            results.append(r)
            print(table([r])[2], flush=True)
    print("\n".join(table(results)))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
