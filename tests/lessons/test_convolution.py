"""Convolution written out cell by cell, against the notes' 320 and torch's conv2d."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_core.lessons import convolution as conv, geometry, presets
from cnn_core.lessons.formatting import fmt, fmt_factor
from tests.lessons.torch_ref import torch_conv

SHARPEN = "Sharpen (the notes' kernel)"


def test_notes_sharpen_cell_is_320_written_like_the_notes():
    s = conv.conv_setup(presets.SHARPEN_320_IMAGE, presets.preset_kernel(SHARPEN), 0.0, 1, 1)
    cell = conv.conv_cell(s, 0, 0)
    assert cell.window[0].tolist() == [[0, 0, 0], [0, 105, 102], [0, 103, 99]]
    assert cell.value == 320
    assert cell.written_sum() == ("0·0 + 0·(−1) + 0·0 + 0·(−1) + 105·5 + 102·(−1) + 0·0 + 103·(−1) + 99·0 = 320")
    assert cell.products[0].tolist() == [[0, 0, 0], [0, 525, -102], [0, -103, 0]]


def test_written_sum_elides_long_windows_and_shows_bias():
    s = conv.conv_setup(presets.SHARPEN_320_IMAGE, presets.preset_kernel(SHARPEN), 1.5, 1, 1)
    cell = conv.conv_cell(s, 0, 0)
    assert cell.written_sum(max_terms=5) == "0·0 + 0·(−1) + 0·0 + … + 103·(−1) + 99·0 + 1.5 (bias) = 321.5"
    assert cell.written_sum(include_bias=False).endswith("99·0 = 321.5")


def test_notes_figure_7_3_gives_3x3_feature_map():
    out = conv.conv2d(presets.FIGURE_7_3_IMAGE, presets.preset_kernel("Figure 7.3's X kernel"), padding="valid")
    assert out.tolist() == [[4, 3, 4], [2, 4, 3], [2, 3, 4]]


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("f", [1, 2, 3, 5])
def test_conv2d_matches_torch(stride, padding, f):
    rng = np.random.default_rng(stride * 100 + padding * 10 + f)
    x, k, b = rng.normal(size=(9, 7)), rng.normal(size=(f, f)), rng.normal()
    np.testing.assert_allclose(conv.conv2d(x, k, b, stride, padding), torch_conv(x, k, b, stride, padding), atol=1e-12)


def test_every_cell_equals_the_full_map_and_positions_run_row_by_row():
    rng = np.random.default_rng(0)
    s = conv.conv_setup(rng.integers(0, 9, (6, 5)), rng.integers(-2, 3, (3, 3)), 2.0, 2, 1)
    full = conv.conv_map(s)
    assert s.out_hw == (3, 3) and s.positions == 9
    for k in range(s.positions):
        r, c = s.position(k)
        assert (r, c) == (k // 3, k % 3)
        assert conv.conv_cell(s, r, c).value == pytest.approx(full[r, c])
        assert conv.conv_cell(s, r, c).origin == (2 * r, 2 * c)


def test_partial_map_fills_in_up_to_the_position():
    full = np.arange(6.0).reshape(2, 3)
    part = conv.partial_map(full, 3)
    assert part[0].tolist() == [0, 1, 2] and part[1, 0] == 3
    assert np.isnan(part[1, 1:]).all()


def test_rgb_convolution_adds_three_channel_sums_and_the_bias():
    s = conv.conv_setup(presets.RGB_5X5X3, presets.RGB_KERNEL_3X3X3, presets.RGB_BIAS, 1, 0)
    cell = conv.conv_cell(s, 0, 0)
    sums = cell.channel_sums
    assert len(sums) == 3
    assert cell.value == pytest.approx(sums.sum() + 1.0)
    assert cell.written_channel_sum() == f"{fmt_factor(sums[0])} + {fmt_factor(sums[1])} + " \
                                         f"{fmt_factor(sums[2])} + 1 (bias) = {fmt(cell.value)}"
    for c in range(3):
        assert cell.written_sum(channel=c).endswith(f"= {fmt(sums[c])}")
    # one output channel, the same as torch's conv with a (1, 3, 3, 3) weight
    x = torch.as_tensor(presets.RGB_5X5X3)[None]
    w = torch.as_tensor(presets.RGB_KERNEL_3X3X3)[None]
    ref = F.conv2d(x, w, torch.tensor([1.0], dtype=torch.float64))[0, 0].numpy()
    np.testing.assert_allclose(conv.conv_map(s), ref)


def test_kernel_depth_must_match_input_depth():
    with pytest.raises(geometry.LessonError, match="depth"):
        conv.conv_setup(presets.RGB_5X5X3, np.ones((3, 3)))


def test_relu_at_the_kink():
    assert conv.relu([-1.0, 0.0, 2.5]).tolist() == [0.0, 0.0, 2.5]


def test_flatten_a_3x3_map_into_a_9x1_vector_in_torch_order():
    m = np.arange(9.0).reshape(3, 3)
    v = conv.flatten_column(m)
    assert v.shape == (9, 1) and v[:, 0].tolist() == list(range(9))
    np.testing.assert_array_equal(v[:, 0], torch.nn.Flatten(0)(torch.as_tensor(m)).numpy())


@pytest.mark.parametrize("x,k,b,what", [
    (np.full((5, 5), 1e308), np.eye(3), 0.0, "input value"),
    (np.ones((5, 5)), -2e6 * np.eye(3), 0.0, "kernel value"),
    (np.ones((5, 5)), np.eye(3), 1e9, "bias"),
])
def test_typed_values_beyond_a_million_are_refused_with_the_culprit(x, k, b, what):
    with pytest.raises(geometry.LessonError, match=f"Keep every {what} between"):
        conv.conv_setup(x, k, b)
    conv.conv_setup(np.full((5, 5), 1e6), np.eye(3), -1e6)   # the bounds themselves are fine
