"""Per-session caps on background work (cnn_core/limits.py): how many runs and sweeps one browser
session may have training or waiting at once. The server-wide queue cap lives in the registry.

Runs waiting in the queue for nobody are dropped: the live panels call ``seen`` every second, and a
queued run (or a sweep whose current cell is queued) that no page has shown for
``limits.ABANDONED_QUEUE_S`` is stopped before it starts, freeing its place. Running runs are
left alone (their results stay reachable by their link).
"""
from __future__ import annotations

import threading
import time

import streamlit as st

from cnn_core import limits
from cnn_core.training.registry import registry

STARTED_KEY = "_quota_started"      # [(kind, id)] this session started: kind "run" or "sweep"


def _live(kind: str, item_id: str) -> bool:
    if kind == "sweep":
        sweep = registry().get_sweep(item_id)
        return sweep is not None and sweep.alive
    run = registry().get(item_id)
    return run is not None and not run.snapshot().ended


def live_started(replacing: str | None = None) -> int:
    """Runs and sweeps this session started that still train or wait, not counting ``replacing``
    (the one a new Start is about to stop)."""
    started = [(k, i) for k, i in st.session_state.get(STARTED_KEY, []) if _live(k, i)]
    st.session_state[STARTED_KEY] = started          # forget ended ones
    return sum(1 for _, i in started if i != replacing)


def refusal(replacing: str | None = None) -> str | None:
    """The sentence to show instead of starting, or None when this session may start one more."""
    drop_abandoned()
    n, cap = live_started(replacing), limits.MAX_RUNS_PER_SESSION
    if n >= cap:
        what = "run or sweep" if n == 1 else "runs or sweeps"
        return (f"You already have {n} {what} training or waiting in this browser session; the cap is {cap} "
                "per session. Stop one, or wait for it to finish.")
    if registry().queue_full():
        return (f"The server's queue is full: the cap is {limits.MAX_QUEUED_RUNS:,} waiting "
                f"{'run' if limits.MAX_QUEUED_RUNS == 1 else 'runs'}. Try again when one has finished.")
    return None


def note_started(kind: str, item_id: str) -> None:
    st.session_state[STARTED_KEY] = [*st.session_state.get(STARTED_KEY, []), (kind, item_id)]
    seen(kind, item_id)


# Shared by every session of this server: (kind, id) -> when a page last showed it.
_SEEN: dict[tuple[str, str], float] = {}
_SEEN_LOCK = threading.Lock()


def seen(kind: str, item_id: str) -> None:
    """A page is showing this run or sweep now (called by the live panels every second)."""
    with _SEEN_LOCK:
        _SEEN[(kind, item_id)] = time.monotonic()


def _waiting(kind: str, item_id: str) -> tuple[bool, object | None]:
    """(still queued and not started, the object to stop); (False, None) once it runs or ended."""
    reg = registry()
    if kind == "sweep":
        sweep = reg.get_sweep(item_id)
        if sweep is None or not sweep.alive:
            return False, None
        current = sweep.snapshot().current
        run = sweep.run(current) if current is not None else None
        queued = run is None or reg.queue_position(run.id) > 0
        return queued, sweep
    run = reg.get(item_id)
    if run is None or run.snapshot().ended:
        return False, None
    return reg.queue_position(run.id) > 0, run


def drop_abandoned(now: float | None = None) -> list[str]:
    """Stop queued runs and sweeps that no page has shown for ABANDONED_QUEUE_S; their ids."""
    now = time.monotonic() if now is None else now
    with _SEEN_LOCK:
        items = list(_SEEN.items())
    dropped = []
    for (kind, item_id), t in items:
        queued, obj = _waiting(kind, item_id)
        if obj is None:
            with _SEEN_LOCK:
                _SEEN.pop((kind, item_id), None)
        elif queued and now - t > limits.ABANDONED_QUEUE_S:
            obj.stop()
            dropped.append(item_id)
            with _SEEN_LOCK:
                _SEEN.pop((kind, item_id), None)
    return dropped
