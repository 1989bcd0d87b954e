"""The handles a web server holds on runs and sweeps on a Ray cluster, whoever started them:
``RemoteRun`` and ``RemoteSweep`` offer what the pages use of a ``TrainingRun`` and a ``Sweep``
(snapshot, pause / resume / stop, the trained model, the run's data), reading through
``ray_backend.RayBackend`` with timeouts, so that a lost actor or cluster reads as a sentence."""
from __future__ import annotations

from dataclasses import replace

from cnn_core.training.backends import Ended, Job, RunRecord
from cnn_core.training.ray_connect import SWEEP_PREFIX, RayUnavailable, _errors, short
from cnn_core.training.snapshot import ENDED, RunSnapshot


class RemoteRun:
    """A run on the cluster, seen from a server that may not have started it: what the Train and
    Evaluate pages use of a ``TrainingRun`` (snapshot, pause / resume / stop, bundle, its data)."""

    def __init__(self, backend, run_id: str, info: dict):
        self.backend, self.id, self._info = backend, run_id, info
        self.name = info["name"]
        self.config = info["config"]
        self.class_names = list(info["class_names"])
        self.dataset_info = dict(info["dataset_info"])
        self.created = info.get("created", 0.0)
        self.total_steps = info["total_steps"]
        self._data = None
        self._bundle = None
        self._final: RunSnapshot | None = None

    def _data_splits(self) -> tuple:
        if self._data is None:
            try:
                h = self.backend._handle(self.id)
                self._data = self.backend._get(h.datasets.remote(), 30.0) if h is not None else (None, None)
            except Exception:  # noqa: BLE001 - the Evaluate page then offers the stored data sets
                return None, None
        return self._data

    @property
    def val_ds(self):
        return self._data_splits()[0]

    @property
    def test_ds(self):
        return self._data_splits()[1]

    def snapshot(self) -> RunSnapshot:
        if self._final is not None:
            return self._final
        snap = self.backend.snapshot(self.id)
        if snap is None:
            job = Job(self.id, self.name, self.config, None, None, None, self._info["dataset"], self.total_steps)
            record = RunRecord(job)
            record.end(Ended("failed", "error", "The Ray cluster lost this run: its actor is gone."))
            snap = record.snapshot()
        if snap.state in ENDED:
            self._final = snap
        return snap

    @property
    def state(self) -> str:
        return self.snapshot().state

    @property
    def alive(self) -> bool:
        return not self.snapshot().ended

    @property
    def traceback(self) -> str:
        return self.snapshot().traceback

    def pause(self) -> None:
        self.backend.pause(self.id)

    def resume(self) -> None:
        self.backend.resume(self.id)

    def stop(self, wait: float | None = None) -> None:
        self.backend.stop(self.id)
        if wait is not None:
            self.join(wait)

    def join(self, timeout: float | None = None) -> bool:
        return self.backend.wait(self.id, timeout)

    def bundle(self):
        """The trained model (a checkpoints.ModelBundle, from the actor's .safetensors bytes), or None."""
        if self._bundle is None and self.snapshot().ended:
            from cnn_core.models import checkpoints

            try:
                data = self.backend.checkpoint(self.id)
                self._bundle = checkpoints.from_bytes(data) if data else None
            except Exception:  # noqa: BLE001 - the page says there are no weights to keep
                return None
        return self._bundle


def sweep_snapshot(backend, sweep_id: str, last=None):
    """A sweep's snapshot, read with a timeout. None if the cluster has no such sweep (and nothing
    was read before); a lost sweep reads as failed and an unreachable cluster as the last snapshot,
    each with a sentence. Raises ``RayUnavailable`` only when there is no earlier snapshot to show."""
    if last is not None and last.state != "running":
        return last                      # an ended sweep never changes
    try:
        ray = backend.ray()
        gone = _errors(ray)[0]
        h = backend._handle(SWEEP_PREFIX + sweep_id)
        if h is None:
            return None if last is None else replace(last, state="failed", current=None,
                                                     message="The Ray cluster lost this sweep: its actor is gone.")
        return backend._get(h.snapshot.remote())
    except Exception as exc:  # noqa: BLE001
        text = str(exc) if isinstance(exc, RayUnavailable) else f"The Ray cluster is unreachable: {short(exc)}"
        if last is None:
            raise RayUnavailable(text) from exc
        if not isinstance(exc, RayUnavailable) and isinstance(exc, gone):
            return replace(last, state="failed", current=None, message=f"The Ray cluster lost this sweep: {short(exc)}")
        return replace(last, message=text)


class RemoteSweep:
    """A sweep on the cluster, seen from any server: what the Sweep page uses of a ``Sweep``."""

    def __init__(self, backend, sweep_id: str, first):
        """``first``: a snapshot to show until the actor answers (and while the cluster does not)."""
        self.backend, self.id = backend, sweep_id
        self._last = first
        self._runs: dict[str, RemoteRun] = {}

    def snapshot(self):
        self._last = sweep_snapshot(self.backend, self.id, self._last)
        return self._last

    @property
    def alive(self) -> bool:
        return self.snapshot().state == "running"

    def stop(self, wait: float | None = None) -> None:
        try:
            h = self.backend._handle(SWEEP_PREFIX + self.id)
            if h is not None:
                h.stop.remote()
        except Exception:  # noqa: BLE001 - the next snapshot says what is wrong
            return
        if wait is not None:
            self.join(wait)

    def join(self, timeout: float | None = None) -> bool:
        try:
            h = self.backend._handle(SWEEP_PREFIX + self.id)
            return h is None or bool(self.backend._get(h.wait.remote(timeout),
                                                       None if timeout is None else timeout + self.backend.timeout))
        except Exception:  # noqa: BLE001
            return True

    def run(self, i: int) -> RemoteRun | None:
        run_id = self._last.cells[i]["run_id"]
        if run_id is None:
            return None
        if run_id not in self._runs:
            run = self.backend.attach(run_id)
            if run is None:
                return None
            self._runs[run_id] = run
        return self._runs[run_id]


__all__ = ["RemoteRun", "RemoteSweep", "sweep_snapshot"]
