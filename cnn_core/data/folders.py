"""An uploaded zip of class folders → an ImageDataset, checked like untrusted input.

The layout document 000 used (one folder per class, ``0/ … 9/``) and the 5-class homework of
document 001 both fit: ``classname/image.png``, optionally inside one top-level folder. Every
entry is checked before anything is decompressed:

- the archive size, the number of entries and the total uncompressed size are capped;
- an entry that expands more than ``max_ratio`` times (a zip bomb) rejects the archive, and reads
  are capped at the declared size, so a lying header cannot expand further;
- absolute paths, drive letters and ``..`` components (path traversal) reject the archive;
- symbolic links reject the archive;
- files that are not images are skipped and reported;
- at least two classes, each with ``min_per_class`` images;
- the decoded images (RGB at the chosen size, counted from the entries before any is decoded)
  must fit ``max_decoded_bytes`` ($CNN_EXPLORER_MAX_ZIP_DECODED_MB), so a small archive of many
  images cannot ask for gigabytes.

``progress(done, total)`` is called as images are decoded; whatever it raises ends the load (the
app's progress bar raises Streamlit's stop when the tab that started the load has closed).

Nothing is ever written to disk: images are decoded from memory with Pillow.
"""
from __future__ import annotations

import io
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Callable

import numpy as np

from cnn_core import limits as caps
from cnn_core.data.datasets import DataError, ImageDataset
from cnn_core.lessons.formatting import count_of

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
IGNORED_PARTS = {"__MACOSX", ".DS_Store", "Thumbs.db"}


class FolderDatasetError(DataError):
    """An uploaded archive that cannot become a data set; the message is meant for the user."""


@dataclass(frozen=True)
class ZipLimits:
    max_archive_bytes: int = field(default_factory=lambda: caps.MAX_ZIP_MB * 2 ** 20)   # $CNN_EXPLORER_MAX_ZIP_MB
    max_files: int = 20_000
    max_total_bytes: int = field(default_factory=lambda: caps.MAX_ZIP_EXPANDED_MB * 2 ** 20)  # $CNN_EXPLORER_MAX_ZIP_EXPANDED_MB
    max_file_bytes: int = 10 * 1024 * 1024
    max_ratio: float = 100.0                        # uncompressed / compressed, per entry
    max_decoded_bytes: int = field(default_factory=lambda: caps.MAX_ZIP_DECODED_MB * 2 ** 20)
    max_pixels: int = 4096 * 4096                   # per decoded image
    min_per_class: int = 5


@dataclass
class FolderReport:
    """What happened to each entry; shown to the user under the data set."""
    classes: dict[str, int] = field(default_factory=dict)   # class -> images kept
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (path, reason)
    colour: str = "greyscale"

    def summary(self) -> str:
        parts = [f"{sum(self.classes.values()):,} images in {len(self.classes)} classes ({self.colour})"]
        if self.skipped:
            parts.append(f"{count_of(len(self.skipped), 'file')} skipped")
        return ", ".join(parts)


def _natural_key(name: str):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def _check_name(name: str) -> PurePosixPath:
    raw = name.replace("\\", "/")
    if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw):
        raise FolderDatasetError(f"The archive contains an absolute path ({name!r}); it was rejected. "
                                 "Zip the class folders themselves, with relative paths.")
    path = PurePosixPath(raw)
    if any(part == ".." for part in path.parts):
        raise FolderDatasetError(f"The archive contains a path that climbs out of its folder ({name!r}); "
                                 "it was rejected.")
    return path


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """Read at most the declared size (≤ cap); a stream longer than declared is a forged header."""
    with zf.open(info) as f:
        data = f.read(min(info.file_size, cap) + 1)
    if len(data) > info.file_size or len(data) > cap:
        raise FolderDatasetError(f"{info.filename!r} expands beyond its declared size; the archive was rejected.")
    return data


