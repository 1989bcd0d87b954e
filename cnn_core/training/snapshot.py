"""What a page reads about a run: the immutable ``RunSnapshot``, the run states, and ``smooth``
for its loss curve."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

STATES = ("queued", "running", "paused", "finished", "stopped", "failed")
ENDED = ("finished", "stopped", "failed")


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
    traceback: str = ""               # the Python traceback of a failed run, for the curious
    extra: dict = field(default_factory=dict)   # further payload (loop ``Extra`` events), by key

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    @property
    def progress(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0

    @property
    def val_acc(self) -> float | None:
        return self.epochs_log[-1]["val_acc"] if self.epochs_log else None


def smooth(values, weight: float = 0.9) -> np.ndarray:
    """Exponential moving average with bias correction (TensorBoard-style smoothing) for loss curves:
    s_t = w·s_(t−1) + (1 − w)·x_t, s_0 = 0, shown as s_t / (1 − w^t)."""
    from scipy.signal import lfilter

    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return v
    ema = lfilter([1 - weight], [1, -weight], v)
    return ema / (1 - weight ** np.arange(1, v.size + 1))
