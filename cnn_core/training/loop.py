"""The training loop: ``fit`` is a plain generator that trains an engine and yields what happened.

It reads like pytorch/examples' mnist ``train()``: shuffle, batch, step, record; then evaluate on
the validation split once per epoch. Two small pure objects carry the rules that decide when to
stop early: ``DivergenceCheck`` (a NaN, infinite or exploding loss raises ``Diverged`` before the
loss is ever reported) and ``EarlyStopping`` (patience on the validation loss; the best weights
are put back). Whoever iterates ``fit`` owns the clock, pause and stop: it simply stops asking
for the next event (``TrainingRun`` in a thread or a worker process, the command line).

Events, in order: ``Step`` after every optimisation step, ``Epoch`` after every epoch's
evaluation, and one ``Done`` at the end (test accuracy, and why it ended early if it did)::

    for event in fit(cfg, make_engine(cfg), parts.train, parts.val, parts.test):
        if isinstance(event, Epoch):
            print(event.row)
"""
from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from cnn_core.data.augment import augment_batch
from cnn_core.training.config import TrainConfig
from cnn_core.training.engines import Engine
from cnn_core.lessons.formatting import count_of

EXPLODE_FACTOR = 10.0      # mean loss of the last EXPLODE_WINDOW steps above factor × reference: diverged
EXPLODE_WINDOW = 5
BLOWUP_FACTOR = 100.0      # one step above factor × reference: diverged at once (short runs have no window)
EVAL_CHUNK = 500


class Diverged(Exception):
    """The loss became NaN, infinite or exploded; the message explains it for the user."""


@dataclass(frozen=True)
class Step:
    epoch: int
    step: int          # 1-based over the whole run
    loss: float        # always finite
    images: int


@dataclass(frozen=True)
class Epoch:
    row: dict          # {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"}
    best_epoch: int | None


@dataclass(frozen=True)
class Done:
    test_acc: float | None
    stop_reason: str = ""      # "" or "early_stopping"
    message: str = ""


@dataclass(frozen=True)
class Extra:
    """Anything else a loop wants shown: merged into the run snapshot's ``extra`` dict. The payload
    must pickle (from a worker process it travels to the server); keep it small, it is sent once."""
    payload: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Where:
    """'at step s (epoch e)', formatted only when a message is built (this runs every step)."""
    step: int
    epoch: int

    def __str__(self) -> str:
        return f"at step {self.step} (epoch {self.epoch})"


class DivergenceCheck:
    """Decides, step by step, whether training has blown up.

    The reference is the first step's loss, but at least that of a uniform guess, ln K."""

    def __init__(self, num_classes: int, advice: str = ""):
        self.floor = math.log(max(2, int(num_classes)))
        self.advice = advice
        self.ref: float | None = None
        self.recent: deque[float] = deque(maxlen=EXPLODE_WINDOW)

    def check(self, loss: float, step: int, epoch: int) -> None:
        where = _Where(step, epoch)
        if not math.isfinite(loss):
            raise Diverged(f"Training diverged {where}: the loss became {'NaN' if math.isnan(loss) else 'infinite'}. "
                           + self.advice)
        if self.ref is None:
            self.ref = max(loss, self.floor)
        ref = self.ref
        self.recent.append(loss)
        if loss > BLOWUP_FACTOR * ref:
            raise Diverged(f"Training diverged {where}: the loss jumped to {loss:.3g}, more than {BLOWUP_FACTOR:g}× "
                           f"its starting value {ref:.2f}. " + self.advice)
        if len(self.recent) == self.recent.maxlen and sum(self.recent) / len(self.recent) > EXPLODE_FACTOR * ref:
            raise Diverged(f"Training diverged {where}: the loss rose to {loss:.3g}, more than {EXPLODE_FACTOR:g}× "
                           f"its starting value {ref:.2f} on average over {self.recent.maxlen} steps. " + self.advice)

    def check_validation(self, val_loss: float | None, val_size: int, epoch: int) -> None:
        if val_loss is None and val_size:
            raise Diverged(f"Training diverged in epoch {epoch}: the validation loss became NaN or infinite, "
                           "so the weights hold overflowed values. " + self.advice)


