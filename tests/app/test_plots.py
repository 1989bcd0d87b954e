"""ui/views/plots.py: hover values on every heatmap, colour-blind-safe scales, readable probability bars."""
import numpy as np
import pytest

from ui.views.see_inside import lesson_plots

from ui.views import plots

from ui.views.train import timeline_views, train_charts


def test_heatmap_shows_rows_top_down_with_hover_values():
    img = np.arange(12, dtype=float).reshape(3, 4) / 11
    fig = plots.heatmap(img, value_name="pixel")
    hm = fig.data[0]
    assert np.array_equal(np.asarray(hm.z), img)
    assert "pixel %{z:.2f}" in hm.hovertemplate and "row %{y}" in hm.hovertemplate
    assert (hm.zmin, hm.zmax) == (0.0, 1.0)
    assert fig.layout.yaxis.autorange == "reversed" and fig.layout.yaxis.scaleanchor == "x"
    assert list(hm.x) == [1, 2, 3, 4] and list(hm.y) == [1, 2, 3]   # numbered from 1 like the page text


def test_signed_heatmap_is_rdbu_centred_on_zero():
    hm = plots.heatmap(np.array([[-2.0, 0.5], [1.0, 0.0]]), signed=True).data[0]
    assert hm.zmid == 0 and (hm.zmin, hm.zmax) == (-2.0, 2.0)
    assert hm.colorscale[0][1] != hm.colorscale[-1][1]   # a diverging scale, not one colour


def test_heatmap_rejects_non_2d():
    with pytest.raises(ValueError, match="2-D"):
        plots.heatmap(np.zeros((2, 2, 2)))


def test_prob_bars_highlight_the_winner_and_label_only_visible_bars():
    p = np.array([0.005, 0.7, 0.03, 0.265] + [0.0] * 6)
    bar = plots.prob_bars(p, [str(i) for i in range(10)]).data[0]
    assert [c == plots.HIGHLIGHT for c in bar.marker.color] == [i == 1 for i in range(10)]
    assert list(bar.text[:4]) == ["", "70.0 %", "", "26.5 %"]
    assert "%{y:.4f}" in bar.hovertemplate


def test_prob_bars_need_one_name_per_class():
    with pytest.raises(ValueError, match="3 probabilities but 2 class names"):
        plots.prob_bars([0.2, 0.3, 0.5], ["a", "b"])


def test_prob_bars_name_every_class_even_when_narrow():
    names = [str(i) for i in range(10)]
    fig = plots.prob_bars(np.full(10, 0.1), names)
    assert list(fig.layout.xaxis.tickvals) == names and list(fig.layout.xaxis.ticktext) == names


@pytest.mark.parametrize("build", [
    lambda: plots.heatmap(np.linspace(-1, 2, 30).reshape(5, 6), signed=True, title="kernel"),
    lambda: plots.heatmap(np.random.default_rng(0).random((28, 28)), value_name="pixel", colorbar=False),
    lambda: plots.prob_bars(np.full(10, 0.1), [str(i) for i in range(10)], title="p", highlight=4),
])
def test_fast_figures_are_what_plotly_validation_builds(build):
    """Figures come from a cached, validated skeleton without validating again: the result must be
    exactly what plotly's validating constructor makes of it."""
    import json

    import plotly.graph_objects as go
    import plotly.io

    def pruned(obj):      # validation drops empty objects such as "title": {}; nothing else may differ
        if isinstance(obj, dict):
            return {k: pruned(v) for k, v in obj.items() if v != {}}
        return [pruned(v) for v in obj] if isinstance(obj, list) else obj

    fig = build()
    rebuilt = go.Figure(fig.to_dict())      # plotly's validating constructor
    assert pruned(json.loads(plotly.io.to_json(fig))) == pruned(json.loads(plotly.io.to_json(rebuilt)))


