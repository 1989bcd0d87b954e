"""An uploaded zip of class folders: the good case, and hostile or broken archives."""
from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest
from PIL import Image

from cnn_core.data.folders import FolderDatasetError, ZipLimits, load_zip


def _png(value=200, size=(20, 20), mode="L", colour=None) -> bytes:
    img = Image.new(mode, size, colour if colour is not None else value)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, blob in entries.items():
            zf.writestr(zipfile.ZipInfo(name) if name.endswith("/") else name, blob)
    return buf.getvalue()


def _classes(names=("cat", "dog"), n=5, prefix="") -> dict[str, bytes]:
    return {f"{prefix}{c}/{i}.png": _png(30 * k + i) for k, c in enumerate(names) for i in range(n)}


def test_class_folders_become_a_labelled_dataset_and_non_images_are_reported():
    entries = _classes(("0", "1", "10", "2"))
    entries["0/readme.txt"] = b"notes"
    entries["1/broken.png"] = b"not a png at all"
    entries["loose.png"] = _png()
    entries["__MACOSX/0/._0.png"] = b"resource fork"
    ds = load_zip(_zip(entries), image_size=28)
    assert ds.class_names == ["0", "1", "2", "10"]           # natural order, not "10" before "2"
    assert ds.images.shape == (20, 1, 28, 28) and ds.images.dtype == np.uint8
    assert np.bincount(ds.labels).tolist() == [5, 5, 5, 5]
    report = ds.meta["report"]
    reasons = dict(report.skipped)
    assert reasons["0/readme.txt"].startswith("not an image")
    assert reasons["1/broken.png"] == "not a readable image"
    assert reasons["loose.png"] == "not inside a class folder"
    assert "__MACOSX/0/._0.png" not in reasons                # macOS litter is ignored silently
    assert report.summary() == "20 images in 4 classes (greyscale), 3 files skipped"


def test_one_wrapper_folder_is_stripped_and_images_are_resized():
    ds = load_zip(_zip(_classes(prefix="pets/")), image_size=16)
    assert ds.class_names == ["cat", "dog"] and ds.input_shape == (1, 16, 16)
    assert int(ds.images[0].mean()) == 0 and int(ds.images[5].mean()) == 30     # the grey values survive


def test_colour_images_give_an_rgb_dataset_and_invert_flips_values():
    entries = _classes()
    entries["cat/red.png"] = _png(mode="RGB", colour=(255, 0, 0))
    ds = load_zip(_zip(entries))
    assert ds.input_shape == (3, 28, 28) and ds.meta["report"].colour == "RGB"
    red = ds.images[ds.labels == 0][-1]
    assert tuple(red[:, 0, 0]) == (255, 0, 0)
    grey = load_zip(_zip(_classes()), colour="grey", invert=True)
    assert grey.input_shape == (1, 28, 28) and int(grey.images[0].max()) == 255


def test_a_zip_bomb_is_rejected_before_it_is_expanded():
    bomb = {"cat/bomb.png": b"\0" * (20 * 2**20)}             # 20 MB of zeros deflates ~1000×
    bomb.update(_classes())
    with pytest.raises(FolderDatasetError, match="zip bomb"):
        load_zip(_zip(bomb))


def test_total_size_and_entry_count_are_capped():
    archive = _zip(_classes(n=10))
    with pytest.raises(FolderDatasetError, match="20 entries; the limit is 5"):
        load_zip(archive, limits=ZipLimits(max_files=5))
    with pytest.raises(FolderDatasetError, match="would expand to"):
        load_zip(archive, limits=ZipLimits(max_total_bytes=1000))
    with pytest.raises(FolderDatasetError, match=r"the cap for a zip is 100 bytes \(\d+× over\)"):
        load_zip(archive, limits=ZipLimits(max_archive_bytes=100))


