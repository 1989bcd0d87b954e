"""The training run in a thread of this process (``TrainingRun.start()``): lifecycle, failure, divergence,
queueing, reproducibility; the loop and its rules with fake engines. Worker processes: test_workers.py."""
from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest
import torch

from cnn_core.data import datasets as data
from cnn_core.data import splits
from cnn_core.models import specs
import cnn_core.training as T
from cnn_core.training.backends import ThreadBackend
from cnn_core.training.registry import _default_cap
from tests.training.fakes import TINY, FlakyEngine, NanEngine, ScriptedEngine
from cnn_core.data.augment import Augmentation

TINY_DROP = specs.build_spec(blocks=1, kernels=4, dropout_p=0.3, dense_width=16, name="tiny-dropout")


@pytest.fixture(scope="module")
def parts():
    ds = data.load_bundled()
    p = splits.doc000_split(ds)
    return data.Split(p.train.subset(np.arange(300)), p.val.subset(np.arange(60)), p.test.subset(np.arange(60)))


def _run(parts, **kw) -> T.TrainingRun:
    cfg = T.TrainConfig(**{"spec": TINY, "optimizer": "sgd", "lr": 0.05, "batch_size": 50, "epochs": 1, **kw})
    return T.TrainingRun(cfg, parts.train, parts.val, parts.test)


def _long(parts, **kw) -> T.TrainingRun:
    """A run that would take minutes: plenty of time to pause and stop it."""
    return _run(parts, batch_size=10, epochs=500, **kw)


def _wait(pred, timeout=20.0):
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def _run_threads():
    return [t for t in threading.enumerate() if t.name.startswith("cnn-run-") and t.is_alive()]


def test_a_run_trains_in_the_background_and_reports_every_step_and_epoch(parts):
    run = _run(parts, epochs=2).start()
    assert run.join(60)
    snap = run.snapshot()
    assert snap.state == "finished" and snap.message == "Finished."
    assert snap.step == snap.total_steps == 2 * 6 and len(snap.step_loss) == 12
    assert [r["epoch"] for r in snap.epochs_log] == [1, 2]
    last = snap.epochs_log[-1]
    assert 0 <= last["val_acc"] <= 1 and last["val_loss"] > 0 and 0 <= last["train_acc"] <= 1
    # It learned: the last steps' loss is well below ln(10), the loss of a uniform guess.
    assert np.mean(snap.step_loss[-3:]) < np.mean(snap.step_loss[:2]) and snap.step_loss[0] == pytest.approx(math.log(10), abs=0.3)
    assert snap.test_acc is not None and snap.eta_s is None and snap.images_per_s > 0
    bundle = run.bundle()
    assert bundle.meta["engine"] == "torch" and bundle.meta["run_id"] == run.id
    assert bundle.meta["accuracy"] == snap.test_acc and not bundle.model.training
    x = torch.from_numpy(parts.test.floats())
    acc = float((bundle.model(x).argmax(1).numpy() == parts.test.labels).mean())
    assert acc == pytest.approx(snap.test_acc)


def test_same_seed_same_numbers_even_when_two_runs_train_side_by_side(parts):
    a, b = _run(parts, spec=TINY_DROP, epochs=2), _run(parts, spec=TINY_DROP, epochs=2)
    a.start(), b.start()
    assert a.join(60) and b.join(60)
    c = _run(parts, spec=TINY_DROP, epochs=2, seed=1).start()
    assert c.join(60)
    sa, sb, sc = a.snapshot(), b.snapshot(), c.snapshot()
    assert sa.step_loss == sb.step_loss          # weights, shuffling and dropout masks all seeded per run
    assert sa.step_loss != sc.step_loss


def test_pause_holds_the_step_count_and_resume_continues(parts):
    run = _long(parts).start()
    try:
        _wait(lambda: run.snapshot().step >= 2)
        run.pause()
        _wait(lambda: run.snapshot().state == "paused", 2)
        time.sleep(0.15)                          # let an in-flight step land
        held = run.snapshot().step
        time.sleep(0.4)
        assert run.snapshot().step == held and run.snapshot().eta_s is not None
        run.resume()
        _wait(lambda: run.snapshot().step > held + 2, 10)
        assert run.snapshot().state == "running"
    finally:
        run.stop(wait=2)


def test_stop_ends_the_thread_within_one_second(parts):
    run = _long(parts).start()
    _wait(lambda: run.snapshot().step >= 3)
    t0 = time.perf_counter()
    run.stop()
    assert run.join(1.0), "the training thread was still alive 1 s after stop()"
    assert time.perf_counter() - t0 < 1.0
    snap = run.snapshot()
    assert snap.state == "stopped" and snap.stop_reason == "user"
    assert run.bundle() is not None               # what it learned so far can still be kept


def test_stop_while_paused_ends_the_thread(parts):
    run = _long(parts).start()
    _wait(lambda: run.snapshot().step >= 1)
    run.pause()
    _wait(lambda: run.snapshot().state == "paused", 2)
    run.stop()
    assert run.join(1.0)
    assert run.snapshot().state == "stopped"


