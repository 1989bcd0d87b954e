"""A hyper-parameter grid trained run after run in the background, as documents 000 and 002 did.

Document 000 tried kernels {8, 16, 24} and learning rates {0.001, 0.005, 0.01} on its from-scratch
network (best: 24 kernels, lr 0.01, 0.887 validation accuracy); document 002 tried dropout
{0, 0.2, 0.3} on its Fashion-MNIST network. A ``Sweep`` trains one ``TrainingRun`` per grid cell,
one after another through the run registry (so it respects the concurrency cap), and publishes a
snapshot with every cell's validation accuracy.
"""
from __future__ import annotations

import copy
import itertools
import math
import threading
import time
import uuid
from dataclasses import dataclass, replace

from cnn_core import limits
from cnn_core.models.specs import SpecError, preset, validate
from cnn_core.training.config import ConfigError, TrainConfig
from cnn_core.training.registry import RunRegistry, registry
from cnn_core.training.run import TrainingRun
from cnn_core.training.snapshot import ENDED

AXES = {
    "kernels": "kernels in the first conv layer",
    "lr": "learning rate",
    "dropout": "dropout probability (every dropout layer)",
    "batch_size": "batch size",
    "dense_width": "width of the first hidden dense layer",
}
# Inclusive bounds of every axis but the learning rate (TrainConfig.validate checks that one): the
# Train page's builder limits, so that a typo such as 1e30 kernels is refused before any memory is asked for.
AXIS_RANGES = {"kernels": (1, 512), "dropout": (0.0, 0.95), "batch_size": (1, 4096), "dense_width": (1, 4096)}

PRESETS = {
    "doc-000": {"label": "Document 000: kernels × learning rate", "preset": "seed-000", "optimizer": "sgd",
                "batch_size": 100, "lr": 0.01,
                "axes": {"kernels": [8, 16, 24], "lr": [0.001, 0.005, 0.01]}},
    "doc-002": {"label": "Document 002: dropout", "preset": "seed-002", "optimizer": "adam", "batch_size": 64,
                "lr": 0.001, "axes": {"dropout": [0.0, 0.2, 0.3]}},
}


def apply_params(cfg: TrainConfig, params: dict) -> TrainConfig:
    """The config of one grid cell: ``cfg`` with ``params`` (keys of AXES) applied."""
    spec = copy.deepcopy(cfg.spec)
    changes = {}
    for key, value in params.items():
        if key in AXIS_RANGES:
            lo, hi = AXIS_RANGES[key]
            if not (isinstance(value, (int, float)) and lo <= value <= hi):
                raise ConfigError(f"{AXES[key].capitalize()} must be between {lo:g} and {hi:g}; got {value:g}."
                                  if isinstance(value, (int, float)) else f"{AXES[key].capitalize()} must be a number.")
        if key == "kernels":
            conv = next((l for l in spec["layers"] if l["type"] == "conv2d"), None)
            if conv is None:
                raise ConfigError("This architecture has no conv layer to change the kernel count of.")
            conv["out_channels"] = int(value)
        elif key == "dropout":
            drops = [l for l in spec["layers"] if l["type"] == "dropout"]
            if not drops:
                raise ConfigError("This architecture has no dropout layer; choose seed-002 or add dropout in the builder.")
            for layer in drops:
                layer["p"] = float(value)
        elif key == "dense_width":
            dense = [l for l in spec["layers"] if l["type"] == "dense"][:-1]
            if not dense:
                raise ConfigError("This architecture has no hidden dense layer to resize.")
            dense[0]["out_features"] = int(value)
        elif key == "lr":
            changes["lr"] = float(value)
        elif key == "batch_size":
            changes["batch_size"] = int(value)
        else:
            raise ConfigError(f"Unknown sweep axis {key!r}; choose from {', '.join(AXES)}.")
    try:
        validate(spec)
    except SpecError as exc:
        raise ConfigError(f"Grid cell {params}: {exc}") from exc
    return replace(cfg, spec=spec, **changes)


def preset_config(name: str, epochs: int = 3, engine: str = "torch", input_shape=None, num_classes=None) -> tuple[TrainConfig, dict]:
    """(base config, axes) of a sweep preset."""
    p = PRESETS[name]
    spec = preset(p["preset"], input_shape=input_shape, num_classes=num_classes)
    cfg = TrainConfig(spec=spec, engine=engine, optimizer=p["optimizer"], lr=p["lr"], batch_size=p["batch_size"],
                      epochs=epochs)
    return cfg, copy.deepcopy(p["axes"])


@dataclass(frozen=True)
class SweepSnapshot:
    id: str
    state: str                    # "running", "finished", "stopped", "failed"
    axes: dict                    # {axis: [values]} (one or two axes)
    cells: tuple[dict, ...]       # {"params", "state", "run_id", "val_acc", "val_loss", "test_acc", "seconds", "message"}
    current: int | None           # index of the cell training now
    message: str

    @property
    def best(self) -> int | None:
        scored = [(c["val_acc"], -i) for i, c in enumerate(self.cells) if c["val_acc"] is not None]
        return -max(scored)[1] if scored else None

    @property
    def done(self) -> int:
        return sum(c["state"] in ENDED for c in self.cells)

    @property
    def finished(self) -> int:
        """Cells whose run trained to the end (a stopped or diverged run has ended but not finished)."""
        return sum(c["state"] == "finished" for c in self.cells)


