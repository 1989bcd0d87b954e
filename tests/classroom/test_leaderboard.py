"""The leaderboard is scored on the server, from the stored held-out drawings, and rescored when they change."""
import copy

import numpy as np
import pytest
import torch

from cnn_core import limits
from cnn_core.classroom import ClassAccessError, ClassModelError, images
from cnn_core.models.checkpoints import ModelBundle
from cnn_core.models.pretrained import load_default_bundle
from cnn_core.models.specs import build_torch, count_params
from tests.classroom.conftest import digit_images


def _independent_accuracy(model, imgs_u8, labels, cols):
    """What the class's held-out accuracy must be: computed here without the store's code."""
    held = [i for i in range(len(imgs_u8)) if images.heldout(imgs_u8[i])]
    x = torch.from_numpy(imgs_u8[held].astype(np.float32)[:, None] / 255.0)
    with torch.no_grad():
        logits = model(x).numpy()[:, cols]
    truth = np.asarray(labels)[held]
    return float(np.mean(logits.argmax(1) == truth)), len(held), truth, logits.argmax(1)


def _zero_model(hidden: int):
    """A model whose outputs are all 0: it always answers its first label (ties go to the first)."""
    spec = {"name": f"zeros-{hidden}", "input_shape": [1, 28, 28], "num_classes": 10, "layers": [
        {"type": "flatten"}, {"type": "dense", "out_features": hidden}, {"type": "relu"},
        {"type": "dense", "out_features": 10}]}
    model = build_torch(spec).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    return ModelBundle(spec, model, {"name": spec["name"], "class_names": [str(d) for d in range(10)]})


@pytest.fixture
def digits_class(store, monkeypatch):
    monkeypatch.setattr(limits, "MAX_DRAWINGS_PER_MINUTE", 10_000)
    imgs, labels = digit_images()
    room = store.create_class("digits")
    a, b = store.join(room.code, "Ada"), store.join(room.code, "Bo")
    pick = np.random.default_rng(0).choice(len(imgs), 150, replace=False)
    for k, i in enumerate(pick[:100]):
        store.add_drawing((a if k % 2 else b).token, imgs[i], label=str(labels[i]))
    return room, a, b, imgs[pick], labels[pick]


def test_scores_come_from_the_stored_heldout_drawings(store, digits_class):
    room, a, b, imgs, labels = digits_class
    bundle = load_default_bundle()
    entry = store.submit_model(a.token, bundle, settings={"epochs": 3, "lr": 0.01})
    acc, n, truth, preds = _independent_accuracy(bundle.model, imgs[:100], labels[:100], list(range(10)))
    assert n > 5 and entry.n_test == n
    assert entry.accuracy == pytest.approx(acc)
    for d in range(10):
        mask = truth == d
        assert entry.per_label[str(d)] == (pytest.approx(float(np.mean(preds[mask] == d))) if mask.any() else None)
    assert entry.n_params == count_params(bundle.spec) and entry.nickname == "Ada"
    assert entry.settings == {"epochs": 3, "lr": 0.01}

    # more drawings arrive; the board rescores on the larger held-out set
    for i in range(100, 150):
        store.add_drawing(b.token, imgs[i], label=str(labels[i]))
    acc2, n2, *_ = _independent_accuracy(bundle.model, imgs, labels, list(range(10)))
    assert n2 > n
    [row] = store.leaderboard(room.code)
    assert (row.n_test, row.rank) == (n2, 1) and row.accuracy == pytest.approx(acc2)


def test_a_hidden_heldout_drawing_leaves_the_test_set(store, digits_class):
    room, a, b, imgs, labels = digits_class
    entry = store.submit_model(a.token, load_default_bundle())
    held = [r for r in store.drawings(room.code) if r.heldout]
    store.hide(room.teacher_key, held[0].id)
    assert store.leaderboard(room.code)[0].n_test == entry.n_test - 1


def test_ranking_accuracy_then_fewer_parameters_then_earlier(store, digits_class):
    room, a, b, imgs, labels = digits_class
    small, big = _zero_model(4), _zero_model(16)
    e_big = store.submit_model(a.token, big)
    e_small = store.submit_model(b.token, small)
    e_best = store.submit_model(b.token, load_default_bundle())
    e_small2 = store.submit_model(a.token, copy.deepcopy(small))
    board = store.leaderboard(room.code)
    assert [r.id for r in board] == [e_best.id, e_small.id, e_small2.id, e_big.id]
    assert [r.rank for r in board] == [1, 2, 3, 4]
    assert board[1].accuracy == board[3].accuracy < board[0].accuracy     # the zero models tie


