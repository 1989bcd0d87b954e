"""The Convolution page through Streamlit's AppTest: what a learner sees after each action."""
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "2_Convolution.py")


@pytest.fixture
def at(open_page):
    return open_page(PAGE)


def sums(at):
    return [m.value for m in at.markdown if "conv-sum" in m.value]


def step_line(at):
    return next(m.value for m in at.markdown if m.value.startswith("**Step "))


def test_opens_on_the_notes_320_example(at):
    assert not at.exception
    assert sums(at) == ["<div data-testid='conv-sum' style='font-size:1.05rem'>0·0 + 0·(−1) + 0·0 + 0·(−1) + "
                        "105·5 + 102·(−1) + 0·0 + 103·(−1) + 99·0 + 0 (bias) = 320</div>"]
    assert any("⌊(5 + 2·1 − 3)/1⌋ + 1 = ⌊4/1⌋ + 1 = 5" in m.value for m in at.markdown)
    assert step_line(at).startswith("**Step 1 of 25**")


def test_next_and_previous_move_the_window(at):
    at.button(key="conv_next").click().run()
    assert "= 206" in sums(at)[0] and step_line(at).startswith("**Step 2 of 25**: output row 1, column 2")
    at.button(key="conv_next").click().run()
    assert "= 198" in sums(at)[0]
    at.button(key="conv_prev").click().run()
    assert "= 206" in sums(at)[0]
    at.slider(key="conv_slider").set_value(25).run()
    assert step_line(at).startswith("**Step 25 of 25**: output row 5, column 5")
    at.button(key="conv_next").click().run()  # stays at the last position
    assert step_line(at).startswith("**Step 25 of 25**")


def test_play_advances_on_each_tick_and_pause_stops(at):
    at.button(key="conv_play").click().run()
    assert at.session_state["conv_playing"] is True
    first = step_line(at)
    at.run()  # a tick of the fragment's timer
    at.run()
    assert step_line(at) != first
    at.button(key="conv_play").click().run()
    assert at.session_state["conv_playing"] is False
    paused = step_line(at)
    at.run()
    assert step_line(at) == paused


def test_the_shared_drawing_is_the_input(at):
    img = np.zeros((28, 28), np.float32)
    img[5:20, 13:15] = 1.0
    at.session_state["current_input"] = img
    at.session_state["current_input_source"] = "your drawing"
    at.run()   # issue 11: a new drawing is what the page opens on (it opened on the notes' example)
    assert not at.exception and at.selectbox(key="conv_source").value == "Your drawing"
    assert not any("is waiting" in c.value for c in at.caption)
    assert any("⌊(28 + 2·1 − 3)/1⌋ + 1 = ⌊27/1⌋ + 1 = 28" in m.value for m in at.markdown)
    line = step_line(at)   # a new drawing opens on the first window that sees ink, not on 100 steps of zeros
    assert " of 784**" in line and "sees only zeros" not in line and not line.startswith("**Step 1 of")
    at.radio(key="conv_ksrc").set_value("Active model's first conv layer").run()
    assert "(bias) = " in sums(at)[0]
    at.selectbox(key="conv_padmode").select("valid").run()
    assert any("⌊(28 + 2·0 − 3)/1⌋ + 1 = ⌊25/1⌋ + 1 = 26" in m.value for m in at.markdown)
    assert " of 676**" in step_line(at)


def test_a_bundled_digit_and_stride_two(at):
    at.selectbox(key="conv_source").select("A digit from the data set").run()
    at.number_input(key="conv_stride").set_value(2).run()
    line = step_line(at)            # ⌊(28 + 2 − 3)/2⌋ + 1 = 14; a new stride starts on the first window on the ink
    assert " of 196**" in line and "sees only zeros" not in line
    c0 = int(line.split("columns ")[1].split("–")[0])
    at.button(key="conv_next").click().run()
    assert f"columns {c0 + 2}–{c0 + 4}" in step_line(at)      # stride 2: two columns on


