"""predict: softmax, and the one-thread worker that leaves the rest of the process alone."""
import threading

import numpy as np
import pytest
import torch

from cnn_core.inference import predict
from cnn_core.models import pretrained
from cnn_core.data.synthetic import draw_digit


def test_softmax_matches_the_lecture_example_and_survives_huge_logits():
    np.testing.assert_allclose(predict.softmax([3.2, 1.3, 0.2, 0.8]), [0.775, 0.116, 0.039, 0.070], atol=1e-3)
    p = predict.softmax([1000.0, 0.0])
    assert np.isfinite(p).all() and p[0] == pytest.approx(1.0)


def test_worker_and_caller_threads_give_the_same_answer():
    model = pretrained.load_default()
    _, a = predict.predict_canvas(model, draw_digit(2), single_thread=True)
    _, b = predict.predict_canvas(model, draw_digit(2), single_thread=False)
    np.testing.assert_allclose(a.logits, b.logits, rtol=1e-4, atol=1e-4)
    assert a.label == b.label == 2 and a.top(2)[0] == (2, pytest.approx(a.confidence))


def test_the_worker_uses_one_thread_and_changes_nobody_elses_setting():
    before = torch.get_num_threads()
    predict.predict_image(pretrained.load_default(), np.zeros((28, 28), np.float32))
    assert predict._single_thread_worker().submit(torch.get_num_threads).result() == 1
    assert torch.get_num_threads() == before
    seen = []
    t = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    t.start()
    t.join()
    assert seen == [before], "a thread started later (a training run) must keep the process default"
