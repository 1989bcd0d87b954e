"""Feature maps of one input with the default model (issue 6): target < 100 ms.

    python -m benchmarks introspection [--quick]

``introspect`` is what the Layer Explorer runs on every rerun: one forward pass that keeps every
layer's output as NumPy, plus softmax. It is timed on one bundled digit after a warm-up, and
compared with a bare ``model(x)`` under ``torch.no_grad`` in the same run (interleaved), so the
ratio shows what recording the layers costs. Saliency and Grad-CAM (captum, on a private copy of
the model) and a what-if copy are timed too, since the page runs them on the same rerun.
"""
from __future__ import annotations

import time

import numpy as np

TARGET_MS = 100.0


def _pct(xs, q) -> float:
    return float(np.percentile(np.asarray(xs) * 1000.0, q))


def run(quick: bool = False) -> list[str]:
    import torch

    from cnn_core.inference import introspection as intro
    from cnn_core.data.datasets import load_bundled
    from cnn_core.models.pretrained import load_default_bundle

    bundle = load_default_bundle()
    ds = load_bundled()
    image = ds.floats([int(np.flatnonzero(ds.labels == 7)[0])])[0, 0]
    x, _ = intro.prepare_input(image, bundle.spec["input_shape"])
    n = 30 if quick else 300

    for _ in range(5):  # warm-up: first calls allocate
        intro.introspect(bundle.model, image, bundle.spec)
    from cnn_core.inference.predict import on_single_thread

    def bare_forward():
        with torch.no_grad():
            bundle.model(x)

    full, bare, caller = [], [], []
    for _ in range(n):
        t = time.perf_counter()
        r = intro.introspect(bundle.model, image, bundle.spec)
        full.append(time.perf_counter() - t)
        t = time.perf_counter()
        on_single_thread(bare_forward)  # same one-thread worker as introspect
        bare.append(time.perf_counter() - t)
        t = time.perf_counter()
        bare_forward()  # on this thread, with torch's default thread count
        caller.append(time.perf_counter() - t)
    p50, p95 = _pct(full, 50), _pct(full, 95)
    verdict = "meets" if p95 < TARGET_MS else "MISSES"
    lines = [
        f"- every layer's output for one 28×28 input, default model ({len(r.layers)} layers, "
        f"{sum(lo.output.size for lo in r.layers):,} values): p50 {p50:.2f} ms, p95 {p95:.2f} ms over {n} runs "
        f"— {verdict} the < {TARGET_MS:.0f} ms target",
        f"- the same forward pass without recording: p50 {_pct(bare, 50):.2f} ms; recording costs "
        f"{np.median(np.asarray(full) / np.asarray(bare)):.1f}× a bare forward (median of per-run ratios)",
        f"- the bare forward on the caller's thread with torch's {torch.get_num_threads()} threads instead of the "
        f"one-thread worker: p50 {_pct(caller, 50):.2f} ms, p95 {_pct(caller, 95):.2f} ms",
    ]
    m = 5 if quick else 30
    for name, fn in [
        ("saliency (captum Saliency, model copy)", lambda: intro.saliency(bundle.model, image, bundle.spec, r.predicted)),
        ("Grad-CAM (captum LayerGradCam, last conv, model copy)",
         lambda: intro.grad_cam(bundle.model, image, bundle.spec, r.predicted)),
        ("what-if copy with one kernel zeroed", lambda: intro.what_if(bundle.model, 0, 0, zero=True)),
    ]:
        fn()
        ts = []
        for _ in range(m):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        lines.append(f"- {name}: p50 {_pct(ts, 50):.2f} ms, p95 {_pct(ts, 95):.2f} ms over {m} runs")
    return lines