class Sweep:
    """Train every cell of a grid, one run at a time, in a background thread."""

    def __init__(self, base: TrainConfig, axes: dict, train, val, test=None, name: str = "sweep",
                 dataset_info: dict | None = None, runs: RunRegistry | None = None):
        if not axes or len(axes) > 2:
            raise ConfigError("A sweep needs one or two axes.")
        for key, values in axes.items():
            if key not in AXES:
                raise ConfigError(f"Unknown sweep axis {key!r}; choose from {', '.join(AXES)}.")
            if not values:
                raise ConfigError(f"Give at least one value for {AXES[key]}.")
        n_cells = math.prod(len(v) for v in axes.values())
        limits.check(n_cells, limits.MAX_SWEEP_CELLS, "This grid has", error=ConfigError,
                     fmt=lambda n: f"{int(n):,} runs")
        self.id = uuid.uuid4().hex[:10]
        self.name = name
        self.base = base
        self.axes = {k: list(v) for k, v in axes.items()}
        self.cells_params = [dict(zip(self.axes, combo)) for combo in itertools.product(*self.axes.values())]
        self.configs = [apply_params(base, p).validate(train.input_shape, train.num_classes) for p in self.cells_params]
        self.train_ds, self.val_ds, self.test_ds = train, val, test
        self.dataset_info = dataset_info or {}
        self.registry = runs or registry()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._state = "running"
        self._message = ""
        self._current: int | None = None
        self._runs: list[TrainingRun | None] = [None] * len(self.configs)
        self._thread: threading.Thread | None = None

    def start(self):
        """Start training the grid; returns what to follow it by (this sweep, or its handle on a Ray cluster)."""
        backend = getattr(self.registry, "backend", None)
        if getattr(backend, "runs_sweeps", False):      # a Ray backend: the sweep is an actor on the cluster
            handle = backend.start_sweep(self)
            self.registry.add_sweep(handle)
            return handle
        self.registry.add_sweep(self)
        self._thread = threading.Thread(target=self._main, name=f"cnn-sweep-{self.id}", daemon=True)
        self._thread.start()
        return self

    def stop(self, wait: float | None = None) -> None:
        self._stop.set()
        with self._lock:
            current = self._runs[self._current] if self._current is not None else None
        if current is not None:
            current.stop()
        if wait is not None and self._thread is not None:
            self._thread.join(wait)

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self, i: int) -> TrainingRun | None:
        return self._runs[i]

    def _main(self) -> None:
        try:
            for i, cfg in enumerate(self.configs):
                if self._stop.is_set():
                    break
                label = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.cells_params[i].items())
                run = TrainingRun(cfg, self.train_ds, self.val_ds, self.test_ds, name=f"{self.name} [{label}]",
                                  dataset_info=self.dataset_info)
                while self.registry.queue_full() and not self._stop.is_set():
                    time.sleep(0.5)      # a sweep waits for room in the server's queue rather than failing
                if self._stop.is_set():
                    break
                with self._lock:
                    self._runs[i], self._current = run, i
                self.registry.submit(run)
                if self._stop.is_set():      # stop() may have missed the run while it was being created
                    run.stop()
                while not run.join(0.1):
                    if self._stop.is_set():
                        run.stop()
            end = ("stopped", "Stopped by you.") if self._stop.is_set() else ("finished", "")
        except limits.LimitError as exc:
            end = ("failed", str(exc))
        except Exception as exc:  # noqa: BLE001 - shown on the page, never a silent dead thread
            end = ("failed", f"The sweep failed: {type(exc).__name__}: {exc}")
        with self._lock:
            self._state, self._message = end
            self._current = None

    def snapshot(self) -> SweepSnapshot:
        with self._lock:
            runs, state, message, current = list(self._runs), self._state, self._message, self._current
        cells = []
        for params, run in zip(self.cells_params, runs):
            cell = {"params": dict(params), "state": "waiting", "run_id": None, "val_acc": None, "val_loss": None,
                    "test_acc": None, "seconds": None, "message": "", "epoch": 0}
            if run is not None:
                snap = run.snapshot()
                last = snap.epochs_log[-1] if snap.epochs_log else {}
                cell.update(state=snap.state, run_id=snap.id, val_acc=last.get("val_acc"), val_loss=last.get("val_loss"),
                            test_acc=snap.test_acc, seconds=snap.elapsed_s, message=snap.message, epoch=snap.epoch)
                if snap.stop_reason == "diverged":
                    cell["val_acc"] = None
            elif state in ENDED:
                cell["state"] = "skipped"
            cells.append(cell)
        return SweepSnapshot(self.id, state, dict(self.axes), tuple(cells), current, message)


def wait(sweep: Sweep, poll: float = 0.2, timeout: float | None = None) -> SweepSnapshot:
    """Block until the sweep ends (for scripts and tests)."""
    t0 = time.monotonic()
    while not sweep.join(poll):
        if timeout is not None and time.monotonic() - t0 > timeout:
            break
    return sweep.snapshot()