@pytest.mark.parametrize("name", ["../evil.png", "cat/../../evil.png", "cat/..\\..\\evil.png"])
def test_path_traversal_is_rejected(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    entries = _classes()
    entries[name] = _png()
    with pytest.raises(FolderDatasetError, match="climbs out"):
        load_zip(_zip(entries))
    assert not (tmp_path.parent / "evil.png").exists() and os.listdir(tmp_path) == []


@pytest.mark.parametrize("name", ["/etc/evil.png", "C:/Windows/evil.png", "\\\\server\\share\\evil.png"])
def test_absolute_paths_are_rejected(name):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, blob in _classes().items():
            zf.writestr(n, blob)
        info = zipfile.ZipInfo("placeholder")
        info.filename = name                                  # ZipInfo's constructor would clean it
        zf.writestr(info, _png())
    with pytest.raises(FolderDatasetError, match="absolute path"):
        load_zip(buf.getvalue())


def test_symlinks_are_rejected():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, blob in _classes().items():
            zf.writestr(n, blob)
        link = zipfile.ZipInfo("cat/link.png")
        link.create_system = 3
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(FolderDatasetError, match="symbolic link"):
        load_zip(buf.getvalue())


def test_a_forged_size_cannot_expand_beyond_what_it_declares():
    # Declare 100 bytes but deflate 5 MB into the entry: the read stops at the declared size and
    # the CRC check then fails, so the file is skipped as damaged instead of expanding.
    big = b"\0" * (5 * 2**20)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, blob in _classes(n=6).items():
            zf.writestr(n, blob)
        zf.writestr("cat/forged.png", big)
    raw = bytearray(buf.getvalue())
    size = (5 * 2**20).to_bytes(4, "little")
    fake = (100).to_bytes(4, "little")
    assert raw.count(size) == 2                               # local header and central directory
    raw = raw.replace(size, fake)
    ds = load_zip(bytes(raw))
    assert dict(ds.meta["report"].skipped)["cat/forged.png"].startswith(("damaged", "not a readable image"))


def test_too_few_images_per_class_or_too_few_classes_are_explained():
    entries = _classes(("a", "b"), n=5)
    entries.update({f"c/{i}.png": _png() for i in range(2)})
    with pytest.raises(FolderDatasetError, match=r"at least 5 images; too few in 'c' \(2\)"):
        load_zip(_zip(entries))
    with pytest.raises(FolderDatasetError, match="at least 2 classes .* found 1 class folder"):
        load_zip(_zip(_classes(("only",))))
    with pytest.raises(FolderDatasetError, match="found 0 class folders.*2 files were skipped"):
        load_zip(_zip({"a/x.txt": b"1", "b/y.doc": b"2"}))


def test_not_a_zip_and_bad_sizes_give_clear_errors():
    with pytest.raises(FolderDatasetError, match="not a readable .zip"):
        load_zip(b"PK\x03\x04 but not really")
    with pytest.raises(FolderDatasetError, match="between 8 and 256"):
        load_zip(_zip(_classes()), image_size=4)


def test_huge_images_are_skipped_not_decoded():
    entries = _classes(n=5)
    entries["cat/huge.png"] = _png(size=(3000, 3000))
    ds = load_zip(_zip(entries), limits=ZipLimits(max_pixels=1000 * 1000))
    assert dict(ds.meta["report"].skipped)["cat/huge.png"].startswith("too large (3000×3000")


def test_decoded_size_is_capped_before_any_image_is_decoded(monkeypatch):
    """A small archive of many images must not ask for gigabytes at a large image size."""
    import cnn_core.data.folders as folders

    decoded = []
    real = folders._decode
    monkeypatch.setattr(folders, "_decode", lambda *a: decoded.append(1) or real(*a))
    blob = _zip(_classes(n=60))                                   # 120 small images
    limits = ZipLimits(max_decoded_bytes=120 * 64 * 64 * 3 - 1)  # one byte short of 120 at 64×64
    with pytest.raises(FolderDatasetError) as err:
        load_zip(blob, image_size=64, limits=limits)
    assert str(err.value).startswith("120 images at 64×64 pixels would take 1.4 MB decoded; the cap is 1.4 MB")
    assert "upload at most 119 images at this size" in str(err.value)
    assert decoded == []                                           # refused before decoding anything
    ds = load_zip(blob, image_size=28, limits=limits)              # a smaller size fits
    assert len(ds) == 120 and len(decoded) == 120


def test_progress_is_reported_and_an_exception_from_it_ends_the_load():
    blob = _zip(_classes(n=100))                                  # 200 images: a call every 2
    calls = []
    load_zip(blob, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 200) and calls[-1] == (200, 200)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and len(calls) == 101

    class Gone(BaseException):
        """Like Streamlit's stop when a tab closes: a BaseException, not an Exception."""

    seen = []

    def cancel(done, total):
        seen.append(done)
        if done >= 20:
            raise Gone

    with pytest.raises(Gone):
        load_zip(blob, progress=cancel)
    assert seen[-1] == 20                                          # stopped at once, 180 images never decoded
