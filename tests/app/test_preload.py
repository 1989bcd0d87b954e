"""ui.app.preload: what pages import on first use is imported before the server answers (issue 10)."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_preload_imports_what_pages_load_lazily_and_nothing_it_must_not():
    code = ("import json, sys; from ui.app import preload; took = preload.preload(); "
            "print(json.dumps({'took': took, 'mods': sorted(m for m in sys.modules if m.split('.')[0] in "
            "('captum', 'sklearn', 'scipy', 'streamlit', 'cnn_core', 'ui', 'ray'))}))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    mods = set(out["mods"])
    for needed in ("captum.attr", "sklearn.metrics", "scipy.signal", "streamlit.emojis", "ui.views.plots",
                   "cnn_core.inference.introspection", "cnn_core.training.workers"):
        assert needed in mods, needed
    assert not any(m == "ray" or m.startswith("ray.") for m in mods)          # only when a cluster is set
    assert "cnn_core.training.__main__" not in mods and "ui.app.serve" not in mods  # no command line ran
    assert out["took"]["total"] > 0 and "captum.attr" in out["took"]


def test_serve_preloads_and_serves_static_files_from_memory_before_starting():
    text = (ROOT / "ui" / "app" / "serve.py").read_text()
    main = text.split("def main(")[1]
    assert main.index("static_cache.install()") < main.index("cli.main()")
    assert main.index("preload.preload()") < main.index("cli.main()")
