"""Small images in a captioned grid (Evaluate: a cell of the confusion matrix, the worst mistakes)."""
from __future__ import annotations

import numpy as np
import streamlit as st


def upscale(img: np.ndarray, factor: int = 3) -> np.ndarray:
    """uint8 (C, H, W) → (H·f, W·f[, 3]) with crisp pixels for st.image."""
    a = np.asarray(img)
    a = a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
    return np.repeat(np.repeat(a, factor, axis=0), factor, axis=1)


def image_grid(images: np.ndarray, captions: list[str], per_row: int = 8, factor: int = 3,
               alts: list[str] | None = None) -> None:
    """A row-wise grid of small images with captions.

    ``alts``: each image's text alternative for screen readers (the caption when None). A caption such as
    "81%" says little without the picture and the heading above it, so callers pass what the image shows.
    """
    alts = list(captions) if alts is None else list(alts)
    if len(alts) != len(captions):
        raise ValueError(f"{len(captions)} captions but {len(alts)} text alternatives")
    for start in range(0, len(images), per_row):
        cols = st.columns(per_row)
        for col, img, cap, alt in zip(cols, images[start:start + per_row], captions[start:start + per_row],
                                      alts[start:start + per_row]):
            col.image(upscale(img, factor), caption=cap, clamp=True, alt=alt)
