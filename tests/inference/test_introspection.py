"""Every layer's output, kernels, attributions and what-ifs, for every architecture the app builds."""
import numpy as np
import pytest
import torch

from cnn_core.inference import introspection as I
from cnn_core.models import pretrained
from cnn_core.models import specs

torch.manual_seed(0)


def digit(h=28, w=28, c=None):
    img = np.zeros((h, w), np.float32)
    img[h // 4: 3 * h // 4, w // 2 - 2: w // 2 + 2] = 1.0  # a "1"
    return img if c is None else np.repeat(img[None], c, 0)


SPECS = {name: specs.preset(name) for name in specs.PRESETS}
SPECS["builder-bn-dropout-rgb"] = specs.build_spec(blocks=2, kernels=[4, 8], batchnorm=True, dropout_p=0.3,
                                                   dense_width=16, input_shape=(3, 32, 32), name="rgb")
SPECS["builder-valid-avg-tanh"] = specs.build_spec(blocks=1, kernels=6, kernel_size=5, padding="valid",
                                                   pooling="avg", activation="tanh")
SPECS["builder-no-pool-stride2"] = specs.build_spec(blocks=2, kernels=4, stride=2, pooling=None, padding=1)


@pytest.fixture(scope="module")
def models():
    out = {}
    for name, spec in SPECS.items():
        torch.manual_seed(1)
        m = specs.build_torch(spec)
        m.eval()
        out[name] = m
    return out


@pytest.mark.parametrize("name", list(SPECS))
def test_every_layer_recorded_with_the_spec_shapes(name, models):
    spec, model = SPECS[name], models[name]
    c = spec["input_shape"][0]
    r = I.introspect(model, digit(*spec["input_shape"][1:], c=c), spec)
    infos = specs.layer_infos(spec)
    assert len(r.layers) == len(infos)
    for lo, info in zip(r.layers, infos):
        assert lo.shape == info.out_shape and lo.kind == info.type and lo.label == info.label
    # the last layer's output is the logits, and the probabilities are their softmax
    np.testing.assert_allclose(r.layers[-1].output, r.logits, rtol=1e-5, atol=1e-6)
    assert r.probabilities.sum() == pytest.approx(1.0)
    with torch.no_grad():
        ref = model(torch.as_tensor(r.input)[None])[0].numpy()
    np.testing.assert_allclose(r.logits, ref, rtol=1e-5, atol=1e-6)


def test_grey_drawing_adapts_to_an_rgb_model(models):
    spec = SPECS["builder-bn-dropout-rgb"]
    x, note = I.prepare_input(digit(), spec["input_shape"])
    assert tuple(x.shape) == (1, 3, 32, 32) and "resized from 28×28 to 32×32" in note and "3 channels" in note
    r = I.introspect(models["builder-bn-dropout-rgb"], digit(), spec)
    assert r.layers[0].shape == (4, 32, 32)


def test_train_mode_model_is_run_in_eval_without_changing_it():
    spec = SPECS["seed-002"]
    m = specs.build_torch(spec)  # train mode: dropout would make two runs differ
    a = I.introspect(m, digit(), spec).logits
    b = I.introspect(m, digit(), spec).logits
    np.testing.assert_array_equal(a, b)
    assert m.training


def test_default_model_predicts_and_maps_have_stats():
    b = pretrained.load_default_bundle()
    r = I.introspect(b.model, digit(), b.spec, b.class_names)
    assert r.class_names == b.class_names and 0 <= r.predicted < 10
    conv_out = r.layers[0].output
    stats = I.map_stats(conv_out)
    assert len(stats) == conv_out.shape[0]
    s0 = stats[0]
    assert s0.minimum == pytest.approx(conv_out[0].min()) and s0.maximum == pytest.approx(conv_out[0].max())
    assert s0.active == pytest.approx((conv_out[0] > 0).mean())
    relu = next(i for i, layer in enumerate(b.spec["layers"]) if layer["type"] == "relu")
    relu_stats = I.map_stats(r.layers[relu].output)
    assert all(s.minimum >= 0 for s in relu_stats) and any(s.active < 1 for s in stats)


@pytest.mark.parametrize("name", list(SPECS))
def test_kernels_per_conv_layer(name, models):
    ks = I.conv_kernels(models[name], SPECS[name])
    convs = [i for i, layer in enumerate(SPECS[name]["layers"]) if layer["type"] == "conv2d"]
    assert [k.index for k in ks] == convs
    for k in ks:
        layer = SPECS[name]["layers"][k.index]
        assert k.weight.shape[0] == layer["out_channels"] and k.weight.shape[-1] == layer["kernel_size"]
        assert k.bias.shape == (layer["out_channels"],)


@pytest.mark.parametrize("name", list(SPECS))
def test_saliency_and_grad_cam_shape_and_finite(name, models):
    spec = SPECS[name]
    c, h, w = spec["input_shape"]
    img = digit(h, w, c)
    sal = I.saliency(models[name], img, spec, target=3)
    cam = I.grad_cam(models[name], img, spec, target=3)
    assert sal.shape == (h, w) and cam.shape == (h, w)
    assert np.isfinite(sal).all() and np.isfinite(cam).all()
    assert (sal >= 0).all() and (cam >= 0).all() and sal.max() > 0


def test_saliency_depends_on_the_chosen_class():
    b = pretrained.load_default_bundle()
    s1 = I.saliency(b.model, digit(), b.spec, 1)
    s7 = I.saliency(b.model, digit(), b.spec, 7)
    assert not np.allclose(s1, s7)


def test_attributions_leave_no_hooks_or_grads_on_the_shared_model():
    b = pretrained.load_default_bundle()
    I.grad_cam(b.model, digit(), b.spec, 2)
    I.saliency(b.model, digit(), b.spec, 2)
    assert all(p.grad is None for p in b.model.parameters())
    assert all(not m._forward_hooks and not m._backward_hooks for m in b.model.modules())


def test_bad_class_is_a_clear_error():
    b = pretrained.load_default_bundle()
    with pytest.raises(I.IntrospectionError, match="not one of the model's 10 classes"):
        I.saliency(b.model, digit(), b.spec, 10)


def test_what_if_zeroes_a_kernel_on_a_copy_and_never_mutates_the_original():
    b = pretrained.load_default_bundle()
    before = {k: v.clone() for k, v in b.model.state_dict().items()}
    edited = I.what_if(b.model, 0, 5, zero=True)
    after = {k: v for k, v in b.model.state_dict().items()}
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert edited is not b.model
    r0 = I.introspect(b.model, digit(), b.spec)
    r1 = I.introspect(edited, digit(), b.spec)
    assert np.all(r1.layers[0].output[5] == 0)  # the zeroed kernel's map is all 0
    np.testing.assert_allclose(r1.layers[0].output[4], r0.layers[0].output[4])  # other maps unchanged
    assert not np.allclose(r1.logits, r0.logits)  # and the change reaches the prediction


def test_what_if_edits_a_kernel_to_a_chosen_one():
    b = pretrained.load_default_bundle()
    k = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], np.float32)
    edited = I.what_if(b.model, 0, 2, k, bias=0.0)
    r = I.introspect(edited, digit(), b.spec)
    np.testing.assert_allclose(r.layers[0].output[2], digit(), atol=1e-6)  # identity kernel copies the input
    assert not torch.equal(b.model[0].weight[2], torch.as_tensor(k)[None])


