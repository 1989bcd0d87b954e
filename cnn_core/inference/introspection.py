"""Look inside a trained torch model: every layer's output, its kernels, attributions, what-ifs.

Works with any ``torch.nn.Module``; for the app's models (``specs.build_torch``: an
``nn.Sequential`` whose module i is spec layer i, whichever engine trained them) it walks the
modules in order, so every layer's output is recorded with the spec's own label. Other modules
are walked with forward hooks on their leaf modules.

The shared model is never changed: attributions run on a copy (captum adds hooks), a model in
train mode is copied and put in eval mode, and ``what_if`` returns an edited copy.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from cnn_core.lessons.geometry import output_size_formula, pool_output_formula
from cnn_core.inference.predict import on_single_thread
from cnn_core.models.specs import conv_padding, describe_layer, layer_infos


class IntrospectionError(ValueError):
    """A request the model cannot answer; the message is meant for the user."""


@dataclass
class LayerOutput:
    index: int                 # module index == spec layer index
    kind: str                  # spec type ('conv2d', 'relu', …) or the module's class name
    label: str                 # 'Conv2D(16, 3×3, stride 1, pad 1)'
    output: np.ndarray         # float32, without the batch axis: (C, H, W) or (N,)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.output.shape)

    @property
    def is_maps(self) -> bool:
        return self.output.ndim == 3


@dataclass
class MapStats:
    minimum: float
    maximum: float
    mean: float
    active: float  # fraction of values > 0


@dataclass
class Introspection:
    input: np.ndarray                # (C, H, W) float32, what the model saw
    layers: list[LayerOutput]
    logits: np.ndarray               # (classes,)
    probabilities: np.ndarray        # (classes,)
    class_names: list[str] = field(default_factory=list)

    @property
    def predicted(self) -> int:
        return int(np.argmax(self.probabilities))

    def layer(self, index: int) -> LayerOutput:
        return self.layers[index]


_KIND = {nn.Conv2d: "conv2d", nn.MaxPool2d: "maxpool2d", nn.AvgPool2d: "avgpool2d", nn.ReLU: "relu",
         nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.Flatten: "flatten", nn.Linear: "dense",
         nn.Dropout: "dropout", nn.BatchNorm2d: "batchnorm2d"}


def _kind(module: nn.Module) -> str:
    return _KIND.get(type(module), type(module).__name__)


def _labels(modules: list[nn.Module], spec: dict | None) -> list[str]:
    layers = (spec or {}).get("layers") or []
    if len(layers) == len(modules):
        try:
            return [describe_layer(layer) for layer in layers]
        except (KeyError, TypeError):
            pass
    return [type(m).__name__ for m in modules]


def prepare_input(image, input_shape) -> tuple[torch.Tensor, str]:
    """The model's input (1, C, H, W) float32 from an image (H, W), (C, H, W) or (1, C, H, W).

    A grey 28×28 drawing is resized (bilinear) and repeated over the channels when the model
    expects another size or colour; the returned note says so ('' when nothing was changed).
    """
    c, h, w = (int(v) for v in input_shape)
    t = torch.as_tensor(np.asarray(image, dtype=np.float32))
    if t.ndim == 2:
        t = t[None]
    if t.ndim == 3:
        t = t[None]
    if t.ndim != 4 or t.shape[0] != 1:
        raise IntrospectionError(f"Expected one image (H, W) or (C, H, W), got shape {tuple(t.shape)}.")
    if not torch.isfinite(t).all():
        raise IntrospectionError("The input image contains values that are not numbers.")
    notes = []
    if tuple(t.shape[2:]) != (h, w):
        notes.append(f"resized from {t.shape[2]}×{t.shape[3]} to {h}×{w}")
        t = F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False)
    if t.shape[1] != c:
        if t.shape[1] == 1:
            notes.append(f"the grey channel repeated over {c} channels")
            t = t.repeat(1, c, 1, 1)
        elif c == 1:
            notes.append("converted to grey (channel mean)")
            t = t.mean(dim=1, keepdim=True)
        else:
            raise IntrospectionError(f"The model expects {c} channels but the image has {t.shape[1]}.")
    return t.contiguous(), "; ".join(notes)


def as_torch(model, spec: dict | None = None) -> nn.Module:
    """The model as a torch module: torch models as they are; a NumPy-engine ``Sequential`` is
    copied into ``specs.build_torch(spec)`` through the shared state-dict keys (float32, eval)."""
    if isinstance(model, nn.Module):
        return model
    if hasattr(model, "state_dict") and spec is not None:
        from cnn_core.numpy_nn.from_spec import to_torch

        return to_torch(model, spec).float().eval()
    raise IntrospectionError(f"Cannot look inside a {type(model).__name__}: expected a torch or NumPy-engine model.")


def _dtype(model: nn.Module) -> torch.dtype:
    p = next(model.parameters(), None)
    return p.dtype if p is not None else torch.float32


def _eval_model(model: nn.Module) -> nn.Module:
    # Never flip the shared model's mode: a model in train mode is copied first.
    return copy.deepcopy(model).eval() if model.training else model


@torch.no_grad()
def record_layers(model: nn.Module, x: torch.Tensor, spec: dict | None = None) -> tuple[list[LayerOutput], torch.Tensor]:
    """Every layer's output for one input (1, C, H, W), in order, and the final logits (1, classes)."""
    model = _eval_model(as_torch(model, spec))
    x = x.to(_dtype(model))
    if isinstance(model, nn.Sequential):
        modules = list(model)
        labels = _labels(modules, spec)
        outs, h = [], x
        for i, m in enumerate(modules):
            h = m(h)
            outs.append(LayerOutput(i, _kind(m), labels[i], h[0].detach().float().cpu().numpy().copy()))
        return outs, h
    leaves = [m for m in model.modules() if not list(m.children())]
    labels = _labels(leaves, spec)
    outs: list[LayerOutput] = []

    def hook(i):
        def f(_m, _inp, out):
            if isinstance(out, torch.Tensor):
                outs.append(LayerOutput(i, _kind(leaves[i]), labels[i], out[0].detach().float().cpu().numpy().copy()))
        return f

    handles = [m.register_forward_hook(hook(i)) for i, m in enumerate(leaves)]
    try:
        logits = model(x)
    finally:
        for hd in handles:
            hd.remove()
    return outs, logits


