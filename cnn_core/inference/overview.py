"""The whole network on one input, as columns left to right (what the Layer Explorer's overview draws).

``build_overview(result)`` turns an ``Introspection`` (every layer's output for one input) into
columns: the input, one column per layer (dropout is skipped: at inference it passes values
unchanged), and the softmax probabilities. Map layers show at most ``max_maps`` maps, the most
active ones; a conv layer and the batch norm, activation and pooling after it (one *stage*) show
the same channels in the same order, so a channel reads straight across. Vectors (flatten, dense)
keep every unit. Maps larger than ``max_side`` are drawn at block means; ``Overview.sampled`` says
what was left out, for the page to state.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cnn_core.inference.introspection import Introspection

INPUT, SOFTMAX = "input", "softmax"
CHANNELWISE = ("batchnorm2d", "relu", "sigmoid", "tanh", "maxpool2d", "avgpool2d", "dropout")
SHORT = {"conv2d": "conv", "batchnorm2d": "BN", "relu": "ReLU", "sigmoid": "sigm", "tanh": "tanh",
         "maxpool2d": "max", "avgpool2d": "avg", "flatten": "flat", "dense": "dense", INPUT: "input",
         SOFTMAX: "softmax"}


@dataclass
class Column:
    key: int                     # -1: the input; i: spec layer i; len(layers): softmax
    kind: str                    # 'input', 'conv2d', 'relu', …, 'softmax'
    label: str                   # the layer's full label, 'Conv2D(32, 3×3, stride 1, pad 1)'
    short: str                   # a column title that fits 50 px: 'conv 2'
    shape: tuple                 # the layer's full output shape
    link: str                    # to the column before: 'all' (conv), 'same', 'flatten', 'dense', '' (first)
    lo: float                    # one colour range per layer, over all of its values
    hi: float
    signed: bool                 # values below 0: a diverging scale centred on 0
    channels: np.ndarray | None = None   # shown map indices, in display order
    maps: np.ndarray | None = None       # (shown, h, w) values as drawn (block means when block > 1)
    block: int = 1
    stats: np.ndarray | None = None      # (shown, 3) min, max, mean of each shown map at full size
    vector: np.ndarray | None = None     # (N,) every unit, for flatten / dense / softmax

    @property
    def is_maps(self) -> bool:
        return self.maps is not None

    @property
    def hidden(self) -> int:
        return int(self.shape[0]) - len(self.channels) if self.is_maps else 0


@dataclass
class Overview:
    columns: list[Column]
    class_names: list[str]
    skipped: list[str] = field(default_factory=list)   # labels of layers not drawn (dropout)

    def column(self, key: int) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def is_classes(self, key: int) -> bool:
        """Are the units of column ``key`` the classes (the last layer's logits, or the softmax)?"""
        vectors = [c for c in self.columns if c.kind != "softmax" and c.key >= 0]
        col = self.column(key)
        return col.kind == "softmax" or (bool(vectors) and col is vectors[-1] and not col.is_maps
                                         and col.vector is not None and col.vector.size == len(self.class_names))

    def previous(self, key: int) -> Column | None:
        keys = [c.key for c in self.columns]
        i = keys.index(key)
        return self.columns[i - 1] if i else None

    @property
    def sampled(self) -> str:
        """One sentence: which maps are drawn, and where a map is drawn smaller."""
        wide = [c for c in self.columns if c.is_maps and c.hidden]
        parts = []
        if wide:
            n = max(len(c.channels) for c in wide)
            parts.append(f"Layers with more than {n} maps show their {n} most active ones (highest mean value "
                         "after the stage's last layer), the same channels across a conv stage; '+N more' counts "
                         "the rest")
        small = [c for c in self.columns if c.is_maps and c.block > 1]
        if small:
            parts.append(f"maps larger than {small[0].maps.shape[1]}×{small[0].maps.shape[2]} are drawn as "
                         f"{small[0].block}×{small[0].block} block means")
        if self.skipped:
            parts.append(f"{len(self.skipped)} dropout layer{'s' if len(self.skipped) > 1 else ''} "
                         "(no change at inference) not drawn")
        return ("; ".join(parts) + ".") if parts else "Every map of every layer is drawn."


def _range(a: np.ndarray) -> tuple[float, float, bool]:
    lo, hi = float(np.min(a)), float(np.max(a))
    if lo < 0:
        m = max(abs(lo), abs(hi)) or 1.0
        return -m, m, True
    return lo, (hi if hi > lo else lo + 1e-6), False


def _block_mean(maps: np.ndarray, block: int) -> np.ndarray:
    if block == 1:
        return maps
    n, h, w = maps.shape
    hb, wb = math.ceil(h / block), math.ceil(w / block)
    padded = np.full((n, hb * block, wb * block), np.nan, dtype=np.float64)
    padded[:, :h, :w] = maps
    return np.nanmean(padded.reshape(n, hb, block, wb, block), axis=(2, 4)).astype(np.float32)


def _rank(maps: np.ndarray) -> np.ndarray:
    """Channels, most active first: mean value (mean |value| when the maps are signed), ties by index."""
    a = maps.reshape(maps.shape[0], -1).astype(np.float64)
    score = a.mean(1) if a.min() >= 0 else np.abs(a).mean(1)
    return np.argsort(-score, kind="stable")


def _stage_ends(layers) -> dict[int, int]:
    """Layer index (-1: the input) → the last map layer of its stage, -1 for the input's own stage.

    A stage is a conv and the channel-wise layers right after it (the input and the ones right after
    it form the first); every layer of a stage shows the same channels."""
    members: dict[int, list[int]] = {-1: []}
    key: int | None = -1
    for lo in layers:
        if lo.is_maps and lo.kind == "conv2d":
            key = lo.index
            members[key] = [lo.index]
        elif lo.is_maps and lo.kind in CHANNELWISE and key is not None:
            members[key].append(lo.index)
        else:
            key = None
    ends = {}
    for k, ms in members.items():
        end = ms[-1] if ms else -1
        for m in ms + ([-1] if k == -1 else []):
            ends[m] = end
    return ends


def build_overview(result: Introspection, max_maps: int = 8, max_side: int = 32,
                   pinned: tuple[int, int] | None = None) -> Overview:
    """Columns for the overview; ``pinned`` (column key, map) is always among the drawn maps."""
    layers = result.layers
    stage_end = _stage_ends(layers)
    order: dict[int, np.ndarray] = {}  # per stage: channels, most active first

    def channels_for(key: int, maps: np.ndarray) -> np.ndarray:
        end = stage_end.get(key, key)
        if end not in order:
            src = result.input if end == -1 else layers[end].output
            order[end] = _rank(src) if src.shape[0] == maps.shape[0] else _rank(maps)
        ch = order[end][:max_maps].copy()
        if pinned is not None and stage_end.get(pinned[0], pinned[0]) == end and pinned[1] not in ch \
                and 0 <= pinned[1] < maps.shape[0]:
            ch[-1] = pinned[1]
        return ch

    def map_column(key, kind, label, a, link) -> Column:
        lo, hi, signed = _range(a)
        ch = channels_for(key, a) if a.shape[0] > max_maps else np.arange(a.shape[0])
        shown = a[ch]
        block = max(1, math.ceil(max(a.shape[1:]) / max_side))
        flat = shown.reshape(len(ch), -1)
        stats = np.stack([flat.min(1), flat.max(1), flat.mean(1)], axis=1).astype(np.float64)
        return Column(key, kind, label, "", tuple(a.shape), link, lo, hi, signed, ch,
                      _block_mean(shown, block), block, stats)

    cols = [map_column(-1, INPUT, "Input", result.input, "")]
    cols[0].short = "input"
    skipped, count = [], {}
    for lo in layers:
        if lo.kind == "dropout":
            skipped.append(lo.label)
            continue
        count[lo.kind] = count.get(lo.kind, 0) + 1
        short = SHORT.get(lo.kind, lo.kind[:6]) + (f" {count[lo.kind]}" if lo.kind in ("conv2d", "dense") else "")
        prev_maps = cols[-1].is_maps
        if lo.is_maps:
            link = "all" if lo.kind == "conv2d" else "same"
            c = map_column(lo.index, lo.kind, lo.label, lo.output, link)
        else:
            link = "flatten" if prev_maps else ("dense" if lo.kind == "dense" else "same")
            a, b, signed = _range(lo.output)
            c = Column(lo.index, lo.kind, lo.label, "", tuple(lo.shape), link, a, b, signed,
                       vector=np.asarray(lo.output, np.float64))
        c.short = short
        cols.append(c)
    cols.append(Column(len(layers), SOFTMAX, "Softmax", "softmax", (result.probabilities.size,), "same", 0.0, 1.0,
                       False, vector=np.asarray(result.probabilities, np.float64)))
    return Overview(cols, list(result.class_names), skipped)
