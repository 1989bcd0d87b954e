"""The Train page's builder fields, parsed and checked in the library (one sentence per mistake)."""
import pytest

from cnn_core.models import builder_form as bf
from cnn_core.models import specs


@pytest.mark.parametrize("text, blocks, expected", [("16", 3, [16, 16, 16]), ("16, 32", 2, [16, 32]),
                                                     (" 8 ;16 ", 2, [8, 16]), ("4,", 1, [4])])
def test_kernels_one_for_all_blocks_or_one_per_block(text, blocks, expected):
    assert bf.parse_kernels(text, blocks) == expected


@pytest.mark.parametrize("text, blocks, words", [("", 2, "empty"), ("   ", 2, "empty"), ("16, x", 2, "whole numbers"),
                                                 ("1.5", 1, "whole numbers"), ("8, 16, 24", 2, "3 numbers for 2"),
                                                 ("0", 1, "between 1 and 512"), ("9999", 1, "between 1 and 512"),
                                                 ("-4", 1, "between 1 and 512"), ("1e3", 1, "whole numbers")])
def test_unreadable_kernels_are_one_sentence(text, blocks, words):
    with pytest.raises(bf.BuilderInputError, match=words):
        bf.parse_kernels(text, blocks)


def test_padding_words_and_numbers():
    assert bf.parse_padding("same") == "same" and bf.parse_padding(" Valid") == "valid" and bf.parse_padding("2") == 2
    for bad in ("wide", "-1", ""):
        with pytest.raises(bf.BuilderInputError):
            bf.parse_padding(bad)


def _fields(**kw):
    base = dict(blocks=2, kernels="16, 32", kernel_size=3, stride=1, padding="same", pooling="max", activation="relu",
                dense_width=64, dropout_p=0.0, batchnorm=False, input_shape=(1, 28, 28), num_classes=10)
    return {**base, **kw}


def test_the_builder_makes_the_network_it_describes():
    spec = bf.builder_spec(**_fields(padding="1", pooling="none"))
    convs = [layer for layer in spec["layers"] if layer["type"] == "conv2d"]
    assert [c["out_channels"] for c in convs] == [16, 32] and all(c["padding"] == 1 for c in convs)
    assert not any(layer["type"].endswith("pool2d") for layer in spec["layers"])
    assert specs.count_params(spec) == specs.count_params(specs.build_spec(
        blocks=2, kernels=[16, 32], padding=1, pooling=None, dense_width=64))


def test_a_network_that_shrinks_to_nothing_is_a_spec_error_not_an_input_error():
    with pytest.raises(specs.SpecError) as info:
        bf.builder_spec(**_fields(blocks=4, kernels="8", kernel_size=11, padding="valid"))
    assert not isinstance(info.value, bf.BuilderInputError)
