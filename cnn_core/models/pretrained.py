"""The bundled default model: assets/default_model.safetensors (+ its spec in default_model.json).

Produced by ``scripts/train_default.py`` from the bundled 5,000 digits only.
"""
from __future__ import annotations

import functools

from cnn_core import ASSETS
from cnn_core.models.checkpoints import ModelBundle, load

DEFAULT_WEIGHTS = ASSETS / "default_model.safetensors"
DEFAULT_FACTS = ASSETS / "default_model.json"


@functools.lru_cache(maxsize=1)
def _default_bundle() -> ModelBundle:
    return load(DEFAULT_WEIGHTS)


def load_default_bundle() -> ModelBundle:
    """The default model with its spec and facts (held-out accuracy, data, date). Shared: don't mutate."""
    return _default_bundle()


@functools.lru_cache(maxsize=1)
def label_smoothing() -> float:
    """The label smoothing the default model was trained with (default_model.json), 0 if none."""
    import json

    try:
        return float(json.loads(DEFAULT_FACTS.read_text())["training"].get("label_smoothing", 0.0))
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


def confidence_target(num_classes: int = 10) -> float:
    """The probability label smoothing ε trains the true class towards: 1 − ε + ε/K (0.91 for ε = 0.1,
    K = 10). The default model therefore rarely says much more, even for a clear digit."""
    eps = label_smoothing()
    return 1 - eps + eps / num_classes


def load_default():
    """The default CNN as a torch.nn.Module in eval mode.

    Takes float32 (N, 1, 28, 28) in [0, 1], white digit on black like MNIST; returns logits (N, 10).
    Each call returns a fresh copy, so callers may change it freely.
    """
    import copy

    return copy.deepcopy(_default_bundle().model).eval()
