"""The NumPy engine trains document 000's network to ≥ 95 % held-out accuracy in ≤ 5 epochs on
the bundled 5,000 digits (document 000 reports 87–89 % after 20 epochs)."""
import math

import numpy as np
import pytest

from cnn_core.data.datasets import load_bundled
from cnn_core.data.splits import doc000_split
from cnn_core.numpy_nn import SGD, build_numpy
from cnn_core.models.specs import preset

EPOCHS, BATCH, LR = 5, 8, 0.02


@pytest.mark.slow
def test_seed_000_reaches_95_percent_in_5_epochs():
    parts = doc000_split(load_bundled())                   # 0.85 / 0.075 / 0.075, seed 42, like document 000
    x, y = parts.train.floats(), parts.train.labels
    held_x = np.concatenate([parts.val.floats(), parts.test.floats()])
    held_y = np.concatenate([parts.val.labels, parts.test.labels])   # 760 digits never trained on
    model = build_numpy(preset("seed-000"), seed=0)
    opt = SGD(model, LR, momentum=0.9)
    rng = np.random.default_rng(0)
    steps, step = EPOCHS * math.ceil(len(x) / BATCH), 0
    accuracy = []
    for _ in range(EPOCHS):
        order = rng.permutation(len(x))
        for i in range(0, len(x), BATCH):
            opt.lr = LR * 0.5 * (1 + math.cos(math.pi * step / steps))      # cosine decay to 0
            step += 1
            batch = order[i:i + BATCH]
            model.train_step(x[batch], y[batch], "cross_entropy", opt)
        accuracy.append(float((model.predict(held_x).argmax(axis=1) == held_y).mean()))
    assert max(accuracy) >= 0.95 and accuracy[-1] >= 0.95, accuracy
