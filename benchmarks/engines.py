"""Training throughput of the NumPy engine against PyTorch on the CPU and the documents' loop
style, and the peak memory of a NumPy training run (issue 4).

    python -m benchmarks engines [--quick]

Every number is one training step (forward, cross-entropy, backward, SGD with momentum) on a
batch of 64 float32 images of 1×28×28, counted in images per second. NumPy and PyTorch run in
the same process, interleaved round by round, so a busy machine slows both alike. Two ratios are
reported: the median of the per-round ratios, and the ratio of each engine's fastest round (the
closest the run came to an idle machine); a target counts as met only if both meet it. PyTorch keeps its default thread count (2 on the project's
machines) and is also measured pinned to one thread; the NumPy engine runs on one BLAS thread
(``numpy_nn/threads.py`` says why). The loop style (``numpy_nn.loop_style``, document 000's
network trained one image at a time with per-pixel loops, float64 like the documents) is timed
on a few images -- it needs no extrapolation, its unit is already images per second.

Peak memory: a fresh process that imports only NumPy and the engine trains seed-000 for one
epoch of the bundled digits (4,250 images, batch 64; ``--quick``: 20 steps), another one trains
seed-002 for a few steps; each is reported as the process's peak resident set (VmHWM, which,
unlike ``ru_maxrss``, does not inherit the parent's peak) and the peak of the arrays the run
allocated (``tracemalloc``).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BATCH = 64
TARGETS = {"numpy_vs_torch": 1.0, "numpy_vs_loops": 100.0, "seed002_vs_torch": 0.3, "peak_mb": 500.0}
ROOT = Path(__file__).resolve().parents[1]


def _batch(seed: int = 0):
    rng = np.random.default_rng(seed)
    from cnn_core.data.datasets import load_bundled

    ds = load_bundled()
    idx = rng.choice(len(ds), BATCH, replace=False)
    return ds.floats(idx), ds.labels[idx]


def numpy_step(spec: dict, x: np.ndarray, y: np.ndarray):
    from cnn_core.numpy_nn import SGD, build_numpy, softmax_cross_entropy

    model = build_numpy(spec, seed=0)
    opt = SGD(model, 0.01, momentum=0.9)
    return lambda: model.train_step(x, y, softmax_cross_entropy, opt)


def torch_step(spec: dict, x: np.ndarray, y: np.ndarray, threads: int | None = None):
    """A torch training step; ``threads`` pins torch's intra-op threads for that step only."""
    import torch

    from cnn_core.models.specs import build_torch

    torch.manual_seed(0)
    model = build_torch(spec).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        default = torch.get_num_threads()
        if threads:
            torch.set_num_threads(threads)
        try:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt), yt)
            loss.backward()
            opt.step()
            return loss.item()
        finally:
            torch.set_num_threads(default)
    return step


def interleaved(steps: dict, rounds: int, per_round: int, warmup: int = 2) -> dict[str, list[float]]:
    """Seconds per step of each callable, measured round by round in turn."""
    for fn in steps.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, fn in steps.items():
            t0 = time.perf_counter()
            for _ in range(per_round):
                fn()
            times[name].append((time.perf_counter() - t0) / per_round)
    return times


def compare_with_torch(preset_name: str, rounds: int, per_round: int) -> dict:
    from cnn_core.models.specs import preset

    spec = preset(preset_name)
    x, y = _batch()
    t = interleaved({"numpy": numpy_step(spec, x, y), "torch": torch_step(spec, x, y),
                     "torch1": torch_step(spec, x, y, threads=1)}, rounds, per_round)
    ratios = [tt / tn for tn, tt in zip(t["numpy"], t["torch"])]
    ratios1 = [tt / tn for tn, tt in zip(t["numpy"], t["torch1"])]
    return {"numpy_ips": BATCH / float(np.median(t["numpy"])), "torch_ips": BATCH / float(np.median(t["torch"])),
            "torch1_ips": BATCH / float(np.median(t["torch1"])), "ratio": float(np.median(ratios)),
            "ratio_range": (min(ratios), max(ratios)), "ratio1": float(np.median(ratios1)),
            # the fastest round of each: the closest this run came to an idle machine
            "best_numpy_ips": BATCH / min(t["numpy"]), "best_torch_ips": BATCH / min(t["torch"]),
            "best_ratio": min(t["torch"]) / min(t["numpy"]), "best_ratio1": min(t["torch1"]) / min(t["numpy"])}


