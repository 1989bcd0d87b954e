"""Training: the run configuration (``config``), both engines behind one protocol (``engines``:
PyTorch and the from-scratch NumPy one), the plain training loop (``loop.fit``, a generator of
step and epoch events, with divergence and early-stopping rules), the run that executes it and
publishes snapshots (``run``), the registry of runs with its queue cap (``registry``),
hyper-parameter sweeps (``sweep``) and the command line (``cli``, ``python -m cnn_core.training``).
"""
from cnn_core.training.config import (DEFAULT_BUILDER, DEFAULT_TRAINING, ENGINES, OPTIMIZERS, SAFE_LR, ConfigError,
                                      TrainConfig, default_config)
from cnn_core.training.engines import Engine, NumpyEngine, TorchEngine, make_engine
from cnn_core.training.loop import Diverged, DivergenceCheck, Done, EarlyStopping, Epoch, Extra, Step, evaluate, fit
from cnn_core.training.registry import RunRegistry, registry
from cnn_core.training.run import TrainingRun
from cnn_core.training.snapshot import ENDED, STATES, RunSnapshot, smooth

__all__ = ["DEFAULT_BUILDER", "DEFAULT_TRAINING", "ENGINES", "OPTIMIZERS", "SAFE_LR", "ConfigError", "TrainConfig",
           "default_config", "Engine", "NumpyEngine", "TorchEngine", "make_engine", "Diverged", "DivergenceCheck",
           "Done", "EarlyStopping", "Epoch", "Extra", "Step", "evaluate", "fit", "RunRegistry", "registry",
           "TrainingRun", "ENDED", "STATES", "RunSnapshot", "smooth"]
