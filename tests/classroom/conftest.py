"""Fixtures for class mode: every store test runs on SQLite and on PostgreSQL.

``pg_server`` (session) is one throw-away PostgreSQL cluster and ``pg_database`` a fresh database
on it (both from tests/pg_server.py); ``store_url``
gives each test a fresh database on both back-ends; ``make_store`` opens ClassStores on it (two
of them are two app servers on one database) and closes them at the end.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from tests.pg_server import pg_database, pg_server  # noqa: F401 (fixtures)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture
def store_url(backend, tmp_path, request):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'classes.db'}"
        return
    yield request.getfixturevalue("pg_database")


class Clock:
    """A settable clock for the store (no sleeps in tests)."""

    def __init__(self):
        self.t = datetime.now(timezone.utc).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kw) -> None:
        self.t += timedelta(**kw)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_store(store_url, clock):
    from cnn_core.classroom import ClassStore

    opened = []

    def _make(url: str | None = None, **kw):
        kw.setdefault("clock", clock)
        s = ClassStore(url or store_url, **kw)
        opened.append(s)
        return s

    yield _make
    for s in opened:
        s.close()


@pytest.fixture
def store(make_store):
    return make_store()


def digit_images():
    """The bundled MNIST digits as the class's drawings (uint8 (N, 28, 28), int labels)."""
    from cnn_core.data import datasets

    ds = datasets.load_bundled()
    return ds.images[:, 0], ds.labels


def scribble(seed: int) -> np.ndarray:
    """A distinct float 28×28 image (so every drawing has its own hash)."""
    return np.random.default_rng(seed).random((28, 28), dtype=np.float32)
