"""The public API of the default model, and how well it really reads digits (held-out and drawn)."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch

from cnn_core.models import checkpoints
from cnn_core.data import datasets as data
from cnn_core.data import splits
from cnn_core.inference import predict
from cnn_core.models import pretrained
from cnn_core.models import specs
from cnn_core.inference.preprocess import canvas_to_mnist
from cnn_core.data.synthetic import draw_digit

SPEC_JSON = pretrained.DEFAULT_WEIGHTS.with_name("default_model.json")


@pytest.fixture(scope="module")
def model():
    return pretrained.load_default()


@pytest.fixture(scope="module")
def held_out():
    parts = splits.doc000_split(data.load_bundled())
    return np.concatenate([parts.val.floats(), parts.test.floats()]), np.concatenate([parts.val.labels,
                                                                                      parts.test.labels])


def _predict(model, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(x)).argmax(1).numpy()


def test_load_default_is_an_eval_mode_module_taking_n_1_28_28_and_returning_logits(model):
    assert isinstance(model, torch.nn.Module) and not model.training
    assert not any(m.training for m in model.modules())
    x = torch.rand(5, 1, 28, 28, dtype=torch.float32)
    with torch.no_grad():
        out = model(x)
    assert out.shape == (5, 10) and out.dtype == torch.float32 and torch.isfinite(out).all()
    # eval mode: the same input gives the same logits (no dropout), batch or one by one
    with torch.no_grad():
        assert torch.allclose(model(x[2:3]), out[2:3], atol=1e-5)


def test_each_call_returns_an_independent_copy():
    a, b = pretrained.load_default(), pretrained.load_default()
    with torch.no_grad():
        next(a.parameters()).zero_()
    assert next(b.parameters()).abs().sum() > 0
    assert next(pretrained.load_default_bundle().model.parameters()).abs().sum() > 0


def test_reported_held_out_accuracy_is_what_the_model_really_scores(model, held_out):
    x, y = held_out
    acc = float((_predict(model, x) == y).mean())
    meta = pretrained.load_default_bundle().meta
    assert len(y) == 760
    assert acc == pytest.approx(meta["accuracy"], abs=1e-4)
    assert acc >= 0.985
    facts = json.loads(SPEC_JSON.read_text())
    assert facts["held_out_accuracy"]["correct"] == int(round(acc * len(y)))
    assert "never saw" in meta["accuracy_note"]


def test_json_spec_describes_the_shipped_weights():
    facts = json.loads(SPEC_JSON.read_text())
    assert facts["sha256"] == hashlib.sha256(pretrained.DEFAULT_WEIGHTS.read_bytes()).hexdigest()
    bundle = pretrained.load_default_bundle()
    assert facts["architecture"]["spec"] == bundle.spec
    assert facts["architecture"]["parameters"] == specs.count_params(bundle.spec) == sum(
        p.numel() for p in bundle.model.parameters())
    assert facts["training_data"]["used_for_training"] == 4240
    assert bundle.meta["engine"] == "torch" and bundle.meta["class_names"] == data.DIGIT_CLASSES
    assert facts["created"] == bundle.meta["created"]
    checkpoints.from_bytes(pretrained.DEFAULT_WEIGHTS.read_bytes())   # loads through the safe path


@pytest.mark.parametrize("pen", [8, 20, 40])
def test_drawn_digits_are_read(model, pen):
    x = np.stack([canvas_to_mnist(draw_digit(d, pen=pen, box=(0.12, 0.08, 0.88, 0.92))) for d in range(10)])
    assert _predict(model, x[:, None]).tolist() == list(range(10))


def test_tiny_digits_in_a_corner_and_ink_on_paper_are_read(model):
    tiny = [canvas_to_mnist(draw_digit(d, pen=5, box=(0.72, 0.7, 0.97, 0.97))) for d in range(10)]
    paper = [canvas_to_mnist(draw_digit(d, pen=14, ink=(25, 25, 70), background=(238, 234, 222)))
             for d in range(10)]
    assert _predict(model, np.stack(tiny)[:, None]).tolist() == list(range(10))
    assert _predict(model, np.stack(paper)[:, None]).tolist() == list(range(10))


def test_predict_canvas_gives_probabilities_that_sum_to_one(model):
    steps, pred = predict.predict_canvas(model, draw_digit(6))
    assert steps.image.shape == (28, 28)
    assert pred.probs.shape == (10,) and pred.probs.sum() == pytest.approx(1.0) and pred.label == 6
    assert pred.probs == pytest.approx(predict.softmax(pred.logits))
    assert pred.preprocess_seconds > 0 and pred.model_seconds > 0