def test_what_if_on_one_input_channel_of_a_deeper_layer():
    b = pretrained.load_default_bundle()
    second = [i for i, layer in enumerate(b.spec["layers"]) if layer["type"] == "conv2d"][1]
    edited = I.what_if(b.model, second, 0, np.zeros((3, 3)), in_channel=7)
    assert torch.all(edited[second].weight[0, 7] == 0)
    assert torch.equal(edited[second].weight[0, 6], b.model[second].weight[0, 6])


def test_what_if_errors_are_clear():
    b = pretrained.load_default_bundle()
    layers = b.spec["layers"]
    not_conv = next(i for i, layer in enumerate(layers) if layer["type"] != "conv2d")
    n_kernels = layers[0]["out_channels"]
    with pytest.raises(I.IntrospectionError, match="not a convolutional layer"):
        I.what_if(b.model, not_conv, 0, zero=True)
    with pytest.raises(I.IntrospectionError, match=f"has {n_kernels}"):
        I.what_if(b.model, 0, n_kernels, zero=True)
    with pytest.raises(I.IntrospectionError, match="must be 3×3"):
        I.what_if(b.model, 0, 0, np.zeros((2, 2)))
    with pytest.raises(I.IntrospectionError, match="fill in the empty cells"):
        I.what_if(b.model, 0, 0, np.full((3, 3), np.nan))
    with pytest.raises(I.IntrospectionError, match="1e\\+300 is too large"):   # float32 would make it inf
        I.what_if(b.model, 0, 0, np.full((3, 3), 1e300))


def test_non_sequential_module_is_walked_with_hooks():
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 2, 3)
            self.act = torch.nn.ReLU()
            self.fc = torch.nn.Linear(2 * 26 * 26, 10)

        def forward(self, x):
            return self.fc(self.act(self.conv(x)).flatten(1))

    spec = {"input_shape": [1, 28, 28], "num_classes": 10}
    r = I.introspect(Net().eval(), digit(), spec)
    assert [lo.shape for lo in r.layers] == [(2, 26, 26), (2, 26, 26), (10,)]
    assert [lo.kind for lo in r.layers] == ["conv2d", "relu", "dense"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_engine_models_are_looked_into_through_their_torch_twin(dtype):
    from cnn_core.numpy_nn.from_spec import build_numpy, to_torch

    spec = SPECS["seed-004"]
    np_model = build_numpy(spec, seed=3, dtype=dtype).eval()
    x = digit()[None, None].astype(dtype)
    want = np_model.forward(x)[0]
    r = I.introspect(np_model, digit(), spec)  # the NumPy Sequential itself
    np.testing.assert_allclose(r.logits, want, rtol=1e-4, atol=1e-5)
    r2 = I.introspect(to_torch(np_model, spec).eval(), digit(), spec)  # a float64 torch twin
    np.testing.assert_allclose(r2.logits, want, rtol=1e-4, atol=1e-5)
    assert I.grad_cam(np_model, digit(), spec, 1).shape == (28, 28)
    edited = I.what_if(np_model, 0, 0, zero=True, spec=spec)
    assert np.all(I.introspect(edited, digit(), spec).layers[0].output[0] == 0)


def test_layer_arithmetic_substitutes_the_numbers_and_adds_up_to_the_parameter_count():
    spec = specs.preset("lenet-5")
    lines = I.layer_arithmetic(spec)
    assert lines[0] == ["Output size ⌊(28 + 2·2 − 5)/1⌋ + 1 = 28 (height and width)",
                        "Parameters: 6 kernels × (1·5·5 weights + 1 bias) = 156"]
    assert lines[2] == ["Output size ⌊(28 − 2)/2⌋ + 1 = 14 (height and width)"]
    assert lines[7] == ["Parameters: 400 inputs × 120 units + 120 biases = 48,120"]
    counted = sum(int(line.rsplit("= ", 1)[1].replace(",", "")) for ls in lines.values() for line in ls
                  if line.startswith("Parameters"))
    assert counted == specs.count_params(spec) == sum(p.numel() for p in specs.build_torch(spec).parameters())