def introspect(model: nn.Module, image, spec: dict, class_names: list[str] | None = None) -> Introspection:
    """Everything the Layer Explorer shows for one input, in one forward pass.

    The pass runs on predict's one-thread worker: one input is too little work to share between
    cores, and on a busy machine torch's second thread can stall for 100 ms.
    """
    x, _ = prepare_input(image, spec.get("input_shape", (1, 28, 28)))
    layers, logits = on_single_thread(record_layers, model, x, spec)
    lg = logits[0].detach().double()
    probs = torch.softmax(lg, dim=0).numpy()
    names = list(class_names or [str(i) for i in range(probs.size)])
    return Introspection(x[0].numpy(), layers, lg.numpy(), probs, names)


def layer_arithmetic(spec: dict) -> dict[int, list[str]]:
    """For each spec layer with a shape or parameter rule, its arithmetic with the numbers substituted:
    {0: ['Output size ⌊(28 + 2·1 − 3)/1⌋ + 1 = 28 (height and width)',
         'Parameters: 32 kernels × (1·3·3 weights + 1 bias) = 320'], ...}."""
    out: dict[int, list[str]] = {}
    for info, layer in zip(layer_infos(spec), spec["layers"]):
        lines = []
        if info.type in ("conv2d", "maxpool2d", "avgpool2d"):
            c, h, w = info.in_shape
            if info.type == "conv2d":
                f, s, p = int(layer["kernel_size"]), int(layer.get("stride", 1)), conv_padding(layer)
                sizes = [output_size_formula(n=n, f=f, padding=p, stride=s, steps=False)
                         for n in ((h,) if h == w else (h, w))]
            else:
                f = int(layer.get("kernel_size", 2))
                sizes = [pool_output_formula(n=n, k=f, stride=int(layer.get("stride") or f)) for n in ((h,) if h == w else (h, w))]
            lines.append("Output size " + (f"{sizes[0]} (height and width)" if h == w
                                           else f"{sizes[0]} (height), {sizes[1]} (width)"))
            if info.type == "conv2d":
                oc = info.out_shape[0]
                lines.append(f"Parameters: {oc} kernels × ({c}·{f}·{f} weights + 1 bias) = {info.params:,}")
        elif info.type == "dense":
            n_in, n_out = info.in_shape[0], info.out_shape[0]
            lines.append(f"Parameters: {n_in:,} inputs × {n_out} units + {n_out} biases = {info.params:,}")
        elif info.type == "batchnorm2d":
            lines.append(f"Parameters: a scale γ and a shift β per channel, 2 × {info.in_shape[0]} = {info.params}")
        if lines:
            out[info.index] = lines
    return out


