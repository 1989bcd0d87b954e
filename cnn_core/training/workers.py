"""Runs in worker processes: the server's default backend.

Each run executes in its own process, forked from a fork server that has already imported torch
(``multiprocessing``'s forkserver context, started once with the app), so a Start answers at once
and the first step follows within a second. A worker:

- runs at a lower CPU priority than the web server (``os.nice``, $CNN_EXPLORER_WORKER_NICE,
  default 10) with one torch / BLAS thread ($CNN_EXPLORER_WORKER_THREADS, default 1);
- may allocate only $CNN_EXPLORER_WORKER_MEMORY_MB beyond what it holds at start (``RLIMIT_DATA``;
  default ``default_memory_mb()``: 7,168 MB with the default caps, at most half the machine's
  memory), so a runaway run fails alone with a sentence, not the server;
- sends its events to the server in batches (every 50 ms) over a pipe, where a thread per run
  records them; pause / resume / stop go the other way and are read between steps;
- ends itself when the server goes (the pipe closes, or the parent process is gone), and the
  server ends every worker at exit (``RunRegistry.shutdown`` via atexit).

A worker that dies (kill -9, the kernel's out-of-memory killer) marks its run failed with a plain
sentence; the server carries on.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from typing import Callable

from cnn_core.training.backends import PAUSED, READY, RESUMED, Ended, Job, RunRecord, Stop, execute
from cnn_core.training.loop import Extra, Step
from cnn_core.training.snapshot import ENDED, RunSnapshot
from cnn_core.lessons.formatting import count_of

FLUSH_S = 0.05          # events reach the server in batches, at least this often
CHECK_S = 0.01          # pause / stop are read this often (between steps)
STOP_GRACE_S = 5.0      # a stopped worker that has not ended by then is killed


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


_NAME = "cnn-run-"


def _without_main(get_preparation_data):
    """multiprocessing re-runs the parent's ``__main__`` in every child it starts. Under Streamlit
    that is the app script (the script runner installs it as ``__main__``), so a worker would run
    a page before training. Workers need nothing from ``__main__``: drop it for them alone."""
    if getattr(get_preparation_data, "without_main", False):
        return get_preparation_data

    def prepare(name):
        data = get_preparation_data(name)
        if str(name).startswith(_NAME):
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
        return data

    prepare.without_main = True
    return prepare


def default_memory_mb() -> int:
    """Room for the largest batch the caps allow (its layer outputs, their gradients and some), but
    never more than half of this machine's memory."""
    from cnn_core import limits

    want = 3 * limits.MAX_BATCH_ACTIVATION_MB + 1024
    try:
        total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2 ** 20
    except (ValueError, OSError):
        return want
    return int(min(want, max(1024, total_mb // 2)))


def _context():
    from multiprocessing import spawn

    spawn.get_preparation_data = _without_main(spawn.get_preparation_data)
    ctx = mp.get_context("forkserver")
    # the boot module sets the thread count and the priority, then imports torch, once for all workers
    ctx.set_forkserver_preload(["cnn_core.training._worker_boot"])
    return ctx


# --- inside the worker ----------------------------------------------------------------------------


def _limit_memory(mb: int) -> str:
    """Cap this process's data segment at what it holds now plus ``mb`` MiB; returns a note for messages."""
    import resource

    try:
        with open("/proc/self/status") as f:
            held = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmData:"))
    except (OSError, StopIteration):
        return ""
    limit = held + mb * 2 ** 20
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    return f"{mb:,} MB per training process"


def _settle(threads: int, nice: int, memory_mb: int) -> str:
    """Priority, threads and memory cap of this worker; returns the memory note."""
    try:
        current = os.nice(0)
        if nice > current:
            os.nice(nice - current)
    except OSError:
        pass
    import torch

    torch.set_num_threads(max(1, threads))
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(max(1, threads))
    except ImportError:
        pass
    return _limit_memory(memory_mb) if memory_mb > 0 else ""


def _watch_parent() -> None:
    """End this worker as soon as the server is gone (even if killed with -9)."""
    parent, ppid = mp.parent_process(), os.getppid()
    while True:
        if parent is not None:
            parent.join(0.5)
            if not parent.is_alive():
                os._exit(3)
        else:
            time.sleep(0.5)
        if os.getppid() != ppid:
            os._exit(3)


def worker_main(conn, job: Job, threads: int, nice: int, memory_mb: int) -> None:
    threading.Thread(target=_watch_parent, name="cnn-watch-parent", daemon=True).start()
    note = _settle(threads, nice, memory_mb)
    pending: list = []
    last_flush = time.monotonic()

    def send(msg) -> None:
        try:
            conn.send(msg)
        except (OSError, EOFError):      # the server is gone
            os._exit(3)

    def flush() -> None:
        nonlocal last_flush
        if pending:
            send(("events", pending[:]))
            pending.clear()
        last_flush = time.monotonic()

    def emit(event) -> None:
        pending.append(event)
        if not isinstance(event, Step) or time.monotonic() - last_flush >= FLUSH_S:
            flush()

    def command(timeout: float | None = 0.0):
        try:
            return conn.recv() if conn.poll(timeout) else None
        except (OSError, EOFError):
            os._exit(3)

    next_look = 0.0

    def check() -> None:
        nonlocal next_look
        now = time.monotonic()
        if now < next_look:          # look for commands every few ms, not at every step
            return
        next_look = now + CHECK_S
        cmd = command()
        if cmd == "stop":
            raise Stop
        if cmd == "pause":
            emit(PAUSED)
            while (cmd := command(None)) not in ("resume", "stop"):
                pass
            emit(RESUMED)
            if cmd == "stop":
                raise Stop

    def emit_with_cpu(event) -> None:
        nonlocal cpu_at_ready
        if event == READY:
            cpu_at_ready = time.process_time()
        emit(event)

    cpu_at_ready = None
    ended = execute(job, check, emit_with_cpu, note)
    if cpu_at_ready is not None:        # CPU seconds spent training (load-independent, for benchmarks)
        pending.append(Extra({"worker": {"pid": os.getpid(), "cpu_s": time.process_time() - cpu_at_ready}}))
    flush()
    send(("end", ended))
    conn.close()


# --- in the server ----------------------------------------------------------------------------------


class _Worker:
    def __init__(self, record: RunRecord, on_end: Callable[[str], None]):
        self.record, self.on_end = record, on_end
        self.process = None
        self.conn = None
        self.send_lock = threading.Lock()
        self.stop_at: float | None = None
        self.thread: threading.Thread | None = None

    def send(self, msg) -> None:
        with self.send_lock:
            if self.conn is not None:
                try:
                    self.conn.send(msg)
                except (OSError, EOFError, ValueError):
                    pass          # the worker is gone; its thread records why


class ProcessBackend:
    """One worker process per run (see the module docstring)."""

    def __init__(self, threads: int | None = None, nice: int | None = None, memory_mb: int | None = None):
        self.threads = threads if threads is not None else _env_int("CNN_EXPLORER_WORKER_THREADS", 1)
        self.nice = nice if nice is not None else _env_int("CNN_EXPLORER_WORKER_NICE", 10)
        self.memory_mb = memory_mb if memory_mb is not None else _env_int("CNN_EXPLORER_WORKER_MEMORY_MB",
                                                                          default_memory_mb())
        self._lock = threading.Lock()
        self._workers: dict[str, _Worker] = {}
        self._closed = False

    def warm(self) -> None:
        """Start the fork server (it imports torch once) before the first run needs it."""
        from multiprocessing import forkserver

        _context()
        try:
            forkserver.ensure_running()
        except Exception:  # noqa: BLE001 - the first start() will try again and report
            pass

    def start(self, job: Job, on_end: Callable[[str], None] = lambda run_id: None) -> None:
        w = _Worker(RunRecord(job), on_end)
        with self._lock:
            if self._closed:
                raise RuntimeError("The training workers have been shut down.")
            self._workers[job.id] = w
        w.record.started()
        ctx = _context()
        w.conn, child = ctx.Pipe(duplex=True)
        w.process = ctx.Process(target=worker_main, args=(child, job, self.threads, self.nice, self.memory_mb),
                                name=f"{_NAME}{job.id}", daemon=True)
        # Starting (fork + sending the data) happens on the run's own thread: Start answers at once.
        w.thread = threading.Thread(target=self._serve, args=(w, child), name=f"cnn-worker-{job.id}", daemon=True)
        w.thread.start()

    def _serve(self, w: _Worker, child) -> None:
        try:
            try:
                w.process.start()
                started = True
            except Exception as exc:  # noqa: BLE001 - shown on the page
                w.process, started = None, False
                ended = Ended("failed", "error", f"The training process could not be started: {type(exc).__name__}: {exc}")
            child.close()       # the worker has its own copy now: its death closes the pipe
            if started:
                ended = self._receive(w)
            with w.send_lock:
                w.conn.close()
                w.conn = None
            if w.process is not None:
                w.process.join(2.0)
                if w.process.is_alive():
                    w.process.kill()
                    w.process.join(2.0)
        except Exception as exc:  # noqa: BLE001 - the run must end, whatever happened here
            ended = Ended("failed", "error", f"The training process was lost: {type(exc).__name__}: {exc}")
        w.record.end(ended)
        w.on_end(w.record.job.id)

    def _receive(self, w: _Worker) -> Ended:
        """Record the worker's events until it reports its end (or dies, or ignores a stop)."""
        try:
            while True:
                if w.stop_at is not None and time.monotonic() > w.stop_at:
                    break
                if not w.conn.poll(0.5 if w.stop_at is None else 0.1):
                    continue
                kind, payload = w.conn.recv()
                if kind == "events":
                    w.record.apply_all(payload)
                elif kind == "end":
                    return payload
        except (EOFError, OSError):
            pass
        return self._death_notice(w)

    def _death_notice(self, w: _Worker) -> Ended:
        """How a worker that ended without reporting ended, in one sentence."""
        proc = w.process
        if w.stop_at is not None:     # stopped, but stuck in a long step: ended by force
            if proc.is_alive():
                proc.kill()
            return Ended("stopped", "user", f"Stopped by you after {count_of(w.record.step, 'step')}; the run did not answer "
                                            "in time, so its weights were not kept.")
        proc.join(2.0)
        code = proc.exitcode
        if code is not None and code < 0:
            try:
                how = f"killed by signal {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
            if -code == signal.SIGKILL:
                how += ", most likely because the machine ran out of memory"
        else:
            how = f"exited with code {code}"
        return Ended("failed", "error", f"The training process ended unexpectedly ({how}) after "
                                        f"{count_of(w.record.step, 'step')}; this run's weights are lost, but the app carries on. "
                                        "Try a smaller network or batch size if it happens again.")

    def _get(self, run_id: str) -> _Worker | None:
        with self._lock:
            return self._workers.get(run_id)

    def pid(self, run_id: str) -> int | None:
        w = self._get(run_id)
        return w.process.pid if w is not None and w.process is not None else None

    def snapshot(self, run_id: str) -> RunSnapshot | None:
        w = self._get(run_id)
        return w.record.snapshot() if w else None

    def pause(self, run_id: str) -> None:
        w = self._get(run_id)
        if w and w.record.state not in ENDED:
            w.record.pause_requested = True
            w.send("pause")

    def resume(self, run_id: str) -> None:
        w = self._get(run_id)
        if w and w.record.pause_requested:
            w.record.pause_requested = False
            w.send("resume")

    def stop(self, run_id: str) -> None:
        w = self._get(run_id)
        if w and w.record.state not in ENDED and w.stop_at is None:
            w.stop_at = time.monotonic() + STOP_GRACE_S
            w.send("stop")

    def wait(self, run_id: str, timeout: float | None = None) -> bool:
        w = self._get(run_id)
        return True if w is None else w.record.ended.wait(timeout)

    def result(self, run_id: str) -> dict | None:
        w = self._get(run_id)
        return w.record.weights if w else None

    def list(self) -> list[str]:
        with self._lock:
            return list(self._workers)

    def forget(self, run_id: str) -> None:
        with self._lock:
            self._workers.pop(run_id, None)

    def alive_pids(self) -> list[int]:
        with self._lock:
            workers = list(self._workers.values())
        return [w.process.pid for w in workers if w.process is not None and w.process.is_alive()]

    def shutdown(self, wait: float = 2.0) -> None:
        """Stop every run, then kill whatever has not ended after ``wait`` seconds."""
        with self._lock:
            self._closed = True
            workers = list(self._workers.values())
        for w in workers:
            self.stop(w.record.job.id)
        deadline = time.monotonic() + wait
        for w in workers:
            w.record.ended.wait(max(0.0, deadline - time.monotonic()))
        for w in workers:
            if w.process is not None and w.process.pid is not None and w.process.is_alive():
                w.process.kill()
                w.process.join(1.0)
