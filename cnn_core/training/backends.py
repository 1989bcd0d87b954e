"""Where runs execute, behind one small interface (``Backend``), and the parts every backend shares.

A backend knows runs by id: ``start(job, on_end)``, ``snapshot(id)``, ``pause`` / ``resume`` /
``stop(id)``, ``wait(id, timeout)``, ``result(id)`` (the final weights), ``list()``, ``forget(id)``
and ``shutdown()``. ``ThreadBackend`` runs ``fit`` in a thread of this process (notebooks, tests);
``workers.ProcessBackend`` in a worker process per run (the server's default). Both drive the
loop with ``execute`` and keep what a run has done in a ``RunRecord``, which builds its snapshots.
"""
from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from typing import Callable, Protocol

import numpy as np

from cnn_core.training.config import ConfigError, TrainConfig
from cnn_core.training.engines import Engine, make_engine
from cnn_core.training.loop import Diverged, Done, Epoch, Extra, Step, fit
from cnn_core.training.recorder import LearningRecorder, record
from cnn_core.training.snapshot import ENDED, RunSnapshot
from cnn_core.lessons.formatting import count_of


@dataclass(frozen=True)
class Job:
    """Everything a backend needs to execute one run (picklable: it travels to a worker)."""
    id: str
    name: str
    config: TrainConfig
    train: object
    val: object
    test: object
    dataset: str
    total_steps: int
    engine_factory: Callable[[TrainConfig], Engine] = make_engine
    probe: tuple | None = None        # (image, source, label) for the learning timeline; None: none recorded
    class_names: tuple[str, ...] = ()
    dataset_info: dict = field(default_factory=dict)    # name, key, split…: labels a checkpoint made elsewhere (Ray)


@dataclass(frozen=True)
class Ended:
    """The last message of a run: how it ended, and its weights (numpy arrays) if they are usable."""
    state: str
    stop_reason: str
    message: str
    traceback: str = ""
    weights: dict | None = None
    export_s: float = 0.0          # time spent exporting the weights after the last step (off the clock)


# lifecycle markers besides fit's events
READY, PAUSED, RESUMED = "ready", "paused", "resumed"


class Backend(Protocol):
    def start(self, job: Job, on_end: Callable[[str], None]) -> None: ...
    def snapshot(self, run_id: str) -> RunSnapshot | None: ...
    def pause(self, run_id: str) -> None: ...
    def resume(self, run_id: str) -> None: ...
    def stop(self, run_id: str) -> None: ...
    def wait(self, run_id: str, timeout: float | None = None) -> bool: ...
    def result(self, run_id: str) -> dict | None: ...
    def list(self) -> list[str]: ...
    def forget(self, run_id: str) -> None: ...
    def shutdown(self, wait: float = 2.0) -> None: ...


