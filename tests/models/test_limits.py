"""Caps (cnn_core/limits.py): every way in to a spec is refused with one sentence before anything is
allocated. The refusals run in a child process whose address space is capped at 1.5 GB above its
baseline, so an allocation of the sizes these specs ask for would fail the test instead of passing."""
from __future__ import annotations

import re

import pytest

from cnn_core import limits
from cnn_core.models import checkpoints, specs
from tests.limited import run_limited

# Every entry point a spec comes through; each body line stores the refusal message (or "ACCEPTED").
CASES = """
from cnn_core.models import specs
from cnn_core.models.summary import summarize
from cnn_core.numpy_nn.from_spec import build_numpy
from cnn_core.training import cli, sweep
from cnn_core.training.run import ConfigError, TrainConfig

dense_bomb = {"input_shape": [1, 28, 28], "num_classes": 10, "layers": [
    {"type": "flatten"}, {"type": "dense", "out_features": 4_000_000}, {"type": "dense", "out_features": 10}]}
huge_input = {"input_shape": [1, 50_000, 50_000], "num_classes": 10, "layers": [
    {"type": "conv2d", "out_channels": 8, "kernel_size": 3}, {"type": "flatten"}, {"type": "dense", "out_features": 10}]}
wide = {"input_shape": [1, 512, 512], "num_classes": 10, "layers": [
    {"type": "conv2d", "out_channels": 256, "kernel_size": 3, "padding": 1}, {"type": "maxpool2d", "kernel_size": 64},
    {"type": "flatten"}, {"type": "dense", "out_features": 10}]}
import types
data = types.SimpleNamespace(input_shape=(1, 28, 28), num_classes=10)
many = {"input_shape": [1, 28, 28], "num_classes": 10, "layers": [{"type": "relu"}] * 5000}
channels = dict(specs.preset("seed-000"), input_shape=[64, 28, 28])

def refusal(fn):
    try:
        fn()
    except (ValueError, specs.SpecError, ConfigError) as exc:
        return str(exc)
    return "ACCEPTED"

def cli_refusal(argv):
    import contextlib, io
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = cli.main(argv)
    return err.getvalue().strip() if rc == 2 else f"ACCEPTED rc={rc}"

out = {
    "validate: dense 4,000,000": refusal(lambda: specs.validate(dense_bomb)),
    "build_torch: dense 4,000,000": refusal(lambda: specs.build_torch(dense_bomb)),
    "build_numpy: dense 4,000,000": refusal(lambda: build_numpy(dense_bomb)),
    "summarize: dense 4,000,000": refusal(lambda: summarize(dense_bomb)),
    "build_torch: 50,000 x 50,000": refusal(lambda: specs.build_torch(huge_input)),
    "build_torch: activations": refusal(lambda: specs.build_torch(wide)),
    "validate: 5,000 layers": refusal(lambda: specs.validate(many)),
    "validate: 64 channels": refusal(lambda: specs.validate(channels)),
    "builder: 512 kernels + dense 4096": refusal(lambda: specs.validate(specs.build_spec(
        blocks=1, kernels=512, pooling=None, dense_width=4096))),
    "TrainConfig: batch 8192 of seed-002": refusal(lambda: TrainConfig(
        spec=specs.preset("seed-002"), batch_size=8192).validate()),
    "Sweep: 6 x 6 grid": refusal(lambda: sweep.Sweep(TrainConfig(spec=specs.preset("seed-000")),
        {"kernels": [1, 2, 3, 4, 5, 6], "lr": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}, None, None)),
    "Sweep: a cell beyond the parameter cap": refusal(lambda: sweep.Sweep(
        TrainConfig(spec=specs.build_spec(blocks=1, kernels=8, pooling=None, dense_width=64)),
        {"dense_width": [8, 4096], "kernels": [16]}, data, data)),
    "CLI: custom builder": cli_refusal(["--preset", "custom", "--blocks", "1", "--kernels", "512", "--pooling", "none",
                                        "--dense", "4096", "--epochs", "1"]),
}
print(json.dumps(out))
"""

