"""Per-session caps on background work (cnn_core/limits.py): how many runs and sweeps one browser
session may have training or waiting at once. The server-wide queue cap lives in the registry."""
from __future__ import annotations

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
