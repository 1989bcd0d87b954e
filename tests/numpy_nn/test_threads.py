"""The engine runs its passes on one BLAS thread and gives the default back afterwards."""
import numpy as np
import pytest

from cnn_core.numpy_nn import build_numpy
from cnn_core.numpy_nn.threads import blas_threads
from cnn_core.models.specs import preset

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads():
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


def test_limit_inside_and_restored_after_even_when_nested():
    before = _blas_threads()
    with blas_threads(1):
        assert set(_blas_threads()) == {1}
        with blas_threads(1):
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


def test_sequential_passes_run_single_threaded():
    seen = []

    class Spy:
        params, grads, buffers, training = {}, {}, {}, True

        def forward(self, x):
            seen.append(_blas_threads())
            return x

        def train(self, mode=True):
            return self

    model = build_numpy(preset("seed-000"))
    model.layers.insert(0, Spy())
    model.forward(np.zeros((1, 1, 28, 28), np.float32))
    assert seen and set(seen[0]) == {1}
