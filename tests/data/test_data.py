"""The torchvision path of the data layer, against IDX files the test writes and serves itself.

A local http.server on 127.0.0.1 plays the MNIST mirror, so torchvision's real download, MD5
check, gunzip and IDX parsing run; only the mirror's address and the files' checksums change.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import socket
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

from cnn_core.data import datasets as data

torchvision = pytest.importorskip("torchvision")


def _idx_images(images: np.ndarray) -> bytes:
    n, h, w = images.shape
    return struct.pack(">IIII", 0x00000803, n, h, w) + images.astype(np.uint8).tobytes()


def _idx_labels(labels: np.ndarray) -> bytes:
    return struct.pack(">II", 0x00000801, len(labels)) + labels.astype(np.uint8).tobytes()


def _write_mirror(folder: Path, n_train=30, n_test=12, seed=0):
    """Four gzipped IDX files like MNIST's; returns (resources with MD5s, the arrays written)."""
    rng = np.random.default_rng(seed)
    arrays = {"train": (rng.integers(0, 256, (n_train, 28, 28)), np.arange(n_train) % 10),
              "t10k": (rng.integers(0, 256, (n_test, 28, 28)), (np.arange(n_test) * 3) % 10)}
    resources = []
    for part, (x, y) in arrays.items():
        for kind, payload in (("images-idx3", _idx_images(x)), ("labels-idx1", _idx_labels(y))):
            name = f"{part}-{kind}-ubyte.gz"
            blob = gzip.compress(payload)
            (folder / name).write_bytes(blob)
            resources.append((name, hashlib.md5(blob).hexdigest()))
    return resources, arrays


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        super().do_GET()


@pytest.fixture
def mirror(tmp_path):
    """A local HTTP server over a folder of IDX files; yields (url, resources, arrays, requests)."""
    served = tmp_path / "mirror"
    served.mkdir()
    resources, arrays = _write_mirror(served)
    handler = type("Handler", (_QuietHandler,), {"requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", resources, arrays, handler.requests
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("name,cls_name", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_download_parses_and_caches_idx_files(mirror, tmp_path, monkeypatch, name, cls_name):
    url, resources, arrays, requests = mirror
    cls = getattr(torchvision.datasets, cls_name)
    monkeypatch.setattr(cls, "mirrors", [url])
    monkeypatch.setattr(cls, "resources", resources)
    cache = tmp_path / "cache"
    assert not data.is_cached(name, cache)

    train = data.load_torchvision(name, train=True, root=cache)
    x, y = arrays["train"]
    assert train.images.shape == (30, 1, 28, 28) and train.images.dtype == np.uint8
    assert np.array_equal(train.images[:, 0], x) and np.array_equal(train.labels, y)
    assert train.class_names == (data.DIGIT_CLASSES if name == "mnist" else data.FASHION_CLASSES)
    # torchvision asks each file twice (a redirect probe, then the download)
    assert sorted(set(requests)) == sorted(f"/{n}" for n, _ in resources) and data.is_cached(name, cache)
    n_requests = len(requests)

    test = data.load_torchvision(name, train=False, root=cache)
    assert np.array_equal(test.images[:, 0], arrays["t10k"][0]) and test.labels.tolist() == arrays["t10k"][1].tolist()
    assert len(requests) == n_requests, "the second load must come from the cache, not the network"


def test_cached_files_load_with_the_mirror_gone(mirror, tmp_path, monkeypatch):
    url, resources, arrays, _ = mirror
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", [url])
    monkeypatch.setattr(torchvision.datasets.MNIST, "resources", resources)
    cache = tmp_path / "cache"
    data.load_torchvision("mnist", root=cache)
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])  # nothing listens
    again = data.load_torchvision("mnist", root=cache)
    assert np.array_equal(again.images[:, 0], arrays["train"][0])


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_gives_one_clear_error_and_bundled_still_works(tmp_path, monkeypatch):
    monkeypatch.setattr(torchvision.datasets.FashionMNIST, "mirrors", [f"http://127.0.0.1:{_closed_port()}/"])
    with pytest.raises(data.DataError) as err:
        data.load_torchvision("fashion-mnist", root=tmp_path)
    msg = str(err.value)
    assert "no network connection" in msg and "bundled 5,000 MNIST digits are still available" in msg
    assert "\n" not in msg
    assert len(data.load_bundled()) == 5000


def test_corrupt_download_is_refused_by_checksum(mirror, tmp_path, monkeypatch):
    url, resources, _, _ = mirror
    bad = [(name, "0" * 32) for name, _ in resources]  # the served files do not match these MD5s
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", [url])
    monkeypatch.setattr(torchvision.datasets.MNIST, "resources", bad)
    with pytest.raises(data.DataError, match="download failed"):
        data.load_torchvision("mnist", root=tmp_path / "cache")


def test_no_download_and_not_cached_says_so(tmp_path):
    with pytest.raises(data.DataError, match="not in the cache folder"):
        data.load_torchvision("mnist", root=tmp_path, download=False)


def test_unknown_name():
    with pytest.raises(data.DataError, match="choose one of mnist, fashion-mnist"):
        data.load_torchvision("cifar10")


def test_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_DATA_DIR", str(tmp_path))
    assert data.cache_dir() == tmp_path
    monkeypatch.delenv("CNN_EXPLORER_DATA_DIR")
    assert data.cache_dir() == data.DEFAULT_CACHE
