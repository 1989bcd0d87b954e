"""canvas_to_mnist follows MNIST's recipe; load_image_file refuses what it cannot use."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnn_core.data import datasets as data
from cnn_core.inference import preprocess as P
from cnn_core.data.synthetic import draw_digit, draw_strokes


def _bbox(img, thr=0.05):
    rows, cols = np.flatnonzero((img > thr).any(1)), np.flatnonzero((img > thr).any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def _corr(a, b):
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_output_is_28x28_float32_in_unit_range_with_full_contrast():
    out = P.canvas_to_mnist(draw_digit(3))
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() == 0.0 and out.max() == pytest.approx(1.0)


def test_longer_side_scaled_to_20_keeping_aspect_ratio():
    canvas = np.zeros((280, 280), np.uint8)
    canvas[40:240, 100:150] = 255          # 200 tall, 50 wide: 4 to 1
    out = P.canvas_to_mnist(canvas)
    h, w = _bbox(out)
    assert h == 20 and w in (5, 6)         # 20 / 4 = 5 (+1 for an anti-aliased edge)
    wide = P.canvas_to_mnist(canvas.T.copy())
    assert _bbox(wide) == (w, h)


def test_centre_of_mass_lands_at_the_centre_like_mnist():
    # an L shape: its centre of mass is far from its bounding box's centre
    canvas = np.zeros((280, 280), np.uint8)
    canvas[20:260, 20:60] = 255
    canvas[220:260, 20:200] = 255
    out = P.canvas_to_mnist(canvas)
    cy, cx = P.centre_of_mass(out)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    # the bundled MNIST digits themselves are centred the same way (mean 14.0)
    ds = data.load_bundled()
    coms = np.array([P.centre_of_mass(im[0].astype(float)) for im in ds.images[::50]])
    assert np.allclose(coms.mean(0), 14, atol=0.1)


def test_position_and_size_on_the_canvas_do_not_matter():
    ref = P.canvas_to_mnist(draw_digit(4, pen=20, box=(0.1, 0.1, 0.9, 0.9)))
    corner = P.canvas_to_mnist(draw_digit(4, pen=4, box=(0.78, 0.78, 0.98, 0.98)))  # tiny, bottom right
    top_left = P.canvas_to_mnist(draw_digit(4, pen=8, box=(0.0, 0.0, 0.35, 0.35)))
    assert _corr(ref, corner) > 0.85 and _corr(ref, top_left) > 0.85
    assert _bbox(corner)[0] == 20


def test_dark_ink_on_light_paper_is_inverted():
    light = P.canvas_to_mnist(draw_digit(7, pen=18, ink=(30, 30, 90), background=(240, 236, 225)))
    dark = P.canvas_to_mnist(draw_digit(7, pen=18))
    assert light[0, 0] == 0.0 and light.max() == pytest.approx(1.0)
    assert _corr(light, dark) > 0.95


def test_greyscale_float_and_transparent_inputs():
    rgba = draw_digit(2, pen=16)
    ref = P.canvas_to_mnist(rgba)
    grey = rgba[:, :, 0]
    assert np.allclose(P.canvas_to_mnist(grey), ref, atol=1e-5)
    assert np.allclose(P.canvas_to_mnist(grey / 255.0), ref, atol=1e-5)
    transparent = draw_digit(2, pen=16, ink=(0, 0, 0), background=None)   # black ink, no background
    assert _corr(P.canvas_to_mnist(transparent), ref) > 0.95
    # a photo of paper with see-through rounded corners is still read by its ink, not its alpha
    paper = draw_digit(2, pen=16, ink=(20, 20, 20), background=(245, 245, 240))
    yy, xx = np.mgrid[:280, :280]
    paper[..., 3] = np.where(np.minimum(np.minimum(yy, 279 - yy), np.minimum(xx, 279 - xx)) < 6, 0, 255)
    assert _corr(P.canvas_to_mnist(paper), ref) > 0.95


@pytest.mark.parametrize("pen", [2, 6, 20, 45, 80])
def test_thin_and_thick_pens_end_up_with_mnist_like_strokes(pen):
    out = P.canvas_to_mnist(draw_digit(8, pen=pen, box=(0.15, 0.1, 0.85, 0.9)))
    # the bundled MNIST digits have stroke widths of 2.2–4.6 px (5th–95th percentile)
    assert 2.2 <= P.stroke_width(out) <= 5.5
    assert out.max() == pytest.approx(1.0)


def test_stray_specks_do_not_stretch_the_bounding_box():
    clean = draw_digit(1, pen=20, box=(0.3, 0.2, 0.6, 0.8))
    dusty = clean.copy()
    dusty[5:8, 270:273, :3] = 255      # a 3×3 dot in the corner
    assert np.allclose(P.canvas_to_mnist(dusty), P.canvas_to_mnist(clean), atol=1e-6)


def test_mnist_digits_pass_through_unchanged_up_to_rounding():
    # MNIST rounded its centring shift to whole pixels, so a digit may move by one pixel
    ds = data.load_bundled()
    for i in range(0, 5000, 250):
        digit = ds.floats([i])[0, 0]
        out = P.canvas_to_mnist(digit)
        best = max(_corr(np.roll(out, (dy, dx), (0, 1)), digit) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
        assert best > 0.98, i


@pytest.mark.parametrize("blank", [
    np.zeros((280, 280, 4), np.uint8) + np.array([0, 0, 0, 255], np.uint8),   # cleared canvas
    np.full((280, 280), 255, np.uint8),                                       # white page
    np.full((50, 80), 128, np.uint8),                                         # uniform grey
    np.random.default_rng(0).integers(0, 12, (280, 280)).astype(np.uint8),    # faint sensor noise
    np.zeros((280, 280, 4), np.uint8),                                        # fully transparent
])
def test_blank_pictures_raise_empty_image_error(blank):
    with pytest.raises(P.EmptyImageError, match="blank"):
        P.canvas_to_mnist(blank)


def test_large_photo_is_handled():
    photo = np.full((2400, 3200, 3), 230, np.uint8)
    digit = draw_digit(5, size=1200, pen=90, ink=(20, 20, 20), background=(230, 230, 230))[:, :, :3]
    photo[600:1800, 1000:2200] = digit
    out = P.canvas_to_mnist(photo)
    assert _corr(out, P.canvas_to_mnist(draw_digit(5, pen=20))) > 0.85


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="H×W"):
        P.canvas_to_mnist(np.zeros((10, 10, 2), np.uint8))


# --- uploaded files ----------------------------------------------------------------------------


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_png_and_jpeg_round_trip_to_rgba():
    rgba = draw_strokes([[(0.5, 0.1), (0.5, 0.9)]], size=64, pen=8)
    png = P.load_image_file(_encode(Image.fromarray(rgba), "PNG"))
    assert png.shape == (64, 64, 4) and png.dtype == np.uint8 and np.array_equal(png, rgba)
    jpg = P.load_image_file(_encode(Image.fromarray(rgba[:, :, :3]), "JPEG", quality=90))
    assert jpg.shape == (64, 64, 4) and _corr(P.canvas_to_mnist(jpg), P.canvas_to_mnist(rgba)) > 0.95


def test_sixteen_bit_greyscale_is_stretched_not_clipped():
    a = np.zeros((40, 40), np.uint16)
    a[5:35, 18:22] = 60000
    out = P.load_image_file(_encode(Image.fromarray(a), "PNG"))
    assert out[20, 20, 0] == 255 and out[0, 0, 0] == 0


@pytest.mark.parametrize("blob,match", [
    (b"", "empty"),
    (b"hello, this is a text file, not a picture" * 10, "not a picture"),
    (b"%PDF-1.7\n" + bytes(200), "not a picture"),
])
def test_non_images_are_refused(blob, match):
    with pytest.raises(P.ImageFileError, match=match):
        P.load_image_file(blob)


def test_truncated_picture_is_reported_as_damaged():
    rgba = np.random.default_rng(1).integers(0, 255, (200, 200, 3)).astype(np.uint8)
    blob = _encode(Image.fromarray(rgba), "PNG")
    with pytest.raises(P.ImageFileError, match="damaged"):
        P.load_image_file(blob[: len(blob) // 2])


def test_oversized_files_are_refused_before_decoding():
    blob = _encode(Image.new("L", (10, 10)), "PNG")
    with pytest.raises(P.ImageFileError, match="MB"):
        P.load_image_file(blob, max_bytes=10)


def test_decompression_bomb_is_refused_from_its_header():
    # 20,000 × 20,000 one-bit pixels compress to a few kB but would decode to 1.6 GB of RGBA
    bomb = _encode(Image.new("1", (20_000, 20_000)), "PNG")
    assert len(bomb) < 200_000
    with pytest.raises(P.ImageFileError, match="decompression bomb"):
        P.load_image_file(bomb)


def test_pils_own_bomb_guard_becomes_the_same_clear_error(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    for side in (40, 100):   # 1,600 px: PIL warns; 10,000 px: PIL raises
        with pytest.raises(P.ImageFileError, match="decompression bomb"):
            P.load_image_file(_encode(Image.new("L", (side, side)), "PNG"), max_pixels=10**9)


def test_animations_are_refused_but_still_gifs_load():
    frames = [Image.new("L", (30, 30), c) for c in (0, 255)]
    anim = io.BytesIO()
    frames[0].save(anim, "GIF", save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(P.ImageFileError, match="animation"):
        P.load_image_file(anim.getvalue())
    still = P.load_image_file(_encode(frames[1], "GIF"))
    assert still.shape == (30, 30, 4) and still[..., 0].min() == 255


def test_phone_photo_orientation_is_applied():
    img = Image.new("L", (40, 20), 0)          # wide picture...
    exif = Image.Exif()
    exif[0x0112] = 6                           # ...that the camera says to rotate 90°
    out = P.load_image_file(_encode(img, "JPEG", exif=exif))
    assert out.shape[:2] == (40, 20)


def test_the_default_pen_is_not_called_very_thin():
    """Issue 11: at the Draw page's default pen (20 px on the 280 px canvas) the steps said "The pen
    was very thin for that scale"; the adjustment is described as what it is."""
    from cnn_core.data.synthetic import draw_digit
    from cnn_core.inference.preprocess import explain

    for digit in range(10):
        lines = explain(draw_digit(digit, pen=20.0)).describe()
        text = " ".join(lines)
        assert "very thin" not in text and "very thick" not in text
        pen_lines = [ln for ln in lines if "MNIST's (about 3 px)" in ln]
        assert len(pen_lines) <= 1
