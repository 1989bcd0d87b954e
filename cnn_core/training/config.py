"""What a run computes: ``TrainConfig`` (validated before anything is built), the Train page's
defaults, and ``ConfigError`` for a configuration that cannot run."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from cnn_core.data.augment import Augmentation
from cnn_core.models.specs import SpecError, check_batch, validate
from cnn_core.lessons.formatting import count_of

ENGINES = ("torch", "numpy")
OPTIMIZERS = ("sgd", "momentum", "adam")
SAFE_LR = {"sgd": 0.01, "momentum": 0.01, "adam": 0.001}

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

    def steps_per_epoch(self, n_train: int) -> int:
        steps = math.ceil(n_train / int(self.batch_size))
        return min(steps, int(self.max_steps_per_epoch)) if self.max_steps_per_epoch else steps

    def to_dict(self) -> dict:
        return {"spec": self.spec, "engine": self.engine, "optimizer": self.optimizer, "lr": self.lr,
                "momentum": self.momentum, "batch_size": int(self.batch_size), "epochs": int(self.epochs),
                "seed": int(self.seed), "augment": self.augment.to_dict(), "early_stopping": int(self.early_stopping),
                "max_steps_per_epoch": self.max_steps_per_epoch}

    def describe(self) -> str:
        opt = {"sgd": "SGD", "momentum": f"SGD + momentum {self.momentum:g}", "adam": "Adam"}[self.optimizer]
        return (f"{self.spec.get('name', 'custom')}, {self.engine} engine, {opt}, lr {self.lr:g}, "
                f"batch {self.batch_size}, {count_of(self.epochs, 'epoch')}")

    def advice(self) -> str:
        """What to change when this config diverges."""
        name = {"adam": "Adam", "momentum": "SGD with momentum"}.get(self.optimizer, "SGD")
        return (f"A learning rate of {self.lr:g} is too high for {name}: each update overshoots, so the weights grow "
                f"instead of settling. {self._safer()}")

    def _safer(self) -> str:
        # "10–100× smaller" was wrong advice for lr 1e6: name the rate that works and how far away it is.
        safe = SAFE_LR[self.optimizer]
        factor = self.lr / safe
        if factor <= 100:
            return f"Try a rate 10–100× smaller ({safe:g} is a safe start)."
        return f"Start from {safe:g}, a rate {factor:,.0f}× smaller, and raise it from there if training is slow."


def default_config(input_shape=(1, 28, 28), num_classes: int = 10) -> TrainConfig:
    """The network and knobs the Train page starts with."""
    from cnn_core.models.specs import build_spec

    spec = build_spec(**DEFAULT_BUILDER, input_shape=input_shape, num_classes=num_classes, name="custom")
    return TrainConfig(spec=spec, **DEFAULT_TRAINING)
