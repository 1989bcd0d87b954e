"""Kernel presets and the notes' example inputs do what their captions say."""
import numpy as np
import pytest

from cnn_core.lessons import convolution as conv, geometry, presets
from tests.lessons.torch_ref import torch_conv

SHARPEN = "Sharpen (the notes' kernel)"


def test_every_example_runs_and_matches_torch():
    for ex in presets.EXAMPLES.values():
        k = presets.preset_kernel(ex.kernel)
        p = geometry.resolve_padding(ex.padding, f=k.shape[-1])
        np.testing.assert_allclose(conv.conv2d(ex.image, k, ex.bias, ex.stride, p),
                                   torch_conv(ex.image, k, ex.bias, ex.stride, p))


def test_kernel_presets_do_what_they_say():
    img = np.zeros((7, 7))
    img[:, 4:] = 1.0  # a vertical edge
    same = lambda name: conv.conv2d(img, presets.preset_kernel(name), padding="same")  # noqa: E731
    np.testing.assert_allclose(same("Identity"), img)
    for blur in ("Box blur", "Gaussian blur"):
        assert presets.preset_kernel(blur).sum() == pytest.approx(1.0)
    assert np.abs(same("Sobel x")[1:-1, 1:-1]).max() > 0 and np.abs(same("Sobel y")[1:-1, 1:-1]).max() == 0
    assert np.abs(same("Edge: vertical")[1:-1, 1:-1]).max() > 0
    assert np.abs(same("Edge: horizontal")[1:-1, 1:-1]).max() == 0
    for name in ("Laplacian", "Edge: all directions", "Sobel x"):
        assert presets.preset_kernel(name).sum() == 0  # zero on flat areas
    assert presets.preset_kernel(SHARPEN).tolist() == [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]
