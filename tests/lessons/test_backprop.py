"""backprop.trace against torch's autograd in float64: every layer type, the three seed networks and
the Train page's builder options; the written-out sums against the vectorised gradients; central
differences; and one update step lowering the loss."""
import numpy as np
import pytest
import torch

from cnn_core import backprop as cnn_backprop
from cnn_core.lessons import backprop as bp, backprop_arithmetic as ba
from cnn_core.models import specs
from cnn_core.numpy_nn import build_numpy
from cnn_core.numpy_nn.from_spec import to_torch

TOL = 1e-9


def _model(spec, seed=0, running_stats=True):
    """A float32 model as the app holds them; batch norm gets non-trivial running statistics so that
    eval mode really differs from 'divide by 1'."""
    m = build_numpy(spec, seed=seed, dtype=np.float32).eval()
    rng = np.random.default_rng(seed + 100)
    for layer in m.layers:
        if "running_var" in layer.buffers and running_stats:
            c = layer.buffers["running_var"].shape[0]
            layer.buffers["running_mean"] = rng.normal(0, 0.3, c).astype(np.float32)
            layer.buffers["running_var"] = rng.uniform(0.5, 2.0, c).astype(np.float32)
            layer.params["gamma"] = rng.uniform(0.5, 1.5, c).astype(np.float32)
            layer.params["beta"] = rng.normal(0, 0.2, c).astype(np.float32)
    return m


def _image(shape, seed=1):
    return np.random.default_rng(seed).uniform(0, 1, shape)


def _torch_reference(model, image, label, mode):
    """Loss, {(i, key): grad} and ∂L/∂x from autograd on a float64 torch twin (same weights, same mode)."""
    tm = to_torch(bp.float64_copy(model), model.spec).double().train(mode == "train")
    x = torch.tensor(np.asarray(image, np.float64).reshape(1, *model.spec["input_shape"]), requires_grad=True)
    loss = torch.nn.functional.cross_entropy(tm(x), torch.tensor([label]))
    loss.backward()
    grads = {}
    for i, layer in enumerate(model.layers):
        for key, suffix in layer.torch_names.items():
            if key in layer.params:
                grads[(i, key)] = getattr(tm[i], suffix).grad.numpy()
    return loss.item(), grads, x.grad[0].numpy()


def _agrees_with_torch(spec, mode="eval", label=3, seed=0):
    model = _model(spec, seed)
    image = _image(spec["input_shape"], seed + 1)
    before = model.state_dict()
    tr = bp.trace(model, image, label, mode=mode)
    loss, grads, gx = _torch_reference(model, image, label, mode)
    assert tr.loss == pytest.approx(loss, abs=TOL)
    assert set(tr.param_grads()) == set(grads)
    for key, g in grads.items():
        np.testing.assert_allclose(tr.param_grads()[key], g, rtol=0, atol=TOL, err_msg=str(key))
    np.testing.assert_allclose(tr.grad_image, gx, rtol=0, atol=TOL)
    # the model itself is untouched (the trace works on a float64 copy)
    assert all(np.array_equal(v, model.state_dict()[k]) for k, v in before.items())
    return model, image, tr


def _spec(layers, shape=(1, 8, 8), classes=4):
    return {"name": "t", "input_shape": list(shape), "num_classes": classes, "layers": layers}


C, P, D, A = specs.conv, specs.pool, specs.dense, specs.act
LAYER_CASES = {
    "conv": [C(3, 3), specs.FLAT, D(4)],
    "conv stride 2 pad 1, 2 channels in": [C(3, 3, 2, 1), specs.FLAT, D(4)],
    "conv 2×2 and 'same' 3×3": [C(2, 2), A("relu"), {**C(3, 3), "padding": "same"}, specs.FLAT, D(4)],
    "max pool": [C(2, 3), A("relu"), P("max", 2), specs.FLAT, D(4)],
    "overlapping max pool 3, stride 1": [C(2, 3), P("max", 3, 1), specs.FLAT, D(4)],
    "average pool": [C(2, 3), A("tanh"), P("avg", 2), specs.FLAT, D(4)],
    "average pool 3, stride 2": [C(2, 3), P("avg", 3, 2), specs.FLAT, D(4)],
    "sigmoid": [C(2, 3), A("sigmoid"), specs.FLAT, D(5), A("sigmoid"), D(4)],
    "tanh": [C(2, 3), A("tanh"), specs.FLAT, D(5), A("tanh"), D(4)],
    "batch norm": [specs.BN, C(3, 3), specs.BN, A("relu"), specs.FLAT, D(4)],
    "dropout": [C(2, 3), A("relu"), specs.dropout(0.5), specs.FLAT, D(6), A("relu"), specs.dropout(0.3), D(4)],
}


