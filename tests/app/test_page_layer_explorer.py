"""The Layer Explorer through AppTest: every layer shown, attributions, what-if on a copy."""
from pathlib import Path

import numpy as np
import pytest
import torch

from cnn_core.inference import introspection as intro
from cnn_core.models import pretrained
from cnn_core.models import specs
from cnn_core.models.checkpoints import ModelBundle

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "3_Layer_Explorer.py")


def a_one():
    img = np.zeros((28, 28), np.float32)
    img[4:24, 13:16] = 1.0
    return img


@pytest.fixture
def at(open_page):
    return open_page(PAGE, run=False)


def layer_expanders(at):
    return [e.label for e in at.expander if not e.label.startswith("What if")]


def test_every_layer_of_the_default_model_in_order(at):
    at.run()
    assert not at.exception and not at.error
    spec = pretrained.load_default_bundle().spec
    infos = specs.layer_infos(spec)
    assert layer_expanders(at) == [f"{i.index + 1}. {i.label} → {' × '.join(map(str, i.out_shape))}" for i in infos]
    assert at.metric[0].label == "Prediction"
    assert any("label 7" in c.value for c in at.caption)  # opens on a bundled 7
    first = next(e for e in at.expander if e.label.startswith("1. "))
    assert first.caption[0].value == " · ".join(intro.layer_arithmetic(spec)[0])
    assert "⌊(28 + 2·1 − 3)/1⌋ + 1 = 28" in first.caption[0].value and "= 320" in first.caption[0].value


def test_the_shared_drawing_is_explained(at):
    at.session_state["current_input"] = a_one()
    at.session_state["current_input_source"] = "your drawing"
    at.run()
    assert at.radio(key="lx_source").value == "Your drawing"
    b = pretrained.load_default_bundle()
    with torch.no_grad():
        want = int(b.model(torch.as_tensor(a_one())[None, None]).argmax())
    assert at.metric[0].value.startswith(b.class_names[want] + " (")
    assert at.selectbox(key="lx_target").value == want
    at.selectbox(key="lx_target").set_value(3).run()
    assert not at.exception


def test_zero_a_kernel_then_reset_never_touches_the_shared_model(at):
    at.run()
    b = pretrained.load_default_bundle()
    before = {k: v.clone() for k, v in b.model.state_dict().items()}
    at.number_input(key="lx_wi_out").set_value(4).run()
    at.button(key="lx_wi_zero").click().run()
    assert not at.exception
    assert at.metric[0].label == "Prediction (what-if)"
    assert "kernel 4 of layer 1 zeroed" in at.warning[0].value
    assert all(torch.equal(before[k], v) for k, v in b.model.state_dict().items())
    # the zeroed kernel's feature map is flat 0: its statistics row says so
    stats = [df for df in at.dataframe if "map" in df.value.columns][0].value
    row = stats[stats["map"] == 4].iloc[0]
    assert row["min"] == 0 and row["max"] == 0
    # a second edit adds to the first
    at.number_input(key="lx_wi_out").set_value(6).run()
    at.button(key="lx_wi_zero").click().run()
    assert "kernel 4 of layer 1 zeroed" in at.warning[0].value and "kernel 6 of layer 1 zeroed" in at.warning[0].value
    stats = [df for df in at.dataframe if "map" in df.value.columns][0].value
    assert stats[stats["map"].isin([4, 6])]["max"].tolist() == [0, 0]
    at.button(key="lx_wi_reset").click().run()
    assert at.metric[0].label == "Prediction" and not at.warning
    stats = [df for df in at.dataframe if "map" in df.value.columns][0].value
    assert stats[stats["map"] == 4]["max"].iloc[0] > 0


def test_apply_the_kernel_unchanged_keeps_the_prediction(at):
    at.run()
    first = at.metric[0].value
    at.button(key="lx_wi_apply").click().run()
    assert "edited" in at.warning[0].value
    assert at.metric[0].value == first


