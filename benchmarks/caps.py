"""Hostile checkpoints: refusal time and the memory they cost the server (issue 10).

Three ways: in this process, in Chromium against `make run`'s server (when Chromium is installed),
and on the Train page in AppTest.

Each file below goes through ``checkpoints.from_bytes`` (what the Train page's "Load a saved
model" runs on an upload) in this process, after a warm-up load of a good checkpoint; reported:
the time to the refusal, the change in resident memory (VmRSS) and whether the process's peak
(VmHWM) grew. Then the same files are uploaded to the Train page in AppTest (the page script runs
in this process, as in the server): time to the page showing its one st.error. Targets: each
refused in under 2 s, memory unchanged within ±50 MB.

The files are the ones issue 10 describes (a 350-byte .safetensors asking for a dense layer of
4,000,000 units; a 50,000 × 50,000 input), pickle payloads, and damaged files. The tests in
tests/models/test_hostile_checkpoints.py use the same set.
"""
from __future__ import annotations

import io
import json
import math
import pickle
import struct
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 2.0
TARGET_MB = 50.0


def _safetensors(tensors: dict, metadata: dict | None = None, header_extra: dict | None = None) -> bytes:
    """A .safetensors file written by hand: ``tensors`` maps name → (dtype, shape, raw bytes)."""
    header, blobs, offset = {}, [], 0
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata is not None:
        header["__metadata__"] = metadata
    header.update(header_extra or {})
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    return struct.pack("<Q", len(head)) + head + b"".join(blobs)


def _spec(input_shape, layers) -> dict:
    return {"name": "bomb", "input_shape": list(input_shape), "num_classes": 10, "layers": layers}


class _Payload:
    """Unpickling this creates ``marker``: proof that a loader ran code from the file."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def hostile_checkpoints(marker: str | Path = "/tmp/cnn-explorer-pwned") -> dict[str, bytes]:
    """Name → file bytes of every hostile or broken checkpoint this benchmark and the tests use."""
    import torch

    from cnn_core.models import checkpoints, specs

    files: dict[str, bytes] = {}
    dense_bomb = _spec((1, 28, 28), [{"type": "flatten"}, {"type": "dense", "out_features": 4_000_000},
                                     {"type": "dense", "out_features": 10}])
    files["dense 4,000,000 units (spec only)"] = _safetensors({}, {"spec": json.dumps(dense_bomb)})
    huge_input = _spec((1, 50_000, 50_000), [{"type": "conv2d", "out_channels": 8, "kernel_size": 3},
                                             {"type": "flatten"}, {"type": "dense", "out_features": 10}])
    files["50,000 × 50,000 input"] = _safetensors({}, {"spec": json.dumps(huge_input)})
    wide = _spec((1, 512, 512), [{"type": "conv2d", "out_channels": 256, "kernel_size": 3, "padding": 1},
                                 {"type": "maxpool2d", "kernel_size": 64}, {"type": "flatten"},
                                 {"type": "dense", "out_features": 10}])
    files["256 × 512 × 512 activations"] = _safetensors({}, {"spec": json.dumps(wide)})
    files["30,000 layers"] = _safetensors({}, {"spec": json.dumps(_spec((1, 28, 28), [{"type": "relu"}] * 30_000))})
    files["JSON nested 200,000 deep"] = _safetensors({}, {"spec": "[" * 200_000 + "]" * 200_000})
    files["Infinity in input_shape"] = _safetensors({}, {"spec": '{"input_shape": [1, Infinity, 28], "layers": []}'})
    good_spec = specs.preset("seed-000")
    # A valid small spec, but the header declares a 3.1-billion-element tensor (12 GB) in a 400-byte file.
    declared = {k: ("F32", shape, bytes(4 * math.prod(shape))) for k, shape in specs.state_shapes(good_spec).items()}
    declared["0.weight"] = ("F32", (4_000_000, 784), b"")
    files["header declares a 12 GB tensor"] = _safetensors(declared, {"spec": json.dumps(good_spec)})
    good = checkpoints.to_bytes(checkpoints.ModelBundle(good_spec, specs.build_torch(good_spec).eval(), {}))
    files["truncated in the header"] = good[:40]
    files["truncated in the weights"] = good[:len(good) // 2]
    files["header bytes flipped"] = good[:20] + bytes(b ^ 0x5A for b in good[20:60]) + good[60:]
    state = {k: v.clone() for k, v in specs.build_torch(good_spec).state_dict().items()}
    state["0.weight"] = state["0.weight"].to(torch.int32)
    from safetensors.torch import save as st_save
    files["int32 weights"] = st_save(state, metadata={"spec": json.dumps(good_spec)})
    state["0.weight"] = torch.zeros(16, 1, 3, 3)
    files["wrong weight shape"] = st_save(state, metadata={"spec": json.dumps(good_spec)})

    buf = io.BytesIO()
    torch.save({"0.weight": torch.zeros(8, 1, 3, 3), "x": _Payload(str(marker))}, buf)
    files["torch.save zip with a pickle payload"] = buf.getvalue()
    buf = io.BytesIO()
    torch.save(_Payload(str(marker)), buf, _use_new_zipfile_serialization=False)
    files["legacy torch pickle payload"] = buf.getvalue()
    files["bare pickle payload"] = pickle.dumps(_Payload(str(marker)), protocol=4)
    return files


def _mem_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB, from /proc/self/status."""
    vals = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            k, v = line.split(":")
            vals[k] = int(v.split()[0]) / 1024
    return vals["VmRSS"], vals["VmHWM"]