@pytest.mark.parametrize("name", list(LAYER_CASES))
def test_every_layer_type_agrees_with_autograd(name):
    shape = (2, 9, 9) if "2 channels" in name else (1, 8, 8)
    _agrees_with_torch(_spec(LAYER_CASES[name], shape))


def test_batch_norm_in_training_mode_uses_this_images_statistics_like_torch():
    _agrees_with_torch(_spec(LAYER_CASES["batch norm"]), mode="train")


@pytest.mark.parametrize("name", ["seed-000", "seed-004", "seed-002"])
def test_the_seed_networks_agree_with_autograd(name):
    _, _, tr = _agrees_with_torch(specs.preset(name), label=7)
    assert len(tr.steps) == len(specs.preset(name)["layers"])
    assert tr.probs.sum() == pytest.approx(1.0) and tr.loss == pytest.approx(-np.log(tr.probs[7]))
    np.testing.assert_allclose(tr.grad_logits, tr.probs - np.eye(10)[7], atol=1e-15)   # ∂L/∂z = p − y


@pytest.mark.parametrize("opts", [
    dict(blocks=2, kernels=[4, 8], batchnorm=True, dropout_p=0.25, dense_width=16),
    dict(blocks=1, kernels=6, kernel_size=5, stride=2, padding="valid", pooling="avg", activation="tanh"),
    dict(blocks=3, kernels=4, pooling=None, activation="sigmoid", padding=1, dense_width=8),
])
def test_the_train_page_builder_options_agree_with_autograd(opts):
    _agrees_with_torch(specs.build_spec(**opts), label=2)


def test_steps_carry_each_layers_numbers_in_order():
    spec = specs.preset("seed-000")
    model = _model(spec)
    tr = bp.trace(model, _image((28, 28)), 5)        # a (H, W) image is taken as one channel
    assert [s.kind for s in tr.steps] == ["conv2d", "relu", "maxpool2d", "flatten", "dense"]
    assert tr.steps[0].name == "Conv2D(8, 3×3, stride 1, pad 0)"
    for a, b in zip(tr.steps, tr.steps[1:]):
        np.testing.assert_array_equal(a.output, b.input)
        np.testing.assert_array_equal(a.grad_output, b.grad_input)
    np.testing.assert_array_equal(tr.steps[-1].output, tr.logits)
    assert tr.steps[0].input.shape == (1, 28, 28) and tr.steps[2].output.shape == (8, 13, 13)
    assert set(tr.steps[0].grads) == {"W", "b"} and tr.steps[1].grads == {}


def test_the_alias_import_path_and_clear_errors():
    assert cnn_backprop.trace is bp.trace
    model = _model(specs.preset("seed-000"))
    with pytest.raises(bp.BackpropError, match="takes 1×28×28 inputs"):
        bp.trace(model, np.zeros((20, 20)), 1)
    with pytest.raises(bp.BackpropError, match="class number 0…9"):
        bp.trace(model, np.zeros((28, 28)), 10)
    with pytest.raises(bp.BackpropError, match="positive"):
        bp.apply_step(model, bp.trace(model, np.zeros((28, 28)), 1), 0)


# --- the written-out arithmetic equals the vectorised gradients ---------------------------------

@pytest.fixture(scope="module")
def small():
    spec = _spec([C(3, 3, 2, 1), A("relu"), P("max", 2), specs.BN, specs.dropout(0.2), A("sigmoid"),
                  specs.FLAT, D(5), A("tanh"), D(4)], shape=(2, 9, 9))
    model = _model(spec, seed=4)
    return bp.trace(model, _image((2, 9, 9), 5), 2)


