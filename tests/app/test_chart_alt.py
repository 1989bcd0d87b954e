"""Text alternatives of heatmaps (issue 18): the words a screen reader reads instead of the chart, and the
"show as table" switch. The numbers are fixed by the arrays, so each test spells them out."""
from pathlib import Path

import numpy as np
import pytest

from ui.views.chart_alt import (bars_summary, confusion_summary, heatmap_summary, maps_summary, training_summary,
                              vector_summary)

ROOT = Path(__file__).resolve().parents[2]


def test_an_input_image_says_where_the_ink_is():
    img = np.zeros((28, 28))
    img[4:23, 8:20] = 0.5          # rows 5–23, columns 9–20 counted from 1, as on the chart
    img[8, 13] = 1.0
    img[0, 0] = 0.05               # faint: under 10 % of the brightest, not ink
    assert heatmap_summary(img, "input", kind="image") == (
        "28×28 input; ink in rows 5–23, columns 9–20 (228 of 784 pixels); brightest 1.0 at row 9, column 14.")
    assert heatmap_summary(np.zeros((28, 28)), "input", kind="image") == "28×28 input; blank (no ink)."


def test_a_small_grid_lists_its_values_and_extremes():
    sharpen = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    assert heatmap_summary(sharpen, "kernel") == (
        "3×3 kernel; values from −1 to 5; largest 5 at row 2, column 2, smallest −1 at row 1, column 2. "
        "Values by row: row 1: 0, −1, 0; row 2: −1, 5, −1; row 3: 0, −1, 0.")


def test_cells_not_computed_yet_are_said_so():
    m = np.full((2, 3), np.nan)
    m[0, :2] = [320, 206]
    text = heatmap_summary(m, "feature map so far")
    assert text.startswith("2×3 feature map so far; 2 of 6 cells computed so far; values from 206 to 320; "
                           "largest 320 at row 1, column 1, smallest 206 at row 1, column 2.")
    assert text.endswith("row 1: 320, 206, not yet; row 2: not yet, not yet, not yet.")
    assert heatmap_summary(np.full((3, 3), np.nan), "map") == "3×3 map; no values yet."


def test_a_confusion_matrix_counts_the_diagonal_and_names_the_worst_confusions():
    cm = np.array([[5, 1, 0], [0, 4, 2], [0, 0, 8]])
    assert confusion_summary(cm, ["a", "b", "c"]) == (
        "3×3 confusion matrix, true class in rows, predicted class in columns; 17 of 20 images on the diagonal "
        "(correct, 85.0%); largest confusions: 2 of class b predicted as c, 1 of class a predicted as b.")


def test_probability_bars_name_the_largest_classes_and_the_rest():
    p = np.array([0.02, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0, 0.9, 0.0, 0.03])
    assert bars_summary(p, range(10)) == ("Probabilities of the 10 classes, largest first: 7 90.0 %, 1 5.0 %, "
                                          "9 3.0 %; the other 7 classes together 2.0 %.")


def test_a_non_grid_is_refused():
    with pytest.raises(ValueError, match="2-D"):
        heatmap_summary(np.zeros(5), "vector")


def _described(at) -> list[str]:
    return [h.proto.body for h in at.html if "cnnx-sr-only" in h.proto.body]


def test_the_convolution_page_describes_its_grids_for_screen_readers(open_page):
    at = open_page(str(ROOT / "pages" / "2_Convolution.py"))
    texts = _described(at)
    assert any(t.startswith('<p class="cnnx-sr-only">3×3 kernel; values from −1 to 5;') for t in texts), texts
    out = next(t for t in texts if "feature map so far" in t)
    # step 1 of the notes' example: the first output cell is 320, the other 24 are still to come
    assert "5×5 feature map so far (this step writes row 1, column 1); 1 of 25 cells computed so far; " \
           "every value 320." in out
    at.button(key="conv_next").click().run()
    out = next(t for t in _described(at) if "feature map so far" in t)
    assert "2 of 25 cells computed so far; values from 206 to 320" in out


