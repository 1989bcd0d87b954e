"""Conv2D: against torch.nn.Conv2d, against the loop reference, and the worked example of document 001."""
import numpy as np
import pytest
import torch

from cnn_core.lessons.geometry import output_size
from cnn_core.numpy_nn import Conv2D
from cnn_core.numpy_nn.conv import (col2im, conv2d_backward, conv2d_backward_naive, conv2d_forward,
                                    conv2d_forward_naive, im2col)

from .twin import check_twin


def _conv(c_in, c_out, k, s, p, seed=0):
    return Conv2D(c_in, c_out, k, stride=s, padding=p, init="torch", rng=np.random.default_rng(seed))


@pytest.mark.parametrize("n,c_in,c_out", [(1, 1, 1), (3, 1, 8), (2, 3, 4)])
@pytest.mark.parametrize("p", [0, 1, 2])
@pytest.mark.parametrize("s", [1, 2, 3])
@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_matches_torch(k, s, p, c_in, c_out, n):
    x = np.random.default_rng(1).standard_normal((n, c_in, 9, 10))   # H ≠ W catches swapped axes
    res = check_twin(_conv(c_in, c_out, k, s, p), torch.nn.Conv2d(c_in, c_out, k, stride=s, padding=p), x)
    assert res["out"].shape == (n, c_out, output_size(n=9, f=k, padding=p, stride=s),
                                  output_size(n=10, f=k, padding=p, stride=s))


@pytest.mark.parametrize("k,s,p", [(1, 1, 0), (3, 1, 0), (3, 2, 1), (4, 3, 2), (2, 2, 0)])
def test_fast_path_equals_loop_reference(k, s, p):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 8, 7))
    W, b = rng.standard_normal((4, 3, k, k)), rng.standard_normal(4)
    fast, cols = conv2d_forward(x, W, b, s, p)
    slow = conv2d_forward_naive(x, W, b, s, p)
    np.testing.assert_allclose(fast, slow, atol=1e-12)
    dout = rng.standard_normal(fast.shape)
    for got, want in zip(conv2d_backward(dout, cols, x.shape, W, s, p), conv2d_backward_naive(dout, x, W, s, p)):
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_col2im_is_the_adjoint_of_im2col():
    # <im2col(x), c> = <x, col2im(c)> for all x, c: the backward scatter is exactly the
    # transpose of the forward gather, overlaps and padding included.
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 7, 6))
    cols = im2col(x, 3, stride=2, padding=1)
    c = rng.standard_normal(cols.shape)
    assert np.isclose(np.sum(cols * c), np.sum(x * col2im(c, x.shape, 3, stride=2, padding=1)))


def test_document_001_worked_example_gives_320():
    # Lecture 001: the sharpen kernel on the zero-padded corner of an image,
    # 0·0 + 0·(−1) + 0·0 + 0·(−1) + 105·5 + 102·(−1) + 0·0 + 103·(−1) + 99·0 = 320.
    image = np.zeros((1, 1, 4, 4))
    image[0, 0, :2, :2] = [[105, 102], [103, 99]]
    kernel = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float)[None, None]
    out, _ = conv2d_forward(image, kernel, np.zeros(1), stride=1, padding=1)
    assert out[0, 0, 0, 0] == 320


def test_rgb_kernel_sums_the_three_channels_plus_bias():
    # Lecture 001: a 3-channel input and a 3×3×3 kernel give ONE output map: the three channel
    # sums added, plus the bias.
    rng = np.random.default_rng(4)
    x, W = rng.integers(0, 3, (1, 3, 5, 5)).astype(float), rng.integers(-1, 2, (1, 3, 3, 3)).astype(float)
    out, _ = conv2d_forward(x, W, np.ones(1))
    per_channel = [conv2d_forward(x[:, c:c + 1], W[:, c:c + 1], np.zeros(1))[0] for c in range(3)]
    assert out.shape == (1, 1, 3, 3)
    np.testing.assert_array_equal(out, sum(per_channel) + 1)


def test_first_layer_can_skip_dx_and_grads_are_overwritten():
    layer = _conv(1, 2, 3, 1, 0).astype(np.float64)
    x = np.random.default_rng(5).standard_normal((2, 1, 6, 6))
    dout = np.ones((2, 2, 4, 4))
    layer.forward(x)
    assert layer.backward(dout, need_dx=False) is None
    first = layer.grads["W"].copy()
    layer.forward(x)
    layer.backward(dout)
    np.testing.assert_array_equal(layer.grads["W"], first)          # not 2× first: no accumulation


def test_params_entry_is_the_only_copy_of_the_weights():
    layer = _conv(1, 1, 3, 1, 0)
    layer.params["W"] = np.zeros((1, 1, 3, 3), dtype=np.float32)
    layer.params["b"] = np.full(1, 2.5, dtype=np.float32)
    out = layer.forward(np.random.default_rng(6).random((1, 1, 5, 5), dtype=np.float32))
    np.testing.assert_array_equal(out, 2.5)


def test_dtype_follows_input_and_weights():
    layer = _conv(1, 2, 3, 1, 1)
    assert layer.forward(np.zeros((1, 1, 5, 5), np.float32)).dtype == np.float32
    layer.astype(np.float64)
    assert layer.forward(np.zeros((1, 1, 5, 5))).dtype == np.float64


def test_both_weight_gradient_formulations_agree():
    from cnn_core.numpy_nn.conv import weight_grad

    rng = np.random.default_rng(7)
    for f, l in [(8, 676), (128, 49)]:                         # a first layer; a deep seed-002 layer
        d, cols = rng.standard_normal((3, f, l)), rng.standard_normal((3, 18, l))
        want = np.einsum("nfl,nkl->fk", d, cols)
        np.testing.assert_allclose(weight_grad(d, cols, one_product=False), want, atol=1e-10)
        np.testing.assert_allclose(weight_grad(d, cols, one_product=True), want, atol=1e-10)