def test_conv_weight_bias_and_input_sums_equal_the_gradients(small):
    conv = small.steps[0]
    for idx in np.ndindex(*conv.params["W"].shape):
        w = ba.conv_weight_grad(conv, *idx)
        assert w.value == pytest.approx(conv.grads["W"][idx], abs=1e-12)
        assert len(w.terms) == 5 * 5                    # one term per output position
    for f in range(3):
        assert ba.conv_bias_grad(conv, f).value == pytest.approx(conv.grads["b"][f], abs=1e-12)
    for idx in np.ndindex(*conv.input.shape):
        assert ba.conv_input_grad(conv, *idx).value == pytest.approx(conv.grad_input[idx], abs=1e-12)


def test_conv_weight_sum_is_written_with_its_largest_terms():
    model = _model(specs.preset("seed-000"))
    tr = bp.trace(model, _image((28, 28)), 1)   # δ is 0 where ReLU blocked or pooling did not pick
    w = ba.conv_weight_grad(tr.steps[0], 2, 0, 1, 1)
    assert w.text.startswith("∂L/∂W[2, 0, 1, 1] = Σ over the 26×26 positions of δ · the input under this weight = ")
    assert ba.conv_weight_grad(tr.steps[0], 2, 0, 1, 1, base=1).text.startswith("∂L/∂W[3, 1, 2, 2] = ")
    assert ba.conv_weight_grad(tr.steps[0], 2, 0, 1, 1, base=1).value == w.value
    assert f"… and {676 - 6} more terms" in w.text and "of them 0)" in w.text
    shown = sorted((abs(t.product) for t in w.terms), reverse=True)[:6]
    assert [abs(t.product) for t in w.terms[:6]] == shown
    assert w.value == pytest.approx(tr.steps[0].grads["W"][2, 0, 1, 1], abs=1e-15)


def test_dense_products_and_input_sums_equal_the_gradients(small):
    for step in (small.steps[7], small.steps[9]):
        for i, k in np.ndindex(*step.params["W"].shape):
            assert ba.dense_weight_grad(step, i, k).value == step.grads["W"][i, k]
        for i in range(step.params["b"].shape[0]):
            assert ba.dense_bias_grad(step, i).value == step.grads["b"][i]
        for k in range(step.input.shape[0]):
            assert ba.dense_input_grad(step, k).value == pytest.approx(step.grad_input[k], abs=1e-12)
    last = small.steps[9]
    text = ba.dense_weight_grad(last, 1, 3).text
    assert text.startswith("∂L/∂W[1, 3] = δ_1 · y_3 = ")


def test_pool_windows_route_the_gradient_to_the_winner_only(small):
    pool = small.steps[2]
    k = pool.layer.kernel_size
    rebuilt = np.zeros_like(pool.input)
    for c, i, j in np.ndindex(*pool.output.shape):
        w = ba.pool_window(pool, c, i, j)
        assert w.window.max() == pool.output[c, i, j] and w.routed.sum() == w.grad
        assert np.count_nonzero(w.routed) <= 1 and pool.input[c][w.winner] == w.window.max()
        r0, c0 = w.origin
        rebuilt[c, r0:r0 + k, c0:c0 + k] += w.routed
    np.testing.assert_allclose(rebuilt, pool.grad_input, atol=1e-15)


def test_average_pool_shares_the_gradient():
    spec = _spec(LAYER_CASES["average pool"])
    tr = bp.trace(_model(spec), _image((8, 8)), 0)
    w = ba.pool_window(tr.steps[2], 1, 0, 2)
    np.testing.assert_allclose(w.routed, np.full((2, 2), w.grad / 4))
    assert "each of the 4 cells gets δ/4" in w.text


