"""Document 000's train / validation / test split, defined once.

The notes split their ~3,000 digits 0.85 / 0.075 / 0.075 with ``random_state`` 42; the app, the
command line, the scripts, the benchmarks and the tests all split the same way through this module,
so "the validation set" means the same images everywhere.
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