def test_a_kernel_too_big_for_the_grid_is_one_clear_error(at):
    at.selectbox(key="conv_source").select("Type your own grid").run()
    at.number_input(key="conv_rows").set_value(2).run()
    at.selectbox(key="conv_padmode").select("valid").run()
    assert not at.exception
    assert len(at.error) == 1 and "does not fit" in at.error[0].value


def test_same_padding_with_an_even_kernel_is_explained(at):
    at.radio(key="conv_ksrc").set_value("Type it in").run()
    at.selectbox(key="conv_ksize").select(2).run()
    at.selectbox(key="conv_padmode").select("same").run()
    assert not at.exception
    assert "odd kernel size" in at.error[0].value


def test_rgb_mode_adds_three_channel_sums_and_bias(at):
    at.radio(key="conv_mode").set_value("RGB image (three channels)").run()
    assert not at.exception
    line = sums(at)[0]
    assert ">2 + 3 + 0 + 1 (bias) = 6<" in line  # R, G, B sums of the first window, then the bias
    assert step_line(at).startswith("**Step 1 of 9**")  # 5×5×3, 3×3×3 kernel, valid → 3×3
    assert len([c for c in at.caption if c.value[:3] in ("R: ", "G: ", "B: ")]) == 3


def test_pooling_the_notes_map(at):
    at.radio(key="conv_poolsrc").set_value("the notes' 5×5 map (Figure 7.8)").run()
    assert any(m.value == "Output (1, 1): max(3, 3, 2, 0, 0, 1, 3, 1, 2) = 3" for m in at.markdown)
    assert any("⌊(5 − 3)/1⌋ + 1 = 3" in m.value for m in at.markdown)
    at.radio(key="conv_poolkind").set_value("avg").run()
    assert any(m.value == "Output (1, 1): avg(3, 3, 2, 0, 0, 1, 3, 1, 2) = 15/9 = 1.667" for m in at.markdown)
    assert "1/9" in at.info[0].value


def test_relu_then_max_pool_of_the_320_map(at):
    assert any(c.value.startswith("ReLU set 0 of 25 values") for c in at.caption)
    assert any(m.value == "Output (1, 1): max(320, 206, 210, 89) = 320" for m in at.markdown)
    assert any(c.value.startswith("Row 5 and column 5 are in no window") for c in at.caption)   # 2×2, stride 2 on 5×5
    assert "only to its winning cell" in at.info[0].value