OVER = r"\((\d[\d,.]*)× over\)"
EXPECTED = {
    "validate: dense 4,000,000": r"3\.2 billion parameters, 3\.1 billion of them in layer 2 \(Dense\(4000000\)\); "
                                 r"the cap is 25 million \(127× over\)\.$",
    "build_torch: dense 4,000,000": r"3\.2 billion parameters.*the cap is 25 million",
    "build_numpy: dense 4,000,000": r"3\.2 billion parameters.*the cap is 25 million",
    "summarize: dense 4,000,000": r"3\.2 billion parameters.*the cap is 25 million",
    "build_torch: 50,000 x 50,000": r"^The input is 50,000 × 50,000 pixels; the cap is 512 pixels a side \(98× over\)\.$",
    "build_torch: activations": r"^This network's layer outputs take 257 MB for one image; the cap is 32 MB \(8\.0× over\)\.$",
    "validate: 5,000 layers": r"^This network has 5,000 layers; the cap is 200 layers \(25× over\)\.$",
    "validate: 64 channels": r"^The input has 64 channels; the cap is 4 channels \(16× over\)\.$",
    "builder: 512 kernels + dense 4096": r"1\.6 billion parameters.*the cap is 25 million \(66× over\)",
    "TrainConfig: batch 8192 of seed-002": r"^A batch of 8,192 images takes 4\.1 GB of layer outputs; the cap is 2 GB "
                                           r"\(2\.1× over\)\. Use a smaller batch\.$",
    "Sweep: 6 x 6 grid": r"^This grid has 36 runs; the cap is 25 runs \(1\.44× over\)\.$",
    "Sweep: a cell beyond the parameter cap": r"^Grid cell \{'dense_width': 4096, 'kernels': 16\}: .*parameters.*"
                                              r"the cap is 25 million",
    "CLI: custom builder": r"^error: .*1\.6 billion parameters.*the cap is 25 million",
}


@pytest.fixture(scope="module")
def refusals():
    return run_limited(CASES)


@pytest.mark.parametrize("case", list(EXPECTED))
def test_each_cap_is_refused_before_allocation_with_one_sentence(refusals, case):
    message = refusals[case]
    assert message != "ACCEPTED" and not message.startswith("ACCEPTED"), case
    assert re.search(EXPECTED[case], message), message
    assert "Error" not in message and "Traceback" not in message
    assert re.search(OVER, message), f"no 'N× over' in {message!r}"


def test_the_memory_limit_of_these_tests_is_real():
    """The same child fails when it really allocates what the dense bomb asks for: the limit bites."""
    out = run_limited("""
        try:
            torch.nn.Linear(784, 4_000_000)
            print(json.dumps("allocated"))
        except (MemoryError, RuntimeError) as exc:
            print(json.dumps(type(exc).__name__))
    """)
    assert out in ("MemoryError", "RuntimeError")


def test_a_teacher_can_raise_or_lower_the_caps_by_environment_variable():
    body = """
        from cnn_core import limits
        from cnn_core.models import specs
        dense_bomb = {"input_shape": [1, 28, 28], "num_classes": 10, "layers": [
            {"type": "flatten"}, {"type": "dense", "out_features": 4_000_000}, {"type": "dense", "out_features": 10}]}
        try:
            specs.validate(dense_bomb)       # arithmetic only: nothing is built
            bomb = "accepted"
        except specs.SpecError as exc:
            bomb = str(exc)
        try:
            specs.validate(specs.preset("seed-000"))
            small = "accepted"
        except specs.SpecError as exc:
            small = str(exc)
        print(json.dumps([limits.MAX_PARAMS, bomb, small]))
    """
    raised = run_limited(body, env={"CNN_EXPLORER_MAX_PARAMS": "5e9"})
    assert raised == [5_000_000_000, "accepted", "accepted"]
    lowered = run_limited(body, env={"CNN_EXPLORER_MAX_PARAMS": "10000"})
    assert lowered[0] == 10_000 and lowered[2] == ("This network has 13,610 parameters, 13,530 of them in layer 5 "
                                                   "(Dense(10)); the cap is 10,000 (1.36× over).")
    ignored = run_limited(body, env={"CNN_EXPLORER_MAX_PARAMS": "lots"})
    assert ignored[0] == 25_000_000


