"""Imported once by the training workers' fork server (never by the web server): one BLAS / OpenMP
thread for every worker forked from it, then torch imported once for all of them. Each worker sets
its thread count and priority again (workers._settle), so this only saves time."""
import os

_threads = os.environ.get("CNN_EXPLORER_WORKER_THREADS", "1")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _threads

import numpy  # noqa: E402,F401
import torch  # noqa: E402,F401

import cnn_core.training.workers  # noqa: E402,F401