def test_an_exception_in_the_thread_becomes_a_failed_state_with_the_message(parts):
    cfg = T.TrainConfig(spec=TINY, optimizer="sgd", lr=0.05, batch_size=50, epochs=1)
    run = T.TrainingRun(cfg, parts.train, parts.val, parts.test, engine_factory=FlakyEngine).start()
    assert run.join(30)
    snap = run.snapshot()
    assert snap.state == "failed" and "RuntimeError: out of cheese" in snap.message
    assert snap.step == 2 and len(snap.step_loss) == 2 and "out of cheese" in run.traceback
    assert not run.alive


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_learning_rate_1e6_stops_with_a_plain_explanation_and_no_nan_in_the_charts(parts, optimizer):
    run = _run(parts, lr=1e6, optimizer=optimizer, epochs=3).start()
    assert run.join(30)
    snap = run.snapshot()
    assert snap.state == "stopped" and snap.stop_reason == "diverged"
    assert "diverged" in snap.message and "learning rate of 1e+06 is too high" in snap.message
    assert all(math.isfinite(v) for v in snap.step_loss)
    assert snap.step < snap.total_steps and run.bundle() is None


def test_a_nan_loss_is_never_recorded(parts):
    cfg = T.TrainConfig(spec=TINY, optimizer="sgd", lr=0.05, batch_size=50, epochs=1)
    run = T.TrainingRun(cfg, parts.train, parts.val, parts.test, engine_factory=NanEngine).start()
    assert run.join(30)
    snap = run.snapshot()
    assert snap.stop_reason == "diverged" and "the loss became NaN" in snap.message and "step 3" in snap.message
    assert len(snap.step_loss) == 2 and all(math.isfinite(v) for v in snap.step_loss)


def test_early_stopping_restores_the_weights_of_the_best_epoch(parts):
    cfg = T.TrainConfig(spec=TINY, optimizer="sgd", lr=0.05, batch_size=50, epochs=6, early_stopping=2)
    run = T.TrainingRun(cfg, parts.train, parts.val, parts.test, engine_factory=ScriptedEngine).start()
    assert run.join(30)
    snap = run.snapshot()
    assert snap.state == "finished" and snap.stop_reason == "early_stopping"
    assert snap.epoch == 4 and snap.best_epoch == 2 and "kept the weights of epoch 2" in snap.message
    assert [r["val_loss"] for r in snap.epochs_log] == pytest.approx([1.0, 0.8, 0.9, 0.95])
    assert snap.test_acc == 1.0                       # tested with epoch 2's weights, not epoch 4's
    weights = torch.cat([p.flatten() for p in run.bundle().model.parameters()])
    assert torch.all(weights == 12)                   # exported: the weights after 2 epochs of 6 steps


def test_fit_yields_steps_then_an_epoch_then_done_and_runs_with_a_fake_engine(parts):
    cfg = T.TrainConfig(spec=TINY, optimizer="sgd", lr=0.05, batch_size=50, epochs=2)
    events = list(T.fit(cfg, ScriptedEngine(), parts.train, parts.val, parts.test))
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["Step"] * 6 + ["Epoch"] + ["Step"] * 6 + ["Epoch", "Done"]
    assert [e.step for e in events if isinstance(e, T.Step)] == list(range(1, 13))
    assert events[6].row["val_loss"] == pytest.approx(1.0) and events[-2].row["val_acc"] == 1.0
    assert events[-1].test_acc == 1.0 and events[-1].stop_reason == ""


def test_early_stopping_rule_counts_patience_and_keeps_the_best_state():
    es = T.EarlyStopping(patience=2)
    calls = []
    weights = lambda: calls.append(1) or {"epoch": len(calls)}
    assert [es.update(e, loss, weights) for e, loss in enumerate([1.0, 0.8, 0.9, 0.95], 1)] == [False, False, False, True]
    assert es.best_epoch == 2 and es.best_state == {"epoch": 2} and len(calls) == 2   # state copied only on a new best
    assert not T.EarlyStopping(0).update(1, 0.5, weights)                              # patience 0: off


def test_divergence_rule_uses_ln_k_as_the_floor_of_its_reference():
    check = T.DivergenceCheck(num_classes=10, advice="Lower it.")
    check.check(0.5, 1, 1)                    # a low first loss: the reference is ln 10 ≈ 2.30, not 0.5
    check.check(200.0, 2, 1)                  # < 100 × 2.30
    with pytest.raises(T.Diverged, match=r"jumped to 300, more than 100× its starting value 2.30. Lower it."):
        check.check(300.0, 3, 1)
    with pytest.raises(T.Diverged, match=r"at step 4 \(epoch 2\): the loss became infinite"):
        T.DivergenceCheck(10).check(math.inf, 4, 2)


def test_augmented_training_runs_and_differs_from_plain(parts):
    plain = _run(parts).start()
    aug = _run(parts, augment=Augmentation(ops=("rotate", "translate", "noise", "flip"), p=1.0)).start()
    assert plain.join(30) and aug.join(30)
    assert aug.snapshot().state == "finished"
    assert aug.snapshot().step_loss != plain.snapshot().step_loss   # same seed and weights, other inputs


