"""Caps on background work: the server's queue (registry) and sweeps that wait for room in it."""
from __future__ import annotations

import time

import numpy as np
import pytest

from cnn_core import limits
from cnn_core.data import datasets as data
from cnn_core.limits import LimitError
from cnn_core.models import specs
from cnn_core.training import sweep as sw
from cnn_core.training.config import TrainConfig
from cnn_core.training.registry import RunRegistry
from cnn_core.training.run import TrainingRun

TINY = specs.build_spec(blocks=1, kernels=4, name="tiny")


@pytest.fixture(scope="module")
def ds():
    return data.load_bundled().subset(np.arange(0, 5000, 25))


def _long(ds) -> TrainingRun:
    cfg = TrainConfig(spec=TINY, optimizer="sgd", lr=0.05, batch_size=10, epochs=500)
    return TrainingRun(cfg, ds, ds.subset(np.arange(20)))


def test_a_full_queue_refuses_the_next_run_with_a_sentence_and_keeps_the_others(ds, monkeypatch):
    monkeypatch.setattr(limits, "MAX_QUEUED_RUNS", 2)
    reg = RunRegistry(max_concurrent=1)
    runs = [reg.submit(_long(ds)) for _ in range(3)]            # 1 running + 2 queued
    try:
        assert reg.queue_full()
        extra = _long(ds)
        with pytest.raises(LimitError, match=r"^2 runs are already waiting for a free slot on this server; the cap "
                                             r"is 2\. Try again when one has finished\.$"):
            reg.submit(extra)
        assert reg.get(extra.id) is None and not extra.alive
        assert [r.snapshot().state for r in runs[1:]] == ["queued", "queued"]
        runs[2].stop()                                           # room again
        assert not reg.queue_full()
        reg.submit(extra)
        assert reg.queue_position(extra.id) == 2
    finally:
        reg.stop_all()


def test_a_sweep_waits_for_room_in_the_queue_instead_of_failing(ds, monkeypatch):
    monkeypatch.setattr(limits, "MAX_QUEUED_RUNS", 1)
    reg = RunRegistry(max_concurrent=1)
    blockers = [reg.submit(_long(ds)) for _ in range(2)]        # running + the one queue place
    base = TrainConfig(spec=TINY, optimizer="sgd", lr=0.05, batch_size=50, epochs=1, max_steps_per_epoch=2)
    sweep = sw.Sweep(base, {"lr": [0.05]}, ds, ds.subset(np.arange(20)), runs=reg).start()
    try:
        time.sleep(1.0)
        snap = sweep.snapshot()
        assert snap.state == "running" and snap.cells[0]["state"] == "waiting"
        for b in blockers:
            b.stop()
        end = sw.wait(sweep, timeout=90)
        assert end.state == "finished", (end.message, end.cells)
    finally:
        sweep.stop(wait=5)
        reg.stop_all()
