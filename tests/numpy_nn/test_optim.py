"""SGD (momentum, weight decay) and Adam against torch.optim, step by step on fixed gradients."""
import numpy as np
import pytest
import torch

from cnn_core.numpy_nn import SGD, Adam, Dense, Sequential


def _pair(seed=0):
    layer = Dense(6, 3, init="torch", rng=np.random.default_rng(seed)).astype(np.float64)
    twin = torch.nn.Linear(6, 3).double()
    twin.load_state_dict({"weight": torch.tensor(layer.params["W"]), "bias": torch.tensor(layer.params["b"])})
    return layer, twin


@pytest.mark.parametrize("make", [
    (lambda m: SGD(m, 0.1), lambda p: torch.optim.SGD(p, 0.1)),
    (lambda m: SGD(m, 0.1, momentum=0.9), lambda p: torch.optim.SGD(p, 0.1, momentum=0.9)),
    (lambda m: SGD(m, 0.1, momentum=0.9, weight_decay=0.01),
     lambda p: torch.optim.SGD(p, 0.1, momentum=0.9, weight_decay=0.01)),
    (lambda m: Adam(m, 0.01), lambda p: torch.optim.Adam(p, 0.01)),
    (lambda m: Adam(m, 0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
     lambda p: torch.optim.Adam(p, 0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
], ids=["sgd", "sgd-momentum", "sgd-momentum-wd", "adam", "adam-options"])
def test_steps_match_torch(make):
    ours, theirs = _pair()
    opt, opt_t = make[0](Sequential([ours])), make[1](theirs.parameters())
    rng = np.random.default_rng(1)
    for _ in range(6):
        gW, gb = rng.standard_normal((3, 6)), rng.standard_normal(3)
        ours.grads = {"W": gW, "b": gb}
        theirs.weight.grad, theirs.bias.grad = torch.tensor(gW), torch.tensor(gb)
        opt.step()
        opt_t.step()
    np.testing.assert_allclose(ours.params["W"], theirs.weight.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.params["b"], theirs.bias.detach().numpy(), atol=1e-12)


def test_optimizer_updates_weights_assigned_after_it_was_made():
    layer = Dense(2, 1).astype(np.float64)
    opt = SGD(layer, 0.5)
    layer.params["W"] = np.array([[1.0, 2.0]])
    layer.grads = {"W": np.array([[1.0, 1.0]]), "b": np.array([0.0])}
    opt.step()
    np.testing.assert_array_equal(layer.params["W"], [[0.5, 1.5]])


def test_float32_model_stays_float32():
    layer = Dense(4, 2)
    opt = Adam(layer, 1e-3)
    layer.forward(np.ones((3, 4), np.float32))
    layer.backward(np.ones((3, 2), np.float32))
    opt.step()
    assert layer.params["W"].dtype == np.float32 and layer.params["b"].dtype == np.float32


def test_learning_rate_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        SGD(Dense(2, 2), 0.0)
