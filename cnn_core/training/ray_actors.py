"""What runs on the Ray cluster: ``RunActor``, ``train_task`` and ``SweepActor``, plain classes and
a function that ``ray_backend.RayBackend`` makes Ray actors and tasks.

A ``RunActor`` (no CPU of its own) keeps a run's record and result and answers servers (snapshot,
pause, resume, stop, wait, the finished checkpoint); the training itself is a one-CPU Ray task
(``train_task``) that iterates ``loop.fit`` (through ``backends.execute``) and sends its events
to the actor. A ``SweepActor`` runs ``sweep.Sweep`` with its cells as run actors. Nothing here
imports Ray at module level; the handles servers hold on these actors are in ``ray_handles``.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import replace

from cnn_core.training.backends import PAUSED, RESUMED, Ended, Job, RunRecord, Stop, execute, model_from_weights
from cnn_core.training.loop import Extra, Step
from cnn_core.training.snapshot import RunSnapshot
from cnn_core.lessons.formatting import count_of


def run_info(job: Job) -> dict:
    """What a server that did not start the run needs to show it and to label its checkpoint."""
    info = dict(getattr(job, "dataset_info", None) or {})
    info.setdefault("name", job.dataset)
    return {"name": job.name, "config": job.config, "dataset": job.dataset, "total_steps": job.total_steps,
            "class_names": list(job.train.class_names) if job.train is not None else [],
            "dataset_info": info, "n_val": len(job.val) if job.val is not None else 0,
            "n_test": len(job.test) if job.test is not None else 0, "created": time.time()}


def _exit_later(keep_s: float, ended: threading.Event) -> None:
    """After the run (or sweep) has ended and ``keep_s`` more seconds passed, end this actor."""
    ended.wait()
    if keep_s <= 0:
        return
    time.sleep(keep_s)
    import ray

    try:
        ray.kill(ray.get_runtime_context().current_actor, no_restart=True)
    except Exception:  # noqa: BLE001
        os._exit(0)


FLUSH_S = 0.1     # the training task sends its events (and learns of pause / stop) this often


def train_task(job: Job, actor) -> None:
    """A Ray task (one CPU, no retries): iterate ``fit`` and hand every event to the run's actor.

    Events go in batches every ``FLUSH_S``; each batch's answer is the latest command ("", "pause",
    "stop"), read between steps. An actor that is gone ends the task."""
    import ray
    import torch

    torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS") or 1)))    # Ray sets it to num_cpus
    pending: list = []
    state = {"command": "", "flushed": time.monotonic()}

    def flush() -> None:
        batch = pending[:]
        pending.clear()
        state["flushed"] = time.monotonic()
        state["command"] = ray.get(actor.push.remote(batch), timeout=60)

    def emit(event) -> None:
        pending.append(event)
        if not isinstance(event, Step) or time.monotonic() - state["flushed"] >= FLUSH_S:
            flush()

    def check() -> None:
        if state["command"] == "pause":
            emit(PAUSED)
            while state["command"] == "pause":
                time.sleep(0.2)
                flush()
            emit(RESUMED)
        if state["command"] == "stop":
            raise Stop

    ray.get(actor.push.remote([STARTED]), timeout=60)
    ended = execute(job, check, emit)
    pending.append(ended)
    flush()


STARTED = "started"


class RunActor:
    """One run on the cluster: holds what the run has done and its result, and answers servers.

    It asks for no CPU itself, so that an ended run kept for later downloads blocks nobody: the
    training is a separate one-CPU Ray task (``train_task``), queued by Ray until a CPU is free."""

    def __init__(self, job: Job, info: dict, keep_s: float = 3600.0, num_cpus: float = 1.0):
        import ray

        self._info = dict(info)
        self._val, self._test = job.val, job.test
        self._record = RunRecord(replace(job, train=None))
        self._command = ""
        self._version = 0                        # counts Extra events; _extra_at: key -> version that wrote it
        self._extra_at: dict[str, int] = {}
        self._checkpoint: bytes | None = None
        self._lock = threading.Lock()
        me = ray.get_runtime_context().current_actor
        from cnn_core.training.ray_connect import remote

        self._task = remote(train_task).options(num_cpus=num_cpus, max_retries=0,
                                                    name=f"cnn-train-{job.id}").remote(job, me)
        threading.Thread(target=self._watch_task, daemon=True).start()
        threading.Thread(target=_exit_later, args=(keep_s, self._record.ended), daemon=True).start()

    def _watch_task(self) -> None:
        """A task that dies (its worker killed, out of memory, its node gone) fails the run with a sentence."""
        import ray

        try:
            ray.get(self._task)
            if not self._record.ended.is_set():
                raise RuntimeError("the task ended without reporting how")
        except Exception as exc:  # noqa: BLE001
            from cnn_core.training.ray_connect import short

            if self._command == "stop" and self._record.state == "queued":
                return
            self._record.end(Ended("failed", "error", f"The Ray worker training this run died ({short(exc)}) after "
                                                      f"{count_of(self._record.step, 'step')}; its weights are lost."))

    # called by the training task
    def push(self, events: list) -> str:
        with self._lock:
            for event in events:
                if event == STARTED:
                    self._record.started()
                    continue
                if isinstance(event, Extra):
                    self._version += 1
                    self._extra_at.update(dict.fromkeys(event.payload, self._version))
                self._record.apply(event)
            return self._command

    # called by servers
    def info(self) -> dict:
        return dict(self._info)

    def datasets(self) -> tuple:
        """(validation, test) splits, for the Evaluate page of a server that did not start the run."""
        return self._val, self._test

    def snapshot(self) -> RunSnapshot:
        snap = self._record.snapshot()
        if snap.state == "queued":
            snap = replace(snap, message="Waiting for a free CPU on the Ray cluster; it starts by itself.")
        return snap

    def delta(self, n_steps: int, since: int) -> tuple[RunSnapshot, int]:
        """The snapshot without what a reader already holds: the losses after its first ``n_steps``, and
        only the ``extra`` keys written after its version ``since`` (the learning timeline's maps are
        megabytes; every page polls once a second). Returns it with the version to ask from next time."""
        with self._lock:
            snap, version = self.snapshot(), self._version
            fresh = [k for k, v in self._extra_at.items() if v > since and k in snap.extra]
        return replace(snap, step_loss=snap.step_loss[n_steps:], extra={k: snap.extra[k] for k in fresh}), version

    def pause(self) -> None:
        with self._lock:
            if not self._record.ended.is_set() and self._command != "stop":
                self._record.pause_requested, self._command = True, "pause"

    def resume(self) -> None:
        with self._lock:
            if self._command == "pause":
                self._record.pause_requested, self._command = False, ""

    def stop(self) -> None:
        import ray

        with self._lock:
            self._command = "stop"
            queued = self._record.state == "queued"
            if queued:
                self._record.end(Ended("stopped", "user", "Stopped before it started."))
        if queued:
            ray.cancel(self._task, force=True)

    def wait(self, timeout: float | None = None) -> bool:
        return self._record.ended.wait(timeout)

    def result(self) -> dict | None:
        return self._record.weights

    def checkpoint(self) -> bytes | None:
        """The finished model as a .safetensors file (weights + spec + meta), or None without usable weights."""
        from cnn_core.models import checkpoints
        from cnn_core.training.run import make_bundle

        with self._lock:
            if self._checkpoint is not None or self._record.weights is None:
                return self._checkpoint
            snap, cfg, i = self._record.snapshot(), self._info["config"], self._info
            model = model_from_weights(cfg.spec, self._record.weights)
            bundle = make_bundle(cfg, model, name=i["name"], run_id=snap.id, state=snap.state,
                                 epochs_log=snap.epochs_log, test_acc=snap.test_acc, class_names=i["class_names"],
                                 dataset_info=i["dataset_info"], n_val=i["n_val"], n_test=i["n_test"])
            self._checkpoint = checkpoints.to_bytes(bundle)
            return self._checkpoint


class SweepActor:
    """A sweep on the cluster: ``sweep.Sweep``'s own thread, its cells trained as run actors."""

    def __init__(self, sweep_id: str, base, axes: dict, train, val, test, name: str, dataset_info: dict,
                 addr: str | None, keep_s: float, num_cpus: float):
        from cnn_core.training.ray_backend import RayBackend
        from cnn_core.training.registry import RunRegistry
        from cnn_core.training.sweep import Sweep

        backend = RayBackend(addr, keep_s=keep_s, num_cpus=num_cpus, runs_sweeps=False)
        self._sweep = Sweep(base, axes, train, val, test, name=name, dataset_info=dataset_info,
                            runs=RunRegistry(max_concurrent=1, backend=backend))
        self._sweep.id = sweep_id
        self._sweep.start()
        self._ended = threading.Event()
        threading.Thread(target=lambda: (self._sweep.join(), self._ended.set()), daemon=True).start()
        threading.Thread(target=_exit_later, args=(keep_s, self._ended), daemon=True).start()

    def snapshot(self):
        return self._sweep.snapshot()

    def stop(self) -> None:
        self._sweep.stop()

    def wait(self, timeout: float | None = None) -> bool:
        return self._sweep.join(timeout)


__all__ = ["RunActor", "SweepActor", "run_info", "train_task"]
