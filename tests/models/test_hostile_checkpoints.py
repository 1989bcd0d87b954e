"""Hostile and broken checkpoints (the set of benchmarks/caps.py): each is refused with a
CheckpointError sentence, quickly, without running code and without allocating. They are loaded in
a child process capped at 1.5 GB of address space above its baseline (tests/limited.py)."""
from __future__ import annotations

import json
import re

import pytest

from benchmarks.caps import hostile_checkpoints
from tests.limited import run_limited

NOT_READ = r"^This is not a CNN Explorer checkpoint: it could not be read as a \.safetensors file"
PICKLE = (r"^This is not a CNN Explorer checkpoint but looks like a PyTorch \.pt/\.pth file \(a zip or pickle\), "
          r"which can run code when opened, so the app never opens it\.")
EXPECTED = {
    "dense 4,000,000 units (spec only)": r"^The checkpoint's architecture is invalid: This network has 3\.2 billion "
                                         r"parameters.*the cap is 25 million \(127× over\)\.$",
    "50,000 × 50,000 input": r"^The checkpoint's architecture is invalid: The input is 50,000 × 50,000 pixels; "
                             r"the cap is 512 pixels a side \(98× over\)\.$",
    "256 × 512 × 512 activations": r"layer outputs take 257 MB for one image; the cap is 32 MB \(8\.0× over\)",
    "30,000 layers": r"This network has 30,000 layers; the cap is 200 layers \(150× over\)",
    "JSON nested 200,000 deep": r"^The checkpoint's architecture description is damaged",
    "Infinity in input_shape": r"input_shape must be three whole numbers",
    "header declares a 12 GB tensor": r"^The weights do not match the spec: 0\.weight has shape \(4000000, 784\), "
                                      r"the spec needs \(8, 1, 3, 3\)\.$",
    "truncated in the header": NOT_READ,
    "truncated in the weights": NOT_READ,
    "header bytes flipped": NOT_READ,
    "int32 weights": r"^The weights have the wrong type: 0\.weight is stored as I32, the app needs floating-point",
    "wrong weight shape": r"0\.weight has shape \(16, 1, 3, 3\), the spec needs \(8, 1, 3, 3\)",
    "torch.save zip with a pickle payload": PICKLE,
    "legacy torch pickle payload": PICKLE,
    "bare pickle payload": PICKLE,
}


@pytest.fixture(scope="module")
def marker(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile") / "pwned"


@pytest.fixture(scope="module")
def results(marker, tmp_path_factory):
    files = hostile_checkpoints(marker)
    assert set(files) == set(EXPECTED), "the benchmark's set and this test's expectations differ"
    folder = tmp_path_factory.mktemp("files")
    index = {}
    for i, (name, blob) in enumerate(files.items()):
        (folder / f"{i}.bin").write_bytes(blob)
        index[name] = str(folder / f"{i}.bin")
    return run_limited(f"""
        from pathlib import Path
        from cnn_core.models import checkpoints
        out = {{}}
        for name, path in json.loads({json.dumps(json.dumps(index))}).items():
            blob = Path(path).read_bytes()
            rss0 = _status("VmRSS")
            t0 = time.perf_counter()
            try:
                checkpoints.from_bytes(blob)
                message = "LOADED"
            except checkpoints.CheckpointError as exc:
                message = str(exc)
            out[name] = {{"message": message, "seconds": time.perf_counter() - t0,
                         "rss_mb": (_status("VmRSS") - rss0) / 2 ** 20}}
        print(json.dumps(out))
    """)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_hostile_checkpoint_is_refused_with_a_sentence_quickly_and_without_memory(results, name):
    r = results[name]
    assert re.search(EXPECTED[name], r["message"]), r["message"]
    assert "Error" not in r["message"] and "Traceback" not in r["message"]
    assert r["seconds"] < 2.0                  # a generous bound; benchmarks/caps.py measures
    assert abs(r["rss_mb"]) < 50


def test_no_pickle_payload_ran(results, marker):
    assert all(results[n]["message"] != "LOADED" for n in EXPECTED)
    assert not marker.exists()


def test_the_pickle_payloads_would_run_if_unpickled(marker, tmp_path):
    """Sanity check of the test: the payload files really carry code."""
    import io
    import pickle

    probe = tmp_path / "probe"
    files = hostile_checkpoints(probe)
    pickle.loads(files["bare pickle payload"])
    assert probe.exists()
    probe.unlink()
    import torch
    torch.load(io.BytesIO(files["legacy torch pickle payload"]), weights_only=False)
    assert probe.exists()
