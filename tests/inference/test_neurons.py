"""Per-neuron arithmetic on real models: the pieces add up to what the model itself computed."""
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_core.inference import conv_arithmetic as C
from cnn_core.inference import neurons as N
from cnn_core.inference.introspection import IntrospectionError
from cnn_core.models import pretrained, specs

SEEDS = ("seed-000", "seed-004", "seed-002")


def digit(h=28, w=28):
    img = np.zeros((h, w), np.float32)
    img[h // 4: 3 * h // 4, w // 2 - 2: w // 2 + 2] = 1.0
    img[h // 4: h // 4 + 3, w // 4: 3 * w // 4] = 0.6
    return img


def seeded(spec, seed=1):
    torch.manual_seed(seed)
    return specs.build_torch(spec)  # train mode on purpose: the arithmetic must use eval-mode batch norm


NETWORKS = [("default", None)] + [(name, name) for name in SEEDS]


@pytest.fixture(scope="module")
def networks():
    b = pretrained.load_default_bundle()
    out = {"default": (b.model, b.spec)}
    for name in SEEDS:
        spec = specs.preset(name)
        out[name] = (seeded(spec), spec)
    return out


def assert_same(total, output):
    # float32 accumulation inside the model's own conv differs from exact arithmetic by up to ~1.6e-5 on
    # outputs near 15 (the default model's second conv on noise), hence a relative part as in torch.allclose
    np.testing.assert_allclose(total, output, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", [n for n, _ in NETWORKS])
def test_channel_partials_plus_bias_equal_every_conv_channel_of_the_real_model(name, networks):
    from cnn_core.introspection import conv_contributions  # the import path

    model, spec = networks[name]
    image = digit()
    convs = [i for i, layer in enumerate(spec["layers"]) if layer["type"] == "conv2d"]
    assert convs
    tmodel, result = N.run_model(model, image, spec)
    for i in convs:
        n_out = spec["layers"][i]["out_channels"]
        first = conv_contributions(model, image, i, 0, spec=spec)
        c_in = result.layers[i - 1].output.shape[0] if i else spec["input_shape"][0]
        assert first.partials.shape == (c_in,) + result.layers[i].output.shape[1:]
        assert isinstance(first.bias, float)
        for ch in range(n_out):
            c = C.conv_contributions_from(tmodel, result, i, ch)
            with torch.no_grad():  # the real output channel, straight from the torch module
                x = torch.as_tensor(N.layer_input(result, i))[None]
                real = tmodel[i](x)[0, ch].numpy()
            assert_same(c.partials.sum(0) + c.bias, real)


def test_without_a_spec_a_torch_model_and_a_grey_image_are_enough(networks):
    model, spec = networks["seed-000"]
    c = C.conv_contributions(model, digit(), 0, 3)
    assert c.partials.shape == (1, 26, 26)
    assert_same(c.total, c.output)


def test_each_partial_is_that_input_channel_convolved_with_its_kernel_slice():
    spec = specs.build_spec(blocks=2, kernels=[3, 5], stride=2, padding=1, pooling=None, input_shape=(3, 20, 20))
    model = seeded(spec).eval()
    rgb = np.random.default_rng(0).random((3, 20, 20)).astype(np.float32)
    c = C.conv_contributions(model, rgb, 2, 4, spec=spec)  # conv, ReLU, conv
    assert c.partials.shape == (3, 5, 5) and c.stride == (2, 2) and c.padding == (1, 1)
    x = torch.as_tensor(c.input, dtype=torch.float64)
    w = model[2].weight.detach().double()
    for ch in range(3):
        one = F.conv2d(x[None, ch:ch + 1], w[4:5, ch:ch + 1], stride=2, padding=1)[0, 0].numpy()
        np.testing.assert_allclose(c.partials[ch], one, atol=1e-12)
    assert c.share().sum() == pytest.approx(1.0)


def test_an_rgb_model_reads_three_channel_sums_plus_a_bias_like_figure_7_5():
    spec = specs.build_spec(blocks=1, kernels=4, input_shape=(3, 16, 16))
    model = seeded(spec)
    rgb = np.random.default_rng(1).random((3, 16, 16)).astype(np.float32)
    c = C.conv_contributions(model, rgb, 0, 2, spec=spec)
    assert c.partials.shape == (3, 16, 16)
    assert_same(c.total, c.output)
    cell = c.cell(5, 7)
    nums = _numbers(cell.written_total())
    assert len(nums) == 5 and "bias" in cell.written_total()  # R, G, B sums, bias, total
    assert nums[:3] == pytest.approx(cell.subtotals, abs=6e-4) and nums[3] == pytest.approx(c.bias, abs=6e-4)


def _numbers(text):
    """The numbers of a written sum, signs included ('a − b' is a + (−b))."""
    text = text.replace(" − ", " + −")
    return [float(v.replace("−", "-")) for v in re.findall(r"−?\d+\.\d+", text)]


@pytest.mark.parametrize("name,cells", [("default", [(0, 0), (7, 9), (13, 13)]), ("seed-002", [(3, 4), (6, 6)])])
def test_a_written_out_cell_adds_up_to_the_output_value(name, networks, cells):
    model, spec = networks[name]
    tmodel, result = N.run_model(model, digit(), spec)
    layer = [i for i, layer in enumerate(spec["layers"]) if layer["type"] == "conv2d"][1]  # the second conv
    c = C.conv_contributions_from(tmodel, result, layer, 5)
    for r, col in cells:
        cell = c.cell(r, col)
        np.testing.assert_allclose(cell.subtotals, c.partials[:, r, col], atol=1e-12)
        assert cell.total == pytest.approx(cell.output, rel=1e-5, abs=1e-5)
        written = cell.written_total(digits=4)
        nums = _numbers(written)
        assert len(nums) == c.partials.shape[0] + 2  # every subtotal, the bias, the total
        assert nums[-1] == pytest.approx(cell.output, abs=6e-5)
        assert sum(nums[:-1]) == pytest.approx(nums[-1], abs=len(nums) * 5e-5)  # rounded terms, rounded sum
        one = cell.written_channel(2, digits=4)
        assert one.count("·") == cell.kernel[2].size
        assert _numbers(one)[-1] == pytest.approx(cell.subtotals[2], abs=6e-5)


def test_a_window_on_the_padding_reads_zeros(networks):
    model, spec = networks["default"]  # first conv has padding 1
    c = C.conv_contributions(model, digit(), 0, 0, spec=spec)
    corner = c.cell(0, 0)
    assert corner.origin == (0, 0) and np.all(corner.window[:, 0, :] == 0) and np.all(corner.window[:, :, 0] == 0)
    with pytest.raises(IntrospectionError, match="28×28"):
        c.cell(28, 0)


def test_relu_marks_exactly_the_negative_cells_it_zeroed(networks):
    model, spec = networks["default"]
    tmodel, result = N.run_model(model, digit(), spec)
    a = N.activation_neuron_from(tmodel, result, 2, 4)  # BN → ReLU
    assert np.array_equal(a.zeroed, a.before < 0)
    np.testing.assert_array_equal(a.after, np.maximum(a.before, 0))
    r, c = np.argwhere(a.zeroed)[0]
    assert a.written((r, c)).endswith("= 0.000")


def test_sigmoid_is_written_with_its_formula(networks):
    model, spec = networks["seed-004"]
    tmodel, result = N.run_model(model, digit(), spec)
    a = N.activation_neuron_from(tmodel, result, 1, 0)
    assert not a.zeroed.any()
    np.testing.assert_allclose(a.after, 1 / (1 + np.exp(-a.before)), atol=1e-6)
    assert a.written((3, 3)).startswith("1 / (1 + e^")


def test_max_pool_winners_carry_the_output_and_average_pool_is_the_mean(networks):
    model, spec = networks["default"]
    tmodel, result = N.run_model(model, digit(), spec)
    p = N.pool_neuron_from(tmodel, result, 3, 1)
    assert p.kind == "max" and p.output.shape == (14, 14)
    win = p.winners
    np.testing.assert_array_equal(p.input[win[..., 0], win[..., 1]], p.output)
    assert p.window(2, 3) == (4, 6, 6, 8)
    avg = N.pool_neuron_from(tmodel, result, 14, 0)  # the default model's 5×5 average pool
    assert avg.kind == "avg" and avg.size == 5
    assert avg.output[0, 0] == pytest.approx(avg.values(0, 0).mean(), abs=1e-6)
    assert avg.written(0, 0).endswith(f"/ 25 = {N.fmt(avg.output[0, 0])}")


def test_batch_norm_is_an_eval_mode_scale_and_shift(networks):
    model, spec = networks["default"]
    tmodel, result = N.run_model(model, digit(), spec)
    bn = N.batchnorm_neuron_from(tmodel, result, 1, 6)
    m = tmodel[1]
    assert bn.scale == pytest.approx(float(m.weight.detach()[6] / torch.sqrt(m.running_var[6] + m.eps)), rel=1e-6)
    np.testing.assert_allclose(bn.input * bn.scale + bn.shift, bn.output, rtol=1e-5, atol=1e-5)
    assert "γ / √(σ² + ε)" in bn.written_scale()
    assert _numbers(bn.written(4, 4))[-1] == pytest.approx(bn.output[4, 4], abs=1e-3)


def test_a_dense_unit_is_its_top_contributions_plus_the_rest_plus_bias(networks):
    model, spec = networks["seed-002"]
    tmodel, result = N.run_model(model, digit(), spec)
    idx = len(spec["layers"]) - 1
    d = N.dense_neuron_from(tmodel, result, idx, 7)
    assert d.inputs.size == 64
    assert d.total == pytest.approx(d.output, rel=1e-5, abs=1e-5)
    assert d.output == pytest.approx(float(result.logits[7]), rel=1e-5, abs=1e-5)
    top = d.top(5)
    c = np.abs(d.contributions)
    assert list(c[top]) == sorted(c[top], reverse=True) and c[top[-1]] >= np.delete(c, top).max()
    assert "59 more terms" in d.written(5)
    assert N.dense_neuron(model, digit(), idx, 7, spec=spec).output == pytest.approx(d.output)


def test_softmax_is_written_as_on_the_softmax_page(networks):
    model, spec = networks["seed-000"]
    _, result = N.run_model(model, digit(), spec)
    s = N.softmax_neuron_from(result, 2)
    assert s.exps.sum() * s.probabilities[2] == pytest.approx(s.exps[2])
    assert s.written().endswith(f"= {N.fmt(s.probabilities[2])}")


def test_numpy_engine_models_are_taken_apart_through_their_torch_twin():
    from cnn_core.numpy_nn.from_spec import build_numpy

    spec = specs.preset("seed-000")
    np_model = build_numpy(spec, seed=2)
    want = np_model.eval().forward(digit()[None, None], return_activations=True)
    c = C.conv_contributions(np_model, digit(), 0, 5, spec=spec)
    acts = want[1] if isinstance(want, tuple) else None
    assert_same(c.total, c.output)
    if acts is not None:
        np.testing.assert_allclose(c.output, np.asarray(acts[0])[0, 5], rtol=1e-5, atol=1e-5)


def test_asking_the_wrong_layer_or_channel_is_a_clear_error(networks):
    model, spec = networks["seed-000"]
    with pytest.raises(IntrospectionError, match="not a convolution"):
        C.conv_contributions(model, digit(), 1, 0, spec=spec)
    with pytest.raises(IntrospectionError, match="no channel 9"):
        C.conv_contributions(model, digit(), 0, 8, spec=spec)
    with pytest.raises(IntrospectionError, match="no layer 13"):
        C.conv_contributions(model, digit(), 12, 0, spec=spec)
