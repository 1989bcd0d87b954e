"""One architecture description, two engines.

A *spec* is a plain JSON-able dict::

    {"name": "seed-000", "input_shape": [1, 28, 28], "num_classes": 10,
     "layers": [{"type": "conv2d", "out_channels": 8, "kernel_size": 3, "stride": 1, "padding": 0},
                {"type": "relu"}, {"type": "maxpool2d", "kernel_size": 2},
                {"type": "flatten"}, {"type": "dense", "out_features": 10}]}

Layer ``i`` of the spec is module ``i`` of the ``torch.nn.Sequential`` that ``build_torch``
returns, so state_dict keys are ``"{i}.weight"`` etc. in both engines. Input channels and
in-features are inferred, never written. The model returns logits; softmax is not a layer.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

from cnn_core import limits
from cnn_core.lessons.formatting import count_of
from cnn_core.lessons.geometry import GeometryError, output_size, output_size_formula, pool_output_formula, \
    pool_output_size, resolve_padding

LAYER_TYPES = (
    "conv2d", "maxpool2d", "avgpool2d", "relu", "sigmoid", "tanh",
    "flatten", "dense", "dropout", "batchnorm2d",
)
ACTIVATIONS = ("relu", "sigmoid", "tanh")


class SpecError(ValueError):
    """An architecture that cannot be built; the message is meant for the user."""


def conv_padding(layer: dict) -> int:
    """A conv layer's padding as a number; 'same' / 'valid' resolve as everywhere else (geometry)."""
    try:
        return resolve_padding(layer.get("padding", 0), f=int(layer["kernel_size"]))
    except GeometryError as exc:
        raise SpecError(str(exc)) from None


def _pool_params(layer: dict) -> tuple[int, int]:
    k = int(layer.get("kernel_size", 2))
    s = layer.get("stride")
    return k, int(s) if s is not None else k


@dataclass(frozen=True)
class LayerInfo:
    index: int
    type: str
    in_shape: tuple
    out_shape: tuple
    params: int
    label: str


def describe_layer(layer: dict) -> str:
    t = layer["type"]
    if t == "conv2d":
        return (f"Conv2D({layer['out_channels']}, {layer['kernel_size']}×{layer['kernel_size']}, "
                f"stride {layer.get('stride', 1)}, pad {layer.get('padding', 0)})")
    if t in ("maxpool2d", "avgpool2d"):
        k, s = _pool_params(layer)
        return f"{'MaxPool' if t == 'maxpool2d' else 'AvgPool'}({k}×{k}, stride {s})"
    if t == "dense":
        return f"Dense({layer['out_features']})"
    if t == "dropout":
        return f"Dropout(p={layer.get('p', 0.5)})"
    if t == "batchnorm2d":
        return "BatchNorm2D"
    return {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "flatten": "Flatten"}[t]


def _input_shape(spec: dict) -> tuple:
    raw = spec.get("input_shape", (1, 28, 28))
    try:
        shape = tuple(int(v) for v in raw)
    except (TypeError, ValueError, OverflowError):
        raise SpecError(f"input_shape must be three whole numbers (channels, height, width), got {raw!r:.80}.") from None
    if len(shape) != 3 or min(shape) < 1:
        raise SpecError(f"input_shape must be (channels, height, width), got {shape}.")
    c, h, w = shape
    if max(h, w) > limits.MAX_INPUT_SIDE:
        raise SpecError(f"The input is {h:,} × {w:,} pixels; the cap is {limits.MAX_INPUT_SIDE:,} pixels a side "
                        f"{limits.over(max(h, w), limits.MAX_INPUT_SIDE)}.")
    limits.check(c, limits.MAX_INPUT_CHANNELS, "The input has", error=SpecError,
                 fmt=lambda n: f"{int(n):,} channels" if n != 1 else "1 channel")
    return shape


def _check_size(infos: list[LayerInfo]) -> None:
    """The caps on parameters and activation memory, from the arithmetic shapes alone."""
    total = sum(i.params for i in infos)
    if total > limits.MAX_PARAMS:
        big = max(infos, key=lambda i: i.params)
        share = f", {limits.fmt_count(big.params)} of them in layer {big.index + 1} ({big.label})" \
            if len(infos) > 1 and big.params > total / 2 else ""
        raise SpecError(f"This network has {limits.fmt_count(total)} parameters{share}; the cap is "
                        f"{limits.fmt_count(limits.MAX_PARAMS)} {limits.over(total, limits.MAX_PARAMS)}.")
    act = activation_bytes(infos)
    cap = limits.MAX_ACTIVATION_MB * 2 ** 20
    if act > cap:
        raise SpecError(f"This network's layer outputs take {limits.fmt_bytes(act)} for one image; the cap is "
                        f"{limits.fmt_bytes(cap)} {limits.over(act, cap)}.")


