"""Small images in a captioned grid (Evaluate: a cell of the confusion matrix, the worst mistakes)."""
from __future__ import annotations

import numpy as np
import streamlit as st


def upscale(img: np.ndarray, factor: int = 3) -> np.ndarray:
    """uint8 (C, H, W) → (H·f, W·f[, 3]) with crisp pixels for st.image."""
    a = np.asarray(img)
    a = a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
    return np.repeat(np.repeat(a, factor, axis=0), factor, axis=1)


def image_grid(images: np.ndarray, captions: list[str], per_row: int = 8, factor: int = 3) -> None:
    """A row-wise grid of small images with captions."""
    for start in range(0, len(images), per_row):
        cols = st.columns(per_row)
        for col, img, cap in zip(cols, images[start:start + per_row], captions[start:start + per_row]):
            col.image(upscale(img, factor), caption=cap, clamp=True)