def test_numpy_engine_trains_the_same_numbers_and_exports_a_torch_model(parts):
    t = _run(parts, epochs=1).start()
    n = _run(parts, epochs=1, engine="numpy").start()
    assert t.join(60) and n.join(60)
    st, sn = t.snapshot(), n.snapshot()
    assert sn.state == "finished"
    np.testing.assert_allclose(sn.step_loss, st.step_loss, rtol=1e-4)
    bundle = n.bundle()
    assert bundle.meta["engine"] == "numpy" and isinstance(bundle.model, torch.nn.Module)
    assert bundle.meta["accuracy"] == pytest.approx(st.test_acc)


def test_config_errors_are_explained_before_start(parts):
    with pytest.raises(T.ConfigError, match="learning rate must be a positive"):
        _run(parts, lr=-1)
    with pytest.raises(T.ConfigError, match="Engine must be one of"):
        _run(parts, engine="jax")
    wide = specs.preset("seed-000", input_shape=(3, 28, 28))
    with pytest.raises(T.ConfigError, match=r"expects \(3, 28, 28\) images but the data set has \(1, 28, 28\)"):
        _run(parts, spec=wide)
    bad = specs.build_spec(blocks=4, kernel_size=5, padding="valid")
    with pytest.raises(T.ConfigError, match="larger than its"):
        _run(parts, spec=bad)


def test_registry_queues_beyond_the_cap_with_visible_positions(parts):
    reg = T.RunRegistry(max_concurrent=1, backend=ThreadBackend())
    a, b, c = (reg.submit(_long(parts)) for _ in range(3))
    try:
        assert a.snapshot().state in ("running", "paused")
        assert (b.snapshot().state, b.snapshot().queue_position) == ("queued", 1)
        assert (c.snapshot().state, c.snapshot().queue_position) == ("queued", 2)
        assert reg.get(b.id) is b and reg.get("nope") is None
        a.stop()
        assert a.join(1.0)
        _wait(lambda: b.snapshot().state == "running", 5)
        assert c.snapshot().queue_position == 1
        c.stop()                                   # a queued run leaves the queue at once
        assert c.snapshot().state == "stopped" and reg.queue_position(c.id) == 0
        reg.set_max_concurrent(2)
        assert reg.active_count() == 1
    finally:
        reg.stop_all()
    assert not any(r.alive for r in (a, b, c))


def test_default_registry_cap_is_two_and_configurable(monkeypatch):
    monkeypatch.delenv("CNN_EXPLORER_MAX_RUNS", raising=False)
    assert _default_cap() == 2
    monkeypatch.setenv("CNN_EXPLORER_MAX_RUNS", "5")
    assert _default_cap() == 5
    monkeypatch.setenv("CNN_EXPLORER_MAX_RUNS", "")
    assert _default_cap() == 2
    monkeypatch.setenv("CNN_EXPLORER_MAX_RUNS", "lots")
    assert _default_cap() == 2


def test_100_start_stop_cycles_leave_no_live_threads(parts):
    reg = T.RunRegistry(max_concurrent=2, backend=ThreadBackend())
    before = len(_run_threads())
    for i in range(100):
        run = reg.submit(_long(parts))
        if i % 3 == 0:
            run.pause()
        run.stop()
        assert run.join(2.0)
    _wait(lambda: len(_run_threads()) == before, 3)
    assert reg.active_count() == 0
    assert len(reg.runs()) <= reg.keep


def test_snapshots_read_while_training_are_consistent(parts):
    run = _run(parts, epochs=3).start()
    seen = []
    while run.alive:
        s = run.snapshot()
        assert len(s.step_loss) == s.step and len(s.epochs_log) == s.epoch
        seen.append(s.step)
        time.sleep(0.002)           # a hot loop would hold the GIL and starve the run
    assert seen == sorted(seen)
    assert run.snapshot().state == "finished"


def test_smoothing_is_an_unbiased_moving_average():
    out = T.smooth([2.0, 2.0, 2.0], 0.9)
    np.testing.assert_allclose(out, [2.0, 2.0, 2.0])
    out = T.smooth([0.0, 10.0], 0.5)
    assert out[1] == pytest.approx((0.5 * 0.0 * 0.5 + 0.5 * 10.0) / (1 - 0.25))


def test_sweep_cells_outside_the_axis_ranges_are_refused_before_any_memory_is_asked_for():
    from cnn_core.training import sweep as sw
    base, _ = sw.preset_config("doc-000")
    for params, words in [({"kernels": 10 ** 30}, "between 1 and 512"), ({"kernels": 0}, "between 1 and 512"),
                          ({"dropout": 1.5}, "between 0 and 0.95"), ({"batch_size": 0}, "between 1 and 4096")]:
        with pytest.raises(T.ConfigError, match=words):
            sw.apply_params(base, params)
    assert sw.apply_params(base, {"kernels": 24}).spec["layers"][0]["out_channels"] == 24
