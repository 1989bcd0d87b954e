"""The Draw & Predict page in AppTest: a drawing fed through session state, uploads, bundled digits."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from pathlib import Path

from cnn_core.models import specs
from cnn_core.models.checkpoints import ModelBundle
from cnn_core.data.synthetic import draw_digit

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "1_Draw_and_Predict.py")
CANVAS = "draw_canvas_0"   # the canvas's key until "Clear" mounts a fresh one


def _png(rgba: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, "PNG")
    return buf.getvalue()


def _canvas_state(rgba: np.ndarray) -> dict:
    """What streamlit-drawable-canvas 0.13 keeps in session state after a stroke."""
    url = "data:image/png;base64," + base64.b64encode(_png(rgba)).decode()
    return {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url}, "backgroundFit": None}


@pytest.fixture
def at(open_page):
    return open_page(PAGE, timeout=30)


def _draw(at, rgba, key=CANVAS):
    at.session_state[key] = _canvas_state(rgba)
    return at.run()


def _prediction(at):
    metrics = [m for m in at.metric if m.label == "Prediction"]
    return metrics[0] if metrics else None


def test_empty_canvas_shows_a_hint_not_a_guess(at):
    assert not at.exception
    assert _prediction(at) is None
    assert any("Draw a digit" in i.value for i in at.info)
    assert at.slider(key="draw_pen").value == 20


@pytest.mark.parametrize("digit", [7, 3])
def test_a_drawing_is_predicted_and_shared_with_other_pages(at, digit):
    _draw(at, draw_digit(digit, pen=22, box=(0.15, 0.1, 0.85, 0.9)))
    assert not at.exception
    metric = _prediction(at)
    assert metric is not None and metric.value == str(digit)
    assert "% probability" in metric.delta
    assert float(metric.delta.split(" %")[0]) > 50
    assert any("Prediction took" in c.value and "preprocessing" in c.value for c in at.caption)
    shared = at.session_state["current_input"]
    assert shared.shape == (28, 28) and shared.dtype == np.float32 and shared.max() == pytest.approx(1.0)
    assert at.session_state["current_input_source"] == "your drawing"


def test_a_cleared_canvas_goes_back_to_the_hint(at):
    _draw(at, draw_digit(1))
    assert _prediction(at) is not None
    black = np.zeros((280, 280, 4), np.uint8)
    black[..., 3] = 255
    _draw(at, black)      # the canvas toolbar's reset: an all-black image
    assert _prediction(at) is None and any("canvas is empty" in i.value for i in at.info)
    assert at.session_state["current_input"] is None


def test_a_rerun_without_a_new_stroke_does_not_predict_again(at, monkeypatch):
    from cnn_core.inference import predict

    calls = []
    real = predict.predict_canvas
    monkeypatch.setattr(predict, "predict_canvas", lambda *a, **k: calls.append(1) or real(*a, **k))
    seven, three = draw_digit(7, pen=22), draw_digit(3, pen=22)
    _draw(at, seven)
    at.slider(key="draw_pen").set_value(30).run()      # the same drawing: remembered, not recomputed
    assert not at.exception and _prediction(at).value == "7" and len(calls) == 1
    _draw(at, three)
    assert _prediction(at).value == "3" and len(calls) == 2


def test_clear_button_mounts_a_fresh_canvas(at):
    _draw(at, draw_digit(4))
    at.button(key="draw_clear").click().run()
    assert not at.exception and _prediction(at) is None
    assert at.session_state["draw_canvas_n"] == 1 and at.session_state["current_input"] is None


def test_random_bundled_digit_shows_its_true_label(at):
    at.radio(key="draw_source").set_value("Random bundled digit").run()
    assert not at.exception and _prediction(at) is not None
    idx = at.session_state["draw_random_idx"]
    assert any(m.value.startswith("True label:") for m in at.markdown)
    assert at.session_state["current_input_source"].startswith(f"bundled digit #{idx} ")
    at.button(key="draw_pick").click().run()
    assert not at.exception and _prediction(at) is not None


def test_uploaded_photo_of_dark_ink_on_paper_is_read(at):
    at.radio(key="draw_source").set_value("Upload a picture").run()
    assert any("Upload a picture" in i.value for i in at.info)
    photo = draw_digit(7, size=600, pen=40, ink=(40, 40, 60), background=(235, 232, 220))
    at.file_uploader(key="draw_upload").set_value(("seven.png", _png(photo), "image/png")).run()
    assert not at.exception and not at.error
    assert _prediction(at).value == "7"
    assert at.session_state["current_input_source"] == "uploaded picture seven.png"


def _bomb() -> bytes:
    buf = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buf, "PNG")
    return buf.getvalue()


def _animation() -> bytes:
    frames = [Image.new("L", (28, 28), c) for c in (0, 200)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    return buf.getvalue()


@pytest.mark.parametrize("name,blob,words", [
    ("notes.png", b"this is a text file renamed to .png" * 20, "not a picture"),
    ("cut.png", _png(np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8))[:4000], "damaged"),
    ("bomb.png", _bomb(), "decompression bomb"),
    ("anim.gif", _animation(), "animation"),
    ("blank.png", _png(np.full((100, 100, 3), 255, np.uint8)), "looks blank"),
])
def test_bad_uploads_give_one_clear_error_and_the_page_keeps_working(at, name, blob, words):
    at.radio(key="draw_source").set_value("Upload a picture").run()
    at.file_uploader(key="draw_upload").set_value((name, blob, "image/png")).run()
    assert not at.exception
    assert len(at.error) == 1 and words in at.error[0].value
    assert _prediction(at) is None
    at.radio(key="draw_source").set_value("Draw").run()
    _draw(at, draw_digit(7, pen=22))
    assert not at.exception and _prediction(at).value == "7"


def test_a_model_for_other_inputs_is_refused_with_one_message(at):
    spec = specs.build_spec(blocks=1, kernels=4, input_shape=(3, 32, 32))
    at.session_state["active_model"] = ModelBundle(spec, specs.build_torch(spec).eval(), {"name": "cifar toy"})
    at.run()
    assert not at.exception and len(at.error) == 1 and "3×32×32" in at.error[0].value


def _seven():
    from cnn_core.data.synthetic import draw_digit
    return draw_digit(7)


def test_the_drawing_and_its_prediction_survive_a_visit_to_another_page(open_page):
    """Issue 11: Draw → another page → Draw showed a blank canvas and no prediction."""
    at = open_page("app.py")
    at.switch_page("pages/1_Draw_and_Predict.py").run()
    at.session_state[CANVAS] = _canvas_state(_seven())
    at.run()
    first = _prediction(at)
    assert first is not None and first.value == "7"
    at.switch_page("pages/2_Convolution.py").run()
    assert not at.exception
    at.switch_page("pages/1_Draw_and_Predict.py").run()
    assert not at.exception
    back = _prediction(at)
    assert back is not None and back.value == "7"
    mounted = at.session_state["draw_mount"]
    assert mounted["key"] == CANVAS and mounted["json"]["objects"]      # the canvas is mounted with the strokes


def test_an_uploaded_picture_is_kept_across_a_page_switch_with_a_note(open_page):
    at = open_page("app.py")
    at.switch_page("pages/1_Draw_and_Predict.py").run()
    at.radio(key="draw_source").set_value("Upload a picture").run()
    photo = draw_digit(7, size=600, pen=40, ink=(40, 40, 60), background=(235, 232, 220))
    at.file_uploader(key="draw_upload").set_value(("seven.png", _png(photo), "image/png")).run()
    assert _prediction(at).value == "7"
    at.switch_page("pages/5_Practice.py").run()
    at.switch_page("pages/1_Draw_and_Predict.py").run()
    assert not at.exception
    assert at.radio(key="draw_source").value == "Upload a picture"          # the page's choice is kept
    assert _prediction(at) is not None and _prediction(at).value == "7"
    assert any("Still using seven\\.png" in c.value for c in at.caption)    # the name shown as text, not markdown
