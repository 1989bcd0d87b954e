"""Runs and sweeps on a Ray cluster: a local Ray started by this module (2 CPUs, no dashboard),
a second driver process standing in for a second web server, and what a lost actor reads as."""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

from cnn_core.data import datasets as data
from cnn_core.data import splits
from cnn_core.models import checkpoints, specs
import cnn_core.training as T
from cnn_core.training import ray_backend
from cnn_core.training.registry import RunRegistry
from cnn_core.training.sweep import Sweep

pytestmark = pytest.mark.slow

TINY = specs.build_spec(blocks=1, kernels=4, dense_width=0, name="tiny")


@pytest.fixture(scope="module")
def ray_cluster():
    try:
        import ray
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("Ray is not installed (pip install -e .[ray]); CI installs it")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, namespace=ray_backend.NAMESPACE, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    for name in ray.util.list_named_actors():
        try:
            ray.kill(ray.get_actor(name, namespace=ray_backend.NAMESPACE), no_restart=True)
        except ValueError:
            pass
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def parts():
    p = splits.doc000_split(data.load_bundled())
    return data.Split(p.train.subset(np.arange(300)), p.val.subset(np.arange(60)), p.test.subset(np.arange(60)))


def _run(parts, **kw) -> T.TrainingRun:
    cfg = T.TrainConfig(**{"spec": TINY, "optimizer": "sgd", "lr": 0.05, "batch_size": 50, "epochs": 1, **kw})
    return T.TrainingRun(cfg, parts.train, parts.val, parts.test, name="tiny",
                         dataset_info={"key": "bundled", "split_seed": 0})


def _until(pred, timeout=60.0, what="condition"):
    t0 = time.monotonic()
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"{what} not reached in {timeout} s")
        time.sleep(0.1)


def _second_server(gcs: str, code: str) -> dict:
    """Run ``code`` in a new driver process (a second web server) connected to the cluster; it
    sets ``out``, a dict printed as JSON."""
    script = textwrap.dedent("""
        import json, os
        from cnn_core.training.registry import RunRegistry
        from cnn_core.training.ray_backend import RayBackend
        runs = RunRegistry(backend=RayBackend(os.environ["GCS"]))
        out = {}
    """) + textwrap.dedent(code) + "\nprint('RESULT ' + json.dumps(out))\n"
    env = {**os.environ, "GCS": gcs}
    env.pop(ray_backend.ENV_ADDRESS, None)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    return json.loads(lines[-1][7:])


def test_a_run_is_an_actor_another_server_finds_controls_and_downloads(ray_cluster, parts):
    backend = ray_backend.RayBackend(ray_cluster)
    runs = RunRegistry(max_concurrent=2, backend=backend)
    run = runs.submit(_run(parts, batch_size=10, epochs=500))       # minutes of work: time to look at it
    snap = _until(lambda: (s := run.snapshot()).step > 0 and s, what="the first step")
    assert snap.state == "running" and snap.id == run.id and snap.total_steps == 15000
    assert run.id in backend.list()

    run.pause()
    _until(lambda: run.snapshot().state == "paused", what="paused")
    time.sleep(0.5)             # "paused" shows at once; the step under way still ends
    held = run.snapshot().step
    time.sleep(0.5)
    assert run.snapshot().step == held

    # This server goes away (a replica restarting): the run stays on the cluster.
    runs.shutdown()
    # A second web server, by run id only: it sees the paused run, resumes it, then stops it.
    out = _second_server(ray_cluster, f"""
        import time
        run = runs.get("{run.id}")
        snap = run.snapshot()
        out["state"], out["step"], out["name"] = snap.state, snap.step, run.name
        out["describe"] = run.config.describe()
        out["missing"] = runs.get("0123456789") is None
        run.resume()
        while run.snapshot().step <= snap.step + 5:
            time.sleep(0.05)
        run.stop(wait=10)
        out["after"] = run.snapshot().state, run.snapshot().message
        bundle = run.bundle()
        out["bundle"] = bundle.meta["run_id"], bundle.meta["dataset"], len(run.test_ds), bundle.meta["data"]["key"]
    """)
    assert out["state"] == "paused" and out["step"] == held and out["name"] == "tiny" and out["missing"]
    assert "tiny, torch engine, SGD" in out["describe"]
    assert out["after"][0] == "stopped" and out["after"][1].startswith("Stopped by you after")
    assert out["bundle"] == [run.id, run.dataset_info["name"], 60, "bundled"]

    # Back on a fresh first server: the same run, ended, and its checkpoint as .safetensors bytes.
    again = RunRegistry(backend=ray_backend.RayBackend(ray_cluster)).get(run.id)
    assert again.snapshot().state == "stopped" and again.snapshot().step > held
    raw = again.backend.checkpoint(run.id)
    loaded = checkpoints.from_bytes(raw)
    assert loaded.meta["run_id"] == run.id and loaded.spec["name"] == "tiny"
    x = torch.from_numpy(parts.test.images[:8].astype(np.float32) / 255.0)
    ours = run.bundle()         # built here from the actor's weights (numpy arrays)
    with torch.no_grad():
        assert torch.allclose(ours.model(x), loaded.model(x), atol=1e-6)