class RunRecord:
    """What one run has done so far, fed with ``fit``'s events and the lifecycle markers, and the
    clock: elapsed time counts running time only (not queued or paused), and ``setup_s`` (building
    the model, starting a worker) is left out of the images per second and the ETA."""

    def __init__(self, job: Job):
        self.job = job
        self.lock = threading.Lock()
        self.state = "queued"
        self.pause_requested = False
        self.step = self.images = 0
        self.step_loss: list[float] = []
        self.epochs: list[dict] = []
        self.best_epoch: int | None = None
        self.test_acc: float | None = None
        self.stop_reason = self.message = self.traceback = ""
        self.extra: dict = {}
        self.weights: dict | None = None
        self.elapsed = self.setup_s = 0.0
        self.resumed_at: float | None = None
        self.ended = threading.Event()

    def started(self) -> None:
        with self.lock:
            self.state, self.resumed_at = "running", time.perf_counter()

    def apply(self, event) -> None:
        with self.lock:
            self._apply(event)

    def apply_all(self, events) -> None:
        with self.lock:
            for event in events:
                self._apply(event)

    def _apply(self, event) -> None:
        if isinstance(event, Step):
            self.step = event.step
            self.images += event.images
            self.step_loss.append(event.loss)
        elif isinstance(event, Epoch):
            self.epochs.append(event.row)
            self.best_epoch = event.best_epoch
        elif isinstance(event, Done):
            self.test_acc, self.stop_reason, self.message = event.test_acc, event.stop_reason, event.message
        elif isinstance(event, Extra):
            self.extra.update(event.payload)
        elif event == READY:
            self.setup_s = self.elapsed + self._running_for()
        elif event == PAUSED and self.resumed_at is not None:
            self.elapsed += self._running_for()
            self.state, self.resumed_at = "paused", None
        elif event == RESUMED and self.state == "paused":
            self.state, self.resumed_at = "running", time.perf_counter()
        elif isinstance(event, Ended):
            self._end(event)

    def end(self, ended: Ended) -> None:
        with self.lock:
            self._end(ended)

    def _end(self, ended: Ended) -> None:
        if self.state in ENDED:
            return
        self.elapsed += max(0.0, self._running_for() - ended.export_s)
        self.resumed_at = None
        self.state, self.stop_reason, self.message = ended.state, ended.stop_reason, ended.message
        self.traceback, self.weights = ended.traceback, ended.weights
        self.job = replace(self.job, train=None, val=None, test=None)    # free the images
        self.ended.set()

    def _running_for(self) -> float:
        return time.perf_counter() - self.resumed_at if self.resumed_at is not None else 0.0

    def snapshot(self, queue_position: int = 0) -> RunSnapshot:
        job = self.job
        with self.lock:
            elapsed = self.elapsed + self._running_for()
            state = "paused" if self.state == "running" and self.pause_requested else self.state
            eta = None
            if state in ("running", "paused") and self.step > 0:
                eta = (elapsed - self.setup_s) / self.step * max(0, job.total_steps - self.step)
            training_s = elapsed - self.setup_s
            return RunSnapshot(
                id=job.id, name=job.name, state=state, message=self.message, stop_reason=self.stop_reason,
                queue_position=queue_position if state == "queued" else 0, epoch=len(self.epochs),
                epochs=int(job.config.epochs), step=self.step, total_steps=job.total_steps,
                step_loss=tuple(self.step_loss), epochs_log=tuple(dict(e) for e in self.epochs),
                images_per_s=self.images / training_s if training_s > 0 and self.images else 0.0,
                elapsed_s=elapsed, eta_s=eta, test_acc=self.test_acc, best_epoch=self.best_epoch,
                config=job.config.to_dict(), dataset=job.dataset, traceback=self.traceback, extra=dict(self.extra))


class Stop(Exception):
    """Raised between events when the user stops the run."""


def execute(job: Job, check: Callable[[], None], emit: Callable[[object], None], memory_note: str = "") -> Ended:
    """Build the engine and iterate ``fit``, handing every event to ``emit`` and calling ``check``
    (which blocks while paused and raises ``Stop``) between events. Returns how the run ended."""
    engine, steps = None, 0
    try:
        check()
        engine = job.engine_factory(job.config)
        emit(READY)
        events = fit(job.config, engine, job.train, job.val, job.test)
        if job.probe is not None and hasattr(engine, "probe"):     # a test's fake engine may have none
            per = job.config.steps_per_epoch(len(job.train))
            events = record(events, engine, LearningRecorder(job.config.spec, job.total_steps, per, *job.probe,
                                                             class_names=job.class_names or None))
        for event in events:
            emit(event)
            if isinstance(event, Step):
                steps = event.step
            elif isinstance(event, Done):
                done = event
            check()
        ended = Ended("finished", done.stop_reason, done.message or "Finished.")
    except Stop:
        ended = Ended("stopped", "user", f"Stopped by you after {count_of(steps, 'step')}.")
    except Diverged as exc:
        engine = None     # its weights are ruined; nothing to keep
        ended = Ended("stopped", "diverged", str(exc))
    except ConfigError as exc:
        ended = Ended("failed", "error", str(exc))
    except Exception as exc:  # noqa: BLE001 - a failed state the page can show, never a dead thread
        ended = Ended("failed", "error", failure_sentence(exc, memory_note), traceback.format_exc())
    if engine is None or steps == 0:
        return ended
    t0 = time.perf_counter()
    try:
        model = engine.to_torch()
        weights = {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}
    except Exception as exc:  # noqa: BLE001
        return Ended("failed", "error", f"The trained weights could not be exported: {type(exc).__name__}: {exc}",
                     traceback.format_exc())
    return Ended(ended.state, ended.stop_reason, ended.message, ended.traceback, weights, time.perf_counter() - t0)


