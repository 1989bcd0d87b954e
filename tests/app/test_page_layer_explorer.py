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
PAGE = str(ROOT / "app_pages" / "3_Layer_Explorer.py")


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
