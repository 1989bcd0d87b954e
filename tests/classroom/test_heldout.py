"""The class data set and its fixed held-out fifth."""
import hashlib

import numpy as np
import pytest

from cnn_core import limits
from cnn_core.classroom import images
from tests.classroom.conftest import digit_images


def _expected_heldout(u8: np.ndarray) -> bool:
    return int(hashlib.sha256(u8.astype(np.uint8).tobytes()).hexdigest(), 16) % 5 == 0


@pytest.fixture
def class_with_digits(store, monkeypatch):
    monkeypatch.setattr(limits, "MAX_DRAWINGS_PER_MINUTE", 1000)
    imgs, labels = digit_images()
    room = store.create_class("digits")
    me = store.join(room.code)
    return room, me, imgs, labels


def test_heldout_is_a_fifth_by_hash_and_stable(store, class_with_digits):
    room, me, imgs, labels = class_with_digits
    pick = np.arange(0, 5000, 50)[:100]
    sent = [store.add_drawing(me.token, imgs[i], label=str(labels[i])) for i in pick[:60]]
    assert [d.heldout for d in sent] == [_expected_heldout(imgs[i]) for i in pick[:60]]
    first = {r.id: r.heldout for r in store.drawings(room.code)}
    for i in pick[60:]:
        store.add_drawing(me.token, imgs[i], label=str(labels[i]))
    later = {r.id: r.heldout for r in store.drawings(room.code)}
    assert {k: later[k] for k in first} == first              # earlier drawings keep their part
    share = np.mean(list(later.values()))
    assert 0.08 <= share <= 0.35                               # about a fifth of 100


def test_train_never_holds_a_heldout_drawing(store, class_with_digits):
    room, me, imgs, labels = class_with_digits
    pick = np.arange(3, 5000, 97)[:45]
    for i in pick:
        store.add_drawing(me.token, imgs[i], label=str(labels[i]))
    hidden = store.drawings(room.code)[0]
    store.hide(room.teacher_key, hidden.id)
    full = store.dataset(room.code, part="all")
    train = store.dataset(room.code, part="train")
    test = store.dataset(room.code, part="test")
    assert full.class_names == [str(d) for d in range(10)] and full.images.shape[1:] == (1, 28, 28)
    assert len(full) == len(pick) - 1 and hidden.id not in full.meta["drawing_ids"]
    mask = full.meta["heldout"]
    assert len(train) + len(test) == len(full) and len(test) == mask.sum() > 0
    assert set(train.meta["drawing_ids"]).isdisjoint(test.meta["drawing_ids"])
    for img in train.images[:, 0]:
        assert not _expected_heldout(img)
    for img in test.images[:, 0]:
        assert _expected_heldout(img)
    # the images and labels are the digits that were sent
    expect = {tuple(imgs[i].ravel()): int(labels[i]) for i in pick}
    assert all(expect[tuple(im.ravel())] == lab for im, lab in zip(full.images[:, 0], full.labels))


def test_heldout_decided_by_the_stored_bytes():
    rng = np.random.default_rng(0)
    flags = [images.heldout(rng.integers(0, 256, (28, 28), dtype=np.uint8)) for _ in range(2000)]
    assert 0.17 < np.mean(flags) < 0.23
    u8 = rng.integers(0, 256, (28, 28), dtype=np.uint8)
    assert images.heldout(u8) == images.heldout(images.decode_png28(images.encode_png(u8)))