class EarlyStopping:
    """Patience on the validation loss; remembers the weights of the best epoch.

    ``update`` returns True when ``patience`` epochs in a row brought no better validation loss;
    the caller then loads ``best_state``. Patience 0 turns it off."""

    def __init__(self, patience: int, min_delta: float = 1e-6):
        self.patience, self.min_delta = int(patience), min_delta
        self.best_loss = math.inf
        self.best_epoch: int | None = None
        self.best_state: dict | None = None
        self.since_best = 0

    def update(self, epoch: int, val_loss: float | None, weights: Callable[[], dict]) -> bool:
        if not self.patience or val_loss is None:
            return False
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.best_state, self.since_best = val_loss, epoch, weights(), 0
            return False
        self.since_best += 1
        return self.since_best >= self.patience

    def message(self, epoch: int) -> str:
        return (f"Stopped early after epoch {epoch}: the validation loss has not improved for "
                f"{count_of(self.since_best, 'epoch')}; kept the weights of epoch {self.best_epoch} (validation loss {self.best_loss:.4f}).")


def batch(ds, idx, cfg: TrainConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Images as floats in [0, 1] (augmented if the config says so) and their labels."""
    x = ds.images[idx].astype(np.float32) / 255.0
    if cfg.augment.active:
        x = augment_batch(x, cfg.augment, rng)
    return x, ds.labels[idx]


def evaluate(engine: Engine, ds) -> tuple[float | None, float | None]:
    """(mean loss or None if it is not finite, accuracy) on a whole split, in chunks."""
    if ds is None or len(ds) == 0:
        return None, None
    loss_sum, correct = 0.0, 0
    for i in range(0, len(ds), EVAL_CHUNK):
        x = ds.images[i:i + EVAL_CHUNK].astype(np.float32) / 255.0
        loss, c = engine.eval_batch(x, ds.labels[i:i + EVAL_CHUNK])
        loss_sum += loss
        correct += c
    loss = loss_sum / len(ds)
    return (loss if math.isfinite(loss) else None), correct / len(ds)


def fit(cfg: TrainConfig, engine: Engine, train, val=None, test=None) -> Iterator[Step | Epoch | Done | Extra]:
    """Train ``engine`` on ``train`` as ``cfg`` says, yielding a ``Step`` after every step, an
    ``Epoch`` after every epoch and a ``Done`` at the end. Raises ``Diverged``."""
    rng = np.random.default_rng(cfg.seed)       # shuffling and augmentation: seeded per run
    divergence = DivergenceCheck(cfg.spec["num_classes"], cfg.advice())
    stopper = EarlyStopping(cfg.early_stopping)
    bs, steps_per_epoch = int(cfg.batch_size), cfg.steps_per_epoch(len(train))
    step = 0
    for epoch in range(1, int(cfg.epochs) + 1):
        started = time.perf_counter()
        order = rng.permutation(len(train))
        loss_sum, correct, seen = 0.0, 0, 0
        for b in range(steps_per_epoch):
            x, y = batch(train, order[b * bs:(b + 1) * bs], cfg, rng)
            loss, n_correct = engine.train_step(x, y)
            step += 1
            divergence.check(loss, step, epoch)
            loss_sum, correct, seen = loss_sum + loss * len(y), correct + n_correct, seen + len(y)
            yield Step(epoch, step, loss, len(y))
        val_loss, val_acc = evaluate(engine, val)
        divergence.check_validation(val_loss, len(val) if val is not None else 0, epoch)
        stop = stopper.update(epoch, val_loss, engine.state)
        yield Epoch({"epoch": epoch, "train_loss": loss_sum / seen, "train_acc": correct / seen,
                     "val_loss": val_loss, "val_acc": val_acc, "seconds": time.perf_counter() - started},
                    stopper.best_epoch)
        if stop:
            engine.load_state(stopper.best_state)
            yield Done(evaluate(engine, test)[1], "early_stopping", stopper.message(epoch))
            return
    yield Done(evaluate(engine, test)[1])
