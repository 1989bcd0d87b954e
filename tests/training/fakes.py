"""Engines for tests, importable by name so that a worker process can build them too."""
from __future__ import annotations

import json
import os
import resource

import numpy as np
import torch

from cnn_core.models import specs
from cnn_core.training import ConfigError, TorchEngine

TINY = specs.build_spec(blocks=1, kernels=4, dense_width=0, name="tiny")   # conv4 → relu → pool → dense: 7,890 params


class FlakyEngine(TorchEngine):
    """The real engine, except that step ``fail_at`` raises or returns ``loss_at_fail``."""
    fail_at, loss_at_fail = 3, None

    def __init__(self, cfg):
        super().__init__(cfg)
        self.calls = 0

    def train_step(self, x, y):
        self.calls += 1
        loss, correct = super().train_step(x, y)
        if self.calls == self.fail_at:
            if self.loss_at_fail is None:
                raise RuntimeError("out of cheese")
            return self.loss_at_fail, correct
        return loss, correct


class NanEngine(FlakyEngine):
    loss_at_fail = float("nan")


class ScriptedEngine:
    """A fake engine (the ``Engine`` protocol, nothing real): its one weight counts the steps
    taken, the validation loss after epoch e is ``val_losses[e - 1]``, and it classifies every
    image correctly only with the weights it had after epoch ``good_epoch``."""
    steps_per_epoch, val_losses, good_epoch = 6, (1.0, 0.8, 0.9, 0.95, 1.2, 1.3), 2

    def __init__(self, cfg=None):
        self.w = 0

    def train_step(self, x, y):
        self.w += 1
        return 1.0, 0

    def eval_batch(self, x, y):
        epoch = self.w // self.steps_per_epoch
        correct = len(y) if epoch == self.good_epoch else 0
        return self.val_losses[epoch - 1] * len(y), correct

    def state(self):
        return {"w": self.w}

    def load_state(self, state):
        self.w = state["w"]

    def to_torch(self):
        model = specs.build_torch(TINY)
        with torch.no_grad():
            for p in model.parameters():
                p.fill_(self.w)
        return model.eval()


class HogEngine(TorchEngine):
    """Asks for 4 GB on its second step: a runaway run."""

    def __init__(self, cfg):
        super().__init__(cfg)
        self.calls = 0

    def train_step(self, x, y):
        self.calls += 1
        if self.calls == 2:
            self.hog = np.ones(2 ** 29)       # 4 GiB of float64
        return super().train_step(x, y)


def report_settings(cfg):
    """An engine factory that refuses to build and says how its process was set up (as a ConfigError)."""
    raise ConfigError(json.dumps({"nice": os.nice(0), "torch_threads": torch.get_num_threads(),
                                  "rlimit_data": resource.getrlimit(resource.RLIMIT_DATA)[0], "pid": os.getpid()}))
