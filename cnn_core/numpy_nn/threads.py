"""How many BLAS threads the engine's matrix products use (one, by default).

The engine's products are small -- seed-000's largest is (8 × 9) @ (9 × 676) per image -- and
OpenBLAS, NumPy's BLAS, starts one worker thread per core for them. On the project's 2-core
machines, as soon as another process wants a core those workers wait on each other: measured in
one run under load, a seed-000 training step took 46 ms with 2 BLAS threads and 9.8 ms with one,
a seed-002 step 2,956 ms against 334 ms. So ``Sequential`` runs its passes inside
``blas_threads(1)``. The limit is process-wide while it lasts (other threads' NumPy calls run
single-threaded meanwhile) and is lifted afterwards. Without ``threadpoolctl`` it does nothing.
"""
from __future__ import annotations

import contextlib
import threading

_state = threading.local()
_controller = None
_lock = threading.Lock()


def _blas():
    global _controller
    with _lock:
        if _controller is None:
            try:
                from threadpoolctl import ThreadpoolController

                _controller = ThreadpoolController().select(user_api="blas")
            except Exception:                        # not installed, or no BLAS found: leave BLAS alone
                _controller = False
    return _controller


@contextlib.contextmanager
def blas_threads(n: int | None):
    """Limit BLAS to ``n`` threads inside the block (``None``: no limit). Re-entrant."""
    depth = getattr(_state, "depth", 0)
    controller = _blas() if n is not None and depth == 0 else False
    _state.depth = depth + 1
    try:
        if controller:
            with controller.limit(limits=n):
                yield
        else:
            yield
    finally:
        _state.depth = depth
