"""Comparing runs: the settings that differ, and the same settings and seed giving the same curve."""
from __future__ import annotations

import numpy as np
import pytest

import cnn_core.training as T
from cnn_core.data import datasets as data
from cnn_core.data import splits
from cnn_core.models import specs
from cnn_core.training import compare


@pytest.fixture(scope="module")
def parts():
    p = splits.doc000_split(data.load_bundled())
    return data.Split(p.train.subset(np.arange(320)), p.val.subset(np.arange(40)), None)


def _snap(parts, **kw):
    cfg = T.TrainConfig(**{"spec": specs.build_spec(blocks=1, kernels=4, dropout_p=0.2, dense_width=16),
                           "optimizer": "adam", "lr": 0.003, "batch_size": 16, "epochs": 2, **kw})
    run = T.TrainingRun(cfg, parts.train, parts.val, None).start()
    assert run.join(120)
    return run.snapshot()


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_identical_settings_and_seed_give_the_identical_loss_curve(parts, engine):
    """Both engines are bit-for-bit deterministic on the CPU: weights, shuffling, augmentation and
    dropout masks all come from the run's seed."""
    a, b = _snap(parts, engine=engine), _snap(parts, engine=engine)
    c = _snap(parts, engine=engine, seed=1)
    assert a.step_loss == b.step_loss and len(a.step_loss) == 40
    assert a.step_loss != c.step_loss
    found = compare.twins([s.config for s in (a, b, c)], ["d"] * 3, [s.step_loss for s in (a, b, c)])
    assert len(found) == 1 and found[0].indices == (0, 1) and found[0].identical and found[0].steps_compared == 40


def test_twins_report_the_gap_of_curves_that_differ():
    cfg = T.default_config().to_dict()
    found = compare.twins([cfg, cfg], ["d", "d"], [[1.0, 0.5, 0.25], [1.0, 0.5000001]])
    assert found[0].steps_compared == 2 and found[0].max_gap == pytest.approx(1e-7) and not found[0].identical
    assert compare.twins([cfg, cfg], ["digits", "fashion"], [[1.0], [1.0]]) == []


def test_only_the_knobs_that_differ_are_listed():
    base = T.default_config()
    other = T.TrainConfig(spec=specs.preset("seed-004"), optimizer="sgd", lr=0.01, batch_size=base.batch_size,
                          epochs=base.epochs, seed=base.seed)
    rows = [compare.settings(base.to_dict(), "bundled digits"), compare.settings(other.to_dict(), "bundled digits")]
    assert compare.differences(rows) == ["network", "layers", "optimiser", "learning rate"]
    assert rows[1]["layers"] == "conv 8×3×3 → sigmoid → max 2 → flatten → dense 20 → sigmoid → dense 10"
    assert compare.differences(rows[:1] * 2) == []
