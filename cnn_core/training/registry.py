"""Every run (and sweep) of this server process, by id, with a cap on concurrent runs, and the
choice of backend that executes them."""
from __future__ import annotations

import atexit
import os
import threading

from cnn_core import limits
from cnn_core.limits import LimitError
from cnn_core.training.backends import Backend, ThreadBackend
from cnn_core.training.run import TrainingRun
from cnn_core.training.snapshot import ENDED


def default_backend() -> Backend:
    """$CNN_EXPLORER_BACKEND: "process" (default: a worker process per run) or "thread" (in this process);
    with $CNN_EXPLORER_RAY_ADDRESS set, a Ray cluster (``ray_backend``, shared by every server on it)."""
    from cnn_core.training import ray_backend

    if ray_backend.address():
        return ray_backend.RayBackend()
    if os.environ.get("CNN_EXPLORER_BACKEND", "process").strip().lower() == "thread":
        return ThreadBackend()
    from cnn_core.training.workers import ProcessBackend

    return ProcessBackend()


class RunRegistry:
    """Every run (and sweep) of this server process, by id, with a cap on concurrent runs.

    Runs beyond the cap wait in a FIFO queue (their snapshot shows their position) and start as
    soon as a running one ends. Ended runs are kept (the most recent ``keep``) so that a page
    reload or a second tab can reattach by id.
    """

    def __init__(self, max_concurrent: int = 2, keep: int = 30, backend: Backend | None = None):
        """``backend``: where runs execute (default: ``default_backend()``, worker processes)."""
        if int(max_concurrent) < 1:
            raise ValueError("max_concurrent must be ≥ 1")
        self.backend = backend if backend is not None else default_backend()
        self.max_concurrent = int(max_concurrent)
        self.keep = int(keep)
        self._lock = threading.RLock()
        self._runs: dict[str, TrainingRun] = {}
        self._queue: list[str] = []
        self._active: set[str] = set()
        self._sweeps: dict[str, object] = {}

    def submit(self, run: TrainingRun) -> TrainingRun:
        """Start ``run`` now if a slot is free, else queue it; a full queue (``limits.MAX_QUEUED_RUNS``)
        raises LimitError with a sentence for the user."""
        with self._lock:
            if self.queue_full():
                raise LimitError(f"{len(self._queue)} runs are already waiting for a free slot on this server; the "
                                 f"cap is {limits.MAX_QUEUED_RUNS}. Try again when one has finished.")
            run._registry = self
            self._runs[run.id] = run
            if len(self._active) < self.max_concurrent:
                self._active.add(run.id)
                run.start(self.backend)
            else:
                self._queue.append(run.id)
            self._prune()
        return run

    def queue_full(self) -> bool:
        """Whether a new run would have to queue and the queue is at its cap."""
        with self._lock:
            return len(self._active) >= self.max_concurrent and len(self._queue) >= limits.MAX_QUEUED_RUNS

    def get(self, run_id: str | None) -> TrainingRun | None:
        """The run by id; on a shared backend (Ray) also one that another server started."""
        with self._lock:
            run = self._runs.get(run_id or "")
        attach = getattr(self.backend, "attach", None)
        return run if run is not None or attach is None or not run_id else attach(run_id)

    def runs(self) -> list[TrainingRun]:
        with self._lock:
            return list(self._runs.values())

    def queue_position(self, run_id: str) -> int:
        with self._lock:
            return self._queue.index(run_id) + 1 if run_id in self._queue else 0

    def active_count(self) -> int:
        with self._lock:
            return len(self._active)

    def set_max_concurrent(self, n: int) -> None:
        with self._lock:
            self.max_concurrent = max(1, int(n))
            self._fill()

    def stop_all(self, wait: float = 2.0) -> None:
        for run in self.runs():
            run.stop()
        for run in self.runs():
            run.join(wait)

    def shutdown(self, wait: float = 2.0) -> None:
        """Stop every run and end its worker (the server is going away)."""
        with self._lock:
            self._queue.clear()
        if not getattr(self.backend, "detached", False):     # runs on a cluster outlive this server
            self.stop_all(wait)
        self.backend.shutdown(wait)

    def add_sweep(self, sweep) -> None:
        with self._lock:
            self._sweeps[sweep.id] = sweep

    def get_sweep(self, sweep_id: str | None):
        with self._lock:
            sweep = self._sweeps.get(sweep_id or "")
        attach = getattr(self.backend, "attach_sweep", None)
        return sweep if sweep is not None or attach is None or not sweep_id else attach(sweep_id)

    # called by runs
    def _run_ended(self, run: TrainingRun) -> None:
        with self._lock:
            self._active.discard(run.id)
            self._fill()
            self._prune()

    def _dequeue(self, run: TrainingRun) -> None:
        with self._lock:
            if run.id in self._queue:
                self._queue.remove(run.id)

    def _fill(self) -> None:
        while self._queue and len(self._active) < self.max_concurrent:
            run = self._runs.get(self._queue.pop(0))
            if run is None or run.state in ENDED:
                continue
            self._active.add(run.id)
            run.start(self.backend)

    def _prune(self) -> None:
        ended = [rid for rid, r in self._runs.items() if r.state in ENDED]
        for rid in ended[:max(0, len(ended) - self.keep)]:
            self._runs.pop(rid).snapshot()     # a handle someone still holds keeps its last snapshot
            self.backend.forget(rid)


def _default_cap() -> int:
    try:
        return max(1, int(os.environ.get("CNN_EXPLORER_MAX_RUNS", "2")))
    except ValueError:
        return 2


_REGISTRY: RunRegistry | None = None
_REGISTRY_LOCK = threading.Lock()


def registry() -> RunRegistry:
    """The process-wide registry (one per Streamlit server), created on first use; cap from
    $CNN_EXPLORER_MAX_RUNS (default 2). Its runs and workers end when the process exits."""
    global _REGISTRY
    with _REGISTRY_LOCK:
        if _REGISTRY is None:
            _REGISTRY = RunRegistry(_default_cap())
            atexit.register(_REGISTRY.shutdown, 1.0)
            warm = getattr(_REGISTRY.backend, "warm", None)
            if warm is not None:       # start the worker pool's fork server now, not on the first Start
                threading.Thread(target=warm, name="cnn-warm-workers", daemon=True).start()
        return _REGISTRY