def test_changing_a_returned_figure_leaves_the_next_one_alone():
    first = plots.heatmap(np.zeros((4, 4)), height=200)
    first.update_layout(height=999)
    first.data[0].hovertemplate = "changed"
    bars = plots.prob_bars([0.5, 0.5], ["a", "b"])
    bars.data[0].marker.color = ["red", "red"]
    again = plots.heatmap(np.ones((4, 4)), height=200)
    assert again.layout.height == 200 and "changed" not in again.data[0].hovertemplate
    assert np.array_equal(np.asarray(again.data[0].z), np.ones((4, 4)))
    assert list(plots.prob_bars([0.9, 0.1], ["a", "b"]).data[0].marker.color) == [plots.HIGHLIGHT, plots.MUTED]


@pytest.mark.parametrize("kwargs", [
    dict(values=np.linspace(0, 1, 900).reshape(30, 30), title="Input", colorscale="gray", zmin=0, zmax=1,
         rects=[(1, 1, 4, 4, "#e69f00"), (2, 2, 30, 30, "#56b4e9", "dot")], height=330),
    dict(values=np.array([[1.0, -2.0], [0.5, 0.0]]), colorscale="RdBu", zmid=0, marks=[(0, 1)], colorbar=True),
])
def test_lesson_grids_are_what_plotly_validation_builds(kwargs):
    """lesson_plots.grid takes its layout from a cache without validating it again: the figure must be
    what plotly's validating constructor makes of it, rectangles and marks included."""
    import json

    import plotly.graph_objects as go
    import plotly.io

    from ui.views.see_inside import lesson_plots as lp

    def pruned(obj):
        if isinstance(obj, dict):
            return {k: pruned(v) for k, v in obj.items() if v != {}}
        return [pruned(v) for v in obj] if isinstance(obj, list) else obj

    fig = lp.grid(**kwargs)
    assert len(fig.layout.shapes) == len(kwargs.get("rects", ())) and fig.layout.yaxis.autorange == "reversed"
    rebuilt = go.Figure(fig.to_dict())
    assert pruned(json.loads(plotly.io.to_json(fig))) == pruned(json.loads(plotly.io.to_json(rebuilt)))
    fig.update_layout(height=999)                      # the cached layout is not shared with the caller
    assert lp.grid(**kwargs).layout.height == kwargs.get("height", 320)


def test_a_bar_near_100_percent_has_no_100_percent_tick_to_collide_with():
    """Issue 11: the probability label of a bar at ~100 % overlapped the axis's 100 % tick."""
    fig = plots.prob_bars([0.999] + [0.0001] * 9, [str(i) for i in range(10)])
    assert max(fig.layout.yaxis.tickvals) < 1.0 and fig.layout.yaxis.range[1] > 1.0


def _snapshot(steps: int, epochs_done: int, stop: str = "", epochs: int = 3):
    from cnn_core.training.snapshot import RunSnapshot

    rng = np.random.default_rng(steps)
    logs = tuple({"epoch": e, "train_loss": 0.5 / e, "train_acc": 0.9 + 0.01 * e, "val_loss": None if e == 2 else 0.4 / e,
                  "val_acc": 0.91 + 0.01 * e, "seconds": 1.0} for e in range(1, epochs_done + 1))
    return RunSnapshot("r", "n", "running", "", stop, 0, epochs_done, epochs, steps, 3000,
                       tuple(rng.random(steps).tolist()), logs, 4000.0, 5.0, 3.0, None, None, {}, "d")


@pytest.fixture(scope="module")
def short_timeline():
    from dataclasses import replace

    from cnn_core.data import datasets as data
    from cnn_core.data import splits
    from cnn_core.training import default_config, fit, make_engine
    from cnn_core.training.recorder import LearningRecorder, record

    train = splits.doc000_split(data.load_bundled()).train.subset(np.arange(320))
    cfg = replace(default_config(), epochs=1)
    engine, steps = make_engine(cfg), cfg.steps_per_epoch(len(train))
    recorder = LearningRecorder(cfg.spec, steps, steps, train.images[0].astype(np.float32) / 255)
    events = list(record(fit(cfg, engine, train), engine, recorder))    # train to the end, recording
    assert events and recorder.points
    return recorder.timeline()


