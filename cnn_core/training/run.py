"""A training run: the config and data, where it executes (a backend), pause / resume / stop,
snapshots and the trained model.

A ``TrainingRun`` is the handle the pages hold. It stays queued until a registry (or ``start``)
hands it to a backend, which iterates ``loop.fit`` in a worker process (the server's registry) or
a thread (``start()`` without a registry: notebooks, tests). Anyone (a Streamlit fragment, a
CLI, a test) reads an immutable ``RunSnapshot`` with ``run.snapshot()``. Pause and stop are
checked between events, so a stop ends the run within one batch (an evaluation pass at most).

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
import uuid
import weakref
from typing import Callable

from cnn_core.training.backends import Backend, Ended, Job, RunRecord, ThreadBackend, model_from_weights
from cnn_core.training.config import ConfigError, TrainConfig
from cnn_core.training.engines import Engine, make_engine
from cnn_core.training.recorder import choose_probe
from cnn_core.training.snapshot import ENDED, RunSnapshot

_LOCAL = ThreadBackend()     # where ``start()`` runs a run that no registry handed to a backend


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
    """One training run: a config, the data, the backend executing it, and what it has learned so far."""

    def __init__(self, config: TrainConfig, train, val, test=None, name: str = "", dataset_info: dict | None = None,
                 engine_factory: Callable[[TrainConfig], Engine] = make_engine, probe=None, probe_source: str = "",
                 record_timeline: bool = True):
        """``engine_factory``: builds the engine from the config (a test passes a fake; for a worker
        process it must be importable by name). ``probe``: the image (H, W) or (C, H, W) whose feature
        maps the learning timeline shows (``recorder.choose_probe``; default: the first validation image)."""
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
        self.probe = choose_probe(config.spec["input_shape"], probe, probe_source, val) if record_timeline else None
        self.steps_per_epoch = config.steps_per_epoch(len(train))
        self.total_steps = self.steps_per_epoch * int(config.epochs)
        self._lock = threading.Lock()
        self._backend: Backend | None = None     # set when started
        self._registry = None                    # the RunRegistry that queued it, if any
        self._record = RunRecord(self.job(data=False))   # its state until a backend has it (queued, or stopped before)
        self._final: RunSnapshot | None = None   # an ended run never changes
        self._bundle = None

    def job(self, data: bool = True) -> Job:
        """What a backend needs to execute this run (``data=False``: without the images)."""
        train, val, test = (self.train_ds, self.val_ds, self.test_ds) if data else (None, None, None)
        return Job(self.id, self.name, self.config, train, val, test, self.dataset_info.get("name", ""),
                   self.total_steps, self.engine_factory, self.probe, tuple(self.class_names), dict(self.dataset_info))

    # --- control -------------------------------------------------------------------------------

    def start(self, backend: Backend | None = None, on_end: Callable[[str], None] | None = None) -> "TrainingRun":
        """Start executing now (ignoring any registry cap; use RunRegistry.submit to queue), on
        ``backend`` (default: a thread of this process)."""
        with self._lock:
            if self._backend is not None or self._record.state in ENDED:
                return self
            self._backend = backend or _LOCAL
        if self._backend is _LOCAL:      # no registry prunes these: forget the record with the handle
            weakref.finalize(self, _LOCAL.forget, self.id)
        self._backend.start(self.job(), on_end or self._ended)
        self.train_ds = None     # the backend has it; val / test stay here for the Evaluate page
        return self

    def _ended(self, run_id: str) -> None:
        if self._registry is not None:
            self._registry._run_ended(self)

    def pause(self) -> None:
        if self._backend is not None:
            self._backend.pause(self.id)

    def resume(self) -> None:
        if self._backend is not None:
            self._backend.resume(self.id)

    def stop(self, wait: float | None = None) -> None:
        """Ask the run to stop; a queued run is removed from the queue. ``wait``: join up to seconds."""
        with self._lock:
            backend = self._backend
            if backend is None and self._record.state not in ENDED:
                self._record.end(Ended("stopped", "user", "Stopped before it started."))
        if backend is None:
            if self._registry is not None:
                self._registry._dequeue(self)
            return
        backend.stop(self.id)
        if wait is not None:
            self.join(wait)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the run to end; True once it has."""
        backend = self._backend
        if backend is None:
            return self._record.state in ENDED
        return backend.wait(self.id, timeout)

    @property
    def state(self) -> str:
        return self.snapshot().state

    @property
    def alive(self) -> bool:
        return self._backend is not None and not self.join(0)

    @property
    def traceback(self) -> str:
        return self.snapshot().traceback

    # --- reading -------------------------------------------------------------------------------

    def snapshot(self) -> RunSnapshot:
        if self._final is not None:
            return self._final
        backend = self._backend
        snap = backend.snapshot(self.id) if backend is not None else None
        if snap is None:
            position = self._registry.queue_position(self.id) if self._registry is not None else 0
            snap = self._record.snapshot(position)
        if snap.state in ENDED:
            self._final = snap
        return snap

    def bundle(self):
        """The trained model as a checkpoints.ModelBundle, or None while it has no usable weights."""
        with self._lock:
            if self._bundle is not None:
                return self._bundle
        snap = self.snapshot()
        weights = self._backend.result(self.id) if self._backend is not None and snap.ended else None
        if weights is None:
            return None
        model = model_from_weights(self.config.spec, weights)
        bundle = make_bundle(self.config, model, name=self.name, run_id=self.id, state=snap.state,
                             epochs_log=snap.epochs_log, test_acc=snap.test_acc, class_names=self.class_names,
                             dataset_info=self.dataset_info, n_val=len(self.val_ds) if self.val_ds is not None else 0,
                             n_test=len(self.test_ds) if self.test_ds is not None else 0)
        with self._lock:
            self._bundle = self._bundle or bundle   # every caller gets the same (read-only) bundle
            return self._bundle
