"""Document 000's train / validation / test split, defined once.

The notes split their ~3,000 digits 0.85 / 0.075 / 0.075 with ``random_state`` 42; the app, the
command line, the scripts, the benchmarks and the tests all split the same way through this module,
so "the validation set" means the same images everywhere. ``training_split`` also covers data sets
that bring their own official test set (full MNIST, Fashion-MNIST).
"""
from __future__ import annotations

from cnn_core.data.datasets import ImageDataset, Split, split

DOC000_FRACTIONS: tuple[float, float, float] = (0.85, 0.075, 0.075)   # train, validation, test
DOC000_SEED = 42
DOC000_DESCRIPTION = f"document 000's split: {' / '.join(map(str, DOC000_FRACTIONS))}, seed {DOC000_SEED}"


def doc000_split(ds: ImageDataset, stratify: bool = True) -> Split:
    """``ds`` split like document 000 (stratified by class): train / validation / test."""
    return split(ds, DOC000_FRACTIONS, seed=DOC000_SEED, stratify=stratify)


def doc000_info() -> dict:
    """The split as a run's metadata records it: {"split": [0.85, 0.075, 0.075], "split_seed": 42}."""
    return {"split": list(DOC000_FRACTIONS), "split_seed": DOC000_SEED}


def training_split(ds: ImageDataset, official_test: ImageDataset | None = None,
                   fractions=DOC000_FRACTIONS, seed: int = DOC000_SEED) -> Split:
    """train / validation / test, stratified and seeded.

    With an official test set, validation is cut from ``ds`` in the proportion of the first two
    shares and the test share goes back to training (document 002: 20 % of train held out).
    """
    if official_test is None:
        return split(ds, fractions, seed=seed)
    val_share = fractions[1] / max(1e-9, fractions[0] + fractions[1])
    parts = split(ds, (1 - val_share, val_share, 0.0), seed=seed)
    return Split(parts.train, parts.val, official_test)
