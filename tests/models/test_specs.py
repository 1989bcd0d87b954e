"""Specs: shapes, parameter counts and error messages the Train page shows."""
import pytest
import torch

from cnn_core.models import specs


def _torch_params(spec):
    return sum(p.numel() for p in specs.build_torch(spec).parameters())


@pytest.mark.parametrize("name", list(specs.PRESETS))
def test_presets_build_and_counts_agree_with_torch(name):
    spec = specs.preset(name)
    model = specs.build_torch(spec).eval()
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert specs.count_params(spec) == _torch_params(spec)


def test_seed_002_has_the_reports_315148_parameters():
    infos = specs.layer_infos(specs.preset("seed-002"))
    assert sum(i.params for i in infos) == 315_148
    assert [i.params for i in infos if i.params] == [2, 320, 64, 18_496, 128, 73_856, 147_584, 256, 73_792, 650]


def test_seed_000_shapes_match_document_000():
    infos = specs.layer_infos(specs.preset("seed-000"))
    assert [i.out_shape for i in infos] == [(8, 26, 26), (8, 26, 26), (8, 13, 13), (1352,), (10,)]


def test_module_i_is_layer_i_so_state_dict_keys_align():
    keys = specs.build_torch(specs.preset("seed-004")).state_dict().keys()
    assert sorted(keys) == ["0.bias", "0.weight", "4.bias", "4.weight", "6.bias", "6.weight"]


def test_kernel_larger_than_input_is_explained_with_the_formula():
    spec = specs.build_spec(blocks=1, kernels=4, kernel_size=31, padding=0)
    with pytest.raises(specs.SpecError, match=r"⌊\(28 \+ 2·0 − 31\)/1⌋ \+ 1 = -2"):
        specs.layer_infos(spec)


def test_too_many_pooling_layers_is_explained():
    spec = specs.build_spec(blocks=6, kernels=4, padding="same")
    with pytest.raises(specs.SpecError, match="window is larger than its 1×1 input"):
        specs.layer_infos(spec)


def test_builder_same_padding_keeps_size_and_adapts_to_rgb():
    spec = specs.build_spec(blocks=2, kernels=[8, 16], kernel_size=5, batchnorm=True, dropout_p=0.25,
                            dense_width=32, input_shape=(3, 32, 32), num_classes=5)
    infos = specs.layer_infos(spec)
    assert infos[0].out_shape == (8, 32, 32)
    assert infos[-1].out_shape == (5,)
    assert specs.build_torch(spec).eval()(torch.zeros(1, 3, 32, 32)).shape == (1, 5)


def test_shapes_and_their_arithmetic_come_from_the_one_formula():
    from cnn_core.inference.introspection import layer_arithmetic

    spec = specs.build_spec(blocks=1, kernels=2, kernel_size=3, stride=2, padding=1, pooling=None,
                            input_shape=(1, 5, 5), num_classes=3)
    assert specs.layer_infos(spec)[0].out_shape == (2, 3, 3)
    assert layer_arithmetic(spec)[0][0] == "Output size ⌊(5 + 2·1 − 3)/2⌋ + 1 = 3 (height and width)"
    doc003 = specs.build_spec(blocks=1, kernels=4, kernel_size=2, padding=0, pooling=None, input_shape=(1, 6, 8))
    assert specs.layer_infos(doc003)[0].out_shape == (4, 5, 7)   # document 003: (F, 5, 7)