LIVE_FIGURES = {
    "loss, no steps yet": lambda tl: train_charts.loss_figure(_snapshot(0, 0)),
    "loss, diverged at step 1": lambda tl: train_charts.loss_figure(_snapshot(1, 0, "diverged")),
    "loss, 15 steps and an epoch": lambda tl: train_charts.loss_figure(_snapshot(15, 1)),
    "loss, 5,000 steps thinned": lambda tl: train_charts.loss_figure(_snapshot(5000, 3)),
    "accuracy, 3 epochs": lambda tl: train_charts.accuracy_figure(_snapshot(500, 3)),
    "accuracy, none yet, 25 epochs": lambda tl: train_charts.accuracy_figure(
        _snapshot(0, 0, epochs=25)),
    "timeline point": lambda tl: timeline_views.point_figure(tl, 2),
    "timeline animated": lambda tl: timeline_views.point_figure(tl, animate=True),
    "gradient norms": lambda tl: timeline_views.gradient_figure(tl),
    "update ratios, marked": lambda tl: timeline_views.gradient_figure(tl, True, 3),
    "maps mosaic": lambda tl: lesson_plots.mosaic(np.random.default_rng(2).random((16, 14, 14))),
    "signed, labelled mosaic": lambda tl: lesson_plots.mosaic(np.random.default_rng(3).normal(size=(8, 3, 3)),
                                                              colorscale="RdBu", zmid=0, zmin=-2, zmax=2,
                                                              labels=[f"k{i}" for i in range(8)], cols=4),
    "class bars": lambda tl: lesson_plots.prob_bars(np.linspace(0, 0.2, 10), list(range(10)), highlight=3),
    "signed bars": lambda tl: lesson_plots.prob_bars(np.linspace(-1, 1, 5), list("abcde"), value_name="logit"),
    "vector": lambda tl: lesson_plots.vector(np.random.default_rng(4).normal(size=300)),
    "labelled vector": lambda tl: lesson_plots.vector(np.arange(-5, 5.0), labels=list(range(10)), name="logit"),
    "attribution overlay": lambda tl: lesson_plots.overlay(np.eye(28), np.random.default_rng(5).random((28, 28))),
}


@pytest.mark.parametrize("name", LIVE_FIGURES)
def test_live_training_figures_are_what_plotly_validation_builds(name, short_timeline):
    """The Train page's curves and timeline are redrawn every second or two from validated skeletons
    (plots.from_skeleton) with the data put in unvalidated: plotly's validating constructor must make
    exactly the same figure of them, and no placeholder may be left behind."""
    import json

    import plotly.graph_objects as go
    import plotly.io

    def pruned(obj):
        if isinstance(obj, dict):
            return {k: pruned(v) for k, v in obj.items() if v != {}}
        return [pruned(v) for v in obj] if isinstance(obj, list) else obj

    fig = LIVE_FIGURES[name](short_timeline)
    as_json = json.loads(plotly.io.to_json(fig))
    assert as_json == json.loads(plotly.io.to_json(go.Figure(fig.to_dict()))) or \
        pruned(as_json) == pruned(json.loads(plotly.io.to_json(go.Figure(fig.to_dict()))))
    for trace in as_json["data"]:
        assert trace.get("x") != [0] and trace.get("z") != [[0.0]] and trace.get("customdata") != [[[0, 0, 0]]], \
            f"a placeholder was left in {trace.get('name')}"


def test_fast_to_dict_is_plotlys_to_dict_and_leaves_the_figure_alone(short_timeline):
    """st.plotly_chart calls to_dict on every chart; FastFigure's copies only containers."""
    import json

    import plotly.graph_objects as go

    for fig in (timeline_views.point_figure(short_timeline, animate=True),       # frames, subplots
                plots.heatmap(np.random.default_rng(1).random((28, 28))), train_charts.loss_figure(_snapshot(50, 1))):
        assert isinstance(fig, plots.FastFigure)
        before = json.dumps(go.Figure.to_dict(fig), sort_keys=True)
        fast = fig.to_dict()
        assert json.dumps(fast, sort_keys=True) == before
        fast["data"][0]["name"] = "changed"                      # the copy is the caller's
        fast["layout"]["title"] = {"text": "changed"}
        assert json.dumps(go.Figure.to_dict(fig), sort_keys=True) == before
        assert isinstance(fig.data[0].z if hasattr(fig.data[0], "z") and fig.data[0].z is not None
                          else fig.data[0].y, np.ndarray)      # the arrays were not packed in place
