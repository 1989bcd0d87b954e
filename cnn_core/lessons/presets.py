"""Kernel presets and the notes' example inputs for the Convolution page."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn_core.lessons.geometry import LessonError


@dataclass(frozen=True)
class KernelPreset:
    name: str
    kernel: np.ndarray
    about: str


def _k(rows, scale: float = 1.0) -> np.ndarray:
    return np.asarray(rows, dtype=np.float64) * scale


KERNEL_PRESETS: dict[str, KernelPreset] = {p.name: p for p in [
    KernelPreset("Identity", _k([[0, 0, 0], [0, 1, 0], [0, 0, 0]]), "copies the input: the output equals the centre pixel"),
    KernelPreset("Box blur", _k(np.ones((3, 3)), 1 / 9), "the mean of the 3×3 neighbourhood"),
    KernelPreset("Gaussian blur", _k([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16), "a weighted mean, the centre counts most"),
    KernelPreset("Sharpen (the notes' kernel)", _k([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
                 "the lecture's kernel: 5 × centre minus the four neighbours (gives 320 in the notes)"),
    KernelPreset("Sobel x", _k([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]), "responds to left-to-right brightness changes (vertical edges)"),
    KernelPreset("Sobel y", _k([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]), "responds to top-to-bottom brightness changes (horizontal edges)"),
    KernelPreset("Laplacian", _k([[0, 1, 0], [1, -4, 1], [0, 1, 0]]), "second derivative: lights up edges in every direction"),
    KernelPreset("Edge: vertical", _k([[1, 0, -1], [1, 0, -1], [1, 0, -1]]), "a vertical-edge detector (low-level feature)"),
    KernelPreset("Edge: horizontal", _k([[1, 1, 1], [0, 0, 0], [-1, -1, -1]]), "a horizontal-edge detector (low-level feature)"),
    KernelPreset("Edge: all directions", _k([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]), "outline detector: zero on flat areas"),
    KernelPreset("Figure 7.3's X kernel", _k([[1, 0, 1], [0, 1, 0], [1, 0, 1]]), "the kernel K of the notes' 5×5 example (Figure 7.3)"),
]}


@dataclass(frozen=True)
class ExampleInput:
    name: str
    image: np.ndarray          # (H, W) or (C, H, W)
    kernel: str | np.ndarray   # a preset name or an explicit kernel
    bias: float
    padding: int | str
    stride: int
    about: str


# The notes (001) show only the window of the padded sharpen example: zeros on the padding, then
# 105, 102 / 103, 99 at the image's top-left. The other pixels below are illustrative.
SHARPEN_320_IMAGE = np.array([[105, 102, 100, 97, 96],
                              [103, 99, 103, 101, 102],
                              [101, 98, 104, 102, 100],
                              [99, 101, 106, 104, 99],
                              [104, 104, 104, 100, 98]], dtype=np.float64)

# Figure 7.3: "a 5×5×1 image with a 3×3×1 kernel gives a 3×3×1 convolved feature". The notes' text
# has no numbers; these are the figure's well-known values (the same figure appears in Saha's 2018
# "comprehensive guide to CNNs" the slides follow), which give [[4, 3, 4], [2, 4, 3], [2, 3, 4]].
FIGURE_7_3_IMAGE = np.array([[1, 1, 1, 0, 0],
                             [0, 1, 1, 1, 0],
                             [0, 0, 1, 1, 1],
                             [0, 0, 1, 1, 0],
                             [0, 1, 1, 0, 0]], dtype=np.float64)

# Figure 7.8: the 5×5 convolved feature the notes pool (3×3, stride 1; and stride 2).
POOLING_5X5 = np.array([[3, 3, 2, 1, 0],
                        [0, 0, 1, 3, 1],
                        [3, 1, 2, 2, 3],
                        [2, 0, 0, 2, 2],
                        [2, 0, 0, 0, 1]], dtype=np.float64)

# Figure 7.5 in spirit: a 5×5×3 input, a 3×3×3 kernel and bias 1 give one output channel. The
# notes give no numbers for it, so these small integers are our own.
RGB_5X5X3 = np.array([
    [[0, 1, 1, 2, 2], [0, 1, 1, 0, 0], [1, 1, 0, 1, 0], [1, 0, 1, 1, 1], [0, 2, 0, 1, 0]],   # R
    [[1, 0, 2, 2, 0], [0, 0, 0, 2, 0], [1, 2, 1, 2, 1], [1, 0, 0, 0, 0], [1, 2, 1, 1, 1]],   # G
    [[2, 1, 2, 0, 0], [1, 0, 0, 1, 0], [0, 2, 1, 0, 1], [0, 1, 2, 2, 2], [2, 1, 0, 0, 1]],   # B
], dtype=np.float64)
RGB_KERNEL_3X3X3 = np.array([
    [[-1, 0, 1], [0, 0, 1], [1, -1, 1]],
    [[-1, 0, 1], [1, -1, 1], [0, 1, 0]],
    [[-1, 1, 1], [1, 1, 0], [0, -1, 0]],
], dtype=np.float64)
RGB_BIAS = 1.0

EXAMPLES: dict[str, ExampleInput] = {e.name: e for e in [
    ExampleInput("Notes: padded sharpen example (320)", SHARPEN_320_IMAGE, "Sharpen (the notes' kernel)", 0.0, 1, 1,
                 "Zero padding 1, the notes' sharpen kernel: the first output cell is 320. The notes show only "
                 "that window (105, 102, 103, 99); the other pixels are illustrative."),
    ExampleInput("Notes: 5×5 image (Figure 7.3)", FIGURE_7_3_IMAGE, "Figure 7.3's X kernel", 0.0, "valid", 1,
                 "A 5×5×1 image and a 3×3×1 kernel, no padding, stride 1 → a 3×3×1 feature map."),
    ExampleInput("Notes: 5×5 map for pooling (Figure 7.8)", POOLING_5X5, "Identity", 0.0, "same", 1,
                 "The 5×5 convolved feature the notes pool 3×3; the identity kernel passes it through unchanged."),
]}


def preset_kernel(name: str) -> np.ndarray:
    if name not in KERNEL_PRESETS:
        raise LessonError(f"Unknown kernel preset {name!r}.")
    return KERNEL_PRESETS[name].kernel.copy()
