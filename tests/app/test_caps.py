"""Caps at the Train page: a builder network beyond the parameter cap, and the per-session and
per-server caps on runs at its Start button (ui/app/quotas.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnn_core import limits
from cnn_core.data import datasets as data
from cnn_core.models import specs
from cnn_core.training.registry import registry
from cnn_core.training.config import TrainConfig
from cnn_core.training.run import TrainingRun
from ui.app import quotas

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "6_Train.py")


def _long_run() -> TrainingRun:
    ds = data.load_bundled().subset(np.arange(0, 5000, 10))
    cfg = TrainConfig(spec=specs.build_spec(blocks=1, kernels=4), optimizer="sgd", lr=0.01, batch_size=10, epochs=200)
    return TrainingRun(cfg, ds, ds.subset(np.arange(20)), name="tiny")


@pytest.fixture
def reg(monkeypatch):
    monkeypatch.chdir(ROOT)
    r = registry()
    cap = r.max_concurrent
    yield r
    for run in r.runs():
        run.stop()
    for run in r.runs():
        run.join(2)
    r.set_max_concurrent(cap)


def _press_start(at) -> AppTest:
    return at.button(key="tr_start").click().run()


def test_a_session_at_its_cap_gets_one_sentence_and_no_new_run(reg, monkeypatch):
    monkeypatch.setattr(limits, "MAX_RUNS_PER_SESSION", 1)
    mine = reg.submit(_long_run())
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state[quotas.STARTED_KEY] = [("run", mine.id)]     # e.g. started before the tab lost its ?run=
    at.run()
    before = {r.id for r in reg.runs()}
    _press_start(at)
    assert not at.exception
    assert [e.value for e in at.error] == [
        "You already have 1 run or sweep training or waiting in this browser session; the cap is 1 per session. "
        "Stop one, or wait for it to finish."]
    assert {r.id for r in reg.runs()} == before and not mine.snapshot().ended
    mine.stop()
    assert mine.join(30)
    _press_start(at)                                               # once it has ended, Start works again
    assert not at.error and len({r.id for r in reg.runs()} - before) == 1


def test_a_full_server_queue_is_refused_at_start_and_nothing_is_stopped(reg, monkeypatch):
    monkeypatch.setattr(limits, "MAX_QUEUED_RUNS", 1)
    reg.set_max_concurrent(1)
    others = [reg.submit(_long_run()) for _ in range(2)]          # another student's: running + queued
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    _press_start(at)
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0] == ("The server's queue is full: the cap is 1 waiting run. Try again when one "
                                                  "has finished.")
    assert [r.snapshot().state for r in others] == ["running", "queued"]


def test_a_queued_run_nobody_has_shown_for_the_timeout_is_dropped_and_a_watched_one_is_kept(reg, monkeypatch):
    monkeypatch.setattr(limits, "ABANDONED_QUEUE_S", 60)
    reg.set_max_concurrent(1)
    running, left, watched = (reg.submit(_long_run()) for _ in range(3))
    quotas.seen("run", running.id)
    quotas.seen("run", left.id)
    quotas.seen("run", watched.id)
    # The live panel of the watched run's tab keeps ticking; the other tab closed 61 s ago.
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["run"] = watched.id
    at.run()
    t0 = quotas._SEEN[("run", watched.id)]
    with quotas._SEEN_LOCK:
        quotas._SEEN[("run", left.id)] = t0 - 61
        quotas._SEEN[("run", running.id)] = t0 - 61
    assert quotas.drop_abandoned(now=t0 + 1) == [left.id]
    assert left.snapshot().state == "stopped" and reg.queue_position(left.id) == 0
    assert watched.snapshot().state == "queued" and reg.queue_position(watched.id) == 1
    assert running.snapshot().state == "running"             # a run that trains is never dropped


def test_a_builder_network_beyond_the_parameter_cap_is_one_sentence_and_start_is_disabled(reg):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.text_input(key="tr_kernels").set_value("512").run()
    at.selectbox(key="tr_pooling").set_value("none").run()
    at.number_input(key="tr_dense").set_value(1024).run()
    at.number_input(key="tr_blocks").set_value(4).run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "This network cannot be built: This network has 418 million parameters, 411 million of them in layer 10 "
        "(Dense(1024)); the cap is 25 million (17× over)."]
    assert at.button(key="tr_start").disabled