def _decode(data: bytes, size: int, limits: ZipLimits):
    """(RGB uint8 array resized to size×size, is_colour) or raise ValueError with a reason."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            w, h = img.size
            if w * h > limits.max_pixels:
                raise ValueError(f"too large ({w}×{h} pixels)")
            img.load()
            if img.mode in ("RGBA", "LA", "P", "PA") or "transparency" in img.info:
                rgba = img.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255) if _light(rgba) else (0, 0, 0, 255))
                img = Image.alpha_composite(background, rgba)
            rgb = img.convert("RGB").resize((size, size), Image.BILINEAR)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValueError("not a readable image") from exc
    arr = np.asarray(rgb, dtype=np.uint8)
    colour = bool(np.any(arr.max(axis=2).astype(int) - arr.min(axis=2) > 8))
    return arr, colour


def _light(rgba) -> bool:
    """Whether the visible pixels of a transparent image are mostly dark (so it needs a light background)."""
    a = np.asarray(rgba, dtype=np.float32)
    visible = a[..., 3] > 0
    return bool(visible.any() and a[..., :3][visible].mean() < 128)


ProgressFn = Callable[[int, int], None]


def load_zip(source, image_size: int = 28, colour: str = "auto", invert: bool = False,
             limits: ZipLimits | None = None, name: str = "uploaded folders",
             progress: ProgressFn | None = None) -> ImageDataset:
    """Build an ImageDataset (uint8 (N, C, size, size)) from a zip of class folders.

    source: bytes, a file-like object or a path. colour: "auto" (RGB if any image has colour,
    else greyscale), "grey" or "rgb". invert: 255 − value (dark ink on white paper → MNIST's
    white on black). The report is in ``dataset.meta["report"]`` (a FolderReport). ``progress``:
    called with (images decoded, images to decode) every few images; an exception it raises ends
    the load and propagates.
    """
    limits = ZipLimits() if limits is None else limits
    if colour not in ("auto", "grey", "rgb"):
        raise ValueError("colour must be 'auto', 'grey' or 'rgb'")
    if not 8 <= int(image_size) <= 256:
        raise FolderDatasetError(f"Choose an image size between 8 and 256 pixels, not {image_size}.")
    if isinstance(source, (bytes, bytearray)):
        raw = bytes(source)
    elif hasattr(source, "read"):
        raw = source.read(limits.max_archive_bytes + 1)
    else:
        with open(source, "rb") as f:
            raw = f.read(limits.max_archive_bytes + 1)
    if len(raw) > limits.max_archive_bytes:
        cap = limits.max_archive_bytes
        size = "larger than " + caps.fmt_bytes(cap) if len(raw) == cap + 1 else caps.fmt_bytes(len(raw))
        raise FolderDatasetError(f"The archive is {size}; the cap for a zip is {caps.fmt_bytes(cap)}"
                                 f"{'' if len(raw) == cap + 1 else ' ' + caps.over(len(raw), cap)}: "
                                 "upload fewer or smaller images.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise FolderDatasetError("This is not a readable .zip archive. Zip a folder that holds one sub-folder "
                                 "per class.") from exc
    with zf:
        return _load(zf, infos, int(image_size), colour, invert, limits, name, progress)


def _load(zf, infos, size, colour, invert, limits, name, progress=None) -> ImageDataset:
    if len(infos) > limits.max_files:
        raise FolderDatasetError(f"The archive holds {len(infos):,} entries; the limit is {limits.max_files:,}.")
    files = []
    for info in infos:
        path = _check_name(info.filename)
        if _is_symlink(info):
            raise FolderDatasetError(f"The archive contains a symbolic link ({info.filename!r}); it was rejected.")
        if info.is_dir():
            continue
        files.append((path, info))
    total = sum(info.file_size for _, info in files)
    if total > limits.max_total_bytes:
        raise FolderDatasetError(f"The archive would expand to {caps.fmt_bytes(total)}; the cap is "
                                 f"{caps.fmt_bytes(limits.max_total_bytes)} {caps.over(total, limits.max_total_bytes)}.")
    for path, info in files:
        if info.file_size > 1024 and info.file_size > limits.max_ratio * max(1, info.compress_size):
            raise FolderDatasetError(
                f"{info.filename!r} expands {info.file_size / max(1, info.compress_size):,.0f}× "
                f"({info.compress_size:,} → {info.file_size:,} bytes), beyond the {limits.max_ratio:g}× allowed: "
                "this looks like a zip bomb, so the archive was rejected.")

    report = FolderReport()
    kept = [(p, i) for p, i in files if not (set(p.parts) & IGNORED_PARTS or p.name.startswith("._"))]
    # One wrapper folder around the class folders (zipping "digits/" gives digits/0/…, digits/1/…).
    tops = {p.parts[0] for p, _ in kept if len(p.parts) > 1}
    strip = 1 if len(tops) == 1 and all(len(p.parts) >= 3 for p, _ in kept) else 0
    images_in = [i for p, i in kept if len(p.parts[strip:]) >= 2 and p.suffix.lower() in IMAGE_SUFFIXES
                 and i.file_size <= limits.max_file_bytes]
    decoded = len(images_in) * size * size * 3
    if decoded > limits.max_decoded_bytes:
        cap = limits.max_decoded_bytes
        fit = cap // (size * size * 3)
        raise FolderDatasetError(
            f"{len(images_in):,} images at {size}×{size} pixels would take {caps.fmt_bytes(decoded)} decoded; the cap "
            f"is {caps.fmt_bytes(cap)} {caps.over(decoded, cap)}: choose a smaller image size, or upload at most "
            f"{fit:,} images at this size.")
    total, done = len(images_in), 0
    every = max(1, total // 100)
    if progress is not None:
        progress(0, total)
    samples: dict[str, list[np.ndarray]] = {}
    colours: list[bool] = []
    for path, info in kept:
        parts = path.parts[strip:]
        if len(parts) < 2:
            report.skipped.append((info.filename, "not inside a class folder"))
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            report.skipped.append((info.filename, f"not an image ({path.suffix or 'no extension'})"))
            continue
        if info.file_size > limits.max_file_bytes:
            report.skipped.append((info.filename, f"larger than {limits.max_file_bytes // 2**20} MB"))
            continue
        done += 1
        if progress is not None and done % every == 0:
            progress(done, total)
        try:
            arr, is_colour = _decode(_read_capped(zf, info, limits.max_file_bytes), size, limits)
        except ValueError as exc:
            report.skipped.append((info.filename, str(exc)))
            continue
        except (zipfile.BadZipFile, RuntimeError, EOFError) as exc:   # corrupt entry / bad CRC / encrypted
            report.skipped.append((info.filename, f"damaged in the archive ({type(exc).__name__})"))
            continue
        samples.setdefault(parts[0], []).append(arr)
        colours.append(is_colour)

    if len(samples) < 2:
        found = f"found {len(samples)} class folder{'s' if len(samples) != 1 else ''} with images"
        raise FolderDatasetError(f"A data set needs at least 2 classes (one folder per class); {found}."
                                 + _skipped_hint(report))
    small = {c: len(v) for c, v in samples.items() if len(v) < limits.min_per_class}
    if small:
        listed = ", ".join(f"{c!r} ({n})" for c, n in sorted(small.items(), key=lambda kv: _natural_key(kv[0])))
        raise FolderDatasetError(f"Each class needs at least {limits.min_per_class} images; too few in {listed}.")

    use_rgb = colour == "rgb" or (colour == "auto" and any(colours))
    report.colour = "RGB" if use_rgb else "greyscale"
    class_names = sorted(samples, key=_natural_key)
    images, labels = [], []
    for label, cname in enumerate(class_names):
        arrs = np.stack(samples[cname])                            # (n, H, W, 3)
        if use_rgb:
            chw = arrs.transpose(0, 3, 1, 2)
        else:
            grey = 0.299 * arrs[..., 0] + 0.587 * arrs[..., 1] + 0.114 * arrs[..., 2]
            chw = np.clip(np.rint(grey), 0, 255).astype(np.uint8)[:, None]
        images.append(chw)
        labels.append(np.full(len(chw), label, np.int64))
        report.classes[cname] = len(chw)
    x = np.concatenate(images).astype(np.uint8)
    if invert:
        x = 255 - x
    ds = ImageDataset(name, np.ascontiguousarray(x), np.concatenate(labels), class_names,
                      source=f"uploaded zip: {report.summary()}")
    ds.meta["report"] = report
    return ds


def _skipped_hint(report: FolderReport) -> str:
    if not report.skipped:
        return ""
    reasons = sorted({r for _, r in report.skipped})
    return f" {count_of(len(report.skipped), 'file')} {'was' if len(report.skipped) == 1 else 'were'} skipped ({'; '.join(reasons[:3])})."