def failure_sentence(exc: BaseException, memory_note: str = "") -> str:
    """One sentence for the page; running out of memory is said in plain words."""
    text = str(exc)
    if isinstance(exc, MemoryError) or "can't allocate memory" in text or "out of memory" in text.lower():
        return ("Training failed: the run needed more memory than it may use" + (f" ({memory_note})" if memory_note else "")
                + ". Try a smaller network, a smaller batch size or less data.")
    return f"Training failed: {type(exc).__name__}: {exc}"


def model_from_weights(spec: dict, weights: dict):
    """A torch model of ``spec`` holding ``weights`` (numpy arrays by state_dict key), in eval mode."""
    import torch

    from cnn_core.models.specs import build_torch

    model = build_torch(spec)
    model.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in weights.items()})
    return model.eval()


@dataclass
class _ThreadRun:
    record: RunRecord
    thread: threading.Thread | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    unpaused: threading.Event = field(default_factory=threading.Event)


class ThreadBackend:
    """Runs in threads of this process: no start-up cost, but they share the process (and its
    GIL) with whoever started them. For notebooks, scripts and tests."""

    def __init__(self):
        self._lock = threading.Lock()
        self._runs: dict[str, _ThreadRun] = {}

    def start(self, job: Job, on_end: Callable[[str], None] = lambda run_id: None) -> None:
        r = _ThreadRun(RunRecord(job))
        r.unpaused.set()
        r.thread = threading.Thread(target=self._main, args=(r, on_end), name=f"cnn-run-{job.id}", daemon=True)
        with self._lock:
            self._runs[job.id] = r
        r.record.started()
        r.thread.start()

    def _main(self, r: _ThreadRun, on_end) -> None:
        def check() -> None:
            if r.stop.is_set():
                raise Stop
            if not r.unpaused.is_set():
                r.record.apply(PAUSED)
                while not r.unpaused.wait(0.1):
                    pass
                r.record.apply(RESUMED)
                if r.stop.is_set():
                    raise Stop

        r.record.end(execute(r.record.job, check, r.record.apply))
        on_end(r.record.job.id)

    def _get(self, run_id: str) -> _ThreadRun | None:
        with self._lock:
            return self._runs.get(run_id)

    def snapshot(self, run_id: str) -> RunSnapshot | None:
        r = self._get(run_id)
        return r.record.snapshot() if r else None

    def pause(self, run_id: str) -> None:
        r = self._get(run_id)
        if r and not r.record.ended.is_set():
            r.record.pause_requested = True
            r.unpaused.clear()

    def resume(self, run_id: str) -> None:
        r = self._get(run_id)
        if r:
            r.record.pause_requested = False
            r.unpaused.set()

    def stop(self, run_id: str) -> None:
        r = self._get(run_id)
        if r:
            r.stop.set()
            r.unpaused.set()

    def wait(self, run_id: str, timeout: float | None = None) -> bool:
        r = self._get(run_id)
        if r is None:
            return True
        if not r.record.ended.wait(timeout):
            return False
        r.thread.join()          # ended: only on_end is left to run (a started thread, so joinable)
        return True

    def result(self, run_id: str) -> dict | None:
        r = self._get(run_id)
        return r.record.weights if r else None

    def list(self) -> list[str]:
        with self._lock:
            return list(self._runs)

    def forget(self, run_id: str) -> None:
        with self._lock:
            self._runs.pop(run_id, None)

    def shutdown(self, wait: float = 2.0) -> None:
        for run_id in self.list():
            self.stop(run_id)
        for run_id in self.list():
            self.wait(run_id, wait)
