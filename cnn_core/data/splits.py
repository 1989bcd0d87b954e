"""Document 000's train / validation / test split, defined once, and the split used when a data set
brings its own official test set (full MNIST, Fashion-MNIST)."""
from __future__ import annotations

from cnn_core.data.datasets import ImageDataset, Split, split

DOC000_SPLIT = (0.85, 0.075, 0.075)   # train, validation, test shares (document 000)
SPLIT_SEED = 42                       # document 000's seed; every page and script splits with it


def training_split(ds: ImageDataset, official_test: ImageDataset | None = None,
                   fractions=DOC000_SPLIT, seed: int = SPLIT_SEED) -> Split:
    """train / validation / test, stratified and seeded.

    With an official test set, validation is cut from ``ds`` in the proportion of the first two
    shares and the test share goes back to training (document 002: 20 % of train held out).
    """
    if official_test is None:
        return split(ds, fractions, seed=seed)
    val_share = fractions[1] / max(1e-9, fractions[0] + fractions[1])
    parts = split(ds, (1 - val_share, val_share, 0.0), seed=seed)
    return Split(parts.train, parts.val, official_test)