def test_a_short_run_finishes_and_frees_its_place_in_the_queue(ray_cluster, parts):
    runs = RunRegistry(max_concurrent=1, backend=ray_backend.RayBackend(ray_cluster))
    first, second = runs.submit(_run(parts, epochs=2)), runs.submit(_run(parts, seed=1))
    assert second.snapshot().state == "queued" and second.snapshot().queue_position == 1
    _until(lambda: first.snapshot().ended and second.snapshot().ended, timeout=120, what="both ended")
    a, b = first.snapshot(), second.snapshot()
    # read piece by piece (only new losses and timeline points each time), the same as the actor's whole snapshot
    import ray

    whole = ray.get(ray.get_actor(first.id, namespace=ray_backend.NAMESPACE).snapshot.remote())
    assert a.step_loss == whole.step_loss and a.extra.keys() == whole.extra.keys() and len(a.extra) > 2
    assert all(pickle.dumps(a.extra[k]) == pickle.dumps(whole.extra[k]) for k in a.extra)
    assert a.state == b.state == "finished" and a.step == 12 and len(a.epochs_log) == 2 and 0 <= a.test_acc <= 1
    _until(lambda: runs.active_count() == 0, timeout=10, what="the slots freed")
    runs.shutdown()


def test_beyond_the_clusters_cpus_a_run_waits_and_a_lost_actor_reads_as_a_plain_sentence(ray_cluster, parts):
    import ray

    backend = ray_backend.RayBackend(ray_cluster)
    runs = RunRegistry(max_concurrent=3, backend=backend)
    run, other = runs.submit(_run(parts, batch_size=10, epochs=500)), runs.submit(_run(parts, batch_size=10, epochs=500))
    _until(lambda: run.snapshot().step > 0 and other.snapshot().step > 0, what="two runs on the two CPUs")
    third = runs.submit(_run(parts, batch_size=10, epochs=500))     # no CPU left: Ray holds its task back
    snap = _until(lambda: (s := third.snapshot()).message.startswith("Waiting for a free CPU") and s,
                  timeout=30, what="the third run to say it waits")
    assert snap.state == "queued" and snap.step == 0
    third.stop()
    assert _until(lambda: (s := third.snapshot()).ended and s).message == "Stopped before it started."
    other.stop(wait=10)
    ray.kill(ray.get_actor(run.id, namespace=ray_backend.NAMESPACE), no_restart=True)   # a node lost, say
    snap = _until(lambda: (s := run.snapshot()).ended and s, timeout=20, what="the run to read as ended")
    assert snap.state == "failed" and snap.message.startswith("The Ray cluster lost this run")
    assert "Traceback" not in snap.message and snap.step > 0 and snap.step_loss
    _until(lambda: runs.active_count() == 0, timeout=20, what="the slot freed")
    assert run.bundle() is None
    runs.shutdown()


