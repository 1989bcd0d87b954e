"""The learning timeline: when points are taken, what they hold, how big they may get, and that
recording changes nothing a run computes."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import cnn_core.training as T
from cnn_core.data import datasets as data
from cnn_core.data import splits
from cnn_core.models import specs
from cnn_core.training import recorder as R
from cnn_core.training.loop import Epoch, Extra, Step


@pytest.fixture(scope="module")
def parts():
    p = splits.doc000_split(data.load_bundled())
    return data.Split(p.train.subset(np.arange(480)), p.val.subset(np.arange(40)), None)


def _finished(cfg, parts, **kw) -> tuple[T.RunSnapshot, R.Timeline]:
    run = T.TrainingRun(cfg, parts.train, parts.val, None, **kw).start()
    assert run.join(120)
    snap = run.snapshot()
    assert snap.state == "finished", snap.message
    return snap, R.timeline(snap.extra)


def _seed004(activation="sigmoid", **kw) -> T.TrainConfig:
    spec = specs.preset("seed-004")
    for layer in spec["layers"]:
        if layer["type"] == "sigmoid":
            layer["type"] = activation
    return T.TrainConfig(**{"spec": spec, "optimizer": "sgd", "lr": 0.01, "batch_size": 8, "epochs": 1, **kw})


# --- the plan ------------------------------------------------------------------------------------

def test_about_fifty_even_points_plus_every_epoch_end_plus_the_start():
    p = R.plan(total_steps=8 * 125, steps_per_epoch=125)           # the Train page's default run
    assert p[0] == 0 and p[-1] == 1000 and set(range(125, 1001, 125)) <= set(p)
    assert 50 <= len(p) <= 59
    gaps = np.diff([s for s in p if s % 125])
    assert gaps.max() <= 2 * 1000 / 49                               # evenly spread, no long hole


def test_a_short_run_records_every_step_and_a_long_one_stays_under_the_cap():
    assert R.plan(10, 5) == tuple(range(11))
    long = R.plan(200 * 40, 40)                                      # 200 epochs
    assert len(long) <= R.MAX_POINTS and long[-1] == 8000
    ends = [s for s in long if s % 40 == 0 and s]
    assert len(ends) >= R.MAX_EPOCH_POINTS - 1                       # epoch ends thinned evenly, last kept


# --- memory --------------------------------------------------------------------------------------

class BigFakeEngine:
    """The largest first layer the builder allows on 128×128 RGB images: 32 kernels 11×11, 'same'."""

    def __init__(self):
        self.layers = [np.random.default_rng(0).normal(size=(32, 3, 11, 11)).astype(np.float32),
                       np.ones((10, 32 * 64 * 64), np.float32)]
        self.grads = [np.ones_like(w) for w in self.layers]

    def layer_weights(self):
        return [(0, self.layers[0], self.grads[0]), (3, self.layers[1], self.grads[1])]

    def probe(self, image):
        return np.ones((32, 128, 128), np.float32), np.full(10, 0.1)

    def step(self):
        for w in self.layers:
            w += 0.01


def test_memory_is_capped_for_the_largest_network_and_a_200_epoch_run():
    spec = {"input_shape": [3, 128, 128], "num_classes": 10,
            "layers": [{"type": "conv2d", "out_channels": 32, "kernel_size": 11, "padding": "same"}, {"type": "relu"},
                       {"type": "maxpool2d", "kernel_size": 2}, {"type": "flatten"}, {"type": "dense", "out_features": 10}]}
    engine, per = BigFakeEngine(), 30
    rec = R.LearningRecorder(spec, 200 * per, per, np.zeros((3, 128, 128)), "blank")
    events = (Step(s // per + 1, s, 1.0, 8) for s in range(1, 200 * per + 1))
    tl_events = list(R.record(_stepping(events, engine), engine, rec))
    tl = rec.timeline()
    assert len(tl) == len(R.plan(200 * per, per)) <= R.MAX_POINTS
    assert tl.points[0].kernels.shape == (R.MAX_KERNELS, 3, 11, 11) and tl.points[0].kernels.dtype == np.float16
    assert tl.points[0].maps.size <= R.MAP_VALUES and tl.points[0].maps.dtype == np.float16
    assert tl.nbytes <= R.MAX_BYTES and len(pickle.dumps(tl)) <= R.MAX_BYTES * 1.05
    # Each point travels once (its own key), so the worker never resends the whole timeline.
    keys = [k for e in tl_events if isinstance(e, Extra) for k in e.payload]
    assert len(keys) == len(set(keys)) == len(tl) + 1


def _stepping(events, engine):
    for e in events:
        engine.step()
        yield e


def test_a_28px_default_run_takes_under_2_mb():
    cfg = T.default_config()
    rec = R.LearningRecorder(cfg.spec, 1000, 125, np.zeros((1, 28, 28)))
    engine = T.make_engine(cfg)
    for s in rec.planned:
        rec._capture(engine, s, 1.0, s == 0)
    assert rec.timeline().nbytes < 2 * 2 ** 20


# --- what a real run records ---------------------------------------------------------------------

@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_kernels_change_and_every_recorded_step_has_positive_gradients_and_update_ratios(parts, engine):
    cfg = _seed004("relu", engine=engine, lr=0.1, epochs=2, max_steps_per_epoch=30)
    snap, tl = _finished(cfg, parts)
    assert tl.header.layers == ("conv 1", "dense 1", "dense 2")
    assert list(tl.steps) == list(R.plan(60, 30)) and [p.step for p in tl.points if p.epoch_end] == [30, 60]
    first, last = tl.points[0], tl.points[-1]
    assert first.kernels.shape == (8, 1, 3, 3) and first.maps.shape == (8, 26, 26)
    change = np.linalg.norm(last.kernels.astype(float) - first.kernels.astype(float))
    assert change > 0.05 * np.linalg.norm(first.kernels.astype(float))
    assert np.isnan(tl.grad_norms()[0]).all() and np.isnan(tl.update_ratios()[0]).all()
    g, r = tl.grad_norms()[1:], tl.update_ratios()[1:]
    assert (g > 0).all() and np.isfinite(g).all() and (r > 0).all() and (r < 1).all()
    assert last.probs.sum() == pytest.approx(1, abs=1e-5) and last.probs.shape == (10,)
    assert last.loss == pytest.approx(snap.step_loss[-1])
    # SGD: the update is lr·∂L/∂W, so ‖ΔW‖/‖W‖ = lr·‖g‖/‖W‖ for the first conv layer.
    assert r[-1, 0] * np.linalg.norm(last.kernels.astype(float)) == pytest.approx(0.1 * g[-1, 0], rel=0.05)


def test_a_sigmoid_network_has_vanishing_gradients_in_its_first_layer_a_relu_one_much_less(parts):
    """Document 004's network: the conv layer's gradient is a small fraction of the first dense
    layer's (two sigmoids' derivatives, each ≤ 0.25, on the way back); with ReLU it is ~10× larger."""
    ratio = {}
    for act in ("sigmoid", "relu"):
        _, tl = _finished(_seed004(act, max_steps_per_epoch=40), parts)
        g = np.nanmedian(tl.grad_norms()[1:], axis=0)
        ratio[act] = g[0] / g[1]
    assert ratio["sigmoid"] < 0.03 and ratio["sigmoid"] < ratio["relu"] / 5


def test_recording_changes_nothing_the_run_computes(parts):
    cfg = T.TrainConfig(spec=specs.build_spec(blocks=1, kernels=4, dropout_p=0.3, dense_width=16, batchnorm=True),
                        optimizer="adam", lr=0.003, batch_size=16, epochs=2, max_steps_per_epoch=15)
    with_tl, tl = _finished(cfg, parts)
    without, none = _finished(cfg, parts, record_timeline=False)
    assert tl is not None and none is None
    assert with_tl.step_loss == without.step_loss and with_tl.epochs_log[-1]["val_loss"] == without.epochs_log[-1]["val_loss"]


def test_the_probe_is_the_drawing_when_it_fits_else_the_first_validation_image(parts):
    drawing = np.zeros((28, 28), np.float32)
    drawing[5:20, 13:15] = 1.0
    img, source, label = R.choose_probe((1, 28, 28), drawing, "your drawing", parts.val)
    assert source == "your drawing" and img.shape == (1, 28, 28) and img.sum() == 30 and label is None
    img, source, label = R.choose_probe((3, 32, 32), drawing, "your drawing", None)
    assert source == "a blank image" and img.shape == (3, 32, 32)
    img, source, label = R.choose_probe((1, 28, 28), None, "", parts.val)
    assert label == parts.val.labels[0] and source == f"validation image #0 (a {label})"
    assert np.allclose(img, parts.val.images[0] / 255.0) and 0.9 < img.max() <= 1.0
    cfg = _seed004("relu", max_steps_per_epoch=3)
    _, tl = _finished(cfg, parts, probe=drawing, probe_source="your drawing")
    assert tl.header.probe_source == "your drawing" and np.array_equal(tl.header.probe[0], drawing)


def test_layer_names_count_conv_and_dense_layers_separately():
    assert R.layer_names(specs.preset("seed-002")) == ("conv 1", "conv 2", "conv 3", "conv 4", "dense 1", "dense 2")


def test_big_maps_are_average_pooled_small_ones_kept():
    m = np.arange(16 * 64 * 64, dtype=np.float32).reshape(16, 64, 64)
    small = R.shrink_maps(m)
    assert small.shape == (16, 32, 32) and small[0, 0, 0] == np.float16(m[0, :2, :2].mean())
    assert R.shrink_maps(m[:8, :28, :28]).shape == (8, 28, 28)


def test_epoch_events_pass_through_unchanged():
    cfg = T.default_config()
    engine = T.make_engine(cfg)
    rec = R.LearningRecorder(cfg.spec, 2, 1, np.zeros((1, 28, 28)))
    events = [Step(1, 1, 2.0, 8), Epoch({"epoch": 1}, None), Step(2, 2, 1.9, 8), Epoch({"epoch": 2}, None)]
    out = list(R.record(iter(events), engine, rec))
    assert [e for e in out if not isinstance(e, Extra)] == events and len(rec.points) == 3