def activation_bytes(infos: list[LayerInfo]) -> int:
    """Float32 bytes of the input and every layer's output for one image (what a forward pass keeps)."""
    if not infos:
        return 0
    return 4 * (math.prod(infos[0].in_shape) + sum(math.prod(i.out_shape) for i in infos))


def _malformed(i: int, layer, exc: Exception) -> SpecError:
    t = layer.get("type") if isinstance(layer, dict) else None
    if isinstance(exc, KeyError):
        return SpecError(f"Layer {i + 1} ({t}) is missing its {exc.args[0]!r} setting.")
    return SpecError(f"Layer {i + 1} ({t}) has a setting that is not a usable number.")


def layer_infos(spec: dict) -> list[LayerInfo]:
    """Shapes and parameter counts layer by layer, computed arithmetically (nothing is allocated).

    Raises SpecError explaining the first problem, including a spec beyond the caps of
    ``cnn_core.models.limits`` (input size, layer count, parameters, activation memory per image)."""
    if not isinstance(spec, dict):
        raise SpecError("The architecture must be a JSON object with input_shape, num_classes and layers.")
    shape = _input_shape(spec)
    layers = spec.get("layers") or []
    if not isinstance(layers, list):
        raise SpecError("The architecture's layers must be a list.")
    if not layers:
        raise SpecError("The network has no layers.")
    limits.check(len(layers), limits.MAX_LAYERS, "This network has", error=SpecError,
                 fmt=lambda n: f"{int(n):,} layers")
    infos: list[LayerInfo] = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict):
            raise SpecError(f"Layer {i + 1} must be an object such as {{\"type\": \"relu\"}}, got {layer!r:.40}.")
        try:
            out, params = _layer_shape(i, layer, shape)
            label = describe_layer(layer)
        except SpecError:
            raise
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise _malformed(i, layer, exc) from None
        infos.append(LayerInfo(i, layer["type"], shape, out, params, label))
        shape = out
    _check_size(infos)
    try:
        n_classes = int(spec.get("num_classes", 10))
    except (TypeError, ValueError, OverflowError):
        raise SpecError("num_classes must be a whole number.") from None
    if shape != (n_classes,):
        raise SpecError(f"The network must end in a Dense layer with {n_classes} outputs (one per class); "
                        f"it ends with shape {shape}.")
    return infos


def _layer_shape(i: int, layer: dict, shape: tuple) -> tuple[tuple, int]:
    """(output shape, parameter count) of one layer given its input shape."""
    t = layer.get("type")
    if t not in LAYER_TYPES:
        raise SpecError(f"Layer {i + 1}: unknown type {t!r:.40}.")
    params = 0
    where = f"Layer {i + 1} ({describe_layer(layer)})"
    if t in ("conv2d", "maxpool2d", "avgpool2d", "batchnorm2d") and len(shape) != 3:
        raise SpecError(f"{where} needs an image (C, H, W) input but gets a flat vector {shape}; "
                        "put it before Flatten.")
    if t == "conv2d":
        c, h, w = shape
        oc = int(layer["out_channels"])
        try:
            f, s, p = int(layer["kernel_size"]), int(layer.get("stride", 1)), conv_padding(layer)
        except SpecError as exc:
            raise SpecError(f"{where}: {exc}") from None
        if f < 1 or s < 1 or p < 0 or oc < 1:
            raise SpecError(f"{where}: kernel size, stride and channels must be ≥ 1, padding ≥ 0.")
        if f > h + 2 * p or f > w + 2 * p:
            raise SpecError(
                f"{where}: the {f}×{f} kernel is larger than its {h}×{w} input padded by {p} "
                f"({h + 2 * p}×{w + 2 * p}). Output size "
                f"{output_size_formula(n=min(h, w), f=f, padding=p, stride=s, steps=False)}, "
                "which is less than 1. Use a smaller kernel, more padding, or fewer pooling layers before it.")
        out = (oc, output_size(n=h, f=f, padding=p, stride=s), output_size(n=w, f=f, padding=p, stride=s))
        params = oc * c * f * f + oc
    elif t in ("maxpool2d", "avgpool2d"):
        c, h, w = shape
        k, s = _pool_params(layer)
        if k < 1 or s < 1:
            raise SpecError(f"{where}: window and stride must be ≥ 1.")
        if k > h or k > w:
            raise SpecError(
                f"{where}: the {k}×{k} window is larger than its {h}×{w} input. Output size "
                f"{pool_output_formula(n=min(h, w), k=k, stride=s)}, which is less than 1. "
                "Remove a pooling layer or use a larger input.")
        out = (c, pool_output_size(n=h, k=k, stride=s), pool_output_size(n=w, k=k, stride=s))
    elif t == "batchnorm2d":
        out = shape
        params = 2 * shape[0]
    elif t == "flatten":
        out = (math.prod(shape),)
    elif t == "dense":
        if len(shape) != 1:
            raise SpecError(f"{where} needs a flat vector; add a Flatten layer before it.")
        of = int(layer["out_features"])
        if of < 1:
            raise SpecError(f"{where}: out_features must be ≥ 1.")
        out = (of,)
        params = shape[0] * of + of
    elif t == "dropout":
        p = float(layer.get("p", 0.5))
        if not 0.0 <= p < 1.0:
            raise SpecError(f"{where}: dropout probability must be in [0, 1), got {p}.")
        out = shape
    else:  # activations
        out = shape
    return out, params


