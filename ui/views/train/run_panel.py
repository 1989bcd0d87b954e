"""The Train page's run panel: live while a run trains (a fragment polling its snapshot every
second), results once it ends. The training threads never call Streamlit; this only READS
snapshots of runs kept in ``cnn_core.training.registry()``."""
from __future__ import annotations

import streamlit as st

from cnn_core.training import registry
from ui.views import chart_alt
from ui.views.train import checkpoint_views
from ui.app import errors, quotas
from ui.views.train.train_charts import accuracy_figure, fmt_pct, fmt_seconds, loss_figure
from cnn_core.lessons.formatting import count_of

RUN_PARAM = "run"            # ?run=<id> in the URL: a refresh or a second tab reattaches
SWEEP_PARAM = "sweep"
RUN_KEY = "train_run_id"     # the same ids in session state: survives page switches (which drop query params)
SWEEP_KEY = "sweep_id"


def status_line(snap) -> str:
    if snap.state == "queued" and not snap.queue_position and snap.message:
        return snap.message            # queued by a Ray cluster, not by this server
    if snap.state == "queued":
        return (f"Queued: position {snap.queue_position} in line (at most {registry().max_concurrent} runs train at "
                "once on this server). It starts by itself.")
    if snap.state in ("running", "paused") and snap.step == 0:
        return "Preparing the model…" if snap.state == "running" else "Paused before the first step."
    done = f"step {snap.step:,}/{snap.total_steps:,}, epoch {min(snap.epoch + 1, snap.epochs)}/{snap.epochs}"
    if snap.state == "running":
        return f"Training: {done} · {snap.images_per_s:,.0f} images/s · elapsed {fmt_seconds(snap.elapsed_s)} · ETA {fmt_seconds(snap.eta_s)}"
    if snap.state == "paused":
        return f"Paused at {done} · elapsed {fmt_seconds(snap.elapsed_s)}. Resume to continue."
    return f"{snap.state.capitalize()} after {count_of(snap.epoch, 'epoch')}, {count_of(snap.step, 'step')}, {fmt_seconds(snap.elapsed_s)}."


def _metrics_row(snap) -> None:
    last = snap.epochs_log[-1] if snap.epochs_log else {}
    c = st.columns(4)
    c[0].metric("train loss (epoch)", "—" if not last else f"{last['train_loss']:.4f}")
    c[1].metric("validation loss", "—" if last.get("val_loss") is None else f"{last['val_loss']:.4f}")
    c[2].metric("validation accuracy", fmt_pct(last.get("val_acc")))
    c[3].metric("test accuracy" if snap.test_acc is not None else "throughput",
                fmt_pct(snap.test_acc) if snap.test_acc is not None else f"{snap.images_per_s:,.0f} img/s")


def _charts(snap, key: str) -> None:
    c1, c2 = st.columns(2)
    c1.plotly_chart(loss_figure(snap), key=f"loss_{key}", width="stretch")
    c2.plotly_chart(accuracy_figure(snap), key=f"acc_{key}", width="stretch")
    chart_alt.describe(chart_alt.training_summary(snap))


def _controls(run, snap) -> None:
    c = st.columns([1, 1, 4])
    if snap.state == "paused":
        if c[0].button("Resume", key=f"resume_{run.id}", type="primary"):
            run.resume()
            st.rerun(scope="fragment")
    elif snap.state in ("running", "queued"):
        if c[0].button("Pause", key=f"pause_{run.id}", disabled=snap.state == "queued"):
            run.pause()
            st.rerun(scope="fragment")
    if c[1].button("Stop", key=f"stop_{run.id}"):
        run.stop(wait=1.5)
        st.rerun()


@errors.fragment(run_every="1s")
def live_run_panel(run_id: str) -> None:
    """Redrawn every second while the run trains; a full rerun once it ends."""
    quotas.seen("run", run_id)
    run = registry().get(run_id)
    if run is None:
        st.rerun()
        return
    snap = run.snapshot()
    if snap.ended:
        st.rerun()        # the whole page, so that the finished-run actions appear
        return
    st.progress(snap.progress, text=status_line(snap))
    if snap.extra.get("unreachable"):
        st.warning(f"{snap.extra['unreachable']} Showing what the run had done by then.")
    _controls(run, snap)
    _metrics_row(snap)
    _charts(snap, "live")


def ended_run_panel(run) -> None:
    snap = run.snapshot()
    if snap.stop_reason == "diverged":
        st.error(snap.message)
    elif snap.state == "failed":
        st.error(snap.message)
    elif snap.stop_reason == "early_stopping":
        st.info(snap.message)
    elif snap.state == "stopped":
        st.warning(snap.message)
    else:
        st.success(status_line(snap))
    _metrics_row(snap)
    _charts(snap, "ended")
    bundle = run.bundle() if snap.stop_reason != "diverged" else None
    if bundle is None:
        if snap.state != "failed" and snap.stop_reason != "diverged":
            st.caption("No weights to keep: the run stopped before its first step.")
        return
    checkpoint_views.run_model_actions(run, bundle)


def run_panel(run_id: str | None) -> None:
    """Attach to a run by id: live while it trains, results once it ends."""
    run = registry().get(run_id)
    if run is None:
        if run_id:
            st.info("That run is no longer on this server (the server restarted or it was cleared). Start a new one.")
        return
    st.markdown(f"**Run `{run.id}`** · {run.config.describe()} · data: {run.dataset_info.get('name', '')}")
    if run.snapshot().ended:
        ended_run_panel(run)
    else:
        live_run_panel(run.id)


def attached_id(param: str, key: str) -> str | None:
    """The run / sweep id to show: the URL's query parameter first (refresh, second tab), else this session's."""
    qid = st.query_params.get(param)
    if qid:
        st.session_state[key] = qid
        return qid
    sid = st.session_state.get(key)
    if sid:
        st.query_params[param] = sid
    return sid


def attach(param: str, key: str, value: str) -> None:
    st.session_state[key] = value
    st.query_params[param] = value
