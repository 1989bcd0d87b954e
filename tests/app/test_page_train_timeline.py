"""The Train page's learning timeline (live and after a run) and its run comparison, in AppTest."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from cnn_core.data import datasets as data
from cnn_core.data import splits
from cnn_core.models import specs
from cnn_core.training import TrainConfig, TrainingRun, registry
from cnn_core.training.recorder import timeline
from ui.views.train.timeline_views import HISTORY_KEY

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "6_Train.py")


@pytest.fixture
def at(open_page):
    app = open_page(PAGE, run=False)
    yield app
    for run in registry().runs():
        run.stop()
    for run in registry().runs():
        run.join(2)


def _wait_ended(run, timeout=120):
    t0 = time.monotonic()
    while not run.snapshot().ended:
        assert time.monotonic() - t0 < timeout, "the run did not end"
        time.sleep(0.3)


def _figs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _title(fig) -> str:
    return (fig["layout"].get("title") or {}).get("text", "")


def test_after_a_short_run_the_timeline_plays_the_kernels_learning_on_the_drawing(at):
    drawing = np.zeros((28, 28), np.float32)
    drawing[4:24, 13:16] = 1.0                                   # a "1"
    at.session_state["current_input"] = drawing
    at.session_state["current_input_source"] = "your drawing"
    at.run()
    at.number_input(key="tr_epochs").set_value(1)
    at.select_slider(key="tr_batch").set_value(256).run()       # 17 steps: every step is recorded
    at.button(key="tr_start").click().run()
    run = registry().get(at.session_state["train_run_id"])
    assert at.session_state[HISTORY_KEY] == [run.id]
    _wait_ended(run)
    at.run()
    assert not at.exception and [s.value for s in at.header] == ["Watch it learn"]
    tl = timeline(run.snapshot().extra)
    assert tl.header.probe_source == "your drawing" and np.array_equal(tl.header.probe[0], drawing)
    assert [p.step for p in tl.points] == list(range(18))
    anim = next(f for f in _figs(at) if f.get("frames"))
    assert len(anim["frames"]) == 18 and len(anim["layout"]["sliders"][0]["steps"]) == 18
    assert anim["layout"]["sliders"][0]["active"] == 17 and "▶ Play" in json.dumps(anim["layout"]["updatemenus"], ensure_ascii=False)
    kern = anim["data"][0]
    assert kern["zmid"] == 0 and kern["zmin"] == -kern["zmax"] and "kernel %{customdata[0]}" in kern["hovertemplate"]
    # The frames really differ: the first frame shows the initial kernels, the last the trained ones.
    from ui.views.train.timeline_views import point_figure
    fig = point_figure(tl, animate=True)
    first, last = np.asarray(fig.frames[0].data[0].z), np.asarray(fig.frames[-1].data[0].z)
    assert np.nanmax(np.abs(first - last)) > 0.01
    assert "initial weights" in fig.frames[0].layout.title.text and "step 17" in fig.frames[-1].layout.title.text
    grad = next(f for f in _figs(at) if _title(f).startswith("Weight-gradient norm"))
    assert grad["layout"]["yaxis"]["type"] == "log"
    assert [d["name"] for d in grad["data"]] == ["conv 1", "conv 2", "dense 1", "dense 2"]
    assert any("The probe is **your drawing**" in c.value for c in at.caption)


def test_while_it_trains_the_timeline_follows_the_newest_point_and_can_go_back(at):
    ds = data.load_bundled().subset(np.arange(0, 5000, 10))
    cfg = TrainConfig(spec=specs.build_spec(blocks=1, kernels=4), optimizer="sgd", lr=0.01, batch_size=10, epochs=200)
    run = registry().submit(TrainingRun(cfg, ds, ds.subset(np.arange(20)), name="tiny"))
    at.query_params["run"] = run.id
    t0 = time.monotonic()
    while len(timeline(run.snapshot().extra) or ()) < 3:
        assert time.monotonic() - t0 < 60
        time.sleep(0.2)
    at.run()
    key = f"tl_live_{run.id}"
    slider = at.select_slider(key=key)
    newest = slider.value
    assert newest >= 2 and not at.exception
    live = next(f for f in _figs(at) if "probe is predicted" in _title(f))
    assert not live.get("frames")                              # one point at a time while it trains
    slider.set_value(0).run()
    live = next(f for f in _figs(at) if "probe is predicted" in _title(f))
    assert _title(live).startswith("initial weights")
    run.stop(wait=2)


def _tiny_run(lr: float, seed: int = 0) -> TrainingRun:
    parts = splits.doc000_split(data.load_bundled())
    cfg = TrainConfig(spec=specs.build_spec(blocks=1, kernels=4), optimizer="sgd", lr=lr, batch_size=32, epochs=1,
                      seed=seed, max_steps_per_epoch=12)
    run = registry().submit(TrainingRun(cfg, parts.train, parts.val.subset(np.arange(50)), None, name="tiny"))
    run.join(120)
    return run


def test_compare_runs_overlays_curves_lists_what_differs_and_says_when_curves_are_identical(at):
    a, b, c = _tiny_run(0.05), _tiny_run(0.05), _tiny_run(0.01)
    at.session_state[HISTORY_KEY] = [a.id, b.id, c.id]
    at.query_params["run"] = c.id
    at.run()
    assert not at.exception and "Compare runs" in [s.value for s in at.header]
    assert at.multiselect(key="tl_compare").value == [a.id, b.id, c.id]
    table = at.dataframe[-1].value
    assert list(table.columns[:2]) == ["run", "learning rate"] and list(table["learning rate"]) == ["0.05", "0.05", "0.01"]
    infos = [i.value for i in at.info]
    assert any("have the same settings and seed: their loss curves are identical" in i and a.id[:6] in i
               and b.id[:6] in i and c.id[:6] not in i for i in infos)
    loss = next(f for f in _figs(at) if _title(f) == "Loss of the runs compared")
    assert len(loss["data"]) == 3
    grads = next(f for f in _figs(at) if _title(f).startswith("Gradient norm: first layer"))
    assert [d["name"] for d in grads["data"][:2]] == [f"{a.id[:6]} · tiny: conv 1", f"{a.id[:6]} · tiny: dense 1"]
    assert len(grads["data"]) == 6 and grads["layout"]["yaxis"]["type"] == "log"
    at.multiselect(key="tl_compare").set_value([a.id, c.id]).run()
    assert not any("identical" in i.value for i in at.info)
    assert len(next(f for f in _figs(at) if _title(f) == "Loss of the runs compared")["data"]) == 2
    # A new run of the session joins the choices, and the selection starts again from the latest three.
    d = _tiny_run(0.02)
    at.session_state[HISTORY_KEY] = [a.id, b.id, c.id, d.id]
    at.run()
    assert at.multiselect(key="tl_compare").value == [b.id, c.id, d.id] and not at.exception
