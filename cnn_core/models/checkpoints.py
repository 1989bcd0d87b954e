"""Safe save / load of a model with its spec.

A checkpoint is one ``.safetensors`` file: the torch state_dict as tensors, and in the file's
metadata the spec (``"spec"``) and facts about the model (``"meta"``), both JSON. safetensors
cannot carry code, so loading a hostile file can at worst fail with a clear message.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from cnn_core.models.specs import SpecError, build_torch, validate

MAX_CHECKPOINT_BYTES = 200 * 1024 * 1024


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded; the message is meant for the user."""


@dataclass
class ModelBundle:
    """A trained model and what the app says about it.

    meta keys used by the app: name, dataset, class_names, accuracy (held-out, 0..1),
    accuracy_note, created (ISO date), engine ("torch" or "numpy").
    """
    spec: dict
    model: object  # torch.nn.Module in eval mode
    meta: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.meta.get("name") or self.spec.get("name", "model")

    @property
    def class_names(self) -> list[str]:
        return list(self.meta.get("class_names") or [str(i) for i in range(int(self.spec.get("num_classes", 10)))])


def to_bytes(bundle: ModelBundle) -> bytes:
    from safetensors.torch import save

    state = {k: v.detach().cpu().contiguous() for k, v in bundle.model.state_dict().items()}
    return save(state, metadata={"format": "cnn-explorer/1", "spec": json.dumps(bundle.spec),
                                 "meta": json.dumps(bundle.meta)})


def save(bundle: ModelBundle, path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(to_bytes(bundle))
    return path


def from_bytes(data: bytes) -> ModelBundle:
    """Load a checkpoint. Raises CheckpointError, never runs code from the file."""
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load

    if len(data) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"The file is {len(data) / 1e6:.0f} MB; checkpoints are limited to "
                              f"{MAX_CHECKPOINT_BYTES / 1e6:.0f} MB.")
    if len(data) < 8:
        raise CheckpointError("This is not a CNN Explorer checkpoint (.safetensors): the file is too short.")
    try:
        header_len = int.from_bytes(data[:8], "little")
        if header_len > len(data) - 8:
            raise ValueError("header longer than file")
        header = json.loads(data[8:8 + header_len])
        metadata = header.get("__metadata__") or {}
        state = load(data)
    except (ValueError, SafetensorError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError("This is not a CNN Explorer checkpoint: it could not be read as a .safetensors "
                              "file (damaged, truncated or another format). Upload a .safetensors file saved "
                              "by this app.") from exc
    if "spec" not in metadata:
        raise CheckpointError("This .safetensors file has no CNN Explorer spec in its metadata, so its "
                              "architecture is unknown. Upload a file saved by this app.")
    try:
        spec = validate(json.loads(metadata["spec"]))
        meta = json.loads(metadata.get("meta", "{}"))
        if not isinstance(meta, dict):
            raise ValueError("meta is not an object")
        model = build_torch(spec)
    except SpecError as exc:
        raise CheckpointError(f"The checkpoint's architecture is invalid: {exc}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError("The checkpoint's architecture description is damaged and could not be read. "
                              "Upload a .safetensors file saved by this app.") from exc
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        raise CheckpointError(f"The weights do not match the spec: missing {missing[:3]}, unexpected {extra[:3]}.")
    for k, v in expected.items():
        if tuple(state[k].shape) != tuple(v.shape):
            raise CheckpointError(f"The weights do not match the spec: {k} has shape {tuple(state[k].shape)}, "
                                  f"the spec needs {tuple(v.shape)}.")
        if v.is_floating_point() and not torch.isfinite(state[k]).all():
            raise CheckpointError(f"The weights contain NaN or infinite values ({k}).")
    model.load_state_dict({k: state[k].to(v.dtype) for k, v in expected.items()})
    model.eval()
    return ModelBundle(spec, model, meta)


def load(path: str | Path) -> ModelBundle:
    return from_bytes(Path(path).read_bytes())
