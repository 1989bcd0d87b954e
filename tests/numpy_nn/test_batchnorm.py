"""BatchNorm2D against torch.nn.BatchNorm2d: training (batch statistics, running-statistic
updates, gradients through μ and σ) and evaluation (running statistics)."""
import numpy as np
import pytest
import torch

from cnn_core.numpy_nn import BatchNorm2D

from .twin import check_twin, copy_weights_to_torch


def _bn(c, seed=0):
    layer = BatchNorm2D(c).astype(np.float64)
    rng = np.random.default_rng(seed)
    layer.params["gamma"] = rng.uniform(0.5, 2.0, c)
    layer.params["beta"] = rng.standard_normal(c)
    return layer


@pytest.mark.parametrize("n,c,h,w", [(2, 1, 5, 5), (4, 3, 6, 7), (1, 8, 3, 3)])
def test_training_mode_matches_torch(n, c, h, w):
    x = np.random.default_rng(1).standard_normal((n, c, h, w)) * 3 + 1
    check_twin(_bn(c), torch.nn.BatchNorm2d(c), x, train=True)     # compares running stats too


def test_running_statistics_follow_torch_over_many_batches_then_eval_matches():
    ours, theirs = _bn(3), torch.nn.BatchNorm2d(3).double()
    copy_weights_to_torch(ours, theirs)
    rng = np.random.default_rng(2)
    for _ in range(7):
        x = rng.standard_normal((5, 3, 4, 4)) * 2 + 0.5
        ours.train().forward(x)
        theirs.train()(torch.tensor(x))
    np.testing.assert_allclose(ours.buffers["running_mean"], theirs.running_mean.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.buffers["running_var"], theirs.running_var.numpy(), atol=1e-12)
    assert int(ours.buffers["num_batches_tracked"]) == int(theirs.num_batches_tracked) == 7
    check_twin(ours, theirs, rng.standard_normal((3, 3, 4, 4)), train=False)


def test_training_output_is_normalised_per_channel():
    layer = BatchNorm2D(2).astype(np.float64)
    out = layer.forward(np.random.default_rng(3).standard_normal((8, 2, 5, 5)) * 10 + 4)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, atol=1e-3)     # 1 − ε/(σ² + ε)
