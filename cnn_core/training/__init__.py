"""Training: the run configuration (``config``), both engines behind one protocol (``engines``:
PyTorch and the from-scratch NumPy one), the plain training loop (``loop.fit``, a generator of
step and epoch events, with divergence and early-stopping rules), the run handle the pages hold
(``run.TrainingRun``), the backends that execute runs (``backends``: a thread; ``workers``: a
worker process per run, the server's default), the registry of runs with its queue cap
(``registry``), hyper-parameter sweeps (``sweep``) and the command line (``cli``,
``python -m cnn_core.training``, which iterates ``fit`` itself).

Backends. A backend executes runs and knows them by run id; ``backends.Backend`` is the whole
interface::

    start(job, on_end)          execute a backends.Job (id, name, config, data, engine factory);
                                call on_end(run_id) once it has ended
    snapshot(run_id)            a RunSnapshot, or None if this backend does not know the id
    pause / resume / stop(run_id)
    wait(run_id, timeout)       True once the run has ended
    result(run_id)              the final weights ({state_dict key: numpy array}) or None
    list()                      the run ids it knows
    forget(run_id)              drop an ended run
    shutdown(wait)              stop everything (the server is going away)

``ThreadBackend`` runs in this process; ``workers.ProcessBackend`` forks one niced, one-thread,
memory-capped worker per run and mirrors its events into a ``backends.RunRecord`` (which builds
the snapshots). ``registry.default_backend()`` picks one from the environment:
$CNN_EXPLORER_BACKEND = "process" (default) or "thread". A distributed backend (Ray actors named
by run id, selected by $CNN_EXPLORER_RAY_ADDRESS) implements the same methods, runs
``backends.execute(job, check, emit)`` inside each actor with a ``RunRecord`` there, and is
returned by ``default_backend()``; the registry, the run handle and the pages do not change.
Snapshots carry ``extra`` (a dict, filled by ``loop.Extra`` events) for further payload.
"""
from cnn_core.training.config import (DEFAULT_BUILDER, DEFAULT_TRAINING, ENGINES, OPTIMIZERS, SAFE_LR, ConfigError,
                                      TrainConfig, default_config)
from cnn_core.training.engines import Engine, NumpyEngine, TorchEngine, make_engine
from cnn_core.training.loop import Diverged, DivergenceCheck, Done, EarlyStopping, Epoch, Extra, Step, evaluate, fit
from cnn_core.training.backends import Backend, Job, RunRecord, ThreadBackend
from cnn_core.training.registry import RunRegistry, default_backend, registry
from cnn_core.training.run import TrainingRun
from cnn_core.training.snapshot import ENDED, STATES, RunSnapshot, smooth

__all__ = ["DEFAULT_BUILDER", "DEFAULT_TRAINING", "ENGINES", "OPTIMIZERS", "SAFE_LR", "ConfigError", "TrainConfig",
           "default_config", "Backend", "Job", "RunRecord", "ThreadBackend", "default_backend", "Engine", "NumpyEngine", "TorchEngine", "make_engine", "Diverged", "DivergenceCheck",
           "Done", "EarlyStopping", "Epoch", "Extra", "Step", "evaluate", "fit", "RunRegistry", "registry",
           "TrainingRun", "ENDED", "STATES", "RunSnapshot", "smooth"]
