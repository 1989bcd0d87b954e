"""Softmax, cross-entropy and one-hot vectors against the notes (document 001) and torch."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_core.lessons import geometry, softmax as sm
from cnn_core.lessons.formatting import fmt


def test_notes_softmax_example():
    p = sm.softmax(sm.NOTES_SOFTMAX_LOGITS)
    assert np.round(p, 3).tolist() == [0.775, 0.116, 0.039, 0.070]
    assert p.sum() == pytest.approx(1.0)
    assert sm.softmax_written(sm.NOTES_SOFTMAX_LOGITS, 0) == \
        "e^3.2 / (e^3.2 + e^1.3 + e^0.2 + e^0.8) = 24.53 / 31.65 = 0.775"
    np.testing.assert_allclose(p, torch.softmax(torch.tensor(sm.NOTES_SOFTMAX_LOGITS, dtype=torch.float64), 0))


def test_notes_small_softmax_is_about_07_02_01():
    assert np.round(sm.softmax(sm.NOTES_SOFTMAX_SMALL), 1).tolist() == [0.7, 0.2, 0.1]


def test_softmax_is_stable_for_large_logits():
    p = sm.softmax([1000.0, 1000.0, -1000.0])
    assert p.tolist() == [0.5, 0.5, 0.0]


def test_softmax_written_shifts_large_logits_instead_of_overflowing():
    assert sm.softmax_written([1000.0, -1000.0], 1) == \
        "e^(−1000 − 1000) / (e^(1000 − 1000) + e^(−1000 − 1000)) = 0 / 1 = 0.000"
    # e^30 would print as a 14-digit number: shifted too, and the value is the same softmax
    line = sm.softmax_written([30.0, 29.0], 0)
    assert line.startswith("e^(30 − 30) / (e^(30 − 30) + e^(29 − 30)) = 1 / 1.368") and line.endswith("= 0.731")
    assert sm.softmax_written([-1000.0, -1001.0], 0).startswith("e^(−1000 + 1000)")


@pytest.mark.parametrize("z,t", [([3.2, 1.3, 0.2, 0.8], 2), ([1000.0, -1000.0], 1), ([20.0, -0.5, 3.0], 1)])
def test_cross_entropy_from_logits_matches_torch_where_p_underflows(z, t):
    want = float(F.cross_entropy(torch.tensor([z], dtype=torch.float64), torch.tensor([t])))
    assert sm.cross_entropy_logits(z, t) == pytest.approx(want, rel=1e-12)
    bits, nats = sm.cross_entropy_logits_written(z, t)
    assert f"= {fmt(want)} nats" in nats
    assert bits.split(" = ")[-1] == f"{fmt(want / math.log(2))} bits"


def test_cross_entropy_written_from_logits_explains_a_zero_probability():
    bits, nats = sm.cross_entropy_logits_written([1000.0, -1000.0], 1)
    assert nats.startswith("−ln p = ln Σ e^z − z_true = 1000 − (−1000) = 2000 nats")
    assert "rounds to 0" in nats and bits.endswith("= 2885.39 bits")
    assert sm.cross_entropy_logits_written([3.2, 1.3, 0.2, 0.8], 0) == ("−log2(0.7751) = 0.367 bits",
                                                                       "−ln(0.7751) = 0.255 nats")


def test_notes_cross_entropy_bits_and_nats():
    probs = sm.NOTES_FIVE_PROBS
    assert round(sm.cross_entropy(probs, 0, 2), 3) == 3.322
    assert round(sm.cross_entropy(probs, 0), 3) == 2.303
    assert sm.cross_entropy_written(probs, 0) == ("−log2(0.1) = 3.322 bits", "−ln(0.1) = 2.303 nats")
    nats = torch.nn.functional.nll_loss(torch.log(torch.tensor([probs], dtype=torch.float64)), torch.tensor([0]))
    assert sm.cross_entropy(probs, 0) == pytest.approx(float(nats))


def test_notes_five_class_table_and_erratum():
    rows = sm.five_class_table()
    assert [round(r.bits, 3) for r in rows] == [3.322, 0.943, 1.737, 3.644, 1.889]
    assert [r.agrees for r in rows] == [True, True, False, True, True]  # the notes' 1.685 is a slip
    assert round(sm.five_class_mean(), 3) == 2.307
    assert round(sum(sm.NOTES_FIVE_BITS) / 5, 4) == sm.NOTES_FIVE_MEAN  # the notes' own mean from its slip


def test_one_hot_validity_of_the_notes_vectors():
    assert sm.one_hot_check([0, 0, 0, 1, 0]) == (True, "Valid: exactly one 1, at position 4 (index 3).")
    ok, why = sm.one_hot_check([0, 1, 0, 1, 0])
    assert not ok and "2 ones" in why
    ok, why = sm.one_hot_check([1, 1, 1, 1, 1])
    assert not ok and "5 ones" in why
    assert not sm.one_hot_check([0, 0.5, 0.5])[0]
    assert sm.one_hot(3, 5).tolist() == [0, 0, 0, 1, 0]


def test_softmax_cross_entropy_gradient_is_p_minus_y_like_torch():
    z = torch.tensor(sm.NOTES_SOFTMAX_LOGITS, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.cross_entropy(z[None], torch.tensor([2])).backward()
    g = sm.softmax_ce_gradient(sm.softmax(sm.NOTES_SOFTMAX_LOGITS), 2)
    np.testing.assert_allclose(g, z.grad.numpy(), atol=1e-12)
    assert g.sum() == pytest.approx(0.0, abs=1e-12)


def test_zero_probability_has_infinite_loss_message():
    with pytest.raises(geometry.LessonError, match="infinite"):
        sm.cross_entropy([1.0, 0.0], 1)


def test_softmax_written_keeps_three_decimals_like_the_notes():
    assert sm.softmax_written(sm.NOTES_SOFTMAX_LOGITS, 3).endswith("= 2.23 / 31.65 = 0.070")


def test_the_library_has_one_softmax():
    from cnn_core.inference import predict
    from cnn_core.numpy_nn import losses

    assert predict.softmax is losses.softmax
    z = np.random.default_rng(0).normal(size=(3, 5)) * 50
    np.testing.assert_allclose(losses.softmax(z), torch.softmax(torch.from_numpy(z), 1).numpy(), rtol=1e-12)
    np.testing.assert_array_equal(sm.softmax(z[1]), losses.softmax(z)[1])
    assert losses.softmax(z.astype(np.float32)).dtype == np.float32   # training keeps its dtype