@pytest.mark.parametrize("cell,message", [(None, "not a number"), (1e308, "1e+308 is too large")])
def test_an_empty_or_huge_typed_cell_is_one_clear_error(at, cell, message):
    at.selectbox(key="conv_source").select("Type your own grid").run()
    at.session_state["conv_grid_5x5"] = {"edited_rows": {0: {"2": cell}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value
    assert at.selectbox(key="conv_source").value == "Type your own grid"   # nothing the learner chose is lost


def test_a_huge_bias_is_one_clear_error(at):
    at.number_input(key="conv_bias").set_value(1e9).run()
    assert not at.exception
    assert len(at.error) == 1 and "Keep every bias between" in at.error[0].value


def test_the_chosen_kernel_is_drawn_with_hover_values(at):
    import base64
    import json

    def kernel_chart():
        for chart in at.get("plotly_chart"):
            fig = json.loads(chart.proto.spec)
            if fig["layout"].get("title", {}).get("text", "").startswith("Kernel "):
                return fig
        return None

    fig = kernel_chart()
    z = fig["data"][0]["z"]
    z = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(3, 3) if isinstance(z, dict) else z
    assert np.array_equal(z, [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])           # the notes' sharpen kernel
    assert fig["data"][0]["zmid"] == 0 and "weight" in fig["data"][0]["hovertemplate"]
    at.radio(key="conv_ksrc").set_value("Type it in").run()
    assert kernel_chart() is None                                           # the editor shows it instead


def _play_to_the_end(at):
    at.button(key="conv_play").click().run()
    for _ in range(40):
        if not at.session_state["conv_playing"]:
            break
        at.run()   # a tick
    return at


def test_play_to_the_end_then_play_again_starts_over_without_an_error(at):
    """Issue 11: pressing Play after Play had reached the last step raised
    StreamlitWidgetAlreadyInstantiatedError (the slider was reset after it was drawn)."""
    _play_to_the_end(at)
    assert not at.exception and at.session_state["conv_playing"] is False
    assert step_line(at).startswith("**Step 25 of 25**")
    at.button(key="conv_play").click().run()
    assert not at.exception and at.session_state["conv_playing"] is True
    assert step_line(at).startswith("**Step 1 of 25**")
    at.run()
    at.run()
    assert not step_line(at).startswith("**Step 1 of 25**")       # and it moves


def test_previous_while_playing_pauses_and_the_button_says_play_again(at):
    """Issue 11: after Previous the button stayed 'Pause' and the window never moved again."""
    at.button(key="conv_play").click().run()
    at.run()
    at.run()
    at.button(key="conv_prev").click().run()
    assert not at.exception and at.session_state["conv_playing"] is False
    assert at.button(key="conv_play").label == "Play"
    here = step_line(at)
    at.button(key="conv_next").click().run()
    assert step_line(at) != here


def test_play_on_a_drawing_skips_the_windows_that_see_only_zeros(open_page):
    img = np.zeros((28, 28), np.float32)
    img[10:18, 13:15] = 1.0
    at = open_page(PAGE, run=False)
    at.session_state["current_input"] = img
    at.session_state["current_input_source"] = "your drawing"
    at.run()
    assert at.checkbox(key="conv_skip").value is True             # 784 positions: skipping is on
    at.button(key="conv_play").click().run()
    assert not at.exception
    line = step_line(at)
    assert "sees only zeros" not in line
    for _ in range(3):
        at.run()
        assert "sees only zeros" not in step_line(at)
    assert at.select_slider(key="conv_speed").options == ["slow", "normal", "fast"]


def test_another_input_chosen_after_the_drawing_is_kept_until_a_new_drawing(at):
    img = np.zeros((28, 28), np.float32)
    img[5:20, 13:15] = 1.0
    at.session_state["current_input"] = img
    at.run()
    at.selectbox(key="conv_source").select("A digit from the data set").run()
    at.run()
    assert at.selectbox(key="conv_source").value == "A digit from the data set"
    assert any("Your drawing from the Draw page is waiting" in c.value for c in at.caption)
    img2 = img.copy()
    img2[3, 3] = 1.0
    at.session_state["current_input"] = img2
    at.run()
    assert at.selectbox(key="conv_source").value == "Your drawing"


LINK = {"conv_source": "A digit from the data set", "conv_digit": "3", "conv_preset": "Sobel x",
        "conv_stride": "2", "conv_padmode": "valid", "conv_slider": "5", "conv_poolkind": "avg"}


def test_a_shared_link_restores_the_view(open_page):
    at = open_page(PAGE, run=False)
    at.query_params.update(LINK)
    at.run()
    assert not at.exception and not at.error
    assert at.selectbox(key="conv_source").value == "A digit from the data set"
    assert at.number_input(key="conv_digit").value == 3
    assert at.selectbox(key="conv_preset").value == "Sobel x"
    assert (at.number_input(key="conv_stride").value, at.selectbox(key="conv_padmode").value) == (2, "valid")
    assert step_line(at).startswith("**Step 5 of 169**")          # (28 − 3)/2 + 1 = 13 → 13×13
    assert at.radio(key="conv_poolkind").value == "avg"
    assert at.query_params["conv_slider"] == ["5"] or at.query_params["conv_slider"] == "5"
    at.button(key="conv_next").click().run()                    # the address follows the view
    assert str(at.query_params["conv_slider"]).strip("[]'") == "6"


def test_a_tampered_link_falls_back_to_the_defaults_without_an_error(open_page):
    at = open_page(PAGE, run=False)
    at.query_params.update({"conv_stride": "99", "conv_slider": "-4", "conv_source": "<script>", "conv_padnum": "x"})
    at.run()
    assert not at.exception and not at.error
    assert at.number_input(key="conv_stride").value == 1
    assert step_line(at).startswith("**Step 1 of 25**")
    notes = [w.value for w in at.warning if "cannot use" in w.value]
    assert len(notes) == 1 and "conv_stride=99" in notes[0] and "conv_source=<script>" in notes[0]
