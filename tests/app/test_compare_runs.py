"""Compare runs on the Train page (issue 18 bug 6): what the table says of runs that did not finish, and the
accuracy axis of a run that stopped before its planned epochs."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from cnn_core.training.snapshot import RunSnapshot
from ui.views.train import timeline_views as tlv
from ui.views.train.train_charts import accuracy_figure


def _snap(state: str, stop: str, epochs_done: int, epochs: int = 200, val=True) -> RunSnapshot:
    logs = tuple({"epoch": e, "train_loss": 0.5 / e, "train_acc": 0.9, "val_loss": 0.4 / e,
                  "val_acc": 0.91 if val else None, "seconds": 1.0} for e in range(1, epochs_done + 1))
    cfg = {"engine": "torch", "optimizer": "sgd", "lr": 0.01, "batch_size": 64, "epochs": epochs, "seed": 0,
           "spec": {"name": "custom", "layers": []}}
    return RunSnapshot("r" + state, "n", state, "", stop, 0, epochs_done, epochs, 10 * epochs_done, 10 * epochs,
                       tuple(np.linspace(2, 1, 10 * epochs_done).tolist()), logs, 100.0, 5.0, None, None, None,
                       cfg, "bundled")


def test_a_stopped_runs_accuracy_axis_ends_at_its_last_epoch_not_the_planned_one():
    fig = accuracy_figure(_snap("stopped", "user", 16))
    lo, hi = fig.layout.xaxis.range
    assert hi == 16.5          # it was 200.5: sixteen epochs squeezed into the first 8 % of the chart
    running = accuracy_figure(_snap("running", "", 16))
    assert running.layout.xaxis.range[1] == 200.5           # a run still training keeps its planned length


def test_the_table_says_diverged_and_no_raw_none():
    diverged = _snap("stopped", "diverged", 0, 10, val=False)
    diverged = replace(diverged, epochs_log=(), step=37)
    finished = _snap("finished", "", 10, 10)
    finished = replace(finished, test_acc=0.9712)
    table = tlv.compare_table([diverged, finished], ["run 1", "run 2"], [{}, {}], [])
    assert table[0]["state"] == "diverged"
    assert table[1]["state"] == "finished"
    assert table[0]["val. accuracy"] == "—" and table[0]["test accuracy"] == "—"
    assert table[1]["test accuracy"] == "97.12 %" and table[1]["val. accuracy"] == "91.00 %"
    stopped = tlv.compare_table([_snap("stopped", "user", 3, 10)], ["run 3"], [{}], [])
    assert stopped[0]["state"] == "stopped by you after epoch 3 of 10"
    early = tlv.compare_table([_snap("stopped", "early_stopping", 6, 10)], ["run 4"], [{}], [])
    assert early[0]["state"] == "early stopping after epoch 6 of 10"
    assert "None" not in str(table)
