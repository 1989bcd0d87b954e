"""The data sets a user can pick by name (the Train, Evaluate and Sweep pages, the CLI's --dataset)."""
from __future__ import annotations

from pathlib import Path

from cnn_core.data import datasets as data

DATASETS = ("bundled", "mnist", "fashion-mnist", "zip")
DATASET_LABELS = {"bundled": "MNIST 5,000 (bundled)", "mnist": "MNIST (60,000 + 10,000, downloaded)",
                  "fashion-mnist": "Fashion-MNIST (60,000 + 10,000, downloaded)", "zip": "uploaded zip of class folders"}


def load_named(key: str, zip_source=None, image_size: int = 28, invert: bool = False,
               root: str | Path | None = None, download: bool = True):
    """(ImageDataset, official test set or None) for a key of DATASETS.

    mnist / fashion-mnist come from torchvision and keep their official 10,000-image test set;
    for the others the test split is cut from the data. Raises ``data.DataError`` with a
    sentence meant for the user.
    """
    if key == "bundled":
        return data.load_bundled(), None
    if key in ("mnist", "fashion-mnist"):
        kwargs = {"download": download} if root is None else {"download": download, "root": root}
        return data.load_torchvision(key, train=True, **kwargs), data.load_torchvision(key, train=False, **kwargs)
    if key == "zip":
        if zip_source is None:
            raise data.DataError("Choose a .zip file of class folders.")
        from cnn_core.data.folders import load_zip

        name = Path(zip_source).stem if isinstance(zip_source, (str, Path)) else "uploaded folders"
        return load_zip(zip_source, image_size=image_size, invert=invert, name=name), None
    raise data.DataError(f"Unknown data set {key!r}; choose one of {', '.join(DATASETS)}.")