@pytest.mark.parametrize("spec", [
    specs.preset("seed-002"),
    specs.preset("lenet-5"),
    specs.build_spec(blocks=2, kernels=[4, 6], batchnorm=True, dropout_p=0.2, dense_width=8,
                     input_shape=(3, 32, 32), name="rgb-test"),
], ids=["seed-002", "lenet-5", "rgb-builder"])
def test_any_architecture_the_train_page_builds(at, spec):
    torch.manual_seed(0)
    model = specs.build_torch(spec).eval()
    at.session_state["active_model"] = ModelBundle(spec, model, {"name": spec["name"], "engine": "torch"})
    at.session_state["current_input"] = a_one()
    at.run()
    assert not at.exception and not at.error
    assert len(layer_expanders(at)) == len(spec["layers"])
    if spec["input_shape"] != [1, 28, 28]:
        assert any("resized from 28×28 to 32×32" in c.value for c in at.caption)


@pytest.mark.parametrize("cell,message", [(None, "fill in the empty cells"), (1e9, "1e+09 is too large")])
def test_a_bad_edited_kernel_is_refused_and_earlier_edits_stay(at, cell, message):
    at.run()
    at.button(key="lx_wi_zero").click().run()                     # a first, good edit: kernel 1 zeroed
    assert "kernel 1 of layer 1 zeroed" in at.warning[0].value
    at.number_input(key="lx_wi_out").set_value(2).run()
    at.session_state["lx_wi_edit_0_1_0_1"] = {"edited_rows": {0: {"2": cell}}, "added_rows": [], "deleted_rows": []}
    at.button(key="lx_wi_apply").click().run()
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value
    assert "kernel 1 of layer 1 zeroed" in at.warning[0].value and "kernel 2" not in at.warning[0].value


def test_closed_layers_cost_nothing_until_opened(at):
    at.run()
    charts = {e.label.split(".")[0]: len(e.get("plotly_chart")) for e in at.expander if not e.label.startswith("What")}
    assert charts["1"] == 2 and charts["2"] == 1 and charts["5"] == 0   # maps (+ kernels tab) only where open
    at.session_state["lx_open_4"] = True                                 # the learner opens layer 5
    at.run()
    layer5 = next(e for e in at.expander if e.label.startswith("5. "))
    assert len(layer5.get("plotly_chart")) == 2 and not at.exception


def test_attributions_are_not_recomputed_when_nothing_they_depend_on_changed(at, monkeypatch):
    calls = []
    real = intro.saliency
    monkeypatch.setattr(intro, "saliency", lambda *a, **k: calls.append(a[3]) or real(*a, **k))
    at.session_state["current_input"] = a_one()
    at.run()
    at.run()                                          # a rerun with the same input, model and class
    assert not at.exception and len(calls) == 1
    target = at.selectbox(key="lx_target")
    target.set_value(3).run()                         # another class: computed for it
    assert calls[-1] == 3 and len(calls) == 2
    at.session_state["current_input"] = np.rot90(a_one()).copy()
    at.run()                                          # another drawing: computed again
    assert len(calls) == 3


# --- the overview and its drill-downs (issue 13) -------------------------------------------------

def _figure(at, key):
    import json

    return next(json.loads(p.proto.spec) for p in at.get("plotly_chart") if p.proto.id.endswith(key))


def test_the_overview_comes_first_with_one_column_per_drawn_layer(at):
    at.run()
    assert not at.exception and not at.error
    charts = at.get("plotly_chart")
    assert charts[0].proto.id.endswith("lx_ov_fig"), "the overview is the first chart on the page"
    fig = _figure(at, "lx_ov_fig")
    spec = pretrained.load_default_bundle().spec
    titles = [a["text"].split("<br>")[0] for a in fig["layout"]["annotations"] if "<span" in a["text"]]
    drawn = [lay for lay in spec["layers"] if lay["type"] != "dropout"]
    assert len(titles) == 1 + len(drawn) + 1  # input, every layer but dropout, softmax
    assert titles[0] == "input" and titles[1] == "conv 1" and titles[-1] == "softmax"
    assert any(a["text"] == "+24<br>more" for a in fig["layout"]["annotations"])  # 32 maps, 8 drawn
    maps = next(t for t in fig["data"] if t.get("name") == "maps")
    assert "click: how it was made" in maps["hovertext"][0]
    assert any("Click any map" in c.value for c in at.caption)
    assert "dropout layer" in next(c.value for c in at.caption if "Click any map" in c.value)


