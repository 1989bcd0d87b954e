"""A throw-away PostgreSQL server for tests: its own cluster in a temp folder, on a free local port.

    from tests.pg_server import PostgresServer, find_pg_bin

    with PostgresServer() as pg:             # initdb + start; stop + delete at the end
        url = pg.create_database("t1")       # postgresql+psycopg://postgres@127.0.0.1:PORT/t1
        ...
        pg.stop(); pg.start()                # the same cluster again, same port and data

Or as pytest fixtures: in a conftest.py, ``from tests.pg_server import pg_server, pg_database  # noqa: F401``;
``pg_server`` is one cluster for the session, ``pg_database`` a fresh database URL per test.

``PostgresUnavailable`` is raised when PostgreSQL is missing or will not start; fixtures turn it
into a skip, or a failure under CI=true (``skip_or_fail``). As root, the cluster runs as the
``postgres`` user (PostgreSQL refuses to run as root).
"""
from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """PostgreSQL is not installed here, or its throw-away cluster would not start (the message says which)."""


def find_pg_bin() -> Path | None:
    """The folder with initdb and pg_ctl: $PG_BIN, /usr/lib/postgresql/<newest>/bin, or PATH."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
                   if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def skip_or_fail(reason: str):
    """pytest.skip outside CI; pytest.fail under CI=true (a green CI means PostgreSQL really ran)."""
    import pytest

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}, and CI=true requires the PostgreSQL tests.")
    pytest.skip(reason)


class PostgresServer:
    def __init__(self, port: int | None = None, timeout_s: int = 60):
        self.bin = find_pg_bin()
        if self.bin is None:
            raise PostgresUnavailable("PostgreSQL is not installed (no initdb; `make postgresql` installs it)")
        self.port = port or free_port()
        self.timeout_s = timeout_s
        self.root: Path | None = None
        self.running = False

    # as root, run PostgreSQL's tools as the postgres user
    def _cmd(self, tool: str, *args: str) -> list[str]:
        cmd = [str(self.bin / tool), *args]
        return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd

    def _run(self, tool: str, *args: str) -> None:
        try:
            subprocess.run(self._cmd(tool, *args), check=True, capture_output=True, text=True,
                           timeout=self.timeout_s)
        except (OSError, subprocess.SubprocessError) as exc:
            out = getattr(exc, "stderr", "") or getattr(exc, "stdout", "") or str(exc)
            raise PostgresUnavailable(f"PostgreSQL's {tool} failed: {str(out).strip()[-400:]}") from None

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> "PostgresServer":
        self.root = Path(tempfile.mkdtemp(prefix="cnn-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        return self

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -h 127.0.0.1 -c fsync=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"), "-w",
                  "-t", str(self.timeout_s), "start")
        self.running = True

    def stop(self) -> None:
        """Immediate stop: like a server that went away (connections are cut, nothing is flushed)."""
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self.running = False

    def execute(self, sql: str) -> None:
        """One statement outside a transaction (CREATE / DROP DATABASE) on the postgres database."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql)

    def create_database(self, name: str) -> str:
        if not name.replace("_", "").isalnum():
            raise ValueError("database names here are letters, digits and _")
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def cleanup(self) -> None:
        try:
            self.stop()
        finally:
            if self.root is not None:
                shutil.rmtree(self.root, ignore_errors=True)
                self.root = None

    def __enter__(self) -> "PostgresServer":
        try:
            self.init()
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()


# --- pytest fixtures (import them into a conftest.py) ---------------------------------------------
import pytest  # noqa: E402 (the helper above is usable without pytest)

_db_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server():
    """One throw-away PostgreSQL for the session; skipped without PostgreSQL (failed under CI=true)."""
    try:
        server = PostgresServer().__enter__()
    except PostgresUnavailable as exc:
        skip_or_fail(str(exc))
    try:
        yield server
    finally:
        server.__exit__(None, None, None)


@pytest.fixture
def pg_database(pg_server):
    """A fresh, empty database's URL for one test, dropped afterwards (connections are cut)."""
    name = f"t{os.getpid()}_{next(_db_names)}"
    url = pg_server.create_database(name)
    yield url
    if pg_server.running:
        pg_server.drop_database(name)
