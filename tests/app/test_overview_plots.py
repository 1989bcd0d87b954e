"""The overview figure: a colour scale per layer, a click target per map, the selection's inputs in orange."""
import numpy as np

from cnn_core.inference import introspection as I
from cnn_core.inference.conv_arithmetic import conv_contributions
from cnn_core.inference.overview import build_overview
from cnn_core.models import pretrained
from ui.views.see_inside import overview_plots as op


def seven():
    img = np.zeros((28, 28), np.float32)
    img[5:8, 6:22] = 1
    img[8:24, 16:19] = 1
    return img


def test_one_scale_per_layer_and_a_target_per_map():
    b = pretrained.load_default_bundle()
    ov = build_overview(I.introspect(b.model, seven(), b.spec))
    fig = op.overview_figure(ov)
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == len(ov.columns) - 1  # softmax is bars
    from plotly.colors import get_colorscale

    # input, conv, BN, ReLU; spelled out, since plotly.js has its own, different 'RdBu' and no 'gray'
    want = [tuple(tuple(s) for s in get_colorscale(n)) for n in ("gray", "RdBu", "RdBu", "Viridis")]
    assert [tuple(tuple(s) for s in t.colorscale) for t in heat[:4]] == want
    assert heat[1].zmid == 0 and heat[1].zmin == -heat[1].zmax
    maps = next(t for t in fig.data if t.name == "maps")
    n_maps = sum(len(c.channels) for c in ov.columns if c.is_maps)
    n_units = sum(c.vector.size for c in ov.columns if not c.is_maps and c.kind != "softmax")
    assert len(maps.x) == n_maps + n_units
    assert sum(1 for c in maps.customdata if c[0] == 4) == 8  # the second conv: its 8 drawn maps
    assert not [t for t in fig.data if t.name == "feeds"], "nothing selected, nothing highlighted"


def test_a_selected_conv_map_is_outlined_and_its_inputs_drawn_by_share():
    b = pretrained.load_default_bundle()
    r = I.introspect(b.model, seven(), b.spec)
    ov = build_overview(r)
    ch = int(ov.column(4).channels[2])
    share = conv_contributions(b.model, seven(), 4, ch, spec=b.spec).share()
    fig = op.overview_figure(ov, selected=(4, ch), feeds=dict(enumerate(share)))
    feeds = [t for t in fig.data if t.name == "feeds"]
    assert feeds and sum(len([x for x in t.x if x is None]) for t in feeds) == len(ov.column(3).channels)
    widths = sorted({t.line.width for t in feeds})
    assert len(widths) >= 2, "stronger inputs get thicker lines"
    outlines = [s for s in fig.layout.shapes if s.line.color == op.SELECT]
    assert len(outlines) == 1 + len(ov.column(3).channels)  # the map and each drawn input
    assert "0.12" in next(t for t in fig.data if t.name == "edges").line.color  # the rest faded
