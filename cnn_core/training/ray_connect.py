"""Connecting this process to a Ray cluster, lazily: the address ($CNN_EXPLORER_RAY_ADDRESS), a fast
check that something listens there, ``ray.init`` in the ``cnn-explorer`` namespace, and sentences
for the page when Ray is missing or the cluster cannot be reached. Ray is imported only here, and
only when first needed."""
from __future__ import annotations

import os
import threading
import time

ENV_ADDRESS = "CNN_EXPLORER_RAY_ADDRESS"
NAMESPACE = "cnn-explorer"
SWEEP_PREFIX = "sweep-"


class RayUnavailable(RuntimeError):
    """Ray is not installed or the cluster cannot be reached; the message is one sentence for the page."""


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def address() -> str | None:
    """The cluster address from $CNN_EXPLORER_RAY_ADDRESS, or None (runs stay on this machine)."""
    value = os.environ.get(ENV_ADDRESS, "").strip()
    return value or None


_CONNECT_LOCK = threading.Lock()
CONNECT_ATTEMPTS = 2


def connect(addr: str | None = None):
    """The ``ray`` module, connected to ``addr`` (default: $CNN_EXPLORER_RAY_ADDRESS) if this process
    is not connected yet. Raises ``RayUnavailable`` with a sentence for the page."""
    # Ray Client (ray://) retries a broken connection for 30 s by default, during which a page would wait
    os.environ.setdefault("RAY_CLIENT_RECONNECT_GRACE_PERIOD", "5")
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailable(f"{ENV_ADDRESS} is set but Ray is not installed here: install it with "
                             "`pip install -e .[ray]` (or `make install-ray`), or unset the variable.") from exc
    with _CONNECT_LOCK:
        if ray.is_initialized():
            return ray
        addr = addr or address() or "local"
        check_reachable(addr)
        for attempt in range(CONNECT_ATTEMPTS):
            try:
                if addr == "local":
                    ray.init(address="local", namespace=NAMESPACE, include_dashboard=False, log_to_driver=False)
                else:
                    ray.init(address=addr, namespace=NAMESPACE, log_to_driver=False)
                break
            except Exception as exc:  # noqa: BLE001 - ConnectionError, RuntimeError, ValueError…
                # Ray Client's head starts a server process per client; on a busy head its first
                # start can miss the proxy's deadline ("Initialization failure"): try once more
                if attempt + 1 < CONNECT_ATTEMPTS and addr != "local" and ray.is_initialized() is False:
                    time.sleep(1.0)
                    continue
                raise RayUnavailable(f"The Ray cluster is unreachable: could not connect to {addr!r} "
                                     f"({short(exc)}).") from exc
    return ray


_REMOTE: dict = {}


def remote(obj):
    """``ray.remote(obj)``, made once per process (each call would export the class to the cluster again)."""
    import ray

    if obj not in _REMOTE:
        _REMOTE[obj] = ray.remote(obj)
    return _REMOTE[obj]


def check_reachable(addr: str, timeout: float = 3.0) -> None:
    """Fail fast, with a sentence, when nothing listens at ``addr`` ("host:port" or "ray://host:port"):
    ``ray.init`` itself would wait for minutes. "auto" and "local" are left to Ray."""
    import socket

    if addr in ("auto", "local"):
        return
    hostport = addr.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise RayUnavailable(f"{ENV_ADDRESS}={addr!r} is not a Ray address: use \"auto\", \"local\", "
                             "\"host:6379\" or \"ray://host:10001\".")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise RayUnavailable(f"The Ray cluster is unreachable: nothing answers at {hostport} ({short(exc)}).") \
            from exc


def short(exc: BaseException, limit: int = 160) -> str:
    """The first line of an exception's message, cut to ``limit`` characters."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _errors(ray):
    """(actor gone, timed out) exception classes of this Ray version."""
    ex = ray.exceptions
    gone = tuple(getattr(ex, n) for n in ("RayActorError", "ActorDiedError", "ActorUnavailableError") if hasattr(ex, n))
    return gone, ex.GetTimeoutError


__all__ = ["ENV_ADDRESS", "NAMESPACE", "SWEEP_PREFIX", "RayUnavailable", "address", "check_reachable", "connect",
           "remote", "short"]
