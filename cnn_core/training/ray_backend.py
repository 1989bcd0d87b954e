"""Runs and sweeps on a Ray cluster, for a class that outgrows one machine.

With ``$CNN_EXPLORER_RAY_ADDRESS`` set ("auto", "ray://head:10001", "10.0.0.5:6379", or "local"
to start a Ray instance inside this process), the registry hands every run to ``RayBackend``:
each run is a detached Ray actor named by its run id in the ``cnn-explorer`` namespace
(``ray_actors.RunActor``), and each sweep an actor named ``sweep-<id>`` that trains its cells as
run actors, one after another. Several web servers connected to the same cluster therefore share
them: a reload that lands on another server finds the run with ``ray.get_actor(run_id)``
(``RayBackend.attach``), and sees, pauses, stops and downloads it like a run of its own.

Reading a run never blocks a page for long: actor handles are cached, every ``ray.get`` has a
timeout ($CNN_EXPLORER_RAY_TIMEOUT, default 2 s), and a run whose actor or cluster is gone reads
as a plain sentence ("The Ray cluster is unreachable: …", "The Ray cluster lost this run: …").
Ended runs keep their results on the cluster for $CNN_EXPLORER_RAY_KEEP_S seconds (default one
hour), then their actors exit. Ray is optional (``pip install -e .[ray]``): it is imported only
when a Ray backend is first used.
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Callable

from cnn_core.training.backends import Ended, Job, RunRecord
from cnn_core.training.ray_connect import (ENV_ADDRESS, NAMESPACE, SWEEP_PREFIX, RayUnavailable, _env_float, _errors,
                                           address, check_reachable, connect, remote, short)
from cnn_core.training.snapshot import RunSnapshot

def _failed(snap: RunSnapshot, message: str) -> RunSnapshot:
    return replace(snap, state="failed", stop_reason="error", message=message, eta_s=None, queue_position=0)


class RayBackend:
    """The ``Backend`` interface (start, snapshot, pause / resume / stop, wait, result, list,
    forget, shutdown) on a Ray cluster, plus ``attach`` / ``attach_sweep`` (find a run or sweep
    started by any server) and ``start_sweep``.

    Runs outlive this server (``detached``): ``shutdown`` drops handles and stops nothing, so that
    a replica restarting, or going away behind the load balancer, leaves its runs to the others."""

    detached = True

    def __init__(self, addr: str | None = None, *, timeout: float | None = None, keep_s: float | None = None,
                 num_cpus: float | None = None, runs_sweeps: bool = True):
        """``runs_sweeps``: whether ``start_sweep`` puts sweeps on the cluster (False inside a sweep actor)."""
        self.address = addr or address()
        self.timeout = timeout if timeout is not None else _env_float("CNN_EXPLORER_RAY_TIMEOUT", 2.0)
        self.keep_s = keep_s if keep_s is not None else _env_float("CNN_EXPLORER_RAY_KEEP_S", 3600.0)
        self.num_cpus = num_cpus if num_cpus is not None else _env_float("CNN_EXPLORER_RAY_CPUS", 1.0)
        self.runs_sweeps = runs_sweeps
        self._lock = threading.Lock()
        self._handles: dict[str, object] = {}
        self._last: dict[str, RunSnapshot] = {}      # the last snapshot read, shown while the cluster is away
        self._version: dict[str, int] = {}           # and the actor's version it is up to date with
        self._local: dict[str, RunRecord] = {}       # runs that never reached the cluster (it was unreachable)
        self._jobs: dict[str, Job] = {}              # this server's runs, without their data: a queued snapshot
        self._starting: dict[str, threading.Event] = {}   # set once start() has the actor's handle (or failed)
        self._remote: dict[str, object] = {}         # ray_handles.RemoteRun of runs other servers started
        self._closed = threading.Event()

    # --- connection and handles ---------------------------------------------------------------

    def ray(self):
        return connect(self.address)

    def warm(self) -> None:
        """Connect now (in the background at server start), not on the first Start."""
        try:
            self.ray()
        except RayUnavailable:
            pass          # the first run says why

    def _handle(self, name: str):
        """The cached actor handle of ``name``, looked up on the cluster the first time; None if no such actor."""
        with self._lock:
            h, starting = self._handles.get(name), self._starting.get(name)
        if h is None and starting is not None:       # start() is creating it right now
            starting.wait(30.0)
            with self._lock:
                h = self._handles.get(name)
        if h is not None:
            return h
        ray = self.ray()
        try:
            h = ray.get_actor(name, namespace=NAMESPACE)
        except ValueError:
            return None
        with self._lock:
            self._handles[name] = h
        return h

    def _get(self, ref, timeout: float | None = None):
        return self.ray().get(ref, timeout=self.timeout if timeout is None else timeout)

    # --- the Backend interface ----------------------------------------------------------------

    def start(self, job: Job, on_end: Callable[[str], None] = lambda run_id: None) -> None:
        """Hand the run to the cluster from a thread of its own (Start answers at once), which then
        waits for it to end and calls ``on_end``. A cluster that cannot be reached fails the run with a
        sentence instead of raising."""
        with self._lock:
            self._starting[job.id] = threading.Event()
            self._jobs[job.id] = replace(job, train=None, val=None, test=None)
        threading.Thread(target=self._create, args=(job, on_end), name=f"cnn-ray-{job.id}", daemon=True).start()

    def _create(self, job: Job, on_end: Callable[[str], None]) -> None:
        from cnn_core.training.ray_actors import RunActor, run_info

        try:
            self.ray()
            actor = remote(RunActor).options(
                name=job.id, namespace=NAMESPACE, lifetime="detached", get_if_exists=True, num_cpus=0,
                max_concurrency=8, max_restarts=0)
            handle = actor.remote(job, run_info(job), self.keep_s, self.num_cpus)
        except Exception as exc:  # noqa: BLE001 - RayUnavailable, or the cluster refusing the actor
            record = RunRecord(replace(job, train=None, val=None, test=None))
            text = str(exc) if isinstance(exc, RayUnavailable) else f"The Ray cluster is unreachable: {short(exc)}."
            record.end(Ended("failed", "error", text))
            with self._lock:
                self._local[job.id] = record
                self._starting.pop(job.id).set()
            on_end(job.id)
            return
        with self._lock:
            self._handles[job.id] = handle
            self._starting.pop(job.id).set()
        self._watch(job.id, on_end)

    def _watch(self, run_id: str, on_end: Callable[[str], None]) -> None:
        """Wait (here, cheaply) for the run to end, then free its place in this server's registry."""
        try:
            while not self._closed.is_set():
                if self.wait(run_id, 2.0):
                    break
            if not self._closed.is_set():
                on_end(run_id)
        except BaseException:  # noqa: BLE001 - Ray shut down under this thread (SystemExit): nothing to free
            pass

    def snapshot(self, run_id: str) -> RunSnapshot | None:
        with self._lock:
            local, last = self._local.get(run_id), self._last.get(run_id)
        if local is not None:
            return local.snapshot()
        if last is not None and last.ended:
            return last
        if run_id in self._starting:
            return self._waiting(run_id, "Sending the run to the Ray cluster…")
        try:
            h = self._handle(run_id)
            gone, timed_out = _errors(self.ray())
        except RayUnavailable as exc:
            return self._unreachable(run_id, last, str(exc))
        if h is None:
            return _failed(last, "The Ray cluster lost this run: its actor is gone (the node it ran on may have "
                                 "left the cluster).") if last is not None else None
        version = self._version.get(run_id, 0)
        try:
            n, since = (len(last.step_loss), version) if last is not None else (0, 0)
            delta, version = self._get(h.delta.remote(n, since))
            snap = delta if last is None else replace(delta, step_loss=last.step_loss + delta.step_loss,
                                                      extra={**last.extra, **delta.extra})
        except gone as exc:
            snap = _failed(last, f"The Ray cluster lost this run: {short(exc)}") if last is not None else None
            if snap is None:
                return None
        except timed_out:
            if last is None:       # its actor is not placed yet, or the cluster is slow
                return self._waiting(run_id, "Waiting for the Ray cluster to place the run; it starts by itself.")
            return self._unreachable(run_id, last, f"The Ray cluster is unreachable: no answer from the run "
                                                   f"within {self.timeout:g} s.")
        except Exception as exc:  # noqa: BLE001 - a lost connection, a dead GCS…
            return self._unreachable(run_id, last, f"The Ray cluster is unreachable: {short(exc)}")
        with self._lock:
            self._last[run_id], self._version[run_id] = snap, version
        return snap

    def _waiting(self, run_id: str, message: str) -> RunSnapshot | None:
        """A queued snapshot of one of this server's runs, before the cluster has told anything about it."""
        with self._lock:
            job = self._jobs.get(run_id)
        return None if job is None else replace(RunRecord(job).snapshot(), message=message)

    def _unreachable(self, run_id: str, last: RunSnapshot | None, message: str) -> RunSnapshot | None:
        """What a run reads as while the cluster does not answer: its last snapshot with the sentence
        (not ended: it may well still be training)."""
        if last is None:
            return self._waiting(run_id, message)
        return replace(last, message=message, extra={**last.extra, "unreachable": message})

    def _call(self, run_id: str, method: str, *args) -> None:
        """Fire and forget (pause / resume / stop): the next snapshot shows the effect."""
        try:
            h = self._handle(run_id)
            if h is not None:
                getattr(h, method).remote(*args)
        except Exception:  # noqa: BLE001 - the next snapshot says what is wrong
            pass

    def pause(self, run_id: str) -> None:
        self._call(run_id, "pause")

    def resume(self, run_id: str) -> None:
        self._call(run_id, "resume")

    def stop(self, run_id: str) -> None:
        self._call(run_id, "stop")

    def wait(self, run_id: str, timeout: float | None = None) -> bool:
        """True once the run has ended (or its actor is gone); False after ``timeout`` seconds."""
        with self._lock:
            if run_id in self._local:
                return True
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = 5.0 if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                h = self._handle(run_id)
                if h is None:
                    return True
                if self._get(h.wait.remote(min(left, 5.0)), min(left, 5.0) + self.timeout):
                    return True
            except Exception as exc:  # noqa: BLE001 - gone: ended; timed out or unreachable: ask again
                if not isinstance(exc, RayUnavailable) and isinstance(exc, _errors(self.ray())[0]):
                    return True
                time.sleep(min(0.5, left))
            if deadline is not None and time.monotonic() >= deadline:
                return False

    def _fetch(self, run_id: str, method: str):
        try:
            h = self._handle(run_id)
            return None if h is None else self._get(getattr(h, method).remote(), max(30.0, self.timeout))
        except Exception:  # noqa: BLE001 - gone or unreachable: no weights to offer (the snapshot says why)
            return None

    def result(self, run_id: str) -> dict | None:
        """The final weights (numpy arrays by state_dict key), or None (none kept, or the actor is gone)."""
        import numpy as np

        weights = self._fetch(run_id, "result")      # Ray hands back read-only arrays: torch wants them writable
        return None if weights is None else {k: np.array(v) for k, v in weights.items()}

    def checkpoint(self, run_id: str) -> bytes | None:
        """The finished model as a .safetensors file (bytes), or None while it has no usable weights."""
        return self._fetch(run_id, "checkpoint")

    def list(self) -> list[str]:
        """Every run on the cluster (all servers'), by id."""
        names = self.ray().util.list_named_actors()
        return [n for n in names if not n.startswith(SWEEP_PREFIX)]

    def forget(self, run_id: str) -> None:
        """Drop this server's handle; the run stays on the cluster for the others (until its keep time ends)."""
        with self._lock:
            self._handles.pop(run_id, None)
            self._last.pop(run_id, None)
            self._version.pop(run_id, None)
            self._local.pop(run_id, None)
            self._jobs.pop(run_id, None)
            self._remote.pop(run_id, None)

    def shutdown(self, wait: float = 2.0) -> None:
        """This server is going away: stop watching, drop handles. The runs go on on the cluster."""
        self._closed.set()
        with self._lock:
            self._handles.clear()
            self._remote.clear()

    # --- finding what other servers started ---------------------------------------------------

    def attach(self, run_id: str | None):
        """A handle (``ray_actors.RemoteRun``) on a run any server started, or None if the cluster has no such run."""
        from cnn_core.training.ray_handles import RemoteRun

        if not run_id or run_id.startswith(SWEEP_PREFIX):
            return None
        with self._lock:
            if run_id in self._remote:
                return self._remote[run_id]
        try:
            h = self._handle(run_id)
            info = None if h is None else self._get(h.info.remote(), max(10.0, self.timeout))
        except Exception:  # noqa: BLE001 - unreachable: the page says the run is not found here
            return None
        if info is None:
            return None
        with self._lock:
            return self._remote.setdefault(run_id, RemoteRun(self, run_id, info))

    def start_sweep(self, sweep):
        """Put ``sweep`` (a ``sweep.Sweep``, validated) on the cluster as an actor; returns its handle."""
        from cnn_core.training.ray_actors import SweepActor
        from cnn_core.training.ray_handles import RemoteSweep

        try:
            self.ray()
            actor = remote(SweepActor).options(
                name=SWEEP_PREFIX + sweep.id, namespace=NAMESPACE, lifetime="detached", get_if_exists=True,
                num_cpus=0, max_concurrency=8, max_restarts=0)
            handle = actor.remote(sweep.id, sweep.base, dict(sweep.axes), sweep.train_ds, sweep.val_ds, sweep.test_ds,
                                  sweep.name, dict(sweep.dataset_info), self.address, self.keep_s, self.num_cpus)
        except Exception as exc:  # noqa: BLE001 - the sweep reads as failed, with the sentence
            text = str(exc) if isinstance(exc, RayUnavailable) else f"The Ray cluster is unreachable: {short(exc)}."
            return RemoteSweep(self, sweep.id, replace(sweep.snapshot(), state="failed", message=text))
        with self._lock:
            self._handles[SWEEP_PREFIX + sweep.id] = handle
        return RemoteSweep(self, sweep.id, sweep.snapshot())     # every cell waiting, until the actor answers

    def attach_sweep(self, sweep_id: str | None):
        from cnn_core.training.ray_handles import RemoteSweep, sweep_snapshot

        if not sweep_id:
            return None
        try:
            first = sweep_snapshot(self, sweep_id)
        except Exception:  # noqa: BLE001 - unreachable: the page says the sweep is not found here
            return None
        return None if first is None else RemoteSweep(self, sweep_id, first)


__all__ = ["ENV_ADDRESS", "NAMESPACE", "SWEEP_PREFIX", "RayBackend", "RayUnavailable", "address", "check_reachable",
           "connect", "short"]