def test_a_sweep_is_an_actor_too_and_another_server_reads_it(ray_cluster, parts):
    runs = RunRegistry(max_concurrent=2, backend=ray_backend.RayBackend(ray_cluster))
    base = T.TrainConfig(spec=specs.build_spec(blocks=1, kernels=4, dense_width=8, name="tiny-sweep"),
                         optimizer="sgd", lr=0.05, batch_size=50, epochs=1)
    handle = Sweep(base, {"lr": [0.05, 0.1]}, parts.train, parts.val, parts.test, name="s", runs=runs).start()
    assert runs.get_sweep(handle.id) is handle
    assert handle.join(120)
    snap = handle.snapshot()
    assert snap.state == "finished" and [c["state"] for c in snap.cells] == ["finished", "finished"]
    assert all(0 <= c["val_acc"] <= 1 for c in snap.cells) and snap.best in (0, 1)
    assert handle.run(snap.best).bundle() is not None
    out = _second_server(ray_cluster, f"""
        sweep = runs.get_sweep("{handle.id}")
        snap = sweep.snapshot()
        out["state"], out["accs"] = snap.state, [c["val_acc"] for c in snap.cells]
        out["run"] = sweep.run(0).snapshot().state
    """)
    assert out == {"state": "finished", "accs": [c["val_acc"] for c in snap.cells], "run": "finished"}
    runs.shutdown()


def test_without_ray_installed_a_run_fails_with_one_sentence(monkeypatch, parts):
    monkeypatch.setitem(sys.modules, "ray", None)      # `import ray` raises ImportError
    runs = RunRegistry(backend=ray_backend.RayBackend("auto"))
    run = runs.submit(_run(parts))
    snap = _until(lambda: (s := run.snapshot()).ended and s, timeout=5, what="the run to fail")
    assert snap.state == "failed" and "Ray is not installed" in snap.message and "pip install -e .[ray]" in snap.message
    _until(lambda: runs.active_count() == 0, timeout=5, what="the slot freed")
    assert runs.get("0123456789") is None
    sweep = Sweep(_run(parts).config, {"lr": [0.05, 0.1]}, parts.train, parts.val, parts.test, runs=runs).start()
    snap = runs.get_sweep(sweep.id).snapshot()
    assert snap.state == "failed" and "Ray is not installed" in snap.message and len(snap.cells) == 2


def test_an_address_where_nothing_listens_fails_fast_with_one_sentence():
    t0 = time.monotonic()
    with pytest.raises(ray_backend.RayUnavailable, match=r"^The Ray cluster is unreachable: nothing answers at 127.0.0.1:1 "):
        ray_backend.check_reachable("127.0.0.1:1")
    with pytest.raises(ray_backend.RayUnavailable, match="is not a Ray address"):
        ray_backend.check_reachable("ray://nowhere")
    ray_backend.check_reachable("auto")            # left to Ray
    assert time.monotonic() - t0 < 5


def test_the_train_page_of_a_second_server_shows_and_stops_a_run_by_its_url(ray_cluster, parts, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    first = RunRegistry(backend=ray_backend.RayBackend(ray_cluster))
    run = first.submit(_run(parts, batch_size=10, epochs=500))
    _until(lambda: run.snapshot().step > 0, what="the first step")
    # This process's own registry is now "another web server" on the same cluster.
    second = RunRegistry(backend=ray_backend.RayBackend(ray_cluster))
    monkeypatch.setattr(sys.modules["cnn_core.training.registry"], "_REGISTRY", second)
    monkeypatch.chdir(ROOT)
    tab = AppTest.from_file(str(ROOT / "pages" / "6_Train.py"), default_timeout=60)
    tab.query_params["run"] = run.id
    tab.run()
    assert not tab.exception and any(f"Run `{run.id}`" in m.value for m in tab.markdown)
    assert "Training: step" in tab.get("progress")[0].proto.text
    tab.button(key=f"stop_{run.id}").click().run()
    _until(lambda: run.snapshot().ended, timeout=20, what="stopped")
    tab.run()
    assert any("Stopped by you" in w.value for w in tab.warning) and not tab.exception
    assert tab.button(key=f"use_{run.id}") is not None          # the weights came over from the cluster
    first.shutdown()
    second.shutdown()
