"""The Backpropagation page through AppTest: the four stages on one input, every layer's panel, an
update step that lowers the loss, and the proof (autograd and central differences) on the page."""
import re

import numpy as np
import pytest

from cnn_core.data import datasets as data
from ui.views.see_inside import backprop_views as bv
from ui.app import state

PAGE = "pages/9_Backpropagation.py"


@pytest.fixture
def at(open_page):
    return open_page(PAGE, run=False)


def box(at, testid: str) -> str:
    hits = [m.value for m in at.markdown if f"data-testid='{testid}'" in m.value]
    assert hits, f"no {testid} on the page"
    return re.sub("<[^>]+>", "", hits[0])


def tiny(text: str) -> bool:
    """'… is 4.4×10⁻¹⁶.' : a difference of 10⁻¹⁰ or less."""
    m = re.search(r"×10⁻([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", text)
    return m is not None and int(m.group(1).translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789"))) >= 10


def test_the_four_stages_on_a_bundled_digit(at):
    at.run()
    assert not at.exception and not at.error
    assert [h.value for h in at.header][:4] == ["1 · Forward: each layer's output", "2 · Loss: how wrong is the answer?",
                                                  "3 · Backward: the chain rule, layer by layer",
                                                  "4 · Update: W ← W − η·∂L/∂W"]
    assert at.selectbox(key=f"{bv.K}label_A digit from the data set_bundled digit #{_first_three()}").value == 3
    # the default layer is the first conv layer, its centre weight of kernel 1 written out as a sum
    assert box(at, "bp-sum").startswith("∂L/∂W[1, 1, 2, 2] = Σ over the 26×26 positions of δ")
    assert "more terms" in box(at, "bp-sum")
    assert tiny(box(at, "bp-autograd")) and "14,394 gradients" in box(at, "bp-autograd")
    assert "∂L/∂W[1, 1, 2, 2] of layer 1" in box(at, "bp-numerical") and tiny(box(at, "bp-numerical"))
    assert box(at, "bp-update").startswith("W[1, 1, 2, 2] ← W[1, 1, 2, 2] − η · ∂L/∂W[1, 1, 2, 2] = ")


def _first_three() -> int:
    ds = data.load_bundled()
    return int(np.flatnonzero(ds.labels == 3)[0])


def test_apply_one_step_lowers_the_loss_on_this_input(at):
    at.run()
    at.button(key=f"{bv.K}step").click().run()
    assert not at.exception and not at.error
    hist = at.session_state[bv.HISTORY]
    assert len(hist) == 2 and hist[1]["loss"] < hist[0]["loss"]
    loss = next(m for m in at.metric if m.label == "Loss on this input")
    assert float(loss.value.split()[0]) == pytest.approx(hist[1]["loss"], abs=1e-4)
    assert loss.delta.startswith("-")
    assert "has taken 1 step on this input" in at.info[0].value
    at.button(key=f"{bv.K}step").click().run()
    hist = at.session_state[bv.HISTORY]
    assert len(hist) == 3 and hist[2]["loss"] < hist[1]["loss"]
    # the proof follows the updated weights
    assert tiny(box(at, "bp-autograd"))
    at.button(key=f"{bv.K}reset").click().run()
    assert at.session_state[bv.VERSION] == 0 and at.session_state[bv.HISTORY] == []


@pytest.mark.parametrize("layer,starts", [(4, "∂L/∂W["), (2, "max over rows"), (1, "x = "), (3, "Flatten only reshapes")])
def test_every_layer_kind_writes_its_arithmetic(at, layer, starts):
    at.run()
    at.selectbox(key=f"{bv.K}layer").set_value(layer).run()
    assert not at.exception and not at.error
    assert box(at, "bp-sum").startswith(starts)
    assert tiny(box(at, "bp-numerical"))


def test_the_drawing_is_the_input_and_its_label_what_the_trained_model_reads(at):
    ds = data.load_bundled()
    seven = ds.floats([int(np.flatnonzero(ds.labels == 7)[0])])[0, 0]
    at.session_state[state.CURRENT_INPUT] = seven
    at.session_state[state.CURRENT_INPUT_SOURCE] = "your drawing"
    at.run()
    assert not at.exception and not at.error
    assert at.radio(key=f"{bv.K}source").value == "Your drawing"
    assert at.selectbox(key=f"{bv.K}label_Your drawing_your drawing").value == 7
    assert "−ln p_y" in "".join(m.value for m in at.markdown)


def test_the_active_models_architecture_with_batch_norm(at):
    at.run()
    at.radio(key=f"{bv.K}net").set_value("active").run()
    assert not at.exception and not at.error
    assert tiny(box(at, "bp-autograd"))
    at.button(key=f"{bv.K}step").click().run()
    hist = at.session_state[bv.HISTORY]
    assert hist[1]["loss"] < hist[0]["loss"]


def _param(at, key: str) -> str:
    return str(at.query_params[key]).strip("[]'")


def test_a_shared_link_restores_network_input_layer_and_learning_rate(open_page):
    """The address carries the page's settings; a teacher's link opens the same view."""
    at = open_page(PAGE, run=False)
    at.query_params.update({f"{bv.K}seed": "7", f"{bv.K}source": "A digit from the data set", f"{bv.K}digit": "25",
                            f"{bv.K}layer": "2", f"{bv.K}lr": "0.05"})
    at.run()
    assert not at.exception and not at.error and not at.warning
    assert at.number_input(key=f"{bv.K}seed").value == 7 and at.number_input(key=f"{bv.K}digit").value == 25
    assert at.selectbox(key=f"{bv.K}layer").value == 2 and at.number_input(key=f"{bv.K}lr").value == 0.05
    assert re.search(r" − 0\.05 · \(?−?[0-9]", box(at, "bp-update"))     # the update is written with η = 0.05
    at.number_input(key=f"{bv.K}digit").set_value(31).run()          # the address follows what is on screen
    assert _param(at, f"{bv.K}digit") == "31" and _param(at, f"{bv.K}layer") == "2" and _param(at, f"{bv.K}lr") == "0.05"


def test_a_tampered_backprop_link_gives_one_message_and_the_defaults(open_page):
    at = open_page(PAGE, run=False)
    at.query_params.update({f"{bv.K}seed": "-3", f"{bv.K}lr": "1e6", f"{bv.K}digit": "<b>", f"{bv.K}layer": "40",
                            f"{bv.K}net": "mine"})
    at.run()
    assert not at.exception and not at.error
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 2, warnings           # unreadable values, then a layer this network does not have
    assert warnings[0].startswith("This link has settings this page cannot use (") and "bp_lr=1e6" in warnings[0]
    assert "bp_layer=40" in warnings[1]
    assert at.number_input(key=f"{bv.K}seed").value == 0 and at.number_input(key=f"{bv.K}lr").value == 0.001
    first_conv = 0
    assert at.selectbox(key=f"{bv.K}layer").value == first_conv


def _shown_index(box) -> int:
    """The option the browser shows for a selectbox the server (re)sends: the value sent with it, else its
    default (a widget whose options changed is a new widget to the browser)."""
    p = box.proto
    if p.set_value:
        return list(box.options).index(p.raw_value) if p.raw_value else int(p.value)
    return int(p.default)


def test_switching_network_shows_the_layer_the_panel_explains(at):
    """Issue 18 bug 3: after switching network, the Layer box kept "layer 2: ReLU" while the panel explained the
    new network's layer 2 (BatchNorm); Apply one step then warned about "a link" nobody had opened."""
    at.run()
    at.selectbox(key=f"{bv.K}layer").set_value(1).run()          # fresh network: layer 2, ReLU
    assert at.selectbox(key=f"{bv.K}layer").value == 1
    at.radio(key=f"{bv.K}net").set_value("active").run()
    assert not at.exception and not at.error and not at.warning
    box = at.selectbox(key=f"{bv.K}layer")
    assert box.options[_shown_index(box)] == box.options[box.options.index(box.format_func(box.value))]
    assert box.format_func(box.value).startswith("layer 1: Conv2D")   # the new network's first conv layer
    at.button(key=f"{bv.K}step").click().run()
    assert not at.exception and not at.warning
    box = at.selectbox(key=f"{bv.K}layer")
    assert box.format_func(box.value).startswith("layer 1: Conv2D")
