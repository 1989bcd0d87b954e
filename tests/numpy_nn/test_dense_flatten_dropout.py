"""Dense, Flatten and Dropout against torch."""
import numpy as np
import pytest
import torch

from cnn_core.numpy_nn import Dense, Dropout, Flatten

from .twin import check_twin


@pytest.mark.parametrize("n,fan_in,fan_out", [(1, 1, 1), (5, 1352, 10), (3, 20, 7)])
def test_dense_matches_torch(n, fan_in, fan_out):
    layer = Dense(fan_in, fan_out, init="torch", rng=np.random.default_rng(0))
    check_twin(layer, torch.nn.Linear(fan_in, fan_out), np.random.default_rng(1).standard_normal((n, fan_in)))


def test_dense_weight_has_torch_layout():
    assert Dense(1352, 10).params["W"].shape == torch.nn.Linear(1352, 10).weight.shape


def test_flatten_matches_torch_order():
    x = np.random.default_rng(0).standard_normal((2, 8, 13, 13))
    res = check_twin(Flatten(), torch.nn.Flatten(), x)
    assert res["out"].shape == (2, 1352)


def test_dropout_keeps_one_minus_p_and_preserves_the_mean():
    layer = Dropout(0.3, rng=np.random.default_rng(0))
    x = np.ones((200, 500), dtype=np.float32)
    out = layer.forward(x)
    kept = out != 0
    assert kept.mean() == pytest.approx(0.7, abs=0.01)
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)
    assert out.mean() == pytest.approx(1.0, abs=0.01)


def test_dropout_backward_uses_the_forward_mask_like_torch():
    # torch draws other random numbers, so the twin is torch's formula with our mask made explicit.
    rng = np.random.default_rng(1)
    layer = Dropout(0.4, rng=rng)
    x = rng.standard_normal((6, 7))
    out = layer.forward(x)
    mask = torch.tensor(out != 0, dtype=torch.float64)
    xt = torch.tensor(x, requires_grad=True)
    out_t = xt * mask / 0.6
    dout = rng.standard_normal(out.shape)
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.backward(dout), xt.grad.numpy(), atol=1e-12)


def test_dropout_is_the_identity_in_eval_mode():
    layer = Dropout(0.5).eval()
    x = np.random.default_rng(2).standard_normal((3, 4))
    check_twin(layer, torch.nn.Dropout(0.5), x, train=False)
    assert layer.forward(x) is x
