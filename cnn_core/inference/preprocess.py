"""Canvas drawings and uploaded pictures → the 28×28 input an MNIST model expects.

MNIST's own recipe (LeCun, Cortes, Burges): the ink's bounding box is scaled so that its longer
side is 20 px, keeping the aspect ratio, with anti-aliasing (grey edges); the result is placed in
a 28×28 field so that the ink's centre of mass sits at the centre. ``canvas_to_mnist`` repeats
that recipe for anything a person can give the app: a canvas (white ink on black), a photo of a
digit on paper (dark ink on light), a tiny digit in a corner, a hair-thin or a very thick pen.

An image with no ink raises ``EmptyImageError`` (a ``ValueError``): a blank canvas has no
answer, and a page should show a hint instead of a guess.

``load_image_file`` turns uploaded bytes into an RGBA array, refusing corrupt, non-image,
animated and oversized files (decompression bombs included) with ``ImageFileError``.
"""
from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from cnn_core import limits

MNIST_SIZE = 28
BOX_SIZE = 20                 # MNIST: the longer side of the ink's bounding box
CENTRE = 14.0                 # where MNIST's centres of mass lie (mean 13.99 / 14.00 over the bundled digits)
WORK_SIZE = 560               # larger pictures are reduced to this first: the output is 20 px anyway
INK_THRESHOLD = 0.25          # of the strongest ink: what counts as ink for the bounding box
NOISE_FLOOR = 0.10            # weaker "ink" (paper grain, JPEG noise) is dropped
MIN_CONTRAST = 0.10           # less ink-to-background contrast than this means "no ink"
SPECK_FRACTION = 0.01         # ink blobs smaller than this share of all ink are dust, not digit
# Stroke width after scaling, measured as 2·area/perimeter of the ink above 1/2. The bundled MNIST
# digits lie between 2.2 and 4.6 px (5th–95th percentile, median 3.3); pens outside get adjusted.
STROKE_MIN, STROKE_TARGET, STROKE_MAX = 2.4, 3.0, 4.8

MAX_UPLOAD_BYTES = limits.MAX_IMAGE_MB * 1024 * 1024     # cnn_core/limits.py, $CNN_EXPLORER_MAX_IMAGE_MB
MAX_UPLOAD_PIXELS = limits.MAX_IMAGE_PIXELS


LIGHT_ON_DARK, DARK_ON_LIGHT, PAINTED = "light ink on dark", "dark ink on light (inverted)", "painted pixels"


class EmptyImageError(ValueError):
    """The picture has no ink to classify; the message is meant for the user."""


class ImageFileError(ValueError):
    """An uploaded file that cannot be used as a picture; the message is meant for the user."""


# ---------------------------------------------------------------------------------------------
# The MNIST recipe


def ink_map(image: np.ndarray) -> np.ndarray:
    """Ink intensity in [0, 1] (float32, H×W), light ink on dark whatever the input's polarity.

    ``image``: H×W greyscale (uint8 0–255, or float 0–1), H×W×3 RGB or H×W×4 RGBA uint8.
    Polarity is decided by the background, taken as the median of the image's border: a light
    border (paper, a white canvas) means dark ink, which is inverted. A mostly transparent RGBA
    picture is read by its alpha: what is painted is ink, whatever its colour.
    """
    return _ink_map(image)[0]