def measure(files: dict[str, bytes]) -> list[dict]:
    """Per file: seconds to the CheckpointError, its message, RSS and peak change in MB."""
    from cnn_core.models import checkpoints, specs

    spec = specs.preset("seed-002")             # warm-up: imports, torch's allocator, safetensors
    checkpoints.from_bytes(checkpoints.to_bytes(checkpoints.ModelBundle(spec, specs.build_torch(spec).eval(), {})))
    rows = []
    for name, blob in files.items():
        rss0, hwm0 = _mem_mb()
        t0 = time.perf_counter()
        try:
            checkpoints.from_bytes(blob)
            message, refused = "LOADED", False
        except checkpoints.CheckpointError as exc:
            message, refused = str(exc), True
        seconds = time.perf_counter() - t0
        rss1, hwm1 = _mem_mb()
        rows.append({"name": name, "bytes": len(blob), "refused": refused, "seconds": seconds, "message": message,
                     "rss_delta_mb": rss1 - rss0, "peak_growth_mb": hwm1 - hwm0})
    return rows


def measure_page(files: dict[str, bytes]) -> list[dict]:
    """Per file: the Train page in AppTest, seconds from upload to its rerun ending, and what it showed."""
    import os

    from streamlit.testing.v1 import AppTest

    os.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "pages" / "6_Train.py"), default_timeout=60).run()
    rows = []
    for name, blob in files.items():
        rss0, _ = _mem_mb()
        t0 = time.perf_counter()
        at.file_uploader(key="tr_ckpt").set_value((f"{len(rows)}.safetensors", blob, "application/octet-stream")).run()
        seconds = time.perf_counter() - t0
        rss1, _ = _mem_mb()
        rows.append({"name": name, "seconds": seconds, "errors": len(at.error), "exceptions": len(at.exception),
                     "rss_delta_mb": rss1 - rss0})
    return rows


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _rss_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_browser(files: dict[str, bytes], messages: dict[str, str]) -> list[dict] | None:
    """Per file, in Debian's Chromium against `make run`'s server: a fresh tab on the Train page, the
    file set on the "Load a saved model" uploader, seconds until the page shows the expected sentence;
    the server's RSS before and after. None without Chromium or Playwright."""
    import shutil
    import tempfile

    if not shutil.which("chromium"):
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    from benchmarks.classroom import Server

    folder = Path(tempfile.mkdtemp())
    rows = []
    with Server() as srv, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        try:
            for i, (name, blob) in enumerate(files.items()):
                path = folder / f"upload-{i}.safetensors"
                path.write_bytes(blob)
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(f"{srv.url}/train", timeout=120_000)
                page.get_by_text("Load a saved model").first.click(timeout=120_000)
                uploader = page.locator('[data-testid="stFileUploader"] input[type=file]').last
                uploader.wait_for(state="attached", timeout=30_000)
                time.sleep(0.5)
                rss0 = _rss_of(srv.proc.pid)
                t0 = time.perf_counter()
                uploader.set_input_files(str(path))
                alert = page.locator('[data-testid="stAlert"]', has_text=messages[name][:60]).first
                alert.wait_for(timeout=30_000)
                seconds = time.perf_counter() - t0
                rows.append({"name": name, "seconds": seconds, "rss_before": rss0, "rss_after": _rss_of(srv.proc.pid),
                             "exceptions": page.locator('[data-testid="stException"]').count()})
                page.close()
        finally:
            browser.close()
    return rows


def run(quick: bool = False):
    import tempfile

    marker = Path(tempfile.mkdtemp()) / "pwned"
    files = hostile_checkpoints(marker)
    rows = measure(files)
    worst_s = max(r["seconds"] for r in rows)
    worst_mb = max(abs(r["rss_delta_mb"]) for r in rows)
    peak = max(r["peak_growth_mb"] for r in rows)
    for r in rows:
        yield (f"- {r['name']} ({r['bytes']:,} bytes): {'refused' if r['refused'] else 'LOADED'} in "
               f"{r['seconds'] * 1000:.1f} ms, RSS {r['rss_delta_mb']:+.1f} MB, peak +{r['peak_growth_mb']:.1f} MB")
    yield (f"- checkpoints.from_bytes, {len(rows)} hostile files: all refused: {all(r['refused'] for r in rows)}, "
           f"slowest {worst_s * 1000:.0f} ms (target < {TARGET_S:g} s), largest RSS change {worst_mb:.1f} MB, "
           f"largest peak growth {peak:.1f} MB (target ±{TARGET_MB:g} MB); pickle payload ran: {marker.exists()}")
    if quick:
        return
    live = measure_browser(files, {r["name"]: r["message"] for r in rows})
    if live is None:
        yield "- browser: skipped (no Chromium / Playwright)"
    else:
        base = live[0]["rss_before"]
        yield (f"- Chromium, `make run`'s server, a fresh tab per file: {len(live)} files refused on the page, slowest "
               f"{max(r['seconds'] for r in live):.2f} s from upload to the sentence, exception elements "
               f"{sum(r['exceptions'] for r in live)}, largest RSS change per file "
               f"{max(abs(r['rss_after'] - r['rss_before']) for r in live):.1f} MB, server RSS {base:.0f} → "
               f"{live[-1]['rss_after']:.0f} MB over all {len(live)}")
    page = measure_page(files)
    yield (f"- Train page (AppTest) upload → one st.error: {sum(r['errors'] == 1 and not r['exceptions'] for r in page)}"
           f" of {len(page)} files, slowest rerun {max(r['seconds'] for r in page):.2f} s, largest RSS change "
           f"{max(abs(r['rss_delta_mb']) for r in page):.1f} MB")
