"""Checkpoints: a round trip keeps everything; hostile or broken files change nothing and run nothing."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save as st_save

from cnn_core.models import checkpoints
from cnn_core.models import specs
from cnn_core.models.checkpoints import CheckpointError, ModelBundle

MARKER_ENV = "CNN_EXPLORER_TEST_MARKER"


def _bundle(name="seed-000") -> ModelBundle:
    torch.manual_seed(0)
    spec = specs.preset(name)
    model = specs.build_torch(spec).eval()
    return ModelBundle(spec, model, {"name": "t", "engine": "numpy", "accuracy": 0.9, "class_names": list("0123456789")})


def test_round_trip_keeps_weights_spec_meta_and_predictions():
    b = _bundle("seed-002")
    b.model.train()
    with torch.no_grad():                      # non-default batch-norm statistics must survive too
        b.model(torch.rand(16, 1, 28, 28))
    b.model.eval()
    back = checkpoints.from_bytes(checkpoints.to_bytes(b))
    assert back.spec == b.spec and back.meta == b.meta and not back.model.training
    for k, v in b.model.state_dict().items():
        assert torch.equal(back.model.state_dict()[k], v), k
    x = torch.rand(4, 1, 28, 28)
    assert torch.equal(back.model(x), b.model(x))


class _Payload:
    """Unpickling this object creates a marker file: proof that loading ran code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_payload_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    torch.save({"0.weight": torch.zeros(8, 1, 3, 3), "evil": _Payload(marker)}, buf)
    blob = buf.getvalue()
    with pytest.raises(CheckpointError, match="not a CNN Explorer checkpoint"):
        checkpoints.from_bytes(blob)
    assert not marker.exists()
    # The same file through torch's own safe path refuses too (what weights_only=True is for).
    with pytest.raises(Exception):
        torch.load(io.BytesIO(blob), weights_only=True)
    assert not marker.exists()
    # Sanity check of the test itself: an unsafe load WOULD run it.
    torch.load(io.BytesIO(blob), weights_only=False)
    assert marker.exists()


def test_a_pickle_disguised_with_a_safetensors_name_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.safetensors"
    torch.save(_Payload(marker), path)
    with pytest.raises(CheckpointError):
        checkpoints.load(path)
    assert not marker.exists()


def test_weights_that_do_not_fit_the_spec_are_refused():
    b = _bundle()
    state = {k: v.clone() for k, v in b.model.state_dict().items()}
    state["0.weight"] = torch.zeros(16, 1, 3, 3)            # the spec says 8 kernels
    blob = st_save(state, metadata={"spec": json.dumps(b.spec), "meta": "{}"})
    with pytest.raises(CheckpointError, match=r"0.weight has shape \(16, 1, 3, 3\), the spec needs \(8, 1, 3, 3\)"):
        checkpoints.from_bytes(blob)
    del state["0.weight"]
    blob = st_save(state, metadata={"spec": json.dumps(b.spec), "meta": "{}"})
    with pytest.raises(CheckpointError, match="missing"):
        checkpoints.from_bytes(blob)


def test_nan_weights_and_invalid_specs_are_refused():
    b = _bundle()
    state = {k: v.clone() for k, v in b.model.state_dict().items()}
    state["4.bias"][0] = float("nan")
    with pytest.raises(CheckpointError, match="NaN"):
        checkpoints.from_bytes(st_save(state, metadata={"spec": json.dumps(b.spec)}))
    bad = dict(b.spec, layers=[{"type": "conv2d", "out_channels": 8, "kernel_size": 40}, {"type": "flatten"},
                               {"type": "dense", "out_features": 10}])
    with pytest.raises(CheckpointError, match="architecture is invalid"):
        checkpoints.from_bytes(st_save({"x": torch.zeros(1)}, metadata={"spec": json.dumps(bad)}))
    with pytest.raises(CheckpointError, match="no CNN Explorer spec"):
        checkpoints.from_bytes(st_save({"x": torch.zeros(1)}))


@pytest.mark.parametrize("blob", [b"", b"1234567", os.urandom(4096), (10**9).to_bytes(8, "little") + b"{}",
                                  (2).to_bytes(8, "little") + b"{]" + b"\0" * 64])
def test_garbage_bytes_give_a_clear_error(blob):
    with pytest.raises(CheckpointError, match="not a CNN Explorer checkpoint"):
        checkpoints.from_bytes(blob)


def test_a_trained_run_saves_and_loads_with_its_meta(tmp_path):
    from cnn_core.data import datasets as data
    from cnn_core.training import TrainConfig, TrainingRun

    ds = data.load_bundled().subset(np.arange(0, 5000, 25))
    cfg = TrainConfig(spec=specs.build_spec(blocks=1, kernels=4), optimizer="sgd", lr=0.05, batch_size=50, epochs=1)
    run = TrainingRun(cfg, ds, ds.subset(np.arange(20)))
    run.start().join(60)
    path = checkpoints.save(run.bundle(), tmp_path / "m.safetensors")
    back = checkpoints.load(path)
    assert back.meta["run_id"] == run.id and back.meta["engine"] == "torch" and back.meta["epochs"] == 1
    assert back.class_names == [str(i) for i in range(10)]