def validate(spec: dict) -> dict:
    layer_infos(spec)
    return spec


def check_batch(spec: dict, batch_size: int) -> None:
    """The cap on one training batch's activations (batch × activation memory per image)."""
    need = int(batch_size) * activation_bytes(layer_infos(spec))
    cap = limits.MAX_BATCH_ACTIVATION_MB * 2 ** 20
    if need > cap:
        raise SpecError(f"A batch of {int(batch_size):,} images takes {limits.fmt_bytes(need)} of layer outputs; "
                        f"the cap is {limits.fmt_bytes(cap)} {limits.over(need, cap)}. Use a smaller batch.")


def state_shapes(spec: dict) -> dict[str, tuple]:
    """The shapes of ``build_torch(spec).state_dict()``, computed without building it."""
    shapes: dict[str, tuple] = {}
    for info in layer_infos(spec):
        i, c = info.index, info.in_shape[0]
        if info.type == "conv2d":
            oc, f = info.out_shape[0], int(spec["layers"][i]["kernel_size"])
            shapes.update({f"{i}.weight": (oc, c, f, f), f"{i}.bias": (oc,)})
        elif info.type == "dense":
            shapes.update({f"{i}.weight": (info.out_shape[0], c), f"{i}.bias": (info.out_shape[0],)})
        elif info.type == "batchnorm2d":
            shapes.update({f"{i}.{k}": (c,) for k in ("weight", "bias", "running_mean", "running_var")})
            shapes[f"{i}.num_batches_tracked"] = ()
    return shapes


def count_params(spec: dict) -> int:
    return sum(i.params for i in layer_infos(spec))