def map_stats(maps: np.ndarray) -> list[MapStats]:
    """Min, max, mean and fraction active (> 0) of each map of a (C, H, W) output (or one vector)."""
    a = np.asarray(maps, dtype=np.float64)
    a = a.reshape(a.shape[0], -1) if a.ndim == 3 else a.reshape(1, -1)
    return [MapStats(float(m.min()), float(m.max()), float(m.mean()), float((m > 0).mean())) for m in a]


@dataclass
class ConvKernels:
    index: int
    label: str
    weight: np.ndarray   # (C_out, C_in, k, k)
    bias: np.ndarray     # (C_out,)


def conv_layers(model: nn.Module) -> list[tuple[int, nn.Conv2d]]:
    """(module index, conv) for each Conv2d, in order (index within the Sequential when it is one)."""
    model = as_torch(model)
    mods = list(model) if isinstance(model, nn.Sequential) else [m for m in model.modules() if not list(m.children())]
    return [(i, m) for i, m in enumerate(mods) if isinstance(m, nn.Conv2d)]


def conv_kernels(model: nn.Module, spec: dict | None = None) -> list[ConvKernels]:
    model = as_torch(model, spec)
    mods = list(model) if isinstance(model, nn.Sequential) else [m for m in model.modules() if not list(m.children())]
    labels = _labels(mods, spec)
    out = []
    for i, m in conv_layers(model):
        b = m.bias.detach().cpu().numpy().copy() if m.bias is not None else np.zeros(m.out_channels, np.float32)
        out.append(ConvKernels(i, labels[i], m.weight.detach().cpu().numpy().copy(), b))
    return out


def first_conv_kernels(model: nn.Module, spec: dict | None = None) -> ConvKernels | None:
    ks = conv_kernels(model, spec)
    return ks[0] if ks else None


# ---------------------------------------------------------------------------------------------
# Attributions (captum) — always on a private copy, since captum registers hooks on the model
# ---------------------------------------------------------------------------------------------

def _attribution_copy(model: nn.Module, spec: dict) -> nn.Module:
    m = copy.deepcopy(as_torch(model, spec)).eval()
    for p in m.parameters():
        p.requires_grad_(True)
    return m


def saliency(model: nn.Module, image, spec: dict, target: int) -> np.ndarray:
    """|∂ logit_target / ∂ input|, the largest over channels: (H, W), via captum's Saliency."""
    from captum.attr import Saliency

    x, _ = prepare_input(image, spec.get("input_shape", (1, 28, 28)))
    _check_target(target, spec)
    m = _attribution_copy(model, spec)
    x = x.to(_dtype(m)).clone().requires_grad_(True)
    attr = Saliency(m).attribute(x, target=int(target), abs=True)
    return attr[0].detach().amax(dim=0).numpy().astype(np.float32)


def grad_cam(model: nn.Module, image, spec: dict, target: int, layer_index: int | None = None) -> np.ndarray:
    """Grad-CAM for ``target`` at a conv layer (default: the last one), upsampled to the input: (H, W) ≥ 0.

    captum's LayerGradCam weights each map of the layer by its average gradient, sums them and
    keeps the positive part; the result is bilinearly upsampled to the input size.
    """
    from captum.attr import LayerAttribution, LayerGradCam

    x, _ = prepare_input(image, spec.get("input_shape", (1, 28, 28)))
    _check_target(target, spec)
    m = _attribution_copy(model, spec)
    x = x.to(_dtype(m))
    convs = conv_layers(m)
    if not convs:
        raise IntrospectionError("Grad-CAM needs a convolutional layer; this model has none.")
    if layer_index is None:
        layer = convs[-1][1]
    else:
        match = [c for i, c in convs if i == layer_index]
        if not match:
            raise IntrospectionError(f"Layer {layer_index} is not a convolutional layer.")
        layer = match[0]
    cam = LayerGradCam(m, layer).attribute(x, target=int(target), relu_attributions=True)
    up = LayerAttribution.interpolate(cam, tuple(x.shape[2:]), interpolate_mode="bilinear")
    return up[0, 0].detach().clamp_min(0).numpy().astype(np.float32)


