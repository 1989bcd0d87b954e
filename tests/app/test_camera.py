"""Take a photo: Streamlit's camera input on Draw & Predict, and ui/views/camera.py's processing path.

The photos are JPEGs of dark ink on light paper made with PIL, as a phone camera would send them.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnn_core.data.synthetic import draw_digit
from cnn_core.inference import predict, preprocess
from cnn_core.models import pretrained
from ui.views import camera

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "1_Draw_and_Predict.py")


def _jpeg(rgb: np.ndarray, quality: int = 80) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb[..., :3]).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _photo_of(digit: int) -> bytes:
    """A 640×480 photo of a digit in blue-black ink on off-white paper, a little grain and JPEG noise."""
    ink = draw_digit(digit, size=480, pen=34, ink=(35, 38, 60), background=(232, 228, 215))[..., :3]
    page = np.full((480, 640, 3), (232, 228, 215), np.uint8)
    page[:, 80:560] = ink
    grain = np.random.default_rng(digit).normal(0, 4, page.shape)
    return _jpeg(np.clip(page + grain, 0, 255).astype(np.uint8))


def test_a_photo_is_read_like_an_upload_and_dark_ink_is_inverted():
    rgba = camera.photo_rgba(_photo_of(7))
    assert rgba.shape == (480, 640, 4) and rgba.dtype == np.uint8
    mnist = preprocess.canvas_to_mnist(rgba)
    assert mnist[0, 0] < 0.05 and mnist.max() > 0.9      # white ink on black, as MNIST: inverted


def test_a_photo_of_a_seven_is_predicted_seven():
    bundle = pretrained.load_default_bundle()
    _, pred = predict.predict_canvas(bundle.model, camera.photo_rgba(_photo_of(7)))
    assert pred.label == 7


def test_a_file_that_is_no_photo_raises_a_message_worth_showing():
    with pytest.raises(preprocess.ImageFileError, match="not a picture"):
        camera.photo_rgba(b"not a jpeg at all" * 30)


@pytest.fixture
def at(open_page):
    at = open_page(PAGE, timeout=30)
    at.radio(key="draw_source").set_value("Take a photo").run()
    return at


def _prediction(at):
    metrics = [m for m in at.metric if m.label == "Prediction"]
    return metrics[0] if metrics else None


def test_take_a_photo_shows_the_camera_and_a_hint(at):
    assert not at.exception
    assert len(at.camera_input) == 1 and at.camera_input[0].label == camera.LABEL
    assert any("take a photo" in i.value.lower() for i in at.info)
    assert _prediction(at) is None


@pytest.mark.parametrize("digit", [7, 3])
def test_a_photo_of_a_digit_on_paper_is_predicted(at, digit):
    at.camera_input(key="draw_photo").set_value(("photo.jpg", _photo_of(digit), "image/jpeg")).run()
    assert not at.exception and not at.error
    assert _prediction(at).value == str(digit)
    assert at.session_state["current_input_source"] == "photo"
    # The compact answer under the input, for phones (shown there by CSS only).
    assert any(f"Prediction: {digit}</strong>" in h.proto.body for h in at.get("html"))


def test_a_damaged_photo_gives_one_message_and_the_page_keeps_working(at):
    at.camera_input(key="draw_photo").set_value(("photo.jpg", _photo_of(7)[:3000], "image/jpeg")).run()
    assert not at.exception
    assert len(at.error) == 1 and "photo could not be read" in at.error[0].value
    assert _prediction(at) is None
    at.camera_input(key="draw_photo").set_value(("photo.jpg", _photo_of(7), "image/jpeg")).run()
    assert not at.exception and not at.error and _prediction(at).value == "7"


def test_a_photo_of_blank_paper_says_what_to_do(at):
    blank = np.full((480, 640, 3), (232, 228, 215), np.uint8)
    at.camera_input(key="draw_photo").set_value(("photo.jpg", _jpeg(blank), "image/jpeg")).run()
    assert not at.exception
    assert [e.value for e in at.error] == [camera.BLANK_PHOTO]
    assert _prediction(at) is None
