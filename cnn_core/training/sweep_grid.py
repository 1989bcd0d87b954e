"""A sweep grid as a person types it: "8, 16, 24" per axis, parsed and checked before any run starts."""
from __future__ import annotations

import itertools
import math

from cnn_core import limits
from cnn_core.training.config import ConfigError, TrainConfig
from cnn_core.training.sweep import AXES, apply_params

AXIS_DEFAULTS = {"kernels": "8, 16, 24", "lr": "0.001, 0.005, 0.01", "dropout": "0, 0.2, 0.3",
                 "batch_size": "32, 64, 128", "dense_width": "32, 64, 128"}
INT_AXES = frozenset({"kernels", "batch_size", "dense_width"})


def parse_axis_values(axis: str, text: str) -> list:
    """"8, 16; 24" → [8, 16, 24] (whole numbers for counted axes); ``ConfigError`` says what to fix."""
    if axis not in AXES:
        raise ConfigError(f"Unknown sweep axis {axis!r}; choose from {', '.join(AXES)}.")
    vals = []
    for tok in str(text or "").replace(";", ",").split(","):
        tok = tok.strip()
        if not tok:
            continue
        try:
            v = float(tok)
        except ValueError:
            v = math.nan
        if not math.isfinite(v):
            raise ConfigError(f"{tok!r} is not a number: write the values of {AXES[axis]} separated by commas, "
                              f"e.g. {AXIS_DEFAULTS[axis]}.")
        if axis in INT_AXES and v != int(v):
            raise ConfigError(f"{tok} is not a whole number: {AXES[axis]} are counted, e.g. {AXIS_DEFAULTS[axis]}.")
        vals.append(int(v) if axis in INT_AXES else v)
    if not vals:
        raise ConfigError(f"The values box for {AXES[axis]} is empty: write at least one value, e.g. "
                          f"{AXIS_DEFAULTS[axis]}.")
    if len(set(vals)) != len(vals):
        raise ConfigError(f"The values for {AXES[axis]} repeat: list each value once.")
    return vals


def grid_size(axes: dict) -> int:
    return math.prod(len(v) for v in axes.values())


def grid_cells(axes: dict) -> list[dict]:
    """Every cell of the grid as {axis: value}, first axis slowest."""
    return [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]


def check_grid(base: TrainConfig, axes: dict, input_shape, num_classes: int, max_cells: int | None = None) -> int:
    """The number of runs; ``ConfigError`` if the grid is over the cap (limits.MAX_SWEEP_CELLS) or any cell
    cannot train."""
    cap = limits.MAX_SWEEP_CELLS if max_cells is None else max_cells
    n = grid_size(axes)
    if n > cap:
        raise ConfigError(f"This grid has {n:,} runs; the cap is {cap} runs {limits.over(n, cap)}.")
    for params in grid_cells(axes):
        apply_params(base, params).validate(input_shape, num_classes)
    return n