def _ink_map(image: np.ndarray) -> tuple[np.ndarray, str]:
    """(ink map, how it was read: "light ink on dark", "dark ink on light" or "painted pixels")."""
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or min(a.shape[:2]) < 1:
        raise ValueError(f"Expected an H×W greyscale, H×W×3 RGB or H×W×4 RGBA image, got shape {a.shape}.")
    if a.dtype == np.bool_:
        a = a.astype(np.float32)
    integer = np.issubdtype(a.dtype, np.integer)
    # Integers are 0–255; floats are 0–1 unless they plainly use the 0–255 scale.
    scale = 255.0 if integer or float(np.nanmax(a)) > 1.0 else 1.0
    a = a.astype(np.float32) / np.float32(scale)
    if not integer:
        a = np.nan_to_num(a, nan=0.0)
    if a.ndim == 3:
        alpha = np.clip(a[:, :, 3], 0.0, 1.0) if a.shape[2] == 4 else None
        if alpha is not None and (alpha < 0.5).mean() > 0.5:
            # Mostly transparent: a drawing on a clear background; what is painted is the ink.
            return alpha, PAINTED
        a = a[:, :, :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601 luma
        if alpha is not None and alpha.min() < 0.98:
            # A few see-through pixels (rounded corners, a soft edge) take the background's colour.
            bg = float(np.median(a[alpha >= 0.5]))
            a = a * alpha + bg * (1.0 - alpha)
    a = np.clip(a, 0.0, 1.0)
    if np.median(_border(a)) > 0.5:
        return 1.0 - a, DARK_ON_LIGHT
    return a, LIGHT_ON_DARK


def _border(a: np.ndarray) -> np.ndarray:
    w = max(1, min(a.shape) // 20)
    return np.concatenate([a[:w].ravel(), a[-w:].ravel(), a[:, :w].ravel(), a[:, -w:].ravel()])


def _reduce(ink: np.ndarray, limit: int = WORK_SIZE) -> tuple[np.ndarray, float]:
    """Shrink pictures larger than ``limit`` px (area averaging) so big photos stay fast.

    Returns the picture and the factor it was shrunk by (1.0: unchanged)."""
    h, w = ink.shape
    if max(h, w) <= limit:
        return ink, 1.0
    from PIL import Image

    s = limit / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return np.asarray(Image.fromarray(ink, mode="F").resize(size, Image.Resampling.BOX), dtype=np.float32), s


def _clean(ink: np.ndarray) -> np.ndarray | None:
    """Background removed and contrast stretched to [0, 1]; None when there is no ink."""
    bg = float(np.median(_border(ink)))
    peak = float(ink.max())
    if peak - bg < MIN_CONTRAST:
        return None
    out = np.clip((ink - bg) / (peak - bg), 0.0, 1.0)
    out[out < NOISE_FLOOR] = 0.0
    mask = out >= INK_THRESHOLD
    if not mask.any():
        return None
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    if n > 1:
        # Dust and stray dots would stretch the bounding box; a digit's own strokes are bigger.
        sizes = ndimage.sum_labels(mask, labels, index=np.arange(1, n + 1))
        keep = np.flatnonzero(sizes >= SPECK_FRACTION * sizes.sum()) + 1
        grown = ndimage.binary_dilation(np.isin(labels, keep), iterations=2)
        out = np.where(grown, out, 0.0)
    return out.astype(np.float32)


def stroke_width(ink: np.ndarray) -> float:
    """Typical stroke width in pixels: 2·area / perimeter of the ink above 1/2.

    A stroke of width t and length L has area t·L and perimeter about 2·L, so 2A/P ≈ t.
    """
    mask = ink >= 0.5
    area = int(mask.sum())
    if area == 0:
        return 0.0
    perimeter = int((mask & ~ndimage.binary_erosion(mask, border_value=0)).sum())
    return 2.0 * area / max(perimeter, 1)


def _dilate(ink: np.ndarray, r: float) -> np.ndarray:
    """Thicken strokes by ``r`` px on every side, with soft (anti-aliased) edges.

    A distance transform instead of a disk-shaped max filter: O(pixels) whatever ``r`` is.
    """
    dist = ndimage.distance_transform_edt(ink < 0.5)  # 0 on the ink, else distance to it
    return np.maximum(ink, np.clip(r + 0.5 - dist, 0.0, 1.0)).astype(np.float32)


def _erode(ink: np.ndarray, r: float) -> np.ndarray:
    """Thin strokes by ``r`` px on every side (the inverse of ``_dilate``)."""
    depth = ndimage.distance_transform_edt(ink >= 0.5)  # distance from ink to the nearest background
    return np.minimum(ink, np.clip(depth - r, 0.0, 1.0)).astype(np.float32)


def _fit_stroke(ink: np.ndarray, bbox_long_side: int) -> tuple[np.ndarray, str]:
    """Thicken hair-thin pens and thin out very thick ones so they look like MNIST after scaling."""
    scale = BOX_SIZE / bbox_long_side
    t = stroke_width(ink)
    if t == 0.0:
        return ink, ""
    t_out = t * scale
    if t_out < STROKE_MIN:
        return _dilate(ink, (STROKE_TARGET / scale - t) / 2), "thickened"
    if t_out > STROKE_MAX:
        thinner = _erode(ink, (t - STROKE_TARGET / scale) / 2)
        # Never erase a stroke: keep the thinning only if a good part of the ink survives.
        if (thinner >= INK_THRESHOLD).sum() >= 0.25 * (ink >= INK_THRESHOLD).sum():
            return thinner, "thinned"
    return ink, ""


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def fit_box(ink: np.ndarray, box: int = BOX_SIZE) -> np.ndarray:
    """Crop to the ink's bounding box and scale its longer side to ``box`` px (anti-aliased)."""
    from PIL import Image

    y0, y1, x0, x1 = _bbox(ink >= INK_THRESHOLD)
    crop = ink[y0:y1, x0:x1]
    h, w = crop.shape
    s = box / max(h, w)
    size = (max(1, min(box, round(w * s))), max(1, min(box, round(h * s))))
    # LANCZOS averages over the source pixels when shrinking (anti-aliasing) and interpolates
    # smoothly when enlarging a tiny digit.
    out = np.asarray(Image.fromarray(np.ascontiguousarray(crop), mode="F")
                     .resize(size, Image.Resampling.LANCZOS), dtype=np.float32)
    return np.clip(out, 0.0, 1.0)


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    """(row, column) of the intensity-weighted centre."""
    total = float(img.sum())
    ys, xs = np.indices(img.shape)
    return float((ys * img).sum() / total), float((xs * img).sum() / total)


def paste_centred(glyph: np.ndarray, size: int = MNIST_SIZE, centre: float = CENTRE) -> np.ndarray:
    """Place ``glyph`` in a size×size field, its centre of mass on ``centre`` (whole-pixel shift,
    as MNIST did), kept fully inside the field."""
    top, left = _paste_offset(glyph, size, centre)
    h, w = glyph.shape
    out = np.zeros((size, size), dtype=np.float32)
    out[top:top + h, left:left + w] = glyph
    return out


def _paste_offset(glyph: np.ndarray, size: int = MNIST_SIZE, centre: float = CENTRE) -> tuple[int, int]:
    h, w = glyph.shape
    cy, cx = centre_of_mass(glyph)
    return int(np.clip(round(centre - cy), 0, size - h)), int(np.clip(round(centre - cx), 0, size - w))


@dataclass(frozen=True)
class PreprocessSteps:
    """What ``canvas_to_mnist`` did, for a page to show (sizes in the input's pixels)."""
    image: np.ndarray                    # the 28×28 result
    polarity: str                        # LIGHT_ON_DARK, DARK_ON_LIGHT or PAINTED
    input_size: tuple[int, int]          # (height, width) of the picture
    bbox: tuple[int, int, int, int]      # ink bounding box (top, bottom, left, right), end-exclusive
    scale: float                         # 20 / longer side of the box
    box_size: tuple[int, int]            # (height, width) after scaling: the longer side is 20
    pen: str                             # "", "thickened" or "thinned"
    centre_of_mass: tuple[float, float]  # of the scaled digit, in its own box (row, column)
    offset: tuple[int, int]              # where the box's top-left corner lands in 28×28 (row, column)

    @property
    def bbox_size(self) -> tuple[int, int]:
        t, b, l, r = self.bbox
        return b - t, r - l

    def describe(self) -> list[str]:
        """The steps as short sentences with the actual numbers."""
        bh, bw = self.bbox_size
        gh, gw = self.box_size
        cy, cx = self.centre_of_mass
        oy, ox = self.offset
        lines = [f"A {self.input_size[0]}×{self.input_size[1]} picture; ink read as {self.polarity}.",
                 f"Crop to the ink: a {bh}×{bw} px box (rows {self.bbox[0] + 1}–{self.bbox[1]}, "
                 f"columns {self.bbox[2] + 1}–{self.bbox[3]}).",
                 f"Scale by 20 / {max(bh, bw)} = {self.scale:.3f} (anti-aliased): {gh}×{gw} px, "
                 "longer side 20, aspect ratio kept."]
        if self.pen:
            # An adjustment, not a fault: the default pen on a big digit lands just under MNIST's width.
            lines.append(f"After scaling, the strokes would be {'thinner' if self.pen == 'thickened' else 'thicker'} "
                         f"than MNIST's (about 3 px), so they were {self.pen} to that width first.")
        lines.append(f"Centre of mass at ({cy + 1:.1f}, {cx + 1:.1f}) in the box (row, column); the box goes at "
                     f"row {oy + 1}, column {ox + 1} of the 28×28 field, so the centre of mass lands at "
                     f"({cy + oy + 1:.1f}, {cx + ox + 1:.1f}), "
                     + ("within half a pixel of (15, 15), where MNIST puts it."
                        if max(abs(cy + oy - CENTRE), abs(cx + ox - CENTRE)) <= 0.5 + 1e-9
                        else "as near (15, 15), where MNIST puts it, as the field allows."))
        return lines


def explain(image: np.ndarray) -> PreprocessSteps:
    """``canvas_to_mnist`` with every intermediate number kept; raises ``EmptyImageError``."""
    ink, polarity = _ink_map(image)
    size = ink.shape
    ink, shrink = _reduce(ink)
    ink = _clean(ink)
    if ink is None:
        raise EmptyImageError("There is no digit to read: the picture is blank. Draw or upload a digit.")
    y0, y1, x0, x1 = _bbox(ink >= INK_THRESHOLD)
    long_side = max(y1 - y0, x1 - x0)
    pad = long_side // 8 + 2  # room for the thickest pen adjustment (≤ 0.075 × long side per side)
    ink = ink[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad]
    ink, pen = _fit_stroke(ink, long_side)
    glyph = fit_box(ink)
    peak = float(glyph.max())
    if peak <= 0.0:
        raise EmptyImageError("There is no digit to read: the picture is blank. Draw or upload a digit.")
    glyph = glyph / peak
    top, left = _paste_offset(glyph)
    out = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    out[top:top + glyph.shape[0], left:left + glyph.shape[1]] = glyph
    bbox = tuple(int(round(v / shrink)) for v in (y0, y1, x0, x1))
    long_in = max(bbox[1] - bbox[0], bbox[3] - bbox[2])
    return PreprocessSteps(out, polarity, (int(size[0]), int(size[1])), bbox, BOX_SIZE / long_in,
                           glyph.shape, pen, centre_of_mass(glyph), (top, left))


def canvas_to_mnist(image: np.ndarray) -> np.ndarray:
    """A canvas or picture as MNIST's 28×28 float32 input in [0, 1] (white digit on black).

    ``image``: H×W×4 RGBA uint8 (the drawing canvas), H×W×3 RGB, or H×W greyscale (uint8, or
    float in [0, 1]). Steps: ink map (dark-on-light is inverted), background removed and
    contrast stretched, dust dropped, pen thickness brought into MNIST's range, crop to the
    ink's bounding box, longer side scaled to 20 px keeping the aspect ratio (anti-aliased),
    pasted into 28×28 with the centre of mass at the centre, strongest ink scaled to 1.

    Raises ``EmptyImageError`` when there is no ink (a blank canvas or an empty page).
    """
    return explain(image).image


# ---------------------------------------------------------------------------------------------
# Uploaded files


def load_image_file(data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES,
                    max_pixels: int = MAX_UPLOAD_PIXELS) -> np.ndarray:
    """Decode an uploaded picture (PNG, JPEG, GIF, BMP, WebP, TIFF, ...) into H×W×4 RGBA uint8.

    Refuses, with ``ImageFileError`` and a message worth showing: empty or oversized files,
    files that are not pictures, damaged pictures, pictures with more than ``max_pixels``
    pixels (decompression bombs: checked from the header, before anything is decoded) and
    animations. Phone photos are turned upright from their EXIF orientation.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise ImageFileError("The file is empty. Upload a picture of a digit (PNG or JPEG).")
    if len(data) > max_bytes:
        raise ImageFileError(f"The file is {len(data) / 1e6:.1f} MB; pictures are limited to "
                             f"{max_bytes / 1e6:.0f} MB. Upload a smaller picture.")
    try:
        with warnings.catch_warnings():
            # PIL only warns between MAX_IMAGE_PIXELS and twice that; treat it as the refusal it is.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > max_pixels:
                raise ImageFileError(f"The picture is {w:,} × {h:,} pixels, more than the {max_pixels / 1e6:.0f} "
                                     "million this app accepts (it may be a decompression bomb). "
                                     "Upload a smaller picture.")
            if getattr(img, "is_animated", False) and getattr(img, "n_frames", 1) > 1:
                raise ImageFileError(f"The file is an animation ({img.n_frames} frames). "
                                     "Upload a still picture of one digit.")
            img.load()
            img = ImageOps.exif_transpose(img)
            return _to_rgba(img)
    except ImageFileError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageFileError("The picture is far too large once decoded (a possible decompression bomb). "
                             "Upload a smaller picture.") from exc
    except UnidentifiedImageError as exc:
        raise ImageFileError("This file is not a picture the app can read. Upload a PNG, JPEG, GIF, "
                             "BMP or WebP picture of a digit.") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error) as exc:
        raise ImageFileError("The picture is damaged or truncated and cannot be decoded "
                             f"({type(exc).__name__}). Upload another copy.") from exc


def _to_rgba(img) -> np.ndarray:
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # 16-bit and float greyscale: stretch to 0–255 rather than let PIL clip it.
        a = np.asarray(img, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        grey = np.zeros(a.shape, np.uint8) if hi <= lo else np.rint((a - lo) / (hi - lo) * 255).astype(np.uint8)
        rgba = np.empty(grey.shape + (4,), np.uint8)
        rgba[..., :3] = grey[..., None]
        rgba[..., 3] = 255
        return rgba
    return np.asarray(img.convert("RGBA"), dtype=np.uint8).copy()
