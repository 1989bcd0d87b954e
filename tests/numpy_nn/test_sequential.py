"""Sequential and build_numpy: every preset in both engines from one spec, weights copied both
ways through torch's state-dict keys, whole-network gradients equal to torch's."""
import numpy as np
import pytest
import torch

from cnn_core.numpy_nn import (SGD, Dropout, StateDictError, build_numpy, from_torch, softmax_cross_entropy,
                               to_torch)
from cnn_core.models.specs import PRESETS, build_torch, layer_infos, preset

from .twin import assert_close

NAMES = list(PRESETS)


def _x(n=4, seed=0):
    return np.random.default_rng(seed).random((n, 1, 28, 28))


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_has_torch_keys_and_shapes(name):
    spec = preset(name)
    ours, theirs = build_numpy(spec).state_dict(), build_torch(spec).state_dict()
    assert list(ours) == list(theirs)
    assert {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}


def test_seed_002_has_315148_parameters():
    assert build_numpy(preset("seed-002")).num_params == 315_148


@pytest.mark.parametrize("name", NAMES)
def test_same_weights_give_same_logits_in_both_engines(name):
    spec = preset(name)
    ours = build_numpy(spec, dtype=np.float64).eval()
    theirs = to_torch(ours, spec)
    assert not theirs.training and next(theirs.parameters()).dtype == torch.float64
    assert_close(ours.forward(_x()), theirs(torch.tensor(_x())), "logits")
    back = from_torch(theirs, spec)
    assert back.dtype == np.float64 and not back.training
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[k], v)


def test_torch_weights_load_into_numpy():
    spec = preset("seed-000")
    torch.manual_seed(0)
    theirs = build_torch(spec).eval()
    ours = from_torch(theirs, spec)
    assert ours.dtype == np.float32
    x = _x().astype(np.float32)
    np.testing.assert_allclose(ours.forward(x), theirs(torch.tensor(x)).detach().numpy(), atol=1e-5)


def test_seed_002_whole_network_gradients_match_torch():
    # Batch norm in training mode, dropout switched off in both engines (their random masks differ).
    spec = preset("seed-002")
    ours = build_numpy(spec, dtype=np.float64, seed=3)
    theirs = to_torch(ours, spec)
    for ours_layer, theirs_layer in zip(ours, theirs):
        if isinstance(ours_layer, Dropout):
            ours_layer.eval()
            theirs_layer.eval()
    x, y = _x(6, 1), np.array([0, 1, 2, 3, 4, 5])
    xt = torch.tensor(x, requires_grad=True)
    loss_t = torch.nn.functional.cross_entropy(theirs(xt), torch.tensor(y))
    loss_t.backward()
    loss, dlogits = softmax_cross_entropy(ours.forward(x), y)
    dx = ours.backward(dlogits, input_grad=True)
    assert abs(loss - loss_t.item()) < 1e-10
    assert_close(dx, xt.grad, "dL/dinput")
    named = dict(theirs.named_parameters())
    for i, layer in enumerate(ours):
        for key in layer.params:
            assert_close(layer.grads[key], named[f"{i}.{layer.torch_names[key]}"].grad, f"layer {i} d{key}")
    buffers = dict(theirs.named_buffers())
    for name, value in ours.state_dict().items():
        if name in buffers:
            assert_close(np.asarray(value, dtype=np.float64), buffers[name].double(), name)


@pytest.mark.parametrize("name", NAMES)
def test_activations_have_the_spec_shapes(name):
    spec = preset(name)
    logits, acts = build_numpy(spec).forward(_x(2).astype(np.float32), return_activations=True)
    assert [a.shape for a in acts] == [(2, *info.out_shape) for info in layer_infos(spec)]
    assert acts[-1] is logits
    assert all(a.dtype == np.float32 for a in acts)


def test_predict_gives_probabilities_in_eval_mode_and_restores_the_mode():
    model = build_numpy(preset("seed-002"))
    x = _x(5)                                              # float64 input: cast to the model's float32
    p1, p2 = model.predict(x), model.predict(x)
    assert model.training
    assert p1.shape == (5, 10) and p1.dtype == np.float32
    np.testing.assert_allclose(p1.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(p1, p2)                  # dropout off, running statistics used
    assert int(model[0].buffers["num_batches_tracked"]) == 0


def test_train_step_returns_the_loss_and_learns_a_batch():
    model = build_numpy(preset("seed-000"))
    x, y = _x(16, 2).astype(np.float32), np.arange(16) % 10
    opt = SGD(model, 0.1, momentum=0.9)
    before = softmax_cross_entropy(model.forward(x), y)[0]
    first = model.train_step(x, y, "cross_entropy", opt)
    assert first == pytest.approx(before)
    for _ in range(60):
        last = model.train_step(x, y, softmax_cross_entropy, opt)
    assert last < 0.2 * first


def test_seeded_builds_are_reproducible():
    a, b, c = (build_numpy(preset("seed-000"), seed=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a[0].params["W"], b[0].params["W"])
    assert not np.array_equal(a[0].params["W"], c[0].params["W"])


def test_bad_state_dicts_are_refused_with_the_key():
    model = build_numpy(preset("seed-000"))
    state = model.state_dict()
    with pytest.raises(StateDictError, match="4.weight"):
        model.load_state_dict({**state, "4.weight": np.zeros((10, 5))})
    with pytest.raises(StateDictError, match="missing"):
        model.load_state_dict({k: v for k, v in state.items() if k != "0.bias"})


def test_unknown_initialiser_is_refused():
    with pytest.raises(ValueError, match="initialiser"):
        build_numpy(preset("seed-000"), init="glorious")


def test_calling_a_model_or_a_layer_runs_its_forward():
    model = build_numpy(preset("seed-000"))
    x = _x(2).astype(np.float32)
    np.testing.assert_array_equal(model(x), model.forward(x))
    np.testing.assert_array_equal(model[1](x), np.maximum(x, 0))
