"""A training run: the config and data, where it executes, pause / resume / stop, and snapshots.

The run iterates ``loop.fit`` (today in a background thread) and never touches the UI: every
event is recorded under a lock, and anyone (a Streamlit fragment, a CLI, a test) reads an
immutable ``RunSnapshot`` with ``run.snapshot()``. Pause and stop are checked between events,
so a stop ends the run within one batch (an evaluation pass at most).

A run is seeded: initial weights, shuffling, augmentation and dropout masks all come from
generators owned by the run, so two runs with the same config give the same numbers even when
they train side by side.

Typical use::

    cfg = TrainConfig(spec=specs.preset("seed-000"), optimizer="sgd", lr=0.01, batch_size=100, epochs=3)
    run = registry().submit(TrainingRun(cfg, parts.train, parts.val, parts.test))
    ...
    snap = run.snapshot()          # state, per-step loss, per-epoch metrics, ETA
    bundle = run.bundle()          # a checkpoints.ModelBundle once finished
"""
from __future__ import annotations

import copy
import datetime as _dt
import threading
import time
import traceback
import uuid
from dataclasses import replace
from typing import Callable

from cnn_core.training.config import ConfigError, TrainConfig
from cnn_core.training.engines import Engine, make_engine
from cnn_core.training.loop import Diverged, Done, Epoch, Extra, Step, fit
from cnn_core.training.snapshot import ENDED, RunSnapshot


class _Stop(Exception):
    """Raised between events when the user stops the run."""


class Progress:
    """What a run has learned so far, built from ``fit``'s events (the caller holds the lock)."""

    def __init__(self):
        self.step = 0
        self.images = 0
        self.step_loss: list[float] = []
        self.epochs: list[dict] = []
        self.best_epoch: int | None = None
        self.test_acc: float | None = None
        self.stop_reason = ""
        self.message = ""
        self.extra: dict = {}

    def apply(self, event) -> None:
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


def make_bundle(cfg: TrainConfig, model, *, name: str, run_id: str, state: str, epochs_log, test_acc, class_names,
                dataset_info: dict, n_val: int, n_test: int):
    """A checkpoints.ModelBundle of trained weights (a copy of ``model``), with what the run knows about them."""
    from cnn_core.models.checkpoints import ModelBundle

    epochs_log = list(epochs_log)
    if test_acc is not None:
        acc, note = test_acc, f"test split ({n_test:,} images)"
    else:
        acc = epochs_log[-1]["val_acc"] if epochs_log else None
        note = f"validation split ({n_val:,} images)"
    n = len(epochs_log)
    meta = {"name": f"{name} ({cfg.engine}, {n} epoch{'s' if n != 1 else ''})",
            "dataset": dataset_info.get("name", ""), "class_names": list(class_names),
            "accuracy": acc, "accuracy_note": note,
            "created": _dt.date.today().isoformat(), "engine": cfg.engine, "run_id": run_id,
            "optimizer": cfg.optimizer, "lr": cfg.lr, "batch_size": int(cfg.batch_size),
            "epochs": n, "seed": int(cfg.seed), "state": state,
            "data": {k: v for k, v in dataset_info.items() if k != "name"}}
    return ModelBundle(copy.deepcopy(cfg.spec), copy.deepcopy(model).eval(), meta)