def _check_target(target: int, spec: dict) -> None:
    n = int(spec.get("num_classes", 10))
    if not 0 <= int(target) < n:
        raise IntrospectionError(f"Class {target} is not one of the model's {n} classes.")


# ---------------------------------------------------------------------------------------------
# What-if: an edited copy
# ---------------------------------------------------------------------------------------------

# A what-if weight beyond this teaches nothing a large one does not, and float32 activations
# overflow to inf/NaN not far past it in a deep network.
MAX_EDIT_ABS = 1e3


def check_kernel_values(kernel) -> np.ndarray:
    """The edited kernel as float64, or IntrospectionError saying which cell to fix."""
    try:
        k = np.array(kernel, dtype=np.float64)
    except (TypeError, ValueError):
        raise IntrospectionError("Every kernel cell needs a number; fix the cells that are not numbers.") from None
    if not np.isfinite(k).all():
        raise IntrospectionError("Every kernel cell needs a number; fill in the empty cells and apply again.")
    if k.size and np.abs(k).max() > MAX_EDIT_ABS:
        big = float(k.flat[np.abs(k).argmax()])
        raise IntrospectionError(f"Keep kernel values between −1000 and 1000 (trained ones are near ±1); "
                                 f"{big:.4g} is too large.")
    return k


def what_if(model: nn.Module, layer_index: int, out_channel: int, kernel=None, *, zero: bool = False,
            in_channel: int | None = None, bias: float | None = None, spec: dict | None = None) -> nn.Module:
    """A copy of ``model`` with one kernel of conv layer ``layer_index`` replaced or zeroed.

    ``kernel``: (C_in, k, k), or (k, k) for one ``in_channel`` (or every input channel when
    in_channel is None). ``zero``: the whole kernel and its bias set to 0. The original is untouched.
    """
    m = copy.deepcopy(as_torch(model, spec)).eval()
    convs = dict(conv_layers(m))
    if layer_index not in convs:
        raise IntrospectionError(f"Layer {layer_index} is not a convolutional layer.")
    conv = convs[layer_index]
    if not 0 <= out_channel < conv.out_channels:
        raise IntrospectionError(f"Kernel {out_channel} does not exist: the layer has {conv.out_channels}.")
    with torch.no_grad():
        w = conv.weight[out_channel]  # (C_in, k, k), a view
        if zero:
            w.zero_()
            if conv.bias is not None:
                conv.bias[out_channel] = 0.0
        if kernel is not None:
            k = torch.tensor(check_kernel_values(kernel)).to(w.dtype)
            if k.ndim == 2:
                if k.shape != w.shape[1:]:
                    raise IntrospectionError(f"The kernel must be {w.shape[1]}×{w.shape[2]}, got {tuple(k.shape)}.")
                if in_channel is None:
                    w[:] = k
                else:
                    if not 0 <= in_channel < w.shape[0]:
                        raise IntrospectionError(f"Input channel {in_channel} does not exist: there are {w.shape[0]}.")
                    w[in_channel] = k
            elif k.shape == w.shape:
                w[:] = k
            else:
                raise IntrospectionError(f"The kernel must have shape {tuple(w.shape)}, got {tuple(k.shape)}.")
        if bias is not None and conv.bias is not None:
            conv.bias[out_channel] = float(bias)
    return m


def __getattr__(name: str):
    # Per-neuron arithmetic lives in conv_arithmetic.py (which imports this module); reachable here too,
    # as cnn_core.introspection.conv_contributions, without a circular import at load time.
    if name in ("conv_contributions", "ConvContributions"):
        from cnn_core.inference import conv_arithmetic

        return getattr(conv_arithmetic, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
