"""`python -m cnn_core.training.cli`: a tiny run prints its epochs and saves a checkpoint the app loads."""
import subprocess
import sys
from pathlib import Path

import pytest

from cnn_core.models import checkpoints
from cnn_core.training.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_a_tiny_run_prints_per_epoch_metrics_and_saves(tmp_path, capsys, engine):
    out = tmp_path / "m.safetensors"
    rc = main(["--preset", "seed-000", "--engine", engine, "--epochs", "2", "--lr", "0.05", "--optimizer", "sgd",
               "--batch-size", "50", "--limit", "300", "--dataset", "bundled", "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    assert "300 train / 380 validation / 380 test images, 13,610 parameters" in text
    assert "epoch   1/2  train loss" in text and "epoch   2/2" in text and "val acc" in text
    assert "test accuracy" in text and f"saved {out}" in text
    bundle = checkpoints.load(out)
    assert bundle.meta["engine"] == engine and bundle.spec["name"] == "seed-000"


def test_the_builder_options_and_a_module_run(tmp_path):
    out = tmp_path / "c.safetensors"
    proc = subprocess.run([sys.executable, "-m", "cnn_core.training.cli", "--preset", "custom", "--blocks", "1",
                           "--kernels", "4", "--dense", "16", "--epochs", "1", "--max-steps", "3", "--optimizer", "adam",
                           "--lr", "0.001", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "epoch   1/1" in proc.stdout
    spec = checkpoints.load(out).spec
    assert [l["type"] for l in spec["layers"]][:3] == ["conv2d", "relu", "maxpool2d"]


def test_divergence_is_explained_and_nothing_is_saved(tmp_path, capsys):
    out = tmp_path / "d.safetensors"
    rc = main(["--epochs", "1", "--lr", "1e6", "--limit", "300", "--out", str(out)])
    cap = capsys.readouterr()
    assert rc == 1 and "Training diverged" in cap.out and "No model saved." in cap.err
    assert not out.exists()


def test_bad_options_give_one_line_errors(tmp_path, capsys):
    assert main(["--dataset", "zip", "--out", str(tmp_path / "x")]) == 2
    assert "Choose a .zip file" in capsys.readouterr().err
    assert main(["--split", "0.5,0.6,0.1", "--out", str(tmp_path / "x")]) == 2
    assert "Split fractions" in capsys.readouterr().err
