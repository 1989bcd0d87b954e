"""Nothing lost between pages (issue 11): each page's settings come back after a visit to another page,
and the Convolution and Layer Explorer pages open on a new drawing."""
from __future__ import annotations

import numpy as np


def _drawing(v: float = 1.0) -> np.ndarray:
    img = np.zeros((28, 28), np.float32)
    img[6:22, 13:16] = v
    return img


def test_settings_of_every_page_survive_a_visit_elsewhere(open_page):
    at = open_page("app.py")
    at.switch_page("pages/2_Convolution.py").run()
    at.number_input(key="conv_stride").set_value(2).run()
    at.selectbox(key="conv_preset").select("Box blur").run()
    at.button(key="conv_next").click().run()
    at.switch_page("pages/4_Softmax_and_Loss.py").run()
    at.selectbox(key="sm_example").select("Your own logits").run()
    at.text_input(key="sm_logits").input("1, 2, 3").run()
    at.switch_page("pages/5_Practice.py").run()
    seed = at.session_state["pr_seed"]
    at.switch_page("pages/7_Evaluate.py").run()
    at.switch_page("pages/2_Convolution.py").run()
    assert not at.exception
    assert at.number_input(key="conv_stride").value == 2 and at.selectbox(key="conv_preset").value == "Box blur"
    assert next(m.value for m in at.markdown if m.value.startswith("**Step ")).startswith("**Step 2 of 9**")
    at.switch_page("pages/4_Softmax_and_Loss.py").run()
    assert at.text_input(key="sm_logits").value == "1, 2, 3"
    at.switch_page("pages/5_Practice.py").run()
    assert at.session_state["pr_seed"] == seed
    assert not [w for w in at.warning if "cannot use" in w.value]     # the learner's own settings, no notice


def test_convolution_and_layer_explorer_open_on_a_new_drawing(open_page):
    at = open_page("app.py")
    at.switch_page("pages/3_Layer_Explorer.py").run()
    at.radio(key="lx_source").set_value("A digit from the data set").run()
    at.session_state["current_input"] = _drawing()
    at.session_state["current_input_source"] = "your drawing"
    at.switch_page("pages/2_Convolution.py").run()
    assert at.selectbox(key="conv_source").value == "Your drawing"
    at.switch_page("pages/3_Layer_Explorer.py").run()
    assert not at.exception and at.radio(key="lx_source").value == "Your drawing"
