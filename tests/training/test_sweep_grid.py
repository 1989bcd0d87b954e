"""Sweep grids typed as text: parsed, sized and checked before any run starts."""
import math

import pytest

from cnn_core.models import specs
from cnn_core.training import sweep_grid as sg
from cnn_core.training.run import ConfigError, TrainConfig


def test_values_parse_as_whole_numbers_for_counted_axes_and_floats_otherwise():
    assert sg.parse_axis_values("kernels", "8, 16;24") == [8, 16, 24]
    assert all(isinstance(v, int) for v in sg.parse_axis_values("batch_size", "32, 64.0"))
    assert sg.parse_axis_values("lr", "1e-3, 0.01") == [0.001, 0.01]


@pytest.mark.parametrize("axis, text, words", [("kernels", "", "empty"), ("kernels", " , ", "empty"),
                                               ("kernels", "8, 8", "repeat"), ("kernels", "8.5", "whole number"),
                                               ("lr", "nan", "not a number"), ("lr", "inf", "not a number"),
                                               ("lr", "0.1, fast", "not a number"), ("width", "1", "Unknown")])
def test_bad_values_are_one_sentence(axis, text, words):
    with pytest.raises(ConfigError, match=words):
        sg.parse_axis_values(axis, text)


def test_grid_cells_first_axis_slowest():
    axes = {"kernels": [8, 16], "lr": [0.1, 0.01, 0.001]}
    cells = sg.grid_cells(axes)
    assert sg.grid_size(axes) == len(cells) == 6
    assert cells[:3] == [{"kernels": 8, "lr": v} for v in (0.1, 0.01, 0.001)]


def test_check_grid_refuses_big_grids_and_impossible_cells():
    base = TrainConfig(spec=specs.preset("seed-000"), epochs=1)
    assert sg.check_grid(base, {"kernels": [4, 8]}, (1, 28, 28), 10) == 2
    with pytest.raises(ConfigError, match="26 runs; the cap is 25"):
        sg.check_grid(base, {"kernels": list(range(1, 27))}, (1, 28, 28), 10)
    with pytest.raises(ConfigError):
        sg.check_grid(base, {"kernels": [8, 10_000]}, (1, 28, 28), 10)
    assert math.prod([2, 3]) == sg.grid_size({"a": [1, 2], "b": [1, 2, 3]})
