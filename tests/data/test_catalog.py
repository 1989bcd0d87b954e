"""Data sets by name (Train, Evaluate, Sweep, the CLI) and document 000's split, defined once."""
import numpy as np
import pytest

from cnn_core.data import catalog, datasets, splits


def test_the_bundled_set_has_no_official_test_set():
    ds, test = catalog.load_named("bundled")
    assert len(ds) == 5000 and test is None


def test_unknown_names_and_a_missing_zip_are_sentences():
    with pytest.raises(datasets.DataError, match="Unknown data set"):
        catalog.load_named("cifar")
    with pytest.raises(datasets.DataError, match="zip"):
        catalog.load_named("zip")


def test_the_training_split_is_document_000s_and_reproducible():
    ds = datasets.load_bundled()
    a, b = splits.training_split(ds), datasets.split(ds, (0.85, 0.075, 0.075), seed=42)
    assert splits.DOC000_FRACTIONS == (0.85, 0.075, 0.075) and splits.DOC000_SEED == 42
    assert [len(a.train), len(a.val), len(a.test)] == [4240, 380, 380]   # 38 per class (37.5 rounds up) in validation and test
    assert np.array_equal(a.val.labels, b.val.labels) and np.array_equal(a.test.images, b.test.images)


def test_an_official_test_set_is_kept_and_validation_is_cut_from_train():
    ds = datasets.load_bundled()
    official = ds.subset(np.arange(10), "official")
    parts = splits.training_split(ds, official)
    assert parts.test is official
    assert len(parts.val) == pytest.approx(5000 * 0.075 / 0.925, abs=10)
    assert len(parts.train) + len(parts.val) == 5000
