"""A training run in a background thread, and the process-wide registry of runs.

The thread never touches the UI: after every step it publishes what it learned under a lock, and
anyone (a Streamlit fragment, a CLI, a test) reads an immutable ``RunSnapshot`` with
``run.snapshot()``. Pause, resume and stop are flags the loop checks before every batch, so a
stop ends the thread within one batch (well under a second for the app's networks).

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
import functools
import math
import os
import threading
import time
import traceback
import uuid
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from cnn_core.data.augment import Augmentation, augment_batch
from cnn_core.models.specs import SpecError, check_batch, validate

STATES = ("queued", "running", "paused", "finished", "stopped", "failed")
ENDED = ("finished", "stopped", "failed")
ENGINES = ("torch", "numpy")
OPTIMIZERS = ("sgd", "momentum", "adam")
SAFE_LR = {"sgd": 0.01, "momentum": 0.01, "adam": 0.001}
EXPLODE_FACTOR = 10.0      # mean loss of the last EXPLODE_WINDOW steps above factor × reference: diverged
EXPLODE_WINDOW = 5
BLOWUP_FACTOR = 100.0      # one step above factor × reference: diverged at once (short runs have no window)
EVAL_CHUNK = 500

# torch initialises weights from its process-wide generator: seed and build under one lock so
# that concurrent runs cannot take each other's random numbers.
_INIT_LOCK = threading.Lock()


# The Train page's defaults (also what the benchmark times to 97 % validation accuracy).
DEFAULT_BUILDER = {"blocks": 2, "kernels": [16, 32], "kernel_size": 3, "stride": 1, "padding": "same",
                   "pooling": "max", "activation": "relu", "batchnorm": False, "dropout_p": 0.0, "dense_width": 64}
DEFAULT_TRAINING = {"optimizer": "adam", "lr": 0.002, "batch_size": 32, "epochs": 8, "seed": 0}


class ConfigError(ValueError):
    """A training configuration that cannot run; the message is meant for the user."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what a run computes (with the data)."""
    spec: dict
    engine: str = "torch"
    optimizer: str = "adam"          # "sgd" (plain, document 000), "momentum" (SGD + momentum), "adam"
    lr: float = 0.001
    momentum: float = 0.9
    batch_size: int = 64
    epochs: int = 5
    seed: int = 0
    augment: Augmentation = field(default_factory=Augmentation)
    early_stopping: int = 0          # patience in epochs without a better validation loss; 0: off
    max_steps_per_epoch: int | None = None   # for smoke tests and demos

    def validate(self, input_shape=None, num_classes=None) -> "TrainConfig":
        if self.engine not in ENGINES:
            raise ConfigError(f"Engine must be one of {ENGINES}, got {self.engine!r}.")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"Optimiser must be one of {OPTIMIZERS}, got {self.optimizer!r}.")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"The learning rate must be a positive number, got {self.lr!r}.")
        if int(self.batch_size) < 1:
            raise ConfigError(f"The batch size must be at least 1, got {self.batch_size}.")
        if int(self.epochs) < 1:
            raise ConfigError(f"Train for at least 1 epoch, got {self.epochs}.")
        if not 0 <= self.momentum < 1:
            raise ConfigError(f"Momentum must be in [0, 1), got {self.momentum}.")
        try:
            validate(self.spec)
            check_batch(self.spec, int(self.batch_size))
        except SpecError as exc:
            raise ConfigError(str(exc)) from exc
        if input_shape is not None and tuple(self.spec["input_shape"]) != tuple(input_shape):
            raise ConfigError(f"The network expects {tuple(self.spec['input_shape'])} images but the data set "
                              f"has {tuple(input_shape)} (channels, height, width).")
        if num_classes is not None and int(self.spec["num_classes"]) != int(num_classes):
            raise ConfigError(f"The network has {self.spec['num_classes']} outputs but the data set has "
                              f"{num_classes} classes.")
        return self

    def to_dict(self) -> dict:
        return {"spec": self.spec, "engine": self.engine, "optimizer": self.optimizer, "lr": self.lr,
                "momentum": self.momentum, "batch_size": int(self.batch_size), "epochs": int(self.epochs),
                "seed": int(self.seed), "augment": self.augment.to_dict(), "early_stopping": int(self.early_stopping),
                "max_steps_per_epoch": self.max_steps_per_epoch}

    def describe(self) -> str:
        opt = {"sgd": "SGD", "momentum": f"SGD + momentum {self.momentum:g}", "adam": "Adam"}[self.optimizer]
        return (f"{self.spec.get('name', 'custom')}, {self.engine} engine, {opt}, lr {self.lr:g}, "
                f"batch {self.batch_size}, {self.epochs} epoch(s)")


