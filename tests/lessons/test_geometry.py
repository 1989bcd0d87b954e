"""Output sizes and padding: one formula, one keyword-only signature, and 'same' with an even kernel
refused with the same sentence by the lessons, the spec builder, the engines and the command line."""
import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_core.lessons import convolution as conv, geometry, presets
from cnn_core.models import specs
from cnn_core.training import cli

ODD_KERNEL = "'same' padding needs an odd kernel size"


@pytest.mark.parametrize("n,f,p,s,out", [(28, 3, 0, 1, 26), (28, 3, "same", 1, 28), (5, 3, "valid", 1, 3),
                                         (5, 3, "same", 1, 5), (7, 3, 0, 2, 3), (28, 5, 2, 1, 28), (6, 2, 0, 1, 5),
                                         (8, 2, 0, 1, 7), (32, 5, 0, 3, 10), (9, 3, "2", 2, 6)])
def test_output_size_agrees_with_torch_and_the_formula(n, f, p, s, out):
    assert geometry.output_size(n=n, f=f, padding=p, stride=s) == out
    assert geometry.output_size_formula(n=n, f=f, padding=p, stride=s).endswith(f"= {out}")
    pad = geometry.resolve_padding(p, f=f)
    got = F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, f, f), stride=s, padding=pad).shape[-1]
    assert got == out


def test_every_size_function_takes_keywords_only():
    for fn in (geometry.output_size, geometry.output_size_formula, geometry.pool_output_size,
               geometry.pool_output_formula):
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in inspect.signature(fn).parameters.values())
    with pytest.raises(TypeError):
        geometry.output_size(28, 3, 0, 1)  # the old argument orders cannot be mixed up any more


def test_output_size_formula_is_substituted():
    assert geometry.output_size_formula(n=28, f=3, padding="same", stride=1) == \
        "⌊(28 + 2·1 − 3)/1⌋ + 1 = ⌊27/1⌋ + 1 = 28"
    assert geometry.output_size_formula(n=7, f=3, padding=0, stride=2) == "⌊(7 + 2·0 − 3)/2⌋ + 1 = ⌊4/2⌋ + 1 = 3"
    assert geometry.output_size_formula(n=5, f=3, padding=1, stride=2, steps=False) == "⌊(5 + 2·1 − 3)/2⌋ + 1 = 3"
    # written out even when the kernel does not fit, so an error message can show why
    assert geometry.output_size_formula(n=3, f=7, steps=False) == "⌊(3 + 2·0 − 7)/1⌋ + 1 = -3"


def test_same_padding_of_the_notes_keeps_5x5():
    # 001: a 5×5×1 image zero-padded to 7×7, 3×3 kernel, stride 1 → 5×5
    s = conv.conv_setup(presets.FIGURE_7_3_IMAGE, np.ones((3, 3)), padding="same")
    assert s.padded.shape == (1, 7, 7) and s.out_hw == (5, 5)


def test_doc003_6x8_image_with_2x2_filters_gives_F_5_7():
    assert geometry.conv_output_shape((6, 8), f=2, filters=4) == (4, 5, 7)
    w = torch.randn(4, 1, 2, 2, dtype=torch.float64)
    assert tuple(F.conv2d(torch.randn(1, 1, 6, 8, dtype=torch.float64), w).shape[1:]) == (4, 5, 7)


def test_bad_settings_say_what_to_do():
    with pytest.raises(geometry.LessonError, match="odd kernel"):
        geometry.resolve_padding("same", f=2)
    with pytest.raises(geometry.LessonError, match="does not fit"):
        geometry.output_size(n=3, f=5, padding=0, stride=1)
    with pytest.raises(geometry.LessonError, match="negative"):
        geometry.resolve_padding(-1, f=3)
    with pytest.raises(geometry.LessonError, match="'valid', 'same' or a whole number"):
        geometry.resolve_padding("full", f=3)
    with pytest.raises(geometry.LessonError, match="larger than the 3×3 map"):
        geometry.pool_output_size(n=3, k=4)
    with pytest.raises(geometry.LessonError, match="not a number"):
        conv.conv_setup(np.array([[1.0, np.nan], [0, 0]]), np.ones((1, 1)))


def test_pool_output_size_formula():
    assert geometry.pool_output_formula(n=26, k=2) == "⌊(26 − 2)/2⌋ + 1 = 13"  # document 000: 26 → 13
    assert geometry.pool_output_size(n=5, k=3, stride=1) == 3 and geometry.pool_output_size(n=5, k=3, stride=2) == 2


def test_doc000_and_doc004_shapes():
    # 28×28, 8 kernels 3×3, no padding → 26×26×8; 2×2 max pool → 13×13×8; flatten 1,352
    c, h, w = geometry.conv_output_shape((28, 28), f=3, filters=8)
    assert (c, h, w) == (8, 26, 26)
    ph = geometry.pool_output_size(n=h, k=2)
    assert ph == 13 and c * ph * ph == 1352


# --- 'same' with an even kernel: one behaviour everywhere ---------------------------------------

def test_even_kernel_with_same_padding_is_refused_by_the_lesson():
    with pytest.raises(geometry.LessonError, match=ODD_KERNEL):
        conv.conv_setup(np.zeros((6, 6)), np.ones((2, 2)), padding="same")


def test_even_kernel_with_same_padding_is_refused_by_the_train_builder():
    # the Train page used to build (k − 1) // 2 = 0 here and silently shrink 28 → 27
    with pytest.raises(specs.SpecError, match=ODD_KERNEL):
        specs.build_spec(blocks=1, kernels=4, kernel_size=4, padding="same")
    assert specs.layer_infos(specs.build_spec(blocks=1, kernels=4, kernel_size=4, padding=2,
                                              pooling=None))[0].out_shape == (4, 29, 29)


def test_a_spec_that_says_same_resolves_like_the_lesson_in_both_engines():
    from cnn_core.numpy_nn import build_numpy

    spec = specs.preset("seed-000")
    spec["layers"][0]["padding"] = "same"
    assert specs.layer_infos(spec)[0].out_shape == (8, 28, 28)
    x = np.zeros((1, 1, 28, 28), np.float32)
    assert specs.build_torch(spec)(torch.from_numpy(x)).shape == (1, 10)
    assert build_numpy(spec).forward(x).shape == (1, 10)
    spec["layers"][0]["kernel_size"] = 2
    with pytest.raises(specs.SpecError, match=ODD_KERNEL):
        specs.layer_infos(spec)


def test_even_kernel_with_same_padding_is_refused_by_the_command_line(capsys):
    code = cli.main(["--preset", "custom", "--kernel-size", "2", "--padding", "same", "--epochs", "1",
                     "--dataset", "bundled"])
    assert code == 2 and ODD_KERNEL in capsys.readouterr().err