def build_torch(spec: dict):
    """The spec as a ``torch.nn.Sequential`` (module i == spec layer i), in train mode."""
    import torch.nn as nn

    modules = []
    for info, layer in zip(layer_infos(spec), spec["layers"]):
        t = layer["type"]
        if t == "conv2d":
            modules.append(nn.Conv2d(info.in_shape[0], int(layer["out_channels"]), int(layer["kernel_size"]),
                                     stride=int(layer.get("stride", 1)), padding=conv_padding(layer)))
        elif t == "maxpool2d":
            k, s = _pool_params(layer)
            modules.append(nn.MaxPool2d(k, s))
        elif t == "avgpool2d":
            k, s = _pool_params(layer)
            modules.append(nn.AvgPool2d(k, s))
        elif t == "batchnorm2d":
            modules.append(nn.BatchNorm2d(info.in_shape[0]))
        elif t == "dense":
            modules.append(nn.Linear(info.in_shape[0], int(layer["out_features"])))
        elif t == "dropout":
            modules.append(nn.Dropout(float(layer.get("p", 0.5))))
        elif t == "flatten":
            modules.append(nn.Flatten())
        else:
            modules.append({"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[t]())
    return nn.Sequential(*modules)


def _spec(name: str, layers: list, input_shape=(1, 28, 28), num_classes: int = 10, about: str = "") -> dict:
    return {"name": name, "about": about, "input_shape": list(input_shape),
            "num_classes": num_classes, "layers": layers}


def conv(oc, k=3, s=1, p=0):
    return {"type": "conv2d", "out_channels": oc, "kernel_size": k, "stride": s, "padding": p}


def pool(kind="max", k=2, s=None):
    return {"type": f"{kind}pool2d", "kernel_size": k, "stride": s if s is not None else k}


def dense(n):
    return {"type": "dense", "out_features": n}


def act(name):
    return {"type": name}


def dropout(p):
    return {"type": "dropout", "p": p}


BN = {"type": "batchnorm2d"}
FLAT = {"type": "flatten"}


def _preset_002() -> dict:
    layers = [BN, conv(32, 3, 1, 1), act("relu"), pool(), dropout(0.2),
              BN, conv(64, 3, 1, 1), act("relu"), pool(), dropout(0.2),
              BN, conv(128, 3, 1, 1), act("relu"), conv(128, 3, 1, 1), act("relu"), pool(), dropout(0.2),
              BN, FLAT, dense(64), act("relu"), dropout(0.2), dense(10)]
    return _spec("seed-002", copy.deepcopy(layers),
                 about="Document 002's Fashion-MNIST network: 4 conv layers with batch norm and dropout, "
                       "315,148 parameters, Adam lr 0.001.")


PRESETS: dict[str, dict] = {
    "seed-000": _spec("seed-000", [conv(8, 3), act("relu"), pool(), FLAT, dense(10)],
                      about="Document 000's from-scratch network: 8 kernels 3×3, ReLU, 2×2 max pool, "
                            "dense 1,352→10. SGD, batches of 100."),
    "seed-004": _spec("seed-004", [conv(8, 3), act("sigmoid"), pool(), FLAT, dense(20), act("sigmoid"), dense(10)],
                      about="Document 004's from-scratch network: 8 kernels 3×3, sigmoid, 2×2 max pool, "
                            "dense 1,352→20 sigmoid, dense 20→10. SGD lr 0.01."),
    "seed-002": _preset_002(),
    "lenet-5": _spec("lenet-5", [conv(6, 5, 1, 2), act("tanh"), pool("avg"), conv(16, 5), act("tanh"), pool("avg"),
                                 FLAT, dense(120), act("tanh"), dense(84), act("tanh"), dense(10)],
                     about="LeCun et al. 1998: two 5×5 conv layers with tanh and average pooling, "
                           "dense 120 → 84 → 10."),
}


def preset(name: str, input_shape=None, num_classes: int | None = None) -> dict:
    """A deep copy of a preset, optionally adapted to another input shape / class count."""
    if name not in PRESETS:
        raise SpecError(f"Unknown preset {name!r}; choose one of {', '.join(PRESETS)}.")
    spec = copy.deepcopy(PRESETS[name])
    if input_shape is not None:
        spec["input_shape"] = list(input_shape)
    if num_classes is not None:
        spec["num_classes"] = int(num_classes)
        spec["layers"][-1]["out_features"] = int(num_classes)
    return spec


def build_spec(*, blocks: int = 2, kernels: list[int] | int = 16, kernel_size: int = 3, stride: int = 1,
               padding: int | str = "same", pooling: str | None = "max", activation: str = "relu",
               batchnorm: bool = False, dropout_p: float = 0.0, dense_width: int = 0,
               input_shape=(1, 28, 28), num_classes: int = 10, name: str = "custom") -> dict:
    """The Train page's builder: ``blocks`` × [conv → (BN) → act → (pool) → (dropout)] → dense head."""
    if activation not in ACTIVATIONS:
        raise SpecError(f"Activation must be one of {ACTIVATIONS}.")
    ks = [kernels] * blocks if isinstance(kernels, int) else list(kernels)
    if len(ks) != blocks:
        raise SpecError(f"Give one kernel count per block ({blocks}), got {len(ks)}.")
    try:
        pad = resolve_padding(padding, f=kernel_size)
    except GeometryError as exc:
        raise SpecError(str(exc)) from None
    layers: list[dict] = []
    for k in ks:
        layers.append(conv(int(k), kernel_size, stride, pad))
        if batchnorm:
            layers.append(dict(BN))
        layers.append(act(activation))
        if pooling:
            layers.append(pool(pooling))
        if dropout_p > 0:
            layers.append(dropout(dropout_p))
    layers.append(dict(FLAT))
    if dense_width:
        layers += [dense(int(dense_width)), act(activation)]
        if dropout_p > 0:
            layers.append(dropout(dropout_p))
    layers.append(dense(num_classes))
    return _spec(name, layers, input_shape, num_classes,
                 about=f"{count_of(blocks, 'conv block')} built on the Train page.")