def test_choosing_a_conv_map_writes_out_its_channel_sums_and_the_models_value(at):
    from cnn_core.inference.conv_arithmetic import conv_contributions

    at.run()
    at.selectbox(key="lx_ov_col").set_value(4).run()  # the second conv layer
    at.number_input(key="lx_ov_item").set_value(3).run()
    assert not at.exception and not at.error
    assert any(m.value.startswith("**How map 3 of layer 5 (Conv2D(64") for m in at.markdown)
    b = pretrained.load_default_bundle()
    ds_image = at.session_state["lx_digit"]
    from cnn_core.data import datasets

    img = datasets.load_bundled().floats([int(ds_image)])[0, 0]
    cc = conv_contributions(b.model, img, 4, 2, spec=b.spec)
    r, c = np.unravel_index(int(np.argmax(cc.output)), cc.output.shape)  # the drill-down opens on the largest cell
    total = next(m.value for m in at.markdown if "neuron-total" in m.value)
    assert cc.cell(r, c).written_total() in total
    assert total.count("+") + total.count("−") >= 32  # 32 channel sums, then the bias
    at.button(key=f"lx_dd_pos_conv_4_2_next").click().run()
    total2 = next(m.value for m in at.markdown if "neuron-total" in m.value)
    nxt = (r, c + 1) if c + 1 < cc.output.shape[1] else (r + 1, 0)
    assert cc.cell(*nxt).written_total() in total2
    table = at.dataframe[0].value if "input channel" in at.dataframe[0].value.columns else at.dataframe[1].value
    assert len(table) == 32 and abs(table["sum"]).is_monotonic_decreasing


@pytest.mark.parametrize("key,words", [(1, "Batch norm, map 1"), (2, "ReLU, map 1"), (3, "Max pooling, map 1"),
                                       (14, "Average pooling"), (15, "Flatten, unit 1"), (17, "the logit of class 0"),
                                       (18, "Softmax, class 0"), (-1, "The input")])
def test_every_kind_of_layer_has_a_drilldown(at, key, words):
    at.run()
    at.selectbox(key="lx_ov_col").set_value(key).run()
    assert not at.exception and not at.error
    assert any(words in m.value for m in at.markdown), [m.value[:80] for m in at.markdown]


def test_a_click_on_the_overview_selects_that_map(monkeypatch):
    from ui.views.see_inside import neuron_views as nv

    state = {"p_ov_fig": {"selection": {"points": [{"customdata": {"0": 7, "1": 12}}]}}}
    monkeypatch.setattr(nv.st, "session_state", state)
    nv._on_click("p_")
    assert (state["p_ov_col"], state["p_ov_item"]) == (7, 13)
    state["p_ov_fig"] = {"selection": {"points": []}}  # a second click on the same map deselects in plotly
    nv._on_click("p_")
    assert (state["p_ov_col"], state["p_ov_item"]) == (7, 13)


def test_open_in_the_convolution_page_carries_the_map_kernel_stride_and_padding(at, open_page):
    from ui.views.see_inside.neuron_views import CONV_HANDOFF

    at.run()
    at.selectbox(key="lx_ov_col").set_value(4).run()
    at.button(key="lx_dd_open").click().run()
    assert not at.exception
    hand = at.session_state[CONV_HANDOFF]
    b = pretrained.load_default_bundle()
    ic = at.selectbox(key="lx_dd_open_4_0").value
    np.testing.assert_allclose(hand["kernel"], b.model[4].weight.detach()[0, ic].numpy(), rtol=1e-6)
    assert (hand["stride"], hand["padding"], hand["bias"]) == (1, 1, 0.0) and hand["image"].shape == (14, 14)

    conv = open_page("pages/2_Convolution.py", run=False)
    conv.session_state[CONV_HANDOFF] = hand
    conv.run()
    assert not conv.exception and not conv.error
    assert conv.selectbox(key="conv_source").value == "From the Layer Explorer"
    assert conv.radio(key="conv_ksrc").value == "From the Layer Explorer"
    assert conv.number_input(key="conv_stride").value == 1 and conv.number_input(key="conv_padnum").value == 1
    want = float((np.pad(hand["image"], 1)[:3, :3] * hand["kernel"]).sum())  # the first window, bias 0
    written = next(m.value for m in conv.markdown if "conv-sum" in m.value)
    assert written.rstrip("</div>").endswith(f"{want:.3f}".replace("-", "−"))


