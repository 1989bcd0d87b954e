"""The data sets a user can pick by name (the Train, Evaluate and Sweep pages, the CLI's --dataset)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cnn_core.data import datasets as data

DATASETS = ("bundled", "mnist", "fashion-mnist", "zip")
# A class's drawings (class mode): the class's training part alone, or added to the bundled digits. Not in
# DATASETS (the command line has no class); the app offers them to a session that is in a class.
CLASS_KEYS = ("class", "class+bundled")
DATASET_LABELS = {"bundled": "MNIST 5,000 (bundled)", "mnist": "MNIST (60,000 + 10,000, downloaded)",
                  "fashion-mnist": "Fashion-MNIST (60,000 + 10,000, downloaded)", "zip": "uploaded zip of class folders",
                  "class": "Our class's drawings", "class+bundled": "Our class's drawings + the bundled digits"}


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


def class_dataset(key: str, class_train: data.ImageDataset, class_test: data.ImageDataset | None = None):
    """(ImageDataset, official test set or None) for a key of CLASS_KEYS.

    ``class_train`` is the part of a class's drawings that may be trained on (ClassStore.dataset(code,
    part="train")), ``class_test`` its held-out fifth, which becomes the test set: no run ever trains on
    it. "class+bundled" adds the bundled 5,000 MNIST digits to the training part (digit classes only).
    """
    if key not in CLASS_KEYS:
        raise data.DataError(f"Unknown class data set {key!r}; choose one of {', '.join(CLASS_KEYS)}.")
    test = class_test if class_test is not None and len(class_test) else None
    if key == "class":
        return class_train, test
    if list(class_train.class_names) != data.DIGIT_CLASSES:
        raise data.DataError("Only a class of the digits 0–9 can be added to the bundled digits; this class has "
                             "its own labels, so train on its drawings alone.")
    mnist = data.load_bundled()
    return data.ImageDataset(f"{class_train.name.split(' (')[0]} + {mnist.name}",
                             np.concatenate([class_train.images, mnist.images]),
                             np.concatenate([class_train.labels, mnist.labels]), list(data.DIGIT_CLASSES),
                             source=f"{class_train.source} + {mnist.source}",
                             meta={"class_drawings": len(class_train)}), test
