"""Fixtures for class mode: every store test runs on SQLite and on PostgreSQL.

``pg_server`` (session) is one throw-away PostgreSQL cluster (tests/pg_server.py); ``store_url``
gives each test a fresh database on both back-ends; ``make_store`` opens ClassStores on it (two
of them are two app servers on one database) and closes them at the end.
"""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from tests.pg_server import PostgresServer, PostgresUnavailable, skip_or_fail

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server():
    try:
        server = PostgresServer().__enter__()
    except PostgresUnavailable as exc:
        skip_or_fail(str(exc))
    try:
        yield server
    finally:
        server.__exit__(None, None, None)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture
def store_url(backend, tmp_path, request):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'classes.db'}"
        return
    pg = request.getfixturevalue("pg_server")
    name = f"t{next(_counter)}"
    yield pg.create_database(name)
    if pg.running:
        pg.drop_database(name)


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
