"""Max and average pooling: against torch, against the loop reference, ties on purpose, and
the pooling example of lecture 001.

Ties: when several pixels of a window share its maximum, the FIRST in row-major order (the
top-left-most) receives the whole gradient. torch's CPU kernel does this, and so do our fast path
and our loop reference (np.argmax). The tests below pin it with exact equalities.
"""
import numpy as np
import pytest
import torch

from cnn_core.numpy_nn import AvgPool2D, MaxPool2D
from cnn_core.numpy_nn.pooling import (avgpool2d_backward, avgpool2d_backward_naive, avgpool2d_forward,
                                       avgpool2d_forward_naive, maxpool2d_backward, maxpool2d_backward_naive,
                                       maxpool2d_forward, maxpool2d_forward_naive)

from .twin import check_twin

WINDOWS = [(1, 1), (2, 2), (2, 1), (3, 1), (3, 2), (3, 3), (2, 3)]   # (kernel, stride): tiling, overlapping, gaps


@pytest.mark.parametrize("n,c", [(1, 1), (2, 3)])
@pytest.mark.parametrize("k,s", WINDOWS)
def test_maxpool_matches_torch(k, s, n, c):
    x = np.random.default_rng(0).standard_normal((n, c, 9, 8))
    check_twin(MaxPool2D(k, s), torch.nn.MaxPool2d(k, s), x)


@pytest.mark.parametrize("n,c", [(1, 1), (2, 3)])
@pytest.mark.parametrize("k,s", WINDOWS)
def test_avgpool_matches_torch(k, s, n, c):
    x = np.random.default_rng(0).standard_normal((n, c, 9, 8))
    check_twin(AvgPool2D(k, s), torch.nn.AvgPool2d(k, s), x)


def test_stride_defaults_to_window():
    assert MaxPool2D(3).stride == 3
    assert MaxPool2D(2).forward(np.zeros((1, 1, 28, 28))).shape == (1, 1, 14, 14)


@pytest.mark.parametrize("k,s", WINDOWS)
def test_fast_paths_equal_loop_reference(k, s):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2, 7, 9))
    out = maxpool2d_forward(x, k, s)
    np.testing.assert_array_equal(out, maxpool2d_forward_naive(x, k, s))
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(maxpool2d_backward(dout, x, out, k, s), maxpool2d_backward_naive(dout, x, k, s),
                               atol=1e-12)
    np.testing.assert_allclose(avgpool2d_forward(x, k, s), avgpool2d_forward_naive(x, k, s), atol=1e-12)
    np.testing.assert_allclose(avgpool2d_backward(dout, x.shape, k, s), avgpool2d_backward_naive(dout, x.shape, k, s),
                               atol=1e-12)


def _torch_grad(x, k, s, dout):
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(xt, k, s).backward(torch.tensor(dout))
    return xt.grad.numpy()


@pytest.mark.parametrize("k,s", [(2, 2), (3, 3), (2, 1), (3, 1)])
def test_ties_send_the_gradient_to_the_first_maximum_like_torch(k, s):
    x = np.ones((1, 1, 6, 6))                                    # every window is one big tie
    layer = MaxPool2D(k, s).astype(np.float64)
    out = layer.forward(x)
    dout = np.arange(1.0, out.size + 1).reshape(out.shape)
    dx = layer.backward(dout)
    expected = np.zeros_like(x)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            expected[0, 0, i * s, j * s] += dout[0, 0, i, j]         # top-left pixel of each window
    np.testing.assert_array_equal(dx, expected)
    np.testing.assert_array_equal(dx, _torch_grad(x, k, s, dout))
    np.testing.assert_array_equal(dx, maxpool2d_backward_naive(dout, x, k, s))


def test_partial_ties_in_overlapping_windows():
    x = np.array([[[[0., 0, 1], [1, 0, 0], [0, 1, 1]]]])
    layer = MaxPool2D(2, 1).astype(np.float64)
    layer.forward(x)
    dx = layer.backward(np.ones((1, 1, 2, 2)))
    # window (1,0) ties (1,0) and (2,1) -> (1,0) wins; window (1,1) ties (2,1) and (2,2) -> (2,1) wins
    np.testing.assert_array_equal(dx[0, 0], [[0, 0, 1], [2, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(dx, _torch_grad(x, 2, 1, np.ones((1, 1, 2, 2))))


def test_lecture_001_pooling_example():
    a = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]],
                 dtype=float)[None, None]
    np.testing.assert_array_equal(maxpool2d_forward(a, 3, 1)[0, 0], [[3, 3, 3], [3, 3, 3], [3, 2, 3]])
    avg = avgpool2d_forward(a, 3, 1)[0, 0]
    assert avg[0, 0] == pytest.approx(15 / 9)                          # (3+3+2+0+0+1+3+1+2)/9
    np.testing.assert_array_equal(maxpool2d_forward(a, 3, 2)[0, 0], [[3, 3], [3, 3]])


def test_maxpool_gradient_only_reaches_window_maxima():
    x = np.random.default_rng(2).standard_normal((1, 2, 4, 4))
    layer = MaxPool2D(2).astype(np.float64)
    out = layer.forward(x)
    dx = layer.backward(np.ones_like(out))
    assert np.count_nonzero(dx) == out.size                             # one pixel per window
    np.testing.assert_array_equal(np.sort(x[dx != 0]), np.sort(out.ravel()))
