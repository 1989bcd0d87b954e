"""The Softmax & Loss page through AppTest: the notes' numbers come out exactly."""
from pathlib import Path

import numpy as np
import pytest
import torch

from cnn_core.models import pretrained

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "4_Softmax_and_Loss.py")


@pytest.fixture
def at(open_page):
    return open_page(PAGE, run=False)


def text(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_the_notes_softmax_example_comes_out_exactly(at):
    at.run()
    assert not at.exception and not at.error
    t = text(at)
    for name, p in zip(["dog", "cat", "horse", "cheetah"], ["0.775", "0.116", "0.039", "0.070"]):
        assert f"**{name}**: e^" in t and t.split(f"**{name}**: ")[1].split("\n")[0].endswith(f"= {p}")
    assert "2.7183^0.8" in at.info[0].value  # the notes' typo in the printed denominator
    assert "−ln(0.7751) = 0.255 nats" in t and "−log2(0.7751) = 0.367 bits" in t


def test_true_class_changes_the_loss_one_hot_and_gradient(at):
    at.run()
    at.selectbox(key="sm_true").set_value(2).run()
    t = text(at)
    assert "One-hot label y for **horse**: `[0, 0, 1, 0]`" in t
    p = 0.03859
    assert f"= {-np.log(p):.3f} nats" in t
    grad = at.dataframe[0].value["p − y"].to_numpy()
    z = torch.tensor([3.2, 1.3, 0.2, 0.8], requires_grad=True, dtype=torch.float64)
    torch.nn.functional.cross_entropy(z[None], torch.tensor([2])).backward()
    np.testing.assert_allclose(grad, z.grad.numpy(), atol=1e-12)


def test_the_notes_bits_nats_and_five_class_erratum(at):
    at.run()
    t = text(at)
    assert "**−log2(0.1) = 3.322 bits**, or **−ln(0.1) = 2.303 nats**" in t
    assert "= **2.307** bits" in t
    table = at.dataframe[1].value
    assert table["the notes print"].tolist() == [3.322, 0.9434, 1.685, 3.644, 1.889]
    assert table["agrees"].tolist() == ["✓", "✓", "✗ slip", "✓", "✓"]
    assert "−log2(0.3) = 1.737, not 1.685, so the mean is 2.307, not 2.2967" in at.warning[0].value


def test_second_notes_example_is_about_07_02_01(at):
    at.run()
    at.selectbox(key="sm_example").set_value("Notes: logits 2.0, 1.0, 0.1").run()
    t = text(at)
    assert "= 0.659" in t and "= 0.242" in t and "= 0.099" in t


def test_own_logits_and_a_typing_mistake(at):
    at.run()
    at.text_input(key="sm_logits").input("1, 2, x").run()
    assert not at.exception
    assert len(at.error) == 1 and "'x' is not a number" in at.error[0].value
    at.text_input(key="sm_logits").input("0, 0").run()   # two logits while the 4-logit example is selected
    assert not at.exception and not at.error and "= 0.500" in text(at)


def test_the_model_on_the_current_drawing(at):
    img = np.zeros((28, 28), np.float32)
    img[4:24, 13:16] = 1.0
    at.session_state["current_input"] = img
    at.run()
    at.selectbox(key="sm_example").set_value("The active model on the current input").run()
    assert not at.exception
    b = pretrained.load_default_bundle()
    with torch.no_grad():
        logits = b.model(torch.as_tensor(img)[None, None])[0].numpy()
    shown = [float(v) for v in at.text_input(key="sm_logits").value.split(",")]
    np.testing.assert_allclose(shown, logits, atol=1e-3)
    assert text(at).count("e^") >= 10 * 11  # ten classes written out


def test_one_hot_checker(at):
    at.run()
    assert at.success[0].value.startswith("Valid: exactly one 1, at position 4")
    at.radio(key="sm_onehot_pick").set_value("[0,1,0,1,0]").run()
    assert "2 ones" in at.error[0].value
    at.radio(key="sm_onehot_pick").set_value("[1,1,1,1,1]").run()
    assert "5 ones" in at.error[0].value


def test_extreme_logits_give_a_finite_loss_not_a_traceback(at):
    at.run()
    at.text_input(key="sm_logits").input("1000, -1000").run()
    at.selectbox(key="sm_true").set_value(1).run()   # its probability underflows to 0
    assert not at.exception and not at.error
    t = text(at)
    assert "= 2000 nats" in t and "e^(−1000 − 1000)" in t and "inf" not in t


def test_fewer_logits_keep_the_true_class_box(at):
    at.run()
    at.selectbox(key="sm_true").set_value(3).run()
    at.text_input(key="sm_logits").input("1, 2").run()
    assert not at.exception
    # the notes' four names for two logits: the first two are used (issue 18: and a caption says so)
    assert at.selectbox(key="sm_true").value == 0 and "One-hot label y for **dog**: `[1, 0]`" in text(at)


def test_a_stale_true_class_label_from_old_names_is_replaced_not_a_type_error(open_page):
    """Issue 11: logits 1, 2, 3 then 4, 5, 6 (or renamed classes) → TypeError '<=' int vs str: the
    selectbox hands back its old label as a string when its labels change."""
    at = open_page(PAGE)
    at.selectbox(key="sm_true").select(2).run()
    at.session_state["sm_true"] = "cheetah"          # what Streamlit returns for a label no longer offered
    at.text_input(key="sm_logits").input("1, 2, 3").run()
    assert not at.exception
    assert at.selectbox(key="sm_true").value == 2     # the last valid choice, still in range
    at.session_state["sm_true"] = "horse"            # the third name, gone with the third logit
    at.text_input(key="sm_logits").input("4, 5").run()
    assert not at.exception and at.selectbox(key="sm_true").value == 0


def test_a_shared_link_restores_logits_names_and_true_class(open_page):
    at = open_page(PAGE, run=False)
    at.query_params.update({"sm_example": "Your own logits", "sm_logits": "1, 2, 3", "sm_names": "a, b, c",
                            "sm_true": "2"})
    at.run()
    assert not at.exception and not at.error
    assert at.text_input(key="sm_logits").value == "1, 2, 3" and at.selectbox(key="sm_true").value == 2
    assert any("**c**" in m.value for m in at.markdown)


def test_a_tampered_softmax_link_gives_a_message_and_the_defaults(open_page):
    at = open_page(PAGE, run=False)
    at.query_params.update({"sm_example": "Evil", "sm_true": "999"})
    at.run()
    assert not at.exception and not at.error
    assert at.selectbox(key="sm_example").value == "Notes: dog, cat, horse, cheetah"
    assert any("cannot use" in w.value and "sm_true=999" in w.value for w in at.warning)
