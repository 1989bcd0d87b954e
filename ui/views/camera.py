"""Take a photo of a digit written on paper: Streamlit's camera input, read like an uploaded picture.

A phone class can use pen and paper: ``photo_input(key)`` shows the camera, and returns the photo as
H×W×4 RGBA uint8 (what ``cnn_core.inference.predict.predict_canvas`` and ``preprocess.explain`` take:
dark ink on light paper is inverted there, as for an upload), or None when there is no usable photo
yet. A photo the app cannot read gets one ``st.error`` sentence, never a traceback.

The last photo is kept in the session (Streamlit empties the camera when the learner visits another
page), with a note saying so, until another is taken.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnn_core.inference import preprocess
from ui.app import state

LABEL = "Take a photo of one digit written on paper"
TIPS = ("Thick dark ink on white paper, the digit filling most of the picture, in good light. "
        "Dark ink on light paper is inverted to MNIST's white on black.")
# For the caller to show when predict_canvas / explain raise preprocess.EmptyImageError on the photo.
BLANK_PHOTO = ("No digit stands out in this photo. Write the digit larger in thick dark ink, "
               "fill the picture with the paper, and take another photo.")


def photo_rgba(data: bytes) -> np.ndarray:
    """A camera photo (JPEG bytes) as H×W×4 RGBA uint8, checked like an upload; raises
    ``preprocess.ImageFileError`` with a message worth showing."""
    return preprocess.load_image_file(data)


def photo_input(key: str, *, label: str = LABEL) -> np.ndarray | None:
    """The camera and its photo: RGBA uint8, or None (no photo yet, or one that cannot be read,
    with the reason shown). ``key`` must be unique on the page."""
    shot = st.camera_input(label, key=key)
    shot, kept = state.kept_upload(key, shot)
    st.caption(TIPS)
    if shot is None:
        return None
    if kept:
        st.caption("Still using the photo taken before; take another to replace it.")
    try:
        return photo_rgba(shot.getvalue())
    except preprocess.ImageFileError as exc:
        st.error(f"The photo could not be read: {exc}")
        return None
