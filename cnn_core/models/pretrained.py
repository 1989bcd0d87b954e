"""The bundled default model: assets/default_model.safetensors (+ its spec in default_model.json).

Produced by ``scripts/train_default.py`` from the bundled 5,000 digits only.
"""
from __future__ import annotations

import functools

from cnn_core import ASSETS
from cnn_core.models.checkpoints import ModelBundle, load

DEFAULT_WEIGHTS = ASSETS / "default_model.safetensors"


@functools.lru_cache(maxsize=1)
def _default_bundle() -> ModelBundle:
    return load(DEFAULT_WEIGHTS)


def load_default_bundle() -> ModelBundle:
    """The default model with its spec and facts (held-out accuracy, data, date). Shared: don't mutate."""
    return _default_bundle()


def load_default():
    """The default CNN as a torch.nn.Module in eval mode.

    Takes float32 (N, 1, 28, 28) in [0, 1], white digit on black like MNIST; returns logits (N, 10).
    Each call returns a fresh copy, so callers may change it freely.
    """
    import copy

    return copy.deepcopy(_default_bundle().model).eval()