def _torch_lines(label: str, r: dict, target: float) -> list[str]:
    worst = min(r["ratio"], r["best_ratio"])
    return [f"- {label}: NumPy {r['numpy_ips']:,.0f} img/s, PyTorch CPU {r['torch_ips']:,.0f} img/s (medians) "
            f"→ NumPy/PyTorch **{r['ratio']:.2f}×** (per-round ratios {r['ratio_range'][0]:.2f}–{r['ratio_range'][1]:.2f}); "
            f"fastest rounds {r['best_numpy_ips']:,.0f} vs {r['best_torch_ips']:,.0f} img/s → **{r['best_ratio']:.2f}×**; "
            f"target ≥ {target}×: {_verdict(worst >= target)} (judged on the lower of the two)",
            f"  - PyTorch pinned to 1 thread: {r['torch1_ips']:,.0f} img/s → NumPy/PyTorch {r['ratio1']:.2f}× "
            f"(fastest rounds {r['best_ratio1']:.2f}×)"]


def loop_style_ips(n_images: int) -> float:
    from cnn_core.numpy_nn.loop_style import LoopStyleCNN

    x, y = _batch(1)
    images = x[:, 0].astype(np.float64)
    model = LoopStyleCNN()
    model.train_image(images[0], int(y[0]))                 # warm-up
    t0 = time.perf_counter()
    for i in range(n_images):
        model.train_image(images[i % BATCH], int(y[i % BATCH]))
    return n_images / (time.perf_counter() - t0)


def memory_probe(preset_name: str, steps: int) -> dict:
    """Train ``preset_name`` with the NumPy engine for ``steps`` batches of 64 (0: one epoch of the
    bundled training split) and return its peak memory in MB. Meant for a fresh process."""
    import tracemalloc

    from cnn_core.data.datasets import load_bundled, split
    from cnn_core.numpy_nn import SGD, build_numpy
    from cnn_core.models.specs import preset

    tracemalloc.start()
    train = split(load_bundled()).train
    x, y = train.floats(), train.labels
    model = build_numpy(preset(preset_name), seed=0)
    opt = SGD(model, 0.01, momentum=0.9)
    n_steps = steps or -(-len(x) // BATCH)
    order = np.random.default_rng(0).permutation(len(x))
    for s in range(n_steps):
        idx = order[(s * BATCH) % len(x):][:BATCH]
        model.train_step(x[idx], y[idx], "cross_entropy", opt)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"preset": preset_name, "steps": n_steps, "traced_mb": traced_peak / 2**20,
            "rss_mb": _peak_rss_kb() / 1024}


def _peak_rss_kb() -> float:
    """This process's peak resident set (VmHWM) in kB; ru_maxrss as a fallback off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    except OSError:
        pass
    import resource

    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _probe_in_fresh_process(preset_name: str, steps: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-m", "benchmarks.engines", "--memory-probe", preset_name, str(steps)],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def _blas_threads() -> str:
    try:
        from threadpoolctl import threadpool_info

        return ", ".join(f"{i['internal_api']} {i['num_threads']}" for i in threadpool_info() if i["user_api"] == "blas")
    except Exception:                                       # threadpoolctl is optional here
        return "unknown"


def run(quick: bool = False) -> list[str]:
    import torch

    lines = [f"- setup: batch {BATCH}, float32, SGD momentum 0.9; PyTorch {torch.get_num_threads()} threads (its default); "
             f"NumPy engine 1 BLAS thread (BLAS default: {_blas_threads()}); load average "
             f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the start (other processes slow both engines)"]
    s000 = compare_with_torch("seed-000", rounds=4 if quick else 25, per_round=10)
    lines += _torch_lines("seed-000 training", s000, TARGETS["numpy_vs_torch"])
    n_loop = 8 if quick else 64
    loops = loop_style_ips(n_loop)
    speedup = s000["numpy_ips"] / loops
    lines.append(f"- seed-000, the documents' loop style (one image at a time, per-pixel loops, float64 like the documents; timed on {n_loop} "
                 f"images): {loops:,.1f} img/s → NumPy engine **{speedup:,.0f}×** faster "
                 f"(target ≥ {TARGETS['numpy_vs_loops']:.0f}×: {_verdict(speedup >= TARGETS['numpy_vs_loops'])})")
    s002 = compare_with_torch("seed-002", rounds=2 if quick else 8, per_round=2)
    lines += _torch_lines("seed-002 training (315,148 parameters)", s002, TARGETS["seed002_vs_torch"])
    for name, steps in (("seed-000", 20 if quick else 0), ("seed-002", 3 if quick else 10)):
        m = _probe_in_fresh_process(name, steps)
        lines.append(f"- peak memory, NumPy training run of {name} ({m['steps']} steps of {BATCH}, fresh process): "
                     f"**{m['rss_mb']:.0f} MB** resident, of which arrays {m['traced_mb']:.0f} MB "
                     f"(target < {TARGETS['peak_mb']:.0f} MB: {_verdict(m['rss_mb'] < TARGETS['peak_mb'])})")
    return lines


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--memory-probe":
        print(json.dumps(memory_probe(sys.argv[2], int(sys.argv[3]))))
    else:
        print("\n".join(run(quick="--quick" in sys.argv)))
