"""Text alternatives of heatmaps (issue 18): the words a screen reader reads instead of the chart, and the
"show as table" switch. The numbers are fixed by the arrays, so each test spells them out."""
from pathlib import Path

import numpy as np
import pytest

from ui.views.chart_alt import bars_summary, confusion_summary, heatmap_summary

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
