import numpy as np

from cnn_core.data import datasets as data
from cnn_core.data import splits


def test_bundled_set_is_5000_real_digits_500_per_class():
    ds = data.load_bundled()
    assert ds.images.shape == (5000, 1, 28, 28) and ds.images.dtype == np.uint8
    assert ds.class_counts().tolist() == [500] * 10
    # real digits: ink in the middle, black border (MNIST's 20×20 box in a 28×28 frame)
    assert ds.images[:, 0, 0, :].max() == 0 and ds.images[:, 0, 14, 10:18].mean() > 50


def test_split_document_000_fractions_stratified_disjoint_and_seeded():
    ds = data.load_bundled()
    a = splits.doc000_split(ds)
    b = data.split(ds, (0.85, 0.075, 0.075), seed=42)   # the document's numbers, typed once here to check them
    # per class: 500 · 0.075 = 37.5 → 38 for validation and test, 424 for training
    assert (len(a.train), len(a.val), len(a.test)) == (4240, 380, 380)
    assert np.array_equal(a.val.images, b.val.images) and np.array_equal(a.train.labels, b.train.labels)
    assert splits.DOC000_DESCRIPTION == "document 000's split: 0.85 / 0.075 / 0.075, seed 42"
    assert a.val.class_counts().tolist() == [38] * 10 and a.train.class_counts().tolist() == [424] * 10
    # disjoint: no image appears in two parts (compare by bytes)
    seen = {im.tobytes() for im in a.train.images}
    assert not any(im.tobytes() in seen for im in a.test.images[:100])
