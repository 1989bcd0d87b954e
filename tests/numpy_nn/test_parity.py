"""Training parity: the same network in both engines, the same initial weights, the same
batches -> the same loss curve and the same final weights (float64, 50 steps)."""
import numpy as np
import pytest
import torch

from cnn_core.data.datasets import load_bundled
from cnn_core.numpy_nn import SGD, Adam, build_numpy, to_torch
from cnn_core.models.specs import preset

STEPS, BATCH = 50, 32


def _batches():
    ds = load_bundled()
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(ds))[:STEPS * BATCH].reshape(STEPS, BATCH)
    return [(ds.floats(i).astype(np.float64), ds.labels[i]) for i in idx]


OPTIMISERS = {
    "sgd-momentum": (lambda m: SGD(m, 0.05, momentum=0.9), lambda p: torch.optim.SGD(p, 0.05, momentum=0.9)),
    "adam": (lambda m: Adam(m, 1e-3), lambda p: torch.optim.Adam(p, 1e-3)),
}


@pytest.mark.parametrize("name", ["seed-000", "seed-004"])
@pytest.mark.parametrize("opt_name", list(OPTIMISERS))
def test_fifty_steps_match_torch(name, opt_name):
    spec = preset(name)
    ours = build_numpy(spec, seed=0, dtype=np.float64)
    theirs = to_torch(ours, spec)
    make_ours, make_theirs = OPTIMISERS[opt_name]
    opt, opt_t = make_ours(ours), make_theirs(theirs.parameters())
    curve, curve_t = [], []
    for x, y in _batches():
        curve.append(ours.train_step(x, y, "cross_entropy", opt))
        opt_t.zero_grad()
        loss_t = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
        loss_t.backward()
        opt_t.step()
        curve_t.append(loss_t.item())
    assert len(curve) == STEPS
    assert max(abs(a - b) for a, b in zip(curve, curve_t)) < 1e-6
    assert np.mean(curve[-10:]) < np.mean(curve[:10])                # it did learn something
    for key, value in theirs.state_dict().items():
        assert np.max(np.abs(ours.state_dict()[key] - value.numpy())) < 1e-6, key
