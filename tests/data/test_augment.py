"""Document 000's augmentations and document 002's colour jitter, on whole batches."""
import numpy as np
import pytest
import torch
import torchvision.transforms.functional as F

from cnn_core.data import augment as A


def _digitish(n=4, c=1, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, c, 28, 28), np.float32)
    x[:, :, 6:22, 12:16] = rng.uniform(0.5, 1.0, (n, c, 1, 1))      # a vertical bar
    x[:, :, 6:9, 5:16] = 1.0                                          # and a top stroke to the left (not symmetric)
    return x


@pytest.mark.parametrize("degrees", [10.0, -10.0, 3.7])
def test_rotation_matches_torchvision(degrees):
    x = _digitish()
    ours = A.rotate(x, degrees)
    ref = F.rotate(torch.from_numpy(x), degrees, interpolation=F.InterpolationMode.BILINEAR).numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_each_image_in_a_batch_gets_its_own_rotation():
    x = _digitish(3)
    out = A.rotate(x, np.array([0.0, 10.0, -10.0]))
    np.testing.assert_allclose(out[0], x[0], atol=1e-6)
    assert not np.allclose(out[1], out[2])


def test_translation_moves_pixels_exactly_and_fills_with_black():
    x = _digitish(2)
    out = A.translate(x, np.array([5, -5]), np.array([-3, 2]))
    np.testing.assert_array_equal(out[0, :, 3:25, 5:28], x[0, :, 6:28, 0:23])   # right 5, up 3
    np.testing.assert_array_equal(out[1, :, 2:28, 0:23], x[1, :, 0:26, 5:28])   # left 5, down 2
    assert out[0, :, :, :5].max() == 0 and out[1, :, :2].max() == 0


def test_augment_batch_applies_exactly_one_document_000_op_per_image():
    x = _digitish(64)
    rng = np.random.default_rng(0)
    out = A.augment_batch(x, A.Augmentation(ops=("flip",), p=1.0), rng)
    np.testing.assert_array_equal(out, x[..., ::-1])
    same = A.augment_batch(x, A.Augmentation(ops=("flip", "rotate"), p=0.0), rng)
    np.testing.assert_array_equal(same, x)
    half = A.augment_batch(x, A.Augmentation(ops=("flip",), p=0.5), np.random.default_rng(1))
    changed = np.any(half != x, axis=(1, 2, 3))
    assert 16 < changed.sum() < 48


def test_noise_sigma_is_at_most_10_over_255_and_stays_in_range():
    x = np.full((200, 1, 28, 28), 0.5, np.float32)
    out = A.augment_batch(x, A.Augmentation(ops=("noise",)), np.random.default_rng(0))
    sd = (out - x).reshape(200, -1).std(axis=1)
    assert sd.max() < 10.5 / 255 and sd.min() >= 0 and sd.mean() == pytest.approx(5 / 255, rel=0.15)
    assert out.min() >= 0 and out.max() <= 1


def test_colour_jitter_changes_brightness_by_at_most_20_percent():
    x = np.full((100, 3, 8, 8), 0.5, np.float32)
    x[:, 0] = 0.8
    out = A.color_jitter(x, np.random.default_rng(0), 0.2)
    assert out.min() >= 0 and out.max() <= 1
    ratio = out.mean(axis=(1, 2, 3)) / x.mean(axis=(1, 2, 3))
    assert ratio.min() > 0.75 and ratio.max() < 1.25 and ratio.std() > 0.02
    grey = A.color_jitter(np.full((5, 1, 8, 8), 0.5, np.float32), np.random.default_rng(0))
    assert grey.shape == (5, 1, 8, 8)


def test_input_is_not_modified_and_unknown_ops_are_refused():
    x = _digitish()
    before = x.copy()
    A.augment_batch(x, A.Augmentation(ops=A.DOC000_OPS, color_jitter=True), np.random.default_rng(0))
    np.testing.assert_array_equal(x, before)
    with pytest.raises(ValueError, match="Unknown augmentation"):
        A.Augmentation(ops=("shear",))
