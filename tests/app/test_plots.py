"""ui/plots.py: hover values on every heatmap, colour-blind-safe scales, readable probability bars."""
import numpy as np
import pytest

from ui import plots


def test_heatmap_shows_rows_top_down_with_hover_values():
    img = np.arange(12, dtype=float).reshape(3, 4) / 11
    fig = plots.heatmap(img, value_name="pixel")
    hm = fig.data[0]
    assert np.array_equal(np.asarray(hm.z), img)
    assert "pixel %{z:.2f}" in hm.hovertemplate and "row %{y}" in hm.hovertemplate
    assert (hm.zmin, hm.zmax) == (0.0, 1.0)
    assert fig.layout.yaxis.autorange == "reversed" and fig.layout.yaxis.scaleanchor == "x"
    assert list(hm.x) == [1, 2, 3, 4] and list(hm.y) == [1, 2, 3]   # numbered from 1 like the page text


def test_signed_heatmap_is_rdbu_centred_on_zero():
    hm = plots.heatmap(np.array([[-2.0, 0.5], [1.0, 0.0]]), signed=True).data[0]
    assert hm.zmid == 0 and (hm.zmin, hm.zmax) == (-2.0, 2.0)
    assert hm.colorscale[0][1] != hm.colorscale[-1][1]   # a diverging scale, not one colour


def test_heatmap_rejects_non_2d():
    with pytest.raises(ValueError, match="2-D"):
        plots.heatmap(np.zeros((2, 2, 2)))


def test_prob_bars_highlight_the_winner_and_label_only_visible_bars():
    p = np.array([0.005, 0.7, 0.03, 0.265] + [0.0] * 6)
    bar = plots.prob_bars(p, [str(i) for i in range(10)]).data[0]
    assert [c == plots.HIGHLIGHT for c in bar.marker.color] == [i == 1 for i in range(10)]
    assert list(bar.text[:4]) == ["", "70.0 %", "", "26.5 %"]
    assert "%{y:.4f}" in bar.hovertemplate


def test_prob_bars_need_one_name_per_class():
    with pytest.raises(ValueError, match="3 probabilities but 2 class names"):
        plots.prob_bars([0.2, 0.3, 0.5], ["a", "b"])


def test_prob_bars_name_every_class_even_when_narrow():
    names = [str(i) for i in range(10)]
    fig = plots.prob_bars(np.full(10, 0.1), names)
    assert list(fig.layout.xaxis.tickvals) == names and list(fig.layout.xaxis.ticktext) == names
