"""Judge a trained model the way the source documents did.

Documents 000 and 002 print scikit-learn's ``classification_report`` (precision, recall, F1 and
support per class, with macro and weighted averages) and draw a confusion matrix; this module
computes the same numbers for any model and data set, plus top-k accuracy and the most
confident mistakes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def predict_proba(model, images_float: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Softmax probabilities (N, K) of a torch model on float32 (N, C, H, W) images in [0, 1]."""
    import torch

    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(images_float), batch_size):
            logits = model(torch.from_numpy(np.ascontiguousarray(images_float[i:i + batch_size])))
            out.append(torch.softmax(logits.float(), dim=1).numpy())
    if not out:
        return np.zeros((0, 0), np.float32)
    return np.concatenate(out)


def confusion_matrix(labels: np.ndarray, preds: np.ndarray, num_classes: int) -> np.ndarray:
    """counts[i, j] = images of true class i predicted as j (rows: truth, columns: prediction)."""
    from sklearn.metrics import confusion_matrix as sk_cm

    return sk_cm(labels, preds, labels=list(range(num_classes)))


def row_normalised(cm: np.ndarray) -> np.ndarray:
    """Each row divided by its total (the recall of that class on the diagonal); empty rows stay 0."""
    totals = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, totals, out=np.zeros(cm.shape, float), where=totals > 0)


def classification_report(labels: np.ndarray, preds: np.ndarray, class_names: list[str]) -> dict:
    """scikit-learn's report as a dict: per class and 'macro avg' / 'weighted avg' →
    {'precision', 'recall', 'f1-score', 'support'}, plus 'accuracy'."""
    from sklearn.metrics import classification_report as sk_report

    return sk_report(labels, preds, labels=list(range(len(class_names))), target_names=list(class_names),
                     output_dict=True, zero_division=0)


def top_k_accuracy(probs: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Share of images whose true class is among the k most probable."""
    if len(labels) == 0:
        return float("nan")
    k = max(1, min(int(k), probs.shape[1]))
    topk = np.argpartition(-probs, k - 1, axis=1)[:, :k]
    return float(np.mean(np.any(topk == labels[:, None], axis=1)))


def most_confident_mistakes(probs: np.ndarray, labels: np.ndarray, n: int = 12) -> np.ndarray:
    """Indices of the wrong predictions with the highest predicted probability, most confident first."""
    preds = probs.argmax(axis=1)
    wrong = np.flatnonzero(preds != labels)
    conf = probs[wrong, preds[wrong]]
    return wrong[np.argsort(-conf, kind="stable")][:n]


def cell_indices(labels: np.ndarray, preds: np.ndarray, true_class: int, pred_class: int) -> np.ndarray:
    """Indices of the images in confusion cell (true_class, pred_class)."""
    return np.flatnonzero((labels == true_class) & (preds == pred_class))


@dataclass
class Evaluation:
    """A model's predictions on one data set and the numbers derived from them."""
    probs: np.ndarray            # (N, K)
    labels: np.ndarray           # (N,)
    class_names: list[str]

    @property
    def preds(self) -> np.ndarray:
        return self.probs.argmax(axis=1)

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.preds == self.labels)) if len(self.labels) else float("nan")

    @property
    def confusion(self) -> np.ndarray:
        return confusion_matrix(self.labels, self.preds, len(self.class_names))

    def report(self) -> dict:
        return classification_report(self.labels, self.preds, self.class_names)

    def top_k(self, k: int) -> float:
        return top_k_accuracy(self.probs, self.labels, k)

    def mistakes(self, n: int = 12) -> np.ndarray:
        return most_confident_mistakes(self.probs, self.labels, n)

    def cell(self, true_class: int, pred_class: int) -> np.ndarray:
        return cell_indices(self.labels, self.preds, true_class, pred_class)


def evaluate(model, dataset, batch_size: int = 500) -> Evaluation:
    """Run a torch model over an ImageDataset (cnn_core.data) and keep what the report needs."""
    probs = predict_proba(model, dataset.floats(), batch_size)
    return Evaluation(probs, np.asarray(dataset.labels), list(dataset.class_names))