def default_config(input_shape=(1, 28, 28), num_classes: int = 10) -> "TrainConfig":
    """The network and knobs the Train page starts with."""
    from cnn_core.models.specs import build_spec

    spec = build_spec(**DEFAULT_BUILDER, input_shape=input_shape, num_classes=num_classes, name="custom")
    return TrainConfig(spec=spec, **DEFAULT_TRAINING)


@dataclass(frozen=True)
class RunSnapshot:
    """What a run has done so far; immutable, safe to hand to another thread."""
    id: str
    name: str
    state: str
    message: str                      # why it stopped / failed, or a short status
    stop_reason: str                  # "", "user", "diverged", "early_stopping", "error"
    queue_position: int               # 1-based while queued, else 0
    epoch: int                        # completed epochs
    epochs: int
    step: int                         # completed optimisation steps
    total_steps: int
    step_loss: tuple[float, ...]      # loss of every step (finite values only)
    epochs_log: tuple[dict, ...]      # {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"}
    images_per_s: float
    elapsed_s: float                  # time spent training (queued and paused time excluded)
    eta_s: float | None
    test_acc: float | None
    best_epoch: int | None
    config: dict
    dataset: str

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    @property
    def progress(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0

    @property
    def val_acc(self) -> float | None:
        return self.epochs_log[-1]["val_acc"] if self.epochs_log else None


class _Stop(Exception):
    """Raised inside the loop when the user stops the run."""


class _Diverged(Exception):
    pass


@dataclass(frozen=True)
class _Where:
    """'at step s (epoch e)', formatted only when a message is built (this runs every step)."""
    step: int
    epoch: int

    def __str__(self) -> str:
        return f"at step {self.step} (epoch {self.epoch})"


# ---------------------------------------------------------------------------------------------
# engines: the same four operations on a torch model or a NumPy model


@functools.lru_cache(maxsize=1)
def _seeded_dropout_class():
    import torch

    class SeededDropout(torch.nn.Module):
        """nn.Dropout's twin drawing its masks from the run's own generator (reproducible when
        runs train side by side); swapped back to nn.Dropout when the model is exported."""

        def __init__(self, p: float, generator):
            super().__init__()
            self.p, self.generator = p, generator

        def forward(self, x):
            if not self.training or self.p == 0:
                return x
            keep = 1.0 - self.p
            return x * torch.empty_like(x).bernoulli_(keep, generator=self.generator) / keep

    return SeededDropout


class TorchEngine:
    def __init__(self, cfg: TrainConfig):
        import torch

        self.spec = cfg.spec
        with _INIT_LOCK:
            torch.manual_seed(cfg.seed)
            from cnn_core.models.specs import build_torch
            self.model = build_torch(cfg.spec)
        gen = torch.Generator().manual_seed(cfg.seed + 1)
        for i, layer in enumerate(cfg.spec["layers"]):
            if layer["type"] == "dropout":
                self.model[i] = _seeded_dropout_class()(float(layer.get("p", 0.5)), gen)
        params = self.model.parameters()
        if cfg.optimizer == "adam":
            self.opt = torch.optim.Adam(params, lr=cfg.lr)
        else:
            self.opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum if cfg.optimizer == "momentum" else 0.0)
        self.loss_fn = torch.nn.CrossEntropyLoss()

    def train_step(self, x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
        import torch

        if not self.model.training:          # set once per epoch, not every step
            self.model.train()
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        logits = self.model(xt)
        loss = self.loss_fn(logits, yt)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return float(loss.detach()), int((logits.detach().argmax(1) == yt).sum())

    def eval_batch(self, x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
        import torch

        self.model.eval()
        with torch.no_grad():
            logits = self.model(torch.from_numpy(x))
            yt = torch.from_numpy(y)
            loss = torch.nn.functional.cross_entropy(logits, yt, reduction="sum")
        return float(loss), int((logits.argmax(1) == yt).sum())

    def state(self) -> dict:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def load_state(self, state: dict) -> None:
        self.model.load_state_dict(state)

    def to_torch(self):
        from cnn_core.models.specs import build_torch

        model = build_torch(self.spec)        # plain nn.Dropout again, same state_dict keys
        model.load_state_dict(self.state())
        return model.eval()


class NumpyEngine:
    """The from-scratch engine (cnn_core.numpy_nn). It starts from the same seeded weights as the
    torch engine would, so the two engines' curves can be compared run for run."""

    def __init__(self, cfg: TrainConfig):
        from cnn_core import numpy_nn

        self.nn = numpy_nn
        self.spec = cfg.spec
        init = TorchEngine(replace(cfg, engine="torch", optimizer="sgd")).to_torch()
        self.model = numpy_nn.from_torch(init, cfg.spec).train()
        for i, layer in enumerate(self.model.layers):
            if isinstance(layer, numpy_nn.Dropout):
                layer.rng = np.random.default_rng([cfg.seed, i])
        if cfg.optimizer == "adam":
            self.opt = numpy_nn.Adam(self.model, lr=cfg.lr)
        else:
            self.opt = numpy_nn.SGD(self.model, lr=cfg.lr, momentum=cfg.momentum if cfg.optimizer == "momentum" else 0.0)

    def train_step(self, x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
        # Sequential.train_step's three calls, spelled out to keep the logits for the accuracy.
        self.model.train()
        logits = self.model.forward(x)
        loss, dlogits = self.nn.softmax_cross_entropy(logits, y)
        self.model.backward(dlogits)
        self.opt.step()
        return float(loss), int((logits.argmax(1) == y).sum())

    def eval_batch(self, x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
        self.model.eval()
        logits = np.asarray(self.model.forward(x), dtype=np.float64)
        logp = self.nn.log_softmax(logits)
        return float(-logp[np.arange(len(y)), y].sum()), int((logits.argmax(1) == y).sum())

    def state(self) -> dict:
        return self.model.state_dict()

    def load_state(self, state: dict) -> None:
        self.model.load_state_dict(state)

    def to_torch(self):
        return self.nn.to_torch(self.model, self.spec).float().eval()


def make_engine(cfg: TrainConfig):
    return TorchEngine(cfg) if cfg.engine == "torch" else NumpyEngine(cfg)


# ---------------------------------------------------------------------------------------------


class TrainingRun:
    """One training run: a config, the data, a thread, and what it has learned so far."""

    def __init__(self, config: TrainConfig, train, val, test=None, name: str = "", dataset_info: dict | None = None):
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
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._unpaused = threading.Event()
        self._unpaused.set()
        self._thread: threading.Thread | None = None
        self._registry: RunRegistry | None = None
        self._state = "queued"
        self._message = ""
        self._stop_reason = ""
        self._step_loss: list[float] = []
        self._epochs: list[dict] = []
        self._step = 0
        self._images = 0
        self._elapsed = 0.0
        self._resumed_at: float | None = None
        self._test_acc: float | None = None
        self._setup_s = 0.0            # building the model (and importing the engine) before step 1
        self._best_epoch: int | None = None
        self._model = None            # torch module once ended with usable weights
        self._bundle = None
        self.traceback = ""
        steps = math.ceil(len(train) / int(config.batch_size))
        if config.max_steps_per_epoch:
            steps = min(steps, int(config.max_steps_per_epoch))
        self.steps_per_epoch = steps
        self.total_steps = steps * int(config.epochs)

    # --- control -------------------------------------------------------------------------------

    def start(self) -> "TrainingRun":
        """Start the thread now (ignoring any registry cap); use RunRegistry.submit to queue."""
        with self._lock:
            if self._thread is not None or self._state in ENDED:
                return self
            self._state = "running"
            self._resumed_at = time.perf_counter()
            self._thread = threading.Thread(target=self._main, name=f"cnn-run-{self.id}", daemon=True)
        self._thread.start()
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
                self._state, self._stop_reason, self._message = "stopped", "user", "Stopped before it started."
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
            elapsed = self._elapsed + (time.perf_counter() - self._resumed_at
                                       if self._resumed_at is not None and self._state == "running" else 0.0)
            step, state = self._step, self._state
            if state == "running" and not self._unpaused.is_set():
                state = "paused"
            eta = None
            if state in ("running", "paused") and step > 0:
                eta = (elapsed - self._setup_s) / step * max(0, self.total_steps - step)
            snap = RunSnapshot(
                id=self.id, name=self.name, state=state, message=self._message, stop_reason=self._stop_reason,
                queue_position=0, epoch=len(self._epochs), epochs=int(self.config.epochs), step=step,
                total_steps=self.total_steps, step_loss=tuple(self._step_loss),
                epochs_log=tuple(dict(e) for e in self._epochs),
                images_per_s=self._images / (elapsed - self._setup_s) if elapsed > self._setup_s else 0.0, elapsed_s=elapsed, eta_s=eta,
                test_acc=self._test_acc, best_epoch=self._best_epoch, config=self.config.to_dict(),
                dataset=self.dataset_info.get("name", ""))
        if state == "queued" and self._registry is not None:
            snap = replace(snap, queue_position=self._registry.queue_position(self.id))
        return snap

    def bundle(self):
        """The trained model as a checkpoints.ModelBundle, or None while it has no usable weights."""
        from cnn_core.models.checkpoints import ModelBundle

        with self._lock:
            model, state = self._model, self._state
            epochs = [dict(e) for e in self._epochs]
            test_acc = self._test_acc
            if self._bundle is not None:
                return self._bundle
        if model is None:
            return None
        cfg = self.config
        if test_acc is not None:
            acc, note = test_acc, f"test split ({len(self.test_ds):,} images)"
        else:
            acc = epochs[-1]["val_acc"] if epochs else None
            note = f"validation split ({len(self.val_ds) if self.val_ds is not None else 0:,} images)"
        meta = {"name": f"{self.name} ({cfg.engine}, {len(epochs)} epoch{'s' if len(epochs) != 1 else ''})",
                "dataset": self.dataset_info.get("name", ""), "class_names": self.class_names,
                "accuracy": acc, "accuracy_note": note,
                "created": _dt.date.today().isoformat(), "engine": cfg.engine, "run_id": self.id,
                "optimizer": cfg.optimizer, "lr": cfg.lr, "batch_size": int(cfg.batch_size),
                "epochs": len(epochs), "seed": int(cfg.seed), "state": state,
                "data": {k: v for k, v in self.dataset_info.items() if k != "name"}}
        bundle = ModelBundle(copy.deepcopy(cfg.spec), copy.deepcopy(model).eval(), meta)
        with self._lock:
            self._bundle = bundle      # an ended run never changes: every caller gets the same (read-only) bundle
        return bundle

    # --- the thread ----------------------------------------------------------------------------

    def _gate(self) -> None:
        """Called before every batch: honour pause and stop."""
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
            engine = make_engine(self.config)
            with self._lock:
                self._setup_s = time.perf_counter() - self._resumed_at
            self._train(engine)
            end = ("finished", self._stop_reason, self._message or "Finished.")
        except _Stop:
            end = ("stopped", "user", f"Stopped by you after {self._step} step(s).")
        except _Diverged as exc:
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
        if engine is not None and self._step > 0:
            try:
                model = engine.to_torch()
            except Exception as exc:  # noqa: BLE001
                self.traceback = traceback.format_exc()
                end = ("failed", "error", f"The trained weights could not be exported: {type(exc).__name__}: {exc}")
        with self._lock:
            self._state, self._stop_reason, self._message = end
            self._model = model
            self.train_ds = None   # free the largest array; val/test stay for the Evaluate page
        if self._registry is not None:
            self._registry._run_ended(self)

    def _train(self, engine) -> None:
        cfg = self.config
        rng = np.random.default_rng(cfg.seed)
        train = self.train_ds
        n, bs = len(train), int(cfg.batch_size)
        ref_loss = None
        recent: deque[float] = deque(maxlen=EXPLODE_WINDOW)
        best_val, best_state, since_best = math.inf, None, 0
        for epoch in range(1, int(cfg.epochs) + 1):
            t_epoch = time.perf_counter()
            order = rng.permutation(n)
            loss_sum, correct, seen, counted = 0.0, 0, 0, 0
            for b in range(self.steps_per_epoch):
                self._gate()
                idx = order[b * bs:(b + 1) * bs]
                x = train.images[idx].astype(np.float32) / 255.0
                y = train.labels[idx]
                if cfg.augment.active:
                    x = augment_batch(x, cfg.augment, rng)
                loss, n_correct = engine.train_step(x, y)
                ref_loss = self._check_divergence(loss, ref_loss, recent, epoch)
                loss_sum += loss * len(idx)
                seen += len(idx)
                if n_correct >= 0:
                    correct += n_correct
                    counted += len(idx)
                with self._lock:
                    self._step += 1
                    self._images += len(idx)
                    self._step_loss.append(loss)
            val_loss, val_acc = self._evaluate(engine, self.val_ds)
            if val_loss is None and self.val_ds is not None and len(self.val_ds):
                raise _Diverged(f"Training diverged in epoch {epoch}: the validation loss became NaN or infinite, "
                                "so the weights hold overflowed values. " + self._advice())
            row = {"epoch": epoch, "train_loss": loss_sum / seen,
                   "train_acc": correct / counted if counted else None,
                   "val_loss": val_loss, "val_acc": val_acc, "seconds": time.perf_counter() - t_epoch}
            with self._lock:
                self._epochs.append(row)
            if cfg.early_stopping and val_loss is not None:
                if val_loss < best_val - 1e-6:
                    best_val, best_state, since_best = val_loss, engine.state(), 0
                    with self._lock:
                        self._best_epoch = epoch
                else:
                    since_best += 1
                    if since_best >= cfg.early_stopping:
                        engine.load_state(best_state)
                        with self._lock:
                            self._message = (f"Stopped early after epoch {epoch}: the validation loss has not improved "
                                             f"for {since_best} epoch(s); kept the weights of epoch {self._best_epoch} "
                                             f"(validation loss {best_val:.4f}).")
                            self._stop_reason = "early_stopping"
                        break
        if self.test_ds is not None and len(self.test_ds):
            _, test_acc = self._evaluate(engine, self.test_ds)
            with self._lock:
                self._test_acc = test_acc

    def _evaluate(self, engine, ds) -> tuple[float | None, float | None]:
        if ds is None or len(ds) == 0:
            return None, None
        loss_sum, correct = 0.0, 0
        for i in range(0, len(ds), EVAL_CHUNK):
            if self._stop.is_set():
                raise _Stop
            x = ds.images[i:i + EVAL_CHUNK].astype(np.float32) / 255.0
            loss, c = engine.eval_batch(x, ds.labels[i:i + EVAL_CHUNK])
            loss_sum += loss
            correct += c
        loss = loss_sum / len(ds)
        return (loss if math.isfinite(loss) else None), correct / len(ds)

    def _advice(self) -> str:
        cfg = self.config
        name = "Adam" if cfg.optimizer == "adam" else ("SGD with momentum" if cfg.optimizer == "momentum" else "SGD")
        return (f"A learning rate of {cfg.lr:g} is too high for {name}: each update overshoots, so the weights grow "
                f"instead of settling. Try a rate 10–100× smaller ({SAFE_LR[cfg.optimizer]:g} is a safe start).")

    def _check_divergence(self, loss: float, ref: float | None, recent: deque, epoch: int) -> float:
        """Raise _Diverged (before the loss is recorded) on a NaN / infinite or exploding loss."""
        where = _Where(self._step + 1, epoch)
        if not math.isfinite(loss):
            raise _Diverged(f"Training diverged {where}: the loss became {'NaN' if math.isnan(loss) else 'infinite'}. "
                            + self._advice())
        if ref is None:   # the first step's loss, at least that of a uniform guess, ln K
            ref = max(loss, math.log(max(2, int(self.config.spec["num_classes"]))))
        recent.append(loss)
        if loss > BLOWUP_FACTOR * ref:
            raise _Diverged(f"Training diverged {where}: the loss jumped to {loss:.3g}, more than {BLOWUP_FACTOR:g}× "
                            f"its starting value {ref:.2f}. " + self._advice())
        if len(recent) == recent.maxlen and sum(recent) / len(recent) > EXPLODE_FACTOR * ref:
            raise _Diverged(f"Training diverged {where}: the loss rose to {loss:.3g}, more than {EXPLODE_FACTOR:g}× "
                            f"its starting value {ref:.2f} on average over {recent.maxlen} steps. " + self._advice())
        return ref


# ---------------------------------------------------------------------------------------------


class RunRegistry:
    """Every run (and sweep) of this server process, by id, with a cap on concurrent runs.

    Runs beyond the cap wait in a FIFO queue (their snapshot shows their position) and start as
    soon as a running one ends. Ended runs are kept (the most recent ``keep``) so that a page
    reload or a second tab can reattach by id.
    """

    def __init__(self, max_concurrent: int = 2, keep: int = 30):
        if int(max_concurrent) < 1:
            raise ValueError("max_concurrent must be ≥ 1")
        self.max_concurrent = int(max_concurrent)
        self.keep = int(keep)
        self._lock = threading.RLock()
        self._runs: dict[str, TrainingRun] = {}
        self._queue: list[str] = []
        self._active: set[str] = set()
        self._sweeps: dict[str, object] = {}

    def submit(self, run: TrainingRun) -> TrainingRun:
        """Start ``run`` now if a slot is free, else queue it."""
        with self._lock:
            run._registry = self
            self._runs[run.id] = run
            if len(self._active) < self.max_concurrent:
                self._active.add(run.id)
                run.start()
            else:
                self._queue.append(run.id)
            self._prune()
        return run

    def get(self, run_id: str | None) -> TrainingRun | None:
        with self._lock:
            return self._runs.get(run_id or "")

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

    def add_sweep(self, sweep) -> None:
        with self._lock:
            self._sweeps[sweep.id] = sweep

    def get_sweep(self, sweep_id: str | None):
        with self._lock:
            return self._sweeps.get(sweep_id or "")

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
            run.start()

    def _prune(self) -> None:
        ended = [rid for rid, r in self._runs.items() if r.state in ENDED]
        for rid in ended[:max(0, len(ended) - self.keep)]:
            del self._runs[rid]


def _default_cap() -> int:
    try:
        return max(1, int(os.environ.get("CNN_EXPLORER_MAX_RUNS", "2")))
    except ValueError:
        return 2


_REGISTRY = RunRegistry(_default_cap())


def registry() -> RunRegistry:
    """The process-wide registry (one per Streamlit server); cap from $CNN_EXPLORER_MAX_RUNS (default 2)."""
    return _REGISTRY


def smooth(values, weight: float = 0.9) -> np.ndarray:
    """Exponential moving average with bias correction (TensorBoard-style smoothing) for loss curves:
    s_t = w·s_(t−1) + (1 − w)·x_t, s_0 = 0, shown as s_t / (1 − w^t)."""
    from scipy.signal import lfilter

    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return v
    ema = lfilter([1 - weight], [1, -weight], v)
    return ema / (1 - weight ** np.arange(1, v.size + 1))
