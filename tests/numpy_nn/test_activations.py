"""ReLU, Sigmoid, Tanh against torch, with the kink at 0 and saturated inputs on purpose."""
import warnings

import numpy as np
import pytest
import torch

from cnn_core.numpy_nn import ReLU, Sigmoid, Tanh

from .twin import check_twin

TWINS = [(ReLU, torch.nn.ReLU), (Sigmoid, torch.nn.Sigmoid), (Tanh, torch.nn.Tanh)]


@pytest.mark.parametrize("shape", [(4, 10), (2, 3, 5, 5)])
@pytest.mark.parametrize("ours,theirs", TWINS)
def test_matches_torch(ours, theirs, shape):
    check_twin(ours(), theirs(), np.random.default_rng(0).standard_normal(shape) * 3)


def test_relu_at_zero_passes_no_gradient_like_torch():
    # The kink: ReLU'(0) is taken as 0 (mask x > 0), as in torch and document 000's formula.
    x = np.array([[-1.0, 0.0, 0.0, 1e-300, 2.0]])
    res = check_twin(ReLU(), torch.nn.ReLU(), x, dout=np.ones_like(x))
    np.testing.assert_array_equal(res["dx"], [[0, 0, 0, 1, 1]])


@pytest.mark.parametrize("ours,theirs", TWINS[1:])
def test_saturated_inputs_stay_finite_and_silent(ours, theirs):
    x = np.array([[-1000.0, -40.0, 0.0, 40.0, 1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # no overflow warning from exp(1000)
        res = check_twin(ours(), theirs(), x)
    assert np.all(np.isfinite(res["out"])) and np.all(np.isfinite(res["dx"]))


def test_sigmoid_gradient_is_y_times_one_minus_y():
    # σ'(0) = 0.5 · 0.5 = 0.25 (document 004's σ(σ(x)) slip would give σ(0.5)(1 − σ(0.5)) ≈ 0.235).
    layer = Sigmoid().astype(np.float64)
    layer.forward(np.zeros((1, 1)))
    assert layer.backward(np.ones((1, 1)))[0, 0] == 0.25
