"""Confusion matrix, per-class report, top-k and worst mistakes: numbers checked by hand."""
import numpy as np
import pytest
import torch

from cnn_core.data import datasets as data
from cnn_core.inference import evaluation as E

LABELS = np.array([0, 0, 1, 1, 2])
PREDS = np.array([0, 1, 1, 1, 0])


def test_confusion_matrix_rows_are_truth_columns_are_predictions():
    cm = E.confusion_matrix(LABELS, PREDS, 3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    norm = E.row_normalised(cm)
    np.testing.assert_allclose(norm, [[0.5, 0.5, 0], [0, 1, 0], [1, 0, 0]])
    assert E.row_normalised(np.zeros((2, 2), int)).tolist() == [[0, 0], [0, 0]]


def test_classification_report_matches_the_hand_computed_numbers():
    r = E.classification_report(LABELS, PREDS, ["a", "b", "c"])
    assert r["a"]["precision"] == pytest.approx(1 / 2) and r["a"]["recall"] == pytest.approx(1 / 2)
    assert r["b"]["precision"] == pytest.approx(2 / 3) and r["b"]["recall"] == 1.0
    assert r["b"]["f1-score"] == pytest.approx(2 * (2 / 3) / (2 / 3 + 1))
    assert r["c"]["precision"] == 0 and r["c"]["support"] == 1
    assert r["macro avg"]["recall"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert r["weighted avg"]["recall"] == pytest.approx((0.5 * 2 + 1 * 2 + 0) / 5)
    assert r["accuracy"] == pytest.approx(3 / 5)


def test_top_k_accuracy_and_most_confident_mistakes():
    probs = np.array([[0.6, 0.3, 0.1],     # true 0: right
                      [0.2, 0.7, 0.1],     # true 0: wrong, 0 is second
                      [0.06, 0.04, 0.9],   # true 1: wrong with 0.9, 1 is last
                      [0.15, 0.05, 0.8]])  # true 0: wrong with 0.8, 0 is second
    labels = np.array([0, 0, 1, 0])
    assert E.top_k_accuracy(probs, labels, 1) == 0.25
    assert E.top_k_accuracy(probs, labels, 2) == 0.75
    assert E.top_k_accuracy(probs, labels, 3) == 1.0
    assert E.most_confident_mistakes(probs, labels).tolist() == [2, 3, 1]
    ev = E.Evaluation(probs, labels, ["a", "b", "c"])
    assert ev.cell(0, 2).tolist() == [3] and ev.cell(0, 0).tolist() == [0]
    assert ev.accuracy == 0.25 and ev.confusion.sum() == 4


def test_evaluate_a_torch_model_on_a_dataset():
    ds = data.load_bundled().subset(np.arange(0, 5000, 50))
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
    ev = E.evaluate(model, ds, batch_size=32)
    assert ev.probs.shape == (100, 10)
    np.testing.assert_allclose(ev.probs.sum(1), 1, rtol=1e-5)
    expected = model(torch.from_numpy(ds.floats())).argmax(1).numpy()
    assert (ev.preds == expected).all() and ev.accuracy == pytest.approx(float((expected == ds.labels).mean()))
    assert ev.report()["weighted avg"]["support"] == 100
