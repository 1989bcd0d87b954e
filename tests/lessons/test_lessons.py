"""Every number the teaching pages show, against the notes (seed-facts 001 / 003) and PyTorch."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_core.lessons import convolution as L

SHARPEN = "Sharpen (the notes' kernel)"


def torch_conv(x, k, b, s, p):
    x = torch.as_tensor(np.asarray(x, dtype=np.float64))
    x = x[None, None] if x.ndim == 2 else x[None]
    k = torch.as_tensor(np.asarray(k, dtype=np.float64))
    k = k[None, None] if k.ndim == 2 else k[None]
    return F.conv2d(x, k, torch.tensor([float(b)], dtype=torch.float64), stride=s, padding=p)[0, 0].numpy()


# --- the notes' worked convolution: 320 --------------------------------------------------------

def test_notes_sharpen_cell_is_320_written_like_the_notes():
    s = L.conv_setup(L.SHARPEN_320_IMAGE, L.preset_kernel(SHARPEN), 0.0, 1, 1)
    cell = L.conv_cell(s, 0, 0)
    assert cell.window[0].tolist() == [[0, 0, 0], [0, 105, 102], [0, 103, 99]]
    assert cell.value == 320
    assert cell.written_sum() == ("0·0 + 0·(−1) + 0·0 + 0·(−1) + 105·5 + 102·(−1) + 0·0 + 103·(−1) + 99·0 = 320")
    assert cell.products[0].tolist() == [[0, 0, 0], [0, 525, -102], [0, -103, 0]]


def test_written_sum_elides_long_windows_and_shows_bias():
    s = L.conv_setup(L.SHARPEN_320_IMAGE, L.preset_kernel(SHARPEN), 1.5, 1, 1)
    cell = L.conv_cell(s, 0, 0)
    assert cell.written_sum(max_terms=5) == "0·0 + 0·(−1) + 0·0 + … + 103·(−1) + 99·0 + 1.5 (bias) = 321.5"
    assert cell.written_sum(include_bias=False).endswith("99·0 = 321.5")


def test_notes_figure_7_3_gives_3x3_feature_map():
    out = L.conv2d(L.FIGURE_7_3_IMAGE, L.preset_kernel("Figure 7.3's X kernel"), padding="valid")
    assert out.tolist() == [[4, 3, 4], [2, 4, 3], [2, 3, 4]]


def test_every_example_runs_and_matches_torch():
    for ex in L.EXAMPLES.values():
        k = L.preset_kernel(ex.kernel)
        p = L.resolve_padding(ex.padding, k.shape[-1])
        np.testing.assert_allclose(L.conv2d(ex.image, k, ex.bias, ex.stride, p),
                                   torch_conv(ex.image, k, ex.bias, ex.stride, p))


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("f", [1, 2, 3, 5])
def test_conv2d_matches_torch(stride, padding, f):
    rng = np.random.default_rng(stride * 100 + padding * 10 + f)
    x, k, b = rng.normal(size=(9, 7)), rng.normal(size=(f, f)), rng.normal()
    np.testing.assert_allclose(L.conv2d(x, k, b, stride, padding), torch_conv(x, k, b, stride, padding), atol=1e-12)


def test_every_cell_equals_the_full_map_and_positions_run_row_by_row():
    rng = np.random.default_rng(0)
    s = L.conv_setup(rng.integers(0, 9, (6, 5)), rng.integers(-2, 3, (3, 3)), 2.0, 2, 1)
    full = L.conv_map(s)
    assert s.out_hw == (3, 3) and s.positions == 9
    for k in range(s.positions):
        r, c = s.position(k)
        assert (r, c) == (k // 3, k % 3)
        assert L.conv_cell(s, r, c).value == pytest.approx(full[r, c])
        assert L.conv_cell(s, r, c).origin == (2 * r, 2 * c)


def test_partial_map_fills_in_up_to_the_position():
    full = np.arange(6.0).reshape(2, 3)
    part = L.partial_map(full, 3)
    assert part[0].tolist() == [0, 1, 2] and part[1, 0] == 3
    assert np.isnan(part[1, 1:]).all()


def test_rgb_convolution_adds_three_channel_sums_and_the_bias():
    s = L.conv_setup(L.RGB_5X5X3, L.RGB_KERNEL_3X3X3, L.RGB_BIAS, 1, 0)
    cell = L.conv_cell(s, 0, 0)
    sums = cell.channel_sums
    assert len(sums) == 3
    assert cell.value == pytest.approx(sums.sum() + 1.0)
    assert cell.written_channel_sum() == f"{L.fmt_factor(sums[0])} + {L.fmt_factor(sums[1])} + " \
                                         f"{L.fmt_factor(sums[2])} + 1 (bias) = {L.fmt(cell.value)}"
    for c in range(3):
        assert cell.written_sum(channel=c).endswith(f"= {L.fmt(sums[c])}")
    # one output channel, the same as torch's conv with a (1, 3, 3, 3) weight
    x = torch.as_tensor(L.RGB_5X5X3)[None]
    w = torch.as_tensor(L.RGB_KERNEL_3X3X3)[None]
    ref = F.conv2d(x, w, torch.tensor([1.0], dtype=torch.float64))[0, 0].numpy()
    np.testing.assert_allclose(L.conv_map(s), ref)


def test_kernel_depth_must_match_input_depth():
    with pytest.raises(L.LessonError, match="depth"):
        L.conv_setup(L.RGB_5X5X3, np.ones((3, 3)))


# --- output sizes --------------------------------------------------------------------------------

@pytest.mark.parametrize("n,f,p,s,out", [(28, 3, 0, 1, 26), (28, 3, "same", 1, 28), (5, 3, "valid", 1, 3),
                                         (5, 3, "same", 1, 5), (7, 3, 0, 2, 3), (28, 5, 2, 1, 28), (6, 2, 0, 1, 5),
                                         (8, 2, 0, 1, 7), (32, 5, 0, 3, 10)])
def test_output_size_formula(n, f, p, s, out):
    assert L.output_size(n, f, p, s) == out
    assert L.output_size_formula(n, f, p, s).endswith(f"= {out}")


def test_output_size_formula_is_substituted():
    assert L.output_size_formula(28, 3, "same", 1) == "⌊(28 + 2·1 − 3)/1⌋ + 1 = ⌊27/1⌋ + 1 = 28"
    assert L.output_size_formula(7, 3, 0, 2) == "⌊(7 + 2·0 − 3)/2⌋ + 1 = ⌊4/2⌋ + 1 = 3"


def test_same_padding_of_the_notes_keeps_5x5():
    # 001: a 5×5×1 image zero-padded to 7×7, 3×3 kernel, stride 1 → 5×5
    s = L.conv_setup(L.FIGURE_7_3_IMAGE, np.ones((3, 3)), padding="same")
    assert s.padded.shape == (1, 7, 7) and s.out_hw == (5, 5)


def test_doc003_6x8_image_with_2x2_filters_gives_F_5_7():
    assert L.conv_output_shape((6, 8), 2, filters=4) == (4, 5, 7)
    w = torch.randn(4, 1, 2, 2, dtype=torch.float64)
    assert tuple(F.conv2d(torch.randn(1, 1, 6, 8, dtype=torch.float64), w).shape[1:]) == (4, 5, 7)


def test_bad_settings_say_what_to_do():
    with pytest.raises(L.LessonError, match="odd kernel"):
        L.resolve_padding("same", 2)
    with pytest.raises(L.LessonError, match="does not fit"):
        L.output_size(3, 5, 0, 1)
    with pytest.raises(L.LessonError, match="not a number"):
        L.conv_setup(np.array([[1.0, np.nan], [0, 0]]), np.ones((1, 1)))


# --- ReLU and pooling ----------------------------------------------------------------------------

def test_relu_at_the_kink():
    assert L.relu([-1.0, 0.0, 2.5]).tolist() == [0.0, 0.0, 2.5]


def test_notes_pooling_example_3x3_stride_1():
    res = L.pool2d(L.POOLING_5X5, "max", 3, 1)
    assert res.output.tolist() == [[3, 3, 3], [3, 3, 3], [3, 2, 3]]
    avg = L.pool2d(L.POOLING_5X5, "avg", 3, 1)
    assert avg.output[0, 0] == pytest.approx(15 / 9)
    assert avg.written(0, 0) == "avg(3, 3, 2, 0, 0, 1, 3, 1, 2) = 15/9 = 1.667"
    assert res.written(2, 1) == "max(1, 2, 2, 0, 0, 2, 0, 0, 0) = 2"


def test_notes_pooling_stride_2_max_and_average():
    mx = L.pool2d(L.POOLING_5X5, "max", 3, 2)
    av = L.pool2d(L.POOLING_5X5, "avg", 3, 2)
    t = torch.as_tensor(L.POOLING_5X5)[None, None]
    np.testing.assert_allclose(mx.output, F.max_pool2d(t, 3, 2)[0, 0].numpy())
    np.testing.assert_allclose(av.output, F.avg_pool2d(t, 3, 2)[0, 0].numpy())
    assert mx.output.tolist() == [[3, 3], [3, 3]]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("k,s", [(2, 2), (3, 1), (3, 2), (2, 1)])
def test_pool_winners_and_gradient_routing_match_torch(kind, k, s):
    # the notes' map has ties (two 3s in a window): torch routes to the first, so must we
    x = torch.tensor(L.POOLING_5X5, dtype=torch.float64, requires_grad=True)
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    out = pool(x[None, None], k, s)[0, 0]
    g = torch.arange(1.0, out.numel() + 1, dtype=torch.float64).reshape(out.shape)
    out.backward(g)
    res = L.pool2d(L.POOLING_5X5, kind, k, s)
    np.testing.assert_allclose(res.output, out.detach().numpy())
    np.testing.assert_allclose(res.route_gradient(g.numpy()), x.grad.numpy())
    if kind == "max":
        for (i, j), (r, c) in zip(np.ndindex(res.output.shape), res.winners.reshape(-1, 2)):
            assert L.POOLING_5X5[r, c] == res.output[i, j]


def test_max_pool_gradient_goes_to_winners_only():
    res = L.pool2d(L.POOLING_5X5, "max", 3, 1)
    grad = res.route_gradient()
    assert grad.sum() == 9  # nine windows, each passes its 1 to one cell
    assert (grad > 0).sum() == len({tuple(w) for w in res.winners.reshape(-1, 2)})
    assert "only to its winning cell" in res.routing_note()


def test_pool_output_size_formula():
    assert L.pool_output_formula(26, 2) == "⌊(26 − 2)/2⌋ + 1 = 13"  # document 000: 26 → 13
    assert L.pool_output_size(5, 3, 1) == 3 and L.pool_output_size(5, 3, 2) == 2


# --- kernels -------------------------------------------------------------------------------------

def test_kernel_presets_do_what_they_say():
    img = np.zeros((7, 7))
    img[:, 4:] = 1.0  # a vertical edge
    same = lambda name: L.conv2d(img, L.preset_kernel(name), padding="same")  # noqa: E731
    np.testing.assert_allclose(same("Identity"), img)
    for blur in ("Box blur", "Gaussian blur"):
        assert L.preset_kernel(blur).sum() == pytest.approx(1.0)
    assert np.abs(same("Sobel x")[1:-1, 1:-1]).max() > 0 and np.abs(same("Sobel y")[1:-1, 1:-1]).max() == 0
    assert np.abs(same("Edge: vertical")[1:-1, 1:-1]).max() > 0
    assert np.abs(same("Edge: horizontal")[1:-1, 1:-1]).max() == 0
    for name in ("Laplacian", "Edge: all directions", "Sobel x"):
        assert L.preset_kernel(name).sum() == 0  # zero on flat areas
    assert L.preset_kernel(SHARPEN).tolist() == [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]


# --- softmax and cross-entropy -------------------------------------------------------------------

def test_notes_softmax_example():
    p = L.softmax(L.NOTES_SOFTMAX_LOGITS)
    assert np.round(p, 3).tolist() == [0.775, 0.116, 0.039, 0.070]
    assert p.sum() == pytest.approx(1.0)
    assert L.softmax_written(L.NOTES_SOFTMAX_LOGITS, 0) == \
        "e^3.2 / (e^3.2 + e^1.3 + e^0.2 + e^0.8) = 24.53 / 31.65 = 0.775"
    np.testing.assert_allclose(p, torch.softmax(torch.tensor(L.NOTES_SOFTMAX_LOGITS, dtype=torch.float64), 0))


def test_notes_small_softmax_is_about_07_02_01():
    assert np.round(L.softmax(L.NOTES_SOFTMAX_SMALL), 1).tolist() == [0.7, 0.2, 0.1]


def test_softmax_is_stable_for_large_logits():
    p = L.softmax([1000.0, 1000.0, -1000.0])
    assert p.tolist() == [0.5, 0.5, 0.0]


def test_softmax_written_shifts_large_logits_instead_of_overflowing():
    assert L.softmax_written([1000.0, -1000.0], 1) == \
        "e^(−1000 − 1000) / (e^(1000 − 1000) + e^(−1000 − 1000)) = 0 / 1 = 0.000"
    # e^30 would print as a 14-digit number: shifted too, and the value is the same softmax
    line = L.softmax_written([30.0, 29.0], 0)
    assert line.startswith("e^(30 − 30) / (e^(30 − 30) + e^(29 − 30)) = 1 / 1.368") and line.endswith("= 0.731")
    assert L.softmax_written([-1000.0, -1001.0], 0).startswith("e^(−1000 + 1000)")


@pytest.mark.parametrize("z,t", [([3.2, 1.3, 0.2, 0.8], 2), ([1000.0, -1000.0], 1), ([20.0, -0.5, 3.0], 1)])
def test_cross_entropy_from_logits_matches_torch_where_p_underflows(z, t):
    want = float(F.cross_entropy(torch.tensor([z], dtype=torch.float64), torch.tensor([t])))
    assert L.cross_entropy_logits(z, t) == pytest.approx(want, rel=1e-12)
    bits, nats = L.cross_entropy_logits_written(z, t)
    assert f"= {L.fmt(want)} nats" in nats
    assert bits.split(" = ")[-1] == f"{L.fmt(want / math.log(2))} bits"


def test_cross_entropy_written_from_logits_explains_a_zero_probability():
    bits, nats = L.cross_entropy_logits_written([1000.0, -1000.0], 1)
    assert nats.startswith("−ln p = ln Σ e^z − z_true = 1000 − (−1000) = 2000 nats")
    assert "rounds to 0" in nats and bits.endswith("= 2885.39 bits")
    assert L.cross_entropy_logits_written([3.2, 1.3, 0.2, 0.8], 0) == ("−log2(0.7751) = 0.367 bits",
                                                                       "−ln(0.7751) = 0.255 nats")


def test_notes_cross_entropy_bits_and_nats():
    probs = L.NOTES_FIVE_PROBS
    assert round(L.cross_entropy(probs, 0, 2), 3) == 3.322
    assert round(L.cross_entropy(probs, 0), 3) == 2.303
    assert L.cross_entropy_written(probs, 0) == ("−log2(0.1) = 3.322 bits", "−ln(0.1) = 2.303 nats")
    nats = torch.nn.functional.nll_loss(torch.log(torch.tensor([probs], dtype=torch.float64)), torch.tensor([0]))
    assert L.cross_entropy(probs, 0) == pytest.approx(float(nats))


def test_notes_five_class_table_and_erratum():
    rows = L.five_class_table()
    assert [round(r.bits, 3) for r in rows] == [3.322, 0.943, 1.737, 3.644, 1.889]
    assert [r.agrees for r in rows] == [True, True, False, True, True]  # the notes' 1.685 is a slip
    assert round(L.five_class_mean(), 3) == 2.307
    assert round(sum(L.NOTES_FIVE_BITS) / 5, 4) == L.NOTES_FIVE_MEAN  # the notes' own mean from its slip


def test_one_hot_validity_of_the_notes_vectors():
    assert L.one_hot_check([0, 0, 0, 1, 0]) == (True, "Valid: exactly one 1, at position 4 (index 3).")
    ok, why = L.one_hot_check([0, 1, 0, 1, 0])
    assert not ok and "2 ones" in why
    ok, why = L.one_hot_check([1, 1, 1, 1, 1])
    assert not ok and "5 ones" in why
    assert not L.one_hot_check([0, 0.5, 0.5])[0]
    assert L.one_hot(3, 5).tolist() == [0, 0, 0, 1, 0]


def test_softmax_cross_entropy_gradient_is_p_minus_y_like_torch():
    z = torch.tensor(L.NOTES_SOFTMAX_LOGITS, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.cross_entropy(z[None], torch.tensor([2])).backward()
    g = L.softmax_ce_gradient(L.softmax(L.NOTES_SOFTMAX_LOGITS), 2)
    np.testing.assert_allclose(g, z.grad.numpy(), atol=1e-12)
    assert g.sum() == pytest.approx(0.0, abs=1e-12)


def test_zero_probability_has_infinite_loss_message():
    with pytest.raises(L.LessonError, match="infinite"):
        L.cross_entropy([1.0, 0.0], 1)


def test_fmt_writes_numbers_like_the_notes():
    assert [L.fmt(v) for v in (320.0, -1, 0.1, 1 / 3, -0.0, 2.5)] == ["320", "−1", "0.1", "0.333", "0", "2.5"]
    assert L.fmt_factor(-1) == "(−1)" and math.isclose(float(L.fmt(0.07, 2)), 0.07)


def test_softmax_written_keeps_three_decimals_like_the_notes():
    assert L.softmax_written(L.NOTES_SOFTMAX_LOGITS, 3).endswith("= 2.23 / 31.65 = 0.070")


def test_flatten_a_3x3_map_into_a_9x1_vector_in_torch_order():
    m = np.arange(9.0).reshape(3, 3)
    v = L.flatten_column(m)
    assert v.shape == (9, 1) and v[:, 0].tolist() == list(range(9))
    np.testing.assert_array_equal(v[:, 0], torch.nn.Flatten(0)(torch.as_tensor(m)).numpy())


def test_doc000_and_doc004_shapes():
    # 28×28, 8 kernels 3×3, no padding → 26×26×8; 2×2 max pool → 13×13×8; flatten 1,352
    c, h, w = L.conv_output_shape((28, 28), 3, filters=8)
    assert (c, h, w) == (8, 26, 26)
    ph = L.pool_output_size(h, 2)
    assert ph == 13 and c * ph * ph == 1352


@pytest.mark.parametrize("x,k,b,what", [
    (np.full((5, 5), 1e308), np.eye(3), 0.0, "input value"),
    (np.ones((5, 5)), -2e6 * np.eye(3), 0.0, "kernel value"),
    (np.ones((5, 5)), np.eye(3), 1e9, "bias"),
])
def test_typed_values_beyond_a_million_are_refused_with_the_culprit(x, k, b, what):
    with pytest.raises(L.LessonError, match=f"Keep every {what} between"):
        L.conv_setup(x, k, b)
    L.conv_setup(np.full((5, 5), 1e6), np.eye(3), -1e6)   # the bounds themselves are fine


def test_fmt_writes_huge_numbers_short():
    assert L.fmt(1e308) == "1e+308" and L.fmt(-3e20) == "−3e+20" and L.fmt(123456789012) == "123456789012"


@pytest.mark.parametrize("shape,k,s,note", [
    ((6, 6), 2, 2, ""),
    ((5, 5), 2, 2, "Row 5 and column 5 are in no window (the floor in the output-size formula drops the last ones)"),
    ((5, 6), 2, 2, "Row 5 is in no window (the floor"),
    ((8, 8), 2, 3, "Rows 3, 6 and columns 3, 6 are in no window (a stride of 3 jumps over cells"),
])
def test_pooling_says_which_cells_no_window_covers(shape, k, s, note):
    x = np.arange(np.prod(shape), dtype=float).reshape(shape)
    res = L.pool2d(x, "max", k, s)
    assert res.uncovered_note().startswith(note) if note else res.uncovered_note() == ""
    # the cells named are exactly those whose gradient is always 0 under max and average pooling alike
    grad = L.pool2d(x, "avg", k, s).route_gradient()
    assert bool(note) == bool((grad == 0).any())
