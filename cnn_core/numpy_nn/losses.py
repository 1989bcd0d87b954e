"""Losses, each returning (loss, dL/dinput), averaged over the batch like torch's defaults.

Softmax cross-entropy on logits z (N, K) and integer labels y (N,):

    p = softmax(z) = e^(z − max z) / Σ e^(z − max z)     (subtracting max z changes nothing but
                                                          keeps e^… from overflowing)
    L = −(1/N) Σ_n log p[n, y_n],        dL/dz = (p − onehot(y)) / N

The second line is the chain rule of document 000 collapsed: dE/dp = −y_true/p times the softmax
Jacobian p_i(δ_ij − p_j) gives p − y_true. Twin: ``torch.nn.functional.cross_entropy``.

MSE: L = mean((ŷ − t)²), dL/dŷ = 2(ŷ − t)/size. Integer labels are one-hot encoded first.
Twin: ``torch.nn.functional.mse_loss``.
"""
from __future__ import annotations

import numpy as np


def log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(z, axis: int = -1) -> np.ndarray:
    """e^(z − max z) / Σ e^(z − max z) along ``axis`` (the class axis, last by default).

    The one softmax of the library: the lessons, predictions and the engine all call this.
    Float input keeps its dtype (float32 in training); anything else becomes float64.
    """
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def one_hot(labels: np.ndarray, num_classes: int, dtype=np.float32) -> np.ndarray:
    out = np.zeros((len(labels), num_classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


def _labels(labels, n: int, k: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be {n} integers, got shape {labels.shape} of {labels.dtype}.")
    if n and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"labels must lie in 0..{k - 1}.")
    return labels


def softmax_cross_entropy(logits: np.ndarray, labels) -> tuple[float, np.ndarray]:
    """(mean cross-entropy, dL/dlogits) for logits (N, K) and integer labels (N,)."""
    n, k = logits.shape
    labels = _labels(labels, n, k)
    logp = log_softmax(logits)
    rows = np.arange(n)
    loss = -logp[rows, labels].mean()
    dlogits = np.exp(logp)
    dlogits[rows, labels] -= 1
    dlogits /= n
    return float(loss), dlogits


def mse_loss(pred: np.ndarray, target) -> tuple[float, np.ndarray]:
    """(mean squared error, dL/dpred). ``target``: same shape as pred, or integer labels (N,)
    for (N, K) predictions, compared with their one-hot vectors."""
    target = np.asarray(target)
    if pred.ndim == 2 and target.ndim == 1 and np.issubdtype(target.dtype, np.integer):
        target = one_hot(_labels(target, *pred.shape), pred.shape[1], pred.dtype)
    if target.shape != pred.shape:
        raise ValueError(f"target shape {target.shape} does not match prediction shape {pred.shape}.")
    diff = pred - target
    return float(np.mean(diff * diff)), diff * (2.0 / diff.size)


LOSSES = {"cross_entropy": softmax_cross_entropy, "mse": mse_loss}
