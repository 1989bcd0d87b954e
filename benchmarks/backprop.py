"""Backpropagation on one example (issue 12): ``backprop.trace`` of one 28×28 digit through the
seed-002 network (315,148 parameters, batch norm, dropout in eval mode) — target < 200 ms.

    python -m benchmarks backprop [--quick]

The trace copies the model to float64, runs forward, loss and backward and keeps every layer's
input, output and gradients. Compared in the same run (interleaved) with a bare float32
forward + backward of the same network (``Sequential.train_step`` without an optimiser), so the
ratio shows what the float64 copy and the kept numbers cost. The page's proof (torch autograd on
a float64 twin) and one written-out conv weight sum are timed too.
"""
from __future__ import annotations

import time

import numpy as np

TARGET_MS = 200.0


def _pct(xs, q) -> float:
    return float(np.percentile(np.asarray(xs) * 1000.0, q))


def run(quick: bool = False) -> list[str]:
    from cnn_core.data.datasets import load_bundled
    from cnn_core.lessons import backprop as bp, backprop_arithmetic as ba
    from cnn_core.models import specs
    from cnn_core.numpy_nn import build_numpy, softmax_cross_entropy

    ds = load_bundled()
    image = ds.floats([int(np.flatnonzero(ds.labels == 7)[0])])[0, 0]
    lines = []
    for name in ("seed-002", "seed-000"):
        model = build_numpy(specs.preset(name), seed=0).eval()
        n = 10 if quick else 60
        for _ in range(3):
            bp.trace(model, image, 7)
        traced, bare = [], []
        x, y = image[None, None].astype(np.float32), np.array([7])
        for _ in range(n):
            t = time.perf_counter()
            tr = bp.trace(model, image, 7)
            traced.append(time.perf_counter() - t)
            t = time.perf_counter()
            model.train_step(x, y, softmax_cross_entropy)
            bare.append(time.perf_counter() - t)
        p50, p95 = _pct(traced, 50), _pct(traced, 95)
        verdict = ("meets" if p95 < TARGET_MS else "MISSES") + f" the {TARGET_MS:.0f} ms target" if name == "seed-002" else ""
        lines.append(f"- trace of one digit, {name} ({specs.count_params(model.spec):,} parameters): p50 {p50:.1f} ms, "
                     f"p95 {p95:.1f} ms over {n} runs; bare float32 forward+backward p50 {_pct(bare, 50):.1f} ms "
                     f"(trace / bare {p50 / max(_pct(bare, 50), 1e-9):.1f}×){'; ' + verdict if verdict else ''}")
        t = time.perf_counter()
        check = bp.autograd_check(model, image, 7, tr)
        t_check = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        ba.conv_weight_grad(tr.steps[[s.kind for s in tr.steps].index("conv2d")], 0, 0, 1, 1)
        t_sum = (time.perf_counter() - t) * 1000
        lines.append(f"  - autograd check ({check.compared:,} numbers, max |difference| {check.max_abs_diff:.1e}): "
                     f"{t_check:.0f} ms; one conv weight's written sum: {t_sum:.1f} ms")
    return lines
