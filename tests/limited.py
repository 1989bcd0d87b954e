"""Run code in a fresh Python under a memory limit, so a test fails if that code tries to allocate.

``run_limited(body)`` starts ``python -c`` that imports torch and cnn_core (the server's baseline),
then caps its address space (RLIMIT_AS) at the current size plus ``extra_gb``, runs ``body`` and
returns what the body printed as JSON on its last line. Any allocation of the sizes the caps are
about (gigabytes) fails inside the child with MemoryError / RuntimeError instead of passing.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PRELUDE = """
import json, resource, sys, time
import torch
import cnn_core.models.checkpoints, cnn_core.models.specs, cnn_core.training.run, cnn_core.training.sweep

def _status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

LIMIT = _status("VmSize") + int({extra})
resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))
"""


def run_limited(body: str, extra_gb: float = 1.5, env: dict | None = None, timeout: float = 180) -> object:
    code = PRELUDE.format(extra=int(extra_gb * 2 ** 30)) + textwrap.dedent(body)
    full_env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                "OMP_NUM_THREADS": "1", **(env or {})}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          env=full_env, cwd=ROOT)
    assert proc.returncode == 0, f"child failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])
