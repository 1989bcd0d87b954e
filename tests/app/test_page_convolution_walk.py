"""The Convolution page, issue 18 bug 9 (the parts AppTest can see; the layout at 1280×800 is measured in
tests/browser/test_walk_bugs.py)."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from cnn_core.lessons import convolution as conv
from cnn_core.lessons import presets, stepping
from tests.app.test_page_convolution import LINK, PAGE, step_line


@pytest.fixture
def at(open_page):
    return open_page(PAGE)


def _step(at) -> int:
    return int(step_line(at).split()[1])


def _first_on_ink(at, image, stride, padding) -> int:
    kernel = presets.preset_kernel(at.selectbox(key="conv_preset").value)[None]
    setup = conv.conv_setup(image, kernel, 0.0, stride, padding)
    return stepping.first_position(setup.positions, stepping.busy_positions(setup))


def test_changing_stride_or_padding_goes_to_the_first_window_on_the_ink(at):
    img = np.zeros((28, 28), np.float32)
    img[8:20, 14:16] = 1.0
    at.session_state["current_input"] = img
    at.session_state["current_input_source"] = "your drawing"
    at.run()
    assert _step(at) == _first_on_ink(at, img[None], 1, 1)
    at.number_input(key="conv_stride").set_value(2).run()       # it jumped to step 1, a blank corner
    assert not at.exception
    assert _step(at) == _first_on_ink(at, img[None], 2, 1) and "sees only zeros" not in step_line(at)
    at.selectbox(key="conv_padmode").select("valid").run()
    assert _step(at) == _first_on_ink(at, img[None], 2, 0) and "sees only zeros" not in step_line(at)


def test_type_it_in_starts_from_the_chosen_preset(at):
    """It started from the sharpen kernel whatever preset was on screen."""
    at.selectbox(key="conv_preset").select("Sobel x").run()
    with_preset = [m.value for m in at.markdown if "conv-sum" in m.value][0]
    at.radio(key="conv_ksrc").set_value("Type it in").run()
    assert not at.exception and not at.error
    typed = [m.value for m in at.markdown if "conv-sum" in m.value][0]
    assert typed == with_preset          # the same kernel, now in the editor to change
    assert at.selectbox(key="conv_ksize").value == 3


def test_rgb_mode_opens_at_its_first_step(at):
    at.slider(key="conv_slider").set_value(20).run()
    at.radio(key="conv_mode").set_value("RGB image (three channels)").run()
    assert not at.exception
    assert step_line(at).startswith("**Step 1 of 9**")           # it opened at step 9 of 9


def test_a_convolution_link_logs_no_default_value_warning(open_page, caplog, monkeypatch):
    from streamlit.elements.lib import policies
    for link in (LINK, {**LINK, "conv_source": "Type your own grid"}, {"conv_mode": "RGB image (three channels)",
                                                                       "conv_slider": "2"},
                 {**LINK, "conv_poolsrc": "the notes' 5×5 map (Figure 7.8)", "conv_poolk_3": "2"}):
        monkeypatch.setattr(policies, "_shown_default_value_warning", False)
        at = open_page(PAGE, run=False)
        at.query_params.update(link)
        with caplog.at_level(logging.WARNING):
            at.run()
            monkeypatch.setattr(policies, "_shown_default_value_warning", False)
            at.run()
        assert not at.exception
    assert not [r.getMessage() for r in caplog.records if "created with a default value" in r.getMessage()]
