"""Softmax cross-entropy and MSE against torch.nn.functional, plus lecture 001's numbers."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_core.numpy_nn import mse_loss, softmax, softmax_cross_entropy


def _torch_loss(fn, logits, target):
    zt = torch.tensor(logits, requires_grad=True)
    loss = fn(zt, target)
    loss.backward()
    return loss.item(), zt.grad.numpy()


@pytest.mark.parametrize("n,k", [(1, 2), (7, 10), (64, 10)])
def test_cross_entropy_matches_torch(n, k):
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((n, k)) * 4, rng.integers(0, k, n)
    loss, d = softmax_cross_entropy(logits, labels)
    loss_t, d_t = _torch_loss(F.cross_entropy, logits, torch.tensor(labels))
    assert abs(loss - loss_t) < 1e-12
    np.testing.assert_allclose(d, d_t, atol=1e-12)


def test_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 999.0]])
    loss, d = softmax_cross_entropy(logits, np.array([1, 1]))
    loss_t, d_t = _torch_loss(F.cross_entropy, logits, torch.tensor([1, 1]))
    assert np.isfinite(loss) and abs(loss - loss_t) < 1e-9
    np.testing.assert_allclose(d, d_t, atol=1e-12)


@pytest.mark.parametrize("one_hot_labels", [True, False])
def test_mse_matches_torch(one_hot_labels):
    rng = np.random.default_rng(1)
    pred, labels = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    target = np.eye(4)[labels]
    loss, d = mse_loss(pred, labels if one_hot_labels else target)
    loss_t, d_t = _torch_loss(F.mse_loss, pred, torch.tensor(target))
    assert abs(loss - loss_t) < 1e-12
    np.testing.assert_allclose(d, d_t, atol=1e-12)


def test_lecture_001_softmax_numbers():
    p = softmax(np.array([[3.2, 1.3, 0.2, 0.8], [2.0, 1.0, 0.1, 0.0]]))
    np.testing.assert_allclose(p[0], [0.775, 0.116, 0.039, 0.070], atol=5e-4)
    np.testing.assert_allclose(p[1, :3] / p[1, :3].sum(), [0.7, 0.2, 0.1], atol=0.05)


def test_bad_labels_raise_a_clear_error():
    with pytest.raises(ValueError, match="0..9"):
        softmax_cross_entropy(np.zeros((2, 10)), np.array([3, 10]))
    with pytest.raises(ValueError, match="2 integers"):
        softmax_cross_entropy(np.zeros((2, 10)), np.array([0.5, 1.0]))
