"""Imported once by the training workers' fork server (never by the web server): one BLAS / OpenMP
thread for every worker forked from it, then torch imported and warmed up once for all of them
(the first optimiser pulls in torch._dynamo, seconds of CPU that every worker would pay again).
Each worker sets its thread count and priority again (workers._settle), so this only saves time."""
import os

_threads = os.environ.get("CNN_EXPLORER_WORKER_THREADS", "1")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _threads

import numpy  # noqa: E402,F401
import torch  # noqa: E402

import cnn_core.numpy_nn  # noqa: E402,F401
import cnn_core.training.workers  # noqa: E402,F401


def _warm_up() -> None:
    """One step of a tiny CNN with each optimiser: lazy imports and kernel set-up happen here, once.
    Single-threaded, so no OpenMP pool exists when the workers are forked."""
    torch.set_num_threads(1)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 4, 2))
    x, y = torch.zeros(2, 1, 8, 8), torch.zeros(2, dtype=torch.long)
    for opt in (torch.optim.Adam(model.parameters(), lr=1e-3), torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


_warm_up()
