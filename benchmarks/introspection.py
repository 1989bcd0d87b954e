"""Feature maps of one input with the default model (issue 6): target < 100 ms; the network overview
of the default model and seed-002 (issue 13): target < 1 s of server time.

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
    lines += overview_lines(bundle, image, quick)
    return lines


OVERVIEW_TARGET_MS = 1000.0


def overview_lines(bundle, image, quick: bool = False) -> list[str]:
    """The Layer Explorer's overview, as the page builds it on every rerun: the forward pass that records
    every layer, the columns (top maps per stage), the plotly figure and its JSON (what Streamlit sends);
    then the same with a conv map of the second conv layer selected (its per-channel contributions, for
    the highlighted edges, and the drill-down figure with one cell written out)."""
    import plotly.io
    import plotly.tools
    import torch

    from cnn_core.inference import introspection as intro
    from cnn_core.inference.conv_arithmetic import conv_contributions_from
    from cnn_core.inference.overview import build_overview
    from cnn_core.models import specs
    from ui.views.see_inside import neuron_plots, overview_plots

    torch.manual_seed(0)
    seed2 = specs.preset("seed-002")
    nets = [("default model", bundle.model, bundle.spec), ("seed-002 (untrained weights)",
                                                           specs.build_torch(seed2).eval(), seed2)]
    n = 5 if quick else 30
    lines = []
    for name, model, spec in nets:
        conv2 = [i for i, layer in enumerate(spec["layers"]) if layer["type"] == "conv2d"][1]

        def sent(fig) -> str:  # what st.plotly_chart does with a figure before it goes to the browser
            return plotly.io.to_json(plotly.tools.return_figure_from_figure_or_data(fig, True), validate=False)

        def plain():
            r = intro.introspect(model, image, spec)
            ov = build_overview(r)
            return sent(overview_plots.overview_figure(ov)), r

        def selected():
            r = intro.introspect(model, image, spec)
            ov = build_overview(r, pinned=(conv2, 0))
            cc = conv_contributions_from(model, r, conv2, 0)
            fig = overview_plots.overview_figure(ov, selected=(conv2, 0), feeds=dict(enumerate(cc.share())))
            parts = neuron_plots.conv_parts(cc, range(min(6, cc.partials.shape[0])), (3, 3))
            cc.cell(3, 3).written_total()
            return sent(fig) + sent(parts)

        js, r = plain()
        selected()
        wall = {"plain": [], "selected": []}
        cpu = {"plain": [], "selected": []}
        for _ in range(n):
            for key, fn in (("plain", plain), ("selected", selected)):
                t, c = time.perf_counter(), time.process_time()  # process CPU: the worker thread counts too
                fn()
                wall[key].append(time.perf_counter() - t)
                cpu[key].append(time.process_time() - c)
        p95 = max(_pct(wall["plain"], 95), _pct(wall["selected"], 95))
        lines.append(f"- overview, {name} ({len(r.layers)} layers), figure {len(js) / 1e3:.0f} kB of JSON: wall p50 "
                     f"{_pct(wall['plain'], 50):.0f} ms, p95 {_pct(wall['plain'], 95):.0f} ms (CPU p50 "
                     f"{_pct(cpu['plain'], 50):.0f} ms); with a second-conv map selected and taken apart: wall p50 "
                     f"{_pct(wall['selected'], 50):.0f} ms, p95 {_pct(wall['selected'], 95):.0f} ms (CPU p50 "
                     f"{_pct(cpu['selected'], 50):.0f} ms), {n} runs — "
                     f"{'meets' if p95 < OVERVIEW_TARGET_MS else 'MISSES'} the < {OVERVIEW_TARGET_MS / 1000:.0f} s target")
    return lines
