"""Scoring a submitted model on the class's held-out drawings, on the server.

The model's outputs are matched to the class's labels by name (a digits model scores on a class
of digits whatever order its outputs are in). A model with more outputs than the class has labels
(a 0–9 model on a class of "3" and "8") predicts the most probable *class label*: the extra
outputs are not answers this class can be right or wrong about.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from cnn_core.classroom.errors import ClassModelError


@dataclass(frozen=True)
class Score:
    accuracy: float | None       # None without held-out drawings
    per_label: dict              # label -> accuracy, or None when no held-out drawing has that label
    n_test: int


def label_columns(model_names: list[str], labels: list[str]) -> list[int]:
    """For each class label, the index of the model output with that name (exact, else ignoring case)."""
    exact = {n: i for i, n in enumerate(model_names)}
    folded = {}
    for i, n in enumerate(model_names):
        folded.setdefault(str(n).casefold(), i)
    cols, missing = [], []
    for label in labels:
        i = exact.get(label, folded.get(label.casefold()))
        (missing.append(label) if i is None else cols.append(i))
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5])
        which = "the label" if len(missing) == 1 else "the labels"
        raise ClassModelError(f"This model cannot be scored on the class: it has no output for {which} "
                              f"{shown}; train it on the class's data set first.")
    return cols


def check_input(spec: dict) -> None:
    shape = [int(v) for v in spec.get("input_shape", (1, 28, 28))]
    if shape != [1, 28, 28]:
        raise ClassModelError(f"This model takes {'×'.join(map(str, shape))} inputs; the class's drawings are "
                              "1×28×28, so it cannot be scored on them.")


def fingerprint(ids) -> str:
    """Names the exact set of held-out drawings a score was computed on (stale when it changes)."""
    return hashlib.sha256(",".join(str(int(i)) for i in sorted(ids)).encode()).hexdigest()


def score(model, cols: list[int], dataset) -> Score:
    """Accuracy and per-label accuracy of ``model`` (torch, eval) on an ImageDataset of the class."""
    from cnn_core.inference.evaluation import predict_proba

    labels = dataset.class_names
    n = len(dataset)
    if n == 0:
        return Score(None, dict.fromkeys(labels), 0)
    probs = predict_proba(model, dataset.floats())[:, cols]
    preds = probs.argmax(axis=1)
    truth = np.asarray(dataset.labels)
    per = {}
    for k, name in enumerate(labels):
        mask = truth == k
        per[name] = float(np.mean(preds[mask] == k)) if mask.any() else None
    return Score(float(np.mean(preds == truth)), per, int(n))