def test_the_presets_and_the_default_builder_are_well_inside_every_cap():
    for name in specs.PRESETS:
        spec = specs.preset(name)
        assert specs.count_params(spec) < limits.MAX_PARAMS / 50
        assert specs.activation_bytes(specs.layer_infos(spec)) < limits.MAX_ACTIVATION_MB * 2 ** 20 / 50
        specs.check_batch(spec, 512)       # the Train page's largest batch


def test_state_shapes_match_the_built_model_without_building_it():
    for name in specs.PRESETS:
        spec = specs.preset(name)
        built = {k: tuple(v.shape) for k, v in specs.build_torch(spec).state_dict().items()}
        assert specs.state_shapes(spec) == built


@pytest.mark.parametrize("spec, expected", [
    ([1, 2], "must be a JSON object"),
    ({"input_shape": [1, "x", 28], "layers": []}, "three whole numbers"),
    ({"input_shape": [1, 28, 28], "layers": {"a": 1}}, "must be a list"),
    ({"input_shape": [1, 28, 28], "layers": [[1]]}, r'Layer 1 must be an object such as \{"type": "relu"\}'),
    ({"input_shape": [1, 28, 28], "layers": [{"type": "conv2d", "kernel_size": 3}]}, "missing its 'out_channels'"),
    ({"input_shape": [1, 28, 28], "layers": [{"type": "flatten"}, {"type": "dense", "out_features": None}]},
     "Layer 2 \\(dense\\) has a setting that is not a usable number"),
    ({"input_shape": [1, 28, 28], "layers": [{"type": "flatten"}, {"type": "dense", "out_features": 10}],
      "num_classes": "ten"}, "num_classes must be a whole number"),
])
def test_malformed_json_specs_give_a_sentence_not_a_python_error(spec, expected):
    with pytest.raises(specs.SpecError, match=expected):
        specs.validate(spec)


def test_the_checkpoint_file_and_header_caps(monkeypatch):
    monkeypatch.setattr(limits, "MAX_CHECKPOINT_MB", 1)
    with pytest.raises(checkpoints.CheckpointError, match=r"^The file is 2\.0 MB; the cap for checkpoints is 1 MB "
                                                          r"\(2\.0× over\)\.$"):
        checkpoints.from_bytes(b"\0" * (2 * 2 ** 20 + 10))
    monkeypatch.setattr(limits, "MAX_CHECKPOINT_HEADER_KB", 1)
    head = b'{"__metadata__": {"spec": "' + b" " * 4000 + b'"}}'
    with pytest.raises(checkpoints.CheckpointError, match=r"description \(JSON header\) is 3\.9 KB; the cap is 1 KB"):
        checkpoints.from_bytes(len(head).to_bytes(8, "little") + head)


@pytest.mark.parametrize("value, cap, text", [(3.2e9, 25e6, "(128× over)"), (13_610, 10_000, "(1.36× over)"),
                                              (50_000, 512, "(98× over)"), (36, 25, "(1.44× over)")])
def test_over_says_how_far_beyond_the_cap(value, cap, text):
    assert limits.over(value, cap) == text


def test_counts_and_sizes_read_as_words():
    assert limits.fmt_count(16.0e9) == "16 billion"
    assert limits.fmt_count(3_136_000_000) == "3.1 billion"
    assert limits.fmt_count(25_000_000) == "25 million"
    assert limits.fmt_count(950_000) == "950,000"
    assert limits.fmt_bytes(32 * 2 ** 20) == "32 MB" and limits.fmt_bytes(2 ** 31) == "2 GB"
