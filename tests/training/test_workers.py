"""Runs in worker processes (the server's backend): start, pause, stop, crash, memory cap, queue
cap, and no worker left behind when the server goes."""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import cnn_core.training as T
from cnn_core.data import datasets as data
from cnn_core.training.backends import ThreadBackend
from cnn_core.training.workers import ProcessBackend
from tests.training.fakes import TINY, FlakyEngine, HogEngine, report_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def parts():
    ds = data.load_bundled()
    p = data.split(ds, (0.85, 0.075, 0.075), seed=42)
    return data.Split(p.train.subset(np.arange(300)), p.val.subset(np.arange(60)), p.test.subset(np.arange(60)))


@pytest.fixture(scope="module")
def backend():
    # nice 0 here: on a busy shared test machine a niced worker may wait seconds for the CPU;
    # the default priority is checked by test_a_worker_runs_niced_with_one_thread_and_a_memory_cap.
    be = ProcessBackend(nice=0)
    yield be
    be.shutdown()
    assert not be.alive_pids()


def _run(parts, factory=T.make_engine, **kw) -> T.TrainingRun:
    cfg = T.TrainConfig(**{"spec": TINY, "optimizer": "sgd", "lr": 0.05, "batch_size": 50, "epochs": 1, **kw})
    return T.TrainingRun(cfg, parts.train, parts.val, parts.test, engine_factory=factory)


def _long(parts, **kw) -> T.TrainingRun:
    return _run(parts, batch_size=10, epochs=500, **kw)


def _wait(pred, timeout=60.0):
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return any(line.startswith("State:") and "Z" in line.split()[1] for line in f)   # a zombie is gone
    except FileNotFoundError:
        return True


def test_a_run_in_a_worker_gives_the_same_numbers_as_in_a_thread_and_a_usable_model(parts, backend):
    here = _run(parts, epochs=2).start(ThreadBackend())
    there = _run(parts, epochs=2).start(backend)
    assert here.join(60) and there.join(120)
    a, b = here.snapshot(), there.snapshot()
    assert b.state == "finished" and b.message == "Finished." and b.step == b.total_steps == 12
    np.testing.assert_allclose(b.step_loss, a.step_loss, rtol=1e-5)
    assert [r["epoch"] for r in b.epochs_log] == [1, 2] and b.test_acc == pytest.approx(a.test_acc)
    assert b.images_per_s > 0 and b.elapsed_s > 0 and b.eta_s is None
    bundle = there.bundle()
    assert bundle.meta["run_id"] == there.id and bundle.meta["accuracy"] == b.test_acc
    acc = float((bundle.model(__import__("torch").from_numpy(parts.test.floats())).argmax(1).numpy()
                 == parts.test.labels).mean())
    assert acc == pytest.approx(b.test_acc)


def test_pause_resume_and_stop_reach_the_worker(parts, backend):
    run = _long(parts).start(backend)
    try:
        _wait(lambda: run.snapshot().step >= 3)
        run.pause()
        assert run.snapshot().state == "paused"                  # at once, before the worker confirms
        time.sleep(0.5)                                          # the worker finishes its step and waits
        held = run.snapshot().step
        time.sleep(0.5)
        assert run.snapshot().step == held and run.snapshot().eta_s is not None
        run.resume()
        _wait(lambda: run.snapshot().step > held + 2, 30)
        assert run.snapshot().state == "running"
    finally:
        t0 = time.perf_counter()
        run.stop()
        assert run.join(10)
    assert time.perf_counter() - t0 < 5
    snap = run.snapshot()
    assert snap.state == "stopped" and snap.stop_reason == "user" and f"after {snap.step:,} step" in snap.message
    assert len(snap.step_loss) == snap.step and run.bundle() is not None      # what it learned is kept
    assert backend.pid(run.id) not in backend.alive_pids()


def test_an_exception_in_the_worker_is_a_failed_state_with_the_message(parts, backend):
    run = _run(parts, factory=FlakyEngine).start(backend)
    assert run.join(60)
    snap = run.snapshot()
    assert snap.state == "failed" and "RuntimeError: out of cheese" in snap.message
    assert snap.step == 2 and "out of cheese" in run.traceback


