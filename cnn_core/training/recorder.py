"""Watching a network learn: ``LearningRecorder`` takes small pictures of a run while it trains.

At about ``EVEN_POINTS`` evenly spaced steps, at every epoch end, and once before the first step,
it records a ``TimelinePoint``: the first conv layer's kernels, its output (feature maps) for one
fixed probe image, the probe's class probabilities, and for every conv and dense layer the norm of
the weight gradient ‖∂L/∂W‖ and the size of the step relative to the weights ‖ΔW‖ / ‖W‖ (ΔW: the
update of the step just taken; the weights are copied one step before each recorded step).

Memory is bounded, whatever the run: at most ``MAX_POINTS`` points (64), at most ``MAX_KERNELS``
kernels (16) and feature maps per point, maps average-pooled until they hold at most
``MAP_VALUES`` numbers (16,384), all images stored as float16. A point therefore takes at most
about 50 kB (11×11 RGB kernels, the largest the builder makes), and a timeline at most
``MAX_BYTES`` (3 MB, tested); a 28×28 run with 16 kernels takes about 1.7 MB.

The recorder never changes what a run computes: the probe goes through the model in eval mode,
without gradients and without drawing from any random generator (tested: a recorded run's loss
curve equals an unrecorded one's).

It rides on ``fit``'s event stream: ``record`` yields every event unchanged and adds ``Extra``
events, one per point, each under its own key (``timeline/NN``), so a worker process sends each
point once and a snapshot's ``extra`` dict holds them all; ``timeline(snapshot.extra)`` puts them
back together::

    for event in record(fit(cfg, engine, train, val), engine, probe, total_steps, steps_per_epoch):
        ...
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from cnn_core.training.loop import Extra, Step

EVEN_POINTS = 50           # evenly spaced over the planned steps
MAX_EPOCH_POINTS = 13      # epoch ends recorded; with more epochs, every k-th (the last always)
MAX_POINTS = 64            # in all, the initial point included
MAX_KERNELS = 16           # kernels and maps shown (and stored) per point
MAP_VALUES = 16_384        # numbers per point's maps: 16 maps of 32×32
MAX_BYTES = 3 * 2 ** 20    # a whole timeline, header included
HEADER_KEY = "timeline"
POINT_KEY = "timeline/{:02d}"


@dataclass(frozen=True)
class TimelineHeader:
    """What every point shares: the probe and the names."""
    probe: np.ndarray           # float16 (C, H, W) in [0, 1]
    probe_source: str           # "your drawing", "validation image #0 (label 7)"
    probe_label: int | None     # the probe's true class, when known
    class_names: tuple[str, ...]
    layers: tuple[str, ...]     # "conv 1", "conv 2", "dense 1", … (conv and dense layers, in order)
    kernels_total: int          # kernels in the first conv layer (at most MAX_KERNELS are kept)
    planned: tuple[int, ...]    # the steps that will be recorded (0: before the first step)
    steps_per_epoch: int

    @property
    def nbytes(self) -> int:
        return int(self.probe.nbytes)


@dataclass(frozen=True)
class TimelinePoint:
    step: int                   # 0: the initial weights
    epoch: float                # steps / steps per epoch
    epoch_end: bool
    loss: float | None          # the loss of this step's batch
    kernels: np.ndarray         # float16 (K, C, kH, kW), K ≤ MAX_KERNELS
    maps: np.ndarray            # float16 (K, H', W') for the probe (average-pooled if large)
    probs: np.ndarray           # float32 (classes,)
    grad_norm: np.ndarray       # float64 (layers,): ‖∂L/∂W‖ of this step; NaN at step 0
    update_ratio: np.ndarray    # float64 (layers,): ‖ΔW‖ / ‖W‖ of this step; NaN at step 0

    @property
    def nbytes(self) -> int:
        return sum(int(a.nbytes) for a in (self.kernels, self.maps, self.probs, self.grad_norm, self.update_ratio))


@dataclass(frozen=True)
class Timeline:
    header: TimelineHeader
    points: tuple[TimelinePoint, ...]

    def __len__(self) -> int:
        return len(self.points)

    @property
    def nbytes(self) -> int:
        return self.header.nbytes + sum(p.nbytes for p in self.points)

    @property
    def steps(self) -> np.ndarray:
        return np.array([p.step for p in self.points])

    def grad_norms(self) -> np.ndarray:
        """(points, layers)."""
        return np.array([p.grad_norm for p in self.points]).reshape(len(self.points), len(self.header.layers))

    def update_ratios(self) -> np.ndarray:
        return np.array([p.update_ratio for p in self.points]).reshape(len(self.points), len(self.header.layers))


def plan(total_steps: int, steps_per_epoch: int, even: int = EVEN_POINTS) -> tuple[int, ...]:
    """The steps to record: 0 (before training), ``even`` evenly spaced steps and the epoch ends
    (every k-th when there are more than MAX_EPOCH_POINTS), at most MAX_POINTS in all."""
    total, per = int(total_steps), max(1, int(steps_per_epoch))
    if total <= 0:
        return (0,)
    ends = np.arange(per, total + 1, per)
    if len(ends) > MAX_EPOCH_POINTS:
        ends = ends[np.unique(np.linspace(len(ends) - 1, 0, MAX_EPOCH_POINTS).round().astype(int))]
    n_even = min(even, MAX_POINTS - 1 - len(ends), total)
    spaced = np.linspace(1, total, n_even).round().astype(int) if n_even > 0 else np.array([], int)
    return tuple(int(s) for s in np.unique(np.r_[0, ends, spaced, total]))[:MAX_POINTS]


def layer_names(spec: dict) -> tuple[str, ...]:
    counts: dict[str, int] = {}
    names = []
    for layer in spec["layers"]:
        kind = {"conv2d": "conv", "dense": "dense"}.get(layer["type"])
        if kind:
            counts[kind] = counts.get(kind, 0) + 1
            names.append(f"{kind} {counts[kind]}")
    return tuple(names)


def shrink_maps(maps: np.ndarray | None, max_values: int = MAP_VALUES) -> np.ndarray:
    """At most MAX_KERNELS maps, average-pooled f×f (f as small as possible) until at most
    ``max_values`` numbers remain; float16."""
    if maps is None:
        return np.zeros((0, 0, 0), np.float16)
    m = np.asarray(maps, dtype=np.float32)[:MAX_KERNELS]
    k, h, w = m.shape
    f = max(1, math.ceil(math.sqrt(k * h * w / max_values)))
    if f > 1:
        h2, w2 = max(1, h // f), max(1, w // f)
        m = m[:, :h2 * f, :w2 * f].reshape(k, h2, f, w2, f).mean(axis=(2, 4))
    return _half(m)


def _half(a) -> np.ndarray:
    """float16, finite: a diverging run's huge values are clipped to ±60,000 (float16's range)."""
    return np.clip(np.nan_to_num(np.asarray(a, dtype=np.float32)), -6e4, 6e4).astype(np.float16)


def choose_probe(input_shape, drawing: np.ndarray | None = None, drawing_source: str = "your drawing",
                 fallback=None) -> tuple[np.ndarray, str, int | None]:
    """(image (C, H, W) float32 in [0, 1], where it came from, its label or None).

    The learner's drawing when it fits the network's input (one grey channel of that size), else
    the first image of ``fallback`` (a data set: the run's validation split), else a blank image."""
    c, h, w = (int(v) for v in input_shape)
    if drawing is not None:
        d = np.asarray(drawing, dtype=np.float32)
        d = d[None] if d.ndim == 2 else d
        if d.shape == (c, h, w) and np.isfinite(d).all():
            return np.clip(d, 0, 1), drawing_source or "your drawing", None
    if fallback is not None and len(fallback):
        label = int(fallback.labels[0])
        names = list(getattr(fallback, "class_names", []))
        name = names[label] if label < len(names) else str(label)
        img = fallback.images[0].astype(np.float32) / 255.0
        return img.reshape(c, h, w), f"validation image #0 (a {name})", label
    return np.zeros((c, h, w), np.float32), "a blank image", None


class LearningRecorder:
    """Records a ``Timeline`` from ``fit``'s events and an engine's ``layer_weights`` / ``probe``."""

    def __init__(self, spec: dict, total_steps: int, steps_per_epoch: int, probe: np.ndarray,
                 probe_source: str = "", probe_label: int | None = None, class_names=None):
        self.spec = spec
        self.planned = plan(total_steps, steps_per_epoch)
        self._planned = set(self.planned)
        self.steps_per_epoch = max(1, int(steps_per_epoch))
        self.probe = np.asarray(probe, dtype=np.float32)
        names = tuple(str(c) for c in class_names) if class_names is not None else \
            tuple(str(i) for i in range(int(spec["num_classes"])))
        self.header = TimelineHeader(self.probe.astype(np.float16), probe_source, probe_label, names, layer_names(spec),
                                     _first_conv_kernels(spec), self.planned, self.steps_per_epoch)
        self.points: list[TimelinePoint] = []
        self._before: list[np.ndarray] | None = None    # weights one step before a recorded step
        self.seconds = 0.0                               # spent recording (for the benchmark)

    def timeline(self) -> Timeline:
        return Timeline(self.header, tuple(self.points))

    def start(self, engine) -> TimelinePoint:
        """The initial point (step 0); call before the first step."""
        t0 = time.perf_counter()
        point = self._capture(engine, 0, None, True)
        self._remember_if_next_recorded(engine, 0)
        self.seconds += time.perf_counter() - t0
        return point

    def observe(self, event, engine) -> TimelinePoint | None:
        """Feed every event of ``fit``; returns the point recorded for it, if any."""
        if not isinstance(event, Step):
            return None
        t0 = time.perf_counter()
        point = None
        if event.step in self._planned:
            point = self._capture(engine, event.step, event.loss, False,
                                  epoch_end=event.step % self.steps_per_epoch == 0)
        self._remember_if_next_recorded(engine, event.step)
        self.seconds += time.perf_counter() - t0
        return point

    def _remember_if_next_recorded(self, engine, step: int) -> None:
        if step + 1 in self._planned:
            self._before = [np.array(w, dtype=np.float32) for _, w, _ in engine.layer_weights()]

    def _capture(self, engine, step: int, loss: float | None, initial: bool, epoch_end: bool = False) -> TimelinePoint:
        weights = engine.layer_weights()
        grad_norm = np.full(len(weights), np.nan)
        ratio = np.full(len(weights), np.nan)
        if not initial:
            for j, (_, w, g) in enumerate(weights):
                if g is not None:
                    grad_norm[j] = _norm(g)
                if self._before is not None and j < len(self._before):
                    w0 = self._before[j]
                    ratio[j] = _norm(np.subtract(w, w0, dtype=np.float32)) / max(_norm(w0), 1e-12)
        self._before = None
        maps, probs = engine.probe(self.probe)
        first = next((w for i, w, _ in weights if self.spec["layers"][i]["type"] == "conv2d"), None)
        kernels = (np.zeros((0, 0, 0, 0), np.float16) if first is None
                   else _half(first[:MAX_KERNELS]))
        point = TimelinePoint(step, step / self.steps_per_epoch, epoch_end, None if loss is None else float(loss),
                              kernels, shrink_maps(maps), np.asarray(probs, dtype=np.float32).copy(), grad_norm, ratio)
        self.points.append(point)
        return point


def _norm(a) -> float:
    """‖a‖₂ (one BLAS dot product over the flat array, float32 is plenty for a plot)."""
    v = np.asarray(a).ravel()
    return float(np.sqrt(np.dot(v, v)))


def _first_conv_kernels(spec: dict) -> int:
    return next((int(l["out_channels"]) for l in spec["layers"] if l["type"] == "conv2d"), 0)


def record(events, engine, recorder: LearningRecorder) -> Iterator:
    """``fit``'s events, unchanged, with an ``Extra`` after each recorded point (the header first)."""
    yield Extra({HEADER_KEY: recorder.header})
    yield Extra({POINT_KEY.format(0): recorder.start(engine)})
    for event in events:
        point = recorder.observe(event, engine)
        yield event
        if point is not None:
            yield Extra({POINT_KEY.format(len(recorder.points) - 1): point})


def timeline(extra: dict | None) -> Timeline | None:
    """The timeline a run's snapshot carries in its ``extra`` dict, or None."""
    if not extra or HEADER_KEY not in extra:
        return None
    n = sum(1 for k in extra if k.startswith(HEADER_KEY + "/"))
    points = tuple(extra[POINT_KEY.format(i)] for i in range(n) if POINT_KEY.format(i) in extra)
    return Timeline(extra[HEADER_KEY], points)