def test_element_wise_cells_equal_the_gradients(small):
    for step in small.steps[1], small.steps[3], small.steps[4], small.steps[5], small.steps[6], small.steps[8]:
        for idx in np.ndindex(*step.input.shape):
            assert ba.cell(step, idx).value == pytest.approx(step.grad_input[idx], abs=1e-15), (step.name, idx)
    relu = small.steps[1]
    neg = tuple(np.argwhere(relu.input < 0)[0])
    assert ba.cell(relu, neg).text.endswith("ReLU blocks the gradient: ∂L/∂x[" + ", ".join(map(str, neg)) + "] = δ · 0 = 0")
    assert "Flatten only reshapes: x[1, 0, 1] is entry 5 of the vector" in ba.cell(small.steps[6], (1, 0, 1)).text
    assert "x[2, 1, 2] is entry 6 of the vector" in ba.cell(small.steps[6], (1, 0, 1), base=1).text


def test_kinds_are_checked():
    spec = specs.preset("seed-000")
    tr = bp.trace(_model(spec), _image((28, 28)), 0)
    with pytest.raises(bp.BackpropError, match="not dense"):
        ba.dense_weight_grad(tr.steps[0], 0, 0)
    with pytest.raises(bp.BackpropError, match="outside the shape"):
        ba.conv_weight_grad(tr.steps[0], 8, 0, 0, 0)


# --- proof and update --------------------------------------------------------------------------

def test_autograd_check_reports_agreement_and_catches_a_wrong_gradient():
    model = _model(specs.preset("seed-004"))
    image = _image((28, 28))
    tr = bp.trace(model, image, 4)
    check = bp.autograd_check(model, image, 4, tr)
    assert check.max_abs_diff < TOL and check.compared == 1 + specs.count_params(model.spec) + 28 * 28
    tr.steps[4].grads["W"][3, 7] += 1e-6
    assert bp.autograd_check(model, image, 4, tr).max_param_diff == pytest.approx(1e-6, rel=1e-3)


@pytest.mark.parametrize("layer,key,index", [(0, "W", (3, 0, 1, 2)), (0, "b", (5,)), (4, "W", (7, 100)),
                                             (4, "b", (2,))])
def test_central_differences_agree_to_1e6_relative(layer, key, index):
    model = _model(specs.preset("seed-000"))
    image = _image((28, 28))
    check = bp.numerical_check(model, image, 6, layer, key, index)
    assert abs(check.analytic) > 1e-6
    assert check.rel_error < 1e-6
    assert check.numerical == pytest.approx((check.loss_plus - check.loss_minus) / (2 * check.eps))


def test_numerical_check_through_batch_norm_and_sigmoid():
    model = _model(_spec(LAYER_CASES["batch norm"]))
    assert bp.numerical_check(model, _image((8, 8)), 1, 1, "W", (2, 0, 1, 1)).rel_error < 1e-6
    model = _model(_spec(LAYER_CASES["sigmoid"]))
    assert bp.numerical_check(model, _image((8, 8)), 1, 3, "W", (4, 17)).rel_error < 1e-6


def test_one_step_lowers_the_loss_and_matches_the_written_update():
    model = _model(specs.preset("seed-000"))
    image = _image((28, 28))
    tr = bp.trace(model, image, 3)
    w0, g = float(model.layers[0].params["W"][1, 0, 2, 2]), float(tr.steps[0].grads["W"][1, 0, 2, 2])
    written = ba.weight_update(w0, g, 0.05, "W[1, 0, 2, 2]")
    bp.apply_step(model, tr, 0.05)
    assert model.layers[0].params["W"].dtype == np.float32
    assert float(model.layers[0].params["W"][1, 0, 2, 2]) == pytest.approx(written.value, rel=1e-6)
    assert written.text.startswith("W[1, 0, 2, 2] ← W[1, 0, 2, 2] − η · ∂L/∂W[1, 0, 2, 2] = ")
    after, probs = bp.loss_of(model, image, 3)
    assert after < tr.loss and probs[3] > tr.probs[3]
    losses = [after]
    for _ in range(5):
        bp.apply_step(model, bp.trace(model, image, 3), 0.05)
        losses.append(bp.loss_of(model, image, 3)[0])
    assert all(b < a for a, b in zip(losses, losses[1:]))
