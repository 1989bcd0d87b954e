"""A conv output channel taken apart: Σ over input channels (input map ∗ its kernel slice) + bias.

The notes' Figure 7.5 (three RGB channel sums plus a bias give one output value) for any number
of input channels, on the real model: ``conv_contributions(model, image, layer_index, channel)``
returns the per-input-channel partial maps, whose sum plus the bias is the layer's own output
channel, and ``.cell(row, col)`` writes one output value out (per-channel subtotals, then the total).
Also importable as ``cnn_core.introspection.conv_contributions``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch.nn as nn
from numpy.lib.stride_tricks import sliding_window_view

from cnn_core.inference.introspection import Introspection, IntrospectionError
from cnn_core.inference.neurons import _factor, _module, _pair, _plus, _check_channel, fmt, layer_input, run_model

@dataclass
class ConvCell:
    """One output cell written out: per input channel, the window under the kernel and its products."""
    row: int
    col: int
    origin: tuple[int, int]      # top-left of the window in the padded input
    window: np.ndarray           # (C_in, kh, kw)
    kernel: np.ndarray           # (C_in, kh, kw)
    bias: float
    output: float                # the model's own value at this cell

    @property
    def products(self) -> np.ndarray:
        return self.window * self.kernel

    @property
    def subtotals(self) -> np.ndarray:
        """(C_in,) each input channel's sum of products."""
        return self.products.sum(axis=(1, 2))

    @property
    def total(self) -> float:
        return float(self.subtotals.sum() + self.bias)

    def written_channel(self, channel: int, digits: int = 3) -> str:
        """'0.500·0.120 + 0.000·(−0.300) + … = 0.060' for one input channel."""
        terms = [f"{_factor(x, digits)}·{_factor(w, digits)}" for x, w in
                 zip(self.window[channel].ravel(), self.kernel[channel].ravel())]
        return " + ".join(terms) + f" = {fmt(self.subtotals[channel], digits)}"

    def written_total(self, digits: int = 3) -> str:
        """'0.060 + 1.200 − 0.400 + bias (−0.050) = 0.810': the per-channel subtotals, the bias, the total."""
        terms = [fmt(s, digits) for s in self.subtotals]
        return _plus(terms) + f" + bias {_factor(self.bias, digits)} = {fmt(self.total, digits)}"


@dataclass
class ConvContributions:
    """Output channel ``channel`` of conv layer ``layer_index``, taken apart by input channel."""
    layer_index: int
    channel: int
    input: np.ndarray       # (C_in, H, W) what the layer received
    kernel: np.ndarray      # (C_in, kh, kw) this output channel's kernel
    bias: float
    stride: tuple[int, int]
    padding: tuple[int, int]
    partials: np.ndarray    # (C_in, H_out, W_out) float64: input channel c convolved with kernel slice c
    output: np.ndarray      # (H_out, W_out) the layer's real output channel (float32, from the model)

    @property
    def total(self) -> np.ndarray:
        """Σ partials + bias: equals ``output`` up to float32 rounding."""
        return self.partials.sum(axis=0) + self.bias

    @property
    def padded(self) -> np.ndarray:
        ph, pw = self.padding
        return np.pad(self.input.astype(np.float64), ((0, 0), (ph, ph), (pw, pw)))

    def share(self) -> np.ndarray:
        """(C_in,) each input channel's part of Σ|partials|: how much it shaped this map (sums to 1)."""
        a = np.abs(self.partials).sum(axis=(1, 2))
        s = a.sum()
        return a / s if s > 0 else np.full(a.shape, 1.0 / max(a.size, 1))

    def cell(self, row: int, col: int) -> ConvCell:
        h, w = self.output.shape
        if not (0 <= row < h and 0 <= col < w):
            raise IntrospectionError(f"The output map is {h}×{w}; there is no cell ({row + 1}, {col + 1}).")
        kh, kw = self.kernel.shape[1:]
        r0, c0 = row * self.stride[0], col * self.stride[1]
        window = self.padded[:, r0:r0 + kh, c0:c0 + kw]
        return ConvCell(row, col, (r0, c0), window, self.kernel.astype(np.float64), self.bias,
                        float(self.output[row, col]))


def conv_contributions_from(model: nn.Sequential, result: Introspection, layer_index: int,
                            channel: int) -> ConvContributions:
    conv, out = _module(model, result, layer_index, nn.Conv2d, "a convolution")
    if conv.groups != 1 or _pair(conv.dilation) != (1, 1) or conv.padding_mode != "zeros":
        raise IntrospectionError("Only plain convolutions (no groups, dilation or non-zero padding) are taken apart.")
    channel = _check_channel(channel, conv.out_channels)
    x = np.asarray(layer_input(result, layer_index))
    w = conv.weight.detach()[channel].double().numpy()                        # (C_in, kh, kw)
    b = float(conv.bias.detach()[channel]) if conv.bias is not None else 0.0
    (sh, sw), (ph, pw) = _pair(conv.stride), _pair(conv.padding)
    # every window of every input channel, each met by its own kernel slice only: the partial maps
    # stay separate (float64 with NumPy: torch's float64 grouped conv is 10× slower on the CPU)
    padded = np.pad(x.astype(np.float64), ((0, 0), (ph, ph), (pw, pw)))
    windows = sliding_window_view(padded, w.shape[1:], axis=(1, 2))[:, ::sh, ::sw]
    partials = np.einsum("chwij,cij->chw", windows, w)
    return ConvContributions(layer_index, channel, x.astype(np.float32), w, b, (sh, sw), (ph, pw),
                             partials, out.output[channel])


def conv_contributions(model, image, layer_index: int, channel: int, spec: dict | None = None) -> ConvContributions:
    """Output channel ``channel`` of the conv layer at spec index ``layer_index`` for ``image``, as
    ``.partials`` (C_in, H_out, W_out), one per input channel, and ``.bias``: their sum plus the bias is
    the layer's real output channel (``.output``).

    ``model``: a torch ``nn.Sequential`` built from a spec (or a NumPy-engine model with its ``spec``);
    ``image``: (H, W) or (C, H, W) in [0, 1].
    """
    tmodel, result = run_model(model, image, spec)
    return conv_contributions_from(tmodel, result, layer_index, channel)


