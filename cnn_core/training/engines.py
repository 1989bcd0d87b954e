"""The two engines behind one small protocol: the same four operations on a PyTorch model
(``TorchEngine``) or on the from-scratch NumPy model (``NumpyEngine``).

``fit`` only ever calls the ``Engine`` protocol, so a test can pass any object with these methods
(a fake that returns scripted losses) instead of monkeypatching an engine.
"""
from __future__ import annotations

import functools
import threading
from dataclasses import replace
from typing import Protocol

import numpy as np

from cnn_core.training.config import TrainConfig

# torch initialises weights from its process-wide generator: seed and build under one lock so
# that concurrent runs cannot take each other's random numbers.
_INIT_LOCK = threading.Lock()


class Engine(Protocol):
    def train_step(self, x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
        """One optimisation step on a batch: (mean loss, number correct)."""

    def eval_batch(self, x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
        """(summed loss, number correct) of a batch, without learning from it."""

    def state(self) -> dict:
        """A copy of the weights (for early stopping)."""

    def load_state(self, state: dict) -> None:
        """Put back weights taken with ``state()``."""

    def to_torch(self):
        """The trained model as a plain torch module in eval mode (for export)."""

    def layer_weights(self) -> list[tuple[int, np.ndarray, np.ndarray | None]]:
        """(spec layer index, weight W, ∂L/∂W of the last step or None) of every conv and dense
        layer in order: live views, valid until the next step (copy what you keep)."""

    def probe(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One image (C, H, W) through the model in eval mode, without learning from it or
        touching any random generator: (the first conv layer's output (K, H', W'), class
        probabilities (classes,)). The training mode is restored afterwards."""


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

        from cnn_core.models.specs import build_torch

        self.spec = cfg.spec
        with _INIT_LOCK:
            torch.manual_seed(cfg.seed)
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

        if not self.model.training:          # switched back only after an evaluation
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

    def layer_weights(self) -> list[tuple[int, np.ndarray, np.ndarray | None]]:
        out = []
        for i in _weighted_layers(self.spec):
            w = self.model[i].weight
            out.append((i, w.detach().numpy(), None if w.grad is None else w.grad.detach().numpy()))
        return out

    def probe(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch

        first = _first_conv(self.spec)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                h, maps = torch.from_numpy(np.asarray(image, dtype=np.float32)[None]), None
                for i, module in enumerate(self.model):
                    h = module(h)
                    if i == first:
                        maps = h[0].numpy().copy()
                probs = torch.softmax(h.double(), 1)[0].numpy()
        finally:
            self.model.train(was_training)
        return maps, probs


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

    def layer_weights(self) -> list[tuple[int, np.ndarray, np.ndarray | None]]:
        return [(i, self.model.layers[i].params["W"], self.model.layers[i].grads.get("W"))
                for i in _weighted_layers(self.spec)]

    def probe(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        first = _first_conv(self.spec)
        was_training = self.model.training
        self.model.eval()
        try:
            x = np.asarray(image, dtype=self.model.dtype)[None]
            logits, acts = self.model.forward(x, return_activations=True)
        finally:
            self.model.train(was_training)
        maps = None if first is None else np.array(acts[first][0], dtype=np.float32)
        return maps, self.nn.softmax(np.asarray(logits, dtype=np.float64))[0]


def _weighted_layers(spec: dict) -> list[int]:
    return [i for i, layer in enumerate(spec["layers"]) if layer["type"] in ("conv2d", "dense")]


def _first_conv(spec: dict) -> int | None:
    return next((i for i, layer in enumerate(spec["layers"]) if layer["type"] == "conv2d"), None)


def make_engine(cfg: TrainConfig) -> Engine:
    return TorchEngine(cfg) if cfg.engine == "torch" else NumpyEngine(cfg)
