"""Data augmentation on whole batches, as the source documents did it.

Document 000 (``apply_random_data_augmentation``) picks ONE transform at random per image from
horizontal flip, rotation by U(−10°, 10°), translation by integers in [−5, 5] px on each axis, and
Gaussian noise with σ ~ U(0, 10) on the 0–255 scale; the image keeps its size. Document 002 adds
``ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2)`` to every training image.

Everything works on float32 NumPy batches (N, C, H, W) in [0, 1], so both engines use it, and is
vectorised over the batch: one bilinear resampling call serves every rotation and translation.
(``draw_augment.py`` is a different thing: the torch augmentation that trains the default model
to read canvas drawings.)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DOC000_OPS = ("flip", "rotate", "translate", "noise")


@dataclass(frozen=True)
class Augmentation:
    """Which transforms to apply to training batches.

    ops: document 000's transforms to choose from (one per augmented image).
    p: share of the images in a batch that get one of ``ops`` (document 000 augments every one: 1.0).
    color_jitter: document 002's brightness / contrast / saturation jitter (strength 0.2) on every image.
    """
    ops: tuple[str, ...] = field(default_factory=tuple)
    p: float = 1.0
    color_jitter: bool = False
    max_degrees: float = 10.0
    max_shift: int = 5
    max_sigma: float = 10.0 / 255.0
    jitter: float = 0.2

    def __post_init__(self):
        bad = [o for o in self.ops if o not in DOC000_OPS]
        if bad:
            raise ValueError(f"Unknown augmentation {bad}; choose from {DOC000_OPS}.")
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"p must be in [0, 1], got {self.p}.")

    @property
    def active(self) -> bool:
        return bool(self.ops and self.p > 0) or self.color_jitter

    def describe(self) -> str:
        parts = []
        if self.ops and self.p > 0:
            parts.append(f"one of {', '.join(self.ops)} on {self.p:.0%} of images")
        if self.color_jitter:
            parts.append(f"colour jitter ±{self.jitter:g}")
        return "; ".join(parts) or "none"

    def to_dict(self) -> dict:
        return {"ops": list(self.ops), "p": self.p, "color_jitter": self.color_jitter}

    @classmethod
    def from_dict(cls, d: dict | None) -> "Augmentation":
        d = d or {}
        return cls(ops=tuple(d.get("ops", ())), p=float(d.get("p", 1.0)), color_jitter=bool(d.get("color_jitter", False)))


def affine_resample(x: np.ndarray, mats: np.ndarray) -> np.ndarray:
    """Bilinear resampling of each image through its own affine map, zeros outside.

    x: (N, C, H, W). mats: (N, 2, 3) mapping OUTPUT pixel coordinates (col, row, 1) to the source
    coordinates to sample (the inverse warp, like cv2.warpAffine with WARP_INVERSE_MAP).
    """
    n, c, h, w = x.shape
    rows, cols = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32), indexing="ij")
    grid = np.stack([cols.ravel(), rows.ravel(), np.ones(h * w, np.float32)])        # (3, HW)
    src = np.asarray(mats, np.float32) @ grid                                          # (N, 2, HW)
    sx, sy = src[:, 0], src[:, 1]
    x0, y0 = np.floor(sx), np.floor(sy)
    wx, wy = sx - x0, sy - y0
    flat = x.reshape(n, c, h * w)
    out = np.zeros_like(flat)
    for dy in (0, 1):
        for dx in (0, 1):
            xi, yi = x0 + dx, y0 + dy
            weight = (wx if dx else 1 - wx) * (wy if dy else 1 - wy)
            weight = weight * ((xi >= 0) & (xi < w) & (yi >= 0) & (yi < h))
            idx = (np.clip(yi, 0, h - 1) * w + np.clip(xi, 0, w - 1)).astype(np.intp)
            vals = np.take_along_axis(flat, np.broadcast_to(idx[:, None, :], flat.shape), axis=2)
            out += vals * weight[:, None, :]
    return out.reshape(n, c, h, w)


def rotation_mats(degrees: np.ndarray, h: int, w: int) -> np.ndarray:
    """Inverse maps rotating each image by ``degrees`` (counter-clockwise on screen, like
    torchvision's rotate) about its centre."""
    t = np.deg2rad(np.asarray(degrees, np.float64))
    cx, cy = (w - 1) / 2, (h - 1) / 2
    cos, sin = np.cos(t), np.sin(t)
    # Output (u, v) samples the source at R·((u, v) − centre) + centre, with rows pointing down.
    m = np.zeros((len(t), 2, 3), np.float32)
    m[:, 0, 0], m[:, 0, 1] = cos, -sin
    m[:, 1, 0], m[:, 1, 1] = sin, cos
    m[:, 0, 2] = cx - cos * cx + sin * cy
    m[:, 1, 2] = cy - sin * cx - cos * cy
    return m


def translation_mats(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Inverse maps moving each image right by dx and down by dy pixels."""
    m = np.zeros((len(dx), 2, 3), np.float32)
    m[:, 0, 0] = m[:, 1, 1] = 1
    m[:, 0, 2], m[:, 1, 2] = -np.asarray(dx), -np.asarray(dy)
    return m


def flip_horizontal(x: np.ndarray) -> np.ndarray:
    return x[..., ::-1]


def rotate(x: np.ndarray, degrees) -> np.ndarray:
    return affine_resample(x, rotation_mats(np.broadcast_to(degrees, (len(x),)), *x.shape[2:]))


def translate(x: np.ndarray, dx, dy) -> np.ndarray:
    n = len(x)
    return affine_resample(x, translation_mats(np.broadcast_to(dx, (n,)), np.broadcast_to(dy, (n,))))


def add_noise(x: np.ndarray, sigma, rng: np.random.Generator) -> np.ndarray:
    sigma = np.asarray(sigma, np.float32).reshape(-1, *([1] * (x.ndim - 1)))
    return np.clip(x + rng.standard_normal(x.shape, dtype=np.float32) * sigma, 0.0, 1.0)


def _grey(x: np.ndarray) -> np.ndarray:
    if x.shape[1] == 3:
        return (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]).astype(x.dtype)
    return x


def color_jitter(x: np.ndarray, rng: np.random.Generator, strength: float = 0.2) -> np.ndarray:
    """torchvision's ColorJitter(b, c, s = strength) per image, in a fixed order (brightness,
    contrast, saturation); saturation only changes RGB images."""
    n = len(x)
    shape = (n, 1, 1, 1)
    lo, hi = 1 - strength, 1 + strength
    x = np.clip(x * rng.uniform(lo, hi, n).astype(np.float32).reshape(shape), 0, 1)
    mean = _grey(x).mean(axis=(1, 2, 3), keepdims=True)
    c = rng.uniform(lo, hi, n).astype(np.float32).reshape(shape)
    x = np.clip(c * x + (1 - c) * mean, 0, 1)
    if x.shape[1] == 3:
        s = rng.uniform(lo, hi, n).astype(np.float32).reshape(shape)
        x = np.clip(s * x + (1 - s) * _grey(x), 0, 1)
    return x.astype(np.float32)


def augment_batch(x: np.ndarray, aug: Augmentation, rng: np.random.Generator) -> np.ndarray:
    """A new augmented float32 batch; ``x`` (N, C, H, W) in [0, 1] is not modified."""
    x = np.array(x, dtype=np.float32, copy=True)
    n = len(x)
    if aug.ops and aug.p > 0:
        chosen = np.where(rng.random(n) < aug.p, rng.integers(0, len(aug.ops), n), -1)
        for k, op in enumerate(aug.ops):
            idx = np.flatnonzero(chosen == k)
            if not len(idx):
                continue
            sub = x[idx]
            if op == "flip":
                sub = flip_horizontal(sub)
            elif op == "rotate":
                sub = rotate(sub, rng.uniform(-aug.max_degrees, aug.max_degrees, len(idx)))
            elif op == "translate":
                shifts = rng.integers(-aug.max_shift, aug.max_shift + 1, (2, len(idx)))
                sub = translate(sub, shifts[0], shifts[1])
            else:
                sub = add_noise(sub, rng.uniform(0, aug.max_sigma, len(idx)), rng)
            x[idx] = sub
    if aug.color_jitter:
        x = color_jitter(x, rng, aug.jitter)
    return x
