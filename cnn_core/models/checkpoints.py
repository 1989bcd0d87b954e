"""Safe save / load of a model with its spec.

A checkpoint is one ``.safetensors`` file: the torch state_dict as tensors, and in the file's
metadata the spec (``"spec"``) and facts about the model (``"meta"``), both JSON. safetensors
cannot carry code, so loading a hostile file can at worst fail with a clear message.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from cnn_core import limits
from cnn_core.models.specs import SpecError, build_torch, state_shapes, validate


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


# safetensors dtype names → allowed for float parameters / the batch-norm step counter
FLOAT_DTYPES = {"F16", "BF16", "F32", "F64"}
INT_DTYPES = {"I8", "I16", "I32", "I64", "U8", "U16", "U32", "U64"}
NOT_CHECKPOINT = ("This is not a CNN Explorer checkpoint: it could not be read as a .safetensors file (damaged, "
                  "truncated or another format). Upload a .safetensors file saved by this app.")


def _sniff_foreign(data: bytes) -> str | None:
    """A sentence for well-known formats that are not safetensors (judged by their first bytes)."""
    if data[:4] == b"PK\x03\x04" or data[:1] == b"\x80" or data[:2] in (b"\x1f\x8b",):
        kind = "a PyTorch .pt/.pth file (a zip or pickle)" if data[:2] != b"\x1f\x8b" else "a compressed archive"
        return (f"This is not a CNN Explorer checkpoint but looks like {kind}, which can run code when opened, "
                "so the app never opens it. Upload a .safetensors file saved by this app.")
    return None


def read_header(data: bytes) -> dict:
    """The safetensors JSON header, checked for size before it is parsed (nothing else is read)."""
    cap = limits.MAX_CHECKPOINT_MB * 2 ** 20
    if len(data) > cap:
        raise CheckpointError(f"The file is {limits.fmt_bytes(len(data))}; the cap for checkpoints is "
                              f"{limits.fmt_bytes(cap)} {limits.over(len(data), cap)}.")
    if len(data) < 8:
        raise CheckpointError("This is not a CNN Explorer checkpoint (.safetensors): the file is too short.")
    header_len = int.from_bytes(data[:8], "little")
    if header_len > len(data) - 8 or header_len < 2 or data[8:9] != b"{":
        raise CheckpointError(_sniff_foreign(data) or NOT_CHECKPOINT)
    head_cap = limits.MAX_CHECKPOINT_HEADER_KB * 1024
    if header_len > head_cap:
        raise CheckpointError(f"The checkpoint's description (JSON header) is {limits.fmt_bytes(header_len)}; the "
                              f"cap is {limits.fmt_bytes(head_cap)} {limits.over(header_len, head_cap)}.")
    try:
        header = json.loads(data[8:8 + header_len])
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise CheckpointError(NOT_CHECKPOINT) from None
    if not isinstance(header, dict) or not isinstance(header.get("__metadata__") or {}, dict):
        raise CheckpointError(NOT_CHECKPOINT)
    return header


def _check_tensors(header: dict, spec: dict) -> None:
    """Names, shapes and dtypes in the header against the spec's, before any tensor is read."""
    expected = state_shapes(spec)
    entries = {k: v for k, v in header.items() if k != "__metadata__"}
    missing = sorted(set(expected) - set(entries))
    extra = sorted(set(entries) - set(expected))
    if missing or extra:
        raise CheckpointError(f"The weights do not match the spec: missing {missing[:3]}, unexpected {extra[:3]}.")
    for k, want in expected.items():
        entry = entries[k]
        if not isinstance(entry, dict):
            raise CheckpointError(NOT_CHECKPOINT)
        shape, dtype = entry.get("shape"), entry.get("dtype")
        if not isinstance(shape, list) or tuple(shape) != want:
            raise CheckpointError(f"The weights do not match the spec: {k} has shape {tuple(shape or ())!s:.60}, "
                                  f"the spec needs {want}.")
        allowed = INT_DTYPES if k.endswith("num_batches_tracked") else FLOAT_DTYPES
        if dtype not in allowed:
            raise CheckpointError(f"The weights have the wrong type: {k} is stored as {dtype!s:.20}, the app needs "
                                  f"{'an integer' if allowed is INT_DTYPES else 'floating-point numbers'}.")


def from_bytes(data: bytes) -> ModelBundle:
    """Load a checkpoint. Raises CheckpointError, never runs code from the file.

    The order keeps a hostile file cheap: size caps, the JSON header, the spec against the caps of
    ``limits`` (arithmetic only), the tensor names / shapes / dtypes the header declares, and only
    then are the tensors read and the model built."""
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load

    header = read_header(data)
    metadata = header.get("__metadata__") or {}
    if "spec" not in metadata:
        raise CheckpointError("This .safetensors file has no CNN Explorer spec in its metadata, so its "
                              "architecture is unknown. Upload a file saved by this app.")
    try:
        spec = validate(json.loads(metadata["spec"]))
        meta = json.loads(metadata.get("meta", "{}"))
        if not isinstance(meta, dict):
            raise ValueError("meta is not an object")
    except SpecError as exc:
        raise CheckpointError(f"The checkpoint's architecture is invalid: {exc}") from None
    except (ValueError, KeyError, TypeError, RecursionError):
        raise CheckpointError("The checkpoint's architecture description is damaged and could not be read. "
                              "Upload a .safetensors file saved by this app.") from None
    _check_tensors(header, spec)
    try:
        state = load(data)
    except (ValueError, SafetensorError, OverflowError, RuntimeError):
        raise CheckpointError(NOT_CHECKPOINT) from None
    for k, v in state.items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise CheckpointError(f"The weights contain NaN or infinite values ({k}).")
    model = build_torch(spec)
    expected = model.state_dict()
    model.load_state_dict({k: state[k].to(v.dtype) for k, v in expected.items()})
    model.eval()
    return ModelBundle(spec, model, meta)


def load(path: str | Path) -> ModelBundle:
    return from_bytes(Path(path).read_bytes())