def _bundle(kind):
    if kind == "seed-002":
        spec = specs.preset("seed-002")
        torch.manual_seed(0)
        return ModelBundle(spec, specs.build_torch(spec).eval(), {"name": "seed-002", "engine": "torch"})
    if kind == "numpy seed-004":
        from cnn_core.numpy_nn.from_spec import build_numpy

        spec = specs.preset("seed-004")
        return ModelBundle(spec, build_numpy(spec, seed=1).eval(), {"name": "np", "engine": "numpy"})
    spec = specs.build_spec(blocks=2, kernels=[4, 6], batchnorm=True, dropout_p=0.2, dense_width=12,
                            input_shape=(3, 32, 32), name="rgb")
    torch.manual_seed(0)
    return ModelBundle(spec, specs.build_torch(spec).eval(), {"name": "rgb", "engine": "torch"})


@pytest.mark.parametrize("kind", ["seed-002", "numpy seed-004", "rgb builder"])
def test_overview_and_a_conv_drilldown_for_other_architectures_and_engines(at, kind):
    from cnn_core.inference.conv_arithmetic import conv_contributions

    b = _bundle(kind)
    at.session_state["active_model"] = b
    at.session_state["current_input"] = a_one()
    at.run()
    assert not at.exception and not at.error
    fig = _figure(at, "lx_ov_fig")
    n_in = b.spec["input_shape"][0]
    assert len(fig["data"][0]["x"]) > 1 and any(a["text"].startswith("input<br>") for a in fig["layout"]["annotations"])
    convs = [i for i, layer in enumerate(b.spec["layers"]) if layer["type"] == "conv2d"]
    at.selectbox(key="lx_ov_col").set_value(convs[-1]).run()
    assert not at.exception and not at.error
    total = next(m.value for m in at.markdown if "neuron-total" in m.value)
    cc = conv_contributions(b.model, a_one(), convs[-1], 0, spec=b.spec)
    r, c = np.unravel_index(int(np.argmax(cc.output)), cc.output.shape)
    assert cc.cell(r, c).written_total() in total
    at.selectbox(key="lx_ov_col").set_value(convs[0]).run()
    assert any(f"Its kernel is {n_in} slice" in m.value for m in at.markdown)


def test_a_shared_layer_explorer_link_restores_class_and_layer_and_survives_another_model(open_page):
    at = open_page("pages/3_Layer_Explorer.py", run=False)
    at.query_params.update({"lx_source": "A digit from the data set", "lx_digit": "12", "lx_target": "3",
                            "lx_camlayer": "0"})
    at.run()
    assert not at.exception and not at.error
    assert at.number_input(key="lx_digit").value == 12 and at.selectbox(key="lx_target").value == 3
    assert at.selectbox(key="lx_camlayer").value == 0
    bad = open_page("pages/3_Layer_Explorer.py", run=False)
    bad.query_params.update({"lx_target": "900", "lx_camlayer": "77"})     # fits no layer / class of this model
    bad.run()
    assert not bad.exception and not bad.error


def test_the_what_if_delta_follows_the_trained_answer_honestly(at):
    """Issue 11: the delta read "↑ +60.9 points vs trained" when the edit made the model worse (it was the
    new winner's gain); it now shows the trained model's answer going down, and the panel stays open."""
    at.run()
    trained = at.metric[0].value
    b = pretrained.load_default_bundle()
    n_first = next(m for m in b.model.modules() if isinstance(m, torch.nn.Conv2d)).out_channels
    at.session_state["lx_whatif"] = [{"layer": 0, "out": j, "in": None, "kernel": None, "zero": True,
                                      "label": f"kernel {j + 1} of layer 1 zeroed"} for j in range(n_first)]
    at.run()
    m = at.metric[0]
    assert m.label == "Prediction (what-if)" and m.value != trained
    assert m.delta.startswith("-") and "the trained model's answer" in m.delta
    at.button(key="lx_wi_reset").click().run()
    assert not at.exception and at.metric[0].label == "Prediction"


def test_a_change_of_almost_nothing_is_explained(at):
    at.run()
    at.button(key="lx_wi_apply").click().run()               # the kernel applied unchanged: no change at all
    assert any("Almost no change" in c.value for c in at.caption)