class TrainingRun:
    """One training run: a config, the data, a thread, and what it has learned so far."""

    def __init__(self, config: TrainConfig, train, val, test=None, name: str = "", dataset_info: dict | None = None,
                 engine_factory: Callable[[TrainConfig], Engine] = make_engine):
        """``engine_factory``: builds the engine from the config (a test passes a fake)."""
        self.config = config.validate(train.input_shape, train.num_classes)
        if len(train) == 0:
            raise ConfigError("The training split is empty; give it a larger share of the data.")
        self.id = uuid.uuid4().hex[:10]
        self.name = name or config.spec.get("name", "run")
        self.train_ds, self.val_ds, self.test_ds = train, val, test
        self.class_names = list(train.class_names)
        self.dataset_info = dict(dataset_info or {})
        self.dataset_info.setdefault("name", train.name.split(" [")[0])
        self.created = time.time()
        self.engine_factory = engine_factory
        self.steps_per_epoch = config.steps_per_epoch(len(train))
        self.total_steps = self.steps_per_epoch * int(config.epochs)
        self.traceback = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._unpaused = threading.Event()
        self._unpaused.set()
        self._thread: threading.Thread | None = None
        self._registry = None          # the RunRegistry that queued it, if any
        self._state = "queued"
        self._progress = Progress()
        self._elapsed = 0.0
        self._resumed_at: float | None = None
        self._setup_s = 0.0            # building the model (and importing the engine) before step 1
        self._model = None             # torch module once ended with usable weights
        self._bundle = None

    # --- control -------------------------------------------------------------------------------

    def start(self) -> "TrainingRun":
        """Start the thread now (ignoring any registry cap); use RunRegistry.submit to queue."""
        with self._lock:
            if self._thread is not None or self._state in ENDED:
                return self
            self._state = "running"
            self._resumed_at = time.perf_counter()
            # started before it is published: join() from another thread (a sweep waiting on a queued
            # run that the registry starts now) must never see a thread that is not started yet
            thread = threading.Thread(target=self._main, name=f"cnn-run-{self.id}", daemon=True)
            thread.start()
            self._thread = thread
        return self

    def pause(self) -> None:
        with self._lock:
            if self._state == "running":
                self._unpaused.clear()

    def resume(self) -> None:
        self._unpaused.set()

    def stop(self, wait: float | None = None) -> None:
        """Ask the run to stop; a queued run is removed from the queue. ``wait``: join up to seconds."""
        with self._lock:
            if self._state in ENDED:
                return
            queued = self._thread is None
            if queued:
                self._state = "stopped"
                self._progress.stop_reason, self._progress.message = "user", "Stopped before it started."
        self._stop.set()
        self._unpaused.set()
        if queued:
            if self._registry is not None:
                self._registry._dequeue(self)
            return
        if wait is not None:
            self.join(wait)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True once it has ended."""
        t = self._thread
        if t is not None:
            t.join(timeout)
            return not t.is_alive()
        return self._state in ENDED

    @property
    def state(self) -> str:
        return self._state

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- reading -------------------------------------------------------------------------------

    def snapshot(self) -> RunSnapshot:
        with self._lock:
            p = self._progress
            elapsed = self._elapsed + (time.perf_counter() - self._resumed_at
                                       if self._resumed_at is not None and self._state == "running" else 0.0)
            step, state = p.step, self._state
            if state == "running" and not self._unpaused.is_set():
                state = "paused"
            eta = None
            if state in ("running", "paused") and step > 0:
                eta = (elapsed - self._setup_s) / step * max(0, self.total_steps - step)
            training_s = elapsed - self._setup_s
            snap = RunSnapshot(
                id=self.id, name=self.name, state=state, message=p.message, stop_reason=p.stop_reason,
                queue_position=0, epoch=len(p.epochs), epochs=int(self.config.epochs), step=step,
                total_steps=self.total_steps, step_loss=tuple(p.step_loss),
                epochs_log=tuple(dict(e) for e in p.epochs),
                images_per_s=p.images / training_s if training_s > 0 else 0.0, elapsed_s=elapsed, eta_s=eta,
                test_acc=p.test_acc, best_epoch=p.best_epoch, config=self.config.to_dict(),
                dataset=self.dataset_info.get("name", ""), extra=dict(p.extra))
        if state == "queued" and self._registry is not None:
            snap = replace(snap, queue_position=self._registry.queue_position(self.id))
        return snap

    def bundle(self):
        """The trained model as a checkpoints.ModelBundle, or None while it has no usable weights."""
        with self._lock:
            if self._bundle is not None:
                return self._bundle
            model, state = self._model, self._state
            epochs = [dict(e) for e in self._progress.epochs]
            test_acc = self._progress.test_acc
        if model is None:
            return None
        bundle = make_bundle(self.config, model, name=self.name, run_id=self.id, state=state, epochs_log=epochs,
                             test_acc=test_acc, class_names=self.class_names, dataset_info=self.dataset_info,
                             n_val=len(self.val_ds) if self.val_ds is not None else 0,
                             n_test=len(self.test_ds) if self.test_ds is not None else 0)
        with self._lock:
            self._bundle = bundle      # an ended run never changes: every caller gets the same (read-only) bundle
        return bundle

    # --- the thread ----------------------------------------------------------------------------

    def _gate(self) -> None:
        """Called between events: honour pause and stop."""
        if self._stop.is_set():
            raise _Stop
        if not self._unpaused.is_set():
            with self._lock:
                self._elapsed += time.perf_counter() - self._resumed_at
                self._resumed_at = None
                self._state = "paused"
            while not self._unpaused.wait(0.1):
                pass
            with self._lock:
                self._state = "running"
                self._resumed_at = time.perf_counter()
            if self._stop.is_set():
                raise _Stop

    def _main(self) -> None:
        engine = None
        try:
            self._gate()
            engine = self.engine_factory(self.config)
            with self._lock:
                self._setup_s = time.perf_counter() - self._resumed_at
            for event in fit(self.config, engine, self.train_ds, self.val_ds, self.test_ds):
                with self._lock:
                    self._progress.apply(event)
                self._gate()
            end = ("finished", self._progress.stop_reason, self._progress.message or "Finished.")
        except _Stop:
            end = ("stopped", "user", f"Stopped by you after {self._progress.step} step(s).")
        except Diverged as exc:
            engine = None     # its weights are ruined; nothing to keep
            end = ("stopped", "diverged", str(exc))
        except ConfigError as exc:
            end = ("failed", "error", str(exc))
        except Exception as exc:  # noqa: BLE001 - a failed state the page can show, never a dead thread
            self.traceback = traceback.format_exc()
            end = ("failed", "error", f"Training failed: {type(exc).__name__}: {exc}")
        with self._lock:     # the clock stops with the last step, not after the export below
            if self._resumed_at is not None:
                self._elapsed += time.perf_counter() - self._resumed_at
                self._resumed_at = None
        model = None
        if engine is not None and self._progress.step > 0:
            try:
                model = engine.to_torch()
            except Exception as exc:  # noqa: BLE001
                self.traceback = traceback.format_exc()
                end = ("failed", "error", f"The trained weights could not be exported: {type(exc).__name__}: {exc}")
        with self._lock:
            self._state, (self._progress.stop_reason, self._progress.message) = end[0], end[1:]
            self._model = model
            self.train_ds = None   # free the largest array; val/test stay for the Evaluate page
        if self._registry is not None:
            self._registry._run_ended(self)