def test_a_killed_worker_fails_its_run_with_a_sentence_and_the_queue_moves_on(parts, backend):
    reg = T.RunRegistry(max_concurrent=1, backend=backend)
    a, b = reg.submit(_long(parts)), reg.submit(_run(parts))
    _wait(lambda: a.snapshot().step >= 2)
    assert b.snapshot().queue_position == 1
    os.kill(backend.pid(a.id), signal.SIGKILL)
    assert a.join(10)
    snap = a.snapshot()
    assert snap.state == "failed" and snap.stop_reason == "error"
    assert "The training process ended unexpectedly (killed by signal SIGKILL" in snap.message
    assert "the app carries on" in snap.message and "Traceback" not in snap.message
    assert a.bundle() is None
    assert b.join(120) and b.snapshot().state == "finished"                     # the next run got the slot
    assert reg.active_count() == 0


def test_a_runaway_run_hits_its_memory_cap_and_fails_alone(parts):
    be = ProcessBackend(nice=0, memory_mb=300)
    try:
        run = _run(parts, factory=HogEngine).start(be)
        assert run.join(60)
        snap = run.snapshot()
        assert snap.state == "failed" and snap.step == 1
        assert snap.message == ("Training failed: the run needed more memory than it may use (300 MB per training "
                                "process). Try a smaller network, a smaller batch size or less data.")
        ok = _run(parts).start(be)                                               # the backend is fine
        assert ok.join(60) and ok.snapshot().state == "finished"
    finally:
        be.shutdown()


def test_a_worker_runs_niced_with_one_thread_and_a_memory_cap(parts):
    be = ProcessBackend(memory_mb=1000)         # the defaults but memory
    try:
        run = _run(parts, factory=report_settings).start(be)
        assert run.join(60) and run.snapshot().state == "failed"
        got = json.loads(run.snapshot().message)
    finally:
        be.shutdown()
    assert got["pid"] != os.getpid()
    assert got["nice"] >= min(19, os.nice(0) + 10) and got["torch_threads"] == 1
    assert 0 < got["rlimit_data"] < 64 * 2 ** 30


def test_queue_cap_with_workers(parts, backend):
    reg = T.RunRegistry(max_concurrent=1, backend=backend)
    a, b, c = (reg.submit(_long(parts)) for _ in range(3))
    try:
        assert a.snapshot().state == "running"
        assert [(s.state, s.queue_position) for s in (b.snapshot(), c.snapshot())] == [("queued", 1), ("queued", 2)]
        assert len(backend.alive_pids()) <= 1 and reg.get(c.id) is c
        c.stop()
        assert c.snapshot().state == "stopped" and reg.queue_position(c.id) == 0
        a.stop()
        assert a.join(10)
        _wait(lambda: b.snapshot().state == "running", 30)
        assert reg.active_count() == 1 and c.snapshot().state == "stopped"
    finally:
        reg.stop_all(10)
    assert not any(r.alive for r in (a, b, c))


SERVER = textwrap.dedent("""
    import sys, time
    import numpy as np
    import cnn_core.training as T
    from multiprocessing import forkserver
    from cnn_core.data import datasets as data
    from tests.training.fakes import TINY

    train = data.load_bundled().subset(np.arange(200))
    cfg = T.TrainConfig(spec=TINY, optimizer="sgd", lr=0.05, batch_size=1, epochs=500)  # 100,000 steps: still training when the server goes
    run = T.registry().submit(T.TrainingRun(cfg, train, None))
    while run.snapshot().step == 0:
        time.sleep(0.05)
    print(T.registry().backend.pid(run.id), forkserver._forkserver._forkserver_pid, flush=True)
    sys.stdin.readline()           # the test has seen the worker alive
    if sys.argv[1] == "exit":
        sys.exit(0)
    time.sleep(120)
""")


@pytest.mark.parametrize("how", ["exit", "kill -9"])
def test_no_worker_outlives_the_server(how):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CNN_EXPLORER_WORKER_NICE": "0"}
    server = subprocess.Popen([sys.executable, "-c", SERVER, how.split()[0]], cwd=ROOT, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert line, "the server script printed nothing"
        worker, fork_server = (int(v) for v in line.split())
        assert not _gone(worker)
        # only now may the server go ("exit" used to exit at once, sometimes before the check above)
        server.stdin.write("go\n")
        server.stdin.flush()
        if how == "kill -9":
            server.kill()
        assert server.wait(30) in (0, -signal.SIGKILL)
        _wait(lambda: _gone(worker) and _gone(fork_server), 10)
    finally:
        if server.poll() is None:
            server.kill()
        server.stdout.close()


def test_the_clock_leaves_out_the_worker_start(parts, backend):
    run = _run(parts, epochs=2).start(backend)
    assert run.join(60)
    snap = run.snapshot()
    assert snap.images_per_s > 0 and math.isfinite(snap.images_per_s)
    assert snap.images_per_s * snap.elapsed_s > 2 * len(parts.train)      # setup time is not counted as training
