"""One prediction: a 28×28 input (or a raw canvas) → softmax probabilities, timed.

The Draw page's path, kept short and visible:
canvas RGBA → ``preprocess.canvas_to_mnist`` → model → logits → softmax.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .preprocess import PreprocessSteps, explain


@dataclass(frozen=True)
class Prediction:
    probs: np.ndarray            # float64 (num_classes,), sums to 1
    logits: np.ndarray           # float32 (num_classes,)
    model_seconds: float         # the forward pass and softmax
    preprocess_seconds: float = 0.0

    @property
    def label(self) -> int:
        return int(np.argmax(self.probs))

    @property
    def confidence(self) -> float:
        return float(self.probs[self.label])

    @property
    def seconds(self) -> float:
        return self.preprocess_seconds + self.model_seconds

    def top(self, k: int = 3) -> list[tuple[int, float]]:
        order = np.argsort(-self.probs)[:k]
        return [(int(i), float(self.probs[i])) for i in order]


def softmax(logits: np.ndarray) -> np.ndarray:
    """exp(z_i − max z) / Σ_j exp(z_j − max z), in float64 (no overflow for large logits)."""
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def predict_image(model, image28: np.ndarray) -> Prediction:
    """``image28``: float (28, 28) in [0, 1], white on black. ``model``: a torch module in eval mode."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(image28, dtype=np.float32)).reshape(1, 1, *np.shape(image28))
    t0 = time.perf_counter()
    with torch.inference_mode():
        logits = model(x)[0].numpy()
    probs = softmax(logits)
    return Prediction(probs, logits, time.perf_counter() - t0)


def predict_canvas(model, image: np.ndarray) -> tuple[PreprocessSteps, Prediction]:
    """A canvas or picture → (how it became the 28×28 input, ``steps.image``; the prediction).

    Raises ``preprocess.EmptyImageError`` for a blank picture.
    """
    t0 = time.perf_counter()
    steps = explain(image)
    t1 = time.perf_counter()
    pred = predict_image(model, steps.image)
    return steps, Prediction(pred.probs, pred.logits, pred.model_seconds, t1 - t0)
