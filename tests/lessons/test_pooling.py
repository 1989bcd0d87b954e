"""Pooling of one map against the notes' 5×5 example and torch (ties go to the first cell)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_core.lessons import pooling, presets


def test_notes_pooling_example_3x3_stride_1():
    res = pooling.pool2d(presets.POOLING_5X5, "max", 3, 1)
    assert res.output.tolist() == [[3, 3, 3], [3, 3, 3], [3, 2, 3]]
    avg = pooling.pool2d(presets.POOLING_5X5, "avg", 3, 1)
    assert avg.output[0, 0] == pytest.approx(15 / 9)
    assert avg.written(0, 0) == "avg(3, 3, 2, 0, 0, 1, 3, 1, 2) = 15/9 = 1.667"
    assert res.written(2, 1) == "max(1, 2, 2, 0, 0, 2, 0, 0, 0) = 2"


def test_notes_pooling_stride_2_max_and_average():
    mx = pooling.pool2d(presets.POOLING_5X5, "max", 3, 2)
    av = pooling.pool2d(presets.POOLING_5X5, "avg", 3, 2)
    t = torch.as_tensor(presets.POOLING_5X5)[None, None]
    np.testing.assert_allclose(mx.output, F.max_pool2d(t, 3, 2)[0, 0].numpy())
    np.testing.assert_allclose(av.output, F.avg_pool2d(t, 3, 2)[0, 0].numpy())
    assert mx.output.tolist() == [[3, 3], [3, 3]]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("k,s", [(2, 2), (3, 1), (3, 2), (2, 1)])
def test_pool_winners_and_gradient_routing_match_torch(kind, k, s):
    # the notes' map has ties (two 3s in a window): torch routes to the first, so must we
    x = torch.tensor(presets.POOLING_5X5, dtype=torch.float64, requires_grad=True)
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    out = pool(x[None, None], k, s)[0, 0]
    g = torch.arange(1.0, out.numel() + 1, dtype=torch.float64).reshape(out.shape)
    out.backward(g)
    res = pooling.pool2d(presets.POOLING_5X5, kind, k, s)
    np.testing.assert_allclose(res.output, out.detach().numpy())
    np.testing.assert_allclose(res.route_gradient(g.numpy()), x.grad.numpy())
    if kind == "max":
        for (i, j), (r, c) in zip(np.ndindex(res.output.shape), res.winners.reshape(-1, 2)):
            assert presets.POOLING_5X5[r, c] == res.output[i, j]


def test_max_pool_gradient_goes_to_winners_only():
    res = pooling.pool2d(presets.POOLING_5X5, "max", 3, 1)
    grad = res.route_gradient()
    assert grad.sum() == 9  # nine windows, each passes its 1 to one cell
    assert (grad > 0).sum() == len({tuple(w) for w in res.winners.reshape(-1, 2)})
    assert "only to its winning cell" in res.routing_note()


@pytest.mark.parametrize("shape,k,s,note", [
    ((6, 6), 2, 2, ""),
    ((5, 5), 2, 2, "Row 5 and column 5 are in no window (the floor in the output-size formula drops the last ones)"),
    ((5, 6), 2, 2, "Row 5 is in no window (the floor"),
    ((8, 8), 2, 3, "Rows 3, 6 and columns 3, 6 are in no window (a stride of 3 jumps over cells"),
])
def test_pooling_says_which_cells_no_window_covers(shape, k, s, note):
    x = np.arange(np.prod(shape), dtype=float).reshape(shape)
    res = pooling.pool2d(x, "max", k, s)
    assert res.uncovered_note().startswith(note) if note else res.uncovered_note() == ""
    # the cells named are exactly those whose gradient is always 0 under max and average pooling alike
    grad = pooling.pool2d(x, "avg", k, s).route_gradient()
    assert bool(note) == bool((grad == 0).any())
