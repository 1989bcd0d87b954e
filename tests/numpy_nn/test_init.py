"""Initialisation draws the distributions their formulas promise, and build_numpy picks them."""
import math

import numpy as np
import pytest

from cnn_core.numpy_nn import build_numpy, he_normal, torch_default, xavier_uniform
from cnn_core.models.specs import preset

RNG = np.random.default_rng(0)


def test_he_normal_has_std_sqrt_2_over_fan_in():
    w = he_normal((64, 8, 3, 3), RNG)                       # fan_in = 8·3·3 = 72
    assert w.std() == pytest.approx(math.sqrt(2 / 72), rel=0.03)
    assert w.dtype == np.float32


def test_xavier_uniform_stays_within_its_bound():
    w = xavier_uniform((20, 1352), RNG, dtype=np.float64)   # a = sqrt(6 / (1352 + 20))
    a = math.sqrt(6 / 1372)
    assert np.abs(w).max() <= a and np.abs(w).max() > 0.99 * a
    assert w.std() == pytest.approx(a / math.sqrt(3), rel=0.03)


def test_torch_default_matches_torch_bound():
    w = torch_default((10, 1352), RNG)
    assert np.abs(w).max() <= 1 / math.sqrt(1352)


def test_auto_picks_xavier_before_sigmoid_and_he_elsewhere():
    model = build_numpy(preset("seed-004"), init="auto", dtype=np.float64)
    dense_sigmoid, last = model[4].params["W"], model[6].params["W"]     # 1352→20 then sigmoid; 20→10
    assert np.abs(dense_sigmoid).max() <= math.sqrt(6 / 1372)
    assert last.std() == pytest.approx(math.sqrt(2 / 20), rel=0.25)
    assert not model[4].params["b"].any()                                  # zero biases, as document 000