def test_hidden_entries_only_for_the_teacher(store, digits_class):
    room, a, b, *_ = digits_class
    e = store.submit_model(a.token, load_default_bundle())
    store.hide_entry(room.teacher_key, e.id)
    assert store.leaderboard(room.code) == []
    assert store.leaderboard(room.code, include_hidden=True) == []                   # no key, no hidden
    [row] = store.leaderboard(room.code, teacher_key=room.teacher_key, include_hidden=True)
    assert row.hidden and row.id == e.id
    with pytest.raises(ClassAccessError, match="Only the teacher"):
        store.hide_entry(a.token, e.id, hidden=False)
    store.hide_entry(room.teacher_key, e.id, hidden=False)
    assert [r.id for r in store.leaderboard(room.code)] == [e.id]


def test_model_labels_are_matched_by_name(store, monkeypatch):
    monkeypatch.setattr(limits, "MAX_DRAWINGS_PER_MINUTE", 10_000)
    imgs, labels = digit_images()
    room = store.create_class("3 or 8", labels=["8", "3"])
    me = store.join(room.code)
    pick = [i for i in range(0, 5000, 7) if labels[i] in (3, 8)][:120]
    for i in pick:
        store.add_drawing(me.token, imgs[i], label=str(labels[i]))
    bundle = load_default_bundle()
    entry = store.submit_model(me.token, bundle)
    # class label k ↔ model output [8, 3][k]; predictions restricted to the class's labels
    acc, n, *_ = _independent_accuracy(bundle.model, imgs[pick], [0 if labels[i] == 8 else 1 for i in pick], [8, 3])
    assert (entry.n_test, entry.accuracy) == (n, pytest.approx(acc))
    assert set(entry.per_label) == {"8", "3"}


def test_a_model_without_the_class_labels_is_refused(store):
    room = store.create_class("pets", labels=["cat", "dog"])
    me = store.join(room.code)
    with pytest.raises(ClassModelError, match="no output for the label.*'cat', 'dog'"):
        store.submit_model(me.token, load_default_bundle())
    assert store.leaderboard(room.code) == []


def test_no_heldout_drawings_yet(store):
    room = store.create_class("x")
    me = store.join(room.code)
    entry = store.submit_model(me.token, load_default_bundle())
    assert (entry.accuracy, entry.n_test) == (None, 0)
    assert store.leaderboard(room.code)[0].accuracy is None


def test_checkpoint_size_cap(store, monkeypatch):
    room = store.create_class("x")
    me = store.join(room.code)
    monkeypatch.setattr(limits, "MAX_CHECKPOINT_MB", 0.001)      # about 1 KB: the default model is larger
    with pytest.raises(ValueError, match="checkpoint is .*the cap is"):
        store.submit_model(me.token, load_default_bundle())


def test_scores_survive_a_restart(make_store, digits_class):
    """Rescoring loads the stored checkpoint (another server, or after a restart)."""
    room, a, b, imgs, labels = digits_class
    first = make_store()
    e = first.submit_model(a.token, load_default_bundle())
    second = make_store()                          # no model cache: must use the checkpoint bytes
    for i in range(100, 150):
        second.add_drawing(b.token, imgs[i], label=str(labels[i]))
    acc, n, *_ = _independent_accuracy(load_default_bundle().model, imgs, labels, list(range(10)))
    [row] = second.leaderboard(room.code)
    assert row.id == e.id and row.n_test == n and row.accuracy == pytest.approx(acc)


def test_an_unloadable_stored_checkpoint_shows_unscored(store, digits_class, monkeypatch):
    """A checkpoint that no longer loads (here: the parameter cap lowered since) leaves the board working."""
    room, a, b, imgs, labels = digits_class
    good = store.submit_model(a.token, _zero_model(4))
    store.submit_model(b.token, load_default_bundle())
    monkeypatch.setattr(limits, "MAX_PARAMS", 50_000)          # the zero model has 3,190; the default more
    fresh = type(store)(store.url, clock=store._clock)          # another server: nothing cached
    try:
        for i in range(100, 150):
            fresh.add_drawing(b.token, imgs[i], label=str(labels[i]))
        board = fresh.leaderboard(room.code)
        assert [r.id for r in board][0] == good.id and board[0].accuracy is not None
        assert board[1].accuracy is None and board[1].n_test == 0
    finally:
        fresh.close()
