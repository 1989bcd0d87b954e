"""`python -m benchmarks [area ...] [--quick]`: run the benchmarks and print lines ready for docs/benchmarks.md."""
from __future__ import annotations

import argparse
import importlib
import platform
import time

AREAS = {
    "inference": "canvas-to-probabilities latency and app start-up (issue 3)",
    "engines": "NumPy engine vs PyTorch vs the documents' loops: throughput and memory (issue 4)",
    "training": "background run vs bare loop; time to 97 % validation accuracy (issue 5)",
    "introspection": "feature maps of one input with the default model (issue 6)",
    "backprop": "forward, loss and backward of one digit with every number kept (issue 12)",
    "caps": "hostile checkpoints: refusal time and memory (issue 10)",
    "idle": "idle CPU of `make run`'s server after a visit (file watcher, issue 10)",
    "classroom": "N simulated students over Streamlit's websocket against `make run`'s server (issue 10)",
    "class_mode": "one class of 30 students sending drawings, the teacher's wall live, 3 training (issue 17)",
}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("areas", nargs="*", help=f"which benchmarks, of {list(AREAS)} (default: all)")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, for a smoke run")
    args = ap.parse_args(argv)
    unknown = [a for a in args.areas if a not in AREAS]
    if unknown:
        ap.error(f"unknown area(s) {unknown}; choose from {list(AREAS)}")
    import torch

    print(f"# CNN Explorer benchmarks — {time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for area in args.areas or AREAS:
        print(f"\n## {area}: {AREAS[area]}")
        module = importlib.import_module(f"benchmarks.{area}")
        for line in module.run(quick=args.quick):
            print(line, flush=True)


if __name__ == "__main__":
    main()
