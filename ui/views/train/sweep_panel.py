"""The Sweep page's panel: the grid's heatmap and table, live while the sweep trains."""
from __future__ import annotations

import streamlit as st

from cnn_core.training import registry
from ui.app import errors, quotas, state
from ui.views.train.run_panel import status_line
from ui.views.train.train_charts import fmt_pct, fmt_seconds, sweep_heatmap


def sweep_records(ssnap) -> list[dict]:
    rows = []
    for i, c in enumerate(ssnap.cells):
        row = {k: (f"{v:g}" if isinstance(v, float) else v) for k, v in c["params"].items()}
        row.update({"state": c["state"] if "diverged" not in c["message"] else "diverged",
                    "epochs": c["epoch"],
                    "val. accuracy": None if c["val_acc"] is None else round(100 * c["val_acc"], 2),
                    "val. loss": None if c["val_loss"] is None else round(c["val_loss"], 4),
                    "time": fmt_seconds(c["seconds"]) if c["seconds"] else "",
                    "best": "★" if i == ssnap.best and ssnap.done else ""})
        rows.append(row)
    return rows


def _sweep_body(sweep, ssnap, key: str) -> None:
    st.plotly_chart(sweep_heatmap(ssnap), key=f"sweep_hm_{key}", width="stretch")
    st.dataframe(sweep_records(ssnap), hide_index=True, width="stretch",
                 column_config={"val. accuracy": st.column_config.NumberColumn(format="%.2f %%")})


@errors.fragment(run_every="1s")
def live_sweep_panel(sweep_id: str) -> None:
    quotas.seen("sweep", sweep_id)
    sweep = registry().get_sweep(sweep_id)
    if sweep is None:
        st.rerun()
        return
    ssnap = sweep.snapshot()
    if ssnap.state != "running":
        st.rerun()
        return
    n = len(ssnap.cells)
    line = f"{ssnap.done} of {n} runs done"
    if ssnap.current is not None:
        run = sweep.run(ssnap.current)
        if run is not None:
            rs = run.snapshot()
            frac = (ssnap.done + rs.progress) / n
            line += f" · now {', '.join(f'{k} {v:g}' for k, v in ssnap.cells[ssnap.current]['params'].items())}: {status_line(rs)}"
        else:
            frac = ssnap.done / n
    else:
        frac = ssnap.done / n
    st.progress(min(1.0, frac), text=line)
    if st.button("Stop the sweep", key=f"sweep_stop_{sweep_id}"):
        sweep.stop(wait=1.5)
        st.rerun()
    _sweep_body(sweep, ssnap, "live")


def sweep_panel(sweep_id: str | None) -> None:
    sweep = registry().get_sweep(sweep_id)
    if sweep is None:
        if sweep_id:
            st.info("That sweep is no longer on this server (the server restarted). Start a new one.")
        return
    ssnap = sweep.snapshot()
    if ssnap.state == "running":
        live_sweep_panel(sweep.id)
        return
    if ssnap.state == "failed":
        st.error(ssnap.message)
    elif ssnap.state == "stopped":
        if not ssnap.finished:
            # nothing finished: no heatmap of empty cells, no table of "None"s
            st.warning("Stopped by you before any run finished: there is nothing to compare yet. Start the sweep "
                       "again, perhaps with fewer epochs per run.")
            return
        st.warning(f"Stopped by you after {ssnap.finished} of {len(ssnap.cells)} runs had finished.")
    else:
        st.success(f"All {len(ssnap.cells)} runs done.")
    _sweep_body(sweep, ssnap, "ended")
    best = ssnap.best
    if best is not None:
        cell = ssnap.cells[best]
        label = ", ".join(f"{k} = {v:g}" for k, v in cell["params"].items())
        st.markdown(f"**Best: {label}**, validation accuracy {fmt_pct(cell['val_acc'])}.")
        run = sweep.run(best)
        bundle = run.bundle() if run is not None else None
        if bundle is not None and st.button("Use the best run as active model", key=f"sweep_use_{sweep.id}"):
            state.set_active_bundle(bundle)
            st.session_state[state.EVAL_DATA_KEY] = {"run_id": run.id, "test": run.test_ds, "val": run.val_ds}
            st.session_state["_sweep_used"] = run.id
            st.rerun()   # the sidebar, drawn above, names the active model: draw it again
        if run is not None and st.session_state.pop("_sweep_used", None) == run.id:
            st.success(f"{bundle.name} is now the active model on every page.")