def test_the_grids_show_as_tables_on_request(open_page):
    at = open_page(str(ROOT / "pages" / "2_Convolution.py"))
    assert not at.dataframe
    at.toggle(key="conv_grids_table").set_value(True).run()
    frames = [df.value for df in at.dataframe]
    products = next(f for f in frames if f.shape == (3, 3) and f.to_numpy()[1, 1] == 105 * 5)
    assert list(products.columns) == ["1", "2", "3"] and float(products.to_numpy()[1, 2]) == -102


def test_the_draw_page_describes_its_input_and_its_answer(open_page):
    at = open_page(str(ROOT / "pages" / "1_Draw_and_Predict.py"))
    at.radio(key="draw_source").set_value("Random bundled digit").run()
    texts = _described(at)
    assert any(t.startswith('<p class="cnnx-sr-only">28×28 input; ink in rows ') for t in texts), texts
    assert any("Probabilities of the 10 classes, largest first: " in t for t in texts), texts


def test_feature_maps_say_their_range_peak_and_the_maps_switched_off():
    maps = np.zeros((4, 3, 3))
    maps[2, 1, 0] = 2.5
    maps[0] = 0.5
    assert maps_summary(maps) == ("4 feature maps of 3×3; values from 0 to 2.5; the largest, 2.5, in map 3 at row 2, "
                                  "column 1; maps 2 and 4 are 0 everywhere.")
    assert maps_summary(np.ones((2, 2, 2)), "kernels") == "2 kernels of 2×2; every value 1."
    with pytest.raises(ValueError, match="C, H, W"):
        maps_summary(np.zeros((3, 3)))


def test_a_vector_names_its_extremes_by_class_or_unit():
    assert vector_summary([0.0, 3.0, -1.5, 0.0], "activations") == (
        "4 activations; largest 3 at unit 2, smallest −1.5 at unit 3; 2 of 4 are 0.")
    assert vector_summary([1.0, -2.0, 4.0], "logits", labels=["cat", "dog", "7"]) == (
        "3 logits; largest 4 for 7, smallest −2 for dog.")


def test_the_training_charts_in_words():
    from types import SimpleNamespace

    rows = [{"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.5 + e / 20, "val_loss": 1.2 / e, "val_acc": 0.6 + e / 25}
            for e in range(1, 9)]
    snap = SimpleNamespace(step_loss=[2.3, 1.0, 0.5, 0.25], epochs_log=rows, stop_reason="")
    text = training_summary(snap)
    assert text.startswith("Training loss over 4 steps: first 2.3, latest 0.25 (mean of the last 4 steps 1.012); "
                           "validation loss by epoch, the last 6 of 8: epoch 3: 0.4, ")
    assert "validation accuracy by epoch, the last 6 of 8: epoch 3: 72.0 %, " in text and text.endswith("epoch 8: 92.0 %.")
    assert training_summary(SimpleNamespace(step_loss=[], epochs_log=[], stop_reason="")) == "No training steps yet."


def test_the_layer_explorer_describes_every_open_layer(open_page):
    at = open_page(str(ROOT / "pages" / "3_Layer_Explorer.py"))
    texts = _described(at)
    assert any("input the model sees; ink in rows" in t for t in texts), texts
    assert any(t.startswith('<p class="cnnx-sr-only">Layer 1, ') and " feature maps of " in t for t in texts), texts
    assert any(" logits; largest " in t for t in texts), texts
    assert any("saliency map for " in t for t in texts), texts


def test_the_backpropagation_page_describes_its_gradients(open_page):
    at = open_page(str(ROOT / "pages" / "9_Backpropagation.py"))
    texts = _described(at)
    assert any(t.startswith('<p class="cnnx-sr-only">The input: 28×28 grid; ink in rows ') for t in texts), texts
    assert any(", output: " in t and " maps of " in t for t in texts), texts       # the forward pass, layer by layer
    assert any("∂L/∂z = p − y: 10 values; largest " in t for t in texts), texts
    assert any("Incoming gradient δ = ∂L/∂output of layer " in t for t in texts), texts
    assert any(t.startswith('<p class="cnnx-sr-only">∂L/∂W for kernel 1: 3×3 grid; values from ') for t in texts), texts
